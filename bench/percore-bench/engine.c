/* engine — generator threads, their event loops and the open/closed loop logic.
 *
 * Open loop. Each thread owns a slice of the connections and an arrival
 * schedule whose rate is the sum of its connections' shares of --rate (Poisson
 * processes split by weights and merged back stay Poisson, so the total is the
 * process asked for). When an arrival is due, the thread picks a connection by
 * weight and queues the request there with its intended time; a connection sends
 * queued requests as soon as its pipeline window has room. Nothing is skipped:
 * when the server stalls, the queue grows and every queued request's latency,
 * measured from its intended time, shows the stall.
 *
 * Timing. libev's timers have millisecond resolution under epoll, which would
 * add up to a millisecond of generator-made latency to every request. Instead
 * each thread arms a timerfd (nanosecond, absolute CLOCK_MONOTONIC deadlines,
 * with the thread's timer slack set to 1 ns) and watches it like a socket. How
 * late each wake-up is gets its own histogram ("timer lag"), so the generator's
 * precision is reported beside the server's latencies.
 *
 * Closed loop. Each connection keeps its window full: a reply makes room for
 * the next request, sent at once; latency is from that send.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "conn.h"
#include "schedule.h"

#define NS_PER_S 1000000000ULL
#define POLL_NS (100 * 1000000ULL) /* wake at least this often to notice a stop */
#define READS_PER_WAKE 16

static atomic_int interrupted;

struct gen;

struct gconn {
    struct conn c;
    ev_io rio, wio;
    struct gen *g;
    double weight;
    int dirty;
};

struct engine {
    const struct opts *o;
    const struct workload *wl;
    int open;
    uint64_t t_start, t0, t1, t_end; /* start, window [t0, t1), give up at t_end */
    atomic_int stop;
};

struct gen { /* one generator thread */
    int id, cpu;
    struct engine *e;
    struct ev_loop *loop;
    pthread_t tid;
    struct gconn **conns;
    int nconns;
    double *cdf; /* cumulative connection weights; NULL when they are all equal */
    int scheduled;
    struct schedule sch;
    struct rng rng;
    uint64_t next_due; /* absolute ns of the next arrival; UINT64_MAX: none */
    uint64_t armed;
    int armed_arrival;
    int tfd;
    ev_io tio;
    struct gconn **dirty;
    int ndirty;
    uint64_t outstanding; /* requests queued or in flight */
    uint64_t backlog;     /* requests queued, waiting for a window slot */
    int started;
    struct run_stats *st;
    char *rbuf;
    size_t rbuf_size;
    int failed;
    char err[256];
};

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void engine_interrupt(void)
{
    atomic_store(&interrupted, 1);
}

static void gen_fail(struct gen *g, const char *fmt, const char *what)
{
    if (!g->failed) {
        g->failed = 1;
        snprintf(g->err, sizeof g->err, fmt, what);
    }
    atomic_store(&g->e->stop, 1);
    ev_break(g->loop, EVBREAK_ALL);
}

static int in_window(const struct engine *e, uint64_t t)
{
    return t >= e->t0 && t < e->t1;
}

static struct gconn *pick_conn(struct gen *g)
{
    if (!g->cdf)
        return g->conns[rng_below(&g->rng, (uint64_t)g->nconns)];
    double u = rng_uniform(&g->rng) * g->cdf[g->nconns - 1];
    int lo = 0, hi = g->nconns - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (u < g->cdf[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return g->conns[lo];
}

static void mark_dirty(struct gen *g, struct gconn *gc)
{
    if (!gc->dirty) {
        gc->dirty = 1;
        g->dirty[g->ndirty++] = gc;
    }
}

/* Queue every arrival due by now. */
static void dispatch(struct gen *g, uint64_t now)
{
    struct engine *e = g->e;
    while (g->next_due <= now) {
        if (g->next_due >= e->t1) {
            g->next_due = UINT64_MAX;
            break;
        }
        struct gconn *gc = pick_conn(g);
        enum req_class cls = wl_pick_class(e->wl, &g->rng);
        conn_pend_push(&gc->c, g->next_due, (uint8_t)cls);
        if (in_window(e, g->next_due))
            g->st->cls[cls].offered++;
        g->outstanding++;
        if (++g->backlog > g->st->max_backlog)
            g->st->max_backlog = g->backlog;
        mark_dirty(g, gc);
        g->next_due = e->t_start + (uint64_t)schedule_next(&g->sch, &g->rng);
    }
}

/* Move requests into the pipeline window and write them. */
static void fill_and_send(struct gen *g, struct gconn *gc, uint64_t now)
{
    struct engine *e = g->e;
    struct conn *c = &gc->c;
    while (c->fl_n < (size_t)c->depth) {
        uint64_t intended;
        enum req_class cls;
        if (e->open) {
            struct pending p;
            if (!conn_pend_pop(c, &p))
                break;
            g->backlog--;
            intended = p.intended;
            cls = (enum req_class)p.cls;
        } else {
            if (!g->started || now >= e->t1)
                break;
            intended = now;
            cls = wl_pick_class(e->wl, &g->rng);
            if (in_window(e, now))
                g->st->cls[cls].offered++;
            g->outstanding++;
        }
        unsigned replies = wl_compose(e->wl, &g->rng, cls, &c->out);
        conn_fl_push(c, intended, (uint8_t)cls, replies);
    }
    if (c->out.len > c->out_off && !ev_is_active(&gc->wio)) {
        int rc = conn_flush(c);
        if (rc == 0)
            ev_io_start(g->loop, &gc->wio);
        else if (rc < 0)
            gen_fail(g, "write to the server: %s", strerror(errno));
    }
}

static void flush_dirty(struct gen *g, uint64_t now)
{
    for (int i = 0; i < g->ndirty && !g->failed; i++) {
        g->dirty[i]->dirty = 0;
        fill_and_send(g, g->dirty[i], now);
    }
    g->ndirty = 0;
}

static void complete(struct gen *g, const struct inflight *d, uint64_t now)
{
    struct engine *e = g->e;
    struct class_stats *cs = &g->st->cls[d->cls];
    g->outstanding--;
    g->st->answered++;
    if (in_window(e, now))
        cs->completed++;
    if (in_window(e, d->intended)) {
        hist_record(&cs->lat, now > d->intended ? now - d->intended : 0);
        if (d->err && !cs->errors++ && !g->st->first_error[0])
            snprintf(g->st->first_error, sizeof g->st->first_error, "%s", conn_last_error());
    }
}

static void arm(struct gen *g)
{
    struct engine *e = g->e;
    uint64_t target, now = clock_ns();
    int arrival = 0;
    if (!g->started) {
        target = e->t_start;
    } else if (e->open && g->next_due != UINT64_MAX) {
        target = g->next_due;
        arrival = 1;
    } else if (now < e->t1) {
        target = e->t1;
    } else {
        target = e->t_end;
    }
    if (target > now + POLL_NS) {
        target = now + POLL_NS;
        arrival = 0;
    }
    /* Already set to wake no later: leave it. Waking early costs one spurious
     * wake-up; re-arming on every reply would cost a syscall per request. */
    if (g->armed && g->armed <= target)
        return;
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(target / NS_PER_S), .tv_nsec = (long)(target % NS_PER_S)}};
    if (timerfd_settime(g->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        gen_fail(g, "timerfd_settime: %s", strerror(errno));
        return;
    }
    g->armed = target;
    g->armed_arrival = arrival;
}

static void check_done(struct gen *g, uint64_t now)
{
    if (now >= g->e->t_end || (now >= g->e->t1 && g->outstanding == 0))
        ev_break(g->loop, EVBREAK_ALL);
}

static void on_timer(struct ev_loop *loop, ev_io *w, int revents)
{
    struct gen *g = w->data;
    struct engine *e = g->e;
    (void)loop, (void)revents;
    /* No read() of the expiration count: re-arming below resets it, and with it
     * the descriptor's readiness; every path that does not re-arm ends the loop. */
    uint64_t now = clock_ns();
    if (g->armed_arrival && in_window(e, g->armed))
        hist_record(&g->st->lag, now > g->armed ? now - g->armed : 0);
    g->armed = 0;
    if (atomic_load(&e->stop) || atomic_load(&interrupted)) {
        if (!g->failed && atomic_load(&interrupted))
            gen_fail(g, "%s", "interrupted");
        ev_break(g->loop, EVBREAK_ALL);
        return;
    }
    if (!g->started && now >= e->t_start) {
        g->started = 1;
        if (!e->open)
            for (int i = 0; i < g->nconns; i++)
                mark_dirty(g, g->conns[i]);
    }
    if (e->open)
        dispatch(g, now);
    flush_dirty(g, now);
    check_done(g, now);
    if (!g->failed)
        arm(g);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct gconn *gc = w->data;
    struct gen *g = gc->g;
    uint64_t now = 0;
    (void)loop, (void)revents;
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = conn_recv(&gc->c, g->rbuf, g->rbuf_size);
        if (n == 0)
            break;
        if (n < 0) {
            gen_fail(g, "reading from the server: %s",
                     errno ? strerror(errno) : "it closed the connection");
            return;
        }
        now = clock_ns(); /* replies that came in one read arrived together */
        struct inflight d;
        const char *msg = NULL;
        int rc;
        while ((rc = conn_next_done(&gc->c, &d, &msg)) == 1)
            complete(g, &d, now);
        if (rc < 0) {
            gen_fail(g, "bad reply stream: %s", msg);
            return;
        }
        if ((size_t)n < g->rbuf_size)
            break;
    }
    if (!now)
        return;
    mark_dirty(g, gc);
    if (g->e->open)
        dispatch(g, now); /* awake anyway: queue what is due without waiting for the timer */
    flush_dirty(g, now);
    check_done(g, now);
    if (!g->failed)
        arm(g);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct gconn *gc = w->data;
    (void)revents;
    int rc = conn_flush(&gc->c);
    if (rc > 0)
        ev_io_stop(loop, w);
    else if (rc < 0)
        gen_fail(gc->g, "write to the server: %s", strerror(errno));
}

/* Requests still queued or in flight at the end: counted as unfinished, with
 * their age as a lower bound on their latency, so a server that stopped
 * answering cannot look fast. */
static void account_unfinished(struct gen *g)
{
    struct engine *e = g->e;
    uint64_t now = clock_ns();
    for (int i = 0; i < g->nconns; i++) {
        struct conn *c = &g->conns[i]->c;
        for (size_t j = 0; j < c->fl_n; j++) {
            const struct inflight *f = conn_fl_at(c, j);
            if (in_window(e, f->intended)) {
                g->st->cls[f->cls].unfinished++;
                hist_record(&g->st->cls[f->cls].lat, now - f->intended);
            }
        }
        for (size_t j = 0; j < c->pq_n; j++) {
            const struct pending *p = conn_pend_at(c, j);
            if (in_window(e, p->intended)) {
                g->st->cls[p->cls].unfinished++;
                hist_record(&g->st->cls[p->cls].lat, now - p->intended);
            }
        }
    }
}

static void *gen_main(void *arg)
{
    struct gen *g = arg;
    if (g->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(g->cpu, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
            fprintf(stderr, "percore-bench: warning: could not pin thread %d to CPU %d\n", g->id,
                    g->cpu);
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* hrtimer wake-ups as precise as they get */
    g->loop = ev_loop_new(EVBACKEND_EPOLL);
    if (!g->loop)
        g->loop = ev_loop_new(EVFLAG_AUTO);
    g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!g->loop || g->tfd < 0) {
        g->failed = 1;
        snprintf(g->err, sizeof g->err, "thread %d: no event loop or timerfd", g->id);
        atomic_store(&g->e->stop, 1);
        return NULL;
    }
    ev_io_init(&g->tio, on_timer, g->tfd, EV_READ);
    g->tio.data = g;
    ev_io_start(g->loop, &g->tio);
    for (int i = 0; i < g->nconns; i++) {
        struct gconn *gc = g->conns[i];
        ev_io_init(&gc->rio, on_read, gc->c.fd, EV_READ);
        ev_io_init(&gc->wio, on_write, gc->c.fd, EV_WRITE);
        gc->rio.data = gc->wio.data = gc;
        ev_io_start(g->loop, &gc->rio);
    }
    arm(g);
    ev_run(g->loop, 0);
    if (!g->failed)
        account_unfinished(g);
    for (int i = 0; i < g->nconns; i++) {
        ev_io_stop(g->loop, &g->conns[i]->rio);
        ev_io_stop(g->loop, &g->conns[i]->wio);
    }
    ev_io_stop(g->loop, &g->tio);
    ev_loop_destroy(g->loop);
    close(g->tfd);
    return NULL;
}

static void gens_free(struct gen *gens, int n)
{
    for (int t = 0; t < n; t++) {
        struct gen *g = &gens[t];
        for (int i = 0; i < g->nconns; i++) {
            conn_free(&g->conns[i]->c);
            free(g->conns[i]);
        }
        free(g->conns);
        free(g->dirty);
        free(g->cdf);
        free(g->st);
        free(g->rbuf);
    }
    free(gens);
}

/* Connection i is an elephant when i < K: it carries SHARE / K of the requests
 * (the others split the rest) at the elephant pipeline depth. */
static double conn_weight(const struct opts *o, int i)
{
    if (!o->elephants)
        return 1.0 / o->connections;
    if (i < o->elephants)
        return o->elephant_share / o->elephants;
    return (1.0 - o->elephant_share) / (o->connections - o->elephants);
}

static int engine_setup(struct engine *e, struct gen *gens, char *err, size_t errlen)
{
    const struct opts *o = e->o;
    int T = o->threads;
    for (int t = 0; t < T; t++) {
        struct gen *g = &gens[t];
        g->id = t;
        g->e = e;
        g->tfd = -1;
        g->cpu = o->ncpus ? o->cpus[t % o->ncpus] : -1;
        g->nconns = 0;
        int cap = o->connections / T + 1;
        g->conns = calloc((size_t)cap, sizeof *g->conns);
        g->dirty = calloc((size_t)cap, sizeof *g->dirty);
        g->cdf = calloc((size_t)cap, sizeof *g->cdf);
        g->st = malloc(sizeof *g->st);
        g->rbuf_size = 256 * 1024;
        g->rbuf = malloc(g->rbuf_size);
        if (!g->conns || !g->dirty || !g->cdf || !g->st || !g->rbuf) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        stats_init(g->st);
        rng_seed(&g->rng, o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)t);
    }
    for (int i = 0; i < o->connections; i++) {
        struct gen *g = &gens[i % T];
        int depth =
            o->elephants && i < o->elephants && o->elephant_depth ? o->elephant_depth : o->pipeline;
        struct gconn *gc = calloc(1, sizeof *gc);
        if (!gc) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        gc->c.fd = -1;
        g->conns[g->nconns++] = gc;
        int fd = conn_connect(o->host, o->port, err, errlen);
        if (fd < 0)
            return -1;
        if (conn_init(&gc->c, fd, depth, o->memcache)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        gc->g = g;
        gc->weight = conn_weight(o, i);
    }
    for (int t = 0; t < T; t++) {
        struct gen *g = &gens[t];
        double sum = 0;
        int equal = 1;
        for (int i = 0; i < g->nconns; i++) {
            sum += g->conns[i]->weight;
            g->cdf[i] = sum;
            equal &= g->conns[i]->weight == g->conns[0]->weight;
        }
        if (equal) {
            free(g->cdf);
            g->cdf = NULL;
        }
        g->next_due = UINT64_MAX;
        if (e->open && sum > 0) {
            /* fixed intervals: threads offset by one overall gap each, so the
             * merged stream stays evenly spaced when the threads' rates match */
            double phase = o->fixed ? t * 1e9 / o->rate : 0;
            if (schedule_init(&g->sch, o->rate * sum, o->fixed, o->burst_factor, o->burst_period_ms,
                              o->burst_len_ms, phase)) {
                snprintf(err, errlen, "bad schedule parameters");
                return -1;
            }
            g->scheduled = 1;
        }
    }
    return 0;
}

int engine_run(const struct opts *o, const struct workload *wl, struct run_stats *st, char *err,
               size_t errlen)
{
    struct engine e = {.o = o, .wl = wl, .open = !o->closed};
    struct gen *gens = calloc((size_t)o->threads, sizeof *gens);
    if (!gens) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (engine_setup(&e, gens, err, errlen)) {
        gens_free(gens, o->threads);
        return -1;
    }
    /* Everyone starts together, a little ahead so every thread is waiting. */
    e.t_start = clock_ns() + 50 * 1000000ULL;
    e.t0 = e.t_start + (uint64_t)(o->warmup * 1e9);
    e.t1 = e.t0 + (uint64_t)(o->duration * 1e9);
    e.t_end = e.t1 + (uint64_t)(o->drain * 1e9);
    int started = 0, rc = 0;
    for (int t = 0; t < o->threads; t++) {
        struct gen *g = &gens[t];
        if (g->scheduled)
            g->next_due = e.t_start + (uint64_t)schedule_next(&g->sch, &g->rng);
        if (pthread_create(&g->tid, NULL, gen_main, g) != 0) {
            snprintf(err, errlen, "pthread_create failed");
            atomic_store(&e.stop, 1);
            rc = -1;
            break;
        }
        started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(gens[t].tid, NULL);
    st->window_s = o->duration;
    for (int t = 0; t < started; t++) {
        stats_merge(st, gens[t].st);
        if (gens[t].failed && rc == 0) {
            snprintf(err, errlen, "%s", gens[t].err);
            rc = -1;
        }
    }
    gens_free(gens, o->threads);
    return rc;
}

/* worker — the threads, their loops, messages between them and the client
 * I/O hooks; the listeners and accept() are in worker_net.c. See worker.h. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"
#include "log.h"
#include "ring.h"
#include "worker_internal.h"

static worker_t *workers;
static int nworkers;
static int pin_threads;
static atomic_int shutting_down;
static _Thread_local worker_t *self;

int worker_self(void) { return self ? self->id : -1; }
int worker_count(void) { return nworkers; }
worker_stats_t *worker_stats(int id) { return &workers[id].stats; }
int worker_shutting_down(void) { return atomic_load(&shutting_down); }
uint64_t worker_now_ms(void) { return self ? self->now_ms : now_ms(); }

void worker_reset_stats(void)
{
    for (int i = 0; i < nworkers; i++)
        stat_zero(&workers[i].stats, sizeof workers[i].stats);
}

size_t worker_inbound_depth(int id)
{
    size_t d = 0;
    for (int f = 0; f < nworkers; f++)
        d += ring_depth(&workers[id].in[f]);
    return d;
}

/* ---- messages ---------------------------------------------------------- */

void worker_defer(xmsg_t *m)
{
    m->next = NULL;
    if (self->defer_tail)
        self->defer_tail->next = m;
    else
        self->defer_head = m;
    self->defer_tail = m;
}

void xthread_send(int to, xmsg_t *m)
{
    if (to == self->id) {
        worker_defer(m);
        return;
    }
    stat_add(&self->stats.msgs_sent, 1);
    /* Keep order: once something is queued locally for `to`, queue behind it. */
    if (!self->overflow[to] && ring_push(&workers[to].in[self->id], m) == 0) {
        self->wake_pending[to] = 1;
        return;
    }
    stat_add(&self->stats.ring_full, 1);
    m->next = NULL;
    if (self->overflow[to])
        self->overflow_tail[to]->next = m;
    else
        self->overflow[to] = m;
    self->overflow_tail[to] = m;
}

static void flush_overflow(worker_t *w)
{
    for (int to = 0; to < nworkers; to++) {
        while (w->overflow[to]) {
            xmsg_t *m = w->overflow[to];
            if (ring_push(&workers[to].in[w->id], m) != 0)
                break;
            w->overflow[to] = m->next;
            w->wake_pending[to] = 1;
        }
    }
}

static void drain_inbound(worker_t *w)
{
    /* Bounded per call so one chatty peer cannot starve this loop's clients. */
    for (int round = 0; round < 64; round++) {
        int got = 0;
        for (int f = 0; f < nworkers; f++) {
            xmsg_t *m;
            for (int k = 0; k < 256 && (m = ring_pop(&w->in[f])); k++) {
                got = 1;
                stat_add(&w->stats.msgs_received, 1);
                m->fn(m);
            }
        }
        worker_run_deferred(w);
        if (!got)
            return;
    }
    /* Still busy: come back after serving other events. */
    ev_async_send(w->loop, &w->wake);
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    worker_t *w = a->data;
    if (atomic_load(&shutting_down)) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    if (w->busy_mode) {
        /* Messages touch partitions: keep them for after the script, and
         * keep the wake-up pending so the outer loop sees it. */
        ev_async_send(loop, &w->wake);
        return;
    }
    w->now_ms = now_ms(); /* we may have slept long: expiry needs a fresh clock */
    drain_inbound(w);
}

/* A worker awaiting a peer's answer (a lent partition, a batch's replies)
 * usually gets it within microseconds, while waking a sleeping core costs tens
 * of them on a VM (eventfd, IPI, scheduler). So, when its last round served no
 * client (one that did will likely have more to read), it polls its rings this
 * long before blocking; libev writes no eventfd to a loop that is not in its
 * poll, so the peer's wake-up costs nothing meanwhile. */
#define MSG_SPIN_US 30

void worker_await(int delta) { self->awaiting += delta; }

/* 1 when a message arrived (and was run) within MSG_SPIN_US. */
static int spin_for_messages(worker_t *w)
{
    int idle = !w->round_clients;
    w->round_clients = 0;
    if (w->awaiting <= 0 || !idle || atomic_load(&shutting_down))
        return 0;
    uint64_t until = mono_us() + MSG_SPIN_US;
    do {
        for (int f = 0; f < nworkers; f++) {
            if (ring_depth(&w->in[f])) {
                w->now_ms = now_ms();
                drain_inbound(w);
                return 1;
            }
        }
        cpu_relax();
    } while (mono_us() < until);
    return 0;
}

/* Finish deferred work, retry full rings, and send the wake-ups this round
 * owes (one ev_async per peer). */
static void settle_round(worker_t *w)
{
    worker_run_deferred(w);
    while (worker_hook.poll(w->id)) {
        w->now_ms = now_ms();
        worker_run_deferred(w);
    }
    int overflow = 0;
    flush_overflow(w);
    for (int to = 0; to < nworkers; to++) {
        if (w->overflow[to])
            overflow = 1;
        if (w->wake_pending[to]) {
            w->wake_pending[to] = 0;
            ev_async_send(workers[to].loop, &workers[to].wake);
        }
    }
    /* A full ring frees as its peer drains: poll again soon rather than sleep. */
    if (overflow)
        ev_async_send(w->loop, &w->wake);
}

static void dispatch_ready(worker_t *w); /* the client events of a round: below */

/* Before the loop blocks. After a spin that caught messages, the loop polls
 * its clients without blocking (the self-wake) and spins again next round. */
static void on_prepare(struct ev_loop *loop, ev_prepare *p, int revents)
{
    worker_t *w = p->data;
    if (w->busy_mode)
        return;
    dispatch_ready(w);
    settle_round(w);
    if (spin_for_messages(w)) {
        settle_round(w);
        ev_async_send(w->loop, &w->wake);
    }
    w->now_ms = now_ms();
}

static void on_cron(struct ev_loop *loop, ev_timer *t, int revents)
{
    worker_t *w = t->data;
    if (w->busy_mode)
        return;
    w->now_ms = now_ms();
    worker_hook.cron(w->id, w->now_ms);
    int hz = worker_hook.cron_hz();
    t->repeat = 1.0 / (hz > 0 ? hz : 10);
    ev_timer_again(loop, t);
}

/* Worker 0's signals. A reload does only what a CONFIG SET on another worker
 * may do at any moment, so it runs even inside worker_serve_busy. */
static void on_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    if (s->signum == SIGHUP) {
        log_notice("received SIGHUP, reloading the configuration");
        worker_hook.reload();
        return;
    }
    log_notice("received %s, scheduling shutdown", s->signum == SIGTERM ? "SIGTERM" : "SIGINT");
    worker_request_shutdown();
}

/* libev installs the handlers at start and puts SIG_DFL back at stop. */
static void signals_start(worker_t *w0)
{
    ev_signal_init(&w0->sigterm, on_signal, SIGTERM);
    ev_signal_init(&w0->sigint, on_signal, SIGINT);
    ev_signal_init(&w0->sighup, on_signal, SIGHUP);
    ev_signal_start(w0->loop, &w0->sigterm);
    ev_signal_start(w0->loop, &w0->sigint);
    ev_signal_start(w0->loop, &w0->sighup);
}

static void signals_stop(worker_t *w0)
{
    ev_signal_stop(w0->loop, &w0->sigterm);
    ev_signal_stop(w0->loop, &w0->sigint);
    ev_signal_stop(w0->loop, &w0->sighup);
}

void worker_wake(int id) { ev_async_send(workers[id].loop, &workers[id].wake); }

void worker_request_shutdown(void)
{
    if (atomic_exchange(&shutting_down, 1) == 0)
        worker_hook.stopping();
    for (int i = 0; i < nworkers; i++)
        ev_async_send(workers[i].loop, &workers[i].wake);
}

/* ---- client sockets ---------------------------------------------------- */

/* libev calls the watchers a poll made pending last-first, so the socket that
 * became readable last would be served first. Redis serves them in the order
 * the kernel reported them (the order their bytes arrived), and clients rely on
 * it: two clients that send BLPOP one after the other are served in that order.
 * So a round's events are noted here and dispatched, oldest first, from
 * on_prepare, before the loop polls again. Inside worker_serve_busy there is
 * no prepare: events are served at once. */
static void dispatch_client(worker_t *w, worker_io_t *io, int revents)
{
    w->now_ms = now_ms();
    w->round_clients = 1;
    worker_hook.client_event(io->client, (revents & EV_READ) != 0, (revents & EV_WRITE) != 0);
    worker_run_deferred(w);
}

static void on_client_event(struct ev_loop *loop, ev_io *io, int revents)
{
    worker_io_t *wio = io->data;
    worker_t *w = self;
    if (w->busy_mode) {
        dispatch_client(w, wio, revents);
        return;
    }
    if (!wio->events) {
        if (w->nready == w->ready_cap) {
            w->ready_cap = w->ready_cap ? 2 * w->ready_cap : 64;
            w->ready = xrealloc(w->ready, (size_t)w->ready_cap * sizeof *w->ready);
        }
        wio->ready_at = w->nready;
        w->ready[w->nready++] = wio;
    }
    wio->events |= revents;
}

/* Last noted first: that is the order the poll reported them. An entry is
 * NULL when its client was freed meanwhile (worker_io_free). */
static void dispatch_ready(worker_t *w)
{
    while (w->nready) {
        int n = w->nready;
        for (int i = n - 1; i >= 0; i--) {
            worker_io_t *io = w->ready[i];
            if (!io)
                continue;
            int ev = io->events;
            io->events = 0;
            w->ready[i] = NULL;
            dispatch_client(w, io, ev);
        }
        /* Only worker_serve_busy nests a loop, and it dispatches at once,
         * so nothing is noted meanwhile; should that change, keep the rest. */
        w->nready -= n;
        memmove(w->ready, w->ready + n, (size_t)w->nready * sizeof *w->ready);
        for (int i = 0; i < w->nready; i++)
            if (w->ready[i])
                w->ready[i]->ready_at = i;
    }
}

worker_io_t *worker_io_new(int fd, void *client)
{
    worker_io_t *io = xcalloc(1, sizeof *io);
    io->client = client;
    ev_io_init(&io->r, on_client_event, fd, EV_READ);
    ev_io_init(&io->w, on_client_event, fd, EV_WRITE);
    io->r.data = io->w.data = io;
    return io;
}

void worker_io_want(worker_io_t *io, int read, int write)
{
    if (read && !ev_is_active(&io->r))
        ev_io_start(self->loop, &io->r);
    else if (!read && ev_is_active(&io->r))
        ev_io_stop(self->loop, &io->r);
    if (write && !ev_is_active(&io->w))
        ev_io_start(self->loop, &io->w);
    else if (!write && ev_is_active(&io->w))
        ev_io_stop(self->loop, &io->w);
}

void worker_io_free(worker_io_t *io)
{
    if (!io)
        return;
    if (io->events)
        self->ready[io->ready_at] = NULL;
    ev_io_stop(self->loop, &io->r);
    ev_io_stop(self->loop, &io->w);
    free(io);
}

/* ---- one-shot timers ------------------------------------------------------ */

struct worker_timer {
    ev_timer t;
    void (*fn)(void *arg);
    void *arg;
};

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    worker_timer_t *wt = t->data;
    self->now_ms = now_ms();
    wt->fn(wt->arg);
    worker_run_deferred(self);
}

worker_timer_t *worker_timer_new(void (*fn)(void *arg), void *arg)
{
    worker_timer_t *wt = xcalloc(1, sizeof *wt);
    wt->fn = fn;
    wt->arg = arg;
    ev_timer_init(&wt->t, on_timer, 0., 0.);
    wt->t.data = wt;
    return wt;
}

void worker_timer_start(worker_timer_t *wt, uint64_t ms)
{
    ev_timer_stop(self->loop, &wt->t);
    ev_timer_set(&wt->t, (double)ms / 1000.0, 0.);
    ev_timer_start(self->loop, &wt->t);
}

void worker_timer_stop(worker_timer_t *wt)
{
    if (wt)
        ev_timer_stop(self->loop, &wt->t);
}

void worker_timer_free(worker_timer_t *wt)
{
    if (!wt)
        return;
    ev_timer_stop(self->loop, &wt->t);
    free(wt);
}

/* ---- threads ----------------------------------------------------------- */

int worker_setup(int n, size_t ring_size, int pin, const worker_hooks_t *hooks)
{
    worker_hook = *hooks;
    /* A fresh set of workers, even after an earlier set was shut down in this
     * process (tests/fuzz/fuzz_dispatch.c restarts the server in-process). */
    atomic_store(&shutting_down, 0);
    nworkers = n;
    pin_threads = pin;
    workers = xcalloc((size_t)n, sizeof *workers);
    for (int i = 0; i < n; i++) {
        worker_t *w = &workers[i];
        w->id = i;
        /* Worker 0 takes the default loop, which owns signal handling. */
        w->loop = i == 0 ? ev_default_loop(EVFLAG_AUTO) : ev_loop_new(EVFLAG_AUTO);
        if (!w->loop)
            return -1;
        w->in = xcalloc((size_t)n, sizeof *w->in);
        for (int f = 0; f < n; f++)
            if (ring_init(&w->in[f], ring_size) != 0)
                return -1;
        w->overflow = xcalloc((size_t)n, sizeof *w->overflow);
        w->overflow_tail = xcalloc((size_t)n, sizeof *w->overflow_tail);
        w->wake_pending = xcalloc((size_t)n, 1);
        ev_async_init(&w->wake, on_wake);
        w->wake.data = w;
        ev_async_start(w->loop, &w->wake);
        ev_prepare_init(&w->prepare, on_prepare);
        w->prepare.data = w;
        ev_prepare_start(w->loop, &w->prepare);
        worker_net_init(w);
        ev_init(&w->cron, on_cron);
        w->cron.repeat = 0.1;
        w->cron.data = w;
        ev_timer_again(w->loop, &w->cron);
        w->now_ms = now_ms();
    }
    /* Now rather than in worker_run: main tells systemd it is ready (which
     * may send SIGHUP at once) before the loops run. */
    signals_start(&workers[0]);
    return 0;
}

/* libev allows ev_run inside a callback; the watchers that touch partitions
 * (messages, prepare, cron) stand aside while busy_mode is set. */
void worker_serve_busy(void (*also)(int worker))
{
    if (!self || self->busy_mode)
        return;
    self->busy_mode = 1;
    self->now_ms = now_ms();
    ev_run(self->loop, EVRUN_NOWAIT);
    if (also)
        also(self->id);
    self->busy_mode = 0;
}

int worker_busy_mode(void) { return self && self->busy_mode; }

static void drop_msg(xmsg_t *m)
{
    if (m->heap)
        free(m);
}

void worker_teardown(void)
{
    /* Before the watchers are freed: libev keeps a list per signal. */
    if (nworkers)
        signals_stop(&workers[0]);
    for (int i = 0; i < nworkers; i++) {
        worker_t *w = &workers[i];
        worker_net_close(w);
        /* Messages still queued when the loops stopped are never run. */
        for (int f = 0; f < nworkers; f++) {
            xmsg_t *m;
            while ((m = ring_pop(&w->in[f])))
                drop_msg(m);
            for (xmsg_t *next; (m = w->overflow[f]); w->overflow[f] = next) {
                next = m->next;
                drop_msg(m);
            }
            ring_destroy(&w->in[f]);
        }
        for (xmsg_t *m = w->defer_head, *next; m; m = next) {
            next = m->next;
            drop_msg(m);
        }
        free(w->in);
        free(w->overflow);
        free(w->overflow_tail);
        free(w->wake_pending);
        free(w->ready);
        if (i != 0)
            ev_loop_destroy(w->loop);
    }
    if (nworkers)
        ev_loop_destroy(EV_DEFAULT);
    free(workers);
    workers = NULL;
    nworkers = 0;
}

static void pin_self(int id)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    /* Pin to the id-th CPU we are allowed on, so a taskset'd server stays inside
     * its set; more workers than CPUs wrap around. */
    int ncpu = CPU_COUNT(&allowed), want = id % (ncpu ? ncpu : 1), seen = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        if (seen++ == want) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
                log_warn("worker %d: could not pin to CPU %d", id, c);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    self = w;
    if (pin_threads)
        pin_self(w->id);
    worker_net_start(w);
    worker_hook.start(w->id);
    ev_run(w->loop, 0);
    worker_hook.stop(w->id);
    return NULL;
}

int worker_run(void)
{
    worker_t *w0 = &workers[0];
    signal(SIGPIPE, SIG_IGN);
    /* Other workers must not take the signals libev routes to worker 0. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 1; i < nworkers; i++)
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            log_fatal("cannot start worker thread %d", i);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    worker_main(w0);
    for (int i = 1; i < nworkers; i++)
        pthread_join(workers[i].thread, NULL);
    return 0;
}

int worker_listen(const char *bind_list, int port, int backlog, char *err, size_t errlen)
{
    char *copy = xstrndup(bind_list, strlen(bind_list));
    int bound = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int optional = tok[0] == '-';
        const char *addr = optional ? tok + 1 : tok;
        int ok = 1;
        for (int i = 0; i < nworkers && ok; i++) {
            int rc = worker_net_listen(&workers[i], addr, port, backlog, err, errlen);
            if (rc == -1 && optional && i == 0) {
                log_notice("skipping optional bind address %s: %s", addr, err);
                ok = 0;
            } else if (rc != 0) {
                free(copy);
                return -1;
            }
        }
        bound += ok;
    }
    free(copy);
    if (!bound) {
        snprintf(err, errlen, "no address to listen on");
        return -1;
    }
    return 0;
}

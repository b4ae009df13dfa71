/* client_pause — CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE,
 * server-wide (every worker), with Redis 7.0's semantics.
 *
 * Design.
 *  - One pause for the whole server: its type (WRITE or ALL) and its end (a
 *    monotonic ms). CLIENT PAUSE on any worker sets them under a mutex; a
 *    pause given while one is on keeps the later end and the stricter type,
 *    as Redis's. Everyone else reads them with relaxed loads: when nothing is
 *    paused, a command costs one relaxed load of the type.
 *  - Before a queued command runs, where the client's queue runs
 *    (sched_share_nothing.c run_client, sched_shared_locks.c
 *    sched_locked_run_client, which work-stealing uses too),
 *    client_postponed() says whether the pause holds it: ALL holds every
 *    command, WRITE those that may write or replicate (CMD_WRITE,
 *    CMD_MAY_REPLICATE: EVAL and EVALSHA unless the script's shebang says
 *    no-writes, PUBLISH, SPUBLISH), and an EXEC whose transaction holds one.
 *    A command that would be refused anyway (unknown, wrong arity, NOAUTH)
 *    is answered at once, as Redis's. share-nothing's batches take no held
 *    command (client_may_run).
 *  - A held command stays at the head of its client's queue and the client is
 *    flagged CLIENT_POSTPONED, which stops its queue as CLIENT_BLOCKED does
 *    (client_output_full, client_pump). It is counted in blocked_clients and
 *    shown with the b flag in CLIENT LIST, as Redis shows its postponed
 *    clients. It is still read, so a disconnect is seen and closes it like
 *    any client (client_pause_forget unlinks it).
 *  - Nothing polls. Each worker keeps a FIFO of its own postponed clients
 *    (a client postponed while served away, under work-stealing, joins its
 *    home worker's FIFO when it comes back: client_pause_home) and one timer,
 *    armed for the pause's end when a client joins the FIFO. The pause ends
 *    at that timer (re-armed if the pause was extended meanwhile) or at
 *    CLIENT UNPAUSE, which clears it and sends each worker a message; either
 *    way the worker resumes its FIFO's clients in the order they were held
 *    (client_resume runs each one's queue from the held command on).
 *  - Expiry and eviction stop for the pause's length, WRITE or ALL, as in
 *    Redis 7.0 (store_pause_reclaim, store.h: the store reads the end time
 *    itself, so nothing has to end it but UNPAUSE).
 * Connections layer; runs on the workers, CLIENT PAUSE/UNPAUSE on any. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "client.h"
#include "client_internal.h"
#include "cmd_util.h"
#include "script.h"
#include "store.h"
#include "forksafe.h"

enum { PAUSE_NONE = 0, PAUSE_WRITE = 1, PAUSE_ALL = 2 };

static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(pause_lock) /* a SCRIPT DEBUG YES child may take it */
static _Atomic int pause_type;
static _Atomic uint64_t pause_end_ms; /* monotonic */
static _Atomic uint64_t npostponed;

/* Per worker, its thread only. */
typedef struct pause_worker {
    client_t *head, *tail; /* postponed clients, oldest first */
    worker_timer_t *timer;
    int armed;
    uint64_t armed_end; /* monotonic ms the timer fires at */
} pause_worker_t;
static pause_worker_t *pw;
static int pw_n;

static uint64_t mono_ms(void) { return mono_us() / 1000; }

void client_pause_setup(int nworkers)
{
    pw = xcalloc((size_t)nworkers, sizeof *pw);
    pw_n = nworkers;
    atomic_store(&pause_type, PAUSE_NONE);
    atomic_store(&npostponed, 0);
}

void client_pause_teardown(void)
{
    free(pw);
    pw = NULL;
    pw_n = 0;
}

void client_pause_worker_stop(int worker)
{
    if (worker < 0 || worker >= pw_n || !pw[worker].timer)
        return;
    worker_timer_free(pw[worker].timer);
    pw[worker].timer = NULL;
    pw[worker].armed = 0;
}

uint64_t client_postponed_count(void) { return atomic_load_explicit(&npostponed, memory_order_relaxed); }

/* The pause in force now: its type, PAUSE_NONE once it ended. */
static int pause_now(uint64_t *left_ms)
{
    int type = atomic_load_explicit(&pause_type, memory_order_relaxed);
    if (type == PAUSE_NONE)
        return PAUSE_NONE;
    uint64_t end = atomic_load_explicit(&pause_end_ms, memory_order_relaxed), now = mono_ms();
    if (now >= end) {
        /* Over: back to the one-load check (once; a pause given meanwhile
         * has a later end and stays). */
        pthread_mutex_lock(&pause_lock);
        if (atomic_load_explicit(&pause_end_ms, memory_order_relaxed) <= now)
            atomic_store_explicit(&pause_type, PAUSE_NONE, memory_order_relaxed);
        pthread_mutex_unlock(&pause_lock);
        return PAUSE_NONE;
    }
    if (left_ms)
        *left_ms = end - now;
    return type;
}

/* Would a WRITE pause hold this call? */
static int may_write(const client_t *c, const command_t *cmd, int argc, const sv_t *argv)
{
    uint32_t f = command_flags(cmd, argc, argv);
    if ((f & CMD_EXEC) && c->in_multi) {
        for (uint32_t i = 0; i < c->mqlen; i++)
            if (c->mq[i].cmd &&
                may_write(c, c->mq[i].cmd, c->mq[i].argc, c->margs.v + c->mq[i].argi))
                return 1;
        return 0;
    }
    if (f & CMD_WRITE)
        return 1;
    if (!(f & CMD_MAY_REPLICATE))
        return 0;
    /* EVAL / EVALSHA / FCALL: a script or function declaring no-writes is a
     * read (Redis 7.0). */
    if ((f & CMD_NO_MANDATORY_KEYS) && argc >= 2 && sv_eq_ci(argv[0], "fcall"))
        return !function_declares_no_writes(argv[1]);
    if ((f & CMD_NO_MANDATORY_KEYS) && argc >= 2)
        return !script_declares_no_writes(argv[1], sv_eq_ci(argv[0], "evalsha"));
    return 1;
}

int client_pause_holds(const client_t *c, const qcmd_t *qc)
{
    if (atomic_load_explicit(&pause_type, memory_order_relaxed) == PAUSE_NONE)
        return 0;
    int type = pause_now(NULL);
    if (type == PAUSE_NONE || !qc->cmd)
        return 0; /* unknown command, wrong arity: answered at once */
    if (!c->authenticated && !(qc->cmd->flags & CMD_NOAUTH))
        return 0; /* NOAUTH, at once */
    const sv_t *argv = c->args.v + qc->argi;
    return type == PAUSE_ALL || may_write(c, qc->cmd, qc->argc, argv);
}

static void arm(int w, uint64_t left_ms)
{
    pause_worker_t *p = &pw[w];
    if (!p->timer)
        p->timer = worker_timer_new(client_pause_timer, p);
    worker_timer_start(p->timer, left_ms + 1);
    p->armed = 1;
    p->armed_end = mono_ms() + left_ms + 1;
}

/* At home: c joins its worker's FIFO (the timer runs for the pause's end). */
static void enqueue(client_t *c)
{
    pause_worker_t *p = &pw[c->home];
    c->pnext = NULL;
    c->pprev = p->tail;
    if (p->tail)
        p->tail->pnext = c;
    else
        p->head = c;
    p->tail = c;
    c->pqueued = 1;
    uint64_t left = 0;
    if (pause_now(&left) == PAUSE_NONE)
        left = 0; /* ended meanwhile: the timer resumes it at once */
    /* A pause that replaced an UNPAUSEd one may end sooner than the timer. */
    if (!p->armed || mono_ms() + left + 1 < p->armed_end)
        arm(c->home, left);
}

static void unlink_client(client_t *c)
{
    pause_worker_t *p = &pw[c->home];
    if (c->pprev)
        c->pprev->pnext = c->pnext;
    else
        p->head = c->pnext;
    if (c->pnext)
        c->pnext->pprev = c->pprev;
    else
        p->tail = c->pprev;
    c->pprev = c->pnext = NULL;
    c->pqueued = 0;
}

int client_postponed(client_t *c, const qcmd_t *qc)
{
    if (!client_pause_holds(c, qc))
        return 0;
    c->flags |= CLIENT_POSTPONED;
    atomic_store_explicit(&c->shown_postponed, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&npostponed, 1, memory_order_relaxed);
    atomic_store_explicit(&c->last_cmd, qc->cmd, memory_order_relaxed);
    if (!c->away && worker_self() == c->home)
        enqueue(c);
    return 1;
}

static void unflag(client_t *c)
{
    c->flags &= ~CLIENT_POSTPONED;
    atomic_store_explicit(&c->shown_postponed, 0, memory_order_relaxed);
    atomic_fetch_sub_explicit(&npostponed, 1, memory_order_relaxed);
}

void client_pause_forget(client_t *c)
{
    if (!(c->flags & CLIENT_POSTPONED))
        return;
    if (c->pqueued)
        unlink_client(c);
    unflag(c);
}

int client_pause_home(client_t *c)
{
    if (!(c->flags & CLIENT_POSTPONED) || c->pqueued)
        return 0;
    if (pause_now(NULL) != PAUSE_NONE) {
        enqueue(c);
        return 0;
    }
    unflag(c);
    client_resume(c);
    return 1;
}

/* On worker w: resume its postponed clients, oldest first, unless a pause
 * is (again) in force; then re-arm for its end. */
static void resume_worker(int w)
{
    pause_worker_t *p = &pw[w];
    if (p->armed) {
        worker_timer_stop(p->timer);
        p->armed = 0;
    }
    /* One client at a time from the live FIFO: a resumed client's command
     * may close another held one (CLIENT KILL: it leaves the FIFO) or pause
     * again (the rest then wait for that pause). */
    while (p->head) {
        uint64_t left = 0;
        if (pause_now(&left) != PAUSE_NONE) {
            arm(w, left);
            return;
        }
        client_t *c = p->head;
        unlink_client(c);
        /* Served away (work-stealing): still flagged, client_pause_home
         * resumes it when it comes back. */
        if (c->away)
            continue;
        unflag(c);
        client_resume(c); /* may close c */
    }
}

void client_pause_timer(void *arg)
{
    pause_worker_t *p = arg;
    p->armed = 0;
    resume_worker((int)(p - pw));
}

static void unpause_msg(xmsg_t *m)
{
    free(m);
    resume_worker(worker_self());
}

/* CLIENT PAUSE timeout [WRITE|ALL] */
void client_pause_command(cmd_ctx_t *ctx)
{
    long long ms;
    if (ctx->argc > 4) { /* Redis 7.0's text for it */
        reply_errorf(ctx->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                             "Try CLIENT HELP.", (int)ctx->argv[1].len, ctx->argv[1].p);
        return;
    }
    if (arg_timeout_ms(ctx, 2, &ms) != 0)
        return;
    int type = PAUSE_ALL;
    if (ctx->argc == 4) {
        if (sv_eq_ci(ctx->argv[3], "WRITE")) {
            type = PAUSE_WRITE;
        } else if (!sv_eq_ci(ctx->argv[3], "ALL")) {
            reply_error(ctx->r, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    uint64_t now = mono_ms(), end = now + (uint64_t)ms;
    pthread_mutex_lock(&pause_lock);
    /* Not pause_now (it takes the lock): a pause still in force merges. */
    if (atomic_load_explicit(&pause_type, memory_order_relaxed) != PAUSE_NONE &&
        atomic_load_explicit(&pause_end_ms, memory_order_relaxed) > now) {
        if (type < atomic_load_explicit(&pause_type, memory_order_relaxed))
            type = atomic_load_explicit(&pause_type, memory_order_relaxed);
        if (end < atomic_load_explicit(&pause_end_ms, memory_order_relaxed))
            end = atomic_load_explicit(&pause_end_ms, memory_order_relaxed);
    }
    atomic_store_explicit(&pause_end_ms, end, memory_order_relaxed);
    atomic_store_explicit(&pause_type, type, memory_order_relaxed);
    store_pause_reclaim(end * 1000); /* expiry and eviction too, WRITE or ALL */
    pthread_mutex_unlock(&pause_lock);
    reply_ok(ctx->r);
}

/* CLIENT UNPAUSE */
void client_unpause_command(cmd_ctx_t *ctx)
{
    pthread_mutex_lock(&pause_lock);
    atomic_store_explicit(&pause_type, PAUSE_NONE, memory_order_relaxed);
    atomic_store_explicit(&pause_end_ms, 0, memory_order_relaxed);
    store_pause_reclaim(0);
    pthread_mutex_unlock(&pause_lock);
    /* Every worker resumes its own postponed clients, this one too: by
     * message, after this command, not from inside it. */
    for (int w = 0; w < pw_n; w++) {
        xmsg_t *m = xcalloc(1, sizeof *m);
        m->fn = unpause_msg;
        m->heap = 1;
        xthread_send(w, m);
    }
    reply_ok(ctx->r);
}

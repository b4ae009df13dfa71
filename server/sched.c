/* The scheduler's common part: setup, command execution, cron and INFO.
 * The placing of work is in one file per policy (sched_<policy>.c). */
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "config.h"
#include "latency.h"
#include "slot.h"
#include "log.h"
#include "partlock.h"
#include "sched_internal.h"
#include "store.h"
#include "tracking.h"

int sched_nparts, sched_nworkers, sched_batch_max;
int *sched_owner_of;
static const sched_policy_ops_t *ops;
static sched_stats_t *stats; /* [worker] */

sched_stats_t *sched_stats(int worker) { return &stats[worker]; }
void sched_reset_stats(void) { stat_zero(stats, (size_t)sched_nworkers * sizeof *stats); }

/* ---- eviction in partitions other than the writer's (store.h's hooks) ---- */

/* A request to a partition's holder to evict: malloc'd (heap), since the
 * store sends at most one per partition at a time and worker_teardown frees
 * any still queued at exit. */
typedef struct evict_msg {
    xmsg_t m; /* first: the message is the struct */
    int part;
} evict_msg_t;

static void evict_msg_run(xmsg_t *m)
{
    int part = ((evict_msg_t *)m)->part;
    free(m);
    if (ops->part_idle(part)) {
        store_evict_asked(part);
        if (ops->part_idle_done)
            ops->part_idle_done(part);
    } else {
        store_evict_unask(part); /* busy: a later write asks again */
    }
}

static void evict_ask(int part)
{
    evict_msg_t *em = xcalloc(1, sizeof *em);
    em->m.fn = evict_msg_run;
    em->m.heap = 1;
    em->part = part;
    xthread_send(sched_owner_of[part], &em->m);
}

/* Under share-nothing only the owner may touch a partition, and only while
 * no task holds it; under locks, whoever gets its lock without waiting. */
static int evict_try_now(int part)
{
    if (ops->owner_bound && sched_owner_of[part] != worker_self())
        return 0;
    if (!ops->part_idle(part))
        return 0;
    store_evict_pass(part);
    if (ops->part_idle_done)
        ops->part_idle_done(part);
    return 1;
}

int sched_setup(int nworkers, int npartitions, int policy, int batch_max)
{
    sched_nworkers = nworkers;
    sched_nparts = npartitions;
    sched_batch_max = batch_max > 0 ? batch_max : 1;
    stats = xcalloc((size_t)nworkers, sizeof *stats);
    sched_owner_of = xcalloc((size_t)npartitions, sizeof *sched_owner_of);
    /* The ownership table starts as equal ranges of consecutive partitions
     * (not p mod workers): a task acquires in ascending order, one lend round
     * trip per run of another owner's partitions, so ranges make that one trip
     * per owner. It is a table so that a rebalancer can move partitions later. */
    for (int p = 0; p < npartitions; p++)
        sched_owner_of[p] = (int)((int64_t)p * nworkers / npartitions);
    switch (policy) {
    case POLICY_SHARE_NOTHING:
        ops = &sched_share_nothing;
        break;
    case POLICY_SHARED_LOCKS:
        ops = &sched_shared_locks;
        break;
    case POLICY_WORK_STEALING:
        ops = &sched_work_stealing;
        break;
    default:
        log_warn("scheduler policy %d is not available in this build", policy);
        return -1;
    }
    ops->init();
    sched_busy_setup();
    store_set_evict_hooks(&(store_evict_hooks_t){.try_now = evict_try_now, .ask = evict_ask});
    return 0;
}

void sched_teardown(void)
{
    store_set_evict_hooks(&(store_evict_hooks_t){0});
    if (ops) {
        ops->teardown();
        sched_busy_teardown();
    }
    free(sched_owner_of);
    sched_owner_of = NULL;
    free(stats);
    stats = NULL;
}

int sched_owner(int part) { return sched_owner_of[part]; }
const char *sched_policy_name(void) { return ops ? ops->name : "none"; }
int sched_owner_bound(void) { return ops->owner_bound; }

void sched_busy_poll(int worker)
{
    if (ops->busy_poll)
        ops->busy_poll(worker);
}
void sched_worker_start(int worker) { (void)worker; }

void sched_run_client(client_t *c)
{
    if (worker_busy_mode())
        sched_busy_run_client(c);
    else
        ops->run_client(c);
}

int sched_client_readable(client_t *c)
{
    /* A busy worker answers its own clients itself (sched_busy.c). */
    if (!ops->client_readable || worker_busy_mode())
        return 0;
    return ops->client_readable(c);
}
int sched_poll(int worker) { return ops->poll ? ops->poll(worker) : 0; }

int sched_cron_hz(void)
{
    int hz = config_get_int(CFG_HZ);
    return hz < 1 ? 1 : hz > 500 ? 500 : hz;
}

void sched_cron(int worker, uint64_t now)
{
    int hz = sched_cron_hz();
    int owned = 0;
    for (int p = 0; p < sched_nparts; p++)
        owned += sched_owner_of[p] == worker;
    if (!owned)
        return;
    /* Redis spends up to 25% of a cron period on active expiry; spread that
     * over the partitions this worker owns. */
    int effort = config_get_int(CFG_ACTIVE_EXPIRE_EFFORT);
    uint64_t budget = (uint64_t)(1000000 / hz) * (uint64_t)(20 + 5 * effort) / 100 / (uint64_t)owned;
    if (budget < 50)
        budget = 50;
    for (int p = 0; p < sched_nparts; p++) {
        if (sched_owner_of[p] != worker || !ops->part_idle(p))
            continue;
        uint64_t t0 = mono_us();
        store_active_expire(p, now, budget);
        uint64_t ms = (mono_us() - t0) / 1000;
        if (latency_wanted(ms)) /* LATENCY's expire-cycle, as Redis 7.0 names it */
            latency_add("expire-cycle", ms);
        store_rehash_step(p, budget / 4 + 10);
        t0 = mono_us();
        store_evict_cron(p, now);
        ms = (mono_us() - t0) / 1000;
        if (latency_wanted(ms))
            latency_add("eviction-cycle", ms);
        tracking_cron(p);
        if (ops->part_idle_done)
            ops->part_idle_done(p);
    }
}

/* Mark the partitions of one command's keys; returns 1 when it needs all. */
static int mark_parts(const command_t *cmd, int argc, const sv_t *argv, unsigned char *seen)
{
    cmd_keys_t k;
    if (cmd->part_fn) { /* SCAN: the partition its cursor names */
        int p = cmd->part_fn(argc, argv);
        if (p >= 0)
            seen[p / 8] |= (unsigned char)(1u << (p % 8));
        return 0;
    }
    if (command_keys(cmd, argc, argv, &k) == 1 || (cmd->flags & CMD_ALLPARTS))
        return 1;
    for (int j = 0, n = cmd_keys_count(&k); j < n; j++) {
        int p = store_part_of_key(argv[cmd_keys_at(&k, j)]);
        seen[p / 8] |= (unsigned char)(1u << (p % 8));
    }
    return 0;
}

void sched_collect_parts(client_t *c, const qcmd_t *qc, task_t *t)
{
    if (t->parts_cap < sched_nparts) {
        t->parts = xrealloc(t->parts, (size_t)sched_nparts * sizeof *t->parts);
        t->parts_cap = sched_nparts;
    }
    /* A bitmap of touched partitions gives them in ascending order, unique. */
    unsigned char seen[SLOT_COUNT / 8];
    memset(seen, 0, (size_t)(sched_nparts + 7) / 8);
    int all = 0;
    if ((qc->cmd->flags & CMD_EXEC) && c->in_multi) {
        /* EXEC holds what its queued commands touch, and its watched keys. */
        for (uint32_t i = 0; i < c->mqlen && !all; i++)
            all = mark_parts(c->mq[i].cmd, c->mq[i].argc, c->margs.v + c->mq[i].argi, seen);
        for (uint32_t i = 0; i < c->nwatched; i++) {
            int p = store_part_of_key((sv_t){c->watched[i].key, c->watched[i].len});
            seen[p / 8] |= (unsigned char)(1u << (p % 8));
        }
    } else if ((qc->cmd->flags & CMD_EXEC) || qc->cmd == NULL) {
        all = 0; /* EXEC outside MULTI: just the error reply */
    } else if (client_ldb_all_parts(c, qc->cmd)) {
        all = 1; /* SCRIPT DEBUG YES forks: a whole, quiet copy */
    } else {
        all = mark_parts(qc->cmd, qc->argc, client_argv(c, qc), seen);
    }
    t->nparts = 0;
    for (int p = 0; p < sched_nparts; p++)
        if (all || (seen[p / 8] & (1u << (p % 8))))
            t->parts[t->nparts++] = p;
}

/* sched_exec_cmd calls running on this thread: 1 for a client's command, 2
 * for SCRIPT KILL run from inside a busy script (its keys' ready waits are
 * served by the outer call, once the script is done). */
static _Thread_local int exec_depth;

void sched_exec_cmd(client_t *c, const command_t *cmd, int argc, sv_t *argv, reply_t *r, int db,
                    const int *parts, int nparts, int home)
{
    cmd_ctx_t ctx = {
        .argc = argc,
        .argv = argv,
        .r = r,
        .db = db,
        .now_ms = worker_now_ms(),
        .cl = home ? c : NULL,
        .dbp = home ? &c->db : NULL,
        .cmd = cmd,
        .worker = worker_self(),
        .parts = parts,
        .nparts = nparts,
        .pubsub_resp2 = home && c && c->in_pubsub && c->proto == 2,
        .may_block = home && c && exec_depth == 0,
        .peer = c ? c->addr : "?", /* set at accept, read-only since: any thread */
        .origin = c,
        .user = c ? c->acl : NULL,
    };
    /* What a script turning busy inside publishes as busy (sched_busy.c).
     * Saved and restored: SCRIPT KILL runs here from inside a busy script. */
    sched_running_t saved = sched_running;
    sched_running = (sched_running_t){c, parts, nparts, 0};
    size_t start = r->out->len;
    exec_depth++;
    /* Client-side caching's context, only while some client tracks keys. */
    int tracking = tracking_any();
    if (tracking)
        tracking_enter(c ? c->trk : NULL, c ? c->id : 0, cmd, argc, argv, r);
    command_call(&ctx, CALL_OOM);
    if (tracking)
        tracking_leave(r);
    if (c && c->trk)
        client_tracking_after(c, cmd);
    exec_depth--;
    /* c's CLIENT REPLY mode, once the command is answered (client_ctl.c); a
     * blocked one is answered when its block ends (client_block.c). */
    if (c && !ctx.blocked)
        client_reply_done(c, r->out, start, cmd);
    if (sched_running.marked)
        sched_busy_clear();
    sched_running = saved;
    /* Blocked before its partitions are released, so no wake can come first. */
    if (ctx.blocked)
        client_blocked(c, ctx.blocked);
    /* Keys this command gave a value serve their waiters now, the partitions
     * still held: a pushed element goes to a waiter before anyone else runs. */
    if (exec_depth == 0)
        blocking_serve(&ctx);
}

/* Pipelined commands: prefetch the bucket of the command two ahead and the
 * first entry of the next one, so a lookup's cache misses overlap the
 * commands before it instead of stalling it. enter(p) says whether this
 * thread may read partition p's tables now (taking what makes it safe),
 * leave(p) gives that back.
 * Measured 2026-11-27 (2-core VM, one worker on CPU 0, redis-benchmark -t get
 * -P 16 -c 50 -r 100000 on CPU 1, two builds alternating, share-nothing):
 * 0.83-0.96 server CPU us/req with it, 1.16-1.30 without. */
#define PREFETCH_AHEAD 2

void sched_prefetch_ahead(client_t *c, uint32_t cur, int (*enter)(int part),
                          void (*leave)(int part))
{
    for (uint32_t k = 1; k <= PREFETCH_AHEAD; k++) {
        uint32_t i = cur + k;
        if (i >= c->qlen)
            return;
        const qcmd_t *q = &c->q[i];
        if (!q->cmd || q->part < 0 || q->cmd->keys_fn || q->cmd->first_key <= 0 ||
            q->cmd->first_key >= q->argc || !enter(q->part))
            continue;
        store_prefetch(q->part, c->db, client_argv(c, q)[q->cmd->first_key],
                       (int)(PREFETCH_AHEAD - k));
        if (leave)
            leave(q->part);
    }
}

void sched_exec(client_t *c, const qcmd_t *qc, reply_t *r, int db, const int *parts, int nparts,
                int home)
{
    sched_exec_cmd(c, qc->cmd, qc->argc, client_argv(c, qc), r, db, parts, nparts, home);
}

void sched_info(buf_t *out)
{
    buf_printf(out, "policy:%s\r\npartitions:%d\r\nworkers:%d\r\npartition_locks:%s\r\n",
               sched_policy_name(), sched_nparts, sched_nworkers, partlock_kind());
}

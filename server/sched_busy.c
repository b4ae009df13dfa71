/* Busy scripts: a script that runs past busy-reply-threshold keeps its
 * worker's loop and the partitions it holds until it returns or is killed.
 * Rather than make other clients wait, percore answers them BUSY, as Redis
 * does, but only where the script is in the way:
 *   - commands needing a partition the script holds get BUSY on any worker;
 *   - under share-nothing, so do commands for the partitions the busy worker
 *     owns (only its loop may touch them, and that loop is the script's);
 *   - the busy worker's own clients get BUSY for everything but SCRIPT KILL,
 *     SHUTDOWN, MULTI, DISCARD and UNWATCH (Redis's allow-busy commands),
 *     served from the script's hook through worker_serve_busy.
 * Everything else keeps running on the other workers. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script.h"
#include "sched_internal.h"

_Thread_local sched_running_t sched_running;

/* Written only by the busy worker (set when it turns busy, cleared when its
 * script returns), read by every worker: relaxed, a stale read only delays
 * a BUSY reply by one command. */
static _Atomic unsigned char *part_busy;
static _Atomic unsigned char *worker_busy;

static void on_script_busy(int w)
{
    sched_running_t *run = &sched_running;
    if (!run->marked) {
        run->marked = 1;
        for (int i = 0; i < run->nparts; i++)
            atomic_store_explicit(&part_busy[run->parts[i]], 1, memory_order_relaxed);
        atomic_store_explicit(&worker_busy[w], 1, memory_order_relaxed);
    }
    worker_serve_busy(sched_busy_poll);
}

void sched_busy_setup(void)
{
    part_busy = xcalloc((size_t)sched_nparts, sizeof *part_busy);
    worker_busy = xcalloc((size_t)sched_nworkers, sizeof *worker_busy);
    script_set_busy_callback(on_script_busy);
}

void sched_busy_teardown(void)
{
    script_set_busy_callback(NULL);
    free((void *)part_busy);
    free((void *)worker_busy);
    part_busy = NULL;
    worker_busy = NULL;
}

void sched_busy_clear(void)
{
    sched_running_t *run = &sched_running;
    for (int i = 0; i < run->nparts; i++)
        atomic_store_explicit(&part_busy[run->parts[i]], 0, memory_order_relaxed);
    atomic_store_explicit(&worker_busy[worker_self()], 0, memory_order_relaxed);
    run->marked = 0;
}

int sched_part_busy(int p)
{
    if (atomic_load_explicit(&part_busy[p], memory_order_relaxed))
        return 1;
    return sched_owner_bound() &&
           atomic_load_explicit(&worker_busy[sched_owner_of[p]], memory_order_relaxed);
}

int sched_parts_busy(const int *parts, int n)
{
    for (int i = 0; i < n; i++)
        if (sched_part_busy(parts[i]))
            return 1;
    return 0;
}

void sched_reply_busy(client_t *c, const qcmd_t *qc, reply_t *r)
{
    /* As Redis's rejected commands: inside MULTI the transaction is flagged,
     * so its EXEC answers EXECABORT. */
    c->multi_err |= c->in_multi;
    size_t start = r->out->len;
    const char *busy = script_busy_error();
    reply_error(r, busy);
    client_reply_done(c, r->out, start, NULL);
    command_refused(worker_self(), qc->cmd, busy);
    stat_add(&sched_stats(worker_self())->busy_replies, 1);
}

void sched_busy_run_client(client_t *c)
{
    while (c->qhead < c->qlen) {
        qcmd_t *qc = &c->q[c->qhead++];
        /* Only CMD_ALLOW_BUSY commands pass (all keyless: no partition). */
        int rc = client_precheck(c, qc, 1);
        if (rc == 0)
            sched_exec(c, qc, &c->reply, c->db, NULL, 0, 1);
        else if (rc == CHECK_BUSY)
            stat_add(&sched_stats(worker_self())->busy_replies, 1);
    }
    client_queue_done(c);
}

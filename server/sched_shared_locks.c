/* shared-locks (memcached's model): every command runs on its client's home
 * worker; a lock per partition makes access exclusive. A multi-partition
 * command takes all its partitions' locks in ascending order (two-phase
 * locking: all acquired before it runs, all released after), so no two
 * commands can wait on each other. Cron work on partition p is done by worker
 * p mod workers, only when the partition's lock is free. */
#include "partlock.h"
#include "sched_internal.h"
#include "store.h"

/* Also prefetching's enter: under locks a partition is read only while its
 * lock is held, taken without waiting for the moment of the prefetch. */
int sched_locked_try(int p) { return partlock_trylock(p) == 0; }

void sched_locked_run_client(client_t *c)
{
    int self = worker_self();
    partlock_stats_t *locks = &sched_stats(self)->locks;
    task_t *t = &c->task;
    while (c->qhead < c->qlen) {
        if (client_output_full(c))
            break; /* resumed by client_settle once the output drains */
        if (client_postponed(c, &c->q[c->qhead]))
            break; /* CLIENT PAUSE: resumed when it ends (client_pause.c) */
        qcmd_t *qc = &c->q[c->qhead++];
        if (client_precheck(c, qc, 0) != 0)
            continue;
        if (qc->part == -1) {
            sched_exec(c, qc, &c->reply, c->db, NULL, 0, 1);
        } else if (qc->part >= 0) {
            int p = qc->part;
            if (c->qhead < c->qlen)
                sched_prefetch_ahead(c, c->qhead - 1, sched_locked_try, partlock_unlock);
            if (partlock_lock(p, locks) != 0) {
                sched_reply_busy(c, qc, &c->reply);
                continue;
            }
            sched_exec(c, qc, &c->reply, c->db, &p, 1, 1);
            partlock_unlock(p);
            stat_add(&sched_stats(self)->tasks_local, 1);
        } else {
            sched_collect_parts(c, qc, t);
            if (partlock_lock_all(t->parts, t->nparts, locks) != 0) {
                sched_reply_busy(c, qc, &c->reply);
                continue;
            }
            sched_exec(c, qc, &c->reply, c->db, t->parts, t->nparts, 1);
            partlock_unlock_all(t->parts, t->nparts);
            stat_add(&sched_stats(self)->multi_tasks, 1);
        }
    }
    client_queue_done(c);
}

static void sl_init(void) { partlock_setup(sched_nparts, sched_part_busy); }

const sched_policy_ops_t sched_shared_locks = {
    .name = "shared-locks",
    .init = sl_init,
    .teardown = partlock_teardown,
    SCHED_LOCKED_OPS,
};

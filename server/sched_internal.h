/* sched_internal — what the policy files share: partition table, command
 * execution, and the policy vtable. Not for use outside sched*.c. */
#ifndef PERCORE_SCHED_INTERNAL_H
#define PERCORE_SCHED_INTERNAL_H

#include "client.h"
#include "sched.h"

typedef struct sched_policy_ops {
    const char *name;
    void (*init)(void);
    void (*teardown)(void);
    void (*run_client)(client_t *c);
    int (*part_idle)(int part); /* may cron touch part now (on its owner)? */
    void (*part_idle_done)(int part); /* optional: after cron's work on part */
    int (*client_readable)(client_t *c); /* optional: see sched_client_readable */
    int (*poll)(int worker);             /* optional: see sched_poll */
} sched_policy_ops_t;

extern const sched_policy_ops_t sched_share_nothing;
extern const sched_policy_ops_t sched_shared_locks;
extern const sched_policy_ops_t sched_work_stealing;

/* Run a client's queue on the calling worker under partition locks (the
 * shared-locks way); work-stealing runs stolen clients the same way. */
void sched_locked_run_client(client_t *c);

extern int sched_nparts, sched_nworkers, sched_batch_max;
extern int *sched_owner_of; /* partition -> owner worker */

/* Run one queued command of client c on the calling worker, which holds its
 * partitions (parts[0..nparts)); replies go to r. home: the caller is c's home
 * worker, so CMD_HOME handlers may use the client. */
void sched_exec(client_t *c, const qcmd_t *qc, reply_t *r, int db, const int *parts, int nparts,
                int home);

/* Partitions a queued multi-partition command needs, ascending and unique,
 * into t->parts. */
void sched_collect_parts(client_t *c, const qcmd_t *qc, task_t *t);

#endif

/* sched_internal — what the policy files share: partition table, command
 * execution, and the policy vtable. Not for use outside sched*.c. */
#ifndef PERCORE_SCHED_INTERNAL_H
#define PERCORE_SCHED_INTERNAL_H

#include "client.h"
#include "partlock.h"
#include "scheduler.h"

typedef struct sched_policy_ops {
    const char *name;
    void (*init)(void);
    void (*teardown)(void);
    void (*run_client)(client_t *c);
    int (*part_idle)(int part); /* may cron touch part now (on its owner)? */
    void (*part_idle_done)(int part); /* optional: after cron's work on part */
    int (*client_readable)(client_t *c); /* optional: see sched_client_readable */
    int (*poll)(int worker);             /* optional: see sched_poll */
    int owner_bound; /* only a partition's owner may touch it (share-nothing) */
    void (*busy_poll)(int worker); /* optional: serve queued clients in busy mode */
} sched_policy_ops_t;

extern const sched_policy_ops_t sched_share_nothing;
extern const sched_policy_ops_t sched_shared_locks;
extern const sched_policy_ops_t sched_work_stealing;

/* Run a client's queue on the calling worker under partition locks (the
 * shared-locks way); work-stealing runs stolen clients the same way. */
void sched_locked_run_client(client_t *c);
/* Take partition p's lock if it is free (1) without waiting (0 when held). */
int sched_locked_try(int p);
/* The ops of the lock-based policies, shared-locks and work-stealing: run a
 * client under locks; cron works on a partition while holding its lock. */
#define SCHED_LOCKED_OPS                                                                \
    .run_client = sched_locked_run_client, .part_idle = sched_locked_try,             \
    .part_idle_done = partlock_unlock

extern int sched_nparts, sched_nworkers, sched_batch_max;
extern int *sched_owner_of; /* partition -> owner worker */

/* Run one queued command of client c on the calling worker, which holds its
 * partitions (parts[0..nparts)); replies go to r. home: the caller is c's home
 * worker, so CMD_HOME handlers may use the client. */
void sched_exec(client_t *c, const qcmd_t *qc, reply_t *r, int db, const int *parts, int nparts,
                int home);

/* Before running c->q[cur]: prefetch for the single-partition commands
 * queued after it; enter(p) returns 1 when this thread may read partition
 * p now, and leave(p) (optional) releases it after. */
void sched_prefetch_ahead(client_t *c, uint32_t cur, int (*enter)(int part),
                          void (*leave)(int part));

/* Partitions a queued multi-partition command needs, ascending and unique,
 * into t->parts. */
void sched_collect_parts(client_t *c, const qcmd_t *qc, task_t *t);

/* 1 when the policy's partitions are touched only by their owners. */
int sched_owner_bound(void);
/* The policy's busy_poll for the calling worker, if it has one. */
void sched_busy_poll(int worker);

/* ---- busy scripts (sched_busy.c) ---------------------------------------- */

/* What the calling worker is executing (set by sched_exec_cmd around the
 * handler): the script's client and held partitions when its hook fires. */
typedef struct sched_running {
    client_t *c;
    const int *parts;
    int nparts;
    int marked; /* the partitions were published as busy */
} sched_running_t;
extern _Thread_local sched_running_t sched_running;

void sched_busy_setup(void);
void sched_busy_teardown(void);
/* On the busy worker when its script returns: unpublish its partitions. */
void sched_busy_clear(void);
/* Any worker: 1 when a command needing partition p (or any of parts) must be
 * answered BUSY instead of waiting for a busy script. */
int sched_part_busy(int p);
int sched_parts_busy(const int *parts, int n);
/* Reply BUSY to queued command qc of c (flags c's MULTI, as Redis). */
void sched_reply_busy(client_t *c, const qcmd_t *qc, reply_t *r);
/* On a worker in busy mode: run_client for its own clients. */
void sched_busy_run_client(client_t *c);

#endif

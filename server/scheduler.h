/* scheduler — where a client's commands run and how they get exclusive access to
 * the partitions they touch. The client module parses commands into its queue
 * and calls sched_run_client(); the policy runs them in order and calls
 * client_queue_done() when the queue is empty. Handlers never see the policy. */
#ifndef PERCORE_SCHEDULER_H
#define PERCORE_SCHEDULER_H

#include <stdint.h>

#include "buf.h"
#include "command.h"
#include "partlock.h"
#include "util.h"
#include "worker.h"

struct client;

/* One parsed command waiting in a client's queue. */
typedef struct qcmd {
    const command_t *cmd; /* NULL: error already decided at parse time (err) */
    uint32_t argi;        /* first argument in the client's argvec */
    int argc;
    int part;             /* single partition, or -1: none, -2: several (see parts) */
    const char *err;      /* reply instead of running (unknown command, arity...) */
} qcmd_t;

/* A task: a run of queued commands of one client that the scheduler places
 * as a unit. Embedded in its client (one task in flight per client), so
 * placing work never allocates on the fast path. */
typedef struct task {
    xmsg_t msg;            /* travels between workers */
    struct client *cl;
    int home;              /* the client's worker */
    int exec;              /* the worker running it */
    int kind;              /* TASK_BATCH or TASK_MULTI */
    int db, proto;
    uint32_t first, count; /* commands cl->q[first .. first+count) */
    uint32_t cursor;       /* next command of the batch to run */
    buf_t out;             /* replies of a task run away from home */
    size_t out_budget;     /* a batch away stops once out holds this much (0: no limit) */
    uint64_t errors;
    /* multi-partition tasks: partitions in the global (ascending) order */
    int *parts, nparts, acquired, req_end;
    int parts_cap;
    int waiting_part;      /* partition whose queue it waits in, or -1 */
    struct task *wait_next;
    xmsg_t *returns;       /* messages handing lent partitions back */
} task_t;

enum { TASK_BATCH = 1, TASK_MULTI = 2 };

enum sched_policy { POLICY_SHARE_NOTHING = 0, POLICY_SHARED_LOCKS, POLICY_WORK_STEALING };

/* The scheduler's counters, per worker (one writer: that worker; see
 * stat_add in util.h), summed by INFO; the partition locks count into `locks`. */
#define SCHED_STATS(X)                                                                         \
    X(tasks_local, "tasks run on the home worker without a hop")                             \
    X(tasks_forwarded, "batches sent to a partition owner")                                  \
    X(tasks_received, "batches run for another worker's client")                             \
    X(tasks_stolen_given, "connection batches taken from this worker by thieves")             \
    X(tasks_stolen_taken, "connection batches this worker stole")                             \
    X(multi_tasks, "multi-partition tasks coordinated here")                                  \
    X(parts_lent, "partitions lent to another worker's task")                                 \
    X(part_waits, "tasks that queued for a busy partition")                                  \
    X(busy_replies, "commands answered BUSY because of a busy script")

typedef struct sched_stats {
#define X(name, desc) _Atomic uint64_t name;
    SCHED_STATS(X)
#undef X
    partlock_stats_t locks;
} sched_stats_t;

/* Worker w's counters (0 <= w < the nworkers of sched_setup). */
sched_stats_t *sched_stats(int worker);
void sched_reset_stats(void);

int sched_setup(int nworkers, int npartitions, int policy, int batch_max);
void sched_teardown(void);
/* sched_worker_start, sched_cron (with sched_cron_hz) and sched_poll are
 * event-loop hooks (worker_hooks_t, wired by main.c). */
void sched_worker_start(int worker);
/* Periodic work on a worker: active expiry and rehashing of the partitions it
 * may touch right now. */
void sched_cron(int worker, uint64_t now_ms);
int sched_cron_hz(void);

/* On the client's home worker: run what can run of the client's queue. */
void sched_run_client(struct client *c);
int sched_owner(int part);
/* On the home worker when a client is readable: 1 when the policy took it
 * (work-stealing queues it), 0 to read and run it here. */
int sched_client_readable(struct client *c);
/* Before a worker's loop blocks: run queued clients and, when idle, steal.
 * Returns 1 when it ran anything. */
int sched_poll(int worker);
const char *sched_policy_name(void);
/* Run one command on the calling worker, which holds parts[0..nparts): the
 * OOM check, the handler, and the statistics. home: the caller is c's home
 * worker (CMD_HOME/CMD_TXN handlers may then use the client). */
void sched_exec_cmd(struct client *c, const command_t *cmd, int argc, sv_t *argv, reply_t *r,
                    int db, const int *parts, int nparts, int home);

/* INFO scheduler's lines about the policy (the per-worker counter lines
 * that follow are cmd_info.c's: they gather every layer's). */
void sched_info(buf_t *out);

#endif

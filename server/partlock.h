/* partlock — the per-partition locks of the shared-locks and work-stealing
 * policies, with two-phase acquisition in ascending partition order.
 * A C11 spinlock that yields (or, built with -DPERCORE_PARTLOCK=mutex, a glibc
 * adaptive mutex); partlock.c has the measurement behind the choice. Used by
 * the scheduler (sched_shared_locks.c, sched_work_stealing.c), which tells it
 * through a callback when waiting is pointless; it calls nothing above it. */
#ifndef PERCORE_PARTLOCK_H
#define PERCORE_PARTLOCK_H

#include <stdint.h>

#include "util.h"

/* The counters of one worker's lock acquisitions (one writer: that worker;
 * see stat_add in util.h). The caller keeps them (the scheduler's per-worker stats). */
#define PARTLOCK_STATS(X)                                                                      \
    X(lock_acquisitions, "partition lock acquisitions")                                       \
    X(lock_waits, "partition lock acquisitions that had to wait")                             \
    X(lock_wait_us, "time spent waiting for partition locks (us)")

typedef struct partlock_stats {
#define X(name, desc) _Atomic uint64_t name;
    PARTLOCK_STATS(X)
#undef X
} partlock_stats_t;

/* busy(part), called by a waiting locker about once a millisecond (any
 * worker): 1 when part's holder will not let go soon (the scheduler's busy
 * scripts), and the locker should stop waiting. */
int partlock_setup(int npartitions, int (*busy)(int part));
void partlock_teardown(void);

/* Lock one partition / several (ascending, unique) on the calling worker,
 * counting acquisitions, waits and wait time in s, the worker's counters.
 * -1 (nothing left locked) when busy() said a partition's holder is busy:
 * the scheduler then answers BUSY. */
int partlock_lock(int part, partlock_stats_t *s);
void partlock_unlock(int part);
int partlock_lock_all(const int *parts, int n, partlock_stats_t *s);
void partlock_unlock_all(const int *parts, int n);
/* 0 when locked, -1 when busy (cron skips busy partitions). */
int partlock_trylock(int part);
/* "mutex" or "spin": the implementation built in (INFO scheduler). */
const char *partlock_kind(void);

#endif

/* stat — the counter helpers of every module's per-worker statistics.
 * A counter has one writer (its worker's thread), which adds with a relaxed
 * load and store instead of an atomic read-modify-write; any thread may read
 * it (INFO). Each module declares its counters as an X-macro table in its own
 * header (SCHED_STATS, CLIENT_STATS, COMMAND_STATS, WORKER_STATS). */
#ifndef PERCORE_STAT_H
#define PERCORE_STAT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
static inline uint64_t stat_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}
/* Zero a module's counters: `bytes` of structs made only of counters (CONFIG
 * RESETSTAT; the writers may be adding meanwhile, as in Redis). */
static inline void stat_zero(void *counters, size_t bytes)
{
    _Atomic uint64_t *c = counters;
    for (size_t i = 0; i < bytes / sizeof *c; i++)
        atomic_store_explicit(&c[i], 0, memory_order_relaxed);
}

#endif

/* stat — the one counter helper of every module's per-worker statistics.
 * A counter has one writer (its worker's thread), which adds with a relaxed
 * load and store instead of an atomic read-modify-write; any thread may read
 * it (INFO). Each module declares its counters as an X-macro table in its own
 * header (SCHED_STATS, CLIENT_STATS, COMMAND_STATS, WORKER_STATS). */
#ifndef PERCORE_STAT_H
#define PERCORE_STAT_H

#include <stdatomic.h>
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

#endif

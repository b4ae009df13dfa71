#include "partlock.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"
#include "ring.h"

/* Two implementations, chosen at build time (cmake -DPERCORE_PARTLOCK=spin|mutex):
 * a test-and-test-and-set spinlock that yields after 64 pauses (the default),
 * and a glibc adaptive mutex. Measured 2026-11-27 on the 2-core Debian 12 VM,
 * shared-locks, 2 workers and redis-benchmark sharing CPUs 0-1 (-c 50,
 * alternating builds, `BENCH_POLICIES=shared-locks BENCH_THREADS=2
 * SERVER_CPUS=0-1 CLIENT_CPUS=0-1 BENCH_RUNS=1 bench/policies.sh`):
 *   100k uniform keys: equal throughput (GET -P16 ~0.8-0.89M req/s both);
 *   one hot key (BENCH_KEYSPACE=1), -P16: GET spin 1.14-1.33M vs mutex
 *   0.99-1.14M req/s, SET spin 1.14M vs mutex 0.89-1.14M; unpipelined equal.
 * So spin is kept: under contention the futex path costs more than it saves. */

/* One cache line per lock, so neighbouring partitions don't false-share. */
typedef struct plock {
#ifndef PERCORE_PARTLOCK_MUTEX
    alignas(64) atomic_int held;
#else
    alignas(64) pthread_mutex_t m;
#endif
} plock_t;

static plock_t *locks;
static int nlocks;
static int (*give_up)(int part); /* see partlock_setup */

#ifndef PERCORE_PARTLOCK_MUTEX

static int raw_trylock(plock_t *l)
{
    return atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
                   atomic_exchange_explicit(&l->held, 1, memory_order_acquire) == 0
               ? 0
               : -1;
}

/* Spin on a plain load (no cache-line ping-pong), then yield; -1 after
 * about a millisecond so the caller can check for a busy script. */
static int raw_lock_slice(plock_t *l)
{
    uint64_t t0 = mono_us();
    for (unsigned i = 0;; i++) {
        if (raw_trylock(l) == 0)
            return 0;
        if (i < 64)
            cpu_relax();
        else
            sched_yield();
        if ((i & 63) == 63 && mono_us() - t0 >= 1000)
            return -1;
    }
}

static void raw_unlock(plock_t *l) { atomic_store_explicit(&l->held, 0, memory_order_release); }
static void raw_init(plock_t *l) { atomic_init(&l->held, 0); }
static void raw_destroy(plock_t *l) { (void)l; }
#else
static int raw_trylock(plock_t *l) { return pthread_mutex_trylock(&l->m) == 0 ? 0 : -1; }

static int raw_lock_slice(plock_t *l)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    return pthread_mutex_timedlock(&l->m, &until) == 0 ? 0 : -1;
}

static void raw_unlock(plock_t *l) { pthread_mutex_unlock(&l->m); }

static void raw_init(plock_t *l)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&l->m, &a);
    pthread_mutexattr_destroy(&a);
}

static void raw_destroy(plock_t *l) { pthread_mutex_destroy(&l->m); }
#endif

int partlock_setup(int npartitions, int (*busy)(int part))
{
    nlocks = npartitions;
    give_up = busy;
    locks = aligned_alloc(64, sizeof *locks * (size_t)npartitions);
    if (!locks)
        return -1;
    for (int i = 0; i < npartitions; i++)
        raw_init(&locks[i]);
    return 0;
}

void partlock_teardown(void)
{
    for (int i = 0; i < nlocks; i++)
        raw_destroy(&locks[i]);
    free(locks);
    locks = NULL;
    nlocks = 0;
}

const char *partlock_kind(void)
{
#ifndef PERCORE_PARTLOCK_MUTEX
    return "spin";
#else
    return "mutex";
#endif
}

int partlock_lock(int part, partlock_stats_t *s)
{
    if (raw_trylock(&locks[part]) == 0) {
        stat_add(&s->lock_acquisitions, 1);
        return 0;
    }
    uint64_t t0 = mono_us();
    /* Wait in 1 ms slices: a holder that turns into a busy script makes us
     * answer BUSY rather than block this worker until the script ends. */
    while (raw_lock_slice(&locks[part]) != 0) {
        if (give_up(part)) {
            stat_add(&s->lock_wait_us, mono_us() - t0);
            return -1;
        }
    }
    stat_add(&s->lock_acquisitions, 1);
    stat_add(&s->lock_waits, 1);
    stat_add(&s->lock_wait_us, mono_us() - t0);
    return 0;
}

void partlock_unlock(int part) { raw_unlock(&locks[part]); }

int partlock_trylock(int part) { return raw_trylock(&locks[part]); }

int partlock_lock_all(const int *parts, int n, partlock_stats_t *s)
{
    for (int i = 0; i < n; i++) {
        if (partlock_lock(parts[i], s) != 0) {
            partlock_unlock_all(parts, i);
            return -1;
        }
    }
    return 0;
}

void partlock_unlock_all(const int *parts, int n)
{
    for (int i = n - 1; i >= 0; i--)
        partlock_unlock(parts[i]);
}

#include "partlock.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <time.h>

#include "buf.h"
#include "sched_internal.h"
#include "store.h"
#include "worker.h"

/* One cache line per lock, so neighbouring partitions don't false-share. */
typedef struct plock {
    alignas(64) pthread_mutex_t m;
} plock_t;

static plock_t *locks;
static int nlocks;

int partlock_setup(int npartitions)
{
    nlocks = npartitions;
    locks = aligned_alloc(64, sizeof *locks * (size_t)npartitions);
    if (!locks)
        return -1;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (int i = 0; i < npartitions; i++)
        pthread_mutex_init(&locks[i].m, &a);
    pthread_mutexattr_destroy(&a);
    return 0;
}

void partlock_teardown(void)
{
    for (int i = 0; i < nlocks; i++)
        pthread_mutex_destroy(&locks[i].m);
    free(locks);
    locks = NULL;
    nlocks = 0;
}

int partlock_lock(int part)
{
    worker_stats_t *s = worker_stats(worker_self());
    if (pthread_mutex_trylock(&locks[part].m) == 0) {
        stat_add(&s->lock_acquisitions, 1);
        return 0;
    }
    uint64_t t0 = mono_us();
    int rc;
    /* Wait in 1 ms slices: a holder that turns into a busy script makes us
     * answer BUSY rather than block this worker until the script ends. */
    do {
        if (sched_part_busy(part)) {
            stat_add(&s->lock_wait_us, mono_us() - t0);
            return -1;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        rc = pthread_mutex_timedlock(&locks[part].m, &until);
    } while (rc == ETIMEDOUT);
    stat_add(&s->lock_acquisitions, 1);
    stat_add(&s->lock_waits, 1);
    stat_add(&s->lock_wait_us, mono_us() - t0);
    return 0;
}

void partlock_unlock(int part) { pthread_mutex_unlock(&locks[part].m); }

int partlock_trylock(int part) { return pthread_mutex_trylock(&locks[part].m) == 0 ? 0 : -1; }

int partlock_lock_all(const int *parts, int n)
{
    for (int i = 0; i < n; i++) {
        if (partlock_lock(parts[i]) != 0) {
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

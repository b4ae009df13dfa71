/* forksafe — the registered locks and the fork that takes them (forksafe.h). */
#include "forksafe.h"

#include <errno.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>


#define FORKSAFE_MAX 32 /* registered at load time by a fixed set of files */

typedef struct {
    void *lock;
    int rw;
} entry_t;

static entry_t locks[FORKSAFE_MAX];
static int nlocks;
static int in_child;

static void reg(void *lock, int rw)
{
    if (nlocks == FORKSAFE_MAX) { /* before main: a build defect, not input */
        static const char msg[] = "forksafe: too many locks registered (FORKSAFE_MAX)\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    locks[nlocks].lock = lock;
    locks[nlocks++].rw = rw;
}

void forksafe_register_mutex(pthread_mutex_t *m) { reg(m, 0); }
void forksafe_register_rwlock(pthread_rwlock_t *l) { reg(l, 1); }

static int try_one(const entry_t *e)
{
    return e->rw ? pthread_rwlock_trywrlock(e->lock) : pthread_mutex_trylock(e->lock);
}

static void unlock_one(const entry_t *e)
{
    if (e->rw)
        pthread_rwlock_unlock(e->lock);
    else
        pthread_mutex_unlock(e->lock);
}

/* All or none: 0 with every lock held, -1 with none. */
static int try_all(void)
{
    for (int i = 0; i < nlocks; i++)
        if (try_one(&locks[i]) != 0) {
            while (i-- > 0)
                unlock_one(&locks[i]);
            return -1;
        }
    return 0;
}

pid_t forksafe_fork(int patience_ms)
{
    struct timespec t0, now, pause = {0, 50000}; /* 50 us between tries */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (try_all() != 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= patience_ms) {
            errno = EAGAIN;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    int err = errno;
    if (pid == 0) {
        /* The child owns them, but under a new thread id, which a
         * rwlock's unlock checks: start them afresh instead. */
        in_child = 1;
        for (int i = 0; i < nlocks; i++) {
            if (locks[i].rw)
                pthread_rwlock_init(locks[i].lock, NULL);
            else
                pthread_mutex_init(locks[i].lock, NULL);
        }
        return 0;
    }
    for (int i = nlocks; i-- > 0;)
        unlock_one(&locks[i]);
    if (pid > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        forksafe_count((uint64_t)((now.tv_sec - t0.tv_sec) * 1000000 +
                                  (now.tv_nsec - t0.tv_nsec) / 1000));
    }
    errno = err;
    return pid;
}

int forksafe_in_child(void) { return in_child; }

static _Atomic uint64_t total_forks, latest_fork_usec;

void forksafe_count(uint64_t usec)
{
    atomic_fetch_add_explicit(&total_forks, 1, memory_order_relaxed);
    atomic_store_explicit(&latest_fork_usec, usec, memory_order_relaxed);
}

uint64_t forksafe_total_forks(void)
{
    return atomic_load_explicit(&total_forks, memory_order_relaxed);
}

uint64_t forksafe_latest_fork_usec(void)
{
    return atomic_load_explicit(&latest_fork_usec, memory_order_relaxed);
}

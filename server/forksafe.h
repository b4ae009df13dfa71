/* forksafe — fork() from a threaded server for a child that runs server code
 * (a SCRIPT DEBUG YES session, server/client_ldb.c). Only the forking thread
 * goes on in the child; a lock another thread held at that moment would stay
 * held forever there. So the locks the child's code may take are registered
 * (FORKSAFE_MUTEX / FORKSAFE_RWLOCK beside their definition) and
 * forksafe_fork takes all of them with try-locks before fork(): never waiting
 * on one while holding another, so it cannot deadlock a thread that takes
 * them in its own order; it backs off and retries until patience runs out.
 * The parent then unlocks them; the child initialises them afresh (it owns
 * them and no other thread exists).
 *
 * What is not registered (the Pub/Sub mailboxes' locks, the log's stdio
 * stream, the monitor and slowlog/latency registries) the child must not
 * reach: those modules check forksafe_in_child() and do nothing there (their
 * effects belong to the parent's clients anyway). */
#ifndef PERCORE_FORKSAFE_H
#define PERCORE_FORKSAFE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

void forksafe_register_mutex(pthread_mutex_t *m);
void forksafe_register_rwlock(pthread_rwlock_t *l);

/* Registers a lock defined at file scope, at load time (before main). */
#define FORKSAFE_MUTEX(m)                                                                   \
    __attribute__((constructor)) static void forksafe_reg_##m(void)                         \
    {                                                                                       \
        forksafe_register_mutex(&m);                                                        \
    }
#define FORKSAFE_RWLOCK(l)                                                                  \
    __attribute__((constructor)) static void forksafe_reg_##l(void)                         \
    {                                                                                       \
        forksafe_register_rwlock(&l);                                                       \
    }

/* fork() with every registered lock taken (see above): the child's pid in
 * the parent, 0 in the child, -1 with errno (EAGAIN: a lock stayed busy for
 * patience_ms; or fork's own). */
pid_t forksafe_fork(int patience_ms);

/* 1 in a child forksafe_fork made: the process is a single-threaded copy. */
int forksafe_in_child(void);

/* INFO's total_forks and latest_fork_usec: every fork of the server (this
 * one's, and BGSAVE's through forksafe_count), counted by the parent; any
 * thread. */
void forksafe_count(uint64_t usec);
uint64_t forksafe_total_forks(void);
uint64_t forksafe_latest_fork_usec(void);

#endif

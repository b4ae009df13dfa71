/* Unit tests of forksafe (server/forksafe.h): a fork waits for the
 * registered locks to be free together, gives up after its patience
 * (EAGAIN) without disturbing the holder, and the child finds every
 * registered lock usable, though another thread held one just before. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "forksafe.h"

static pthread_mutex_t m_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(m_lock)
static pthread_rwlock_t rw_lock = PTHREAD_RWLOCK_INITIALIZER;
FORKSAFE_RWLOCK(rw_lock)

static _Atomic int held, done;

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Holds m_lock (or rw_lock for reading) for a while, then lets go, and
 * stays alive until the test is done (a thread that ended unjoined before the
 * fork would be a leak to ThreadSanitizer in the child). */
static void wait_done(void)
{
    while (!atomic_load(&done))
        sleep_ms(1);
}

typedef struct {
    int rw; /* hold rw_lock for reading, else m_lock */
    int ms;
} hold_t;

static void *holder(void *arg)
{
    const hold_t *h = arg;
    if (h->rw)
        pthread_rwlock_rdlock(&rw_lock);
    else
        pthread_mutex_lock(&m_lock);
    atomic_store(&held, 1);
    sleep_ms(h->ms);
    if (h->rw)
        pthread_rwlock_unlock(&rw_lock);
    else
        pthread_mutex_unlock(&m_lock);
    wait_done();
    return NULL;
}

/* The child's check: both locks free and usable there; exit 0 if so. */
static void child_checks(void)
{
    int ok = forksafe_in_child() && pthread_mutex_trylock(&m_lock) == 0 &&
             pthread_rwlock_trywrlock(&rw_lock) == 0;
    _exit(ok ? 0 : 1);
}

static void fork_and_check(void)
{
    pid_t pid = forksafe_fork(2000);
    if (pid == 0)
        child_checks();
    assert_true(pid > 0);
    assert_false(forksafe_in_child());
    int st = -1;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The parent's locks are free again. */
    assert_int_equal(pthread_mutex_trylock(&m_lock), 0);
    pthread_mutex_unlock(&m_lock);
    assert_int_equal(pthread_rwlock_trywrlock(&rw_lock), 0);
    pthread_rwlock_unlock(&rw_lock);
}

static void race(int rw, int ms)
{
    pthread_t t;
    hold_t h = {rw, ms};
    atomic_store(&held, 0);
    atomic_store(&done, 0);
    assert_int_equal(pthread_create(&t, NULL, holder, &h), 0);
    while (!atomic_load(&held))
        sleep_ms(1);
    fork_and_check(); /* waits the holder out */
    atomic_store(&done, 1);
    pthread_join(t, NULL);
}

static void test_free_locks(void **state)
{
    (void)state;
    fork_and_check();
}

static void test_waits_for_a_holder(void **state)
{
    (void)state;
    race(0, 50);
    race(1, 50);
}

static void test_patience_runs_out(void **state)
{
    (void)state;
    pthread_t t;
    hold_t h = {0, 300};
    atomic_store(&held, 0);
    atomic_store(&done, 1);
    assert_int_equal(pthread_create(&t, NULL, holder, &h), 0);
    while (!atomic_load(&held))
        sleep_ms(1);
    errno = 0;
    assert_int_equal(forksafe_fork(20), -1);
    assert_int_equal(errno, EAGAIN);
    /* The holder still has its lock; the other one was let go. */
    assert_int_not_equal(pthread_mutex_trylock(&m_lock), 0);
    assert_int_equal(pthread_rwlock_trywrlock(&rw_lock), 0);
    pthread_rwlock_unlock(&rw_lock);
    pthread_join(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_locks),
        cmocka_unit_test(test_waits_for_a_holder),
        cmocka_unit_test(test_patience_runs_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

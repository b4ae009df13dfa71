/* Races one owner (push and take) against several thieves and checks every
 * item is taken exactly once. Run under TSan by `make test-tsan`. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "deque.h"

#define ITEMS 200000
#define THIEVES 3

static deque_t dq;
static _Atomic int done;
static _Atomic unsigned char *seen;

static void mark(void *p)
{
    uintptr_t v = (uintptr_t)p;
    assert_true(v >= 1 && v <= ITEMS);
    unsigned char prev = atomic_fetch_add(&seen[v], 1);
    assert_int_equal(prev, 0); /* taken exactly once */
}

static void *thief(void *arg)
{
    (void)arg;
    while (!atomic_load(&done) || deque_size(&dq) > 0) {
        void *p = deque_steal(&dq);
        if (p)
            mark(p);
    }
    return NULL;
}

static void test_owner_vs_thieves(void **state)
{
    (void)state;
    seen = calloc(ITEMS + 1, 1);
    assert_int_equal(deque_init(&dq, 1024), 0);
    pthread_t t[THIEVES];
    for (int i = 0; i < THIEVES; i++)
        pthread_create(&t[i], NULL, thief, NULL);
    uintptr_t next = 1;
    unsigned rng = 12345;
    while (next <= ITEMS) {
        /* Push a burst, then take a few back, like an owner serving clients. */
        int burst = 1 + (int)((rng = rng * 1103515245 + 12345) >> 16) % 8;
        for (int i = 0; i < burst && next <= ITEMS; i++) {
            if (deque_push(&dq, (void *)next) == 0)
                next++;
            else
                break;
        }
        int takes = (int)((rng = rng * 1103515245 + 12345) >> 16) % 4;
        for (int i = 0; i < takes; i++) {
            void *p = deque_take(&dq);
            if (p)
                mark(p);
        }
    }
    void *p;
    while ((p = deque_take(&dq)))
        mark(p);
    atomic_store(&done, 1);
    for (int i = 0; i < THIEVES; i++)
        pthread_join(t[i], NULL);
    for (uintptr_t v = 1; v <= ITEMS; v++)
        assert_int_equal(atomic_load(&seen[v]), 1);
    deque_destroy(&dq);
    free((void *)seen);
}

static void test_single_thread(void **state)
{
    (void)state;
    deque_t d;
    assert_int_equal(deque_init(&d, 4), 0);
    assert_null(deque_take(&d));
    assert_null(deque_steal(&d));
    for (uintptr_t i = 1; i <= 4; i++)
        assert_int_equal(deque_push(&d, (void *)i), 0);
    assert_int_equal(deque_push(&d, (void *)5), -1); /* full: the owner runs it */
    assert_int_equal((uintptr_t)deque_steal(&d), 1);  /* oldest from the top */
    assert_int_equal((uintptr_t)deque_take(&d), 4);   /* newest from the bottom */
    assert_int_equal(deque_size(&d), 2);
    assert_int_equal((uintptr_t)deque_take(&d), 3);
    assert_int_equal((uintptr_t)deque_take(&d), 2);
    assert_null(deque_take(&d));
    assert_int_equal(deque_init(&d, 6), -1);
    deque_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_thread),
        cmocka_unit_test(test_owner_vs_thieves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

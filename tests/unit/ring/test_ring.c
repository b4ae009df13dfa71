/* Races one producer against one consumer per ring and checks every item
 * arrives exactly once, in order. Run under TSan by `make test-tsan`. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ring.h"

#define ITEMS 200000

static void *producer(void *arg)
{
    ring_t *r = arg;
    for (uintptr_t i = 1; i <= ITEMS; i++)
        while (ring_push(r, (void *)i) != 0)
            sched_yield();
    return NULL;
}

static void test_spsc_race(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 64), 0);
    pthread_t t;
    pthread_create(&t, NULL, producer, &r);
    uintptr_t expect = 1;
    while (expect <= ITEMS) {
        void *p = ring_pop(&r);
        if (!p) {
            sched_yield();
            continue;
        }
        assert_int_equal((uintptr_t)p, expect);
        expect++;
    }
    pthread_join(t, NULL);
    assert_null(ring_pop(&r));
    ring_destroy(&r);
}

static void test_full_and_empty(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 4), 0);
    assert_null(ring_pop(&r));
    for (uintptr_t i = 1; i <= 4; i++)
        assert_int_equal(ring_push(&r, (void *)i), 0);
    assert_int_equal(ring_push(&r, (void *)5), -1);
    assert_int_equal(ring_depth(&r), 4);
    assert_int_equal((uintptr_t)ring_pop(&r), 1);
    assert_int_equal(ring_push(&r, (void *)5), 0);
    for (uintptr_t i = 2; i <= 5; i++)
        assert_int_equal((uintptr_t)ring_pop(&r), i);
    assert_null(ring_pop(&r));
    assert_int_equal(ring_init(&r, 3), -1);
    ring_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_empty),
        cmocka_unit_test(test_spsc_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the memory account (util.h): mem_alloc_size against
 * jemalloc's own size classes (nallocx, when the build links jemalloc), and
 * the batched server-wide counter under concurrent threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef PERCORE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "util.h"

static void test_classes(void **state)
{
    (void)state;
    static const size_t want[][2] = {
        {1, 8},     {8, 8},     {9, 16},    {16, 16},   {17, 32},     {33, 48},
        {128, 128}, {129, 160}, {200, 224}, {257, 320}, {1025, 1280}, {5000, 5120},
        {16385, 20480}, {1048577, 1310720},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(mem_alloc_size(want[i][0]), want[i][1]);
    for (size_t n = 1; n < (1u << 22); n += 1 + n / 64)
        assert_true(mem_alloc_size(n) >= n && mem_alloc_size(n) <= n + n / 4 + 16);
}

/* One byte names a class: index and size are inverses, in order. */
static void test_class_index(void **state)
{
    (void)state;
    size_t prev = 0;
    for (unsigned i = 0; i < 160; i++) {
        size_t c = mem_class_size(i);
        assert_true(c > prev);
        assert_int_equal(mem_alloc_size(c), c);
        assert_int_equal(mem_class_index(c), i);
        assert_int_equal(mem_alloc_size(prev + 1), c);
        prev = c;
    }
    assert_true(prev >= ((size_t)1 << 40)); /* obj_t's longest string fits */
}

static void test_matches_jemalloc(void **state)
{
    (void)state;
#ifdef PERCORE_JEMALLOC
    for (size_t n = 1; n < (1u << 24); n += 1 + n / 512)
        assert_int_equal(mem_alloc_size(n), nallocx(n, 0));
#else
    skip();
#endif
}

#define THREADS 4
#define ROUNDS 100000

static void *churn(void *arg)
{
    int64_t sign = *(int64_t *)arg;
    for (int i = 0; i < ROUNDS; i++)
        mem_account(sign * (1 + i % 1000));
    for (int i = 0; i < ROUNDS; i++)
        mem_account(-sign * (1 + i % 1000));
    mem_account(1000); /* leave a little behind, unsent */
    return NULL;
}

static void test_concurrent_account(void **state)
{
    (void)state;
    uint64_t base = mem_used_exact();
    pthread_t t[THREADS];
    int64_t sign = 1;
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, &sign), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    /* Each thread left 1000 bytes in its own batch: the shared counter is
     * stale by at most MEM_ACCOUNT_BATCH a thread, never more. */
    uint64_t seen = mem_used();
    assert_true(seen + (uint64_t)THREADS * MEM_ACCOUNT_BATCH >= base + THREADS * 1000);
    assert_true(seen <= base + (uint64_t)THREADS * MEM_ACCOUNT_BATCH);
    /* ... and the exact sum reads every thread's part */
    assert_int_equal(mem_used_exact(), base + THREADS * 1000);
    assert_true(mem_used_slack() >= (uint64_t)THREADS * MEM_ACCOUNT_BATCH);
    mem_account(MEM_ACCOUNT_BATCH);
    assert_true(mem_used() >= base + MEM_ACCOUNT_BATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_class_index),
        cmocka_unit_test(test_matches_jemalloc),
        cmocka_unit_test(test_concurrent_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

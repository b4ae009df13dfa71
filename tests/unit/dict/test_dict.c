/* Unit tests for dict: lookups across incremental resizes, the resize-proof
 * scan, random sampling, the volatile (TTL) array and rehash steps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

#define NKEYS 100000

static int key_of(char *buf, const char *prefix, int i)
{
    return snprintf(buf, 32, "%s%d", prefix, i);
}

static dict_entry_t *add(dict_t *d, const char *prefix, int i)
{
    char k[32];
    int n = key_of(k, prefix, i);
    assert_null(dict_find(d, k, (size_t)n));
    dict_entry_t *e = dict_add_h(d, dict_hash(k, (size_t)n), k, (size_t)n);
    e->val.v.i = i;
    return e;
}

static dict_entry_t *find(dict_t *d, const char *prefix, int i)
{
    char k[32];
    int n = key_of(k, prefix, i);
    return dict_find(d, k, (size_t)n);
}

static void del(dict_t *d, const char *prefix, int i)
{
    dict_entry_t *e = find(d, prefix, i);
    assert_non_null(e);
    dict_unlink(d, e);
    free(e);
}

static void test_insert_find_delete(void **state)
{
    (void)state;
    dict_t *d = dict_create(1);
    assert_null(dict_find(d, "x", 1));
    assert_null(dict_random(d));
    for (int i = 0; i < NKEYS; i++)
        add(d, "k:", i);
    assert_int_equal(dict_size(d), NKEYS);
    assert_true(dict_buckets(d) >= NKEYS / 2);
    for (int i = 0; i < NKEYS; i++) {
        dict_entry_t *e = find(d, "k:", i);
        assert_non_null(e);
        assert_int_equal(e->val.v.i, i);
        assert_int_equal(e->expire, DICT_NO_EXPIRE);
    }
    assert_null(find(d, "k:", NKEYS));
    assert_null(find(d, "other:", 1));
    /* delete the odd ones, the even ones must stay */
    for (int i = 1; i < NKEYS; i += 2)
        del(d, "k:", i);
    assert_int_equal(dict_size(d), NKEYS / 2);
    for (int i = 0; i < NKEYS; i++)
        assert_true((find(d, "k:", i) != NULL) == (i % 2 == 0));
    for (int i = 0; i < NKEYS; i += 2)
        del(d, "k:", i);
    assert_int_equal(dict_size(d), 0);
    while (dict_rehash_us(d, 1000))
        ;
    dict_rehash_us(d, 1000);
    while (dict_rehash_us(d, 1000))
        ;
    assert_true(dict_buckets(d) <= 64);
    /* empty and binary keys */
    dict_entry_t *e = dict_add_h(d, dict_hash("", 0), "", 0);
    assert_ptr_equal(dict_find(d, "", 0), e);
    const char bin[] = {0, 1, 0, 2};
    dict_entry_t *b = dict_add_h(d, dict_hash(bin, 4), bin, 4);
    assert_ptr_equal(dict_find(d, bin, 4), b);
    assert_null(dict_find(d, bin, 3));
    dict_destroy(d, NULL, NULL);
}

static int destroyed;
static void count_destroy(void *arg, dict_entry_t *e)
{
    (void)arg;
    (void)e;
    destroyed++;
}

static void test_destroy_visits_all(void **state)
{
    (void)state;
    dict_t *d = dict_create(2);
    for (int i = 0; i < 1000; i++)
        add(d, "k:", i);
    destroyed = 0;
    dict_destroy(d, count_destroy, NULL);
    assert_int_equal(destroyed, 1000);
}

static void test_rehash_steps(void **state)
{
    (void)state;
    dict_t *d = dict_create(3);
    int i = 0;
    /* grow until a resize starts, then make no further operation */
    while (!dict_is_rehashing(d))
        add(d, "k:", i++);
    int n = i;
    assert_true(n > 4);
    uint64_t buckets = dict_buckets(d);
    int steps = 0;
    while (dict_rehash(d, 1))
        steps++;
    assert_true(steps >= 1);
    assert_false(dict_is_rehashing(d));
    assert_true(dict_buckets(d) < buckets); /* the old table is gone */
    for (int j = 0; j < n; j++)
        assert_non_null(find(d, "k:", j));
    /* a big table: lookups stay correct at every point of a slow rehash */
    for (; i < 5000; i++)
        add(d, "k:", i);
    while (!dict_is_rehashing(d))
        add(d, "k:", i++);
    n = i;
    for (int j = 0; j < n; j++)
        assert_non_null(find(d, "k:", j)); /* each find also moves a bucket */
    while (dict_rehash_us(d, 10))
        ;
    assert_false(dict_is_rehashing(d));
    assert_int_equal(dict_size(d), n);
    /* shrink: started lazily, completed by time-bounded steps */
    for (int j = 0; j < n - 10; j++)
        del(d, "k:", j);
    while (dict_rehash_us(d, 1000))
        ;
    dict_rehash_us(d, 1000);
    while (dict_rehash_us(d, 1000))
        ;
    assert_true(dict_buckets(d) <= 64);
    for (int j = n - 10; j < n; j++)
        assert_non_null(find(d, "k:", j));
    dict_destroy(d, NULL, NULL);
}

/* ---- scan ---------------------------------------------------------------- */

struct seen {
    unsigned char *stable; /* visits per stable key */
    size_t calls;
};

static void on_scan(void *arg, dict_entry_t *e)
{
    struct seen *s = arg;
    s->calls++;
    if (e->klen > 2 && memcmp(e->key, "s:", 2) == 0) {
        int i = atoi(e->key + 2); /* keys are followed by other bytes: atoi stops */
        if (s->stable[i] < 255)
            s->stable[i]++;
    }
}

static void mutate_none(dict_t *d, int step)
{
    (void)d;
    (void)step;
}

/* Scan while mutate(step) changes the table between calls; every stable key
 * must be seen. */
static void scan_with(void (*mutate)(dict_t *, int), int nstable)
{
    dict_t *d = dict_create(4);
    for (int i = 0; i < nstable; i++) {
        char k[32];
        int n = snprintf(k, sizeof k, "s:%d#", i);
        dict_add_h(d, dict_hash(k, (size_t)n), k, (size_t)n);
    }
    struct seen s = {calloc((size_t)nstable, 1), 0};
    uint64_t cur = 0, minb = dict_buckets(d), maxb = minb;
    int step = 0, rehashing = 0;
    do {
        cur = dict_scan(d, cur, on_scan, &s);
        mutate(d, step++);
        uint64_t b = dict_buckets(d);
        minb = b < minb ? b : minb;
        maxb = b > maxb ? b : maxb;
        rehashing += dict_is_rehashing(d);
    } while (cur != 0);
    if (mutate != mutate_none) /* the table really was resized mid-scan */
        assert_true(maxb >= 4 * minb && rehashing > 0);
    for (int i = 0; i < nstable; i++)
        if (!s.stable[i])
            fail_msg("stable key %d missed after %d steps", i, step);
    assert_true(s.calls >= (size_t)nstable);
    free(s.stable);
    dict_destroy(d, NULL, NULL);
}

static int tmp_next, tmp_first;

static void mutate_grow(dict_t *d, int step)
{
    if (step == 0)
        tmp_next = tmp_first = 0;
    if (step % 3 == 0 && tmp_next < 20000)
        for (int j = 0; j < 400; j++)
            add(d, "t:", tmp_next++);
}

static void mutate_shrink(dict_t *d, int step)
{
    if (step == 0) {
        for (tmp_next = 0; tmp_next < 20000; tmp_next++)
            add(d, "t:", tmp_next);
        tmp_first = 0;
        while (dict_rehash_us(d, 1000))
            ;
        return;
    }
    for (int j = 0; j < 300 && tmp_first < tmp_next; j++)
        del(d, "t:", tmp_first++);
    if (step % 7 == 0)
        dict_rehash(d, 3); /* finish resizes in small pieces */
}

static void mutate_both(dict_t *d, int step)
{
    if (step == 0)
        tmp_next = tmp_first = 0;
    int phase = (step / 20) % 2;
    if (phase == 0) {
        for (int j = 0; j < 500; j++)
            add(d, "t:", tmp_next++);
    } else {
        for (int j = 0; j < 700 && tmp_first < tmp_next; j++)
            del(d, "t:", tmp_first++);
        dict_rehash_us(d, 50);
    }
}

static void test_scan_plain(void **state)
{
    (void)state;
    scan_with(mutate_none, 3000);
}

static void test_scan_grow(void **state)
{
    (void)state;
    scan_with(mutate_grow, 3000);
}

static void test_scan_shrink(void **state)
{
    (void)state;
    scan_with(mutate_shrink, 3000);
}

static void test_scan_grow_and_shrink(void **state)
{
    (void)state;
    scan_with(mutate_both, 3000);
    scan_with(mutate_both, 50);
}

static void test_scan_empty(void **state)
{
    (void)state;
    dict_t *d = dict_create(5);
    struct seen s = {NULL, 0};
    assert_int_equal(dict_scan(d, 0, on_scan, &s), 0);
    assert_int_equal(dict_scan(d, 12345, on_scan, &s), 0);
    dict_destroy(d, NULL, NULL);
}

/* ---- sampling and TTL array ------------------------------------------------ */

static void test_random_sampling(void **state)
{
    (void)state;
    dict_t *d = dict_create(6);
    int hits[32] = {0};
    for (int i = 0; i < 32; i++)
        add(d, "k:", i);
    for (int r = 0; r < 5000; r++) {
        dict_entry_t *e = dict_random(d);
        assert_non_null(e);
        hits[e->val.v.i]++;
    }
    for (int i = 0; i < 32; i++)
        assert_true(hits[i] > 0);
    dict_entry_t *out[64];
    for (int r = 0; r < 100; r++) {
        size_t n = dict_sample(d, out, 5);
        assert_true(n >= 1 && n <= 5);
        for (size_t j = 0; j < n; j++)
            assert_ptr_equal(find(d, "k:", (int)out[j]->val.v.i), out[j]);
    }
    assert_true(dict_sample(d, out, 64) <= 32);
    /* sampling during a rehash */
    for (int i = 32; i < 5000; i++)
        add(d, "k:", i);
    while (!dict_is_rehashing(d))
        add(d, "x:", (int)dict_size(d));
    size_t n = dict_sample(d, out, 16);
    assert_true(n >= 1 && n <= 16);
    assert_non_null(dict_random(d));
    dict_destroy(d, NULL, NULL);
}

static void test_volatile_array(void **state)
{
    (void)state;
    dict_t *d = dict_create(7);
    dict_entry_t *es[1000];
    for (int i = 0; i < 1000; i++)
        es[i] = add(d, "k:", i);
    assert_int_equal(dict_volatile_count(d), 0);
    assert_null(dict_volatile_random(d));
    for (int i = 0; i < 1000; i += 2)
        dict_set_expire(d, es[i], 1000 + i);
    assert_int_equal(dict_volatile_count(d), 500);
    dict_set_expire(d, es[0], 5); /* update keeps one slot */
    assert_int_equal(dict_volatile_count(d), 500);
    assert_int_equal(es[0]->expire, 5);
    for (int r = 0; r < 1000; r++) {
        dict_entry_t *e = dict_volatile_random(d);
        assert_true(e->val.v.i % 2 == 0 && e->expire >= 0);
    }
    /* clearing and unlinking swap-remove: indexes stay consistent */
    for (int i = 0; i < 1000; i += 4)
        dict_set_expire(d, es[i], DICT_NO_EXPIRE);
    for (int i = 2; i < 500; i += 4) {
        dict_unlink(d, es[i]);
        free(es[i]);
        es[i] = NULL;
    }
    size_t nv = dict_volatile_count(d);
    assert_int_equal(nv, 250 - 125);
    for (size_t i = 0; i < nv; i++) {
        dict_entry_t *e = dict_volatile_at(d, i);
        assert_int_equal(e->vidx, i);
        assert_true(e->expire >= 0);
    }
    assert_null(dict_volatile_at(d, nv));
    dict_destroy(d, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_delete),
        cmocka_unit_test(test_destroy_visits_all),
        cmocka_unit_test(test_rehash_steps),
        cmocka_unit_test(test_scan_plain),
        cmocka_unit_test(test_scan_grow),
        cmocka_unit_test(test_scan_shrink),
        cmocka_unit_test(test_scan_grow_and_shrink),
        cmocka_unit_test(test_scan_empty),
        cmocka_unit_test(test_random_sampling),
        cmocka_unit_test(test_volatile_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

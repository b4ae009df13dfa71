/* Unit tests for the aggregate types' data structures: the shared htab across
 * incremental resizes (lookups, the resize-proof scan, random picks), the
 * list ring, the hash and set encodings, the sorted set's ranks, and that
 * every structure's memory account returns to its empty size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_hash.h"
#include "t_htab.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"

#define N 20000

static int key_of(char *buf, int i)
{
    return snprintf(buf, 32, "member:%d", i);
}

/* The number in "member:<i>" (members are not NUL-terminated). */
static int member_index(sv_t m)
{
    char buf[32];
    int i;
    assert_true(m.len < sizeof buf);
    memcpy(buf, m.p, m.len);
    buf[m.len] = '\0';
    assert_int_equal(sscanf(buf, "member:%d", &i), 1);
    return i;
}

/* ---- htab, through the set's table encoding --------------------------------- */

struct seen {
    unsigned char *hit;
};

static void mark(void *arg, sv_t m)
{
    struct seen *s = arg;
    s->hit[member_index(m)] = 1;
}

static void test_set_grow_shrink_lookups(void **state)
{
    (void)state;
    set_t *s = set_new();
    size_t empty = set_mem(s);
    char k[32];

    for (int i = 0; i < N; i++) {
        int n = key_of(k, i);
        assert_int_equal(set_add(s, k, (size_t)n), 1);
        /* every member stays findable while the table is resizing */
        if (i % 97 == 0)
            for (int j = 0; j <= i; j += 211) {
                int m = key_of(k, j);
                assert_true(set_has(s, k, (size_t)m));
            }
    }
    assert_int_equal(set_len(s), N);
    for (int i = 0; i < N; i += 2) {
        int n = key_of(k, i);
        assert_int_equal(set_remove(s, k, (size_t)n), 1);
        assert_int_equal(set_remove(s, k, (size_t)n), 0);
    }
    for (int i = 0; i < N; i++) {
        int n = key_of(k, i);
        assert_int_equal(set_has(s, k, (size_t)n), i % 2);
    }
    for (int i = 1; i < N; i += 2) {
        int n = key_of(k, i);
        assert_int_equal(set_remove(s, k, (size_t)n), 1);
    }
    assert_int_equal(set_len(s), 0);
    /* ints -> table conversion freed the int array; the table is gone */
    assert_true(set_mem(s) <= empty);
    set_free(s);
}

static void test_set_scan_across_resizes(void **state)
{
    (void)state;
    set_t *s = set_new();
    char k[32];
    struct seen st = {calloc(4 * N, 1)};

    for (int i = 0; i < N / 4; i++) {
        int n = key_of(k, i);
        set_add(s, k, (size_t)n);
    }
    /* grow a lot while scanning: every original member must be visited */
    uint64_t cursor = 0;
    int next = N / 4;
    do {
        cursor = set_scan(s, cursor, mark, &st, 10);
        for (int j = 0; j < 40 && next < 4 * N; j++, next++) {
            int n = key_of(k, next);
            set_add(s, k, (size_t)n);
        }
    } while (cursor);
    for (int i = 0; i < N / 4; i++)
        assert_true(st.hit[i]);

    /* and shrink a lot while scanning: every member that stays is visited */
    memset(st.hit, 0, 4 * N);
    int del = 0;
    cursor = 0;
    do {
        cursor = set_scan(s, cursor, mark, &st, 10);
        for (int j = 0; j < 200 && del < 4 * N; j++, del++) {
            if (del % 10 == 0)
                continue; /* keep every tenth */
            int n = key_of(k, del);
            set_remove(s, k, (size_t)n);
        }
    } while (cursor);
    for (int i = 0; i < 4 * N; i += 10)
        assert_true(st.hit[i]);
    free(st.hit);
    set_free(s);
}

/* htab_random is uniform over the entries, whatever the chains' lengths
 * (a random entry of a random bucket is not: ZRANDMEMBER in Redis's zset.tcl
 * checks with chi-square). k entries, 100 draws per entry: chi-square (k - 1
 * degrees of freedom, mean k - 1, deviation sqrt(2(k - 1))) must stay under
 * its mean plus 6 deviations, a 1e-6 chance for a uniform pick. With 10
 * entries the table is walked; with 2000 it draws buckets. The biased pick
 * scored about 300 with 10 entries (limit 34). */
static void check_random_uniform(int k)
{
    htab_t t = {0};
    hnode_t *nodes = calloc((size_t)k, sizeof *nodes);
    char(*keys)[32] = calloc((size_t)k, sizeof *keys);
    long *hits = calloc((size_t)k, sizeof *hits);
    long draws = 100L * k;
    for (int i = 0; i < k; i++) {
        nodes[i] = (hnode_t){NULL, keys[i], (size_t)key_of(keys[i], i)};
        htab_insert(&t, &nodes[i]);
    }
    for (long d = 0; d < draws; d++) {
        hnode_t *e = htab_random(&t);
        assert_non_null(e);
        hits[e - nodes]++;
    }
    double expect = (double)draws / k, chi = 0;
    for (int i = 0; i < k; i++)
        chi += (hits[i] - expect) * (hits[i] - expect) / expect;
    double limit = (k - 1) + 6 * sqrt(2.0 * (k - 1));
    if (chi >= limit)
        print_message("%d entries: chi-square %.1f, limit %.1f\n", k, chi, limit);
    assert_true(chi < limit);
    htab_release(&t);
    free(nodes);
    free(keys);
    free(hits);
}

static void test_random_uniform(void **state)
{
    (void)state;
    check_random_uniform(10);
    check_random_uniform(2000);
}

static void test_random_distinct(void **state)
{
    (void)state;
    set_t *s = set_new();
    char k[32];

    for (int i = 0; i < 1000; i++) {
        int n = key_of(k, i);
        set_add(s, k, (size_t)n);
    }
    size_t counts[] = {1, 10, 333, 334, 999, 1000, 5000};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        buf_t items = {NULL, 0, 0};
        size_t got = set_random_distinct(s, counts[c], &items), off = 0, n = 0;
        unsigned char hit[1000] = {0};
        sv_t m;
        assert_int_equal(got, counts[c] < 1000 ? counts[c] : 1000);
        while (items_next(&items, &off, &m)) {
            int i = member_index(m);
            assert_false(hit[i]);
            hit[i] = 1;
            n++;
        }
        assert_int_equal(n, got);
        buf_free(&items);
    }
    set_free(s);
}

static void test_int_set_sorted(void **state)
{
    (void)state;
    set_t *s = set_new();
    const char *in[] = {"5", "-3", "100", "0", "7", "5"};
    const char *want[] = {"-3", "0", "5", "7", "100"};

    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        set_add(s, in[i], strlen(in[i]));
    assert_true(s->ints);
    set_iter_t it = {0};
    sv_t m;
    size_t n = 0;
    while (set_next(s, &it, &m)) {
        assert_int_equal(m.len, strlen(want[n]));
        assert_memory_equal(m.p, want[n], m.len);
        n++;
    }
    assert_int_equal(n, 5);
    assert_false(set_has(s, "05", 2));
    set_add(s, "x", 1);
    assert_false(s->ints);
    assert_true(set_has(s, "100", 3));
    set_free(s);
}

/* ---- list ------------------------------------------------------------------- */

static void test_list_ring(void **state)
{
    (void)state;
    list_t *l = list_new();
    size_t empty = list_mem(l);
    char k[32];

    /* 0..999 built from both ends: tail gets odd, head gets even */
    for (int i = 0; i < 1000; i++) {
        int n = key_of(k, i);
        list_push(l, i % 2 ? LIST_TAIL : LIST_HEAD, k, (size_t)n);
    }
    assert_int_equal(list_len(l), 1000);
    sv_t first = list_at(l, 0);
    assert_memory_equal(first.p, "member:998", first.len);
    list_insert(l, 500, "mid", 3);
    list_insert(l, 1, "one", 3);
    assert_memory_equal(list_at(l, 1).p, "one", 3);
    assert_memory_equal(list_at(l, 501).p, "mid", 3);
    assert_int_equal(list_remove_matching(l, "mid", 3, 0, 1), 1);
    assert_int_equal(list_remove_matching(l, "one", 3, 0, 0), 1);
    assert_memory_equal(list_at(l, 0).p, "member:998", 10);
    list_trim(l, 10, 20);
    assert_int_equal(list_len(l), 20);
    while (list_len(l))
        lelem_free(list_pop(l, LIST_HEAD));
    assert_int_equal(list_mem(l), empty);
    list_free(l);
}

/* ---- hash -------------------------------------------------------------------- */

static void test_hash_encodings(void **state)
{
    (void)state;
    hash_t *h = hash_new();
    size_t empty = hash_mem(h);
    char k[32];

    for (int i = 0; i < HASH_SMALL_ENTRIES; i++) {
        int n = key_of(k, i);
        assert_int_equal(hash_set(&h, k, (size_t)n, "v", 1), 1);
    }
    assert_true(hash_is_small(h));
    /* insertion order while small */
    hash_iter_t it = {0, NULL};
    hfield_t e;
    assert_true(hash_next(h, &it, &e));
    assert_memory_equal(hf_field(&e).p, "member:0", 8);
    assert_int_equal(hash_set(&h, "member:0", 8, "w", 1), 0);
    int n = key_of(k, HASH_SMALL_ENTRIES);
    assert_int_equal(hash_set(&h, k, (size_t)n, "v", 1), 1);
    assert_false(hash_is_small(h));
    assert_int_equal(hash_len(h), HASH_SMALL_ENTRIES + 1);
    sv_t v;
    assert_true(hash_get(h, "member:0", 8, &v));
    assert_memory_equal(v.p, "w", 1);
    for (int i = 0; i <= HASH_SMALL_ENTRIES; i++) {
        n = key_of(k, i);
        assert_int_equal(hash_del(&h, k, (size_t)n), 1);
    }
    assert_int_equal(hash_len(h), 0);
    /* the nodes are all given back: the table's header and its smallest
     * bucket array remain */
    assert_true(hash_mem(h) <= empty + 128);
    hash_free(h);
}

/* The packed small encoding against a model: random sets (values of several
 * lengths, so pairs grow and shrink in place), deletes, reads, iteration in
 * insertion order, random picks and HSCAN, with hash_mem always the one
 * allocation's size class; then a value past HASH_SMALL_VALUE converts it
 * with every pair intact. */
#define HM_FIELDS 40
static void hash_check_model(const hash_t *h, char vals[HM_FIELDS][70], const int *vlen,
                             const int *order, int norder)
{
    assert_true(hash_is_small(h));
    assert_int_equal(hash_len(h), (size_t)norder);
    hash_iter_t it = {0, NULL};
    hfield_t e;
    char k[32];
    for (int i = 0; i < norder; i++) {
        int n = key_of(k, order[i]);
        assert_true(hash_next(h, &it, &e));
        assert_int_equal(e.f.len, (size_t)n);
        assert_memory_equal(e.f.p, k, (size_t)n);
        assert_int_equal(e.v.len, (size_t)vlen[order[i]]);
        if (e.v.len)
            assert_memory_equal(e.v.p, vals[order[i]], e.v.len);
    }
    assert_false(hash_next(h, &it, &e));
}

static void count_cb(void *arg, const hfield_t *e)
{
    (void)e;
    (*(int *)arg)++;
}

static void test_hash_small_packed(void **state)
{
    (void)state;
    hash_t *h = hash_new();
    char vals[HM_FIELDS][70], k[32];
    int vlen[HM_FIELDS], order[HM_FIELDS], norder = 0;
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 4000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int f = (int)(x % HM_FIELDS), n = key_of(k, f), pos = -1;
        for (int i = 0; i < norder; i++)
            if (order[i] == f)
                pos = i;
        if ((x >> 20) % 4 == 0) { /* delete */
            assert_int_equal(hash_del(&h, k, (size_t)n), pos >= 0);
            if (pos >= 0) {
                memmove(&order[pos], &order[pos + 1], (size_t)(norder - pos - 1) * sizeof *order);
                norder--;
            }
        } else {
            int len = (int)((x >> 24) % (HASH_SMALL_VALUE + 1));
            for (int i = 0; i < len; i++)
                vals[f][i] = (char)('a' + (x >> 32) % 26 + i % 3);
            vlen[f] = len;
            assert_int_equal(hash_set(&h, k, (size_t)n, vals[f], (size_t)len), pos < 0);
            if (pos < 0)
                order[norder++] = f;
        }
        sv_t v;
        assert_int_equal(hash_get(h, k, (size_t)n, &v), (x >> 20) % 4 != 0);
        if (round % 97 == 0)
            hash_check_model(h, vals, vlen, order, norder);
    }
    hash_check_model(h, vals, vlen, order, norder);
    /* one allocation, counted at its size class */
    size_t used = 0;
    for (int i = 0; i < norder; i++)
        used += 2 + (size_t)key_of(k, order[i]) + (size_t)vlen[order[i]];
    assert_int_equal(hash_mem(h), mem_alloc_size(sizeof(hash_t) + used));
    /* a value taken from the hash itself, set on another field */
    assert_true(norder >= 2);
    hfield_t first;
    hash_iter_t it = {0, NULL};
    assert_true(hash_next(h, &it, &first));
    int n = key_of(k, order[1]);
    assert_int_equal(hash_set(&h, k, (size_t)n, first.v.p, first.v.len), 0);
    vlen[order[1]] = vlen[order[0]];
    memcpy(vals[order[1]], vals[order[0]], (size_t)vlen[order[0]]);
    hash_check_model(h, vals, vlen, order, norder);
    /* random picks are fields of the hash; distinct ones are distinct */
    hfield_t pick[HM_FIELDS + 5];
    for (int i = 0; i < 50; i++) {
        assert_true(hash_random(h, &pick[0]));
        assert_true(hash_get(h, pick[0].f.p, pick[0].f.len, NULL));
    }
    size_t got = hash_random_distinct(h, pick, HM_FIELDS + 5);
    assert_int_equal(got, (size_t)norder);
    for (size_t i = 0; i < got; i++)
        for (size_t j = i + 1; j < got; j++)
            assert_false(pick[i].f.len == pick[j].f.len &&
                         memcmp(pick[i].f.p, pick[j].f.p, pick[i].f.len) == 0);
    assert_int_equal(hash_random_distinct(h, pick, 3), 3);
    /* HSCAN of a small hash: everything at once, cursor 0 */
    int seen = 0;
    assert_int_equal(hash_scan(h, 0, count_cb, &seen, 1), 0);
    assert_int_equal(seen, norder);
    /* a value over HASH_SMALL_VALUE converts, keeping every pair */
    char big[HASH_SMALL_VALUE + 1];
    memset(big, 'z', sizeof big);
    n = key_of(k, order[0]);
    assert_int_equal(hash_set(&h, k, (size_t)n, big, sizeof big), 0);
    assert_false(hash_is_small(h));
    assert_int_equal(hash_len(h), (size_t)norder);
    for (int i = 1; i < norder; i++) {
        sv_t v;
        n = key_of(k, order[i]);
        assert_true(hash_get(h, k, (size_t)n, &v));
        assert_int_equal(v.len, (size_t)vlen[order[i]]);
        if (v.len)
            assert_memory_equal(v.p, vals[order[i]], v.len);
    }
    hash_free(h);
    /* a field name over the limit converts too; an empty field and value are fine */
    h = hash_new();
    assert_int_equal(hash_set(&h, "", 0, "", 0), 1);
    assert_true(hash_get(h, "", 0, NULL));
    assert_int_equal(hash_set(&h, big, sizeof big, "v", 1), 1);
    assert_false(hash_is_small(h));
    assert_true(hash_get(h, "", 0, NULL));
    hash_free(h);
    /* deleting everything leaves the bare header */
    h = hash_new();
    size_t empty = hash_mem(h);
    assert_int_equal(hash_set(&h, "a", 1, "1", 1), 1);
    assert_int_equal(hash_del(&h, "a", 1), 1);
    assert_int_equal(hash_del(&h, "a", 1), 0);
    assert_int_equal(hash_len(h), 0);
    assert_int_equal(hash_mem(h), empty);
    hash_free(h);
}

/* ---- sorted set ---------------------------------------------------------------- */

static void test_zset_ranks(void **state)
{
    (void)state;
    zset_t *z = zset_new();
    size_t empty = zset_mem(z);
    char k[32];

    /* scores in reverse of insertion, some ties broken by member */
    for (int i = 0; i < 2000; i++) {
        int n = key_of(k, i);
        zset_insert(z, k, (size_t)n, (double)((2000 - i) / 2));
    }
    assert_true(z->big);
    size_t r = 0;
    for (znode_t *x = zset_first(z); x; x = zn_next(x), r++) {
        assert_int_equal(zset_rank(z, x), r);
        assert_ptr_equal(zset_at(z, r), x);
        if (zn_next(x))
            assert_true(x->score <= zn_next(x)->score);
    }
    assert_int_equal(r, 2000);
    /* moving scores keeps ranks consistent */
    for (int i = 0; i < 2000; i += 3) {
        int n = key_of(k, i);
        znode_t *x = zset_find(z, k, (size_t)n);
        zset_update(z, x, (double)(i % 17));
    }
    r = 0;
    for (znode_t *x = zset_first(z); x; x = zn_next(x), r++)
        assert_int_equal(zset_rank(z, x), r);
    zrange_spec_t range;
    assert_int_equal(zrange_parse(SV_LIT("(3"), SV_LIT("5"), &range), 0);
    znode_t *a = zset_first_in_score(z, &range), *b = zset_last_in_score(z, &range);
    assert_non_null(a);
    assert_true(a->score > 3 && b->score <= 5);
    assert_true(!a->back || a->back->score <= 3);
    assert_true(!zn_next(b) || zn_next(b)->score > 5);
    while (zset_len(z))
        zset_delete(z, zset_first(z));
    assert_true(zset_mem(z) <= empty);
    zset_free(z);
}

static void test_zset_small_negative_zero(void **state)
{
    (void)state;
    zset_t *z = zset_new();
    znode_t *x = zset_insert(z, "a", 1, -0.0);
    assert_false(z->big);
    assert_false(signbit(x->score));
    zset_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_grow_shrink_lookups),
        cmocka_unit_test(test_set_scan_across_resizes),
        cmocka_unit_test(test_random_distinct),
        cmocka_unit_test(test_random_uniform),
        cmocka_unit_test(test_int_set_sorted),
        cmocka_unit_test(test_list_ring),
        cmocka_unit_test(test_hash_encodings),
        cmocka_unit_test(test_hash_small_packed),
        cmocka_unit_test(test_zset_ranks),
        cmocka_unit_test(test_zset_small_negative_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for t_stream: appends (shared and own fields), ranges both ways,
 * deletes, MAXLEN/MINID trims exact and approximate (with LIMIT), consumer
 * groups' PELs, and random operations checked against a plain array model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_stream.h"

#define MAXM 20000

/* The model: IDs ascending, a live flag and the value of field "f". */
static struct {
    sid_t id;
    int live;
    unsigned val;
} model[MAXM];
static size_t nmodel;

static void add(stream_t *s, sid_t id, unsigned val, int other_fields)
{
    char v[16], f2[16];
    snprintf(v, sizeof v, "%u", val);
    snprintf(f2, sizeof f2, "g%u", val % 7);
    sv_t fv[4] = {SV_LIT("f"), {v, strlen(v)}, {f2, strlen(f2)}, SV_LIT("x")};
    stream_append(s, id, fv, other_fields ? 2 : 1, 100, 4096);
    model[nmodel].id = id;
    model[nmodel].live = 1;
    model[nmodel].val = val;
    nmodel++;
}

static uint64_t live_count(void)
{
    uint64_t n = 0;
    for (size_t i = 0; i < nmodel; i++)
        n += model[i].live;
    return n;
}

/* The stream's range [a, b] both ways equals the model's. */
static void check_range(const stream_t *s, sid_t a, sid_t b)
{
    static stream_iter_t it;
    for (int rev = 0; rev < 2; rev++) {
        stream_iter_start(&it, s, a, b, rev);
        size_t k = rev ? nmodel : 0;
        sid_t id;
        uint64_t nf;
        for (;;) {
            /* the model's next live entry in range */
            int found = 0;
            while (rev ? k > 0 : k < nmodel) {
                size_t j = rev ? --k : k++;
                if (model[j].live && sid_cmp(model[j].id, a) >= 0 &&
                    sid_cmp(model[j].id, b) <= 0) {
                    found = 1;
                    int got = stream_iter_next(&it, &id, &nf);
                    assert_int_equal(got, 1);
                    assert_int_equal(sid_cmp(id, model[j].id), 0);
                    sv_t f, v;
                    assert_int_equal(stream_iter_field(&it, &f, &v), 1);
                    assert_int_equal(f.len, 1);
                    assert_memory_equal(f.p, "f", 1);
                    char want[16];
                    snprintf(want, sizeof want, "%u", model[j].val);
                    assert_int_equal(v.len, strlen(want));
                    assert_memory_equal(v.p, want, v.len);
                    break;
                }
            }
            if (!found) {
                assert_int_equal(stream_iter_next(&it, &id, &nf), 0);
                break;
            }
        }
    }
}

static const sid_t MIN = {0, 0}, MAX = {UINT64_MAX, UINT64_MAX};

static void test_append_range(void **state)
{
    (void)state;
    stream_t *s = stream_new();
    nmodel = 0;
    for (unsigned i = 1; i <= 1000; i++)
        add(s, (sid_t){1000 + i / 3, i % 3}, i, i % 10 == 0);
    assert_int_equal(stream_len(s), 1000);
    assert_true(stream_nodes(s) >= 10);
    check_range(s, MIN, MAX);
    check_range(s, (sid_t){1100, 1}, (sid_t){1200, 0});
    check_range(s, (sid_t){5000, 0}, MAX);
    /* the field names of an entry with its own fields */
    stream_iter_t *it = malloc(sizeof *it);
    stream_iter_start(it, s, (sid_t){1003, 1}, (sid_t){1003, 1}, 0);
    sid_t id;
    uint64_t nf;
    assert_int_equal(stream_iter_next(it, &id, &nf), 1);
    assert_int_equal(nf, 2);
    sv_t f, v;
    stream_iter_field(it, &f, &v);
    stream_iter_field(it, &f, &v);
    assert_memory_equal(f.p, "g3", 2);
    assert_int_equal(stream_iter_field(it, &f, &v), 0);
    free(it);
    stream_free(s);
}

static void test_delete(void **state)
{
    (void)state;
    stream_t *s = stream_new();
    nmodel = 0;
    for (unsigned i = 1; i <= 300; i++)
        add(s, (sid_t){i, 0}, i, 0);
    for (unsigned i = 1; i <= 300; i += 2) {
        assert_int_equal(stream_delete(s, (sid_t){i, 0}), 1);
        model[i - 1].live = 0;
    }
    assert_int_equal(stream_delete(s, (sid_t){1, 0}), 0);
    assert_int_equal(stream_delete(s, (sid_t){999, 0}), 0);
    assert_int_equal(stream_len(s), 150);
    check_range(s, MIN, MAX);
    /* a node emptied by deletes is freed */
    size_t nodes = stream_nodes(s);
    for (unsigned i = 2; i <= 100; i += 2) {
        stream_delete(s, (sid_t){i, 0});
        model[i - 1].live = 0;
    }
    assert_int_equal(stream_nodes(s), nodes - 1);
    check_range(s, MIN, MAX);
    sid_t first;
    assert_int_equal(stream_first_id(s, &first), 0);
    assert_int_equal(first.ms, 102);
    stream_free(s);
}

static void test_trim(void **state)
{
    (void)state;
    stream_t *s = stream_new();
    for (unsigned i = 1; i <= 1000; i++) {
        sv_t fv[2] = {SV_LIT("f"), SV_LIT("v")};
        stream_append(s, (sid_t){i, 0}, fv, 1, 100, 4096);
    }
    strim_t t = {.maxlen = 555, .approx = 1, .limit = 10000};
    assert_int_equal(stream_trim(s, &t), 400); /* whole nodes only, as Redis */
    assert_int_equal(stream_len(s), 600);
    t.limit = 150; /* at most one more node within the limit */
    t.maxlen = 100;
    assert_int_equal(stream_trim(s, &t), 100);
    t = (strim_t){.maxlen = 444};
    assert_int_equal(stream_trim(s, &t), 56);
    assert_int_equal(stream_len(s), 444);
    sid_t first;
    stream_first_id(s, &first);
    assert_int_equal(first.ms, 557);
    t = (strim_t){.by_minid = 1, .minid = {800, 0}, .approx = 1, .limit = 100000};
    assert_int_equal(stream_trim(s, &t), 144); /* nodes below 800 only: 557..700 */
    t = (strim_t){.by_minid = 1, .minid = {850, 0}};
    assert_int_equal(stream_trim(s, &t), 149);
    stream_first_id(s, &first);
    assert_int_equal(first.ms, 850);
    t = (strim_t){.maxlen = 0};
    assert_int_equal(stream_trim(s, &t), 151);
    assert_int_equal(stream_len(s), 0);
    assert_int_equal(stream_nodes(s), 0);
    stream_free(s);
}

static void test_groups(void **state)
{
    (void)state;
    stream_t *s = stream_new();
    size_t mem0 = stream_mem(s);
    scgroup_t *g = stream_group_create(s, SV_LIT("g"), (sid_t){0, 0}, 0);
    assert_non_null(g);
    assert_null(stream_group_create(s, SV_LIT("g"), (sid_t){0, 0}, 0));
    sconsumer_t *a = stream_consumer_create(s, g, SV_LIT("alice"), 5);
    sconsumer_t *b = stream_consumer_create(s, g, SV_LIT("bob"), 5);
    for (uint64_t i = 10; i > 0; i--)
        stream_pel_add(s, g, i % 2 ? a : b, (sid_t){i, 0}, 7);
    assert_int_equal(g->npel, 10);
    for (size_t i = 1; i < g->npel; i++)
        assert_true(sid_cmp(g->pel[i - 1]->id, g->pel[i]->id) < 0);
    assert_int_equal(a->npel, 5);
    stream_pel_move(s, stream_pel_find(g, (sid_t){2, 0}), a);
    assert_int_equal(a->npel, 6);
    assert_int_equal(b->npel, 4);
    assert_int_equal(stream_consumer_delete(s, g, SV_LIT("alice")), 6);
    assert_int_equal(g->npel, 4);
    assert_null(stream_pel_find(g, (sid_t){2, 0}));
    stream_t *d = stream_dup(s);
    assert_true(stream_mem(d) > mem0 && d->groups[0]->npel == 4);
    stream_free(d);
    assert_int_equal(stream_group_destroy(s, SV_LIT("g")), 1);
    assert_int_equal(stream_group_destroy(s, SV_LIT("g")), 0);
    assert_true(stream_mem(s) >= mem0);
    stream_free(s);
}

static void test_random_model(void **state)
{
    (void)state;
    srand(7);
    for (int round = 0; round < 5; round++) {
        stream_t *s = stream_new();
        nmodel = 0;
        sid_t last = {1, 0};
        for (int op = 0; op < 4000; op++) {
            int r = rand() % 100;
            if (r < 70 && nmodel < MAXM) {
                if (rand() % 3)
                    last.seq++;
                else
                    last = (sid_t){last.ms + 1 + (uint64_t)(rand() % 1000), 0};
                add(s, last, (unsigned)rand(), rand() % 5 == 0);
            } else if (r < 85 && nmodel) {
                size_t j = (size_t)rand() % nmodel;
                assert_int_equal(stream_delete(s, model[j].id), model[j].live);
                model[j].live = 0;
            } else if (r < 92) {
                strim_t t = {.maxlen = (uint64_t)(rand() % 500), .approx = rand() % 2,
                             .limit = (uint64_t)(rand() % 300)};
                uint64_t before = live_count();
                uint64_t removed = stream_trim(s, &t);
                assert_int_equal(stream_len(s), before - removed);
                if (!t.approx)
                    assert_true(stream_len(s) <= t.maxlen);
                /* the model drops its oldest live entries */
                for (size_t j = 0; j < nmodel && removed; j++)
                    if (model[j].live) {
                        model[j].live = 0;
                        removed--;
                    }
            } else if (nmodel) {
                sid_t minid = model[(size_t)rand() % nmodel].id;
                strim_t t = {.by_minid = 1, .minid = minid};
                uint64_t removed = stream_trim(s, &t);
                for (size_t j = 0; j < nmodel; j++)
                    if (model[j].live && sid_cmp(model[j].id, minid) < 0) {
                        model[j].live = 0;
                        removed--;
                    }
                assert_int_equal(removed, 0);
            }
            assert_int_equal(stream_len(s), live_count());
        }
        check_range(s, MIN, MAX);
        if (nmodel > 10)
            check_range(s, model[nmodel / 3].id, model[nmodel / 2].id);
        stream_t *d = stream_dup(s);
        stream_free(s);
        check_range(d, MIN, MAX);
        stream_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_range), cmocka_unit_test(test_delete),
        cmocka_unit_test(test_trim),         cmocka_unit_test(test_groups),
        cmocka_unit_test(test_random_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

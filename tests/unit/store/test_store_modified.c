/* Unit tests for the store's modified-key hook (store.h), which client-side
 * caching (server/tracking.h) hangs its invalidations on: every write,
 * deletion, expiry (lazy, active, a past TTL) and eviction reports its key
 * and partition; nothing is reported while the hook is disabled, nor for a
 * read or a whole-partition flush. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "command.h"
#include "db.h"
#include "object.h"
#include "store.h"

#define NPARTS 4
#define NDBS 2
#define S(s) ((sv_t){(s), sizeof(s) - 1})

static int calls;
static char last[64];
static int last_part;

static void modified(int part, sv_t key)
{
    calls++;
    snprintf(last, sizeof last, "%.*s", (int)key.len, key.p);
    last_part = part;
}

static int setup(void **state)
{
    (void)state;
    store_setup(NPARTS, NDBS);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    store_set_key_modified_hook(modified);
    store_key_modified_enable(1);
    calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_key_modified_enable(0);
    store_set_key_modified_hook(NULL);
    store_teardown();
    return 0;
}

static cmd_ctx_t ctx(uint64_t now)
{
    cmd_ctx_t c;
    memset(&c, 0, sizeof c);
    c.now_ms = now;
    return c;
}

static void expect(int n, const char *key)
{
    assert_int_equal(calls, n);
    assert_string_equal(last, key);
    assert_int_equal(last_part, store_part_of_key((sv_t){key, strlen(key)}));
}

static void test_writes_and_deletes(void **state)
{
    (void)state;
    cmd_ctx_t c = ctx(now_ms());
    db_set_string(&c, S("a"), "v", 1, 0);
    expect(1, "a");
    db_set_int(&c, S("b"), 7, 0);
    expect(2, "b");
    db_string_append(&c, S("a"), "w", 1);
    expect(3, "a");
    db_set_expire(&c, S("b"), (int64_t)now_ms() + 100000);
    expect(4, "b");
    assert_non_null(db_lookup(&c, S("a"), 0)); /* a read says nothing */
    assert_int_equal(calls, 4);
    assert_int_equal(db_rename(&c, S("a"), S("z"), 0), 0); /* both names change */
    assert_int_equal(calls, 6);
    assert_int_equal(db_delete(&c, S("z")), 1);
    expect(7, "z");
    assert_int_equal(db_delete(&c, S("z")), 0); /* nothing to delete: nothing */
    assert_int_equal(calls, 7);
    store_key_modified_enable(0);
    db_set_string(&c, S("off"), "v", 1, 0);
    assert_int_equal(calls, 7);
    store_key_modified_enable(1);
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, -1); /* a flush is tracking_flush's, not per key */
    assert_int_equal(calls, 7);
}

static void test_expiry_and_eviction(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(t), later = ctx(t + 1000);
    db_set_string(&c, S("lazy"), "v", 1, 0);
    db_set_expire(&c, S("lazy"), (int64_t)t + 10);
    calls = 0;
    assert_null(db_lookup(&later, S("lazy"), 0));
    expect(1, "lazy");
    db_set_string(&c, S("active"), "v", 1, 0);
    db_set_expire(&c, S("active"), (int64_t)t + 10);
    calls = 0;
    for (int p = 0; p < NPARTS; p++)
        store_active_expire(p, t + 1000, 1000000);
    expect(1, "active");
    calls = 0;
    db_set_string(&c, S("past"), "v", 1, 0);
    db_set_expire(&c, S("past"), (int64_t)t - 1);
    expect(2, "past"); /* written, then expired */
    /* eviction: every evicted key is reported */
    store_set_maxmemory(200 * 1024, MAXMEM_ALLKEYS_RANDOM, 5);
    calls = 0;
    char key[32], val[100];
    memset(val, 'x', sizeof val);
    int writes = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        int part = store_part_of_key((sv_t){key, (size_t)n});
        cmd_ctx_t w = ctx(t);
        w.parts = &part;
        w.nparts = 1;
        if (store_make_room(part) != 0)
            continue;
        db_set_string(&w, (sv_t){key, (size_t)n}, val, sizeof val, 0);
        writes++;
    }
    store_stats_t st;
    store_stats(&st);
    assert_true(st.evicted_keys > 0);
    assert_int_equal((uint64_t)calls, (uint64_t)writes + st.evicted_keys);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_and_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_eviction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

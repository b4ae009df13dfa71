/* Unit tests for acl: rules and their description, the checks, the log's
 * bound, and user snapshots raced by reader threads while a writer changes
 * the user (run under TSan by the tsan build: a reader must never see a
 * half-changed user, and no snapshot may be freed while held). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "all_commands.h"
#include "config.h"

static int setup(void **state)
{
    (void)state;
    config_defaults();
    command_setup(all_commands);
    acl_setup();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    acl_teardown();
    command_teardown();
    return 0;
}

static int setuser(const char *name, int n, const char *const *rules)
{
    sv_t argv[16];
    for (int i = 0; i < n; i++)
        argv[i] = (sv_t){rules[i], strlen(rules[i])};
    buf_t err;
    buf_init(&err);
    int rc = acl_setuser((sv_t){name, strlen(name)}, n, argv, &err);
    buf_free(&err);
    return rc;
}

static int check(const acl_user_t *u, int argc, const char *const *args)
{
    sv_t argv[8];
    for (int i = 0; i < argc; i++)
        argv[i] = (sv_t){args[i], strlen(args[i])};
    int pos;
    return acl_check(u, command_lookup(argv[0]), argc, argv, &pos);
}

static void test_describe(void **state)
{
    (void)state;
    static const char *const r1[] = {"on", ">pw", "~k*", "%R~r*", "&c*", "+get", "(+set ~s*)"};
    assert_int_equal(setuser("u1", 7, r1), 0);
    acl_user_t *u = acl_get("u1", 2);
    assert_non_null(u);
    buf_t b;
    buf_init(&b);
    acl_describe_user(u, &b);
    assert_non_null(strstr(buf_cstr(&b), "user u1 on #"));
    assert_non_null(strstr(buf_cstr(&b), "~k* %R~r* resetchannels &c* -@all +get "
                                         "(~s* resetchannels -@all +set)"));
    acl_release(u);
    static const char *const bad[] = {"+get", "+nope"};
    assert_int_equal(setuser("u1", 2, bad), -1);
    buf_free(&b);
}

static void test_checks(void **state)
{
    (void)state;
    static const char *const r[] = {"~a*", "%R~r*", "&ch", "+get", "+set", "+publish"};
    assert_int_equal(setuser("c", 6, r), 0);
    acl_user_t *u = acl_get("c", 1);
    assert_int_equal(check(u, 2, (const char *[]){"get", "a1"}), ACL_OK);
    assert_int_equal(check(u, 2, (const char *[]){"get", "r1"}), ACL_OK);
    assert_int_equal(check(u, 3, (const char *[]){"set", "r1", "v"}), ACL_DENIED_KEY);
    assert_int_equal(check(u, 2, (const char *[]){"get", "b"}), ACL_DENIED_KEY);
    assert_int_equal(check(u, 3, (const char *[]){"hget", "a", "f"}), ACL_DENIED_CMD);
    assert_int_equal(check(u, 3, (const char *[]){"publish", "ch", "m"}), ACL_OK);
    assert_int_equal(check(u, 3, (const char *[]){"publish", "x", "m"}), ACL_DENIED_CHANNEL);
    assert_false(acl_fast(u));
    acl_release(u);
    acl_user_t *d = acl_default();
    assert_true(acl_fast(d));
    acl_release(d);
}

static void test_log_bound(void **state)
{
    (void)state;
    acl_log_reset();
    char obj[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(obj, sizeof obj, "k%d", i);
        acl_log(ACL_DENIED_KEY, ACL_CTX_TOPLEVEL, obj, strlen(obj), "u", "info");
    }
    buf_t out;
    buf_init(&out);
    reply_t r = {.out = &out, .proto = 2};
    acl_log_reply(&r, 100000);
    assert_memory_equal(out.data, "*128\r\n", 6); /* acllog-max-len's default */
    buf_free(&out);
    acl_log_reset();
}

/* ---- the race ------------------------------------------------------------- */

static _Atomic int stop;
static _Atomic long bad, seen;

/* A reader holds a snapshot like a client: refreshes it when stale, then
 * checks it. The writer only ever makes the user "+get ~a*" or "+set ~b*" in
 * one SETUSER, so a snapshot allowing both, or neither, was half-changed. */
static void *reader(void *arg)
{
    (void)arg;
    acl_user_t *u = acl_get("race", 4);
    while (!atomic_load(&stop)) {
        if (atomic_load_explicit(&u->stale, memory_order_acquire)) {
            acl_user_t *cur = acl_get(u->name, strlen(u->name));
            if (cur) {
                acl_release(u);
                u = cur;
            }
        }
        int g = check(u, 2, (const char *[]){"get", "a1"}) == ACL_OK;
        int s = check(u, 3, (const char *[]){"set", "b1", "v"}) == ACL_OK;
        if (g == s)
            atomic_fetch_add(&bad, 1);
        atomic_fetch_add(&seen, 1);
        char obj[8] = "x";
        acl_log(ACL_DENIED_CMD, ACL_CTX_TOPLEVEL, obj, 1, u->name, "reader");
    }
    acl_release(u);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    static const char *const ra[] = {"reset", "on", "+get", "~a*"};
    static const char *const rb[] = {"reset", "on", "+set", "~b*"};
    for (int i = 0; i < 3000; i++)
        setuser("race", 4, i % 2 ? rb : ra);
    atomic_store(&stop, 1);
    return NULL;
}

static void test_race(void **state)
{
    (void)state;
    static const char *const ra[] = {"on", "+get", "~a*"};
    assert_int_equal(setuser("race", 3, ra), 0);
    pthread_t t[5];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    pthread_create(&t[4], NULL, writer, NULL);
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    assert_true(atomic_load(&seen) > 0);
    assert_int_equal(acl_deluser((sv_t){"race", 4}), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_log_bound),
        cmocka_unit_test(test_race),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

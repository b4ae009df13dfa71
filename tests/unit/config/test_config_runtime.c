/* Unit tests of the config module at runtime: CONFIG SET, its checks and the
 * hook it calls, maxclients against the process's limits, and workers
 * reading options while they change. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdlimit.h"
#include "log.h"
#include "store.h"

#include "config_harness.h"

/* What CONFIG SET tells the modules above it (config_on_change). */
static int hook_calls;
static int hook_ids[8];
static void on_change(int id) { hook_ids[hook_calls++ % 8] = id; }

/* ---- runtime (CONFIG SET) ------------------------------------------------ */

static int set_pairs(int n, const char *const *kv, int *bad, char *err, size_t errlen)
{
    const config_opt_t *opts[8];
    sv_t vals[8];
    for (int i = 0; i < n; i++) {
        opts[i] = config_lookup(kv[2 * i], strlen(kv[2 * i]));
        assert_non_null(opts[i]);
        vals[i] = (sv_t){kv[2 * i + 1], strlen(kv[2 * i + 1])};
    }
    return config_set_runtime(n, opts, vals, bad, err, errlen);
}

static void test_runtime_set(void **state)
{
    char err[256] = "";
    int bad = -1;
    hook_calls = 0;
    config_on_change(on_change);

    const char *ok[] = {"maxmemory", "1mb", "maxmemory-policy", "allkeys-lru", "timeout", "7"};
    assert_int_equal(set_pairs(3, ok, &bad, err, sizeof err), 0);
    assert_int_equal(config_get(maxmemory), 1 << 20);
    assert_int_equal(config_get(maxmemory_policy), MAXMEM_ALLKEYS_LRU);
    assert_int_equal(config_get(timeout), 7);
    /* the hook heard of each option, after all the values were stored */
    assert_int_equal(hook_calls, 3);
    assert_int_equal(hook_ids[0], CFG_MAXMEMORY);
    assert_int_equal(hook_ids[1], CFG_MAXMEMORY_POLICY);
    assert_int_equal(hook_ids[2], CFG_TIMEOUT);

    /* all or nothing: the bad second value leaves the first unapplied */
    const char *half[] = {"hz", "50", "maxmemory-samples", "0"};
    assert_int_equal(set_pairs(2, half, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 1);
    assert_string_equal(err, "argument must be between 1 and 64 inclusive");
    assert_int_equal(config_get(hz), 10);
    assert_int_equal(hook_calls, 3);

    const char *imm[] = {"hz", "50", "port", "1234"};
    assert_int_equal(set_pairs(2, imm, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 1);
    assert_string_equal(err, "can't set immutable config");
    assert_int_equal(config_get(hz), 10);

    const char *lvl[] = {"loglevel", "warning", "lua-time-limit", "100"};
    assert_int_equal(set_pairs(2, lvl, &bad, err, sizeof err), 0);
    assert_int_equal(config_get(loglevel), LOG_WARNING);
    assert_int_equal(config_get(busy_reply_threshold), 100);
    assert_value("busy-reply-threshold", "100");
    log_set_level(LOG_NOTICE);

    /* requirepass: set, checked in constant time, cleared */
    assert_int_equal(config_check_password("", 0), 0); /* no password: nothing matches */
    const char *pw[] = {"requirepass", "hunter2"};
    assert_int_equal(set_pairs(1, pw, &bad, err, sizeof err), 0);
    assert_int_equal(config_check_password("hunter2", 7), 1);
    assert_int_equal(config_check_password("hunter2x", 7), 1); /* length-bounded */
    assert_int_equal(config_check_password("hunter2x", 8), 0);
    assert_int_equal(config_check_password("hunter", 6), 0);
    assert_int_equal(config_check_password("Hunter2", 7), 0);
    assert_int_equal(config_check_password("", 0), 0);
    char big[2000];
    memset(big, 'h', sizeof big);
    assert_int_equal(config_check_password(big, sizeof big), 0);
    assert_value("requirepass", "hunter2");
    const char *nopw[] = {"requirepass", ""};
    assert_int_equal(set_pairs(1, nopw, &bad, err, sizeof err), 0);
    assert_int_equal(config_check_password("hunter2", 7), 0);

    /* every runtime option accepts its own default back */
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        if (!(o->flags & CFGF_RUNTIME))
            continue;
        sv_t v = {o->def, strlen(o->def)};
        if (config_set_runtime(1, &o, &v, &bad, err, sizeof err) != 0)
            fail_msg("%s %s: %s", o->name, o->def, err);
    }
}

/* CONFIG SET applies startup's ranges and config_finalize's cross-checks to
 * the values it would leave, whichever order the pairs come in. */
static void test_runtime_cross_checks(void **state)
{
    char err[256] = "";
    int bad = -1;
    const char *huge[] = {"proto-max-bulk-len", "9223372036854775807"};
    assert_int_equal(set_pairs(1, huge, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 0);
    assert_string_equal(err, "argument must be between 1048576 and 17179869184 inclusive");
    assert_value("proto-max-bulk-len", "536870912");

    /* a bulk larger than the current query buffer limit (1gb) */
    const char *big[] = {"timeout", "5", "proto-max-bulk-len", "2gb"};
    assert_int_equal(set_pairs(2, big, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 1);
    assert_string_equal(err, "proto-max-bulk-len (2147483648) must not exceed "
                             "client-query-buffer-limit (1073741824): a request must fit in the "
                             "query buffer");
    assert_int_equal(config_get(timeout), 0); /* all or nothing */
    /* a query buffer limit below the current bulk limit: blamed on the one set */
    const char *small[] = {"client-query-buffer-limit", "256mb"};
    assert_int_equal(set_pairs(1, small, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 0);
    assert_non_null(strstr(err, "proto-max-bulk-len (536870912) must not exceed "
                                "client-query-buffer-limit (268435456)"));
    /* both at once, in either order, judged on the new pair */
    const char *both[] = {"proto-max-bulk-len", "2gb", "client-query-buffer-limit", "4gb"};
    assert_int_equal(set_pairs(2, both, &bad, err, sizeof err), 0);
    assert_value("proto-max-bulk-len", "2147483648");
    assert_value("client-query-buffer-limit", "4294967296");
    const char *down[] = {"client-query-buffer-limit", "64mb", "proto-max-bulk-len", "64mb"};
    assert_int_equal(set_pairs(2, down, &bad, err, sizeof err), 0);
    assert_value("client-query-buffer-limit", "67108864");
    const char *cross[] = {"client-query-buffer-limit", "2mb", "proto-max-bulk-len", "3mb"};
    assert_int_equal(set_pairs(2, cross, &bad, err, sizeof err), -1);
    assert_int_equal(bad, 1); /* proto-max-bulk-len is named when it is among the pairs */
    assert_value("client-query-buffer-limit", "67108864");
    /* and a state CONFIG SET left always passes config_finalize */
    assert_int_equal(config_finalize(4, err, sizeof err), 0);
}

/* In a child (it changes the process's limits): maxclients raised by CONFIG
 * SET must fit RLIMIT_NOFILE. Returns 0, or the number of the check failed. */
static int maxclients_child(void)
{
    char err[256] = "";
    int bad = -1;
    /* Unprivileged, whoever runs the test: then the hard limit is a wall. */
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 13;
    if (config_set_arg("server.maxclients", "10", err, sizeof err) != 0)
        return 14;
    /* soft 100, hard 300: 200 clients need 232 (the default reserve of 32) */
    struct rlimit rl = {100, 300};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1;
    const char *fits[] = {"maxclients", "200"};
    if (set_pairs(1, fits, &bad, err, sizeof err) != 0 || config_get(maxclients) != 200)
        return 2;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 232 || rl.rlim_max != 300)
        return 3;
    /* above the hard limit: refused, naming what fits, with the soft limit
     * raised as far as it may go */
    const char *over[] = {"maxclients", "1000"};
    if (set_pairs(1, over, &bad, err, sizeof err) != -1 || bad != 0)
        return 4;
    if (strcmp(err, "The operating system is not able to handle the specified number of "
                    "clients, try with 268") != 0)
        return 5;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 300 || rl.rlim_max != 300)
        return 6;
    const char *max[] = {"maxclients", "2147483647"};
    if (set_pairs(1, max, &bad, err, sizeof err) != -1 || bad != 0 ||
        !strstr(err, "The operating system is not able to handle the specified number of "
                     "clients, try with "))
        return 7;
    if (config_get(maxclients) != 200)
        return 8;
    /* lowering always fits */
    const char *lower[] = {"maxclients", "10"};
    if (set_pairs(1, lower, &bad, err, sizeof err) != 0 || config_get(maxclients) != 10)
        return 9;
    /* a larger reserve leaves fewer clients */
    fdlimit_set_reserve(100);
    rl.rlim_cur = rl.rlim_max = 150;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 10;
    fdlimit_report_t r;
    if (fdlimit_fit(60, &r) != 50 || r.want != 160 || r.after != 150)
        return 11;
    if (fdlimit_fit(50, NULL) != 50 || fdlimit_fit(10, NULL) != 50)
        return 12;
    return 0;
}

static void test_runtime_maxclients(void **state)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(maxclients_child());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("maxclients check %d failed", WEXITSTATUS(status));
}

/* Workers read runtime options while CONFIG SET changes them on another
 * worker: run under -fsanitize=thread, this must be race-free. */
static atomic_int race_stop;

static void *race_reader(void *arg)
{
    long sum = 0;
    buf_t b;
    buf_init(&b);
    while (!atomic_load(&race_stop)) {
        sum += config_get(hz) + config_get_int(CFG_TIMEOUT) + (long)config_get_u64(CFG_MAXMEMORY);
        sum += config_check_password("pw1", 3);
        b.len = 0;
        config_format_value(&config_opts[CFG_REQUIREPASS], &b);
        config_format_value(&config_opts[CFG_MAXMEMORY_POLICY], &b);
        log_debug("not shown %ld", sum); /* reads the log level */
    }
    buf_free(&b);
    return (void *)sum;
}

static void test_runtime_race(void **state)
{
    pthread_t t[4];
    atomic_store(&race_stop, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_reader, NULL), 0);
    char err[256];
    int bad;
    for (int i = 0; i < 2000; i++) {
        char hz[16], mm[32];
        snprintf(hz, sizeof hz, "%d", 1 + i % 500);
        snprintf(mm, sizeof mm, "%dmb", i);
        const char *kv[] = {"hz", hz, "maxmemory", mm, "requirepass", i % 2 ? "pw1" : "pw2",
                            "loglevel", i % 2 ? "notice" : "warning"};
        assert_int_equal(set_pairs(4, kv, &bad, err, sizeof err), 0);
    }
    atomic_store(&race_stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(config_get(hz), 1 + 1999 % 500);
    log_set_level(LOG_NOTICE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runtime_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_cross_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_maxclients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_race, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

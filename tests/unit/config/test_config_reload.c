/* Unit tests of config_reload_file (SIGHUP's reload): what changed in the file
 * is applied when CONFIG SET could apply it and only logged otherwise; a key
 * removed goes back to its default, the command line's overrides stay on top,
 * a file that does not load or values that fail CONFIG SET's checks change
 * nothing, and auto or fitted values count as unchanged. */
#include <unistd.h>

#include "log.h"

#include "config_harness.h"

static char ini_path[64], log_path[64];

/* What the reload tells the modules above (config_on_change). */
static int hook_calls;
static void on_change(int id) { hook_calls++; }

static void write_ini(const char *text)
{
    FILE *f = fopen(ini_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The log so far (a static buffer). */
static char *log_text(void)
{
    FILE *f = fopen(log_path, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Start as main does: defaults, the file, the overrides, finalize (4 CPUs). */
static int start(void **state)
{
    strcpy(ini_path, "/tmp/percore_test_reload_XXXXXX");
    int fd = mkstemp(ini_path);
    assert_true(fd >= 0);
    close(fd);
    strcpy(log_path, "/tmp/percore_test_reload_log_XXXXXX");
    fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    log_setup(LOG_NOTICE, log_path);
    config_defaults();
    hook_calls = 0;
    config_on_change(on_change);
    return 0;
}

static int stop(void **state)
{
    config_on_change(NULL);
    config_teardown();
    log_teardown();
    unlink(ini_path);
    unlink(log_path);
    return 0;
}

static void load(const char *text, const char *const *overrides)
{
    char err[512] = "";
    write_ini(text);
    if (config_load_file(ini_path, err, sizeof err) != 0)
        fail_msg("load: %s", err);
    for (const char *const *a = overrides; a && a[0]; a += 2)
        if (config_set_arg(a[0], a[1], err, sizeof err) != 0)
            fail_msg("override: %s", err);
    if (config_finalize(4, err, sizeof err) != 0)
        fail_msg("finalize: %s", err);
}

/* Rewrite the file and reload it; returns config_reload_file's result. */
static int reload(const char *text, const char *const *overrides, char *err, size_t errlen)
{
    write_ini(text);
    return config_reload_file(ini_path, overrides, err, errlen);
}

static void reload_ok(const char *text, const char *const *overrides)
{
    char err[512] = "";
    if (reload(text, overrides, err, sizeof err) != 0)
        fail_msg("reload: %s", err);
}

static void test_runtime_applied(void **state)
{
    load("[server]\ntimeout = 5\n[store]\nmaxmemory = 1mb\n", NULL);
    reload_ok("[server]\ntimeout = 9\n[store]\nmaxmemory = 2mb\n"
              "[security]\nrequirepass = s3cret\n"
              "[limits]\nclient-output-buffer-limit = normal 1mb 512kb 10\n",
              NULL);
    assert_int_equal(config_get(timeout), 9);
    assert_int_equal(config_get(maxmemory), 2 << 20);
    assert_int_equal(config_check_password("s3cret", 6), 1);
    /* the class the value leaves out keeps its default */
    assert_value("client-output-buffer-limit",
                 "normal 1048576 524288 10 pubsub 33554432 8388608 60");
    assert_int_equal(hook_calls, 4);
    const char *log = log_text();
    assert_non_null(strstr(log, "config reload: server.timeout = 9\n"));
    assert_non_null(strstr(log, "config reload: store.maxmemory = 2097152\n"));
    assert_non_null(strstr(log, "config reload: security.requirepass changed\n"));
    assert_null(strstr(log, "s3cret"));
    assert_null(strstr(log, "restart to apply"));

    /* the same file again: nothing to do */
    hook_calls = 0;
    reload_ok("[server]\ntimeout = 9\n[store]\nmaxmemory = 2mb\n"
              "[security]\nrequirepass = s3cret\n"
              "[limits]\nclient-output-buffer-limit = normal 1mb 512kb 10\n",
              NULL);
    assert_int_equal(hook_calls, 0);
}

static void test_non_runtime_logged(void **state)
{
    load("[server]\nport = 7001\nbind = 127.0.0.1\n", NULL);
    reload_ok("[server]\nport = 7002\nbind = 0.0.0.0\ntimeout = 3\n", NULL);
    assert_int_equal(config_get(port), 7001);
    assert_string_equal(cfg.bind, "127.0.0.1");
    assert_int_equal(config_get(timeout), 3);
    char want[256];
    snprintf(want, sizeof want, "config reload: server.port changed in %s; restart to apply",
             ini_path);
    const char *log = log_text();
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "config reload: server.bind changed in"));
}

static void test_removed_key_default(void **state)
{
    load("[store]\nhz = 50\nmaxmemory-policy = allkeys-lru\n", NULL);
    assert_int_equal(config_get(hz), 50);
    reload_ok("[store]\nmaxmemory-policy = allkeys-lru\n", NULL);
    assert_int_equal(config_get(hz), 10);
    assert_value("maxmemory-policy", "allkeys-lru");
    /* so does a runtime value CONFIG SET changed and the file never had */
    char err[256];
    int bad;
    const config_opt_t *o = config_lookup("timeout", 7);
    sv_t v = {"42", 2};
    assert_int_equal(config_set_runtime(1, &o, &v, &bad, err, sizeof err), 0);
    reload_ok("[store]\nmaxmemory-policy = allkeys-lru\n", NULL);
    assert_int_equal(config_get(timeout), 0);
}

static void test_broken_file_changes_nothing(void **state)
{
    load("[server]\ntimeout = 5\n", NULL);
    char err[512] = "";
    hook_calls = 0;
    assert_int_equal(reload("[server]\ntimeout = 6\n[store]\nmaxmemory = lots\n", NULL, err,
                            sizeof err),
                     -1);
    char where[128];
    snprintf(where, sizeof where, "%s:4: ", ini_path);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, "'maxmemory'"))
        fail_msg("error '%s' lacks '%s' and the key", err, where);
    assert_int_equal(config_get(timeout), 5);
    assert_int_equal(hook_calls, 0);

    assert_int_equal(reload("[server]\ntimeout = 6\n[nosuch]\n", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown section [nosuch]"));
    assert_int_equal(config_get(timeout), 5);

    unlink(ini_path);
    assert_int_equal(config_reload_file(ini_path, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, ini_path));
    assert_int_equal(config_get(timeout), 5);
}

static void test_failed_check_changes_nothing(void **state)
{
    load("[server]\ntimeout = 5\n", NULL);
    char err[512] = "";
    hook_calls = 0;
    /* valid values one by one, but a bulk larger than the query buffer */
    assert_int_equal(reload("[server]\ntimeout = 6\n"
                            "[limits]\nproto-max-bulk-len = 8mb\nclient-query-buffer-limit = 4mb\n",
                            NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "limits.proto-max-bulk-len: "));
    assert_non_null(strstr(err, "must not exceed client-query-buffer-limit"));
    assert_int_equal(config_get(timeout), 5);
    assert_int_equal(config_get(proto_max_bulk_len), 512 << 20);
    assert_int_equal(hook_calls, 0);
}

static void test_override_kept(void **state)
{
    const char *const overrides[] = {"server.port", "7100", "store.maxmemory", "3mb",
                                     "limits.client-output-buffer-limit", "pubsub 0 0 0", NULL};
    load("[server]\nport = 7001\ntimeout = 1\n[store]\nmaxmemory = 1mb\n", overrides);
    assert_int_equal(config_get(maxmemory), 3 << 20);
    reload_ok("[server]\nport = 7001\ntimeout = 2\n[store]\nmaxmemory = 2mb\n"
              "[limits]\nclient-output-buffer-limit = normal 1mb 1mb 0\n",
              overrides);
    assert_int_equal(config_get(maxmemory), 3 << 20);
    assert_int_equal(config_get(timeout), 2);
    assert_int_equal(config_get(port), 7100);
    /* the file's class and the override's, each over the one before */
    assert_value("client-output-buffer-limit", "normal 1048576 1048576 0 pubsub 0 0 0");
    const char *log = log_text();
    assert_null(strstr(log, "maxmemory"));
    assert_null(strstr(log, "restart to apply"));
}

static void test_resolved_unchanged(void **state)
{
    load("[server]\nthreads = 0\nmaxclients = 5000\n[store]\npartitions = 0\n", NULL);
    assert_int_equal(config_get(threads), 4);
    assert_int_equal(config_get(partitions), 16);
    config_resolve(CFG_MAXCLIENTS, 100); /* as if ulimit -n allowed no more */
    reload_ok("[server]\nthreads = 0\nmaxclients = 5000\n[store]\npartitions = 0\n", NULL);
    assert_int_equal(config_get(maxclients), 100);
    assert_null(strstr(log_text(), "config reload"));
    /* an explicit value equal to the running one is no change either */
    reload_ok("[server]\nthreads = 4\nmaxclients = 5000\n[store]\npartitions = 16\n", NULL);
    assert_null(strstr(log_text(), "config reload"));
    reload_ok("[server]\nthreads = 2\nmaxclients = 5000\n", NULL);
    const char *log = log_text();
    assert_non_null(strstr(log, "server.threads changed in"));
    assert_null(strstr(log, "store.partitions"));
    assert_int_equal(config_get(threads), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runtime_applied, start, stop),
        cmocka_unit_test_setup_teardown(test_non_runtime_logged, start, stop),
        cmocka_unit_test_setup_teardown(test_removed_key_default, start, stop),
        cmocka_unit_test_setup_teardown(test_broken_file_changes_nothing, start, stop),
        cmocka_unit_test_setup_teardown(test_failed_check_changes_nothing, start, stop),
        cmocka_unit_test_setup_teardown(test_override_kept, start, stop),
        cmocka_unit_test_setup_teardown(test_resolved_unchanged, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

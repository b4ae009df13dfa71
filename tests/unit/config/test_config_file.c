/* Unit tests of the config module's files: the ini loader and its error
 * messages, finalize, and the generated --help and server.ini (including
 * conf/server.ini). */
#include <unistd.h>

#include "log.h"
#include "scheduler.h"
#include "store.h"

#include "config_harness.h"

/* Write text to a fresh temporary file; returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/percore_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* ---- the ini file ------------------------------------------------------- */

static void test_load_good_file(void **state)
{
    const char *path = write_tmp("; a comment\n"
                                 "# another comment\n"
                                 "\n"
                                 "[server]\n"
                                 "port = 7001\n"
                                 "  threads = 4   ; indented, with an inline comment\n"
                                 "bind = 0.0.0.0\n"
                                 "logfile = \"\"\n"
                                 "pidfile = \"/run/percore.pid\"\n"
                                 "LOGLEVEL = Debug\n"
                                 "\n"
                                 "[ scheduler ]\n"
                                 "policy = shared-locks\n"
                                 "\n"
                                 "[store]\n"
                                 "maxmemory = 100mb\n"
                                 "maxmemory = 200mb\n" /* the last one wins */
                                 "partitions = 64\n"
                                 "[scripting]\n"
                                 "lua-time-limit = 250\n"
                                 "allow-undeclared-keys = yes\n"
                                 "[security]\n"
                                 "requirepass = s3cret\n"
                                 "[limits]\n");
    char err[256] = "";
    if (config_load_file(path, err, sizeof err) != 0)
        fail_msg("load failed: %s", err);
    unlink(path);
    assert_int_equal(config_get(port), 7001);
    assert_int_equal(config_get(threads), 4);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_string_equal(cfg.logfile, "");
    assert_string_equal(cfg.pidfile, "/run/percore.pid");
    assert_int_equal(config_get(loglevel), LOG_DEBUG);
    assert_int_equal(config_get(policy), POLICY_SHARED_LOCKS);
    assert_int_equal(config_get(maxmemory), 200LL << 20);
    assert_int_equal(config_get(partitions), 64);
    assert_int_equal(config_get(busy_reply_threshold), 250);
    assert_int_equal(config_get(allow_undeclared_keys), 1);
    assert_string_equal(cfg.requirepass, "s3cret");
    /* untouched options keep their defaults */
    assert_int_equal(config_get(hz), 10);
    assert_int_equal(config_get(databases), 16);
}

/* Load text that must fail; the message must name the file, line and want. */
static void load_fails(const char *text, int line, const char *want1, const char *want2)
{
    const char *path = write_tmp(text);
    char err[512] = "";
    int rc = config_load_file(path, err, sizeof err);
    unlink(path);
    if (rc == 0)
        fail_msg("loading was accepted:\n%s", text);
    char where[128];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    if (strncmp(err, where, strlen(where)) != 0)
        fail_msg("error '%s' does not start with '%s'", err, where);
    if (want1 && !strstr(err, want1))
        fail_msg("error '%s' lacks '%s'", err, want1);
    if (want2 && !strstr(err, want2))
        fail_msg("error '%s' lacks '%s'", err, want2);
}

static void test_load_errors(void **state)
{
    load_fails("[server]\nport = 7002\n\n[nosuch]\nfoo = 1\n", 5, "unknown section [nosuch]",
               "'foo'");
    load_fails("[server]\nport = 7002\n[store]\nmaxmemroy = 1gb\n", 4, "unknown key 'maxmemroy'",
               "[store]");
    load_fails("[server]\nport = 7002\ntimeout = soon\n", 3, "'timeout'",
               "argument couldn't be parsed into an integer");
    load_fails("[store]\nport = 7002\n", 2, "unknown key 'port' in [store]", "belongs in [server]");
    load_fails("port = 7002\n", 1, "'port'", "outside any [section]");
    load_fails("[server]\nport = 7002\n[empty-and-unknown]\n\n[store]\nhz = 20\n", 3,
               "unknown section [empty-and-unknown]", NULL);
    load_fails("[server]\n[typo]\n", 2, "unknown section [typo]", NULL);
    load_fails("[server]\nport 7002\n", 2, "syntax error", NULL);
    load_fails("[server]\nport = 7002\n[store\n", 3, "syntax error", NULL);
    load_fails("[server]\nloglevel = loud\n", 2, "'loglevel'",
               "argument must be one of the following: debug, verbose, notice, warning");
    load_fails("[scheduler]\nring-size = 100\n", 2, "'ring-size'", "power of two");
    load_fails("[server]\npin-threads = on\n", 2, "'pin-threads'", "'yes' or 'no'");
    load_fails("[store]\nmaxmemory = 1tb\n", 2, "'maxmemory'", "argument must be a memory value");
    /* the first error wins, whichever kind it is */
    load_fails("[server]\nport = x\nbogus line\n", 2, "'port'", NULL);
    load_fails("[server]\nbogus line\nport = x\n", 2, "syntax error", NULL);
    /* a line longer than inih's buffer is an error, not two lines */
    char longline[1024];
    snprintf(longline, sizeof longline, "[server]\nbind = %0600d\n", 1);
    load_fails(longline, 2, "line too long", NULL);

    /* a failed load applies nothing (the port above was never set) */
    assert_int_equal(config_get(port), 6379);
    assert_int_equal(config_get(hz), 10);

    char err[256] = "";
    assert_int_equal(config_load_file("/nonexistent/percore.ini", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/percore.ini"));
}

static void test_long_comment_ok(void **state)
{
    char text[1200];
    char dots[800];
    memset(dots, '.', sizeof dots - 1);
    dots[sizeof dots - 1] = '\0';
    snprintf(text, sizeof text, "; %s\n[server]\nport = 7003\n", dots);
    const char *path = write_tmp(text);
    char err[256] = "";
    int rc = config_load_file(path, err, sizeof err);
    unlink(path);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(config_get(port), 7003);
}

/* ---- finalize ------------------------------------------------------------ */

static void finalize_with(int cpus, const char *threads, const char *partitions, int want_threads,
                          int want_partitions)
{
    char err[256] = "";
    config_defaults();
    assert_int_equal(config_set_arg("server.threads", threads, err, sizeof err), 0);
    assert_int_equal(config_set_arg("store.partitions", partitions, err, sizeof err), 0);
    if (config_finalize(cpus, err, sizeof err) != 0)
        fail_msg("finalize: %s", err);
    assert_int_equal(config_get(threads), want_threads);
    assert_int_equal(config_get(partitions), want_partitions);
}

static void test_finalize(void **state)
{
    finalize_with(8, "0", "0", 8, 32);
    finalize_with(2, "0", "0", 2, 16);
    finalize_with(1, "0", "0", 1, 16);
    finalize_with(0, "0", "0", 1, 16);   /* unknown CPU count: one worker */
    finalize_with(5, "0", "0", 5, 32);   /* 4 x 5 = 20 rounds up to 32 */
    finalize_with(6, "0", "0", 6, 32);   /* 24 -> 32 */
    finalize_with(9, "0", "0", 9, 64);   /* 36 -> 64 */
    finalize_with(1000, "0", "0", 256, 1024);
    finalize_with(8, "3", "0", 3, 16);
    finalize_with(8, "0", "64", 8, 64);  /* explicit partitions stay */
    finalize_with(8, "0", "4", 8, 4);
    finalize_with(8, "256", "0", 256, 1024);
    for (int cpus = 1; cpus <= 300; cpus++) {
        char err[256];
        config_defaults();
        assert_int_equal(config_finalize(cpus, err, sizeof err), 0);
        int p = config_get(partitions), t = config_get(threads);
        assert_true(p >= 16 && p <= 16384 && (p & (p - 1)) == 0);
        assert_true(p >= 4 * t);
        assert_true(p == 16 || p / 2 < 4 * t); /* the smallest such power of two */
    }

    /* every address is asked for explicitly */
    char err[256] = "";
    config_defaults();
    assert_int_equal(config_set_arg("server.bind", "* -::*", err, sizeof err), 0);
    assert_int_equal(config_finalize(4, err, sizeof err), 0);
    assert_string_equal(cfg.bind, "* -::*");

    /* cross-check: a bulk larger than the query buffer could never arrive */
    config_defaults();
    assert_int_equal(config_set_arg("limits.client-query-buffer-limit", "1mb", err, sizeof err), 0);
    assert_int_equal(config_finalize(4, err, sizeof err), -1);
    assert_non_null(strstr(err, "proto-max-bulk-len"));
    assert_int_equal(config_set_arg("limits.proto-max-bulk-len", "1mb", err, sizeof err), 0);
    assert_int_equal(config_finalize(4, err, sizeof err), 0);
}

/* An empty bind is refused wherever it is written, naming where: it is not
 * a way to listen everywhere ("* -::*" is). */
static void test_empty_bind(void **state)
{
    const char *want = "bind needs at least one address (\"* -::*\" listens on every one)";
    assert_set_fails("server.bind", "", want);
    assert_set_fails("server.bind", "  \t ", want);
    assert_string_equal(cfg.bind, "127.0.0.1 -::1"); /* unchanged */
    load_fails("[server]\nport = 7005\nbind = \"\"\n", 3, "bad value '\"\"' for key 'bind' in [server]",
               want);
    load_fails("[server]\nbind =\n", 2, "key 'bind' in [server]", want);
    load_fails("[server]\nbind = \"   \"\n", 2, "key 'bind' in [server]", want);
    assert_int_equal(config_get(port), 6379); /* the failed loads applied nothing */
    assert_string_equal(cfg.bind, "127.0.0.1 -::1");
    char err[256];
    assert_int_equal(config_set_arg("server.bind", " * -::* ", err, sizeof err), 0);
    assert_string_equal(cfg.bind, "* -::*");
}

/* ---- generated help and server.ini --------------------------------------- */

/* noinline: gcc 12 -O2 mistakes open_memstream's out-pointer for a dangling one. */
__attribute__((noinline)) static char *capture(void (*fn)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fn(f);
    fclose(f);
    return text;
}

static void test_help_lists_every_key(void **state)
{
    char *help = capture(config_print_help);
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        char want[128];
        snprintf(want, sizeof want, "--%s.%s <", o->section, o->name);
        if (!strstr(help, want))
            fail_msg("--help lacks %s", want);
        if (!strstr(help, o->desc))
            fail_msg("--help lacks the description of %s", o->name);
    }
    assert_non_null(strstr(help, "--store.maxmemory-policy <noeviction|allkeys-lru|"));
    assert_non_null(strstr(help, "(default 512mb) [runtime]"));
    assert_non_null(strstr(help, "--server.port <integer 1..65535>  (default 6379)\n"));
    free(help);
}

static void test_ini_round_trip(void **state)
{
    char *ini = capture(config_print_ini);
    /* every key, with a comment line right above it */
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        char want[128];
        snprintf(want, sizeof want, "\n%s = ", config_opts[i].name);
        char *at = strstr(ini, want);
        if (!at)
            fail_msg("server.ini lacks %s", config_opts[i].name);
        char *prev = at - 1;
        while (prev > ini && prev[-1] != '\n')
            prev--;
        assert_int_equal(*prev, ';');
    }
    /* every line fits inih's default line buffer */
    for (char *l = ini; *l;) {
        char *nl = strchr(l, '\n');
        assert_non_null(nl);
        assert_true(nl - l < 197);
        l = nl + 1;
    }

    /* change everything we can, load the generated file: all back to defaults */
    char err[256] = "";
    assert_int_equal(config_set_arg("server.port", "1", err, sizeof err), 0);
    assert_int_equal(config_set_arg("server.bind", "1.2.3.4", err, sizeof err), 0);
    assert_int_equal(config_set_arg("server.logfile", "/tmp/x", err, sizeof err), 0);
    assert_int_equal(config_set_arg("store.maxmemory", "5gb", err, sizeof err), 0);
    assert_int_equal(config_set_arg("scheduler.policy", "work-stealing", err, sizeof err), 0);
    assert_int_equal(config_set_arg("scripting.allow-undeclared-keys", "yes", err, sizeof err), 0);
    assert_int_equal(config_set_arg("security.requirepass", "pw", err, sizeof err), 0);
    const char *path = write_tmp(ini);
    if (config_load_file(path, err, sizeof err) != 0)
        fail_msg("generated server.ini does not load: %s", err);
    unlink(path);
    assert_int_equal(config_get(port), 6379);
    assert_string_equal(cfg.bind, "127.0.0.1 -::1");
    assert_string_equal(cfg.logfile, "");
    assert_int_equal(config_get(maxmemory), 0);
    assert_int_equal(config_get(policy), POLICY_SHARE_NOTHING);
    assert_int_equal(config_get(allow_undeclared_keys), 0);
    assert_string_equal(cfg.requirepass, "");
    /* and the whole state equals a fresh config_defaults() */
    buf_t loaded[CONFIG_NOPTS];
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        buf_init(&loaded[i]);
        config_format_value(&config_opts[i], &loaded[i]);
    }
    config_defaults();
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        buf_t d;
        buf_init(&d);
        config_format_value(&config_opts[i], &d);
        if (d.len != loaded[i].len || (d.len && memcmp(d.data, loaded[i].data, d.len) != 0))
            fail_msg("%s differs after loading server.ini", config_opts[i].name);
        buf_free(&d);
        buf_free(&loaded[i]);
    }
    free(ini);
}

/* conf/server.ini is committed; it must be exactly what config_print_ini prints. */
static void test_committed_ini_matches(void **state)
{
    const char *src = getenv("PERCORE_SOURCE_DIR");
    if (!src || !*src) {
        print_message("PERCORE_SOURCE_DIR is not set: skipping the conf/server.ini check\n");
        skip();
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/conf/server.ini", src);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    buf_t b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    char *want = capture(config_print_ini);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fail_msg("%s is out of date: regenerate it with percore-server --print-ini", path);
    free(want);
    buf_free(&b);
    /* and it loads */
    char err[256] = "";
    if (config_load_file(path, err, sizeof err) != 0)
        fail_msg("%s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_comment_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_ini_matches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

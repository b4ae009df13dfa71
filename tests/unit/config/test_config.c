/* Unit tests of the config module: the option table, parsers, the ini loader
 * and its error messages, command-line overrides, finalize, runtime changes,
 * and the generated --help and server.ini (including conf/server.ini). */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fdlimit.h"
#include "log.h"
#include "scheduler.h"
#include "store.h"

/* What CONFIG SET tells the modules above it (config_on_change). */
static int hook_calls;
static int hook_ids[8];
static void on_change(int id) { hook_ids[hook_calls++ % 8] = id; }

static int setup(void **state)
{
    config_defaults();
    return 0;
}

static int teardown(void **state)
{
    config_teardown();
    return 0;
}

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

static char *value_of(const char *name)
{
    const config_opt_t *o = config_lookup(name, strlen(name));
    assert_non_null(o);
    buf_t b;
    buf_init(&b);
    config_format_value(o, &b);
    char *s = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

static void assert_value(const char *name, const char *want)
{
    char *got = value_of(name);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", name, got, want);
    free(got);
}

/* ---- the table ---------------------------------------------------------- */

static void test_table_sane(void **state)
{
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        assert_int_equal(o->id, i);
        assert_non_null(o->desc);
        assert_true(strlen(o->desc) > 0);
        assert_true(strlen(o->desc) < 120);
        assert_true((o->type == CFGT_ENUM) == (o->words != NULL));
        /* bare keys are unique: CONFIG GET/SET use them without the section */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(o->name, config_opts[j].name);
        assert_ptr_equal(config_lookup(o->name, strlen(o->name)), o);
    }
    /* enum word order is the stored value other modules compare with */
    assert_string_equal(config_opts[CFG_LOGLEVEL].words[LOG_DEBUG], "debug");
    assert_string_equal(config_opts[CFG_LOGLEVEL].words[LOG_WARNING], "warning");
    assert_string_equal(config_opts[CFG_POLICY].words[POLICY_SHARE_NOTHING], "share-nothing");
    assert_string_equal(config_opts[CFG_POLICY].words[POLICY_SHARED_LOCKS], "shared-locks");
    assert_string_equal(config_opts[CFG_POLICY].words[POLICY_WORK_STEALING], "work-stealing");
    const char *const *mp = config_opts[CFG_MAXMEMORY_POLICY].words;
    assert_string_equal(mp[MAXMEM_NOEVICTION], "noeviction");
    assert_string_equal(mp[MAXMEM_ALLKEYS_LRU], "allkeys-lru");
    assert_string_equal(mp[MAXMEM_ALLKEYS_LFU], "allkeys-lfu");
    assert_string_equal(mp[MAXMEM_ALLKEYS_RANDOM], "allkeys-random");
    assert_string_equal(mp[MAXMEM_VOLATILE_LRU], "volatile-lru");
    assert_string_equal(mp[MAXMEM_VOLATILE_LFU], "volatile-lfu");
    assert_string_equal(mp[MAXMEM_VOLATILE_RANDOM], "volatile-random");
    assert_string_equal(mp[MAXMEM_VOLATILE_TTL], "volatile-ttl");
    assert_null(mp[8]);
}

static void test_lookup_and_alias(void **state)
{
    const config_opt_t *o = config_lookup("LUA-TIME-LIMIT", 14);
    assert_non_null(o);
    assert_int_equal(o->id, CFG_BUSY_REPLY_THRESHOLD);
    assert_ptr_equal(config_lookup("MaxMemory", 9), &config_opts[CFG_MAXMEMORY]);
    assert_null(config_lookup("nosuch", 6));
    assert_null(config_lookup("port2", 4 + 1));
    assert_ptr_equal(config_lookup("port2", 4), &config_opts[CFG_PORT]); /* length-aware */
    /* config_name_at lists keys, then aliases */
    const config_opt_t *a;
    assert_string_equal(config_name_at(0, &a), "port");
    assert_string_equal(config_name_at(CONFIG_NOPTS, &a), "lua-time-limit");
    assert_int_equal(a->id, CFG_BUSY_REPLY_THRESHOLD);
    assert_null(config_name_at(CONFIG_NOPTS + 1, &a));
    assert_null(config_name_at(-1, NULL));
}

static void test_defaults(void **state)
{
    assert_int_equal(config_get(port), 6379);
    assert_string_equal(cfg.bind, "127.0.0.1 -::1");
    assert_int_equal(config_get(threads), 0);
    assert_int_equal(config_get(pin_threads), 1);
    assert_int_equal(config_get(maxclients), 10000);
    assert_int_equal(config_get(timeout), 0);
    assert_int_equal(config_get(tcp_backlog), 511);
    assert_int_equal(config_get(tcp_keepalive), 300);
    assert_int_equal(config_get(loglevel), LOG_NOTICE);
    assert_string_equal(cfg.logfile, "");
    assert_string_equal(cfg.pidfile, "");
    assert_int_equal(config_get(policy), POLICY_SHARE_NOTHING);
    assert_string_equal(config_policy_name(), "share-nothing");
    assert_int_equal(config_get(ring_size), 4096);
    assert_int_equal(config_get(batch_max), 256);
    assert_int_equal(config_get(partitions), 0);
    assert_int_equal(config_get(databases), 16);
    assert_int_equal(config_get(maxmemory), 0);
    assert_int_equal(config_get(maxmemory_policy), MAXMEM_NOEVICTION);
    assert_int_equal(config_get(maxmemory_samples), 5);
    assert_int_equal(config_get(hz), 10);
    assert_int_equal(config_get(active_expire_effort), 1);
    assert_int_equal(config_get(busy_reply_threshold), 5000);
    assert_int_equal(config_get(memory_limit), 64LL << 20);
    assert_int_equal(config_get(allow_undeclared_keys), 0);
    assert_int_equal(config_get(proto_max_bulk_len), 512LL << 20);
    assert_int_equal(config_get(client_query_buffer_limit), 1LL << 30);
    assert_string_equal(cfg.client_output_buffer_limit, "normal 0 0 0 pubsub 33554432 8388608 60");
    obl_t obl;
    config_obl_get(OBL_PUBSUB, &obl);
    assert_int_equal(obl.hard, 32 << 20);
    assert_int_equal(obl.soft, 8 << 20);
    assert_int_equal(obl.soft_seconds, 60);
    config_obl_get(OBL_NORMAL, &obl);
    assert_int_equal(obl.hard, 0);
    assert_int_equal(config_get(client_output_high_water), 1 << 20);
    assert_int_equal(config_get(client_output_low_water), 256 << 10);
    assert_string_equal(cfg.requirepass, "");
    assert_int_equal(config_auth_required(), 0);
    assert_int_equal(config_get(protected_mode), 1);
    assert_value("protected-mode", "yes");
    /* the by-id accessors agree */
    assert_int_equal(config_get_int(CFG_HZ), 10);
    assert_int_equal(config_get_u64(CFG_PROTO_MAX_BULK_LEN), 512ULL << 20);
    assert_int_equal(config_get_u64(CFG_PORT), 6379);
    /* CONFIG GET formatting */
    assert_value("proto-max-bulk-len", "536870912");
    assert_value("pin-threads", "yes");
    assert_value("allow-undeclared-keys", "no");
    assert_value("maxmemory-policy", "noeviction");
    assert_value("bind", "127.0.0.1 -::1");
    assert_value("lua-time-limit", "5000");
    assert_value("requirepass", "");
}

/* ---- parsing ------------------------------------------------------------ */

static long long mem(const char *v)
{
    char err[256];
    if (config_set_arg("store.maxmemory", v, err, sizeof err) != 0)
        fail_msg("maxmemory %s: %s", v, err);
    return config_get(maxmemory);
}

static void assert_set_fails(const char *opt, const char *v, const char *want_err)
{
    char err[256] = "";
    if (config_set_arg(opt, v, err, sizeof err) == 0)
        fail_msg("--%s %s was accepted", opt, v);
    if (want_err && !strstr(err, want_err))
        fail_msg("--%s %s: error '%s' lacks '%s'", opt, v, err, want_err);
}

static void test_memory_sizes(void **state)
{
    assert_int_equal(mem("1024"), 1024);
    assert_int_equal(mem("0"), 0);
    assert_int_equal(mem("10b"), 10);
    assert_int_equal(mem("1k"), 1000);
    assert_int_equal(mem("1kb"), 1024);
    assert_int_equal(mem("1m"), 1000000);
    assert_int_equal(mem("1mb"), 1048576);
    assert_int_equal(mem("1g"), 1000000000);
    assert_int_equal(mem("1gb"), 1073741824);
    assert_int_equal(mem("3GB"), 3LL << 30);
    assert_int_equal(mem("2Mb"), 2LL << 20);
    assert_int_equal(mem("5K"), 5000);
    assert_int_equal(mem("007kb"), 7 * 1024);
    assert_int_equal(mem("65536gb"), 64LL << 40); /* maxmemory's maximum */
    const char *bad[] = {"", "k", "1x", "1kbb", "-1", "+1", "1.5mb", " 1", "1 ", "1 kb",
                         "9223372036854775808", "9999999999gb", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_set_fails("store.maxmemory", bad[i], "argument must be a memory value");
    assert_int_equal(config_get(maxmemory), 64LL << 40); /* unchanged */
    /* bounds on memory options: each has a finite maximum */
    assert_set_fails("store.maxmemory", "9223372036854775807",
                     "argument must be between 0 and 70368744177664 inclusive");
    assert_set_fails("store.maxmemory", "65537gb", "between 0 and 70368744177664 inclusive");
    assert_set_fails("limits.proto-max-bulk-len", "1000kb",
                     "argument must be between 1048576 and 17179869184 inclusive");
    assert_set_fails("limits.proto-max-bulk-len", "9223372036854775807",
                     "argument must be between 1048576 and 17179869184 inclusive");
    assert_set_fails("limits.client-query-buffer-limit", "17gb",
                     "argument must be between 1048576 and 17179869184 inclusive");
    assert_set_fails("limits.client-output-high-water", "17gb",
                     "argument must be between 0 and 17179869184 inclusive");
    assert_set_fails("limits.client-output-buffer-limit", "normal 1mb 2mb",
                     "Wrong number of arguments in buffer limit configuration.");
    assert_set_fails("limits.client-output-buffer-limit", "replica 1mb 2mb 3",
                     "Invalid client class specified in buffer limit configuration.");
    assert_set_fails("limits.client-output-buffer-limit", "normal 1mb 2mb 3kb",
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    assert_set_fails("scripting.memory-limit", "17gb",
                     "argument must be between 0 and 17179869184 inclusive");
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (config_opts[i].type == CFGT_MEM)
            assert_true(config_opts[i].max <= 64LL << 40);
    char err[256];
    assert_int_equal(config_set_arg("limits.proto-max-bulk-len", "1mb", err, sizeof err), 0);
    assert_int_equal(config_get(proto_max_bulk_len), 1LL << 20);
    assert_int_equal(config_set_arg("limits.proto-max-bulk-len", "16gb", err, sizeof err), 0);
    assert_int_equal(config_get(proto_max_bulk_len), 16LL << 30);
}

static void test_int_bool_enum(void **state)
{
    char err[256];
    assert_int_equal(config_set_arg("server.port", "7000", err, sizeof err), 0);
    assert_int_equal(config_get(port), 7000);
    assert_set_fails("server.port", "abc", "argument couldn't be parsed into an integer");
    assert_set_fails("server.port", "", "argument couldn't be parsed into an integer");
    assert_set_fails("server.port", "07000", "argument couldn't be parsed into an integer");
    assert_set_fails("server.port", "70 ", "argument couldn't be parsed into an integer");
    assert_set_fails("server.port", "1k", "argument couldn't be parsed into an integer");
    assert_set_fails("server.port", "0", "argument must be between 1 and 65535 inclusive");
    assert_set_fails("server.port", "65536", "argument must be between 1 and 65535 inclusive");
    assert_set_fails("server.port", "-1", "argument must be between 1 and 65535 inclusive");
    assert_set_fails("server.port", "99999999999999999999", "couldn't be parsed");
    assert_int_equal(config_get(port), 7000);
    assert_set_fails("server.threads", "257", "argument must be between 0 and 256 inclusive");
    assert_int_equal(config_set_arg("server.threads", "256", err, sizeof err), 0);
    assert_int_equal(config_set_arg("store.active-expire-effort", "10", err, sizeof err), 0);
    assert_set_fails("store.active-expire-effort", "11", "between 1 and 10 inclusive");
    assert_set_fails("store.active-expire-effort", "0", "between 1 and 10 inclusive");

    /* powers of two */
    assert_set_fails("scheduler.ring-size", "1000", "argument must be a power of two");
    assert_set_fails("scheduler.ring-size", "0", "argument must be between 16 and 1048576");
    assert_int_equal(config_set_arg("scheduler.ring-size", "1024", err, sizeof err), 0);
    assert_int_equal(config_get(ring_size), 1024);
    assert_set_fails("store.partitions", "3", "argument must be 0 or a power of two");
    assert_set_fails("store.partitions", "32768", "between 0 and 16384 inclusive");
    assert_int_equal(config_set_arg("store.partitions", "16384", err, sizeof err), 0);
    assert_int_equal(config_set_arg("store.partitions", "1", err, sizeof err), 0);
    assert_int_equal(config_set_arg("store.partitions", "0", err, sizeof err), 0);

    /* bools */
    assert_int_equal(config_set_arg("server.pin-threads", "no", err, sizeof err), 0);
    assert_int_equal(config_get(pin_threads), 0);
    assert_int_equal(config_set_arg("server.pin-threads", "YES", err, sizeof err), 0);
    assert_int_equal(config_get(pin_threads), 1);
    assert_set_fails("server.pin-threads", "1", "argument must be 'yes' or 'no'");
    assert_set_fails("server.pin-threads", "true", "argument must be 'yes' or 'no'");
    assert_set_fails("server.pin-threads", "yess", "argument must be 'yes' or 'no'");

    /* enums */
    assert_int_equal(config_set_arg("server.loglevel", "WARNING", err, sizeof err), 0);
    assert_int_equal(config_get(loglevel), LOG_WARNING);
    assert_set_fails("server.loglevel", "loud",
                     "argument must be one of the following: debug, verbose, notice, warning");
    assert_int_equal(config_set_arg("scheduler.policy", "work-stealing", err, sizeof err), 0);
    assert_string_equal(config_policy_name(), "work-stealing");
    assert_set_fails("scheduler.policy", "share", "share-nothing, shared-locks, work-stealing");
    assert_int_equal(config_set_arg("store.maxmemory-policy", "volatile-ttl", err, sizeof err), 0);
    assert_int_equal(config_get(maxmemory_policy), MAXMEM_VOLATILE_TTL);

    /* strings and the address list */
    assert_int_equal(config_set_arg("server.bind", "  10.0.0.1   -::1\t* ", err, sizeof err), 0);
    assert_string_equal(cfg.bind, "10.0.0.1 -::1 *");
    assert_set_fails("server.bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
                     "Too many bind addresses specified.");
    assert_set_fails("server.bind", "127.0.0.1 -", "invalid bind address '-'");
    char longpw[600];
    memset(longpw, 'x', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_set_fails("security.requirepass", longpw, "argument must be at most 512 bytes");
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
    assert_int_equal(config_auth_required(), 1);
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

/* ---- command-line overrides ---------------------------------------------- */

static void test_set_arg(void **state)
{
    char err[256] = "";
    assert_int_equal(config_set_arg("--server.port", "7004", err, sizeof err), 0);
    assert_int_equal(config_get(port), 7004);
    assert_int_equal(config_set_arg("store.maxmemory", "2gb", err, sizeof err), 0);
    assert_int_equal(config_get(maxmemory), 2LL << 30);
    assert_int_equal(config_set_arg("scripting.lua-time-limit", "99", err, sizeof err), 0);
    assert_int_equal(config_get(busy_reply_threshold), 99);
    assert_int_equal(config_set_arg("SERVER.Timeout", "30", err, sizeof err), 0);
    assert_int_equal(config_get(timeout), 30);

    assert_set_fails("--port", "1", "unknown option --port");
    assert_set_fails("--nosuch.port", "1", "no section [nosuch]");
    assert_set_fails("--server.nosuch", "1", "no key 'nosuch' in [server]");
    assert_set_fails("--store.port", "1", "no key 'port' in [store]");
    assert_set_fails("--server.port", "x", "bad value 'x' for --server.port");
    assert_set_fails("--server.port", NULL, "needs a value");
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
    assert_int_equal(config_auth_required(), 1);
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
    assert_int_equal(config_auth_required(), 0);

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
        sum += config_check_password("pw1", 3) + config_auth_required();
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
    assert_int_equal(config_auth_required(), 0);
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
        cmocka_unit_test_setup_teardown(test_table_sane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_and_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_bool_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_comment_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_arg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_cross_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_maxclients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_ini_matches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

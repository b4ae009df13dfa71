/* Unit tests of the config module's options: the option table, names and
 * aliases, the defaults, the value parsers (sizes, ints, bools, enums) and
 * command-line overrides. */
#include "log.h"
#include "scheduler.h"
#include "store.h"

#include "config_harness.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_sane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_and_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_bool_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_arg, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

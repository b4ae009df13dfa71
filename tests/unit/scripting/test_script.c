/* Unit tests for the script engine end to end: EVAL/EVALSHA/SCRIPT through
 * script_eval() with a hand-built cmd_ctx_t (the partitions of its KEYS held,
 * as the scheduler would), on the store and command table. Covers the redis
 * API, errors and their texts, the key rule, the sandbox, and the memory and
 * time limits (SCRIPT KILL from another thread). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "all_commands.h"
#include "command.h"
#include "config.h"
#include "script.h"
#include "store.h"

#define NPARTS 8

static buf_t out;
static char text[8192];
static int eval_worker = -1;     /* the worker EVAL runs "on": 0 for the stats tests */

static int setup(void **state)
{
    (void)state;
    config_defaults();
    store_setup(NPARTS, 16);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    command_setup(all_commands);
    buf_init(&out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    script_teardown();
    command_stats_teardown();
    command_teardown();
    store_teardown();
    buf_free(&out);
    return 0;
}

/* Run EVAL-family command `name` with argv[1..] = words (NULL-ended), the
 * task holding its keys' partitions (or all with allow-undeclared-keys);
 * returns the reply text. */
static const char *run_proto(int proto, const char *name, const char *const *words)
{
    sv_t argv[64];
    int argc = 0;
    argv[argc++] = (sv_t){name, strlen(name)};
    for (; words[argc - 1]; argc++)
        argv[argc] = (sv_t){words[argc - 1], strlen(words[argc - 1])};
    int parts[NPARTS], nparts = 0;
    long long nk = argc >= 3 ? atoll(argv[2].p) : 0;
    if (config_get_int(CFG_ALLOW_UNDECLARED_KEYS)) {
        for (int p = 0; p < NPARTS; p++)
            parts[nparts++] = p;
    } else if (nk > 0 && nk <= argc - 3) {
        int seen[NPARTS] = {0};
        for (int i = 0; i < nk; i++)
            seen[store_part_of_key(argv[3 + i])] = 1;
        for (int p = 0; p < NPARTS; p++)
            if (seen[p])
                parts[nparts++] = p;
    }
    out.len = 0;
    reply_t r = {.out = &out, .proto = proto};
    cmd_ctx_t c = {.argc = argc, .argv = argv, .r = &r, .db = 0, .now_ms = now_ms(),
                   .cmd = command_lookup(argv[0]), .worker = eval_worker, .parts = parts,
                   .nparts = nparts};
    command_call(&c, 0); /* the one path: the handler, then the statistics */
    size_t n = out.len < sizeof text - 1 ? out.len : sizeof text - 1;
    memcpy(text, out.data, n);
    text[n] = '\0';
    return text;
}

#define EVAL(...) run_proto(2, "eval", (const char *const[]){__VA_ARGS__, NULL})
#define EVAL3(...) run_proto(3, "eval", (const char *const[]){__VA_ARGS__, NULL})
#define EVALSHA(...) run_proto(2, "evalsha", (const char *const[]){__VA_ARGS__, NULL})
#define EVAL_RO(...) run_proto(2, "eval_ro", (const char *const[]){__VA_ARGS__, NULL})

static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("reply %s does not start with %s", s, prefix);
}

static void assert_contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("reply %s does not contain %s", s, part);
}

static void test_basics(void **state)
{
    (void)state;
    assert_string_equal(EVAL("return 'hello'", "0"), "$5\r\nhello\r\n");
    assert_string_equal(EVAL("return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "a{t}", "b{t}",
                             "c", "d"),
                        "*4\r\n$4\r\na{t}\r\n$4\r\nb{t}\r\n$1\r\nc\r\n$1\r\nd\r\n");
    assert_string_equal(EVAL("return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"),
                        "+OK\r\n");
    assert_string_equal(EVAL("return redis.call('get', KEYS[1])", "1", "k"), "$1\r\nv\r\n");
    assert_string_equal(EVAL("local r = redis.call('set', KEYS[1], 1) return r.ok", "1", "k"),
                        "$2\r\nOK\r\n");
    assert_string_equal(EVAL("return redis.call('incr', KEYS[1])", "1", "k"), ":2\r\n");
    assert_string_equal(EVAL("local v = redis.call('get', KEYS[1]) return {type(v), v}", "1",
                             "nokey"),
                        "*2\r\n$7\r\nboolean\r\n$-1\r\n");
    EVAL("redis.call('set', KEYS[1], 'abc')", "1", "k2x");
    assert_string_equal(EVAL("local e = redis.pcall('incr', KEYS[1]) return e.err", "1", "k2x"),
                        "$43\r\nERR value is not an integer or out of range\r\n");
    /* numbers as arguments: integers exact, floats shortest */
    assert_string_equal(EVAL("redis.call('set', KEYS[1], 9007199254740991) return "
                             "redis.call('get', KEYS[1])", "1", "n"),
                        "$16\r\n9007199254740991\r\n");
    assert_string_equal(EVAL("redis.call('set', KEYS[1], 6/2) return redis.call('get', KEYS[1])",
                             "1", "n"),
                        "$1\r\n3\r\n");
    assert_string_equal(EVAL("return redis.REDIS_VERSION", "0"), "$6\r\n7.0.15\r\n");
    assert_string_equal(EVAL("return redis.sha1hex('')", "0"),
                        "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n");
    assert_string_equal(EVAL("return redis.status_reply('FINE')", "0"), "+FINE\r\n");
    assert_string_equal(EVAL("return redis.error_reply('MY_ERR custom')", "0"),
                        "-MY_ERR custom\r\n");
    assert_string_equal(EVAL("return redis.error_reply('')", "0"), "-ERR \r\n");
    assert_string_equal(EVAL("return redis.call('ping')", "0"), "+PONG\r\n");
    assert_string_equal(EVAL("return redis.call('echo', 'x')", "0"), "$1\r\nx\r\n");
    assert_string_equal(EVAL("return unpack({1, 2})", "0"), ":1\r\n");
    assert_string_equal(EVAL("return table.getn({1, 2, 3})", "0"), ":3\r\n");
    assert_string_equal(EVAL("return bit.band(0xff, 0x0f) + bit.bnot(0)", "0"), ":14\r\n");
    assert_string_equal(EVAL("return bit.tohex(65535, -2147483648)", "0"), "$8\r\n0000FFFF\r\n");
    assert_string_equal(EVAL("return bit.tobit(0xffffffff)", "0"), ":-1\r\n");
    assert_string_equal(EVAL("return cjson.encode({1, 2})", "0"), "$5\r\n[1,2]\r\n");
    assert_string_equal(EVAL("return table.concat(cjson.decode('[0.0, -5e3, 1023.2]'), ' ')", "0"),
                        "$14\r\n0 -5000 1023.2\r\n");
    assert_string_equal(EVAL("return math.pow(2, 3) + math.mod(7, 4)", "0"), ":11\r\n");
    assert_string_equal(EVAL("return os.time() > 0 and os.clock() >= 0", "0"), ":1\r\n");
    assert_string_equal(EVAL("return loadstring('return 7')()", "0"), ":7\r\n");
}

static void test_resp3(void **state)
{
    (void)state;
    EVAL("redis.call('set', KEYS[1], 'v')", "1", "k");
    /* Lua booleans follow the script's protocol, null the client's */
    assert_string_equal(EVAL3("return false", "0"), "_\r\n");
    assert_string_equal(EVAL3("redis.setresp(3) return false", "0"), "#f\r\n");
    assert_string_equal(EVAL("redis.setresp(3) return true", "0"), ":1\r\n");
    assert_string_equal(EVAL3("redis.setresp(3) return redis.call('get', KEYS[1])", "1", "none"),
                        "_\r\n");
    assert_string_equal(EVAL3("return {map={a=1}}", "0"), "%1\r\n$1\r\na\r\n:1\r\n");
    assert_string_equal(EVAL("return {map={a=1}}", "0"), "*2\r\n$1\r\na\r\n:1\r\n");
    assert_string_equal(EVAL3("return {double=1.5}", "0"), ",1.5\r\n");
    assert_prefix(EVAL("redis.setresp(4)", "0"), "-ERR RESP version must be 2 or 3.");
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(EVAL("return 1", "x"), "-ERR value is not an integer or out of range\r\n");
    assert_string_equal(EVAL("return 1", "-1"), "-ERR Number of keys can't be negative\r\n");
    assert_string_equal(EVAL("return 1", "2", "a"),
                        "-ERR Number of keys can't be greater than number of args\r\n");
    assert_prefix(EVAL("return redis.call()", "0"),
                  "-ERR Please specify at least one argument for this redis lib call script: ");
    assert_prefix(EVAL("redis.call('nosuchcommand')", "0"),
                  "-ERR Unknown Redis command called from script script: ");
    assert_contains(EVAL("redis.call('nosuchcommand')", "0"), ", on @user_script:1.");
    assert_prefix(EVAL("redis.call('get', 'a', 'b')", "0"),
                  "-ERR Wrong number of args calling Redis command from script script: ");
    assert_prefix(EVAL("redis.call('ping', {})", "0"),
                  "-ERR Lua redis lib command arguments must be strings or integers script: ");
    assert_prefix(EVAL("redis.call('hello', '3')", "0"),
                  "-ERR This Redis command is not allowed from script script: ");
    assert_prefix(EVAL("redis.call('client', 'list')", "0"),
                  "-ERR This Redis command is not allowed from script");
    EVAL("redis.call('set', KEYS[1], 'v')", "1", "s");
    assert_prefix(EVAL("\n\nredis.call('incr', KEYS[1])", "1", "s"),
                  "-ERR value is not an integer or out of range script: ");
    assert_contains(EVAL("\n\nredis.call('incr', KEYS[1])", "1", "s"), "on @user_script:3.");
    assert_prefix(EVAL_RO("redis.call('del', KEYS[1])", "1", "s"),
                  "-ERR Write commands are not allowed from read-only scripts. script: ");
    assert_string_equal(
        EVAL_RO("return redis.pcall('set', KEYS[1], 1).err", "1", "s"),
        "$58\r\nERR Write commands are not allowed from read-only scripts.\r\n");
    assert_string_equal(EVAL_RO("return redis.call('get', KEYS[1])", "1", "s"), "$1\r\nv\r\n");
    assert_prefix(EVAL("#!lua flags=no-writes\nredis.call('set', KEYS[1], 1)", "1", "s"),
                  "-ERR Write commands are not allowed from read-only scripts.");
    assert_prefix(EVAL("return 'x' ..", "0"), "-ERR Error compiling script (new function): "
                                                "user_script:1:");
    assert_prefix(EVAL("#!not-lua\nreturn 1", "0"),
                  "-ERR Unexpected engine in script shebang: #!not-lua\r\n");
    assert_prefix(EVAL("#!lua badger=data\nreturn 1", "0"),
                  "-ERR Unknown lua shebang option: badger=data\r\n");
    assert_prefix(EVAL("#!lua flags=allow-oom,what?\nreturn 1", "0"),
                  "-ERR Unexpected flag in script shebang: what?\r\n");
    assert_string_equal(EVAL("#!lua\nreturn 1", "0"), ":1\r\n");
    assert_string_equal(EVAL("return {err='ERR this is an error'}", "0"),
                        "-ERR this is an error\r\n");
    assert_prefix(EVAL("error({err='MY code'})", "0"), "-MY code script: ");
    assert_prefix(EVAL("error('boom')", "0"), "-ERR user_script:1: boom script: ");
    assert_prefix(EVAL("local t = redis.error_reply('X\\r\\n+INJECTED') error(t)", "0"),
                  "-ERR X  +INJECTED script: ");
    assert_prefix(EVAL("return redis.sha1hex()", "0"), "-ERR wrong number of arguments");
    assert_prefix(EVAL("return {unpack({1,2,3}, 0, 2147483647)}", "0"),
                  "-ERR user_script:1: too many results to unpack");
    assert_string_equal(EVAL("local s, r = pcall(function() return foo end) return r", "0"),
                        "$75\r\nuser_script:1: Script attempted to access nonexistent global "
                        "variable 'foo'\r\n");
}

static void test_cache(void **state)
{
    (void)state;
    const char *get = "return redis.call('get',KEYS[1])";
    const char *sha = "fd758d1589d044dd850a6f05d52f2eefd27f033f";
    EVAL("redis.call('set', KEYS[1], 'myval')", "1", "mykey");
    assert_string_equal(EVALSHA(sha, "1", "mykey"),
                        "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    assert_string_equal(EVAL(get, "1", "mykey"), "$5\r\nmyval\r\n");
    assert_string_equal(EVALSHA(sha, "1", "mykey"), "$5\r\nmyval\r\n");
    assert_string_equal(EVALSHA("FD758D1589D044DD850A6F05D52F2EEFD27F033F", "1", "mykey"),
                        "$5\r\nmyval\r\n");
    assert_string_equal(EVALSHA("NotValidShaSUM", "0"),
                        "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    assert_int_equal(script_exists((sv_t){sha, 40}), 1);
    assert_int_equal(script_exists(SV_LIT("ffd632c7d33e571e9f24556ebed26c3479a87130")), 0);
    buf_t info;
    buf_init(&info);
    script_info(&info);
    buf_putc(&info, '\0');
    assert_non_null(strstr(info.data, "number_of_cached_scripts:"));
    assert_non_null(strstr(info.data, "scripts_single_partition:"));
    buf_free(&info);
    script_flush();
    assert_int_equal(script_exists((sv_t){sha, 40}), 0);
    assert_string_equal(EVALSHA(sha, "1", "mykey"),
                        "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    /* a flushed state is rebuilt: globals and libraries still there */
    assert_string_equal(EVAL("return type(redis.call)", "0"), "$8\r\nfunction\r\n");
}

static void test_keys_rule(void **state)
{
    (void)state;
    assert_string_equal(EVAL("return redis.call('set', KEYS[1], 1)", "1", "a"), "+OK\r\n");
    assert_prefix(EVAL("return redis.call('set', 'b', 1)", "1", "a"),
                  "-ERR script tried accessing undeclared key, key: b script: ");
    assert_prefix(EVAL("return redis.call('get', 'b')", "0"),
                  "-ERR script tried accessing undeclared key, key: b");
    assert_prefix(EVAL("return redis.call('keys', '*')", "1", "a"),
                  "-ERR script tried accessing undeclared keys");
    /* a key in a held partition but not declared is still refused */
    assert_prefix(EVAL("return redis.call('get', '{a}x')", "1", "{a}y"),
                  "-ERR script tried accessing undeclared key");
    assert_string_equal(EVAL("return redis.call('mget', KEYS[1], KEYS[2])", "2", "a", "zz"),
                        "*2\r\n$1\r\n1\r\n$-1\r\n");
    atomic_store(&cfg.allow_undeclared_keys, 1);
    assert_string_equal(EVAL("redis.call('set', 'b', 2) return #redis.call('keys', '*')", "0"),
                        ":2\r\n");
    atomic_store(&cfg.allow_undeclared_keys, 0);
    /* SELECT changes the script's database only */
    assert_string_equal(EVAL("redis.call('select', 9) redis.call('set', KEYS[1], 'db9') "
                             "return redis.call('get', KEYS[1])",
                             "1", "a"),
                        "$3\r\ndb9\r\n");
    assert_string_equal(EVAL("return redis.call('get', KEYS[1])", "1", "a"), "$1\r\n1\r\n");
    assert_prefix(EVAL("return redis.call('select', 99)", "0"), "-ERR DB index is out of range");
}

static void test_sandbox(void **state)
{
    (void)state;
    assert_prefix(EVAL("a = 10", "0"), "-ERR user_script:1: Attempt to modify a readonly table");
    assert_prefix(EVAL("return a", "0"), "-ERR user_script:1: Script attempted to access "
                                         "nonexistent global variable 'a'");
    static const char *const ro[] = {
        "setmetatable(_G, {})",
        "local g = getmetatable(_G) g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "string.rep = nil",
        "table.insert(redis, 1)",
        "rawset(_G, 'x', 1)",
        "rawset(redis, 'call', nil)",
        "getmetatable('').__index = function() return 1 end",
        "getmetatable('').__index.upper = 1",
        "KEYS = {}",
        "function f() end",
    };
    for (size_t i = 0; i < sizeof ro / sizeof *ro; i++)
        assert_contains(EVAL(ro[i], "0"), "Attempt to modify a readonly table");
    static const char *const gone[] = {"loadfile", "dofile", "print", "require", "io", "debug",
                                       "package", "setfenv", "getfenv", "newproxy", "warn"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++) {
        char code[64], want[128];
        snprintf(code, sizeof code, "return %s", gone[i]);
        snprintf(want, sizeof want, "nonexistent global variable '%s'", gone[i]);
        assert_contains(EVAL(code, "0"), want);
    }
    assert_prefix(EVAL("return os.execute", "0"), "$-1\r\n");
    assert_prefix(EVAL("return os.getenv", "0"), "$-1\r\n");
    /* pairs() on a read-only table never hands out the real one */
    assert_string_equal(EVAL("local f, t = pairs(redis) local n = 0 for k in pairs(redis) do "
                             "n = n + 1 end return {tostring(t == redis), n > 5}", "0"),
                        "*2\r\n$4\r\ntrue\r\n:1\r\n");
    assert_string_equal(EVAL("local t = {} rawset(t, 1, 2) return t[1]", "0"), ":2\r\n");
    assert_string_equal(EVAL("return ('x'):upper()", "0"), "$1\r\nX\r\n");
    /* bytecode never loads */
    assert_prefix(EVAL("return loadstring(string.dump(function() return 1 end))()", "0"),
                  "-ERR user_script:1: attempt to call a nil value");
    assert_string_equal(EVAL("local f, e = load(string.dump(function() return 1 end), 'x', 'b') "
                             "return e",
                             "0"),
                        "$44\r\nattempt to load a binary chunk (mode is 't')\r\n");
    assert_string_equal(EVAL("return load('return 5')()", "0"), ":5\r\n");
    assert_string_equal(EVAL("return load('return x', 'c', 't', {x = 6})()", "0"), ":6\r\n");
    /* a chunk's _ENV is reset before every run */
    const char *envs = "if rawget(_ENV, 'n') then return 'leaked' end _ENV = {n = 1} return 'ok'";
    assert_string_equal(EVAL(envs, "0"), "$2\r\nok\r\n");
    assert_string_equal(EVAL(envs, "0"), "$2\r\nok\r\n");
    /* no finalizers: they would run outside the script's limits */
    assert_contains(EVAL("setmetatable({}, {__gc = function() while true do end end})", "0"),
                    "__gc metamethods are not allowed in scripts");
    assert_string_equal(EVAL("local t = setmetatable({}, {__index = function() return 3 end}) "
                             "return t.x",
                             "0"),
                        ":3\r\n");
    /* getmetatable on other types: nil, so indexing it fails */
    assert_contains(EVAL("getmetatable(nil).__index = 1", "0"), "attempt to index a nil value");
}

static void test_resources(void **state)
{
    (void)state;
    atomic_store(&cfg.memory_limit, 4 * 1024 * 1024);
    assert_contains(EVAL("return #string.rep('x', 64 * 1024 * 1024)", "0"), "not enough memory");
    assert_contains(EVAL("local t = {} for i = 1, 1e8 do t[i] = i end", "0"), "not enough memory");
    assert_contains(EVAL("local s = 'x' while true do s = s .. s end", "0"), "not enough memory");
    /* caught inside the script, the script goes on */
    assert_string_equal(EVAL("local ok = pcall(string.rep, 'x', 64 * 1024 * 1024) return "
                             "tostring(ok)",
                             "0"),
                        "$5\r\nfalse\r\n");
    assert_string_equal(EVAL("return 'alive'", "0"), "$5\r\nalive\r\n");
    atomic_store(&cfg.memory_limit, 64 * 1024 * 1024);
    /* Lua 5.4 bounds recursion by its stack (a million slots), which may
     * run into memory-limit first: either way an error, and the state lives */
    const char *deep = EVAL("local function f() return 1 + f() end return f()", "0");
    if (!strstr(deep, "stack overflow") && !strstr(deep, "not enough memory"))
        fail_msg("deep recursion: %s", deep);
    /* nested pcalls stop at Lua's C-stack limit; the outermost succeeds */
    assert_string_equal(EVAL("local function f() return pcall(f) end return tostring(f())", "0"),
                        "$4\r\ntrue\r\n");
    assert_contains(EVAL("local a = {} local b = {a} a[1] = b return a", "0"),
                    "-ERR reached lua stack limit\r\n");
    assert_string_equal(EVAL("return 'alive'", "0"), "$5\r\nalive\r\n");
}

static void test_cmsgpack(void **state)
{
    (void)state;
    const char *hex = "local function hex(s) local h = '' for i = 1, #s do "
                      "h = h .. string.format('%02x', s:byte(i)) end return h end ";
    char code[512];
    static const struct {
        const char *expr, *want;
    } packs[] = {
        {"0.1", "cb3fb999999999999a"},
        {"-1099511627776", "d3ffffff0000000000"},
        {"1.5", "ca3fc00000"},
        {"5", "05"},
        {"-1", "ff"},
        {"-33", "d0df"},
        {"200", "ccc8"},
        {"65536", "ce00010000"},
        {"3.0", "03"},
        {"nil", "c0"},
        {"true, false", "c3c2"},
        {"'abc'", "a3616263"},
        {"{1, 2}", "920102"},
        {"{}", "90"},
        {"{a = 1}", "81a16101"},
    };
    for (size_t i = 0; i < sizeof packs / sizeof *packs; i++) {
        snprintf(code, sizeof code, "%sreturn hex(cmsgpack.pack(%s))", hex, packs[i].expr);
        char want[128];
        snprintf(want, sizeof want, "$%zu\r\n%s\r\n", strlen(packs[i].want), packs[i].want);
        assert_string_equal(EVAL(code, "0"), want);
    }
    assert_string_equal(EVAL("local t = cmsgpack.unpack(cmsgpack.pack({1, 'x', {k = 'v'}, "
                             "2^40, -5, 0.25, true})) "
                             "return {t[1], t[2], t[3].k, t[4] == 2^40, t[5], tostring(t[6]), "
                             "t[7]}",
                             "0"),
                        "*7\r\n:1\r\n$1\r\nx\r\n$1\r\nv\r\n:1\r\n:-5\r\n$4\r\n0.25\r\n:1\r\n");
    assert_string_equal(EVAL("local s = cmsgpack.pack('a', string.rep('b', 300), 7) "
                             "local o, v = cmsgpack.unpack_limit(s, 1, 0) "
                             "local o2, w = cmsgpack.unpack_limit(s, 1, o) "
                             "local o3, x = cmsgpack.unpack_one(s, o2) "
                             "return {o, #w, o3, x, select('#', cmsgpack.unpack(s))}",
                             "0"),
                        "*5\r\n:2\r\n:300\r\n:-1\r\n:7\r\n:3\r\n");
    /* self-references stop at 16 levels */
    assert_string_equal(EVAL("local a = {} a.x = a local t = cmsgpack.unpack(cmsgpack.pack(a)) "
                             "local d = 0 while type(t) == 'table' do d = d + 1 t = t.x end "
                             "return d",
                             "0"),
                        ":16\r\n");
    assert_contains(EVAL("return cmsgpack.unpack('\\xa5ab')", "0"), "Missing bytes in input.");
    assert_contains(EVAL("return cmsgpack.unpack('\\xc1')", "0"), "Bad data format in input.");
    assert_contains(EVAL("return cmsgpack.unpack('\\xdd\\xff\\xff\\xff\\xff')", "0"),
                    "Missing bytes in input.");
    assert_contains(EVAL("cmsgpack.pack = nil", "0"), "Attempt to modify a readonly table");
}

static void test_oom(void **state)
{
    (void)state;
    EVAL("redis.call('set', KEYS[1], 'some value')", "1", "full");
    atomic_store(&cfg.maxmemory, 1);
    store_set_maxmemory(1, MAXMEM_NOEVICTION, 5);
    assert_prefix(EVAL("return redis.call('set', KEYS[1], 'x')", "1", "full"),
                  "-OOM command not allowed when used memory > 'maxmemory'. script: ");
    assert_string_equal(EVAL("return redis.pcall('set', KEYS[1], 'x').err", "1", "full"),
                        "$55\r\nOOM command not allowed when used memory > 'maxmemory'.\r\n");
    /* reads are fine; and once a script wrote, it is not stopped halfway */
    assert_string_equal(EVAL("return redis.call('get', KEYS[1])", "1", "full"),
                        "$10\r\nsome value\r\n");
    assert_string_equal(EVAL("redis.call('del', KEYS[1]) return redis.call('set', KEYS[1], 'y')",
                             "1", "full"),
                        "+OK\r\n");
    /* with a shebang the check is made before the script runs */
    assert_prefix(EVAL("#!lua\nreturn 1", "1", "full"), "-OOM allow-oom flag is not set");
    assert_string_equal(EVAL("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1",
                             "full"),
                        "$1\r\ny\r\n");
    assert_string_equal(EVAL("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'z')", "1",
                             "full"),
                        "+OK\r\n");
    atomic_store(&cfg.maxmemory, 0);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    assert_string_equal(EVAL("return redis.call('set', KEYS[1], 'x')", "1", "full"), "+OK\r\n");
}

/* ---- SCRIPT KILL from another thread ----------------------------------- */

static char kill_reply[256];
static _Atomic int kill_done;

static void *killer(void *arg)
{
    (void)arg;
    usleep(150 * 1000);
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = 2};
    script_kill(&r);
    buf_putc(&b, '\0');
    snprintf(kill_reply, sizeof kill_reply, "%s", b.data);
    buf_free(&b);
    atomic_store(&kill_done, 1);
    return NULL;
}

static const char *eval_with_killer(const char *script, const char *nk, const char *key)
{
    pthread_t t;
    atomic_store(&kill_done, 0);
    pthread_create(&t, NULL, killer, NULL);
    const char *res = key ? EVAL(script, nk, key) : EVAL(script, nk);
    pthread_join(t, NULL);
    return res;
}

static void test_kill(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = 2};
    script_kill(&r);
    buf_putc(&b, '\0');
    assert_string_equal(b.data, "-NOTBUSY No scripts in execution right now.\r\n");
    buf_free(&b);

    atomic_store(&cfg.busy_reply_threshold, 20);
    assert_prefix(eval_with_killer("while true do end", "0", NULL),
                  "-ERR Script killed by user with SCRIPT KILL... script: ");
    assert_string_equal(kill_reply, "+OK\r\n");
    /* pcall cannot hold on to a killed script */
    assert_prefix(eval_with_killer("local f = function() while 1 do redis.call('ping') end end "
                                   "while 1 do pcall(f) end",
                                   "0", NULL),
                  "-ERR Script killed by user with SCRIPT KILL...");
    /* a script that wrote is unkillable: it ends on its own */
    assert_string_equal(eval_with_killer("redis.call('set', KEYS[1], 'y') local t = os.clock() "
                                         "while os.clock() - t < 0.4 do end return 'done'",
                                         "1", "x"),
                        "$4\r\ndone\r\n");
    assert_prefix(kill_reply, "-UNKILLABLE Sorry the script already executed write commands");
    /* busy only past the threshold */
    atomic_store(&cfg.busy_reply_threshold, 5000);
    assert_string_equal(eval_with_killer("local t = os.clock() while os.clock() - t < 0.3 do end "
                                         "return 1",
                                         "0", NULL),
                        ":1\r\n");
    assert_string_equal(kill_reply, "-NOTBUSY No scripts in execution right now.\r\n");
    assert_string_equal(EVAL("return 'alive'", "0"), "$5\r\nalive\r\n");
}

/* INFO's error counts for scripts, Redis 7.0's rules ("Consistent eval error
 * reporting" in its scripting.tcl): an error is counted once, where it is
 * first replied; a call refused inside a script counts even under pcall; an
 * EVAL replying such an error fails without counting it again. The EVAL
 * itself runs through command_call, which counts its own part. */
typedef struct err_counts {
    uint64_t total;         /* total_error_replies */
    uint64_t eval_failed;   /* cmdstat_eval failed_calls */
    uint64_t set_rejected;  /* cmdstat_set rejected_calls */
    uint64_t select_failed; /* cmdstat_select failed_calls */
} err_counts_t;

static uint64_t cmd_stat(const char *name, int rejected)
{
    cmd_stats_t *cs = &command_stats(0)[command_lookup((sv_t){name, strlen(name)})->id];
    return stat_get(rejected ? &cs->rejected_calls : &cs->failed_calls);
}

/* EVAL on worker 0, then the counts so far. */
static err_counts_t eval_counts(const char *name, const char *script, const char *numkeys,
                                const char *key)
{
    run_proto(2, name, (const char *const[]){script, numkeys, key, NULL});
    return (err_counts_t){
        stat_get(&command_worker_stats(0)->error_replies),
        cmd_stat(name, 0),
        cmd_stat("set", 1),
        cmd_stat("select", 0),
    };
}

static void assert_counts(err_counts_t got, uint64_t total, uint64_t eval_failed,
                          uint64_t set_rejected, uint64_t select_failed)
{
    if (got.total != total || got.eval_failed != eval_failed ||
        got.set_rejected != set_rejected || got.select_failed != select_failed)
        fail_msg("errors %llu eval-failed %llu set-rejected %llu select-failed %llu, want "
                 "%llu %llu %llu %llu (after %s)",
                 (unsigned long long)got.total, (unsigned long long)got.eval_failed,
                 (unsigned long long)got.set_rejected, (unsigned long long)got.select_failed,
                 (unsigned long long)total, (unsigned long long)eval_failed,
                 (unsigned long long)set_rejected, (unsigned long long)select_failed, text);
}

static void test_error_stats(void **state)
{
    (void)state;
    command_stats_setup(1);
    eval_worker = 0;
    /* a command's error, raised by call: counted when SELECT replied it */
    assert_counts(eval_counts("eval", "return redis.call('select', 99)", "0", NULL), 1, 1, 0, 1);
    assert_prefix(text, "-ERR DB index is out of range script: ");
    /* caught by pcall: still counted once, the EVAL succeeded */
    assert_counts(eval_counts("eval", "return redis.pcall('select', 99) and 1", "0", NULL), 2, 1,
                  0, 2);
    /* returned by pcall: the reply is that error, not counted again */
    assert_counts(eval_counts("eval", "return redis.pcall('select', 99)", "0", NULL), 3, 2, 0, 3);
    assert_string_equal(text, "-ERR DB index is out of range\r\n");
    /* refused before running: counted (and rejected) even under pcall */
    assert_counts(eval_counts("eval_ro", "return redis.call('set', KEYS[1], 1)", "1", "k"), 4, 1,
                  1, 3);
    assert_counts(eval_counts("eval_ro", "return redis.pcall('set', KEYS[1], 1) and 1", "1", "k"),
                  5, 1, 2, 3);
    assert_counts(eval_counts("eval", "return redis.pcall('nosuchcommand') and 1", "0", NULL), 6,
                  2, 2, 3);
    /* the script's own errors count once, when the EVAL replies them */
    assert_counts(eval_counts("eval", "return redis.error_reply('MY_ERR custom')", "0", NULL), 7,
                  3, 2, 3);
    assert_string_equal(text, "-MY_ERR custom\r\n");
    assert_counts(eval_counts("eval", "return foo()", "0", NULL), 8, 4, 2, 3);
    assert_counts(eval_counts("eval", "return redis.call()", "0", NULL), 9, 5, 2, 3);
    /* an array holding a counted error and a new one */
    assert_counts(eval_counts("eval",
                              "return {redis.pcall('select', 99), redis.error_reply('E x')}", "0",
                              NULL),
                  11, 6, 2, 4);
    assert_string_equal(text, "*2\r\n-ERR DB index is out of range\r\n-E x\r\n");
    /* a script sees the mark on the tables, as in Redis */
    assert_counts(eval_counts("eval",
                              "return tostring(redis.pcall('select', 99)"
                              ".ignore_error_stats_update)",
                              "0", NULL),
                  12, 6, 2, 5);
    assert_string_equal(text, "$4\r\ntrue\r\n");
    eval_worker = -1;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_basics), T(test_resp3),  T(test_errors),    T(test_cache),
        T(test_keys_rule), T(test_sandbox), T(test_resources), T(test_cmsgpack),
        T(test_oom),       T(test_kill),      T(test_error_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

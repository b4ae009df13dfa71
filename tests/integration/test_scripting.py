"""Lua scripting through real clients: EVAL/EVALSHA/EVAL_RO/SCRIPT, Redis's
Lua <-> RESP conversions (RESP2 through redis-py, RESP3 on a raw socket), error
texts, the key rule, the sandbox, resource limits and SCRIPT KILL, and the
atomicity of scripts that move money between accounts in different partitions
while auditors sum every account.

Every test leaves the server serving: the module fixture's stop() fails the
module if the server died or logged a sanitizer report."""

import hashlib
import string
import threading
import time

import pytest
import redis

from conftest import TARGET, Err, OK, RawClient, Status, encode_command, make_client, run_threads

GET = "return redis.call('get',KEYS[1])"
GET_SHA = "fd758d1589d044dd850a6f05d52f2eefd27f033f"
NOSCRIPT = "No matching script. Please use EVAL."


def err_text(excinfo):
    return str(excinfo.value)


# --------------------------------------------------------------------------- API and conversions


def test_eval_returns_and_conversions(r):
    assert r.eval("return 'hello'", 0) == "hello"
    assert r.eval("return 100.5", 0) == 100
    assert r.eval("return -3.9", 0) == -3
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return nil", 0) is None
    assert r.eval("return {ok='fine'}", 0) == "fine"
    assert r.eval("return {1,2,3,'ciao',{1,2}}", 0) == [1, 2, 3, "ciao", [1, 2]]
    assert r.eval("return {1,2,nil,4}", 0) == [1, 2]
    assert r.eval("return {}", 0) == []
    assert r.eval("return _G", 0) == []
    assert r.eval("return {double=3.5}", 0) == "3.5"
    assert r.eval("return 9007199254740991", 0) == 9007199254740991
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return {err='ERR this is an error'}", 0)
    assert err_text(e) == "this is an error"
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.error_reply('MY_ERR custom msg')", 0)
    assert err_text(e) == "MY_ERR custom msg"
    assert r.eval("return redis.status_reply('MY_OK')", 0) == "MY_OK"


def test_keys_argv_and_redis_to_lua(r):
    assert r.eval("return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", 2, "a{t}", "b{t}", "c", "d") == [
        "a{t}", "b{t}", "c", "d"]
    r.set("x", 0)
    assert r.eval("local v = redis.pcall('incr', KEYS[1]) return {type(v), v}", 1, "x") == [
        "number", 1]
    r.set("mykey", "myval")
    assert r.eval("local v = redis.call('get', KEYS[1]) return {type(v), v}", 1, "mykey") == [
        "string", "myval"]
    assert r.eval("local v = redis.call('set', KEYS[1], 'v') return {type(v), v.ok}", 1,
                  "mykey") == ["table", "OK"]
    assert r.eval("local v = redis.pcall('incr', KEYS[1]) return {type(v), v.err}", 1,
                  "mykey") == ["table", "ERR value is not an integer or out of range"]
    assert r.eval("local v = redis.call('get', KEYS[1]) return {type(v), v == false}", 1,
                  "nokey") == ["boolean", 1]
    r.mset({"{m}a": "1", "{m}b": "2"})
    assert r.eval("return redis.call('mget', KEYS[1], KEYS[2], KEYS[3])", 3, "{m}a", "{m}b",
                  "{m}c") == ["1", "2", None]
    # numbers as arguments: integers exact, floats with %.17g (as Redis 7.0)
    assert r.eval("redis.call('set', KEYS[1], 6/2) return redis.call('get', KEYS[1])", 1,
                  "n") == "3"
    assert r.eval("redis.call('set', KEYS[1], 0.1) return redis.call('get', KEYS[1])", 1,
                  "n") == "0.10000000000000001"


def test_redis_library(r):
    assert r.eval("return redis.sha1hex('Pizza & Mandolino')", 0) == \
        "74822d82031af7493c20eefa13bd07ec4fada82f"
    assert r.eval("return redis.REDIS_VERSION", 0) == "7.0.15"
    assert r.eval("return redis.REDIS_VERSION_NUM", 0) == 0x07000f
    assert r.eval("redis.log(redis.LOG_WARNING, 'from', 'a script') return 1", 0) == 1
    assert r.eval("return redis.call('ping')", 0) == "PONG"
    assert r.eval("return redis.call('echo', 'hi')", 0) == "hi"
    assert r.eval("return #redis.call('time')", 0) == 2
    assert r.eval("return redis.replicate_commands()", 0) == 1
    with pytest.raises(redis.ResponseError) as e:
        r.eval("redis.log(99, 'x')", 0)
    assert "Invalid debug level." in err_text(e)


def test_lua51_names_and_libraries(r):
    assert r.eval("return {unpack({1, 2, 3})}", 0) == [1, 2, 3]
    assert r.eval("return table.getn({1, 2, 3})", 0) == 3
    assert r.eval("return loadstring('return 7')()", 0) == 7
    assert r.eval("return math.pow(2, 10) + math.mod(7, 4)", 0) == 1027
    assert r.eval("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(1, 3), "
                  "bit.lshift(1, 4), bit.rshift(-1, 28), bit.arshift(-16, 2), "
                  "bit.tobit(0xffffffff), bit.bnot(0)}", 0) == [15, 7, 2, 16, 15, -4, -1, -1]
    assert r.eval("return bit.tohex(65535, -2147483648)", 0) == "0000FFFF"
    assert r.eval("return bit.tohex(-1)", 0) == "ffffffff"
    assert r.eval("return cjson.encode({a = {1, 2}})", 0) == '{"a":[1,2]}'
    assert r.eval("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), "
                  "' ')", 0) == "0 -5000 -1 0.0003 1023.2 0"
    assert r.eval("local d = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}') "
                  "return {d.keya, d.keyb}", 0) == ["a", "b"]
    assert r.eval("return cmsgpack.unpack(cmsgpack.pack({1, 'two', {k = 3}}))[3].k", 0) == 3
    assert r.eval("return ('abc'):upper()", 0) == "ABC"
    assert r.eval("local co = coroutine.wrap(function() coroutine.yield(5) end) return co()",
                  0) == 5
    a = r.eval("math.randomseed(ARGV[1]) return tostring(math.random())", 0, 10)
    b = r.eval("math.randomseed(ARGV[1]) return tostring(math.random())", 0, 10)
    assert a == b


def test_resp3_conversions(server, r):
    r.set("k", "v")
    with RawClient(server.host, server.port, decode=True) as c:
        hello = c.cmd("HELLO", "3")
        assert isinstance(hello, dict)
        assert c.cmd("EVAL", "return {map={a=1}}", "0") == {"a": 1}
        assert c.cmd("EVAL", "return {set={x=true}}", "0") == {"x"}
        assert c.cmd("EVAL", "return false", "0") is None
        assert c.cmd("EVAL", "redis.setresp(3) return false", "0") is False
        assert c.cmd("EVAL", "redis.setresp(3) return true", "0") is True
        assert repr(c.cmd("EVAL", "return {double=1.5}", "0")) == "Double('1.5')"
        c.send(encode_command("EVAL", "return {big_number='123\\r\\n123'}", "0"))
        assert c.read_line() == b"(123  123"
        # RESP3 replies seen by the script under setresp(3)
        assert c.cmd("EVAL", "redis.setresp(3) local v = redis.call('get', KEYS[1]) "
                             "return tostring(v)", "1", "none") == "nil"
        assert c.cmd("EVAL", "redis.setresp(2) local v = redis.call('get', KEYS[1]) "
                             "return tostring(v)", "1", "none") == "false"
    with RawClient(server.host, server.port, decode=True) as c:
        assert c.cmd("EVAL", "return {map={a=1}}", "0") == ["a", 1]
        assert c.cmd("EVAL", "redis.setresp(3) return false", "0") == 0
        assert c.cmd("EVAL", "return {big_number='123\\r\\n123'}", "0") == "123  123"


def test_errors_and_their_texts(r):
    cases = [
        ("return 1", "x", "value is not an integer or out of range"),
        ("return 1", -12, "Number of keys can't be negative"),
    ]
    for script, nk, want in cases:
        with pytest.raises(redis.ResponseError) as e:
            r.eval(script, nk)
        assert err_text(e) == want
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("EVAL", "return 1", 2, "a")
    assert err_text(e) == "Number of keys can't be greater than number of args"
    for script, want in [
        ("return redis.call()", "Please specify at least one argument for this redis lib call"),
        ("redis.call('nosuchcommand')", "Unknown Redis command called from script"),
        ("redis.call('get','a','b','c')", "Wrong number of args calling Redis command from script"),
        ("redis.call('ping', {})", "Lua redis lib command arguments must be strings or integers"),
        ("redis.call('eval', 'return 1', 0)", "This Redis command is not allowed from script"),
        ("redis.call('script', 'flush')", "This Redis command is not allowed from script"),
        ("redis.call('multi')", "This Redis command is not allowed from script"),
    ]:
        with pytest.raises(redis.ResponseError) as e:
            r.eval(script, 0)
        assert err_text(e).startswith(want + " script: "), err_text(e)
        assert err_text(e).endswith(", on @user_script:1."), err_text(e)
    r.set("foo", "bar")
    with pytest.raises(redis.ResponseError) as e:
        r.eval("\n\nredis.call('incr', KEYS[1])", 1, "foo")
    assert "on @user_script:3." in err_text(e)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return 'x' ..", 0)
    assert err_text(e).startswith("Error compiling script (new function): user_script:1:")
    with pytest.raises(redis.ResponseError) as e:
        r.eval("error('boom')", 0)
    assert err_text(e).startswith("user_script:1: boom script: ")
    assert r.eval("local ok, e = pcall(function() return foo end) return e", 0) == \
        "user_script:1: Script attempted to access nonexistent global variable 'foo'"


def test_evalsha_script_load_exists_flush(server, r):
    r.set("mykey", "myval")
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(GET_SHA, 1, "mykey")
    assert r.eval(GET, 1, "mykey") == "myval"
    assert r.evalsha(GET_SHA, 1, "mykey") == "myval"
    assert r.evalsha(GET_SHA.upper(), 1, "mykey") == "myval"
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("NotValidShaSUM", 0)
    assert r.script_load("return 'loaded'") == "b534286061d4b9e4026607613b95c06c06015ae8"
    assert r.script_exists("b534286061d4b9e4026607613b95c06c06015ae8",
                           "ffd632c7d33e571e9f24556ebed26c3479a87130") == [True, False]
    with pytest.raises(redis.ResponseError) as e:
        r.script_load("return 'x' ..")
    assert "Error compiling script" in err_text(e)
    # every worker sees the cache: many connections land on every worker
    clients = [make_client(server) for _ in range(12)]
    try:
        for cl in clients:
            assert cl.evalsha("b534286061d4b9e4026607613b95c06c06015ae8", 0) == "loaded"
        assert r.script_flush() is True
        for cl in clients:
            with pytest.raises(redis.exceptions.NoScriptError):
                cl.evalsha("b534286061d4b9e4026607613b95c06c06015ae8", 0)
            assert cl.eval("return 'again'", 0) == "again"
    finally:
        for cl in clients:
            cl.close()
    assert r.execute_command("SCRIPT", "FLUSH", "ASYNC") in (True, "OK", b"OK")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SCRIPT", "FLUSH", "LATER")
    assert err_text(e) == "SCRIPT FLUSH only support SYNC|ASYNC option"


def test_eval_ro_and_no_writes(r):
    r.set("foo", "bar")
    assert r.execute_command("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "foo") == "bar"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("EVAL_RO", "redis.call('del', KEYS[1])", 1, "foo")
    assert err_text(e).startswith("Write commands are not allowed from read-only scripts.")
    sha = r.script_load("return redis.call('get', KEYS[1])")
    assert r.execute_command("EVALSHA_RO", sha, 1, "foo") == "bar"
    with pytest.raises(redis.ResponseError) as e:
        r.eval("#!lua flags=no-writes\nredis.call('set', KEYS[1], 1)", 1, "foo")
    assert "Write commands are not allowed from read-only scripts." in err_text(e)
    assert r.get("foo") == "bar"


def test_shebang(r):
    assert r.eval("#!lua\nreturn 1", 0) == 1
    for body, want in [("#!not-lua\nreturn 1", "Unexpected engine in script shebang"),
                       ("#!lua badger=data\nreturn 1", "Unknown lua shebang option"),
                       ("#!lua flags=allow-oom,what?\nreturn 1", "Unexpected flag in script shebang")]:
        with pytest.raises(redis.ResponseError) as e:
            r.eval(body, 0)
        assert want in err_text(e)


@pytest.mark.percore_only
def test_undeclared_keys_are_refused(r):
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.call('get', 'other')", 1, "mine")
    assert "script tried accessing undeclared key" in err_text(e)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.call('set', 'x', 1)", 0)
    assert "script tried accessing undeclared key" in err_text(e)
    # same partition (hash tag) is not enough: the key must be declared
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.call('get', '{t}b')", 1, "{t}a")
    assert "script tried accessing undeclared key" in err_text(e)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.call('keys', '*')", 0)
    assert "undeclared keys" in err_text(e)
    assert r.exists("x") == 0
    # keyless commands are fine with no keys
    assert r.eval("return redis.call('dbsize')", 0) == 0


def test_zunionstore_with_declared_keys(r):
    """The destination and the sources are the keys, numkeys is not: declared
    ones suffice, an undeclared destination or source is refused."""
    r.zadd("za", {"m": 1})
    r.zadd("zb", {"m": 2, "n": 3})
    script = "return redis.call('zunionstore', KEYS[1], 2, KEYS[2], KEYS[3])"
    assert r.eval(script, 3, "zdst", "za", "zb") == 2
    assert r.zrange("zdst", 0, -1, withscores=True) == [("m", 3.0), ("n", 3.0)]
    assert r.eval("return redis.call('zinterstore', KEYS[1], 2, KEYS[2], KEYS[3])",
                  3, "zdst", "za", "zb") == 1
    if TARGET == "percore":
        with pytest.raises(redis.ResponseError) as e:
            r.eval("return redis.call('zunionstore', 'elsewhere', 1, KEYS[1])", 1, "za")
        assert "script tried accessing undeclared key" in err_text(e)
        with pytest.raises(redis.ResponseError) as e:
            r.eval("return redis.call('zdiffstore', KEYS[1], 2, KEYS[2], 'zb')", 2, "zdst", "za")
        assert "script tried accessing undeclared key" in err_text(e)


@pytest.mark.percore_only
def test_allow_undeclared_keys_at_runtime(r):
    r.config_set("allow-undeclared-keys", "yes")
    try:
        assert r.eval("redis.call('set', 'u1', 1) redis.call('set', 'u2', 2) "
                      "return #redis.call('keys', 'u*')", 0) == 2
    finally:
        r.config_set("allow-undeclared-keys", "no")
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('get', 'u1')", 0)


@pytest.mark.percore_only
def test_info_counts_paths(r):
    def counts():
        info = r.info("everything")
        return {k: int(info[k]) for k in ("scripts_single_partition", "scripts_multi_partition",
                                          "scripts_global", "number_of_cached_scripts")
                if k in info}
    before = counts()
    assert "scripts_single_partition" in before, "INFO has no script counters"
    r.eval("return 1", 2, "{acct}a", "{acct}b")                # one partition (hash tag)
    r.eval("return 1", 2, "atom:a", "atom:b")                  # two partitions
    r.config_set("allow-undeclared-keys", "yes")
    try:
        r.eval("return 1", 0)                                  # every partition
    finally:
        r.config_set("allow-undeclared-keys", "no")
    after = counts()
    assert after["scripts_single_partition"] == before["scripts_single_partition"] + 1
    assert after["scripts_multi_partition"] == before["scripts_multi_partition"] + 1
    assert after["scripts_global"] == before["scripts_global"] + 1


def test_eval_inside_multi_and_pipeline(r):
    p = r.pipeline(transaction=True)
    p.set("{p}a", "1")
    p.eval("return redis.call('incr', KEYS[1])", 1, "{p}a")
    p.get("{p}a")
    assert p.execute() == [True, 2, "2"]
    p = r.pipeline(transaction=False)
    for i in range(50):
        p.eval("return redis.call('incr', KEYS[1])", 1, "pipe:%d" % (i % 7))
        p.get("pipe:%d" % (i % 7))
    res = p.execute()
    for i in range(0, 100, 2):
        assert str(res[i]) == res[i + 1]


# --------------------------------------------------------------------------- sandbox


ESCAPES = [
    ("a = 10", "Attempt to modify a readonly table"),
    ("return undefined_global", "Script attempted to access nonexistent global variable"),
    ("setmetatable(_G, {})", "Attempt to modify a readonly table"),
    ("local g = getmetatable(_G) g.__index = {}", "Attempt to modify a readonly table"),
    ("rawset(_G, 'x', 1)", "Attempt to modify a readonly table"),
    ("redis.call = function() return 1 end", "Attempt to modify a readonly table"),
    ("cjson.encode = function() return 1 end", "Attempt to modify a readonly table"),
    ("bit.lshift = nil", "Attempt to modify a readonly table"),
    ("string.rep = nil", "Attempt to modify a readonly table"),
    ("getmetatable('').__index = function() return 1 end", "Attempt to modify a readonly table"),
    ("_G = {}", "Attempt to modify a readonly table"),
    ("return loadstring(string.dump(function() return 1 end))()", "attempt to call a nil value"),
    ("return io.open('/etc/passwd')", "nonexistent global variable 'io'"),
    ("return require('os')", "nonexistent global variable 'require'"),
    ("return debug.getregistry()", "nonexistent global variable 'debug'"),
    ("dofile('/etc/passwd')", "nonexistent global variable 'dofile'"),
    ("loadfile('/etc/passwd')", "nonexistent global variable 'loadfile'"),
    ("print('x')", "nonexistent global variable 'print'"),
]


@pytest.mark.parametrize("script,want", ESCAPES, ids=[s for s, _ in ESCAPES])
def test_sandbox_escapes_fail(r, script, want):
    with pytest.raises(redis.ResponseError) as e:
        r.eval(script, 0)
    assert want in err_text(e)
    assert r.ping() is True
    assert r.eval("return type(redis.call) .. type(cjson.decode)", 0) == "functionfunction"


@pytest.mark.percore_only
def test_lua54_escapes_fail(r):
    """Lua 5.4's own ways in: load() of bytecode, os beyond clock/time."""
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return assert(load(string.dump(function() return 1 end), 'b', 'b'))()", 0)
    assert "attempt to load a binary chunk" in err_text(e)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return os.execute('true')", 0)
    assert "attempt to call a nil value" in err_text(e)
    assert r.eval("return {os.getenv == nil, os.exit == nil, os.remove == nil}", 0) == [1, 1, 1]
    # a finalizer would run outside any script's limits (Lua 5.1 had none on tables)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("setmetatable({}, {__gc = function() while true do end end})", 0)
    assert "__gc metamethods are not allowed in scripts" in err_text(e)
    assert r.ping() is True


@pytest.mark.percore_only
def test_env_is_reset_between_runs(r):
    body = "if rawget(_ENV, 'n') then return 'leaked' end _ENV = {n = 1} return 'ok'"
    for _ in range(3):
        assert r.eval(body, 0) == "ok"


# --------------------------------------------------------------------------- resources


RESOURCE_HOGS = [
    ("return #string.rep('x', 1024 * 1024 * 1024)", "not enough memory"),
    ("local s = 'x' while true do s = s .. s end", "not enough memory"),
    ("local t = {} for i = 1, 1e9 do t[i] = i end", "not enough memory"),
    ("local function f() return 1 + f() end return f()", None),
]


@pytest.mark.percore_only  # memory-limit: Redis itself has no Lua memory ceiling
@pytest.mark.parametrize("script,want", RESOURCE_HOGS, ids=[s for s, _ in RESOURCE_HOGS])
def test_resource_exhaustion_is_an_error(r, script, want):
    with pytest.raises(redis.ResponseError) as e:
        r.eval(script, 0)
    if want:
        assert want in err_text(e)
    else:
        assert "stack overflow" in err_text(e) or "not enough memory" in err_text(e)
    assert r.ping() is True
    assert r.eval("return 'alive'", 0) == "alive"


def test_self_referencing_reply(c, r):
    """Nested as deep as allowed, then an error in place of the next level
    (as Redis: "*1" lines, then "-ERR reached lua stack limit")."""
    c.send(encode_command("EVAL", "local a = {} local b = {a} a[1] = b return a", "0"))
    depth = 0
    while True:
        line = c.read_line()
        if line == b"-ERR reached lua stack limit":
            break
        assert line == b"*1", line
        depth += 1
    assert depth > 100
    assert c.cmd("PING") == Status("PONG")
    assert r.eval("return 'alive'", 0) == "alive"


def free_connection(server, tries=40):
    """A raw connection whose worker is not busy running a script: one that
    answers PING quickly (a connection on the blocked worker does not)."""
    for _ in range(tries):
        rc = RawClient(server.host, server.port, timeout=0.5, decode=True)
        try:
            rc.cmd("PING")
            rc.sock.settimeout(10)
            return rc
        except OSError:
            rc.close()
    pytest.fail("no worker left free to send SCRIPT KILL")


def script_kill(server, timeout=15.0):
    """SCRIPT KILL from fresh connections until one reaches a worker that is
    not the script's (a connection on the blocked worker gets no answer in
    time) while the script is busy. Returns the first reply other than
    NOTBUSY, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rc = RawClient(server.host, server.port, timeout=0.3, decode=True)
        try:
            reply = rc.cmd("SCRIPT", "KILL")
        except OSError:
            continue
        finally:
            rc.close()
        if reply != Err("NOTBUSY No scripts in execution right now."):
            return reply
        time.sleep(0.05)
    return None


def run_in_thread(fn):
    out = {}

    def wrap():
        try:
            out["value"] = fn()
        except Exception as e:  # noqa: BLE001
            out["error"] = e

    t = threading.Thread(target=wrap)
    t.start()
    return t, out


# Busy-wait for the given seconds of wall-clock time (TIME: os.clock counts
# the whole process's CPU time).
SPIN = ("local function now() local t = redis.call('time') return t[1] + t[2] / 1e6 end "
        "local t0 = now() while now() - t0 < %s do end")


@pytest.mark.percore_only
def test_infinite_loop_and_script_kill(server, r):
    if server.threads < 2:
        pytest.skip("needs a second worker to send SCRIPT KILL")
    with free_connection(server) as rc:
        assert rc.cmd("SCRIPT", "KILL") == Err("NOTBUSY No scripts in execution right now.")
    r.config_set("lua-time-limit", 50)
    try:
        looper = make_client(server, socket_timeout=60)
        for body in ["while true do end",
                     # pcall cannot keep a killed script alive
                     "local f = function() while 1 do redis.call('ping') end end "
                     "while 1 do pcall(f) end"]:
            t, out = run_in_thread(lambda: looper.eval(body, 0))
            assert script_kill(server) == OK
            t.join(30)
            assert not t.is_alive()
            assert "Script killed by user with SCRIPT KILL..." in str(out.get("error"))
        assert looper.ping() is True
        looper.close()
    finally:
        r.config_set("lua-time-limit", 5000)
    assert r.ping() is True


@pytest.mark.percore_only
def test_script_that_wrote_is_unkillable(server, r):
    if server.threads < 2:
        pytest.skip("needs a second worker to send SCRIPT KILL")
    r.config_set("lua-time-limit", 50)
    try:
        looper = make_client(server, socket_timeout=60)
        t, out = run_in_thread(lambda: looper.eval(
            "redis.call('set', KEYS[1], 'y') " + SPIN % 2.0 + " return 'done'", 1, "x"))
        reply = script_kill(server)
        assert isinstance(reply, Err) and reply.msg.startswith(
            "UNKILLABLE Sorry the script already executed write commands against the dataset."), reply
        t.join(30)
        assert out.get("value") == "done"
        looper.close()
    finally:
        r.config_set("lua-time-limit", 5000)
    assert r.get("x") == "y"


@pytest.mark.percore_only
def test_busy_reply_for_held_partition(server, r):
    if server.threads < 2:
        pytest.skip("needs a second worker")
    r.config_set("lua-time-limit", 50)
    try:
        looper = make_client(server, socket_timeout=30)
        t, out = run_in_thread(lambda: looper.eval(SPIN % 1.0 + " return 1", 1, "busykey"))
        time.sleep(0.3)
        other = free_connection(server)
        other.sock.settimeout(0.5)
        reply = other.cmd("GET", "busykey")
        assert isinstance(reply, Err) and reply.msg.startswith("BUSY"), reply
        t.join(30)
        other.close()
        looper.close()
    finally:
        r.config_set("lua-time-limit", 5000)


# --------------------------------------------------------------------------- atomicity

ACCOUNTS = ["acct:%s" % ch for ch in string.ascii_lowercase[:16]]  # 16 distinct slots
START = 1000
TRANSFER = """
local from = tonumber(redis.call('get', KEYS[1]))
local amount = tonumber(ARGV[1])
if from < amount then return 0 end
redis.call('decrby', KEYS[1], amount)
redis.call('incrby', KEYS[2], amount)
return 1
"""
TRANSFER8 = """
local amount = tonumber(ARGV[1])
for i = 1, #KEYS - 1 do
  if tonumber(redis.call('get', KEYS[i])) < amount then return 0 end
end
for i = 1, #KEYS - 1 do redis.call('decrby', KEYS[i], amount) end
redis.call('incrby', KEYS[#KEYS], amount * (#KEYS - 1))
return 1
"""
AUDIT = """
local sum = 0
for _, k in ipairs(KEYS) do sum = sum + tonumber(redis.call('get', k)) end
return sum
"""


def _transfer_workload(server, r, audit_keys_declared=True, duration=2.0):
    import random
    r.mset({k: START for k in ACCOUNTS})
    total = START * len(ACCOUNTS)
    counts = {"moves": 0, "audits": 0}
    t2 = r.script_load(TRANSFER)
    t8 = r.script_load(TRANSFER8)
    audit = r.script_load(AUDIT)

    def mover(seed):
        def run(stop):
            rnd = random.Random(seed)
            cl = make_client(server)
            while not stop.is_set():
                if rnd.random() < 0.5:
                    a, b = rnd.sample(ACCOUNTS, 2)
                    cl.evalsha(t2, 2, a, b, rnd.randint(1, 50))
                else:
                    ks = rnd.sample(ACCOUNTS, 8)
                    cl.evalsha(t8, 8, *ks, rnd.randint(1, 20))
                counts["moves"] += 1
            cl.close()
        return run

    def auditor(stop):
        cl = make_client(server)
        while not stop.is_set():
            if audit_keys_declared:
                s = cl.evalsha(audit, len(ACCOUNTS), *ACCOUNTS)
            else:
                s = cl.eval("local s = 0 for i = 1, %d do s = s + tonumber(redis.call('get', "
                            "'acct:' .. string.char(96 + i))) end return s" % len(ACCOUNTS), 0)
            assert s == total, "audit saw %d, expected %d" % (s, total)
            vals = cl.mget(ACCOUNTS)
            assert sum(int(v) for v in vals) == total, "MGET saw a half-done transfer"
            counts["audits"] += 1
        cl.close()

    run_threads([mover(1), mover(2), mover(3), auditor, auditor], duration)
    assert counts["moves"] > 20 and counts["audits"] > 5, counts
    assert sum(int(v) for v in r.mget(ACCOUNTS)) == total
    assert all(int(v) >= 0 for v in r.mget(ACCOUNTS))


def test_cross_partition_transfers_keep_the_total(server, r):
    _transfer_workload(server, r)


@pytest.mark.percore_only
def test_transfers_with_undeclared_auditors(server_factory, server):
    srv = server_factory(["--scripting.allow-undeclared-keys", "yes"], policy=server.policy,
                         threads=server.threads)
    cl = make_client(srv)
    try:
        _transfer_workload(srv, cl, audit_keys_declared=False, duration=1.5)
    finally:
        cl.close()


def test_eval_bodies_map_to_their_own_sha(r):
    """Many distinct bodies, some of them alike but for one byte, and a long one,
    each run twice: every EVAL runs its own body and caches it under its SHA1
    (percore memoizes body -> SHA1 per worker; a stale or mixed-up entry would
    run or register the wrong script)."""
    bodies = ["return %d" % i for i in range(40)]
    bodies += ["return '%s'" % ("x" * 5000 + str(i)) for i in range(2)]
    for _ in range(2):
        for i, body in enumerate(bodies):
            want = i if i < 40 else "x" * 5000 + str(i - 40)
            assert r.eval(body, 0) == want
    for i, body in enumerate(bodies):
        sha = hashlib.sha1(body.encode()).hexdigest()
        assert r.script_exists(sha) == [True]
        want = i if i < 40 else "x" * 5000 + str(i - 40)
        assert r.evalsha(sha, 0) == want
    r.script_flush()
    assert r.script_exists(hashlib.sha1(bodies[3].encode()).hexdigest()) == [False]
    assert r.eval(bodies[3], 0) == 3
    assert r.evalsha(hashlib.sha1(bodies[3].encode()).hexdigest(), 0) == 3


def test_script_subcommand_errors(c):
    # Redis 7.0's container-command texts: a known subcommand with the wrong
    # count is named 'script|<sub>'; FLUSH has its own option error.
    assert c.cmd("SCRIPT", "KILL", "x") == Err("ERR wrong number of arguments for 'script|kill' command")
    assert c.cmd("SCRIPT", "LOAD") == Err("ERR wrong number of arguments for 'script|load' command")
    assert c.cmd("SCRIPT", "EXISTS") == Err(
        "ERR wrong number of arguments for 'script|exists' command")
    for args in (("bogus",), ("sync", "async")):
        assert c.cmd("SCRIPT", "FLUSH", *args) == Err(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    assert c.cmd("SCRIPT", "FLUSH", "ASYNC") == OK

"""Redis 7.0 functions through real clients: FUNCTION LOAD [REPLACE], LIST,
DELETE, FLUSH, STATS, KILL and FCALL / FCALL_RO; Redis's error texts for bad
libraries; a library visible to every worker as soon as LOAD returns; FCALL
atomic across partitions under concurrent writers; a busy function stopped
by FUNCTION KILL; and abuse (huge code, endless loads, hostile names,
thousands of libraries).

Every test leaves the server serving: the module fixture's stop() fails the
module if the server died or logged a sanitizer report."""

import threading
import time

import pytest
import redis

from conftest import TARGET, Err, RawClient, Status, encode_command, make_client, run_threads


def lib(name, body):
    return "#!lua name=%s\n%s" % (name, body)


def err_of(fn, *a):
    with pytest.raises(redis.ResponseError) as e:
        fn(*a)
    return str(e.value)


def load(r, code, replace=False):
    args = ["FUNCTION", "LOAD"] + (["REPLACE"] if replace else []) + [code]
    return r.execute_command(*args)


@pytest.fixture
def f(r):
    r.execute_command("FUNCTION", "FLUSH")
    yield r
    r.execute_command("FUNCTION", "FLUSH")


# --------------------------------------------------------------------------- the commands


def test_load_call_list_stats_delete_flush(f):
    assert load(f, lib("mylib", """
        redis.register_function('echo', function(keys, args) return {keys, args} end)
        redis.register_function{function_name='getter', callback=function(keys, args)
            return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}
    """)) == "mylib"
    assert f.execute_command("FCALL", "echo", "2", "a", "b", "c") == [["a", "b"], ["c"]]
    f.set("k", "v")
    assert f.execute_command("FCALL", "getter", "1", "k") == "v"
    assert f.execute_command("FCALL_RO", "getter", "1", "k") == "v"
    load(f, lib("other", "redis.register_function('one', function() return 1 end)"))
    listing = sorted(f.execute_command("FUNCTION", "LIST"), key=lambda l: l[1])
    assert listing[0][:5] == ["library_name", "mylib", "engine", "LUA", "functions"]
    funcs = sorted(listing[0][5], key=lambda x: x[1])
    assert funcs == [["name", "echo", "description", None, "flags", []],
                     ["name", "getter", "description", "reads", "flags", ["no-writes"]]]
    assert listing[1] == ["library_name", "other", "engine", "LUA", "functions",
                          [["name", "one", "description", None, "flags", []]]]
    code = lib("other", "redis.register_function('one', function() return 1 end)")
    assert f.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "oth*", "WITHCODE") == [
        ["library_name", "other", "engine", "LUA", "functions",
         [["name", "one", "description", None, "flags", []]], "library_code", code]]
    assert f.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "nomatch*") == []
    assert f.execute_command("FUNCTION", "STATS") == [
        "running_script", None, "engines", ["LUA", ["libraries_count", 2, "functions_count", 3]]]
    mem = f.info("memory")
    assert mem["number_of_functions"] == 3 and mem["used_memory_functions"] > len(code)
    assert f.execute_command("FUNCTION", "DELETE", "mylib") == "OK"
    assert err_of(f.execute_command, "FCALL", "echo", "0") == "Function not found"
    assert err_of(f.execute_command, "FUNCTION", "DELETE", "mylib") == "Library not found"
    assert f.execute_command("FUNCTION", "FLUSH", "ASYNC") == "OK"
    assert f.execute_command("FUNCTION", "LIST") == []
    assert f.execute_command("FUNCTION", "STATS")[3] == [
        "LUA", ["libraries_count", 0, "functions_count", 0]]


def test_command_errors(f):
    load(f, lib("l1", "redis.register_function('f1', function() return 1 end)"))
    cases = [
        (("FCALL", "nope", "0"), "Function not found"),
        (("FCALL", "f1", "x"), "Bad number of keys provided"),
        (("FCALL", "f1", "-1"), "Number of keys can't be negative"),
        (("FCALL", "f1", "5"), "Number of keys can't be greater than number of args"),
        (("FCALL_RO", "f1", "0"), "Can not execute a script with write flag using *_ro command."),
        (("FUNCTION", "LIST", "bad"), "Unknown argument bad"),
        (("FUNCTION", "LIST", "LIBRARYNAME"), "library name argument was not given"),
        (("FUNCTION", "FLUSH", "bad"), "FUNCTION FLUSH only supports SYNC|ASYNC option"),
        (("FUNCTION", "LOAD", "x", "y"), "Unknown option given: x"),
        (("FUNCTION", "KILL"), "NOTBUSY No scripts in execution right now."),
        (("FUNCTION", "DELETE"), "wrong number of arguments for 'function|delete' command"),
        (("FUNCTION", "STATS", "x"), "wrong number of arguments for 'function|stats' command"),
        (("FUNCTION", "FOO"), "unknown subcommand 'FOO'. Try FUNCTION HELP."),
        (("FCALL",), "wrong number of arguments for 'fcall' command"),
    ]
    for cmd, want in cases:
        assert err_of(f.execute_command, *cmd) == want, cmd
    assert f.execute_command("FUNCTION", "HELP")[0].startswith("FUNCTION <subcommand>")


def _frame(body):
    """FUNCTION DUMP's frame around body: RDB version 10, then CRC-64 (the
    helpers of test_dump.py)."""
    from test_dump import frame
    return frame(body)


def _fn2(code):
    from test_dump import rstr
    return b"\xf5" + rstr(code)


def test_dump_restore_policies(f):
    rb = make_client_like(f)
    load(f, lib("la", "redis.register_function('fa', function() return 'a' end)"))
    load(f, lib("lb", "redis.register_function('fb', function() return 'b' end)"))
    payload = rb.execute_command("FUNCTION", "DUMP")
    # Redis 7.0's layout: each library as opcode FUNCTION2 + its code, then the frame.
    assert payload.startswith(b"\xf5") and payload[-10:-8] == b"\x0a\x00"
    f.execute_command("FUNCTION", "FLUSH")
    assert rb.execute_command("FUNCTION", "DUMP") == _frame(b"")
    assert f.execute_command("FUNCTION", "RESTORE", payload) == "OK"
    assert [f.execute_command("FCALL", n, 0) for n in ("fa", "fb")] == ["a", "b"]
    # APPEND (the default) refuses a library that exists, and adds nothing.
    load(f, lib("lc", "redis.register_function('fc', function() return 'c' end)"))
    assert err_of(f.execute_command, "FUNCTION", "RESTORE", payload) == "Library la already exists"
    assert err_of(f.execute_command, "FUNCTION", "RESTORE", payload, "APPEND") == \
        "Library la already exists"
    # REPLACE swaps libraries of the same name; FLUSH drops the others first.
    load(f, lib("la", "redis.register_function('fa', function() return 'A' end)"), replace=True)
    assert f.execute_command("FUNCTION", "RESTORE", payload, "replace") == "OK"
    assert f.execute_command("FCALL", "fa", 0) == "a"
    assert f.execute_command("FCALL", "fc", 0) == "c"
    assert f.execute_command("FUNCTION", "RESTORE", payload, "FLUSH") == "OK"
    assert err_of(f.execute_command, "FCALL", "fc", 0) == "Function not found"
    assert sorted(l[1] for l in f.execute_command("FUNCTION", "LIST")) == ["la", "lb"]
    # A function name taken by another library: refused whole, under REPLACE too.
    f.execute_command("FUNCTION", "FLUSH")
    load(f, lib("other", "redis.register_function('fb', function() return 'x' end)"))
    for pol in ((), ("REPLACE",)):
        assert err_of(f.execute_command, "FUNCTION", "RESTORE", payload, *pol) == \
            "Function fb already exists"
        assert [l[1] for l in f.execute_command("FUNCTION", "LIST")] == ["other"]


def make_client_like(r):
    """A client of r's server that does not decode replies (DUMP's bytes)."""
    kw = r.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"])


def test_restore_errors(f):
    load(f, lib("keep", "redis.register_function('k', function() return 1 end)"))
    good = make_client_like(f).execute_command("FUNCTION", "DUMP")
    cases = [
        (("bad_payload",), "DUMP payload version or checksum are wrong"),
        ((good[:-1] + bytes([good[-1] ^ 1]),), "DUMP payload version or checksum are wrong"),
        ((good, "bogus"), "Wrong restore policy given, value should be either FLUSH, APPEND or "
                          "REPLACE."),
        ((good, "FLUSH", "x"), "unknown subcommand or wrong number of arguments for 'RESTORE'. "
                               "Try FUNCTION HELP."),
        ((_frame(b"\x00" + b"\x03abc"),), "given type is not a function"),
        # A string that claims 2^62 bytes: refused before anything is allocated.
        ((_frame(b"\xf5\x81" + (1 << 62).to_bytes(8, "big") + b"x"),),
         "Failed loading library payload"),
        ((_frame(_fn2("return 1")),), "Missing library metadata"),
    ]
    if TARGET == "percore":
        # Redis 7.0's release candidates' format (opcode 246), which redis-server
        # 7.0 still parses: percore refuses it (README, Scripting).
        cases.append(((_frame(b"\xf6" + b"\x03abc"),), "Pre-GA function format not supported"))
        # A string cut short: redis-server 7.0 reads on into the frame's own
        # version and CRC bytes; percore stops at the body's end.
        cases.append(((_frame(b"\xf5\x05ab"),), "Failed loading library payload"))
    for args, want in cases:
        assert err_of(f.execute_command, "FUNCTION", "RESTORE", *args) == want, args
    # Nothing refused touched the library already there.
    assert f.execute_command("FCALL", "k", 0) == 1
    # One bad library among good ones: none is added.
    body = _fn2(lib("n1", "redis.register_function('n1', function() return 1 end)")) + \
        _fn2(lib("n2", "this is not lua"))
    assert err_of(f.execute_command, "FUNCTION", "RESTORE", _frame(body)).startswith(
        "Error compiling function")
    assert [l[1] for l in f.execute_command("FUNCTION", "LIST")] == ["keep"]


def test_dump_restore_with_redis_server(f, tmp_path_factory):
    """Libraries move both ways between percore and a real redis-server 7.0."""
    import shutil
    from conftest import Server, redis_bin, stop_all
    if not shutil.which(redis_bin()):
        pytest.skip("redis-server is not installed")
    srv = Server("redis", None, None, tmp_path_factory.mktemp("fnpeer"), [])
    srv.start()
    try:
        p = redis.Redis(host=srv.host, port=srv.port)
        code = lib("fromredis", "redis.register_function('fr', function(k, a) return 'r' .. a[1] end)")
        p.execute_command("FUNCTION", "LOAD", code)
        assert f.execute_command("FUNCTION", "RESTORE", p.execute_command("FUNCTION", "DUMP")) == "OK"
        assert f.execute_command("FCALL", "fr", 0, "x") == "rx"
        load(f, lib("fromus", "redis.register_function('fu', function() return 'u' end)"))
        ours = make_client_like(f).execute_command("FUNCTION", "DUMP")
        assert p.execute_command("FUNCTION", "RESTORE", ours, "REPLACE") == b"OK"
        assert p.execute_command("FCALL", "fu", 0) == b"u"
        # Both servers now hold the same libraries (their DUMP bytes may differ:
        # Debian's liblzf and Redis's own copy compress differently).
        mine = make_client_like(f).execute_command("FUNCTION", "LIST", "WITHCODE")
        assert sorted(map(str, p.execute_command("FUNCTION", "LIST", "WITHCODE"))) == \
            sorted(map(str, mine))
    finally:
        stop_all([srv])


REG_ERR = "Error registering functions: ERR "
BAD_LIBRARIES = [
    ("return 1", "Missing library metadata"),
    ("#!lua", "Invalid library metadata"),
    ("#!lua2 name=x\nreturn 1", "Engine 'lua2' not found"),
    ("#! name=x\nreturn 1", "Engine '' not found"),
    ("#!lua name=a-b\nreturn 1", "Library names can only contain letters, numbers, or "
                                 "underscores(_) and must be at least one character long"),
    ("#!lua name=x foo=1\nreturn 1", "Invalid metadata value given: foo=1"),
    ("#!lua name=x name=y\nreturn 1",
     "Invalid metadata value, name argument was given multiple times"),
    (lib("x", "return 1"), "No functions registered"),
    (lib("x", "redis.register_function{function_name='g', callback=function() end, "
              "flags={'bad'}}"), REG_ERR + "unknown flag given"),
    (lib("x", "redis.register_function{function_name='g', callback=function() end, foo=1}"),
     REG_ERR + "unknown argument given to redis.register_function"),
    (lib("x", "redis.register_function{function_name='g'}"),
     REG_ERR + "redis.register_function must get a callback argument"),
    (lib("x", "redis.register_function{}"),
     REG_ERR + "redis.register_function must get a function name argument"),
    (lib("x", "redis.register_function('g')"),
     REG_ERR + "calling redis.register_function with a single argument is only applicable to "
               "Lua table (representing named arguments)."),
    (lib("x", "redis.register_function('g', 1)"),
     REG_ERR + "second argument to redis.register_function must be a function"),
    (lib("x", "redis.register_function('a', 'b', 'c')"),
     REG_ERR + "wrong number of arguments to redis.register_function"),
    (lib("x", "redis.register_function('g-h', function() end)"),
     REG_ERR + "Library names can only contain letters, numbers, or underscores(_) and must "
               "be at least one character long"),
    (lib("x", "redis.register_function('g', function() end) "
              "redis.register_function('g', function() end)"),
     REG_ERR + "Function already exists in the library"),
    (lib("x", "redis.call('ping')"),
     REG_ERR + "user_function:2: Script attempted to access nonexistent global variable 'call'"),
    (lib("x", "local a = math.random()"),
     REG_ERR + "user_function:2: Script attempted to access nonexistent global variable 'math'"),
    (lib("x", "foo = 1"), REG_ERR + "user_function:2: Attempt to modify a readonly table"),
]


@pytest.mark.parametrize("code,want", BAD_LIBRARIES)
def test_bad_libraries(f, code, want):
    assert err_of(load, f, code) == want
    assert f.execute_command("FUNCTION", "LIST") == []


def test_duplicates_and_replace_all_or_nothing(f):
    load(f, lib("a", "redis.register_function('fa', function() return 'a1' end)"))
    load(f, lib("b", "redis.register_function('fb', function() return 'b1' end)"))
    assert err_of(load, f, lib("a", "redis.register_function('x', function() end)")) == \
        "Library 'a' already exists"
    assert err_of(load, f, lib("c", "redis.register_function('fa', function() end)")) == \
        "Function fa already exists"
    # REPLACE taking a function of another library: refused, a unchanged.
    assert err_of(load, f, lib("a", "redis.register_function('fa', function() return 'a2' end)"
                                    " redis.register_function('fb', function() end)"),
                  True) == "Function fb already exists"
    assert f.execute_command("FCALL", "fa", "0") == "a1"
    # REPLACE with code that fails halfway: unchanged too.
    assert err_of(load, f, lib("a", "redis.register_function('fa', function() return 'a3' end)"
                                    " local x = nil + 1"), True).startswith(REG_ERR)
    assert f.execute_command("FCALL", "fa", "0") == "a1"
    assert load(f, lib("a", "redis.register_function('fa2', function() return 'a4' end)"),
                True) == "a"
    assert err_of(f.execute_command, "FCALL", "fa", "0") == "Function not found"
    assert f.execute_command("FCALL", "fa2", "0") == "a4"
    assert f.execute_command("FUNCTION", "STATS")[3][1] == ["libraries_count", 2,
                                                            "functions_count", 2]


def test_fcall_ro_and_no_writes(f):
    load(f, lib("w", """
        redis.register_function{function_name='ro_set', callback=function(keys, args)
            return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}
        redis.register_function('rw_set', function(keys, args)
            return redis.call('set', keys[1], 'y') end)
    """))
    want = ("Write commands are not allowed from read-only scripts. script: ro_set, "
            "on @user_function:4.")
    assert err_of(f.execute_command, "FCALL", "ro_set", "1", "k") == want
    assert err_of(f.execute_command, "FCALL_RO", "ro_set", "1", "k") == want
    assert err_of(f.execute_command, "FCALL_RO", "rw_set", "1", "k") == \
        "Can not execute a script with write flag using *_ro command."
    assert f.get("k") is None
    assert f.execute_command("FCALL", "rw_set", "1", "k") == "OK"
    assert f.get("k") == "y"


def test_runtime_errors_name_the_function(f):
    load(f, lib("e", """
        redis.register_function('e1', function() return redis.call('nope') end)
        redis.register_function('e2', function() return foo end)
        redis.register_function('e3', function() return redis.error_reply('MY err') end)
        redis.register_function('e4', function() return KEYS end)
    """))
    assert err_of(f.execute_command, "FCALL", "e1", "0") == (
        "Unknown Redis command called from script script: e1, on @user_function:3.")
    assert err_of(f.execute_command, "FCALL", "e2", "0") == (
        "user_function:4: Script attempted to access nonexistent global variable 'foo' "
        "script: e2, on @user_function:4.")
    assert err_of(f.execute_command, "FCALL", "e3", "0") == "MY err"
    f.eval("return 1", 1, "somekey")  # an EVAL's KEYS must not show in a function
    assert "nonexistent global variable 'KEYS'" in err_of(f.execute_command, "FCALL", "e4", "0")


def test_register_at_run_time_is_refused(f):
    load(f, lib("m", """
        local lib = redis
        lib.register_function('f1', function() lib.math = 1 return 1 end)
        lib.register_function('f2', function()
            lib.register_function('f3', function() return 3 end) end)
        redis.register_function('f4', function()
            redis.register_function('f5', function() return 5 end) end)
    """))
    assert "Attempt to modify a readonly table" in err_of(f.execute_command, "FCALL", "f1", "0")
    assert "can only be called on FUNCTION LOAD command" in err_of(
        f.execute_command, "FCALL", "f2", "0")
    assert "register_function" in err_of(f.execute_command, "FCALL", "f4", "0")
    assert err_of(f.execute_command, "FCALL", "f3", "0") == "Function not found"


def test_getkeys(f):
    load(f, lib("g", "redis.register_function('g', function() return 1 end)"))
    assert f.command_getkeys("FCALL", "g", "1", "x", "foo") == ["x"]
    assert f.command_getkeys("FCALL_RO", "g", "2", "x", "y") == ["x", "y"]


# --------------------------------------------------------------------------- every worker


def test_visible_on_every_connection_at_once(server, f):
    """LOAD, REPLACE and DELETE through one connection are seen by the next
    command of every other connection, whatever worker it is on."""
    others = [make_client(server, single_connection_client=True) for _ in range(8)]
    try:
        for gen in range(5):
            load(f, lib("v", "redis.register_function('ver', function() return %d end)" % gen),
                 replace=True)
            for o in others:
                assert o.execute_command("FCALL", "ver", "0") == gen
        f.execute_command("FUNCTION", "DELETE", "v")
        for o in others:
            assert err_of(o.execute_command, "FCALL", "ver", "0") == "Function not found"
    finally:
        for o in others:
            o.close()


TRANSFER = lib("bank", """
redis.register_function('transfer', function(keys, args)
    local amount = tonumber(args[1])
    local from = tonumber(redis.call('get', keys[1]) or '0')
    if from < amount then return 0 end
    redis.call('decrby', keys[1], amount)
    redis.call('incrby', keys[2], amount)
    return 1
end)
redis.register_function{function_name='audit', flags={'no-writes'},
    callback=function(keys, args)
        local total = 0
        for i = 1, #keys do total = total + tonumber(redis.call('get', keys[i]) or '0') end
        return total
    end}
""")


def test_fcall_atomic_across_partitions(server, f):
    accounts = ["acct:%d" % i for i in range(16)]  # no hash tags: many partitions
    for a in accounts:
        f.set(a, 100)
    load(f, TRANSFER)
    total = 100 * len(accounts)
    counts = {"moves": 0, "audits": 0}

    def mover(seed):
        def run(stop):
            c = make_client(server, single_connection_client=True)
            i = seed
            while not stop.is_set():
                a, b = accounts[i % 16], accounts[(i * 7 + 3) % 16]
                i += 1
                if a != b:
                    c.execute_command("FCALL", "transfer", "2", a, b, str(i % 13 + 1))
                    counts["moves"] += 1
            c.close()
        return run

    def auditor(stop):
        c = make_client(server, single_connection_client=True)
        while not stop.is_set():
            assert c.execute_command("FCALL_RO", "audit", str(len(accounts)), *accounts) == total
            counts["audits"] += 1
        c.close()

    run_threads([mover(1), mover(5), mover(11), auditor, auditor], duration=1.5)
    assert counts["moves"] > 50 and counts["audits"] > 20
    assert sum(int(f.get(a)) for a in accounts) == total


# --------------------------------------------------------------------------- busy functions


def _wait_busy(client, *cmd, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        reply = client.cmd(*cmd)
        if isinstance(reply, Err) and reply.msg.startswith("BUSY"):
            return reply
        assert time.time() < deadline, "no BUSY reply within %.0f s: last %r" % (timeout, reply)
        time.sleep(0.02)


BUSY_FN = (b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
           b"SHUTDOWN NOSAVE.")


def test_busy_function_killed_by_function_kill(server, f):
    load(f, lib("spin", """
        redis.register_function('spin', function(keys, args)
            redis.call('get', keys[1]) while true do end end)
    """))
    f.config_set("busy-reply-threshold", 100)
    runner = RawClient(server.host, server.port)
    try:
        runner.send(encode_command("FCALL", "spin", "1", "{busy}a") + encode_command("PING"))
        time.sleep(0.4)
        with RawClient(server.host, server.port) as other:
            # Same partition as the function's key: BUSY naming FUNCTION KILL.
            assert _wait_busy(other, "SET", "{busy}b", "1") == Err(BUSY_FN)
            assert other.cmd("SCRIPT", "KILL") == Err(BUSY_FN)
            stats = other.cmd("FUNCTION", "STATS")
            running = stats[1]
            assert running[0:4] == [b"name", b"spin", b"command",
                                    [b"FCALL", b"spin", b"1", b"{busy}a"]]
            assert running[4] == b"duration_ms" and running[5] >= 100
            if TARGET != "redis" and server.threads > 1:
                # Other clients keep being served: some connection is on another worker.
                served = 0
                for _ in range(16):
                    with RawClient(server.host, server.port) as c:
                        served += c.cmd("SET", "elsewhere", "1") == Status(b"OK")
                assert served > 0
            assert other.cmd("FUNCTION", "KILL") == Status(b"OK")
            killed = runner.read_reply()
            assert isinstance(killed, Err) and "Script killed by user" in killed.msg
            assert "script: spin" in killed.msg
            assert runner.read_reply() == Status(b"PONG")
            assert other.cmd("SET", "{busy}b", "2") == Status(b"OK")
            assert other.cmd("FUNCTION", "KILL") == Err(b"NOTBUSY No scripts in execution "
                                                        b"right now.")
    finally:
        runner.close()
        f.config_set("busy-reply-threshold", 5000)
    assert f.get("{busy}b") == "2"


# --------------------------------------------------------------------------- abuse


def test_load_that_never_ends_is_stopped(f):
    t0 = time.time()
    assert err_of(load, f, lib("lo", "local a = 1 while true do a = a + 1 end")) == \
        REG_ERR + "FUNCTION LOAD timeout"
    assert time.time() - t0 < 5
    assert f.ping()
    assert f.execute_command("FUNCTION", "LIST") == []


@pytest.mark.percore_only
def test_load_that_eats_memory_is_stopped(f):
    # Redis sets no memory limit on a load (its process grows to gigabytes
    # within the timeout); percore's memory-limit bounds it.
    assert err_of(load, f, lib("lo", "local s = 'x' while true do s = s .. s end")).startswith(
        "Error registering functions")
    assert f.ping()
    assert f.execute_command("FUNCTION", "LIST") == []


@pytest.mark.parametrize("name", ["a b", "a-b", "ü", "a.b", "x" * 0, "a\x00b", "{}", "*",
                                  '"ab', "a'b"])
def test_hostile_library_names(f, name):
    code = "#!lua name=%s\nredis.register_function('ok1', function() return 1 end)" % name
    msg = err_of(load, f, code)
    assert msg in ("Library names can only contain letters, numbers, or underscores(_) and "
                   "must be at least one character long", "Library name was not given",
                   "Invalid library metadata",
                   "Invalid metadata value given: " + name.split(" ")[-1])
    assert f.execute_command("FUNCTION", "LIST") == []


def test_long_names_and_many_libraries(f):
    long_fn = "f" * 5000
    assert load(f, lib("L" * 3000, "redis.register_function('%s', function() return 7 end)"
                       % long_fn)) == "L" * 3000
    assert f.execute_command("FCALL", long_fn, "0") == 7
    p = f.pipeline(transaction=False)
    for i in range(2000):
        p.execute_command("FUNCTION", "LOAD",
                          lib("lib%d" % i, "redis.register_function('fn%d', function() return %d "
                                           "end)" % (i, i)))
    assert p.execute() == ["lib%d" % i for i in range(2000)]
    assert f.execute_command("FCALL", "fn1999", "0") == 1999
    assert f.execute_command("FUNCTION", "STATS")[3][1] == ["libraries_count", 2001,
                                                            "functions_count", 2001]


@pytest.mark.percore_only
def test_library_size_is_bounded(f):
    body = "-- " + "x" * (17 * 1024 * 1024) + "\nredis.register_function('big', function() end)"
    msg = err_of(load, f, lib("big", body))
    assert "more than percore's limit" in msg
    # Libraries of 1 MB each: refused once their total passes the bound (16 MB).
    chunk = "-- " + "y" * (1024 * 1024) + "\n"
    loaded = 0
    for i in range(40):
        try:
            load(f, lib("m%d" % i, chunk + "redis.register_function('m%d', function() "
                                          "return 1 end)" % i))
            loaded += 1
        except redis.ResponseError as e:
            assert "more than percore's limit" in str(e)
            break
    assert 10 <= loaded < 17
    assert f.execute_command("FCALL", "m0", "0") == 1
    f.execute_command("FUNCTION", "FLUSH")
    assert load(f, lib("again", chunk + "redis.register_function('ag', function() end)")) == \
        "again"


def test_client_reset_mid_load_and_mid_fcall(server, f):
    load(f, lib("slow", "redis.register_function('slow', function() "
                        "local x = 0 for i = 1, 3000000 do x = x + i end return x end)"))
    for _ in range(5):
        c = RawClient(server.host, server.port)
        c.send(encode_command("FCALL", "slow", "0") +
               encode_command("FUNCTION", "LOAD", lib("half", "local a = 1 while true do "
                                                              "a = a + 1 end")))
        c.close()
    assert f.ping()
    assert f.execute_command("FCALL", "slow", "0") == 4500001500000


def test_unkillable_function_and_shutdown_nosave(server, server_factory):
    if server.target == "percore":
        srv = server_factory(["--scripting.busy-reply-threshold", "100"],
                             policy=server.policy, threads=server.threads)
    else:
        srv = server_factory()
        with RawClient(srv.host, srv.port) as admin:
            admin.cmd("CONFIG", "SET", "busy-reply-threshold", "100")
    with RawClient(srv.host, srv.port) as admin:
        assert admin.cmd("FUNCTION", "LOAD", lib("w", "redis.register_function('wspin', "
                         "function(keys) redis.call('set', keys[1], 'w') while true do end "
                         "end)")) == b"w"
    runner = RawClient(srv.host, srv.port)
    runner.send(encode_command("FCALL", "wspin", "1", "{busy}a"))
    time.sleep(0.4)
    with RawClient(srv.host, srv.port) as other:
        _wait_busy(other, "GET", "{busy}a")
        assert other.cmd("FUNCTION", "KILL") == Err(
            b"UNKILLABLE Sorry the script already executed write commands against the dataset. "
            b"You can either wait the script termination or kill the server in a hard way using "
            b"the SHUTDOWN NOSAVE command.")
        srv.expect_exit = True
        other.send(encode_command("SHUTDOWN", "NOSAVE"))
        assert other.is_closed(timeout=10)
    srv.proc.wait(timeout=10)
    runner.close()


def test_client_pause_write_holds_only_writing_functions(server, f):
    load(f, lib("p", """
        redis.register_function{function_name='pread', flags={'no-writes'},
            callback=function(keys) return redis.call('get', keys[1]) end}
        redis.register_function('pwrite', function(keys) return redis.call('set', keys[1], 'p') end)
    """))
    f.set("pk", "v")
    f.execute_command("CLIENT", "PAUSE", "800", "WRITE")
    try:
        with RawClient(server.host, server.port) as c:
            t0 = time.time()
            assert c.cmd("FCALL", "pread", "1", "pk") == b"v"
            assert time.time() - t0 < 0.5
            assert c.cmd("FCALL", "pwrite", "1", "pk") == Status(b"OK")
            assert time.time() - t0 >= 0.5  # held until the pause ended
    finally:
        f.execute_command("CLIENT", "UNPAUSE")
    assert f.get("pk") == "p"

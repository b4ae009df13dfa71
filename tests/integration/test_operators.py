"""The operators' tools: SLOWLOG, LATENCY (monitor, HISTOGRAM, INFO
latencystats), DEBUG, LOLWUT, ROLE, CONFIG REWRITE and INFO's Redis fields,
on every policy; PERCORE_TEST_TARGET=redis runs the same tests against
redis-server (those about percore's ini file are percore_only).

The module's servers run with DEBUG enabled (Redis's default, and percore's,
is `no`: test_debug_refused checks the refusal on a default server)."""

import os
import re
import threading
import time

import pytest

from conftest import (LATENCY_SCALE, SERVER_IDS, SERVER_PARAMS, TARGET, Err, RawClient, Server,
                      Status, _start, make_client, parse_info, percore_bin, stop_all, wait_for)


class Raw(RawClient):
    """RawClient with status replies as plain strings (DEBUG DIGEST's hex...)."""

    def read_reply(self):
        v = super().read_reply()
        return v.s if isinstance(v, Status) else v

DEBUG_ARGS = (["--server.enable-debug-command", "yes"] if TARGET == "percore"
              else ["--enable-debug-command", "yes"])
DEBUG_REFUSED = Err('ERR DEBUG command not allowed. If the enable-debug-command option is set to '
                    '"local", you can run it from a local connection, otherwise you need to set '
                    'this option in the configuration file, and then restart the server.')


@pytest.fixture(scope="module", params=SERVER_PARAMS, ids=SERVER_IDS)
def server(request, tmp_path_factory):
    """A DEBUG-enabled server per (policy, threads), shared by the module."""
    policy, threads = request.param
    srv = _start(request, tmp_path_factory, policy, threads, DEBUG_ARGS)
    yield srv
    stop_all([srv])


@pytest.fixture
def c(server):
    """A raw client (str replies) on a flushed server with the logs reset."""
    rc = Raw(server.host, server.port, decode=True)
    rc.cmd("FLUSHALL")
    rc.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    rc.cmd("CONFIG", "SET", "slowlog-max-len", "128")
    rc.cmd("CONFIG", "SET", "latency-monitor-threshold", "0")
    rc.cmd("CONFIG", "SET", "latency-tracking", "yes")
    rc.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
    rc.cmd("SLOWLOG", "RESET")
    rc.cmd("LATENCY", "RESET")
    yield rc
    rc.close()


def connect(server):
    return Raw(server.host, server.port, decode=True)


# ---- SLOWLOG ----------------------------------------------------------------------


def test_slowlog_entry_shape(c, server):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("CLIENT", "SETNAME", "opname")
    c.cmd("SET", "k", "v")
    entries = c.cmd("SLOWLOG", "GET", "2")
    assert len(entries) == 2
    e = entries[0]  # newest first: CLIENT SETNAME was logged before SET
    assert len(e) == 6
    eid, when, dur, args, peer, name = e
    assert args == ["SET", "k", "v"]
    assert isinstance(eid, int) and isinstance(dur, int) and dur >= 0
    assert abs(when - time.time()) < 60
    assert re.fullmatch(r"127\.0\.0\.1:\d+", peer)
    assert name == "opname"
    assert entries[1][3] == ["CLIENT", "SETNAME", "opname"]
    assert entries[1][0] < eid  # ids increase
    assert c.cmd("SLOWLOG", "LEN") >= 2
    assert c.cmd("SLOWLOG", "RESET") == "OK"
    # SLOWLOG RESET itself runs after the reset: it may be logged
    assert c.cmd("SLOWLOG", "LEN") <= 1


def test_slowlog_threshold_and_disable(c):
    c.cmd("SLOWLOG", "RESET")
    c.cmd("SET", "fast", "1")  # under 10 ms
    assert all(e[3][0] != "SET" for e in c.cmd("SLOWLOG", "GET", "-1"))
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "-1")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("DEBUG", "SLEEP", "0.02")
    assert c.cmd("SLOWLOG", "LEN") == 0
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    c.cmd("DEBUG", "SLEEP", "0.02")
    got = c.cmd("SLOWLOG", "GET")
    assert got[0][3] == ["DEBUG", "SLEEP", "0.02"] and got[0][2] >= 20000


def test_slowlog_trims_args(c):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("SADD", "s", *["m%d" % i for i in range(40)])
    c.cmd("SET", "big", "x" * 200)
    big, sadd = c.cmd("SLOWLOG", "GET", "2")
    assert len(sadd[3]) == 32
    assert sadd[3][:31] == ["SADD", "s"] + ["m%d" % i for i in range(29)]
    assert sadd[3][31] == "... (11 more arguments)"
    assert big[3] == ["SET", "big", "x" * 128 + "... (72 more bytes)"]


def test_slowlog_exec_and_scripts(c):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.pipeline(("MULTI",), ("SET", "{t}a", "1"), ("INCR", "{t}a"), ("EXEC",))
    names = [e[3][0].upper() for e in c.cmd("SLOWLOG", "GET", "-1")]
    assert "EXEC" not in names  # Redis 7.0: EXEC is not logged, its commands are
    assert "INCR" in names and "SET" in names and "MULTI" in names
    c.cmd("SLOWLOG", "RESET")
    c.cmd("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "sk")
    logged = [e[3] for e in c.cmd("SLOWLOG", "GET", "-1")]
    assert ["set", "sk", "v"] in logged  # the script's call, as Redis logs it
    assert any(a[0].upper() == "EVAL" for a in logged)


def test_slowlog_blocked_command(c, server):
    """A blocked BLPOP is logged once it is answered (slowlog.tcl's case)."""
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    with connect(server) as rd:
        rd.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\nbl\r\n$1\r\n0\r\n")
        assert wait_for(lambda: parse_info(c.cmd("INFO", "clients"))["blocked_clients"] == "1")
        c.cmd("SLOWLOG", "RESET")
        c.cmd("LPUSH", "bl", "x")
        assert rd.read_reply() == ["bl", "x"]
    assert wait_for(lambda: ["BLPOP", "bl", "0"] in [e[3] for e in c.cmd("SLOWLOG", "GET")])


def test_slowlog_max_len(c):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("CONFIG", "SET", "slowlog-max-len", "5")
    c.cmd("SLOWLOG", "RESET")
    for i in range(20):
        c.cmd("SET", "k", str(i))
    assert c.cmd("SLOWLOG", "LEN") == 5
    got = c.cmd("SLOWLOG", "GET", "-1")
    assert len(got) == 5
    ids = [e[0] for e in got]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    c.cmd("CONFIG", "SET", "slowlog-max-len", "0")
    c.cmd("SET", "k", "x")
    assert c.cmd("SLOWLOG", "LEN") == 0


def test_slowlog_errors_and_huge_counts(c):
    assert c.cmd("SLOWLOG", "GET", "-2") == Err("ERR count should be greater than or equal to -1")
    assert c.cmd("SLOWLOG", "GET", "x") == Err("ERR count should be greater than or equal to -1")
    assert c.cmd("SLOWLOG", "GET", "99999999999999999999") == \
        Err("ERR count should be greater than or equal to -1")
    assert c.cmd("SLOWLOG", "GET", "1", "2") == \
        Err("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
    assert c.cmd("SLOWLOG", "LEN", "x") == \
        Err("ERR wrong number of arguments for 'slowlog|len' command")
    assert c.cmd("SLOWLOG", "NOPE") == Err("ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.")
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    for _ in range(3):
        c.cmd("PING")
    got = c.cmd("SLOWLOG", "GET", str(2 ** 63 - 1))
    assert 3 <= len(got) <= 128
    help_ = c.cmd("SLOWLOG", "HELP")
    assert any("GET" in line for line in help_)


def test_slowlog_flood_bounded(c, server):
    """slowlog-max-len huge, then a flood of slow commands with many long
    arguments: each entry is bounded (32 args x 128 bytes) and the log holds
    what max-len says; lowering it trims at the next entry."""
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("CONFIG", "SET", "slowlog-max-len", "1000000000")
    c.cmd("SLOWLOG", "RESET")
    arg = "y" * 4000
    n = 1500
    cmds = [("MGET", *["{f}%d%s" % (i, arg) for i in range(40)]) for _ in range(n)]
    c.pipeline(*cmds)
    assert c.cmd("SLOWLOG", "LEN") >= n
    top = [e[3] for e in c.cmd("SLOWLOG", "GET", "3") if e[3][0] == "MGET"][0]
    assert len(top) == 32 and all(len(a) <= 128 + 30 for a in top)
    c.cmd("CONFIG", "SET", "slowlog-max-len", "10")
    c.cmd("PING")
    assert c.cmd("SLOWLOG", "LEN") == 10
    if TARGET == "percore":
        # memory: the flood's entries are bounded (about 5 KB each), far
        # from the 160 KB each command sent
        rss = int(parse_info(c.cmd("INFO", "memory"))["used_memory_rss"])
        assert rss < 1 << 30


def test_slowlog_concurrent_ids_unique(server, c):
    """Clients on every worker log at once: ids are unique server-wide."""
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("CONFIG", "SET", "slowlog-max-len", "100000")
    c.cmd("SLOWLOG", "RESET")
    per, nthreads = 300, 6

    def work(i):
        with connect(server) as rc:
            rc.pipeline(*[("SET", "w%d" % i, str(j)) for j in range(per)])

    ts = [threading.Thread(target=work, args=(i,)) for i in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    got = c.cmd("SLOWLOG", "GET", "-1")
    sets = [e for e in got if e[3][0] == "SET"]
    assert len(sets) == per * nthreads
    ids = [e[0] for e in got]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    c.cmd("CONFIG", "SET", "slowlog-max-len", "128")


# ---- LATENCY ---------------------------------------------------------------------------


def test_latency_monitor_events(c):
    c.cmd("CONFIG", "SET", "latency-monitor-threshold", "50")
    c.cmd("DEBUG", "SLEEP", "0.08")
    latest = c.cmd("LATENCY", "LATEST")
    ev = [e for e in latest if e[0] == "command"]
    assert ev, latest
    name, when, last, worst = ev[0]
    assert last >= 80 and worst >= last and abs(when - time.time()) < 60
    hist = c.cmd("LATENCY", "HISTORY", "command")
    assert hist and hist[-1][1] >= 80 and len(hist[-1]) == 2
    graph = c.cmd("LATENCY", "GRAPH", "command")
    assert graph.startswith("command - high ")
    assert len(c.cmd("LATENCY", "DOCTOR")) > 0
    assert c.cmd("LATENCY", "HISTORY", "nosuch") == []
    assert c.cmd("LATENCY", "RESET", "nosuch") == 0
    assert c.cmd("LATENCY", "GRAPH", "nosuch") == \
        Err("ERR No samples available for event 'nosuch'")
    assert c.cmd("LATENCY", "RESET") >= 1
    assert c.cmd("LATENCY", "LATEST") == []
    assert c.cmd("LATENCY", "HELP", "x") == \
        Err("ERR wrong number of arguments for 'latency|help' command")


def test_latency_low_threshold(c):
    """A 1 ms threshold: a 10 ms DEBUG (not a fast command) is a "command" event."""
    c.cmd("CONFIG", "SET", "latency-monitor-threshold", "1")
    c.cmd("DEBUG", "SLEEP", "0.01")  # DEBUG is not fast: "command"
    names = {e[0] for e in c.cmd("LATENCY", "LATEST")}
    assert "command" in names


def test_latency_histogram(c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "a", "b")
    c.cmd("SET", "c", "d")
    c.cmd("GET", "a")
    c.cmd("CLIENT", "ID")
    h = c.cmd("LATENCY", "HISTOGRAM", "set", "get")
    h = dict(zip(h[::2], h[1::2])) if isinstance(h, list) else h
    assert set(h) == {"set", "get"}
    s = h["set"]
    s = dict(zip(s[::2], s[1::2])) if isinstance(s, list) else s
    assert s["calls"] == 2
    buckets = s["histogram_usec"]
    buckets = dict(zip(buckets[::2], buckets[1::2])) if isinstance(buckets, list) else buckets
    counts = list(buckets.values())
    assert counts == sorted(counts) and counts[-1] == 2  # cumulative
    h = c.cmd("LATENCY", "HISTOGRAM", "client")
    h = dict(zip(h[::2], h[1::2])) if isinstance(h, list) else h
    assert "client|id" in h
    full = c.cmd("LATENCY", "HISTOGRAM")
    assert "config|resetstat" in (full[::2] if isinstance(full, list) else full)


def test_latency_histogram_hostile_names(c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "a", "b")
    hostile = ["nosuch", "|", "set|", "|set", "s" * 100000, "\x00\xff", "client|", "*", "?"]
    assert c.cmd("LATENCY", "HISTOGRAM", *hostile) == []
    many = ["set"] * 3000 + ["x%d" % i for i in range(3000)]
    h = c.cmd("LATENCY", "HISTOGRAM", *many)
    # Redis answers each naming: 3000 entries, bounded by the arguments
    assert len(h) == 2 * 3000 and set(h[::2]) == {"set"}


def test_latency_tracking_off_and_info(c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "a", "b")
    info = parse_info(c.cmd("INFO", "latencystats"))
    line = info["latency_percentiles_usec_set"]
    assert re.fullmatch(r"p50=[\d.]+,p99=[\d.]+,p99\.9=[\d.]+", line), line
    c.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99")
    assert c.cmd("CONFIG", "GET", "latency-tracking-info-percentiles") == \
        ["latency-tracking-info-percentiles", "50 99.99"]
    info = parse_info(c.cmd("INFO", "latencystats"))
    assert re.fullmatch(r"p50=[\d.]+,p99\.99=[\d.]+", info["latency_percentiles_usec_set"])
    err = c.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "50 101")
    assert isinstance(err, Err) and "between [0.0,100.0]" in err.msg
    c.cmd("CONFIG", "SET", "latency-tracking", "no")
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "a", "b")
    assert "latency_percentiles_usec_set" not in parse_info(c.cmd("INFO", "latencystats"))
    assert "latency_percentiles_usec_set" not in parse_info(c.cmd("INFO"))  # not default


# ---- DEBUG -----------------------------------------------------------------------------


def test_debug_refused(server_factory):
    srv = server_factory()
    with connect(srv) as rc:
        assert rc.cmd("DEBUG", "SLEEP", "0") == DEBUG_REFUSED
        assert rc.cmd("DEBUG", "HELP") == DEBUG_REFUSED


def test_debug_local(server_factory):
    """enable-debug-command local: allowed from loopback, where the tests run."""
    srv = server_factory([DEBUG_ARGS[0], "local"])
    with connect(srv) as rc:
        assert rc.cmd("DEBUG", "SLEEP", "0") == "OK"
        assert rc.cmd("CONFIG", "SET", "enable-debug-command", "yes") == Err(
            "ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - "
            "can't set immutable config")


def test_debug_object_digest(c):
    assert c.cmd("DEBUG", "DIGEST") == "0" * 40
    c.cmd("SET", "s", "hello")
    c.cmd("RPUSH", "l", "a", "b")
    obj = c.cmd("DEBUG", "OBJECT", "s")
    assert re.fullmatch(r"Value at:0x[0-9a-f]+ refcount:\d+ encoding:\w+ serializedlength:\d+ "
                        r"lru:\d+ lru_seconds_idle:\d+.*", obj), obj
    enc = c.cmd("OBJECT", "ENCODING", "l")
    assert " encoding:%s " % enc in c.cmd("DEBUG", "OBJECT", "l")
    assert c.cmd("DEBUG", "OBJECT", "nosuch") == Err("ERR no such key")
    d1 = c.cmd("DEBUG", "DIGEST")
    assert re.fullmatch(r"[0-9a-f]{40}", d1) and d1 != "0" * 40
    c.cmd("SET", "s", "hellO")
    assert c.cmd("DEBUG", "DIGEST") != d1
    c.cmd("SET", "s", "hello")
    assert c.cmd("DEBUG", "DIGEST") == d1
    c.cmd("SADD", "{x}1", "a", "b", "c")
    c.cmd("SADD", "{x}2", "c", "b", "a")
    c.cmd("SADD", "{x}3", "c", "b", "d")
    v1, v2, v3, none = c.cmd("DEBUG", "DIGEST-VALUE", "{x}1", "{x}2", "{x}3", "{x}nosuch")
    assert v1 == v2 != v3 and none == "0" * 40
    assert c.cmd("DEBUG", "DIGEST-VALUE") == []
    # keys of many partitions in one call (the task holds them all)
    keys = ["dv%d" % i for i in range(64)]
    for k in keys:
        c.cmd("HSET", k, "f", "v", "g", k)
    got = c.cmd("DEBUG", "DIGEST-VALUE", *keys)
    assert len(set(got)) == 64 and "0" * 40 not in got
    c.cmd("HSET", "dvcopy", "g", "dv7", "f", "v")
    assert c.cmd("DEBUG", "DIGEST-VALUE", "dvcopy") == [got[7]]


def test_debug_set_active_expire(c):
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        c.cmd("SET", "e", "1", "PX", "10")
        time.sleep(0.3)
        assert c.cmd("DBSIZE") == 1  # expired, not reclaimed: only lazily
    finally:
        c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    assert wait_for(lambda: c.cmd("DBSIZE") == 0, timeout=5)


def test_debug_protocol_resp2(c):
    assert c.cmd("DEBUG", "PROTOCOL", "string") == "Hello World"
    assert c.cmd("DEBUG", "PROTOCOL", "integer") == 12345
    assert c.cmd("DEBUG", "PROTOCOL", "double") == "3.141"
    assert c.cmd("DEBUG", "PROTOCOL", "bignum") == "1234567999999999999999999999999999999"
    assert c.cmd("DEBUG", "PROTOCOL", "null") is None
    assert c.cmd("DEBUG", "PROTOCOL", "array") == [0, 1, 2]
    assert c.cmd("DEBUG", "PROTOCOL", "set") == [0, 1, 2]
    assert c.cmd("DEBUG", "PROTOCOL", "map") == [0, 0, 1, 1, 2, 0]
    assert c.cmd("DEBUG", "PROTOCOL", "attrib") == "Some real reply following the attribute"
    assert c.cmd("DEBUG", "PROTOCOL", "push") == Err("ERR RESP2 is not supported by this command")
    assert c.cmd("DEBUG", "PROTOCOL", "true") == 1
    assert c.cmd("DEBUG", "PROTOCOL", "false") == 0
    assert c.cmd("DEBUG", "PROTOCOL", "verbatim") == "This is a verbatim\nstring"
    e = c.cmd("DEBUG", "PROTOCOL", "nope")
    assert e.msg.startswith("ERR Wrong protocol type name.")


def test_debug_protocol_resp3_bytes(server, c):
    with RawClient(server.host, server.port) as rc:
        rc.cmd("HELLO", "3")
        exp = {
            "bignum": b"(1234567999999999999999999999999999999\r\n",
            "double": b",3.141\r\n",
            "null": b"_\r\n",
            "true": b"#t\r\n",
            "map": b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
            "set": b"~3\r\n:0\r\n:1\r\n:2\r\n",
            "verbatim": b"=29\r\ntxt:This is a verbatim\nstring\r\n",
            "attrib": b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                      b"$39\r\nSome real reply following the attribute\r\n",
            "push": b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
                    b"$40\r\nSome real reply following the push reply\r\n",
        }
        for name, want in exp.items():
            rc.send(b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$%d\r\n%s\r\n"
                    % (len(name), name.encode()))
            got = b""
            deadline = time.monotonic() + 5
            while len(got) < len(want) and time.monotonic() < deadline:
                got += rc.sock.recv(4096)
            assert got == want, name


def test_debug_unknown_and_help(c):
    for sub in ("JMAP", "STRINGMATCH-LEN", "ZIPLIST", "NOSUCH"):
        assert c.cmd("DEBUG", sub, "x") == Err(
            "ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP." % sub)
    assert c.cmd("DEBUG", "SLEEP") == Err(
        "ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.")
    assert c.cmd("DEBUG", "LOG", "hello from the tests") == "OK"
    help_ = c.cmd("DEBUG", "HELP")
    assert isinstance(help_, list) and any(l.startswith("SLEEP") for l in help_)


@pytest.mark.percore_only
def test_debug_sleep_other_workers_serve(server, c):
    """DEBUG SLEEP stops its own worker only: clients on other workers are
    answered meanwhile (Redis, single-threaded, stops them all)."""
    if server.threads < 2:
        pytest.skip("one worker")
    sleeper = connect(server)
    others = [connect(server) for _ in range(12)]
    try:
        sleeper.send(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n1.5\r\n")
        time.sleep(0.1)
        fast = 0
        for o in others:
            t0 = time.monotonic()
            o.sock.settimeout(3)
            o.send(b"*1\r\n$4\r\nPING\r\n")
            if o.read_reply() == "PONG" and time.monotonic() - t0 < 0.5 * LATENCY_SCALE:
                fast += 1
        assert fast >= 1, "no client was served during DEBUG SLEEP"
        assert sleeper.read_reply() == "OK"
    finally:
        sleeper.close()
        for o in others:
            o.close()


# ---- LOLWUT, ROLE, INFO ----------------------------------------------------------


def test_lolwut_role(c):
    art = c.cmd("LOLWUT")
    assert "ver." in art.splitlines()[-1]
    assert "ver." in c.cmd("LOLWUT", "VERSION", "5", "1", "2")
    assert c.cmd("LOLWUT", "VERSION", "x") == Err("ERR value is not an integer or out of range")
    assert c.cmd("ROLE") == ["master", 0, []]
    assert isinstance(c.cmd("ROLE", "x"), Err)


def test_operators_from_scripts(c):
    """What the commands' flags (Redis 7.0's subcommand rows) allow in a
    script: SLOWLOG (no noscript) and LOLWUT run; LATENCY, FUNCTION, DEBUG
    and ROLE are noscript."""
    assert c.cmd("EVAL", "return redis.call('slowlog', 'len')", "0") >= 0
    assert c.cmd("EVAL", "return redis.call('slowlog', 'reset')", "0") == "OK"
    assert "ver." in c.cmd("EVAL", "return redis.call('lolwut', 'version', '5')", "0")
    for call in ("'latency', 'latest'", "'function', 'list'", "'debug', 'sleep', '0'", "'role'"):
        r = c.cmd("EVAL", "return redis.call(%s)" % call, "0")
        assert isinstance(r, Err) and "not allowed from script" in str(r), (call, r)


def test_info_redis_fields(c):
    info = parse_info(c.cmd("INFO", "everything"))
    for field, value in [("role", "master"), ("connected_slaves", "0"), ("loading", "0"),
                         ("rdb_bgsave_in_progress", "0"), ("rdb_last_bgsave_status", "ok"),
                         ("aof_enabled", "0"), ("aof_last_write_status", "ok"),
                         ("sync_full", "0"), ("total_forks", "0")]:
        assert info.get(field) == value, field
    for field in ("rdb_last_save_time", "used_cpu_sys_children", "total_error_replies",
                  "used_memory", "mem_fragmentation_ratio", "instantaneous_ops_per_sec"):
        assert field in info, field
    default = parse_info(c.cmd("INFO"))
    assert not any(k.startswith("latency_percentiles_usec_") for k in default)


# ---- CONFIG REWRITE -----------------------------------------------------------------


class IniServer(Server):
    """percore started with the given ini file (None: no file at all)."""

    def __init__(self, ini, logdir, threads=2, policy="share-nothing"):
        super().__init__("percore", policy, threads, logdir)
        self.ini = ini

    def _argv(self, port):
        argv = [percore_bin()] + ([self.ini] if self.ini else [])
        return argv + ["--port", str(port), "--server.threads", str(self.threads),
                       "--scheduler.policy", self.policy, "--server.bind", "127.0.0.1"]


COMMENTED_INI = """\
; percore test configuration
; with comments everywhere
#   and hash comments too

[server]
; the port is given on the command line
loglevel = notice   ; inline comment kept
   timeout = 0

; a comment between sections

[store]
# eviction
maxmemory = 0
maxmemory-policy = noeviction
; trailing comment of [store]
"""


@pytest.fixture
def ini_server(tmp_path, server):
    started = []

    def make(text, threads=None):
        d = tmp_path / "conf"
        d.mkdir(exist_ok=True)
        p = d / "server.ini"
        p.write_text(text)
        srv = IniServer(str(p), str(tmp_path), threads or server.threads, server.policy)
        srv.start()
        started.append(srv)
        return srv, p

    yield make
    stop_all(started)


@pytest.mark.percore_only
def test_config_rewrite_keeps_comments(ini_server):
    srv, path = ini_server(COMMENTED_INI)
    r = make_client(srv)
    assert r.config_set("maxmemory", "1000000")
    assert r.config_set("timeout", "30")
    assert r.config_set("slowlog-max-len", "7")          # [server], not in the file
    assert r.config_set("busy-reply-threshold", "1234")  # [scripting], no such section
    assert r.execute_command("CONFIG", "REWRITE") == b"OK" or True
    text = path.read_text()
    lines = text.splitlines()
    old = COMMENTED_INI.splitlines()
    for line in old:  # every comment and blank line is still there
        if not line.strip() or line.strip()[0] in ";#":
            assert line in lines, line
    assert "loglevel = notice   ; inline comment kept" in lines  # unchanged: verbatim
    assert "   timeout = 30" in lines
    assert "maxmemory = 1000000" in lines
    assert "maxmemory-policy = noeviction" in lines
    # the runtime-set key lands in its section, the new section at the end
    assert lines.index("slowlog-max-len = 7") < lines.index("[store]")
    assert lines.index("[scripting]") > lines.index("maxmemory-policy = noeviction")
    assert "busy-reply-threshold = 1234" in lines
    # key order kept
    assert lines.index("loglevel = notice   ; inline comment kept") < lines.index("   timeout = 30")
    assert not [f for f in os.listdir(path.parent) if f != "server.ini"]  # no temp file left
    # a second rewrite with nothing changed leaves the file as it is
    r.execute_command("CONFIG", "REWRITE")
    assert path.read_text() == text
    r.close()
    # the file loads: a server started from it runs with the values
    srv.stop()
    srv2 = IniServer(str(path), srv.logdir, 2)
    srv2.start()
    try:
        r2 = make_client(srv2)
        assert r2.config_get("maxmemory")["maxmemory"] == "1000000"
        assert r2.config_get("slowlog-max-len")["slowlog-max-len"] == "7"
        assert r2.config_get("busy-reply-threshold")["busy-reply-threshold"] == "1234"
        r2.close()
    finally:
        assert srv2.stop() == []


def test_config_rewrite_without_file(server_factory, tmp_path):
    if TARGET == "percore":
        srv = IniServer(None, str(tmp_path))
        srv.start()
    else:
        srv = server_factory()
    try:
        with connect(srv) as rc:
            assert rc.cmd("CONFIG", "REWRITE") == \
                Err("ERR The server is running without a config file")
            assert rc.cmd("PING") == "PONG"
    finally:
        if TARGET == "percore":
            assert srv.stop() == []


@pytest.mark.percore_only
def test_config_rewrite_unwritable_dir(ini_server):
    srv, path = ini_server(COMMENTED_INI)
    with connect(srv) as rc:
        rc.cmd("CONFIG", "SET", "maxmemory", "12345678")
        if os.geteuid() != 0:  # root writes through a 0555 directory
            os.chmod(path.parent, 0o555)
            try:
                assert rc.cmd("CONFIG", "REWRITE") == \
                    Err("ERR Rewriting config file: Permission denied")
            finally:
                os.chmod(path.parent, 0o755)
        # the directory gone: the temporary file cannot be made (as root too)
        os.rename(path.parent, str(path.parent) + ".gone")
        try:
            assert rc.cmd("CONFIG", "REWRITE") == \
                Err("ERR Rewriting config file: No such file or directory")
            assert rc.cmd("PING") == "PONG"  # the server keeps running
        finally:
            os.rename(str(path.parent) + ".gone", path.parent)
        assert rc.cmd("CONFIG", "REWRITE") == "OK"
        assert "maxmemory = 12345678" in path.read_text()


@pytest.mark.percore_only
def test_config_rewrite_concurrent(ini_server):
    """Rewrites from many clients (on every worker) at once, with CONFIG SETs
    among them: each is whole (the file always loads), no temp file stays."""
    srv, path = ini_server(COMMENTED_INI)
    errors = []

    def rewriter(i):
        try:
            with connect(srv) as rc:
                for j in range(15):
                    rc.cmd("CONFIG", "SET", "slowlog-max-len", str(100 + i * 100 + j))
                    got = rc.cmd("CONFIG", "REWRITE")
                    if got != "OK":
                        errors.append(got)
                    text = path.read_text()  # the old file or the new one, never half
                    if "[store]" not in text or "; trailing comment of [store]" not in text:
                        errors.append("partial file")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=rewriter, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert os.listdir(path.parent) == ["server.ini"]
    with connect(srv) as rc:
        rc.cmd("CONFIG", "REWRITE")
        want = rc.cmd("CONFIG", "GET", "slowlog-max-len")[1]
    assert "slowlog-max-len = %s" % want in path.read_text().splitlines()
    assert path.read_text().count("slowlog-max-len") == 1


@pytest.mark.percore_only
def test_config_rewrite_alias(ini_server):
    """As introspection.tcl's alias case: a key the file names by its alias
    (lua-time-limit) is rewritten under that name, not added again."""
    srv, path = ini_server("[scripting]\nlua-time-limit = 5000 ; old name\n")
    with connect(srv) as rc:
        assert rc.cmd("CONFIG", "SET", "busy-reply-threshold", "777") == "OK"
        assert rc.cmd("CONFIG", "REWRITE") == "OK"
    text = path.read_text()
    assert text.startswith("[scripting]\nlua-time-limit = 777 ; old name\n")
    assert "busy-reply-threshold" not in text
    # the command line's values are running values too, written as Redis does
    assert "[server]" in text and "threads = " in text

"""The append-only file (server/aof.h): every write logged as its effect in
Redis 7.0's multi-part layout (appendonlydir/appendonly.aof.manifest, a
base, incr files), replayed at startup; BGREWRITEAOF; truncated and corrupt
files; files that move both ways with redis-server 7.0; kill -9 with
appendfsync always; clients that misbehave while it logs.

Each test starts its own servers in a directory of its own (the `server`
fixture only picks the policy and thread count), restarting the real binary
on the same directory. The cases marked percore_only look at percore's log
or files, or run redis-server beside it; the rest pass against redis-server
too (PERCORE_TEST_TARGET=redis)."""
import os
import random
import shutil
import signal
import socket
import threading
import time

import pytest
import redis

from conftest import TARGET, Server, make_client, redis_bin, stop_all, wait_for

FSYNC = ("always", "everysec", "no")


def aof_args(target, fsync="everysec", extra=()):
    pre = "--persistence." if target == "percore" else "--"
    args = [pre + "appendonly", "yes", pre + "appendfsync", fsync]
    if target == "percore":
        args += ["--server.enable-debug-command", "yes"]
    else:
        args += ["--enable-debug-command", "yes"]
    return args + list(extra)


def opt(target, name):
    return ("--persistence." if target == "percore" else "--") + name


@pytest.fixture
def mk(server):
    """mk(dir, target=TARGET, fsync=..., extra=(), aof=True) starts a server
    whose AOF directory is dir/appendonlydir."""
    started = []

    def make(d, target=None, fsync="everysec", extra=(), aof=True):
        target = target or TARGET
        args = aof_args(target, fsync, extra) if aof else list(extra)
        srv = Server(target, server.policy or "share-nothing", server.threads or 2, str(d), args)
        started.append(srv)
        srv.start()
        return srv

    yield make
    stop_all(started)


def client(srv, **kw):
    c = make_client(srv, **kw)
    for name in ("BGREWRITEAOF", "BGSAVE", "SHUTDOWN"):
        c.response_callbacks.pop(name, None)
    return c


def info(c):
    return c.info("persistence")


def wait_rewrite(c, timeout=20):
    def done():
        i = info(c)  # one snapshot: a scheduled rewrite turns into a running one
        return i["aof_rewrite_in_progress"] == 0 and i["aof_rewrite_scheduled"] == 0
    wait_for(done, timeout=timeout)


def manifest(d):
    with open(os.path.join(str(d), "appendonlydir", "appendonly.aof.manifest")) as f:
        return [line.split() for line in f if line.strip()]


def incr_text(d):
    """Every incr file named by the manifest, concatenated."""
    out = b""
    for row in manifest(d):
        if row[-1] == "i":
            with open(os.path.join(str(d), "appendonlydir", row[1]), "rb") as f:
                out += f.read()
    return out


def last_incr_path(d):
    rows = [r for r in manifest(d) if r[-1] == "i"]
    return os.path.join(str(d), "appendonlydir", rows[-1][1])


def state(srv, dbs=(0, 2)):
    """Every key of dbs: (type, value, has a TTL); streams with their groups."""
    out = {}
    for db in dbs:
        c = redis.Redis(host=srv.host, port=srv.port, db=db, decode_responses=False)
        for k in c.scan_iter(count=1000):
            t = c.type(k)
            if t == b"string":
                v = c.get(k)
            elif t == b"list":
                v = c.lrange(k, 0, -1)
            elif t == b"hash":
                v = c.hgetall(k)
            elif t == b"set":
                v = sorted(c.smembers(k))
            elif t == b"zset":
                v = c.zrange(k, 0, -1, withscores=True)
            elif t == b"stream":
                groups = sorted((g["name"], g["consumers"], g["pending"], g["last-delivered-id"])
                                for g in c.xinfo_groups(k))
                pend = [c.xpending(k, g[0])["pending"] for g in groups]
                v = (c.xrange(k), groups, pend)
            else:
                v = None
            out[(db, k)] = (t, v, c.pttl(k) > 0)
        c.close()
    return out


def populate(srv, c):
    """Every type, and the writes whose effect is not their text."""
    c.set("str", "hello")
    c.set("ex", "v", ex=1000)
    c.setex("sx", 1000, "v")
    c.set("pexp", "v")
    c.pexpire("pexp", 900000)
    c.set("gone", "v", px=1)
    c.incrbyfloat("float", 1.25)
    c.incrbyfloat("float", 2.5)
    c.hset("hash", mapping={"a": "1", "b": "2"})
    c.hincrbyfloat("hash", "f", 0.5)
    c.rpush("list", *range(20))
    c.lpop("list")
    c.sadd("set", *["m%d" % i for i in range(30)])
    c.spop("set")
    c.spop("set", 3)
    c.zadd("zset", {"a": 1, "b": 2.5})
    c.zincrby("zset", 2, "a")
    c.pfadd("hll", "x", "y")
    c.setbit("bits", 77, 1)
    c.getex("str", px=800000)
    # a script's writes (one slot: percore wants declared keys)
    c.eval("redis.call('set', KEYS[1], 'a'); redis.call('rpush', KEYS[2], 'x', 'y');"
           "redis.call('spop', KEYS[3])", 3, "{s}k", "{s}l", "set")
    # a function library, and FCALL's writes
    c.function_load("#!lua name=aoflib\nredis.register_function('bump', function(keys, args) "
                    "redis.call('incr', keys[1]); return redis.call('incrbyfloat', keys[1], '0.5')"
                    " end)", replace=True)
    c.fcall("bump", 1, "fkey")
    # a pending entry claimed by another consumer (the fallback)
    c.xadd("claims", {"a": "1"}, id="1-1")
    c.xgroup_create("claims", "cg", id="0")
    c.xreadgroup("cg", "c1", {"claims": ">"})
    c.xautoclaim("claims", "cg", "c2", 0, "0-0")
    # MULTI/EXEC
    p = c.pipeline(transaction=True)
    p.set("{t}a", 1)
    p.incr("{t}a")
    p.rpush("{t}b", "z")
    p.execute()
    # streams with a group, a read and an ack
    c.xadd("stream", {"f": "1"})
    c.xadd("stream", {"f": "2"})
    c.xadd("stream", {"f": "3"}, id="9999999999999-1")
    c.xgroup_create("stream", "g", id="0")
    c.xreadgroup("g", "alice", {"stream": ">"}, count=2)
    first = c.xrange("stream")[0][0]
    c.xack("stream", "g", first)
    c.xadd("capped", {"n": "1"}, maxlen=2, approximate=True)
    # another database
    d = redis.Redis(host=srv.host, port=srv.port, db=2, decode_responses=True)
    d.set("indb2", "v")
    d.rpush("l2", "a")
    d.close()
    # a blocking pop served later, and a BLMOVE served later
    got = []

    def pop():
        b = make_client(srv)
        got.append(b.blpop("queue", timeout=10))
        got.append(b.blmove("q2", "q3", 10, "LEFT", "RIGHT"))
        b.close()

    t = threading.Thread(target=pop)
    t.start()
    wait_for(lambda: c.info("clients")["blocked_clients"] == 1)
    c.rpush("queue", "j1", "j2")
    wait_for(lambda: c.info("clients")["blocked_clients"] == 1 and len(got) == 1)
    c.rpush("q2", "k1", "k2")
    t.join()
    assert got == [("queue", "j1"), "k1"]
    time.sleep(0.01)  # "gone" has expired


@pytest.mark.parametrize("fsync", FSYNC)
def test_round_trip_every_type(mk, tmp_path, fsync):
    a = mk(tmp_path, fsync=fsync)
    c = client(a)
    populate(a, c)
    before = state(a)
    assert (0, b"gone") not in before
    assert before[(0, b"ex")][2] and before[(0, b"str")][2]
    assert info(c)["aof_enabled"] == 1
    stop_all([a])
    b = mk(tmp_path, fsync=fsync)
    assert state(b) == before
    cb = client(b)
    assert abs(cb.lastsave().timestamp() - time.time()) < 30  # the start, before any save
    assert 0 < cb.ttl("sx") <= 1000
    assert cb.get("float") == "3.75" and cb.get("fkey") == "1.5"
    assert [lib[1] for lib in cb.function_list()] == ["aoflib"]
    assert cb.xpending("claims", "cg")["consumers"] == [{"name": "c2", "pending": 1}]
    assert cb.lrange("queue", 0, -1) == ["j2"] and cb.lrange("q3", 0, -1) == ["k1"]
    if TARGET == "percore":
        text = incr_text(tmp_path)
        # effects, not texts (aof.h's rules)
        assert b"PXAT" in text and b"PEXPIREAT" in text and b"KEEPTTL" in text
        assert b"SREM" in text and b"MULTI" in text and b"LPOP" in text and b"LMOVE" in text
        for word in (b"eval", b"EVAL", b"blpop", b"blmove", b"spop", b"incrbyfloat", b"setex"):
            assert b"\r\n" + word + b"\r\n" not in text


def test_bgrewriteaof_then_restart(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    populate(a, c)
    assert c.execute_command("BGREWRITEAOF") == "Background append only file rewriting started"
    c.set("after", "1")  # logged into the new incr file
    wait_rewrite(c)
    i = info(c)
    assert i["aof_last_bgrewrite_status"] == "ok" and i["aof_rewrites"] == 1
    c.set("after2", "2")
    rows = manifest(tmp_path)
    assert [r[-1] for r in rows] == ["b", "i"]
    assert rows[0][1] == "appendonly.aof.2.base.rdb"
    files = sorted(os.listdir(tmp_path / "appendonlydir"))
    assert files == sorted([rows[0][1], rows[1][1], "appendonly.aof.manifest"])
    before = state(a)
    stop_all([a])
    b = mk(tmp_path)
    assert state(b) == before


def test_rewrite_without_preamble(mk, tmp_path):
    extra = [opt(TARGET, "aof-use-rdb-preamble"), "no"]
    a = mk(tmp_path, extra=extra)
    c = client(a)
    populate(a, c)
    assert c.execute_command("BGREWRITEAOF").startswith("Background append only file rewriting")
    wait_rewrite(c)
    base = [r for r in manifest(tmp_path) if r[-1] == "b"][0][1]
    assert base.endswith(".base.aof")
    with open(tmp_path / "appendonlydir" / base, "rb") as f:
        assert f.read(1) == b"*"
    before = state(a)
    stop_all([a])
    b = mk(tmp_path, extra=extra)
    assert state(b) == before
    assert [lib[1] for lib in client(b).function_list()] == ["aoflib"]


def test_concurrent_writers_during_rewrites(mk, tmp_path):
    """Many clients write while rewrites run: no acknowledged write is lost."""
    a = mk(tmp_path)
    c = client(a)
    c.mset({"pad%d" % i: "x" * 50 for i in range(3000)})
    stop = threading.Event()
    acked = {}
    errors = []

    def writer(tid):
        cl = make_client(a)
        n = 0
        try:
            while not stop.is_set():
                cl.set("w:%d:%d" % (tid, n), n)
                cl.incr("ctr:%d" % tid)
                n += 1
                acked[tid] = n
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        cl.close()

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    try:
        for _ in range(3):
            time.sleep(0.15)
            r = c.execute_command("BGREWRITEAOF")
            assert r.startswith("Background append only file rewriting")
            wait_rewrite(c)
    finally:
        stop.set()
        for t in ts:
            t.join()
    assert not errors
    assert info(c)["aof_rewrites"] >= 3
    stop_all([a])
    b = mk(tmp_path)
    cb = client(b)
    for tid, n in acked.items():
        assert int(cb.get("ctr:%d" % tid)) == n
        assert cb.exists(*["w:%d:%d" % (tid, i) for i in range(n)]) == n


@pytest.mark.percore_only
def test_kill9_with_always(mk, tmp_path):
    """appendfsync always: every acknowledged write survives kill -9."""
    a = mk(tmp_path, fsync="always")
    acked = {}

    def writer(tid):
        cl = make_client(a)
        n = 0
        try:
            while True:
                cl.set("k:%d:%d" % (tid, n), n)
                n += 1
                acked[tid] = n
        except redis.ConnectionError:
            pass

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    time.sleep(0.4)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    a.proc = None  # killed on purpose: nothing for stop() to check
    for t in ts:
        t.join()
    assert sum(acked.values()) > 10
    b = mk(tmp_path, fsync="always")
    cb = client(b)
    for tid, n in acked.items():
        assert cb.exists(*["k:%d:%d" % (tid, i) for i in range(n)]) == n


@pytest.mark.percore_only
def test_truncated_and_corrupt_files(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    c.set("a", "1")
    c.rpush("l", "x")
    stop_all([a])
    path = last_incr_path(tmp_path)
    good = open(path, "rb").read()
    # a command cut off at the end: loaded without it (aof-load-truncated yes)
    with open(path, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nxy")
    b = mk(tmp_path)
    cb = client(b)
    assert cb.get("a") == "1" and cb.get("b") is None
    assert "short read while loading the AOF file" in b.log()
    assert "loaded anyway because aof-load-truncated is enabled" in b.log()
    cb.set("c", "3")  # appended after the cut, so the next start reads it
    stop_all([b])
    b2 = mk(tmp_path)
    assert client(b2).get("c") == "3"
    stop_all([b2])
    # a transaction cut off: none of it
    with open(path, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n1\r\n")
    b3 = mk(tmp_path)
    assert client(b3).get("m") is None
    stop_all([b3])
    # cut with aof-load-truncated no: refuses to start
    with open(path, "ab") as f:
        f.write(b"*2\r\n$3\r\nDEL")
    bad = Server("percore", "share-nothing", 2, str(tmp_path),
                 aof_args("percore", extra=["--persistence.aof-load-truncated", "no"]))
    with pytest.raises(pytest.fail.Exception):
        bad.start()
    assert "Unexpected end of file reading the append only file" in bad.log()
    # garbage in the middle: refuses to start, whatever aof-load-truncated says
    with open(path, "wb") as f:
        f.write(good + b"garbage\r\n" + good)
    bad2 = Server("percore", "share-nothing", 2, str(tmp_path), aof_args("percore"))
    with pytest.raises(pytest.fail.Exception):
        bad2.start()
    assert "Bad file format reading the append only file" in bad2.log()
    # a huge announced length is a cut file, not an allocation
    with open(path, "wb") as f:
        f.write(good + b"*2\r\n$999999999999\r\nab")
    b4 = mk(tmp_path)
    assert client(b4).get("a") == "1"
    # an unknown command
    stop_all([b4])
    with open(path, "wb") as f:
        f.write(good + b"*1\r\n$7\r\nNOSUCHX\r\n")
    bad3 = Server("percore", "share-nothing", 2, str(tmp_path), aof_args("percore"))
    with pytest.raises(pytest.fail.Exception):
        bad3.start()
    assert "Unknown command 'NOSUCHX' reading the append only file" in bad3.log()


def redis_available():
    return os.path.exists(redis_bin()) or shutil.which(redis_bin())


@pytest.mark.percore_only
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_loads_in_percore_and_back(mk, tmp_path, preamble):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path, target="redis", extra=["--aof-use-rdb-preamble", preamble])
    c = client(a)
    populate(a, c)
    c.execute_command("BGREWRITEAOF")
    wait_rewrite(c)
    c.set("after", "x")
    c.xreadgroup("g", "bob", {"stream": ">"}, count=1)
    before = state(a)
    stop_all([a])
    b = mk(tmp_path, extra=["--persistence.aof-use-rdb-preamble", preamble])
    assert state(b) == before
    cb = client(b)
    cb.set("fromp", "1")
    cb.execute_command("BGREWRITEAOF")
    wait_rewrite(cb)
    cb.incrbyfloat("float", 1)
    cb.spop("set")
    before = state(b)
    stop_all([b])
    r2 = mk(tmp_path, target="redis", extra=["--aof-use-rdb-preamble", preamble])
    assert state(r2) == before


@pytest.mark.percore_only
def test_percore_aof_loads_in_redis(mk, tmp_path):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path)
    populate(a, client(a))
    before = state(a)
    stop_all([a])
    b = mk(tmp_path, target="redis")
    assert state(b) == before


def test_config_and_runtime_switch(mk, tmp_path):
    a = mk(tmp_path, aof=False)
    c = client(a)
    cfg = c.config_get("append*")
    assert cfg["appendonly"] == "no" and cfg["appendfsync"] == "everysec"
    assert cfg["appendfilename"] == "appendonly.aof" and cfg["appenddirname"] == "appendonlydir"
    assert c.config_get("auto-aof-rewrite-min-size")["auto-aof-rewrite-min-size"] == "67108864"
    assert c.config_get("aof-load-truncated")["aof-load-truncated"] == "yes"
    with pytest.raises(redis.ResponseError, match="argument 'appendfsync'"):
        c.config_set("appendfsync", "sometimes")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        c.config_set("appendfilename", "x.aof")
    assert info(c)["aof_enabled"] == 0
    c.set("before", "1")
    c.set("gone", "v", ex=1000)
    c.config_set("appendonly", "yes")  # a rewrite creates the base
    wait_for(lambda: info(c)["aof_enabled"] == 1 and info(c)["aof_rewrites"] == 1, timeout=10)
    wait_rewrite(c)
    c.set("after", "2")
    c.delete("gone")
    assert [r[-1] for r in manifest(tmp_path)] == ["b", "i"]
    i = info(c)
    for field in ("aof_current_size", "aof_base_size", "aof_buffer_length",
                  "aof_pending_bio_fsync", "aof_delayed_fsync", "aof_pending_rewrite"):
        assert field in i
    c.config_set("appendfsync", "always")
    c.set("always", "3")
    stop_all([a])
    b = mk(tmp_path)
    cb = client(b)
    assert cb.mget("before", "after", "always", "gone") == ["1", "2", "3", None]
    cb.config_set("appendonly", "no")
    assert info(cb)["aof_enabled"] == 0
    cb.set("unlogged", "1")
    stop_all([b])
    b2 = mk(tmp_path)
    assert client(b2).get("unlogged") is None


@pytest.mark.percore_only
def test_bgsave_and_rewrite_together(mk, tmp_path):
    a = mk(tmp_path, extra=["--persistence.rdbcompression", "no"])
    c = client(a)
    for j in range(20):
        c.mset({"k%d:%d" % (j, i): "v" * 1000 for i in range(1000)})
    assert c.execute_command("BGSAVE") == "Background saving started"
    r = c.execute_command("BGREWRITEAOF")
    if info(c)["rdb_bgsave_in_progress"] or r.endswith("scheduled"):
        assert r == "Background append only file rewriting scheduled"
    wait_rewrite(c)
    r = c.execute_command("BGREWRITEAOF")
    assert r == "Background append only file rewriting started"
    if info(c)["aof_rewrite_in_progress"]:
        try:
            c.execute_command("BGREWRITEAOF")
        except redis.ResponseError as e:
            assert str(e) == "Background append only file rewriting already in progress"
        try:
            c.execute_command("BGSAVE")
        except redis.ResponseError as e:
            assert "Another child process is active (AOF?)" in str(e)
    wait_rewrite(c)
    wait_for(lambda: info(c)["rdb_bgsave_in_progress"] == 0)
    assert info(c)["aof_rewrites"] == 2
    before = c.dbsize()
    stop_all([a])
    b = mk(tmp_path)
    assert client(b).dbsize() == before


@pytest.mark.percore_only
def test_write_errors_refuse_writes(mk, tmp_path):
    """The next incr file is /dev/full: writes to it fail, and writes are then
    refused with Redis's MISCONF text for the AOF."""
    a = mk(tmp_path)
    c = client(a)
    c.set("a", "1")
    os.symlink("/dev/full", tmp_path / "appendonlydir" / "appendonly.aof.2.incr.aof")
    assert c.execute_command("BGREWRITEAOF") == "Background append only file rewriting started"
    c.set("b", "2")  # its write fails (after the reply: everysec)
    wait_for(lambda: info(c)["aof_last_write_status"] == "err")
    with pytest.raises(redis.ResponseError) as e:
        c.set("c", "3")
    assert str(e.value).startswith("MISCONF Errors writing to the AOF file: No space left on "
                                   "device")
    assert c.get("a") == "1"  # reads go on
    c.config_set("appendonly", "no")  # recovers: writes allowed again
    c.set("c", "3")


def test_abuse_resets_and_trickles(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    # reset mid-MULTI: nothing of it is logged
    s = socket.create_connection((a.host, a.port))
    s.sendall(b"MULTI\r\nSET mm 1\r\n")
    s.recv(100)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    # reset mid-command
    s = socket.create_connection((a.host, a.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nhc\r\n$10\r\nabc")
    s.close()
    # a big value trickled in pieces
    big = os.urandom(300000)
    s = socket.create_connection((a.host, a.port))
    head = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % len(big)
    payload = head + big + b"\r\n"
    for i in range(0, len(payload), 65536):
        s.sendall(payload[i:i + 65536])
        time.sleep(0.005)
    assert s.recv(10) == b"+OK\r\n"
    s.close()
    c.set("ok", "1")
    wait_for(lambda: c.dbsize() == 2)
    stop_all([a])
    b = mk(tmp_path)
    cb = client(b, decode=False)
    assert cb.get("big") == big
    assert cb.get("mm") is None and cb.get("hc") is None
    assert cb.dbsize() == 2


def test_debug_loadaof(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    populate(a, c)
    before = state(a)
    assert c.execute_command("DEBUG", "LOADAOF") == "OK"
    assert state(a) == before
    c.set("more", "1")  # still logged after the reload
    before = state(a)
    stop_all([a])
    b = mk(tmp_path)
    assert state(b) == before


@pytest.mark.percore_only
def test_failed_rewrite_counted_and_nothing_lost(mk, tmp_path):
    """The new base's name is taken (a directory): the rewrite fails, is
    logged and counted; the incr files keep every write; the next one works."""
    a = mk(tmp_path)
    c = client(a)
    c.set("a", "1")
    os.makedirs(tmp_path / "appendonlydir" / "appendonly.aof.2.base.rdb" / "x")
    assert c.execute_command("BGREWRITEAOF") == "Background append only file rewriting started"
    c.set("b", "2")
    wait_rewrite(c)
    i = info(c)
    assert i["aof_last_bgrewrite_status"] == "err"
    assert i["aof_rewrites_consecutive_failures"] == 1
    assert "Error trying to rename the temporary AOF base file" in a.log()
    assert [r[-1] for r in manifest(tmp_path)] == ["b", "i", "i"]
    shutil.rmtree(tmp_path / "appendonlydir" / "appendonly.aof.2.base.rdb")
    assert c.execute_command("BGREWRITEAOF") == "Background append only file rewriting started"
    c.set("c", "3")
    wait_rewrite(c)
    i = info(c)
    assert i["aof_last_bgrewrite_status"] == "ok"
    assert i["aof_rewrites_consecutive_failures"] == 0 and i["aof_rewrites"] == 2
    stop_all([a])
    b = mk(tmp_path)
    assert client(b).mget("a", "b", "c") == ["1", "2", "3"]


@pytest.mark.percore_only
def test_write_error_with_always_exits(mk, tmp_path):
    a = mk(tmp_path, fsync="always")
    c = client(a)
    c.set("a", "1")
    os.symlink("/dev/full", tmp_path / "appendonlydir" / "appendonly.aof.2.incr.aof")
    assert c.execute_command("BGREWRITEAOF") == "Background append only file rewriting started"
    with pytest.raises(redis.ConnectionError):
        c.set("b", "2")  # never acknowledged
    assert a.proc.wait(timeout=10) == 1
    assert "Can't recover from AOF write error when the AOF fsync policy is 'always'" in a.log()
    a.proc = None


def test_old_single_file_upgraded(mk, tmp_path):
    """A Redis 6-style dir/appendonly.aof moves into the directory as the base."""
    cmds = [["SELECT", "0"], ["SET", "old", "v"], ["RPUSH", "ol", "a", "b"],
            ["SELECT", "3"], ["SET", "in3", "x"]]
    raw = b""
    for argv in cmds:
        raw += b"*%d\r\n" % len(argv)
        for a in argv:
            raw += b"$%d\r\n%s\r\n" % (len(a), a.encode())
    (tmp_path / "appendonly.aof").write_bytes(raw)
    a = mk(tmp_path)
    c = client(a)
    assert c.get("old") == "v" and c.lrange("ol", 0, -1) == ["a", "b"]
    assert redis.Redis(host=a.host, port=a.port, db=3, decode_responses=True).get("in3") == "x"
    assert not (tmp_path / "appendonly.aof").exists()
    rows = manifest(tmp_path)
    assert rows[0][1] == "appendonly.aof" and rows[0][-1] == "b"
    c.set("new", "1")
    stop_all([a])
    b = mk(tmp_path)
    assert client(b).mget("old", "new") == ["v", "1"]

"""RDB persistence: SAVE, BGSAVE, LASTSAVE, SHUTDOWN SAVE/NOSAVE, DEBUG RELOAD,
the load at startup, INFO persistence and MISCONF, with dump.rdb files that
percore and redis-server 7.0 both read.

Each test starts its own servers in a directory of its own (the `server`
fixture only picks the policy and thread count). The cases marked
percore_only are about percore's own log or redis-server beside it; the
rest pass against redis-server too (PERCORE_TEST_TARGET=redis)."""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import TARGET, Server, make_client, redis_bin, stop_all, wait_for


def debug_args(target):
    """DEBUG RELOAD, and CONFIG SET of dir / dbfilename (protected in Redis 7.0)."""
    if target == "percore":
        return ["--server.enable-debug-command", "yes", "--server.enable-protected-configs", "yes"]
    return ["--enable-debug-command", "yes", "--enable-protected-configs", "yes"]


@pytest.fixture
def mk(server, request):
    """mk(dir, target=TARGET, extra=()) starts a server whose RDB file is
    dir/dump.rdb (percore runs in dir, dir "."; redis-server gets --dir)."""
    started = []

    def make(d, target=None, extra=(), expect_fail=False):
        target = target or TARGET
        srv = Server(target, server.policy or "share-nothing", server.threads or 2, str(d),
                     debug_args(target) + list(extra))
        started.append(srv)
        srv.start()
        return srv

    yield make
    stop_all(started)


def client(srv, **kw):
    """A client that shows SAVE / BGSAVE / LASTSAVE replies as they come."""
    c = make_client(srv, **kw)
    for name in ("SAVE", "BGSAVE", "LASTSAVE", "DEBUG RELOAD", "SHUTDOWN"):
        c.response_callbacks.pop(name, None)
    return c


def info(c):
    return c.info("persistence")


def populate(c, seed=1):
    """Every type, TTLs, several databases; returns nothing (see state())."""
    rnd = random.Random(seed)
    c.set("str", "hello")
    c.set("int", 12345)
    c.set("long", "x" * 300)  # LZF-compressed
    c.set("ttl", "v", px=500000)
    c.rpush("list", *[str(i) for i in range(50)])
    c.rpush("biglist", *["e%06d" % i + "y" * 40 for i in range(3000)])
    c.hset("hash", mapping={"f%d" % i: "v%d" % i for i in range(10)})
    c.hset("bighash", mapping={"f%d" % i: "v" * 80 for i in range(600)})
    c.sadd("intset", *range(100))
    c.sadd("set", *["m%d" % i for i in range(300)])
    c.zadd("zset", {"a": 1.5, "b": -2, "c": 3e10})
    c.zadd("bigzset", {"m%d" % i: rnd.random() for i in range(500)})
    c.pfadd("hll", *["h%d" % i for i in range(100)])
    c.setbit("bits", 1000, 1)
    c.expire("hash", 100000)
    # other databases through clients of their own (a pool keeps SELECT per connection)
    for db in (1, 5):
        d = redis.Redis(host=c.connection_pool.connection_kwargs["host"],
                        port=c.connection_pool.connection_kwargs["port"], db=db,
                        decode_responses=True)
        d.set("indb%d" % db, "v%d" % db)
        d.rpush("l%d" % db, "a", "b")
        d.close()


def state(srv, dbs=(0, 1, 5)):
    """Every key of dbs: (type, value, has a TTL)."""
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
            else:
                v = None
            out[(db, k)] = (t, v, c.pttl(k) > 0)
        c.close()
    return out


def wait_bgsave(c, timeout=20):
    wait_for(lambda: info(c)["rdb_bgsave_in_progress"] == 0, timeout=timeout)


# ---- save, restart, compare -------------------------------------------------


def test_save_restart_compare(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    populate(c)
    before = state(a)
    assert len(before) == 18
    t0 = c.lastsave()
    assert c.execute_command("SAVE") == "OK"
    assert c.lastsave() >= t0
    assert info(c)["rdb_changes_since_last_save"] == 0
    assert os.path.exists(tmp_path / "dump.rdb")
    stop_all([a])
    b = mk(tmp_path)
    assert state(b) == before
    cb = client(b)
    assert 0 < cb.pttl("ttl") <= 500000
    assert cb.pfcount("hll") == 100
    if TARGET == "percore":
        assert "keys loaded: 18" in b.log()


def test_bgsave_and_lastsave(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    assert abs(c.lastsave() - time.time()) < 30  # the start, before any save
    populate(c)
    saves = info(c)["rdb_saves"]
    assert c.execute_command("BGSAVE") == "Background saving started"
    wait_bgsave(c)
    i = info(c)
    assert i["rdb_last_bgsave_status"] == "ok"
    assert i["rdb_saves"] == saves + 1
    assert i["rdb_changes_since_last_save"] == 0
    c.set("x", 1)
    c.set("y", 2)
    assert info(c)["rdb_changes_since_last_save"] == 2
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("BGSAVE", "NOW")
    with pytest.raises(redis.ResponseError, match="wrong number"):
        c.execute_command("LASTSAVE", "x")
    assert abs(c.lastsave() - time.time()) < 30
    stop_all([a])
    b = mk(tmp_path)
    assert client(b).dbsize() == 14  # x and y came after the snapshot


def big_dataset(c, n=200000):
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.set("k%d" % i, "v" * 100)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def slow_save(c, n=1000, delay_us=1000):
    """n keys, and a save that sleeps delay_us after each (rdb-key-save-delay,
    as Redis's own tests slow theirs): a child that runs n * delay_us."""
    big_dataset(c, n)
    c.config_set("rdb-key-save-delay", delay_us)


def test_bgsave_in_progress_and_schedule(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    slow_save(c)
    assert c.execute_command("BGSAVE") == "Background saving started"
    assert info(c)["rdb_bgsave_in_progress"] == 1
    # Redis 7.0: SCHEDULE only waits for another kind of child (AOF)
    for cmd in (["BGSAVE"], ["SAVE"], ["BGSAVE", "SCHEDULE"]):
        with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
            c.execute_command(*cmd)
    wait_bgsave(c)
    assert info(c)["rdb_last_bgsave_status"] == "ok"


# ---- an atomic snapshot -------------------------------------------------------


def test_bgsave_during_transfers_is_atomic(mk, tmp_path):
    """Transfers between 64 accounts (MULTI/EXEC across partitions) run while
    BGSAVEs fork: every saved file must hold the same total."""
    a = mk(tmp_path)
    c = client(a)
    n, each = 64, 1000
    c.mset({"acct:%d" % i: each for i in range(n)})
    stop = threading.Event()
    errors = []

    def transfer(seed):
        rnd = random.Random(seed)
        cl = client(a)
        try:
            while not stop.is_set():
                x, y = rnd.sample(range(n), 2)
                amt = rnd.randint(1, 50)
                p = cl.pipeline(transaction=True)
                p.decrby("acct:%d" % x, amt)
                p.incrby("acct:%d" % y, amt)
                p.execute()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    workers = [threading.Thread(target=transfer, args=(s,)) for s in range(4)]
    for w in workers:
        w.start()
    totals = []
    try:
        for round_ in range(3):
            time.sleep(0.2)
            assert c.execute_command("BGSAVE") == "Background saving started"
            wait_bgsave(c)
            assert info(c)["rdb_last_bgsave_status"] == "ok"
            d = tmp_path / ("copy%d" % round_)
            d.mkdir()
            shutil.copy(tmp_path / "dump.rdb", d / "dump.rdb")
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert not errors
    for round_ in range(3):
        b = mk(tmp_path / ("copy%d" % round_))
        vals = client(b).mget(["acct:%d" % i for i in range(n)])
        totals.append(sum(int(v) for v in vals))
        stop_all([b])
    assert totals == [n * each] * 3


# ---- both servers read each other's files ------------------------------------


def redis_available():
    return os.path.exists(redis_bin()) or shutil.which(redis_bin())


@pytest.mark.percore_only
def test_percore_file_loads_in_redis(mk, tmp_path):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path)
    populate(client(a))
    before = state(a)
    client(a).execute_command("SAVE")
    stop_all([a])
    b = mk(tmp_path, target="redis")
    assert state(b) == before
    assert "Done loading RDB, keys loaded: 18" in b.log()
    if shutil.which("redis-check-rdb"):
        out = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")],
                             capture_output=True, text=True)
        assert "RDB looks OK" in out.stdout


@pytest.mark.percore_only
def test_redis_file_loads_in_percore(mk, tmp_path):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path, target="redis")
    c = client(a)
    populate(c)
    c.config_set("list-max-listpack-size", "4")
    c.rpush("qlist", *["q%d" % i for i in range(40)])  # several quicklist nodes
    before = state(a)
    c.execute_command("SAVE")
    stop_all([a])
    b = mk(tmp_path)
    assert state(b) == before
    assert "keys loaded: 19" in b.log()
    # and back: percore's save of what it loaded reads in redis-server again
    client(b).execute_command("SAVE")
    stop_all([b])
    r2 = mk(tmp_path, target="redis")
    assert state(r2) == before


@pytest.mark.percore_only
def test_lfu_and_compression_options(mk, tmp_path):
    a = mk(tmp_path, extra=["--store.maxmemory-policy", "allkeys-lfu",
                            "--persistence.rdbcompression", "no",
                            "--persistence.rdbchecksum", "no"])
    c = client(a)
    c.set("long", "y" * 1000)
    for _ in range(50):
        c.get("long")
    c.execute_command("SAVE")
    raw = (tmp_path / "dump.rdb").read_bytes()
    assert b"y" * 1000 in raw  # not compressed
    assert raw[-8:] == b"\0" * 8  # no checksum
    assert b"\xf9" in raw  # a FREQ opcode
    stop_all([a])
    b = mk(tmp_path, extra=["--store.maxmemory-policy", "allkeys-lfu"])
    cb = client(b)
    assert cb.get("long") == "y" * 1000
    assert int(cb.object("freq", "long")) > 1


# ---- SHUTDOWN ----------------------------------------------------------------


def test_shutdown_save_and_nosave(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    c.set("k", "v1")
    a.expect_exit = True
    try:
        c.shutdown(save=True)
    except redis.ConnectionError:
        pass
    a.proc.wait(timeout=15)
    b = mk(tmp_path)
    cb = client(b)
    assert cb.get("k") == "v1"
    cb.config_set("save", "3600 1")
    cb.set("k", "v2")
    b.expect_exit = True
    try:
        cb.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    b.proc.wait(timeout=15)
    c2 = client(mk(tmp_path))
    assert c2.get("k") == "v1"
    # save points set: a plain SHUTDOWN (and SIGTERM) saves
    c2.config_set("save", "3600 1")
    c2.set("k", "v3")


def test_sigterm_saves_with_save_points(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    c.config_set("save", "3600 1")
    c.set("k", "v3")
    a.expect_exit = True
    a.proc.send_signal(signal.SIGTERM)
    a.proc.wait(timeout=15)
    assert client(mk(tmp_path)).get("k") == "v3"


# ---- config ------------------------------------------------------------------


def test_protected_configs(mk, tmp_path):
    c = client(mk(tmp_path, extra=["--server.enable-protected-configs" if TARGET == "percore"
                                   else "--enable-protected-configs", "no"]))
    for k in ("dir", "dbfilename"):
        with pytest.raises(redis.ResponseError, match="can't set protected config"):
            c.config_set(k, "x")


def test_config_keys(mk, tmp_path):
    c = client(mk(tmp_path))
    assert c.config_get("dbfilename") == {"dbfilename": "dump.rdb"}
    c.config_set("save", "900 1 300 10")
    assert c.config_get("save") == {"save": "900 1 300 10"}
    with pytest.raises(redis.ResponseError, match="Invalid save parameters"):
        c.config_set("save", "900")
    with pytest.raises(redis.ResponseError):
        c.config_set("dbfilename", "a/b.rdb")
    c.config_set("save", "")
    assert c.config_get("save") == {"save": ""}
    for k in ("rdbcompression", "rdbchecksum", "stop-writes-on-bgsave-error"):
        assert c.config_get(k)[k] == "yes"
    c.config_set("dbfilename", "other.rdb")
    c.set("a", 1)
    c.execute_command("SAVE")
    assert (tmp_path / "other.rdb").exists()


# ---- failures ----------------------------------------------------------------


def test_unwritable_dir_misconf(mk, tmp_path):
    """A directory that went away: SAVE fails with ERR, BGSAVE's child fails
    (INFO says err), writes get MISCONF while save points are set and
    stop-writes-on-bgsave-error is on; reads go on; a good save clears it."""
    a = mk(tmp_path)
    c = client(a)
    c.set("k", "v")
    gone = tmp_path / "gone"
    gone.mkdir()
    c.config_set("dir", str(gone))
    gone.rmdir()
    with pytest.raises(redis.ResponseError, match="^ERR$|^$"):
        c.execute_command("SAVE")
    c.config_set("save", "3600 1000000")
    assert c.execute_command("BGSAVE") == "Background saving started"
    wait_bgsave(c)
    assert info(c)["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="^MISCONF "):
        c.set("k", "w")
    assert c.get("k") == "v"
    c.config_set("stop-writes-on-bgsave-error", "no")
    c.set("k", "w")
    c.config_set("stop-writes-on-bgsave-error", "yes")
    with pytest.raises(redis.ResponseError, match="^MISCONF "):
        c.incr("n")
    c.config_set("dir", str(tmp_path))
    assert c.execute_command("BGSAVE") == "Background saving started"
    wait_bgsave(c)
    assert info(c)["rdb_last_bgsave_status"] == "ok"
    c.set("k", "x")
    c.config_set("save", "")


def start_raw(target, d, extra=()):
    srv = Server(target, "share-nothing", 2, str(d), list(extra))
    return srv


@pytest.mark.parametrize("damage", ["truncated", "garbage", "checksum"])
def test_corrupt_file_stops_startup(mk, tmp_path, damage):
    a = mk(tmp_path)
    c = client(a)
    populate(c)
    c.execute_command("SAVE")
    stop_all([a])
    p = tmp_path / "dump.rdb"
    raw = bytearray(p.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "garbage":
        raw = raw[:40] + b"\xee" * 30 + raw[70:]
    else:
        raw[len(raw) // 2] ^= 0x55
    p.write_bytes(bytes(raw))
    srv = Server(TARGET, "share-nothing", 2, str(tmp_path), [])
    port = 0
    srv.log_path = str(tmp_path / "corrupt.log")
    with open(srv.log_path, "wb") as logf:
        from conftest import free_port
        port = free_port()
        proc = subprocess.Popen(srv._argv(port), stdout=logf, stderr=subprocess.STDOUT,
                                cwd=str(tmp_path))
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("server started on a %s dump.rdb" % damage)
    assert rc != 0
    log = open(srv.log_path).read()
    if TARGET == "percore":
        assert "Fatal error loading the DB" in log
        assert "offset" in log or "checksum" in log
    if TARGET == "percore":
        # the operator's way out: start empty, saying so
        b = mk(tmp_path, extra=["--persistence.rdb-load-corrupt", "start-empty"])
        assert client(b).dbsize() == 0
        assert "starting empty" in b.log()


def test_client_reset_during_save(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    slow_save(c, 2000, 200)
    s = socket.create_connection((a.host, a.port))
    s.sendall(b"*1\r\n$4\r\nSAVE\r\n")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.02)
    s.close()  # RST while the server saves (or before it read SAVE)
    wait_for(lambda: info(c)["rdb_changes_since_last_save"] == 0, timeout=10)
    assert c.ping()
    assert c.dbsize() == 2000
    assert c.execute_command("SAVE") == "OK"
    stop_all([a])
    assert client(mk(tmp_path)).dbsize() == 2000


def test_kill_bgsave_child(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    slow_save(c)  # a child that runs a second
    assert c.execute_command("BGSAVE") == "Background saving started"
    m = None
    deadline = time.time() + 10
    while m is None and time.time() < deadline:
        m = re.search(r"Background saving started by pid (\d+)", a.log())
        time.sleep(0.01)
    assert m
    pid = int(m.group(1))
    os.kill(pid, signal.SIGKILL)
    wait_bgsave(c)
    assert info(c)["rdb_last_bgsave_status"] == "err"
    assert not (tmp_path / ("temp-%d.rdb" % pid)).exists()
    assert c.dbsize() == 1000
    c.config_set("rdb-key-save-delay", 0)
    assert c.execute_command("BGSAVE") == "Background saving started"
    wait_bgsave(c)
    assert info(c)["rdb_last_bgsave_status"] == "ok"


# ---- DEBUG RELOAD and dirty counting ----------------------------------------


def test_debug_reload(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    populate(c)
    before = state(a)
    assert c.execute_command("DEBUG", "RELOAD") in (True, "OK")
    assert state(a) == before
    c.set("extra", 1)
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") in (True, "OK")
    assert c.get("extra") is None


def test_changes_since_last_save(mk, tmp_path):
    c = client(mk(tmp_path))
    c.execute_command("SAVE")
    base = info(c)["rdb_changes_since_last_save"]
    assert base == 0
    c.set("a", 1)
    c.delete("a")
    c.delete("missing")  # no change
    assert info(c)["rdb_changes_since_last_save"] == 2
    c.setbit("b", 3, 1)
    c.setbit("b", 3, 1)  # same value: Redis counts no change
    got = info(c)["rdb_changes_since_last_save"]
    assert got in (3, 4)
    c.execute_command("SAVE")
    assert info(c)["rdb_changes_since_last_save"] == 0


def test_save_points_fire(mk, tmp_path):
    c = client(mk(tmp_path))
    c.execute_command("SAVE")
    saves = info(c)["rdb_saves"]
    c.config_set("save", "1 1")
    c.set("a", 1)
    wait_for(lambda: info(c)["rdb_saves"] > saves, timeout=10)
    wait_bgsave(c)
    assert info(c)["rdb_changes_since_last_save"] == 0
    c.config_set("save", "")


def test_bgsave_in_exec_is_scheduled(mk, tmp_path):
    c = client(mk(tmp_path))
    c.set("a", 1)
    saves = info(c)["rdb_saves"]
    p = c.pipeline(transaction=True)
    p.execute_command("BGSAVE")
    p.set("b", 2)
    assert p.execute() == ["Background saving scheduled", True]
    wait_for(lambda: info(c)["rdb_saves"] > saves, timeout=10)
    wait_bgsave(c)
    assert info(c)["rdb_changes_since_last_save"] == 0


LIB = "#!lua name=plib\nredis.register_function('pecho', function(keys, args) return args[1] end)"


def test_functions_saved_and_loaded(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    c.function_load(LIB)
    c.set("k", "v")
    assert c.execute_command("SAVE") == "OK"
    stop_all([a])
    b = mk(tmp_path)
    cb = client(b)
    assert cb.fcall("pecho", 0, "hi") == "hi"
    assert cb.get("k") == "v"
    # DEBUG RELOAD flushes the libraries and loads them back from the file
    cb.function_delete("plib")
    assert cb.execute_command("DEBUG", "RELOAD", "NOSAVE") in (True, "OK")
    assert cb.fcall("pecho", 0, "again") == "again"


@pytest.mark.percore_only
def test_functions_move_to_and_from_redis(mk, tmp_path):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path)
    client(a).function_load(LIB)
    client(a).execute_command("SAVE")
    stop_all([a])
    b = mk(tmp_path, target="redis")
    cb = client(b)
    assert cb.fcall("pecho", 0, "x") == "x"
    cb.function_load(LIB.replace("plib", "plib2").replace("pecho", "pecho2"))
    cb.execute_command("SAVE")
    stop_all([b])
    cc = client(mk(tmp_path))
    assert cc.fcall("pecho2", 0, "y") == "y"
    assert cc.fcall("pecho", 0, "z") == "z"


def make_stream(c):
    for i in range(1, 251):
        c.xadd("s", {"a": i, "b": "x"}, id="%d-1" % i)
    c.xadd("s", {"other": 1}, id="300-1")
    c.xdel("s", "5-1")
    c.xgroup_create("s", "g1", id="0")
    c.xreadgroup("g1", "alice", {"s": ">"}, count=3)
    c.xreadgroup("g1", "bob", {"s": ">"}, count=2)
    c.xack("s", "g1", "1-1")
    c.xgroup_create("s", "g2", id="$")
    c.xgroup_createconsumer("s", "g2", "carol")
    c.expire("s", 100000)


def stream_state(c):
    info = c.xinfo_stream("s")
    info.pop("radix-tree-nodes", None)  # percore's nodes are not a radix tree (README)
    info.pop("radix-tree-keys", None)
    cons = [[(x["name"], x["pending"]) for x in c.xinfo_consumers("s", g)] for g in ("g1", "g2")]
    full = (info, cons)
    return (c.xrange("s"), c.xinfo_groups("s"), c.xpending("s", "g1"),
            [(x["message_id"], x["consumer"], x["times_delivered"])
             for x in c.xpending_range("s", "g1", "-", "+", 100)], full, c.pttl("s") > 0)


def test_stream_save_restart(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    make_stream(c)
    before = stream_state(c)
    assert c.execute_command("SAVE") == "OK"
    stop_all([a])
    assert stream_state(client(mk(tmp_path))) == before


@pytest.mark.percore_only
def test_stream_moves_both_ways_with_redis(mk, tmp_path):
    if not redis_available():
        pytest.skip("redis-server is not installed")
    a = mk(tmp_path)
    c = client(a)
    make_stream(c)
    before = stream_state(c)
    # DUMP / RESTORE both ways
    c.execute_command("SAVE")
    stop_all([a])
    r = mk(tmp_path, target="redis")
    cr = client(r)
    assert stream_state(cr) == before
    payload = client(r, decode=False).dump("s")
    cr.execute_command("SAVE")
    stop_all([r])
    p2 = mk(tmp_path)
    c2 = client(p2)
    assert stream_state(c2) == before
    c2.delete("s")
    client(p2, decode=False).restore("s", 100000, payload)
    assert stream_state(c2)[:4] == before[:4]


def test_shutdown_refused_when_it_cannot_save(mk, tmp_path):
    a = mk(tmp_path)
    c = client(a)
    c.set("k", "v")
    gone = tmp_path / "gone"
    gone.mkdir()
    c.config_set("dir", str(gone))
    gone.rmdir()
    with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
        c.execute_command("SHUTDOWN", "SAVE")
    assert c.get("k") == "v"  # still serving
    c.config_set("dir", str(tmp_path))
    a.expect_exit = True
    try:
        c.execute_command("SHUTDOWN", "SAVE")
    except redis.ConnectionError:
        pass
    a.proc.wait(timeout=15)
    assert client(mk(tmp_path)).get("k") == "v"

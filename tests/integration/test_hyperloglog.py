"""HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST,
server/cmd_hll.c): estimates, the HYLL representation shared with
redis-server, corrupt and crafted values, atomicity across partitions.
Every case passes against redis-server too (PERCORE_TEST_TARGET=redis)."""

import struct
import threading

import pytest

from conftest import Err, Server, Status, WRONGTYPE, arity, stop_all

NOT_HLL = Err("WRONGTYPE Key is not a valid HyperLogLog string value.")
INVALID = Err("INVALIDOBJ Corrupted HLL object detected")
# Keys without a hash tag: spread over the partitions.
KEYS = ["hll:%d" % i for i in range(8)]


def sparse_header(stale=True):
    """A sparse header; stale: the cached cardinality marked invalid, so that
    PFCOUNT of one key reads the registers."""
    return b"HYLL" + bytes([1]) + bytes(10) + (b"\x80" if stale else b"\x00")


def xzero(run):
    return bytes([0x40 | ((run - 1) >> 8), (run - 1) & 0xFF])


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """A redis-server 7.0 beside the server under test, to exchange sketches with."""
    srv = Server("redis", None, None, tmp_path_factory.mktemp("peer"))
    srv.start()
    yield srv
    stop_all([srv])


@pytest.fixture
def p(peer):
    import redis
    client = redis.Redis(host=peer.host, port=peer.port, single_connection_client=True)
    client.flushall()
    yield client
    client.close()


def test_basics(c):
    assert c.cmd("PFADD", "h") == 1
    assert c.cmd("EXISTS", "h") == 1
    assert c.cmd("PFADD", "h") == 0
    assert c.cmd("PFCOUNT", "h") == 0
    assert c.cmd("PFADD", "h", "a", "b", "c") == 1
    assert c.cmd("PFADD", "h", "a", "b", "c") == 0
    assert c.cmd("PFADD", "h", "") == 1
    assert c.cmd("PFCOUNT", "h") == 4
    assert c.cmd("PFCOUNT", "missing") == 0
    assert c.cmd("PFCOUNT", "missing", "h") == 4
    assert c.cmd("GET", "h")[:4] == b"HYLL"
    assert c.cmd("PFADD") == arity("pfadd")
    assert c.cmd("PFCOUNT") == arity("pfcount")
    assert c.cmd("PFMERGE") == arity("pfmerge")
    assert c.cmd("PFDEBUG", "getreg") == arity("pfdebug")


@pytest.mark.parametrize("name,arity_,flags,keys", [
    ("pfadd", -2, {"write", "denyoom", "fast"}, [1, 1, 1]),
    ("pfcount", -2, {"readonly"}, [1, -1, 1]),
    ("pfmerge", -2, {"write", "denyoom"}, [1, -1, 1]),
    ("pfselftest", 1, {"admin"}, [0, 0, 0]),
    ("pfdebug", 3, {"write", "denyoom", "admin"}, [2, 2, 1]),
])
def test_command_info(c, name, arity_, flags, keys):
    """As Redis 7.0's COMMAND INFO: PFCOUNT is readonly though it may write
    the cached cardinality back."""
    (info,) = c.cmd("COMMAND", "INFO", name)
    assert info[0] == name.encode()
    assert info[1] == arity_
    assert set(info[2]) == {Status(f) for f in flags}
    assert info[3:6] == keys


def test_cached_cardinality(c):
    c.cmd("PFADD", "h", "a", "b", "c")
    assert c.cmd("GETRANGE", "h", "15", "15") == b"\x80"
    assert c.cmd("PFCOUNT", "h") == 3
    assert c.cmd("GETRANGE", "h", "8", "15") == struct.pack("<Q", 3)
    assert c.cmd("PFADD", "h", "a") == 0
    assert c.cmd("GETRANGE", "h", "15", "15") == b"\x00"
    assert c.cmd("PFADD", "h", "d") == 1
    assert c.cmd("GETRANGE", "h", "15", "15") == b"\x80"
    # A valid cache is what PFCOUNT answers, whatever the registers say.
    c.cmd("SETRANGE", "h", "8", struct.pack("<Q", 12345))
    assert c.cmd("PFCOUNT", "h") == 12345
    assert c.cmd("PFCOUNT", "h", "missing") == 4


def test_pfcount_writing_the_cache_breaks_watch(r):
    r.pfadd("h", "a", "b")
    w = r.pipeline(transaction=True)
    w.watch("h")
    assert r.pfcount("h") == 2  # fills the cache: a change of the key
    w.multi()
    w.strlen("h")
    import redis
    with pytest.raises(redis.WatchError):
        w.execute()
    w.reset()
    w.watch("h")
    assert r.pfcount("h") == 2  # the cache is valid: nothing written
    w.multi()
    w.strlen("h")
    assert len(w.execute()) == 1


@pytest.mark.parametrize("n", [1, 10, 100, 1000, 10000, 100000])
def test_estimates_within_bounds(r, n):
    for i in range(0, n, 5000):
        r.pfadd("h", *["el:%d" % j for j in range(i, min(n, i + 5000))])
    est = r.pfcount("h")
    # 1.04 / sqrt(16384) = 0.81% standard error: 5 of them, or 1 when tiny
    assert abs(est - n) <= max(1, 0.05 * n), (n, est)


def test_sparse_promoted_to_dense(r):
    r.pfadd("h", *range(200))
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "sparse"
    assert r.strlen("h") < 3000
    r.pfadd("h", *range(200, 20000))
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"
    assert r.strlen("h") == 16 + 12288
    # a dense sketch stays dense; both representations count alike
    r.pfadd("s", *range(500))
    r.pfadd("d")
    assert r.execute_command("PFDEBUG", "TODENSE", "d") == 1
    assert r.execute_command("PFDEBUG", "TODENSE", "d") == 0
    r.pfadd("d", *range(500))
    assert r.execute_command("PFDEBUG", "ENCODING", "d") == "dense"
    assert r.pfcount("s") == r.pfcount("d")
    assert r.execute_command("PFDEBUG", "GETREG", "s") == r.execute_command(
        "PFDEBUG", "GETREG", "d")


def test_sparse_max_bytes_config(r):
    old = r.config_get("hll-sparse-max-bytes")["hll-sparse-max-bytes"]
    assert old == "3000"
    try:
        r.config_set("hll-sparse-max-bytes", 100)
        r.pfadd("h", *range(10))
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == "sparse"
        r.pfadd("h", *range(10, 100))
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"
    finally:
        r.config_set("hll-sparse-max-bytes", old)


def test_pfdebug(c):
    c.cmd("PFADD", "h", "a", "b", "c")
    assert c.cmd("PFDEBUG", "DECODE", "h") == b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    assert c.cmd("PFDEBUG", "ENCODING", "h") == Status("sparse")
    regs = c.cmd("PFDEBUG", "GETREG", "h")
    assert len(regs) == 16384
    assert [(i, v) for i, v in enumerate(regs) if v] == [(8436, 1), (12711, 2), (15780, 1)]
    # GETREG made it dense, as Redis 7.0 does
    assert c.cmd("PFDEBUG", "ENCODING", "h") == Status("dense")
    assert c.cmd("PFDEBUG", "DECODE", "h") == Err("ERR HLL encoding is not sparse")
    assert c.cmd("PFDEBUG", "GETREG", "missing") == Err("ERR The specified key does not exist")
    assert c.cmd("PFDEBUG", "nope", "h") == Err("ERR Unknown PFDEBUG subcommand 'nope'")
    assert c.cmd("PFSELFTEST") == Status("OK")


def test_type_errors(c):
    c.cmd("SET", "s", "bar")
    c.cmd("SET", "n", "12345678901234567890")
    c.cmd("SET", "i", "1234")
    c.cmd("RPUSH", "l", "x")
    for k in ("s", "n", "i"):
        assert c.cmd("PFADD", k, "1") == NOT_HLL
        assert c.cmd("PFCOUNT", k) == NOT_HLL
        assert c.cmd("PFMERGE", "d", k) == NOT_HLL
        assert c.cmd("PFMERGE", k, "d") == NOT_HLL
    assert c.cmd("PFADD", "l", "1") == WRONGTYPE
    assert c.cmd("PFCOUNT", "l") == WRONGTYPE
    assert c.cmd("PFMERGE", "d", "l") == WRONGTYPE
    assert c.cmd("EXISTS", "d") == 0
    # header damage: magic, encoding, a dense value of the wrong length
    c.cmd("PFADD", "h", "a")
    c.cmd("SETRANGE", "h", "0", "hyll")
    assert c.cmd("PFCOUNT", "h") == NOT_HLL
    c.cmd("DEL", "h")
    c.cmd("PFADD", "h", "a")
    c.cmd("SETRANGE", "h", "4", "\x02")
    assert c.cmd("PFADD", "h", "x") == NOT_HLL
    c.cmd("SETRANGE", "h", "4", "\x00")
    assert c.cmd("PFCOUNT", "h") == NOT_HLL


def test_corrupt_sparse(c):
    c.cmd("PFADD", "h", "a", "b", "c")
    c.cmd("APPEND", "h", "hello")
    assert c.cmd("PFCOUNT", "h") == INVALID
    assert c.cmd("PFMERGE", "d", "h") == INVALID
    assert c.cmd("PFCOUNT", "h", "h") == INVALID
    # too short: registers missing
    c.cmd("SET", "h", sparse_header() + xzero(16000))
    assert c.cmd("PFCOUNT", "h") == INVALID
    # an XZERO cut in half
    c.cmd("SET", "h", sparse_header() + xzero(16384)[:1])
    assert c.cmd("PFCOUNT", "h") == INVALID
    assert c.cmd("PING") == Status("PONG")


def test_crafted_huge_runs(c):
    """Opcodes whose runs add up past 2^32 registers, then a VAL: refused
    without overflowing a counter, writing out of bounds or allocating."""
    used = int(c.cmd("INFO", "memory").split(b"used_memory:")[1].split(b"\r\n")[0])
    body = xzero(16384) * (131072 + 1000) + b"\xff"
    c.cmd("SET", "x", sparse_header() + body)
    c.cmd("SET", "z", sparse_header() + b"\x3f" * 70000 + b"\xff")
    for k in ("x", "z"):
        assert c.cmd("PFCOUNT", k) == INVALID
        assert c.cmd("PFCOUNT", k, k) == INVALID
        assert c.cmd("PFADD", k, "a") == INVALID
        assert c.cmd("PFMERGE", "d", k) == INVALID
        assert c.cmd("PFDEBUG", "GETREG", k) == INVALID
    assert c.cmd("EXISTS", "d") == 0
    # with a valid cache, PFCOUNT of one key answers it without reading on
    c.cmd("SET", "x", sparse_header(stale=False) + body)
    assert c.cmd("PFCOUNT", "x") == 0
    assert c.cmd("PFCOUNT", "x", "x") == INVALID
    after = int(c.cmd("INFO", "memory").split(b"used_memory:")[1].split(b"\r\n")[0])
    assert after - used < len(body) + 4 * 1024 * 1024
    assert c.cmd("PING") == Status("PONG")


@pytest.mark.percore_only
def test_corrupt_sparse_never_written_or_decoded(c):
    """Stricter than Redis 7.0, on purpose: PFADD refuses any corrupt sparse
    sketch (Redis reads only up to the register it sets, so it may add to one
    with garbage after it), and PFDEBUG DECODE refuses one whose runs pass
    the registers (Redis would print all of its opcodes: 33M of them make a
    165 MB reply)."""
    c.cmd("PFADD", "h", "a", "b", "c")
    c.cmd("APPEND", "h", "hello")
    before = c.cmd("GET", "h")
    assert c.cmd("PFADD", "h", "zz") == INVALID
    assert c.cmd("GET", "h") == before
    c.cmd("SET", "x", sparse_header() + b"\x3f" * 70000 + b"\xff")
    assert c.cmd("PFDEBUG", "DECODE", "x") == INVALID


def test_pfmerge_across_partitions(r):
    for i, k in enumerate(KEYS):
        r.pfadd(k, *["e%d" % j for j in range(i * 100, i * 100 + 200)])
    assert r.pfmerge("dst", *KEYS)
    assert abs(r.pfcount("dst") - 900) <= 9
    assert r.pfcount("dst") == r.pfcount(*KEYS)
    # the destination's own registers count, and a missing source is empty
    r.pfadd("dst2", "x", "y")
    assert r.pfmerge("dst2", "nothing")
    assert r.pfcount("dst2") == 2
    assert r.pfmerge("dst3")
    assert r.exists("dst3") and r.pfcount("dst3") == 0
    # a dense source makes the destination dense
    r.pfadd("big", *range(5000))
    assert r.pfmerge("dst4", KEYS[0], "big")
    assert r.execute_command("PFDEBUG", "ENCODING", "dst4") == "dense"
    assert r.pfmerge("dst5", KEYS[0], KEYS[1])
    assert r.execute_command("PFDEBUG", "ENCODING", "dst5") == "sparse"


def test_pfmerge_keeps_ttl(r):
    r.pfadd("d", "a")
    r.expire("d", 100)
    r.pfadd("s", "b")
    r.pfmerge("d", "s")
    r.pfadd("d", "c")
    assert 0 < r.ttl("d") <= 100
    assert r.pfcount("d") == 3


def test_pfcount_and_pfmerge_are_atomic(server, r, rb):
    """Another client replaces both sources at once (MULTI): a multi-key
    PFCOUNT or PFMERGE sees both old or both new, never one of each."""
    import redis
    a = ["a%d" % i for i in range(1000)]
    b = ["b%d" % i for i in range(1000)]
    r.pfadd("tmpa", *a)
    r.pfadd("tmpb", *b)
    va, vb = rb.get("tmpa"), rb.get("tmpb")
    r.pfadd("tmpab", *(a + b))
    ca, cb, mixed = r.pfcount("tmpa"), r.pfcount("tmpb"), r.pfcount("tmpab")
    src = [KEYS[0], KEYS[5]]
    rb.mset({src[0]: va, src[1]: va})
    stop = threading.Event()
    errors = []

    def writer():
        w = redis.Redis(host=server.host, port=server.port, single_connection_client=True)
        try:
            while not stop.is_set():
                for v in (vb, va):
                    p = w.pipeline(transaction=True)
                    p.set(src[0], v).set(src[1], v).execute()
        except Exception as e:  # reported by the reader's assertions
            errors.append(e)
        finally:
            w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(1000):
            assert r.pfcount(*src) in (ca, cb)
            r.delete("dst")
            r.pfmerge("dst", *src)
            assert r.pfcount("dst") in (ca, cb)
    finally:
        stop.set()
        t.join()
    assert not errors
    assert mixed not in (ca, cb)


def test_notifications(r):
    r.config_set("notify-keyspace-events", "E$")
    ps = r.pubsub()
    try:
        ps.psubscribe("__keyevent@0__:*")
        ps.subscribe("mark")
        # both subscriptions in place before anything is written
        confirmed = []
        while len(confirmed) < 2:
            m = ps.get_message(timeout=5)
            assert m is not None
            confirmed.append(m["type"])
        assert sorted(confirmed) == ["psubscribe", "subscribe"]
        r.pfadd("h", "a")
        r.pfadd("h", "a")  # nothing changed: no event
        r.pfmerge("m", "h")
        r.pfmerge("m", "h")  # PFMERGE always raises it
        r.pfcount("h")  # the cache write raises nothing
        r.publish("mark", "x")
        got = []
        while True:
            m = ps.get_message(timeout=5)
            assert m is not None
            if m["type"] == "message":
                break
            if m["type"] == "pmessage":
                got.append((m["channel"].split(":", 1)[1], m["data"]))
        assert got == [("pfadd", "h"), ("pfadd", "m"), ("pfadd", "m")]
    finally:
        ps.close()
        r.config_set("notify-keyspace-events", "")


def test_interop_with_redis_server(rb, p):
    """Sketches move both ways by GET and SET and keep their count."""
    for n in (3, 300, 3000, 30000):
        els = ["x:%d" % i for i in range(n)]
        for i in range(0, n, 5000):
            p.pfadd("h", *els[i:i + 5000])
            rb.pfadd("h", *els[i:i + 5000])
        theirs, ours = p.get("h"), rb.get("h")
        assert ours == theirs  # the same bytes, sparse or dense
        rb.set("from_redis", theirs)
        assert rb.pfcount("from_redis") == p.pfcount("h")
        p.set("from_us", ours)
        assert p.pfcount("from_us") == p.pfcount("h")
        assert rb.execute_command("PFDEBUG", "GETREG", "from_redis") == \
            p.execute_command("PFDEBUG", "GETREG", "from_us")
        p.delete("h")
        rb.delete("h")
    # a sketch made by redis-server merged into ours, and back
    rb.pfadd("mine", *["y:%d" % i for i in range(100)])
    rb.pfmerge("mine", "from_redis")
    p.set("back", rb.get("mine"))
    assert p.pfcount("back") == rb.pfcount("mine")

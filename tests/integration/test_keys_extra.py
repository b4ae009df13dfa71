"""OBJECT, MEMORY, COPY, MOVE and LCS as Redis 7.0 answers them, under every
policy (server/cmd_object.c, server/info.c's MEMORY, server/cmd_keys_copy.c,
server/cmd_string.c's LCS). Keys without a hash tag ("a", "b", "foo", "bar")
lie in different slots, so in different partitions. PERCORE_TEST_TARGET=redis
runs the same tests against redis-server 7.0."""

import time

import pytest
import redis

from conftest import OK, Err, NOT_INT, SYNTAX, WRONGTYPE, arity, make_client

SAME = Err("ERR source and destination objects are the same")
DB_RANGE = Err("ERR DB index is out of range")
FREQ_NOT_LFU = ("An LFU maxmemory policy is not selected, access frequency not tracked. "
                "Please note that when switching between policies at runtime LRU and LFU "
                "data will take some time to adjust.")
IDLE_LFU = ("An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some "
            "time to adjust.")


@pytest.fixture
def lfu(r):
    """maxmemory-policy allkeys-lfu for one test, noeviction again after it."""
    r.config_set("maxmemory-policy", "allkeys-lfu")
    yield r
    r.config_set("maxmemory-policy", "noeviction")


def command_info(c, name):
    info = c.cmd("COMMAND", "INFO", name)[0]
    flags = sorted(x.s if hasattr(x, "s") else x.decode() for x in info[2])
    return info[1], flags, info[3], info[4], info[5]


# ------------------------------------------------------------------- OBJECT


def test_object_encoding_strings(r):
    r.set("int", "12345")
    r.set("neg", "-9223372036854775808")
    r.set("short", "hello")
    r.set("edge", "x" * 44)
    r.set("long", "x" * 45)
    r.set("big", "123456789012345678901")  # 21 digits: not an integer value
    assert r.object("encoding", "int") == "int"
    assert r.object("encoding", "neg") == "int"
    assert r.object("encoding", "short") == "embstr"
    assert r.object("encoding", "edge") == "embstr"
    assert r.object("encoding", "long") == "raw"
    assert r.object("encoding", "big") == "embstr"
    assert r.object("encoding", "missing") is None


def test_object_encoding_aggregates(r):
    r.rpush("l", "a", "b")
    assert r.object("encoding", "l") == "quicklist"
    r.hset("h", "f", "v")
    assert r.object("encoding", "h") == "listpack"
    r.hset("h", "big", "v" * 100)  # past hash-max-listpack-value (64)
    assert r.object("encoding", "h") == "hashtable"
    r.sadd("s", 1, 2, 3)
    assert r.object("encoding", "s") == "intset"
    r.sadd("s", "x")
    assert r.object("encoding", "s") == "hashtable"
    r.zadd("z", {"m": 1})
    assert r.object("encoding", "z") == "listpack"
    r.zadd("z", {"n" * 100: 2})  # past zset-max-listpack-value (64)
    assert r.object("encoding", "z") == "skiplist"
    p = r.pipeline(transaction=False)
    for i in range(600):  # past hash-max-listpack-entries (Redis: 512)
        p.hset("h2", "f%d" % i, i)
    p.execute()
    assert r.object("encoding", "h2") == "hashtable"


def test_object_refcount_idletime(r):
    r.set("k", "some text")
    assert r.object("refcount", "k") == 1
    assert r.object("refcount", "missing") is None
    assert r.object("idletime", "k") == 0
    assert r.object("idletime", "missing") is None
    with pytest.raises(redis.ResponseError, match="^" + FREQ_NOT_LFU.split(",")[0]):
        r.object("freq", "k")
    assert r.object("freq", "missing") is None  # the key is looked up first


def test_object_idletime_grows_and_object_does_not_touch(r):
    r.set("k", "v")
    time.sleep(2.2)
    assert r.object("idletime", "k") >= 2
    assert r.object("idletime", "k") >= 2  # OBJECT itself is no access
    r.get("k")
    assert r.object("idletime", "k") == 0


def test_object_freq_under_lfu(lfu, c):
    lfu.set("k", "v")
    assert c.cmd("OBJECT", "FREQ", "k") == 5  # LFU_INIT_VAL
    for _ in range(100):
        lfu.get("k")
    assert c.cmd("OBJECT", "FREQ", "k") > 5
    assert c.cmd("OBJECT", "IDLETIME", "k") == Err("ERR " + IDLE_LFU)
    assert c.cmd("OBJECT", "IDLETIME", "missing") is None


def test_object_errors_and_help(c):
    assert c.cmd("OBJECT", "ENCODING") == arity("object|encoding")
    assert c.cmd("OBJECT", "ENCODING", "a", "b") == arity("object|encoding")
    assert c.cmd("OBJECT", "FREQ") == arity("object|freq")
    assert c.cmd("OBJECT", "HELP", "x") == arity("object|help")
    assert c.cmd("OBJECT", "NOPE", "k") == Err("ERR unknown subcommand 'NOPE'. Try OBJECT HELP.")
    assert c.cmd("OBJECT") == arity("object")
    help_ = c.cmd("OBJECT", "HELP")
    text = " ".join(x.s for x in help_)
    for sub in ("ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP"):
        assert sub in text


def test_object_memory_command_info(c):
    assert command_info(c, "object")[:5] == (-2, [], 0, 0, 0)
    assert command_info(c, "memory")[:5] == (-2, [], 0, 0, 0)
    assert c.cmd("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k") == [b"k"]
    assert c.cmd("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k") == [b"k"]


# ------------------------------------------------------------------- MEMORY


def test_memory_usage(r, c):
    r.set("s", "x" * 1000)
    small = r.memory_usage("s")
    assert 1000 <= small < 1300
    r.set("s2", "x" * 100000)
    assert 100000 <= r.memory_usage("s2") < 125000
    r.rpush("l", *range(1000))
    assert r.memory_usage("l") > 1000
    assert r.memory_usage("missing") is None
    assert c.cmd("MEMORY", "USAGE", "s", "SAMPLES", "0") >= 1000
    assert c.cmd("MEMORY", "USAGE", "s", "SAMPLES", "5") >= 1000
    assert c.cmd("MEMORY", "USAGE", "s", "SAMPLES", "-1") == SYNTAX
    assert c.cmd("MEMORY", "USAGE", "s", "SAMPLES", "x") == NOT_INT
    assert c.cmd("MEMORY", "USAGE", "s", "SAMPLES") == SYNTAX
    assert c.cmd("MEMORY", "USAGE", "s", "FOO", "1") == SYNTAX
    assert c.cmd("MEMORY", "USAGE") == arity("memory|usage")
    assert c.cmd("MEMORY", "NOPE") == Err("ERR unknown subcommand 'NOPE'. Try MEMORY HELP.")
    assert c.cmd("MEMORY", "STATS", "x") == arity("memory|stats")


def test_memory_usage_huge_aggregate_samples_0(r):
    p = r.pipeline(transaction=False)
    for i in range(0, 200000, 1000):
        p.hset("big", mapping={"f%d" % j: "v%d" % j for j in range(i, i + 1000)})
    p.execute()
    t = time.monotonic()
    n = r.execute_command("MEMORY", "USAGE", "big", "SAMPLES", "0")
    assert time.monotonic() - t < 2.0
    assert n > 200000 * 8
    assert r.ping()


def test_memory_stats_doctor_help(r):
    r.set("k", "v" * 100)
    st = r.memory_stats()
    for f in ("peak.allocated", "total.allocated", "startup.allocated", "clients.normal",
              "overhead.total", "keys.count", "keys.bytes-per-key", "dataset.bytes",
              "dataset.percentage", "peak.percentage", "fragmentation"):
        assert f in st, f
    assert st["keys.count"] == 1
    assert st["total.allocated"] > 0
    doc = r.execute_command("MEMORY", "DOCTOR")
    assert isinstance(doc, str) and len(doc) > 10
    text = " ".join(r.execute_command("MEMORY", "HELP"))
    for sub in ("DOCTOR", "MALLOC-STATS", "PURGE", "STATS", "USAGE", "HELP"):
        assert sub in text


def test_memory_malloc_stats_purge(r):
    out = r.execute_command("MEMORY", "MALLOC-STATS")
    assert isinstance(out, str) and out
    info = r.info("memory")
    if info["mem_allocator"].startswith("jemalloc"):
        assert "jemalloc" in out
    else:
        assert out == "Stats not supported for the current allocator"
    assert r.execute_command("MEMORY", "PURGE") in (True, "OK")


# ------------------------------------------------------------------- COPY MOVE


def test_copy_every_type_keeps_ttl(r):
    r.set("a", "str")
    r.set("n", 42)
    r.rpush("l", "x", "y", "z")
    r.hset("h", mapping={"f1": "v1", "f2": "v2"})
    r.sadd("s", "m1", "m2")
    r.sadd("si", 1, 2, 3)
    r.zadd("z", {"m1": 1.5, "m2": -2})
    r.pexpire("l", 100000)
    for src in ("a", "n", "l", "h", "s", "si", "z"):
        dst = src + "-copy"
        assert r.copy(src, dst) is True
        assert r.type(dst) == r.type(src)
    assert r.get("a-copy") == "str"
    assert r.get("n-copy") == "42" and r.object("encoding", "n-copy") == "int"
    assert r.lrange("l-copy", 0, -1) == ["x", "y", "z"]
    assert 99000 < r.pttl("l-copy") <= 100000
    assert r.ttl("a-copy") == -1
    assert r.hgetall("h-copy") == {"f1": "v1", "f2": "v2"}
    assert r.smembers("s-copy") == {"m1", "m2"}
    assert r.smembers("si-copy") == {"1", "2", "3"}
    assert r.zrange("z-copy", 0, -1, withscores=True) == [("m2", -2.0), ("m1", 1.5)]
    # The copy is deep: changing one leaves the other alone.
    r.rpush("l-copy", "w")
    r.hset("h", "f3", "v3")
    assert r.llen("l") == 3 and r.hlen("h-copy") == 2


def test_copy_replace_and_db(r, c):
    r.set("a", "1")
    r.set("b", "2")
    assert r.copy("a", "b") is False
    assert r.get("b") == "2"
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == "1"
    assert r.copy("missing", "b") is False
    assert c.cmd("COPY", "a", "a") == SAME
    assert c.cmd("COPY", "a", "a", "DB", "0") == SAME
    assert c.cmd("COPY", "a", "a", "DB", "1") == 1
    assert c.cmd("COPY", "a", "a", "DB", "1") == 0
    assert c.cmd("COPY", "a", "a", "DB", "1", "REPLACE") == 1
    assert c.cmd("COPY", "a", "x", "DB", "16") == DB_RANGE
    assert c.cmd("COPY", "a", "x", "DB", "-1") == DB_RANGE
    assert c.cmd("COPY", "a", "x", "DB", "zero") == NOT_INT
    assert c.cmd("COPY", "a", "x", "DB") == SYNTAX
    assert c.cmd("COPY", "a", "x", "FOO") == SYNTAX
    assert c.cmd("COPY", "a") == arity("copy")
    r.execute_command("SELECT", 1)
    assert r.get("a") == "1"
    r.execute_command("SELECT", 0)
    assert command_info(c, "copy")[:5] == (-3, ["denyoom", "write"], 1, 2, 1)


def test_copy_across_partitions_many_keys(r):
    # Keys without tags spread over every partition: each copy pairs two.
    for i in range(50):
        r.rpush("src%d" % i, *range(i + 1))
    for i in range(50):
        assert r.copy("src%d" % i, "dst%d" % (49 - i)) is True
    for i in range(50):
        assert r.llen("dst%d" % (49 - i)) == i + 1
    assert r.dbsize() == 100


def test_move(r, c):
    r.set("a", "1")
    r.expire("a", 1000)
    assert r.move("a", 1) is True
    assert r.exists("a") == 0
    r.execute_command("SELECT", 1)
    assert r.get("a") == "1"
    assert 990 < r.ttl("a") <= 1000
    r.execute_command("SELECT", 0)
    assert r.move("a", 1) is False  # no such key here
    r.set("a", "again")
    assert r.move("a", 1) is False  # exists there
    assert r.get("a") == "again"
    r.zadd("z", {"m": 1})
    assert r.move("z", 3) is True
    assert c.cmd("MOVE", "a", "0") == SAME
    assert c.cmd("MOVE", "a", "16") == DB_RANGE
    assert c.cmd("MOVE", "a", "-1") == DB_RANGE
    assert c.cmd("MOVE", "a", "x") == NOT_INT
    assert c.cmd("MOVE", "a") == arity("move")
    assert r.dbsize() == 1
    assert command_info(c, "move")[:5] == (3, ["fast", "write"], 1, 1, 1)


def test_copy_move_notifications(r, server):
    sub = make_client(server, single_connection_client=False)
    p = sub.pubsub()
    p.psubscribe("__keyevent@*")
    assert p.get_message(timeout=5)["type"] == "psubscribe"
    r.config_set("notify-keyspace-events", "Eg")
    try:
        r.set("a", "v")
        r.copy("a", "b")
        r.copy("a", "b", destination_db=2)
        r.move("a", 1)
        got = []
        while len(got) < 4:
            m = p.get_message(timeout=5)
            assert m is not None, got
            if m["type"] == "pmessage":
                got.append((m["channel"], m["data"]))
        assert got == [("__keyevent@0__:copy_to", "b"), ("__keyevent@2__:copy_to", "b"),
                       ("__keyevent@0__:move_from", "a"), ("__keyevent@1__:move_to", "a")]
    finally:
        r.config_set("notify-keyspace-events", "")
        p.close()
        sub.close()


# ------------------------------------------------------------------- LCS

RNA1 = ("CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCT"
        "GTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTC"
        "GTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG")
RNA2 = ("ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAA"
        "ATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGA"
        "CACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT")
LCS_ALLOC = Err("ERR Insufficient memory, failed allocating transient memory for LCS")
LCS_PROTO = Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")


def test_lcs_basic(c):
    assert c.cmd("MSET", "a", "ohmytext", "b", "mynewtext") == OK  # different partitions
    assert c.cmd("LCS", "a", "b") == b"mytext"
    assert c.cmd("LCS", "a", "b", "LEN") == 6
    assert c.cmd("LCS", "a", "b", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert c.cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert c.cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "-3") == c.cmd("LCS", "a", "b", "IDX")
    assert c.cmd("LCS", "a", "missing") == b""
    assert c.cmd("LCS", "missing", "missing2", "IDX") == [b"matches", [], b"len", 0]
    assert c.cmd("SET", "n", "12345") == OK  # an integer value compares as its digits
    assert c.cmd("SET", "m", "x2y4") == OK
    assert c.cmd("LCS", "n", "m") == b"24"


def test_lcs_rna_as_redis(c):
    c.cmd("MSET", "virus1", RNA1, "virus2", RNA2)
    assert c.cmd("LCS", "virus1", "virus2", "LEN") == 227
    assert c.cmd("LCS", "virus1", "virus2") == (RNA1[1:223] + RNA1[224] + RNA1[229:231] +
                                                RNA1[236] + RNA1[238]).encode()
    assert c.cmd("LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN")[1] == [
        [[238, 238], [239, 239], 1], [[236, 236], [238, 238], 1], [[229, 230], [236, 237], 2],
        [[224, 224], [235, 235], 1], [[1, 222], [13, 234], 222]]
    assert c.cmd("LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5")[1] == [
        [[1, 222], [13, 234], 222]]


def test_lcs_resp3(server, r):
    from conftest import RawClient
    rc = RawClient(server.host, server.port)
    try:
        assert rc.cmd("HELLO", "3")[b"proto"] == 3
        rc.cmd("MSET", "a", "ohmytext", "b", "mynewtext")
        assert rc.cmd("LCS", "a", "b", "IDX", "WITHMATCHLEN") == {
            b"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len": 6}
        assert rc.cmd("LCS", "a", "b", "LEN") == 6
        assert rc.cmd("LCS", "a", "b") == b"mytext"
    finally:
        rc.close()


def test_lcs_errors(c):
    c.cmd("SET", "a", "x")
    c.cmd("RPUSH", "l", "x")
    assert c.cmd("LCS", "a", "l") == Err("ERR The specified keys must contain string values")
    assert c.cmd("LCS", "l", "missing", "FOO") == Err(
        "ERR The specified keys must contain string values")  # types first
    assert c.cmd("LCS", "a", "b", "LEN", "IDX") == Err(
        "ERR If you want both the length and indexes, please just use IDX.")
    assert c.cmd("LCS", "a", "b", "FOO") == SYNTAX
    assert c.cmd("LCS", "a", "b", "MINMATCHLEN") == SYNTAX
    assert c.cmd("LCS", "a", "b", "MINMATCHLEN", "x") == NOT_INT
    assert c.cmd("LCS", "a") == arity("lcs")
    assert command_info(c, "lcs")[:5] == (-3, ["readonly"], 1, 2, 1)


def test_lcs_two_1mb_strings_refused(r, c):
    big = "ab" * (1 << 19)
    r.set("a", big)
    r.set("b", big[::-1])
    t = time.monotonic()
    assert c.cmd("LCS", "a", "b") == LCS_PROTO
    assert c.cmd("LCS", "a", "b", "LEN") == LCS_PROTO
    assert time.monotonic() - t < 2.0
    assert r.ping() and r.strlen("a") == 1 << 20


@pytest.mark.percore_only
def test_lcs_table_bound(r, c):
    """percore refuses tables over 64 MiB (server/cmd_lcs.c, LCS_TABLE_MAX)
    below proto-max-bulk-len; the server's RSS does not grow by the table."""
    rss0 = r.info("memory")["used_memory_rss"]
    r.set("a", "x" * 5000)
    r.set("b", "y" * 5000)  # 25M cells, 100 MB
    assert c.cmd("LCS", "a", "b", "LEN") == LCS_ALLOC
    r.set("a", "x" * 4000)
    r.set("b", "xy" * 2000)  # 16M cells, 64 MB: allowed
    assert c.cmd("LCS", "a", "b", "LEN") == 2000
    assert r.info("memory")["used_memory_rss"] < rss0 + (200 << 20)
    r.config_set("proto-max-bulk-len", "1mb")
    try:
        r.set("a", "x" * 600)
        r.set("b", "x" * 600)  # 1.4 MB table
        assert c.cmd("LCS", "a", "b", "LEN") == LCS_PROTO
    finally:
        r.config_set("proto-max-bulk-len", "512mb")


# ------------------------------------------------------------------- in MULTI and scripts


def test_in_multi_and_eval_across_partitions(r):
    r.set("foo", "ohmytext")
    r.set("bar", "mynewtext")
    p = r.pipeline(transaction=True)
    p.copy("foo", "a")
    p.execute_command("LCS", "a", "bar")
    p.move("bar", 5)
    p.object("encoding", "a")
    p.memory_usage("a")
    assert p.execute()[:4] == [True, "mytext", True, "embstr"]
    assert r.eval("return redis.call('COPY', KEYS[1], KEYS[2])", 2, "foo", "b") == 1
    assert r.eval("return redis.call('LCS', KEYS[1], KEYS[2], 'LEN')", 2, "foo", "b") == 8
    assert r.eval("return redis.call('OBJECT', 'ENCODING', KEYS[1])", 1, "b") == "embstr"
    assert r.get("b") == "ohmytext"
    assert r.exists("bar") == 0


def test_copy_move_touch_watched_keys(server, r):
    other = make_client(server, single_connection_client=True)
    try:
        r.set("foo", "1")
        for change in (lambda: other.copy("foo", "bar"),
                       lambda: other.copy("foo", "bar", replace=True),
                       lambda: other.move("bar", 1)):
            p = r.pipeline(transaction=True)
            p.watch("bar")
            change()
            p.multi()
            p.set("x", "y")
            with pytest.raises(redis.WatchError):
                p.execute()
            p.reset()
        assert r.exists("x") == 0
    finally:
        other.close()

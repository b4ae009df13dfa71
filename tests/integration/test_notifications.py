"""Keyspace notifications (notify-keyspace-events, server/notify.h), under every
policy: CONFIG GET/SET with Redis 7.0's canonical flags and error, keyspace
(K) and keyevent (E) channels, masking by class, each type's events as Redis
7.0 names them, new and keymiss, expired (lazy and active), evicted, events
from MULTI/EXEC and EVAL, subscribers and writers on different workers, and a
subscriber to everything that never reads.

A subscriber reads events up to a marker: it also subscribes to MARK, and the
writer publishes there after its commands; one client's messages reach a
subscriber in order (server/pubsub.h), so everything before the marker is
what those commands raised. PERCORE_TEST_TARGET=redis runs it against
redis-server 7.0."""

import subprocess
import time

import pytest

from conftest import (LATENCY_SCALE, OK, Err, Status, encode_command, make_client,
                      wait_for)
from test_pubsub import never_reading, place  # noqa: F401 (place: a fixture)

MARK = "notify-test-mark"
INVALID = ("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
           "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")


class Events:
    """A subscriber to pattern (keyspace and keyevent of every db by default)."""

    def __init__(self, connect, pattern="__key*__:*"):
        self.rc = connect(decode=True)
        assert self.rc.cmd("PSUBSCRIBE", pattern)[0] == "psubscribe"
        assert self.rc.cmd("SUBSCRIBE", MARK)[0] == "subscribe"

    def until_mark(self, w):
        """Publish the marker from writer w; return [(channel, message)] read before it."""
        w.publish(MARK, "x")
        out = []
        while True:
            m = self.rc.read_reply()
            if m[0] == "message" and m[1] == MARK:
                return out
            assert m[0] == "pmessage", m
            out.append((m[2], m[3]))

    def keyevents(self, w):
        """The events before the marker as [(event, key)] (keyevent channels only)."""
        return [(ch.split(":", 1)[1], msg) for ch, msg in self.until_mark(w)
                if ch.startswith("__keyevent@")]

    def wait_event(self, channel, timeout=5.0):
        """Read until a message on channel arrives (events raised by no client)."""
        self.rc.sock.settimeout(timeout * LATENCY_SCALE)
        try:
            while True:
                m = self.rc.read_reply()
                if m[0] == "pmessage" and m[2] == channel:
                    return m[3]
        finally:
            self.rc.sock.settimeout(30)


@pytest.fixture
def w(server, r):
    """The writer (redis-py); notify-keyspace-events is emptied after the test."""
    yield r
    r.config_set("notify-keyspace-events", "")


def ev(w, flags):
    assert w.config_set("notify-keyspace-events", flags)


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("given,shown", [
    ("", ""), ("KEA", "AKE"), ("A", "A"), ("KA", "AK"), ("Kgn", "gnK"), ("Kxm", "xKm"),
    ("KEgx$lshzetdnm", "AKEm"), ("Ax", "A"), ("E", "E"), ("KE$", "$KE"), ("EKlz", "lzKE"),
])
def test_config_canonical_flags(w, given, shown):
    ev(w, given)
    assert w.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}


def test_config_invalid_flag(w, c):
    ev(w, "KEA")
    for bad in ("KZ", "Kq", "k", "KE "):
        assert c.cmd("CONFIG", "SET", "notify-keyspace-events", bad) == Err(INVALID)
    # a refused value changes nothing
    assert w.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}


def test_default_is_off(w, connect):
    assert w.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}
    e = Events(connect)
    w.set("a", "1")
    w.get("missing")
    assert e.until_mark(w) == []


# ---------------------------------------------------------------- channels and classes


def test_keyspace_and_keyevent_channels(w, connect):
    e = Events(connect)
    ev(w, "K$")
    w.set("k", "v")
    assert e.until_mark(w) == [("__keyspace@0__:k", "set")]
    ev(w, "E$")
    w.set("k", "v")
    assert e.until_mark(w) == [("__keyevent@0__:set", "k")]
    ev(w, "KE$")
    w.set("k", "v")
    assert e.until_mark(w) == [("__keyspace@0__:k", "set"), ("__keyevent@0__:set", "k")]
    # the class alone, without K or E, publishes nothing
    ev(w, "$")
    w.set("k", "v")
    assert e.until_mark(w) == []


def test_database_in_channel(w, server, connect):
    e = Events(connect)
    ev(w, "KEA")
    w3 = make_client(server, single_connection_client=True, db=3)
    try:
        w3.set("k3", "v")
        assert e.until_mark(w3) == [("__keyspace@3__:k3", "set"), ("__keyevent@3__:set", "k3")]
    finally:
        w3.close()


def test_masking_by_class(w, connect):
    e = Events(connect)
    ev(w, "El")
    w.set("s", "1")
    w.sadd("st", "a")
    w.hset("h", "f", "v")
    w.zadd("z", {"m": 1})
    w.rpush("l", "a")
    w.delete("s")
    assert e.keyevents(w) == [("rpush", "l")]
    ev(w, "Eg")
    w.rpush("l", "b")
    w.delete("l")
    w.set("s", "1")
    w.expire("s", 100)
    assert e.keyevents(w) == [("del", "l"), ("expire", "s")]
    ev(w, "Ehz")
    w.hset("h", "g", "v")
    w.zadd("z", {"n": 2})
    w.sadd("st", "b")
    assert e.keyevents(w) == [("hset", "h"), ("zadd", "z")]


# ---------------------------------------------------------------- each type's events


def test_string_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.set("s", "v")
    w.set("s", "v", ex=100)
    w.setex("s", 100, "v")
    w.psetex("s", 100000, "v")
    w.setnx("s", "v")  # exists: nothing
    w.setnx("s2", "v")
    w.getset("s", "w")
    w.mset({"m1": "a", "m2": "b"})
    w.msetnx({"m1": "a", "m3": "c"})  # m1 exists: nothing
    w.append("s", "x")
    w.incr("n")
    w.decr("n")
    w.incrby("n", 5)
    w.decrby("n", 5)
    w.incrbyfloat("f", 1.5)
    w.setrange("s", 1, "zz")
    w.setrange("s", 1, "")  # writes nothing: no event
    w.setbit("b", 3, 1)
    w.bitfield("b").set("u8", 0, 7).execute()
    w.bitfield("b").get("u8", 0).execute()  # a read: nothing
    w.bitop("OR", "bo", "b", "s")
    w.bitop("AND", "bo", "nothere")  # empty result deletes the destination
    w.bitop("AND", "bo", "nothere")  # nothing to delete: nothing
    assert e.keyevents(w) == [
        ("set", "s"), ("set", "s"), ("expire", "s"), ("set", "s"), ("expire", "s"),
        ("set", "s"), ("expire", "s"), ("set", "s2"), ("set", "s"), ("set", "m1"),
        ("set", "m2"), ("append", "s"), ("incrby", "n"), ("incrby", "n"), ("incrby", "n"),
        ("incrby", "n"), ("incrbyfloat", "f"), ("setrange", "s"), ("setbit", "b"),
        ("setbit", "b"), ("set", "bo"), ("del", "bo")]


def test_getdel_getex_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.set("k", "v")
    assert w.getdel("k") == "v"
    assert w.getdel("k") is None
    w.set("k", "v")
    w.getex("k", ex=100)
    w.getex("k", persist=True)
    w.getex("k", persist=True)  # no TTL to remove: nothing
    w.getex("k")  # a read: nothing
    w.getex("k", pxat=1)  # already past: deleted
    assert e.keyevents(w) == [("set", "k"), ("del", "k"), ("set", "k"), ("expire", "k"),
                              ("persist", "k"), ("del", "k")]


def test_generic_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.mset({"a": "1", "b": "2", "c": "3"})
    e.keyevents(w)
    assert w.delete("a", "nope", "b") == 2
    w.unlink("c")
    w.set("k", "v")
    w.expire("k", 100)
    w.pexpire("k", 100000)
    w.expireat("k", int(time.time()) + 100)
    w.expire("k", 100, nx=True)  # has a TTL: not set, nothing
    w.persist("k")
    w.persist("k")  # no TTL: nothing
    w.rename("k", "k2")
    w.set("k3", "v")
    assert w.renamenx("k2", "k3") is False
    w.renamenx("k2", "k4")
    w.expire("k4", 0)  # a time already past deletes
    w.pexpireat("k3", 1)
    w.expire("nope", 100)
    assert e.keyevents(w) == [
        ("del", "a"), ("del", "b"), ("del", "c"), ("set", "k"), ("expire", "k"),
        ("expire", "k"), ("expire", "k"), ("persist", "k"), ("rename_from", "k"),
        ("rename_to", "k2"), ("set", "k3"), ("rename_from", "k2"), ("rename_to", "k4"),
        ("del", "k4"), ("del", "k3")]


def test_keyspace_channel_names_the_key(w, connect):
    e = Events(connect, "__keyspace@0__:*")
    ev(w, "KA")
    w.set("x", "1")
    w.rename("x", "y")
    assert e.until_mark(w) == [("__keyspace@0__:x", "set"), ("__keyspace@0__:x", "rename_from"),
                               ("__keyspace@0__:y", "rename_to")]


def test_list_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.lpush("l", "a", "b")  # one event for several elements
    w.rpush("l", "c")
    w.lpushx("nolist", "a")  # missing: nothing
    w.rpushx("l", "d")
    w.linsert("l", "before", "c", "x")
    w.linsert("l", "before", "nothere", "x")  # no pivot: nothing
    w.lset("l", 0, "z")
    w.lrem("l", 0, "x")
    w.lrem("l", 0, "nothere")  # nothing removed: nothing
    w.ltrim("l", 0, 2)
    w.lpop("l")
    w.rpop("l", 1)
    w.rpush("l2", "a", "b")
    w.lmove("l2", "l3", "LEFT", "RIGHT")
    w.rpoplpush("l2", "l3")  # empties l2
    w.lmpop(1, "l3", direction="LEFT")
    w.blpop(["l3"], timeout=1)  # served at once: empties l3
    w.rpush("l4", "a")
    w.ltrim("l4", 1, 0)  # trimmed to nothing
    assert e.keyevents(w) == [
        ("lpush", "l"), ("rpush", "l"), ("rpush", "l"), ("linsert", "l"), ("lset", "l"),
        ("lrem", "l"), ("ltrim", "l"), ("lpop", "l"), ("rpop", "l"),
        ("rpush", "l2"), ("rpush", "l3"), ("lpop", "l2"),
        ("lpush", "l3"), ("rpop", "l2"), ("del", "l2"),
        ("lpop", "l3"), ("lpop", "l3"), ("del", "l3"),
        ("rpush", "l4"), ("ltrim", "l4"), ("del", "l4")]


def test_blocked_pop_events(w, server, connect):
    """A pop served to a blocked client raises its events when served."""
    e = Events(connect)
    ev(w, "El")
    b = connect(decode=True)
    b.send(encode_command("BLPOP", "bl", "10"))
    assert wait_for(lambda: w.info("clients")["blocked_clients"] == 1)
    w.rpush("bl", "v")
    assert b.read_reply() == ["bl", "v"]
    assert e.keyevents(w) == [("rpush", "bl"), ("lpop", "bl")]


def test_hash_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.hset("h", mapping={"a": "1", "b": "2"})
    w.hset("h", "a", "1")  # unchanged value: still hset, as Redis
    w.hsetnx("h", "a", "x")  # exists: nothing
    w.hsetnx("h", "c", "3")
    w.execute_command("HMSET", "h", "d", "4")
    w.hincrby("h", "a", 2)
    w.hincrbyfloat("h", "b", 0.5)
    w.hdel("h", "nothere")  # nothing removed: nothing
    w.hdel("h", "a", "b")
    w.hdel("h", "c", "d")
    assert e.keyevents(w) == [
        ("hset", "h"), ("hset", "h"), ("hset", "h"), ("hset", "h"), ("hincrby", "h"),
        ("hincrbyfloat", "h"), ("hdel", "h"), ("hdel", "h"), ("del", "h")]


def test_set_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.sadd("s", "a", "b", "c", "d")
    w.sadd("s", "a")  # nothing added: nothing
    w.srem("s", "a")
    w.srem("s", "zz")  # nothing removed: nothing
    w.spop("s")
    w.smove("s", "s2", "nothere")  # not a member: nothing
    w.sadd("t", "b", "c", "d")
    w.sinterstore("si", "s", "t")
    w.sunionstore("su", "s", "t")
    w.sdiffstore("sd", "t", "s")
    w.sinterstore("si", "s", "nothere")  # empty: deletes the destination
    w.sinterstore("si", "s", "nothere")  # nothing to delete: nothing
    w.delete("s", "su", "sd")
    w.sadd("m", "x")
    w.smove("m", "m2", "x")  # empties m, creates m2
    w.spop("t", 10)  # everything: deletes t
    assert e.keyevents(w) == [
        ("sadd", "s"), ("srem", "s"), ("spop", "s"), ("sadd", "t"), ("sinterstore", "si"),
        ("sunionstore", "su"), ("sdiffstore", "sd"), ("del", "si"), ("del", "s"),
        ("del", "su"), ("del", "sd"), ("sadd", "m"), ("srem", "m"), ("del", "m"),
        ("sadd", "m2"), ("spop", "t"), ("del", "t")]


def test_zset_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7})
    w.zadd("z", {"a": 1})  # unchanged: nothing
    w.zadd("z", {"a": 2}, incr=True)
    w.zincrby("z", 1, "b")
    w.zrem("z", "a")
    w.zrem("z", "nothere")  # nothing removed: nothing
    w.zremrangebyscore("z", 3, 3)
    w.zremrangebyrank("z", 0, 0)
    w.zremrangebyscore("z", 100, 200)  # nothing removed: nothing
    w.zpopmin("z")
    w.zpopmax("z")
    w.zadd("lx", {"a": 0, "b": 0})
    w.zremrangebylex("lx", "[a", "[b")  # empties lx
    w.zadd("y", {"f": 1, "q": 2})
    w.zunionstore("zu", ["z", "y"])
    w.zinterstore("zi", ["z", "y"])
    w.zdiffstore("zd", ["y", "z"])
    w.zrangestore("zr", "y", 0, 0)
    w.zinterstore("zi", ["z", "nothere"])  # empty: deletes the destination
    w.bzpopmin(["z"], timeout=1)  # served at once: empties z
    w.zmpop(1, ["y"], max=True, count=5)  # empties y
    assert e.keyevents(w) == [
        ("zadd", "z"), ("zincr", "z"), ("zincr", "z"), ("zrem", "z"),
        ("zremrangebyscore", "z"), ("zremrangebyrank", "z"), ("zpopmin", "z"),
        ("zpopmax", "z"), ("zadd", "lx"), ("zremrangebylex", "lx"), ("del", "lx"), ("zadd", "y"), ("zunionstore", "zu"),
        ("zinterstore", "zi"), ("zdiffstore", "zd"), ("zrangestore", "zr"), ("del", "zi"),
        ("zpopmin", "z"), ("del", "z"), ("zpopmax", "y"), ("del", "y")]


def test_flush_raises_nothing(w, connect):
    e = Events(connect)
    ev(w, "KEA")
    w.set("a", "1")
    w.flushdb()
    w.set("b", "1")
    w.flushall()
    assert e.keyevents(w) == [("set", "a"), ("set", "b")]


# ---------------------------------------------------------------- new, keymiss


def test_new_key_events(w, connect):
    e = Events(connect)
    ev(w, "En")
    w.set("a", "1")
    w.set("a", "2")  # exists: not new
    w.lpush("l", "x")
    w.lpush("l", "y")
    w.hset("h", "f", "v")
    w.incr("n")
    w.rename("a", "b")  # the destination is new
    w.smove("nos", "d", "m")  # no source: nothing
    assert e.keyevents(w) == [("new", "a"), ("new", "l"), ("new", "h"), ("new", "n"),
                              ("new", "b")]
    # n is outside A: A alone raises no new
    ev(w, "EA")
    w.set("c", "1")
    assert e.keyevents(w) == [("set", "c")]


def test_keymiss_events(w, connect):
    e = Events(connect)
    ev(w, "Em")
    w.set("here", "1")
    w.get("here")
    w.get("gone")
    w.hget("nohash", "f")
    w.lrange("nolist", 0, -1)
    w.exists("nothing")
    w.rpop("nolist")  # a write's lookup: no keymiss
    assert e.keyevents(w) == [("keymiss", "gone"), ("keymiss", "nohash"),
                              ("keymiss", "nolist"), ("keymiss", "nothing")]
    # m is outside A
    ev(w, "EA")
    w.get("gone")
    assert e.keyevents(w) == []


# ---------------------------------------------------------------- expired, evicted


def test_expired_lazy(w, connect):
    """An expired key read before active expiry finds it: expired, then
    keymiss for the read."""
    e = Events(connect)
    w.config_set("hz", "1")
    try:
        ev(w, "Exm")
        for i in range(3):
            w.set("lazy%d" % i, "v", px=30)
        time.sleep(0.06)
        for i in range(3):
            assert w.get("lazy%d" % i) is None
        got = e.keyevents(w)
    finally:
        w.config_set("hz", "10")
    for i in range(3):
        k = "lazy%d" % i
        assert ("expired", k) in got
        assert got.index(("expired", k)) < got.index(("keymiss", k))


def test_expired_active(w, connect):
    e = Events(connect, "__keyevent@0__:expired")
    ev(w, "Ex")
    w.set("act", "v", px=50)
    assert e.wait_event("__keyevent@0__:expired") == "act"
    assert w.exists("act") == 0


def test_set_with_a_past_time_expires(w, connect):
    """SET ... PXAT in the past: set, expire, then expired (Redis raises it
    from its expiry cycle soon after; percore at once) and the key is gone."""
    e = Events(connect, "__keyevent@0__:*")
    ev(w, "EA")
    before = w.info("stats")["expired_keys"]
    w.set("past", "v", pxat=1)
    got = []
    e.rc.sock.settimeout(5 * LATENCY_SCALE)
    while ("__keyevent@0__:expired", "past") not in got:
        m = e.rc.read_reply()
        got.append((m[2], m[3]))
    assert got == [("__keyevent@0__:set", "past"), ("__keyevent@0__:expire", "past"),
                   ("__keyevent@0__:expired", "past")]
    assert w.exists("past") == 0
    assert w.info("stats")["expired_keys"] == before + 1


def test_evicted(w, server, connect):
    e = Events(connect, "__keyevent@0__:evicted")
    ev(w, "Ee")
    base = w.info("memory")["used_memory"]
    w.config_set("maxmemory-policy", "allkeys-random")
    w.config_set("maxmemory", str(base + 2 * 1024 * 1024))
    try:
        p = w.pipeline(transaction=False)
        for i in range(6000):
            p.set("ev:%d" % i, "x" * 1000)
        p.execute(raise_on_error=False)
        key = e.wait_event("__keyevent@0__:evicted")
        assert key.startswith("ev:")
    finally:
        w.config_set("maxmemory", "0")
        w.config_set("maxmemory-policy", "noeviction")
    assert w.info("stats")["evicted_keys"] > 0


# ---------------------------------------------------------------- MULTI/EXEC, EVAL


def test_multi_exec_events(w, connect):
    e = Events(connect)
    ev(w, "KEA")
    p = w.pipeline(transaction=True)
    p.set("t1", "1")
    p.lpush("t2", "a")
    p.delete("t1")
    p.execute()
    assert e.until_mark(w) == [
        ("__keyspace@0__:t1", "set"), ("__keyevent@0__:set", "t1"),
        ("__keyspace@0__:t2", "lpush"), ("__keyevent@0__:lpush", "t2"),
        ("__keyspace@0__:t1", "del"), ("__keyevent@0__:del", "t1")]


def test_eval_events(w, connect):
    e = Events(connect)
    ev(w, "EA")
    w.eval("redis.call('set', KEYS[1], 'v'); redis.call('incr', KEYS[2]); "
           "redis.call('hset', KEYS[3], 'f', 'v'); return redis.call('del', KEYS[1])",
           3, "{s}a", "{s}b", "{s}c")
    assert e.keyevents(w) == [("set", "{s}a"), ("incrby", "{s}b"), ("hset", "{s}c"),
                              ("del", "{s}a")]


# ---------------------------------------------------------------- across workers


def test_subscribers_and_writers_on_every_worker(w, place):
    """Subscribers on each worker get the events of writers on each worker,
    each writer's in its order."""
    subs = [rc for v in place.on_each(per_worker=1).values() for rc in v]
    writers = place.on_each(per_worker=1)
    for s in subs:
        assert s.cmd("PSUBSCRIBE", "__keyevent@0__:*")[0] == b"psubscribe"
    ev(w, "E$")
    keys = []
    for wk, (wr,) in sorted(writers.items()):
        for i in range(8):
            assert wr.cmd("SET", "w%d:%d" % (wk, i), "v") == OK
            keys.append("w%d:%d" % (wk, i))
    for s in subs:
        s.sock.settimeout(10 * LATENCY_SCALE)
        got = [s.read_reply() for _ in keys]
        assert all(m[:3] == [b"pmessage", b"__keyevent@0__:*", b"__keyevent@0__:set"]
                   for m in got)
        # the writers wrote one after another: their events arrive in that order
        assert [m[3].decode() for m in got] == keys


# ---------------------------------------------------------------- abuse


@pytest.mark.percore_only
def test_subscriber_that_never_reads(w, server, c, connect):
    """A subscriber to every event that never reads is closed by the pubsub
    class's limit while keys are written; the server keeps serving."""
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 60") == OK
    try:
        slow = never_reading(server, "PSUBSCRIBE", "__key*__:*")
        assert wait_for(lambda: c.cmd("PUBSUB", "NUMPAT") == 1)
        ev(w, "KEA")
        big = "k" * 4096  # each event carries the key: 2 messages of > 4 KB per write
        p = w.pipeline(transaction=False)
        for i in range(600):  # ~5 MB of events, 5x the hard limit
            p.set("%s:%d" % (big, i), "v")
            if i % 100 == 99:
                p.execute()
        p.execute()
        assert wait_for(lambda: c.cmd("PUBSUB", "NUMPAT") == 0, 10 * LATENCY_SCALE)
        assert wait_for(lambda: "closed for overcoming of output buffer limits" in server.log())
        slow.close()
        assert w.set("after", "1") and w.get("after") == "1"
        assert c.cmd("PING") == Status("PONG")
    finally:
        c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")


@pytest.mark.percore_only
def test_flags_from_the_command_line(server, server_factory, connect):
    """server.ini's key (here as --server.notify-keyspace-events) is read as
    CONFIG SET reads it; a bad value stops startup naming the key."""
    srv = server_factory(["--server.notify-keyspace-events", "KEl"], policy=server.policy,
                         threads=server.threads)
    w = make_client(srv, single_connection_client=True)
    try:
        assert w.config_get("notify-keyspace-events") == {"notify-keyspace-events": "lKE"}
        sub = make_client(srv).pubsub()
        sub.psubscribe("__key*__:*")
        assert sub.get_message(timeout=5)["type"] == "psubscribe"
        w.rpush("l", "a")
        got = [sub.get_message(timeout=5) for _ in range(2)]
        assert [(m["channel"], m["data"]) for m in got] == [
            ("__keyspace@0__:l", "rpush"), ("__keyevent@0__:rpush", "l")]
        sub.close()
    finally:
        w.close()
    bad = subprocess.run([srv.proc.args[0], "--test-config", "--server.notify-keyspace-events",
                          "KQ"], capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0
    assert "notify-keyspace-events" in bad.stderr + bad.stdout

"""Client-side caching (CLIENT TRACKING, server/tracking.h), under every
policy: RESP3 invalidation pushes, RESP2 redirection to a client subscribed
to __redis__:invalidate, readers and writers on different workers, writes
from MULTI/EXEC, EVAL, expiry, eviction and FLUSHALL, BCAST with prefixes,
OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, GETREDIR, TRACKINGINFO, CLIENT LIST
flags, INFO fields and Redis 7.0's errors; abuse: a tracking client reading a
million keys (the table stays within tracking-table-max-keys), a redirect
target that never reads, tracking clients that disconnect.

A "no invalidation" is checked with a sentinel: after the write that must not
notify, a write of another tracked key must be the next message (one
client's messages arrive in order). PERCORE_TEST_TARGET=redis runs it
against redis-server 7.0."""

import time

import pytest

from conftest import (LATENCY_SCALE, OK, TARGET, Err, Status, encode_command, parse_info,
                      wait_for)
from test_pubsub import never_reading, place  # noqa: F401 (place: a fixture)

CH = b"__redis__:invalidate"


def tracker(connect, *opts, proto=3):
    rc = connect()
    if proto == 3:
        assert rc.cmd("HELLO", "3")[b"proto"] == 3
    assert rc.cmd("CLIENT", "TRACKING", "ON", *opts) == OK
    return rc


def redirect_target(connect):
    """A RESP2 client subscribed to __redis__:invalidate, and its id."""
    t = connect()
    cid = t.cmd("CLIENT", "ID")
    assert t.cmd("SUBSCRIBE", CH) == [b"subscribe", CH, 1]
    return t, cid


def push(rc):
    """The next invalidation push: its keys (None: a flush)."""
    m = rc.read_reply()
    assert isinstance(m, list) and m[0] == b"invalidate", m
    return m[1]


def message(rc):
    m = rc.read_reply()
    assert isinstance(m, list) and m[:2] == [b"message", CH], m
    return m[2]


def info(c, section):
    return parse_info(c.cmd("INFO", section))


def test_resp3_invalidation_once(c, connect):
    t = tracker(connect)
    assert t.cmd("SET", "k", "1") == OK
    assert t.cmd("GET", "k") == b"1"
    assert t.cmd("GET", "other") is None  # a miss is tracked too
    assert c.cmd("SET", "k", "2") == OK
    assert push(t) == [b"k"]
    # forgotten once sent: the next write of k says nothing, other's does
    assert c.cmd("SET", "k", "3") == OK
    assert c.cmd("SET", "other", "x") == OK
    assert push(t) == [b"other"]
    # every kind of write, on every type, through its db path
    for setup, read, write in [
        (("RPUSH", "l", "a"), ("LRANGE", "l", "0", "-1"), ("LPOP", "l")),
        (("HSET", "h", "f", "v"), ("HGET", "h", "f"), ("HDEL", "h", "f")),
        (("SADD", "s", "m"), ("SMEMBERS", "s"), ("SADD", "s", "n")),
        (("ZADD", "z", "1", "m"), ("ZSCORE", "z", "m"), ("ZINCRBY", "z", "1", "m")),
        (("SET", "e", "v"), ("STRLEN", "e"), ("EXPIRE", "e", "100")),
        (("SET", "r", "v"), ("GET", "r"), ("RENAME", "r", "r2")),
        (("SET", "d", "v"), ("EXISTS", "d"), ("DEL", "d")),
    ]:
        c.cmd(*setup)
        t.cmd(*read)
        c.cmd(*write)
        assert push(t) == [setup[1].encode()], write


def test_own_write_after_reply(connect):
    t = tracker(connect)
    t.cmd("HSET", "h", "f", "1")
    assert t.cmd("HGET", "h", "f") == b"1"
    assert t.cmd("HDEL", "h", "f") == 1  # the reply first, then the push
    assert push(t) == [b"h"]


def test_unblocked_command_invalidation_after_its_reply(c, connect):
    t = tracker(connect)
    c.cmd("RPUSH", "dst{b}", "a")
    t.cmd("LRANGE", "dst{b}", "0", "-1")
    t.send(encode_command("BLMOVE", "src{b}", "dst{b}", "LEFT", "LEFT", "0"))
    assert wait_for(lambda: int(info(c, "clients")["blocked_clients"]) == 1)
    c.cmd("RPUSH", "src{b}", "x")
    assert t.read_reply() == b"x"  # BLMOVE's reply, then its own write's push
    assert push(t) == [b"dst{b}"]


def test_resp2_redirect(c, connect):
    target, tid = redirect_target(connect)
    t = tracker(connect, "REDIRECT", str(tid), proto=2)
    assert t.cmd("CLIENT", "GETREDIR") == tid
    t.cmd("MGET", "a", "b")
    c.cmd("SET", "b", "1")
    assert message(target) == [b"b"]
    # a second redirect target subscribed to the channel gets nothing of t's
    other, _ = redirect_target(connect)
    c.cmd("SET", "a", "1")
    assert message(target) == [b"a"]
    assert other.cmd("PING") == [b"pong", b""]


def test_redirect_target_modes(c, connect):
    # RESP2: in subscribed mode, whatever the channel; not otherwise
    target = connect()
    tid = target.cmd("CLIENT", "ID")
    assert target.cmd("SUBSCRIBE", "elsewhere") == [b"subscribe", b"elsewhere", 1]
    t = tracker(connect, "REDIRECT", str(tid), proto=2)
    t.cmd("MGET", "x", "y")
    c.cmd("SET", "x", "1")
    assert message(target) == [b"x"]
    assert target.cmd("UNSUBSCRIBE") == [b"unsubscribe", b"elsewhere", 0]
    c.cmd("SET", "y", "1")  # not subscribed: nothing, and not broken
    assert t.cmd("CLIENT", "TRACKINGINFO")[1] == [b"on"]
    # RESP3: unsubscribed, it still gets the push
    assert target.cmd("HELLO", "3")[b"proto"] == 3
    t.cmd("GET", "z")
    c.cmd("SET", "z", "1")
    assert push(target) == [b"z"]


def test_redirect_to_resp3_client(c, connect):
    target = connect()
    target.cmd("HELLO", "3")
    tid = target.cmd("CLIENT", "ID")
    assert target.cmd("SUBSCRIBE", CH) == [b"subscribe", CH, 1]
    t = tracker(connect, "REDIRECT", str(tid), proto=2)
    t.cmd("GET", "k")
    c.cmd("SET", "k", "1")
    assert push(target) == [b"k"]


def test_redirect_broken(c, connect):
    target = connect()
    tid = target.cmd("CLIENT", "ID")
    t = tracker(connect, "REDIRECT", str(tid))
    t.cmd("GET", "k")
    target.close()
    assert wait_for(lambda: b"id=%d " % tid not in c.cmd("CLIENT", "LIST"))
    c.cmd("SET", "k", "1")
    assert t.read_reply() == [b"tracking-redir-broken", tid]
    assert b"R" in dict(f.split(b"=", 1) for f in t.cmd("CLIENT", "INFO").split())[b"flags"]
    assert b"broken_redirect" in t.cmd("CLIENT", "TRACKINGINFO")[b"flags"]


def test_reader_and_writer_on_other_workers(place):
    readers = place.on_each(per_worker=1)
    writers = place.on_each(per_worker=1)
    keys = ["key:%d" % i for i in range(64)]  # spread over the partitions
    for rw, (rl) in readers.items():
        t = rl[0]
        t.cmd("HELLO", "3")
        assert t.cmd("CLIENT", "TRACKING", "ON") == OK
        t.cmd("MGET", *keys)
    for ww, wl in writers.items():
        w = wl[0]
        for k in keys[ww::len(writers)]:
            assert w.cmd("SET", k, "v") == OK
    for rl in readers.values():
        got = set()
        while len(got) < len(keys):
            got.update(push(rl[0]))
        assert got == {k.encode() for k in keys}


def test_multi_exec_and_eval(c, connect):
    t = tracker(connect)
    t.cmd("MGET", "a{t}", "b{t}", "c")
    c.cmd("MULTI")
    c.cmd("INCR", "a{t}")
    c.cmd("SET", "b{t}", "x")
    assert c.cmd("EXEC") == [1, OK]
    assert push(t) == [b"a{t}"]
    assert push(t) == [b"b{t}"]
    c.cmd("EVAL", "redis.call('set', KEYS[1], 'v')", "1", "c")
    assert push(t) == [b"c"]
    # a script's reads are tracked for the script's caller
    c.cmd("SET", "d", "1")
    assert t.cmd("EVAL", "return redis.call('get', KEYS[1])", "1", "d") == b"1"
    c.cmd("SET", "d", "2")
    assert push(t) == [b"d"]
    # a script's declared keys are tracked when it calls a read (Redis 7.0),
    # none when it only writes
    t.cmd("EVAL", "redis.call('set', KEYS[1], 'x')", "2", "w1{s}", "w2{s}")
    t.cmd("EVAL_RO", "return redis.call('get', KEYS[1])", "2", "r1{s}", "r2{s}")
    c.cmd("MSET", "w1{s}", "1", "w2{s}", "1", "r2{s}", "1")
    assert push(t) == [b"r2{s}"]
    # a tracking client's own transaction: the pushes follow EXEC's reply
    t.cmd("GET", "a{t}")
    t.cmd("MULTI")
    t.cmd("INCR", "a{t}")
    t.cmd("GET", "b{t}")
    assert t.cmd("EXEC") == [2, b"x"]
    assert push(t) == [b"a{t}"]


def test_expiry(c, connect):
    t = tracker(connect)
    c.cmd("SET", "lazy", "v", "PX", "30")
    c.cmd("SET", "active", "v", "PX", "30")
    t.cmd("MGET", "lazy", "active")
    time.sleep(0.1)
    # either the active cycle or this read expires it: one invalidation each
    got = set()
    assert c.cmd("GET", "lazy") is None
    deadline = time.time() + 5 * LATENCY_SCALE
    while len(got) < 2 and time.time() < deadline:
        got.update(push(t))
    assert got == {b"lazy", b"active"}


def test_eviction(c, connect):
    t = tracker(connect)
    keys = ["ev:%d" % i for i in range(300)]
    c.cmd("MSET", *[x for k in keys for x in (k, "x" * 1000)])
    t.cmd("MGET", *keys)  # every key tracked: only eviction changes them from here
    used = int(info(c, "memory")["used_memory"])
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == OK
    try:
        assert c.cmd("CONFIG", "SET", "maxmemory", str(used - 100 * 1024)) == OK
        c.cmd("SET", "trigger", "x")
        assert wait_for(lambda: int(info(c, "stats")["evicted_keys"]) > 0)
        got = push(t)
        assert got and set(got) <= {k.encode() for k in keys}
    finally:
        c.cmd("CONFIG", "SET", "maxmemory", "0")
        c.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_flushall_and_flushdb(c, connect):
    t = tracker(connect)
    target, tid = redirect_target(connect)
    t2 = tracker(connect, "REDIRECT", str(tid), proto=2)
    b = tracker(connect, "BCAST")
    t.cmd("GET", "k")
    assert c.cmd("FLUSHALL") == OK
    assert push(t) is None
    assert push(b) is None
    assert message(target) is None
    # the table was emptied: k is no longer tracked
    c.cmd("SET", "k", "1")
    assert push(b) == [b"k"]
    t.cmd("GET", "j")
    c.cmd("SET", "k", "2")
    assert push(b) == [b"k"]
    assert c.cmd("FLUSHDB") == OK
    assert push(t) is None
    assert t2.cmd("PING") == Status("PONG")


def test_bcast_prefixes(c, connect):
    t = tracker(connect, "BCAST", "PREFIX", "a:", "PREFIX", "b:")
    c.cmd("MULTI")
    for k in ("a:1{t}", "a:2{t}", "b:1{t}", "c:1{t}"):
        c.cmd("INCR", k)
    c.cmd("EXEC")
    # one message per prefix for what one command changed, as Redis
    assert sorted(push(t)) == [b"a:1{t}", b"a:2{t}"]
    assert push(t) == [b"b:1{t}"]
    c.cmd("SET", "c:2", "x")
    c.cmd("MSET", "x", "1", "b:x", "2")
    assert push(t) == [b"b:x"]
    # BCAST without prefixes: every key; no read needed
    t2 = tracker(connect, "BCAST")
    c.cmd("SET", "zzz", "1")
    assert push(t2) == [b"zzz"]
    ti = t.cmd("CLIENT", "TRACKINGINFO")
    assert ti[b"flags"] == {b"on", b"bcast"}
    assert sorted(ti[b"prefixes"]) == [b"a:", b"b:"]
    assert int(info(c, "stats")["tracking_total_prefixes"]) == 3


def test_optin_optout_caching(c, connect):
    t = tracker(connect, "OPTIN")
    t.cmd("GET", "no")
    assert t.cmd("CLIENT", "CACHING", "YES") == OK
    t.cmd("GET", "yes")
    t.cmd("GET", "spent")  # CACHING YES was for one command only
    c.cmd("MSET", "no", "1", "spent", "1")
    c.cmd("SET", "yes", "1")
    assert push(t) == [b"yes"]
    assert t.cmd("CLIENT", "CACHING", "NO") == Err(
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    # in MULTI, CACHING YES covers the whole transaction
    assert t.cmd("CLIENT", "CACHING", "YES") == OK
    t.cmd("MULTI")
    t.cmd("GET", "m1")
    t.cmd("GET", "m2")
    t.cmd("EXEC")
    c.cmd("SET", "m1", "1")
    c.cmd("SET", "m2", "1")
    assert push(t) == [b"m1"]
    assert push(t) == [b"m2"]
    o = tracker(connect, "OPTOUT")
    assert o.cmd("CLIENT", "CACHING", "NO") == OK
    assert o.cmd("CLIENT", "TRACKINGINFO")[b"flags"] == {b"on", b"optout", b"caching-no"}
    o.cmd("GET", "skip")
    o.cmd("GET", "kept")
    c.cmd("SET", "skip", "1")
    c.cmd("SET", "kept", "1")
    assert push(o) == [b"kept"]
    assert o.cmd("CLIENT", "CACHING", "YES") == Err(
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")


def test_noloop(c, connect):
    t = tracker(connect, "NOLOOP")
    t.cmd("MGET", "mine", "theirs")
    t.cmd("SET", "mine", "1")  # its own write: nothing
    c.cmd("SET", "theirs", "1")
    assert push(t) == [b"theirs"]
    b = tracker(connect, "BCAST", "NOLOOP")
    b.cmd("SET", "bmine", "1")
    c.cmd("SET", "btheirs", "1")
    assert push(b) == [b"btheirs"]


def test_getredir_trackinginfo_list(c, connect):
    cid = c.cmd("CLIENT", "ID")
    assert c.cmd("CLIENT", "GETREDIR") == -1
    assert c.cmd("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1,
                                                b"prefixes", []]
    assert c.cmd("CLIENT", "TRACKING", "ON") == OK
    assert c.cmd("CLIENT", "GETREDIR") == 0
    assert c.cmd("CLIENT", "TRACKINGINFO") == [b"flags", [b"on"], b"redirect", 0,
                                                b"prefixes", []]
    other = connect()
    oid = other.cmd("CLIENT", "ID")
    assert c.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(oid), "NOLOOP", "OPTIN") == OK
    assert c.cmd("CLIENT", "GETREDIR") == oid
    ti = c.cmd("CLIENT", "TRACKINGINFO")
    assert ti[3] == oid and sorted(ti[1]) == [b"noloop", b"on", b"optin"]
    line = c.cmd("CLIENT", "INFO")
    assert b" flags=t " in line and b" redir=%d " % oid in line
    assert int(info(c, "clients")["tracking_clients"]) >= 1
    t3 = tracker(connect, "BCAST", "PREFIX", "p")
    assert t3.cmd("CLIENT", "TRACKINGINFO") == {b"flags": {b"on", b"bcast"}, b"redirect": 0,
                                                b"prefixes": [b"p"]}
    assert b" flags=tB " in t3.cmd("CLIENT", "INFO")
    assert c.cmd("CLIENT", "TRACKING", "OFF") == OK
    assert c.cmd("CLIENT", "GETREDIR") == -1
    assert b" flags=N " in c.cmd("CLIENT", "INFO") and b" redir=-1 " in c.cmd("CLIENT", "INFO")
    assert c.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(oid)) == OK
    assert c.cmd("CLIENT", "TRACKING", "ON") == OK  # the options are all replaced
    assert c.cmd("CLIENT", "GETREDIR") == 0
    assert cid and t3.cmd("RESET") == Status("RESET")  # RESET turns tracking off
    assert t3.cmd("CLIENT", "TRACKINGINFO")[1] == [b"off"]


def test_info_counts(c, connect):
    assert wait_for(lambda: int(info(c, "clients")["tracking_clients"]) == 0)
    t = tracker(connect)
    t.cmd("MGET", "i1", "i2", "i3")
    t2 = tracker(connect)
    t2.cmd("GET", "i1")
    st = info(c, "stats")
    assert int(st["tracking_total_keys"]) == 3
    assert int(st["tracking_total_items"]) == 4
    assert int(info(c, "clients")["tracking_clients"]) == 2
    c.cmd("SET", "i1", "x")
    push(t), push(t2)
    st = info(c, "stats")
    assert int(st["tracking_total_keys"]) == 2 and int(st["tracking_total_items"]) == 2


def test_errors(c, connect):
    def err(*a):
        r = c.cmd("CLIENT", "TRACKING", *a)
        assert isinstance(r, Err), (a, r)
        return r.msg

    assert err("maybe") == "ERR syntax error"
    assert err("on", "bogus") == "ERR syntax error"
    assert err("on", "REDIRECT", "x") == "ERR value is not an integer or out of range"
    assert err("on", "REDIRECT", "999999") == \
        "ERR The client ID you want redirect to does not exist"
    cid = c.cmd("CLIENT", "ID")
    assert err("on", "REDIRECT", str(cid), "REDIRECT", str(cid)) == \
        "ERR A client can only redirect to a single other client"
    assert err("on", "PREFIX", "a") == "ERR PREFIX option requires BCAST mode to be enabled"
    assert err("on", "BCAST", "OPTIN") == "ERR OPTIN and OPTOUT are not compatible with BCAST"
    assert err("on", "OPTIN", "OPTOUT") == "ERR You can't specify both OPTIN mode and OPTOUT mode"
    assert err("on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO") == (
        "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. "
        "Prefixes for a single client must not overlap.")
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR") == OK
    assert err("on", "BCAST", "PREFIX", "FO") == (
        "ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. "
        "Prefixes for a single client must not overlap.")
    assert err("on") == ("ERR You can't switch BCAST mode on/off before disabling tracking "
                         "for this client, and then re-enabling it with a different mode.")
    assert c.cmd("CLIENT", "TRACKING", "off") == OK
    assert c.cmd("CLIENT", "TRACKING", "on", "OPTIN") == OK
    assert err("on", "OPTOUT") == (
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
        "and then re-enabling it with a different mode.")
    assert c.cmd("CLIENT", "TRACKING", "off") == OK
    assert c.cmd("CLIENT", "CACHING", "YES") == Err(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
        "or OPTOUT mode enabled")
    assert c.cmd("CLIENT", "TRACKING", "on", "OPTIN") == OK
    assert c.cmd("CLIENT", "CACHING", "maybe") == Err("ERR syntax error")


# ---------------------------------------------------------------- abuse


def test_million_keys_bounded(c, connect):
    assert c.cmd("CONFIG", "SET", "tracking-table-max-keys", "1000") == OK
    try:
        t = tracker(connect, proto=2)  # RESP2, no redirect: nothing is sent, keys still kept
        batch = 1000
        for i in range(0, 1000000, batch * 10):
            t.send(b"".join(encode_command("MGET", *["m:%d" % j for j in range(k, k + batch)])
                            for k in range(i, i + batch * 10, batch)))
            for _ in range(10):
                t.read_reply()
        # percore: within the limit plus one key per partition (server/tracking.h)
        slack = int(c.cmd("CONFIG", "GET", "partitions")[1]) if TARGET == "percore" else 0
        assert wait_for(lambda: int(info(c, "stats")["tracking_total_keys"]) <= 1000 + slack)
        assert t.cmd("PING") == Status("PONG")
    finally:
        c.cmd("CONFIG", "SET", "tracking-table-max-keys", "1000000")


@pytest.mark.percore_only
def test_redirect_target_never_reads(server, c, connect):
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 60") == OK
    try:
        slow = never_reading(server, "SUBSCRIBE", CH.decode())
        addr = b"addr=%s:%d " % (slow.getsockname()[0].encode(), slow.getsockname()[1])
        assert wait_for(lambda: b"cmd=subscribe" in c.cmd("CLIENT", "LIST").split(addr)[-1])
        line = [ln for ln in c.cmd("CLIENT", "LIST").split(b"\n") if addr in ln][0]
        sid = int(line.split(b"id=")[1].split(b" ")[0])
        t = tracker(connect, "REDIRECT", str(sid))
        keys = ["n%05d:" % i + "k" * 1000 for i in range(4000)]  # 4 MB of invalidations
        for i in range(0, len(keys), 500):
            t.cmd("MGET", *keys[i:i + 500])
        for i in range(0, len(keys), 500):
            c.cmd("MSET", *[x for k in keys[i:i + 500] for x in (k, "v")])
        assert wait_for(lambda: addr not in c.cmd("CLIENT", "LIST"), timeout=10 * LATENCY_SCALE)
        slow.close()
        # an invalidation finds the target gone (maybe one of the last MSETs'):
        # one push to t, flag R
        got = [t.cmd("GET", "after")]
        c.cmd("SET", "after", "1")
        for _ in range(100):
            m = t.cmd("CLIENT", "TRACKINGINFO")
            if isinstance(m, dict) and b"broken_redirect" in m[b"flags"]:
                break
            got.append(m)
        assert [b"tracking-redir-broken", sid] in got
        assert c.cmd("PING") == Status("PONG")
    finally:
        c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_tracking_clients_disconnect(c, connect):
    for round_ in range(3):
        ts = [tracker(connect, proto=p) for p in (2, 3)]
        b = tracker(connect, "BCAST", "PREFIX", "d:")
        for t in ts:
            t.cmd("MGET", *["d:%d" % i for i in range(2000)])
        for t in ts + [b]:
            t.close()
        assert wait_for(lambda: int(info(c, "clients")["tracking_clients"]) == 0)
        # their keys are still in the table; changing them sends to nobody
        c.cmd("MSET", *[x for i in range(2000) for x in ("d:%d" % i, "v")])
        assert c.cmd("PING") == Status("PONG")
    assert int(info(c, "stats")["tracking_total_prefixes"]) == 0

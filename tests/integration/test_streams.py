"""Streams (server/cmd_stream*.c, server/t_stream*.c) under every policy,
against Redis 7.0's replies and errors: XADD (ids, NOMKSTREAM, MAXLEN/MINID
trims), XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XREAD (blocking too, on
keys of several partitions, clients on different connections), consumer
groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), XINFO,
keyspace events, type commands, scripts, and abuse (huge COUNT and MAXLEN,
hostile ids, a blocked client that resets). Every case passes against
redis-server too (PERCORE_TEST_TARGET=redis)."""

import socket
import struct
import time

import pytest

from conftest import LATENCY_SCALE, RawClient, encode_command, wait_for

BAD_ID = "Invalid stream ID specified as stream command argument"
MAXID = "18446744073709551615-18446744073709551615"


@pytest.fixture
def r(server, r):
    """conftest's client, replying the X* commands raw (as RESP has them)."""
    for name in list(r.response_callbacks):
        if name.upper().startswith("X"):
            del r.response_callbacks[name]
    return r


def err(r, *args):
    with pytest.raises(Exception) as e:
        r.execute_command(*args)
    return str(e.value)


def ids(entries):
    return [e[0] for e in entries]


# ---------------------------------------------------------------- XADD and ranges


def test_xadd_ids_and_errors(r):
    assert "must be greater than 0-0" in err(r, "XADD", "s", "0-0", "f", "v")
    assert r.execute_command("XADD", "s", "1-1", "f", "v") == "1-1"
    assert "equal or smaller than the target stream top item" in err(r, "XADD", "s", "1-1", "f", "v")
    assert "equal or smaller" in err(r, "XADD", "s", "1-0", "f", "v")
    assert r.execute_command("XADD", "s", "1-*", "f", "v") == "1-2"
    assert r.execute_command("XADD", "s", "5-*", "f", "v") == "5-0"
    assert "equal or smaller" in err(r, "XADD", "s", "5", "f", "v")  # "5" is 5-0
    assert BAD_ID in err(r, "XADD", "s", "1-x", "f", "v")
    assert "wrong number of arguments for 'xadd'" in err(r, "XADD", "s", "*", "f")
    assert "wrong number of arguments for 'xadd'" in err(r, "XADD", "s", "*", "f", "v", "g")
    auto = r.execute_command("XADD", "s", "*", "a", "b")
    ms, seq = map(int, auto.split("-"))
    assert ms >= int(time.time() * 1000) - 5000
    assert r.xlen("s") == 4
    assert r.type("s") == "stream"
    assert r.object("encoding", "s") == "stream"
    r.set("str", "x")
    assert "WRONGTYPE" in err(r, "XADD", "str", "*", "f", "v")
    assert "WRONGTYPE" in err(r, "XLEN", "str")


def test_xadd_exhausted_and_max_ids(r):
    assert r.execute_command("XADD", "s", MAXID, "f", "v") == MAXID
    msg = "The stream has exhausted the last possible ID, unable to add more items"
    assert msg in err(r, "XADD", "s", "*", "f", "v")
    assert msg in err(r, "XADD", "s", "5-*", "f", "v")
    assert BAD_ID in err(r, "XADD", "s2", "18446744073709551616-0", "f", "v")
    assert r.execute_command("XADD", "s2", "18446744073709551615-*", "f", "v") == \
        "18446744073709551615-0"


def test_nomkstream_and_trim_options(r):
    assert r.execute_command("XADD", "s", "NOMKSTREAM", "*", "f", "v") is None
    assert r.exists("s") == 0
    assert "MAXLEN argument must be >= 0" in err(r, "XADD", "s", "MAXLEN", "-1", "*", "f", "v")
    assert "LIMIT cannot be used without the special ~ option" in \
        err(r, "XADD", "s", "MAXLEN", "1", "LIMIT", "10", "*", "f", "v")
    assert "MAXLEN and MINID options at the same time are not compatible" in \
        err(r, "XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "f", "v")
    assert "LIMIT argument must be >= 0" in \
        err(r, "XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "*", "f", "v")
    for i in range(1, 11):
        r.execute_command("XADD", "s", "MAXLEN", "=", "5", "%d-0" % i, "f", str(i))
    assert r.xlen("s") == 5
    assert ids(r.execute_command("XRANGE", "s", "-", "+")) == ["%d-0" % i for i in range(6, 11)]
    r.execute_command("XADD", "s", "MINID", "9", "11-0", "f", "v")
    assert ids(r.execute_command("XRANGE", "s", "-", "+")) == ["9-0", "10-0", "11-0"]
    # MAXLEN with a huge value keeps everything
    r.execute_command("XADD", "s", "MAXLEN", "9223372036854775807", "12-0", "f", "v")
    assert r.xlen("s") == 4


def test_approximate_trim_whole_nodes(r):
    """MAXLEN ~ drops whole nodes (100 entries by default) only."""
    pipe = r.pipeline(transaction=False)
    for i in range(1, 1001):
        pipe.execute_command("XADD", "s", "%d-0" % i, "f", "v")
    pipe.execute()
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "555") == 400
    assert r.xlen("s") == 600
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "150") == 100
    assert r.execute_command("XTRIM", "s", "MAXLEN", "444") == 56
    assert r.xlen("s") == 444
    assert r.execute_command("XTRIM", "s", "MINID", "900") == 343
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", "1")[0][0] == "900-0"
    assert r.execute_command("XTRIM", "nope", "MAXLEN", "0") == 0
    assert "syntax error" in err(r, "XTRIM", "s", "foo", "1")
    assert "wrong number of arguments" in err(r, "XTRIM", "s", "MAXLEN")


def test_xrange_bounds(r):
    for i in range(1, 6):
        r.execute_command("XADD", "s", "%d-%d" % (i, i), "f%d" % i, "v%d" % i)
    assert r.execute_command("XRANGE", "s", "-", "+")[0] == ["1-1", ["f1", "v1"]]
    xr = lambda *a: ids(r.execute_command("XRANGE", "s", *a))
    xrev = lambda *a: ids(r.execute_command("XREVRANGE", "s", *a))
    assert xr("2", "4") == ["2-2", "3-3", "4-4"]
    assert xr("(2-2", "(4-4") == ["3-3"]
    assert xr("-", "+", "COUNT", "2") == ["1-1", "2-2"]
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert r.execute_command("XREVRANGE", "s", "+", "-", "COUNT", "-1") is None
    assert xrev("+", "-", "COUNT", "2") == ["5-5", "4-4"]
    assert xrev("(5-5", "(1-1") == ["4-4", "3-3", "2-2"]
    assert xr("4", "2") == []
    assert BAD_ID in err(r, "XRANGE", "s", "(-", "+")
    assert BAD_ID in err(r, "XRANGE", "s", "-", "(+")
    assert "invalid start ID for the interval" in err(r, "XRANGE", "s", "(" + MAXID, "+")
    assert "invalid end ID for the interval" in err(r, "XRANGE", "s", "-", "(0-0")
    assert "syntax error" in err(r, "XRANGE", "s", "-", "+", "COUNT")
    assert r.execute_command("XRANGE", "nope", "-", "+") == []


def test_xdel_and_empty_stream_stays(r):
    for i in range(1, 4):
        r.execute_command("XADD", "s", "%d-0" % i, "f", "v")
    assert BAD_ID in err(r, "XDEL", "s", "1-0", "bad")
    assert r.xlen("s") == 3  # nothing deleted by the failed call
    assert r.execute_command("XDEL", "s", "1-0", "1-0", "9-9") == 1
    assert r.execute_command("XDEL", "s", "2-0", "3-0") == 2
    assert r.xlen("s") == 0 and r.exists("s") == 1
    assert "equal or smaller" in err(r, "XADD", "s", "3-0", "f", "v")
    assert r.execute_command("XDEL", "nope", "1-0") == 0


def test_xsetid(r):
    r.execute_command("XADD", "s", "5-0", "f", "v")
    assert "smaller than the target stream top item" in err(r, "XSETID", "s", "4-0")
    assert "no such key" in err(r, "XSETID", "nope", "1-0")
    assert "entries_added specified in XSETID is smaller than the target stream length" in \
        err(r, "XSETID", "s", "6-0", "ENTRIESADDED", "0")
    assert "smaller than the provided max_deleted_entry_id" in \
        err(r, "XSETID", "s", "6-0", "ENTRIESADDED", "10", "MAXDELETEDID", "7-0")
    assert r.execute_command("XSETID", "s", "10-0", "ENTRIESADDED", "10",
                             "MAXDELETEDID", "3-0") == "OK"
    assert "equal or smaller" in err(r, "XADD", "s", "10-0", "f", "v")
    assert r.execute_command("XADD", "s", "10-*", "f", "v") == "10-1"


def test_type_generic_commands(r):
    r.execute_command("XADD", "s{t}", "1-0", "f", "v")
    assert r.copy("s{t}", "c{t}") is True
    r.execute_command("XADD", "s{t}", "2-0", "f", "v")
    assert r.xlen("c{t}") == 1 and r.xlen("s{t}") == 2
    assert r.rename("s{t}", "d{t}") is True
    assert r.xlen("d{t}") == 2
    assert r.memory_usage("d{t}") > 0
    assert r.expire("d{t}", 100) is True
    assert sorted(r.scan_iter(_type="stream")) == ["c{t}", "d{t}"]
    assert r.delete("d{t}", "c{t}") == 2
    assert r.eval("return redis.call('XADD', KEYS[1], '1-0', 'a', 'b')", 1, "e") == "1-0"
    assert r.eval("return redis.call('XRANGE', KEYS[1], '-', '+')", 1, "e") == \
        [["1-0", ["a", "b"]]]


def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEt")
    try:
        ps = r.pubsub()
        ps.psubscribe("__keyevent@0__:*")
        assert ps.get_message(timeout=2)["type"] == "psubscribe"
        r.execute_command("XADD", "s", "MAXLEN", "1", "1-0", "f", "v")
        r.execute_command("XADD", "s", "MAXLEN", "1", "2-0", "f", "v")
        r.execute_command("XDEL", "s", "2-0")
        r.execute_command("XSETID", "s", "5-0")
        r.execute_command("XGROUP", "CREATE", "s", "g", "$")
        r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "c")
        r.execute_command("XGROUP", "SETID", "s", "g", "0")
        r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "c")
        r.execute_command("XGROUP", "DESTROY", "s", "g")
        got = []
        deadline = time.time() + 5
        while len(got) < 10 and time.time() < deadline:
            m = ps.get_message(timeout=1)
            if m and m["type"] == "pmessage":
                got.append(m["channel"].split(":", 1)[1])
        assert got == ["xadd", "xadd", "xtrim", "xdel", "xsetid", "xgroup-create",
                       "xgroup-createconsumer", "xgroup-setid", "xgroup-delconsumer",
                       "xgroup-destroy"]
        ps.close()
    finally:
        r.config_set("notify-keyspace-events", "")


# ---------------------------------------------------------------- XREAD


def test_xread_immediate(r):
    r.execute_command("XADD", "a{x}", "1-0", "f", "1")
    r.execute_command("XADD", "a{x}", "2-0", "f", "2")
    r.execute_command("XADD", "b", "3-0", "f", "3")
    got = r.execute_command("XREAD", "COUNT", "1", "STREAMS", "a{x}", "b", "nope", "0", "0", "0")
    assert got == [["a{x}", [["1-0", ["f", "1"]]]], ["b", [["3-0", ["f", "3"]]]]]
    assert r.execute_command("XREAD", "STREAMS", "a{x}", "$") is None
    assert r.execute_command("XREAD", "COUNT", "-5", "STREAMS", "a{x}", "1") == \
        [["a{x}", [["2-0", ["f", "2"]]]]]
    assert "Unbalanced XREAD list of streams" in err(r, "XREAD", "STREAMS", "a{x}", "b", "0")
    assert "The > ID can be specified only when calling XREADGROUP" in \
        err(r, "XREAD", "STREAMS", "a{x}", ">")
    assert "syntax error" in err(r, "XREAD", "COUNT", "1", "a{x}", "0")
    assert BAD_ID in err(r, "XREAD", "STREAMS", "a{x}", "x-1")
    assert "timeout is negative" in err(r, "XREAD", "BLOCK", "-1", "STREAMS", "a{x}", "0")
    r.set("str", "x")
    assert "WRONGTYPE" in err(r, "XREAD", "STREAMS", "str", "0")
    # hostile ids and counts
    assert r.execute_command("XREAD", "STREAMS", "a{x}", MAXID) is None
    assert r.execute_command("XREAD", "COUNT", "9223372036854775807", "STREAMS", "a{x}",
                             "0") == [["a{x}", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]]]


def blocked(ctl):
    return int(ctl.info("clients")["blocked_clients"])


def wait_blocked(ctl, n):
    wait_for(lambda: blocked(ctl) == n, timeout=5.0 * LATENCY_SCALE)
    assert blocked(ctl) == n


@pytest.fixture
def connect(server):
    opened = []

    def f():
        rc = RawClient(server.host, server.port, timeout=30.0, decode=True)
        opened.append(rc)
        return rc

    yield f
    for rc in opened:
        rc.close()


def test_xread_block_served_by_other_connection(r, connect):
    keys = ["k%d" % i for i in range(8)]  # spread over the partitions
    for k in keys:
        r.execute_command("XADD", k, "1-0", "old", "x")
    rc = connect()
    rc.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", *keys, *(["$"] * len(keys))))
    wait_blocked(r, 1)
    r.execute_command("XADD", "k5", "2-0", "new", "y")
    assert rc.read_reply() == [["k5", [["2-0", ["new", "y"]]]]]
    wait_blocked(r, 0)
    # XDEL/XADD of an older entry does not serve a $ waiter; a newer one does
    rc.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "k1", "$"))
    wait_blocked(r, 1)
    r.execute_command("XDEL", "k1", "1-0")
    time.sleep(0.1)
    assert blocked(r) == 1
    r.execute_command("XADD", "k1", "3-0", "f", "v")
    assert rc.read_reply() == [["k1", [["3-0", ["f", "v"]]]]]


def test_xread_block_timeout_and_deleted_key(r, connect):
    assert r.execute_command("XREAD", "BLOCK", "50", "STREAMS", "nope", "$") is None
    rc = connect()
    r.execute_command("XADD", "s", "1-0", "f", "v")
    rc.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(r, 1)
    r.delete("s")
    r.set("s", "now a string")
    time.sleep(0.1)
    assert blocked(r) == 1  # XREAD waits for the key to be a stream again
    r.delete("s")
    r.execute_command("XADD", "s", "2-0", "f", "v")
    assert rc.read_reply() == [["s", [["2-0", ["f", "v"]]]]]


def test_xread_block_unblock_and_reset(r, connect):
    rc = connect()
    rc.send(encode_command("CLIENT", "ID"))
    cid = rc.read_reply()
    rc.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 1
    assert rc.read_reply() is None
    rc.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    with pytest.raises(Exception):
        v = rc.read_reply()
        if isinstance(v, Exception) or "UNBLOCKED" in str(v):
            raise Exception(str(v))
    # a blocked client that resets its connection
    rc2 = connect()
    rc2.send(encode_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(r, 1)
    rc2.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rc2.close()
    wait_blocked(r, 0)
    r.execute_command("XADD", "s", "*", "f", "v")
    assert r.ping()


def test_xread_in_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert p.execute() == [None]

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


# ---------------------------------------------------------------- consumer groups


def test_xgroup_errors_and_help(r):
    need = "requires the key to exist"
    assert need in err(r, "XGROUP", "CREATE", "s", "g", "$")
    assert r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == "OK"
    assert r.xlen("s") == 0
    assert "BUSYGROUP Consumer Group name already exists" in err(r, "XGROUP", "CREATE", "s", "g", "0")
    assert "ENTRIESREAD must be positive or -1" in \
        err(r, "XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-5")
    assert "unknown subcommand or wrong number of arguments for 'CREATE'" in \
        err(r, "XGROUP", "CREATE", "s", "g2", "0", "FOO")
    assert "NOGROUP No such consumer group 'nog' for key name 's'" in \
        err(r, "XGROUP", "SETID", "s", "nog", "0")
    assert r.execute_command("XGROUP", "DESTROY", "s", "nog") == 0
    assert r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "c") == 1
    assert r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "c") == 0
    assert r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "nobody") == 0
    assert "unknown subcommand 'FOO'. Try XGROUP HELP." in err(r, "XGROUP", "FOO")
    assert r.execute_command("XGROUP", "HELP")[0].startswith("XGROUP <subcommand>")
    assert r.execute_command("XGROUP", "SETID", "s", "g", "-") == "OK"
    r.set("str", "x")
    assert "WRONGTYPE" in err(r, "XGROUP", "CREATE", "str", "g", "0")


def test_xreadgroup_pel_ack_pending(r):
    for i in range(1, 6):
        r.execute_command("XADD", "s", "%d-0" % i, "f", str(i))
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    assert "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option" in \
        err(r, "XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">")
    assert "The $ ID is meaningless in the context of XREADGROUP" in \
        err(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$")
    got = r.execute_command("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    assert ids(got[0][1]) == ["1-0", "2-0"]
    got = r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">")
    assert ids(got[0][1]) == ["3-0", "4-0", "5-0"]
    assert r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">") is None
    # history: after the given id, not including it
    got = r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "3-0")
    assert ids(got[0][1]) == ["4-0", "5-0"]
    summary = r.execute_command("XPENDING", "s", "g")
    assert summary == [5, "1-0", "5-0", [["alice", "2"], ["bob", "3"]]]
    ext = r.execute_command("XPENDING", "s", "g", "-", "+", "10", "bob")
    assert [e[0] for e in ext] == ["3-0", "4-0", "5-0"]
    assert [e[3] for e in ext] == [1, 2, 2]  # the history read counted as a delivery
    assert [e[:2] for e in r.execute_command("XPENDING", "s", "g", "(1-0", "(3-0", "10")] == \
        [["2-0", "alice"]]
    assert r.execute_command("XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10") == []
    assert "syntax error" in err(r, "XPENDING", "s", "g", "-", "+")
    assert r.execute_command("XACK", "s", "g", "1-0", "2-0", "9-0") == 2
    assert r.execute_command("XACK", "s", "g", "1-0") == 0
    assert BAD_ID in err(r, "XACK", "s", "g", "3-0", "bad")
    assert r.execute_command("XPENDING", "s", "g")[0] == 3
    # deleted entries read back as nil in the history
    r.execute_command("XDEL", "s", "4-0")
    got = r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0")
    assert got[0][1][1] == ["4-0", None]
    assert r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "bob") == 3
    assert r.execute_command("XPENDING", "s", "g") == [0, None, None, None]
    # NOACK delivers without a PEL entry
    r.execute_command("XGROUP", "SETID", "s", "g", "0")
    got = r.execute_command("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">")
    assert len(got[0][1]) == 4
    assert r.execute_command("XPENDING", "s", "g")[0] == 0


def test_xclaim_xautoclaim(r):
    for i in range(1, 5):
        r.execute_command("XADD", "s", "%d-0" % i, "f", str(i))
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert "Invalid min-idle-time argument for XCLAIM" in err(r, "XCLAIM", "s", "g", "b", "x", "1-0")
    assert "Unrecognized XCLAIM option 'FOO'" in err(r, "XCLAIM", "s", "g", "b", "0", "1-0", "FOO")
    assert "NOGROUP No such key 's' or consumer group 'nog'" in \
        err(r, "XCLAIM", "s", "nog", "b", "0", "1-0")
    # min-idle not reached: nothing
    assert r.execute_command("XCLAIM", "s", "g", "b", "100000", "1-0") == []
    got = r.execute_command("XCLAIM", "s", "g", "b", "0", "1-0", "2-0", "RETRYCOUNT", "7")
    assert got == [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]
    assert r.execute_command("XPENDING", "s", "g", "-", "+", "10", "b")[0][3] == 7
    assert r.execute_command("XCLAIM", "s", "g", "c", "0", "1-0", "JUSTID") == ["1-0"]
    assert r.execute_command("XPENDING", "s", "g", "1-0", "1-0", "1")[0][3] == 7
    # a deleted entry leaves the PEL when claimed
    r.execute_command("XDEL", "s", "2-0")
    assert r.execute_command("XCLAIM", "s", "g", "c", "0", "2-0") == []
    assert r.execute_command("XPENDING", "s", "g")[0] == 3
    r.execute_command("XDEL", "s", "3-0")
    assert "COUNT must be > 0" in err(r, "XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0")
    assert "COUNT must be > 0" in \
        err(r, "XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "8070450532247928833")
    got = r.execute_command("XAUTOCLAIM", "s", "g", "d", "0", "0", "COUNT", "1")
    assert got == ["3-0", [["1-0", ["f", "1"]]], []]
    got = r.execute_command("XAUTOCLAIM", "s", "g", "d", "0", got[0], "JUSTID")
    assert got == ["0-0", ["4-0"], ["3-0"]]
    # FORCE creates a PEL entry for an entry nobody read
    r.execute_command("XADD", "s", "5-0", "f", "5")
    assert r.execute_command("XCLAIM", "s", "g", "e", "0", "5-0", "FORCE", "JUSTID",
                             "LASTID", "5-0") == ["5-0"]
    assert r.execute_command("XREADGROUP", "GROUP", "g", "e", "STREAMS", "s", ">") is None


def test_xinfo(r):
    for i in range(1, 4):
        r.execute_command("XADD", "s", "%d-0" % i, "f", str(i))
    r.execute_command("XDEL", "s", "2-0")
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
    info = r.execute_command("XINFO", "STREAM", "s")
    assert info[0::2] == ["length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
                          "max-deleted-entry-id", "entries-added", "recorded-first-entry-id",
                          "groups", "first-entry", "last-entry"]
    d = dict(zip(info[0::2], info[1::2]))
    assert d["length"] == 2 and d["last-generated-id"] == "3-0"
    assert d["max-deleted-entry-id"] == "2-0" and d["entries-added"] == 3
    assert d["recorded-first-entry-id"] == "1-0" and d["groups"] == 1
    assert d["first-entry"] == ["1-0", ["f", "1"]] and d["last-entry"] == ["3-0", ["f", "3"]]
    groups = r.execute_command("XINFO", "GROUPS", "s")
    assert groups == [["name", "g", "consumers", 1, "pending", 1, "last-delivered-id", "1-0",
                       "entries-read", None, "lag", None]]  # a deletion after it: unknown
    cons = r.execute_command("XINFO", "CONSUMERS", "s", "g")
    assert cons[0][0::2] == ["name", "pending", "idle"] and cons[0][1] == "c"
    full = r.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    assert full[0::2] == ["length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
                          "max-deleted-entry-id", "entries-added", "recorded-first-entry-id",
                          "entries", "groups"]
    g = full[17][0]
    assert g[0::2] == ["name", "last-delivered-id", "entries-read", "lag", "pel-count",
                       "pending", "consumers"]
    assert g[13][0][0::2] == ["name", "seen-time", "pel-count", "pending"]
    assert len(full[15]) == 1
    assert "no such key" in err(r, "XINFO", "STREAM", "nope")
    assert "NOGROUP No such consumer group 'x' for key name 's'" in \
        err(r, "XINFO", "CONSUMERS", "s", "x")
    assert "unknown subcommand 'FOO'. Try XINFO HELP." in err(r, "XINFO", "FOO")
    assert r.execute_command("XINFO", "HELP")[0].startswith("XINFO <subcommand>")


def test_lag_and_entries_read(r):
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    for i in range(1, 6):
        r.execute_command("XADD", "s", "%d-0" % i, "f", "v")
    r.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
    g = r.execute_command("XINFO", "GROUPS", "s")[0]
    assert g[g.index("entries-read") + 1] == 2 and g[g.index("lag") + 1] == 3
    r.execute_command("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0")
    g = r.execute_command("XINFO", "GROUPS", "s")[0]
    assert g[g.index("lag") + 1] == 5


def test_xreadgroup_block_across_workers(r, connect):
    keys = ["q%d" % i for i in range(6)]
    for k in keys:
        r.execute_command("XGROUP", "CREATE", k, "g", "$", "MKSTREAM")
    a, b = connect(), connect()
    a.send(encode_command("XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", *keys,
                          *([">"] * len(keys))))
    wait_blocked(r, 1)
    b.send(encode_command("XREADGROUP", "NOACK", "COUNT", "5", "BLOCK", "0", "GROUP", "g", "b",
                          "STREAMS", "q3", ">"))
    wait_blocked(r, 2)
    r.execute_command("XADD", "q3", "1-0", "job", "1")
    # one entry: exactly one of the two consumers gets it, the other stays blocked
    wait_blocked(r, 1)
    r.execute_command("XADD", "q3", "2-0", "job", "2")
    got = sorted([a.read_reply(), b.read_reply()], key=str)
    assert got == [[["q3", [["1-0", ["job", "1"]]]]], [["q3", [["2-0", ["job", "2"]]]]]]
    assert r.execute_command("XPENDING", "q3", "g")[0] == 1  # b reads with NOACK
    # a deleted key and a destroyed group end the wait with Redis's errors
    a.send(encode_command("XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "q1", ">"))
    b.send(encode_command("XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "q2", ">"))
    wait_blocked(r, 2)
    r.delete("q1")
    r.execute_command("XGROUP", "DESTROY", "q2", "g")
    with pytest.raises(Exception, match="UNBLOCKED the stream key no longer exists"):
        v = a.read_reply()
        raise Exception(str(v))
    with pytest.raises(Exception, match="NOGROUP"):
        v = b.read_reply()
        raise Exception(str(v))


def test_xreadgroup_blocked_client_resets(r, connect):
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    rc = connect()
    rc.send(encode_command("XREADGROUP", "GROUP", "g", "gone", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(r, 1)
    rc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rc.close()
    wait_blocked(r, 0)
    r.execute_command("XADD", "s", "1-0", "f", "v")
    # the entry was not delivered to the gone client: a new reader gets it
    got = r.execute_command("XREADGROUP", "GROUP", "g", "next", "STREAMS", "s", ">")
    assert ids(got[0][1]) == ["1-0"]


# ---------------------------------------------------------------- abuse and limits


def test_hostile_arguments(r):
    r.execute_command("XADD", "s", "1-0", "f", "v")
    assert r.execute_command("XRANGE", "s", MAXID, "+") == []
    assert r.execute_command("XREVRANGE", "s", "+", "-", "COUNT", "9223372036854775807") == \
        [["1-0", ["f", "v"]]]
    assert "not an integer" in err(r, "XRANGE", "s", "-", "+", "COUNT", "18446744073709551616")
    assert BAD_ID in err(r, "XRANGE", "s", "-1", "+")
    assert BAD_ID in err(r, "XADD", "s", "1-18446744073709551616", "f", "v")
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "9223372036854775807") == 0
    assert r.execute_command("XTRIM", "s", "MINID", MAXID) == 1
    assert r.execute_command("XDEL", "s", MAXID) == 0
    assert r.execute_command("XSETID", "s", MAXID) == "OK"
    assert "exhausted" in err(r, "XADD", "s", "*", "f", "v")
    r.execute_command("XGROUP", "CREATE", "s", "g", MAXID)
    assert r.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "9223372036854775807",
                             "STREAMS", "s", ">") is None
    assert r.execute_command("XPENDING", "s", "g", "-", "+", "9223372036854775807") == []
    assert r.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "9223372036854775807")[1] == 0


def test_big_reply_and_many_fields(r):
    """Many fields in one entry, and a large XRANGE: replies are whole."""
    fields = []
    for i in range(2000):
        fields += ["f%d" % i, "v" * 50]
    r.execute_command("XADD", "s", "1-0", *fields)
    got = r.execute_command("XRANGE", "s", "-", "+")
    assert len(got[0][1]) == 4000 and got[0][1][-2] == "f1999"
    pipe = r.pipeline(transaction=False)
    for i in range(2, 20002):
        pipe.execute_command("XADD", "s", "%d-0" % i, "a", "b")
    pipe.execute()
    assert len(r.execute_command("XRANGE", "s", "-", "+")) == 20001
    assert len(r.execute_command("XREVRANGE", "s", "+", "-", "COUNT", "5")) == 5


def test_tracking_invalidates_on_xadd(r, connect):
    t = connect()
    t.send(encode_command("HELLO", "3"))
    t.read_reply()
    t.send(encode_command("CLIENT", "TRACKING", "ON"))
    assert str(t.read_reply()) in ("OK", "Status('OK')")
    t.send(encode_command("XRANGE", "s", "-", "+"))
    assert t.read_reply() == []
    w = connect()
    w.send(encode_command("XADD", "s", "1-0", "f", "v"))
    assert w.read_reply() == "1-0"
    m = t.read_reply()
    assert m[0] == "invalidate" and m[1] == ["s"]


@pytest.mark.parametrize("how", ["set", "multi", "flushall"])
def test_blocked_xreadgroup_key_replaced(r, connect, how):
    r.execute_command("XADD", "s", "1-0", "f", "v")
    r.execute_command("XGROUP", "CREATE", "s", "g", "$")
    rc = connect()
    rc.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(r, 1)
    if how == "set":
        r.set("s", "x")
    elif how == "multi":
        p = r.pipeline(transaction=True)
        p.delete("s")
        p.sadd("s", "e")
        p.execute()
    else:
        r.flushall()
    with pytest.raises(Exception, match="no longer exists"):
        v = rc.read_reply()
        raise Exception(str(v))
    wait_blocked(r, 0)


def test_late_error_counted(r, connect):
    """A blocked XREADGROUP answered NOGROUP later counts as a failed call and
    in errorstats, as Redis's."""
    r.config_resetstat()
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    rc = connect()
    rc.send(encode_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(r, 1)
    r.execute_command("XGROUP", "DESTROY", "s", "g")
    with pytest.raises(Exception, match="NOGROUP"):
        v = rc.read_reply()
        raise Exception(str(v))
    line = [x for x in r.info("commandstats").items() if x[0] == "cmdstat_xreadgroup"][0][1]
    fields = line if isinstance(line, dict) else dict(
        kv.split("=") for kv in str(line).split(","))
    assert int(fields["calls"]) == 1 and int(fields["failed_calls"]) == 1
    es = r.info("errorstats")["errorstat_NOGROUP"]
    assert int(es["count"] if isinstance(es, dict) else str(es).split("=")[1]) == 1


def test_consumer_created_when_served_only(r):
    r.execute_command("XADD", "q", "1-0", "a", "b")
    r.execute_command("XGROUP", "CREATE", "q", "g", "$")
    r.execute_command("XAUTOCLAIM", "q", "g", "auto", "0", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "idle", "STREAMS", "q", ">")
    r.execute_command("XREADGROUP", "GROUP", "g", "timed", "BLOCK", "10", "STREAMS", "q", ">")
    r.execute_command("XREADGROUP", "GROUP", "g", "hist", "STREAMS", "q", "0")
    names = [c[1] for c in r.execute_command("XINFO", "CONSUMERS", "q", "g")]
    assert names == ["hist"]


def test_lag_after_deletions_before_first_entry(r):
    """Deletions that all lie before the first entry leave entries-read exact."""
    for i in range(1, 11):
        r.execute_command("XADD", "s", "%d-0" % i, "f", "v")
    r.execute_command("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "0")
    r.execute_command("XDEL", "s", "1-0", "2-0")
    g = r.execute_command("XINFO", "GROUPS", "s")[0]
    assert g[g.index("lag") + 1] == 10

"""Blocking commands, under every policy with 2 and 4 workers: BLPOP BRPOP
BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP, CLIENT UNBLOCK and INFO's
blocked_clients, against Redis 7.0's replies: immediate answers, timeouts,
FIFO service, every pushed element delivered exactly once (no loss, no
duplicate) with waiters and pushers on different workers, keys in several
partitions, MULTI/EXEC and EVAL (no blocking there), disconnects and RESET
of blocked clients, and abuse: clients resetting while blocked, a client
blocking on many keys.

Blocked clients are raw connections (RawClient): the test sends the command,
waits until INFO shows it blocked, acts from another connection, then reads
the reply."""

import socket
import struct
import threading
import time

import pytest

from conftest import (LATENCY_SCALE, OK, TARGET, WRONGTYPE, Err, RawClient, Status,
                      encode_command, parse_info, wait_for)
from test_pubsub import Placer

UNBLOCKED = Err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
NEG = Err("ERR timeout is negative")
NOT_FLOAT = Err("ERR timeout is not a float or out of range")


def blocked(cli):
    return int(parse_info(cli.info_text("clients"))["blocked_clients"])


class Ctl(RawClient):
    def info_text(self, section):
        v = self.cmd("INFO", section)
        return v.decode() if isinstance(v, bytes) else v


@pytest.fixture
def ctl(server, r):
    c = Ctl(server.host, server.port)
    c.cmd("PING")  # accepted (and counted: Placer reads the counts) by now
    yield c
    c.close()


@pytest.fixture
def connect(server):
    opened = []

    def f(decode=False, timeout=30.0):
        rc = RawClient(server.host, server.port, timeout=timeout, decode=decode)
        opened.append(rc)
        return rc

    yield f
    for rc in opened:
        rc.close()


def wait_blocked(ctl, n, timeout=5.0):
    got = wait_for(lambda: blocked(ctl) == n, timeout=timeout * LATENCY_SCALE)
    assert blocked(ctl) == n
    return got


def block(ctl, rc, *args, expect=None):
    """Send a blocking command on rc and wait until the server counts it."""
    before = blocked(ctl) if expect is None else expect - 1
    rc.send(encode_command(*args))
    wait_blocked(ctl, before + 1)


def rst(rc):
    """Close with a TCP reset (SO_LINGER 0)."""
    rc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rc.close()


# ---------------------------------------------------------------- immediate answers


def test_immediate_answers(ctl):
    ctl.cmd("RPUSH", "l", "a", "b", "c")
    assert ctl.cmd("BLPOP", "nope", "l", 0) == [b"l", b"a"]
    assert ctl.cmd("BRPOP", "l", "nope", 0) == [b"l", b"c"]
    assert ctl.cmd("BRPOPLPUSH", "l", "d", 0) == b"b"
    assert ctl.cmd("BLMOVE", "d", "l", "LEFT", "RIGHT", 0) == b"b"
    ctl.cmd("RPUSH", "l", "x", "y")
    assert ctl.cmd("BLMPOP", 0, 2, "nope", "l", "LEFT", "COUNT", 2) == [b"l", [b"b", b"x"]]
    assert ctl.cmd("BLMPOP", 0, 1, "l", "RIGHT") == [b"l", [b"y"]]
    ctl.cmd("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert ctl.cmd("BZPOPMIN", "nope", "z", 0) == [b"z", b"a", b"1"]
    assert ctl.cmd("BZPOPMAX", "z", 0) == [b"z", b"d", b"4"]
    assert ctl.cmd("BZMPOP", 0, 1, "z", "MIN", "COUNT", 5) == [b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert ctl.cmd("EXISTS", "l", "z", "d") == 0


def test_immediate_resp3(ctl):
    ctl.cmd("HELLO", 3)
    ctl.cmd("ZADD", "z", 1.5, "a")
    got = ctl.cmd("BZPOPMIN", "z", 0)
    assert got[0] == b"z" and got[1] == b"a" and got[2].s == "1.5"
    assert ctl.cmd("BLPOP", "l", 0.01) is None
    assert ctl.cmd("BLMOVE", "l", "m", "LEFT", "LEFT", 0.01) is None


# ---------------------------------------------------------------- timeouts and errors


def test_timeout_fractional(ctl, connect):
    rc = connect()
    t0 = time.monotonic()
    assert rc.cmd("BLPOP", "l", 0.15) is None
    took = time.monotonic() - t0
    assert 0.12 <= took < 2.0 * LATENCY_SCALE, took
    # a null array, BLMOVE's and BRPOPLPUSH's too (Redis 7.0; not blocking,
    # inside MULTI, they answer a null bulk)
    rc.send(encode_command("BRPOP", "l", 0.05))
    assert rc.read_line() == b"*-1"
    rc.send(encode_command("BZPOPMAX", "z", 0.05))
    assert rc.read_line() == b"*-1"
    rc.send(encode_command("BLMPOP", 0.05, 1, "l", "LEFT"))
    assert rc.read_line() == b"*-1"
    rc.send(encode_command("BZMPOP", 0.05, 1, "z", "MAX"))
    assert rc.read_line() == b"*-1"
    rc.send(encode_command("BRPOPLPUSH", "l", "d", 0.05))
    assert rc.read_line() == b"*-1"
    rc.send(encode_command("BLMOVE", "l", "d", "RIGHT", "LEFT", 0.05))
    assert rc.read_line() == b"*-1"
    rc.send(b"".join(encode_command(*a) for a in (("MULTI",), ("BLMOVE", "l", "d", "LEFT", "LEFT", 0),
                                                  ("BLPOP", "l", 0), ("EXEC",))))
    assert [rc.read_line() for _ in range(6)] == [b"+OK", b"+QUEUED", b"+QUEUED", b"*2", b"$-1",
                                                 b"*-1"]
    rc.cmd("HELLO", 3)
    rc.send(encode_command("BLPOP", "l", 0.05))
    assert rc.read_line() == b"_"
    rc.send(encode_command("BLMOVE", "l", "d", "RIGHT", "LEFT", 0.05))
    assert rc.read_line() == b"_"
    assert blocked(ctl) == 0


def test_timeout_errors(ctl):
    for bad, err in (("-1", NEG), ("-0.5", NEG), ("abc", NOT_FLOAT), ("", NOT_FLOAT),
                     ("inf", NEG), ("1e300", NEG), ("nan", NOT_FLOAT)):
        assert ctl.cmd("BLPOP", "l", bad) == err, bad
        assert ctl.cmd("BRPOP", "l", bad) == err, bad
        assert ctl.cmd("BZPOPMIN", "l", bad) == err, bad
        assert ctl.cmd("BRPOPLPUSH", "l", "d", bad) == err, bad
        assert ctl.cmd("BLMOVE", "l", "d", "LEFT", "LEFT", bad) == err, bad
        assert ctl.cmd("BLMPOP", bad, 1, "l", "LEFT") == err, bad
        assert ctl.cmd("BZMPOP", bad, 1, "l", "MIN") == err, bad
    # the syntax before the timeout, as Redis 7.0
    assert ctl.cmd("BLMPOP", -1, 1, "l", "LEFT", "COUNT", 0) == \
        Err("ERR count should be greater than 0")
    assert ctl.cmd("BLMPOP", -1, 0, "l", "LEFT") == Err("ERR numkeys should be greater than 0")
    assert ctl.cmd("BZMPOP", -1, 1, "l", "UP") == Err("ERR syntax error")
    assert ctl.cmd("BLMOVE", "l", "d", "UP", "LEFT", -1) == Err("ERR syntax error")
    assert ctl.cmd("BLPOP", "l") == Err("ERR wrong number of arguments for 'blpop' command")
    assert ctl.cmd("BLMPOP", 0, 1, "l") == Err("ERR wrong number of arguments for 'blmpop' command")


def test_wrongtype(ctl, connect):
    ctl.cmd("SET", "s", "v")
    ctl.cmd("RPUSH", "l", "a")
    assert ctl.cmd("BLPOP", "nope", "s", "l", 0) == WRONGTYPE
    assert ctl.cmd("BZPOPMIN", "l", 0) == WRONGTYPE
    assert ctl.cmd("BLMPOP", 0, 2, "s", "l", "LEFT") == WRONGTYPE
    assert ctl.cmd("BZMPOP", 0, 1, "l", "MIN") == WRONGTYPE
    assert ctl.cmd("BLMOVE", "s", "l", "LEFT", "LEFT", 0) == WRONGTYPE
    assert ctl.cmd("BLMOVE", "l", "s", "LEFT", "LEFT", 0) == WRONGTYPE
    assert ctl.cmd("LRANGE", "l", 0, -1) == [b"a"]
    # a key before the one with a value answers first
    assert ctl.cmd("BLPOP", "l", "s", 0) == [b"l", b"a"]


@pytest.mark.parametrize("dst", ["dst", "{src}dst"])
def test_blmove_served_into_wrong_type(ctl, connect, dst):
    """Redis 7.0 checks the destination when serving: WRONGTYPE for the
    blocked client, the element stays in the source."""
    rc = connect()
    block(ctl, rc, "BLMOVE", "src", dst, "LEFT", "RIGHT", 0)
    ctl.cmd("SET", dst, "x")
    assert ctl.cmd("RPUSH", "src", "e1") == 1
    assert rc.read_reply() == WRONGTYPE
    wait_blocked(ctl, 0)
    assert ctl.cmd("LRANGE", "src", 0, -1) == [b"e1"]


def test_wrong_type_waiter_then_next_waiter(ctl, connect):
    """Redis's "BRPOPLPUSH with multiple blocked clients": the first waiter's
    destination is a string, so it gets WRONGTYPE and the element goes on to
    the second waiter."""
    rc1, rc2 = connect(), connect()
    ctl.cmd("SET", "{b}t1", "nolist")
    block(ctl, rc1, "BRPOPLPUSH", "{b}l", "{b}t1", 0)
    block(ctl, rc2, "BRPOPLPUSH", "{b}l", "{b}t2", 0, expect=2)
    assert ctl.cmd("LPUSH", "{b}l", "foo") == 1
    assert rc1.read_reply() == WRONGTYPE
    assert rc2.read_reply() == b"foo"
    assert ctl.cmd("LRANGE", "{b}t2", 0, -1) == [b"foo"]
    assert ctl.cmd("EXISTS", "{b}l") == 0


# A script that keeps its worker's loop busy for about 300 ms (under the busy
# threshold, so nothing else runs meanwhile).
STALL = """local t = redis.call('TIME')
local deadline = t[1] * 1000000 + t[2] + 300000
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= deadline
return 1"""


@pytest.mark.percore_only
@pytest.mark.parametrize("policy", ["share-nothing", "shared-locks", "work-stealing"])
def test_one_worker_serves_in_arrival_order(server_factory, policy):
    """Commands that one poll reports together are served in the order they
    arrived, as Redis does (libev alone would call the last first: see
    server/worker.c dispatch_ready). While a script holds the only worker, two
    clients send BRPOPLPUSH and a third LPUSH, 50 ms apart; all three are read
    in one poll after it, and the first one sent must be served first."""
    srv = server_factory(policy=policy, threads=1)
    ctl = Ctl(srv.host, srv.port)
    ctl.cmd("SET", "t1", "nolist")
    staller, rc1, rc2, pusher = (RawClient(srv.host, srv.port) for _ in range(4))
    for c in (staller, rc1, rc2, pusher):
        assert c.cmd("PING") == Status("PONG")
    staller.send(encode_command("EVAL", STALL, 0))
    time.sleep(0.05)
    rc1.send(encode_command("BRPOPLPUSH", "l", "t1", 0))
    time.sleep(0.05)
    rc2.send(encode_command("BRPOPLPUSH", "l", "t2", 0))
    time.sleep(0.05)
    pusher.send(encode_command("LPUSH", "l", "foo"))
    assert staller.read_reply() == 1
    assert pusher.read_reply() == 1
    assert rc1.read_reply() == WRONGTYPE
    assert rc2.read_reply() == b"foo"
    assert ctl.cmd("LRANGE", "t2", 0, -1) == [b"foo"]
    for c in (staller, rc1, rc2, pusher, ctl):
        c.close()


# ---------------------------------------------------------------- wake-ups


def test_push_wakes_waiter(ctl, connect):
    rc = connect()
    block(ctl, rc, "BLPOP", "l", 0)
    assert ctl.cmd("RPUSH", "l", "v") == 1
    assert rc.read_reply() == [b"l", b"v"]
    wait_blocked(ctl, 0)
    assert ctl.cmd("EXISTS", "l") == 0
    # BRPOP, from a push of several: the tail
    block(ctl, rc, "BRPOP", "l", 0)
    ctl.cmd("RPUSH", "l", "a", "b")
    assert rc.read_reply() == [b"l", b"b"]
    assert ctl.cmd("LRANGE", "l", 0, -1) == [b"a"]


def test_pipelined_commands_wait(ctl, connect):
    rc = connect()
    rc.send(encode_command("BLPOP", "l", 0) + encode_command("PING") +
            encode_command("GET", "k"))
    wait_blocked(ctl, 1)
    ctl.cmd("SET", "k", "later")
    rc.sock.settimeout(0.2)
    with pytest.raises(socket.timeout):
        rc.read_line()
    rc.sock.settimeout(30)
    ctl.cmd("LPUSH", "l", "x")
    assert rc.read_reply() == [b"l", b"x"]
    assert rc.read_reply() == Status("PONG")
    assert rc.read_reply() == b"later"


def test_fifo_three_waiters(ctl, connect):
    rcs = [connect() for _ in range(3)]
    for i, rc in enumerate(rcs):
        block(ctl, rc, "BLPOP", "l", 0, expect=i + 1)
    ctl.cmd("RPUSH", "l", "x1")
    assert rcs[0].read_reply() == [b"l", b"x1"]
    wait_blocked(ctl, 2)
    # one push of two elements: the first two waiters in order
    block(ctl, rcs[0], "BLPOP", "l", 0, expect=3)
    ctl.cmd("RPUSH", "l", "x2", "x3")
    assert rcs[1].read_reply() == [b"l", b"x2"]
    assert rcs[2].read_reply() == [b"l", b"x3"]
    wait_blocked(ctl, 1)
    ctl.cmd("RPUSH", "l", "x4")
    assert rcs[0].read_reply() == [b"l", b"x4"]


def test_served_once_across_keys(ctl, connect):
    """A waiter on keys of many partitions is served once: a second push
    stays in its list."""
    keys = ["k%d" % i for i in range(12)]
    rc = connect()
    block(ctl, rc, "BLPOP", *keys, 0)
    ctl.cmd("RPUSH", "k7", "a")
    assert rc.read_reply() == [b"k7", b"a"]
    ctl.cmd("RPUSH", "k3", "b")
    ctl.cmd("RPUSH", "k7", "c")
    wait_blocked(ctl, 0)
    assert ctl.cmd("LRANGE", "k3", 0, -1) == [b"b"]
    assert ctl.cmd("LRANGE", "k7", 0, -1) == [b"c"]


def test_multi_serves_first_signalled_key(ctl, connect):
    rc = connect()
    block(ctl, rc, "BLPOP", "a", "b", 0)
    assert ctl.pipeline(("MULTI",), ("RPUSH", "b", "x"), ("RPUSH", "a", "y"), ("EXEC",)) == \
        [OK, Status("QUEUED"), Status("QUEUED"), [1, 1]]
    assert rc.read_reply() == [b"b", b"x"]
    assert ctl.cmd("LRANGE", "a", 0, -1) == [b"y"]
    assert ctl.cmd("EXISTS", "b") == 0


def test_multi_push_then_pop_keeps_element_in_block(ctl, connect):
    """EXEC serves waiters after its last command, as Redis: a pop inside the
    block takes the element first."""
    rc = connect()
    block(ctl, rc, "BLPOP", "l", 0.5)
    assert ctl.pipeline(("MULTI",), ("RPUSH", "l", "x"), ("LPOP", "l"), ("EXEC",))[-1] == [1, b"x"]
    assert rc.read_reply() is None


def test_blmove_across_partitions(ctl, connect):
    rc = connect()
    for src, dst in (("src", "dst"), ("{t}a", "{t}b"), ("lst1", "lst2")):
        block(ctl, rc, "BLMOVE", src, dst, "LEFT", "RIGHT", 0)
        ctl.cmd("RPUSH", src, "e")
        assert rc.read_reply() == b"e"
        assert ctl.cmd("LRANGE", dst, 0, -1) == [b"e"]
        assert ctl.cmd("EXISTS", src) == 0
    block(ctl, rc, "BRPOPLPUSH", "q", "done", 0)
    ctl.cmd("RPUSH", "q", "j1", "j2")
    assert rc.read_reply() == b"j2"
    assert ctl.cmd("LRANGE", "done", 0, -1) == [b"j2"]
    assert ctl.cmd("LRANGE", "q", 0, -1) == [b"j1"]


def test_blmove_chain(ctl, connect):
    """An element moved by a served BLMOVE serves a waiter on its destination."""
    a, b = connect(), connect()
    block(ctl, b, "BLPOP", "stage2", 0)
    block(ctl, a, "BLMOVE", "stage1", "stage2", "LEFT", "LEFT", 0)
    ctl.cmd("RPUSH", "stage1", "job")
    assert a.read_reply() == b"job"
    assert b.read_reply() == [b"stage2", b"job"]
    wait_blocked(ctl, 0)
    assert ctl.cmd("EXISTS", "stage1", "stage2") == 0


def test_zset_and_mpop_wakeups(ctl, connect):
    rc = connect()
    block(ctl, rc, "BZPOPMIN", "z1", "z2", 0)
    ctl.cmd("ZADD", "z2", 3, "c", 1, "a")
    assert rc.read_reply() == [b"z2", b"a", b"1"]
    block(ctl, rc, "BZPOPMAX", "z3", 0)
    ctl.cmd("ZADD", "z3", 5, "x", 7, "y")
    assert rc.read_reply() == [b"z3", b"y", b"7"]
    block(ctl, rc, "BZMPOP", 0, 2, "z4", "z5", "MIN", "COUNT", 2)
    ctl.cmd("ZADD", "z5", 1, "p", 2, "q", 3, "r")
    assert rc.read_reply() == [b"z5", [[b"p", b"1"], [b"q", b"2"]]]
    block(ctl, rc, "BLMPOP", 0, 2, "l1", "l2", "RIGHT", "COUNT", 3)
    ctl.cmd("RPUSH", "l2", "a", "b")
    assert rc.read_reply() == [b"l2", [b"b", b"a"]]
    # ZINCRBY creating the key, and a STORE destination, wake waiters too
    block(ctl, rc, "BZPOPMIN", "z6", 0)
    ctl.cmd("ZINCRBY", "z6", 2, "m")
    assert rc.read_reply() == [b"z6", b"m", b"2"]
    block(ctl, rc, "BZPOPMAX", "{z}dst", 0)
    ctl.cmd("ZADD", "{z}1", 1, "u")
    ctl.cmd("ZUNIONSTORE", "{z}dst", 1, "{z}1")
    assert rc.read_reply() == [b"{z}dst", b"u", b"1"]
    wait_blocked(ctl, 0)


def test_other_writes_wake(ctl, connect):
    rc = connect()
    block(ctl, rc, "BLPOP", "l", 0)
    ctl.cmd("RPUSH", "tmp", "r")
    ctl.cmd("RENAME", "tmp", "l")
    assert rc.read_reply() == [b"l", b"r"]
    block(ctl, rc, "BLPOP", "l", 0)
    ctl.cmd("RPUSH", "o", "m")
    ctl.cmd("LMOVE", "o", "l", "LEFT", "LEFT")
    assert rc.read_reply() == [b"l", b"m"]
    block(ctl, rc, "BLPOP", "l", 0)
    assert ctl.cmd("EVAL", "return redis.call('rpush', KEYS[1], 'e')", 1, "l") == 1
    assert rc.read_reply() == [b"l", b"e"]
    # a key of another type stays: the waiter keeps waiting (Redis 7.0)
    block(ctl, rc, "BLPOP", "l", 0)
    ctl.cmd("SET", "l", "str")
    ctl.cmd("DEL", "l")
    ctl.cmd("LPUSH", "l", "last")
    assert rc.read_reply() == [b"l", b"last"]


# ---------------------------------------------------------------- no blocking here


def test_multi_and_eval_do_not_block(ctl):
    assert ctl.pipeline(("MULTI",), ("BLPOP", "l", 0), ("BRPOPLPUSH", "l", "d", 0),
                        ("BZPOPMIN", "z", 0), ("BLMPOP", 0, 1, "l", "LEFT"), ("EXEC",))[-1] == \
        [None, None, None, None]
    assert ctl.cmd("EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "l") is None
    assert ctl.cmd("EVAL", "return redis.call('bzmpop', 0, 1, KEYS[1], 'min')", 1, "z") is None
    ctl.cmd("RPUSH", "l", "v")
    assert ctl.cmd("EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "l") == \
        [b"l", [b"v"]]
    got = ctl.cmd("EVAL", "return redis.call('blpop', KEYS[1], 0)", 1, "l")
    assert isinstance(got, Err) and "This Redis command is not allowed from script" in got.msg
    assert blocked(ctl) == 0


# ---------------------------------------------------------------- CLIENT UNBLOCK


def test_client_unblock(ctl, connect):
    rc = connect()
    cid = rc.cmd("CLIENT", "ID")
    assert ctl.cmd("CLIENT", "UNBLOCK", cid) == 0
    block(ctl, rc, "BLPOP", "l", 0)
    assert ctl.cmd("CLIENT", "UNBLOCK", cid) == 1
    assert rc.read_reply() is None
    block(ctl, rc, "BLMOVE", "l", "d", "LEFT", "LEFT", 0)
    assert ctl.cmd("CLIENT", "UNBLOCK", cid, "TIMEOUT") == 1
    assert rc.read_line() == b"*-1"
    block(ctl, rc, "BZPOPMIN", "z", 0)
    assert ctl.cmd("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert rc.read_reply() == UNBLOCKED
    wait_blocked(ctl, 0)
    assert ctl.cmd("CLIENT", "UNBLOCK", cid, "ERROR") == 0
    assert ctl.cmd("CLIENT", "UNBLOCK", cid, "FOO") == \
        Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    assert ctl.cmd("CLIENT", "UNBLOCK", "abc") == Err("ERR value is not an integer or out of range")
    # the unblocked waits are gone: a push stays in the list
    ctl.cmd("RPUSH", "l", "v")
    assert ctl.cmd("LRANGE", "l", 0, -1) == [b"v"]
    assert rc.cmd("PING") == Status("PONG")


# ---------------------------------------------------------------- disconnect, RESET, INFO


def test_disconnect_while_blocked(ctl, connect):
    rcs = [connect() for _ in range(3)]
    for i, rc in enumerate(rcs):
        block(ctl, rc, "BLPOP", "l", "other", 0, expect=i + 1)
    rcs[0].close()
    rst(rcs[1])
    wait_blocked(ctl, 1)
    ctl.cmd("RPUSH", "l", "a", "b")
    assert rcs[2].read_reply() == [b"l", b"a"]
    assert ctl.cmd("LRANGE", "l", 0, -1) == [b"b"]
    wait_blocked(ctl, 0)
    ctl.cmd("RPUSH", "other", "c")
    assert ctl.cmd("LRANGE", "other", 0, -1) == [b"c"]


def test_reset_while_blocked(ctl, connect):
    """RESET after a blocking command waits for it, as any command; then it
    clears the connection and nothing of the block remains."""
    rc = connect()
    rc.send(encode_command("BLPOP", "l", 0) + encode_command("RESET"))
    wait_blocked(ctl, 1)
    time.sleep(0.1)
    assert blocked(ctl) == 1
    ctl.cmd("RPUSH", "l", "a")
    assert rc.read_reply() == [b"l", b"a"]
    assert rc.read_reply() == Status("RESET")
    wait_blocked(ctl, 0)
    ctl.cmd("RPUSH", "l", "b")
    assert ctl.cmd("LRANGE", "l", 0, -1) == [b"b"]


def test_blocked_clients_info(ctl, connect):
    assert blocked(ctl) == 0
    rcs = [connect() for _ in range(3)]
    block(ctl, rcs[0], "BLPOP", "l", 0, expect=1)
    block(ctl, rcs[1], "BZPOPMIN", "z", 0, expect=2)
    block(ctl, rcs[2], "BLMOVE", "l", "m", "LEFT", "LEFT", 0.2, expect=3)
    assert rcs[2].read_reply() is None
    wait_blocked(ctl, 2)
    ctl.cmd("RPUSH", "l", "v")
    assert rcs[0].read_reply() == [b"l", b"v"]
    rcs[1].close()
    wait_blocked(ctl, 0)


# ---------------------------------------------------------------- across workers


@pytest.fixture
def place(server, r):
    p = Placer(server)
    yield p
    p.close()


def test_waiters_and_pushers_on_every_worker(ctl, place):
    """Each waiter, on each worker, is woken by a push from each worker."""
    on = place.on_each(per_worker=2)
    workers = sorted(on)
    n = 0
    for ww in workers:
        for pw in workers:
            waiter, pusher = on[ww][0], on[pw][1]
            key = "k%d-%d" % (ww, pw)
            n += 1
            block(ctl, waiter, "BLPOP", key, "x%d" % n, 0, expect=1)
            assert pusher.cmd("RPUSH", key, "v") == 1
            assert waiter.read_reply() == [key.encode(), b"v"]
            wait_blocked(ctl, 0)
            # a BLMOVE to another key, pushed from the other worker
            block(ctl, waiter, "BLMOVE", key, key + "dst", "RIGHT", "LEFT", 0, expect=1)
            assert pusher.cmd("LPUSH", key, "w") == 1
            assert waiter.read_reply() == b"w"
            assert ctl.cmd("LRANGE", key + "dst", 0, -1) == [b"w"]
            wait_blocked(ctl, 0)


def test_each_element_exactly_once(ctl, place, connect):
    """M waiters looping BLPOP on one key (on every worker) and pushers on
    every worker: each element reaches exactly one waiter."""
    on = place.on_each(per_worker=2)
    waiters = [rcs[0] for rcs in on.values()] + [connect() for _ in range(3)]
    pushers = [rcs[1] for rcs in on.values()]
    got = [[] for _ in waiters]
    errors = []

    def consume(i, rc):
        try:
            while True:
                rep = rc.cmd("BLPOP", "q", "q2", 0)
                if rep[1] == b"stop":
                    return
                got[i].append(rep[1])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=consume, args=(i, rc)) for i, rc in enumerate(waiters)]
    for t in threads:
        t.start()
    wait_blocked(ctl, len(waiters))
    sent = []
    n = 0
    for rnd in range(40):
        for j, p in enumerate(pushers):
            vals = ["v%d" % (n + k) for k in range(1 + (rnd + j) % 3)]
            n += len(vals)
            sent += vals
            p.cmd("RPUSH" if rnd % 2 else "LPUSH", "q" if j % 2 else "q2", *vals)
    wait_for(lambda: ctl.cmd("EXISTS", "q", "q2") == 0 and
             blocked(ctl) == len(waiters), timeout=10 * LATENCY_SCALE)
    for _ in waiters:
        ctl.cmd("RPUSH", "q", "stop")
    for t in threads:
        t.join(30)
    assert not errors, errors
    received = [v.decode() for g in got for v in g]
    assert sorted(received) == sorted(sent)
    assert len(set(received)) == len(received)
    assert ctl.cmd("EXISTS", "q", "q2") == 0
    wait_blocked(ctl, 0)


# ---------------------------------------------------------------- abuse


def test_many_clients_reset_while_blocked(ctl, connect, server):
    keys = ["ab%d" % i for i in range(8)]
    clients = []
    for i in range(60):
        rc = RawClient(server.host, server.port)
        rc.send(encode_command("BLPOP", *keys, 0))
        clients.append(rc)
    wait_blocked(ctl, 60, timeout=10)
    half = []
    for i, rc in enumerate(clients):
        if i % 3 == 0:
            # mid-command: a second, half-sent command behind the block
            rc.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\nab")
        rst(rc) if i % 2 else rc.close()
    wait_blocked(ctl, 0, timeout=10)
    for k in keys:
        ctl.cmd("RPUSH", k, "kept")
    assert [ctl.cmd("LLEN", k) for k in keys] == [1] * len(keys)
    assert ctl.cmd("PING") == Status("PONG")
    del half


def test_client_blocking_on_many_keys(ctl, connect):
    rc = connect()
    keys = ["mk%d" % i for i in range(20000)]
    for _ in range(5):
        t0 = time.monotonic()
        assert rc.cmd("BLPOP", *keys, 0.05) is None
        assert time.monotonic() - t0 < 5 * LATENCY_SCALE
    assert ctl.cmd("PING") == Status("PONG")
    block(ctl, rc, "BLPOP", *keys, 0)
    assert ctl.cmd("RPUSH", "mk19999", "v") == 1
    assert rc.read_reply() == [b"mk19999", b"v"]
    ctl.cmd("RPUSH", "mk5", "stay")
    assert ctl.cmd("LLEN", "mk5") == 1
    wait_blocked(ctl, 0)


def test_command_info_flags(ctl):
    info = ctl.cmd("COMMAND", "INFO", "blpop", "bzpopmin", "blmpop", "blmove")
    assert info[0][:6] == [b"blpop", -3, [Status("write"), Status("noscript"),
                                            Status("blocking")], 1, -2, 1]
    assert Status("blocking") in info[1][2] and Status("fast") in info[1][2]
    assert info[2][:6] == [b"blmpop", -5, [Status("write"), Status("blocking"),
                                             Status("movablekeys")], 0, 0, 0]
    assert info[3][1] == 6 and Status("denyoom") in info[3][2]
    assert ctl.cmd("COMMAND", "GETKEYS", "BLMPOP", 0, 2, "a", "b", "LEFT") == [b"a", b"b"]
    assert ctl.cmd("COMMAND", "GETKEYS", "BLPOP", "a", "b", 0) == [b"a", b"b"]


def test_client_list_and_idle_timeout(ctl, connect):
    """A blocked client shows flags=b, and the idle `timeout` spares it (its
    command's own timeout rules), as Redis."""
    rc = connect()
    cid = rc.cmd("CLIENT", "ID")
    idle = connect()
    idle_id = idle.cmd("CLIENT", "ID")
    assert ctl.cmd("CONFIG", "SET", "timeout", 1) == OK
    try:
        block(ctl, rc, "BLPOP", "l", 0)
        line = ctl.cmd("CLIENT", "LIST", "ID", cid)
        assert b" flags=b " in line, line
        for _ in range(11):  # 2.2 s; ctl keeps itself from idling out
            time.sleep(0.2)
            ctl.cmd("PING")
        assert blocked(ctl) == 1
        # an idle client that is not blocked goes (1 to 2 s: whole seconds, as
        # Redis), while ctl, talking every 0.2 s, stays
        assert wait_for(lambda: ctl.cmd("CLIENT", "LIST", "ID", idle_id) == b"", 3.0)
        ctl.cmd("RPUSH", "l", "v")
        assert rc.read_reply() == [b"l", b"v"]
        assert b" flags=N " in ctl.cmd("CLIENT", "LIST", "ID", cid)
    finally:
        ctl.cmd("CONFIG", "SET", "timeout", 0)


@pytest.mark.parametrize("a,b", [("{t}a", "{t}b"), ("srcA", "dstB")])
def test_moved_element_serves_key_signalled_earlier(ctl, connect, a, b):
    """A key already looked at in this round (empty then) that gets a value
    from a served BLMOVE is served again, as Redis's ready-key loop does."""
    x, y = connect(), connect()
    block(ctl, x, "BLPOP", b, 0, expect=1)
    block(ctl, y, "BLMOVE", a, b, "LEFT", "RIGHT", 0, expect=2)
    assert ctl.pipeline(("MULTI",), ("RPUSH", b, "tmp"), ("LPOP", b), ("RPUSH", a, "v"),
                        ("EXEC",))[-1] == [1, b"tmp", 1]
    assert y.read_reply() == b"v"
    assert x.read_reply() == [b.encode(), b"v"]
    wait_blocked(ctl, 0)
    assert ctl.cmd("EXISTS", a, b) == 0


def test_blmove_retry_keeps_order(ctl, connect):
    """A BLMOVE into another partition than the pushed key's runs again at
    home; the waiter behind it gets the next element, not the first."""
    y, w = connect(), connect()
    block(ctl, y, "BLMOVE", "srcq", "other-dst", "LEFT", "RIGHT", 0, expect=1)
    block(ctl, w, "BLPOP", "srcq", 0, expect=2)
    ctl.cmd("RPUSH", "srcq", "e1", "e2")
    assert y.read_reply() == b"e1"
    assert w.read_reply() == [b"srcq", b"e2"]
    assert ctl.cmd("LRANGE", "other-dst", 0, -1) == [b"e1"]
    wait_blocked(ctl, 0)


def test_input_while_blocked(ctl, connect):
    """A blocked client is still read (to see a disconnect); what it sends
    meanwhile, past its buffer's size, waits and then runs in order."""
    rc = connect()
    rc.send(encode_command("BLMOVE", "src", "dst-elsewhere", "LEFT", "LEFT", 0) +
            encode_command("GET", "k"))
    wait_blocked(ctl, 1)
    big = "x" * 1000
    rc.send(b"".join(encode_command("SET", "k%d" % i, big) for i in range(300)))
    rc.send(encode_command("GET", "k299"))
    time.sleep(0.2)
    ctl.cmd("SET", "k", "v")
    ctl.cmd("RPUSH", "src", "e")
    assert rc.read_reply() == b"e"
    assert rc.read_reply() == b"v"
    assert [rc.read_reply() for _ in range(300)] == [OK] * 300
    assert rc.read_reply() == big.encode()
    assert ctl.cmd("LRANGE", "dst-elsewhere", 0, -1) == [b"e"]


@pytest.mark.percore_only
@pytest.mark.parametrize("policy", ["share-nothing", "shared-locks", "work-stealing"])
def test_shutdown_with_blocked_clients(server_factory, policy):
    """SIGTERM while clients are blocked: a clean exit, nothing leaked (the
    sanitizer builds check the log)."""
    srv = server_factory(policy=policy, threads=2)
    ctl = Ctl(srv.host, srv.port)
    rcs = []
    for i, args in enumerate((("BLPOP", "a", "b", 0), ("BLMOVE", "x", "y", "LEFT", "LEFT", 0),
                              ("BZMPOP", 0, 2, "z1", "z2", "MIN"), ("BRPOP", "a", 5))):
        rc = RawClient(srv.host, srv.port)
        rcs.append(rc)
        block(ctl, rc, *args, expect=i + 1)
    problems = srv.stop()
    assert not problems, problems
    for rc in rcs + [ctl]:
        rc.close()

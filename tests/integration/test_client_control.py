"""Client and operator control, under every policy, against Redis 7.0's
replies: CLIENT REPLY ON|OFF|SKIP (pipelines, refused and queued commands,
blocked commands, Pub/Sub pushes that are sent whatever the mode), WAIT on a
standalone server, CLIENT PAUSE / UNPAUSE, MONITOR and the INFO fields that
client libraries read when they connect.

Clients are raw connections (RawClient, conftest.py); Placer (test_pubsub.py)
puts them on chosen workers so that a command and its effect cross workers."""

import time

import pytest

from conftest import (LATENCY_SCALE, OK, SYNTAX, TARGET, Err, RawClient, Status, encode_command,
                      parse_info, wait_for)
from test_pubsub import Placer


@pytest.fixture
def place(server, r):
    p = Placer(server)
    yield p
    p.close()


def quiet(rc, timeout=0.3):
    """Nothing more arrives on rc within timeout seconds."""
    rc.sock.settimeout(timeout)
    try:
        data = rc.sock.recv(1 << 16)
    except (TimeoutError, OSError):
        data = None
    finally:
        rc.sock.settimeout(30.0)
    assert not rc.buf and not data, (rc.buf, data)


# ------------------------------------------------------------------ CLIENT REPLY


def test_reply_off_drops_everything_until_on(c):
    # Keys in many partitions: some commands run away from the client's worker.
    cmds = [("CLIENT", "REPLY", "OFF")]
    cmds += [("SET", "k%d" % i, i) for i in range(200)]
    cmds += [("GET", "k1"), ("NOSUCHCMD",), ("INCR", "k1x"), ("LPUSH", "k1", "x"),
             ("SET",), ("CLIENT", "REPLY", "ON"), ("GET", "k7")]
    c.send(b"".join(encode_command(*x) for x in cmds))
    assert c.read_reply() == OK  # ON's reply, the first thing sent
    assert c.read_reply() == b"7"
    assert c.cmd("MGET", "k0", "k199", "k1x") == [b"0", b"199", b"1"]
    quiet(c)


def test_reply_skip_one_command(c):
    c.send(b"".join(encode_command(*x) for x in [
        ("CLIENT", "REPLY", "SKIP"), ("SET", "a", "1"), ("GET", "a"),
        ("CLIENT", "REPLY", "SKIP"), ("NOSUCHCMD",), ("PING",),
        ("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("ECHO", "x"), ("ECHO", "y")]))
    assert c.read_reply() == b"1"
    assert c.read_reply() == Status("PONG")
    # a SKIP's own reply is skipped, the SKIP after it applies to ECHO x
    assert c.read_reply() == b"y"
    quiet(c)


def test_reply_skip_then_on_and_off_then_skip(c):
    # ON right after SKIP: ON clears the skip and answers OK (Redis 7.0).
    c.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("CLIENT", "REPLY", "ON") +
           encode_command("ECHO", "a"))
    assert c.read_reply() == OK
    assert c.read_reply() == b"a"
    # SKIP while OFF does nothing: still off after the next command.
    c.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("CLIENT", "REPLY", "SKIP") +
           encode_command("ECHO", "b") + encode_command("ECHO", "c") +
           encode_command("CLIENT", "REPLY", "ON"))
    assert c.read_reply() == OK
    quiet(c)


def test_reply_errors_and_syntax(c):
    assert c.cmd("CLIENT", "REPLY", "MAYBE") == SYNTAX
    assert c.cmd("CLIENT", "REPLY") == Err("ERR wrong number of arguments for 'client|reply' "
                                           "command")
    help_lines = c.cmd("CLIENT", "HELP")
    assert Status("REPLY (ON|OFF|SKIP)") in help_lines


def test_reply_off_multi_and_reset(c):
    c.send(b"".join(encode_command(*x) for x in [
        ("CLIENT", "REPLY", "OFF"), ("MULTI",), ("SET", "m", "1"), ("INCR", "m"), ("EXEC",),
        ("RESET",), ("GET", "m")]))
    # RESET turns replies back on and answers (Redis 7.0).
    assert c.read_reply() == Status("RESET")
    assert c.read_reply() == b"2"
    quiet(c)


def test_reply_off_blocked_command(c, connect):
    waiter, pusher = connect(), connect()
    waiter.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("BLPOP", "bq", 0))
    assert wait_for(lambda: int(parse_info(c.cmd("INFO", "clients").decode())
                                ["blocked_clients"]) == 1, timeout=5 * LATENCY_SCALE)
    assert pusher.cmd("RPUSH", "bq", "v") == 1
    assert wait_for(lambda: c.cmd("LLEN", "bq") == 0)
    assert waiter.cmd("CLIENT", "REPLY", "ON") == OK  # the BLPOP's reply was dropped
    quiet(waiter)


def test_reply_skip_blocked_command_drops_late_reply(c, connect):
    """The SKIP waits for the blocked command's late reply, which it drops (Redis 7.0)."""
    waiter, pusher = connect(), connect()
    waiter.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("BLPOP", "bs", 0))
    assert wait_for(lambda: int(parse_info(c.cmd("INFO", "clients").decode())
                                ["blocked_clients"]) == 1, timeout=5 * LATENCY_SCALE)
    assert pusher.cmd("RPUSH", "bs", "v") == 1
    assert wait_for(lambda: c.cmd("LLEN", "bs") == 0)
    assert waiter.cmd("ECHO", "next") == b"next"
    quiet(waiter)


@pytest.mark.parametrize("proto", [2, 3])
def test_reply_off_pubsub_pushes_still_sent(place, proto):
    on = place.on_each(per_worker=2)
    workers = sorted(on)
    sub = on[workers[0]][0]
    pub = on[workers[-1]][1]
    if proto == 3:
        sub.cmd("HELLO", 3)
    sub.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SUBSCRIBE", "ch") +
             encode_command("PING"))
    assert sub.read_reply() == [b"subscribe", b"ch", 1]
    assert pub.cmd("PUBLISH", "ch", "hello") == 1
    assert sub.read_reply() == [b"message", b"ch", b"hello"]
    sub.send(encode_command("UNSUBSCRIBE", "ch"))
    assert sub.read_reply() == [b"unsubscribe", b"ch", 0]
    quiet(sub)


def test_reply_off_huge_pipeline(server, c):
    """200000 commands with replies off: nothing comes back, all of them run,
    and the server stays responsive to others."""
    n = 200000
    other = RawClient(server.host, server.port)
    try:
        chunk = b"".join(encode_command("INCR", "hp{%d}" % (i % 64)) for i in range(1000))
        c.send(encode_command("CLIENT", "REPLY", "OFF"))
        for _ in range(n // 1000):
            c.send(chunk)
            assert other.cmd("PING") == Status("PONG")
        c.send(encode_command("CLIENT", "REPLY", "ON"))
        assert c.read_reply() == OK
        total = sum(int(v) for v in c.cmd("MGET", *["hp{%d}" % i for i in range(64)]))
        assert total == n
        quiet(c)
    finally:
        other.close()


# ------------------------------------------------------------------ WAIT


def blocked_clients(c):
    return int(parse_info(c.cmd("INFO", "clients").decode())["blocked_clients"])


def test_wait_standalone(c):
    assert c.cmd("WAIT", 0, 0) == 0
    assert c.cmd("WAIT", -3, 0) == 0
    t0 = time.monotonic()
    assert c.cmd("WAIT", 1, 150) == 0  # no replica acknowledges: the whole timeout
    assert time.monotonic() - t0 >= 0.14
    assert c.cmd("WAIT", "x", 0) == Err("ERR value is not an integer or out of range")
    assert c.cmd("WAIT", 1, "1.5") == Err("ERR timeout is not an integer or out of range")
    assert c.cmd("WAIT", 1, -1) == Err("ERR timeout is negative")
    assert c.cmd("WAIT", 1) == Err("ERR wrong number of arguments for 'wait' command")
    # inside MULTI it never blocks
    assert c.pipeline(("MULTI",), ("WAIT", 5, 0), ("EXEC",)) == [OK, Status("QUEUED"), [0]]
    got = c.cmd("EVAL", "return redis.call('wait', 1, 0)", 0)
    assert isinstance(got, Err) and got.msg.startswith(
        "ERR This Redis command is not allowed from script"), got


def test_wait_forever_until_unblocked(c, connect):
    w = connect()
    wid = w.cmd("CLIENT", "ID")
    w.send(encode_command("WAIT", 2, 0))
    assert wait_for(lambda: blocked_clients(c) == 1, timeout=5 * LATENCY_SCALE)
    time.sleep(0.1)
    quiet(w, 0.1)
    assert c.cmd("CLIENT", "UNBLOCK", wid) == 1
    assert w.read_reply() == 0
    w.send(encode_command("WAIT", 2, 0))
    assert wait_for(lambda: blocked_clients(c) == 1, timeout=5 * LATENCY_SCALE)
    assert c.cmd("CLIENT", "UNBLOCK", wid, "ERROR") == 1
    assert w.read_reply() == Err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    # a waiting client that leaves is cleaned up
    w.send(encode_command("WAIT", 2, 0))
    assert wait_for(lambda: blocked_clients(c) == 1, timeout=5 * LATENCY_SCALE)
    w.close()
    assert wait_for(lambda: blocked_clients(c) == 0, timeout=5 * LATENCY_SCALE)

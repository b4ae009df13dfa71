"""Client and operator control, under every policy, against Redis 7.0's
replies: CLIENT REPLY ON|OFF|SKIP (pipelines, refused and queued commands,
blocked commands, Pub/Sub pushes that are sent whatever the mode), WAIT on a
standalone server, CLIENT PAUSE / UNPAUSE, MONITOR and the INFO fields that
client libraries read when they connect.

Clients are raw connections (RawClient, conftest.py); Placer (test_pubsub.py)
puts them on chosen workers so that a command and its effect cross workers."""

import re
import socket
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


def on_each(place, per_worker):
    """place.on_each, again when a connection accepted meanwhile (a previous
    test's, still being counted) made a placement ambiguous."""
    for _ in range(10):
        try:
            return place.on_each(per_worker=per_worker)
        except AssertionError:
            time.sleep(0.1)
    return place.on_each(per_worker=per_worker)


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
    on = on_each(place, 2)
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


# ------------------------------------------------------------------ CLIENT PAUSE


@pytest.fixture
def unpause(server):
    """Whatever a test does, the server is unpaused after it."""
    yield
    with RawClient(server.host, server.port) as rc:
        rc.cmd("CLIENT", "UNPAUSE")


def wait_blocked_clients(c, n):
    ok = wait_for(lambda: blocked_clients(c) == n, timeout=5 * LATENCY_SCALE)
    assert ok, blocked_clients(c)


def test_pause_errors(c, unpause):
    assert c.cmd("CLIENT", "PAUSE", "x") == Err("ERR timeout is not an integer or out of range")
    assert c.cmd("CLIENT", "PAUSE", -1) == Err("ERR timeout is negative")
    assert c.cmd("CLIENT", "PAUSE", 10, "NONE") == Err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    assert c.cmd("CLIENT", "PAUSE", 10, "WRITE", "x") == Err(
        "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    assert c.cmd("CLIENT", "PAUSE") == Err("ERR wrong number of arguments for 'client|pause' "
                                           "command")
    assert c.cmd("CLIENT", "UNPAUSE", "x") == Err("ERR wrong number of arguments for "
                                                  "'client|unpause' command")
    assert c.cmd("CLIENT", "UNPAUSE") == OK


def test_pause_write_holds_writes_on_every_worker(c, place, connect, unpause):
    on = on_each(place, 2)
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    writers = []
    for w in sorted(on):
        rd, wr = on[w]
        # reads, admin and read-only scripts go on
        assert rd.cmd("GET", "pk%d" % w) is None
        assert rd.cmd("PING") == Status("PONG")
        assert rd.cmd("EVAL_RO", "return 1", 0) == 1
        assert rd.cmd("EVAL", "#!lua flags=no-writes\nreturn 2", 0) == 2
        assert rd.pipeline(("MULTI",), ("GET", "x"), ("EXEC",)) == [OK, Status("QUEUED"), [None]]
        wr.send(encode_command("SET", "pk%d" % w, "v") + encode_command("GET", "pk%d" % w))
        writers.append((w, wr))
    wait_blocked_clients(c, len(writers))
    others = [connect(), connect()]
    # PUBLISH and scripts that may write are held too
    others[0].send(encode_command("PUBLISH", "ch", "m"))
    others[-1].send(encode_command("EVAL", "return 1", 0))
    wait_blocked_clients(c, len(writers) + 2)
    assert c.cmd("DBSIZE") == 0
    # syntax errors are answered at once
    assert c.cmd("SET", "x") == Err("ERR wrong number of arguments for 'set' command")
    listing = c.cmd("CLIENT", "LIST").decode()
    assert listing.count("flags=b") == len(writers) + 2, listing
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    for w, wr in writers:
        assert wr.read_reply() == OK
        assert wr.read_reply() == b"v"
    assert others[0].read_reply() == 0
    assert others[-1].read_reply() == 1
    wait_blocked_clients(c, 0)


def test_pause_all_holds_everything_until_timeout(c, place, unpause):
    on = on_each(place, 1)
    t0 = time.monotonic()
    assert c.cmd("CLIENT", "PAUSE", 400, "ALL") == OK
    for w in sorted(on):
        on[w][0].send(encode_command("PING") + encode_command("INCR", "ctr"))
    # every command is held, reads and admin ones (the pausing client's too)
    c.send(encode_command("CLIENT", "UNPAUSE"))
    for w in sorted(on):
        assert on[w][0].read_reply() == Status("PONG")
        assert time.monotonic() - t0 >= 0.35
        assert isinstance(on[w][0].read_reply(), int)
    assert c.read_reply() == OK
    assert time.monotonic() - t0 >= 0.35
    assert c.cmd("GET", "ctr") == str(len(on)).encode()


def test_pause_keeps_pipeline_order(c, connect, unpause):
    w = connect()
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    w.send(b"".join(encode_command(*x) for x in [
        ("GET", "o"), ("SET", "o", "1"), ("GET", "o"), ("INCR", "o"), ("GET", "o")]))
    assert w.read_reply() is None  # the read before the write is answered
    wait_blocked_clients(c, 1)
    quiet(w, 0.2)
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert [w.read_reply() for _ in range(4)] == [OK, b"1", 2, b"2"]


def test_pause_extends_never_shrinks(c, connect, unpause):
    w = connect()
    assert c.cmd("CLIENT", "PAUSE", 600, "WRITE") == OK
    assert c.cmd("CLIENT", "PAUSE", 10, "WRITE") == OK  # keeps the later end
    t0 = time.monotonic()
    assert w.cmd("SET", "e", "1") == OK
    assert time.monotonic() - t0 >= 0.4
    # a stricter type wins: WRITE then ALL holds reads
    assert c.cmd("CLIENT", "PAUSE", 300, "WRITE") == OK
    assert c.cmd("CLIENT", "PAUSE", 300, "ALL") == OK
    t0 = time.monotonic()
    assert w.cmd("GET", "e") == b"1"
    assert time.monotonic() - t0 >= 0.2


def test_pause_write_transactions(c, connect, unpause):
    w = connect()
    assert w.cmd("MULTI") == OK
    assert w.cmd("SET", "t", "1") == Status("QUEUED")
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    w.send(encode_command("EXEC"))
    wait_blocked_clients(c, 1)
    assert c.cmd("GET", "t") is None
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert w.read_reply() == [OK]
    # a pause inside a transaction starts after it
    assert c.pipeline(("MULTI",), ("SET", "t1", "a"), ("CLIENT", "PAUSE", 100000, "WRITE"),
                      ("SET", "t2", "b"), ("EXEC",))[-1] == [OK, OK, OK]
    w.send(encode_command("SET", "t3", "c"))
    wait_blocked_clients(c, 1)
    assert c.cmd("MGET", "t1", "t2", "t3") == [b"a", b"b", None]
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert w.read_reply() == OK


def test_pause_client_disconnects_while_held(c, connect, unpause):
    held = [connect() for _ in range(8)]
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    for i, h in enumerate(held):
        h.send(encode_command("SET", "gone%d" % i, "x") * 50)
    wait_blocked_clients(c, len(held))
    for h in held:
        h.close()
    wait_blocked_clients(c, 0)
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    time.sleep(0.1)
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("PING") == Status("PONG")


def test_pause_outlives_its_clients(server, c, unpause):
    """The client that paused leaves; the pause still ends on time and the
    held clients go on."""
    p = RawClient(server.host, server.port)
    assert p.cmd("CLIENT", "PAUSE", 300, "WRITE") == OK
    p.close()
    w = RawClient(server.host, server.port)
    try:
        t0 = time.monotonic()
        assert w.cmd("SET", "out", "1") == OK
        assert 0.15 <= time.monotonic() - t0 < 5 * LATENCY_SCALE
        assert blocked_clients(c) == 0
    finally:
        w.close()


def stat(c, field):
    return int(parse_info(c.cmd("INFO", "stats").decode())[field])


def test_pause_stops_expiry(c, unpause):
    """During a pause keys do not expire (Redis 7.0): a read sees an expired
    key as missing but leaves it, active expiry waits; after UNPAUSE they go."""
    keys = ["exp:%d" % i for i in range(20)]  # spread over the partitions
    for k in keys:
        assert c.cmd("SET", k, "v", "PX", 100) == OK
    before = stat(c, "expired_keys")
    assert c.cmd("CLIENT", "PAUSE", 5000, "WRITE") == OK
    time.sleep(0.4)  # past the TTLs, and a few active expiry rounds
    assert [c.cmd("GET", k) for k in keys] == [None] * 20
    assert c.cmd("EXISTS", *keys) == 0
    assert stat(c, "expired_keys") == before
    assert c.cmd("DBSIZE") >= 20
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert [c.cmd("GET", k) for k in keys] == [None] * 20
    assert stat(c, "expired_keys") == before + 20


def test_pause_stops_eviction(c, unpause):
    """Nothing is evicted during a pause, even past maxmemory; after it, the
    server evicts down to the limit."""
    c.cmd("FLUSHALL")
    for i in range(200):
        c.cmd("SET", "ev:%d" % i, "x" * 1000)
    before = stat(c, "evicted_keys")
    assert c.cmd("CLIENT", "PAUSE", 5000, "WRITE") == OK
    try:
        assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == OK
        assert c.cmd("CONFIG", "SET", "maxmemory", 1) == OK
        time.sleep(0.3)  # cron rounds
        assert c.cmd("PING") == Status("PONG")
        assert stat(c, "evicted_keys") == before
        assert c.cmd("DBSIZE") == 200
        assert c.cmd("CLIENT", "UNPAUSE") == OK
        assert wait_for(lambda: c.cmd("PING") and stat(c, "evicted_keys") > before,
                        timeout=5 * LATENCY_SCALE)
    finally:
        c.cmd("CLIENT", "UNPAUSE")
        c.cmd("CONFIG", "SET", "maxmemory", 0)
        c.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
        c.cmd("FLUSHALL")


def test_pause_blocked_client(c, connect, unpause):
    """A client blocked before the pause stays blocked; the push that would
    serve it is held; it is served after the pause."""
    b, p = connect(), connect()
    b.send(encode_command("BLPOP", "pb", 0))
    wait_blocked_clients(c, 1)
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    p.send(encode_command("RPUSH", "pb", "v"))
    wait_blocked_clients(c, 2)
    quiet(b, 0.2)
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert p.read_reply() == 1
    assert b.read_reply() == [b"pb", b"v"]


# ------------------------------------------------------------------ MONITOR

MON_LINE = re.compile(r'^\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)$')


def mon_read(m):
    """One monitor line: (db, who, args as the quoted text)."""
    v = m.read_reply()
    assert isinstance(v, Status), v
    got = MON_LINE.match(v.s.decode() if isinstance(v.s, bytes) else v.s)
    assert got, v
    return int(got.group(1)), got.group(2), got.group(3)


def mon_until(m, text):
    """Lines up to the first whose arguments are text (a marker command)."""
    lines = []
    while True:
        line = mon_read(m)
        lines.append(line)
        if line[2] == text:
            return lines


def addr_of(rc):
    info = rc.cmd("CLIENT", "INFO")
    info = info.decode() if isinstance(info, bytes) else info
    return dict(kv.split("=", 1) for kv in info.split())["addr"]


def start_monitor(rc):
    assert rc.cmd("MONITOR") == OK


def test_monitor_sees_every_worker(c, place):
    on = on_each(place, 2)
    workers = sorted(on)
    m = on[workers[0]][0]
    addrs = {w: addr_of(on[w][1]) for w in workers}
    start_monitor(m)
    expect = []
    for w in workers:
        cl = on[w][1]
        a = addrs[w]
        assert cl.cmd("SET", "mk%d" % w, 'v"\\\n\x01') == OK
        expect.append((0, a, '"SET" "mk%d" "v\\"\\\\\\n\\x01"' % w))
        assert cl.cmd("GET", "mk%d" % w) == b'v"\\\n\x01'
        expect.append((0, a, '"GET" "mk%d"' % w))
    c.cmd("ECHO", "end-marker")
    got = mon_until(m, '"ECHO" "end-marker"')[:-1]
    assert got == expect


def test_monitor_scripts_transactions_redaction(c, connect):
    m = connect()
    a = addr_of(c)
    start_monitor(m)
    assert c.cmd("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", 1, "ek", "ev") == OK
    assert c.pipeline(("MULTI",), ("SET", "mx", "1"), ("INCR", "mx"), ("EXEC",))[-1] == [OK, 2]
    assert c.pipeline(("MULTI",), ("NOSUCH",), ("EXEC",))[0] == OK
    assert isinstance(c.cmd("AUTH", "someone", "secret"), Err)
    assert isinstance(c.cmd("HELLO", 2, "AUTH", "someone", "secret"), Err)
    c.cmd("CONFIG", "GET", "maxmemory")  # admin: never shown
    assert c.cmd("SELECT", 3) == OK
    c.cmd("PING")
    assert c.cmd("SELECT", 0) == OK
    c.cmd("ECHO", "end-marker")
    got = mon_until(m, '"ECHO" "end-marker"')
    assert got == [
        (0, a, '"EVAL" "return redis.call(\'set\', KEYS[1], ARGV[1])" "1" "ek" "ev"'),
        (0, "lua", '"set" "ek" "ev"'),
        (0, a, '"MULTI"'), (0, a, '"SET" "mx" "1"'), (0, a, '"INCR" "mx"'), (0, a, '"EXEC"'),
        (0, a, '"MULTI"'), (0, a, '"EXEC"'),
        (0, a, '"AUTH" "(redacted)" "(redacted)"'),
        (0, a, '"HELLO" "2" "AUTH" "(redacted)" "(redacted)"'),
        (3, a, '"SELECT" "3"'), (3, a, '"PING"'), (0, a, '"SELECT" "0"'),
        (0, a, '"ECHO" "end-marker"'),
    ]


def test_monitor_modes(c, connect):
    m = connect()
    assert m.pipeline(("MULTI",), ("MONITOR",), ("EXEC",)) == [
        OK, Status("QUEUED"), [Err("ERR MONITOR isn't allowed for DENY BLOCKING client")]]
    start_monitor(m)
    m.send(encode_command("MONITOR"))  # already monitoring: no reply
    listing = c.cmd("CLIENT", "LIST").decode()
    assert listing.count("flags=O ") == 1, listing
    c.cmd("ECHO", "one")
    assert mon_read(m)[2] == '"ECHO" "one"'
    # RESET leaves MONITOR mode
    assert m.cmd("RESET") == Status("RESET")
    c.cmd("ECHO", "two")
    assert m.cmd("PING") == Status("PONG")
    assert "flags=O " not in c.cmd("CLIENT", "LIST").decode()


def test_monitor_many_monitors_and_leaving(c, place):
    on = on_each(place, 2)
    mons = [on[w][0] for w in sorted(on)]
    for m in mons:
        start_monitor(m)
    writer = on[sorted(on)[-1]][1]
    for i in range(50):
        writer.send(encode_command("INCR", "many"))
    for _ in range(50):
        writer.read_reply()
    writer.cmd("ECHO", "end-marker")
    for m in mons:
        got = mon_until(m, '"ECHO" "end-marker"')
        assert [g[2] for g in got].count('"INCR" "many"') == 50
    mons[0].close()
    assert writer.cmd("INCR", "many") == 51


@pytest.mark.percore_only
def test_monitor_that_never_reads(server, c, connect):
    """A monitor that never reads while commands flood is closed by the pubsub
    class's hard limit with a logged reason (Redis 7 puts monitors in the
    normal class, unlimited by default); the server keeps serving."""
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0") == OK
    try:
        slow = RawClient(server.host, server.port)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(encode_command("MONITOR"))
        slow_addr = "addr=%s:%d " % slow.sock.getsockname()[:2]
        assert wait_for(lambda: any(slow_addr in l and "flags=O " in l for l in
                                    c.cmd("CLIENT", "LIST").decode().splitlines()))
        good = connect()
        start_monitor(good)
        flood = connect()
        payload = b"y" * 16384
        for i in range(60):  # 60 x 16 x 16 KB of lines = 15 MB, 15x the limit
            flood.send(encode_command("SET", "fl%d" % (i % 8), payload) * 16)
            for _ in range(16):
                assert flood.read_reply() == OK
            sets = 0
            while sets < 16:  # the reading monitor gets every line
                sets += mon_read(good)[2].startswith('"SET" "fl')
            assert c.cmd("PING") == Status("PONG")
        assert wait_for(lambda: slow_addr not in c.cmd("CLIENT", "LIST").decode())
        # (its socket's backlog is not read back: through a 4 KB window that
        # takes minutes)
        slow.close()
        assert wait_for(lambda: "MONITOR lines past the pubsub hard limit" in server.log())
        assert flood.cmd("GET", "nothing") is None
    finally:
        c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")


# ------------------------------------------------------------------ INFO at connect

CONNECT_FIELDS = {
    "server": ["redis_version", "redis_git_sha1", "redis_git_dirty", "redis_build_id", "redis_mode",
               "os", "arch_bits", "monotonic_clock", "multiplexing_api", "atomicvar_api",
               "gcc_version", "process_id", "process_supervised", "run_id", "tcp_port",
               "server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz", "configured_hz",
               "lru_clock", "executable", "config_file", "io_threads_active"],
    "clients": ["connected_clients", "cluster_connections", "maxclients",
                "client_recent_max_input_buffer", "client_recent_max_output_buffer",
                "blocked_clients", "tracking_clients", "clients_in_timeout_table"],
    "replication": ["role", "connected_slaves", "master_failover_state", "master_replid",
                    "master_replid2", "master_repl_offset", "second_repl_offset",
                    "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset",
                    "repl_backlog_histlen"],
    "cluster": ["cluster_enabled"],
}


def test_info_fields_clients_read_at_connect(server, c):
    info = {}
    for section, fields in CONNECT_FIELDS.items():
        got = parse_info(c.cmd("INFO", section).decode())
        missing = [f for f in fields if f not in got]
        assert not missing, (section, missing)
        info.update(got)
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["cluster_enabled"] == "0"
    assert info["connected_slaves"] == "0"
    assert info["master_repl_offset"] == "0"
    assert info["arch_bits"] in ("32", "64")
    assert int(info["tcp_port"]) == server.port
    assert int(info["process_id"]) == server.proc.pid
    assert len(info["run_id"]) == 40 and len(info["master_replid"]) == 40
    assert re.fullmatch(r"[0-9a-f]+", info["redis_build_id"])
    assert info["executable"].startswith("/")
    assert int(info["client_recent_max_input_buffer"]) >= 0
    # a client with unread output shows up in client_recent_max_output_buffer
    big = RawClient(server.host, server.port)
    try:
        big.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert big.cmd("SET", "infobig", "z" * 4000000) == OK
        big.send(encode_command("GET", "infobig") * 3)
        assert wait_for(lambda: int(parse_info(c.cmd("INFO", "clients").decode())
                                    ["client_recent_max_output_buffer"]) > 1000000)
    finally:
        big.close()


def test_pause_again_after_one_expired_unseen(c, connect, unpause):
    """A pause that ran out with nobody looking, then a new one: the new one
    holds (and the server is not stuck on the old one)."""
    assert c.cmd("CLIENT", "PAUSE", 50, "WRITE") == OK
    time.sleep(0.2)
    assert c.cmd("CLIENT", "PAUSE", 300, "WRITE") == OK
    w = connect()
    t0 = time.monotonic()
    assert w.cmd("SET", "again", "1") == OK
    assert time.monotonic() - t0 >= 0.2
    # and after an UNPAUSE, a shorter pause than the one undone ends on time
    assert c.cmd("CLIENT", "PAUSE", 100000, "WRITE") == OK
    w.send(encode_command("SET", "again", "2"))
    wait_blocked_clients(c, 1)
    assert c.cmd("CLIENT", "UNPAUSE") == OK
    assert w.read_reply() == OK
    assert c.cmd("CLIENT", "PAUSE", 200, "WRITE") == OK
    t0 = time.monotonic()
    assert w.cmd("SET", "again", "3") == OK
    assert 0.15 <= time.monotonic() - t0 < 2 * LATENCY_SCALE

"""RESP on the wire: pipelining, inline commands, RESP3 encodings, protocol errors."""

import threading
import time

import pytest

from conftest import OK, Double, Err, RawClient, Status, encode_command, parse_info


def test_pipeline_10000_in_one_write(c):
    n = 10000
    payload = b"".join(encode_command("INCR", "counter") for _ in range(n))
    payload += b"".join(encode_command("SET", "k:%d" % i, "v:%d" % i) for i in range(n))
    payload += encode_command("MGET", "k:0", "k:5000", "k:9999")
    payload += encode_command("DBSIZE")
    # write everything in one go from another thread while this one reads, so a
    # server that answers while it is still reading cannot deadlock us
    sender = threading.Thread(target=c.send, args=(payload,))
    sender.start()
    for i in range(1, n + 1):
        assert c.read_reply() == i
    for _ in range(n):
        assert c.read_reply() == OK
    assert c.read_reply() == [b"v:0", b"v:5000", b"v:9999"]
    assert c.read_reply() == n + 1
    sender.join()


def test_pipeline_exact_bytes(c):
    c.send(encode_command("SET", "a", "1") + encode_command("GET", "a") +
           encode_command("GET", "missing") + encode_command("INCR", "a") +
           encode_command("GET") + encode_command("PING"))
    want = (b"+OK\r\n$1\r\n1\r\n$-1\r\n:2\r\n"
            b"-ERR wrong number of arguments for 'get' command\r\n+PONG\r\n")
    got = b""
    while len(got) < len(want):
        c._fill()
        got, c.buf = got + c.buf, b""
    assert got == want


def test_command_split_across_writes(c):
    data = encode_command("SET", "split", "x" * 1000) + encode_command("GET", "split")
    for i in range(0, len(data), 7):
        c.send(data[i:i + 7])
        time.sleep(0.0005 if i < 200 else 0)
    assert c.read_reply() == OK
    assert c.read_reply() == b"x" * 1000


def test_inline_commands(c):
    c.send(b"PING\r\n")
    assert c.read_line() == b"+PONG"
    c.send(b"SET greeting \"hello world\"\r\n")
    assert c.read_line() == b"+OK"
    c.send(b"GET greeting\r\n")
    assert c.read_reply() == b"hello world"
    c.send(b"SET single 'a \"b\" c'\r\n")
    assert c.read_reply() == OK
    assert c.cmd("GET", "single") == b'a "b" c'
    c.send(b"SET esc \"\\x41\\x00\\r\\n\\t\\\"\"\r\n")
    assert c.read_reply() == OK
    assert c.cmd("GET", "esc") == b"A\x00\r\n\t\""
    c.send(b"SET sq 'don\\'t'\r\n")
    assert c.read_reply() == OK
    assert c.cmd("GET", "sq") == b"don't"
    c.send(b"  MSET   a 1    b 2   \r\n")
    assert c.read_reply() == OK
    assert c.cmd("MGET", "a", "b") == [b"1", b"2"]
    c.send(b"SET empty \"\"\r\n")
    assert c.read_reply() == OK
    assert c.cmd("STRLEN", "empty") == 0
    assert c.cmd("EXISTS", "empty") == 1


def test_inline_bare_newline_and_empty_lines(c):
    c.send(b"\r\n\r\nPING\n")
    assert c.read_line() == b"+PONG"
    c.send(b"\n\nECHO hi\n")
    assert c.read_reply() == b"hi"
    c.send(b"  \r\nPING\r\n")
    assert c.read_line() == b"+PONG"


def test_inline_and_multibulk_mixed_in_one_write(c):
    c.send(b"SET m 1\r\n" + encode_command("INCR", "m") + b"GET m\r\n" +
           encode_command("PING"))
    assert c.read_reply() == OK
    assert c.read_reply() == 2
    assert c.read_reply() == b"2"
    assert c.read_reply() == Status("PONG")


def test_inline_unknown_command(c):
    c.send(b"nosuchcmd x y\r\n")
    assert c.read_reply() == Err(
        "ERR unknown command 'nosuchcmd', with args beginning with: 'x' 'y' ")


def test_empty_and_negative_multibulk_are_ignored(c):
    c.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")
    assert c.read_line() == b"+PONG"


def test_resp3_null_map_double(c):
    c.send(encode_command("HELLO", "3"))
    assert c.read_line() == b"%7"
    c.read_reply(), c.read_reply()  # server / value ...
    for _ in range(6):
        c.read_reply(), c.read_reply()

    def exact(args, want):
        c.send(encode_command(*args))
        got = b""
        while len(got) < len(want):
            c._fill()
            got, c.buf = got + c.buf, b""
        assert got == want, (args, got)

    exact(["GET", "missing"], b"_\r\n")
    exact(["SET", "a", "1"], b"+OK\r\n")
    exact(["MGET", "a", "missing"], b"*2\r\n$1\r\n1\r\n_\r\n")
    exact(["HSET", "h", "f", "v"], b":1\r\n")
    exact(["HGETALL", "h"], b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n")
    exact(["HGETALL", "missing"], b"%0\r\n")
    exact(["ZADD", "z", "1.5", "m"], b":1\r\n")
    exact(["ZSCORE", "z", "m"], b",1.5\r\n")
    exact(["ZSCORE", "z", "nope"], b"_\r\n")
    exact(["ZINCRBY", "z", "2", "m"], b",3.5\r\n")
    exact(["ZADD", "z", "3", "n"], b":1\r\n")
    exact(["ZSCORE", "z", "n"], b",3\r\n")
    exact(["CONFIG", "GET", "maxmemory"], b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")
    # strings that look like numbers stay bulk strings
    exact(["INCRBYFLOAT", "f", "1.5"], b"$3\r\n1.5\r\n")
    exact(["SET", "a", "1", "GET"], b"$1\r\n1\r\n")
    exact(["SET", "a", "1", "XX", "NX"], b"-ERR syntax error\r\n")
    exact(["SET", "b", "1", "XX"], b"_\r\n")


def test_resp3_parsed(c):
    c.cmd("HELLO", "3")
    assert c.cmd("HSET", "h", "a", "1", "b", "2") == 2
    assert c.cmd("HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    assert c.cmd("ZADD", "z", "0.25", "x") == 1
    assert c.cmd("ZSCORE", "z", "x") == Double("0.25")
    assert c.cmd("GETDEL", "missing") is None


def test_resp3_with_redis_py(r3):
    assert r3.get("missing") is None
    assert r3.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r3.hgetall("h") == {"a": "1", "b": "2"}
    assert r3.zadd("z", {"m": 2.5}) == 1
    assert r3.zscore("z", "m") == 2.5


@pytest.mark.parametrize("data, message", [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1x\r\n", "invalid multibulk length"),
    (b"*1\r\nx\r\n", "expected '$', got 'x'"),
    (b"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\n$1x\r\n", "invalid bulk length"),
    (b'SET k "abc\r\n', "unbalanced quotes in request"),
    (b"SET k 'abc\r\n", "unbalanced quotes in request"),
    (b'SET k "a"b\r\n', "unbalanced quotes in request"),
])
def test_protocol_error_replies_then_closes(raw, data, message):
    assert raw(data) == b"-ERR Protocol error: " + message.encode() + b"\r\n"


def test_protocol_error_after_good_commands(raw):
    data = encode_command("PING") + encode_command("ECHO", "x") + b"*1\r\nx\r\n" + \
        encode_command("PING")
    assert raw(data) == b"+PONG\r\n$1\r\nx\r\n-ERR Protocol error: expected '$', got 'x'\r\n"


def test_protocol_error_does_not_affect_state(r, raw):
    r.set("k", "before")
    assert raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$x\r\n") == \
        b"-ERR Protocol error: invalid bulk length\r\n"
    assert r.get("k") == "before"


def rss_and_used(server):
    with RawClient(server.host, server.port) as rc:
        info = parse_info(rc.cmd("INFO", "memory"))
    return int(info["used_memory_rss"]), int(info["used_memory"])


def test_huge_bulk_length_refused_without_allocating(server, r, connect):
    rss0, used0 = rss_and_used(server)
    bad = connect()
    bad.send(b"*2\r\n$3\r\nSET\r\n$629145600\r\n")  # 600 MB, never sent
    assert bad.read_until_close(5.0) == b"-ERR Protocol error: invalid bulk length\r\n"
    assert r.ping() is True
    rss1, used1 = rss_and_used(server)
    assert used1 - used0 < 50 * 1024 * 1024
    assert rss1 - rss0 < 50 * 1024 * 1024


def test_huge_multibulk_header_does_not_block_others(server, r, connect):
    """A client that declares a big argument and trickles it does not stop others."""
    slow = connect()
    slow.send(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$1000000\r\n" + b"x" * 1000)
    for i in range(50):
        assert r.set("other:%d" % i, i) is True
    other = connect()
    assert other.cmd("PING") == Status("PONG")
    slow.send(b"x" * (1000000 - 1000) + b"\r\n")
    assert slow.read_reply() == OK
    assert r.strlen("slow") == 1000000


def test_many_refused_clients_while_others_work(server, r):
    stop = threading.Event()
    errors = []

    def attacker():
        while not stop.is_set():
            try:
                with RawClient(server.host, server.port, timeout=5) as rc:
                    rc.send(b"*2\r\n$3\r\nSET\r\n$629145600\r\n")
                    got = rc.read_until_close(5.0)
                    if got != b"-ERR Protocol error: invalid bulk length\r\n":
                        errors.append(got)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    threads = [threading.Thread(target=attacker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(300):
            assert r.incr("served") == i + 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []

"""Hostile clients: no client can crash, freeze or bloat the server, on any policy.

Each attack runs against a fresh 2-worker server per policy while a watcher
connection PINGs every 50 ms. The test then asserts that
  * every PING was answered within LATENCY_MS (PONG, or BUSY where allowed),
  * the server process is alive and still serves a new client,
  * its RSS stayed under RSS_BOUND_MB (2 x (data + the configured limits)),
and checks what the attack itself must have got (an error reply, a close).
"""

import multiprocessing
import os
import socket
import struct
import threading
import time

import pytest

from conftest import (ALL_POLICIES, LATENCY_SCALE, TARGET, Err, RawClient, encode_command,
                      make_client, wait_for)

pytestmark = pytest.mark.percore_only

LATENCY_MS = 100 * LATENCY_SCALE  # conftest: scaled for the sanitizer builds
POLICIES = [p for p in os.environ.get("PERCORE_TEST_POLICIES", ",".join(ALL_POLICIES)).split(",")
            if p]
MB = 1 << 20


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _ping_loop(host, port, stop, conn):
    """In a child process, so the attacking test's own work (and Python's GIL)
    cannot delay the PINGs it times: PING every 50 ms until stop is set, then
    send back (latencies in ms, problems)."""
    lat, bad = [], []
    try:
        cli = RawClient(host, port, timeout=10)
        while not stop.is_set():
            t0 = time.monotonic()
            rep = cli.cmd("PING")
            lat.append((time.monotonic() - t0) * 1000)
            if getattr(rep, "s", None) != "PONG":
                bad.append(repr(rep))
            stop.wait(0.05)
        cli.close()
    except Exception as e:  # noqa: BLE001
        bad.append("PING failed: %r" % e)
    conn.send((lat, bad))
    conn.close()


class Watch:
    """A second client PINGing every 50 ms (its own process) and an RSS
    sampler, for the duration of one attack."""

    def __init__(self, srv):
        self.srv = srv
        self.lat, self.bad = [], []
        self.max_rss_kb = 0
        ctx = multiprocessing.get_context("fork")
        self.stop_ev = ctx.Event()
        self.stop = threading.Event()
        self.parent, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_ping_loop, args=(srv.host, srv.port, self.stop_ev, child))
        self.sampler = threading.Thread(target=self._rss)

    def __enter__(self):
        self.proc.start()
        self.sampler.start()
        time.sleep(0.1)  # the first PINGs go out before the attack starts
        return self

    def _rss(self):
        while not self.stop.is_set():
            self.max_rss_kb = max(self.max_rss_kb, rss_kb(self.srv.proc.pid))
            self.stop.wait(0.02)

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.stop.set()
        if self.parent.poll(60):
            self.lat, self.bad = self.parent.recv()
        else:
            self.bad.append("the PING process sent nothing back")
        self.proc.join(10)
        self.sampler.join(30)

    def check(self, rss_bound_mb):
        assert not self.bad, self.bad[:5]
        assert self.lat, "the watcher got no reply at all"
        worst = max(self.lat)
        assert worst < LATENCY_MS, "a PING took %.0f ms (bound %.0f ms); %d PINGs" % (
            worst, LATENCY_MS, len(self.lat))
        assert self.srv.alive(), "the server exited"
        assert self.max_rss_kb < rss_bound_mb * 1024, "RSS reached %d MB (bound %d MB)" % (
            self.max_rss_kb // 1024, rss_bound_mb)
        with RawClient(self.srv.host, self.srv.port, timeout=10) as rc:
            assert rc.cmd("PING").s == "PONG"


def rst_close(sock):
    """Close with a TCP RST instead of a FIN (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture(params=POLICIES)
def policy(request):
    if TARGET != "percore":
        pytest.skip("percore only")
    return request.param


@pytest.fixture
def fresh(server_factory, policy):
    """fresh(*extra_args) -> a new 2-worker server of this test's policy."""

    def make(*extra):
        return server_factory(extra_args=list(extra), policy=policy, threads=2)

    return make


# ---------------------------------------------------------------- connections


def test_rst_mid_pipeline_of_big_replies(fresh):
    srv = fresh("--limits.client-output-buffer-limit", "normal 1mb 0 0")
    r = make_client(srv, decode=False)
    r.set("big", b"x" * MB)
    req = encode_command("GET", "big") * 20
    with Watch(srv) as w:
        deadline = time.monotonic() + 2.0
        n = 0
        while time.monotonic() < deadline:
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(req)
            if n % 2:
                time.sleep(0.001)
            rst_close(s)
            n += 1
    w.check(rss_bound_mb=400)
    assert r.strlen("big") == MB


def test_rst_mid_pipeline_of_pings(fresh):
    srv = fresh()
    req = encode_command("PING") * 50
    with Watch(srv) as w:
        socks = []
        for i in range(2000):
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(req)
            socks.append(s)
            if len(socks) >= 50:
                for x in socks:
                    rst_close(x)
                socks = []
        for x in socks:
            rst_close(x)
    w.check(rss_bound_mb=200)
    r = make_client(srv)
    assert wait_for(lambda: int(r.info("clients")["connected_clients"]) <= 2, 10)


def test_ping_stream_never_read(fresh):
    """One client streams PINGs and never reads: back-pressure stops reading
    it, so the server holds about one high-water mark of its output."""
    srv = fresh()
    s = socket.create_connection((srv.host, srv.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    chunk = encode_command("PING") * 1000
    sent = 0
    with Watch(srv) as w:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:  # a partial send is continued, so the stream stays valid RESP
                sent += s.send(chunk[sent % len(chunk):])
            except BlockingIOError:
                time.sleep(0.01)
    w.check(rss_bound_mb=150)
    # The server stopped reading: far less was accepted than 3 s of PINGs.
    assert sent < 200 * MB
    r = make_client(srv)
    omem = [int(f.split("=")[1]) for line in r.execute_command("CLIENT", "LIST").splitlines()
            for f in line.split() if f.startswith("omem=")]
    assert max(omem) < 4 * MB, omem
    rst_close(s)


def test_rst_mid_multi_and_mid_script(fresh):
    srv = fresh()
    r = make_client(srv)
    r.set("k", "0")
    with Watch(srv) as w:
        for i in range(300):
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(encode_command("MULTI") + encode_command("INCR", "k") +
                      encode_command("SET", "{x}%d" % i, "v"))
            if i % 3 == 0:
                s.sendall(encode_command("EXEC"))
            rst_close(s)
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(encode_command("EVAL", "local n = 0 for i=1,50000 do n = n + i end "
                                     "return redis.call('INCR', KEYS[1])", "1", "k"))
            rst_close(s)
            time.sleep(0.003)  # a stream of RSTs, not a CPU-saturating flood
    w.check(rss_bound_mb=200)
    # An RST may discard a request the server had not read yet, so each
    # script and EXEC ran at most once; and the key still works.
    def settled():  # scripts already read may still be running
        a = int(r.get("k"))
        time.sleep(0.3)
        return a == int(r.get("k"))

    assert wait_for(settled, 20)
    v = int(r.get("k"))
    assert 0 <= v <= 400, v
    assert r.incr("k") == v + 1


def test_trickled_bytes(fresh):
    """Clients that send one byte at a time do not slow anyone else down, and
    each request still gets its reply."""
    srv = fresh()
    req = encode_command("SET", "k", "v" * 100) + encode_command("GET", "k")
    socks = [socket.create_connection((srv.host, srv.port)) for _ in range(50)]
    with Watch(srv) as w:
        for i in range(len(req)):
            for s in socks:
                s.sendall(req[i:i + 1])
            time.sleep(0.002)
    w.check(rss_bound_mb=100)
    for s in socks:
        rc = RawClient.__new__(RawClient)
        rc.sock, rc.buf, rc.decode = s, b"", False
        s.settimeout(10)
        assert rc.read_reply().s == "OK"
        assert rc.read_reply() == b"v" * 100
        s.close()


# ---------------------------------------------------------------- input


def test_huge_multibulk_in_small_writes_is_linear(fresh):
    """A *1048576 request sent 64 bytes at a time: parsing resumes where it
    stopped, so the worker keeps serving others and memory stays bounded."""
    srv = fresh()
    s = socket.create_connection((srv.host, srv.port))
    body = b"*1048576\r\n" + b"$1\r\nx\r\n" * 100000
    with Watch(srv) as w:
        t0 = time.monotonic()
        for i in range(0, len(body), 64):
            s.sendall(body[i:i + 64])
            if i % 65536 == 0 and time.monotonic() - t0 > 4:
                break
    w.check(rss_bound_mb=200)
    s.close()


def test_announced_bulk_is_not_reserved(fresh):
    """Headers announcing 500 MB bulks on many connections reserve nothing
    until the data arrives."""
    srv = fresh()
    socks = []
    with Watch(srv) as w:
        for i in range(40):
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n" + b"x" * 1000)
            socks.append(s)
        time.sleep(0.5)
    w.check(rss_bound_mb=150)
    for s in socks:
        s.close()


def test_unauthenticated_limits(fresh):
    srv = fresh("--security.requirepass", "secret")
    with RawClient(srv.host, srv.port) as rc:
        rc.send(b"*100\r\n")
        assert rc.read_reply() == Err("ERR Protocol error: unauthenticated multibulk length")
        assert rc.is_closed()
    with RawClient(srv.host, srv.port) as rc:
        rc.send(b"*2\r\n$4\r\nAUTH\r\n$100000\r\n")
        assert rc.read_reply() == Err("ERR Protocol error: unauthenticated bulk length")
        assert rc.is_closed()
    with RawClient(srv.host, srv.port) as rc:
        assert rc.cmd("AUTH", "secret").s == "OK"
        rc.send(encode_command("SET", "k", "v" * 100000))
        assert rc.read_reply().s == "OK"
        assert len(rc.cmd("GET", "k")) == 100000


def test_query_buffer_shrinks_when_idle(fresh):
    srv = fresh()
    r = make_client(srv, single_connection_client=True)
    r.set("k", "x" * (8 * MB))
    me = r.client_id()

    def qbuf_cap():
        for line in r.execute_command("CLIENT", "LIST").splitlines():
            f = dict(x.split("=", 1) for x in line.split() if "=" in x)
            if int(f["id"]) == me:
                return int(f["qbuf"]) + int(f["qbuf-free"])
        return None

    assert wait_for(lambda: qbuf_cap() < 64 * 1024, 5), qbuf_cap()


def test_config_set_bulk_len_is_range_checked(fresh):
    srv = fresh()
    r = make_client(srv)
    with pytest.raises(Exception) as e:
        r.config_set("proto-max-bulk-len", str(2 ** 63 - 1))
    assert "proto-max-bulk-len" in str(e.value)
    with RawClient(srv.host, srv.port) as rc:
        rc.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9223372036854775807\r\n")
        assert rc.read_reply() == Err("ERR Protocol error: invalid bulk length")
        assert rc.is_closed()
    assert srv.alive()


# ---------------------------------------------------------------- output


def test_never_read_big_replies_are_bounded(fresh):
    """Thousands of pipelined GETs of a 4 MB value, never read: the server
    stops reading that client once its output passes the high-water mark."""
    srv = fresh()
    r = make_client(srv, decode=False)
    r.set("big", b"x" * (4 * MB))
    s = socket.create_connection((srv.host, srv.port))
    s.setblocking(False)
    req = encode_command("GET", "big") * 2000
    with Watch(srv) as w:
        deadline = time.monotonic() + 3.0
        off = 0
        while time.monotonic() < deadline and off < len(req):
            try:
                off += s.send(req[off:])
            except BlockingIOError:
                time.sleep(0.01)
    w.check(rss_bound_mb=150)
    rst_close(s)


def test_output_hard_limit_disconnects(fresh):
    """Without back-pressure (high water 0), output past the hard limit closes
    the client, as Redis does."""
    srv = fresh("--limits.client-output-buffer-limit", "normal 2mb 0 0",
                "--limits.client-output-high-water", "0")
    r = make_client(srv, decode=False)
    r.set("v", b"x" * (512 * 1024))
    s = socket.create_connection((srv.host, srv.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(encode_command("GET", "v") * 100)
    time.sleep(0.5)
    rc = RawClient.__new__(RawClient)
    rc.sock, rc.buf, rc.decode = s, b"", False
    got = rc.read_until_close(10)
    assert len(got) < 100 * 512 * 1024
    assert wait_for(lambda: "output buffer" in srv.log(), 5), srv.log()[-2000:]


def test_output_soft_limit_for_soft_seconds(fresh):
    """Over the soft limit (1 MB) for its seconds (1), the client is closed;
    not before."""
    srv = fresh("--limits.client-output-buffer-limit", "normal 0 1mb 1",
                "--limits.client-output-high-water", "0")
    r = make_client(srv, decode=False)
    r.set("v", b"x" * (256 * 1024))
    s = socket.create_connection((srv.host, srv.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    t0 = time.monotonic()
    s.sendall(encode_command("GET", "v") * 40)
    s.setblocking(False)
    closed_at = None
    while time.monotonic() - t0 < 10 and closed_at is None:
        time.sleep(0.1)  # a slow reader: 4 KB every 100 ms
        try:
            if s.recv(4096) == b"":
                closed_at = time.monotonic()
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed_at = time.monotonic()
        if closed_at is None and time.monotonic() - t0 > 0.5 and \
                "overcoming of output buffer limits" in srv.log():
            closed_at = time.monotonic()
    s.close()
    assert closed_at is not None, "never closed"
    assert closed_at - t0 >= 0.9, "closed after %.2f s, before soft-seconds" % (closed_at - t0)
    assert "overcoming of output buffer limits" in srv.log()


def test_reply_over_hard_limit_is_refused(fresh):
    srv = fresh("--limits.client-output-buffer-limit", "normal 1mb 0 0")
    r = make_client(srv, decode=False)
    r.set("big", b"x" * (2 * MB))
    with RawClient(srv.host, srv.port) as rc:
        rep = rc.cmd("GET", "big")
        assert isinstance(rep, Err) and "client-output-buffer-limit" in rep.msg, rep
        assert rc.cmd("PING").s == "PONG"


def test_client_output_buffer_limit_config(fresh):
    srv = fresh()
    r = make_client(srv)
    assert r.config_get("client-output-buffer-limit") == {
        "client-output-buffer-limit": "normal 0 0 0 pubsub 33554432 8388608 60"}
    r.config_set("client-output-buffer-limit", "normal 4mb 2mb 10")
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == \
        "normal 4194304 2097152 10 pubsub 33554432 8388608 60"
    for bad in ("normal 1 2", "bogus 1 2 3", "normal x 0 0", "normal 1 2 -3"):
        with pytest.raises(Exception) as e:
            r.config_set("client-output-buffer-limit", bad)
        assert "client-output-buffer-limit" in str(e.value)

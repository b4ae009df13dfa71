"""Integration fixtures: a real server on a free port, real clients against it.

Target (env PERCORE_TEST_TARGET):
  percore (default)  $PERCORE_BIN or <repo>/build/percore-server, one instance per
                     (policy, threads) per test module; PERCORE_TEST_POLICIES
                     (comma-separated) narrows the policies, PERCORE_TEST_THREADS
                     the thread counts. PERCORE_TEST_POLICY_SPLIT=1 runs each
                     module's `server` tests on one of those policies, the
                     modules (sorted by name) taking them in turn: the sanitizer
                     half of `make test` (Makefile, test-integration) runs every
                     test once that way, the release half every policy.
  redis              redis-server (or $REDIS_SERVER), one instance per module; used
                     to check that the tests themselves describe Redis correctly.

Run:  /usr/bin/python3 -m pytest -q tests/integration
      PERCORE_TEST_TARGET=redis /usr/bin/python3 -m pytest -q tests/integration
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("PERCORE_TEST_TARGET", "percore").strip().lower()
if TARGET not in ("percore", "redis"):
    raise RuntimeError("PERCORE_TEST_TARGET must be 'percore' or 'redis', not %r" % TARGET)

ALL_POLICIES = ("share-nothing", "shared-locks", "work-stealing")
ALL_THREADS = (2, 4)
START_TIMEOUT = 10.0
# Latency bounds of the fault tests (100 ms) are multiplied by this: the
# sanitizer builds run several times slower, and `make test-asan` sets it.
LATENCY_SCALE = float(os.environ.get("PERCORE_TEST_LATENCY_SCALE", "1"))
# Anything a sanitizer or a crash prints to the server's log fails the module.
BAD_LOG_MARKERS = ("AddressSanitizer", "runtime error", "LeakSanitizer", "ThreadSanitizer",
                   "Assertion", "Segmentation fault")


def _split_env(name, default):
    v = os.environ.get(name, "").strip()
    if not v:
        return list(default)
    return [x.strip() for x in v.split(",") if x.strip()]


if TARGET == "percore":
    _pol = _split_env("PERCORE_TEST_POLICIES", ALL_POLICIES)
    for p in _pol:
        if p not in ALL_POLICIES:
            raise RuntimeError("unknown policy %r in PERCORE_TEST_POLICIES" % p)
    _thr = [int(t) for t in _split_env("PERCORE_TEST_THREADS", ALL_THREADS)]
    SERVER_PARAMS = [(p, t) for p in _pol for t in _thr]
    SERVER_IDS = ["%s-t%d" % pt for pt in SERVER_PARAMS]
else:
    SERVER_PARAMS = [(None, None)]
    SERVER_IDS = ["redis"]


def pytest_configure(config):
    config.addinivalue_line("markers", "percore_only: tests of percore-specific behaviour "
                            "(skipped when PERCORE_TEST_TARGET=redis)")


POLICY_SPLIT = os.environ.get("PERCORE_TEST_POLICY_SPLIT", "") == "1"


def pytest_collection_modifyitems(config, items):
    if TARGET != "percore" or not POLICY_SPLIT:
        return
    modules = sorted({item.module.__name__ for item in items})
    pick = {m: _pol[i % len(_pol)] for i, m in enumerate(modules)}
    keep, drop = [], []
    for item in items:
        cs = getattr(item, "callspec", None)
        param = cs.params.get("server") if cs else None
        if param is not None and param[0] != pick[item.module.__name__]:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_setup(item):
    if TARGET == "redis" and item.get_closest_marker("percore_only"):
        pytest.skip("percore-specific behaviour")


def pytest_report_header(config):
    return "percore integration target: %s %s" % (TARGET, SERVER_IDS)


# --------------------------------------------------------------------------- servers


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percore_bin():
    return os.environ.get("PERCORE_BIN") or os.path.join(REPO, "build", "percore-server")


def redis_bin():
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"


class Server:
    """One running server process. stop() checks how it ended and what it logged."""

    def __init__(self, target, policy, threads, logdir, extra_args=()):
        self.target = target
        self.policy = policy
        self.threads = threads
        self.host = "127.0.0.1"
        self.logdir = str(logdir)
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = None
        self.expect_exit = False  # set by tests that SHUTDOWN the server themselves

    def _argv(self, port):
        if self.target == "percore":
            exe = percore_bin()
            if not os.access(exe, os.X_OK):
                pytest.fail("percore binary not found or not executable: %s "
                            "(build it, or set PERCORE_BIN)" % exe, pytrace=False)
            argv = [exe]
            conf = os.environ.get("PERCORE_CONF") or os.path.join(REPO, "conf", "server.ini")
            if os.path.exists(conf):
                argv.append(conf)
            argv += ["--port", str(port), "--server.threads", str(self.threads),
                     "--scheduler.policy", self.policy, "--server.bind", "127.0.0.1"]
        else:
            argv = [redis_bin(), "--port", str(port), "--save", "", "--appendonly", "no",
                    "--bind", "127.0.0.1", "--dir", self.logdir]
        return argv + self.extra_args

    def start(self):
        last = ""
        for attempt in range(5):
            port = free_port()
            self.log_path = os.path.join(self.logdir, "server-%d.log" % port)
            logf = open(self.log_path, "wb")
            self.proc = subprocess.Popen(self._argv(port), stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.logdir)
            logf.close()
            self.port = port
            if self._wait_ready():
                return self
            last = self.log()
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                pytest.fail("server did not answer PING within %.0f s on port %d; log:\n%s"
                            % (START_TIMEOUT, port, last), pytrace=False)
            if "ddress already in use" not in last:
                break
        pytest.fail("server exited at startup (rc=%s); log:\n%s" % (self.proc.returncode, last),
                    pytrace=False)

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.settimeout(1.0)
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    reply = s.recv(64)
                    if reply.startswith(b"-NOAUTH"):
                        return True
                    if reply.startswith(b"+PONG") and self._answered_by_us(s):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _answered_by_us(self, s):
        """Whether the server on our port is our process: with tests running
        side by side (pytest-xdist), two may be handed the same free port, and
        the one that lost the bind must not take the winner's PONG as its own."""
        s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        data = b""
        while True:  # one bulk string: "$N\r\n" then N bytes
            head, sep, rest = data.partition(b"\r\n")
            if sep and (not head.startswith(b"$") or len(rest) >= int(head[1:])):
                break
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        for line in data.split(b"\r\n"):
            if line.startswith(b"process_id:"):
                return int(line[len(b"process_id:"):]) == self.proc.pid
        return True  # no process_id field: nothing to tell them apart by

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stop the server; return a list of problems (empty when it ended cleanly)."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is not None and not self.expect_exit:
            problems.append("server died during the tests (rc=%s)" % self.proc.returncode)
        else:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("server ignored SIGTERM for 15 s and was killed")
        rc = self.proc.returncode
        if not problems and rc not in (0, -signal.SIGTERM):
            problems.append("server exited with rc=%s" % rc)
        text = self.log()
        for marker in BAD_LOG_MARKERS:
            if marker in text:
                problems.append("server log contains %r" % marker)
        if problems:
            tail = text[-6000:]
            problems.append("log %s (tail):\n%s" % (self.log_path, tail))
        self.proc = None
        return problems


def _start(request, tmp_path_factory, policy, threads, extra_args=()):
    logdir = tmp_path_factory.mktemp("srv")
    srv = Server(TARGET, policy, threads, logdir, extra_args)
    srv.start()
    return srv


@pytest.fixture(scope="module", params=SERVER_PARAMS, ids=SERVER_IDS)
def server(request, tmp_path_factory):
    """A server shared by one test module, per (policy, threads) for percore."""
    policy, threads = request.param
    srv = _start(request, tmp_path_factory, policy, threads)
    yield srv
    problems = srv.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def stop_all(servers):
    """The end of a fixture that starts servers: stop each, then fail the test
    with every problem found (exit status, sanitizer reports)."""
    problems = []
    for srv in servers:
        problems += srv.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server_factory(request, tmp_path_factory):
    """Start extra, private servers (same target/params as `server` where known).
    Each is stopped and checked at the end of the test."""
    started = []

    def make(extra_args=(), policy="share-nothing", threads=2):
        srv = _start(request, tmp_path_factory, policy, threads, extra_args)
        started.append(srv)
        return srv

    yield make
    stop_all(started)


# --------------------------------------------------------------------------- clients


def make_client(server, decode=True, **kw):
    kw.setdefault("socket_timeout", 30)
    return redis.Redis(host=server.host, port=server.port, decode_responses=decode, **kw)


@pytest.fixture
def r(server):
    """redis-py client (str replies), one connection, all databases flushed."""
    client = make_client(server, single_connection_client=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def rb(server, r):
    """redis-py client with bytes replies (databases already flushed by `r`)."""
    client = make_client(server, decode=False, single_connection_client=True)
    yield client
    client.close()


def redis_py_has_resp3():
    import inspect
    return "protocol" in inspect.signature(redis.Redis.__init__).parameters


@pytest.fixture
def r3(server, r):
    """redis-py client speaking RESP3 (needs redis-py >= 5)."""
    if not redis_py_has_resp3():
        pytest.skip("redis-py %s has no RESP3 support" % redis.__version__)
    client = make_client(server, protocol=3, single_connection_client=True)
    yield client
    client.close()


# --------------------------------------------------------------------------- raw RESP


class Err:
    """An error reply; compares equal to an Err with the same full text."""

    def __init__(self, msg):
        self.msg = msg.decode() if isinstance(msg, bytes) else msg

    def __eq__(self, other):
        return isinstance(other, Err) and other.msg == self.msg

    def __hash__(self):
        return hash(("Err", self.msg))

    def __repr__(self):
        return "Err(%r)" % self.msg


# Redis's common error replies, shared by the command tests.
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_FLOAT = Err("ERR value is not a valid float")
SYNTAX = Err("ERR syntax error")


def arity(cmd):
    """The arity error of command cmd (lower-case name), as Redis 7.0 words it."""
    return Err("ERR wrong number of arguments for '%s' command" % cmd)


class Status:
    """A simple-string reply (+OK); compares equal to Status with the same text."""

    def __init__(self, s):
        self.s = s.decode() if isinstance(s, bytes) else s

    def __eq__(self, other):
        return isinstance(other, Status) and other.s == self.s

    def __hash__(self):
        return hash(("Status", self.s))

    def __repr__(self):
        return "Status(%r)" % self.s


class Double:
    """A RESP3 double reply, kept as its text (exact comparison)."""

    def __init__(self, s):
        self.s = s.decode() if isinstance(s, bytes) else s

    def __eq__(self, other):
        return isinstance(other, Double) and other.s == self.s

    def __repr__(self):
        return "Double(%r)" % self.s


OK = Status("OK")


class Closed(Exception):
    pass


def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawClient:
    """A socket speaking RESP by hand: exact bytes out, parsed (or raw) replies in.

    Bulk strings come back as bytes (str with decode=True), +status as Status,
    -errors as Err, RESP3 null as None, maps as dict, sets as set, doubles as Double.
    """

    def __init__(self, host, port, timeout=30.0, decode=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.decode = decode

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # -- bytes
    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise Closed("connection closed by server")
        self.buf += chunk

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until_close(self, timeout=5.0):
        """Everything the server sends until it closes the connection.
        Raises AssertionError if it is still open after `timeout` seconds."""
        self.sock.settimeout(timeout)
        data, self.buf = self.buf, b""
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return data
                data += chunk
        except socket.timeout:
            raise AssertionError("connection still open after %.1f s; got %r" % (timeout, data))
        except ConnectionResetError:
            return data

    def is_closed(self, timeout=5.0):
        """True if the server closes the connection within `timeout` (data discarded)."""
        try:
            self.read_until_close(timeout)
            return True
        except AssertionError:
            return False

    # -- replies
    def _s(self, b):
        return b.decode() if self.decode else b

    def read_reply(self):
        line = self.read_line()
        if not line:
            raise AssertionError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest)
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.read_exact(n + 2)
            assert data[-2:] == b"\r\n", "bulk not terminated by CRLF: %r" % data[-2:]
            return self._s(data[:-2])
        if t == b"*" or t == b">" or t == b"~":
            n = int(rest)
            if n < 0:
                return None
            items = [self.read_reply() for _ in range(n)]
            return set(items) if t == b"~" else items
        if t == b"%" or t == b"|":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read_reply()
                d[k] = self.read_reply()
            return d
        if t == b"_":
            return None
        if t == b",":
            return Double(rest)
        if t == b"#":
            return {b"t": True, b"f": False}[rest]
        if t == b"(":
            return int(rest)
        if t == b"=":
            n = int(rest)
            data = self.read_exact(n + 2)
            return self._s(data[4:-2])
        if t == b"!":
            n = int(rest)
            return Err(self.read_exact(n + 2)[:-2])
        raise AssertionError("unknown reply type %r (line %r)" % (t, line))

    def cmd(self, *args):
        self.send(encode_command(*args))
        return self.read_reply()

    def pipeline(self, *cmds):
        self.send(b"".join(encode_command(*c) for c in cmds))
        return [self.read_reply() for _ in cmds]


def raw_exchange(host, port, data, timeout=5.0):
    """Send `data` on a fresh connection, half-close nothing, and return all bytes
    the server sends until it closes the connection (AssertionError if it does
    not within `timeout`)."""
    with RawClient(host, port, timeout=timeout) as rc:
        rc.send(data)
        return rc.read_until_close(timeout)


@pytest.fixture
def c(server, r):
    """Raw RESP client (bytes bulk replies) on a flushed server."""
    rc = RawClient(server.host, server.port)
    yield rc
    rc.close()


@pytest.fixture
def cs(server, r):
    """Raw RESP client decoding bulk replies to str."""
    rc = RawClient(server.host, server.port, decode=True)
    yield rc
    rc.close()


@pytest.fixture
def raw(server):
    """raw(data, timeout=5) -> all bytes the server sends on a fresh connection
    after `data`, until it closes it."""

    def f(data, timeout=5.0):
        return raw_exchange(server.host, server.port, data, timeout)

    return f


@pytest.fixture
def connect(server):
    """connect(decode=False) -> a new RawClient, closed at the end of the test."""
    opened = []

    def f(decode=False, timeout=30.0):
        rc = RawClient(server.host, server.port, timeout=timeout, decode=decode)
        opened.append(rc)
        return rc

    yield f
    for rc in opened:
        rc.close()


def parse_info(text):
    """INFO text -> {field: value-string}; section headers are dropped."""
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.split("\r\n"):
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        out[k] = v
    return out


def info_sections(text):
    """INFO text -> [section names in order] (lower case)."""
    if isinstance(text, bytes):
        text = text.decode()
    return [line[2:].strip().lower() for line in text.split("\r\n") if line.startswith("# ")]


def wait_for(pred, timeout=5.0, interval=0.05):
    """Poll pred() until it returns truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def run_threads(targets, duration=1.5):
    """Run callables(stop_event) in threads for `duration` s; re-raise the first error."""
    stop = threading.Event()
    errors = []

    def wrap(fn):
        try:
            fn(stop)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in targets]
    for t in threads:
        t.start()
    stop.wait(duration)
    stop.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a client thread hung"
    if errors:
        raise errors[0]

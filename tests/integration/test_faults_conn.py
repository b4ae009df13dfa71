"""Connection and configuration faults, under every policy.

* maxclients fitted to the open-file limit (RLIMIT_NOFILE) at startup and on
  CONFIG SET, as Redis does;
* accept() running out of descriptors (EMFILE) pauses the listeners instead of
  spinning the loop and flooding the log, and accepting resumes when
  descriptors free;
* tcp-keepalive sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT
  as Redis's anetKeepAlive;
* protected mode refuses clients from non-loopback addresses with Redis's
  DENIED text while no requirepass is set;
* an empty bind is a startup error; CONFIG SET range- and cross-checks sizes as
  startup does.

Each test starts private servers (they change process limits and bind
addresses), one per policy.
"""

import ctypes
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import (ALL_POLICIES, LATENCY_SCALE, OK, TARGET, Err, RawClient, Server, Status, parse_info,
                      percore_bin, stop_all, wait_for)

pytestmark = pytest.mark.percore_only

POLICIES = [p for p in os.environ.get("PERCORE_TEST_POLICIES", ",".join(ALL_POLICIES)).split(",")
            if p.strip()]
THREADS = 2
PONG = Status("PONG")

# Runs the server with RLIMIT_NOFILE soft:hard = argv[1] and without
# CAP_SYS_RESOURCE (dropped from the bounding set, so root too is held to the
# hard limit, as an ordinary service user is). prctl may fail where the test
# lacks CAP_SETPCAP; the tests then check what the server could do.
LIMIT_WRAPPER = """
import ctypes, os, resource, sys
soft, hard = (int(n) for n in sys.argv[1].split(":"))
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
ctypes.CDLL(None, use_errno=True).prctl(24, 24, 0, 0, 0)  # PR_CAPBSET_DROP, CAP_SYS_RESOURCE
os.execv(sys.argv[2], sys.argv[2:])
"""


class LimitedServer(Server):
    """A Server, optionally started under a low open-file limit: nofile is
    soft = hard, or a (soft, hard) pair."""

    def __init__(self, policy, logdir, extra_args=(), nofile=None):
        super().__init__(TARGET, policy, THREADS, logdir, extra_args)
        self.nofile = nofile

    def _argv(self, port):
        argv = super()._argv(port)
        if self.nofile:
            soft, hard = self.nofile if isinstance(self.nofile, tuple) else (self.nofile,) * 2
            argv = [sys.executable, "-c", LIMIT_WRAPPER, "%d:%d" % (soft, hard)] + argv
        return argv

    @property
    def pid(self):
        return self.proc.pid

    def log_lines(self):
        return self.log().count("\n")

    def nofile_limits(self):
        return resource.prlimit(self.pid, resource.RLIMIT_NOFILE)

    def fds(self):
        return sorted(int(f) for f in os.listdir("/proc/%d/fd" % self.pid))

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def client(self, host=None, timeout=10.0):
        return RawClient(host or self.host, self.port, timeout=timeout)


@pytest.fixture
def start(tmp_path_factory):
    """start(policy, extra_args=(), nofile=None) -> a running LimitedServer,
    stopped and checked (exit status, sanitizer reports) at the end."""
    started = []

    def f(policy, extra_args=(), nofile=None):
        srv = LimitedServer(policy, tmp_path_factory.mktemp("srv"), extra_args, nofile)
        started.append(srv)
        return srv.start()

    yield f
    stop_all(started)


def config_get(c, key):
    reply = c.cmd("CONFIG", "GET", key)
    return reply[1].decode()


def config_set_error(key, why):
    return Err("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (key, why))


# --------------------------------------------------------------------------- maxclients


@pytest.mark.parametrize("policy", POLICIES)
def test_maxclients_fitted_to_fd_limit(start, policy):
    srv = start(policy, nofile=64)
    soft, hard = srv.nofile_limits()
    if soft > 64:
        pytest.skip("the server could raise its hard open-file limit (CAP_SYS_RESOURCE kept: "
                    "the test could not drop it), so maxclients is never reduced")
    # 2 workers listening on one address: 32 + 2 x (epoll, eventfd x2, listener) = 40
    reserve = 32 + THREADS * 4
    fit = 64 - reserve
    with srv.client() as admin:
        assert config_get(admin, "maxclients") == str(fit)
        assert parse_info(admin.cmd("INFO", "clients"))["maxclients"] == str(fit)
        log = srv.log()
        assert "maxclients 10000 needs 10040 open files" in log, log
        assert "limit (ulimit -n) is 64" in log and "maxclients reduced to %d" % fit in log, log
        # the reserve is honest: the idle server holds fewer descriptors
        assert len(srv.fds()) < reserve, srv.fds()

        # CONFIG SET cannot go past the limit; Redis's error names what fits
        assert admin.cmd("CONFIG", "SET", "maxclients", "1000") == config_set_error(
            "maxclients", "The operating system is not able to handle the specified number "
            "of clients, try with %d" % fit)
        assert config_get(admin, "maxclients") == str(fit)
        assert admin.cmd("CONFIG", "SET", "maxclients", str(fit - 4)) == OK
        assert admin.cmd("CONFIG", "SET", "maxclients", str(fit)) == OK
        assert srv.nofile_limits() == (64, 64)

        # every client up to maxclients is served; the next one gets Redis's
        # error, never a descriptor shortage
        clients = [srv.client() for _ in range(fit - 1)]
        try:
            for c in clients:
                assert c.cmd("PING") == PONG
            with srv.client() as extra:
                assert extra.read_until_close(5) == b"-ERR max number of clients reached\r\n"
            assert admin.cmd("PING") == PONG
        finally:
            for c in clients:
                c.close()
        assert "Too many open files" not in srv.log()


@pytest.mark.parametrize("policy", POLICIES)
def test_config_set_maxclients_raises_fd_limit(start, policy):
    srv = start(policy, ["--server.maxclients", "50"], nofile=(100, 400))
    soft, hard = srv.nofile_limits()
    if hard > 400:
        pytest.skip("the server kept CAP_SYS_RESOURCE (the test could not drop it)")
    assert soft == 100  # 50 clients and the reserve of 40 fit: left as it was
    with srv.client() as admin:
        # within the hard limit: the soft one is raised to what is needed
        assert admin.cmd("CONFIG", "SET", "maxclients", "300") == OK
        assert srv.nofile_limits() == (340, 400)
        assert config_get(admin, "maxclients") == "300"
        # past it: refused, naming what the hard limit allows
        assert admin.cmd("CONFIG", "SET", "maxclients", "5000") == config_set_error(
            "maxclients", "The operating system is not able to handle the specified "
            "number of clients, try with 360")
        assert config_get(admin, "maxclients") == "300"
        assert srv.nofile_limits() == (400, 400)
        assert admin.cmd("CONFIG", "SET", "maxclients", "360") == OK
        assert admin.cmd("CONFIG", "SET", "maxclients", "0") == config_set_error(
            "maxclients", "argument must be between 1 and 2147483647 inclusive")
        assert admin.cmd("PING") == PONG


# --------------------------------------------------------------------------- EMFILE


@pytest.mark.parametrize("policy", POLICIES)
def test_accept_out_of_fds_pauses_without_spinning(start, policy):
    """The server's open-file limit is lowered under it (as an fd leak or a
    too-tight limit would), so accept() fails with EMFILE while connections
    wait in the backlog. (maxclients alone can never get there: it is fitted
    to the limit with a reserve.)"""
    srv = start(policy)
    keep = srv.client()
    assert keep.cmd("PING") == PONG
    orig = srv.nofile_limits()
    flood = []
    try:
        # no descriptor above the highest one in use (holes below it may still fill)
        limit = max(srv.fds()) + 1
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (limit, orig[1]))
        lines0, cpu0 = srv.log_lines(), srv.cpu_seconds()
        t0 = time.monotonic()
        for _ in range(60):
            s = socket.create_connection((srv.host, srv.port), timeout=10)
            s.sendall(b"PING\r\n")
            flood.append(s)
        worst = 0.0
        while time.monotonic() - t0 < 1.0:
            t = time.monotonic()
            assert keep.cmd("PING") == PONG
            worst = max(worst, time.monotonic() - t)
            time.sleep(0.05)
        cpu = srv.cpu_seconds() - cpu0
        elapsed = time.monotonic() - t0
        assert worst < 0.1 * LATENCY_SCALE, "PING took %.3f s during the flood" % worst
        assert cpu < 0.5, "the server used %.2f s of CPU in %.2f s of flood" % (cpu, elapsed)
        grown = srv.log_lines() - lines0
        assert grown <= 3, "the log grew by %d lines:\n%s" % (grown, srv.log()[-3000:])
        assert "accept: Too many open files (open file limit %d)" % limit in srv.log()
        assert srv.alive()

        # descriptors come back: the waiting connections are accepted and served
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, orig)
        for s in flood:
            s.settimeout(5)
            assert s.recv(64) == b"+PONG\r\n"
    finally:
        for s in flood:
            s.close()
        if srv.alive():
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, orig)
        keep.close()
    with srv.client() as c:
        assert c.cmd("PING") == PONG


@pytest.mark.parametrize("policy", POLICIES)
def test_accept_resumes_when_clients_close(start, policy):
    """Out of descriptors because clients hold them: closing some lets the
    server accept the ones that waited."""
    srv = start(policy)
    orig = srv.nofile_limits()
    holders, waiting = [], []
    try:
        limit = max(srv.fds()) + 1 + 8
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (limit, orig[1]))
        # fill every free descriptor below the limit with clients
        while True:
            c = srv.client(timeout=0.5)
            try:
                assert c.cmd("PING") == PONG
            except (socket.timeout, AssertionError):
                waiting.append(c)  # not accepted: the server is out of descriptors
                break
            holders.append(c)
        assert len(holders) >= 8
        # closing holders frees their descriptors: the waiting client is accepted
        for c in holders[:4]:
            c.close()
        del holders[:4]
        waiting[0].sock.settimeout(5)
        assert waiting[0].read_reply() == PONG
        assert holders[0].cmd("PING") == PONG
        assert srv.log().count("accept: Too many open files") == 1
    finally:
        for c in holders + waiting:
            c.close()
        if srv.alive():
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, orig)


# --------------------------------------------------------------------------- keepalive

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # the same on every Linux architecture


def server_socket_of(srv, client_sock):
    """The server's end of client_sock, duplicated into this process with
    pidfd_getfd (Linux 5.6+); None where that is not possible."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, srv.pid, 0)
    if pidfd < 0:
        return None
    want = client_sock.getsockname()
    try:
        for name in os.listdir("/proc/%d/fd" % srv.pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (srv.pid, name)).startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                return None
            s = socket.socket(fileno=fd)
            try:
                if s.getpeername() == want:
                    return s
            except OSError:
                pass
            s.close()
    finally:
        os.close(pidfd)
    return None


def keepalive_of(srv, client_sock):
    s = server_socket_of(srv, client_sock)
    if s is None:
        return None
    try:
        return (s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))
    finally:
        s.close()


def ss_timer(srv, client_sock):
    """The server-side socket's timer as `ss -tno` shows it, e.g.
    'timer:(keepalive,1min9sec,0)', or '' when it has none."""
    cport = client_sock.getsockname()[1]
    out = subprocess.run(["ss", "-tno", "state", "established",
                          "( sport = :%d and dport = :%d )" % (srv.port, cport)],
                         capture_output=True, text=True, timeout=10).stdout
    for word in out.split():
        if word.startswith("timer:("):
            return word
    return ""


def keepalive_seconds(timer):
    """'timer:(keepalive,1min9sec,0)', 'timer:(keepalive,4min59sec,0)' -> seconds left."""
    what, left = timer[len("timer:("):].split(",")[:2]
    assert what == "keepalive", timer
    m = re.fullmatch(r"(\d+)min(?:([\d.]+)sec)?", left)
    assert m, timer
    return 60 * int(m.group(1)) + float(m.group(2) or 0)


@pytest.mark.parametrize("policy", POLICIES)
def test_tcp_keepalive(start, policy):
    # over a minute: ss 6.1 shows "6.944ms" for 6.944 s, but minutes plainly
    srv = start(policy, ["--server.tcp-keepalive", "70"])
    checked = False
    with srv.client() as c:
        assert c.cmd("PING") == PONG
        got = keepalive_of(srv, c.sock)
        if got is not None:
            assert got == (1, 70, 23, 3)  # idle 70 s, then every 70 / 3 s, 3 probes
            checked = True
        if shutil.which("ss"):
            timer = ss_timer(srv, c.sock)
            assert timer, "no keepalive timer on the server's socket"
            assert 60.0 < keepalive_seconds(timer) <= 70.0, timer
            checked = True
        # new connections take a new value; 0 turns keepalive off
        assert c.cmd("CONFIG", "SET", "tcp-keepalive", "300") == OK
        with srv.client() as c2:
            assert c2.cmd("PING") == PONG
            got = keepalive_of(srv, c2.sock)
            if got is not None:
                assert got == (1, 300, 100, 3)
        assert c.cmd("CONFIG", "SET", "tcp-keepalive", "0") == OK
        with srv.client() as c3:
            assert c3.cmd("PING") == PONG
            got = keepalive_of(srv, c3.sock)
            if got is not None:
                assert got[0] == 0
            if shutil.which("ss"):
                assert ss_timer(srv, c3.sock) == ""
        if got is not None:  # the first client kept its options
            assert keepalive_of(srv, c.sock) == (1, 70, 23, 3)
        # the kernel's TCP_KEEPIDLE limit is the option's
        assert c.cmd("CONFIG", "SET", "tcp-keepalive", "32768") == config_set_error(
            "tcp-keepalive", "argument must be between 0 and 32767 inclusive")
    if not checked:
        pytest.skip("neither pidfd_getfd nor ss can see the server's sockets here")


# --------------------------------------------------------------------------- protected mode


NETNS = "pc-faults-%d" % os.getpid()
HOST_IP, PEER_IP = "10.254.254.1", "10.254.254.2"
_CLONE_NEWNET = 0x40000000


def _in_netns(name, make):
    """Run make() with this thread in network namespace `name` (sockets keep
    the namespace they were made in), then come back."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/%s" % name, os.O_RDONLY)
    try:
        if libc.setns(there, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        try:
            return make()
        finally:
            if libc.setns(home, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(home)
        os.close(there)


@pytest.fixture(scope="module")
def outside_ip():
    """A non-loopback peer for the server, made for this test alone: a network
    namespace joined to this one by a veth pair (HOST_IP here, PEER_IP there).
    The server listens on HOST_IP too; clients made by outside_client() live
    in the namespace, so the server sees them come from PEER_IP. Nothing
    leaves the machine. Needs root (CI has it); skipped otherwise."""
    veth = "pcv%d" % (os.getpid() % 100000)
    cmds = [["ip", "netns", "add", NETNS],
            ["ip", "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b"],
            ["ip", "link", "set", veth + "b", "netns", NETNS],
            ["ip", "addr", "add", HOST_IP + "/30", "dev", veth + "a"],
            ["ip", "link", "set", veth + "a", "up"],
            ["ip", "netns", "exec", NETNS, "ip", "addr", "add", PEER_IP + "/30", "dev", veth + "b"],
            ["ip", "netns", "exec", NETNS, "ip", "link", "set", veth + "b", "up"]]
    made = bool(shutil.which("ip")) and os.geteuid() == 0
    for c in cmds:
        made = made and subprocess.run(c, capture_output=True, timeout=10).returncode == 0
    try:
        if not made:
            pytest.skip("a network namespace with a veth pair could not be made (needs root "
                        "and iproute2)")
        yield HOST_IP
    finally:
        if shutil.which("ip"):
            subprocess.run(["ip", "link", "del", veth + "a"], capture_output=True, timeout=10)
            subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, timeout=10)


def outside_client(srv, timeout=10.0):
    """A RawClient connecting to the server's HOST_IP from the namespace."""
    return _in_netns(NETNS, lambda: RawClient(HOST_IP, srv.port, timeout=timeout))


DENIED_HEAD = (b"-DENIED percore is running in protected mode because protected mode is enabled "
               b"and no password is set for the default user. In this mode connections are only "
               b"accepted from the loopback interface. If you want to connect from external "
               b"computers to percore you may adopt one of the following solutions: 1) Just "
               b"disable protected mode sending the command 'CONFIG SET protected-mode no' from "
               b"the loopback interface")
DENIED_TAIL = (b"3) If you started the server manually just for testing, restart it with the "
               b"'--protected-mode no' option. 4) Set up an authentication password for the "
               b"default user. NOTE: You only need to do one of the above things in order for "
               b"the server to start accepting connections from the outside.\r\n")


def assert_denied(srv, ip):
    with outside_client(srv) as c:
        c.send(b"PING\r\n")
        data = c.read_until_close(5)
    assert data.startswith(DENIED_HEAD) and data.endswith(DENIED_TAIL), data
    assert data.count(b"\r\n") == 1, data


@pytest.mark.parametrize("policy", POLICIES)
def test_protected_mode(start, policy, outside_ip):
    srv = start(policy, ["--server.bind", "127.0.0.1 %s" % outside_ip])
    with srv.client() as admin:
        assert config_get(admin, "protected-mode") == "yes"
        t0 = time.monotonic()
        assert_denied(srv, outside_ip)
        assert_denied(srv, outside_ip)
        quick = time.monotonic() - t0 < 0.9
        # loopback is served as ever
        assert admin.cmd("PING") == PONG
        stats = parse_info(admin.cmd("INFO", "stats"))
        assert int(stats["rejected_connections"]) == 2
        log = wait_for(lambda: "protected mode: refused a client from %s:" % PEER_IP
                       in srv.log() and srv.log())
        assert log, srv.log()
        if quick:
            assert log.count("protected mode: refused") == 1  # one line a second at most

        # a password lifts it: the client must AUTH, like any other
        assert admin.cmd("CONFIG", "SET", "requirepass", "s3cret") == OK
        with outside_client(srv) as c:
            assert c.cmd("PING") == Err("NOAUTH Authentication required.")
            assert c.cmd("AUTH", "s3cret") == OK
            assert c.cmd("PING") == PONG
        assert admin.cmd("AUTH", "s3cret") == OK
        assert admin.cmd("CONFIG", "SET", "requirepass", "") == OK
        assert_denied(srv, outside_ip)
        # as does a password ACL SETUSER gives the default user (Redis 7.0
        # looks at its nopass flag), until nopass comes back
        assert admin.cmd("ACL", "SETUSER", "default", ">pw2") == OK
        with outside_client(srv) as c:
            assert c.cmd("AUTH", "pw2") == OK
            assert c.cmd("PING") == PONG
        assert admin.cmd("ACL", "SETUSER", "default", "nopass") == OK
        assert_denied(srv, outside_ip)

        # so does protected-mode no, at runtime
        assert admin.cmd("CONFIG", "SET", "protected-mode", "no") == OK
        with outside_client(srv) as c:
            assert c.cmd("PING") == PONG
        assert admin.cmd("CONFIG", "SET", "protected-mode", "yes") == OK
        assert_denied(srv, outside_ip)
        assert admin.cmd("CONFIG", "SET", "protected-mode", "maybe") == config_set_error(
            "protected-mode", "argument must be 'yes' or 'no'")


@pytest.mark.parametrize("policy", POLICIES)
def test_protected_mode_off_from_command_line(start, policy, outside_ip):
    # the option DENIED's text suggests
    srv = start(policy, ["--server.bind", "127.0.0.1 %s" % outside_ip, "--protected-mode", "no"])
    with outside_client(srv) as c:
        assert c.cmd("PING") == PONG
        assert config_get(c, "protected-mode") == "no"


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("policy", POLICIES)
def test_empty_bind_is_a_startup_error(tmp_path, policy):
    exe = percore_bin()
    want = 'bind needs at least one address ("* -::*" listens on every one)'
    for value in ("", "   "):
        p = subprocess.run([exe, "--scheduler.policy", policy, "--server.bind", value],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1
        assert "--server.bind" in p.stderr and want in p.stderr, p.stderr
    ini = tmp_path / "server.ini"
    ini.write_text("[server]\nport = 7777\nbind = \"\"\n")
    p = subprocess.run([exe, str(ini), "--scheduler.policy", policy], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1
    assert "%s:3: bad value '\"\"' for key 'bind' in [server]" % ini in p.stderr, p.stderr
    assert want in p.stderr
    # every address is asked for explicitly
    p = subprocess.run([exe, "--test-config", "--scheduler.policy", policy, "--server.bind",
                        "* -::*"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("policy", POLICIES)
def test_config_set_sizes_checked_as_at_startup(start, policy):
    srv = start(policy)
    with srv.client() as c:
        assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "9223372036854775807") == \
            config_set_error("proto-max-bulk-len",
                             "argument must be between 1048576 and 17179869184 inclusive")
        assert c.cmd("CONFIG", "SET", "client-query-buffer-limit", "17gb") == \
            config_set_error("client-query-buffer-limit",
                             "argument must be between 1048576 and 17179869184 inclusive")
        assert c.cmd("CONFIG", "SET", "maxmemory", "9223372036854775807") == \
            config_set_error("maxmemory",
                             "argument must be between 0 and 70368744177664 inclusive")
        # startup's cross-check: a bulk must fit in the query buffer
        assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "2gb") == config_set_error(
            "proto-max-bulk-len", "proto-max-bulk-len (2147483648) must not exceed "
            "client-query-buffer-limit (1073741824): a request must fit in the query buffer")
        assert c.cmd("CONFIG", "SET", "client-query-buffer-limit", "100mb") == config_set_error(
            "client-query-buffer-limit", "proto-max-bulk-len (536870912) must not exceed "
            "client-query-buffer-limit (104857600): a request must fit in the query buffer")
        # all or nothing: the good pair before the bad one is not applied
        assert isinstance(c.cmd("CONFIG", "SET", "timeout", "77", "proto-max-bulk-len", "2gb"),
                          Err)
        assert config_get(c, "timeout") == "0"
        assert config_get(c, "proto-max-bulk-len") == "536870912"
        # both at once are judged together
        assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "2gb",
                     "client-query-buffer-limit", "4gb") == OK
        assert config_get(c, "proto-max-bulk-len") == "2147483648"
        assert c.cmd("CONFIG", "SET", "client-query-buffer-limit", "1gb",
                     "proto-max-bulk-len", "512mb") == OK
        assert config_get(c, "client-query-buffer-limit") == "1073741824"

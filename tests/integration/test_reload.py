"""SIGHUP reloads the configuration, and systemd hears of it (Type=notify).

Each test starts its own server from an ini file of its own (the port is in
the file, so a changed port is a change the reload must refuse), edits the
file as an editor saves it (a new file renamed over the old) and sends
SIGHUP: runtime keys are applied, others logged as needing a restart, a broken
file changes nothing, the command line's --section.key values stay on top,
and no acknowledged write is lost to a reload under load. NOTIFY_SOCKET
pointed at a datagram socket of the test's shows READY, RELOADING, STOPPING."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import (LATENCY_SCALE, OK, SERVER_IDS, SERVER_PARAMS, START_TIMEOUT, RawClient,
                      Server, percore_bin, run_threads, stop_all, wait_for)

pytestmark = pytest.mark.percore_only

WAIT = 5.0 * LATENCY_SCALE  # bound on any wait for the server to act on a signal


def ini_text(port, server="", store="", security=""):
    return ("[server]\nport = %d\nbind = 127.0.0.1\n%s\n[store]\n%s\n[security]\n%s\n"
            % (port, server, store, security))


class IniServer(Server):
    """A server started as `percore-server FILE --section.key value...`, FILE
    written by the test (ini_text with the port chosen at start and `initial`);
    with `notify`, NOTIFY_SOCKET names it and readiness is READY=1 on it."""

    def __init__(self, policy, threads, logdir, overrides=(), notify=None, **initial):
        super().__init__("percore", policy, threads, logdir, overrides)
        self.ini = os.path.join(self.logdir, "server.ini")
        self.initial = initial
        self.notify = notify

    def write(self, text):
        tmp = self.ini + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.ini)

    def edit(self, **sections):
        self.write(ini_text(self.port, **sections))

    def _argv(self, port):
        self.write(ini_text(port, **self.initial))
        return [percore_bin(), self.ini, "--server.threads", str(self.threads),
                "--scheduler.policy", self.policy] + self.extra_args

    def _wait_ready(self):
        if not self.notify:
            return super()._wait_ready()
        # READY=1 comes once every worker listens: a connection made right
        # after it must be accepted, not refused.
        msg = self.notify.wait_for("READY=1", self.proc)
        if msg is None:
            return False
        self.ready_msg = msg
        with socket.create_connection((self.host, self.port), timeout=WAIT) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            assert s.recv(64).startswith(b"+PONG")
        return True

    def sighup(self):
        os.kill(self.proc.pid, signal.SIGHUP)


class NotifySocket:
    """systemd's end of sd_notify: a datagram socket, one message per datagram."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="percore-notify-")  # short: sun_path is 108 bytes
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)

    def wait_for(self, line, proc=None, timeout=None):
        """The next message, skipping others, that has `line` as one of its
        lines; None when the time is up or proc exited."""
        deadline = time.monotonic() + (timeout or START_TIMEOUT * LATENCY_SCALE)
        while time.monotonic() < deadline:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                if proc is not None and proc.poll() is not None:
                    return None
                continue
            if line in msg.split("\n"):
                return msg
        return None

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=SERVER_PARAMS, ids=SERVER_IDS)
def ini_server(request, tmp_path_factory):
    """ini_server(overrides=(), notify=None, server=..., store=..., security=...)
    -> a started IniServer under this test's (policy, threads); stopped and
    checked at the end."""
    policy, threads = request.param
    started = []

    def make(overrides=(), notify=None, **initial):
        srv = IniServer(policy, threads, tmp_path_factory.mktemp("reload"), overrides, notify,
                        **initial)
        started.append(srv)
        return srv.start()

    yield make
    stop_all(started)


def config_get(c, key):
    return c.cmd("CONFIG", "GET", key)[1]


def wait_config(c, key, want):
    got = wait_for(lambda: config_get(c, key) == want, timeout=WAIT)
    assert got, "%s is %r, not %r, %.0f s after SIGHUP" % (key, config_get(c, key), want, WAIT)


def wait_log(srv, pattern):
    found = wait_for(lambda: re.search(pattern, srv.log(), re.M), timeout=WAIT)
    assert found, "log lacks %r:\n%s" % (pattern, srv.log()[-3000:])
    return found


def test_reload_applies_runtime_keys(ini_server):
    # --protected-mode (a short form) and --store.maxmemory-samples stay over the file
    srv = ini_server(["--protected-mode", "no", "--store.maxmemory-samples", "7"],
                     server="timeout = 0\nloglevel = notice", store="maxmemory = 1mb")
    old_port = srv.port
    with RawClient(srv.host, srv.port, decode=True) as c:
        assert config_get(c, "maxmemory") == "1048576"
        assert c.cmd("SET", "k", "v") == OK
        srv.edit(server="port = %d\ntimeout = 300\nloglevel = verbose" % (old_port + 1),
                 store="maxmemory = 2mb\nmaxmemory-samples = 3",
                 security="requirepass = s3cret\nprotected-mode = yes")
        srv.sighup()
        wait_config(c, "maxmemory", "2097152")
        assert config_get(c, "timeout") == "300"
        assert config_get(c, "loglevel") == "verbose"
        assert config_get(c, "maxmemory-samples") == "7"
        assert config_get(c, "protected-mode") == "no"
        # the port is not a runtime key: it stays, and the log says why
        assert config_get(c, "port") == str(old_port)
        wait_log(srv, r"config reload: server\.port changed in \S*server\.ini; restart to apply")
        log = srv.log()
        assert "config reload: store.maxmemory = 2097152" in log
        assert "config reload: security.requirepass changed" in log
        assert "s3cret" not in log
        assert "maxmemory-samples =" not in log
        # this connection stays authenticated; a new one must AUTH
        assert c.cmd("GET", "k") == "v"
    with RawClient(srv.host, old_port, decode=True) as c2:
        assert c2.cmd("GET", "k").msg.startswith("NOAUTH")
        assert c2.cmd("AUTH", "s3cret") == OK
        assert c2.cmd("GET", "k") == "v"


def test_reload_broken_file_changes_nothing(ini_server):
    srv = ini_server(store="maxmemory = 1mb\nmaxmemory-policy = allkeys-lru")
    with RawClient(srv.host, srv.port, decode=True) as c:
        srv.edit(server="timeout = 60", store="maxmemory = 5mb\nmaxmemory-policy = everything")
        srv.sighup()
        wait_log(srv, r"config reload failed, nothing changed: \S*server\.ini:\d+: bad value "
                      r"'everything' for key 'maxmemory-policy'")
        assert config_get(c, "maxmemory") == "1048576"
        assert config_get(c, "timeout") == "0"
        assert c.cmd("SET", "k", "v") == OK
        assert c.cmd("GET", "k") == "v"

        srv.write(ini_text(srv.port, server="timeout = 60\nthis is not a key"))
        srv.sighup()
        wait_log(srv, r"nothing changed: \S*server\.ini:5: syntax error")
        assert config_get(c, "timeout") == "0"

        # fixed: applied, and the keys the file no longer has are back to their defaults
        srv.edit(server="timeout = 60")
        srv.sighup()
        wait_config(c, "timeout", "60")
        assert config_get(c, "maxmemory") == "0"
        assert config_get(c, "maxmemory-policy") == "noeviction"
        assert c.cmd("GET", "k") == "v"


def test_reload_under_load_loses_no_write(ini_server):
    srv = ini_server(store="maxmemory = 0")
    acked = [dict() for _ in range(4)]
    incrs = [0] * 4
    reloads = [0]

    def writer(i):
        def run(stop):
            with RawClient(srv.host, srv.port, decode=True) as c:
                n = 0
                while not stop.is_set():
                    key = "w%d:%d" % (i, n % 200)
                    assert c.cmd("SET", key, n) == OK
                    acked[i][key] = str(n)
                    assert c.cmd("INCR", "counter") > 0
                    incrs[i] += 1
                    assert c.cmd("GET", key) == str(n)
                    n += 1
        return run

    def reloader(stop):
        for k in range(10):
            if stop.is_set():
                break
            srv.edit(server="timeout = %d" % (100 + k),
                     store="maxmemory = %s\nhz = %d" % ("0" if k % 2 else "1gb", 10 + k % 2 * 10))
            srv.sighup()
            reloads[0] += 1
            time.sleep(0.1)

    run_threads([writer(i) for i in range(4)] + [reloader], duration=1.5 * LATENCY_SCALE)
    assert reloads[0] >= 5 and min(incrs) > 0
    with RawClient(srv.host, srv.port, decode=True) as c:
        for i in range(4):
            for key, val in acked[i].items():
                assert c.cmd("GET", key) == val, key
        assert int(c.cmd("GET", "counter")) == sum(incrs)
        # the last edit is what runs (signals sent close together may merge)
        assert "config reload failed" not in srv.log()
        wait_config(c, "timeout", str(100 + reloads[0] - 1))


@pytest.mark.parametrize("stop_by", ["SIGTERM", "SHUTDOWN"])
def test_sd_notify(ini_server, stop_by):
    notify = NotifySocket()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NOTIFY_SOCKET", notify.path)
            srv = ini_server(notify=notify)  # started once READY=1 came (IniServer._wait_ready)
        assert ("STATUS=ready: port %d, %d workers, policy %s"
                % (srv.port, srv.threads, srv.policy)) in srv.ready_msg.split("\n")
        with RawClient(srv.host, srv.port, decode=True) as c:
            srv.edit(server="timeout = 42")
            srv.sighup()
            assert notify.wait_for("RELOADING=1", timeout=WAIT), "no RELOADING=1"
            assert notify.wait_for("READY=1", timeout=WAIT), "no READY=1 after the reload"
            assert config_get(c, "timeout") == "42"
            srv.expect_exit = True
            if stop_by == "SIGTERM":
                srv.proc.send_signal(signal.SIGTERM)
            else:
                c.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
            assert notify.wait_for("STOPPING=1", timeout=WAIT), "no STOPPING=1"
        srv.proc.wait(timeout=WAIT)
        assert srv.proc.returncode == 0
    finally:
        notify.close()


@pytest.mark.parametrize("policy", sorted({p for p, _ in SERVER_PARAMS}))
def test_test_config(tmp_path, policy):
    ini = tmp_path / "server.ini"
    ini.write_text(ini_text(7000, store="maxmemory = 2mb"))
    argv = [percore_bin(), "--test-config", str(ini), "--scheduler.policy", policy]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "percore-server: configuration OK\n"
    ini.write_text(ini_text(7000, store="maxmemory = 2mb\nmaxmemroy = 3mb"))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "%s:7: unknown key 'maxmemroy' in [store]" % ini in p.stderr, p.stderr

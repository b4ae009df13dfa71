"""Scripts past busy-reply-threshold: BUSY replies, SCRIPT KILL, UNKILLABLE,
SHUTDOWN NOSAVE; and the server serving everyone normally afterwards."""

import time

import pytest

from conftest import Err, RawClient, Status, encode_command

# A script that reads its key, then never ends on its own.
SPIN_READ = "redis.call('get', KEYS[1]) while true do end"
# The same after a write: SCRIPT KILL must refuse it.
SPIN_WRITE = "redis.call('set', KEYS[1], 'w') while true do end"
THRESHOLD_MS = 100


def _start_busy_script(server, body, key):
    """Send EVAL on its own connection (replies read later) and wait until the
    script has run past the threshold."""
    runner = RawClient(server.host, server.port)
    # A PING pipelined behind the EVAL: it must be answered after the script.
    runner.send(encode_command("EVAL", body, "1", key) + encode_command("PING"))
    time.sleep(THRESHOLD_MS / 1000.0 * 4)
    return runner


def _wait_busy(client, *cmd, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        reply = client.cmd(*cmd)
        if isinstance(reply, Err) and reply.msg.startswith("BUSY"):
            return reply
        assert time.time() < deadline, "no BUSY reply within %.0f s: last %r" % (timeout, reply)
        time.sleep(0.02)


@pytest.fixture
def busy_config(server, r):
    r.config_set("busy-reply-threshold", THRESHOLD_MS)
    yield
    r.config_set("busy-reply-threshold", 5000)


def test_busy_reply_then_script_kill(server, r, busy_config):
    runner = _start_busy_script(server, SPIN_READ, "{busy}a")
    with RawClient(server.host, server.port) as other:
        # Same partition as the script's key (hash tag): answered BUSY, not kept waiting.
        busy = _wait_busy(other, "SET", "{busy}b", "1")
        assert busy == Err(b"BUSY Redis is busy running a script. You can only call SCRIPT "
                           b"KILL or SHUTDOWN NOSAVE.")
        assert other.cmd("SCRIPT", "KILL") == Status(b"OK")
        killed = runner.read_reply()
        assert isinstance(killed, Err) and "Script killed by user with SCRIPT KILL" in killed.msg
        # The command pipelined behind the script runs once it is gone.
        assert runner.read_reply() == Status(b"PONG")
        assert runner.cmd("GET", "{busy}a") is None
        # The BUSY SET did not run; now it does.
        assert other.cmd("GET", "{busy}b") is None
        assert other.cmd("SET", "{busy}b", "2") == Status(b"OK")
        assert other.cmd("SCRIPT", "KILL") == Err(b"NOTBUSY No scripts in execution right now.")
    runner.close()
    assert r.get("{busy}b") == "2"


def test_busy_error_inside_multi_aborts_exec(server, r, busy_config):
    runner = _start_busy_script(server, SPIN_READ, "{busy}a")
    with RawClient(server.host, server.port) as other:
        _wait_busy(other, "GET", "{busy}a")
        assert other.cmd("MULTI") == Status(b"OK")
        # Queued or refused right away (Redis refuses): either way EXEC must not run it.
        queued = other.cmd("SET", "{busy}a", "x")
        assert queued in (Status(b"QUEUED"), Err(b"BUSY Redis is busy running a script. "
                                                 b"You can only call SCRIPT KILL or SHUTDOWN "
                                                 b"NOSAVE."))
        exec_reply = other.cmd("EXEC")
        assert isinstance(exec_reply, Err)
        assert exec_reply.msg.startswith("BUSY") or exec_reply.msg.startswith("EXECABORT")
        if exec_reply.msg.startswith("BUSY"):
            # Like Redis: a rejected EXEC leaves the client in its (flagged) MULTI.
            assert other.cmd("DISCARD") == Status(b"OK")
        assert other.cmd("SCRIPT", "KILL") == Status(b"OK")
        assert runner.read_reply().msg.startswith("ERR")
        assert runner.read_reply() == Status(b"PONG")
        assert other.cmd("GET", "{busy}a") is None
    runner.close()


def test_unkillable_script_and_shutdown_nosave(server, server_factory):
    if server.target == "percore":
        srv = server_factory(["--scripting.busy-reply-threshold", str(THRESHOLD_MS)],
                             policy=server.policy, threads=server.threads)
    else:
        srv = server_factory()
        with RawClient(srv.host, srv.port) as admin:
            admin.cmd("CONFIG", "SET", "busy-reply-threshold", str(THRESHOLD_MS))
    runner = _start_busy_script(srv, SPIN_WRITE, "{busy}a")
    with RawClient(srv.host, srv.port) as other:
        _wait_busy(other, "GET", "{busy}a")
        assert other.cmd("SCRIPT", "KILL") == Err(
            b"UNKILLABLE Sorry the script already executed write commands against the dataset. "
            b"You can either wait the script termination or kill the server in a hard way using "
            b"the SHUTDOWN NOSAVE command.")
        srv.expect_exit = True
        other.send(encode_command("SHUTDOWN", "NOSAVE"))
        assert other.is_closed(timeout=10)
    srv.proc.wait(timeout=10)
    runner.close()


@pytest.mark.percore_only
def test_busy_only_where_the_script_is(server, r, busy_config):
    """Other partitions stay served: of many connections (spread over the
    workers) and keys in many partitions, some run normally while the script
    spins; the script's own partition answers BUSY from every connection."""
    runner = _start_busy_script(server, SPIN_READ, "{busy}a")
    clients = [RawClient(server.host, server.port) for _ in range(16)]
    try:
        served = 0
        for cl in clients:
            _wait_busy(cl, "GET", "{busy}b")
            for i in range(8):
                reply = cl.cmd("SET", "free:%d" % i, "v")
                if reply == Status(b"OK"):
                    served += 1
                else:
                    assert isinstance(reply, Err) and reply.msg.startswith("BUSY"), reply
        assert served > 0, "no command outside the script's partition was served"
        # ZUNIONSTORE holds its destination's and sources' partitions only,
        # not every partition, so it too is served beside the busy script.
        stored = 0
        for cl in clients:
            reply = cl.cmd("ZUNIONSTORE", "{free}dst", "2", "{free}a", "{free}b")
            if reply == 0:
                stored += 1
            else:
                assert isinstance(reply, Err) and reply.msg.startswith("BUSY"), reply
        assert stored > 0, "ZUNIONSTORE waited for the busy script's partition"
        assert clients[0].cmd("SCRIPT", "KILL") == Status(b"OK")
        assert runner.read_reply().msg.startswith("ERR")
        assert runner.read_reply() == Status(b"PONG")
        for cl in clients:
            assert cl.cmd("PING") == Status(b"PONG")
    finally:
        for cl in clients:
            cl.close()
        runner.close()

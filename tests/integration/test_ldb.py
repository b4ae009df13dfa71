"""SCRIPT DEBUG and the Lua debugger (LDB) as redis-cli --ldb-sync-mode drives
it: sessions spoken in raw RESP (each stop an array of status lines), the
debugger's commands with Redis 7.0's texts, redis.breakpoint()/redis.debug(),
errors, a client leaving mid-session, hostile input, and (percore) other
clients served while a session holds its worker.

SCRIPT DEBUG YES (redis-cli --ldb): the session runs in a forked child on
its copy of the data, the server goes on serving everyone else, and the
script's changes are rolled back; children end with their client, at the
bound, at SHUTDOWN and SIGTERM, and are reaped."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest
import redis

from conftest import Err, RawClient, Status, encode_command, make_client

REDIS_CLI = shutil.which("redis-cli")

SCRIPT = "\n".join([
    "local a=1",
    "local b=redis.call('set',KEYS[1],a)",
    "redis.debug('hi',{1,2})",
    "redis.breakpoint()",
    "return {a,b}",
])


def lines(reply):
    """A debugger reply: an array of status lines, as plain strings."""
    assert isinstance(reply, list), "not a debugger reply: %r" % (reply,)
    for x in reply:
        assert isinstance(x, Status), "not a status line: %r" % (x,)
    return [x.s for x in reply]


class Session:
    """One debugging session on its own connection."""

    def __init__(self, server, body, keys=(), args=(), mode="SYNC"):
        self.c = RawClient(server.host, server.port, decode=True)
        assert self.c.cmd("SCRIPT", "DEBUG", mode) == Status("OK")
        self.first = self.c.cmd("EVAL", body, str(len(keys)), *keys, *args)

    def do(self, *cmd):
        return lines(self.c.cmd(*cmd))

    def end(self, *cmd):
        """A command that ends the session: <endsession>, then the EVAL's
        reply, then the server closes the connection."""
        assert self.do(*cmd) == ["<endsession>"]
        reply = self.c.read_reply()
        assert self.c.is_closed(5.0)
        return reply

    def close(self):
        self.c.close()


@pytest.fixture
def sess(server, r):
    made = []

    def make(body, keys=(), args=(), mode="SYNC"):
        s = Session(server, body, keys, args, mode)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_script_debug_arguments(server, r, c):
    assert c.cmd("SCRIPT", "DEBUG", "maybe") == Err("ERR Use SCRIPT DEBUG YES/SYNC/NO")
    assert c.cmd("SCRIPT", "DEBUG") == Err("ERR wrong number of arguments for 'script|debug' command")
    assert c.cmd("SCRIPT", "DEBUG", "no") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "SYNC") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "NO") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "yes") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "NO") == Status("OK")
    # NO really turned it off: the EVAL just runs.
    assert c.cmd("EVAL", "return 7", "0") == 7
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "SYNC") == Status("QUEUED")
    assert c.cmd("EXEC") == [Err("ERR SCRIPT DEBUG must be called outside a pipeline")]
    reply = c.cmd("EVAL", "return redis.call('script','debug','sync')", "0")
    assert isinstance(reply, Err) and "This Redis command is not allowed from script" in reply.msg


def test_help_step_print_list(sess, r):
    s = sess(SCRIPT, keys=["x"])
    assert lines(s.first) == ["* Stopped at 1, stop reason = step over", "-> 1   local a=1"]
    h = s.do("help")
    assert h[0] == "Redis Lua debugger help:" and len(h) == 30
    assert "[a]bort              Stop the execution of the script. In sync" in h
    assert s.do("s") == ["* Stopped at 2, stop reason = step over",
                         "-> 2   local b=redis.call('set',KEYS[1],a)"]
    # Stepping over redis.call shows the call and its reply.
    assert s.do("next") == ['<redis> set x 1', '<reply> "+OK"',
                            "* Stopped at 3, stop reason = step over",
                            "-> 3   redis.debug('hi',{1,2})"]
    assert s.do("p") == ["<value> a = 1", '<value> b = {["ok"]="OK"}']
    assert s.do("p", "a") == ["<value> 1"]
    assert s.do("p", "KEYS") == ['<value> {"x"}']
    assert s.do("p", "nosuchvar") == ["No such variable."]
    assert s.do("l") == ["   1   local a=1", "   2   local b=redis.call('set',KEYS[1],a)",
                         "-> 3   redis.debug('hi',{1,2})", "   4   redis.breakpoint()",
                         "   5   return {a,b}"]
    assert s.do("l", "2", "0") == ["   2   local b=redis.call('set',KEYS[1],a)"]
    assert s.do("list", "1", "1") == ["   1   local a=1", "   2   local b=redis.call('set',KEYS[1],a)"]
    assert len(s.do("w")) == 5
    assert s.do("t") == ["In top level:", "-> 3   redis.debug('hi',{1,2})"]
    # redis.debug logs before the next stop; redis.breakpoint stops on the next line.
    assert s.do("s") == ['<debug> line 3: "hi", {1; 2}', "* Stopped at 4, stop reason = step over",
                         "-> 4   redis.breakpoint()"]
    assert s.do("c") == ["* Stopped at 5, stop reason = redis.breakpoint() called",
                         "-> 5   return {a,b}"]
    assert s.end("c") == [1, Status("OK")]
    assert r.get("x") == "1"  # SYNC mode keeps the changes


def test_breakpoints(sess, r):
    body = "\n".join("local v%d = %d" % (i, i) for i in range(1, 8)) + "\nreturn v7"
    s = sess(body)
    assert s.do("b") == ["No breakpoints set. Use 'b <line>' to add one."]
    assert s.do("b", "4") == ["   3   local v3 = 3", "  #4   local v4 = 4", "   5   local v5 = 5"]
    assert s.do("b", "4") == ["Wrong line number."]  # already set
    assert s.do("b", "99") == ["Wrong line number."]
    assert s.do("b", "x") == ["Invalid argument:'x'"]
    assert s.do("b", "6") == ["   5   local v5 = 5", "  #6   local v6 = 6", "   7   local v7 = 7"]
    assert s.do("b") == ["2 breakpoints set:", "  #4   local v4 = 4", "  #6   local v6 = 6"]
    assert s.do("c") == ["* Stopped at 4, stop reason = break point", "->#4   local v4 = 4"]
    assert s.do("b", "-6") == ["Breakpoint removed."]
    assert s.do("b", "-6") == ["No breakpoint in the specified line."]
    assert s.do("b", "0") == ["All breakpoints removed."]
    assert s.end("c") == 7


def test_eval_redis_maxlen(sess, r):
    r.set("k", "v")
    s = sess("local s=string.rep('a',100)\nreturn s", keys=["k"])
    assert s.do("e", "1+1") == ["<retval> 2"]
    assert s.do("e", "return", "{1,2}") == ["<retval> {1; 2}"]
    assert s.do("e", "local", "x", "=", "5", "return", "x") == ["<retval> 5"]
    out = s.do("e", "error('boom')")
    assert len(out) == 1 and out[0].startswith("<error> ") and "boom" in out[0]
    assert s.do("r", "get", "k") == ["<redis> get k", '<reply> "v"']
    assert s.do("r", "ping") == ["<redis> ping", '<reply> "+PONG"']
    assert s.do("r", "incr") == ["<redis> incr",
                                 "<error> Wrong number of args calling Redis command from script"]
    assert s.do("r") == ["<error> Unknown Redis Lua debugger command or wrong number of arguments."]
    assert s.do("m") == ["<value> replies are truncated at 256 bytes."]
    assert s.do("m", "5") == ["<value> replies are truncated at 60 bytes."]
    assert s.do("n") == ["* Stopped at 2, stop reason = step over", "-> 2   return s"]
    assert s.do("p", "s") == ['<value> "' + "a" * 51 + " ..."]
    assert s.do("m", "0") == ["<value> replies are unlimited."]
    assert s.do("p", "s") == ['<value> "' + "a" * 100 + '"']
    assert s.do("xyz") == ["<error> Unknown Redis Lua debugger command or wrong number of arguments."]
    assert s.end("c") == "a" * 100


def test_abort_keeps_changes(sess, r):
    s = sess("redis.call('set',KEYS[1],'before')\nredis.call('set',KEYS[1],'after')\nreturn 1",
             keys=["ak"])
    s.do("n")
    reply = s.end("a")
    assert isinstance(reply, Err) and reply.msg.startswith("ERR script aborted for user request")
    assert r.get("ak") == "before"


def check_compile_error(server, mode):
    """A script that does not compile: the session starts and ends at once."""
    c = RawClient(server.host, server.port)
    try:
        assert c.cmd("SCRIPT", "DEBUG", mode) == Status("OK")
        c.send(encode_command("EVAL", "this is not lua", "0"))
        assert lines(c.read_reply()) == ["<endsession>"]
        reply = c.read_reply()
        assert isinstance(reply, Err) and reply.msg.startswith("ERR Error compiling script")
        assert c.is_closed(5.0)
    finally:
        c.close()


def test_script_error_and_compile_error(sess, server):
    s = sess("local a = 1\nerror('boom')")
    reply = s.end("c")
    assert isinstance(reply, Err) and "boom" in reply.msg
    check_compile_error(server, "SYNC")


def test_evalsha_refused(server, r, c):
    sha = r.script_load("return 1")
    assert c.cmd("SCRIPT", "DEBUG", "SYNC") == Status("OK")
    assert c.cmd("EVALSHA", sha, "0") == Err("ERR Please use EVAL instead of EVALSHA for debugging")
    # EVAL_RO debugs too.
    c.send(encode_command("EVAL_RO", "return 5", "0"))
    assert lines(c.read_reply())[0] == "* Stopped at 1, stop reason = step over"
    assert lines(c.cmd("c")) == ["<endsession>"]
    assert c.read_reply() == 5


def test_timeout_stops_an_endless_loop(sess, r):
    r.config_set("busy-reply-threshold", 100)
    try:
        s = sess("local i = 0\nwhile true do i = i + 1 end")
        out = s.do("c")
        assert out[0] == "* Stopped at 2, stop reason = timeout reached, infinite loop?"
        reply = s.end("a")
        assert isinstance(reply, Err) and "script aborted for user request" in reply.msg
    finally:
        r.config_set("busy-reply-threshold", 5000)


def test_client_leaves_mid_session(sess, server, r):
    # As Redis: the script runs on to its end without stopping; the worker
    # and the partitions are free again.
    s = sess("redis.call('set',KEYS[1],'1')\nredis.breakpoint()\nredis.call('set',KEYS[1],'2')\n"
             "return 1", keys=["lk"])
    s.c.close()
    deadline = time.time() + 10

    def unbusy(fn):
        # While the script runs on, its partitions answer BUSY.
        while True:
            try:
                return fn()
            except redis.exceptions.ResponseError as e:
                assert str(e).startswith("BUSY") and time.time() < deadline, e
                time.sleep(0.02)

    while unbusy(lambda: r.get("lk")) != "2":
        assert time.time() < deadline, "the script did not finish after its client left"
        time.sleep(0.02)
    assert unbusy(lambda: r.set("lk", "3"))
    assert r.get("lk") == "3"
    s2 = sess("return 9", keys=["lk"])
    assert s2.end("c") == 9


@pytest.mark.parametrize("data", [
    b"c\r\n",                                       # inline: not an array
    b"*2000\r\n",                                   # too many arguments
    b"*1\r\n$-5\r\n",                               # bad length
    b"*1\r\n$2000000\r\n",                          # a bulk past the input bound
    b"+hello\r\n",
    b"*1\r\n$1\r\ncXX",                           # no CRLF after the bulk
])
def test_protocol_errors_end_the_session(sess, data):
    s = sess("return 1")
    s.c.send(data)
    assert lines(s.c.read_reply()) == ["<endsession>"]
    reply = s.c.read_reply()
    assert isinstance(reply, Err) and reply.msg.startswith("ERR protocol error")
    assert s.c.is_closed(5.0)


def test_commands_with_nul_bytes(sess):
    # Redis's "Test scripting debug protocol parsing".
    s = sess("return 'hello'")
    for name in ("hello\0world", "hello\0", "\0hello", "\0hello\0"):
        assert s.do(name) == ["<error> Unknown Redis Lua debugger command or wrong number of arguments."]
    assert s.end("c") == "hello"


@pytest.mark.parametrize("n", [100, 1023])
def test_redis_command_with_many_arguments(sess, r, n):
    # Redis's "Test scripting debug lua stack overflow": many arguments to the
    # debugger's redis command do not overflow Lua's stack.
    s = sess("return 'hello'")
    out = s.do("redis", *(["test"] * n))
    assert out[0].startswith("<redis> test test")
    assert out[-1] == "<error> Unknown Redis command called from script"
    assert s.end("c") == "hello"
    assert r.ping()


@pytest.mark.percore_only
def test_huge_partial_input_is_bounded(sess):
    # Bytes that never make a command: past 1 MB the session ends, as Redis's
    # "max client buffer reached".
    s = sess("return 1")
    try:
        s.c.send(b"*1\r\n$1048570\r\n" + b"x" * 1048566)
    except OSError:
        pass
    data = s.c.read_until_close(10.0)
    assert b"<endsession>" in data and b"max client buffer reached" in data


@pytest.mark.percore_only
def test_others_served_during_a_session(sess, server, r):
    """The session holds its worker and its keys' partitions; clients on the
    other workers are served, the session's own worker answers BUSY (never a
    hang)."""
    s = sess("redis.call('set',KEYS[1],'s')\nreturn 1", keys=["held"])
    got_ok = 0
    # A client on the other worker whose key that worker owns is served
    # (about one in four under share-nothing with two workers).
    for i in range(48):
        c = RawClient(server.host, server.port, timeout=5.0)
        try:
            reply = c.cmd("SET", "other:%d" % i, "v")
            assert reply == Status("OK") or (isinstance(reply, Err) and reply.msg.startswith("BUSY")), reply
            got_ok += reply == Status("OK")
            reply = c.cmd("GET", "held")
            assert reply is None or (isinstance(reply, Err) and reply.msg.startswith("BUSY")), reply
        finally:
            c.close()
    if server.threads > 1:
        assert got_ok > 0
    assert s.end("c") == 1
    assert r.get("held") == "s"
    for i in range(4):
        assert r.set("after:%d" % i, "v")


@pytest.mark.percore_only
def test_endless_debugger_eval_is_killable(sess, server, r):
    r.config_set("busy-reply-threshold", 100)
    try:
        s = sess("return 1")
        s.c.send(encode_command("e", "while true do end"))
        time.sleep(0.3)
        k = RawClient(server.host, server.port, timeout=5.0)
        try:
            deadline = time.time() + 10
            while True:
                reply = k.cmd("SCRIPT", "KILL")
                if reply == Status("OK"):
                    break
                assert time.time() < deadline, reply
                time.sleep(0.05)
        finally:
            k.close()
        assert lines(s.c.read_reply()) == ["<endsession>"]
        reply = s.c.read_reply()
        assert isinstance(reply, Err) and "killed" in reply.msg.lower()
    finally:
        r.config_set("busy-reply-threshold", 5000)
    assert r.ping()


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
def test_redis_cli_ldb_sync_mode(server, r, tmp_path):
    path = tmp_path / "s.lua"
    path.write_text("local a = redis.call('set', KEYS[1], ARGV[1])\nlocal b = 2\n"
                    "redis.debug('b is', b)\nreturn b\n")
    out = subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port), "--no-raw",
                          "--ldb-sync-mode", "--eval", str(path), "clik", ",", "v1"],
                         input="n\nn\np\nc\n", capture_output=True, text=True, timeout=30)
    text = out.stdout
    for want in ("* Stopped at 1, stop reason = step over", "<redis> set clik v1", '<reply> "+OK"',
                 "<value> b = 2", '<debug> line 3: "b is", 2', "(integer) 2",
                 "(Lua debugging session ended)"):
        assert want in text, (want, text)
    assert r.get("clik") == "v1"


# ---------------------------------------------------------------- SCRIPT DEBUG YES

WRITER = "redis.call('set',KEYS[1],'changed')\nlocal v = redis.call('get',KEYS[1])\nreturn v"


def children(ppid):
    """The server's child processes: pid -> state letter (Z: a zombie)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[1]) == ppid:
            out[int(d)] = rest[0]
    return out


def wait_children(server, want, timeout=10.0):
    """Wait until the server has `want` children (zombies counted: a child not
    reaped is still there); return them."""
    deadline = time.time() + timeout
    while True:
        got = children(server.proc.pid)
        if len(got) == want:
            return got
        assert time.time() < deadline, "children %r, want %d" % (got, want)
        time.sleep(0.02)


def wait_gone(pid, timeout=10.0):
    """Wait until process pid has exited and been reaped (no /proc entry)."""
    deadline = time.time() + timeout
    while os.path.exists("/proc/%d" % pid):
        assert time.time() < deadline, "process %d still there: %r" % (pid, open(
            "/proc/%d/stat" % pid).read())
        time.sleep(0.02)


def fork_session(server, body=WRITER, keys=("fk",), name=None):
    """A SCRIPT DEBUG YES session stopped at its first line."""
    s = Session(server, body, keys, mode="YES")
    assert lines(s.first)[0] == "* Stopped at 1, stop reason = step over", s.first
    return s


def reset(sock):
    """Close with a TCP reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_forked_session_rolls_back(server, r):
    r.set("fk", "orig")
    before = len(wait_children(server, 0))  # earlier sessions' children exited and reaped
    forks = r.info("stats")["total_forks"]
    s = fork_session(server)
    try:
        assert r.info("stats")["total_forks"] == forks + 1
        assert s.do("n") == ["<redis> set fk changed", '<reply> "+OK"',
                             "* Stopped at 2, stop reason = step over",
                             "-> 2   local v = redis.call('get',KEYS[1])"]
        # The server is not blocked: others are served while the session
        # waits, and see the data as it was (the child has a copy).
        assert r.get("fk") == "orig"
        assert r.set("fk2", "other") and r.get("fk2") == "other"
        assert r.incr("counter") == 1
        # The parent dropped the session's client: only the child has it.
        addr = "%s:%d" % s.c.sock.getsockname()[:2]
        assert addr not in [cl["addr"] for cl in r.client_list()]
        assert len(children(server.proc.pid)) == before + 1
        assert s.do("n") == ["<redis> get fk", '<reply> "changed"',
                             "* Stopped at 3, stop reason = step over", "-> 3   return v"]
        assert s.do("p", "v") == ['<value> "changed"']
        assert s.end("c") == "changed"
    finally:
        s.close()
    assert r.get("fk") == "orig"  # rolled back
    assert r.get("fk2") == "other"
    wait_children(server, before)  # exited and reaped
    assert "Redis forked for debugging eval" in server.log()


def test_forked_session_then_no(server, r, c):
    assert c.cmd("SCRIPT", "DEBUG", "YES") == Status("OK")
    assert c.cmd("SCRIPT", "DEBUG", "NO") == Status("OK")
    assert c.cmd("EVAL", "return redis.call('set',KEYS[1],'kept')", "1", "nk") == Status("OK")
    assert r.get("nk") == "kept"
    # EVALSHA is refused in YES mode too (Redis's text), and the client stays.
    sha = r.script_load("return 1")
    assert c.cmd("SCRIPT", "DEBUG", "YES") == Status("OK")
    assert c.cmd("EVALSHA", sha, "0") == Err("ERR Please use EVAL instead of EVALSHA for debugging")
    assert c.cmd("SCRIPT", "DEBUG", "NO") == Status("OK")
    assert c.cmd("EVALSHA", sha, "0") == 1


def test_forked_session_abort_and_compile_error(server, r):
    r.set("fk", "orig")
    s = fork_session(server)
    try:
        s.do("n")
        reply = s.end("a")
        assert isinstance(reply, Err) and "script aborted for user request" in reply.msg
    finally:
        s.close()
    assert r.get("fk") == "orig"
    check_compile_error(server, "YES")


def test_forked_client_resets_mid_session(server, r):
    before = wait_children(server, 0)
    s = fork_session(server)
    (child,) = set(wait_children(server, len(before) + 1)) - set(before)
    s.do("n")
    reset(s.c.sock)
    # The child sees the reset, exits, and is reaped: no zombie left.
    wait_gone(child)
    wait_children(server, len(before))
    assert r.get("fk") is None and r.ping()


def test_forked_never_reading_client(server, r):
    # A client that starts a session and never reads nor answers: the child
    # waits for it; the server goes on; the child goes with the connection.
    before = len(wait_children(server, 0))  # earlier sessions' children exited and reaped
    c = RawClient(server.host, server.port)
    c.send(encode_command("SCRIPT", "DEBUG", "YES") + encode_command("EVAL", WRITER, "1", "fk"))
    wait_children(server, before + 1)
    for i in range(20):
        assert r.set("nr:%d" % i, i)
    assert r.get("fk") is None
    c.close()
    wait_children(server, before)


def test_forked_endless_loop_child_is_killable(server, r):
    # The script loops in the child: nothing in the server is busy (no BUSY
    # replies, SCRIPT KILL finds no script), and the child dies by SIGKILL
    # and is reaped.
    before = wait_children(server, 0)
    s = fork_session(server, body="redis.call('set',KEYS[1],'x')\nwhile true do end")
    try:
        (child,) = set(wait_children(server, len(before) + 1)) - set(before)
        s.c.send(encode_command("c"))
        time.sleep(0.2)
        assert r.get("fk") is None
        assert r.eval("return 5", 0) == 5
        with pytest.raises(redis.exceptions.ResponseError, match="NOTBUSY"):
            r.script_kill()
        os.kill(child, signal.SIGKILL)
        wait_children(server, len(before))
        assert s.c.is_closed(5.0)
    finally:
        s.close()


@pytest.mark.percore_only
def test_forked_sessions_bound(server, r):
    before = len(wait_children(server, 0))  # earlier sessions' children exited and reaped
    r.config_set("lua-debug-max-forked-sessions", 2)
    made = []
    try:
        made = [fork_session(server), fork_session(server)]
        c = RawClient(server.host, server.port)
        try:
            assert c.cmd("SCRIPT", "DEBUG", "YES") == Status("OK")
            reply = c.cmd("EVAL", WRITER, "1", "fk")
            assert isinstance(reply, Err) and reply.msg.startswith(
                "ERR Too many forked Lua debugging sessions"), reply
            # The client stays, out of debugging mode.
            assert c.cmd("PING") == Status("PONG")
            assert c.cmd("EVAL", "return 3", "0") == 3
            assert len(children(server.proc.pid)) == before + 2
            # One ends: room for another.
            assert made[0].end("c") == "changed"
            wait_children(server, before + 1)
            made.append(fork_session(server))
        finally:
            c.close()
        r.config_set("lua-debug-max-forked-sessions", 0)
        assert r.execute_command("SCRIPT", "DEBUG", "YES") == "OK"
        with pytest.raises(redis.exceptions.ResponseError, match="Too many forked"):
            r.eval("return 1", 0)
        assert r.eval("return 1", 0) == 1
    finally:
        r.config_set("lua-debug-max-forked-sessions", 16)
        for s in made:
            s.close()
    wait_children(server, before)


@pytest.mark.parametrize("how", ["shutdown", "sigterm"])
def test_server_exit_ends_forked_sessions(server, server_factory, how):
    srv = server_factory(policy=server.policy, threads=server.threads)
    rs = make_client(srv)
    rs.config_set("busy-reply-threshold", 60000)  # the loop is not stopped by the timeout
    loop = fork_session(srv, body="while true do end", keys=())
    loop.c.send(encode_command("c"))
    waiting = fork_session(srv)
    kids = wait_children(srv, 2)
    assert rs.ping()
    if how == "shutdown":
        srv.expect_exit = True
        try:
            rs.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass
        srv.proc.wait(timeout=10)
    else:
        assert srv.stop() == []
    for pid in kids:
        wait_gone(pid)
    assert loop.c.is_closed(5.0) and waiting.c.is_closed(5.0)
    loop.close()
    waiting.close()


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
def test_redis_cli_ldb_forked(server, r, tmp_path):
    r.set("clik", "orig")
    path = tmp_path / "s.lua"
    path.write_text("local a = redis.call('set', KEYS[1], ARGV[1])\nlocal b = 2\nreturn b\n")
    out = subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port), "--no-raw",
                          "--ldb", "--eval", str(path), "clik", ",", "v1"],
                         input="n\nn\nc\n", capture_output=True, text=True, timeout=30)
    text = out.stdout
    for want in ("* Stopped at 1, stop reason = step over", "<redis> set clik v1", '<reply> "+OK"',
                 "(integer) 2", "(Lua debugging session ended -- dataset changes rolled back)"):
        assert want in text, (want, text)
    assert r.get("clik") == "orig"


def test_forked_session_churn(server, r):
    # Clients that start a session and vanish at once, many in a row: every
    # child goes (none left running or unreaped), the server is fine.
    wait_children(server, 0)
    forks = r.info("stats")["total_forks"]
    for i in range(30):
        c = RawClient(server.host, server.port)
        c.send(encode_command("SCRIPT", "DEBUG", "YES") + encode_command("EVAL", WRITER, "1", "fk"))
        if i % 2:
            reset(c.sock)
        else:
            c.close()
    wait_children(server, 0)
    assert r.info("stats")["total_forks"] > forks  # some got as far as the fork
    assert r.get("fk") is None and r.dbsize() == 0

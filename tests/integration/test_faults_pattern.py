"""Lua pattern functions stay interruptible (hardening issue 9).

Lua's own string.find/match/gmatch/gsub are C code the script's count hook
never reaches: a backtracking pattern over 100 kB ran practically forever, with no BUSY
replies, no SCRIPT KILL and no SHUTDOWN. percore's own matcher
(scripting/script_pattern.c) checks for them every few thousand steps. The
attacks below would hang Redis itself (its Lua has the same hole), so they are
percore-only; the behaviour checks at the end hold for both."""

import time

import pytest
import redis

from conftest import ALL_POLICIES, LATENCY_SCALE, SERVER_PARAMS, Err, RawClient, Status, encode_command

THRESHOLD_MS = 100
# The server's reply to any request must come within this, busy script or not.
REPLY_WITHIN_S = 0.100 * LATENCY_SCALE
PREFIX = "local s = string.rep('a', 100000) "
# Each backtracks for longer than anyone waits over s (no 'b' to find), inside the matcher.
ATTACKS = {
    "find": PREFIX + "return string.find(s, '(.-)(.-)(.-)(.-)b')",
    "match-method": PREFIX + "return s:match('(.-)(.-)(.-)(.-)b')",
    "gsub": PREFIX + "return s:gsub('(.-)(.-)(.-)(.-)b', 'x')",
    "gmatch": PREFIX + "for a in s:gmatch('(.-)(.-)(.-)(.-)b') do end",
    "pcall-loop": PREFIX + "while true do pcall(string.find, s, '(.-)(.-)(.-)b') end",
}
# The policies the `server` fixture runs (PERCORE_TEST_POLICIES narrows both).
POLICIES = [p for p in ALL_POLICIES if any(p == sp for sp, _ in SERVER_PARAMS)]
N_PROBES = 16  # connections: SO_REUSEPORT spreads them over both workers


def _start_attack(policy, server_factory, body):
    srv = server_factory(["--scripting.busy-reply-threshold", str(THRESHOLD_MS)],
                         policy=policy, threads=2)
    runner = RawClient(srv.host, srv.port, timeout=10)
    # A PING pipelined behind the EVAL: answered once the script is gone.
    runner.send(encode_command("EVAL", body, "0") + encode_command("PING"))
    time.sleep(THRESHOLD_MS / 1000.0 * 3)
    return srv, runner


def _probe(srv, rounds=4):
    """PING from many connections while the script runs: each reply must be
    PONG (another worker) or BUSY (the script's worker, answered from inside
    the matcher), within REPLY_WITHIN_S. Returns the BUSY count."""
    clients = [RawClient(srv.host, srv.port, timeout=2.0) for _ in range(N_PROBES)]
    busy = 0
    late = []
    try:
        for _ in range(rounds):
            for cl in clients:
                t0 = time.monotonic()
                reply = cl.cmd("PING")
                took = time.monotonic() - t0
                if took >= REPLY_WITHIN_S:
                    late.append("%.0f ms" % (took * 1000))
                if isinstance(reply, Err):
                    assert reply.msg.startswith("BUSY"), reply
                    busy += 1
                else:
                    assert reply == Status(b"PONG"), reply
    finally:
        for cl in clients:
            cl.close()
    assert not late, "late replies: %s" % ", ".join(late)
    return busy


@pytest.mark.percore_only
@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("policy", POLICIES)
def test_backtracking_pattern_busy_then_script_kill(server_factory, policy, attack):
    srv, runner = _start_attack(policy, server_factory, ATTACKS[attack])
    try:
        assert _probe(srv) > 0, "no probe reached the script's worker"
        with RawClient(srv.host, srv.port, timeout=2) as killer:
            t0 = time.monotonic()
            assert killer.cmd("SCRIPT", "KILL") == Status(b"OK")
            killed = runner.read_reply()
            took = time.monotonic() - t0
        assert isinstance(killed, Err), killed
        assert killed.msg.startswith("ERR Script killed by user with SCRIPT KILL..."), killed
        assert took < 1.0, "the script stopped %.0f ms after SCRIPT KILL" % (took * 1000)
        assert runner.read_reply() == Status(b"PONG")
        # The worker is itself again: its patterns work, nothing is busy.
        assert runner.cmd("EVAL", "return string.match('id=42', '%d+')", "0") == b"42"
        assert runner.cmd("SCRIPT", "KILL") == Err(b"NOTBUSY No scripts in execution right now.")
    finally:
        runner.close()


@pytest.mark.percore_only
@pytest.mark.parametrize("policy", POLICIES)
def test_backtracking_pattern_shutdown_nosave(server_factory, policy):
    srv, runner = _start_attack(policy, server_factory, ATTACKS["gsub"])
    try:
        assert _probe(srv, rounds=2) > 0, "no probe reached the script's worker"
        srv.expect_exit = True
        with RawClient(srv.host, srv.port, timeout=2) as other:
            t0 = time.monotonic()
            other.send(encode_command("SHUTDOWN", "NOSAVE"))
            srv.proc.wait(timeout=10)
            took = time.monotonic() - t0
        assert took < 2.0, "SHUTDOWN NOSAVE took %.1f s" % took
        assert srv.proc.returncode == 0
    finally:
        runner.close()


# ---- behaviour through EVAL (Lua 5.1 and 5.4 agree on these) ----------------


def test_pattern_results(server, r):
    assert r.eval("return {string.find('hello world', 'o w')}", 0) == [5, 7]
    assert r.eval("return {string.find('a.b', '.', 1, true)}", 0) == [2, 2]
    assert r.eval("return {string.find('hello', 'l', -2)}", 0) == [4, 4]
    assert r.eval("return {('key=val'):match('(%w+)=(%w+)')}", 0) == ["key", "val"]
    assert r.eval("return {string.match('hello', '()ll()')}", 0) == [3, 5]
    assert r.eval("return string.match('f(a(b)c) d', '%b()')", 0) == "(a(b)c)"
    assert r.eval("return {string.gsub('THE (quick) fox', '%f[%a]%a+', 'W')}", 0) == ["W (W) W", 3]
    assert r.eval("return {string.gsub('hello world', '(%w+)', '<%1>')}", 0) == [
        "<hello> <world>", 2]
    assert r.eval("return {string.gsub('$a $b', '%$(%w+)', {a = 'x'})}", 0) == ["x $b", 2]
    assert r.eval("return {('abc'):gsub('%w', function(c) return c:upper() end, 2)}", 0) == [
        "ABc", 2]
    assert r.eval("local t = {} for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do "
                  "t[#t + 1] = k .. v end return table.concat(t, ' ')", 0) == "a1 b2"
    assert r.eval("return string.match('say \"hi\"', '([\"\\'])(.-)%1')", 0) == '"'
    # Linear work on a long subject is not mistaken for an attack.
    assert r.eval("return select(2, string.rep('ab', 500000):gsub('b', 'c'))", 0) == 500000


def test_pattern_errors(server, r):
    with pytest.raises(redis.ResponseError, match=r"malformed pattern \(missing '\]'\)"):
        r.eval("return string.find('a', '[a')", 0)
    with pytest.raises(redis.ResponseError, match="invalid capture index"):
        r.eval("return string.find('a', '%1')", 0)
    with pytest.raises(redis.ResponseError, match="invalid pattern capture"):
        r.eval("return string.match('a', 'a)')", 0)
    assert r.eval("local ok, e = pcall(string.find, 'a', '%') return e", 0).endswith(
        "malformed pattern (ends with '%')")
    assert r.eval("local ok, e = pcall(string.gsub, 'a', 'a', {a = {}}) return e", 0).endswith(
        "invalid replacement value (a table)")


@pytest.mark.percore_only
def test_pattern_lua54_behaviour(server, r):
    """Lua 5.4's rules where 5.1 (Redis's Lua) differs: gmatch's init, '%'
    before a non-digit in a replacement, and 'pattern too complex'."""
    assert r.eval("local t = {} for w in ('one two three'):gmatch('%a+', -5) do t[#t + 1] = w "
                  "end return table.concat(t, ',')", 0) == "three"
    assert r.eval("return {string.find('a\\tb', '%g+', 2)}", 0) == [3, 3]
    with pytest.raises(redis.ResponseError, match="invalid use of '%' in replacement string"):
        r.eval("return string.gsub('abc', 'b', '%x')", 0)
    with pytest.raises(redis.ResponseError, match="pattern too complex"):
        r.eval("return string.find(string.rep('a', 300), string.rep('a?', 200))", 0)
    assert r.eval("return string.find(string.rep('a', 300), string.rep('a?', 199))", 0) == 1

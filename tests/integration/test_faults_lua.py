"""Hostile scripts against the Lua libraries and the reply conversion: each
attack gets an error reply (its exact text), the server keeps serving, RSS
stays bounded, cjson settings do not leak into later scripts, SCRIPT KILL
stops C code running long inside a script, and the worker's Lua memory goes
back down afterwards.

Attacks (each crashed the server or grew it by gigabytes before):
  * cjson.decode of 400000 nested arrays after decode_max_depth(1000000):
    lua-cjson recurses in C, so the thread's stack overflowed;
  * tables that repeat themselves ({t, t} nested 40 deep, t[i] = t) given to
    cmsgpack.pack, cjson.encode or returned as the reply: each copy was
    written out, outside memory-limit, without a chance for SCRIPT KILL.

memory-limit is the server.ini default, 64mb, unless a test sets it."""

import hashlib
import threading
import time

import pytest

from conftest import LATENCY_SCALE, Err, OK, RawClient, Status, encode_command

pytestmark = pytest.mark.percore_only

LIMIT = 64 * 1024 * 1024
GB = 1024 * 1024 * 1024

DECODE_DEEP = ("cjson.decode_max_depth(1000000) "
               "return #cjson.decode(string.rep('[', 400000) .. string.rep(']', 400000))")
DECODE_DEEP_NEW = ("local c = cjson.new() c.decode_max_depth(1000000) "
                   "return #c.decode(string.rep('[', 400000) .. string.rep(']', 400000))")
ENCODE_DEEP = ("cjson.encode_max_depth(1000000) local t = {} "
               "for i = 1, 100000 do t = {t} end return #cjson.encode(t)")
DOUBLING = "local t = {1} for i = 1, 40 do t = {t, t} end "
# cmsgpack writes tables past 16 levels as nil: 8 copies a level still make 8^16.
EIGHTFOLD = "local t = {1} for i = 1, 40 do t = {t, t, t, t, t, t, t, t} end "
PACK_BIG = EIGHTFOLD + "return #cmsgpack.pack(t)"
ENCODE_BIG = DOUBLING + "return #cjson.encode(t)"
REPLY_BIG = DOUBLING + "return t"
REPLY_WIDE_SELF = "local t = {} for i = 1, 100 do t[i] = t end return t"
REPLY_SELF = "local t = {} t[1] = t return t"
BUSY = Err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
           "NOSAVE.")


def sha1(body):
    return hashlib.sha1(body.encode()).hexdigest()


def nomem(body, limit=LIMIT):
    return Err("ERR Error running script %s, not enough memory (the script allocated more than "
               "memory-limit, %d bytes)" % (sha1(body), limit))


def reply_too_big(body, limit=LIMIT):
    return Err("ERR Error running script %s, not enough memory (the script's reply is larger "
               "than memory-limit, %d bytes)" % (sha1(body), limit))


def at_line(msg, body):
    return Err("ERR user_script:1: %s script: %s, on @user_script:1." % (msg, sha1(body)))


def eval_raw(client, body):
    return client.cmd("EVAL", body, "0")


def rss_bytes(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/%d/status" % server.proc.pid)


class RssWatch:
    """Samples the server's RSS every 5 ms while the block runs."""

    def __init__(self, server):
        self.server = server
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.server))
            time.sleep(0.005)

    def __enter__(self):
        self.peak = rss_bytes(self.server)
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join()


def info_field(client, section, name):
    text = client.cmd("INFO", section)
    for line in text.decode().split("\r\n"):
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise AssertionError("no %s in INFO %s" % (name, section))


@pytest.fixture(autouse=True)
def _once_per_policy(server):
    """The attacks are costly: each runs once per policy, with 2 workers (the
    number of workers changes nothing in a script's own limits)."""
    if server.threads not in (None, 2):
        pytest.skip("the Lua attacks run once per policy, with 2 workers")


def assert_serving(server):
    with RawClient(server.host, server.port, timeout=10) as c:
        assert c.cmd("PING") == Status("PONG")
        assert eval_raw(c, "return 'alive'") == b"alive"


# --------------------------------------------------------------------------- cjson depth


def test_cjson_decode_depth_is_an_error_not_a_crash(server):
    with RawClient(server.host, server.port) as c:
        for body in (DECODE_DEEP, DECODE_DEEP_NEW):
            assert eval_raw(c, body) == at_line(
                "Found too many nested data structures (1001) at character 1001", body)
            assert c.cmd("PING") == Status("PONG")
            assert eval_raw(c, "return cjson.decode_max_depth()") == 1000
        assert eval_raw(c, ENCODE_DEEP) == at_line(
            "Cannot serialise, excessive nesting (1001)", ENCODE_DEEP)
        assert eval_raw(c, "return cjson.encode_max_depth()") == 1000
        # The clamp: asking for more gives the bound; 1000 levels still decode.
        assert eval_raw(c, "return cjson.decode_max_depth(1000000)") == 1000
        assert eval_raw(c, "return #cjson.decode(string.rep('[', 1000) .. "
                           "string.rep(']', 1000))") == 1
    assert_serving(server)


# --------------------------------------------------------------------------- cjson settings


SET_ALL = ("cjson.encode_sparse_array(true, 0, 1) cjson.encode_max_depth(5) "
           "cjson.decode_max_depth(7) cjson.encode_number_precision(3) "
           "cjson.encode_keep_buffer(false) cjson.encode_invalid_numbers('null') "
           "cjson.decode_invalid_numbers(false) return cjson.encode(1/3)")
GET_ALL = ("local c, r, s = cjson.encode_sparse_array() "
           "return {tostring(c), r, s, cjson.encode_max_depth(), cjson.decode_max_depth(), "
           "cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), "
           "tostring(cjson.encode_invalid_numbers()), tostring(cjson.decode_invalid_numbers()), "
           "cjson.encode(1/3)}")
DEFAULTS = [b"false", 2, 10, 1000, 1000, 14, b"true", b"false", b"true", b"0.33333333333333"]


def test_cjson_settings_do_not_leak_into_later_scripts(server):
    clients = [RawClient(server.host, server.port) for _ in range(6)]
    try:
        for _ in range(3):
            for c in clients:
                assert eval_raw(c, SET_ALL) == b"0.333"
                assert eval_raw(c, GET_ALL) == DEFAULTS
                # One setting changed inside a script holds for that script.
                assert eval_raw(c, "cjson.encode_number_precision(2) "
                                   "return {cjson.encode(1/3), cjson.encode(2/3)}") == [
                    b"0.33", b"0.67"]
                assert eval_raw(c, "return cjson.encode(1/3)") == b"0.33333333333333"
    finally:
        for c in clients:
            c.close()


# --------------------------------------------------------------------------- memory


def test_self_referencing_reply_nests_to_the_limit(server):
    """Redis's answer: arrays as deep as the stack allows, its error inside."""
    with RawClient(server.host, server.port) as c:
        c.send(encode_command("EVAL", REPLY_SELF, "0"))
        depth = 0
        while True:
            line = c.read_line()
            if line == b"*1":
                depth += 1
                continue
            assert line == b"-ERR reached lua stack limit"
            break
        assert depth == 1001
        assert c.cmd("PING") == Status("PONG")


@pytest.fixture
def small_limit(server):
    """memory-limit 16mb: the attacks pass any limit; a smaller one makes each
    stop sooner (four times fewer bytes written, which the sanitizer builds
    feel most)."""
    with RawClient(server.host, server.port) as c:
        assert c.cmd("CONFIG", "SET", "memory-limit", "16mb") == OK
    yield SMALL_LIMIT
    with RawClient(server.host, server.port) as c:
        assert c.cmd("CONFIG", "SET", "memory-limit", "64mb") == OK


SMALL_LIMIT = 16 * 1024 * 1024


def test_repeating_tables_stop_at_memory_limit(server, small_limit):
    lim = small_limit
    attacks = [
        (PACK_BIG, nomem(PACK_BIG, lim)),
        (ENCODE_BIG, nomem(ENCODE_BIG, lim)),
        ("local t = {} for i = 1, 100 do t[i] = t end return #cjson.new().encode(t)", None),
        (REPLY_BIG, reply_too_big(REPLY_BIG, lim)),
        (REPLY_WIDE_SELF, reply_too_big(REPLY_WIDE_SELF, lim)),
    ]
    with RawClient(server.host, server.port, timeout=120) as c, RssWatch(server) as rss:
        for body, want in attacks:
            assert eval_raw(c, body) == (want or nomem(body, lim))
            assert c.cmd("PING") == Status("PONG")
        # Caught inside the script: Lua's own memory error, and the script goes on.
        assert eval_raw(c, DOUBLING + "local ok, e = pcall(cjson.encode, t) " + EIGHTFOLD
                        + "local ok2, e2 = pcall(cmsgpack.pack, t) "
                          "return {tostring(ok), e, tostring(ok2), e2, "
                          "#string.rep('x', 1000000)}") == [
            b"false", b"not enough memory", b"false", b"not enough memory", 1000000]
        assert eval_raw(c, GET_ALL) == DEFAULTS
    assert rss.peak < GB, "RSS reached %d MB" % (rss.peak >> 20)
    assert_serving(server)
    with RawClient(server.host, server.port) as c:
        # The attacks' garbage was collected: every worker's state is small again.
        assert info_field(c, "memory", "used_memory_lua") < 8 * 1024 * 1024


def test_other_clients_served_during_attacks(server, small_limit):
    """While an attack runs on one connection, others keep getting answers."""
    results = {}

    def attack():
        with RawClient(server.host, server.port, timeout=120) as c:
            results["pack"] = eval_raw(c, PACK_BIG)
            results["reply"] = eval_raw(c, REPLY_BIG)

    t = threading.Thread(target=attack)
    t.start()
    pings = 0
    try:
        # On the attacker's worker a PING waits for the script (the threshold
        # is 5 s here): the timeout allows for a slow sanitizer build.
        with RawClient(server.host, server.port, timeout=120) as c:
            while t.is_alive():
                # BUSY when the attack runs past busy-reply-threshold (5 s: a
                # sanitizer build on a loaded machine) on this client's worker.
                assert c.cmd("PING") in (Status("PONG"), BUSY)
                pings += 1
                time.sleep(0.01)
    finally:
        t.join()
    assert results == {"pack": nomem(PACK_BIG, small_limit),
                       "reply": reply_too_big(REPLY_BIG, small_limit)}
    assert pings > 0
    assert_serving(server)


# --------------------------------------------------------------------------- SCRIPT KILL


@pytest.fixture
def big_limits(server):
    """busy-reply-threshold 100 ms, and a memory-limit the attacks do not reach
    before SCRIPT KILL does."""
    with RawClient(server.host, server.port) as c:
        assert c.cmd("CONFIG", "SET", "busy-reply-threshold", "100") == OK
        assert c.cmd("CONFIG", "SET", "memory-limit", "4gb") == OK
    yield
    with RawClient(server.host, server.port) as c:
        assert c.cmd("CONFIG", "SET", "busy-reply-threshold", "5000") == OK
        assert c.cmd("CONFIG", "SET", "memory-limit", "64mb") == OK


KILLED_AT_LINE = "ERR Script killed by user with SCRIPT KILL... script: %s, on @user_script:1."


@pytest.mark.parametrize("body,killed", [
    (PACK_BIG, KILLED_AT_LINE),
    (ENCODE_BIG, KILLED_AT_LINE),
    # The script has returned: its reply is being written when the kill comes.
    (REPLY_BIG, "ERR Script killed by user with SCRIPT KILL..."),
], ids=["cmsgpack.pack", "cjson.encode", "reply"])
def test_script_kill_stops_c_code(server, big_limits, body, killed):
    runner = RawClient(server.host, server.port, timeout=60)
    try:
        with RssWatch(server) as rss:
            runner.send(encode_command("EVAL", body, "0"))
            time.sleep(0.4)  # the tables take a few ms; then C code runs for seconds
            with RawClient(server.host, server.port, timeout=10) as other:
                # Every other client is answered at once: PONG from another
                # worker, BUSY from the script's.
                for _ in range(20):
                    t0 = time.monotonic()
                    reply = other.cmd("PING")
                    took = time.monotonic() - t0
                    assert reply in (Status("PONG"), BUSY)
                    assert took < 0.1 * LATENCY_SCALE, "PING answered after %.0f ms" % (took * 1000)
                t0 = time.monotonic()
                assert other.cmd("SCRIPT", "KILL") == OK
                reply = runner.read_reply()
                took = time.monotonic() - t0
        assert reply == Err(killed % sha1(body) if "%s" in killed else killed)
        assert took < 1.0, "the script ended %.2f s after SCRIPT KILL" % took
        assert rss.peak < GB, "RSS reached %d MB" % (rss.peak >> 20)
        assert runner.cmd("PING") == Status("PONG")
    finally:
        runner.close()
    assert_serving(server)
    with RawClient(server.host, server.port) as c:
        assert c.cmd("SCRIPT", "KILL") == Err("NOTBUSY No scripts in execution right now.")
        assert info_field(c, "memory", "used_memory_lua") < 8 * 1024 * 1024

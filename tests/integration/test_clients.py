"""Real clients against the server: redis-cli, redis-benchmark, hiredis."""

import re
import shutil
import subprocess

import pytest

from conftest import encode_command, make_client

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"


def cli(server, *args, input=None, timeout=60):
    p = subprocess.run([REDIS_CLI, "-h", server.host, "-p", str(server.port)] + list(args),
                       input=input, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(autouse=True)
def need_tools():
    if not shutil.which(REDIS_CLI) and not shutil.which("redis-cli"):
        pytest.skip("redis-cli not installed (redis-tools)")


def test_redis_cli_set_get(server, r):
    assert cli(server, "set", "a", "b") == (0, b"OK\n", b"")
    assert cli(server, "get", "a") == (0, b"b\n", b"")
    assert cli(server, "get", "missing") == (0, b"\n", b"")
    assert cli(server, "incr", "n") == (0, b"1\n", b"")
    assert cli(server, "mget", "a", "missing") == (0, b"b\n\n", b"")
    assert cli(server, "ping") == (0, b"PONG\n", b"")
    rc, out, err = cli(server, "get")
    assert out.strip() == b"ERR wrong number of arguments for 'get' command"
    assert r.get("a") == "b"


def test_redis_cli_raw_binary_value(server, r):
    assert cli(server, "-x", "set", "bin", input=b"line1\r\nline2\x00end") == (0, b"OK\n", b"")
    assert cli(server, "--raw", "get", "bin") == (0, b"line1\r\nline2\x00end\n", b"")
    rb = make_client(server, decode=False)
    assert rb.get("bin") == b"line1\r\nline2\x00end"
    rb.close()


def test_redis_cli_select_db(server, r):
    assert cli(server, "-n", "3", "set", "in3", "x") == (0, b"OK\n", b"")
    assert cli(server, "-n", "3", "dbsize") == (0, b"1\n", b"")
    assert cli(server, "dbsize") == (0, b"0\n", b"")


def test_redis_cli_pipe_mass_insertion(server, r):
    n = 20000
    data = b"".join(encode_command("SET", "mass:%d" % i, "value-%d" % i) for i in range(n))
    data += encode_command("INCRBY", "mass:count", str(n))
    rc, out, err = cli(server, "--pipe", input=data, timeout=120)
    assert rc == 0, (out, err)
    assert b"errors: 0, replies: %d" % (n + 1) in out, out
    assert r.dbsize() == n + 1
    assert r.get("mass:12345") == "value-12345"
    assert r.get("mass:count") == str(n)


def test_redis_cli_pipe_counts_errors(server, r):
    data = encode_command("SET", "p", "1") + encode_command("GET") + encode_command("INCR", "p")
    rc, out, err = cli(server, "--pipe", input=data)
    assert b"errors: 1, replies: 3" in out, out
    assert r.get("p") == "2"


def run_benchmark(server, *args):
    """redis-benchmark -q against server: {test name: requests per second}."""
    if not shutil.which(REDIS_BENCHMARK) and not shutil.which("redis-benchmark"):
        pytest.skip("redis-benchmark not installed")
    p = subprocess.run([REDIS_BENCHMARK, "-h", server.host, "-p", str(server.port), "-q"] +
                       list(args), capture_output=True, timeout=170)
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert p.returncode == 0, text
    for bad in ("error", "ERR", "WARN", "Could not", "Connection refused", "failed"):
        assert bad not in text, text
    # progress lines are overwritten with \r; keep the final result lines
    results = {}
    for seg in re.split(r"[\r\n]+", text):
        m = re.match(r"^\s*(.+?): ([\d.]+) requests per second", seg)
        if m:
            results[m.group(1)] = float(m.group(2))
    assert all(v > 0 for v in results.values()), results
    return results, text


def test_redis_benchmark(server, r):
    results, text = run_benchmark(server, "-t", "ping,set,get,incr,mset", "-n", "20000")
    assert set(results) == {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR",
                            "MSET (10 keys)"}, text
    # INCR hit the counter exactly -n times
    assert r.get("counter:__rand_int__") == "20000"


def test_redis_benchmark_default_tests(server, r):
    """redis-benchmark's default test list, every test answered."""
    results, text = run_benchmark(server, "-n", "2000", "-c", "20")
    assert set(results) == {
        "PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP",
        "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
        "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
        "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)",
        "MSET (10 keys)"}, text


def test_hiredis_parser(server, r):
    hiredis = pytest.importorskip("hiredis")
    import redis
    from redis.connection import HiredisParser
    pool = redis.ConnectionPool(host=server.host, port=server.port, decode_responses=True,
                                parser_class=HiredisParser, socket_timeout=30)
    cl = redis.Redis(connection_pool=pool)
    assert cl.set("h", "v") is True
    assert cl.get("h") == "v"
    assert cl.mget("h", "missing") == ["v", None]
    with pytest.raises(Exception, match="wrong number of arguments"):
        cl.execute_command("GET")
    cl.close()
    pool.disconnect()
    reader = hiredis.Reader()
    reader.feed(b"$2\r\nok\r\n")
    assert reader.gets() == b"ok"

"""Introspection and server commands: INFO, CONFIG, COMMAND, CLIENT, TIME, SHUTDOWN."""

import fnmatch
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (OK, Err, RawClient, Status, info_sections, parse_info, percore_bin,
                      wait_for)


def info(c, *sections):
    return parse_info(c.cmd("INFO", *sections))


# ------------------------------------------------------------------ INFO


def test_info_server(server, c):
    i = info(c, "server")
    for f in ("redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id",
              "tcp_port", "uptime_in_seconds", "uptime_in_days", "hz", "executable"):
        assert f in i, f
    assert re.fullmatch(r"\d+\.\d+\.\d+", i["redis_version"])
    assert i["redis_mode"] == "standalone"
    assert int(i["tcp_port"]) == server.port
    assert int(i["process_id"]) == server.proc.pid
    assert re.fullmatch(r"[0-9a-f]{40}", i["run_id"])
    assert int(i["uptime_in_seconds"]) >= 0
    assert i["process_supervised"] == "no"  # no NOTIFY_SOCKET here
    assert i["monotonic_clock"] and i["atomicvar_api"]
    assert info_sections(c.cmd("INFO", "server")) == ["server"]


def test_info_replication_and_cluster(c):
    # What client libraries and exporters read at connect (redis-py's test
    # suite needs cluster_enabled; ioredis and redis_exporter read role).
    i = info(c, "replication")
    assert i["role"] == "master"
    assert i["connected_slaves"] == "0"
    assert i["master_failover_state"] == "no-failover"
    assert re.fullmatch(r"[0-9a-f]{40}", i["master_replid"])
    assert i["master_replid2"] == "0" * 40
    assert i["master_repl_offset"] == "0" and i["second_repl_offset"] == "-1"
    assert i["repl_backlog_active"] == "0"
    assert info(c, "cluster") == {"cluster_enabled": "0"}
    assert info_sections(c.cmd("INFO", "modules")) == ["modules"]
    assert info(c, "server")["run_id"] != i["master_replid"]


def test_info_instantaneous_rates(server, c):
    # Sampled every 100 ms over the last 16 samples: busy for half a second,
    # then the rates show the load; idle, they fall back to about nothing.
    rc = RawClient(server.host, server.port)
    t0 = time.monotonic()
    sent, end = 0, t0 + 0.5
    while time.monotonic() < end:
        rc.send(b"*1\r\n$4\r\nPING\r\n" * 50)
        for _ in range(50):
            assert rc.read_line() == b"+PONG"
        sent += 50
    rate = sent / (time.monotonic() - t0)
    i = info(c, "stats")
    assert 0 < int(i["instantaneous_ops_per_sec"]) <= 3 * rate  # stalls make the mean low
    assert float(i["instantaneous_input_kbps"]) > 0
    assert float(i["instantaneous_output_kbps"]) > 0
    rc.close()
    # (INFO itself counts: polled twice a second, the rate settles at 2-3)
    assert wait_for(lambda: int(info(c, "stats")["instantaneous_ops_per_sec"]) <= 5,
                    timeout=10, interval=0.5)


def test_info_clients(server, c):
    i = info(c, "clients")
    for f in ("connected_clients", "maxclients", "blocked_clients"):
        assert f in i, f
    # a previous test's client may still be closing: take the count once it
    # holds still
    def settled():
        n = int(info(c, "clients")["connected_clients"])
        time.sleep(0.1)
        return n if n == int(info(c, "clients")["connected_clients"]) else None
    base = wait_for(settled, 5.0)
    assert base is not None and base >= 2  # c and the flushing client r
    extra = []
    for _ in range(3):
        rc = RawClient(server.host, server.port)
        assert rc.cmd("PING") == Status("PONG")
        extra.append(rc)
    assert int(info(c, "clients")["connected_clients"]) == base + 3
    for rc in extra:
        rc.close()
    assert wait_for(lambda: int(info(c, "clients")["connected_clients"]) == base, 5.0)
    assert int(i["blocked_clients"]) == 0


def test_info_memory(c):
    i = info(c, "memory")
    for f in ("used_memory", "used_memory_human", "used_memory_rss", "maxmemory",
              "maxmemory_human", "maxmemory_policy", "mem_fragmentation_ratio"):
        assert f in i, f
    used0 = int(i["used_memory"])
    assert used0 >= 0
    assert int(i["used_memory_rss"]) > 0
    assert i["maxmemory"] == "0"
    assert i["maxmemory_policy"] == "noeviction"
    # memory use follows the data
    c.cmd("SET", "big", "x" * (4 << 20))
    used1 = int(info(c, "memory")["used_memory"])
    assert used1 - used0 >= 4 << 20
    c.cmd("DEL", "big")
    used2 = int(info(c, "memory")["used_memory"])
    assert used1 - used2 >= (4 << 20) - (64 << 10)  # less what client buffers took meanwhile


@pytest.mark.percore_only
def test_info_mem_allocator(c):
    """mem_allocator names the allocator the binary is linked with, as Redis does."""
    if not shutil.which("ldd"):
        pytest.skip("no ldd to tell how the binary was linked")
    libs = subprocess.run(["ldd", percore_bin()], capture_output=True, text=True).stdout
    got = info(c, "memory")["mem_allocator"]
    if "libjemalloc" in libs:
        assert re.fullmatch(r"jemalloc-\d+\.\d+\.\d+", got), got
    else:
        assert got == "libc"


def test_info_stats(c):
    i = info(c, "stats")
    for f in ("total_connections_received", "total_commands_processed", "keyspace_hits",
              "keyspace_misses", "expired_keys", "evicted_keys", "total_net_input_bytes",
              "total_net_output_bytes", "rejected_connections"):
        assert f in i, f
        assert int(i[f]) >= 0
    n0 = int(i["total_commands_processed"])
    for _ in range(5):
        assert c.cmd("PING") == Status("PONG")
    n1 = int(info(c, "stats")["total_commands_processed"])
    assert 5 <= n1 - n0 <= 7  # 5 PINGs (+ the first INFO, counted when it ends)


def test_info_keyspace_hits_misses(c):
    assert c.cmd("CONFIG", "RESETSTAT") == OK
    i = info(c, "stats")
    assert i["keyspace_hits"] == "0"
    assert i["keyspace_misses"] == "0"
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("GET", "missing") is None
    assert c.cmd("MGET", "k", "missing", "k") == [b"v", None, b"v"]
    i = info(c, "stats")
    assert i["keyspace_hits"] == "3"
    assert i["keyspace_misses"] == "2"


def test_info_expired_keys(c):
    assert c.cmd("CONFIG", "RESETSTAT") == OK
    for i in range(5):
        c.cmd("SET", "e%d" % i, "v", "PX", "1")
    time.sleep(0.01)
    for i in range(5):
        assert c.cmd("GET", "e%d" % i) is None
    assert info(c, "stats")["expired_keys"] == "5"


def test_info_keyspace(c):
    assert c.cmd("INFO", "keyspace") .startswith(b"# Keyspace\r\n")
    assert "db0" not in info(c, "keyspace")
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3") == OK
    assert c.cmd("EXPIRE", "a", "100") == 1
    assert c.cmd("SELECT", "3") == OK
    assert c.cmd("SET", "x", "1", "EX", "100") == OK
    ks = info(c, "keyspace")
    assert ks["db0"].startswith("keys=3,expires=1,")
    assert ks["db3"].startswith("keys=1,expires=1,")
    assert set(ks) == {"db0", "db3"}


def test_info_commandstats(c):
    assert c.cmd("CONFIG", "RESETSTAT") == OK
    assert c.cmd("SET", "k", "v") == OK
    for _ in range(3):
        assert c.cmd("GET", "k") == b"v"
    assert c.cmd("GET") == Err("ERR wrong number of arguments for 'get' command")
    text = c.cmd("INFO", "commandstats").decode()
    assert text.startswith("# Commandstats\r\n")
    stats = parse_info(text)
    get = dict(kv.split("=") for kv in stats["cmdstat_get"].split(","))
    assert get["calls"] == "3"
    assert int(get["usec"]) >= 0
    assert float(get["usec_per_call"]) >= 0
    assert "rejected_calls" in get and "failed_calls" in get
    # an arity error is rejected before the command is called
    assert get["rejected_calls"] == "1"
    st = dict(kv.split("=") for kv in stats["cmdstat_set"].split(","))
    assert st["calls"] == "1"
    assert "cmdstat_incr" not in stats


def test_info_default_and_all(c):
    default = info_sections(c.cmd("INFO"))
    for s in ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
              "modules", "errorstats", "cluster", "keyspace"):
        assert s in default
    assert "commandstats" not in default
    everything = info_sections(c.cmd("INFO", "everything"))
    assert "commandstats" in everything and "keyspace" in everything
    both = info_sections(c.cmd("INFO", "server", "clients"))
    assert both == ["server", "clients"]
    assert c.cmd("INFO", "SERVER").startswith(b"# Server\r\n")
    assert c.cmd("INFO", "nosuchsection") == b""


@pytest.mark.percore_only
def test_info_percore_server_fields(c):
    i = info(c, "server")
    assert i["redis_version"] == "7.0.15"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", i["percore_version"])


@pytest.mark.percore_only
def test_info_scheduler(server, c):
    text = c.cmd("INFO", "scheduler").decode()
    assert info_sections(text) == ["scheduler"]
    i = parse_info(text)
    assert i["policy"] == server.policy
    workers = sorted(k for k in i if re.fullmatch(r"worker\d+", k))
    assert workers == sorted("worker%d" % w for w in range(server.threads))
    for w in workers:
        counters = dict(kv.split("=") for kv in i[w].strip(",").split(","))
        assert counters, w
        for k, v in counters.items():
            assert re.fullmatch(r"\d+", v), (w, k, v)
    # counters move when work is done
    def total():
        t = 0
        for w in workers:
            kv = dict(x.split("=") for x in parse_info(c.cmd("INFO", "scheduler"))[w]
                      .strip(",").split(","))
            t += sum(int(v) for v in kv.values())
        return t
    t0 = total()
    for i in range(100):
        c.cmd("SET", "k%d" % i, "v")
    assert total() > t0


# ------------------------------------------------------------------ CONFIG


def test_config_get(server, c):
    assert c.cmd("CONFIG", "GET", "port") == [b"port", str(server.port).encode()]
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    assert c.cmd("CONFIG", "GET", "nosuchparam") == []
    got = c.cmd("CONFIG", "GET", "port", "maxmemory")
    assert dict(zip(got[0::2], got[1::2])) == {b"port": str(server.port).encode(),
                                              b"maxmemory": b"0"}


def test_config_get_glob(c):
    got = c.cmd("CONFIG", "GET", "max*")
    d = dict(zip(got[0::2], got[1::2]))
    assert {b"maxmemory", b"maxmemory-policy", b"maxmemory-samples", b"maxclients"} <= set(d)
    for k in d:
        assert fnmatch.fnmatchcase(k.decode(), "max*"), k
    assert d[b"maxmemory-policy"] == b"noeviction"
    got = c.cmd("CONFIG", "GET", "*")
    assert len(got) % 2 == 0 and len(got) >= 20
    assert b"port" in got[0::2]
    assert c.cmd("CONFIG", "GET", "maxmemory-polic?") == [b"maxmemory-policy", b"noeviction"]


def test_config_set_maxmemory(c):
    try:
        assert c.cmd("CONFIG", "SET", "maxmemory", "100mb") == OK
        assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"104857600"]
        assert info(c, "memory")["maxmemory"] == "104857600"
        assert c.cmd("CONFIG", "SET", "maxmemory", "2000000") == OK
        assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"2000000"]
        assert c.cmd("CONFIG", "SET", "maxmemory", "abc") == Err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
            "argument must be a memory value")
        assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"2000000"]
        assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == OK
        assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy",
                                                              b"allkeys-lru"]
    finally:
        assert c.cmd("CONFIG", "SET", "maxmemory", "0") == OK
        assert c.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction") == OK
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]


def test_config_set_errors(c):
    assert c.cmd("CONFIG", "SET", "databases", "3") == Err(
        "ERR CONFIG SET failed (possibly related to argument 'databases') - "
        "can't set immutable config")
    assert c.cmd("CONFIG", "SET", "nosuchparam", "1") == Err(
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'")
    assert c.cmd("CONFIG", "SET", "maxmemory") == Err(
        "ERR wrong number of arguments for 'config|set' command")
    assert c.cmd("CONFIG", "NOSUCH") == Err(
        "ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.")
    assert c.cmd("CONFIG", "GET", "databases") == [b"databases", b"16"]


def test_config_resetstat(c):
    for _ in range(10):
        c.cmd("GET", "missing")
    assert int(info(c, "stats")["total_commands_processed"]) >= 10
    assert c.cmd("CONFIG", "RESETSTAT") == OK
    i = info(c, "stats")
    assert int(i["total_commands_processed"]) <= 2
    assert i["keyspace_misses"] == "0"
    assert "cmdstat_get" not in parse_info(c.cmd("INFO", "commandstats"))


# ------------------------------------------------------------------ COMMAND


def test_command_count(c):
    n = c.cmd("COMMAND", "COUNT")
    assert isinstance(n, int) and n > 0
    assert len(c.cmd("COMMAND")) == n


def test_command_info(c):
    got = c.cmd("COMMAND", "INFO", "get")
    assert len(got) == 1
    get = got[0]
    assert get[0] == b"get"
    assert get[1] == 2
    assert set(get[2]) == {Status("readonly"), Status("fast")}
    assert get[3:6] == [1, 1, 1]
    mset, nosuch, lower = c.cmd("COMMAND", "INFO", "mset", "nosuchcommand", "GET")
    assert mset[0] == b"mset"
    assert mset[1] == -3
    assert Status("write") in mset[2]
    assert mset[3:6] == [1, -1, 2]
    assert nosuch is None
    assert lower[0] == b"get"
    ping = c.cmd("COMMAND", "INFO", "ping")[0]
    assert ping[1] == -1
    assert ping[3:6] == [0, 0, 0]


def test_command_getkeys(c):
    assert c.cmd("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2") == [b"a", b"b"]
    assert c.cmd("COMMAND", "GETKEYS", "set", "k", "v", "EX", "10") == [b"k"]
    assert c.cmd("COMMAND", "GETKEYS", "get", "a") == [b"a"]
    assert c.cmd("COMMAND", "GETKEYS", "del", "a", "b", "c") == [b"a", b"b", b"c"]
    assert c.cmd("COMMAND", "GETKEYS", "rename", "a", "b") == [b"a", b"b"]
    # The destination, then numkeys sources: numkeys itself is no key.
    for name in ("zunionstore", "zinterstore", "zdiffstore"):
        assert c.cmd("COMMAND", "GETKEYS", name, "dst", "2", "a", "b", "WEIGHTS", "1", "2") \
            == [b"dst", b"a", b"b"]
    assert c.cmd("COMMAND", "GETKEYS", "zunion", "2", "a", "b") == [b"a", b"b"]
    for bad in (("zunionstore", "dst", "x", "a"), ("zunionstore", "dst", "0", "a"),
                ("zunion", "3", "a")):
        assert c.cmd("COMMAND", "GETKEYS", *bad) == Err(
            "ERR Invalid arguments specified for command")
    assert c.cmd("COMMAND", "GETKEYS", "eval", "return 1", "0") == []
    assert c.cmd("COMMAND", "GETKEYS", "eval", "return 1", "1", "k") == [b"k"]
    assert c.cmd("COMMAND", "GETKEYS", "ping") == Err(
        "ERR wrong number of arguments for 'command|getkeys' command")
    assert c.cmd("COMMAND", "GETKEYS", "get", "a", "b") == Err(
        "ERR Invalid number of arguments specified for command")
    assert c.cmd("COMMAND", "GETKEYS", "ping", "x") == Err(
        "ERR The command has no key arguments")
    assert c.cmd("COMMAND", "GETKEYS", "nosuch", "x") == Err("ERR Invalid command specified")


# ------------------------------------------------------------------ CLIENT


def client_fields(line):
    if isinstance(line, bytes):
        line = line.decode()
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


def test_client_id_setname_getname(c, connect):
    cid = c.cmd("CLIENT", "ID")
    assert isinstance(cid, int) and cid > 0
    other = connect()
    assert other.cmd("CLIENT", "ID") > cid
    assert c.cmd("CLIENT", "ID") == cid
    assert c.cmd("CLIENT", "GETNAME") is None
    assert c.cmd("CLIENT", "SETNAME", "worker-1") == OK
    assert c.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert c.cmd("CLIENT", "SETNAME", "") == OK
    assert c.cmd("CLIENT", "GETNAME") is None
    assert c.cmd("CLIENT", "SETNAME", "a b") == Err(
        "ERR Client names cannot contain spaces, newlines or special characters.")
    assert c.cmd("CLIENT", "SETNAME", "a\nb") == Err(
        "ERR Client names cannot contain spaces, newlines or special characters.")
    assert c.cmd("CLIENT", "NOSUCH") == Err("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.")


def test_client_list_and_info(server, c, connect):
    cid = c.cmd("CLIENT", "ID")
    assert c.cmd("CLIENT", "SETNAME", "lister") == OK
    assert c.cmd("SELECT", "2") == OK
    other = connect()
    assert other.cmd("CLIENT", "SETNAME", "other") == OK
    oid = other.cmd("CLIENT", "ID")
    text = c.cmd("CLIENT", "LIST").decode()
    assert text.endswith("\n")
    lines = [client_fields(line) for line in text.splitlines()]
    by_id = {int(f["id"]): f for f in lines}
    assert cid in by_id and oid in by_id
    me = by_id[cid]
    for f in ("id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "cmd"):
        assert f in me, f
    local = c.sock.getsockname()
    assert me["addr"] == "%s:%d" % local
    assert me["laddr"] == "%s:%d" % (server.host, server.port)
    assert me["name"] == "lister"
    assert me["db"] == "2"
    assert me["cmd"] == "client|list"
    assert by_id[oid]["name"] == "other"
    assert by_id[oid]["db"] == "0"
    assert by_id[oid]["cmd"] == "client|id"  # its last command
    one = c.cmd("CLIENT", "INFO").decode()
    assert one.endswith("\n") and one.count("\n") == 1
    mine = client_fields(one)
    assert int(mine["id"]) == cid
    assert mine["name"] == "lister"
    assert mine["cmd"] == "client|info"
    # filter by id
    text = c.cmd("CLIENT", "LIST", "ID", str(oid)).decode()
    assert [int(client_fields(x)["id"]) for x in text.splitlines()] == [oid]


def test_client_kill_id(c, connect):
    victim = connect()
    vid = victim.cmd("CLIENT", "ID")
    assert c.cmd("CLIENT", "KILL", "ID", str(vid)) == 1
    assert victim.is_closed(5.0)
    assert c.cmd("CLIENT", "KILL", "ID", str(vid)) == 0
    assert c.cmd("CLIENT", "KILL", "ID", "abc") == Err("ERR client-id should be greater than 0")
    # by default a client does not kill itself
    assert c.cmd("CLIENT", "KILL", "ID", str(c.cmd("CLIENT", "ID"))) == 0
    assert c.cmd("PING") == Status("PONG")


def test_client_kill_addr(c, connect):
    victim = connect()
    assert victim.cmd("PING") == Status("PONG")
    addr = "%s:%d" % victim.sock.getsockname()
    assert c.cmd("CLIENT", "KILL", addr) == OK
    assert victim.is_closed(5.0)
    assert c.cmd("CLIENT", "KILL", addr) == Err("ERR No such client")


# ------------------------------------------------------------------ misc


def test_time(c):
    secs, usecs = c.cmd("TIME")
    assert re.fullmatch(rb"\d+", secs) and re.fullmatch(rb"\d+", usecs)
    assert abs(int(secs) + int(usecs) / 1e6 - time.time()) < 2
    assert 0 <= int(usecs) < 1000000
    assert c.cmd("TIME", "x") == Err("ERR wrong number of arguments for 'time' command")


def test_dbsize(c):
    assert c.cmd("DBSIZE") == 0
    for i in range(100):
        c.cmd("SET", "k%d" % i, "v")
    assert c.cmd("DBSIZE") == 100
    c.cmd("SET", "gone", "v", "PX", "1")
    time.sleep(0.01)
    # DBSIZE may still count a key that expired but was not yet reclaimed
    assert c.cmd("DBSIZE") in (100, 101)
    c.cmd("SELECT", "1")
    assert c.cmd("DBSIZE") == 0


@pytest.mark.percore_only
def test_shutdown(server, server_factory):
    srv = server_factory(policy=server.policy or "share-nothing", threads=server.threads or 2)
    with RawClient(srv.host, srv.port) as rc:
        assert rc.cmd("SET", "k", "v") == OK
        assert rc.cmd("SHUTDOWN", "foo") == Err("ERR syntax error")
        srv.expect_exit = True
        rc.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
        assert rc.read_until_close(10.0) == b""
    srv.proc.wait(timeout=10)
    assert srv.proc.returncode == 0
    with pytest.raises(OSError):
        socket.create_connection((srv.host, srv.port), timeout=1).close()


def test_info_errorstats(r, c):
    r.config_resetstat()
    r.set("es:str", "v")
    assert c.cmd("LPUSH", "es:str", "x") == Err(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
    assert c.cmd("NOSUCHCMD").msg.startswith("ERR unknown command")
    assert c.cmd("INCR", "es:str") == Err("ERR value is not an integer or out of range")
    assert c.cmd("EVAL", "return redis.error_reply('MY_CODE custom')", "0") == Err("MY_CODE custom")
    stats = r.info("errorstats")
    assert stats["errorstat_WRONGTYPE"] in ("count=1", {"count": 1})
    assert stats["errorstat_ERR"] in ("count=2", {"count": 2})
    assert stats["errorstat_MY_CODE"] in ("count=1", {"count": 1})
    assert r.info("stats")["total_error_replies"] == 4
    r.config_resetstat()
    assert "errorstat_ERR" not in r.info("errorstats")


def test_help_subcommands(c):
    # Each HELP is an array of status lines: a usage line naming the command,
    # then one line per subcommand, as Redis 7.0 prints them.
    for cmd, subs in (("CONFIG", (b"GET", b"SET", b"RESETSTAT")),
                      ("SCRIPT", (b"EXISTS", b"FLUSH", b"KILL", b"LOAD")),
                      ("CLIENT", (b"ID", b"KILL", b"LIST", b"SETNAME"))):
        lines = c.cmd(cmd, "HELP")
        assert isinstance(lines, list) and len(lines) > 2 * len(subs)
        assert all(isinstance(ln, Status) for ln in lines)
        assert lines[0].s.startswith(cmd + " <subcommand>")
        starts = {ln.s.split(" ")[0].encode() for ln in lines[1:]}
        assert set(subs) <= starts, (cmd, starts)
        assert c.cmd(cmd, "HELP", "extra") == Err(
            "ERR wrong number of arguments for '%s|help' command" % cmd.lower())
        assert c.cmd(cmd, "NOSUCH") == Err("ERR unknown subcommand 'NOSUCH'. Try %s HELP." % cmd)

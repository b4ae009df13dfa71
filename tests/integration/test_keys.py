"""Keyspace commands and expiry."""

import threading
import time


from conftest import OK, Err, Status, make_client, wait_for, NOT_INT, SYNTAX, arity


# Keys known to lie in different hash slots (CRC16 mod 16384):
# a=15495 b=3300 c=7365 foo=12182 bar=5061 {x}a / {x}b share slot 16287.


def test_del_unlink(c):
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3", "d", "4") == OK
    assert c.cmd("DEL", "a") == 1
    assert c.cmd("DEL", "a") == 0
    assert c.cmd("DEL", "b", "c", "missing", "b") == 2
    assert c.cmd("UNLINK", "d", "missing") == 1
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("DEL") == arity("del")
    assert c.cmd("UNLINK") == arity("unlink")


def test_exists_touch(c):
    assert c.cmd("MSET", "a", "1", "b", "2") == OK
    assert c.cmd("EXISTS", "a") == 1
    assert c.cmd("EXISTS", "missing") == 0
    assert c.cmd("EXISTS", "a", "b", "missing") == 2
    assert c.cmd("EXISTS", "a", "a", "a") == 3
    assert c.cmd("TOUCH", "a", "b", "missing") == 2
    assert c.cmd("TOUCH", "a", "a") == 2
    assert c.cmd("EXISTS") == arity("exists")
    assert c.cmd("TOUCH") == arity("touch")


def test_expire_basic(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("PTTL", "k") == -1
    assert c.cmd("TTL", "missing") == -2
    assert c.cmd("PTTL", "missing") == -2
    assert c.cmd("EXPIRE", "k", "100") == 1
    assert c.cmd("TTL", "k") == 100
    assert 99000 < c.cmd("PTTL", "k") <= 100000
    assert c.cmd("PEXPIRE", "k", "50000") == 1
    assert c.cmd("TTL", "k") == 50
    assert c.cmd("EXPIRE", "missing", "10") == 0
    assert c.cmd("PEXPIRE", "missing", "10") == 0
    assert c.cmd("EXISTS", "missing") == 0
    assert c.cmd("EXPIRE", "k", "abc") == NOT_INT
    assert c.cmd("PEXPIRE", "k", "1.5") == NOT_INT
    assert c.cmd("EXPIRE", "k") == arity("expire")
    assert c.cmd("EXPIRE", "k", "9223372036854775807") == Err(
        "ERR invalid expire time in 'expire' command")
    assert c.cmd("PEXPIRE", "k", "9223372036854775807") == Err(
        "ERR invalid expire time in 'pexpire' command")
    assert c.cmd("TTL", "k") == 50


def test_expire_non_positive_deletes(c):
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3") == OK
    assert c.cmd("EXPIRE", "a", "0") == 1
    assert c.cmd("PEXPIRE", "b", "-100") == 1
    assert c.cmd("EXPIREAT", "c", "1") == 1
    assert c.cmd("EXISTS", "a", "b", "c") == 0
    assert c.cmd("DBSIZE") == 0


def test_expireat_pexpireat(c):
    now = int(time.time())
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("EXPIREAT", "k", str(now + 100)) == 1
    assert c.cmd("EXPIRETIME", "k") == now + 100
    assert c.cmd("PEXPIRETIME", "k") == (now + 100) * 1000
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("PEXPIREAT", "k", str((now + 200) * 1000 + 7)) == 1
    assert c.cmd("PEXPIRETIME", "k") == (now + 200) * 1000 + 7
    assert c.cmd("EXPIRETIME", "k") == now + 200
    assert c.cmd("EXPIREAT", "missing", str(now + 100)) == 0
    assert c.cmd("EXPIREAT", "k", "x") == NOT_INT


def test_expiretime_no_ttl_and_missing(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("EXPIRETIME", "k") == -1
    assert c.cmd("PEXPIRETIME", "k") == -1
    assert c.cmd("EXPIRETIME", "missing") == -2
    assert c.cmd("PEXPIRETIME", "missing") == -2


def test_expire_nx_xx(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("EXPIRE", "k", "100", "XX") == 0
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("EXPIRE", "k", "100", "NX") == 1
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("EXPIRE", "k", "200", "NX") == 0
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("EXPIRE", "k", "200", "XX") == 1
    assert c.cmd("TTL", "k") == 200
    assert c.cmd("PEXPIRE", "k", "300000", "xx") == 1
    assert c.cmd("TTL", "k") == 300


def test_expire_gt_lt(c):
    assert c.cmd("SET", "k", "v") == OK
    # no TTL counts as an infinite TTL
    assert c.cmd("EXPIRE", "k", "100", "GT") == 0
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("EXPIRE", "k", "100", "LT") == 1
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("EXPIRE", "k", "50", "GT") == 0
    assert c.cmd("EXPIRE", "k", "200", "GT") == 1
    assert c.cmd("TTL", "k") == 200
    assert c.cmd("EXPIRE", "k", "300", "LT") == 0
    assert c.cmd("EXPIRE", "k", "150", "LT") == 1
    assert c.cmd("TTL", "k") == 150
    # a few ms pass between commands, so compare against clearly different TTLs
    assert c.cmd("EXPIRE", "k", "140", "GT") == 0
    assert c.cmd("EXPIRE", "k", "160", "LT") == 0
    assert c.cmd("EXPIRE", "k", "400", "XX", "GT") == 1
    assert c.cmd("TTL", "k") == 400
    now = int(time.time())
    assert c.cmd("EXPIREAT", "k", str(now + 10), "GT") == 0
    assert c.cmd("PEXPIREAT", "k", str((now + 10) * 1000), "LT") == 1
    assert c.cmd("EXPIRETIME", "k") == now + 10


def test_expire_option_errors(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("EXPIRE", "k", "10", "NX", "XX") == Err(
        "ERR NX and XX, GT or LT options at the same time are not compatible")
    assert c.cmd("EXPIRE", "k", "10", "NX", "GT") == Err(
        "ERR NX and XX, GT or LT options at the same time are not compatible")
    assert c.cmd("EXPIRE", "k", "10", "GT", "LT") == Err(
        "ERR GT and LT options at the same time are not compatible")
    assert c.cmd("PEXPIRE", "k", "10", "foo") == Err("ERR Unsupported option foo")
    assert c.cmd("TTL", "k") == -1


def test_persist(c):
    assert c.cmd("SET", "k", "v", "EX", "100") == OK
    assert c.cmd("PERSIST", "k") == 1
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("PERSIST", "k") == 0
    assert c.cmd("PERSIST", "missing") == 0
    assert c.cmd("GET", "k") == b"v"


def test_type(c):
    assert c.cmd("SET", "s", "v") == OK
    assert c.cmd("RPUSH", "l", "x") == 1
    assert c.cmd("SADD", "set", "x") == 1
    assert c.cmd("ZADD", "z", "1", "x") == 1
    assert c.cmd("HSET", "h", "f", "v") == 1
    assert c.cmd("TYPE", "s") == Status("string")
    assert c.cmd("TYPE", "l") == Status("list")
    assert c.cmd("TYPE", "set") == Status("set")
    assert c.cmd("TYPE", "z") == Status("zset")
    assert c.cmd("TYPE", "h") == Status("hash")
    assert c.cmd("TYPE", "missing") == Status("none")


def test_keys_patterns(r):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "x:1", "x:2",
             "x:10", "other", "HELLO", "h\\llo"]
    r.mset({n: "1" for n in names})
    assert sorted(r.keys("*")) == sorted(names)
    assert sorted(r.keys("h?llo")) == ["h*llo", "h?llo", "h\\llo", "hallo", "hello", "hxllo"]
    assert sorted(r.keys("h*llo")) == ["h*llo", "h?llo", "h\\llo", "hallo", "heeeello",
                                       "hello", "hllo", "hxllo"]
    assert sorted(r.keys("h[ae]llo")) == ["hallo", "hello"]
    assert sorted(r.keys("h[^e]llo")) == ["h*llo", "h?llo", "h\\llo", "hallo", "hxllo"]
    assert sorted(r.keys("h[a-b]llo")) == ["hallo"]
    assert sorted(r.keys("h\\*llo")) == ["h*llo"]
    assert sorted(r.keys("h\\?llo")) == ["h?llo"]
    assert sorted(r.keys("x:?")) == ["x:1", "x:2"]
    assert sorted(r.keys("x:*")) == ["x:1", "x:10", "x:2"]
    assert r.keys("hello") == ["hello"]
    assert r.keys("nomatch*") == []
    assert sorted(r.keys("*LL*")) == ["HELLO"]


def test_keys_skips_expired(c):
    assert c.cmd("SET", "live", "1") == OK
    assert c.cmd("SET", "dead", "1", "PX", "1") == OK
    time.sleep(0.01)
    assert c.cmd("KEYS", "*") == [b"live"]


def scan_all(r, **kw):
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        seen += keys
        calls += 1
        assert calls < 100000
        if cursor == 0:
            return seen, calls


def test_scan_full_iteration(r):
    keys = {"key:%d" % i for i in range(1500)}
    r.mset({k: "v" for k in keys})
    seen, calls = scan_all(r)
    assert set(seen) == keys
    seen, calls = scan_all(r, count=1000)
    assert set(seen) == keys
    seen, calls_small = scan_all(r, count=5)
    assert set(seen) == keys
    assert calls_small > calls


def test_scan_empty_db(c):
    assert c.cmd("SCAN", "0") == [b"0", []]


def test_scan_match(r):
    r.mset({"user:%d" % i: "1" for i in range(300)})
    r.mset({"item:%d" % i: "1" for i in range(300)})
    seen, _ = scan_all(r, match="user:1*", count=50)
    assert set(seen) == {"user:%d" % i for i in range(300) if str(i).startswith("1")}
    seen, _ = scan_all(r, match="nothing*")
    assert seen == []


def test_scan_type(r):
    r.mset({"s:%d" % i: "1" for i in range(100)})
    for i in range(50):
        r.rpush("l:%d" % i, "x")
    for i in range(20):
        r.hset("h:%d" % i, "f", "v")
    assert set(scan_all(r, _type="list", count=30)[0]) == {"l:%d" % i for i in range(50)}
    assert set(scan_all(r, _type="string")[0]) == {"s:%d" % i for i in range(100)}
    assert set(scan_all(r, _type="hash", match="h:1*")[0]) == {"h:1"} | {
        "h:%d" % i for i in range(10, 20)}
    assert scan_all(r, _type="zset")[0] == []


def test_scan_errors(c):
    assert c.cmd("SCAN", "abc") == Err("ERR invalid cursor")
    assert c.cmd("SCAN", "18446744073709551616") == Err("ERR invalid cursor")
    assert c.cmd("SCAN", "1x") == Err("ERR invalid cursor")
    assert c.cmd("SCAN", "0", "COUNT", "0") == SYNTAX
    assert c.cmd("SCAN", "0", "COUNT", "x") == NOT_INT
    assert c.cmd("SCAN", "0", "MATCH") == SYNTAX
    assert c.cmd("SCAN", "0", "FOO", "1") == SYNTAX
    assert c.cmd("SCAN") == arity("scan")


def test_scan_while_keys_are_added(server, r):
    """Every key present for the whole iteration is returned; nothing else but
    keys that existed at some point is returned."""
    base = {"base:%d" % i for i in range(3000)}
    r.mset({k: "v" for k in base})
    added = {"added:%d" % i for i in range(3000)}
    stop = threading.Event()

    def writer():
        w = make_client(server)
        pipe = w.pipeline(transaction=False)
        for i, k in enumerate(sorted(added)):
            pipe.set(k, "v")
            if i % 100 == 99:
                pipe.execute()
                if stop.is_set():
                    break
        pipe.execute()
        w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        seen, _ = scan_all(r, count=20)
    finally:
        stop.set()
        t.join()
    s = set(seen)
    assert base <= s
    assert s <= base | added
    # and after the writer is done, a fresh iteration sees everything it wrote
    assert set(scan_all(r, count=200)[0]) == base | set(r.keys("added:*"))


def test_scan_cursor_survives_growth(server, r):
    """A table that grows a lot between SCAN calls still yields every old key."""
    base = {"g:%d" % i for i in range(200)}
    r.mset({k: "v" for k in base})
    cursor, keys = r.scan(0, count=20)
    seen = set(keys)
    r.mset({"grow:%d" % i: "v" for i in range(20000)})
    while cursor != 0:
        cursor, keys = r.scan(cursor, count=500)
        seen.update(keys)
    assert base <= seen


def test_dbsize_flushdb_flushall(c):
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3") == OK
    assert c.cmd("DBSIZE") == 3
    assert c.cmd("SELECT", "2") == OK
    assert c.cmd("SET", "x", "1") == OK
    assert c.cmd("SELECT", "0") == OK
    assert c.cmd("FLUSHDB") == OK
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("SELECT", "2") == OK
    assert c.cmd("DBSIZE") == 1
    assert c.cmd("SET", "y", "1") == OK
    assert c.cmd("SELECT", "0") == OK
    assert c.cmd("SET", "a", "1") == OK
    assert c.cmd("FLUSHALL") == OK
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("SELECT", "2") == OK
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("SET", "a", "1") == OK
    assert c.cmd("FLUSHDB", "ASYNC") == OK
    assert c.cmd("SET", "a", "1") == OK
    assert c.cmd("FLUSHDB", "SYNC") == OK
    assert c.cmd("SET", "a", "1") == OK
    assert c.cmd("FLUSHALL", "ASYNC") == OK
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("FLUSHALL", "SYNC") == OK
    assert c.cmd("FLUSHDB", "foo") == SYNTAX
    assert c.cmd("FLUSHALL", "foo") == SYNTAX
    assert c.cmd("DBSIZE", "x") == arity("dbsize")


def test_rename(c):
    assert c.cmd("SET", "a", "1") == OK
    assert c.cmd("RENAME", "a", "b") == OK
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("GET", "b") == b"1"
    # onto an existing key, across slots
    assert c.cmd("SET", "foo", "x") == OK
    assert c.cmd("RENAME", "b", "foo") == OK
    assert c.cmd("GET", "foo") == b"1"
    assert c.cmd("EXISTS", "b") == 0
    # same hash tag
    assert c.cmd("SET", "{x}a", "tagged") == OK
    assert c.cmd("RENAME", "{x}a", "{x}b") == OK
    assert c.cmd("GET", "{x}b") == b"tagged"
    # onto itself
    assert c.cmd("RENAME", "foo", "foo") == OK
    assert c.cmd("GET", "foo") == b"1"
    assert c.cmd("RENAME", "missing", "x") == Err("ERR no such key")
    assert c.cmd("RENAME", "missing", "missing") == Err("ERR no such key")
    assert c.cmd("RENAME", "a") == arity("rename")


def test_rename_keeps_ttl(c):
    assert c.cmd("SET", "a", "1", "EX", "100") == OK
    assert c.cmd("SET", "bar", "old", "EX", "5000") == OK
    assert c.cmd("RENAME", "a", "bar") == OK
    assert c.cmd("TTL", "bar") == 100
    assert c.cmd("SET", "c", "1") == OK
    assert c.cmd("RENAME", "bar", "c") == OK
    assert c.cmd("TTL", "c") == 100
    assert c.cmd("SET", "nottl", "1") == OK
    assert c.cmd("SET", "dst", "1", "EX", "100") == OK
    assert c.cmd("RENAME", "nottl", "dst") == OK
    assert c.cmd("TTL", "dst") == -1
    assert c.cmd("DBSIZE") == 2


def test_renamenx(c):
    assert c.cmd("MSET", "a", "1", "b", "2") == OK
    assert c.cmd("RENAMENX", "a", "b") == 0
    assert c.cmd("MGET", "a", "b") == [b"1", b"2"]
    assert c.cmd("EXPIRE", "a", "100") == 1
    assert c.cmd("RENAMENX", "a", "c") == 1
    assert c.cmd("MGET", "a", "c") == [None, b"1"]
    assert c.cmd("TTL", "c") == 100
    assert c.cmd("RENAMENX", "c", "c") == 0
    assert c.cmd("RENAMENX", "missing", "x") == Err("ERR no such key")
    assert c.cmd("RENAMENX", "a") == arity("renamenx")


def test_del_and_rename_other_types(c):
    assert c.cmd("RPUSH", "l", "1", "2") == 2
    assert c.cmd("SADD", "s", "1") == 1
    assert c.cmd("DEL", "l", "s") == 2
    assert c.cmd("RPUSH", "l", "1", "2") == 2
    assert c.cmd("UNLINK", "l") == 1
    assert c.cmd("RPUSH", "foo", "x") == 1
    assert c.cmd("SET", "b", "1") == OK
    assert c.cmd("RENAME", "b", "foo") == OK
    assert c.cmd("TYPE", "foo") == Status("string")
    assert c.cmd("RPUSH", "a", "1", "2", "3") == 3
    assert c.cmd("HSET", "h", "f", "v") == 1
    assert c.cmd("RENAME", "a", "bar") == OK
    assert c.cmd("LRANGE", "bar", "0", "-1") == [b"1", b"2", b"3"]
    assert c.cmd("RENAMENX", "h", "foo") == 0
    assert c.cmd("RENAMENX", "h", "hh") == 1
    assert c.cmd("HGET", "hh", "f") == b"v"


def test_randomkey(c):
    assert c.cmd("RANDOMKEY") is None
    assert c.cmd("SET", "only", "1") == OK
    assert c.cmd("RANDOMKEY") == b"only"
    keys = {b"k%d" % i for i in range(20)}
    for k in keys:
        assert c.cmd("SET", k, "1") == OK
    keys.add(b"only")
    got = {c.cmd("RANDOMKEY") for _ in range(200)}
    assert got <= keys
    assert len(got) > 5
    assert c.cmd("RANDOMKEY", "x") == arity("randomkey")


def test_randomkey_skips_expired(c):
    assert c.cmd("SET", "live", "1") == OK
    for i in range(20):
        assert c.cmd("SET", "dead%d" % i, "1", "PX", "1") == OK
    time.sleep(0.01)
    for _ in range(20):
        assert c.cmd("RANDOMKEY") == b"live"


def test_lazy_expiry(c):
    assert c.cmd("SET", "k", "v", "PX", "100") == OK
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("SET", "k2", "v") == OK
    assert c.cmd("PEXPIRE", "k2", "100") == 1
    time.sleep(0.15)
    assert c.cmd("GET", "k") is None
    assert c.cmd("EXISTS", "k2") == 0
    assert c.cmd("TTL", "k") == -2
    assert c.cmd("SET", "k", "new", "NX") == OK
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("GET", "k") == b"new"


def test_expired_key_is_not_returned_by_any_read(c):
    assert c.cmd("SET", "k", "5", "PX", "50") == OK
    time.sleep(0.1)
    assert c.cmd("MGET", "k") == [None]
    assert c.cmd("STRLEN", "k") == 0
    assert c.cmd("INCR", "k") == 1
    assert c.cmd("TTL", "k") == -1


def test_active_expiry(r):
    """Keys that nobody touches are reclaimed by the active expiry cycle."""
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set("vol:%d" % i, "v", px=200)
    pipe.set("keep", "v")
    pipe.execute()
    assert r.dbsize() == 201
    # only DBSIZE and INFO from now on: no access to the keys themselves
    assert wait_for(lambda: r.dbsize() == 1, timeout=5.0), "DBSIZE still %d" % r.dbsize()
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 1
    assert ks["db0"]["expires"] == 0
    assert r.get("keep") == "v"


def test_keyspace_info_counts_expires(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    r.expire("a", 100)
    r.expire("b", 100)
    r.select(1)
    r.set("x", "1")
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 3 and ks["db0"]["expires"] == 2
    assert ks["db1"]["keys"] == 1 and ks["db1"]["expires"] == 0
    assert "db2" not in ks
    r.select(0)

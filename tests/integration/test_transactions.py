"""MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis 7.0 semantics, under every policy."""

import time

import pytest
import redis

from conftest import Err, Status, make_client


def test_multi_exec_queues_and_replies(r, c):
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "tx:a", "1") == Status("QUEUED")
    assert c.cmd("INCR", "tx:a") == Status("QUEUED")
    assert c.cmd("MSET", "tx:b", "x", "tx:c", "y") == Status("QUEUED")
    assert c.cmd("MGET", "tx:a", "tx:b", "tx:c") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("OK"), 2, Status("OK"), [b"2", b"x", b"y"]]


def test_exec_discard_without_multi(c):
    assert c.cmd("EXEC") == Err("ERR EXEC without MULTI")
    assert c.cmd("DISCARD") == Err("ERR DISCARD without MULTI")


def test_multi_nested_and_watch_inside(c):
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("MULTI") == Err("ERR MULTI calls can not be nested")
    assert c.cmd("WATCH", "x") == Err("ERR WATCH inside MULTI is not allowed")
    assert c.cmd("PING") == Status("QUEUED")
    # neither error aborts the transaction
    assert c.cmd("EXEC") == [Status("PONG")]


def test_queue_time_error_aborts(r, c):
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "tx:x", "1") == Status("QUEUED")
    assert c.cmd("NOSUCHCMD") == Err("ERR unknown command 'NOSUCHCMD', with args beginning with: ")
    assert c.cmd("GET") == Err("ERR wrong number of arguments for 'get' command")
    assert c.cmd("EXEC") == Err("EXECABORT Transaction discarded because of previous errors.")
    assert r.get("tx:x") is None


def test_runtime_error_does_not_roll_back(r, c):
    r.set("tx:s", "notanumber")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "tx:t", "1") == Status("QUEUED")
    assert c.cmd("INCR", "tx:s") == Status("QUEUED")
    assert c.cmd("SET", "tx:u", "2") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("OK"), Err("ERR value is not an integer or out of range"),
                             Status("OK")]
    assert r.mget("tx:t", "tx:u") == ["1", "2"]


def test_discard(r, c):
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "tx:d", "1") == Status("QUEUED")
    assert c.cmd("DISCARD") == Status("OK")
    assert r.get("tx:d") is None
    assert c.cmd("EXEC") == Err("ERR EXEC without MULTI")


def test_watch_unmodified_key_executes(r, c):
    r.set("w:a", "1")
    assert c.cmd("WATCH", "w:a", "w:missing") == Status("OK")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("GET", "w:a") == Status("QUEUED")
    assert c.cmd("EXEC") == [b"1"]


def test_watch_modified_key_aborts(r, c):
    r.set("w:b", "1")
    assert c.cmd("WATCH", "w:b") == Status("OK")
    r.set("w:b", "2")  # another client
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "w:b", "3") == Status("QUEUED")
    assert c.cmd("EXEC") is None
    assert r.get("w:b") == "2"
    # after EXEC nothing is watched any more
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SET", "w:b", "4") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("OK")]


@pytest.mark.parametrize("change", [
    ("DEL", "w:k"), ("EXPIRE", "w:k", "100"), ("PERSIST", "w:k"), ("APPEND", "w:k", "x"),
    ("INCR", "w:k"), ("RENAME", "w:other", "w:k"), ("FLUSHDB",), ("FLUSHALL",)])
def test_watch_sees_every_kind_of_change(r, c, change):
    r.set("w:k", "5", px=100000)
    r.set("w:other", "7")
    assert c.cmd("WATCH", "w:k") == Status("OK")
    r.execute_command(*change)
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("GET", "w:k") == Status("QUEUED")
    assert c.cmd("EXEC") is None


def test_watch_missing_key_created_aborts(r, c):
    assert c.cmd("WATCH", "w:new") == Status("OK")
    r.set("w:new", "1")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") is None


def test_watch_missing_key_unchanged_by_flush(r, c):
    r.set("w:unrelated", "1")
    assert c.cmd("WATCH", "w:absent") == Status("OK")
    r.flushall()
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("PONG")]


def test_watch_expired_key_aborts(r, c):
    r.set("w:ttl", "1", px=100)
    assert c.cmd("WATCH", "w:ttl") == Status("OK")
    time.sleep(0.25)
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") is None


def test_watch_change_by_same_client_aborts(c):
    assert c.cmd("SET", "w:self", "1") == Status("OK")
    assert c.cmd("WATCH", "w:self") == Status("OK")
    assert c.cmd("SET", "w:self", "2") == Status("OK")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") is None


def test_unwatch_and_discard_forget_watches(r, c):
    r.set("w:u", "1")
    assert c.cmd("WATCH", "w:u") == Status("OK")
    assert c.cmd("UNWATCH") == Status("OK")
    r.set("w:u", "2")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("PONG")]
    assert c.cmd("WATCH", "w:u") == Status("OK")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("DISCARD") == Status("OK")
    r.set("w:u", "3")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("PONG")]


def test_watch_other_db_key_is_independent(r, c):
    assert c.cmd("SELECT", "1") == Status("OK")
    assert c.cmd("WATCH", "w:db") == Status("OK")
    r.set("w:db", "changed in db 0")
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("PING") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("PONG")]


def test_select_inside_multi(r, c):
    assert c.cmd("MULTI") == Status("OK")
    assert c.cmd("SELECT", "2") == Status("QUEUED")
    assert c.cmd("SET", "tx:db2", "v") == Status("QUEUED")
    assert c.cmd("EXEC") == [Status("OK"), Status("OK")]
    assert r.get("tx:db2") is None
    r2 = redis.Redis(host="127.0.0.1", port=r.connection_pool.connection_kwargs["port"], db=2,
                     decode_responses=True)
    assert r2.get("tx:db2") == "v"
    r2.close()


def test_redis_py_pipeline_transaction(r):
    with r.pipeline(transaction=True) as p:
        p.set("py:a", "1").incr("py:a").get("py:a")
        assert p.execute() == [True, 2, "2"]


def test_redis_py_watch_retry(server, r):
    r.set("py:counter", "0")
    for _ in range(20):
        with r.pipeline() as p:
            while True:
                try:
                    p.watch("py:counter")
                    v = int(p.get("py:counter"))
                    p.multi()
                    p.set("py:counter", v + 1)
                    p.execute()
                    break
                except redis.WatchError:
                    continue
    assert r.get("py:counter") == "20"


def test_scan_inside_exec_holds_its_partition(server, r):
    """SCAN queued in MULTI holds the partition its cursor names while EXEC
    runs (a race here shows under the TSan build), and walks every key while
    other clients write."""
    from conftest import run_threads

    keys = {"scan:%d" % i for i in range(300)}
    r.mset({k: "v" for k in keys})

    def writer(stop):
        w = make_client(server)
        i = 0
        while not stop.is_set():
            w.set("churn:%d" % (i % 500), i)
            i += 1
        w.close()

    found = set()

    def scanner(stop):
        s = make_client(server)
        cursor = "0"
        while True:
            p = s.pipeline(transaction=True)
            p.scan(cursor, match="scan:*", count=50)
            (cursor, batch), = p.execute()
            found.update(batch)
            if int(cursor) == 0:
                break
        s.close()

    run_threads([writer, writer, scanner], duration=1.0)
    assert found == keys

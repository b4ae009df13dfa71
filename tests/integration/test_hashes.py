"""Hash commands: every option, reply shape (RESP2 and RESP3) and error text."""


from conftest import OK, Err, WRONGTYPE, NOT_INT, NOT_FLOAT, SYNTAX, arity


def test_hset_hget(c):
    assert c.cmd("HSET", "h", "a", "1", "b", "2") == 2
    assert c.cmd("HSET", "h", "a", "10", "c", "3") == 1
    assert c.cmd("HGET", "h", "a") == b"10"
    assert c.cmd("HGET", "h", "zz") is None
    assert c.cmd("HGET", "missing", "a") is None
    assert c.cmd("HMSET", "h", "d", "4", "e", "") == OK
    assert c.cmd("HGET", "h", "e") == b""
    assert c.cmd("HLEN", "h") == 5
    assert c.cmd("HLEN", "missing") == 0
    assert c.cmd("TYPE", "h").s == "hash"
    assert c.cmd("HSET", "h", "a", "1", "b") == arity("hset")
    assert c.cmd("HMSET", "h", "a", "1", "b") == arity("hmset")
    assert c.cmd("HSET", "h", "a") == arity("hset")


def test_hsetnx(c):
    assert c.cmd("HSETNX", "h", "a", "1") == 1
    assert c.cmd("HSETNX", "h", "a", "2") == 0
    assert c.cmd("HGET", "h", "a") == b"1"
    assert c.cmd("HSETNX", "h", "b", "2") == 1
    assert c.cmd("HLEN", "h") == 2


def test_hmget_hdel_hexists_hstrlen(c):
    c.cmd("HSET", "h", "a", "1", "b", "hello", "c", "3")
    assert c.cmd("HMGET", "h", "a", "zz", "b") == [b"1", None, b"hello"]
    assert c.cmd("HMGET", "missing", "a", "b") == [None, None]
    assert c.cmd("HEXISTS", "h", "a") == 1
    assert c.cmd("HEXISTS", "h", "zz") == 0
    assert c.cmd("HEXISTS", "missing", "a") == 0
    assert c.cmd("HSTRLEN", "h", "b") == 5
    assert c.cmd("HSTRLEN", "h", "zz") == 0
    assert c.cmd("HSTRLEN", "missing", "b") == 0
    assert c.cmd("HDEL", "h", "a", "zz", "a") == 1
    assert c.cmd("HDEL", "missing", "a") == 0
    assert c.cmd("HDEL", "h", "b", "c") == 2
    assert c.cmd("EXISTS", "h") == 0


def test_getall_keys_vals_keep_insertion_order_when_small(c):
    c.cmd("HSET", "h", "z", "1", "a", "2", "m", "3")
    assert c.cmd("HGETALL", "h") == [b"z", b"1", b"a", b"2", b"m", b"3"]
    assert c.cmd("HKEYS", "h") == [b"z", b"a", b"m"]
    assert c.cmd("HVALS", "h") == [b"1", b"2", b"3"]
    c.cmd("HDEL", "h", "a")
    c.cmd("HSET", "h", "a", "4")
    assert c.cmd("HKEYS", "h") == [b"z", b"m", b"a"]
    assert c.cmd("HGETALL", "missing") == []
    assert c.cmd("HKEYS", "missing") == []
    assert c.cmd("HVALS", "missing") == []


def test_resp3_shapes(c):
    c.cmd("HELLO", "3")
    c.cmd("HSET", "h", "a", "1", "b", "2")
    assert c.cmd("HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    assert c.cmd("HGETALL", "missing") == {}
    assert c.cmd("HKEYS", "h") == [b"a", b"b"]
    assert c.cmd("HGET", "h", "zz") is None
    assert c.cmd("HRANDFIELD", "missing") is None
    assert c.cmd("HSCAN", "h", "0") == [b"0", [b"a", b"1", b"b", b"2"]]
    got = c.cmd("HRANDFIELD", "h", "5", "WITHVALUES")
    assert sorted(got) == [[b"a", b"1"], [b"b", b"2"]]
    got = c.cmd("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(got) == 3 and all(p in ([b"a", b"1"], [b"b", b"2"]) for p in got)


def test_big_hash(r):
    n = 1000
    r.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(n)})
    assert r.hlen("h") == n
    assert r.hget("h", "f777") == "v777"
    assert r.hgetall("h") == {"f%d" % i: "v%d" % i for i in range(n)}
    assert sorted(r.hkeys("h")) == sorted("f%d" % i for i in range(n))
    assert r.hdel("h", *["f%d" % i for i in range(0, n, 2)]) == n // 2
    assert r.hlen("h") == n // 2
    assert r.hexists("h", "f2") == 0 and r.hexists("h", "f3") == 1
    assert r.hdel("h", *["f%d" % i for i in range(n)]) == n // 2
    assert r.exists("h") == 0


def test_long_values_convert(r):
    long = "x" * 100
    r.hset("h", "a", "1")
    r.hset("h", "b", long)
    r.hset("h", long, "2")
    assert r.hget("h", "b") == long
    assert r.hget("h", long) == "2"
    assert r.hlen("h") == 3
    assert r.hgetall("h") == {"a": "1", "b": long, long: "2"}


def test_hincrby(c):
    assert c.cmd("HINCRBY", "h", "a", "5") == 5
    assert c.cmd("HINCRBY", "h", "a", "-7") == -2
    assert c.cmd("HGET", "h", "a") == b"-2"
    c.cmd("HSET", "h", "s", "abc", "sp", " 12", "big", "9223372036854775807")
    assert c.cmd("HINCRBY", "h", "s", "1") == Err("ERR hash value is not an integer")
    assert c.cmd("HINCRBY", "h", "sp", "1") == Err("ERR hash value is not an integer")
    assert c.cmd("HINCRBY", "h", "big", "1") == Err("ERR increment or decrement would overflow")
    assert c.cmd("HGET", "h", "a") == b"-2"
    assert c.cmd("HINCRBY", "h", "a", "x") == NOT_INT
    assert c.cmd("HINCRBY", "h", "a", "1.5") == NOT_INT
    assert c.cmd("HINCRBY", "new", "a", "9223372036854775807") == 9223372036854775807
    assert c.cmd("HINCRBY", "new", "a", "1") == Err("ERR increment or decrement would overflow")
    assert c.cmd("HINCRBY", "neg", "a", "-9223372036854775808") == -9223372036854775808
    assert c.cmd("HINCRBY", "neg", "a", "-1") == Err("ERR increment or decrement would overflow")
    assert c.cmd("HINCRBY", "nokey", "a", "x") == NOT_INT
    assert c.cmd("EXISTS", "nokey") == 0


def test_hincrbyfloat(c):
    assert c.cmd("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert c.cmd("HINCRBYFLOAT", "h", "f", "-0.5") == b"10"
    assert c.cmd("HINCRBYFLOAT", "h", "f", "0.1") == b"10.1"
    assert c.cmd("HINCRBYFLOAT", "h", "g", "3.0e3") == b"3000"
    assert c.cmd("HINCRBYFLOAT", "h", "g", "0x10") == b"3016"
    assert c.cmd("HINCRBYFLOAT", "h", "z", "5e-400") == b"0"
    assert c.cmd("HINCRBYFLOAT", "h", "m", "-1") == b"-1"
    assert c.cmd("HINCRBYFLOAT", "h", "m", "1") == b"0"
    assert c.cmd("HGET", "h", "m") == b"0"
    c.cmd("HSET", "h", "s", "abc", "sp", " 1", "i", "7")
    assert c.cmd("HINCRBYFLOAT", "h", "i", "1.25") == b"8.25"
    assert c.cmd("HINCRBYFLOAT", "h", "s", "1") == Err("ERR hash value is not a float")
    assert c.cmd("HINCRBYFLOAT", "h", "sp", "1") == Err("ERR hash value is not a float")
    assert c.cmd("HINCRBYFLOAT", "h", "f", "abc") == NOT_FLOAT
    assert c.cmd("HINCRBYFLOAT", "h", "f", " 1") == NOT_FLOAT
    assert c.cmd("HINCRBYFLOAT", "h", "f", "inf") == Err("ERR value is NaN or Infinity")
    assert c.cmd("HINCRBYFLOAT", "h", "f", "nan") == NOT_FLOAT
    c.cmd("HSET", "h", "huge", "1e4932")
    assert c.cmd("HINCRBYFLOAT", "h", "huge", "1e4932") == Err(
        "ERR increment would produce NaN or Infinity")


def test_hrandfield(c):
    assert c.cmd("HRANDFIELD", "missing") is None
    assert c.cmd("HRANDFIELD", "missing", "3") == []
    assert c.cmd("HRANDFIELD", "missing", "3", "WITHVALUES") == []
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert c.cmd("HRANDFIELD", "h") in (b"a", b"b", b"c")
    assert c.cmd("HRANDFIELD", "h", "0") == []
    assert c.cmd("HRANDFIELD", "h", "0", "WITHVALUES") == []
    got = c.cmd("HRANDFIELD", "h", "2")
    assert len(got) == 2 and len(set(got)) == 2 and set(got) <= {b"a", b"b", b"c"}
    assert sorted(c.cmd("HRANDFIELD", "h", "10")) == [b"a", b"b", b"c"]
    got = c.cmd("HRANDFIELD", "h", "-10")
    assert len(got) == 10 and set(got) <= {b"a", b"b", b"c"}
    got = c.cmd("HRANDFIELD", "h", "-5", "WITHVALUES")
    assert len(got) == 10
    for f, v in zip(got[::2], got[1::2]):
        assert {b"a": b"1", b"b": b"2", b"c": b"3"}[f] == v
    got = c.cmd("HRANDFIELD", "h", "2", "withvalues")
    assert len(got) == 4 and len(set(got[::2])) == 2
    assert c.cmd("HRANDFIELD", "h", "x") == NOT_INT
    assert c.cmd("HRANDFIELD", "h", "1", "WITHVALUE") == SYNTAX
    assert c.cmd("HRANDFIELD", "h", "1", "WITHVALUES", "x") == SYNTAX
    assert c.cmd("HRANDFIELD", "h", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert c.cmd("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES") == Err(
        "ERR value is out of range")
    assert c.cmd("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == Err(
        "ERR value is out of range")
    assert len(c.cmd("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES")) == 6


def test_hrandfield_big_distinct(r):
    r.hset("h", mapping={"f%d" % i: i for i in range(500)})
    for count in (10, 200, 499, 500, 600):
        got = r.hrandfield("h", count)
        assert len(got) == min(count, 500)
        assert len(set(got)) == len(got)
    got = r.hrandfield("h", -1000)
    assert len(got) == 1000 and len(set(got)) > 200


def test_hscan(c, r):
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert c.cmd("HSCAN", "h", "0") == [b"0", [b"a", b"1", b"b", b"2", b"c", b"3"]]
    assert c.cmd("HSCAN", "h", "0", "MATCH", "b*") == [b"0", [b"b", b"2"]]
    assert c.cmd("HSCAN", "h", "0", "COUNT", "1", "MATCH", "*") == [
        b"0", [b"a", b"1", b"b", b"2", b"c", b"3"]]
    assert c.cmd("HSCAN", "missing", "0") == [b"0", []]
    assert c.cmd("HSCAN", "missing", "0", "COUNT", "0") == [b"0", []]
    assert c.cmd("HSCAN", "h", "x") == Err("ERR invalid cursor")
    assert c.cmd("HSCAN", "missing", "x") == Err("ERR invalid cursor")
    assert c.cmd("HSCAN", "h", "0", "COUNT", "0") == SYNTAX
    assert c.cmd("HSCAN", "h", "0", "COUNT", "x") == NOT_INT
    assert c.cmd("HSCAN", "h", "0", "TYPE", "string") == SYNTAX
    assert c.cmd("HSCAN", "h", "0", "MATCH") == SYNTAX
    # a big hash is walked in several calls and every field comes back
    r.hset("big", mapping={"f%d" % i: i for i in range(1000)})
    seen, cursor, calls = {}, 0, 0
    while True:
        cursor, data = r.hscan("big", cursor, count=50)
        seen.update(data)
        calls += 1
        if cursor == 0:
            break
    assert calls > 2
    assert seen == {"f%d" % i: str(i) for i in range(1000)}
    cursor, data = r.hscan("big", 0, match="f99*", count=10000)
    assert cursor == 0 and sorted(data) == ["f99", "f990", "f991", "f992", "f993", "f994",
                                            "f995", "f996", "f997", "f998", "f999"]


def test_wrongtype(c):
    c.cmd("SET", "s", "x")
    for args in [("HSET", "s", "a", "b"), ("HSETNX", "s", "a", "b"), ("HMSET", "s", "a", "b"),
                 ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"),
                 ("HEXISTS", "s", "a"), ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"),
                 ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
                 ("HSTRLEN", "s", "a"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "0"),
                 ("HRANDFIELD", "s", "-5", "WITHVALUES"), ("HSCAN", "s", "0"),
                 ("HSCAN", "s", "0", "COUNT", "0")]:
        assert c.cmd(*args) == WRONGTYPE, args
    # argument errors come first
    assert c.cmd("HINCRBY", "s", "a", "x") == NOT_INT
    assert c.cmd("HINCRBYFLOAT", "s", "a", "x") == NOT_FLOAT
    assert c.cmd("HRANDFIELD", "s", "1", "WITHVALUES", "x") == SYNTAX
    assert c.cmd("HSCAN", "s", "x") == Err("ERR invalid cursor")
    c.cmd("HSET", "h", "a", "1")
    assert c.cmd("GET", "h") == WRONGTYPE
    assert c.cmd("LPUSH", "h", "x") == WRONGTYPE


def test_memory_accounting_returns(r):
    before = int(r.info("memory")["used_memory"])
    r.hset("h", mapping={"f%d" % i: "v" * 80 for i in range(2000)})
    assert int(r.info("memory")["used_memory"]) > before
    r.delete("h")
    assert int(r.info("memory")["used_memory"]) - before < 200 * 1024

"""Set commands: every option, reply shape (RESP2 and RESP3) and error text."""


from conftest import Err, WRONGTYPE, NOT_INT, SYNTAX, arity

POSITIVE = Err("ERR value is out of range, must be positive")
NUMKEYS = Err("ERR numkeys should be greater than 0")


def test_sadd_srem_card(c):
    assert c.cmd("SADD", "s", "a", "b", "a") == 2
    assert c.cmd("SADD", "s", "b", "c") == 1
    assert c.cmd("SCARD", "s") == 3
    assert c.cmd("SCARD", "missing") == 0
    assert c.cmd("TYPE", "s").s == "set"
    assert c.cmd("SREM", "s", "a", "zz", "a") == 1
    assert c.cmd("SREM", "missing", "a") == 0
    assert sorted(c.cmd("SMEMBERS", "s")) == [b"b", b"c"]
    assert c.cmd("SREM", "s", "b", "c") == 2
    assert c.cmd("EXISTS", "s") == 0
    assert c.cmd("SMEMBERS", "missing") == []
    assert c.cmd("SADD", "s") == arity("sadd")


def test_integer_sets_are_sorted(c):
    assert c.cmd("SADD", "s", "3", "-1", "20", "2", "10") == 5
    assert c.cmd("SMEMBERS", "s") == [b"-1", b"2", b"3", b"10", b"20"]
    assert c.cmd("SISMEMBER", "s", "3") == 1
    assert c.cmd("SISMEMBER", "s", "03") == 0
    assert c.cmd("SISMEMBER", "s", "x") == 0
    assert c.cmd("SREM", "s", "3", "+2", "x") == 1
    assert c.cmd("SMEMBERS", "s") == [b"-1", b"2", b"10", b"20"]
    # non-canonical integers are plain strings
    assert c.cmd("SADD", "s", "007") == 1
    assert c.cmd("SISMEMBER", "s", "007") == 1
    assert c.cmd("SISMEMBER", "s", "7") == 0
    assert sorted(c.cmd("SMEMBERS", "s")) == sorted([b"-1", b"2", b"10", b"20", b"007"])


def test_int_set_grows_past_limit(r):
    r.sadd("s", *range(600))
    assert r.scard("s") == 600
    assert r.smembers("s") == {str(i) for i in range(600)}
    assert r.sismember("s", "599") and not r.sismember("s", "600")
    assert r.srem("s", *range(0, 600, 2)) == 300
    assert r.smembers("s") == {str(i) for i in range(1, 600, 2)}


def test_sismember_smismember(c):
    c.cmd("SADD", "s", "a", "b")
    assert c.cmd("SISMEMBER", "s", "a") == 1
    assert c.cmd("SISMEMBER", "s", "zz") == 0
    assert c.cmd("SISMEMBER", "missing", "a") == 0
    assert c.cmd("SMISMEMBER", "s", "a", "zz", "b") == [1, 0, 1]
    assert c.cmd("SMISMEMBER", "missing", "a") == [0]
    assert c.cmd("SMISMEMBER", "s") == arity("smismember")


def test_resp3_shapes(c):
    c.cmd("HELLO", "3")
    c.cmd("SADD", "s", "a", "b")
    assert c.cmd("SMEMBERS", "s") == {b"a", b"b"}
    assert c.cmd("SMEMBERS", "missing") == set()
    assert c.cmd("SINTER", "s", "s") == {b"a", b"b"}
    assert c.cmd("SINTER", "s", "missing") == set()
    assert c.cmd("SUNION", "s", "missing") == {b"a", b"b"}
    assert c.cmd("SDIFF", "s", "missing") == {b"a", b"b"}
    assert c.cmd("SPOP", "missing", "1") == set()
    assert c.cmd("SPOP", "missing") is None
    assert c.cmd("SRANDMEMBER", "missing") is None
    assert sorted(c.cmd("SRANDMEMBER", "s", "5")) == [b"a", b"b"]
    assert c.cmd("SRANDMEMBER", "missing", "5") == []
    assert c.cmd("SMISMEMBER", "s", "a", "c") == [1, 0]
    got = c.cmd("SPOP", "s", "1")
    assert isinstance(got, set) and len(got) == 1


def test_spop(c, r):
    assert c.cmd("SPOP", "missing") is None
    assert c.cmd("SPOP", "missing", "0") == []
    assert c.cmd("SPOP", "missing", "2") == []
    c.cmd("SADD", "s", "a", "b", "c", "d")
    assert c.cmd("SPOP", "s", "0") == []
    one = c.cmd("SPOP", "s")
    assert one in (b"a", b"b", b"c", b"d")
    two = c.cmd("SPOP", "s", "2")
    assert len(two) == 2 and one not in two
    rest = c.cmd("SPOP", "s", "5")
    assert sorted([one] + two + rest) == [b"a", b"b", b"c", b"d"]
    assert c.cmd("EXISTS", "s") == 0
    c.cmd("SADD", "s", "a")
    assert c.cmd("SPOP", "s", "x") == POSITIVE
    assert c.cmd("SPOP", "s", "-1") == POSITIVE
    assert c.cmd("SPOP", "s", "1", "2") == SYNTAX
    assert c.cmd("SPOP", "s") == b"a"
    assert c.cmd("EXISTS", "s") == 0
    # big sets, int and string encodings
    for name, members in (("ints", [str(i) for i in range(300)]),
                          ("strs", ["m%d" % i for i in range(3000)])):
        r.sadd(name, *members)
        popped = r.spop(name, 100)
        assert len(popped) == 100 and len(set(popped)) == 100
        assert r.scard(name) == len(members) - 100
        assert not set(popped) & r.smembers(name)
        assert set(popped) | r.smembers(name) == set(members)


def test_srandmember(c, r):
    assert c.cmd("SRANDMEMBER", "missing") is None
    assert c.cmd("SRANDMEMBER", "missing", "3") == []
    c.cmd("SADD", "s", "1", "2", "3")
    assert c.cmd("SRANDMEMBER", "s") in (b"1", b"2", b"3")
    assert c.cmd("SRANDMEMBER", "s", "0") == []
    got = c.cmd("SRANDMEMBER", "s", "2")
    assert len(got) == 2 and len(set(got)) == 2
    assert sorted(c.cmd("SRANDMEMBER", "s", "10")) == [b"1", b"2", b"3"]
    got = c.cmd("SRANDMEMBER", "s", "-10")
    assert len(got) == 10 and set(got) <= {b"1", b"2", b"3"}
    assert c.cmd("SCARD", "s") == 3
    assert c.cmd("SRANDMEMBER", "s", "x") == NOT_INT
    assert c.cmd("SRANDMEMBER", "s", "1", "2") == SYNTAX
    assert c.cmd("SRANDMEMBER", "s", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    r.sadd("big", *["m%d" % i for i in range(1000)])
    for count in (5, 400, 999, 1000, 2000):
        got = r.srandmember("big", count)
        assert len(got) == min(count, 1000) and len(set(got)) == len(got)


def test_smove(c):
    c.cmd("SADD", "a", "x", "y")
    c.cmd("SADD", "b", "z")
    assert c.cmd("SMOVE", "a", "b", "x") == 1
    assert sorted(c.cmd("SMEMBERS", "b")) == [b"x", b"z"]
    assert c.cmd("SMOVE", "a", "b", "zz") == 0
    assert c.cmd("SMOVE", "a", "a", "y") == 1
    assert c.cmd("SMOVE", "a", "a", "zz") == 0
    assert c.cmd("SMOVE", "a", "new", "y") == 1
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("SMEMBERS", "new") == [b"y"]
    assert c.cmd("SMOVE", "missing", "new", "y") == 0
    c.cmd("SADD", "b", "y")
    assert c.cmd("SMOVE", "new", "b", "y") == 1
    assert sorted(c.cmd("SMEMBERS", "b")) == [b"x", b"y", b"z"]
    assert c.cmd("EXISTS", "new") == 0


def test_sinter_sunion_sdiff(c):
    c.cmd("SADD", "a", "1", "2", "3", "4")
    c.cmd("SADD", "b", "3", "4", "5")
    c.cmd("SADD", "c", "4", "x")
    assert sorted(c.cmd("SINTER", "a", "b")) == [b"3", b"4"]
    assert c.cmd("SINTER", "a", "b", "c") == [b"4"]
    assert c.cmd("SINTER", "a", "missing") == []
    assert c.cmd("SINTER", "missing") == []
    assert c.cmd("SUNION", "a", "b") == [b"1", b"2", b"3", b"4", b"5"]
    assert sorted(c.cmd("SUNION", "a", "c", "missing")) == [b"1", b"2", b"3", b"4", b"x"]
    assert c.cmd("SUNION", "missing") == []
    assert c.cmd("SDIFF", "a", "b") == [b"1", b"2"]
    assert c.cmd("SDIFF", "a", "b", "c") == [b"1", b"2"]
    assert c.cmd("SDIFF", "a", "a") == []
    assert c.cmd("SDIFF", "missing", "a") == []
    assert c.cmd("SDIFF", "a", "missing") == [b"1", b"2", b"3", b"4"]


def test_store_variants(c):
    c.cmd("SADD", "a", "1", "2", "3")
    c.cmd("SADD", "b", "2", "3", "4")
    assert c.cmd("SINTERSTORE", "d", "a", "b") == 2
    assert c.cmd("SMEMBERS", "d") == [b"2", b"3"]
    assert c.cmd("SUNIONSTORE", "d", "a", "b") == 4
    assert c.cmd("SMEMBERS", "d") == [b"1", b"2", b"3", b"4"]
    assert c.cmd("SDIFFSTORE", "d", "a", "b") == 1
    assert c.cmd("SMEMBERS", "d") == [b"1"]
    # an empty result deletes the destination
    assert c.cmd("SINTERSTORE", "d", "a", "missing") == 0
    assert c.cmd("EXISTS", "d") == 0
    # the destination may be a source, and may hold another type (and a TTL)
    c.cmd("SET", "d", "string", "EX", "100")
    assert c.cmd("SUNIONSTORE", "d", "a", "b") == 4
    assert c.cmd("TYPE", "d").s == "set"
    assert c.cmd("TTL", "d") == -1
    assert c.cmd("SDIFFSTORE", "a", "a", "b") == 1
    assert c.cmd("SMEMBERS", "a") == [b"1"]
    assert c.cmd("SINTERSTORE", "d") == arity("sinterstore")


def test_sintercard(c):
    c.cmd("SADD", "a", "1", "2", "3", "4")
    c.cmd("SADD", "b", "2", "3", "4", "5")
    assert c.cmd("SINTERCARD", "2", "a", "b") == 3
    assert c.cmd("SINTERCARD", "2", "a", "b", "LIMIT", "2") == 2
    assert c.cmd("SINTERCARD", "2", "a", "b", "LIMIT", "0") == 3
    assert c.cmd("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "0") == 4
    assert c.cmd("SINTERCARD", "2", "a", "missing") == 0
    assert c.cmd("SINTERCARD", "0", "a") == NUMKEYS
    assert c.cmd("SINTERCARD", "x", "a") == NUMKEYS
    assert c.cmd("SINTERCARD", "3", "a", "b") == Err(
        "ERR Number of keys can't be greater than number of args")
    assert c.cmd("SINTERCARD", "1", "a", "LIMIT", "-1") == Err("ERR LIMIT can't be negative")
    assert c.cmd("SINTERCARD", "1", "a", "LIMIT", "x") == Err("ERR LIMIT can't be negative")
    assert c.cmd("SINTERCARD", "1", "a", "LIMIT") == SYNTAX
    assert c.cmd("SINTERCARD", "1", "a", "FOO", "1") == SYNTAX


def test_sscan(c, r):
    c.cmd("SADD", "ints", "3", "1", "2")
    assert c.cmd("SSCAN", "ints", "0") == [b"0", [b"1", b"2", b"3"]]
    assert c.cmd("SSCAN", "ints", "0", "MATCH", "2") == [b"0", [b"2"]]
    assert c.cmd("SSCAN", "missing", "0") == [b"0", []]
    assert c.cmd("SSCAN", "missing", "0", "COUNT", "0") == [b"0", []]
    assert c.cmd("SSCAN", "ints", "x") == Err("ERR invalid cursor")
    assert c.cmd("SSCAN", "ints", "0", "COUNT", "0") == SYNTAX
    assert c.cmd("SSCAN", "ints", "0", "COUNT", "x") == NOT_INT
    assert c.cmd("SSCAN", "ints", "0", "NOPE") == SYNTAX
    r.sadd("big", *["m%d" % i for i in range(2000)])
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, data = r.sscan("big", cursor, count=20)
        seen.update(data)
        calls += 1
        if cursor == 0:
            break
    assert calls > 5
    assert seen == {"m%d" % i for i in range(2000)}


def test_sscan_survives_growth(r):
    # members present for the whole scan come back even when the set grows
    r.sadd("s", *["a%d" % i for i in range(200)])
    seen, cursor, added = set(), 0, 0
    while True:
        cursor, data = r.sscan("s", cursor, count=10)
        seen.update(data)
        if added < 2000:
            r.sadd("s", *["b%d" % (added + i) for i in range(400)])
            added += 400
        if cursor == 0:
            break
    assert {"a%d" % i for i in range(200)} <= seen


def test_wrongtype(c):
    c.cmd("SET", "str", "x")
    c.cmd("SADD", "s", "a")
    for args in [("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"),
                 ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SCARD", "str"),
                 ("SPOP", "str"), ("SPOP", "str", "0"), ("SRANDMEMBER", "str"),
                 ("SRANDMEMBER", "str", "0"), ("SMOVE", "str", "s", "a"),
                 ("SMOVE", "s", "str", "a"), ("SINTER", "s", "str"),
                 ("SINTER", "missing", "str"), ("SUNION", "missing", "str"),
                 ("SDIFF", "missing", "str"), ("SINTERSTORE", "d", "missing", "str"),
                 ("SUNIONSTORE", "d", "s", "str"), ("SDIFFSTORE", "d", "s", "str"),
                 ("SINTERCARD", "2", "missing", "str"), ("SSCAN", "str", "0")]:
        assert c.cmd(*args) == WRONGTYPE, args
    assert c.cmd("EXISTS", "d") == 0
    # a missing source is checked before the destination's type
    assert c.cmd("SMOVE", "missing", "str", "a") == 0
    # SDIFFSTORE with an empty first set never looks at values, only types
    assert c.cmd("SDIFFSTORE", "d", "missing", "s") == 0
    assert c.cmd("SMEMBERS", "s") == [b"a"]


def test_memory_accounting_returns(r):
    before = int(r.info("memory")["used_memory"])
    r.sadd("s", *["member-%d" % i for i in range(3000)])
    r.sadd("i", *range(400))
    assert int(r.info("memory")["used_memory"]) > before
    r.delete("s", "i")
    assert int(r.info("memory")["used_memory"]) - before < 200 * 1024


def test_random_operations_match_a_model(r):
    """Growth, shrink and the resizes in between keep every member findable,
    counted, scanned and returned (members are strings, so the table
    encoding is used from the start)."""
    import random
    rnd = random.Random(11)
    model = set()
    for step in range(60):
        adds = ["k%d" % rnd.randrange(6000) for _ in range(rnd.randrange(1, 300))]
        r.sadd("s", *adds)
        model.update(adds)
        if step > 20:
            dels = rnd.sample(sorted(model), min(len(model), rnd.randrange(0, 500)))
            if dels:
                assert r.srem("s", *dels) == len(dels)
                model.difference_update(dels)
        assert r.scard("s") == len(model)
        probe = rnd.sample(sorted(model), min(20, len(model)))
        if probe:
            assert r.smismember("s", probe) == [1] * len(probe)
    assert r.smembers("s") == model
    # a scan while the set is drained sees every member that stays
    keep = set(rnd.sample(sorted(model), len(model) // 10))
    drop = sorted(model - keep)
    seen, cursor = set(), 0
    while True:
        cursor, data = r.sscan("s", cursor, count=30)
        seen.update(data)
        if drop:
            r.srem("s", *drop[:300])
            drop = drop[300:]
        if cursor == 0:
            break
    assert keep <= seen
    assert r.smembers("s") == keep

"""List commands: every option, reply shape (RESP2 and RESP3) and error text."""


from conftest import OK, Err, WRONGTYPE, NOT_INT, SYNTAX, arity

POSITIVE = Err("ERR value is out of range, must be positive")


def test_push_and_len(c):
    assert c.cmd("LPUSH", "l", "a", "b", "c") == 3
    assert c.cmd("RPUSH", "l", "x", "y") == 5
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"c", b"b", b"a", b"x", b"y"]
    assert c.cmd("LLEN", "l") == 5
    assert c.cmd("LLEN", "missing") == 0
    assert c.cmd("TYPE", "l").s == "list"
    assert c.cmd("RPUSH", "e", "") == 1
    assert c.cmd("LRANGE", "e", "0", "-1") == [b""]
    assert c.cmd("LPUSH", "l") == arity("lpush")
    assert c.cmd("RPUSH", "l") == arity("rpush")


def test_pushx(c):
    assert c.cmd("LPUSHX", "l", "a") == 0
    assert c.cmd("RPUSHX", "l", "a", "b") == 0
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("RPUSH", "l", "m") == 1
    assert c.cmd("LPUSHX", "l", "a", "b") == 3
    assert c.cmd("RPUSHX", "l", "y", "z") == 5
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"a", b"m", b"y", b"z"]


def test_pop(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "d", "e")
    assert c.cmd("LPOP", "l") == b"a"
    assert c.cmd("RPOP", "l") == b"e"
    assert c.cmd("LPOP", "l", "2") == [b"b", b"c"]
    assert c.cmd("LPOP", "l", "0") == []
    assert c.cmd("RPOP", "l", "10") == [b"d"]
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LPOP", "l") is None
    assert c.cmd("LPOP", "l", "0") is None
    assert c.cmd("RPOP", "l", "3") is None
    assert c.cmd("LPOP", "l", "-1") == POSITIVE
    assert c.cmd("LPOP", "l", "x") == POSITIVE
    assert c.cmd("LPOP", "l", "1", "2") == arity("lpop")
    assert c.cmd("RPOP", "l", "1", "2") == arity("rpop")


def test_pop_null_shapes(c):
    c.send(b"*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n")
    assert c.read_line() == b"$-1"
    c.send(b"*3\r\n$4\r\nLPOP\r\n$1\r\nq\r\n$1\r\n1\r\n")
    assert c.read_line() == b"*-1"
    c.cmd("HELLO", "3")
    c.send(b"*3\r\n$4\r\nRPOP\r\n$1\r\nq\r\n$1\r\n1\r\n")
    assert c.read_line() == b"_"


def test_lrange(c):
    c.cmd("RPUSH", "l", *"0123456789")
    assert c.cmd("LRANGE", "l", "0", "2") == [b"0", b"1", b"2"]
    assert c.cmd("LRANGE", "l", "-3", "-1") == [b"7", b"8", b"9"]
    assert c.cmd("LRANGE", "l", "-100", "1") == [b"0", b"1"]
    assert c.cmd("LRANGE", "l", "8", "100") == [b"8", b"9"]
    assert c.cmd("LRANGE", "l", "5", "4") == []
    assert c.cmd("LRANGE", "l", "10", "20") == []
    assert c.cmd("LRANGE", "l", "-1", "-2") == []
    assert c.cmd("LRANGE", "missing", "0", "-1") == []
    assert c.cmd("LRANGE", "l", "a", "1") == NOT_INT
    assert c.cmd("LRANGE", "l", "0", "1.5") == NOT_INT


def test_lindex_lset(c):
    c.cmd("RPUSH", "l", "a", "b", "c")
    assert c.cmd("LINDEX", "l", "0") == b"a"
    assert c.cmd("LINDEX", "l", "-1") == b"c"
    assert c.cmd("LINDEX", "l", "3") is None
    assert c.cmd("LINDEX", "l", "-4") is None
    assert c.cmd("LINDEX", "missing", "0") is None
    assert c.cmd("LINDEX", "l", "x") == NOT_INT
    assert c.cmd("LSET", "l", "1", "B") == OK
    assert c.cmd("LSET", "l", "-1", "C") == OK
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"a", b"B", b"C"]
    assert c.cmd("LSET", "l", "3", "x") == Err("ERR index out of range")
    assert c.cmd("LSET", "l", "-4", "x") == Err("ERR index out of range")
    assert c.cmd("LSET", "missing", "0", "x") == Err("ERR no such key")
    assert c.cmd("LSET", "l", "y", "x") == NOT_INT


def test_lrem(c):
    c.cmd("RPUSH", "l", "a", "b", "a", "c", "a", "b")
    assert c.cmd("LREM", "l", "1", "a") == 1
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"a", b"c", b"a", b"b"]
    assert c.cmd("LREM", "l", "-1", "b") == 1
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"a", b"c", b"a"]
    assert c.cmd("LREM", "l", "0", "a") == 2
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"c"]
    assert c.cmd("LREM", "l", "0", "zz") == 0
    assert c.cmd("LREM", "l", "-9223372036854775808", "c") == 1
    assert c.cmd("LREM", "l", "5", "b") == 1
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LREM", "missing", "0", "a") == 0
    assert c.cmd("LREM", "l", "x", "a") == NOT_INT


def test_lrem_from_tail_keeps_order(c):
    c.cmd("RPUSH", "l", "x", "1", "x", "2", "x", "3", "x")
    assert c.cmd("LREM", "l", "-2", "x") == 2
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"x", b"1", b"x", b"2", b"3"]


def test_ltrim(c):
    c.cmd("RPUSH", "l", *"abcdef")
    assert c.cmd("LTRIM", "l", "1", "-2") == OK
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"c", b"d", b"e"]
    assert c.cmd("LTRIM", "l", "-100", "100") == OK
    assert c.cmd("LLEN", "l") == 4
    assert c.cmd("LTRIM", "l", "2", "1") == OK
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LTRIM", "missing", "0", "1") == OK
    assert c.cmd("LTRIM", "l", "0", "x") == NOT_INT


def test_linsert(c):
    c.cmd("RPUSH", "l", "a", "c")
    assert c.cmd("LINSERT", "l", "BEFORE", "c", "b") == 3
    assert c.cmd("LINSERT", "l", "after", "c", "d") == 4
    assert c.cmd("LINSERT", "l", "before", "a", "0") == 5
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"0", b"a", b"b", b"c", b"d"]
    assert c.cmd("LINSERT", "l", "before", "zz", "x") == -1
    assert c.cmd("LINSERT", "missing", "before", "a", "x") == 0
    assert c.cmd("LINSERT", "l", "middle", "a", "x") == SYNTAX
    assert c.cmd("LINSERT", "missing", "middle", "a", "x") == SYNTAX


def test_linsert_many_middle(r):
    r.rpush("l", *range(100))
    for i in range(0, 100, 10):
        assert r.linsert("l", "AFTER", str(i), "x%d" % i) > 0
    got = r.lrange("l", 0, -1)
    want = []
    for i in range(100):
        want.append(str(i))
        if i % 10 == 0:
            want.append("x%d" % i)
    assert got == want


def test_lpos(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert c.cmd("LPOS", "l", "c") == 2
    assert c.cmd("LPOS", "l", "zz") is None
    assert c.cmd("LPOS", "l", "c", "RANK", "2") == 6
    assert c.cmd("LPOS", "l", "c", "RANK", "-1") == 7
    assert c.cmd("LPOS", "l", "c", "RANK", "-3") == 2
    assert c.cmd("LPOS", "l", "c", "RANK", "4") is None
    assert c.cmd("LPOS", "l", "c", "COUNT", "2") == [2, 6]
    assert c.cmd("LPOS", "l", "c", "COUNT", "0") == [2, 6, 7]
    assert c.cmd("LPOS", "l", "c", "RANK", "-1", "COUNT", "2") == [7, 6]
    assert c.cmd("LPOS", "l", "c", "RANK", "2", "COUNT", "0") == [6, 7]
    assert c.cmd("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7") == [2, 6]
    assert c.cmd("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1") == 7
    assert c.cmd("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "2", "COUNT", "0") == [7, 6]
    assert c.cmd("LPOS", "l", "zz", "COUNT", "0") == []
    assert c.cmd("LPOS", "l", "c", "RANK", "-9223372036854775808") == 7
    assert c.cmd("LPOS", "missing", "c") is None
    assert c.cmd("LPOS", "missing", "c", "COUNT", "1") == []
    assert c.cmd("LPOS", "l", "c", "RANK", "0") == Err(
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
        "or use negative to start from the end of the list")
    assert c.cmd("LPOS", "l", "c", "COUNT", "-1") == Err("ERR COUNT can't be negative")
    assert c.cmd("LPOS", "l", "c", "MAXLEN", "-1") == Err("ERR MAXLEN can't be negative")
    assert c.cmd("LPOS", "l", "c", "RANK", "x") == NOT_INT
    assert c.cmd("LPOS", "l", "c", "RANK") == SYNTAX
    assert c.cmd("LPOS", "l", "c", "FOO", "1") == SYNTAX


def test_lmove_rpoplpush(c):
    c.cmd("RPUSH", "src", "a", "b", "c")
    assert c.cmd("RPOPLPUSH", "src", "dst") == b"c"
    assert c.cmd("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"c", b"a"]
    assert c.cmd("LMOVE", "src", "dst", "right", "left") == b"b"
    assert c.cmd("EXISTS", "src") == 0
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"b", b"c", b"a"]
    assert c.cmd("LMOVE", "src", "dst", "LEFT", "LEFT") is None
    assert c.cmd("RPOPLPUSH", "src", "dst") is None
    # rotation of one list
    assert c.cmd("LMOVE", "dst", "dst", "LEFT", "RIGHT") == b"b"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"c", b"a", b"b"]
    assert c.cmd("RPOPLPUSH", "dst", "dst") == b"b"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"b", b"c", b"a"]
    c.cmd("RPUSH", "one", "x")
    assert c.cmd("RPOPLPUSH", "one", "one") == b"x"
    assert c.cmd("LRANGE", "one", "0", "-1") == [b"x"]
    assert c.cmd("LMOVE", "dst", "dst", "UP", "LEFT") == SYNTAX
    assert c.cmd("LMOVE", "missing", "dst", "LEFT", "DOWN") == SYNTAX


def test_lmove_cross_slot_keys(r):
    # keys in different slots (and so, in percore, usually different partitions)
    for i in range(20):
        r.rpush("src%d" % i, "v%d" % i)
        assert r.lmove("src%d" % i, "dst%d" % (i * 7), "LEFT", "LEFT") == "v%d" % i
        assert r.exists("src%d" % i) == 0
        assert r.lrange("dst%d" % (i * 7), 0, -1) == ["v%d" % i]


def test_lmpop(c):
    c.cmd("RPUSH", "b", "1", "2", "3")
    assert c.cmd("LMPOP", "2", "a", "b", "LEFT") == [b"b", [b"1"]]
    assert c.cmd("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5") == [b"b", [b"3", b"2"]]
    assert c.cmd("EXISTS", "b") == 0
    assert c.cmd("LMPOP", "2", "a", "b", "LEFT") is None
    c.cmd("RPUSH", "a", "x")
    assert c.cmd("LMPOP", "1", "a", "left", "count", "1") == [b"a", [b"x"]]
    assert c.cmd("LMPOP", "0", "a", "LEFT") == Err("ERR numkeys should be greater than 0")
    assert c.cmd("LMPOP", "x", "a", "LEFT") == Err("ERR numkeys should be greater than 0")
    assert c.cmd("LMPOP", "2", "a", "LEFT") == SYNTAX
    assert c.cmd("LMPOP", "5", "a", "LEFT") == SYNTAX
    assert c.cmd("LMPOP", "1", "a", "MIDDLE") == SYNTAX
    assert c.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "0") == Err(
        "ERR count should be greater than 0")
    assert c.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "x") == Err(
        "ERR count should be greater than 0")
    assert c.cmd("LMPOP", "1", "a", "LEFT", "COUNT") == SYNTAX
    assert c.cmd("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == SYNTAX
    assert c.cmd("LMPOP", "1", "a") == arity("lmpop")


def test_lmpop_null_shapes(c):
    c.send(b"*4\r\n$5\r\nLMPOP\r\n$1\r\n1\r\n$1\r\nq\r\n$4\r\nLEFT\r\n")
    assert c.read_line() == b"*-1"
    c.cmd("HELLO", "3")
    c.send(b"*4\r\n$5\r\nLMPOP\r\n$1\r\n1\r\n$1\r\nq\r\n$4\r\nLEFT\r\n")
    assert c.read_line() == b"_"


def test_wrongtype(c):
    c.cmd("SET", "s", "x")
    c.cmd("RPUSH", "l", "x")
    for args in [("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"),
                 ("RPUSHX", "s", "a"), ("LPOP", "s"), ("RPOP", "s", "1"), ("LLEN", "s"),
                 ("LRANGE", "s", "0", "1"), ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
                 ("LREM", "s", "0", "x"), ("LTRIM", "s", "0", "1"),
                 ("LINSERT", "s", "BEFORE", "a", "b"), ("LPOS", "s", "x"),
                 ("RPOPLPUSH", "s", "l"), ("RPOPLPUSH", "l", "s"),
                 ("LMOVE", "l", "s", "LEFT", "LEFT"), ("LMPOP", "2", "missing", "s", "LEFT")]:
        assert c.cmd(*args) == WRONGTYPE, args
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"x"]
    assert c.cmd("GET", "l") == WRONGTYPE
    # A missing source does not look at the destination's type.
    assert c.cmd("RPOPLPUSH", "missing", "s") is None


def test_big_list_both_ends(r):
    n = 3000
    for i in range(n):
        if i % 2:
            r.rpush("big", i)
        else:
            r.lpush("big", i)
    assert r.llen("big") == n
    items = r.lrange("big", 0, -1)
    assert items[0] == str(n - 2) and items[-1] == str(n - 1)
    assert r.lindex("big", n // 2) == items[n // 2]
    for _ in range(n - 10):
        r.lpop("big")
    assert r.lrange("big", 0, -1) == items[n - 10:]
    assert r.ltrim("big", 2, 4)
    assert r.lrange("big", 0, -1) == items[n - 8:n - 5]


def test_large_elements(r):
    v = "x" * 100000
    r.rpush("l", v, "small", v)
    assert r.lrange("l", 0, -1) == [v, "small", v]
    assert r.lrem("l", 0, v) == 2
    assert r.lrange("l", 0, -1) == ["small"]


def test_memory_accounting_returns(r):
    # Growing and draining a list must leave no memory charged: used_memory is
    # compared on a flushed server before and after.
    before = int(r.info("memory")["used_memory"])
    r.rpush("l", *["v" * 50] * 2000)
    assert int(r.info("memory")["used_memory"]) > before
    r.delete("l")
    after = int(r.info("memory")["used_memory"])
    assert after - before < 200 * 1024

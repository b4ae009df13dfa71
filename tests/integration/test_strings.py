"""String commands, every option and error text."""

import time

import pytest

from conftest import OK, Err, Status, WRONGTYPE, NOT_INT, NOT_FLOAT, SYNTAX, arity


def expire_err(cmd):
    return Err("ERR invalid expire time in '%s' command" % cmd)


@pytest.fixture
def lst(c):
    """A key holding a list, for WRONGTYPE checks."""
    assert c.cmd("RPUSH", "lst", "x") == 1
    return "lst"


# ------------------------------------------------------------------ GET / SET


def test_get_set_basic(r, c):
    assert r.get("missing") is None
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert c.cmd("SET", "k", "v2") == OK
    assert c.cmd("GET", "k") == b"v2"
    assert c.cmd("SET", "empty", "") == OK
    assert c.cmd("GET", "empty") == b""
    assert c.cmd("EXISTS", "empty") == 1


@pytest.mark.parametrize("args, want", [
    (("GET", "lst"), WRONGTYPE),
    (("GETSET", "lst", "x"), WRONGTYPE),
    (("GETDEL", "lst"), WRONGTYPE),
    (("GETEX", "lst"), WRONGTYPE),
    (("GETEX", "lst", "EX", "10"), WRONGTYPE),
    (("SET", "lst", "x", "GET"), WRONGTYPE),
    (("APPEND", "lst", "x"), WRONGTYPE),
    (("STRLEN", "lst"), WRONGTYPE),
    (("INCR", "lst"), WRONGTYPE),
    (("DECRBY", "lst", "2"), WRONGTYPE),
    (("INCRBYFLOAT", "lst", "1"), WRONGTYPE),
    (("GETRANGE", "lst", "0", "1"), WRONGTYPE),
    (("SETRANGE", "lst", "0", "x"), WRONGTYPE),
    (("SETNX", "lst", "x"), 0),
    (("MSETNX", "new", "1", "lst", "x"), 0),
    (("MGET", "new", "lst"), [None, None]),
])
def test_string_commands_on_a_list(c, lst, args, want):
    assert c.cmd(*args) == want
    # nothing changed
    assert c.cmd("TYPE", "lst") == Status("list")
    assert c.cmd("LRANGE", "lst", "0", "-1") == [b"x"]
    assert c.cmd("EXISTS", "new") == 0


def test_set_and_mset_replace_a_list(c, lst):
    assert c.cmd("MSET", lst, "s") == OK
    assert c.cmd("GET", lst) == b"s"
    assert c.cmd("RPUSH", "lst2", "x") == 1
    assert c.cmd("SET", "lst2", "y", "GET") == WRONGTYPE
    assert c.cmd("SET", "lst2", "y", "KEEPTTL") == OK
    assert c.cmd("TYPE", "lst2") == Status("string")


def test_set_overwrites_other_types(c, lst):
    assert c.cmd("SET", lst, "now-a-string") == OK
    assert c.cmd("TYPE", lst) == Status("string")


def test_set_nx_xx(c):
    assert c.cmd("SET", "k", "1", "NX") == OK
    assert c.cmd("SET", "k", "2", "NX") is None
    assert c.cmd("GET", "k") == b"1"
    assert c.cmd("SET", "k", "3", "XX") == OK
    assert c.cmd("GET", "k") == b"3"
    assert c.cmd("SET", "other", "x", "XX") is None
    assert c.cmd("EXISTS", "other") == 0
    assert c.cmd("SET", "k", "1", "nx", "xx") == SYNTAX


def test_set_ex_px(c):
    assert c.cmd("SET", "k", "v", "EX", "100") == OK
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("SET", "k", "v", "PX", "100000") == OK
    assert 99000 < c.cmd("PTTL", "k") <= 100000
    # a plain SET drops the TTL
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("TTL", "k") == -1


def test_set_exat_pxat(c):
    now = int(time.time())
    assert c.cmd("SET", "k", "v", "EXAT", str(now + 100)) == OK
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("EXPIRETIME", "k") == now + 100
    assert c.cmd("SET", "k", "v", "PXAT", str((now + 200) * 1000 + 123)) == OK
    assert c.cmd("PEXPIRETIME", "k") == (now + 200) * 1000 + 123
    # a time in the past: the key is set and immediately gone
    assert c.cmd("SET", "k", "v", "EXAT", str(now - 100)) == OK
    assert c.cmd("GET", "k") is None
    assert c.cmd("EXISTS", "k") == 0


def test_set_keepttl(c):
    assert c.cmd("SET", "k", "v", "EX", "100") == OK
    assert c.cmd("SET", "k", "v2", "KEEPTTL") == OK
    assert c.cmd("GET", "k") == b"v2"
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("SET", "k", "v3", "KEEPTTL", "XX") == OK
    assert 98 <= c.cmd("TTL", "k") <= 100


def test_set_get_option(c):
    assert c.cmd("SET", "k", "v1", "GET") is None
    assert c.cmd("SET", "k", "v2", "GET") == b"v1"
    assert c.cmd("GET", "k") == b"v2"
    assert c.cmd("SET", "k", "v3", "GET", "EX", "50") == b"v2"
    assert c.cmd("TTL", "k") == 50
    # 7.0: NX and GET together
    assert c.cmd("SET", "k", "v4", "NX", "GET") == b"v3"
    assert c.cmd("GET", "k") == b"v3"
    assert c.cmd("SET", "new", "n1", "NX", "GET") is None
    assert c.cmd("GET", "new") == b"n1"
    assert c.cmd("SET", "absent", "x", "XX", "GET") is None
    assert c.cmd("EXISTS", "absent") == 0
    # GET on a non-string: error, and nothing is set


def test_set_option_errors(c):
    assert c.cmd("SET", "k", "v", "EX", "0") == expire_err("set")
    assert c.cmd("SET", "k", "v", "EX", "-1") == expire_err("set")
    assert c.cmd("SET", "k", "v", "PX", "0") == expire_err("set")
    assert c.cmd("SET", "k", "v", "EXAT", "0") == expire_err("set")
    assert c.cmd("SET", "k", "v", "EX", "9999999999999999") == expire_err("set")
    assert c.cmd("SET", "k", "v", "EX", "abc") == NOT_INT
    assert c.cmd("SET", "k", "v", "EX", "1.5") == NOT_INT
    assert c.cmd("SET", "k", "v", "EX") == SYNTAX
    assert c.cmd("SET", "k", "v", "EX", "10", "PX", "100") == SYNTAX
    assert c.cmd("SET", "k", "v", "EX", "10", "EXAT", "100") == SYNTAX
    assert c.cmd("SET", "k", "v", "KEEPTTL", "EX", "10") == SYNTAX
    assert c.cmd("SET", "k", "v", "FOO") == SYNTAX
    assert c.cmd("SET", "k") == arity("set")
    assert c.cmd("EXISTS", "k") == 0


def test_set_errors_do_not_set(c):
    assert c.cmd("SET", "k", "v", "EX", "0") == expire_err("set")
    assert c.cmd("SET", "k", "v", "NX", "XX") == SYNTAX
    assert c.cmd("EXISTS", "k") == 0


def test_setnx(c):
    assert c.cmd("SETNX", "k", "a") == 1
    assert c.cmd("SETNX", "k", "b") == 0
    assert c.cmd("GET", "k") == b"a"
    assert c.cmd("SETNX", "k") == arity("setnx")


def test_setex_psetex(c):
    assert c.cmd("SETEX", "k", "100", "v") == OK
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("PSETEX", "p", "100000", "v") == OK
    assert 99000 < c.cmd("PTTL", "p") <= 100000
    assert c.cmd("SETEX", "k", "0", "v") == expire_err("setex")
    assert c.cmd("SETEX", "k", "-5", "v") == expire_err("setex")
    assert c.cmd("SETEX", "k", "abc", "v") == NOT_INT
    assert c.cmd("PSETEX", "k", "0", "v") == expire_err("psetex")
    assert c.cmd("PSETEX", "k", "x", "v") == NOT_INT
    assert c.cmd("SETEX", "k", "10") == arity("setex")
    assert c.cmd("PSETEX", "k", "10") == arity("psetex")


def test_getset(c):
    assert c.cmd("GETSET", "k", "a") is None
    assert c.cmd("GETSET", "k", "b") == b"a"
    assert c.cmd("GET", "k") == b"b"
    assert c.cmd("EXPIRE", "k", "100") == 1
    assert c.cmd("GETSET", "k", "c") == b"b"
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("GETSET", "k") == arity("getset")


def test_getdel(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("GETDEL", "k") == b"v"
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("GETDEL", "k") is None
    assert c.cmd("GETDEL", "a", "b") == arity("getdel")


def test_getex(c):
    assert c.cmd("GETEX", "missing") is None
    assert c.cmd("GETEX", "missing", "EX", "10") is None
    assert c.cmd("EXISTS", "missing") == 0
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("GETEX", "k") == b"v"
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("GETEX", "k", "EX", "100") == b"v"
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("GETEX", "k", "PX", "200000") == b"v"
    assert 199000 < c.cmd("PTTL", "k") <= 200000
    now = int(time.time())
    assert c.cmd("GETEX", "k", "EXAT", str(now + 300)) == b"v"
    assert c.cmd("EXPIRETIME", "k") == now + 300
    assert c.cmd("GETEX", "k", "PXAT", str((now + 400) * 1000)) == b"v"
    assert c.cmd("PEXPIRETIME", "k") == (now + 400) * 1000
    assert c.cmd("GETEX", "k", "PERSIST") == b"v"
    assert c.cmd("TTL", "k") == -1
    # a time in the past deletes the key after returning it
    assert c.cmd("GETEX", "k", "EXAT", str(now - 10)) == b"v"
    assert c.cmd("EXISTS", "k") == 0


def test_getex_errors(c):
    assert c.cmd("SET", "k", "v") == OK
    assert c.cmd("GETEX", "k", "EX", "0") == expire_err("getex")
    assert c.cmd("GETEX", "k", "PX", "-5") == expire_err("getex")
    assert c.cmd("GETEX", "k", "EXAT", "0") == expire_err("getex")
    assert c.cmd("GETEX", "k", "EX", "9999999999999999") == expire_err("getex")
    assert c.cmd("GETEX", "k", "EX", "abc") == NOT_INT
    assert c.cmd("GETEX", "k", "EX") == SYNTAX
    assert c.cmd("GETEX", "k", "EX", "10", "PX", "10") == SYNTAX
    assert c.cmd("GETEX", "k", "PERSIST", "EX", "10") == SYNTAX
    assert c.cmd("GETEX", "k", "FOO") == SYNTAX
    assert c.cmd("GETEX") == arity("getex")
    assert c.cmd("TTL", "k") == -1


def test_mget_mset(c):
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3") == OK
    assert c.cmd("MGET", "a", "b", "missing", "c", "a") == [b"1", b"2", None, b"3", b"1"]
    assert c.cmd("MSET", "a", "x", "a", "y") == OK
    assert c.cmd("GET", "a") == b"y"
    assert c.cmd("EXPIRE", "b", "100") == 1
    assert c.cmd("MSET", "b", "new") == OK
    assert c.cmd("TTL", "b") == -1
    assert c.cmd("MSET", "a") == arity("mset")
    assert c.cmd("MSET", "a", "1", "b") == arity("mset")
    assert c.cmd("MGET") == arity("mget")


def test_mset_many_keys(r):
    kv = {"key:%d" % i: "val:%d" % i for i in range(1000)}
    assert r.mset(kv) is True
    keys = list(kv)
    assert r.mget(keys) == [kv[k] for k in keys]
    assert r.dbsize() == 1000


def test_msetnx(c):
    assert c.cmd("MSETNX", "a", "1", "b", "2") == 1
    assert c.cmd("MSETNX", "b", "x", "c", "3") == 0
    assert c.cmd("MGET", "a", "b", "c") == [b"1", b"2", None]
    assert c.cmd("EXISTS", "c") == 0
    assert c.cmd("MSETNX", "c", "1", "c", "2") == 1
    assert c.cmd("GET", "c") == b"2"
    assert c.cmd("MSETNX", "a") == arity("msetnx")
    assert c.cmd("MSETNX", "a", "1", "b") == arity("msetnx")


def test_append_strlen(c):
    assert c.cmd("STRLEN", "k") == 0
    assert c.cmd("APPEND", "k", "hello") == 5
    assert c.cmd("APPEND", "k", " world") == 11
    assert c.cmd("GET", "k") == b"hello world"
    assert c.cmd("STRLEN", "k") == 11
    assert c.cmd("APPEND", "k", "") == 11
    assert c.cmd("SET", "n", "10") == OK
    assert c.cmd("APPEND", "n", "5") == 3
    assert c.cmd("INCR", "n") == 106
    assert c.cmd("STRLEN", "n") == 3
    assert c.cmd("EXPIRE", "k", "100") == 1
    assert c.cmd("APPEND", "k", "!") == 12
    assert c.cmd("TTL", "k") == 100
    assert c.cmd("APPEND", "k") == arity("append")


def test_incr_decr(c):
    assert c.cmd("INCR", "n") == 1
    assert c.cmd("INCR", "n") == 2
    assert c.cmd("DECR", "n") == 1
    assert c.cmd("DECR", "m") == -1
    assert c.cmd("INCRBY", "n", "10") == 11
    assert c.cmd("INCRBY", "n", "-20") == -9
    assert c.cmd("DECRBY", "n", "1") == -10
    assert c.cmd("DECRBY", "n", "-15") == 5
    assert c.cmd("GET", "n") == b"5"
    assert c.cmd("SET", "n", "-0") == OK
    assert c.cmd("INCR", "n") == NOT_INT
    assert c.cmd("SET", "t", "41") == OK
    assert c.cmd("EXPIRE", "t", "100") == 1
    assert c.cmd("INCR", "t") == 42
    assert c.cmd("TTL", "t") == 100
    assert c.cmd("INCR") == arity("incr")
    assert c.cmd("INCRBY", "n") == arity("incrby")


@pytest.mark.parametrize("bad", ["abc", "", " 1", "1 ", "01", "+1", "1.5", "1e3",
                                 "99999999999999999999"])
def test_incr_not_an_integer(c, bad):
    assert c.cmd("SET", "n", bad) == OK
    assert c.cmd("INCR", "n") == NOT_INT
    assert c.cmd("DECR", "n") == NOT_INT
    assert c.cmd("INCRBY", "n", "1") == NOT_INT
    assert c.cmd("GET", "n") == bad.encode()


def test_incrby_bad_increment(c):
    assert c.cmd("INCRBY", "n", "abc") == NOT_INT
    assert c.cmd("INCRBY", "n", "1.5") == NOT_INT
    assert c.cmd("DECRBY", "n", "") == NOT_INT
    assert c.cmd("INCRBY", "n", "99999999999999999999") == NOT_INT
    assert c.cmd("EXISTS", "n") == 0


def test_incr_overflow(c):
    assert c.cmd("SET", "n", "9223372036854775807") == OK
    assert c.cmd("INCR", "n") == Err("ERR increment or decrement would overflow")
    assert c.cmd("INCRBY", "n", "1") == Err("ERR increment or decrement would overflow")
    assert c.cmd("GET", "n") == b"9223372036854775807"
    assert c.cmd("SET", "n", "-9223372036854775808") == OK
    assert c.cmd("DECR", "n") == Err("ERR increment or decrement would overflow")
    assert c.cmd("DECRBY", "n", "1") == Err("ERR increment or decrement would overflow")
    assert c.cmd("INCRBY", "n", "9223372036854775807") == -1
    assert c.cmd("SET", "z", "0") == OK
    assert c.cmd("DECRBY", "z", "-9223372036854775808") == Err("ERR decrement would overflow")
    assert c.cmd("INCRBY", "z", "-9223372036854775808") == -9223372036854775808


def test_incrbyfloat(c):
    assert c.cmd("INCRBYFLOAT", "f", "10.5") == b"10.5"
    assert c.cmd("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert c.cmd("INCRBYFLOAT", "f", "-5") == b"5.6"
    assert c.cmd("INCRBYFLOAT", "f", "-5.6") == b"0"
    assert c.cmd("SET", "f", "5.0e3") == OK
    assert c.cmd("INCRBYFLOAT", "f", "2.0e2") == b"5200"
    assert c.cmd("SET", "i", "3") == OK
    assert c.cmd("INCRBYFLOAT", "i", "1.25") == b"4.25"
    assert c.cmd("GET", "i") == b"4.25"
    assert c.cmd("INCRBYFLOAT", "i", "-0.25") == b"4"
    assert c.cmd("INCR", "i") == 5
    assert c.cmd("EXPIRE", "i", "100") == 1
    assert c.cmd("INCRBYFLOAT", "i", "1") == b"6"
    assert c.cmd("TTL", "i") == 100
    assert c.cmd("INCRBYFLOAT", "f") == arity("incrbyfloat")


def test_incrbyfloat_errors(c):
    assert c.cmd("SET", "s", "abc") == OK
    assert c.cmd("INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert c.cmd("INCRBYFLOAT", "f", "abc") == NOT_FLOAT
    assert c.cmd("INCRBYFLOAT", "f", "") == NOT_FLOAT
    assert c.cmd("INCRBYFLOAT", "f", "nan") == NOT_FLOAT
    assert c.cmd("INCRBYFLOAT", "f", "1.0 ") == NOT_FLOAT
    assert c.cmd("EXISTS", "f") == 0
    assert c.cmd("SET", "f", "1") == OK
    assert c.cmd("INCRBYFLOAT", "f", "inf") == Err("ERR increment would produce NaN or Infinity")
    assert c.cmd("GET", "f") == b"1"


def test_getrange(c):
    assert c.cmd("SET", "k", "This is a string") == OK
    assert c.cmd("GETRANGE", "k", "0", "3") == b"This"
    assert c.cmd("GETRANGE", "k", "-3", "-1") == b"ing"
    assert c.cmd("GETRANGE", "k", "0", "-1") == b"This is a string"
    assert c.cmd("GETRANGE", "k", "10", "100") == b"string"
    assert c.cmd("GETRANGE", "k", "-100", "3") == b"This"
    assert c.cmd("GETRANGE", "k", "5", "3") == b""
    assert c.cmd("GETRANGE", "k", "100", "200") == b""
    assert c.cmd("GETRANGE", "k", "-1", "-5") == b""
    assert c.cmd("GETRANGE", "missing", "0", "-1") == b""
    assert c.cmd("SET", "n", "12345") == OK
    assert c.cmd("GETRANGE", "n", "1", "2") == b"23"
    assert c.cmd("GETRANGE", "k", "a", "1") == NOT_INT
    assert c.cmd("GETRANGE", "k", "0") == arity("getrange")


def test_setrange(c):
    assert c.cmd("SET", "k", "Hello World") == OK
    assert c.cmd("SETRANGE", "k", "6", "Redis") == 11
    assert c.cmd("GET", "k") == b"Hello Redis"
    assert c.cmd("SETRANGE", "k", "11", "!!") == 13
    assert c.cmd("GET", "k") == b"Hello Redis!!"
    assert c.cmd("SETRANGE", "pad", "5", "x") == 6
    assert c.cmd("GET", "pad") == b"\x00\x00\x00\x00\x00x"
    # empty value: returns the current length and creates nothing
    assert c.cmd("SETRANGE", "none", "10", "") == 0
    assert c.cmd("EXISTS", "none") == 0
    assert c.cmd("SETRANGE", "k", "0", "") == 13
    assert c.cmd("SET", "n", "1234") == OK
    assert c.cmd("SETRANGE", "n", "1", "0") == 4
    assert c.cmd("INCR", "n") == 1035
    assert c.cmd("SETRANGE", "k", "-1", "x") == Err("ERR offset is out of range")
    assert c.cmd("SETRANGE", "k", "536870912", "x") == Err(
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert c.cmd("SETRANGE", "k", "abc", "x") == NOT_INT
    assert c.cmd("SETRANGE", "k", "0") == arity("setrange")


def test_big_value(rb):
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    assert rb.set(b"big", big) is True
    assert rb.get(b"big") == big
    assert rb.strlen(b"big") == len(big)
    assert rb.append(b"big", b"tail") == len(big) + 4
    assert rb.getrange(b"big", len(big), -1) == b"tail"
    assert rb.getrange(b"big", 0, 255) == bytes(range(256))
    assert rb.setrange(b"big", 2 * len(big), b"x") == 2 * len(big) + 1
    assert rb.strlen(b"big") == 2 * len(big) + 1
    assert rb.get(b"big")[len(big) + 4:-1] == b"\x00" * (len(big) - 4)
    vals = {b"b%d" % i: bytes([i]) * (300 * 1024 + i) for i in range(4)}
    assert rb.mset(vals) is True
    assert rb.mget(list(vals)) == list(vals.values())


def test_binary_values_and_keys(rb, c):
    weird = b"a\x00b\r\nc\r\n\x00\xff\xfe*1\r\n$3\r\n"
    assert rb.set(weird, weird) is True
    assert rb.get(weird) == weird
    assert c.cmd("GET", weird) == weird
    assert c.cmd("STRLEN", weird) == len(weird)
    assert c.cmd("APPEND", weird, b"\r\n") == len(weird) + 2
    assert c.cmd("EXISTS", weird) == 1
    assert c.cmd("KEYS", "*") == [weird]
    assert c.cmd("SET", b"\x00", b"") == OK
    assert c.cmd("GET", b"\x00") == b""
    assert c.cmd("SET", b"", b"empty-key") == OK
    assert c.cmd("GET", b"") == b"empty-key"

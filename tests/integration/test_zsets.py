"""Sorted set commands: every option, reply shape (RESP2 and RESP3), score
formatting and error text."""

import random

import pytest

from conftest import Double, Err, WRONGTYPE, NOT_INT, NOT_FLOAT, SYNTAX, arity

POSITIVE = Err("ERR value is out of range, must be positive")
SCORE_RANGE = Err("ERR min or max is not a float")
LEX_RANGE = Err("ERR min or max not valid string range item")


def at_least_one(cmd):
    return Err("ERR at least 1 input key is needed for '%s' command" % cmd)


# ------------------------------------------------------------------ ZADD family


def test_zadd_basic(c):
    assert c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c") == 3
    assert c.cmd("ZADD", "z", "10", "a", "4", "d") == 1
    assert c.cmd("ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"b", b"2", b"c", b"3", b"d", b"4", b"a", b"10"]
    assert c.cmd("ZCARD", "z") == 4
    assert c.cmd("ZCARD", "missing") == 0
    assert c.cmd("TYPE", "z").s == "zset"
    assert c.cmd("ZADD", "z") == arity("zadd")
    assert c.cmd("ZADD", "z", "1") == arity("zadd")
    assert c.cmd("ZADD", "z", "1", "a", "x") == SYNTAX
    assert c.cmd("ZADD", "z", "CH", "1") == SYNTAX
    assert c.cmd("ZADD", "z", "x", "a") == NOT_FLOAT
    assert c.cmd("ZADD", "z", "nan", "a") == NOT_FLOAT
    assert c.cmd("ZADD", "z", "1", "a", "y", "b") == NOT_FLOAT
    assert c.cmd("ZSCORE", "z", "a") == b"10"


def test_zadd_options(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.cmd("ZADD", "z", "NX", "XX", "1", "a") == Err(
        "ERR XX and NX options at the same time are not compatible")
    for opts in (("GT", "LT"), ("NX", "GT"), ("NX", "LT")):
        assert c.cmd("ZADD", "z", *opts, "1", "a") == Err(
            "ERR GT, LT, and/or NX options at the same time are not compatible")
    assert c.cmd("ZADD", "z", "INCR", "1", "a", "2", "b") == Err(
        "ERR INCR option supports a single increment-element pair")
    assert c.cmd("ZADD", "z", "NX", "5", "a", "5", "n") == 1
    assert c.cmd("ZSCORE", "z", "a") == b"1"
    assert c.cmd("ZADD", "z", "XX", "5", "a", "5", "x") == 0
    assert c.cmd("ZSCORE", "z", "a") == b"5"
    assert c.cmd("ZSCORE", "z", "x") is None
    assert c.cmd("ZADD", "z", "XX", "CH", "6", "a", "5", "n") == 1
    assert c.cmd("ZADD", "z", "CH", "GT", "10", "a", "0", "b", "5", "new") == 2
    assert c.cmd("ZADD", "z", "ch", "lt", "1", "c", "100", "a") == 1
    assert c.cmd("ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"c", b"1", b"b", b"2", b"n", b"5", b"new", b"5", b"a", b"10"]
    assert c.cmd("ZADD", "missing", "XX", "1", "a") == 0
    assert c.cmd("ZADD", "missing", "XX", "INCR", "1", "a") is None
    assert c.cmd("EXISTS", "missing") == 0


def test_zadd_incr_and_zincrby(c):
    assert c.cmd("ZADD", "z", "INCR", "5", "a") == b"5"
    assert c.cmd("ZADD", "z", "INCR", "2.5", "a") == b"7.5"
    assert c.cmd("ZADD", "z", "INCR", "NX", "5", "a") is None
    assert c.cmd("ZADD", "z", "INCR", "XX", "5", "zz") is None
    assert c.cmd("ZADD", "z", "INCR", "GT", "-1", "a") is None
    assert c.cmd("ZADD", "z", "INCR", "LT", "-1", "a") == b"6.5"
    assert c.cmd("ZINCRBY", "z", "1", "b") == b"1"
    assert c.cmd("ZINCRBY", "z", "-3", "b") == b"-2"
    assert c.cmd("ZINCRBY", "z", "x", "b") == NOT_FLOAT
    assert c.cmd("ZADD", "z", "inf", "a") == 0
    assert c.cmd("ZSCORE", "z", "a") == b"inf"
    assert c.cmd("ZADD", "z", "INCR", "-inf", "a") == Err(
        "ERR resulting score is not a number (NaN)")
    assert c.cmd("ZINCRBY", "z", "-inf", "a") == Err("ERR resulting score is not a number (NaN)")
    assert c.cmd("ZSCORE", "z", "a") == b"inf"
    c.cmd("ZADD", "f", "1.5e308", "huge")
    assert c.cmd("ZINCRBY", "f", "1.5e308", "huge") == b"inf"


def test_score_formatting(c):
    c.cmd("ZADD", "f", "1.1", "x", "0.1", "y", "-0.0", "zero", "1e300", "big", "3", "three",
          "5e-324", "tiny", "123456789012345678", "bigint", "0.30000000000000004", "pt3")
    assert c.cmd("ZSCORE", "f", "x") == b"1.1000000000000001"
    assert c.cmd("ZSCORE", "f", "y") == b"0.10000000000000001"
    assert c.cmd("ZSCORE", "f", "zero") == b"0"
    assert c.cmd("ZSCORE", "f", "big") == b"1.0000000000000001e+300"
    assert c.cmd("ZSCORE", "f", "tiny") == b"4.9406564584124654e-324"
    assert c.cmd("ZSCORE", "f", "bigint") == b"1.2345678901234568e+17"
    assert c.cmd("ZSCORE", "f", "pt3") == b"0.30000000000000004"
    assert c.cmd("ZINCRBY", "f", "1.5", "three") == b"4.5"
    # a computed -0 is replied as such; a small sorted set stores it as 0
    assert c.cmd("ZINCRBY", "n", "-0.0", "m") == b"-0"
    assert c.cmd("ZSCORE", "n", "m") == b"0"


def test_negative_zero_in_big_zset(r, c):
    r.zadd("big", {"m%d" % i: i for i in range(200)})
    assert c.cmd("ZADD", "big", "-0.0", "negz") == 1
    assert c.cmd("ZSCORE", "big", "negz") == b"-0"


def test_resp3_scores(c):
    c.cmd("HELLO", "3")
    assert c.cmd("ZADD", "z", "1", "a", "2.5", "b") == 2
    assert c.cmd("ZSCORE", "z", "b") == Double("2.5")
    assert c.cmd("ZSCORE", "z", "nope") is None
    assert c.cmd("ZMSCORE", "z", "a", "nope") == [Double("1"), None]
    assert c.cmd("ZINCRBY", "z", "1", "a") == Double("2")
    assert c.cmd("ZADD", "z", "INCR", "1", "a") == Double("3")
    assert c.cmd("ZRANGE", "z", "0", "-1", "WITHSCORES") == [[b"b", Double("2.5")],
                                                              [b"a", Double("3")]]
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"b", b"a"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "1") == [
        [b"b", Double("2.5")]]
    assert c.cmd("ZREVRANGE", "z", "0", "0", "WITHSCORES") == [[b"a", Double("3")]]
    assert c.cmd("ZUNION", "2", "z", "z", "WITHSCORES") == [[b"b", Double("5")],
                                                             [b"a", Double("6")]]
    assert c.cmd("ZRANDMEMBER", "z", "-1", "WITHSCORES")[0][1] in (Double("2.5"), Double("3"))
    assert c.cmd("ZSCAN", "z", "0") == [b"0", [b"b", b"2.5", b"a", b"3"]]
    assert c.cmd("ZPOPMIN", "z") == [b"b", Double("2.5")]
    assert c.cmd("ZPOPMAX", "z", "1") == [[b"a", Double("3")]]
    assert c.cmd("ZPOPMAX", "z") == []
    c.cmd("ZADD", "z", "inf", "i")
    assert c.cmd("ZSCORE", "z", "i") == Double("inf")


def test_zrem(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.cmd("ZREM", "z", "a", "zz", "a") == 1
    assert c.cmd("ZREM", "missing", "a") == 0
    assert c.cmd("ZREM", "z", "b", "c") == 2
    assert c.cmd("EXISTS", "z") == 0


def test_zscore_zmscore(c):
    c.cmd("ZADD", "z", "1", "a")
    assert c.cmd("ZSCORE", "z", "a") == b"1"
    assert c.cmd("ZSCORE", "z", "zz") is None
    assert c.cmd("ZSCORE", "missing", "a") is None
    assert c.cmd("ZMSCORE", "z", "a", "zz") == [b"1", None]
    assert c.cmd("ZMSCORE", "missing", "a", "b") == [None, None]
    assert c.cmd("ZMSCORE", "z") == arity("zmscore")


# ------------------------------------------------------------------ ranks, counts


def test_zrank_zcount_zlexcount(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert c.cmd("ZRANK", "z", "a") == 0
    assert c.cmd("ZRANK", "z", "e") == 4
    assert c.cmd("ZREVRANK", "z", "a") == 4
    assert c.cmd("ZRANK", "z", "zz") is None
    assert c.cmd("ZRANK", "missing", "a") is None
    assert c.cmd("ZRANK", "z", "a", "WITHSCORE") == arity("zrank")
    assert c.cmd("ZCOUNT", "z", "1", "3") == 3
    assert c.cmd("ZCOUNT", "z", "(1", "3") == 2
    assert c.cmd("ZCOUNT", "z", "(1", "(1") == 0
    assert c.cmd("ZCOUNT", "z", "-inf", "+inf") == 5
    assert c.cmd("ZCOUNT", "z", "3", "1") == 0
    assert c.cmd("ZCOUNT", "missing", "1", "3") == 0
    assert c.cmd("ZCOUNT", "z", "x", "3") == SCORE_RANGE
    assert c.cmd("ZLEXCOUNT", "z", "-", "+") == 5
    assert c.cmd("ZLEXCOUNT", "z", "[b", "(d") == 2
    assert c.cmd("ZLEXCOUNT", "z", "(a", "[a") == 0
    assert c.cmd("ZLEXCOUNT", "z", "+", "-") == 0
    assert c.cmd("ZLEXCOUNT", "z", "-", "-") == 0
    assert c.cmd("ZLEXCOUNT", "z", "b", "d") == LEX_RANGE
    assert c.cmd("ZLEXCOUNT", "z", "[b", "") == LEX_RANGE
    assert c.cmd("ZLEXCOUNT", "z", "+a", "+") == LEX_RANGE


# ------------------------------------------------------------------ ZRANGE family


def test_zrange_by_rank(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert c.cmd("ZRANGE", "z", "0", "1") == [b"a", b"b"]
    assert c.cmd("ZRANGE", "z", "-2", "-1") == [b"d", b"e"]
    assert c.cmd("ZRANGE", "z", "3", "100") == [b"d", b"e"]
    assert c.cmd("ZRANGE", "z", "3", "1") == []
    assert c.cmd("ZRANGE", "z", "0", "1", "REV") == [b"e", b"d"]
    assert c.cmd("ZRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert c.cmd("ZREVRANGE", "z", "0", "1", "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert c.cmd("ZRANGE", "missing", "0", "-1") == []
    assert c.cmd("ZRANGE", "z", "0", "x") == NOT_INT
    assert c.cmd("ZRANGE", "z", "0", "1", "foo") == SYNTAX
    assert c.cmd("ZRANGE", "z", "0", "1", "REV", "REV") == SYNTAX
    assert c.cmd("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX") == SYNTAX
    assert c.cmd("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1") == Err(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    assert c.cmd("ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1") == Err(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")


def test_zrange_by_score(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert c.cmd("ZRANGE", "z", "(1", "3", "BYSCORE") == [b"b", b"c"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2") == []
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1") == [
        b"b", b"c", b"d", b"e"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "5", "1") == []
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "4", "1") == [b"e"]
    assert c.cmd("ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "2", "5") == [b"d"]
    assert c.cmd("ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "3", "5") == []
    assert c.cmd("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2",
                 "WITHSCORES") == [b"d", b"4", b"c", b"3"]
    assert c.cmd("ZRANGEBYSCORE", "z", "1", "2", "WITHSCORES", "LIMIT", "0", "1") == [b"a", b"1"]
    assert c.cmd("ZREVRANGEBYSCORE", "z", "2", "1") == [b"b", b"a"]
    assert c.cmd("ZREVRANGEBYSCORE", "z", "(5", "(2", "WITHSCORES") == [b"d", b"4", b"c", b"3"]
    assert c.cmd("ZRANGEBYSCORE", "z", "(", "3") == [b"a", b"b", b"c"]
    assert c.cmd("ZRANGEBYSCORE", "z", "", "3") == [b"a", b"b", b"c"]
    assert c.cmd("ZRANGEBYSCORE", "z", " 1", "3") == [b"a", b"b", b"c"]
    assert c.cmd("ZRANGEBYSCORE", "z", "3", "1") == []
    assert c.cmd("ZRANGEBYSCORE", "z", "1", "3x") == SCORE_RANGE
    assert c.cmd("ZRANGE", "z", "x", "3", "BYSCORE") == SCORE_RANGE
    assert c.cmd("ZRANGEBYSCORE", "z", "nan", "3") == SCORE_RANGE
    assert c.cmd("ZRANGEBYSCORE", "z", "1", "2", "REV") == SYNTAX
    assert c.cmd("ZRANGE", "z", "0", "1", "LIMIT", "x", "1") == NOT_INT
    assert c.cmd("ZRANGE", "z", "0", "1", "LIMIT", "1") == SYNTAX


def test_zrange_by_lex(c):
    c.cmd("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    assert c.cmd("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "1", "2") == [b"b", b"c"]
    assert c.cmd("ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2") == [b"d", b"c"]
    assert c.cmd("ZRANGEBYLEX", "z", "-", "[b") == [b"a", b"b"]
    assert c.cmd("ZRANGEBYLEX", "z", "(b", "(e") == [b"c", b"d"]
    assert c.cmd("ZRANGEBYLEX", "z", "[bb", "+") == [b"c", b"d", b"e"]
    assert c.cmd("ZREVRANGEBYLEX", "z", "[b", "-") == [b"b", b"a"]
    assert c.cmd("ZREVRANGEBYLEX", "z", "+", "(c", "LIMIT", "0", "1") == [b"e"]
    assert c.cmd("ZRANGEBYLEX", "z", "[c", "[a") == []
    assert c.cmd("ZRANGEBYLEX", "z", "-", "[b", "WITHSCORES") == Err(
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    assert c.cmd("ZRANGE", "z", "[a", "[c", "BYLEX", "WITHSCORES") == Err(
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    assert c.cmd("ZRANGE", "z", "[a", "x", "BYLEX") == LEX_RANGE
    assert c.cmd("ZRANGEBYLEX", "z", "a", "[b") == LEX_RANGE


def test_zrangestore(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert c.cmd("ZRANGESTORE", "dst", "z", "0", "-1") == 5
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == c.cmd(
        "ZRANGE", "z", "0", "-1", "WITHSCORES")
    assert c.cmd("ZRANGESTORE", "dst", "z", "2", "4", "BYSCORE", "REV") == 0
    assert c.cmd("EXISTS", "dst") == 0
    assert c.cmd("ZRANGESTORE", "dst", "z", "4", "2", "BYSCORE", "REV", "LIMIT", "0", "2") == 2
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"c", b"3", b"d", b"4"]
    assert c.cmd("ZRANGESTORE", "dst", "z", "[b", "[c", "BYLEX") == 2
    assert c.cmd("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES") == SYNTAX
    assert c.cmd("ZRANGESTORE", "dst", "missing", "0", "-1") == 0
    assert c.cmd("EXISTS", "dst") == 0
    c.cmd("SET", "str", "v", "EX", "100")
    assert c.cmd("ZRANGESTORE", "str", "z", "0", "0") == 1
    assert c.cmd("TYPE", "str").s == "zset"
    assert c.cmd("TTL", "str") == -1
    assert c.cmd("ZRANGESTORE", "z", "z", "1", "2") == 2
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"b", b"c"]
    assert c.cmd("ZRANGESTORE", "d", "str2", "0", "1") == 0
    c.cmd("SET", "str2", "x")
    assert c.cmd("ZRANGESTORE", "d", "str2", "0", "1") == WRONGTYPE


def test_zremrange(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert c.cmd("ZREMRANGEBYRANK", "z", "1", "2") == 2
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"a", b"d", b"e"]
    assert c.cmd("ZREMRANGEBYRANK", "z", "5", "10") == 0
    assert c.cmd("ZREMRANGEBYSCORE", "z", "(1", "+inf") == 2
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"a"]
    c.cmd("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d")
    assert c.cmd("ZREMRANGEBYLEX", "l", "[b", "(d") == 2
    assert c.cmd("ZRANGE", "l", "0", "-1") == [b"a", b"d"]
    assert c.cmd("ZREMRANGEBYLEX", "l", "-", "+") == 2
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("ZREMRANGEBYRANK", "missing", "0", "1") == 0
    assert c.cmd("ZREMRANGEBYRANK", "z", "x", "1") == NOT_INT
    assert c.cmd("ZREMRANGEBYSCORE", "z", "x", "1") == SCORE_RANGE
    assert c.cmd("ZREMRANGEBYSCORE", "missing", "x", "1") == SCORE_RANGE
    assert c.cmd("ZREMRANGEBYLEX", "z", "x", "y") == LEX_RANGE
    assert c.cmd("ZREMRANGEBYRANK", "z", "0", "-1") == 1
    assert c.cmd("EXISTS", "z") == 0


# ------------------------------------------------------------------ pops, random, scan


def test_zpop(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert c.cmd("ZPOPMIN", "z") == [b"a", b"1"]
    assert c.cmd("ZPOPMAX", "z") == [b"d", b"4"]
    assert c.cmd("ZPOPMIN", "z", "0") == []
    assert c.cmd("ZPOPMIN", "z", "5") == [b"b", b"2", b"c", b"3"]
    assert c.cmd("EXISTS", "z") == 0
    assert c.cmd("ZPOPMIN", "missing") == []
    assert c.cmd("ZPOPMAX", "missing", "2") == []
    assert c.cmd("ZPOPMIN", "z", "x") == POSITIVE
    assert c.cmd("ZPOPMIN", "z", "-1") == POSITIVE
    assert c.cmd("ZPOPMIN", "z", "1", "2") == SYNTAX


def test_zmpop(c):
    c.cmd("ZADD", "b", "1", "x", "2", "y", "3", "z")
    assert c.cmd("ZMPOP", "2", "a", "b", "MIN") == [b"b", [[b"x", b"1"]]]
    assert c.cmd("ZMPOP", "2", "a", "b", "max", "count", "5") == [b"b", [[b"z", b"3"],
                                                                         [b"y", b"2"]]]
    assert c.cmd("EXISTS", "b") == 0
    assert c.cmd("ZMPOP", "2", "a", "b", "MIN") is None
    c.cmd("ZADD", "a", "-1.5", "m")
    assert c.cmd("ZMPOP", "1", "a", "min", "COUNT", "1") == [b"a", [[b"m", b"-1.5"]]]
    assert c.cmd("ZMPOP", "0", "a", "MIN") == Err("ERR numkeys should be greater than 0")
    assert c.cmd("ZMPOP", "-1", "a", "MIN") == Err("ERR numkeys should be greater than 0")
    assert c.cmd("ZMPOP", "x", "a", "MIN") == Err("ERR numkeys should be greater than 0")
    assert c.cmd("ZMPOP", "2", "a", "MIN") == SYNTAX
    assert c.cmd("ZMPOP", "9223372036854775807", "a", "MIN") == SYNTAX
    assert c.cmd("ZMPOP", "1", "a", "MIDDLE") == SYNTAX
    assert c.cmd("ZMPOP", "1", "a", "MIN", "COUNT", "0") == Err(
        "ERR count should be greater than 0")
    assert c.cmd("ZMPOP", "1", "a", "MIN", "COUNT", "x") == Err(
        "ERR count should be greater than 0")
    assert c.cmd("ZMPOP", "1", "a", "MIN", "COUNT") == SYNTAX
    assert c.cmd("ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1") == SYNTAX
    assert c.cmd("ZMPOP", "1", "a", "MIN", "LIMIT") == SYNTAX
    assert c.cmd("ZMPOP", "1", "a") == arity("zmpop")
    # The keys are read in order: a wrong type before a sorted set is an error,
    # one after it is never looked at.
    c.cmd("SET", "s", "v")
    c.cmd("ZADD", "z", "1", "m")
    assert c.cmd("ZMPOP", "3", "missing", "s", "z", "MIN") == WRONGTYPE
    assert c.cmd("ZMPOP", "2", "z", "s", "MIN") == [b"z", [[b"m", b"1"]]]
    assert c.cmd("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN") == [b"a", b"b"]
    # Redis's key finder takes numkeys arguments when there are that many.
    assert c.cmd("COMMAND", "GETKEYS", "ZMPOP", "3", "a", "b", "MIN") == [b"a", b"b", b"MIN"]
    assert c.cmd("COMMAND", "GETKEYS", "ZMPOP", "4", "a", "b", "MIN") == Err(
        "ERR Invalid arguments specified for command")


def test_zmpop_resp3_and_null(c):
    c.send(b"*4\r\n$5\r\nZMPOP\r\n$1\r\n1\r\n$1\r\nq\r\n$3\r\nMIN\r\n")
    assert c.read_line() == b"*-1"
    c.cmd("HELLO", "3")
    c.send(b"*4\r\n$5\r\nZMPOP\r\n$1\r\n1\r\n$1\r\nq\r\n$3\r\nMIN\r\n")
    assert c.read_line() == b"_"
    c.cmd("ZADD", "z", "1", "a", "2.5", "b")
    assert c.cmd("ZMPOP", "1", "z", "MAX", "COUNT", "2") == [
        b"z", [[b"b", Double("2.5")], [b"a", Double("1")]]]


def test_zmpop_keys_across_partitions(r):
    # Keys in different slots, so (in percore) usually different partitions:
    # the pop takes from the first non-empty one and leaves the others.
    keys = ["zk%d" % i for i in range(12)]
    for i, k in enumerate(keys[6:]):
        r.zadd(k, {"m%d" % i: i})
    for i, k in enumerate(keys[6:]):
        assert r.zmpop(len(keys), keys, min=True) == [k, [["m%d" % i, str(i)]]]
    assert r.zmpop(len(keys), keys, max=True) is None
    assert r.exists(*keys) == 0


def test_zrandmember(c, r):
    assert c.cmd("ZRANDMEMBER", "missing") is None
    assert c.cmd("ZRANDMEMBER", "missing", "2") == []
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.cmd("ZRANDMEMBER", "z") in (b"a", b"b", b"c")
    assert c.cmd("ZRANDMEMBER", "z", "0", "WITHSCORES") == []
    got = c.cmd("ZRANDMEMBER", "z", "2", "WITHSCORES")
    assert len(got) == 4 and {b"a": b"1", b"b": b"2", b"c": b"3"}[got[0]] == got[1]
    assert sorted(c.cmd("ZRANDMEMBER", "z", "5")) == [b"a", b"b", b"c"]
    got = c.cmd("ZRANDMEMBER", "z", "-7")
    assert len(got) == 7 and set(got) <= {b"a", b"b", b"c"}
    assert c.cmd("ZRANDMEMBER", "z", "x") == NOT_INT
    assert c.cmd("ZRANDMEMBER", "z", "1", "WITHSCORE") == SYNTAX
    assert c.cmd("ZRANDMEMBER", "z", "1", "WITHSCORES", "x") == SYNTAX
    assert c.cmd("ZRANDMEMBER", "z", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert c.cmd("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES") == Err(
        "ERR value is out of range")
    r.zadd("big", {"m%d" % i: i for i in range(1000)})
    for count in (3, 400, 1000, 1500):
        got = r.zrandmember("big", count)
        assert len(got) == min(count, 1000) and len(set(got)) == len(got)


def test_zscan(c, r):
    c.cmd("ZADD", "z", "1", "a", "2.5", "b", "3", "c")
    assert c.cmd("ZSCAN", "z", "0") == [b"0", [b"a", b"1", b"b", b"2.5", b"c", b"3"]]
    assert c.cmd("ZSCAN", "z", "0", "MATCH", "b") == [b"0", [b"b", b"2.5"]]
    assert c.cmd("ZSCAN", "missing", "0", "COUNT", "0") == [b"0", []]
    assert c.cmd("ZSCAN", "z", "x") == Err("ERR invalid cursor")
    assert c.cmd("ZSCAN", "z", "0", "COUNT", "0") == SYNTAX
    r.zadd("big", {"m%d" % i: i for i in range(1000)})
    seen, cursor, calls = {}, 0, 0
    while True:
        cursor, data = r.zscan("big", cursor, count=25)
        seen.update(data)
        calls += 1
        if cursor == 0:
            break
    assert calls > 5
    assert seen == {"m%d" % i: float(i) for i in range(1000)}


# ------------------------------------------------------------------ set algebra


@pytest.fixture
def sources(c):
    c.cmd("ZADD", "a", "1", "x", "2", "y", "3", "z")
    c.cmd("ZADD", "b", "10", "y", "20", "z", "30", "w")
    c.cmd("SADD", "s", "y", "w", "q")
    return c


def test_zunionstore_zinterstore(sources):
    c = sources
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b") == 4
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"x", b"1", b"y", b"12", b"z", b"23", b"w", b"30"]
    assert c.cmd("ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "0.5",
                 "AGGREGATE", "MAX") == 2
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"y", b"5", b"z", b"10"]
    assert c.cmd("ZINTERSTORE", "d", "3", "a", "b", "s", "aggregate", "min") == 1
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"y", b"1"]
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "s") == 5
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"q", b"1", b"w", b"1", b"x", b"1", b"y", b"3", b"z", b"3"]
    assert c.cmd("ZINTERSTORE", "d", "2", "a", "s", "WEIGHTS", "2", "3") == 1
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"y", b"7"]
    assert c.cmd("ZINTERSTORE", "d", "2", "a", "missing") == 0
    assert c.cmd("EXISTS", "d") == 0
    assert c.cmd("ZUNIONSTORE", "d", "1", "missing") == 0
    c.cmd("SET", "str", "v")
    assert c.cmd("ZUNIONSTORE", "str", "1", "a") == 3
    assert c.cmd("TYPE", "str").s == "zset"
    assert c.cmd("ZUNIONSTORE", "a", "2", "a", "b", "AGGREGATE", "SUM") == 4
    assert c.cmd("ZSCORE", "a", "z") == b"23"


def test_zdiff(sources):
    c = sources
    assert c.cmd("ZDIFFSTORE", "d", "2", "b", "a") == 1
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"w", b"30"]
    assert c.cmd("ZDIFF", "2", "b", "a", "WITHSCORES") == [b"w", b"30"]
    assert c.cmd("ZDIFF", "2", "a", "s") == [b"x", b"z"]
    assert c.cmd("ZDIFF", "1", "missing") == []
    assert c.cmd("ZDIFF", "2", "missing", "a") == []
    assert c.cmd("ZDIFFSTORE", "d", "2", "b", "a", "WEIGHTS", "1", "1") == SYNTAX
    assert c.cmd("ZDIFF", "2", "b", "a", "AGGREGATE", "SUM") == SYNTAX
    assert c.cmd("ZDIFF", "0", "a") == at_least_one("zdiff")
    assert c.cmd("ZDIFF", "2", "a") == SYNTAX


def test_zunion_zinter_zintercard(sources):
    c = sources
    assert c.cmd("ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "WITHSCORES") == [
        b"x", b"1", b"y", b"22", b"z", b"43", b"w", b"60"]
    assert c.cmd("ZUNION", "2", "a", "b") == [b"x", b"y", b"z", b"w"]
    assert c.cmd("ZINTER", "2", "a", "b", "WITHSCORES") == [b"y", b"12", b"z", b"23"]
    assert c.cmd("ZINTER", "2", "a", "missing") == []
    assert c.cmd("ZINTERCARD", "2", "a", "b") == 2
    assert c.cmd("ZINTERCARD", "2", "a", "b", "LIMIT", "1") == 1
    assert c.cmd("ZINTERCARD", "2", "a", "b", "LIMIT", "0") == 2
    assert c.cmd("ZINTERCARD", "3", "a", "b", "s") == 1
    assert c.cmd("ZINTERCARD", "2", "a", "b", "LIMIT", "-1") == Err(
        "ERR LIMIT can't be negative")
    assert c.cmd("ZINTERCARD", "0", "a") == at_least_one("zintercard")
    assert c.cmd("ZINTERCARD", "3", "a", "b") == SYNTAX
    assert c.cmd("ZINTERCARD", "2", "a", "b", "foo") == SYNTAX
    assert c.cmd("ZINTERCARD", "2", "a", "b", "WITHSCORES") == SYNTAX
    assert c.cmd("ZINTER", "0", "a") == at_least_one("zinter")
    assert c.cmd("ZINTER", "3", "a", "b") == SYNTAX


def test_zsetop_errors(sources):
    c = sources
    assert c.cmd("ZUNIONSTORE", "d", "0", "a") == at_least_one("zunionstore")
    assert c.cmd("ZUNIONSTORE", "d", "-1", "a") == at_least_one("zunionstore")
    assert c.cmd("ZINTERSTORE", "d", "0", "a") == at_least_one("zinterstore")
    assert c.cmd("ZUNIONSTORE", "d", "x", "a") == NOT_INT
    assert c.cmd("ZUNIONSTORE", "d", "3", "a", "b") == SYNTAX
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1") == SYNTAX
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "x") == Err(
        "ERR weight value is not a float")
    assert c.cmd("ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "nan") == Err(
        "ERR weight value is not a float")
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "AGGREGATE", "foo") == SYNTAX
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "AGGREGATE") == SYNTAX
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES") == SYNTAX
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "b", "foo") == SYNTAX
    assert c.cmd("EXISTS", "d") == 0
    c.cmd("SET", "str", "v")
    # the sources are type-checked before the options are read
    assert c.cmd("ZUNIONSTORE", "d", "2", "a", "str") == WRONGTYPE
    assert c.cmd("ZUNIONSTORE", "d", "1", "str", "WEIGHTS", "x") == WRONGTYPE
    assert c.cmd("ZUNION", "1", "str", "WITHSCORES", "foo") == WRONGTYPE
    assert c.cmd("ZINTERCARD", "1", "str", "LIMIT", "-1") == WRONGTYPE
    assert c.cmd("ZUNIONSTORE", "d", "1", "str", "foo") == WRONGTYPE


def test_zsetop_infinities(c):
    c.cmd("ZADD", "i1", "inf", "m")
    c.cmd("ZADD", "i2", "-inf", "m")
    assert c.cmd("ZUNIONSTORE", "d", "2", "i1", "i2") == 1
    assert c.cmd("ZSCORE", "d", "m") == b"0"
    assert c.cmd("ZUNIONSTORE", "d", "2", "i1", "i1", "WEIGHTS", "0", "1") == 1
    assert c.cmd("ZSCORE", "d", "m") == b"inf"
    assert c.cmd("ZINTERSTORE", "d", "2", "i1", "i2", "AGGREGATE", "MAX") == 1
    assert c.cmd("ZSCORE", "d", "m") == b"inf"
    c.cmd("ZADD", "a", "1", "x", "2", "y")
    assert c.cmd("ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "inf") == 2
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"x", b"inf", b"y", b"inf"]
    assert c.cmd("ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "-0.0") == 2
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"x", b"0", b"y", b"0"]
    assert c.cmd("ZUNION", "1", "a", "WEIGHTS", "-0.0", "WITHSCORES") == [
        b"x", b"-0", b"y", b"-0"]


def test_wrongtype(c):
    c.cmd("SET", "str", "x")
    for args in [("ZADD", "str", "1", "a"), ("ZINCRBY", "str", "1", "a"), ("ZREM", "str", "a"),
                 ("ZSCORE", "str", "a"), ("ZMSCORE", "str", "a"), ("ZCARD", "str"),
                 ("ZCOUNT", "str", "0", "1"), ("ZLEXCOUNT", "str", "-", "+"),
                 ("ZRANK", "str", "a"), ("ZREVRANK", "str", "a"), ("ZRANGE", "str", "0", "1"),
                 ("ZRANGEBYSCORE", "str", "0", "1"), ("ZREVRANGEBYSCORE", "str", "1", "0"),
                 ("ZREVRANGE", "str", "0", "1"), ("ZRANGEBYLEX", "str", "-", "+"),
                 ("ZREVRANGEBYLEX", "str", "+", "-"), ("ZPOPMIN", "str"),
                 ("ZPOPMAX", "str", "0"), ("ZRANDMEMBER", "str"), ("ZRANDMEMBER", "str", "0"),
                 ("ZREMRANGEBYRANK", "str", "0", "1"), ("ZREMRANGEBYSCORE", "str", "0", "1"),
                 ("ZREMRANGEBYLEX", "str", "-", "+"), ("ZRANGESTORE", "d", "str", "0", "1"),
                 ("ZUNIONSTORE", "d", "1", "str"), ("ZINTERSTORE", "d", "1", "str"),
                 ("ZDIFFSTORE", "d", "1", "str"), ("ZUNION", "1", "str"),
                 ("ZINTER", "1", "str"), ("ZDIFF", "1", "str"), ("ZINTERCARD", "1", "str"),
                 ("ZSCAN", "str", "0")]:
        assert c.cmd(*args) == WRONGTYPE, args
    # argument errors come first
    assert c.cmd("ZADD", "str", "x", "a") == NOT_FLOAT
    assert c.cmd("ZPOPMIN", "str", "x") == POSITIVE
    assert c.cmd("ZRANGE", "str", "x", "1") == NOT_INT
    assert c.cmd("ZRANGE", "str", "0", "1", "foo") == SYNTAX
    assert c.cmd("ZCOUNT", "str", "x", "1") == SCORE_RANGE
    assert c.cmd("ZSCAN", "str", "x") == Err("ERR invalid cursor")
    assert c.cmd("ZRANDMEMBER", "str", "x") == NOT_INT


# ------------------------------------------------------------------ model check


def test_random_operations_match_a_model(r):
    """Ranks, ranges and counts of a skiplist under random updates agree with a
    sorted Python list (exercises the spans and the small -> big change)."""
    rnd = random.Random(7)
    model = {}
    for step in range(1500):
        op = rnd.random()
        m = "m%d" % rnd.randrange(300)
        if op < 0.55:
            s = rnd.randrange(-50, 50) / 4
            r.zadd("z", {m: s})
            model[m] = s
        elif op < 0.7:
            inc = rnd.randrange(-20, 20) / 2
            got = r.zincrby("z", inc, m)
            model[m] = model.get(m, 0) + inc
            assert got == model[m]
        elif op < 0.85:
            assert r.zrem("z", m) == (1 if model.pop(m, None) is not None else 0)
        else:
            lo, hi = sorted((rnd.randrange(-60, 60) / 4, rnd.randrange(-60, 60) / 4))
            want = [k for k, _ in sorted(model.items(), key=lambda kv: (kv[1], kv[0]))
                    if lo <= model[k] <= hi]
            assert r.zrangebyscore("z", lo, hi) == want
            assert r.zcount("z", lo, hi) == len(want)
        if step % 50 == 0:
            order = [k for k, _ in sorted(model.items(), key=lambda kv: (kv[1], kv[0]))]
            assert r.zrange("z", 0, -1) == order
            assert r.zcard("z") == len(order)
            for k in rnd.sample(order, min(5, len(order))):
                assert r.zrank("z", k) == order.index(k)
                assert r.zrevrank("z", k) == len(order) - 1 - order.index(k)
            if order:
                i = rnd.randrange(len(order))
                assert r.zrange("z", i, i + 7) == order[i:i + 8]
                assert r.zrevrange("z", i, i + 3) == order[::-1][i:i + 4]


def test_memory_accounting_returns(r):
    before = int(r.info("memory")["used_memory"])
    r.zadd("z", {"member-%d" % i: i for i in range(3000)})
    assert int(r.info("memory")["used_memory"]) > before
    r.zpopmin("z", 1000)
    r.zremrangebyrank("z", 0, 500)
    r.delete("z")
    assert int(r.info("memory")["used_memory"]) - before < 200 * 1024

"""GEO commands (server/cmd_geo.c, server/geohash.c): GEOADD and its options,
GEODIST, GEOHASH, GEOPOS, GEOSEARCH/GEOSEARCHSTORE and the GEORADIUS family
with every option, Redis 7.0's error texts and argument order, the printed
digits of coordinates and distances (RESP2 and RESP3), STORE into keys of
other partitions, keyspace events, and a search over a large key that must
stay bounded. The expected values are redis-server 7.0's for a fixed set of
places: PERCORE_TEST_TARGET=redis runs this file against it."""

import time

import pytest

from conftest import LATENCY_SCALE, Double, Err, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, arity

PLACES = [("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
          ("12.496366", "41.902783", "Rome"), ("2.352222", "48.856614", "Paris"),
          ("-0.127758", "51.507351", "London"), ("-73.935242", "40.730610", "NYC"),
          ("151.209290", "-33.868820", "Sydney"), ("139.691706", "35.689487", "Tokyo")]
POS = {"Palermo": [b"13.36138933897018433", b"38.11555639549629859"],
       "Catania": [b"15.08726745843887329", b"37.50266842333162032"]}
BAD_PAIR = "ERR invalid longitude,latitude pair %s,%s"
NO_MEMBER = Err("ERR could not decode requested zset member")
UNIT = Err("ERR unsupported unit provided. please use M, KM, FT, MI")


def load(c, key="g"):
    args = [x for p in PLACES for x in p]
    assert c.cmd("GEOADD", key, *args) == len(PLACES)


# ------------------------------------------------------------------ GEOADD


def test_geoadd_scores_and_options(c):
    assert c.cmd("GEOADD", "g", "13.361389", "38.115556", "Palermo") == 1
    assert c.cmd("ZSCORE", "g", "Palermo") == b"3479099956230698"
    assert c.cmd("TYPE", "g").s == "zset"
    assert c.cmd("GEOADD", "g", "13.361389", "38.115556", "Palermo",
                 "15.087269", "37.502669", "Catania") == 1
    # NX: only new members; XX: only existing ones; CH counts changed scores too
    assert c.cmd("GEOADD", "g", "NX", "1", "1", "Palermo", "2", "2", "new") == 1
    assert c.cmd("GEOPOS", "g", "Palermo") == [POS["Palermo"]]
    assert c.cmd("GEOADD", "g", "XX", "1", "1", "Palermo", "3", "3", "other") == 0
    assert c.cmd("EXISTS", "other") == 0 and c.cmd("ZSCORE", "g", "other") is None
    assert c.cmd("ZSCORE", "g", "Palermo") == b"3377822707026402"
    assert c.cmd("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo", "5", "5", "x") == 2
    assert c.cmd("GEOADD", "g", "XX", "CH", "13.361389", "38.115556", "Palermo") == 0
    assert c.cmd("GEOADD", "g", "ch", "nx", "1", "1", "Palermo", "6", "6", "y") == 1
    assert c.cmd("ZCARD", "g") == 5


def test_geoadd_errors(c):
    assert c.cmd("GEOADD", "g", "1", "2") == arity("geoadd")
    assert c.cmd("GEOADD", "g", "1", "2", "m", "3") == SYNTAX
    assert c.cmd("GEOADD", "g", "NX", "XX", "1", "2", "m") == SYNTAX
    assert c.cmd("GEOADD", "g", "NX", "CH", "CH") == SYNTAX
    assert c.cmd("GEOADD", "g", "GT", "1", "2", "m") == SYNTAX  # 4 arguments after the key
    assert c.cmd("GEOADD", "g", "GT", "1", "m") == NOT_FLOAT  # GT is taken as a longitude
    assert c.cmd("GEOADD", "g", "x", "2", "m") == NOT_FLOAT
    assert c.cmd("GEOADD", "g", "nan", "2", "m") == NOT_FLOAT
    assert c.cmd("GEOADD", "g", "200", "100", "m") == Err(BAD_PAIR % ("200.000000", "100.000000"))
    assert c.cmd("GEOADD", "g", "inf", "10", "m") == Err(BAD_PAIR % ("inf", "10.000000"))
    assert c.cmd("GEOADD", "g", "10", "-85.06", "m") == Err(BAD_PAIR % ("10.000000", "-85.060000"))
    # every point is checked before any is added
    assert c.cmd("GEOADD", "g", "1", "1", "a", "1", "99", "b") == Err(
        BAD_PAIR % ("1.000000", "99.000000"))
    assert c.cmd("EXISTS", "g") == 0
    c.cmd("SET", "s", "x")
    assert c.cmd("GEOADD", "s", "1", "1", "a") == WRONGTYPE
    assert c.cmd("GEOADD", "s", "500", "1", "a") == Err(BAD_PAIR % ("500.000000", "1.000000"))


def test_geoadd_limits(c):
    assert c.cmd("GEOADD", "e", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw",
                 "0", "0", "origin") == 3
    assert c.cmd("ZRANGE", "e", "0", "-1", "WITHSCORES") == [
        b"sw", b"0", b"origin", b"3377699720527872", b"ne", b"13510798882111488"]
    assert c.cmd("GEOPOS", "e", "ne", "sw", "origin") == [
        [b"180", b"85.0511287799999991"],
        [b"-179.99999731779098511", b"-85.05112751263942528"],
        [b"0.00000268220901489", b"0.00000126736058093"]]
    assert c.cmd("GEOHASH", "e", "ne", "sw", "origin") == [
        b"bp05b5048p0", b"00bh0hbj200", b"s0000000000"]


# ------------------------------------------------------------------ GEOPOS GEODIST GEOHASH


def test_geopos(c):
    load(c)
    assert c.cmd("GEOPOS", "g", "Palermo", "nope", "Catania") == [
        POS["Palermo"], None, POS["Catania"]]
    assert c.cmd("GEOPOS", "g") == []
    assert c.cmd("GEOPOS", "missing", "a", "b") == [None, None]
    assert c.cmd("GEOPOS") == arity("geopos")
    c.cmd("SET", "s", "x")
    assert c.cmd("GEOPOS", "s", "a") == WRONGTYPE
    # scores ZADD set are decoded too (clamped to the limits)
    c.cmd("ZADD", "z", "-1", "neg", "1e20", "huge", "0", "zero")
    assert c.cmd("GEOPOS", "z", "neg", "huge", "zero") == [
        [b"180", b"85.0511287799999991"],
        [b"-179.99999731779098511", b"-85.05112751263942528"],
        [b"-179.99999731779098511", b"-85.05112751263942528"]]


def test_geopos_resp3(c):
    load(c)
    c.cmd("HELLO", "3")
    assert c.cmd("GEOPOS", "g", "Palermo", "nope") == [
        [Double("13.36138933897018433"), Double("38.11555639549629859")], None]
    assert c.cmd("GEODIST", "g", "Palermo", "nope") is None
    # distances stay bulk strings in RESP3
    assert c.cmd("GEODIST", "g", "Palermo", "Catania") == b"166274.1516"


def test_geodist(c):
    load(c)
    assert c.cmd("GEODIST", "g", "Palermo", "Catania") == b"166274.1516"
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "km") == b"166.2742"
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "KM") == b"166.2742"
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "mi") == b"103.3182"
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "ft") == b"545518.8700"
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "m") == b"166274.1516"
    assert c.cmd("GEODIST", "g", "Paris", "Sydney", "km") == b"16965.2817"
    assert c.cmd("GEODIST", "g", "London", "NYC") == b"5565907.7210"
    assert c.cmd("GEODIST", "g", "Rome", "Rome") == b"0.0000"
    assert c.cmd("GEODIST", "g", "Palermo", "nope") is None
    assert c.cmd("GEODIST", "missing", "a", "b") is None
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "parsec") == UNIT
    assert c.cmd("GEODIST", "g", "Palermo", "Catania", "km", "x") == SYNTAX
    assert c.cmd("GEODIST", "missing", "a", "b", "parsec") == UNIT
    assert c.cmd("GEODIST", "g", "a") == arity("geodist")
    c.cmd("SET", "s", "x")
    assert c.cmd("GEODIST", "s", "a", "b") == WRONGTYPE


def test_geodist_rounds_ties_as_redis(c):
    # 7351399.4140500007 m: Redis multiplies by 10^4 and rounds half to even
    # (73513994140.5 -> ...40), where printf's %.4f would print ...4141.
    c.cmd("GEOADD", "g", "133.07772248983383179", "-76.447964522976946", "a")
    assert c.cmd("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "-15.43204", "-35.71338",
                 "BYRADIUS", "12000000", "m", "STOREDIST") == 1
    assert c.cmd("ZSCORE", "d", "a") == b"7351399.4140500007"
    assert c.cmd("GEORADIUS", "g", "-15.43204", "-35.71338", "12000000", "m", "WITHDIST") == [
        [b"a", b"7351399.4140"]]


def test_geohash(c):
    load(c)
    assert c.cmd("GEOHASH", "g", "Palermo", "Catania", "nope", "Sydney") == [
        b"sqc8b49rny0", b"sqdtr74hyu0", None, b"r3gx2f75zf0"]
    assert c.cmd("GEOHASH", "g") == []
    assert c.cmd("GEOHASH", "missing", "a") == [None]
    c.cmd("SET", "s", "x")
    assert c.cmd("GEOHASH", "s", "a") == WRONGTYPE


# ------------------------------------------------------------------ searches


def test_geosearch_radius_and_box(c):
    load(c)
    assert c.cmd("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC",
                 "WITHCOORD", "WITHDIST", "WITHHASH") == [
        [b"Catania", b"56.4413", 3479447370796909, POS["Catania"]],
        [b"Palermo", b"190.4424", 3479099956230698, POS["Palermo"]]]
    assert c.cmd("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
                 "DESC") == [b"Palermo", b"Catania"]
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "1500", "km", "ASC",
                 "WITHDIST") == [[b"Rome", b"0.0000"], [b"Palermo", b"427.6295"],
                                 [b"Catania", b"537.2151"], [b"Paris", b"1105.5916"],
                                 [b"London", b"1434.1797"]]
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYBOX", "1000", "1000", "km",
                 "ASC") == [b"Rome", b"Palermo", b"Catania"]
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYBOX", "3000", "1000", "km",
                 "ASC") == [b"Rome", b"Palermo", b"Catania"]
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYBOX", "1000", "3000", "mi",
                 "ASC", "WITHDIST") == [[b"Rome", b"0.0000"], [b"Palermo", b"265.7173"],
                                        [b"Catania", b"333.8108"], [b"Paris", b"686.9845"]]
    assert c.cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m") == []
    assert c.cmd("GEOSEARCH", "missing", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m") == []
    # a huge radius covers the world; inf and 1e300 are accepted as Redis does
    for radius in ("1e300", "inf", "20000"):
        got = c.cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", radius, "km", "ASC")
        assert got == [b"Catania", b"Palermo", b"Rome", b"Paris", b"London", b"NYC",
                       b"Tokyo", b"Sydney"], radius


def test_geosearch_count_any(c):
    load(c)
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "20000", "km",
                 "COUNT", "3") == [b"Rome", b"Palermo", b"Catania"]
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "20000", "km",
                 "COUNT", "2", "DESC") == [b"Sydney", b"Tokyo"]
    # ANY: the first found, in the walk's order, then sorted when asked
    got = c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "20000", "km",
                "COUNT", "3", "ANY")
    assert len(got) == 3 and set(got) <= {p[2].encode() for p in PLACES}
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "20000", "km",
                 "COUNT", "100", "ANY", "ASC") == c.cmd(
        "GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "20000", "km", "ASC")
    assert c.cmd("GEOSEARCH", "g", "FROMMEMBER", "Rome", "BYRADIUS", "1", "km",
                 "ANY") == Err("ERR the ANY argument requires COUNT argument")


def test_geosearch_errors(c):
    load(c)
    g = ("GEOSEARCH", "g")
    assert c.cmd(*g, "FROMLONLAT", "0", "0") == arity("geosearch")
    assert c.cmd(*g, "FROMMEMBER", "nope", "BYRADIUS", "1", "km") == NO_MEMBER
    assert c.cmd(*g, "BYRADIUS", "1", "km", "ASC", "WITHDIST") == Err(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
    assert c.cmd("geosearch", "g", "FROMMEMBER", "Rome", "ASC", "WITHDIST", "WITHHASH") == Err(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")
    assert c.cmd(*g, "FROMMEMBER", "Rome", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km") == SYNTAX
    assert c.cmd(*g, "FROMMEMBER", "Rome", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km") == SYNTAX
    assert c.cmd(*g, "FROMMEMBER", "Rome", "BYRADIUS", "1", "km", "STOREDIST") == SYNTAX
    assert c.cmd(*g, "FROMMEMBER", "Rome", "BYRADIUS", "1", "km", "STORE", "d") == SYNTAX
    assert c.cmd(*g, "FROMLONLAT", "200", "0", "BYRADIUS", "1", "km") == Err(
        BAD_PAIR % ("200.000000", "0.000000"))
    assert c.cmd(*g, "FROMLONLAT", "nan", "0", "BYRADIUS", "1", "km") == NOT_FLOAT
    assert c.cmd(*g, "FROMLONLAT", "0", "-inf", "BYRADIUS", "1", "km") == Err(
        BAD_PAIR % ("0.000000", "-inf"))
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "nan", "km") == Err(
        "ERR need numeric radius")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "x", "km") == Err(
        "ERR need numeric radius")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "-1", "km") == Err(
        "ERR radius cannot be negative")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "parsec") == UNIT
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYBOX", "x", "1", "km") == Err(
        "ERR need numeric width")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYBOX", "1", "nan", "km") == Err(
        "ERR need numeric height")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYBOX", "1", "-1", "km") == Err(
        "ERR height or width cannot be negative")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYBOX", "1", "1", "au") == UNIT
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT", "0") == Err(
        "ERR COUNT must be > 0")
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT", "x") == NOT_INT
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT") == SYNTAX
    assert c.cmd(*g, "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "WITHX") == SYNTAX
    # FROMMEMBER of a missing key is not looked up: the other checks still run
    assert c.cmd("GEOSEARCH", "missing", "FROMMEMBER", "a", "BYRADIUS", "1", "km") == []
    assert c.cmd("GEOSEARCH", "missing", "FROMMEMBER", "a", "ASC", "DESC", "ASC") == Err(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH")
    c.cmd("SET", "s", "x")
    assert c.cmd("GEOSEARCH", "s", "FROMLONLAT", "500", "0", "BYRADIUS", "1", "km") == WRONGTYPE


def test_georadius_family(c):
    load(c)
    assert c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD") == [
        [b"Palermo", b"190.4424", POS["Palermo"]], [b"Catania", b"56.4413", POS["Catania"]]]
    assert c.cmd("GEORADIUS_RO", "g", "15", "37", "200", "km", "ASC") == [b"Catania", b"Palermo"]
    assert c.cmd("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "ASC") == [
        [b"Palermo", b"0.0000"], [b"Catania", b"166.2742"]]
    assert c.cmd("GEORADIUSBYMEMBER_RO", "g", "Paris", "400", "mi", "WITHHASH") == [
        [b"Paris", 3663832779125286], [b"London", 2163557714754256]]
    assert c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "1") == [b"Catania"]
    assert c.cmd("GEORADIUSBYMEMBER", "g", "nope", "200", "km") == NO_MEMBER
    # a missing key answers before the radius is even read
    assert c.cmd("GEORADIUSBYMEMBER", "missing", "a", "x", "km") == []
    assert c.cmd("GEORADIUS", "missing", "0", "0", "x", "km") == Err("ERR need numeric radius")
    assert c.cmd("GEORADIUS", "g", "200", "0", "1", "km") == Err(
        BAD_PAIR % ("200.000000", "0.000000"))
    assert c.cmd("GEORADIUS", "g", "0", "0", "1", "km", "FROMMEMBER", "Rome") == SYNTAX
    assert c.cmd("GEORADIUS_RO", "g", "0", "0", "1", "km", "STORE", "d") == SYNTAX
    assert c.cmd("GEORADIUSBYMEMBER_RO", "g", "Rome", "1", "km", "STOREDIST", "d") == SYNTAX
    assert c.cmd("GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d", "WITHDIST") == Err(
        "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
        "WITHCOORD options")
    assert c.cmd("GEORADIUS", "g", "0", "0", "1") == arity("georadius")
    assert c.cmd("GEORADIUSBYMEMBER", "g", "a", "1") == arity("georadiusbymember")


# ------------------------------------------------------------------ STORE


def test_store_forms(c):
    load(c)
    assert c.cmd("GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Rome", "BYRADIUS", "600", "km",
                 "STOREDIST") == 3
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"Rome", b"0", b"Palermo", b"427.62946254294206", b"Catania", b"537.21511522039953"]
    assert c.cmd("GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Rome", "BYRADIUS", "600", "km",
                 "COUNT", "2", "DESC") == 2
    assert c.cmd("ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"Palermo", b"3479099956230698", b"Catania", b"3479447370796909"]
    assert c.cmd("GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Rome", "BYRADIUS", "1", "km",
                 "WITHDIST") == Err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, "
                                    "WITHHASH and WITHCOORD options")
    # nothing found, or a missing source: the destination is deleted
    assert c.cmd("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m") == 0
    assert c.cmd("EXISTS", "d") == 0
    c.cmd("SET", "d", "x")
    assert c.cmd("GEOSEARCHSTORE", "d", "missing", "FROMLONLAT", "0", "0", "BYRADIUS", "1",
                 "m") == 0
    assert c.cmd("EXISTS", "d") == 0
    assert c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "r1") == 2
    assert c.cmd("ZRANGE", "r1", "0", "-1", "WITHSCORES") == [
        b"Palermo", b"3479099956230698", b"Catania", b"3479447370796909"]
    assert c.cmd("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STOREDIST", "r2") == 2
    assert c.cmd("ZRANGE", "r2", "0", "-1", "WITHSCORES") == [
        b"Palermo", b"0", b"Catania", b"166.27415156960032"]
    # the last STORE/STOREDIST wins; COUNT's argument is not a destination
    assert c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "1", "STORE", "a",
                 "STOREDIST", "b") == 1
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("ZRANGE", "b", "0", "-1", "WITHSCORES") == [b"Catania", b"56.441257870158204"]
    c.cmd("SET", "s", "x")
    assert c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "s") == 2
    assert c.cmd("TYPE", "s").s == "zset"
    # the source itself as the destination
    assert c.cmd("GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "Rome", "BYRADIUS", "600", "km") == 3
    assert c.cmd("ZRANGE", "g", "0", "-1") == [b"Palermo", b"Catania", b"Rome"]


def test_store_across_partitions(c):
    # destinations hashing to many slots (so, in percore, other partitions
    # than the source's): the scheduler holds both keys' partitions.
    load(c, "src")
    for i in range(24):
        dst = "dst:%d" % i
        assert c.cmd("GEOSEARCHSTORE", dst, "src", "FROMMEMBER", "Rome", "BYRADIUS", "600",
                     "km") == 3
        assert c.cmd("ZRANGE", dst, "0", "-1") == [b"Palermo", b"Catania", b"Rome"]
        assert c.cmd("GEORADIUS", "src", "12", "41", "600", "km", "STOREDIST",
                     "d2:%d" % i) == 3
        assert c.cmd("ZCARD", "d2:%d" % i) == 3
        assert c.cmd("GEORADIUSBYMEMBER", "src", "Paris", "400", "km", "STORE",
                     "d3:%d" % i) == 2
        assert c.cmd("ZRANGE", "d3:%d" % i, "0", "-1") == [b"London", b"Paris"]


def test_store_in_multi_and_eval(c):
    c.cmd("GEOADD", "src", "13.361389", "38.115556", "Palermo")
    assert c.cmd("MULTI").s == "OK"
    c.cmd("GEORADIUS", "src", "13", "38", "100", "km", "STORE", "m1")
    c.cmd("GEOSEARCHSTORE", "m2", "src", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km")
    assert c.cmd("EXEC") == [1, 1]
    assert c.cmd("EVAL", "return redis.call('georadius', KEYS[1], 13, 38, 100, 'km', "
                 "'storedist', KEYS[2])", "2", "src", "m3") == 1
    assert c.cmd("ZRANGE", "m3", "0", "-1") == [b"Palermo"]


def test_keyspace_events(connect, c, r):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        sub = connect(decode=True)
        assert sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")[0] == "psubscribe"
        c.cmd("GEOADD", "g", "13.361389", "38.115556", "Palermo")
        c.cmd("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo")  # no change: no event
        c.cmd("GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d1")
        c.cmd("GEOSEARCHSTORE", "d2", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km")
        c.cmd("GEOSEARCHSTORE", "d2", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
        got = []
        for _ in range(4):
            m = sub.read_reply()
            got.append((m[2].split(":", 1)[1], m[3]))
        assert got == [("zadd", "g"), ("georadiusstore", "d1"), ("geosearchstore", "d2"),
                       ("del", "d2")]
    finally:
        r.config_set("notify-keyspace-events", "")


# ------------------------------------------------------------------ abuse


FILL_ZSET = ("local step, n = tonumber(ARGV[1]), tonumber(ARGV[2]) "
             "for b = 0, n - 1, 1000 do local t = {} "
             "for i = b, b + 999 do t[#t + 1] = i * step t[#t + 1] = 'm' .. i end "
             "redis.call('ZADD', KEYS[1], unpack(t)) end "
             "return redis.call('ZCARD', KEYS[1])")


def test_huge_key_count_any_is_bounded(c):
    # 1M members spread over the whole scoring range; a search whose area is
    # the world (or wider: 1e300, inf) with COUNT 1 ANY stops at the first
    # member found instead of collecting a million.
    n = 1000000
    step = (1 << 52) // n
    # built by a script, 1000 members a ZADD: half the time of sending them
    assert c.cmd("EVAL", FILL_ZSET, "1", "big", str(step), str(n)) == n
    for radius in ("1e300", "inf", "40000"):
        t0 = time.monotonic()
        got = c.cmd("GEOSEARCH", "big", "FROMLONLAT", "0", "0", "BYRADIUS", radius, "km",
                    "COUNT", "1", "ANY")
        assert len(got) == 1, radius
        assert time.monotonic() - t0 < 0.5 * LATENCY_SCALE, radius
    t0 = time.monotonic()
    assert len(c.cmd("GEORADIUS_RO", "big", "0", "0", "1e300", "km", "COUNT", "1", "ANY",
                     "WITHDIST")) == 1
    assert len(c.cmd("GEOSEARCH", "big", "FROMLONLAT", "0", "0", "BYBOX", "1e300", "1e300",
                     "km", "COUNT", "2", "ANY")) == 2
    assert time.monotonic() - t0 < 1.0 * LATENCY_SCALE
    assert c.cmd("DEL", "big") == 1


def test_command_getkeys(c):
    # the STORE forms name their destination: the scheduler holds its partition
    keys = lambda *a: c.cmd("COMMAND", "GETKEYS", *a)  # noqa: E731
    assert keys("georadius", "src", "0", "0", "1", "km", "STORE", "d") == [b"src", b"d"]
    assert keys("georadiusbymember", "src", "m", "1", "km", "COUNT", "1", "STOREDIST",
                "d") == [b"src", b"d"]
    assert keys("georadius", "src", "0", "0", "1", "km", "STORE", "a", "ASC", "STOREDIST",
                "b") == [b"src", b"a", b"b"]
    assert keys("georadius", "src", "0", "0", "1", "km", "COUNT", "store") == [b"src"]
    assert keys("georadius_ro", "src", "0", "0", "1", "km") == [b"src"]
    assert keys("geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km") == [
        b"d", b"s"]
    assert keys("geoadd", "g", "1", "2", "m") == [b"g"]


def test_count_ties_order_as_redis(c):
    # Points at equal distances: with COUNT below the matches Redis sorts
    # partially (a quicksort that leaves equal keys in its own order), and
    # percore leaves them in the same order.
    args = []
    for m in "abcdefg":
        args += ["1", "1", m]
    c.cmd("GEOADD", "t", *args, "2", "2", "h", "1.5", "1.5", "i")
    assert c.cmd("GEORADIUS", "t", "1", "1", "500", "km", "COUNT", "3") == [b"a", b"b", b"c"]
    assert c.cmd("GEORADIUS", "t", "1", "1", "500", "km", "COUNT", "8", "DESC") == [
        b"h", b"i", b"c", b"d", b"a", b"f", b"g", b"e"]
    assert c.cmd("GEOSEARCH", "t", "FROMLONLAT", "1", "1", "BYRADIUS", "500", "km",
                 "COUNT", "9", "DESC") == [b"h", b"i", b"a", b"b", b"c", b"d", b"e", b"f", b"g"]

"""Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO):
values, error texts and their order, as Redis 7.0 answers them (every case
here passes against redis-server too: PERCORE_TEST_TARGET=redis)."""

import random

import pytest

from conftest import Err, NOT_INT, SYNTAX, WRONGTYPE, arity

BIT_OFFSET = Err("ERR bit offset is not an integer or out of range")
BAD_TYPE = Err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
               "supported but i64 is.")


def test_setbit_getbit(c):
    assert c.cmd("SETBIT", "k", "7", "1") == 0
    assert c.cmd("GET", "k") == b"\x01"
    assert c.cmd("SETBIT", "k", "7", "1") == 1
    assert c.cmd("SETBIT", "k", "0", "1") == 0
    assert c.cmd("GET", "k") == b"\x81"
    assert c.cmd("SETBIT", "k", "7", "0") == 1
    assert c.cmd("GET", "k") == b"\x80"
    # Writing past the end zero-pads, even a 0.
    assert c.cmd("SETBIT", "k", "100", "0") == 0
    assert c.cmd("STRLEN", "k") == 13
    assert c.cmd("GETBIT", "k", "0") == 1
    assert c.cmd("GETBIT", "k", "1") == 0
    assert c.cmd("GETBIT", "k", "100000") == 0
    assert c.cmd("GETBIT", "missing", "3") == 0
    # An integer-encoded string is its digits.
    c.cmd("SET", "n", "255")
    assert c.cmd("BITCOUNT", "n") == 11
    assert c.cmd("SETBIT", "n", "0", "1") == 0
    assert c.cmd("GET", "n") == b"\xb255"
    # Errors: the offset first, then the bit, then the type.
    for off in ("-1", "x", "4294967296"):
        assert c.cmd("SETBIT", "k", off, "1") == BIT_OFFSET
        assert c.cmd("GETBIT", "k", off) == BIT_OFFSET
    assert c.cmd("SETBIT", "k", "x", "x") == BIT_OFFSET
    for bit in ("2", "-1", "x", "01"):
        assert c.cmd("SETBIT", "k", "1", bit) == Err("ERR bit is not an integer or out of range")
    c.cmd("RPUSH", "l", "a")
    assert c.cmd("SETBIT", "l", "1", "1") == WRONGTYPE
    assert c.cmd("GETBIT", "l", "1") == WRONGTYPE
    assert c.cmd("SETBIT", "k", "1") == arity("setbit")


def test_setbit_offset_follows_proto_max_bulk_len(c):
    old = c.cmd("CONFIG", "GET", "proto-max-bulk-len")[1]
    c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        assert c.cmd("SETBIT", "k", str(8 * 1024 * 1024), "1") == BIT_OFFSET
        assert c.cmd("BITFIELD", "k", "SET", "u8", "#1048576", "1") == BIT_OFFSET
        assert c.cmd("SETBIT", "k", str(8 * 1024 * 1024 - 1), "1") == 0
        assert c.cmd("STRLEN", "k") == 1024 * 1024
    finally:
        c.cmd("CONFIG", "SET", "proto-max-bulk-len", old)


def test_bitcount(c):
    c.cmd("SET", "s", "foobar")
    assert c.cmd("BITCOUNT", "s") == 26
    assert c.cmd("BITCOUNT", "s", "0", "0") == 4
    assert c.cmd("BITCOUNT", "s", "1", "1") == 6
    assert c.cmd("BITCOUNT", "s", "1", "1", "BYTE") == 6
    assert c.cmd("BITCOUNT", "s", "5", "30", "BIT") == 17
    assert c.cmd("BITCOUNT", "s", "-5", "-1", "bit") == 2
    assert c.cmd("BITCOUNT", "s", "-100", "100") == 26
    assert c.cmd("BITCOUNT", "s", "0", "-100") == 4  # end clamps to 0
    assert c.cmd("BITCOUNT", "s", "-1", "-100") == 0
    assert c.cmd("BITCOUNT", "s", "5", "1") == 0
    assert c.cmd("BITCOUNT", "s", "0", "-100", "bit") == 0
    # Both from the end and crossed: 0 before the unit is read.
    assert c.cmd("BITCOUNT", "s", "-1", "-9223372036854775808", "foo") == 0
    assert c.cmd("BITCOUNT", "s", "1") == SYNTAX
    assert c.cmd("BITCOUNT", "s", "1", "1", "foo") == SYNTAX
    assert c.cmd("BITCOUNT", "s", "0", "1", "bit", "extra") == SYNTAX
    assert c.cmd("BITCOUNT", "s", "x", "1") == NOT_INT
    # A missing key is 0 whatever follows; a wrong type is an error.
    assert c.cmd("BITCOUNT", "missing", "x", "y") == 0
    c.cmd("RPUSH", "l", "a")
    assert c.cmd("BITCOUNT", "l") == WRONGTYPE
    big = bytes(random.Random(7).randrange(256) for _ in range(5000))
    c.cmd("SET", "big", big)
    want = sum(bin(b).count("1") for b in big)
    assert c.cmd("BITCOUNT", "big") == want
    assert c.cmd("BITCOUNT", "big", "13", "4011", "BIT") == sum(
        (big[i >> 3] >> (7 - (i & 7))) & 1 for i in range(13, 4012))


def test_bitpos(c):
    c.cmd("SET", "s", "foobar")
    c.cmd("SET", "ones", b"\xff\xff")
    assert c.cmd("BITPOS", "s", "1") == 1
    assert c.cmd("BITPOS", "s", "0") == 0
    assert c.cmd("BITPOS", "s", "1", "2", "-1") == 17
    assert c.cmd("BITPOS", "s", "1", "2", "-1", "BIT") == 2
    assert c.cmd("BITPOS", "s", "1", "7", "15", "bit") == 9
    assert c.cmd("BITPOS", "s", "0", "7", "15", "bit") == 7
    assert c.cmd("BITPOS", "s", "0", "-1") == 40
    assert c.cmd("BITPOS", "s", "1", "100") == -1
    # Looking for a 0 without an end: the string counts as followed by zeros.
    assert c.cmd("BITPOS", "ones", "0") == 16
    assert c.cmd("BITPOS", "ones", "0", "0") == 16
    assert c.cmd("BITPOS", "ones", "0", "0", "-1") == -1
    assert c.cmd("BITPOS", "ones", "0", "0", "1", "BIT") == -1
    assert c.cmd("BITPOS", "missing", "1") == -1
    assert c.cmd("BITPOS", "missing", "0") == 0
    assert c.cmd("BITPOS", "missing", "1", "x") == -1
    assert c.cmd("BITPOS", "missing", "2") == Err("ERR The bit argument must be 1 or 0.")
    assert c.cmd("BITPOS", "s", "x") == NOT_INT
    # Redis's order: start, the unit, then end.
    assert c.cmd("BITPOS", "s", "1", "x", "2", "foo") == NOT_INT
    assert c.cmd("BITPOS", "s", "1", "0", "x", "foo") == SYNTAX
    assert c.cmd("BITPOS", "s", "1", "0", "x", "bit") == NOT_INT
    assert c.cmd("BITPOS", "s", "1", "0", "1", "2", "3") == SYNTAX
    c.cmd("RPUSH", "l", "a")
    assert c.cmd("BITPOS", "l", "1", "0", "1", "foo") == WRONGTYPE
    # Long runs are skipped word by word: the answer is still exact.
    c.cmd("SETBIT", "sparse", "70001", "1")
    assert c.cmd("BITPOS", "sparse", "1") == 70001
    assert c.cmd("BITPOS", "sparse", "1", "3", "-1", "BIT") == 70001
    c.cmd("SET", "dense", b"\xff" * 9000 + b"\xfe")
    assert c.cmd("BITPOS", "dense", "0") == 9000 * 8 + 7


def test_bitop(c):
    c.cmd("SET", "a", b"\xf0\x0f")
    c.cmd("SET", "b", b"\xff")
    assert c.cmd("BITOP", "AND", "d", "a", "b") == 2
    assert c.cmd("GET", "d") == b"\xf0\x00"
    assert c.cmd("BITOP", "or", "d", "a", "b") == 2
    assert c.cmd("GET", "d") == b"\xff\x0f"
    assert c.cmd("BITOP", "XOR", "d", "a", "b", "a") == 2
    assert c.cmd("GET", "d") == b"\xff\x00"
    assert c.cmd("BITOP", "NOT", "d", "a") == 2
    assert c.cmd("GET", "d") == b"\x0f\xf0"
    # A missing source reads as zeros; the destination may be a source.
    assert c.cmd("BITOP", "AND", "a", "a", "missing") == 2
    assert c.cmd("GET", "a") == b"\x00\x00"
    # An empty result deletes the destination, whatever it held.
    c.cmd("RPUSH", "dl", "x")
    c.cmd("SET", "e", "")
    assert c.cmd("BITOP", "OR", "dl", "missing", "e") == 0
    assert c.cmd("EXISTS", "dl") == 0
    assert c.cmd("BITOP", "NOT", "d", "missing") == 0
    assert c.cmd("EXISTS", "d") == 0
    # The result replaces a destination of another type and its TTL.
    c.cmd("RPUSH", "dl", "x")
    c.cmd("EXPIRE", "dl", "100")
    assert c.cmd("BITOP", "OR", "dl", "b") == 1
    assert c.cmd("GET", "dl") == b"\xff"
    assert c.cmd("TTL", "dl") == -1
    assert c.cmd("BITOP", "NOT", "d", "a", "b") == Err(
        "ERR BITOP NOT must be called with a single source key.")
    assert c.cmd("BITOP", "NAND", "d", "a") == SYNTAX
    c.cmd("RPUSH", "l", "x")
    assert c.cmd("BITOP", "OR", "d", "a", "l") == WRONGTYPE
    assert c.cmd("BITOP", "NOT", "d") == arity("bitop")
    assert c.cmd("COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b") == [b"d", b"a", b"b"]


def test_bitop_keys_across_partitions(c):
    # Sources and destination in different slots (in percore, usually
    # different partitions): the operation sees them all at once.
    keys = ["bk%d" % i for i in range(10)]
    want = bytearray(10)
    for i, k in enumerate(keys):
        c.cmd("SET", k, bytes([1 << (i % 8)]) * (i + 1))
        for j in range(i + 1):
            want[j] |= 1 << (i % 8)
    assert c.cmd("BITOP", "OR", "dest", *keys) == 10
    assert c.cmd("GET", "dest") == bytes(want)


def test_bitfield(c):
    assert c.cmd("BITFIELD", "k", "SET", "i8", "0", "-1", "GET", "u8", "0") == [0, 255]
    assert c.cmd("BITFIELD", "k", "GET", "i1", "0", "GET", "u1", "0") == [-1, 1]
    assert c.cmd("BITFIELD", "k", "GET", "i64", "0") == [-72057594037927936]
    assert c.cmd("BITFIELD", "k", "GET", "u63", "0") == [9187343239835811840]
    # "#N" is N fields of the type's width.
    assert c.cmd("BITFIELD", "h", "SET", "u8", "#1", "200", "GET", "u8", "8", "GET", "u8",
                 "#1") == [0, 200, 200]
    assert c.cmd("GET", "h") == b"\x00\xc8"
    # OVERFLOW applies to the operations after it: WRAP (default), SAT, FAIL.
    assert c.cmd("BITFIELD", "o", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                 "102", "5", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "5") == [1, 3, None]
    assert c.cmd("STRLEN", "o") == 13  # padded to the farthest write, FAIL or not
    assert c.cmd("BITFIELD", "w", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64",
                 "0", "1") == [9223372036854775807, -9223372036854775808]
    assert c.cmd("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "64",
                 "-9223372036854775808", "INCRBY", "i64", "64", "-1") == [
                     -9223372036854775808, -9223372036854775808]
    assert c.cmd("BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "i8", "200", "300", "GET", "i8",
                 "200") == [None, 0]
    assert c.cmd("BITFIELD", "w", "OVERFLOW", "SAT", "SET", "i8", "200", "300", "GET", "i8",
                 "200", "SET", "u8", "208", "-5", "GET", "u8", "208") == [0, 127, 0, 255]
    assert c.cmd("BITFIELD", "w", "SET", "i8", "#30", "300", "GET", "i8", "#30") == [0, 44]
    assert c.cmd("BITFIELD", "w", "SET", "u8", "#30", "-1", "GET", "u8", "#30") == [44, 255]
    assert c.cmd("BITFIELD", "w") == []
    assert c.cmd("BITFIELD", "w", "OVERFLOW", "SAT", "OVERFLOW", "WRAP") == []
    assert c.cmd("BITFIELD", "missing", "GET", "u8", "0") == [0]
    assert c.cmd("EXISTS", "missing") == 0
    assert c.cmd("BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i4", "#1") == [255, -1]
    assert c.cmd("BITFIELD_RO", "missing", "OVERFLOW", "WRAP", "GET", "u8", "0") == [0]


def test_bitfield_errors(c):
    for t in ("u64", "i65", "i0", "u0", "x8", "I8", "U8", "u", "i8x"):
        assert c.cmd("BITFIELD", "k", "GET", t, "0") == BAD_TYPE, t
    for off in ("-1", "#x", "x", "#-1", "4294967296"):
        assert c.cmd("BITFIELD", "k", "GET", "u8", off) == BIT_OFFSET, off
    assert c.cmd("BITFIELD", "k", "GET", "u8", "#536870912") == BIT_OFFSET
    assert c.cmd("BITFIELD", "k", "GET", "u8", "#536870911") == [0]
    assert c.cmd("BITFIELD", "k", "OVERFLOW", "foo") == Err("ERR Invalid OVERFLOW type specified")
    assert c.cmd("BITFIELD", "k", "OVERFLOW") == SYNTAX
    assert c.cmd("BITFIELD", "k", "foo") == SYNTAX
    assert c.cmd("BITFIELD", "k", "GET", "u8") == SYNTAX
    assert c.cmd("BITFIELD", "k", "SET", "u8", "0") == SYNTAX
    assert c.cmd("BITFIELD", "k", "GET", "i8", "0", "SET", "u8") == SYNTAX
    assert c.cmd("BITFIELD", "k", "SET", "u8", "0", "x") == NOT_INT
    assert c.cmd("BITFIELD", "k", "INCRBY", "u8", "0", "x") == NOT_INT
    # The whole command is parsed first: a later bad argument changes nothing.
    assert c.cmd("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "x8", "0") == BAD_TYPE
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "foo", "SET", "u8", "0",
                 "1") == Err("ERR Invalid OVERFLOW type specified")
    ro = Err("ERR BITFIELD_RO only supports the GET subcommand")
    assert c.cmd("BITFIELD_RO", "k", "SET", "u8", "0", "1") == ro
    assert c.cmd("BITFIELD_RO", "k", "INCRBY", "u8", "0", "1", "GET", "u8", "0") == ro
    assert c.cmd("BITFIELD_RO", "k", "SET", "x8", "0", "1") == BAD_TYPE
    assert c.cmd("BITFIELD_RO", "k", "INCRBY", "i64", "0", "1", "SET", "i13", "4294967296",
                 "0") == BIT_OFFSET
    c.cmd("RPUSH", "l", "a")
    assert c.cmd("BITFIELD", "l", "GET", "u8", "0") == WRONGTYPE
    assert c.cmd("BITFIELD", "l", "GET", "x8", "0") == BAD_TYPE
    assert c.cmd("BITFIELD") == arity("bitfield")


def test_bitmaps_in_scripts_and_multi(c):
    assert c.cmd("EVAL", "redis.call('setbit', KEYS[1], 3, 1) "
                 "return redis.call('bitfield', KEYS[1], 'get', 'u8', 0)", "1", "k") == [16]
    assert c.cmd("EVAL", "return redis.call('bitfield_ro', KEYS[1], 'get', 'u4', 0)", "1",
                 "k") == [1]
    c.cmd("MULTI")
    c.cmd("SETBIT", "m", "0", "1")
    c.cmd("BITCOUNT", "m")
    c.cmd("BITOP", "NOT", "m2", "m")
    assert c.cmd("EXEC") == [0, 1, 1]
    assert c.cmd("GET", "m2") == b"\x7f"


@pytest.mark.parametrize("seed", [1, 2])
def test_bitfield_matches_a_model(c, seed):
    # Random operations against a Python model of the same bytes.
    rnd = random.Random(seed)
    buf = bytearray()

    def get(off, bits, sign):
        v = 0
        for i in range(bits):
            b = off + i
            v = (v << 1) | ((buf[b >> 3] >> (7 - (b & 7))) & 1 if (b >> 3) < len(buf) else 0)
        if sign and v >> (bits - 1):
            v -= 1 << bits
        return v

    def put(off, bits, v):
        need = (off + bits + 7) >> 3
        buf.extend(b"\0" * max(0, need - len(buf)))
        v &= (1 << bits) - 1
        for i in range(bits):
            b = off + i
            if (v >> (bits - 1 - i)) & 1:
                buf[b >> 3] |= 1 << (7 - (b & 7))
            else:
                buf[b >> 3] &= ~(1 << (7 - (b & 7))) & 0xff

    for _ in range(300):
        sign = rnd.random() < 0.5
        bits = rnd.randint(1, 64 if sign else 63)
        off = rnd.randrange(200)
        t = ("i" if sign else "u") + str(bits)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if sign else (0, (1 << bits) - 1)
        if rnd.random() < 0.5:
            v = rnd.randint(lo, hi)
            assert c.cmd("BITFIELD", "k", "SET", t, str(off), str(v)) == [get(off, bits, sign)]
            put(off, bits, v)
        else:
            inc = rnd.randint(-(1 << 20), 1 << 20)
            new = get(off, bits, sign) + inc
            want = (new - lo) % (hi - lo + 1) + lo
            assert c.cmd("BITFIELD", "k", "INCRBY", t, str(off), str(inc)) == [want]
            put(off, bits, want)
        assert c.cmd("GET", "k") == bytes(buf)

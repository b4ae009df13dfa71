"""Connection commands: PING ECHO QUIT RESET HELLO SELECT AUTH, and the generic
errors every command can get (unknown command, wrong arity)."""

import pytest

from conftest import OK, Err, Status

HELLO_FIELDS = ["server", "version", "proto", "id", "mode", "role", "modules"]


def test_ping(r, c):
    assert r.ping() is True
    assert c.cmd("PING") == Status("PONG")
    assert c.cmd("ping") == Status("PONG")
    assert c.cmd("PING", "hello") == b"hello"
    assert c.cmd("PING", "") == b""
    assert c.cmd("PING", "a", "b") == Err("ERR wrong number of arguments for 'ping' command")


def test_ping_raw_bytes(c):
    c.send(b"*1\r\n$4\r\nPING\r\n")
    assert c.read_line() == b"+PONG"
    c.send(b"*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n")
    assert c.read_line() == b"$2"
    assert c.read_line() == b"hi"


def test_echo(r, c):
    assert r.echo("hello world") == "hello world"
    assert c.cmd("ECHO", b"a\x00b\r\nc") == b"a\x00b\r\nc"
    assert c.cmd("ECHO", "") == b""
    assert c.cmd("ECHO") == Err("ERR wrong number of arguments for 'echo' command")
    assert c.cmd("ECHO", "a", "b") == Err("ERR wrong number of arguments for 'echo' command")


def test_quit_replies_ok_then_closes(c):
    c.send(b"*1\r\n$4\r\nQUIT\r\n")
    assert c.read_until_close() == b"+OK\r\n"


def test_quit_discards_later_pipelined_commands(server, r, raw):
    out = raw(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\n"
              b"*1\r\n$4\r\nQUIT\r\n"
              b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n2\r\n")
    assert out == b"+OK\r\n+OK\r\n"
    assert r.get("q") == "1"


def test_reset(c):
    assert c.cmd("SELECT", "5") == OK
    assert c.cmd("SET", "k5", "v") == OK
    assert c.cmd("CLIENT", "SETNAME", "before-reset") == OK
    assert c.cmd("HELLO", "3")[b"proto"] == 3
    assert c.cmd("RESET") == Status("RESET")
    # back to db 0, no name, RESP2
    assert c.cmd("GET", "k5") is None
    assert c.cmd("CLIENT", "GETNAME") is None
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_line() == b"$-1"
    assert c.cmd("SELECT", "5") == OK
    assert c.cmd("GET", "k5") == b"v"


def test_reset_leaves_multi(c):
    assert c.cmd("MULTI") == OK
    assert c.cmd("SET", "m", "1") == Status("QUEUED")
    assert c.cmd("RESET") == Status("RESET")
    assert c.cmd("EXEC") == Err("ERR EXEC without MULTI")
    assert c.cmd("GET", "m") is None


def check_hello_map(m, proto, client_id):
    assert isinstance(m, dict), m
    assert list(m.keys()) == [f.encode() for f in HELLO_FIELDS]
    assert m[b"server"] == b"redis"
    assert isinstance(m[b"version"], bytes) and m[b"version"].count(b".") == 2
    assert m[b"proto"] == proto
    assert m[b"id"] == client_id
    assert m[b"mode"] == b"standalone"
    assert m[b"role"] == b"master"
    assert m[b"modules"] == []


def test_hello_2(c):
    cid = c.cmd("CLIENT", "ID")
    # RESP2: the map is a flat array
    c.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n")
    assert c.read_line() == b"*14"
    c.buf = b"*14\r\n" + c.buf
    flat = c.read_reply()
    m = dict(zip(flat[0::2], flat[1::2]))
    check_hello_map(m, 2, cid)


def test_hello_no_args_reports_current_protocol(c):
    cid = c.cmd("CLIENT", "ID")
    flat = c.cmd("HELLO")
    check_hello_map(dict(zip(flat[0::2], flat[1::2])), 2, cid)


def test_hello_3(c):
    cid = c.cmd("CLIENT", "ID")
    c.send(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
    assert c.read_line() == b"%7"
    c.buf = b"%7\r\n" + c.buf
    m = c.read_reply()
    check_hello_map(m, 3, cid)
    # now in RESP3: nulls are '_'
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_line() == b"_"
    # and back
    assert c.cmd("HELLO", "2")[4:6] == [b"proto", 2]
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_line() == b"$-1"


def test_hello_auth_and_setname(c):
    cid = c.cmd("CLIENT", "ID")
    m = c.cmd("HELLO", "3", "AUTH", "default", "anything", "SETNAME", "conn-a")
    check_hello_map(m, 3, cid)
    assert c.cmd("CLIENT", "GETNAME") == b"conn-a"
    flat = c.cmd("HELLO", "2", "SETNAME", "conn-b")
    check_hello_map(dict(zip(flat[0::2], flat[1::2])), 2, cid)
    assert c.cmd("CLIENT", "GETNAME") == b"conn-b"


def test_hello_errors(c):
    assert c.cmd("HELLO", "4") == Err("NOPROTO unsupported protocol version")
    assert c.cmd("HELLO", "1") == Err("NOPROTO unsupported protocol version")
    assert c.cmd("HELLO", "abc") == Err(
        "ERR Protocol version is not an integer or out of range")
    assert c.cmd("HELLO", "3", "SETNAME", "a b") == Err(
        "ERR Client names cannot contain spaces, newlines or special characters.")
    assert c.cmd("HELLO", "3", "FOO") == Err("ERR Syntax error in HELLO option 'FOO'")
    # a failed HELLO changes nothing
    c.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert c.read_line() == b"$-1"


@pytest.mark.parametrize("db", range(16))
def test_select_every_db(c, db):
    assert c.cmd("SELECT", str(db)) == OK
    assert c.cmd("SET", "k", "v%d" % db) == OK
    assert c.cmd("GET", "k") == b"v%d" % db
    assert c.cmd("DBSIZE") == 1


def test_select_errors(c):
    assert c.cmd("SELECT", "16") == Err("ERR DB index is out of range")
    assert c.cmd("SELECT", "-1") == Err("ERR DB index is out of range")
    assert c.cmd("SELECT", "abc") == Err("ERR value is not an integer or out of range")
    assert c.cmd("SELECT") == Err("ERR wrong number of arguments for 'select' command")


def test_keys_isolated_per_db(c, connect):
    assert c.cmd("SET", "shared", "db0") == OK
    assert c.cmd("SELECT", "1") == OK
    assert c.cmd("GET", "shared") is None
    assert c.cmd("EXISTS", "shared") == 0
    assert c.cmd("SET", "shared", "db1") == OK
    assert c.cmd("SET", "only1", "x") == OK
    assert c.cmd("DBSIZE") == 2
    assert c.cmd("SELECT", "0") == OK
    assert c.cmd("GET", "shared") == b"db0"
    assert c.cmd("GET", "only1") is None
    assert c.cmd("DBSIZE") == 1
    # another connection starts in db 0 and sees its own selection
    other = connect()
    assert other.cmd("GET", "shared") == b"db0"
    assert other.cmd("SELECT", "1") == OK
    assert other.cmd("GET", "shared") == b"db1"
    # FLUSHDB only flushes the selected db
    assert other.cmd("FLUSHDB") == OK
    assert other.cmd("DBSIZE") == 0
    assert c.cmd("GET", "shared") == b"db0"


def test_auth_without_password(c):
    assert c.cmd("AUTH", "secret") == Err(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    # the default user has no password: any password for 'default' is accepted
    assert c.cmd("AUTH", "default", "whatever") == OK
    assert c.cmd("AUTH") == Err("ERR wrong number of arguments for 'auth' command")
    assert c.cmd("PING") == Status("PONG")


def test_unknown_command(c):
    assert c.cmd("foo", "a", "b") == Err(
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    assert c.cmd("foo") == Err("ERR unknown command 'foo', with args beginning with: ")
    assert c.cmd("FOOBAR", "x") == Err(
        "ERR unknown command 'FOOBAR', with args beginning with: 'x' ")
    # the connection stays usable
    assert c.cmd("PING") == Status("PONG")


def test_wrong_arity(c):
    assert c.cmd("GET") == Err("ERR wrong number of arguments for 'get' command")
    assert c.cmd("GET", "a", "b") == Err("ERR wrong number of arguments for 'get' command")
    assert c.cmd("SET", "a") == Err("ERR wrong number of arguments for 'set' command")
    # the name in the message is lower case whatever the client sent
    assert c.cmd("gEt") == Err("ERR wrong number of arguments for 'get' command")
    assert c.cmd("MGET") == Err("ERR wrong number of arguments for 'mget' command")
    assert c.cmd("PING") == Status("PONG")


def test_commands_are_case_insensitive(c):
    assert c.cmd("set", "k", "v") == OK
    assert c.cmd("GeT", "k") == b"v"
    assert c.cmd("SET", "k", "v", "nx") is None

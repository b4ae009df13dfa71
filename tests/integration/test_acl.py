"""ACL (Redis 7.0): users and their rules, AUTH / HELLO, NOPERM on commands,
keys, channels and in MULTI / scripts, selectors, ACL LOG, DRYRUN, SAVE /
LOAD, and abuse. Every policy; PERCORE_TEST_TARGET=redis runs the same."""

import hashlib
import os
import threading
import time

import pytest
import redis

from conftest import TARGET, make_client, run_threads, wait_for

NOPERM_CMD = "this user has no permissions to run the '%s' command"
NOPERM_KEYS = "this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANS = "this user has no permissions to access one of the channels used as arguments"
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


ADMIN = ("acladmin", "adminpw")  # kept by the cleanup, which runs as it


@pytest.fixture(autouse=True)
def clean_users(server):
    """Each test starts with only the default user, as it was, and an empty log."""
    a = make_client(server)
    a.execute_command("ACL", "SETUSER", ADMIN[0], "on", ">" + ADMIN[1], "~*", "&*", "+@all")
    a.close()
    yield
    a = make_client(server, username=ADMIN[0], password=ADMIN[1])
    try:
        a.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*",
                          "+@all")
        a.config_set("requirepass", "")
        for u in a.execute_command("ACL", "USERS"):
            if u not in ("default", ADMIN[0]):
                a.execute_command("ACL", "DELUSER", u)
        a.execute_command("ACL", "LOG", "RESET")
    finally:
        a.close()


def getuser(r, name):
    raw = r.execute_command("ACL", "GETUSER", name)
    if raw is None:
        return None
    d = dict(zip(raw[::2], raw[1::2])) if isinstance(raw, list) else dict(raw)
    sels = []
    for s in d.get("selectors", []):
        sels.append(dict(zip(s[::2], s[1::2])) if isinstance(s, list) else dict(s))
    d["selectors"] = sels
    return d


def as_user(server, user, pw="pw", **kw):
    return make_client(server, username=user, password=pw, **kw)


def log_entries(r, n=10):
    out = []
    for e in r.execute_command("ACL", "LOG", n):
        out.append(dict(zip(e[::2], e[1::2])) if isinstance(e, list) else dict(e))
    return out


# ---------------------------------------------------------------- rules and round trip


def test_default_user_and_whoami(r):
    assert r.execute_command("ACL", "WHOAMI") == "default"
    assert r.execute_command("ACL", "USERS") == [ADMIN[0], "default"]
    lines = [x.replace(" sanitize-payload", "") for x in r.execute_command("ACL", "LIST")]
    assert "user default on nopass ~* &* +@all" in lines
    d = getuser(r, "default")
    assert set(d["flags"]) - {"sanitize-payload"} == {"on", "nopass"} and d["passwords"] == []
    assert d["commands"] == "+@all" and d["keys"] == "~*" and d["channels"] == "&*"
    assert getuser(r, "nobody") is None


def test_setuser_round_trip(r):
    h = hashlib.sha256(b"secret").hexdigest()
    assert r.execute_command("ACL", "SETUSER", "alice", "on", ">p1", "#" + h, "~k*", "%R~r*",
                             "%W~w*", "&ch*", "+get", "+@hash", "-hset", "+client|id") == "OK"
    d = getuser(r, "alice")
    assert d["flags"] == ["on"]
    assert d["passwords"] == [hashlib.sha256(b"p1").hexdigest(), h]
    assert d["keys"] == "~k* %R~r* %W~w*"
    assert d["channels"] == "&ch*"
    assert d["commands"].startswith("-@all")
    for part in ("+@hash", "+get", "+client|id", "-hset"):
        assert part in d["commands"].split()
    line = [x for x in r.execute_command("ACL", "LIST") if x.startswith("user alice ")][0]
    # LIST's line is SETUSER's input again: the same user comes back.
    r.execute_command("ACL", "DELUSER", "alice")
    r.execute_command("ACL", "SETUSER", "alice", *line.split()[2:])
    assert getuser(r, "alice") == d
    # <pass and !hash remove; nopass / resetpass; off.
    r.execute_command("ACL", "SETUSER", "alice", "<p1", "!" + h, "off")
    d = getuser(r, "alice")
    assert d["passwords"] == [] and d["flags"] == ["off"]
    r.execute_command("ACL", "SETUSER", "alice", "nopass")
    assert "nopass" in getuser(r, "alice")["flags"]
    r.execute_command("ACL", "SETUSER", "alice", ">x", "resetpass")
    d = getuser(r, "alice")
    assert "nopass" not in d["flags"] and d["passwords"] == []
    r.execute_command("ACL", "SETUSER", "alice", "reset")
    d = getuser(r, "alice")
    assert d["commands"] == "-@all" and d["keys"] == ""
    assert d["flags"] == ["off", "sanitize-payload"]


def test_categories_description(r):
    r.execute_command("ACL", "SETUSER", "c1", "+@all", "-@string")
    assert getuser(r, "c1")["commands"] == "+@all -@string"
    r.execute_command("ACL", "SETUSER", "c2", "-@all", "+@list")
    assert getuser(r, "c2")["commands"] == "-@all +@list"
    r.execute_command("ACL", "SETUSER", "c3", "allcommands", "-client|kill")
    assert getuser(r, "c3")["commands"] == "+@all -client|kill"
    r.execute_command("ACL", "SETUSER", "c4", "+client|id", "+client")
    assert getuser(r, "c4")["commands"] == "-@all +client"
    r.execute_command("ACL", "SETUSER", "c4", "nocommands")
    assert getuser(r, "c4")["commands"] == "-@all"
    cats = r.execute_command("ACL", "CAT")
    assert cats[:3] == ["keyspace", "read", "write"] and "scripting" in cats
    assert "get" in r.execute_command("ACL", "CAT", "string")
    assert "hset" not in r.execute_command("ACL", "CAT", "string")
    with pytest.raises(redis.ResponseError, match="Unknown category 'nope'"):
        r.execute_command("ACL", "CAT", "nope")
    # Subcommands have their own categories; a container is only @slow.
    dangerous = r.execute_command("ACL", "CAT", "dangerous")
    assert "client|kill" in dangerous and "config|set" in dangerous
    assert "client|id" not in dangerous and "client" not in dangerous
    r.execute_command("ACL", "SETUSER", "c5", "+@all", "-@dangerous")
    assert getuser(r, "c5")["commands"] == "+@all -@dangerous"
    assert r.execute_command("ACL", "DRYRUN", "c5", "CLIENT", "ID") == "OK"
    assert r.execute_command("ACL", "DRYRUN", "c5", "ACL", "WHOAMI") == "OK"
    assert r.execute_command("ACL", "DRYRUN", "c5", "CLIENT", "KILL", "1.2.3.4:5") == \
        "This user has no permissions to run the 'client|kill' command"


@pytest.mark.parametrize("rule,why", [
    ("foo", "Syntax error"),
    ("+nope", "Unknown command or category name in ACL"),
    ("-@nope", "Unknown command or category name in ACL"),
    ("%X~a", "Syntax error"),
    ("#abc", "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters"),
    ("<nothere", "The password you are trying to remove from the user does not exist"),
    ("~a b", "Syntax error"),
])
def test_setuser_errors(r, rule, why):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("ACL", "SETUSER", "bad", rule)
    assert str(e.value) == "Error in ACL SETUSER modifier '%s': %s" % (rule, why)
    # A failed SETUSER creates nothing.
    assert getuser(r, "bad") is None


def test_setuser_pattern_after_star_and_names(r):
    with pytest.raises(redis.ResponseError, match="Adding a pattern after the \\* pattern"):
        r.execute_command("ACL", "SETUSER", "x", "~*", "~a")
    with pytest.raises(redis.ResponseError, match="'allchannels' flag"):
        r.execute_command("ACL", "SETUSER", "x", "allchannels", "&b")
    with pytest.raises(redis.ResponseError, match="Usernames can't contain spaces or null"):
        r.execute_command("ACL", "SETUSER", "a b")
    with pytest.raises(redis.ResponseError,
                       match="Unmatched parenthesis in acl selector starting at '\\(\\+get'"):
        r.execute_command("ACL", "SETUSER", "x", "(+get", "~a")
    # All or nothing: the good rules before a bad one are not applied.
    r.execute_command("ACL", "SETUSER", "y", "on")
    with pytest.raises(redis.ResponseError):
        r.execute_command("ACL", "SETUSER", "y", "+get", "+nope")
    assert getuser(r, "y")["commands"] == "-@all"


# ---------------------------------------------------------------- AUTH and HELLO


def test_auth_and_wrongpass(server, r):
    r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "~*")
    c = as_user(server, "bob")
    assert c.execute_command("ACL", "WHOAMI") == "bob"
    assert "user=bob" in c.execute_command("CLIENT", "INFO")
    c.close()
    for user, pw in (("bob", "bad"), ("nobody", "pw")):
        with pytest.raises((redis.ResponseError, redis.AuthenticationError), match="invalid username-password"):
            as_user(server, user, pw).ping()
    r.execute_command("ACL", "SETUSER", "bob", "off")
    with pytest.raises((redis.ResponseError, redis.AuthenticationError)):
        as_user(server, "bob").ping()
    # AUTH on an open connection: WRONGPASS keeps the previous user.
    c = make_client(server, single_connection_client=True)
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        c.execute_command("AUTH", "bob", "pw")
    assert c.execute_command("ACL", "WHOAMI") == "default"
    c.close()
    e = log_entries(r)[0]
    assert e["reason"] == "auth" and e["object"] == "AUTH" and e["username"] == "bob"


def test_requirepass_is_default_password(server, r):
    r.config_set("requirepass", "s3cret")
    try:
        assert getuser(r, "default")["passwords"] == [hashlib.sha256(b"s3cret").hexdigest()]
        c = make_client(server)
        with pytest.raises((redis.ResponseError, redis.AuthenticationError)):
            c.ping()
        c = make_client(server, password="s3cret")
        assert c.ping()
        c = make_client(server, username="default", password="s3cret")
        assert c.ping()
    finally:
        r.config_set("requirepass", "")
    assert "nopass" in getuser(r, "default")["flags"]


def test_hello_auth(server, r):
    r.execute_command("ACL", "SETUSER", "h", "on", ">pw", "+@all", "~*")
    c = make_client(server, single_connection_client=True)
    reply = c.execute_command("HELLO", "2", "AUTH", "h", "pw", "SETNAME", "hh")
    assert reply[reply.index("proto") + 1] == 2
    assert c.execute_command("ACL", "WHOAMI") == "h"
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        c.execute_command("HELLO", "2", "AUTH", "h", "nope")
    # When the default user has no command, HELLO AUTH still logs another in.
    r.execute_command("ACL", "SETUSER", "default", "-@all")
    d = make_client(server, single_connection_client=True)
    d.execute_command("HELLO", "2", "AUTH", "h", "pw")
    assert d.execute_command("ACL", "WHOAMI") == "h"
    c.close()
    d.close()


# ---------------------------------------------------------------- enforcement


def test_command_and_subcommand_permissions(server, r):
    r.execute_command("ACL", "SETUSER", "u", "on", ">pw", "~*", "&*", "+get", "+set",
                      "+client|id", "+acl|whoami")
    c = as_user(server, "u")
    assert c.set("k", "v") and c.get("k") == "v"
    assert isinstance(c.execute_command("CLIENT", "ID"), int)
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_CMD % "hset"):
        c.hset("h", "f", "v")
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_CMD % "client\\|list"):
        c.execute_command("CLIENT", "LIST")
    assert c.execute_command("ACL", "WHOAMI") == "u"
    r.execute_command("ACL", "SETUSER", "u", "+@hash")
    assert c.hset("h", "f", "v") == 1  # takes effect at the client's next command
    r.execute_command("ACL", "SETUSER", "u", "-get")
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("k")
    e = log_entries(r)[0]
    assert (e["reason"], e["context"], e["object"], e["username"]) == \
        ("command", "toplevel", "get", "u")
    assert "user=u" in e["client-info"] and e["count"] == 1
    c.close()


def test_key_patterns_read_write(server, r):
    r.execute_command("ACL", "SETUSER", "k", "on", ">pw", "+@all", "~rw*", "%R~r:*", "%W~w:*")
    c = as_user(server, "k")
    r.set("r:1", "x")
    assert c.get("r:1") == "x"
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_KEYS):
        c.set("r:1", "y")
    assert c.set("w:1", "y")
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_KEYS):
        c.get("w:1")
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_KEYS):
        c.execute_command("SET", "w:1", "z", "GET")  # GET reads the key
    assert c.set("rw1", "a") and c.get("rw1") == "a"
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("other")
    # A key that only needs to exist, not be read: either permission.
    assert c.exists("w:1") == 1 and c.exists("r:1") == 1
    assert c.execute_command("ACL", "DRYRUN", "k", "LMOVE", "r:1", "w:1", "LEFT", "LEFT") == \
        "This user has no permissions to access the 'r:1' key"
    assert c.execute_command("ACL", "DRYRUN", "k", "LMOVE", "rw1", "w:1", "LEFT", "LEFT") == "OK"
    e = log_entries(r)[0]
    assert e["reason"] == "key" and e["object"] == "other"
    c.close()


def test_channel_patterns(server, r):
    r.execute_command("ACL", "SETUSER", "p", "on", ">pw", "+@all", "~*", "resetchannels",
                      "&news.*", "&lit[a]")
    c = as_user(server, "p")
    assert c.publish("news.1", "m") == 0
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_CHANS):
        c.publish("sport", "m")
    ps = as_user(server, "p").pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        ps.subscribe("sport")
        ps.get_message(timeout=1)
    ps2 = as_user(server, "p").pubsub()
    ps2.psubscribe("lit[a]")  # a pattern must be one of the patterns, literally
    assert wait_for(lambda: ps2.get_message(timeout=0.2))["type"] == "psubscribe"
    ps3 = as_user(server, "p").pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        ps3.psubscribe("news.*x")
        ps3.get_message(timeout=1)
    e = log_entries(r)[0]
    assert e["reason"] == "channel"
    # A subscriber whose user loses the channel is disconnected.
    ps4 = as_user(server, "p", client_name="victim").pubsub()
    ps4.subscribe("news.2")
    assert wait_for(lambda: ps4.get_message(timeout=0.2))["type"] == "subscribe"
    assert any(cl["name"] == "victim" for cl in r.client_list())
    r.execute_command("ACL", "SETUSER", "p", "resetchannels", "&lit[a]")
    # Gone when SETUSER replies; ps2's literal pattern is kept.
    assert not any(cl["name"] == "victim" for cl in r.client_list())
    assert any(cl["user"] == "p" and cl["psub"] == "1" for cl in r.client_list())
    for x in (ps, ps2, ps3, ps4):
        x.close()
    c.close()


def test_selectors(server, r):
    r.execute_command("ACL", "SETUSER", "s", "on", ">pw", "+get", "~a*", "(+set ~b*)",
                      "(+get ~c*)")
    d = getuser(r, "s")
    assert d["commands"] == "-@all +get" and d["keys"] == "~a*"
    assert [(x["commands"], x["keys"]) for x in d["selectors"]] == \
        [("-@all +set", "~b*"), ("-@all +get", "~c*")]
    line = [x for x in r.execute_command("ACL", "LIST") if x.startswith("user s ")][0]
    assert "(~b* resetchannels -@all +set)" in line
    c = as_user(server, "s")
    assert c.get("a1") is None and c.get("c1") is None and c.set("b1", "v")
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_KEYS):
        c.set("a1", "v")  # root allows the key, not the command; the selector the reverse
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_CMD % "hget"):
        c.hget("a1", "f")
    r.execute_command("ACL", "SETUSER", "s", "clearselectors")
    assert getuser(r, "s")["selectors"] == []
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.set("b1", "v")
    c.close()


def test_multi_and_scripts(server, r):
    r.execute_command("ACL", "SETUSER", "m", "on", ">pw", "~k*", "+multi", "+exec", "+get",
                      "+set", "+eval", "+discard")
    c = as_user(server, "m", single_connection_client=True)
    p = c.pipeline(transaction=True)
    p.set("k1", "v").get("k1")
    assert p.execute() == [True, "v"]
    p = c.pipeline(transaction=True)
    p.get("k1").hget("x", "y")
    with pytest.raises(redis.exceptions.NoPermissionError):
        p.execute()
    assert log_entries(r)[0]["context"] == "multi"
    # Changed between queueing and EXEC: that command fails at EXEC.
    c.execute_command("MULTI")
    c.execute_command("SET", "k2", "v")
    c.execute_command("GET", "k2")
    r.execute_command("ACL", "SETUSER", "m", "-get")
    res = c.execute_command("EXEC")
    assert res[0] in (b"OK", "OK", True)
    assert isinstance(res[1], redis.ResponseError) and "ACLs rules changed" in str(res[1])
    r.execute_command("ACL", "SETUSER", "m", "+get")
    # Each redis.call runs as the script's calling user.
    assert c.eval("return redis.call('get', KEYS[1])", 1, "k1") == "v"
    with pytest.raises(redis.ResponseError,
                       match="The user executing the script can't run this command"):
        c.eval("return redis.call('hget', 'k1', 'f')", 0)
    with pytest.raises(redis.ResponseError, match="can't access at least one of the keys"):
        c.eval("return redis.call('get', 'zz')", 0)
    e = log_entries(r)[0]
    assert (e["context"], e["reason"], e["object"]) == ("lua", "key", "zz")
    c.close()


def test_deluser_disconnects(server, r):
    r.execute_command("ACL", "SETUSER", "d", "on", ">pw", "+@all", "~*")
    victims = [as_user(server, "d", single_connection_client=True) for _ in range(4)]
    for v in victims:
        assert v.ping()
    with pytest.raises(redis.ResponseError, match="The 'default' user cannot be removed"):
        r.execute_command("ACL", "DELUSER", "default")
    assert r.execute_command("ACL", "DELUSER", "d", "nobody") == 1
    assert wait_for(lambda: not any(cl["user"] == "d" for cl in r.client_list()))
    for v in victims:
        with pytest.raises(redis.ConnectionError):
            v.ping()
        v.close()


def test_client_kill_user(server, r):
    r.execute_command("ACL", "SETUSER", "kk", "on", ">pw", "+@all", "~*")
    victims = [as_user(server, "kk", single_connection_client=True) for _ in range(3)]
    for v in victims:
        assert v.ping()
    with pytest.raises(redis.ResponseError, match="No such user 'nosuch'"):
        r.execute_command("CLIENT", "KILL", "USER", "nosuch")
    assert r.execute_command("CLIENT", "KILL", "USER", "kk") == 3
    assert wait_for(lambda: not any(cl["user"] == "kk" for cl in r.client_list()))
    assert r.execute_command("CLIENT", "KILL", "USER", "kk") == 0
    for v in victims:
        v.close()


def test_dryrun_genpass_log_help(r):
    r.execute_command("ACL", "SETUSER", "dr", "+get", "~a*", "&c")
    assert r.execute_command("ACL", "DRYRUN", "dr", "get", "a1") == "OK"
    assert r.execute_command("ACL", "DRYRUN", "dr", "get", "b") == \
        "This user has no permissions to access the 'b' key"
    assert r.execute_command("ACL", "DRYRUN", "dr", "set", "a", "b") == \
        "This user has no permissions to run the 'set' command"
    with pytest.raises(redis.ResponseError, match="User 'zz' not found"):
        r.execute_command("ACL", "DRYRUN", "zz", "get", "a")
    with pytest.raises(redis.ResponseError, match="Command 'nocmd' not found"):
        r.execute_command("ACL", "DRYRUN", "dr", "nocmd")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get'"):
        r.execute_command("ACL", "DRYRUN", "dr", "get")
    p = r.execute_command("ACL", "GENPASS")
    assert len(p) == 64 and int(p, 16) >= 0 and p != r.execute_command("ACL", "GENPASS")
    assert len(r.execute_command("ACL", "GENPASS", 5)) == 2
    for bad in ("0", "4097", "-1"):
        with pytest.raises(redis.ResponseError, match="ACL GENPASS argument must be"):
            r.execute_command("ACL", "GENPASS", bad)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("ACL", "GENPASS", "x")
    assert r.execute_command("ACL", "HELP")[0].startswith("ACL <subcommand>")
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'BOGUS'. Try ACL HELP."):
        r.execute_command("ACL", "BOGUS")
    with pytest.raises(redis.ResponseError, match="value is not an integer"):
        r.execute_command("ACL", "LOG", "x")


def test_log_grouping_and_bound(server, r):
    r.execute_command("ACL", "SETUSER", "lg", "on", ">pw", "+get", "~a")
    c = as_user(server, "lg")
    for _ in range(5):
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.get("b")
    e = log_entries(r)
    assert len(e) == 1 and e[0]["count"] == 5 and float(e[0]["age-seconds"]) < 5
    r.config_set("acllog-max-len", 5)
    try:
        for i in range(300):  # distinct objects: distinct entries
            with pytest.raises(redis.exceptions.NoPermissionError):
                c.get("key%d" % i)
        assert len(r.execute_command("ACL", "LOG", 1000)) == 5
        assert log_entries(r, 1)[0]["object"] == "key299"
    finally:
        r.config_set("acllog-max-len", 128)
    assert r.execute_command("ACL", "LOG", "RESET") == "OK"
    assert r.execute_command("ACL", "LOG") == []
    c.close()


# ---------------------------------------------------------------- SAVE / LOAD


def test_save_and_load(server_factory, tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\n")
    args = ["--aclfile", str(path)] if TARGET == "redis" else ["--security.aclfile", str(path)]
    srv = server_factory(args)
    a = make_client(srv)
    a.execute_command("ACL", "SETUSER", "saved", "on", ">pw", "~x*", "+get", "(+set ~y*)")
    before = a.execute_command("ACL", "LIST")
    assert a.execute_command("ACL", "SAVE") == "OK"
    assert sorted(path.read_text().splitlines()) == sorted(before)
    a.execute_command("ACL", "DELUSER", "saved")
    a.execute_command("ACL", "SETUSER", "saved", "on", ">pw", "+@all")
    victim = as_user(srv, "saved", single_connection_client=True)
    assert victim.ping()
    assert a.execute_command("ACL", "LOAD") == "OK"
    assert a.execute_command("ACL", "LIST") == before
    # LOAD disconnects the clients of the users it replaced (default's stay).
    assert wait_for(lambda: not any(cl["user"] == "saved" for cl in a.client_list()))
    with pytest.raises(redis.ConnectionError):
        victim.ping()
    assert a.ping()
    # A bad line: nothing changes, and the error names the line.
    path.write_text("user default on nopass ~* &* +@all\nuser n1 on\nuser n2 on +nope\n")
    with pytest.raises(redis.ResponseError) as e:
        a.execute_command("ACL", "LOAD")
    assert ":3: Error in applying operation '+nope'" in str(e.value)
    assert "no change to the previously active ACL rules was performed" in str(e.value)
    assert a.execute_command("ACL", "LIST") == before
    path.write_text("user a on\nuser a off\n")
    with pytest.raises(redis.ResponseError, match="Duplicate user 'a' found on line 2"):
        a.execute_command("ACL", "LOAD")
    # A loaded file replaces the users: those not in it are gone.
    path.write_text("user default on nopass ~* &* +@all\nuser only on >pw +@all ~*\n")
    assert a.execute_command("ACL", "LOAD") == "OK"
    assert sorted(a.execute_command("ACL", "USERS")) == ["default", "only"]
    assert as_user(srv, "only").ping()
    a.close()


def test_save_without_aclfile(r):
    for sub in ("SAVE", "LOAD"):
        with pytest.raises(redis.ResponseError, match="not configured to use an ACL file"):
            r.execute_command("ACL", sub)


# ---------------------------------------------------------------- concurrency and abuse


def test_concurrent_setuser_while_clients_run(server, r):
    """Clients of one user on every worker run commands while its rules flip:
    each reply is either the command's or NOPERM, never a crash or a mix."""
    r.execute_command("ACL", "SETUSER", "cc", "on", ">pw", "~*", "&*", "+@all")
    seen = {"ok": 0, "noperm": 0}
    lock = threading.Lock()

    def worker(i):
        def run(stop):
            c = as_user(server, "cc")
            n = 0
            while not stop.is_set():
                try:
                    c.set("k%d:%d" % (i, n % 50), "v")
                    c.get("k%d:%d" % (i, n % 50))
                    with lock:
                        seen["ok"] += 1
                except redis.exceptions.NoPermissionError:
                    with lock:
                        seen["noperm"] += 1
                n += 1
            c.close()
        return run

    def flipper(stop):
        a = make_client(server)
        n = 0
        while not stop.is_set():
            rules = ["-set", "~x*"] if n % 2 else ["+@all", "allkeys"]
            a.execute_command("ACL", "SETUSER", "cc", "resetkeys", *rules)
            n += 1
        a.close()

    run_threads([worker(i) for i in range(6)] + [flipper], duration=2.0)
    assert seen["ok"] > 0 and seen["noperm"] > 0
    assert r.ping()


def test_abuse_big_users_and_patterns(server, r):
    rules = ["~key:%d:*" % i for i in range(10000)] + ["+get"]
    assert r.execute_command("ACL", "SETUSER", "big", "on", ">pw", *rules) == "OK"
    assert len(getuser(r, "big")["keys"].split()) == 10000
    c = as_user(server, "big")
    assert c.get("key:9999:x") is None
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("nomatch")
    huge = "*" * 10 + "a" * 200000
    assert r.execute_command("ACL", "SETUSER", "big", "resetkeys", "~" + huge) == "OK"
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("b" * 1000)  # a pathological pattern still answers
    # Many selectors and a huge password.
    sels = ["(+get ~s%d)" % i for i in range(300)]
    assert r.execute_command("ACL", "SETUSER", "big", ">" + "p" * 100000, *sels) == "OK"
    assert len(getuser(r, "big")["selectors"]) == 300
    c.close()
    assert r.ping()


def test_abuse_auth_hammering(server, r):
    r.execute_command("ACL", "SETUSER", "ham", "on", ">right", "+@all", "~*")
    c = make_client(server, single_connection_client=True)
    for i in range(2000):
        with pytest.raises(redis.ResponseError):
            c.execute_command("AUTH", "ham", "wrong%d" % i)
    assert c.execute_command("AUTH", "ham", "right") in (True, "OK", b"OK")
    entries = log_entries(r, 1000)
    assert len(entries) <= 128
    auth = [e for e in entries if e["reason"] == "auth"]
    assert auth and auth[0]["count"] == 2000  # one grouped entry, not 2000
    c.close()
    assert r.ping()


def test_client_reset_mid_pipeline_as_user(server, r):
    """A restricted client sending a pipeline and vanishing mid-way leaves the
    server serving others."""
    import socket
    r.execute_command("ACL", "SETUSER", "rst", "on", ">pw", "+get", "~a")
    s = socket.create_connection((server.host, server.port))
    s.sendall(b"*3\r\n$4\r\nAUTH\r\n$3\r\nrst\r\n$2\r\npw\r\n" +
              b"*2\r\n$3\r\nGET\r\n$1\r\nb\r\n" * 2000 + b"*2\r\n$3\r\nGET\r\n$1")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    assert r.ping()
    assert wait_for(lambda: log_entries(r, 1) and log_entries(r, 1)[0]["count"] >= 1)


# ---------------------------------------------------------------- key specs and SORT

SORT_BY_DENIED = "BY option of SORT denied due to insufficient ACL permissions."
SORT_GET_DENIED = "GET option of SORT denied due to insufficient ACL permissions."


def test_sort_patterns_need_full_read_access(server, r):
    r.rpush("xl", 3, 1, 2)
    r.set("w1", 5)
    r.execute_command("ACL", "SETUSER", "so", "on", ">pw", "+@all", "%R~x*", "~y*")
    c = as_user(server, "so")
    assert c.sort("xl") == ["1", "2", "3"]
    assert c.execute_command("SORT", "xl", "BY", "nosort") == ["3", "1", "2"]  # no '*'
    with pytest.raises(redis.ResponseError, match="^" + SORT_BY_DENIED):
        c.execute_command("SORT", "xl", "BY", "w*")
    for args in (("SORT", "xl", "GET", "#"), ("SORT", "xl", "GET", "w*"),
                 ("SORT_RO", "xl", "GET", "#"), ("SORT", "xl", "BY", "nosort", "GET", "#")):
        with pytest.raises(redis.ResponseError, match="^" + SORT_GET_DENIED):
            c.execute_command(*args)
    # Options are read in order: an earlier bad LIMIT, a later syntax error.
    with pytest.raises(redis.ResponseError, match="not an integer"):
        c.execute_command("SORT", "xl", "LIMIT", "0", "x", "BY", "w*")
    with pytest.raises(redis.ResponseError, match="^" + SORT_BY_DENIED):
        c.execute_command("SORT", "xl", "BY", "w*", "BOGUS")
    # Inside MULTI the refusal is that command's reply, the rest run.
    p = c.pipeline(transaction=True)
    p.execute_command("SORT", "xl", "GET", "#").sort("xl")
    res = p.execute(raise_on_error=False)
    assert SORT_GET_DENIED in str(res[0]) and res[1] == ["1", "2", "3"]
    # Reading every key is enough: %R~* here, or a selector that allows SORT.
    r.execute_command("ACL", "SETUSER", "so", "%R~*")
    assert c.execute_command("SORT", "xl", "BY", "w*", "GET", "#") == ["2", "3", "1"]  # w1=5
    r.execute_command("ACL", "SETUSER", "so", "resetkeys", "%R~x*", "(~* -sort)")
    with pytest.raises(redis.ResponseError, match="^" + SORT_BY_DENIED):
        c.execute_command("SORT", "xl", "BY", "w*")
    r.execute_command("ACL", "SETUSER", "so", "(~* +sort)")
    assert c.execute_command("SORT", "xl", "GET", "#") == ["1", "2", "3"]
    c.close()


def test_key_needs_from_the_rows_key_specs(server, r):
    """What each key needs comes from its command's (or subcommand's) key
    specs, and a key only a keys function finds (SORT's STORE) is checked too."""
    r.execute_command("ACL", "SETUSER", "ks", "on", ">pw", "+@all", "%R~x*", "~y*")
    r.rpush("xl", 1, 2)

    def dry(*args):
        return r.execute_command("ACL", "DRYRUN", "ks", *args)

    no = "This user has no permissions to access the '%s' key"
    assert dry("SORT", "xl", "STORE", "xz") == no % "xz"
    assert dry("SORT", "xl", "STORE", "y2") == "OK"
    assert dry("SORT", "xl", "ALPHA", "LIMIT", "0", "1", "STORE", "xz") == no % "xz"
    assert dry("GEORADIUS", "xl", "0", "0", "1", "km", "STORE", "xz") == no % "xz"
    assert dry("GEORADIUS", "xl", "0", "0", "1", "km", "STOREDIST", "y1") == "OK"
    assert dry("OBJECT", "ENCODING", "xl") == "OK"
    assert dry("BITFIELD", "xa", "GET", "u8", "0") == "OK"
    assert dry("BITFIELD", "xa", "SET", "u8", "0", "1") == no % "xa"
    assert dry("SET", "xa", "1") == no % "xa"
    assert dry("LMOVE", "xl", "y1", "LEFT", "LEFT") == no % "xl"  # LMOVE also deletes
    c = as_user(server, "ks")
    with pytest.raises(redis.exceptions.NoPermissionError, match=NOPERM_KEYS):
        c.sort("xl", store="xz")
    assert c.sort("xl", store="y2") == 2 and r.lrange("y2", 0, -1) == ["1", "2"]
    assert r.exists("xz") == 0
    c.close()
    # Subcommands have their own categories (CLIENT ID is not @dangerous).
    r.execute_command("ACL", "SETUSER", "ks", "-@dangerous")
    assert dry("CLIENT", "ID") == "OK"
    assert dry("CLIENT", "KILL", "ID", "1") == \
        "This user has no permissions to run the 'client|kill' command"
    assert dry("CONFIG", "GET", "x") == \
        "This user has no permissions to run the 'config|get' command"
    assert dry("OBJECT", "ENCODING", "xl") == "OK"

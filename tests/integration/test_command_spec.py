"""The command table against Redis 7.0's command specs (src/commands/*.json of
Debian's redis source package, fetched by tests/compat/fetch-redis-src.sh,
shared with the Tcl suites): every Redis 7.0 command and subcommand percore
lacks must be in one of the tables below, each entry with its reason; every
command both have must agree on arity, flags (as COMMAND INFO prints them),
ACL categories, tips and key specifications (COMMAND INFO, subcommands included). And the README's "Commands" lines name
exactly the commands COMMAND LIST gives. percore only: it reads percore's
table (redis-server has every command)."""

import glob
import json
import os
import re
import subprocess

import pytest

from conftest import Status

pytestmark = pytest.mark.percore_only

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What a single, non-replicating, non-cluster node cannot mean.
EXCLUDED = {
    "sync": "replication: percore has no replicas",
    "psync": "replication: percore has no replicas",
    "replconf": "replication: percore has no replicas",
    "replicaof": "replication: percore has no replicas",
    "slaveof": "replication: percore has no replicas",
    "failover": "replication: percore has no replicas",
    "cluster": "cluster bus: percore is one node, never a cluster member",
    "asking": "cluster bus: percore is one node, never a cluster member",
    "readonly": "cluster bus: percore is one node, never a cluster member",
    "readwrite": "cluster bus: percore is one node, never a cluster member",
    "restore-asking": "cluster bus: percore is one node, never a cluster member",
    "migrate": "cluster bus: percore is one node, never a cluster member",
    "sentinel": "Sentinel: not a Sentinel",
    "module": "modules: percore loads no Redis modules",
}

# Where percore deliberately differs from Redis 7.0's row: (command, what) -> reason.
DELIBERATE = {
    ("watch", "allow_busy"): "WATCH holds its keys' partitions, which a busy script holds: "
                             "percore answers it BUSY (only keyless commands pass a busy script)",
}

VISIBLE_FLAGS = {
    "WRITE": "write", "READONLY": "readonly", "DENYOOM": "denyoom", "ADMIN": "admin",
    "PUBSUB": "pubsub", "NOSCRIPT": "noscript", "BLOCKING": "blocking", "LOADING": "loading",
    "STALE": "stale", "SKIP_MONITOR": "skip_monitor", "SKIP_SLOWLOG": "skip_slowlog",
    "ASKING": "asking", "FAST": "fast", "NO_AUTH": "no_auth",
    "NO_MANDATORY_KEYS": "no_mandatory_keys", "NO_ASYNC_LOADING": "no_async_loading",
    "NO_MULTI": "no_multi", "ALLOW_BUSY": "allow_busy",
}  # MAY_REPLICATE, SENTINEL, ONLY_SENTINEL, PROTECTED: hidden by Redis 7.0 too
KEY_FLAGS = {"RO": "RO", "RW": "RW", "OW": "OW", "RM": "RM", "ACCESS": "access",
             "UPDATE": "update", "INSERT": "insert", "DELETE": "delete", "NOT_KEY": "not_key",
             "INCOMPLETE": "incomplete", "VARIABLE_FLAGS": "variable_flags"}


def load_specs():
    try:
        src = subprocess.run([os.path.join(REPO, "tests/compat/fetch-redis-src.sh")],
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("fetching the redis source package timed out")
    if src.returncode != 0:
        pytest.skip("no redis 7.0 source tree: %s" % src.stderr.strip()[-300:])
    specs = {}
    for f in glob.glob(os.path.join(src.stdout.strip(), "src/commands/*.json")):
        with open(f) as fh:
            for name, v in json.load(fh).items():
                full = ((v["container"] + "|" + name) if "container" in v else name).lower()
                specs[full] = v
    assert len(specs) > 300, "too few command specs found"
    return specs


@pytest.fixture(scope="module")
def specs():
    return load_specs()


def expected_flags(v):
    flags = {VISIBLE_FLAGS[f] for f in v.get("command_flags", []) if f in VISIBLE_FLAGS}
    # Redis 7.0.15 shows movablekeys when a key spec is not index + range; a
    # get-keys function alone (SET, BITFIELD: per-call flags) does not make it.
    if any("index" not in k["begin_search"] or "range" not in k["find_keys"]
           for k in v.get("key_specs", [])):
        flags.add("movablekeys")
    return flags


def expected_key_specs(v):
    out = []
    for k in v.get("key_specs", []):
        bs, fk = k["begin_search"], k["find_keys"]
        if "index" in bs:
            b = ("index", {"index": bs["index"]["pos"]})
        elif "keyword" in bs:
            b = ("keyword", {"keyword": bs["keyword"]["keyword"],
                             "startfrom": bs["keyword"]["startfrom"]})
        else:
            b = ("unknown", {})
        if "range" in fk:
            r = fk["range"]
            f = ("range", {"lastkey": r["lastkey"], "keystep": r["step"], "limit": r["limit"]})
        elif "keynum" in fk:
            r = fk["keynum"]
            f = ("keynum", {"keynumidx": r["keynumidx"], "firstkey": r["firstkey"],
                            "keystep": r["step"]})
        else:
            f = ("unknown", {})
        out.append((frozenset(KEY_FLAGS[x] for x in k.get("flags", [])), b, f))
    return out


def pairs(flat):
    """A RESP2 map (flat array) as a dict of decoded keys."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def got_key_specs(raw):
    out = []
    for ks in raw:
        m = pairs(ks)
        bs, fk = pairs(m["begin_search"]), pairs(m["find_keys"])
        out.append((frozenset(x.s for x in m["flags"]),
                    (bs["type"], pairs(bs["spec"])), (fk["type"], pairs(fk["spec"]))))
    return out


def test_tables_are_sane(specs):
    for name, reason in EXCLUDED.items():
        assert name in specs, "%s is not a Redis 7.0 command" % name
        assert reason.strip()


def test_no_command_missing(cs, specs):
    have = set(cs.cmd("COMMAND", "LIST"))
    skipped = set(EXCLUDED)
    missing = sorted(n for n in specs if n not in have and n not in skipped and
                     n.split("|")[0] not in skipped)
    assert not missing, "Redis 7.0 commands percore lacks (build them or list them " \
                        "with a reason): %s" % " ".join(missing)
    # and nothing excluded is there (take it out of EXCLUDED)
    present = sorted(n for n in skipped if n in have)
    assert not present, "excluded but present: %s" % " ".join(present)
    # no command of percore's own
    extra = sorted(n for n in have if n not in specs)
    assert not extra, "not Redis 7.0 commands: %s" % " ".join(extra)


def expected_categories(v):
    """The JSON's ACL categories plus those Redis 7.0 implies from the flags."""
    cats = {"@" + c.lower() for c in v.get("acl_categories", [])}
    f = v.get("command_flags", [])
    if "WRITE" in f:
        cats.add("@write")
    if "READONLY" in f and "@scripting" not in cats:
        cats.add("@read")
    if "ADMIN" in f:
        cats |= {"@admin", "@dangerous"}
    if "PUBSUB" in f:
        cats.add("@pubsub")
    if "FAST" in f:
        cats.add("@fast")
    if "BLOCKING" in f:
        cats.add("@blocking")
    if "@fast" not in cats:
        cats.add("@slow")
    return cats


def check_info(name, info, v, problems):
    if info[1] != v["arity"]:
        problems.append("%s: arity %d, Redis %d" % (name, info[1], v["arity"]))
    got = {f.s for f in info[2]}
    want = expected_flags(v)
    for f in sorted(got ^ want):
        if (name, f) not in DELIBERATE:
            problems.append("%s: flag %s %s" % (name, f, "extra" if f in got else "missing"))
    assert len(info) == 10, "%s: COMMAND INFO has %d fields" % (name, len(info))
    cats = {c.s for c in info[6]}
    if cats != expected_categories(v):
        problems.append("%s: ACL categories %s, Redis %s" % (
            name, sorted(cats), sorted(expected_categories(v))))
    tips = [t.lower() for t in v.get("command_tips", [])]
    if info[7] != tips:
        problems.append("%s: tips %r, Redis %r" % (name, info[7], tips))
    if got_key_specs(info[8]) != expected_key_specs(v):
        problems.append("%s: key specs %r, Redis %r" % (name, got_key_specs(info[8]),
                                                         expected_key_specs(v)))


def test_rows_match_specs(cs, specs):
    listed = cs.cmd("COMMAND", "LIST")
    names = [n for n in listed if "|" not in n]
    infos = cs.cmd("COMMAND", "INFO", *names)
    problems = []
    described = set()
    for name, info in zip(names, infos):
        assert info[0] == name
        check_info(name, info, specs[name], problems)
        # a container's subcommands, each described as Redis 7.0 does
        for sub in info[9]:
            described.add(sub[0])
            check_info(sub[0], sub, specs[sub[0]], problems)
            assert cs.cmd("COMMAND", "INFO", sub[0]) == [sub]
    assert described == {n for n in listed if "|" in n}, \
        "subcommands without rows, or rows without subcommands"
    assert not problems, "\n".join(problems)


def test_info_shape_and_getkeysandflags(cs):
    (info,) = cs.cmd("COMMAND", "INFO", "lmove")
    assert info[:2] == ["lmove", 5] and info[3:6] == [1, 2, 1]
    assert set(info[2]) == {Status("write"), Status("denyoom")}
    def kf(*args):
        return [(k, {f.s for f in flags}) for k, flags in cs.cmd("COMMAND", "GETKEYSANDFLAGS", *args)]

    assert kf("LMOVE", "a", "b", "LEFT", "RIGHT") == [("a", {"RW", "access", "delete"}),
                                                      ("b", {"RW", "insert"})]
    assert kf("SET", "k", "v") == [("k", {"OW", "update"})]
    assert kf("SET", "k", "v", "GET") == [("k", {"RW", "access", "update"})]
    assert kf("BITFIELD", "k", "GET", "u8", "0") == [("k", {"RO", "access"})]
    assert kf("ZUNIONSTORE", "d", "2", "a", "b") == [
        ("d", {"OW", "update"}), ("a", {"RO", "access"}), ("b", {"RO", "access"})]
    assert kf("SORT", "s", "BY", "w_*", "STORE", "d") == [("s", {"RO", "access"}),
                                                          ("d", {"OW", "update"})]
    assert kf("GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d") == [
        ("g", {"RO", "access"}), ("d", {"OW", "update"})]
    assert kf("EVAL", "return 1", "2", "a", "b") == [("a", {"RW", "access", "update"}),
                                                     ("b", {"RW", "access", "update"})]
    assert kf("MSET", "a", "1", "b", "2") == [("a", {"OW", "update"}), ("b", {"OW", "update"})]
    r = cs.cmd("COMMAND", "GETKEYSANDFLAGS", "GET")
    assert str(r.msg) == "ERR wrong number of arguments for 'command|getkeysandflags' command"
    assert cs.cmd("COMMAND", "GETKEYSANDFLAGS", "PING", "x").msg == \
        "ERR The command has no key arguments"
    assert cs.cmd("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert "config|get" in cs.cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*")
    assert set(cs.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "hyperloglog")) == {
        "pfadd", "pfcount", "pfmerge", "pfselftest", "pfdebug"}
    # a container is only @slow; its subcommands have their own categories
    admin = cs.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin")
    assert "config|set" in admin and "config" not in admin and "client|kill" in admin
    assert cs.cmd("COMMAND", "LIST", "FILTERBY", "BOGUS", "x").msg == "ERR syntax error"
    assert cs.cmd("COMMAND", "LIST", "FILTERBY").msg == "ERR syntax error"
    assert cs.cmd("COMMAND", "LIST", "x").msg == "ERR syntax error"
    assert cs.cmd("COMMAND", "COUNT") == len([n for n in cs.cmd("COMMAND", "LIST") if "|" not in n])


def readme_commands():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("* "):
            names |= {m.lower() for m in re.findall(r"`([A-Z][A-Z0-9_]*)`", line)}
    return names


def test_readme_lists_the_table(cs):
    have = {n for n in cs.cmd("COMMAND", "LIST") if "|" not in n}
    listed = readme_commands()
    assert not have - listed, "README's Commands lines lack: %s" % " ".join(sorted(have - listed))
    assert not listed - have, "README's Commands lines name unknown commands: %s" % \
        " ".join(sorted(listed - have))


def test_no_multi_refused_in_multi(cs):
    """SHUTDOWN carries Redis 7.0's no_multi: refused inside MULTI, and the
    transaction is aborted."""
    assert cs.cmd("MULTI") == Status("OK")
    assert cs.cmd("SET", "k", "v") == Status("QUEUED")
    assert cs.cmd("SHUTDOWN").msg == "ERR Command not allowed inside a transaction"
    assert cs.cmd("EXEC").msg == \
        "EXECABORT Transaction discarded because of previous errors."
    assert cs.cmd("EXISTS", "k") == 0


def test_docs_shape(cs, specs):
    """COMMAND DOCS: a map of name to its summary, since and group (percore
    leaves out Redis's complexity, arguments and history), a container with
    its subcommands' docs."""
    docs = pairs(cs.cmd("COMMAND", "DOCS", "get", "config", "config|get", "nosuch"))
    assert set(docs) == {"get", "config", "config|get"}
    get = pairs(docs["get"])
    assert (get["summary"], get["since"], get["group"]) == \
        (specs["get"]["summary"], specs["get"]["since"], specs["get"]["group"])
    subs = pairs(pairs(docs["config"])["subcommands"])
    assert "config|get" in subs and "config|set" in subs
    assert pairs(subs["config|get"])["summary"] == specs["config|get"]["summary"]
    assert pairs(docs["config|get"])["since"] == "2.0.0"

#!/usr/bin/env python3
"""Layers point one way: checks the include graph of server/ and scripting/
and, given the core library, the call graph between its modules.

Each file belongs to a layer (LAYERS below, lowest first). A file may include
headers of its own layer and of lower ones; a module may call only modules of
its own layer or lower, and no two modules may depend on each other in a loop
except the pairs in ALLOWED_LOOPS. Usage:
    check_layers.py SOURCE_DIR [LIBPERCORE_CORE.a]
Prints each violation; exit status 1 when there is any."""
import os
import re
import subprocess
import sys
from collections import defaultdict

# (layer, module-name patterns). A module is a file name without .c/.h;
# a pattern ending in '*' is a prefix.
LAYERS = [
    ("util", ["util", "buf", "log", "forksafe", "sha1", "ring", "deque", "slot", "resp", "resp_reply"]),
    ("config", ["config", "config_*", "fdlimit"]),
    ("event loop", ["worker", "worker_*", "netutil"]),
    ("data structures", ["t_*", "object", "geohash", "rdb", "rdb_*"]),
    ("store", ["store", "store_priv", "dict", "evict", "expire"]),
    ("commands", ["command", "command_*", "cmd_*", "db", "script", "script_*", "pubsub", "monitor", "slowlog", "latency", "acl", "acl_*",
                  "blocking", "notify", "tracking", "persist", "persist_*", "aof", "aof_*"]),
    ("scheduler", ["sched", "scheduler", "sched_*", "partlock"]),
    ("connections", ["client", "client_*"]),
    ("server", ["main", "server", "all_commands", "info"]),
]
# Module pairs that may depend on each other (both ways): a policy and the
# scheduler core it plugs into; a connection and the scheduler handing its
# work back; and client.c with its own parts (client_multi.h names client_t,
# while client.c calls into client_multi.c: a type, not a call, goes back).
ALLOWED_LOOPS = [
    ("sched", "sched_*"),
    ("sched_*", "sched_*"),
    ("client", "sched*"),
    ("client_*", "sched*"),
    ("client", "client_*"),
    ("aof", "aof_*"),
]


def match(name, pat):
    return name.startswith(pat[:-1]) if pat.endswith("*") else name == pat


def layer_of(mod):
    best = None
    for i, (_, pats) in enumerate(LAYERS):
        for p in pats:
            # exact names win over prefixes
            if match(mod, p) and (best is None or not p.endswith("*")):
                best = i
    return best


def loop_allowed(a, b):
    for x, y in ALLOWED_LOOPS:
        if (match(a, x) and match(b, y)) or (match(a, y) and match(b, x)):
            return True
    return False


def module_of(stem):
    """A module's private header belongs to it: store_priv.h is store's."""
    for suffix in ("_internal", "_priv"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def modules(src):
    files = {}
    for d in ("server", "scripting"):
        for f in sorted(os.listdir(os.path.join(src, d))):
            if f.endswith((".c", ".h")):
                files[os.path.join(d, f)] = module_of(f.rsplit(".", 1)[0])
    return files


def include_graph(src, files):
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    names = set(files.values())
    g = defaultdict(set)
    for path, mod in files.items():
        with open(os.path.join(src, path), encoding="utf-8") as fh:
            for h in inc.findall(fh.read()):
                m = module_of(os.path.basename(h).rsplit(".", 1)[0])
                if m in names and m != mod:
                    g[mod].add(m)
    return g


def call_graph(lib):
    """module -> modules whose symbols it uses, from nm of the archive."""
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined, used = {}, defaultdict(set)
    for line in out.splitlines():
        m = re.match(r"^[^:]*:([^:]+)\.c\.o:\s*(?:[0-9a-f]+)?\s+(\w)\s+(\S+)$", line)
        if not m:
            continue
        mod, kind, sym = m.groups()
        if kind == "U":
            used[mod].add(sym)
        elif kind in "TDBR":
            defined[sym] = mod
    g = defaultdict(set)
    for mod, syms in used.items():
        for s in syms:
            d = defined.get(s)
            if d and d != mod:
                g[mod].add(d)
    return g


def check(graph, what):
    bad = []
    for a, deps in sorted(graph.items()):
        la = layer_of(a)
        if la is None:
            bad.append(f"{what}: {a} is in no layer (add it to tests/layers/check_layers.py)")
            continue
        for b in sorted(deps):
            lb = layer_of(b)
            if lb is None or lb <= la or loop_allowed(a, b):
                continue
            bad.append(f"{what}: {a} ({LAYERS[la][0]}) -> {b} ({LAYERS[lb][0]}): upward")
    # loops within a layer
    for a, deps in sorted(graph.items()):
        for b in sorted(deps):
            if a < b and a in graph.get(b, ()) and not loop_allowed(a, b):
                bad.append(f"{what}: {a} <-> {b}: loop")
    return bad


def main():
    src = sys.argv[1]
    files = modules(src)
    bad = check(include_graph(src, files), "include")
    if len(sys.argv) > 2:
        bad += check(call_graph(sys.argv[2]), "call")
    for b in bad:
        print(b)
    print(f"layers: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

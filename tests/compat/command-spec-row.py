#!/usr/bin/env python3
"""Print the optional CMD_ROW fields a command needs to match Redis 7.0's spec
(server/command.h: .key_specs, .tips), from src/commands/*.json of the redis
source package (fetched by tests/compat/fetch-redis-src.sh), with its arity and
flags as COMMAND INFO shows them, for writing or checking a row by hand.

    tests/compat/command-spec-row.py xadd xread 'config|get'
"""
import glob
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load():
    src = subprocess.run([os.path.join(REPO, "tests/compat/fetch-redis-src.sh")],
                         capture_output=True, text=True, check=True).stdout.strip()
    specs = {}
    for f in glob.glob(os.path.join(src, "src/commands/*.json")):
        with open(f) as fh:
            for name, v in json.load(fh).items():
                specs[((v["container"] + "|" + name) if "container" in v else name).lower()] = v
    return specs


def key_specs(v):
    out = []
    for ks in v.get("key_specs", []):
        t = list(ks.get("flags", []))
        bs, fk = ks["begin_search"], ks["find_keys"]
        if "index" in bs:
            t.append("index:%d" % bs["index"]["pos"])
        elif "keyword" in bs:
            t.append("keyword:%s:%d" % (bs["keyword"]["keyword"], bs["keyword"]["startfrom"]))
        else:
            t.append("unknown")
        if "range" in fk:
            r = fk["range"]
            t.append("range:%d,%d,%d" % (r["lastkey"], r["step"], r["limit"]))
        elif "keynum" in fk:
            r = fk["keynum"]
            t.append("keynum:%d,%d,%d" % (r["keynumidx"], r["firstkey"], r["step"]))
        else:
            t.append("unknown")
        out.append(" ".join(t))
    return "; ".join(out)


def main(names):
    specs = load()
    for n in names:
        v = specs.get(n.lower())
        if not v:
            print("%s: not a Redis 7.0 command" % n, file=sys.stderr)
            continue
        print("%s: arity %d, flags %s%s" % (n.lower(), v["arity"],
                                            " ".join(v.get("command_flags", [])) or "-",
                                            ", movable keys" if "get_keys_function" in v else ""))
        if key_specs(v):
            print('        .key_specs = "%s"' % key_specs(v))
        if v.get("command_tips"):
            print('        .tips = "%s"' % " ".join(t.lower() for t in v["command_tips"]))


if __name__ == "__main__":
    main(sys.argv[1:])

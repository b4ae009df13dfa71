#!/usr/bin/python3
"""bench/summarize.py DIR | ARCHIVE [--into PARENT]: the results of bench/run in
DIR as Markdown and plots.

ARCHIVE is a .tar.gz of one results directory (what bench/kit's entry script
writes on a many-core host): it is unpacked into PARENT (default
bench/results/), refusing to overwrite a directory there, and summarized as
DIR; the path of DIR's summary.md is printed on stdout.

Reads DIR/run.tsv (what bench/run ran: command, machine, targets, workloads,
levels) and DIR/raw/<workload>/<target>/ (percore-bench JSON reports, cpu.tsv,
INFO output; na.txt where the target cannot run the workload), and writes:
  DIR/summary.md     command, machine, date, commit; per workload a table of
                     target x {capacity, max load with p99 under the target,
                     p99 at 50% and 85% load, CPU us/request} with ratios to
                     share-nothing and to redis-server, the plot, the per-level
                     numbers and the scheduler counters
  DIR/readme.md      one short table (capacity / max load per workload and
                     target), which bench/update-readme puts in README.md
  DIR/p99-<workload>.png, with DIR/plots/<workload>.{dat,gp}: p99 vs offered
                     load, log y, one line per target (needs gnuplot; without
                     it the .dat and .gp files are still written)
Missing cells (an interrupted run, or one stopped at its deadline) are left
out; cells a target cannot run (memcached: LRANGE, Lua, transactions) show
"n/a". Standard library only.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile

BASELINE = "share-nothing"
REDIS = "redis"
MEMCACHED = "memcached"
# INFO scheduler counters worth a column, in this order, when present.
SCHED_COUNTERS = [
    "tasks_local", "tasks_forwarded", "tasks_stolen_taken", "multi_tasks", "parts_lent",
    "part_waits", "lock_waits", "lock_wait_us", "busy_replies", "ring_full", "error_replies",
]


def read_meta(path):
    meta, workloads = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "workload" and len(parts) >= 3:
                workloads.append((parts[1], parts[2]))
            elif len(parts) >= 2:
                meta[parts[0]] = parts[1]
    meta["targets"] = [t for t in meta.get("targets", "").split(",") if t]
    meta["levels"] = [int(p) for p in meta.get("levels", "").split(",") if p]
    return meta, workloads


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_cpu(path):
    """cpu.tsv: "name cpu_us answered" lines -> {name: us per answered request}."""
    res = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and float(parts[2]) > 0:
                    res[parts[0]] = float(parts[1]) / float(parts[2])
    except OSError:
        pass
    return res


def read_sched(path):
    """INFO scheduler -> (policy, {counter: sum over workers})."""
    policy, sums = None, {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        key, _, val = line.strip().partition(":")
        if key == "policy":
            policy = val
        elif key.startswith("worker") and "=" in val:
            for kv in val.split(","):
                k, _, v = kv.partition("=")
                try:
                    sums[k] = sums.get(k, 0) + int(v)
                except ValueError:
                    pass
    return policy, sums


def read_cell(d, levels):
    cap = load_json(os.path.join(d, "capacity.json"))
    if cap is None:
        return None
    cpu = read_cpu(os.path.join(d, "cpu.tsv"))
    cell = {"capacity": cap["achieved_rps"], "capacity_cpu": cpu.get("capacity"),
            "errors": cap.get("errors", 0), "levels": []}
    for pct in levels:
        name = "level-%03d" % pct
        j = load_json(os.path.join(d, name + ".json"))
        if j is None:
            continue
        gen = j.get("generator", {})
        cell["levels"].append({
            "pct": pct, "offered": j["offered_rps"], "achieved": j["achieved_rps"],
            "p50": j["p50_us"], "p99": j["p99_us"], "p999": j["p999_us"], "max": j["max_us"],
            "errors": j.get("errors", 0), "unfinished": j.get("unfinished", 0),
            "cpu": cpu.get(name), "lag99": gen.get("timer_lag_p99_us", 0.0),
            "first_error": j.get("first_error", ""),
        })
        cell["errors"] += j.get("errors", 0)
    cell["sched_policy"], cell["sched"] = read_sched(os.path.join(d, "info-scheduler.txt"))
    return cell


def nearest(cell, pct):
    if not cell["levels"]:
        return None
    return min(cell["levels"], key=lambda lv: (abs(lv["pct"] - pct), -lv["pct"]))


def max_load(cell, target_us):
    ok = [lv for lv in cell["levels"] if lv["p99"] < target_us]
    return max(ok, key=lambda lv: lv["offered"]) if ok else None


def fmt_int(v):
    return "—" if v is None else "%.0f" % v


def fmt_k(v):
    """Thousands with 2-3 significant digits: 153k, 48.6k, 4.78k."""
    if v is None:
        return "—"
    k = v / 1e3
    return "%.0fk" % k if k >= 100 else "%.1fk" % k if k >= 10 else "%.2fk" % k


def fmt_us(v):
    if v is None:
        return "—"
    return "%.0f" % v if v >= 100 else "%.1f" % v


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "—"
    return "%.2f×" % (a / b)


def target_name(t, meta):
    if t == REDIS:
        name = "redis-server " + meta["redis"] if meta.get("redis") else "redis-server"
        io = int(meta.get("redis_io_threads") or 1)
        return name + (" (io-threads %d)" % io if io > 1 else "")
    if t == MEMCACHED:
        return "memcached " + meta["memcached"] if meta.get("memcached") else "memcached"
    return t


def read_na(d):
    """("n/a", reason) from DIR/na.txt (bench/run: this target cannot run the
    workload), ("failed", reason) from DIR/failed.txt (bench/run --keep-going: the
    cell failed), or None."""
    for name, label in (("na.txt", "n/a"), ("failed.txt", "failed")):
        try:
            with open(os.path.join(d, name), encoding="utf-8") as f:
                return label, f.read().strip() or label
        except OSError:
            pass
    return None


def unpack(archive, parent):
    """Extracts ARCHIVE (one results directory) into PARENT; returns that directory.
    Members must be plain files or directories under one top directory: no links,
    no absolute or .. paths, and the directory must not exist yet."""
    with tarfile.open(archive, "r:*") as tf:
        members = tf.getmembers()
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1:
            raise ValueError("%s: want one top directory, found %s" % (archive, sorted(tops)))
        top = tops.pop()
        for m in members:
            parts = m.name.split("/")
            if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                raise ValueError("%s: refusing member %r" % (archive, m.name))
        dest = os.path.join(parent, top)
        if os.path.exists(dest):
            raise ValueError("%s already exists; remove it or pass --into" % dest)
        if not any(m.name == top + "/run.tsv" for m in members):
            raise ValueError("%s: no %s/run.tsv: not bench/run results" % (archive, top))
        os.makedirs(parent, exist_ok=True)
        for m in members:
            tf.extract(m, parent, set_attrs=False)
    return dest


def setup_line(meta):
    th, cth = meta.get("threads", "?"), meta.get("client_threads", "?")
    return ("servers on CPU(s) %s (percore: %s worker thread(s)), percore-bench on CPU(s) %s "
            "(%s thread(s), %s connections, %s keys)" % (
                meta.get("server_cpus", "?"), th, meta.get("client_cpus", "?"), cth,
                meta.get("connections", "?"), meta.get("keys", "?")))


def workload_section(wl, flags, cells, meta, plotted, na):
    targets = [t for t in meta["targets"] if t in cells]
    tgt = int(meta.get("p99_target_us", "1000"))
    at50 = {t: nearest(cells[t], 50) for t in targets}
    at85 = {t: nearest(cells[t], 85) for t in targets}
    mx = {t: max_load(cells[t], tgt) for t in targets}
    has_base, has_redis = BASELINE in cells, REDIS in cells
    l50 = next((lv["pct"] for lv in at50.values() if lv), 50)
    l85 = next((lv["pct"] for lv in at85.values() if lv), 85)
    lines = ["## %s" % wl, "", "percore-bench flags: `%s`" % flags, ""]
    head = ["target", "capacity req/s"]
    if has_base:
        head.append("× %s" % BASELINE)
    if has_redis:
        head.append("× redis")
    head.append("max load p99 < %d µs" % tgt)
    if has_base:
        head.append("× %s" % BASELINE)
    if has_redis:
        head.append("× redis")
    head += ["p99 @%d%% µs" % l50, "p99 @%d%% µs" % l85, "CPU µs/req @%d%%" % l85, "errors"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|---" + "|---:" * (len(head) - 1) + "|")
    for t in targets:
        c = cells[t]
        m = mx[t]
        mload = m["offered"] if m else None
        row = [target_name(t, meta), fmt_int(c["capacity"])]
        if has_base:
            row.append(fmt_ratio(c["capacity"], cells[BASELINE]["capacity"]))
        if has_redis:
            row.append(fmt_ratio(c["capacity"], cells[REDIS]["capacity"]))
        row.append("%s (%d%%)" % (fmt_int(mload), m["pct"]) if m else "— (none)")
        for ref, present in ((BASELINE, has_base), (REDIS, has_redis)):
            if present:
                rm = mx[ref]
                row.append(fmt_ratio(mload, rm["offered"] if rm else None))
        row.append(fmt_us(at50[t]["p99"]) if at50[t] else "—")
        row.append(fmt_us(at85[t]["p99"]) if at85[t] else "—")
        row.append(fmt_us(at85[t]["cpu"]) if at85[t] else "—")
        row.append(str(c["errors"]))
        lines.append("| " + " | ".join(row) + " |")
    for t in meta["targets"]:
        if t in na:
            lines.append("| %s | %s |%s" % (target_name(t, meta), na[t][0],
                                            " |" * (len(head) - 2)))
    lines.append("")
    for t in meta["targets"]:
        if t in na:
            lines += ["%s: %s: %s" % (na[t][0], target_name(t, meta), na[t][1]), ""]
    if plotted:
        lines += ["![p99 vs offered load, %s](p99-%s.png)" % (wl, wl), ""]
    # every level, folded
    lines += ["<details><summary>Every load level</summary>", "",
              "| target | load | offered req/s | achieved req/s | p50 µs | p99 µs | p99.9 µs "
              "| max µs | errors | unfinished | CPU µs/req |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in targets:
        c = cells[t]
        lines.append("| %s | closed loop | | %s | | | | | | | %s |" % (
            target_name(t, meta), fmt_int(c["capacity"]), fmt_us(c["capacity_cpu"])))
        for lv in c["levels"]:
            lines.append("| %s | %d%% | %s | %s | %s | %s | %s | %s | %d | %d | %s |" % (
                target_name(t, meta), lv["pct"], fmt_int(lv["offered"]), fmt_int(lv["achieved"]),
                fmt_us(lv["p50"]), fmt_us(lv["p99"]), fmt_us(lv["p999"]), fmt_us(lv["max"]),
                lv["errors"], lv["unfinished"], fmt_us(lv["cpu"])))
    lines += ["", "</details>", ""]
    # scheduler counters
    sched = {t: cells[t]["sched"] for t in targets if cells[t]["sched"]}
    if sched:
        cols = [k for k in SCHED_COUNTERS if any(k in s for s in sched.values())]
        lines += ["Scheduler counters (`INFO scheduler` at the end of the cell, summed over "
                  "workers):", "", "| policy | " + " | ".join(cols) + " |",
                  "|---" + "|---:" * len(cols) + "|"]
        for t, s in sched.items():
            lines.append("| %s | %s |" % (t, " | ".join(str(s.get(k, 0)) for k in cols)))
        lines.append("")
    # what to be careful with
    notes, lagged = [], []
    for t in targets:
        for lv in cells[t]["levels"]:
            if lv["pct"] <= 100 and lv["lag99"] > tgt / 10:
                lagged.append("%s %d%% (%s µs)" % (t, lv["pct"], fmt_us(lv["lag99"])))
            if lv["errors"]:
                notes.append("%s at %d%%: %d error replies, e.g. `%s`" % (
                    t, lv["pct"], lv["errors"], lv["first_error"]))
    if lagged:
        notes.append("the generator's own timer lag (p99) was over a tenth of the target, and is "
                     "part of these latencies, at: " + ", ".join(lagged))
    if notes:
        lines += ["Notes:", ""] + ["* " + n for n in notes] + [""]
    return lines


def write_plot(out, wl, cells, meta, gnuplot, terminal):
    pdir = os.path.join(out, "plots")
    os.makedirs(pdir, exist_ok=True)
    targets = [t for t in meta["targets"] if t in cells and cells[t]["levels"]]
    if not targets:
        return False
    dat = os.path.join(pdir, wl + ".dat")
    with open(dat, "w", encoding="utf-8") as f:
        for t in targets:
            f.write("# %s: offered achieved p50 p99 p99.9 (req/s, µs)\n" % t)
            for lv in cells[t]["levels"]:
                f.write("%.1f %.1f %.2f %.2f %.2f\n" % (
                    lv["offered"], lv["achieved"], lv["p50"], max(lv["p99"], 0.1), lv["p999"]))
            f.write("\n\n")
    tgt = int(meta.get("p99_target_us", "1000"))
    gp = os.path.join(pdir, wl + ".gp")
    plots = ["'%s.dat' index %d using 1:4 with linespoints lw 2 pt %d title '%s'" % (
        wl, i, 5 + i, target_name(t, meta)) for i, t in enumerate(targets)]
    plots.append("%d with lines dt 2 lc rgb 'gray40' title 'p99 target (%d µs)'" % (tgt, tgt))
    with open(gp, "w", encoding="utf-8") as f:
        f.write("\n".join([
            "# gnuplot %s.gp, from %s" % (wl, pdir),
            "set encoding utf8",
            "set terminal %s size 960,600" % terminal,
            "set output '../p99-%s.png'" % wl,
            "set title \"%s: p99 latency vs offered load\\n{/*0.8 %s}\"" % (
                wl, setup_line(meta).replace('"', "'")) if terminal == "pngcairo" else
            "set title \"%s: p99 latency vs offered load\"" % wl,
            "set xlabel 'offered load (requests/s)'",
            "set ylabel 'p99 latency (µs)'",
            "set logscale y",
            "set format x '%.0s%c'",
            "set grid xtics ytics mytics",
            "set key top left box opaque",
            "plot " + ", \\\n     ".join(plots),
            ""]))
    if not gnuplot:
        return False
    r = subprocess.run([gnuplot, wl + ".gp"], cwd=pdir, capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        sys.stderr.write("summarize: gnuplot failed on %s:\n%s" % (gp, r.stderr))
        return False
    return True


def readme_table(meta, workloads, all_cells, all_na):
    tgt = int(meta.get("p99_target_us", "1000"))
    targets = meta["targets"]
    lines = ["Capacity (closed loop) / highest offered load with p99 < %d µs, requests per "
             "second:" % tgt, "",
             "| workload | " + " | ".join(target_name(t, meta) for t in targets) + " |",
             "|---" + "|---:" * len(targets) + "|"]
    for wl, _ in workloads:
        cells = all_cells.get(wl, {})
        if not cells:
            continue
        row = []
        for t in targets:
            c = cells.get(t)
            if c is None:
                row.append(all_na[wl][t][0] if t in all_na.get(wl, {}) else "—")
                continue
            m = max_load(c, tgt)
            row.append("%s / %s" % (fmt_k(c["capacity"]), fmt_k(m["offered"] if m else None)))
        lines.append("| %s | %s |" % (wl, " | ".join(row)))
    return lines


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help") or len(args) not in (1, 3) or (
            len(args) == 3 and args[1] != "--into"):
        sys.stdout.write(__doc__)
        return 0 if args and args[0] in ("-h", "--help") else 2
    out = args[0]
    if os.path.isfile(out):
        here = os.path.dirname(os.path.abspath(__file__))
        try:
            out = unpack(out, args[2] if len(args) == 3 else os.path.join(here, "results"))
        except (OSError, ValueError, tarfile.TarError) as e:
            sys.stderr.write("summarize: %s\n" % e)
            return 2
        sys.stderr.write("summarize: unpacked into %s\n" % out)
    meta_path = os.path.join(out, "run.tsv")
    if not os.path.exists(meta_path):
        sys.stderr.write("summarize: %s: not a bench/run results directory (no run.tsv)\n" % out)
        return 2
    meta, workloads = read_meta(meta_path)
    all_cells, all_na = {}, {}
    for wl, _ in workloads:
        for t in meta["targets"]:
            d = os.path.join(out, "raw", wl, t)
            reason = read_na(d)
            if reason is not None:
                all_na.setdefault(wl, {})[t] = reason
                continue
            c = read_cell(d, meta["levels"])
            if c is not None:
                all_cells.setdefault(wl, {})[t] = c
    if not all_cells:
        sys.stderr.write("summarize: no results under %s/raw\n" % out)
        return 2
    gnuplot = shutil.which("gnuplot")
    terminal = "png"
    if gnuplot:
        r = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True, text=True,
                           check=False)
        if "pngcairo" in r.stdout + r.stderr:
            terminal = "pngcairo"
    else:
        sys.stderr.write("summarize: gnuplot not found (bash packaging/deps.sh installs it): "
                         "no PNG plots, only their data and scripts in %s/plots\n" % out)

    tgt = int(meta.get("p99_target_us", "1000"))
    md = ["# percore benchmark: %s, %s" % (meta.get("host", "?"), meta.get("date", "?")), "",
          "Command: `%s`" % meta.get("command", "bench/run"), "",
          "Machine: %s." % meta.get("machine", "?"), "",
          "Date: %s. Commit: %s (%s%s)." % (
              meta.get("date", "?"), meta.get("commit", "?"), meta.get("percore_bin", "?"),
              (" " + meta["percore_args"]) if meta.get("percore_args") else ""), "",
          "Setup: %s; redis-server %s with `--save '' --appendonly no`%s; memcached %s." % (
              setup_line(meta), meta.get("redis") or "not run",
              (" --io-threads %s" % meta["redis_io_threads"])
              if int(meta.get("redis_io_threads") or 1) > 1 else "",
              ("%s with `-t %s -U 0 -m 1024`, driven by percore-bench --protocol memcache "
               "(text get/set)" % (meta["memcached"], meta.get("threads", "?")))
              if meta.get("memcached") else "not run"), "",
          "Method: for every workload and target, a fresh server; every key preloaded; "
          "**capacity** is the throughput of a closed-loop run (%s s, every connection keeps "
          "its window full); then open-loop Poisson load at %s%% of that target's own "
          "capacity, %s s measured after %s s warmup each, latency measured from each "
          "request's intended send time. **Max load** is the highest offered load whose p99 "
          "stayed under %d µs (with the level, as a share of capacity). **CPU µs/req** is the "
          "server's CPU time (user + system, from /proc) during a level divided by the requests "
          "it answered. Ratios: this target's value over share-nothing's and over "
          "redis-server's (higher is better)." % (
              meta.get("capacity_duration", "?"), ",".join(str(p) for p in meta["levels"]),
              meta.get("duration", "?"), meta.get("warmup", "?"), tgt), ""]
    if meta.get("stopped"):
        md += ["**Incomplete run** (bench/run --deadline): %s." % meta["stopped"], ""]
    for wl, flags in workloads:
        cells = all_cells.get(wl)
        if not cells:
            continue
        plotted = write_plot(out, wl, cells, meta, gnuplot, terminal)
        md += workload_section(wl, flags, cells, meta, plotted, all_na.get(wl, {}))
    with open(os.path.join(out, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))

    readme = ["Command: `%s`; %s; %s; commit %s, %s." % (
        meta.get("command", "bench/run"), meta.get("machine", "?"), setup_line(meta),
        meta.get("commit", "?"), meta.get("date", "?")), ""]
    readme += readme_table(meta, workloads, all_cells, all_na)
    if meta.get("stopped"):
        readme += ["", "Incomplete: %s." % meta["stopped"]]
    with open(os.path.join(out, "readme.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(readme) + "\n")
    if out != args[0]:
        print(os.path.join(out, "summary.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

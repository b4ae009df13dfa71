"""Invariants under concurrent load, per policy: money is never created or lost
by cross-partition transfers (MULTI/EXEC and WATCH-retry), while auditors read
every account atomically; N clients x M INCRs give N*M; an unbalanced pipelined
load makes work-stealing steal, and only work-stealing."""

import random
import re
import shutil
import subprocess
import threading

import pytest
import redis

from conftest import make_client, run_threads as run_for

ACCOUNTS = ["acct:%d" % i for i in range(24)]  # spread over many slots and partitions
START = 1000
TOTAL = START * len(ACCOUNTS)


def test_bank_transfers_keep_the_total(server, r):
    r.mset({a: START for a in ACCOUNTS})
    done = {"multi": 0, "watch": 0, "audits": 0}

    def multi_mover(seed):
        def run(stop):
            rnd = random.Random(seed)
            cl = make_client(server)
            while not stop.is_set():
                a, b = rnd.sample(ACCOUNTS, 2)
                amt = rnd.randint(1, 50)
                with cl.pipeline(transaction=True) as p:
                    p.decrby(a, amt).incrby(b, amt)
                    p.execute()
                done["multi"] += 1
            cl.close()
        return run

    def watch_mover(seed):
        def run(stop):
            rnd = random.Random(seed)
            cl = make_client(server)
            while not stop.is_set():
                a, b = rnd.sample(ACCOUNTS, 2)
                with cl.pipeline() as p:
                    try:
                        p.watch(a, b)
                        va, vb = (int(x) for x in p.mget(a, b))
                        amt = rnd.randint(1, 50)
                        p.multi()
                        p.set(a, va - amt)
                        p.set(b, vb + amt)
                        p.execute()
                        done["watch"] += 1
                    except redis.WatchError:
                        pass
            cl.close()
        return run

    def auditor(use_exec):
        def run(stop):
            cl = make_client(server)
            while not stop.is_set():
                if use_exec:
                    with cl.pipeline(transaction=True) as p:
                        for a in ACCOUNTS:
                            p.get(a)
                        vals = p.execute()
                else:
                    vals = cl.mget(ACCOUNTS)
                assert sum(int(v) for v in vals) == TOTAL, "an audit saw money appear or vanish"
                done["audits"] += 1
            cl.close()
        return run

    run_for([multi_mover(1), multi_mover(2), watch_mover(3), watch_mover(4),
             auditor(False), auditor(True)], 2.5)
    assert sum(int(v) for v in r.mget(ACCOUNTS)) == TOTAL
    assert done["multi"] > 0 and done["watch"] > 0 and done["audits"] > 0


def test_concurrent_incrs_are_exact(server, r):
    n_clients, m = 8, 400

    def incrs(stop):
        cl = make_client(server)
        with cl.pipeline(transaction=False) as p:
            for i in range(m):
                p.incr("inv:counter")
                p.incr("inv:c%d" % (i % 16))
            p.execute()
        cl.close()

    threads = [threading.Thread(target=incrs, args=(None,)) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert int(r.get("inv:counter")) == n_clients * m
    assert sum(int(r.get("inv:c%d" % i)) for i in range(16)) == n_clients * m


def server_threads(info):
    return int(info["workers"])


def scheduler_counters(r):
    """Sum of tasks_stolen_taken over the workers of INFO scheduler."""
    info = r.info("scheduler")  # redis-py parses "k=v,..." lines into dicts
    taken = 0
    workers = {n: f for n, f in info.items() if re.fullmatch(r"worker\d+", n)}
    assert len(workers) == server_threads(info), info
    for fields in workers.values():
        taken += int(fields["tasks_stolen_taken"])
    return taken


@pytest.mark.percore_only
def test_unbalanced_load_steals_only_under_work_stealing(server, r):
    bench = shutil.which("redis-benchmark")
    assert bench, "redis-benchmark (redis-tools) is required"
    # 32 connections pipelining 64 deep: some workers hold more runnable
    # connections than others, so idle workers have something to steal.
    subprocess.run([bench, "-h", "127.0.0.1", "-p", str(server.port), "-c", "32", "-P", "64",
                    "-n", "300000", "-r", "10000", "-t", "set,get", "-q"],
                   check=True, stdout=subprocess.DEVNULL, timeout=120)
    taken = scheduler_counters(r)
    if server.policy == "work-stealing":
        assert taken > 0
    else:
        assert taken == 0

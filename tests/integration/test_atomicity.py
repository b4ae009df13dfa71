"""Atomicity of multi-key commands across partitions, observed by concurrent clients.

Keys are chosen to fall in many different hash slots, so on percore they live in
different partitions (and, with several threads, on different owners)."""

import string
import threading
import time

from conftest import make_client, run_threads

DURATION = 1.5  # seconds of concurrent load per test
KEYS = ["atom:%s" % ch for ch in string.ascii_lowercase]  # 26 keys, 26 distinct slots


def test_mset_is_atomic_across_slots(server, r):
    r.mset({k: "0" for k in KEYS})
    counts = {"writes": 0, "reads": 0}

    def writer(wid):
        def run(stop):
            cl = make_client(server)
            i = 0
            while not stop.is_set():
                i += 1
                v = "%d-%d" % (wid, i)
                assert cl.mset({k: v for k in KEYS}) is True
                counts["writes"] += 1
            cl.close()
        return run

    def reader(stop):
        cl = make_client(server)
        while not stop.is_set():
            vals = cl.mget(KEYS)
            assert len(set(vals)) == 1, "torn MSET seen by MGET: %r" % sorted(set(vals))
            counts["reads"] += 1
        cl.close()

    run_threads([writer(1), writer(2), writer(3), reader, reader])
    assert counts["writes"] > 10 and counts["reads"] > 10
    assert len(set(r.mget(KEYS))) == 1


def test_mset_pipelined_writers_and_readers(server, r):
    """Same invariant with pipelined MSETs/MGETs (batches in flight)."""
    r.mset({k: "0" for k in KEYS})

    def writer(wid):
        def run(stop):
            cl = make_client(server)
            i = 0
            while not stop.is_set():
                p = cl.pipeline(transaction=False)
                for _ in range(20):
                    i += 1
                    p.mset({k: "%d-%d" % (wid, i) for k in KEYS})
                p.execute()
            cl.close()
        return run

    def reader(stop):
        cl = make_client(server)
        while not stop.is_set():
            p = cl.pipeline(transaction=False)
            for _ in range(20):
                p.mget(KEYS)
            for vals in p.execute():
                assert len(set(vals)) == 1, "torn MSET: %r" % sorted(set(vals))
        cl.close()

    run_threads([writer(1), writer(2), reader, reader])


def test_rename_ping_pong_exactly_one_exists(server, r):
    a, b = "pp:a", "pp:b"  # slots 3236 and 15559
    r.set(a, "payload")
    counts = {"renames": 0, "checks": 0}

    def renamer(stop):
        cl = make_client(server)
        src, dst = a, b
        while not stop.is_set():
            assert cl.rename(src, dst) is True
            src, dst = dst, src
            counts["renames"] += 1
        cl.close()

    def checker_exists(stop):
        cl = make_client(server)
        while not stop.is_set():
            n = cl.exists(a, b)
            assert n == 1, "EXISTS a b = %d during RENAME" % n
            counts["checks"] += 1
        cl.close()

    def checker_mget(stop):
        cl = make_client(server)
        while not stop.is_set():
            vals = cl.mget(a, b)
            assert sorted(vals, key=lambda v: v is None) == ["payload", None], vals
            counts["checks"] += 1
        cl.close()

    run_threads([renamer, checker_exists, checker_mget])
    assert counts["renames"] > 10 and counts["checks"] > 10
    assert r.exists(a, b) == 1
    assert r.dbsize() == 1


def test_concurrent_incr_total(server, r):
    nthreads, per_thread = 4, 1500
    keys = ["ctr:%d" % i for i in range(4)]  # several partitions

    def worker(stop):
        cl = make_client(server)
        for i in range(per_thread):
            cl.incr("ctr")
            cl.incr(keys[i % len(keys)])
        cl.close()

    threads = [threading.Thread(target=worker, args=(None,)) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert int(r.get("ctr")) == nthreads * per_thread
    assert sum(int(r.get(k)) for k in keys) == nthreads * per_thread


def test_concurrent_pipelined_incr_total(server, r):
    nthreads, batches, batch = 4, 25, 200

    def worker():
        cl = make_client(server)
        for _ in range(batches):
            p = cl.pipeline(transaction=False)
            for _ in range(batch):
                p.incr("pctr")
                p.incrby("pctr2", 2)
            p.execute()
        cl.close()

    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert time.monotonic() - t0 < 120
    assert int(r.get("pctr")) == nthreads * batches * batch
    assert int(r.get("pctr2")) == 2 * nthreads * batches * batch


def test_per_connection_order_is_kept(server, r):
    """A reader on another connection never sees a later write before an earlier
    one from the same connection (SET x then SET y: seeing y:n implies x >= n)."""
    r.mset({"ord:x": "0", "ord:y": "0"})

    def writer(stop):
        cl = make_client(server)
        p = cl.pipeline(transaction=False)
        i = 0
        while not stop.is_set():
            for _ in range(50):
                i += 1
                p.set("ord:x", i)
                p.set("ord:y", i)
            p.execute()
        cl.close()

    def reader(stop):
        cl = make_client(server)
        while not stop.is_set():
            y = int(cl.get("ord:y"))
            x = int(cl.get("ord:x"))
            assert x >= y, "saw y=%d before x=%d" % (y, x)
        cl.close()

    run_threads([writer, reader, reader])

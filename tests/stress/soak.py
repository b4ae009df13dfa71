#!/usr/bin/env python3
"""Soak: mixed load with client faults against one running percore server.

Bank movers transfer money between accounts (MULTI/EXEC and EVAL, across
partitions) while auditors check the total atomically; fault clients reset
connections mid-command, mid-MULTI and mid-script, and slow readers pipeline
big replies and read them a trickle at a time. Every few seconds the server's
RSS is sampled. Exits non-zero if an audit ever sees the wrong total, the
server stops answering, or RSS after warm-up grows past the allowed slack.

Usage: soak.py --port P --pid PID [--seconds 60] [--warmup 0.25]
(tests/stress/soak.sh starts the servers and runs this once per policy.)
"""
import argparse
import random
import socket
import struct
import sys
import threading
import time

import redis

ACCOUNTS = ["acct:{%d}" % i if i % 3 == 0 else "acct:%d" % i for i in range(32)]
START = 1000
TOTAL = START * len(ACCOUNTS)
TRANSFER = """
local a = tonumber(redis.call('GET', KEYS[1]))
local amt = tonumber(ARGV[1])
redis.call('SET', KEYS[1], a - amt)
redis.call('INCRBY', KEYS[2], amt)
return a
"""


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Soak:
    def __init__(self, port, pid, seconds):
        self.port, self.pid, self.seconds = port, pid, seconds
        self.stop = threading.Event()
        self.errors = []
        self.counts = {}
        self.lock = threading.Lock()

    def count(self, k):
        with self.lock:
            self.counts[k] = self.counts.get(k, 0) + 1

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=30)

    def guard(self, fn):
        def run():
            try:
                while not self.stop.is_set():
                    fn()
            except Exception as e:  # noqa: BLE001
                self.errors.append("%s: %r" % (fn.__name__, e))
                self.stop.set()
        return run

    # -- good clients
    def mover(self):
        cl, rnd = self.client(), random.Random()

        def step():
            a, b = rnd.sample(ACCOUNTS, 2)
            amt = rnd.randint(1, 20)
            if rnd.random() < 0.5:
                with cl.pipeline(transaction=True) as p:
                    p.decrby(a, amt).incrby(b, amt)
                    p.execute()
            else:
                cl.eval(TRANSFER, 2, a, b, amt)
            self.count("transfers")
        step.__name__ = "mover"
        return step

    def auditor(self):
        cl = self.client()

        def step():
            total = sum(int(v) for v in cl.mget(ACCOUNTS))
            if total != TOTAL:
                raise AssertionError("audit saw %d, not %d" % (total, TOTAL))
            self.count("audits")
        step.__name__ = "auditor"
        return step

    # -- faulty clients
    def resetter(self):
        rnd = random.Random()
        reqs = [
            enc("SET", "junk", "x" * 1000)[:20],                       # mid-command
            enc("MULTI") + enc("DECRBY", ACCOUNTS[0], 5),               # mid-MULTI
            enc("MULTI") + enc("DECRBY", ACCOUNTS[1], 5) + enc("INCRBY", ACCOUNTS[2], 5) +
            enc("EXEC"),                                                # EXEC then gone
            enc("EVAL", TRANSFER, 2, ACCOUNTS[3], ACCOUNTS[4], 7),      # mid-script
            enc("GET", "big") * 20,                                     # mid-pipeline
        ]

        def step():
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(rnd.choice(reqs))
            if rnd.random() < 0.5:
                time.sleep(0.001)
            rst(s)
            self.count("resets")
            time.sleep(0.002)
        step.__name__ = "resetter"
        return step

    def slow_reader(self):
        def step():
            s = socket.create_connection(("127.0.0.1", self.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(enc("GET", "big") * 200)
            for _ in range(20):
                if self.stop.is_set():
                    break
                s.recv(4096)
                time.sleep(0.05)
            rst(s)
            self.count("slow_readers")
        step.__name__ = "slow_reader"
        return step

    def run(self, warmup):
        r = self.client()
        r.mset({a: START for a in ACCOUNTS})
        r.set("big", b"x" * (1 << 20))
        workers = [self.mover() for _ in range(4)] + [self.auditor() for _ in range(2)] + \
                  [self.resetter() for _ in range(3)] + [self.slow_reader() for _ in range(2)]
        threads = [threading.Thread(target=self.guard(w)) for w in workers]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        samples = []
        while time.monotonic() - t0 < self.seconds and not self.stop.is_set():
            time.sleep(1)
            samples.append((time.monotonic() - t0, rss_kb(self.pid)))
            ping0 = time.monotonic()
            r.ping()
            if time.monotonic() - ping0 > 1.0:
                self.errors.append("PING took %.0f ms" % ((time.monotonic() - ping0) * 1000))
        self.stop.set()
        for t in threads:
            t.join(60)
        total = sum(int(v) for v in r.mget(ACCOUNTS))
        if total != TOTAL:
            self.errors.append("final total %d, not %d" % (total, TOTAL))
        after = [kb for (t, kb) in samples if t >= self.seconds * warmup]
        if len(after) >= 8:
            # Flat: the last quarter's median within 20% (plus 8 MB of
            # allocator slack) of the first quarter's; a moment's peak (slow
            # readers' replies in flight) may reach 128 MB over it.
            q = len(after) // 4
            first, last = sorted(after[:q])[q // 2], sorted(after[-q:])[q // 2]
            if last > first * 1.2 + 8 * 1024:
                self.errors.append("RSS grew from %d to %d kB (medians of the first and last "
                                   "quarter after warm-up)" % (first, last))
            if max(after) > first + 128 * 1024:
                self.errors.append("RSS peaked at %d kB (from %d)" % (max(after), first))
        print("soak: %.0f s, %s, RSS kB after warm-up %s" % (
            self.seconds, ", ".join("%s=%d" % kv for kv in sorted(self.counts.items())),
            [kb for (_, kb) in samples][-5:]))
        for e in self.errors:
            print("soak: FAIL: %s" % e)
        return 0 if not self.errors else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=0.25)
    a = ap.parse_args()
    sys.exit(Soak(a.port, a.pid, a.seconds).run(a.warmup))


if __name__ == "__main__":
    main()

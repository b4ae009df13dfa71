#!/usr/bin/env python3
"""Blocking commands under load (not in CI): waiters looping BLPOP, BLMOVE,
BLMPOP and BRPOPLPUSH (timeouts 0, 50 ms, 200 ms) on random pairs of keys in
several partitions, pushers on other connections, and a client issuing
CLIENT UNBLOCK TIMEOUT/ERROR at random. At the end every pushed element must
be in exactly one reply (BLPOP, BLMPOP) or still in some list (moved ones
included): none lost, none twice, and no client left blocked.

    tests/stress/blocking.py --port PORT [--seconds 15]
(start the server first; tests/stress/blocking.sh does it for each policy)."""
import argparse
import random
import sys
import threading
import time

import redis

KEYS = ["s%d" % i for i in range(6)]
DSTS = ["d%d" % i for i in range(3)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--waiters", type=int, default=16)
    a = ap.parse_args()
    stop = threading.Event()
    lock = threading.Lock()
    got, errs, ids = [], [], []
    pushed = [0]

    def waiter(i):
        r = redis.Redis(port=a.port, socket_timeout=30)
        with lock:
            ids.append(r.client_id())
        rnd = random.Random(i)
        try:
            while not stop.is_set():
                k = rnd.sample(KEYS, 2)
                t = rnd.choice([0, 0.05, 0.2])
                op = rnd.randrange(4)
                try:
                    if op == 0:
                        v = r.blpop(k, t)
                        if v:
                            with lock:
                                got.append(v[1])
                    elif op == 1:
                        r.execute_command("BLMOVE", k[0], rnd.choice(DSTS), "LEFT", "RIGHT", t)
                    elif op == 2:
                        v = r.execute_command("BLMPOP", t, 2, k[0], k[1], "RIGHT", "COUNT", 2)
                        if v:
                            with lock:
                                got.extend(v[1])
                    else:
                        r.execute_command("BRPOPLPUSH", k[0], k[1], t)
                except redis.ResponseError as e:
                    if "UNBLOCKED" not in str(e):
                        raise
        except Exception as e:  # reported at the end
            errs.append(repr(e))

    def pusher(j):
        r = redis.Redis(port=a.port)
        rnd = random.Random(1000 + j)
        n = 0
        while not stop.is_set():
            vals = ["p%d-%d" % (j, n + x) for x in range(3)]
            n += 3
            r.rpush(rnd.choice(KEYS), *vals)
            with lock:
                pushed[0] += 3

    def unblocker():
        r = redis.Redis(port=a.port)
        while not stop.is_set():
            with lock:
                cid = random.choice(ids) if ids else None
            if cid:
                r.execute_command("CLIENT", "UNBLOCK", cid, random.choice(["TIMEOUT", "ERROR"]))
            time.sleep(0.003)

    ctl = redis.Redis(port=a.port)
    ctl.flushall()
    ws = [threading.Thread(target=waiter, args=(i,)) for i in range(a.waiters)]
    ps = [threading.Thread(target=pusher, args=(j,)) for j in range(3)]
    ub = threading.Thread(target=unblocker)
    for t in ws + ps + [ub]:
        t.start()
    time.sleep(a.seconds)
    stop.set()
    for t in ps + [ub]:
        t.join()
    for _ in range(100):  # release the waiters still blocked
        for cid in list(ids):
            ctl.execute_command("CLIENT", "UNBLOCK", cid)
        if not any(t.is_alive() for t in ws):
            break
        time.sleep(0.02)
    for t in ws:
        t.join(10)
    left = sum(ctl.llen(k) for k in KEYS + DSTS)
    dups = len(got) - len(set(got))
    blocked = int(ctl.info("clients")["blocked_clients"])
    print("pushed=%d consumed=%d left=%d dups=%d errors=%d blocked=%d"
          % (pushed[0], len(got), left, dups, len(errs), blocked))
    ok = len(got) + left == pushed[0] and dups == 0 and not errs and blocked == 0
    if errs:
        print("errors:", sorted(set(e[:80] for e in errs)))
    print("blocking stress:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

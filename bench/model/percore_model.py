"""percore_model: a discrete-event simulation of percore's three scheduler
policies as implemented, over bench/run's workloads (README.md, "Which policy
for which workload"). Python 3 standard library only.

What is simulated, and where it comes from in the code:
  * workers pinned to cores, more workers than cores wrap around
    (server/worker.c); a core runs one worker at a time, a runnable worker waits
    until the running one blocks or its time slice ends (the kernel's base
    slice, read by bench/model/calibrate);
  * connections spread over workers by SO_REUSEPORT (server/worker_net.c): a
    home worker per connection, drawn at random (the kernel hashes the 4-tuple);
  * a worker that blocks in its loop and is woken (a socket or ev_async) starts
    after wake_ns and pays wake_us of CPU (calibrated);
  * share-nothing (server/sched_share_nothing.c): partition -> owner as equal
    ranges (server/sched.c, sched_setup), the local fast path, batches of
    consecutive same-owner commands forwarded over a ring with the client in
    flight until the replies come back, parked batches in a partition's FIFO,
    multi-partition tasks (EXEC, EVAL) acquiring in ascending partition order,
    one lend round trip per other owner, returns in one message per owner, and
    a worker awaiting a reply spinning MSG_SPIN_US (server/worker.c) before it
    sleeps;
  * shared-locks (server/sched_shared_locks.c): every command on the home
    worker under its partition's spinlock (server/partlock.c), multi-partition
    tasks lock all in ascending order; a waiter spins until the holder releases;
  * work-stealing (server/sched_work_stealing.c): a readable client is pushed
    whole on its home worker's deque (server/deque.c), the owner serves its deque
    oldest-first, a push leaving more than one item wakes one sleeping worker
    when fewer than max(1, workers/2) search, a searcher steals half of a
    random victim's deque within SPIN_US, then sleeps; a stolen client is served
    (read, run under locks, write) by the thief and sent home by message;
  * the client (bench/percore-bench): open-loop Poisson arrivals (or bursts),
    latency from the intended send time, per-connection pipeline windows (1, or
    the elephants' depth), closed loop for capacity. Its generator threads
    (bench/percore-bench/engine.c: one event loop per thread, connections split
    over threads) are CPUs of their own: each send and each reply costs
    client_us / 2 of the thread's CPU (one write, one read per request at
    pipeline 1), in the order they come, so a busy generator sends late (its
    "timer lag") and reads replies late, as the real one does;
  * the machine's own interruptions: every CPU (server and client) is taken
    away now and then for as long as bench/model/calibrate's probe saw it taken
    (a thread spinning on that CPU, pinned, recording gaps in its clock: other
    processes, interrupts, the kernel), at the rate the probe saw. Off (noise=
    False) for predictions of a dedicated host.
Every cost is a field of the calibration file (bench/model/costs.json).
"""
import bisect
import heapq
import math
import random

SLOTS = 16384          # server/slot.h: CRC16(key) mod 16384
MSG_SPIN_US = 30.0     # server/worker.c
WS_SPIN_US = 20.0      # server/sched_work_stealing.c SPIN_US
BATCH_MAX = 256        # conf/server.ini scheduler.batch-max default (server/config.h)
CONNECTIONS = 50       # bench/run --connections default
KEYS = 100000          # bench/run --keys default
HEAVY_KEYS = 100       # percore-bench --heavy-keys default (bench/percore-bench/opts.c)
SET_FRAC = 1.0 / 11.0  # percore-bench --ratio 1:10

# bench/run's workloads (wl_flags there), as parameters.
WORKLOADS = {
    "uniform": {},
    "zipf0.6": {"zipf": 0.6},
    "zipf0.9": {"zipf": 0.9},
    "zipf0.99": {"zipf": 0.99},
    "zipf1.2": {"zipf": 1.2},
    "elephants": {"elephants": (2, 0.5, 16)},
    "heavy": {"heavy": (0.005, "lrange")},
    "heavy-big": {"heavy": (0.01, "big")},
    "heavy-lua": {"heavy": (0.001, "lua")},
    "txn1": {"txn": (0.01, 4, "multi")},
    "txn10": {"txn": (0.10, 4, "multi")},
    "txn1-lua": {"txn": (0.01, 4, "evaltxn")},
    "txn10-lua": {"txn": (0.10, 4, "evaltxn")},
    "burst": {"burst": (4.0, 100.0, 10.0)},
}
POLICIES = ("share-nothing", "shared-locks", "work-stealing")


def _crc_table():
    t = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = (((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)) & 0xFFFF
        t.append(crc)
    return t


_CRC = _crc_table()


def crc16(data):
    """CRC16-CCITT (XModem), the slot hash of server/slot.c (Redis Cluster's)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC[(crc >> 8) ^ b]
    return crc


_slot_cache = {}


def key_slots(prefix, n):
    """Slot of prefix<i> for i < n (cached: 100000 CRCs take a second)."""
    k = (prefix, n)
    if k not in _slot_cache:
        _slot_cache[k] = [crc16(("%s%d" % (prefix, i)).encode()) % SLOTS for i in range(n)]
    return _slot_cache[k]


def partitions_for(threads):
    """server/config.c: partitions 0 = 4 x threads rounded up to a power of two, >= 16."""
    p = 16
    while p < 4 * threads:
        p <<= 1
    return p


class Zipf:
    """Rank sampler by inversion of the cumulative weights (percore-bench's
    Zipf(theta) over ranks 1..n, rank 1 = key 0)."""

    def __init__(self, n, theta):
        acc, cum = 0.0, []
        for k in range(1, n + 1):
            acc += k ** -theta
            cum.append(acc)
        self.cum, self.total = cum, acc

    def sample(self, rng):
        import bisect
        return bisect.bisect_left(self.cum, rng.random() * self.total)


_zipf_cache = {}


def zipf(theta, n=KEYS):
    if (theta, n) not in _zipf_cache:
        _zipf_cache[(theta, n)] = Zipf(n, theta)
    return _zipf_cache[(theta, n)]


# ---------------------------------------------------------------------------
# Requests and commands

class Cmd:
    """One command as the scheduler sees it: parts (ascending partition ids; one
    for a keyed command, several for EXEC/EVAL) and its CPU cost in us."""
    __slots__ = ("parts", "cost", "multi", "req", "last")

    def __init__(self, parts, cost, multi, req, last):
        self.parts, self.cost, self.multi, self.req, self.last = parts, cost, multi, req, last


class Req:
    __slots__ = ("conn", "intended", "cmds", "done", "sent", "seq")

    def __init__(self, conn, intended, seq):
        self.conn, self.intended, self.seq = conn, intended, seq
        self.cmds, self.done, self.sent = [], None, None


class Conn:
    __slots__ = ("id", "home", "depth", "backlog", "inflight", "sock", "q", "busy",
                 "away", "armed", "next_seq", "exec_seq", "gen")

    def __init__(self, cid, home, depth):
        self.id, self.home, self.depth = cid, home, depth
        self.backlog = []     # client side: due, waiting for a window slot
        self.inflight = 0
        self.sock = []        # arrived at the server, not read yet
        self.q = []           # read, not placed yet (commands)
        self.busy = False     # share-nothing: a task in flight (CLIENT_IN_FLIGHT)
        self.away = False     # work-stealing: on a deque or served elsewhere
        self.armed = False    # in its home worker's ready list
        self.next_seq = 0
        self.exec_seq = 0     # per-connection order check: commands executed
        self.gen = 0          # the generator thread that owns it


class Worker:
    __slots__ = ("id", "core", "inbox", "ready", "deque", "state", "awaiting",
                 "served_client", "searching", "spin_end", "busy_us", "ws_ran", "ws_again")

    def __init__(self, wid, core):
        self.id, self.core = wid, core
        self.inbox = []       # (fn, args) messages from rings and deferred work
        self.ready = []       # home connections readable
        self.deque = []       # work-stealing deque, oldest first
        self.state = "sleep"  # sleep | runnable | run | spin
        self.awaiting = 0
        self.served_client = False
        self.searching = False
        self.spin_end = None
        self.busy_us = 0.0
        self.ws_ran = False   # work-stealing: this poll served a client (poll again)
        self.ws_again = False  # work-stealing: settle_round's next poll, sockets not yet


class Sim:
    def __init__(self, costs, policy, workers, workload, rate=None, closed=False,
                 cores=None, nreq=20000, seed=1, warmup_frac=0.1, connections=CONNECTIONS,
                 trace=False, exp_service=False, client_threads=1, noise=True):
        assert policy in POLICIES
        self.c = costs
        self.policy = policy
        self.nw = workers
        self.ncores = cores or workers
        self.wl = WORKLOADS[workload] if isinstance(workload, str) else workload
        self.rate = rate
        self.closed = closed
        self.nreq = nreq
        self.rng = random.Random(seed)
        self.now = 0.0
        self.ev = []
        self.seq = 0
        self.trace = trace
        self.exp_service = exp_service  # tests: exponential service times (M/M/1)
        self.log = [] if trace else None
        self.nparts = partitions_for(workers)
        self.owner = [p * workers // self.nparts for p in range(self.nparts)]
        self.workers = [Worker(w, w % self.ncores) for w in range(workers)]
        self.core_cur = [None] * self.ncores
        self.core_runq = [[] for _ in range(self.ncores)]
        self.core_slice_start = [0.0] * self.ncores
        # share-nothing partition state (owner-only): holder and FIFO of waiters
        self.holder = [None] * self.nparts
        self.waitq = [[] for _ in range(self.nparts)]
        # lock policies: when each partition's lock is next free
        self.lock_free_at = [0.0] * self.nparts
        self.lock_holder_end = []
        self.searching = 0
        self.max_searching = max(1, workers // 2)
        el = self.wl.get("elephants")
        self.conns = []
        for i in range(connections):
            depth = el[2] if el and i < el[0] else 1
            self.conns.append(Conn(i, self.rng.randrange(workers), depth))
        if el:
            k, share, _ = el
            self.conn_w = [share / k if i < k else (1 - share) / (connections - k)
                           for i in range(connections)]
        else:
            self.conn_w = [1.0 / connections] * connections
        self.conn_cum = []
        acc = 0.0
        for w in self.conn_w:
            acc += w
            self.conn_cum.append(acc)
        self.key_slots = key_slots("key:", KEYS)
        self.zipf = zipf(self.wl["zipf"]) if "zipf" in self.wl else None
        self.txn_zipf = zipf(0.99) if "txn" in self.wl else None
        self.acct_slots = key_slots("acct:", KEYS) if "txn" in self.wl else None
        self.heavy_slots = None
        if "heavy" in self.wl:
            pre = "list:" if self.wl["heavy"][1] == "lrange" else "big:"
            if self.wl["heavy"][1] == "lua":
                pre = "key:"
            self.heavy_slots = key_slots(pre, HEAVY_KEYS)
        self.lat = []
        self.completed = 0
        self.generated = 0
        self.t_measure = None
        self.measured_done = 0
        self.executed = 0
        self.stats = {"forwarded": 0, "local": 0, "stolen": 0, "lock_waits": 0,
                      "lend": 0, "multi": 0, "wakes": 0, "part_waits": 0}
        self.warm_n = int(nreq * warmup_frac)
        # the generator: one CPU per thread, connections dealt round-robin
        # (bench/percore-bench/engine.c); its CPU per request from the calibration
        self.ngen = max(1, client_threads)
        for conn in self.conns:
            conn.gen = conn.id % self.ngen
        self.gen_free = [0.0] * self.ngen
        self.client_half = costs.get("client_us", 0.0) / 2.0
        self.cur = None       # the worker whose step is being computed
        # the machine's interruptions, per CPU: server cores 0.., generator
        # threads after them; (starts, ends) generated as the run goes
        self.noise = {}
        st = costs.get("stalls") if noise else None
        for k in range(self.ncores + self.ngen):
            side = (st or {}).get("server" if k < self.ncores else "client")
            if side and side.get("gaps_us") and side.get("window_s", 0) > 0:
                self.noise[k] = {"rate": side.get("count", len(side["gaps_us"])) / (side["window_s"] * 1e6),
                                 "gaps": side["gaps_us"], "starts": [], "ends": [], "upto": 0.0,
                                 "rng": random.Random(seed * 7919 + k)}

    # ---- CPU time on a CPU the machine interrupts ---------------------------
    def _noise_upto(self, n, t):
        while n["upto"] <= t:
            n["upto"] += n["rng"].expovariate(n["rate"])
            g = n["rng"].choice(n["gaps"])
            if n["ends"] and n["upto"] < n["ends"][-1]:
                n["upto"] = n["ends"][-1]
            n["starts"].append(n["upto"])
            n["ends"].append(n["upto"] + g)

    def cpu_end(self, k, t, d):
        """When d us of CPU started at t on CPU k ends, its interruptions skipped."""
        n = self.noise.get(k)
        if n is None:
            return t + d
        self._noise_upto(n, t + d + 1.0)
        starts, ends = n["starts"], n["ends"]
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and ends[i] > t:
            t = ends[i]
        i += 1
        while True:
            self._noise_upto(n, t + d + 1.0)
            if i < len(starts) and starts[i] < t + d:
                d -= starts[i] - t
                t = ends[i]
                i += 1
            else:
                return t + d

    # ---- event queue --------------------------------------------------------
    def at(self, t, fn, *args):
        self.seq += 1
        heapq.heappush(self.ev, (t, self.seq, fn, args))

    def part(self, slot):
        return slot & (self.nparts - 1)  # server/store.h store_part_of_slot

    # ---- workload -----------------------------------------------------------
    def make_req(self, conn, t):
        r = Req(conn, t, conn.next_seq)
        conn.next_seq += 1
        c, rng, wl = self.c, self.rng, self.wl
        u = rng.random()
        txn = wl.get("txn")
        heavy = wl.get("heavy")
        if txn and u < txn[0]:
            n = txn[1]
            accts = set()
            while len(accts) < n:
                accts.add(self.txn_zipf.sample(rng))
            parts = sorted({self.part(self.acct_slots[a]) for a in accts})
            cost = c["exec_us"][txn[2]]
            r.cmds.append(Cmd(parts, cost, True, r, True))
        elif heavy and u < (txn[0] if txn else 0) + heavy[0]:
            if heavy[1] == "lua":  # EVAL over one key:<i> (bench/percore-bench/workload.c)
                k = self.zipf.sample(rng) if self.zipf else rng.randrange(KEYS)
                p = self.part(self.key_slots[k])
            else:
                p = self.part(self.heavy_slots[rng.randrange(HEAVY_KEYS)])
            r.cmds.append(Cmd([p], c["exec_us"][heavy[1]], False, r, True))
        else:
            k = self.zipf.sample(rng) if self.zipf else rng.randrange(KEYS)
            kind = "set" if rng.random() < SET_FRAC else "get"
            r.cmds.append(Cmd([self.part(self.key_slots[k])], c["exec_us"][kind], False, r, True))
        if self.exp_service:
            for cmd in r.cmds:
                cmd.cost = rng.expovariate(1.0 / cmd.cost)
        return r

    def pick_conn(self):
        import bisect
        i = bisect.bisect_left(self.conn_cum, self.rng.random() * self.conn_cum[-1])
        return self.conns[min(i, len(self.conns) - 1)]

    def rate_at(self, t):
        b = self.wl.get("burst")
        if not b:
            return self.rate
        factor, period, length = b
        mult = 1 + (factor - 1) * length / period
        base = self.rate / mult
        return base * factor if (t % (period * 1000.0)) < length * 1000.0 else base

    def arrival(self):
        """Open loop: the next Poisson arrival (piecewise rate for bursts, by thinning)."""
        if self.generated >= self.nreq:
            return
        b = self.wl.get("burst")
        peak = self.rate * (b[0] / (1 + (b[0] - 1) * b[2] / b[1])) if b else self.rate
        t = self.now
        while True:
            t += self.rng.expovariate(peak / 1e6)
            if not b or self.rng.random() < self.rate_at(t) / peak:
                break
        self.at(t, self.client_due, None)

    def client_due(self, conn):
        if conn is None:
            conn = self.pick_conn()
        self.generated += 1
        self.arrival()
        r = self.make_req(conn, self.now)
        conn.backlog.append(r)
        self.client_send(conn)

    def gen_cpu(self, conn, t):
        """The generator thread of conn spends client_us / 2 from t (or when free)."""
        g = conn.gen
        end = self.cpu_end(self.ncores + g, max(t, self.gen_free[g]), self.client_half)
        self.gen_free[g] = end
        return end

    def client_send(self, conn):
        while conn.backlog and conn.inflight < conn.depth:
            r = conn.backlog.pop(0)
            t = self.gen_cpu(conn, self.now)
            r.sent = t
            conn.inflight += 1
            self.at(t + self.c["net_us"] / 2, self.sock_arrive, conn, r)

    def client_arrive(self, conn, r):
        """A reply reaches the generator: read when its thread gets to it."""
        self.at(self.gen_cpu(conn, self.now), self.client_reply, conn, r)

    def client_reply(self, conn, r):
        conn.inflight -= 1
        r.done = self.now
        self.completed += 1
        if self.completed == self.warm_n:
            self.t_measure = self.now
        elif self.completed > self.warm_n:
            self.lat.append(self.now - r.intended)
            self.measured_done += 1
        if self.closed and self.generated < self.nreq:
            self.generated += 1
            conn.backlog.append(self.make_req(conn, self.now))
        self.client_send(conn)

    def reply(self, r, t):
        if self.cur is not None:  # written during the step: the CPU's interruptions count
            t = self.cpu_end(self.cur.core, self.now, t - self.now)
        self.at(t + self.c["net_us"] / 2, self.client_arrive, r.conn, r)

    # ---- server side: sockets, cores, wake-ups -------------------------------
    def sock_arrive(self, conn, r):
        conn.sock.append(r)
        if self.policy == "work-stealing" and conn.away:
            return
        w = self.workers[conn.home]
        if not conn.armed and not conn.busy:
            conn.armed = True
            w.ready.append(conn)
        self.poke(w)

    def poke(self, w, msg=False):
        """Something for w: a sleeping worker is woken (after wake_ns, paying
        wake_us). A spinning one does not look at its sockets: share-nothing's
        spin waits for a ring message only (server/worker.c, MSG_SPIN_US), a
        work-stealing searcher tries steals only (server/sched_work_stealing.c
        ws_poll); what came is seen when the spin ends."""
        if w.state == "sleep":
            w.state = "waking"
            self.stats["wakes"] += 1
            self.at(self.now + self.c["wake_ns"] / 1000.0, self.woken, w)
        elif w.state == "spin" and msg and self.policy == "share-nothing":
            self.end_spin(w)

    def woken(self, w):
        w.state = "runnable"
        w.busy_us += self.c["wake_us"]
        self.make_runnable(w, self.c["wake_us"])

    def make_runnable(self, w, first_cost=0.0):
        core = w.core
        if self.core_cur[core] is None:
            self.core_cur[core] = w
            self.core_slice_start[core] = self.now
            w.state = "run"
            self.at(self.cpu_end(core, self.now, first_cost), self.step, w)
        else:
            w.state = "runnable"
            self.core_runq[core].append((w, first_cost))

    def release_core(self, w):
        core = w.core
        self.core_cur[core] = None
        if self.core_runq[core]:
            nxt, cost = self.core_runq[core].pop(0)
            self.core_cur[core] = nxt
            self.core_slice_start[core] = self.now
            nxt.state = "run"
            self.at(self.cpu_end(core, self.now, cost + self.c["ctx_us"]), self.step, nxt)

    def busy(self, w, dur):
        """w computes for dur us, then takes its next step."""
        w.busy_us += dur
        self.at(self.cpu_end(w.core, self.now, dur), self.step, w)

    def send(self, frm, to, fn, *args):
        """A ring message from worker frm to worker to (server/worker.c
        xthread_send); to self: deferred work of this round."""
        dst = self.workers[to]
        if to == frm.id:
            dst.inbox.append((fn, args))
            return 0.0
        cost = self.c["ring_msg_ns"] / 1000.0
        if dst.state == "sleep":
            cost += self.c["async_send_ns"] / 1000.0  # the wake-up this round owes
        self.at(self.now + self.c["ring_rtt_ns"] / 2000.0, self.deliver, dst, fn, args)
        return cost

    def deliver(self, dst, fn, args):
        dst.inbox.append((fn, args))
        self.poke(dst, msg=True)

    # ---- a worker's loop ----------------------------------------------------
    def step(self, w):
        """w holds its core: the next piece of its loop, or block."""
        core = w.core
        if (self.core_runq[core] and self.now - self.core_slice_start[core] >= self.c["slice_us"]):
            self.core_runq[core].append((w, 0.0))
            w.state = "runnable"
            self.release_core(w)
            return
        self.cur = w  # reply() maps this step's times onto the CPU
        if w.inbox:
            fn, args = w.inbox.pop(0)
            self.busy(w, fn(w, *args))
            return
        if w.ready and not w.ws_again:
            conn = w.ready.pop(0)
            conn.armed = False
            w.served_client = True
            self.busy(w, self.readable(w, conn))
            return
        if self.policy == "work-stealing":
            d = self.ws_poll(w)
            if d == "spin":
                return
            if d is not None:
                self.busy(w, d)
                return
        elif self.policy == "share-nothing" and w.awaiting > 0 and not w.served_client:
            self.spin(w, MSG_SPIN_US)
            return
        w.served_client = False
        if w.ready or w.inbox:  # the loop's poll finds them at once: another round
            self.at(self.now, self.step, w)
            return
        self.sleep(w)

    def sleep(self, w):
        w.state = "sleep"
        self.release_core(w)

    def spin(self, w, us):
        w.state = "spin"
        w.spin_end = self.now + us
        w.busy_us += us
        self.at(w.spin_end, self.spin_timeout, w, w.spin_end)

    def spin_timeout(self, w, end):
        if w.state == "spin" and w.spin_end == end:
            w.state = "run"
            w.spin_end = None
            if w.searching:
                w.searching = False
                self.searching -= 1
            w.served_client = False
            if w.ws_ran:  # ws_poll returned 1: settle_round polls again
                w.ws_ran = False
                w.ws_again = True
                self.at(self.now, self.step, w)
            elif w.inbox or w.ready:  # came during the spin: the loop's next round
                self.at(self.now, self.step, w)
            else:
                self.sleep(w)

    def end_spin(self, w):
        w.busy_us -= (w.spin_end - self.now)
        w.spin_end = None
        w.state = "run"
        if w.searching:
            w.searching = False
            self.searching -= 1
        self.at(self.now, self.step, w)

    # ---- executing commands -------------------------------------------------
    def run_cmd(self, w, cmd, t, away=None):
        """Account one executed command. Its reply is written at t by this
        worker, or, run away from home (share-nothing's batch on the owner),
        collected in away for the home worker to write on completion."""
        r = cmd.req
        if self.trace:
            self.log.append(("exec", r.conn.id, r.seq, w.id, t))
        self.executed += 1
        if cmd.last:
            if away is not None:
                away.append(r)
            else:
                self.reply(r, t)

    def locked_exec(self, w, cmd, t):
        """Two-phase locking (server/partlock.c partlock_lock_all): ascending
        order, a waiter spins until the holder releases; returns the end time."""
        c = self.c
        for p in cmd.parts:
            t += c["lock_ns"] / 1000.0
            if self.lock_free_at[p] > t:
                self.stats["lock_waits"] += 1
                t = self.lock_free_at[p] + c["lock_contended_ns"] / 1000.0
        t += cmd.cost
        for p in cmd.parts:
            if self.trace:
                self.log.append(("lock", p, t - cmd.cost, t, w.id))
            self.lock_free_at[p] = t
        if len(cmd.parts) > 1:
            self.stats["multi"] += 1
        self.run_cmd(w, cmd, t)
        return t

    def read(self, conn):
        """Read what arrived: one read event (io_us) however many requests."""
        for r in conn.sock:
            conn.q.extend(r.cmds)
        conn.sock = []
        return self.c["io_us"]

    def readable(self, w, conn):
        if self.policy == "share-nothing":
            io = self.read(conn)
            return self.sn_place(w, conn, io)
        if self.policy == "shared-locks":
            t = self.now + self.read(conn)
            for cmd in conn.q:
                t = self.locked_exec(w, cmd, t)
                self.stats["local"] += 1
            conn.q = []
            return t - self.now
        # work-stealing: park the client whole on the home deque
        conn.away = True
        w.deque.append(conn)
        cost = self.c["deque_ns"] / 2000.0
        for v in self.workers:  # a searcher spinning on steal attempts finds it
            if v.state == "spin" and v.searching:
                self.end_spin(v)
                break
        if len(w.deque) > 1:
            cost += self.ws_wake_one(w)
        return cost

    # ---- share-nothing ------------------------------------------------------
    def part_free(self, p):
        return self.holder[p] is None and not self.waitq[p]

    def sn_place(self, w, conn, t=0.0):
        """run_client: local fast path inline; a batch for another owner (or a
        busy local partition) forwarded; a multi-partition task acquired.
        t: CPU this step has spent already; returns the step's total."""
        while conn.q and not conn.busy:
            cmd = conn.q[0]
            if cmd.multi:
                conn.q.pop(0)
                conn.busy = True
                self.stats["multi"] += 1
                task = {"conn": conn, "cmd": cmd, "home": w.id, "acq": 0}
                t += self.sn_multi_acquire(w, task, t)
                continue
            p = cmd.parts[0]
            o = self.owner[p]
            if o == w.id and self.part_free(p):
                conn.q.pop(0)
                t += cmd.cost
                self.stats["local"] += 1
                self.run_cmd(w, cmd, self.now + t)
                continue
            n = 1
            while (n < len(conn.q) and n < BATCH_MAX and not conn.q[n].multi
                   and self.owner[conn.q[n].parts[0]] == o):
                n += 1
            batch = {"conn": conn, "cmds": conn.q[:n], "cur": 0, "home": w.id, "away": []}
            del conn.q[:n]
            conn.busy = True
            if o == w.id:
                batch["away"] = None  # at home: replies written as they run
                t += self.sn_batch_run(w, batch, t)
            else:
                self.stats["forwarded"] += 1
                w.awaiting += 1
                t += self.c["forward_us"] / 4 + self.send(w, o, self.sn_batch_msg, batch)
        return t

    def sn_batch_msg(self, w, batch):
        return self.sn_batch_run(w, batch, self.c["forward_us"] / 4)

    def sn_batch_run(self, w, batch, t=0.0):
        """On the owner: the batch's commands in order; a busy partition parks
        the batch in its FIFO. Returns this step's CPU (t included)."""
        while batch["cur"] < len(batch["cmds"]):
            cmd = batch["cmds"][batch["cur"]]
            p = cmd.parts[0]
            if self.holder[p] is not batch and not self.part_free(p):
                self.waitq[p].append(("batch", batch))
                self.stats["part_waits"] += 1
                return t
            self.holder[p] = batch
            t += cmd.cost
            self.run_cmd(w, cmd, self.now + t, batch["away"])
            batch["cur"] += 1
            self.sn_release(w, p)
        if batch["home"] == w.id:
            return self.sn_complete(w, batch["conn"], t, batch["away"])
        t += self.c["forward_us"] / 4
        return t + self.send(w, batch["home"], self.sn_complete_msg, batch["conn"], batch["away"])

    def sn_release(self, w, p):
        """part_release: hand p to its first waiter, whose next step is deferred."""
        self.holder[p] = None
        if not self.waitq[p]:
            return
        kind, task = self.waitq[p].pop(0)
        self.holder[p] = task
        if kind == "batch":
            w.inbox.append((self.sn_batch_resume, (task,)))
        else:
            task["acq"] += 1
            if task["home"] == w.id:
                w.inbox.append((self.sn_multi_resume, (task,)))
            else:
                w.inbox.append((self.sn_lend_resume, (task,)))

    def sn_batch_resume(self, w, batch):
        return self.sn_batch_run(w, batch)

    def sn_complete_msg(self, w, conn, away):
        w.awaiting -= 1
        return self.sn_complete(w, conn, self.c["forward_us"] / 4, away)

    def sn_complete(self, w, conn, t=0.0, away=None):
        """task_complete at home: the away replies written, the client resumed."""
        for r in away or ():
            self.reply(r, self.now + t)
        conn.busy = False
        if conn.sock:
            t += self.read(conn)
        return self.sn_place(w, conn, t)

    def sn_multi_resume(self, w, task):
        return self.sn_multi_acquire(w, task)

    def sn_multi_acquire(self, w, task, t=0.0):
        parts = task["cmd"].parts
        while task["acq"] < len(parts):
            p = parts[task["acq"]]
            o = self.owner[p]
            if o == w.id:
                if not self.part_free(p) and self.holder[p] is not task:
                    self.waitq[p].append(("multi", task))
                    self.stats["part_waits"] += 1
                    return t
                self.holder[p] = task
                task["acq"] += 1
                continue
            end = task["acq"] + 1
            while end < len(parts) and self.owner[parts[end]] == o:
                end += 1
            task["req_end"] = end
            w.awaiting += 1
            self.stats["lend"] += 1
            return t + self.send(w, o, self.sn_lend_msg, task)
        return self.sn_multi_run(w, task, t)

    def sn_lend_msg(self, w, task):
        return self.sn_lend_acquire(w, task)

    def sn_lend_resume(self, w, task):
        return self.sn_lend_acquire(w, task)

    def sn_lend_acquire(self, w, task):
        parts = task["cmd"].parts
        while task["acq"] < task["req_end"]:
            p = parts[task["acq"]]
            if not self.part_free(p) and self.holder[p] is not task:
                self.waitq[p].append(("multi", task))
                self.stats["part_waits"] += 1
                return 0.0
            self.holder[p] = task
            task["acq"] += 1
        w.awaiting += 1  # the partitions' return
        return self.send(w, task["home"], self.sn_grant_msg, task)

    def sn_grant_msg(self, w, task):
        w.awaiting -= 1
        return self.sn_multi_acquire(w, task)

    def sn_multi_run(self, w, task, t=0.0):
        cmd = task["cmd"]
        t += cmd.cost
        self.run_cmd(w, cmd, self.now + t)
        parts = cmd.parts
        i = 0
        while i < len(parts):
            o = self.owner[parts[i]]
            if o == w.id:
                self.sn_release(w, parts[i])
                i += 1
                continue
            j = i
            while j < len(parts) and self.owner[parts[j]] == o:
                j += 1
            t += self.send(w, o, self.sn_return_msg, parts[i:j])
            i = j
        return self.sn_complete(w, task["conn"], t)

    def sn_return_msg(self, w, parts):
        w.awaiting -= 1
        for p in parts:
            self.sn_release(w, p)
        return 0.0

    # ---- work-stealing ------------------------------------------------------
    def ws_wake_one(self, w):
        if self.searching >= self.max_searching:
            return 0.0
        for i in range(1, self.nw):
            v = self.workers[(w.id + i) % self.nw]
            if v.state == "sleep":
                self.poke(v)
                return self.c["async_send_ns"] / 1000.0
        return 0.0

    def ws_serve(self, w, conn, t0=0.0):
        """client_serve: read, run under locks, write; then home. t0: CPU this
        step has spent before; returns the CPU from t0 on."""
        t = self.now + t0 + self.read(conn)
        for cmd in conn.q:
            t = self.locked_exec(w, cmd, t)
        conn.q = []
        if conn.home == w.id:
            self.stats["local"] += 1
            self.ws_come_home(conn)
            return t - self.now - t0
        self.stats["stolen"] += 1
        return t - self.now - t0 + self.send(w, conn.home, self.ws_home_msg, conn)

    def ws_home_msg(self, w, conn):
        self.ws_come_home(conn)
        return 0.0

    def ws_come_home(self, conn):
        conn.away = False
        if conn.sock and not conn.armed:
            conn.armed = True
            h = self.workers[conn.home]
            h.ready.append(conn)
            self.poke(h)

    def ws_poll(self, w):
        """server/sched_work_stealing.c ws_poll, called by server/worker.c
        settle_round while it returns 1: serve our deque, then (a search slot
        free) spin SPIN_US on steals; a poll that served polls again, so a round
        that served ends with two spins when nothing can be stolen."""
        w.ws_again = False
        if w.deque:
            w.ws_ran = True
            return self.c["deque_ns"] / 2000.0 + self.ws_serve(w, w.deque.pop(0))
        if self.nw < 2 or self.searching >= self.max_searching:
            w.ws_ran = False
            return None
        victims = [v for v in self.workers if v is not w and v.deque]
        if victims:
            w.ws_ran = True
            return self.ws_steal(w, self.rng.choice(victims))
        self.searching += 1
        w.searching = True
        self.spin(w, WS_SPIN_US)
        return "spin"

    def ws_steal(self, w, v):
        """steal_half into our deque, then ws_poll's take_oldest serves the
        first at once (the rest stay stealable)."""
        n = (len(v.deque) + 1) // 2
        got = v.deque[:n]
        del v.deque[:n]
        w.deque.extend(got)
        t = n * self.c["steal_ns"] / 1000.0
        return t + self.c["deque_ns"] / 2000.0 + self.ws_serve(w, w.deque.pop(0), t)

    # ---- running ------------------------------------------------------------
    def run(self, max_events=None):
        if self.closed:
            for conn in self.conns:
                for _ in range(conn.depth):
                    if self.generated < self.nreq:
                        self.generated += 1
                        conn.backlog.append(self.make_req(conn, 0.0))
                self.client_send(conn)
        else:
            self.arrival()
        n = 0
        while self.ev:
            t, _, fn, args = heapq.heappop(self.ev)
            self.now = t
            fn(*args)
            n += 1
            if max_events and n >= max_events:
                break
        return self.result()

    def result(self):
        lat = sorted(self.lat)

        def pct(q):
            if not lat:
                return float("nan")
            return lat[min(len(lat) - 1, int(q * len(lat)))]
        dur = (self.now - self.t_measure) if self.t_measure is not None else 0.0
        return {
            "throughput": self.measured_done / dur * 1e6 if dur > 0 else 0.0,
            "p50": pct(0.50), "p99": pct(0.99), "p999": pct(0.999),
            "completed": self.completed, "generated": self.generated,
            "executed": self.executed, "stats": dict(self.stats),
            "busy_us": [w.busy_us for w in self.workers], "sim_us": self.now,
        }


# ---------------------------------------------------------------------------
# What bench/run measures, as the model predicts it

P99_TARGET_US = 1000.0  # bench/run --p99-target-us default


def capacity(costs, policy, workers, wl, cores=None, nreq=8000, seed=1, **kw):
    """bench/run's capacity: closed loop, every connection's window full.
    kw: client_threads (bench/run --client-threads), noise (the machine's
    interruptions as calibrated; False for a dedicated host)."""
    return Sim(costs, policy, workers, wl, closed=True, cores=cores, nreq=nreq, seed=seed,
               **kw).run()


def sweep(costs, policy, workers, wl, levels, cores=None, nreq=6000, seed=1, cap=None, **kw):
    """Capacity, then open-loop runs at levels (percent of that capacity), as bench/run."""
    if cap is None:
        cap = capacity(costs, policy, workers, wl, cores=cores, nreq=nreq, seed=seed,
                       **kw)["throughput"]
    pts = []
    for pct in levels:
        r = Sim(costs, policy, workers, wl, rate=cap * pct / 100.0, cores=cores, nreq=nreq,
                seed=seed + pct, **kw).run()
        pts.append((cap * pct / 100.0, r["p99"], r["throughput"]))
    return cap, pts


def knee(points, target=P99_TARGET_US):
    """The offered load at which p99 crosses target: interpolated in log p99
    between the last level under it and the first over it. (None, why) when
    the first level is already over, (inf, why) when no level reaches it."""
    pts = sorted((o, p) for o, p, *_ in points if p == p)
    if not pts:
        return None, "no levels"
    if pts[0][1] > target:
        return None, "p99 over target at every level"
    for (o0, p0), (o1, p1) in zip(pts, pts[1:]):
        if p1 > target >= p0:
            f = (math.log(target) - math.log(max(p0, 1e-9))) / (math.log(p1) - math.log(max(p0, 1e-9)))
            return o0 + f * (o1 - o0), ""
    return float("inf"), "p99 under target at every level"

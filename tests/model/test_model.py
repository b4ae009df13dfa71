"""Fast checks of bench/model/percore_model.py (a few seconds):
python3 -m unittest discover -s tests/model -v"""
import collections
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench", "model"))
import percore_model as pm  # noqa: E402

# Round numbers, not a machine's: the checks are about the simulator's logic.
COSTS = {"exec_us": {"get": 4.0, "set": 4.0, "lrange": 60.0, "big": 30.0, "lua": 500.0,
                     "multi": 12.0, "evaltxn": 20.0},
         "io_us": 1.0, "wake_us": 5.0, "wake_ns": 10000.0, "ring_msg_ns": 3.0,
         "ring_rtt_ns": 250.0, "async_send_ns": 3000.0, "lock_ns": 4.0,
         "lock_contended_ns": 20.0, "deque_ns": 4.0, "steal_ns": 150.0, "forward_us": 2.0,
         "ctx_us": 3.0, "slice_us": 1500.0, "net_us": 60.0}


def idle_costs():
    """Only the service time: an M/M/1 queue when service is exponential."""
    c = dict(COSTS)
    c["exec_us"] = {k: 10.0 for k in COSTS["exec_us"]}
    for k in ("io_us", "wake_us", "wake_ns", "net_us", "ctx_us"):
        c[k] = 0.0
    return c


class TestModel(unittest.TestCase):
    def test_mm1_mean_response(self):
        # 1 worker, Poisson arrivals, exponential service of mean 10 us at rho = 0.6:
        # mean time in system 1/(mu - lambda) = 25 us. A work-conserving server's
        # queue is the same whichever connection it serves first.
        lam, mu = 0.06, 0.1  # per us
        s = pm.Sim(idle_costs(), "shared-locks", 1, "uniform", rate=lam * 1e6, nreq=60000,
                   exp_service=True, connections=500)
        s.run()
        mean = sum(s.lat) / len(s.lat)
        self.assertAlmostEqual(mean, 1 / (mu - lam), delta=0.1 / (mu - lam))

    def test_conservation_and_once(self):
        # every request answered exactly once, every command run exactly once,
        # under every policy, with forwarding, lending, stealing and locks.
        for pol in pm.POLICIES:
            for wl in ("uniform", "elephants", "txn10", "heavy", "burst"):
                s = pm.Sim(COSTS, pol, 8, wl, rate=300000, nreq=3000, trace=True)
                s.run()
                self.assertEqual(s.completed, s.generated, (pol, wl))
                runs = collections.Counter((e[1], e[2]) for e in s.log if e[0] == "exec")
                self.assertEqual(len(runs), s.generated, (pol, wl))
                self.assertEqual(max(runs.values()), 1, (pol, wl))
                self.assertEqual(s.executed, s.generated)

    def test_per_connection_order(self):
        # elephants pipeline 16 deep: commands of one connection run in order sent
        for pol in pm.POLICIES:
            s = pm.Sim(COSTS, pol, 8, "elephants", rate=400000, nreq=4000, trace=True)
            s.run()
            last = {}
            for e in s.log:
                if e[0] == "exec":
                    self.assertGreater(e[2], last.get(e[1], -1), pol)
                    last[e[1]] = e[2]

    def test_locks_exclusive(self):
        # shared-locks and work-stealing: no two holds of one partition overlap
        for pol in ("shared-locks", "work-stealing"):
            s = pm.Sim(COSTS, pol, 16, "txn10", rate=600000, nreq=4000, trace=True)
            s.run()
            holds = collections.defaultdict(list)
            for e in s.log:
                if e[0] == "lock":
                    holds[e[1]].append((e[2], e[3]))
            self.assertTrue(holds)
            for p, iv in holds.items():
                iv.sort()
                for (a0, a1), (b0, b1) in zip(iv, iv[1:]):
                    self.assertLessEqual(a1, b0 + 1e-9, (pol, p))

    def test_stealing_happens(self):
        # work-stealing with more workers than busy homes: thieves take clients
        s = pm.Sim(COSTS, "work-stealing", 8, "elephants", rate=300000, nreq=4000)
        s.run()
        self.assertGreater(s.stats["stolen"], 0)
        s = pm.Sim(COSTS, "share-nothing", 8, "txn10", rate=300000, nreq=4000)
        s.run()
        self.assertGreater(s.stats["lend"], 0)
        self.assertGreater(s.stats["forwarded"], 0)

    def test_interruptions_skipped(self):
        # CPU time runs around the machine's interruptions: d us of work that
        # meets a gap ends d us plus the gap later; none without noise
        c = dict(COSTS, stalls={"server": {"count": 1000, "window_s": 1.0, "gaps_us": [100.0]}})
        s = pm.Sim(c, "shared-locks", 1, "uniform", rate=1000, nreq=10)
        n = s.noise[0]
        s._noise_upto(n, 50000.0)
        i = next(i for i in range(1, 40) if n["starts"][i] - n["ends"][i - 1] > 20
                 and n["starts"][i + 1] - n["ends"][i] > 20)  # a gap alone
        t0 = n["starts"][i] - 5.0
        self.assertAlmostEqual(s.cpu_end(0, t0, 10.0), t0 + 110.0)
        self.assertAlmostEqual(s.cpu_end(0, n["starts"][i] + 1.0, 10.0), n["ends"][i] + 10.0)
        self.assertEqual(pm.Sim(c, "shared-locks", 1, "uniform", rate=1000, nreq=10,
                                noise=False).cpu_end(0, 5.0, 10.0), 15.0)
        # the same CPU share taken away costs a closed-loop server about that share
        c = dict(idle_costs(), stalls={"server": {"count": 2000, "window_s": 1.0,
                                                  "gaps_us": [100.0]}})
        quiet = pm.capacity(idle_costs(), "shared-locks", 1, "uniform", nreq=8000)["throughput"]
        noisy = pm.capacity(c, "shared-locks", 1, "uniform", nreq=8000)["throughput"]
        self.assertAlmostEqual(noisy / quiet, 0.8, delta=0.05)

    def test_generator_cpu(self):
        # a generator thread spending 20 us a request caps the closed loop at
        # 50000 req/s whatever the server; two threads lift the cap
        c = dict(idle_costs(), client_us=20.0)
        c["exec_us"] = {k: 1.0 for k in COSTS["exec_us"]}
        one = pm.capacity(c, "shared-locks", 1, "uniform", nreq=8000)["throughput"]
        self.assertAlmostEqual(one, 50000, delta=2500)
        two = pm.capacity(c, "shared-locks", 1, "uniform", nreq=8000, client_threads=2)
        self.assertGreater(two["throughput"], 1.8 * one)

    def test_spin_ignores_sockets(self):
        # a work-stealing searcher spins SPIN_US on steals only: with 2 workers
        # on one core, a request arriving during a spin waits for its end
        c = dict(idle_costs(), client_us=0.0)
        s = pm.Sim(c, "work-stealing", 2, "uniform", rate=1000, nreq=400, cores=1)
        s.run()
        self.assertGreater(min(s.lat), 0.0)
        self.assertGreater(max(s.lat), 10.0 + 0.5 * pm.WS_SPIN_US)

    def test_knee(self):
        self.assertEqual(pm.knee([(1, 100), (2, 500)])[0], float("inf"))
        self.assertIsNone(pm.knee([(1, 2000), (2, 5000)])[0])
        k, _ = pm.knee([(100, 100), (200, 10000)])
        self.assertAlmostEqual(k, 150.0)


if __name__ == "__main__":
    unittest.main()

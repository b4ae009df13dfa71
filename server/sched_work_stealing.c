/* work-stealing: a readable client is parked by its home worker (watchers
 * off) and pushed on that worker's Chase–Lev deque as one unit — its whole
 * pending batch, never a single command out of it. Each worker serves its own
 * deque oldest-first before its loop blocks (take_oldest); an idle worker steals half of a
 * random victim's deque, oldest-first, and serves those clients itself
 * (read, run under partition locks, write), then hands each back to its home
 * worker by message to re-arm its watchers. The number of workers searching
 * at once is bounded; a searcher spins briefly, then sleeps in its loop until
 * a busy worker wakes it. */
#include <stdlib.h>

#include "deque.h"
#include "partlock.h"
#include "sched_internal.h"
#include "store.h"

#define DEQUE_SIZE 4096
#define SPIN_US 20 /* an idle worker looks for work this long before sleeping */

static deque_t *deques;
static _Atomic int *sleeping; /* [worker]: blocked in its loop, may be woken */
static _Atomic int searching;
static int max_searching;
static _Thread_local unsigned rng_state;

static unsigned rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void come_home_received(xmsg_t *m)
{
    client_t *c = (client_t *)((char *)m - offsetof(client_t, home_msg));
    stat_add(&sched_stats(worker_self())->tasks_stolen_given, 1);
    client_come_home(c);
}

static void serve(client_t *c)
{
    int self = worker_self();
    client_serve(c); /* a client to close is closed when it comes home */
    if (c->home == self) {
        stat_add(&sched_stats(self)->tasks_local, 1);
        client_come_home(c);
        return;
    }
    stat_add(&sched_stats(self)->tasks_stolen_taken, 1);
    c->home_msg.fn = come_home_received;
    xthread_send(c->home, &c->home_msg);
}

/* Wake one sleeping worker to come and steal. */
static void wake_one(int self)
{
    if (atomic_load_explicit(&searching, memory_order_relaxed) >= max_searching)
        return;
    for (int i = 1; i < sched_nworkers; i++) {
        int w = (self + i) % sched_nworkers;
        int one = 1;
        if (atomic_load_explicit(&sleeping[w], memory_order_relaxed) &&
            atomic_compare_exchange_strong(&sleeping[w], &one, 0)) {
            worker_wake(w);
            return;
        }
    }
}

/* The owner serves oldest-first too, by stealing from its own deque: clients
 * are served in the order their bytes arrived, as Redis serves them (two
 * BLPOPs block in the order sent), and the oldest waits least. Chase–Lev's
 * newest-first take suits forked subtasks, not independent clients. */
static client_t *take_oldest(int self)
{
    client_t *c;
    while (deque_size(&deques[self]))
        if ((c = deque_steal(&deques[self])))
            return c;
    return NULL;
}

static int ws_client_readable(client_t *c)
{
    int self = worker_self();
    client_leave_home(c);
    if (deque_push(&deques[self], c) != 0) {
        serve(c); /* a full deque: run it ourselves, never drop */
        return 1;
    }
    if (deque_size(&deques[self]) > 1)
        wake_one(self);
    return 1;
}

/* Steal half of one random victim's deque into ours. */
static int steal_half(int self)
{
    int victim = (int)(rng() % (unsigned)(sched_nworkers - 1));
    if (victim >= self)
        victim++;
    size_t n = deque_size(&deques[victim]);
    if (!n)
        return 0;
    size_t want = (n + 1) / 2, got = 0;
    while (got < want) {
        client_t *c = deque_steal(&deques[victim]);
        if (!c)
            break;
        if (deque_push(&deques[self], c) != 0) {
            serve(c);
        }
        got++;
    }
    return got > 0;
}

static int ws_poll(int self)
{
    int ran = 0;
    client_t *c;
    atomic_store_explicit(&sleeping[self], 0, memory_order_relaxed);
    for (;;) {
        while ((c = take_oldest(self))) {
            serve(c);
            ran = 1;
        }
        if (sched_nworkers < 2)
            break;
        if (atomic_fetch_add(&searching, 1) >= max_searching) {
            atomic_fetch_sub(&searching, 1);
            break;
        }
        int stole = 0;
        uint64_t until = mono_us() + SPIN_US;
        do {
            stole = steal_half(self);
        } while (!stole && mono_us() < until);
        atomic_fetch_sub(&searching, 1);
        if (!stole)
            break;
    }
    /* About to block: busy workers may wake us to steal. */
    atomic_store_explicit(&sleeping[self], 1, memory_order_relaxed);
    return ran;
}

/* In busy mode (our loop is a busy script's): the clients parked in our deque
 * before the script turned busy get their BUSY replies now rather than wait
 * for it, or for a thief that may be asleep. */
static void ws_busy_poll(int self)
{
    client_t *c;
    while ((c = take_oldest(self)))
        serve(c);
}

static void ws_init(void)
{
    partlock_setup(sched_nparts, sched_part_busy);
    deques = calloc((size_t)sched_nworkers, sizeof *deques);
    sleeping = calloc((size_t)sched_nworkers, sizeof *sleeping);
    if (!deques || !sleeping)
        abort();
    for (int w = 0; w < sched_nworkers; w++)
        if (deque_init(&deques[w], DEQUE_SIZE) != 0)
            abort();
    max_searching = sched_nworkers / 2 > 0 ? sched_nworkers / 2 : 1;
}

static void ws_teardown(void)
{
    for (int w = 0; w < sched_nworkers; w++)
        deque_destroy(&deques[w]);
    free(deques);
    free((void *)sleeping);
    deques = NULL;
    sleeping = NULL;
    partlock_teardown();
}

const sched_policy_ops_t sched_work_stealing = {
    .name = "work-stealing",
    .init = ws_init,
    .teardown = ws_teardown,
    SCHED_LOCKED_OPS,
    .client_readable = ws_client_readable,
    .poll = ws_poll,
    .busy_poll = ws_busy_poll,
};

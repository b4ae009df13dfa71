/* percore-model-costs: times percore's own scheduling primitives (server/ring.h,
 * server/partlock.c, server/deque.c) and a libev ev_async wake-up, for
 * bench/model/calibrate. Prints one "name value_ns" line per cost.
 *
 *   ring_msg_ns        ring_push + ring_pop of one message, one thread (the CPU
 *                      a message costs its sender and receiver together)
 *   ring_rtt_ns        a ping-pong over two rings between two threads on two
 *                      CPUs, per round trip (a lend round trip's transfer time
 *                      without wake-ups; the threads spin)
 *   lock_ns            partlock_lock + partlock_unlock, uncontended
 *   lock_contended_ns  the same with two threads on two CPUs hammering one lock,
 *                      per acquisition (the cache-line transfer a waiter pays)
 *   deque_ns           deque_push + deque_steal of one item, one thread
 *   steal_ns           deque_steal by a second thread while the owner pushes
 *   async_send_ns      ev_async_send to a loop that sleeps in epoll (the
 *                      eventfd write the sender pays)
 *   wake_ns            from ev_async_send to the sleeping loop's callback
 *                      running, another CPU, per wake-up (latency)
 * Usage: percore-model-costs [CPU_A CPU_B [wake]]  (default 0 1; wake: only the
 * ev_async wake-up, which may then share one CPU) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ev.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deque.h"
#include "partlock.h"
#include "ring.h"

static int cpu_a, cpu_b;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static int never_busy(int part) { (void)part; return 0; }

/* The best of a few repetitions: the machine is shared, the minimum is the cost. */
#define REPS 5

static double ring_msg(void)
{
    ring_t r;
    ring_init(&r, 1024);
    double best = 1e18;
    static int x;
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < 1000000; i++) {
            ring_push(&r, &x);
            if (!ring_pop(&r))
                abort();
        }
        double ns = (double)(now_ns() - t0) / 1e6;
        if (ns < best)
            best = ns;
    }
    ring_destroy(&r);
    return best;
}

static ring_t ping, pong;
#define RTT_N 200000
static void *pong_thread(void *arg)
{
    (void)arg;
    pin(cpu_b);
    for (int i = 0; i < RTT_N; i++) {
        void *m;
        while (!(m = ring_pop(&ping)))
            ;
        while (ring_push(&pong, m))
            ;
    }
    return NULL;
}

static double ring_rtt(void)
{
    static int x;
    ring_init(&ping, 64);
    ring_init(&pong, 64);
    pthread_t th;
    pthread_create(&th, NULL, pong_thread, NULL);
    pin(cpu_a);
    uint64_t t0 = now_ns();
    for (int i = 0; i < RTT_N; i++) {
        ring_push(&ping, &x);
        while (!ring_pop(&pong))
            ;
    }
    double ns = (double)(now_ns() - t0) / RTT_N;
    pthread_join(th, NULL);
    ring_destroy(&ping);
    ring_destroy(&pong);
    return ns;
}

static double lock_once(void)
{
    partlock_stats_t s = {0};
    double best = 1e18;
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < 1000000; i++) {
            partlock_lock(3, &s);
            partlock_unlock(3);
        }
        double ns = (double)(now_ns() - t0) / 1e6;
        if (ns < best)
            best = ns;
    }
    return best;
}

#define CONT_N 500000
static atomic_int go;
static void *lock_hammer(void *arg)
{
    partlock_stats_t s = {0};
    pin(*(int *)arg);
    while (!atomic_load(&go))
        ;
    for (int i = 0; i < CONT_N; i++) {
        partlock_lock(5, &s);
        partlock_unlock(5);
    }
    return NULL;
}

static double lock_contended(void)
{
    pthread_t a, b;
    atomic_store(&go, 0);
    pthread_create(&a, NULL, lock_hammer, &cpu_a);
    pthread_create(&b, NULL, lock_hammer, &cpu_b);
    uint64_t t0 = now_ns();
    atomic_store(&go, 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return (double)(now_ns() - t0) / (2.0 * CONT_N);
}

static double deque_once(void)
{
    deque_t d;
    deque_init(&d, 4096);
    static int x;
    double best = 1e18;
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < 1000000; i++) {
            deque_push(&d, &x);
            if (!deque_steal(&d))
                abort();
        }
        double ns = (double)(now_ns() - t0) / 1e6;
        if (ns < best)
            best = ns;
    }
    deque_destroy(&d);
    return best;
}

static deque_t sd;
#define STEAL_N 200000
static atomic_long stolen;
static void *thief(void *arg)
{
    (void)arg;
    pin(cpu_b);
    long got = 0;
    uint64_t spent = 0;
    while (got < STEAL_N) {
        uint64_t t0 = now_ns();
        void *c = deque_steal(&sd);
        if (c) {
            spent += now_ns() - t0;
            got++;
        }
    }
    atomic_store(&stolen, (long)spent);
    return NULL;
}

static double steal_cross(void)
{
    static int x;
    deque_init(&sd, 4096);
    pthread_t th;
    pthread_create(&th, NULL, thief, NULL);
    pin(cpu_a);
    for (int i = 0; i < STEAL_N;)
        if (deque_push(&sd, &x) == 0)
            i++;
    pthread_join(th, NULL);
    deque_destroy(&sd);
    return (double)atomic_load(&stolen) / STEAL_N;
}

/* ev_async: a loop on cpu_b sleeping in epoll; cpu_a sends, waits for the ack. */
#define WAKE_N 20000
static struct ev_loop *sleeper;
static ev_async wake_w;
static atomic_int acked;
static uint64_t sent_at, wake_total;
static void on_wake(struct ev_loop *l, ev_async *w, int revents)
{
    (void)w, (void)revents;
    wake_total += now_ns() - sent_at;
    if (atomic_fetch_add(&acked, 1) + 1 >= WAKE_N)
        ev_break(l, EVBREAK_ALL);
}
static void *sleeper_thread(void *arg)
{
    (void)arg;
    pin(cpu_b);
    ev_run(sleeper, 0);
    return NULL;
}

static void wake(double *send_ns, double *lat_ns)
{
    sleeper = ev_loop_new(EVFLAG_AUTO);
    ev_async_init(&wake_w, on_wake);
    ev_async_start(sleeper, &wake_w);
    pthread_t th;
    pthread_create(&th, NULL, sleeper_thread, NULL);
    pin(cpu_a);
    struct timespec nap = {0, 200000}; /* let it fall asleep */
    nanosleep(&nap, NULL);
    uint64_t send_total = 0;
    for (int i = 0; i < WAKE_N; i++) {
        sent_at = now_ns();
        ev_async_send(sleeper, &wake_w);
        send_total += now_ns() - sent_at;
        while (atomic_load(&acked) <= i)
            sched_yield(); /* on one CPU: let the sleeper run */
        nanosleep(&(struct timespec){0, 20000}, NULL);
    }
    pthread_join(th, NULL);
    ev_loop_destroy(sleeper);
    *send_ns = (double)send_total / WAKE_N;
    *lat_ns = (double)wake_total / WAKE_N;
}

int main(int argc, char **argv)
{
    cpu_a = argc > 2 ? atoi(argv[1]) : 0;
    cpu_b = argc > 2 ? atoi(argv[2]) : 1;
    if (partlock_setup(16, never_busy) != 0)
        return 1;
    if (argc > 3) { /* "wake": only the wake-up, e.g. both threads on one CPU */
        double s, l;
        wake(&s, &l);
        printf("async_send_ns %.1f\nwake_ns %.1f\n", s, l);
        return 0;
    }
    printf("ring_msg_ns %.1f\n", ring_msg());
    printf("ring_rtt_ns %.1f\n", ring_rtt());
    printf("lock_ns %.1f\n", lock_once());
    printf("lock_contended_ns %.1f\n", lock_contended());
    printf("deque_ns %.1f\n", deque_once());
    printf("steal_ns %.1f\n", steal_cross());
    double s, l;
    wake(&s, &l);
    printf("async_send_ns %.1f\n", s);
    printf("wake_ns %.1f\n", l);
    partlock_teardown();
    return 0;
}

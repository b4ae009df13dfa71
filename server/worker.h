/* worker — the event loop as a library: the per-core threads, one pinned
 * libev loop each, its own SO_REUSEPORT listeners, cross-worker messages over
 * rings with ev_async wake-ups, per-worker timers. It calls nothing of the
 * layers above it: what it hands them (accepted sockets, client socket
 * events, cron ticks, the moment before blocking, start and stop) goes
 * through the worker_hooks_t that main.c fills in. The only module that
 * includes ev.h (worker.c, worker_net.c for the listeners, and their
 * worker_internal.h). */
#ifndef PERCORE_WORKER_H
#define PERCORE_WORKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util.h"


/* A message between workers (or deferred on one worker): fn runs on the
 * receiving worker's thread. Messages are embedded in the structs they carry,
 * so sending never allocates; `next` links them while a ring is full. */
typedef struct xmsg {
    struct xmsg *next;
    void (*fn)(struct xmsg *m);
    /* Set when the sender malloc'd the message (fn frees it): worker_teardown
     * frees such messages still queued at exit; embedded ones belong to clients. */
    unsigned char heap;
} xmsg_t;

/* The event loop's counters, per worker (one writer: its thread; see
 * stat_add in util.h), summed only when INFO asks. The other layers keep theirs next to
 * them: SCHED_STATS (scheduler.h), CLIENT_STATS (client.h), COMMAND_STATS
 * (command.h). */
#define WORKER_STATS(X)                                                                        \
    X(msgs_sent, "messages sent to other workers")                                            \
    X(msgs_received, "messages received from other workers")                                  \
    X(ring_full, "sends that found the ring full and queued locally")

typedef struct worker_stats {
#define X(name, desc) _Atomic uint64_t name;
    WORKER_STATS(X)
#undef X
} worker_stats_t;

/* What the loop calls up into; all must be set. Every hook runs on the
 * worker's own thread, except `stopping` (see there). */
typedef struct worker_hooks {
    /* A connection accepted by worker's listener (non-blocking, TCP_NODELAY):
     * the hook owns fd from now on. */
    void (*accept)(int worker, int fd, struct sockaddr *sa, socklen_t sl);
    /* The socket of a worker_io_new(fd, client) is readable and/or writable. */
    void (*client_event)(void *client, int readable, int writable);
    /* Periodic work, cron_hz() times a second (asked again after each run). */
    void (*cron)(int worker, uint64_t now_ms);
    int (*cron_hz)(void);
    /* Before the loop blocks, once deferred work is done: 1 when it ran
     * anything (the loop then runs what that deferred and asks again). */
    int (*poll)(int worker);
    /* As the worker's loop starts, and once it has ended (at shutdown: close
     * the worker's connections). */
    void (*start)(int worker);
    void (*stop)(int worker);
    /* SIGHUP arrived: reload the configuration (worker 0's thread, while the
     * other workers run). */
    void (*reload)(void);
    /* Shutdown has begun: called once per worker_setup, by the first
     * worker_request_shutdown, on whatever thread asked (a worker, worker 0
     * for SIGTERM/SIGINT, or a thread outside the workers), before the loops
     * are woken to stop. */
    void (*stopping)(void);
} worker_hooks_t;

/* Create n workers (threads are started by worker_run); hooks is copied. */
int worker_setup(int n, size_t ring_size, int pin, const worker_hooks_t *hooks);
void worker_teardown(void);
/* Open every worker's listeners on each address of `bind` (space separated,
 * a leading '-' marks an address that may be unavailable). */
int worker_listen(const char *bind, int port, int backlog, char *err, size_t errlen);
/* Descriptors n workers listening on each address of `bind` hold besides
 * their clients' (fdlimit's reserve). */
int worker_fd_reserve(int n, const char *bind);
/* Run all loops; returns after a shutdown request once every thread ended.
 * Worker 0 takes SIGTERM and SIGINT (shutdown) and SIGHUP (the reload hook),
 * from worker_setup on: one that arrives before worker_run waits for it. */
int worker_run(void);
/* From any thread or a signal handler's deferred context; the first call
 * runs the stopping hook. */
void worker_request_shutdown(void);
int worker_shutting_down(void);

int worker_self(void); /* the calling thread's worker id, -1 outside workers */
int worker_count(void);
worker_stats_t *worker_stats(int id);
void worker_reset_stats(void);
/* Messages waiting in the rings into worker id (approximate). */
size_t worker_inbound_depth(int id);

/* Send m to worker `to` (may be the caller: then it is deferred). Never drops:
 * a full ring queues m locally until the ring has room. */
void xthread_send(int to, xmsg_t *m);
/* This worker now awaits one more (+1) or one fewer (-1) answer from a peer: while
 * it awaits any, it polls its rings a moment before blocking (MSG_SPIN_US). */
void worker_await(int delta);
/* Wake worker id's loop (any thread). */
void worker_wake(int id);
/* Run m on this worker after the current event is handled. */
void worker_defer(xmsg_t *m);

/* On a worker whose loop is blocked by a busy script (called about once a ms
 * from the script's hook): run one non-blocking round of the loop in which
 * only client I/O is served (the client_event hook), then also(worker)
 * when not NULL, still in busy mode. Messages, deferred work, stealing and
 * cron wait for the script to end. */
void worker_serve_busy(void (*also)(int worker));
/* 1 inside worker_serve_busy on the calling worker. */
int worker_busy_mode(void);

/* Client sockets: the loop watches fd and calls the client_event hook with
 * `client` when it is ready as asked by worker_io_want. */
typedef struct worker_io worker_io_t;
worker_io_t *worker_io_new(int fd, void *client);
void worker_io_want(worker_io_t *io, int read, int write);
void worker_io_free(worker_io_t *io);

/* One-shot timers on the calling worker's loop (its thread only): fn(arg)
 * runs on that worker ms after worker_timer_start (which re-arms a running
 * timer). Blocking commands' timeouts (client_block.c). */
typedef struct worker_timer worker_timer_t;
worker_timer_t *worker_timer_new(void (*fn)(void *arg), void *arg);
void worker_timer_start(worker_timer_t *t, uint64_t ms);
void worker_timer_stop(worker_timer_t *t);
void worker_timer_free(worker_timer_t *t);

/* Cached clock of the current loop iteration (ms since the epoch). */
uint64_t worker_now_ms(void);

#endif

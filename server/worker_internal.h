/* worker_internal — what worker.c (threads, loops, messages, client I/O
 * hooks) shares with worker_net.c (listeners and accept). The worker module's
 * own header: nothing else includes it (nor ev.h). */
#ifndef PERCORE_WORKER_INTERNAL_H
#define PERCORE_WORKER_INTERNAL_H

#include <ev.h>
#include <pthread.h>
#include <stdint.h>

#include "ring.h"
#include "worker.h"

#define MAX_LISTENERS 16

struct worker_io {
    ev_io r, w;
    void *client;
};

typedef struct worker {
    int id;
    pthread_t thread;
    struct ev_loop *loop;
    ev_async wake;
    ev_prepare prepare;
    ev_timer cron;
    ev_signal sigterm, sigint;
    ev_io listen_io[MAX_LISTENERS];
    int nlisten;
    ev_timer accept_pause; /* listeners stopped after accept() ran out of fds */
    ring_t *in;           /* in[from]: the ring from worker `from` to this one */
    xmsg_t **overflow;    /* overflow[to]: messages for a full ring, oldest first */
    xmsg_t **overflow_tail;
    char *wake_pending;   /* wake_pending[to]: send an ev_async before blocking */
    xmsg_t *defer_head, *defer_tail;
    uint64_t now_ms;
    int busy_mode;        /* inside worker_serve_busy: only client I/O runs */
    int awaiting;         /* answers from peers this worker waits for (worker_await) */
    int round_clients;    /* client events served since the last prepare */
    worker_stats_t stats;
} worker_t;

/* The hooks given to worker_setup. */
extern worker_hooks_t worker_hook;

/* Worker id's struct (0 <= id < worker_count()). */
worker_t *worker_get(int id);
/* Run what worker_defer queued on w (w's thread). */
void worker_run_deferred(worker_t *w);

/* worker_net.c: prepare w's accept-pause timer (worker_setup); start w's
 * listeners (w's thread, as its loop starts); close them (teardown). */
void worker_net_init(worker_t *w);
void worker_net_start(worker_t *w);
void worker_net_close(worker_t *w);

#endif

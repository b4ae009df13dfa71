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
    int events;   /* EV_READ/EV_WRITE seen this round, not yet dispatched */
    int ready_at; /* index in the worker's ready list while events != 0 */
};

typedef struct worker {
    int id;
    pthread_t thread;
    struct ev_loop *loop;
    ev_async wake;
    ev_prepare prepare;
    ev_timer cron;
    ev_signal sigterm, sigint, sighup; /* worker 0's */
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
    worker_io_t **ready;  /* clients with events this round, in libev's call order */
    int nready, ready_cap;
    worker_stats_t stats;
} worker_t;

/* The hooks given to worker_setup (defined in worker_net.c, the lower of
 * the two files: worker.c calls into it, never the other way). */
extern worker_hooks_t worker_hook;

/* Run what worker_defer queued on w (w's thread). */
static inline void worker_run_deferred(worker_t *w)
{
    while (w->defer_head) {
        xmsg_t *m = w->defer_head;
        w->defer_head = m->next;
        if (!w->defer_head)
            w->defer_tail = NULL;
        m->fn(m);
    }
}

/* Open one listener of w on addr (worker_listen, for each worker): 0, -1
 * when addr cannot be used (err says why), -2 on a fatal error. */
int worker_net_listen(worker_t *w, const char *addr, int port, int backlog, char *err,
                      size_t errlen);

/* worker_net.c: prepare w's accept-pause timer (worker_setup); start w's
 * listeners (w's thread, as its loop starts); close them (teardown). */
void worker_net_init(worker_t *w);
void worker_net_start(worker_t *w);
void worker_net_close(worker_t *w);

#endif

/* client_evict — taking back what clients hold: the cron's idle timeout,
 * output limits and query-buffer slack (client_cron), and maxmemory-clients:
 * closing the biggest clients while all clients' buffers together pass the
 * limit (client.c charges them, client_mem_sync, and asks for a round here
 * when one grows past it). */
#include <stdatomic.h>
#include <stdlib.h>

#include "client.h"
#include "client_internal.h"
#include "config.h"

/* A worker whose client grew past the limit evicts right after the current
 * event (its evict_msgs[w], queued once), not only at the next cron. Each
 * entry is its worker's alone. */
typedef struct evict_msg {
    xmsg_t m;
    int queued;
} evict_msg_t;
static evict_msg_t *evict_msgs;

static void evict_msg_run(xmsg_t *m)
{
    ((evict_msg_t *)m)->queued = 0;
    client_evict(worker_self());
}

void client_evict_setup(int nworkers)
{
    evict_msgs = xcalloc((size_t)nworkers, sizeof *evict_msgs);
    for (int w = 0; w < nworkers; w++)
        evict_msgs[w].m.fn = evict_msg_run;
}

void client_evict_teardown(void)
{
    free(evict_msgs);
    evict_msgs = NULL;
}

void client_evict_soon(int worker)
{
    if (!evict_msgs[worker].queued) {
        evict_msgs[worker].queued = 1;
        worker_defer(&evict_msgs[worker].m);
    }
}

/* maxmemory-clients: while all clients' buffers pass the limit, close the
 * biggest client of all (as Redis evicts its biggest clients first). Each
 * worker closes its own: its biggest when no other worker's is bigger (the
 * registry says), else it leaves that to the bigger one's worker, whose next
 * round (its own growth, or cron) closes it. At most CLIENT_EVICT_MAX a round. */
#define CLIENT_EVICT_MAX 64
static uint64_t evictable_mem(client_t *c)
{
    return atomic_load_explicit(&c->no_evict, memory_order_relaxed)
               ? 0
               : atomic_load_explicit(&c->mem_charged, memory_order_relaxed);
}

void client_evict(int worker)
{
    uint64_t lim = config_get_mem_or_pct(CFG_MAXMEMORY_CLIENTS), total = client_memory();
    if (worker == 0) /* after a CONFIG SET of the limit, without waiting for a client to grow */
        mem_set_not_counted(lim && total > lim ? total - lim : 0);
    for (int n = 0; lim && client_memory() > lim && n < CLIENT_EVICT_MAX; n++) {
        client_t *big = NULL;
        uint64_t mine = 0, most = 0;
        for (client_t *c = client_worker_first(worker); c; c = c->next) {
            uint64_t m = evictable_mem(c);
            if (!c->away && !(c->flags & (CLIENT_IN_FLIGHT | CLIENT_CLOSE_ASAP)) && m > mine) {
                big = c;
                mine = m;
            }
        }
        if (!big)
            return;
        client_registry_lock();
        for (client_t *c = client_registry_first_locked(); c; c = c->rnext)
            if (c->home != worker && evictable_mem(c) > most)
                most = evictable_mem(c);
        client_registry_unlock();
        if (most > mine)
            return;
        stat_add(&client_stats(worker)->evicted_clients, 1);
        client_close(big, "client memory over maxmemory-clients");
    }
}

#define QBUF_IDLE_MS 2000 /* a client idle this long gives back its query buffer's slack */

void client_cron(int worker, uint64_t now)
{
    int timeout = config_get_int(CFG_TIMEOUT);
    for (client_t *c = client_worker_first(worker), *next; c; c = next) {
        next = c->next;
        if (c->away || (c->flags & CLIENT_IN_FLIGHT)) /* away: a thief owns it now */
            continue;
        uint64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);
        uint64_t idle = now > last ? now - last : 0;
        /* A blocked client is not idle: its command's own timeout rules (Redis).
         * Whole seconds, as Redis's unixtime - lastinteraction > maxidletime:
         * a client goes after timeout to timeout + 1 s without a word. */
        if (timeout > 0 && now / 1000 > last / 1000 + (uint64_t)timeout &&
            !(c->flags & (CLIENT_BLOCKED | CLIENT_POSTPONED))) {
            client_close(c, "idle timeout");
            continue;
        }
        /* The soft limit's seconds run out without any event of the client
         * (a reader too slow to make its socket writable again). */
        if (out_pending(c) && client_over_output_limit(c)) {
            client_close(c, NULL);
            continue;
        }
        /* Only when no parsed command points into the buffer. */
        if (idle >= QBUF_IDLE_MS && c->in.cap > READ_CHUNK && c->qlen == 0 &&
            c->in.len < c->in.cap / 2) {
            if (c->in.len == 0) {
                buf_free(&c->in);
            } else {
                c->in.data = xrealloc(c->in.data, c->in.len);
                c->in.cap = c->in.len;
            }
            atomic_store_explicit(&c->qbuf_free, c->in.cap - c->in.len, memory_order_relaxed);
            client_mem_sync(c, 0);
        }
    }
    client_evict(worker);
}

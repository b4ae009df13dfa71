/* client_internal — what client.c shares with client_registry.c and
 * client_evict.c only. */
#ifndef PERCORE_CLIENT_INTERNAL_H
#define PERCORE_CLIENT_INTERNAL_H

#include "client.h"

/* Close now, or as soon as the client is back home (on its home worker). */
void client_close(client_t *c, const char *why);
/* Under client_registry_lock(): the first client of all (then c->rnext). */
client_t *client_registry_first_locked(void);
/* On worker w: its first client (then c->next). */
client_t *client_worker_first(int worker);

#define READ_CHUNK (16 * 1024) /* bytes a read asks for; a query buffer's floor */

static inline size_t out_pending(const client_t *c) { return c->out.len - c->out_sent; }
/* Past the hard output limit, or the soft one for soft-seconds: 1 when the
 * client is to be closed (it is marked so). */
int client_over_output_limit(client_t *c);
/* Charge the client's buffers to maxmemory-clients (gone: it is freed). */
void client_mem_sync(client_t *c, int gone);

/* maxmemory-clients (client_evict.c): setup/teardown with client_setup's;
 * on worker w, close its biggest clients while all clients pass the limit
 * (cron), or do so right after the current event (once queued). */
void client_evict_setup(int nworkers);
void client_evict_teardown(void);
void client_evict(int worker);
void client_evict_soon(int worker);

#endif

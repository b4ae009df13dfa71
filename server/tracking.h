/* tracking — client-side caching, server-assisted (Redis 7.0's CLIENT
 * TRACKING): which clients read which keys, and the invalidation messages a
 * change of those keys sends them.
 *
 * Design.
 *  - Default mode: a read-only command of a tracking client remembers its
 *    keys (the command table's key positions, command_keys) for that client:
 *    command_call (command_call.c) calls tracking_remember right after the
 *    handler, on the task that holds the keys' partitions. The table "key ->
 *    client ids" is one per partition, so only the partition's holder touches
 *    it (scheduler.h); a read that a script calls remembers the script's
 *    declared keys instead, as Redis 7.0. A read and a later write of one key both run there, and
 *    the table needs no lock of its own. Keys are names only, whatever the
 *    database, as Redis.
 *  - A change of a key (any write path: commands, MULTI/EXEC, scripts,
 *    blocked commands served, lazy and active expiry, eviction) reaches the
 *    store's modified-key hook (store.h: store_set_key_modified_hook, called
 *    where WATCH stamps an entry or an entry is freed), which tracking_setup
 *    points here: the key's entry is taken out of its partition's table and
 *    each client in it gets one invalidation. FLUSHDB/FLUSHALL call
 *    tracking_flush: a null invalidation to every tracking client, and every
 *    table emptied (the flush holds every partition).
 *  - BCAST: no table; every change is matched against the prefixes of the
 *    BCAST clients (the registry below, read-locked, only while a BCAST
 *    client exists). The keys one command changes are sent as one message per
 *    client and prefix when the command ends (tracking_leave), as Redis
 *    batches them per event-loop turn; outside a command (active expiry,
 *    eviction from cron) each key goes at once.
 *  - Delivery never touches a client's socket: the tracking client's state
 *    (tracking_client_t: mode, redirect, prefixes) is in a registry by client
 *    id behind a read-write lock (written by CLIENT TRACKING ON/OFF and by a
 *    client going away, read by invalidations), and a message is a frame
 *    appended to the receiver's Pub/Sub mailbox (pubsub.h), which wakes its
 *    home worker, as a PUBLISH would: a RESP3 client gets the push
 *    `invalidate [keys]` itself; with REDIRECT, the target gets it instead
 *    (pubsub_send_to finds its mailbox by id), as a `message
 *    __redis__:invalidate [keys]` when it speaks RESP2 and is in subscribed
 *    mode, or as the push when it speaks RESP3 (HELLO 3 gives a client its
 *    mailbox, client_cmds.c set_proto). A redirect target that is gone makes the
 *    tracking client's redirect "broken": flag R, and once, the push
 *    `tracking-redir-broken <id>` to a RESP3 tracking client. A target that
 *    never reads is closed by the pubsub class's output limit, as any
 *    subscriber. Lock order: the registry, then pubsub's locks, then the
 *    client registry (the liveness check), never the other way round.
 *  - NOLOOP: the id of the client whose command runs (tracking_enter, in
 *    sched_exec_cmd) is thread-local; a NOLOOP client is not told about its
 *    own changes.
 *  - Memory: tracking-table-max-keys (0: no limit) bounds the remembered keys.
 *    A remember that takes the total past it forgets other keys of the same
 *    partition (the only one the task may touch), each with an invalidation,
 *    as Redis evicts from its table; so the total stays within the limit plus
 *    one key per partition. A client that turns tracking off or disconnects
 *    leaves its ids in the tables (as Redis): they are dropped when the key
 *    changes, or evicted by the bound, and sent to nobody.
 *  - Cost while nobody tracks: sched_exec_cmd skips the context (one relaxed
 *    load of tracking_nclients per command), the modified-key hook is
 *    disabled (one relaxed load per changed key, store_priv.h), and
 *    command_call tests one thread-local pointer and stores one flag.
 * Commands layer: config, store, pubsub and command below it. */
#ifndef PERCORE_TRACKING_H
#define PERCORE_TRACKING_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "command.h"
#include "pubsub.h"

/* Modes and state of a tracking client, as CLIENT TRACKINGINFO names them. */
enum {
    TRACKING_ON = 1 << 0,
    TRACKING_BCAST = 1 << 1,
    TRACKING_OPTIN = 1 << 2,
    TRACKING_OPTOUT = 1 << 3,
    TRACKING_NOLOOP = 1 << 4,
    TRACKING_CACHING = 1 << 5, /* CLIENT CACHING YES/NO for the next command */
    TRACKING_BROKEN = 1 << 6,  /* the redirect target went away */
};

typedef struct tracking_client tracking_client_t;

/* Startup, before workers run: npartitions tables, and how to tell whether a
 * client id is still connected (the connections layer's registry). */
void tracking_setup(int npartitions, int (*client_alive)(uint64_t id));
void tracking_teardown(void);

/* The owning thread of client id (CLIENT TRACKING): its state, created off;
 * mb: the client's mailbox (its own pushes). Freed with tracking_client_free
 * when the client goes away. */
tracking_client_t *tracking_client_new(uint64_t id, pubsub_sub_t *mb);
void tracking_client_free(tracking_client_t *t);
/* Turn tracking on with these modes (TRACKING_BCAST ... NOLOOP), redirect
 * (0: none) and BCAST prefixes added to those it has; or off (modes and
 * prefixes dropped). The caller checked the options (client_tracking.c). */
void tracking_on(tracking_client_t *t, int modes, uint64_t redirect, const sv_t *prefixes,
                 int nprefixes);
void tracking_off(tracking_client_t *t);
/* Any thread: TRACKING_* flags (0: off or NULL), the redirect id. */
int tracking_flags(const tracking_client_t *t);
uint64_t tracking_redirect(const tracking_client_t *t);
/* Owning thread: CLIENT CACHING's flag for the next command. */
void tracking_set_caching(tracking_client_t *t, int on);
/* Owning thread: the client's BCAST prefixes. */
int tracking_prefix_count(const tracking_client_t *t);
sv_t tracking_prefix(const tracking_client_t *t, int i);

/* Around each command of a client (sched_exec_cmd), on the executing
 * thread: t is the client's state (NULL: not tracking), id the client's,
 * cmd/argc/argv its command (a script's reads remember the script's keys).
 * tracking_leave sends the BCAST messages the command caused and appends
 * the invalidations of the client's own changes to its reply r (RESP3 and no
 * redirect: they follow the reply, as Redis sends them). */
extern _Thread_local tracking_client_t *tracking_cur;
void tracking_enter(tracking_client_t *t, uint64_t id, const command_t *cmd, int argc,
                    sv_t *argv, reply_t *r);
/* command_call, right before a handler: from here the client's own
 * invalidations follow its reply (before: an eviction by the OOM check,
 * which Redis sends before the reply). */
extern _Thread_local int tracking_self_direct;
static inline void tracking_handler_start(void) { tracking_self_direct = 0; }
/* Any thread: whether any client has tracking on (sched_exec_cmd enters the
 * context only then: one relaxed load per command while nobody tracks). */
extern _Atomic uint64_t tracking_nclients;
static inline int tracking_any(void)
{
    return atomic_load_explicit(&tracking_nclients, memory_order_relaxed) != 0;
}
void tracking_leave(reply_t *r);

/* The id of the client whose command runs (0: none), for a blocked command
 * served later in its name: between tracking_serve_begin and _end, cur is
 * that client, and its own invalidations go after what the command wrote to
 * r (its reply). */
uint64_t tracking_current_id(void);
typedef struct tracking_serve {
    uint64_t id;
    size_t mark;
} tracking_serve_t;
void tracking_serve_begin(tracking_serve_t *s, uint64_t id);
void tracking_serve_end(tracking_serve_t *s, reply_t *r);

/* After a read-only command of the tracking client tracking_cur ran: remember
 * its keys (the task holds their partitions). */
void do_tracking_remember(const cmd_ctx_t *c);
static inline void tracking_remember(const cmd_ctx_t *c)
{
    if (__builtin_expect(tracking_cur != NULL, 0) && (c->cmd->flags & CMD_READONLY))
        do_tracking_remember(c);
}

/* Cron, on the holder of partition part: keep the bound after CONFIG SET
 * lowered tracking-table-max-keys (forget keys of part while over it). */
void tracking_cron(int part);

/* FLUSHDB / FLUSHALL, holding every partition: a null invalidation to every
 * tracking client; every table emptied. */
void tracking_flush(void);

/* INFO: tracking_clients; tracking_total_keys, _items, _prefixes. */
uint64_t tracking_clients(void);
void tracking_info_stats(buf_t *out);

#endif

/* notify — keyspace notifications (notify-keyspace-events), as Redis 7.0.
 *
 * Design. Every write command names its event where the change is made:
 * notify_key(c, NOTIFY_LIST, "lpush", key) after the change, in the handler
 * (cmd_*.c) or db.c (the "new" and "keymiss" events). The classes enabled live
 * in one atomic int (config_keyspace_events, config.h) that CONFIG SET
 * stores, so while notify-keyspace-events is empty, the default, each event
 * costs one relaxed load (a plain load on x86 and arm64) and one
 * never-taken branch: no formatting, no call. When the class is enabled,
 * notify_publish formats __keyspace@<db>__:<key> (message: the event) and/or
 * __keyevent@<db>__:<event> (message: the key) and hands them to
 * pubsub_publish (pubsub.h), which any worker may call: it takes the
 * registry's read lock and each subscriber's mailbox lock, and the
 * subscriber's home worker does the socket work. Nothing in pubsub waits for
 * a partition, and no partition is taken while a pubsub lock is held, so
 * publishing from a task holding partitions (any policy) cannot deadlock.
 * Order: a command's events are published in the order it makes its changes,
 * before its reply, so a subscriber sees them before the writer sees its
 * reply (as Redis). Scripts and MULTI/EXEC run commands through the same
 * handlers, so they notify alike.
 * "expired" and "evicted" happen in the store layer (store.c, evict.c), which
 * may not call up: it raises them through store_set_key_event_hook, which
 * notify_setup points at this module.
 * Commands layer: config, store and pubsub below it. */
#ifndef PERCORE_NOTIFY_H
#define PERCORE_NOTIFY_H

#include "command.h"
#include "config.h"

/* Startup, before workers run: route the store's expired/evicted events here. */
void notify_setup(void);
void notify_teardown(void);

/* Publish event for key of database db when class cls is enabled in flags
 * (config_keyspace_events' value). Any worker. */
void notify_publish(int flags, int cls, const char *event, sv_t key, int db);

/* Event of class cls on key in database db (MOVE and COPY name another). */
static inline void notify_key_db(int cls, const char *event, sv_t key, int db)
{
    int flags = config_keyspace_events();
    if (__builtin_expect((flags & cls) != 0, 0))
        notify_publish(flags, cls, event, key, db);
}

/* Event of class cls on key in the command's database. */
static inline void notify_key(const cmd_ctx_t *c, int cls, const char *event, sv_t key)
{
    notify_key_db(cls, event, key, c->db);
}

/* Event of class cls on key, then "del" when the change deleted it (gone:
 * db_modified's return, an aggregate left empty), Redis's order. */
static inline void notify_key_gone(const cmd_ctx_t *c, int cls, const char *event, sv_t key,
                                   int gone)
{
    notify_key(c, cls, event, key);
    if (gone)
        notify_key(c, NOTIFY_GENERIC, "del", key);
}

#endif

/* notify — publishing keyspace notifications (notify.h says how and why). */
#include "notify.h"

#include <string.h>

#include "aof.h"
#include "pubsub.h"
#include "store.h"

void notify_publish(int flags, int cls, const char *event, sv_t key, int db)
{
    if (!(flags & cls) || !(flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)))
        return;
    sv_t ev = {event, strlen(event)};
    buf_t ch;
    buf_init(&ch);
    if (flags & NOTIFY_KEYSPACE) {
        buf_printf(&ch, "__keyspace@%d__:", db);
        buf_append(&ch, key.p, key.len);
        pubsub_publish(PUBSUB_CHANNEL, (sv_t){ch.data, ch.len}, ev);
    }
    if (flags & NOTIFY_KEYEVENT) {
        ch.len = 0;
        buf_printf(&ch, "__keyevent@%d__:%s", db, event);
        pubsub_publish(PUBSUB_CHANNEL, (sv_t){ch.data, ch.len}, key);
    }
    buf_free(&ch);
}

/* The store's events (store.h), on the partition's holder. */
static void store_event(int event, int db, sv_t key)
{
    aof_feed_key_gone(db, key.p, key.len); /* logged as DEL, as Redis (aof.h) */
    if (event == STORE_EVENT_EXPIRED)
        notify_key_db(NOTIFY_EXPIRED, "expired", key, db);
    else
        notify_key_db(NOTIFY_EVICTED, "evicted", key, db);
}

void notify_setup(void) { store_set_key_event_hook(store_event); }

void notify_teardown(void) { store_set_key_event_hook(NULL); }

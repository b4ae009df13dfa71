/* client_registry — what any worker may ask of all clients: names, CLIENT
 * LIST and INFO lines, CLIENT KILL (sent to the victim's home worker). The
 * registry and its lock are client.c's (client_internal.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "client.h"
#include "client_internal.h"

void client_set_name(client_t *c, const char *name, size_t n)
{
    client_registry_lock();
    free(c->name);
    c->name = n ? xstrndup(name, n) : NULL;
    client_registry_unlock();
}

void client_get_name(client_t *c, buf_t *out)
{
    client_registry_lock();
    if (c->name)
        buf_append(out, c->name, strlen(c->name));
    client_registry_unlock();
}

/* Any thread: subscribed to anything (as CLIENT LIST shows it). */
static int is_pubsub(client_t *c)
{
    return atomic_load_explicit(&c->shown_sub, memory_order_relaxed) +
               atomic_load_explicit(&c->shown_psub, memory_order_relaxed) +
               atomic_load_explicit(&c->shown_ssub, memory_order_relaxed) >
           0;
}

/* Caller holds registry_lock. */
static void info_line_locked(client_t *c, buf_t *out, uint64_t now, const char *running)
{
    uint64_t last = atomic_load_explicit(&c->last_ms, memory_order_relaxed);
    const command_t *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    const char *sub = atomic_load_explicit(&c->last_sub, memory_order_relaxed);
    char flags[8];
    int nf = 0;
    if (atomic_load_explicit(&c->monitoring, memory_order_relaxed))
        flags[nf++] = 'O'; /* first, as Redis */
    if (is_pubsub(c))
        flags[nf++] = 'P';
    if (c->blk || atomic_load_explicit(&c->shown_postponed, memory_order_relaxed))
        flags[nf++] = 'b';
    nf += client_tracking_flags(c, flags + nf); /* t R B, Redis's order */
    if (atomic_load_explicit(&c->no_evict, memory_order_relaxed))
        flags[nf++] = 'e';
    if (!nf)
        flags[nf++] = 'N';
    flags[nf] = '\0';
    if (!running && cmd && cmd->subcommands && sub)
        running = sub;
    buf_printf(out,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=%d sub=%d "
               "psub=%d ssub=%d multi=-1 qbuf=%llu qbuf-free=%llu argv-mem=0 multi-mem=0 obl=0 "
               "oll=0 omem=%llu tot-mem=0 events=r cmd=%s user=%s redir=%lld resp=%d\n",
               (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
               (unsigned long long)((now - c->ctime_ms) / 1000),
               (unsigned long long)(now > last ? (now - last) / 1000 : 0),
               flags,
               atomic_load_explicit(&c->shown_db, memory_order_relaxed),
               atomic_load_explicit(&c->shown_sub, memory_order_relaxed),
               atomic_load_explicit(&c->shown_psub, memory_order_relaxed),
               atomic_load_explicit(&c->shown_ssub, memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&c->qbuf_len, memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&c->qbuf_free, memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&c->obuf_len, memory_order_relaxed),
               running ? running : cmd ? cmd->name : "NULL", c->acl ? c->acl->name : "default",
               client_tracking_redir(c),
               atomic_load_explicit(&c->shown_resp, memory_order_relaxed));
}

void client_info_line(client_t *c, buf_t *out)
{
    client_registry_lock();
    info_line_locked(c, out, now_ms(), "client|info");
    client_registry_unlock();
}

void client_list(buf_t *out, uint64_t only_id, const client_t *self, int type)
{
    uint64_t now = now_ms();
    if (type == CLIENT_TYPE_NONE)
        return;
    client_registry_lock();
    for (client_t *c = client_registry_first_locked(); c; c = c->rnext)
        if ((!only_id || c->id == only_id) &&
            (type == CLIENT_TYPE_ANY || type == (is_pubsub(c) ? CLIENT_TYPE_PUBSUB
                                                               : CLIENT_TYPE_NORMAL)) &&
            !atomic_load_explicit(&c->doomed, memory_order_relaxed))
            info_line_locked(c, out, now, c == self ? "client|list" : NULL);
    client_registry_unlock();
    (void)self;
}

typedef struct kill_msg {
    xmsg_t msg;
    uint64_t id;
} kill_msg_t;

/* On the victim's home worker. The message names the client by id, so a
 * client that disconnected meanwhile is simply not found. */
static void kill_received(xmsg_t *m)
{
    kill_msg_t *km = (kill_msg_t *)m;
    for (client_t *c = client_worker_first(worker_self()); c; c = c->next) {
        if (c->id == km->id) {
            if (c->away) /* being served elsewhere: closed when it comes home */
                atomic_store_explicit(&c->kill_pending, 1, memory_order_relaxed);
            else if (!(c->flags & CLIENT_CLOSE_ASAP))
                client_close(c, "killed by CLIENT KILL");
            break;
        }
    }
    free(km);
}

int client_kill(uint64_t id, const char *addr, const client_t *self, int skipme, int type,
                const char *user)
{
    int killed = 0;
    client_registry_lock();
    for (client_t *c = client_registry_first_locked(); c; c = c->rnext) {
        if (id && c->id != id)
            continue;
        if (addr && strcmp(addr, c->addr) != 0)
            continue;
        if (user && (!c->acl || strcmp(user, c->acl->name) != 0))
            continue;
        if (type != CLIENT_TYPE_ANY &&
            type != (is_pubsub(c) ? CLIENT_TYPE_PUBSUB : CLIENT_TYPE_NORMAL))
            continue;
        if (c == self && skipme)
            continue;
        killed++;
        if (c == self) {
            /* Closing ourselves: after this reply is written. */
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            continue;
        }
        kill_msg_t *km = xmalloc(sizeof *km);
        km->msg.fn = kill_received;
        km->msg.heap = 1;
        km->id = c->id;
        xthread_send(c->home, &km->msg);
    }
    client_registry_unlock();
    return killed;
}

static void doom_locked(client_t *c);

void client_kill_user(const char *user)
{
    client_registry_lock();
    for (client_t *c = client_registry_first_locked(); c; c = c->rnext) {
        if (!c->acl || strcmp(c->acl->name, user) != 0 ||
            atomic_load_explicit(&c->doomed, memory_order_relaxed))
            continue;
        doom_locked(c);
    }
    client_registry_unlock();
}

/* May a subscriber's (new) user keep every one of its subscriptions? Checked
 * on the thread that changed the user, so that it is gone from CLIENT LIST
 * when ACL SETUSER replies (as Redis 7.0 frees it at once); closed by its
 * home worker. */
static int sub_refused(void *u, sv_t name) { return !acl_channel_allowed(u, name, 0); }
static int psub_refused(void *u, sv_t name) { return !acl_channel_allowed(u, name, 1); }

static void doom_locked(client_t *c)
{
    atomic_store_explicit(&c->doomed, 1, memory_order_relaxed);
    kill_msg_t *km = xmalloc(sizeof *km);
    km->msg.fn = kill_received;
    km->msg.heap = 1;
    km->id = c->id;
    xthread_send(c->home, &km->msg);
}

void client_recheck_user(const char *user)
{
    acl_user_t *u = acl_get(user, strlen(user));
    if (!u)
        return;
    client_registry_lock();
    for (client_t *c = client_registry_first_locked(); c; c = c->rnext) {
        pubsub_sub_t *ps = atomic_load_explicit(&c->shown_ps, memory_order_acquire);
        if (!c->acl || strcmp(c->acl->name, user) != 0 || !ps ||
            atomic_load_explicit(&c->doomed, memory_order_relaxed))
            continue;
        if (pubsub_sub_each(ps, PUBSUB_CHANNEL, sub_refused, u) ||
            pubsub_sub_each(ps, PUBSUB_SHARD, sub_refused, u) ||
            pubsub_sub_each(ps, PUBSUB_PATTERN, psub_refused, u))
            doom_locked(c);
    }
    client_registry_unlock();
    acl_release(u);
}

void client_describe(void *origin, buf_t *out)
{
    client_registry_lock();
    info_line_locked(origin, out, now_ms(), NULL);
    client_registry_unlock();
}

void client_max_buffers(uint64_t *in, uint64_t *out)
{
    *in = *out = 0;
    client_registry_lock();
    for (client_t *c = client_registry_first_locked(); c; c = c->rnext) {
        uint64_t q = atomic_load_explicit(&c->qbuf_len, memory_order_relaxed) +
                     atomic_load_explicit(&c->qbuf_free, memory_order_relaxed);
        uint64_t o = atomic_load_explicit(&c->obuf_len, memory_order_relaxed);
        if (q > *in)
            *in = q;
        if (o > *out)
            *out = o;
    }
    client_registry_unlock();
}

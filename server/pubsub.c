/* The Pub/Sub registry and mailboxes; the design is in pubsub.h. Lock order:
 * reg_lock (read or write), then a mailbox's lock; never the other way. */
#include "pubsub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "t_htab.h"
#include "forksafe.h"

struct pubsub_sub {
    xmsg_t wake;           /* first: pubsub_sub_of is a cast */
    int home;
    pthread_mutex_t lock;
    void *owner;           /* lock: NULL once the client is gone */
    buf_t pending;         /* lock: formatted messages not yet in the output */
    int wake_sent;         /* lock: the wake message is in flight */
    int refs;              /* lock: the owner's and an in-flight wake's */
    int dropped;           /* lock: went over the hard limit */
    _Atomic int proto;
    _Atomic uint64_t out_pending;
    uint64_t id;           /* the owner's client id (set before it is shared) */
    /* owning thread only (and reg_lock held for writing while they change):
     * the names this mailbox is subscribed to, per kind */
    htab_t names[PUBSUB_KINDS];
};

/* A registry entry: a name and the set of mailboxes subscribed to it, keyed
 * by the mailbox pointer's bytes. */
typedef struct chan {
    hnode_t h;
    htab_t subs;
} chan_t;

typedef struct subref {
    hnode_t h;
    pubsub_sub_t *s;
    pubsub_sub_t *key; /* the key bytes: the pointer itself */
} subref_t;

/* A mailbox by its owner's client id (pubsub_send_to). */
typedef struct idref {
    hnode_t h;
    uint64_t id; /* the key bytes */
    pubsub_sub_t *s;
} idref_t;

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
FORKSAFE_RWLOCK(reg_lock) /* a SCRIPT DEBUG YES child may take it */
static htab_t reg[PUBSUB_KINDS];
static htab_t by_id;
static void (*send_wake)(int to, xmsg_t *m);

void pubsub_setup(void (*send)(int to, xmsg_t *m))
{
    memset(reg, 0, sizeof reg);
    send_wake = send;
}

static void free_chan(void *arg, hnode_t *e)
{
    (void)arg;
    htab_drain(&((chan_t *)e)->subs, NULL, NULL);
}

void pubsub_teardown(void)
{
    pthread_rwlock_wrlock(&reg_lock);
    for (int k = 0; k < PUBSUB_KINDS; k++)
        htab_drain(&reg[k], free_chan, NULL);
    htab_drain(&by_id, NULL, NULL);
    pthread_rwlock_unlock(&reg_lock);
}

/* ---- mailboxes ----------------------------------------------------------- */

pubsub_sub_t *pubsub_sub_new(int home, void *owner, void (*wake)(xmsg_t *m))
{
    pubsub_sub_t *s = xcalloc(1, sizeof *s);
    s->home = home;
    s->owner = owner;
    s->refs = 1;
    s->wake.fn = wake;
    /* Freed by worker_teardown if still queued at exit: the mailbox is the
     * message's allocation (a client alive then is left to the OS). */
    s->wake.heap = 1;
    atomic_store_explicit(&s->proto, 2, memory_order_relaxed);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

pubsub_sub_t *pubsub_sub_of(xmsg_t *m) { return (pubsub_sub_t *)m; }

/* Caller holds s->lock, which this gives up. */
static void unref_unlock(pubsub_sub_t *s)
{
    int last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        buf_free(&s->pending);
        pthread_mutex_destroy(&s->lock);
        free(s);
    }
}

void *pubsub_sub_woken(pubsub_sub_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->wake_sent = 0;
    void *owner = s->owner;
    unref_unlock(s);
    return owner;
}

void pubsub_sub_set_proto(pubsub_sub_t *s, int proto)
{
    atomic_store_explicit(&s->proto, proto, memory_order_relaxed);
}

int pubsub_sub_proto(const pubsub_sub_t *s)
{
    return atomic_load_explicit(&s->proto, memory_order_relaxed);
}

void pubsub_sub_set_id(pubsub_sub_t *s, uint64_t id)
{
    idref_t *r = xcalloc(1, sizeof *r);
    r->id = id;
    r->s = s;
    r->h.key = (const char *)&r->id;
    r->h.klen = sizeof r->id;
    pthread_rwlock_wrlock(&reg_lock);
    s->id = id;
    htab_insert(&by_id, &r->h);
    pthread_rwlock_unlock(&reg_lock);
}

void pubsub_sub_set_out(pubsub_sub_t *s, size_t pending)
{
    atomic_store_explicit(&s->out_pending, pending, memory_order_relaxed);
}

int pubsub_sub_take(pubsub_sub_t *s, buf_t *out)
{
    pthread_mutex_lock(&s->lock);
    if (s->pending.len) {
        if (out->len == 0 && s->pending.cap <= (1u << 20)) {
            buf_t t = *out; /* an empty output takes the bytes without a copy */
            *out = s->pending;
            s->pending = t;
        } else {
            buf_append(out, s->pending.data, s->pending.len);
            s->pending.len = 0;
            if (s->pending.cap > (1u << 20))
                buf_free(&s->pending);
        }
    }
    int dropped = s->dropped;
    pthread_mutex_unlock(&s->lock);
    return dropped;
}

/* ---- the registry (owning thread of the client, reg_lock for writing) ---- */

static chan_t *chan_get(int kind, sv_t name, int create)
{
    chan_t *ch = (chan_t *)htab_find(&reg[kind], name.p, name.len);
    if (ch || !create)
        return ch;
    ch = xcalloc(1, sizeof *ch + name.len + 1);
    char *k = (char *)(ch + 1);
    memcpy(k, name.p, name.len);
    ch->h.key = k;
    ch->h.klen = name.len;
    htab_insert(&reg[kind], &ch->h);
    return ch;
}

static void reg_add_locked(pubsub_sub_t *s, int kind, sv_t name)
{
    chan_t *ch = chan_get(kind, name, 1);
    subref_t *ref = xcalloc(1, sizeof *ref);
    ref->s = s;
    ref->key = s;
    ref->h.key = (const char *)&ref->key;
    ref->h.klen = sizeof ref->key;
    htab_insert(&ch->subs, &ref->h);
}

static void reg_del_locked(pubsub_sub_t *s, int kind, sv_t name)
{
    chan_t *ch = chan_get(kind, name, 0);
    if (!ch)
        return;
    free(htab_unlink(&ch->subs, (const char *)&s, sizeof s));
    if (ch->subs.n == 0) {
        htab_unlink(&reg[kind], name.p, name.len);
        htab_release(&ch->subs);
        free(ch);
    }
}

int pubsub_subscribe(pubsub_sub_t *s, int kind, sv_t name)
{
    if (htab_find(&s->names[kind], name.p, name.len))
        return 0;
    hnode_t *e = xcalloc(1, sizeof *e + name.len + 1);
    char *k = (char *)(e + 1);
    memcpy(k, name.p, name.len);
    e->key = k;
    e->klen = name.len;
    pthread_rwlock_wrlock(&reg_lock);
    htab_insert(&s->names[kind], e);
    reg_add_locked(s, kind, name);
    pthread_rwlock_unlock(&reg_lock);
    return 1;
}

int pubsub_unsubscribe(pubsub_sub_t *s, int kind, sv_t name)
{
    if (!htab_find(&s->names[kind], name.p, name.len))
        return 0;
    pthread_rwlock_wrlock(&reg_lock);
    free(htab_unlink(&s->names[kind], name.p, name.len));
    reg_del_locked(s, kind, name);
    pthread_rwlock_unlock(&reg_lock);
    return 1;
}

typedef struct unsub_all {
    pubsub_sub_t *s;
    int kind;
    size_t left;
    void (*each)(void *arg, sv_t name, size_t left);
    void *arg;
} unsub_all_t;

static void unsub_one(void *arg, hnode_t *e)
{
    unsub_all_t *u = arg;
    sv_t name = {e->key, e->klen};
    reg_del_locked(u->s, u->kind, name);
    u->left--;
    if (u->each)
        u->each(u->arg, name, u->left);
}

size_t pubsub_unsubscribe_all(pubsub_sub_t *s, int kind,
                              void (*each)(void *arg, sv_t name, size_t left), void *arg)
{
    size_t n = s->names[kind].n;
    if (!n)
        return 0;
    unsub_all_t u = {s, kind, n, each, arg};
    /* The replies are written under the lock: a publisher waits for at most
     * one command's worth of them. */
    pthread_rwlock_wrlock(&reg_lock);
    htab_drain(&s->names[kind], unsub_one, &u);
    pthread_rwlock_unlock(&reg_lock);
    return n;
}

size_t pubsub_count(const pubsub_sub_t *s, int kind) { return s ? s->names[kind].n : 0; }

int pubsub_sub_each(const pubsub_sub_t *s, int kind, int (*fn)(void *arg, sv_t name), void *arg)
{
    size_t b = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&reg_lock);
    for (hnode_t *e = htab_next(&s->names[kind], &b, NULL); e && !rc;
         e = htab_next(&s->names[kind], &b, e))
        rc = fn(arg, (sv_t){e->key, e->klen});
    pthread_rwlock_unlock(&reg_lock);
    return rc;
}

void pubsub_sub_release(pubsub_sub_t *s)
{
    for (int k = 0; k < PUBSUB_KINDS; k++)
        pubsub_unsubscribe_all(s, k, NULL, NULL);
    if (s->id) {
        pthread_rwlock_wrlock(&reg_lock);
        free(htab_unlink(&by_id, (const char *)&s->id, sizeof s->id));
        pthread_rwlock_unlock(&reg_lock);
    }
    pthread_mutex_lock(&s->lock);
    s->owner = NULL;
    buf_free(&s->pending);
    unref_unlock(s);
}

/* ---- publishing (any worker, reg_lock for reading) ----------------------- */

static void put_bulk(buf_t *b, sv_t v)
{
    buf_printf(b, "$%zu\r\n", v.len);
    buf_append(b, v.p, v.len);
    buf_append(b, "\r\n", 2);
}

/* A message is formatted once per publish (per pattern, for pmessage), and
 * each subscriber gets a copy: a RESP2 array; RESP3's push differs in its
 * first byte only ('>' for '*'). */
static void frame_build(buf_t *f, const char *kind, const sv_t *pattern, sv_t channel, sv_t msg)
{
    f->len = 0;
    buf_append(f, pattern ? "*4\r\n" : "*3\r\n", 4);
    put_bulk(f, (sv_t){kind, strlen(kind)});
    if (pattern)
        put_bulk(f, *pattern);
    put_bulk(f, channel);
    put_bulk(f, msg);
}

/* Under s->lock, bytes just appended to pending: the hard limit, and a
 * wake for its home worker if the mailbox was idle. */
static void appended_locked(pubsub_sub_t *s, uint64_t hard)
{
    uint64_t out = atomic_load_explicit(&s->out_pending, memory_order_relaxed);
    if (hard && s->pending.len + out > hard) {
        /* Over the pubsub hard limit: nothing more is kept for it; its home
         * worker closes it (client_pubsub_flush). */
        buf_free(&s->pending);
        s->dropped = 1;
    }
    if (!s->wake_sent) {
        s->wake_sent = 1;
        s->refs++;
        send_wake(s->home, &s->wake);
    }
}

/* Append one message to s's mailbox. */
static void deliver(pubsub_sub_t *s, const buf_t *frame, uint64_t hard)
{
    /* A SCRIPT DEBUG YES child: the mailbox's lock may be held by a thread
     * that is gone there, and its subscribers are the parent's (forksafe.h). */
    if (forksafe_in_child())
        return;
    pthread_mutex_lock(&s->lock);
    if (!s->owner || s->dropped) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    size_t at = s->pending.len;
    buf_append(&s->pending, frame->data, frame->len);
    if (atomic_load_explicit(&s->proto, memory_order_relaxed) == 3)
        s->pending.data[at] = '>';
    appended_locked(s, hard);
    pthread_mutex_unlock(&s->lock);
}

void pubsub_sub_push_raw(pubsub_sub_t *s, const char *p, size_t n, uint64_t hard)
{
    if (forksafe_in_child()) /* as deliver */
        return;
    pthread_mutex_lock(&s->lock);
    if (s->owner && !s->dropped) {
        buf_append(&s->pending, p, n);
        appended_locked(s, hard);
    }
    pthread_mutex_unlock(&s->lock);
}

static long long deliver_all(chan_t *ch, buf_t *frame, const char *kind, const sv_t *pattern,
                             sv_t channel, sv_t msg, uint64_t hard)
{
    if (!ch->subs.n)
        return 0;
    frame_build(frame, kind, pattern, channel, msg);
    size_t bucket = 0;
    long long n = 0;
    for (hnode_t *e = htab_next(&ch->subs, &bucket, NULL); e; e = htab_next(&ch->subs, &bucket, e)) {
        deliver(((subref_t *)e)->s, frame, hard);
        n++;
    }
    return n;
}

long long pubsub_publish(int kind, sv_t channel, sv_t msg)
{
    obl_t l;
    config_obl_get(OBL_PUBSUB, &l);
    long long n = 0;
    buf_t fb = {0}, *frame = &fb;
    pthread_rwlock_rdlock(&reg_lock);
    chan_t *ch = (chan_t *)htab_find(&reg[kind], channel.p, channel.len);
    if (ch)
        n += deliver_all(ch, frame, kind == PUBSUB_SHARD ? "smessage" : "message", NULL, channel,
                         msg, l.hard);
    if (kind == PUBSUB_CHANNEL && reg[PUBSUB_PATTERN].n) {
        size_t bucket = 0;
        htab_t *pats = &reg[PUBSUB_PATTERN];
        for (hnode_t *e = htab_next(pats, &bucket, NULL); e; e = htab_next(pats, &bucket, e)) {
            if (!glob_match(e->key, e->klen, channel.p, channel.len, 0))
                continue;
            sv_t pat = {e->key, e->klen};
            n += deliver_all((chan_t *)e, frame, "pmessage", &pat, channel, msg, l.hard);
        }
    }
    pthread_rwlock_unlock(&reg_lock);
    buf_free(frame);
    return n;
}

void pubsub_sub_push(pubsub_sub_t *s, const buf_t *frame)
{
    obl_t l;
    config_obl_get(OBL_PUBSUB, &l);
    deliver(s, frame, l.hard);
}

int pubsub_send_to(uint64_t id, const buf_t *frame2, const buf_t *frame3)
{
    obl_t l;
    config_obl_get(OBL_PUBSUB, &l);
    int sent = 0;
    pthread_rwlock_rdlock(&reg_lock);
    idref_t *r = (idref_t *)htab_find(&by_id, (const char *)&id, sizeof id);
    if (r) {
        pubsub_sub_t *s = r->s;
        /* names[] change under the write lock: stable while we read them */
        size_t subs = s->names[PUBSUB_CHANNEL].n + s->names[PUBSUB_PATTERN].n +
                      s->names[PUBSUB_SHARD].n;
        if (pubsub_sub_proto(s) == 3)
            deliver(s, frame3, l.hard), sent = 1;
        else if (subs)
            deliver(s, frame2, l.hard), sent = 1;
    }
    pthread_rwlock_unlock(&reg_lock);
    return sent;
}

void pubsub_channels(int kind, const sv_t *pattern, void (*fn)(void *arg, sv_t name), void *arg)
{
    pthread_rwlock_rdlock(&reg_lock);
    size_t bucket = 0;
    for (hnode_t *e = htab_next(&reg[kind], &bucket, NULL); e;
         e = htab_next(&reg[kind], &bucket, e)) {
        if (pattern && !glob_match(pattern->p, pattern->len, e->key, e->klen, 0))
            continue;
        fn(arg, (sv_t){e->key, e->klen});
    }
    pthread_rwlock_unlock(&reg_lock);
}

long long pubsub_numsub(int kind, sv_t name)
{
    pthread_rwlock_rdlock(&reg_lock);
    chan_t *ch = (chan_t *)htab_find(&reg[kind], name.p, name.len);
    long long n = ch ? (long long)ch->subs.n : 0;
    pthread_rwlock_unlock(&reg_lock);
    return n;
}

long long pubsub_active(int kind)
{
    pthread_rwlock_rdlock(&reg_lock);
    long long n = (long long)reg[kind].n;
    pthread_rwlock_unlock(&reg_lock);
    return n;
}

/* tracking — client-side caching's tables and invalidations (the design is
 * in tracking.h). Lock order: reg_lock, then pubsub's locks, then the client
 * registry (client_alive). */
#include "tracking.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"
#include "t_htab.h"
#include "forksafe.h"

struct tracking_client {
    hnode_t h;          /* in reg while on; key: the id's bytes */
    uint64_t id;
    pubsub_sub_t *mb;   /* the client's own mailbox */
    _Atomic int flags;  /* TRACKING_*: written by the owner under reg_lock (BROKEN:
                           by any deliverer, atomically) */
    _Atomic uint64_t redirect;
    int registered;
    /* BCAST prefixes: owner writes under reg_lock, deliverers read under it */
    char **pfx;
    size_t *pfxlen;
    int npfx, pfxcap;
};

/* A remembered key and the ids of the clients that read it. */
typedef struct tkey {
    hnode_t h;
    uint32_t n, cap;
    uint64_t *ids;
    char key[];
} tkey_t;

static htab_t *tabs; /* [npartitions]: the partition's holder only */
static int ntabs;
static int (*alive_fn)(uint64_t id);
static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
FORKSAFE_RWLOCK(reg_lock) /* a SCRIPT DEBUG YES child may take it */
static htab_t reg; /* id -> tracking_client_t, the clients with tracking on */
_Atomic uint64_t tracking_nclients;
static _Atomic uint64_t nbcast, total_keys, total_items;

_Thread_local tracking_client_t *tracking_cur;
static _Thread_local uint64_t cur_id;
/* The client's command (a script's reads remember the script's keys). */
static _Thread_local const command_t *cur_cmd;
static _Thread_local int cur_argc;
static _Thread_local sv_t *cur_argv;
/* BCAST keys changed by the running command: (client id, its prefix, key). */
typedef struct bpend {
    uint64_t id;
    int pfx;
    size_t off, len; /* in bkeys */
} bpend_t;
static _Thread_local bpend_t *bpend;
static _Thread_local size_t nbpend, bpendcap;
static _Thread_local buf_t bkeys;
static _Thread_local int in_cmd;
/* Pushes to the client whose command runs: they follow its reply (the reply
 * may travel home from another worker, so the mailbox could overtake it). */
static _Thread_local buf_t self_out;
/* Before the command's handler (its OOM check may evict): the client's own
 * pushes go straight into its reply, before the reply, as Redis. */
static _Thread_local reply_t *self_reply;
_Thread_local int tracking_self_direct;

static const sv_t INVALIDATE_CH = {"__redis__:invalidate", 20};

static void key_modified(int part, sv_t key);

void tracking_setup(int npartitions, int (*client_alive)(uint64_t id))
{
    ntabs = npartitions;
    tabs = xcalloc((size_t)npartitions, sizeof *tabs);
    alive_fn = client_alive;
    memset(&reg, 0, sizeof reg);
    store_set_key_modified_hook(key_modified);
}

static void free_tkey(void *arg, hnode_t *e)
{
    (void)arg;
    free(((tkey_t *)e)->ids);
}

void tracking_teardown(void)
{
    store_key_modified_enable(0);
    store_set_key_modified_hook(NULL);
    for (int i = 0; i < ntabs; i++)
        htab_drain(&tabs[i], free_tkey, NULL);
    free(tabs);
    tabs = NULL;
    ntabs = 0;
    pthread_rwlock_wrlock(&reg_lock);
    htab_release(&reg);
    pthread_rwlock_unlock(&reg_lock);
    atomic_store(&tracking_nclients, 0);
    atomic_store(&nbcast, 0);
    atomic_store(&total_keys, 0);
    atomic_store(&total_items, 0);
}

/* ---- a client's state (its owning thread) -------------------------------- */

tracking_client_t *tracking_client_new(uint64_t id, pubsub_sub_t *mb)
{
    tracking_client_t *t = xcalloc(1, sizeof *t);
    t->id = id;
    t->mb = mb;
    t->h.key = (const char *)&t->id;
    t->h.klen = sizeof t->id;
    return t;
}

static void drop_prefixes(tracking_client_t *t)
{
    for (int i = 0; i < t->npfx; i++)
        free(t->pfx[i]);
    t->npfx = 0;
}

/* Caller holds reg_lock for writing. */
static void off_locked(tracking_client_t *t)
{
    if (t->registered) {
        htab_unlink(&reg, t->h.key, t->h.klen);
        t->registered = 0;
        atomic_fetch_sub(&tracking_nclients, 1);
        if (atomic_load(&t->flags) & TRACKING_BCAST)
            atomic_fetch_sub(&nbcast, 1);
    }
    drop_prefixes(t);
    atomic_store(&t->flags, 0);
    atomic_store(&t->redirect, 0);
    store_key_modified_enable(atomic_load(&tracking_nclients) > 0);
}

void tracking_client_free(tracking_client_t *t)
{
    if (!t)
        return;
    pthread_rwlock_wrlock(&reg_lock);
    off_locked(t);
    pthread_rwlock_unlock(&reg_lock);
    free(t->pfx);
    free(t->pfxlen);
    free(t);
}

void tracking_on(tracking_client_t *t, int modes, uint64_t redirect, const sv_t *prefixes,
                 int nprefixes)
{
    pthread_rwlock_wrlock(&reg_lock);
    int old = atomic_load(&t->flags);
    if (!t->registered) {
        htab_insert(&reg, &t->h);
        t->registered = 1;
        atomic_fetch_add(&tracking_nclients, 1);
    }
    if ((modes & TRACKING_BCAST) && !(old & TRACKING_BCAST))
        atomic_fetch_add(&nbcast, 1);
    /* BCAST with no prefix: every key (the empty prefix), as Redis. */
    sv_t empty = {"", 0};
    if ((modes & TRACKING_BCAST) && nprefixes == 0 && t->npfx == 0)
        prefixes = &empty, nprefixes = 1;
    for (int i = 0; i < nprefixes; i++) {
        int dup = 0;
        for (int j = 0; j < t->npfx && !dup; j++)
            dup = t->pfxlen[j] == prefixes[i].len &&
                  memcmp(t->pfx[j], prefixes[i].p, prefixes[i].len) == 0;
        if (dup)
            continue;
        if (t->npfx == t->pfxcap) {
            t->pfxcap = t->pfxcap ? t->pfxcap * 2 : 4;
            t->pfx = xrealloc(t->pfx, (size_t)t->pfxcap * sizeof *t->pfx);
            t->pfxlen = xrealloc(t->pfxlen, (size_t)t->pfxcap * sizeof *t->pfxlen);
        }
        t->pfx[t->npfx] = xmalloc(prefixes[i].len + 1);
        memcpy(t->pfx[t->npfx], prefixes[i].p, prefixes[i].len);
        t->pfxlen[t->npfx++] = prefixes[i].len;
    }
    atomic_store(&t->flags, TRACKING_ON | modes);
    atomic_store(&t->redirect, redirect);
    store_key_modified_enable(1); /* under the lock, ordered with off_locked's */
    pthread_rwlock_unlock(&reg_lock);
}

void tracking_off(tracking_client_t *t)
{
    pthread_rwlock_wrlock(&reg_lock);
    off_locked(t);
    pthread_rwlock_unlock(&reg_lock);
}

int tracking_flags(const tracking_client_t *t)
{
    return t ? atomic_load_explicit(&t->flags, memory_order_relaxed) : 0;
}

uint64_t tracking_redirect(const tracking_client_t *t)
{
    return t ? atomic_load_explicit(&t->redirect, memory_order_relaxed) : 0;
}

void tracking_set_caching(tracking_client_t *t, int on)
{
    if (on)
        atomic_fetch_or(&t->flags, TRACKING_CACHING);
    else
        atomic_fetch_and(&t->flags, ~TRACKING_CACHING);
}

int tracking_prefix_count(const tracking_client_t *t) { return t ? t->npfx : 0; }

sv_t tracking_prefix(const tracking_client_t *t, int i) { return (sv_t){t->pfx[i], t->pfxlen[i]}; }

/* ---- messages (reg_lock held for reading) ---------------------------------- */

static void put_bulk(buf_t *b, sv_t v)
{
    buf_printf(b, "$%zu\r\n", v.len);
    buf_append(b, v.p, v.len);
    buf_append(b, "\r\n", 2);
}

/* The keys as a RESP array, or a null (a flush) in protocol proto. */
static void put_keys(buf_t *b, const sv_t *keys, int n, int proto)
{
    if (!keys) {
        buf_append(b, proto == 3 ? "_\r\n" : "*-1\r\n", proto == 3 ? 3 : 5);
        return;
    }
    buf_printf(b, "*%d\r\n", n);
    for (int i = 0; i < n; i++)
        put_bulk(b, keys[i]);
}

/* Send t the invalidation of keys (NULL: everything), where its mode says. */
static void send_locked(tracking_client_t *t, const sv_t *keys, int n)
{
    uint64_t redir = atomic_load_explicit(&t->redirect, memory_order_relaxed);
    buf_t f3 = {0};
    static const char push_hdr[] = ">2\r\n$10\r\ninvalidate\r\n";
    buf_append(&f3, push_hdr, sizeof push_hdr - 1);
    put_keys(&f3, keys, n, 3);
    if (!redir) {
        if (t->id == cur_id && in_cmd && tracking_self_direct && self_reply->proto == 3)
            buf_append(self_reply->out, f3.data, f3.len);
        else if (t->id == cur_id && in_cmd)
            buf_append(&self_out, f3.data, f3.len);
        else if (t->mb && pubsub_sub_proto(t->mb) == 3)
            pubsub_sub_push(t->mb, &f3);
        buf_free(&f3);
        return;
    }
    buf_t f2 = {0};
    static const char msg_hdr[] = "*3\r\n$7\r\nmessage\r\n";
    buf_append(&f2, msg_hdr, sizeof msg_hdr - 1);
    put_bulk(&f2, INVALIDATE_CH);
    put_keys(&f2, keys, n, 2);
    /* Delivered, or already known broken, or (a scan of the client registry)
     * the target is still connected but not subscribed: nothing more. */
    if (!pubsub_send_to(redir, &f2, &f3) &&
        !(atomic_load_explicit(&t->flags, memory_order_relaxed) & TRACKING_BROKEN) &&
        !alive_fn(redir)) {
        int was = atomic_fetch_or(&t->flags, TRACKING_BROKEN);
        if (!(was & TRACKING_BROKEN) && t->mb && pubsub_sub_proto(t->mb) == 3) {
            buf_t b = {0};
            static const char hdr[] = ">2\r\n$21\r\ntracking-redir-broken\r\n";
            buf_append(&b, hdr, sizeof hdr - 1);
            buf_printf(&b, ":%llu\r\n", (unsigned long long)redir);
            pubsub_sub_push(t->mb, &b);
            buf_free(&b);
        }
    }
    buf_free(&f2);
    buf_free(&f3);
}

static tracking_client_t *find_locked(uint64_t id)
{
    return (tracking_client_t *)htab_find(&reg, (const char *)&id, sizeof id);
}

/* ---- the tables (the partition's holder) ----------------------------------- */

/* Forget e (unlinked by the caller) and tell its readers, but the running
 * client when noloop applies (a change; an eviction from the table tells
 * everyone). */
static void invalidate_entry(tkey_t *e, int noloop, int counted)
{
    sv_t key = {e->key, e->h.klen};
    pthread_rwlock_rdlock(&reg_lock);
    for (uint32_t i = 0; i < e->n; i++) {
        tracking_client_t *t = find_locked(e->ids[i]);
        if (!t)
            continue; /* gone, or tracking off since */
        int f = atomic_load_explicit(&t->flags, memory_order_relaxed);
        if ((f & TRACKING_BCAST) || (noloop && (f & TRACKING_NOLOOP) && t->id == cur_id))
            continue;
        send_locked(t, &key, 1);
    }
    pthread_rwlock_unlock(&reg_lock);
    if (!counted)
        atomic_fetch_sub_explicit(&total_keys, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&total_items, e->n, memory_order_relaxed);
    free(e->ids);
    free(e);
}

/* The bound: while the total is over tracking-table-max-keys, forget keys of
 * partition part (all but keep, the key just remembered), each with an
 * invalidation to all its readers. Each key forgotten is first taken off the
 * total (compare-and-swap), so workers trimming their partitions at once
 * never take it below the limit. */
static void trim(int part, const tkey_t *keep)
{
    uint64_t max = config_get_u64(CFG_TRACKING_TABLE_MAX_KEYS);
    htab_t *tab = &tabs[part];
    while (max && tab->n > (keep ? 1u : 0u)) {
        uint64_t cur = atomic_load_explicit(&total_keys, memory_order_relaxed);
        if (cur <= max)
            return;
        if (!atomic_compare_exchange_weak(&total_keys, &cur, cur - 1))
            continue;
        tkey_t *v;
        do
            v = (tkey_t *)htab_random(tab);
        while (v == keep);
        htab_unlink(tab, v->h.key, v->h.klen);
        invalidate_entry(v, 0, 1);
    }
}

void tracking_cron(int part)
{
    if (tabs && tabs[part].n)
        trim(part, NULL);
}

static void remember(int part, sv_t key, uint64_t id)
{
    htab_t *tab = &tabs[part];
    tkey_t *e = (tkey_t *)htab_find(tab, key.p, key.len);
    if (!e) {
        e = xcalloc(1, sizeof *e + key.len);
        memcpy(e->key, key.p, key.len);
        e->h.key = e->key;
        e->h.klen = key.len;
        htab_insert(tab, &e->h);
        atomic_fetch_add_explicit(&total_keys, 1, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < e->n; i++)
        if (e->ids[i] == id)
            return;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->ids = xrealloc(e->ids, e->cap * sizeof *e->ids);
    }
    e->ids[e->n++] = id;
    atomic_fetch_add_explicit(&total_items, 1, memory_order_relaxed);
    trim(part, e);
}

static int is_script(const command_t *cmd)
{
    return cmd->group && strcmp(cmd->group, "scripting") == 0;
}

void do_tracking_remember(const cmd_ctx_t *c)
{
    tracking_client_t *t = tracking_cur;
    int f = atomic_load_explicit(&t->flags, memory_order_relaxed);
    if (!(f & TRACKING_ON) || (f & TRACKING_BCAST))
        return;
    int caching = f & TRACKING_CACHING;
    if (((f & TRACKING_OPTIN) && !caching) || ((f & TRACKING_OPTOUT) && caching))
        return;
    /* EVAL_RO itself remembers nothing; a read that a script calls
     * remembers the script's declared keys, not its own (Redis 7.0). */
    if (is_script(c->cmd))
        return;
    if (cur_cmd && is_script(cur_cmd)) {
        /* EVAL script numkeys key...: the declared keys, read from the
         * arguments (with allow-undeclared-keys the command table names no
         * keys: the script holds every partition) */
        long long nk;
        if (cur_argc < 3 || str_to_ll(cur_argv[2].p, cur_argv[2].len, &nk) != 0 || nk < 0 ||
            nk > cur_argc - 3)
            return;
        for (int j = 0; j < (int)nk; j++)
            remember(store_part_of_key(cur_argv[3 + j]), cur_argv[3 + j], t->id);
        return;
    }
    cmd_keys_t k;
    if (command_keys(c->cmd, c->argc, c->argv, &k) < 0)
        return;
    int n = cmd_keys_count(&k);
    for (int j = 0; j < n; j++) {
        sv_t key = c->argv[cmd_keys_at(&k, j)];
        remember(store_part_of_key(key), key, t->id);
    }
}

/* ---- BCAST ------------------------------------------------------------------ */

/* The client's prefix that key starts with (they do not overlap), or -1. */
static int prefix_of(const tracking_client_t *t, sv_t key)
{
    for (int i = 0; i < t->npfx; i++)
        if (t->pfxlen[i] <= key.len && memcmp(t->pfx[i], key.p, t->pfxlen[i]) == 0)
            return i;
    return -1;
}

static void bcast_send_pending(void)
{
    if (!nbpend)
        return;
    sv_t *keys = xmalloc(nbpend * sizeof *keys);
    pthread_rwlock_rdlock(&reg_lock);
    for (size_t i = 0; i < nbpend; i++) {
        if (bpend[i].id == 0)
            continue; /* sent with an earlier one */
        uint64_t id = bpend[i].id;
        int pfx = bpend[i].pfx, n = 0;
        for (size_t j = i; j < nbpend; j++) {
            if (bpend[j].id != id || bpend[j].pfx != pfx)
                continue;
            keys[n++] = (sv_t){bkeys.data + bpend[j].off, bpend[j].len};
            bpend[j].id = 0;
        }
        tracking_client_t *t = find_locked(id);
        if (t && (atomic_load(&t->flags) & TRACKING_BCAST))
            send_locked(t, keys, n);
    }
    pthread_rwlock_unlock(&reg_lock);
    free(keys);
    /* Freed each time: thread-locals have no destructor at a worker's exit. */
    nbpend = 0;
    free(bpend);
    bpend = NULL;
    bpendcap = 0;
    buf_free(&bkeys);
}

static void bcast_key(sv_t key)
{
    pthread_rwlock_rdlock(&reg_lock);
    size_t bucket = 0;
    for (hnode_t *h = htab_next(&reg, &bucket, NULL); h; h = htab_next(&reg, &bucket, h)) {
        tracking_client_t *t = (tracking_client_t *)h;
        int f = atomic_load_explicit(&t->flags, memory_order_relaxed);
        if (!(f & TRACKING_BCAST) || ((f & TRACKING_NOLOOP) && t->id == cur_id))
            continue;
        int pfx = prefix_of(t, key);
        if (pfx < 0)
            continue;
        if (nbpend == bpendcap) {
            bpendcap = bpendcap ? bpendcap * 2 : 16;
            bpend = xrealloc(bpend, bpendcap * sizeof *bpend);
        }
        bpend[nbpend++] = (bpend_t){t->id, pfx, bkeys.len, key.len};
        buf_append(&bkeys, key.p, key.len);
    }
    pthread_rwlock_unlock(&reg_lock);
    if (!in_cmd)
        bcast_send_pending(); /* expiry or eviction outside a command */
}

/* The store's hook: key of partition part changed (the holder). */
static void key_modified(int part, sv_t key)
{
    htab_t *tab = &tabs[part];
    if (tab->n) {
        tkey_t *e = (tkey_t *)htab_unlink(tab, key.p, key.len);
        if (e)
            invalidate_entry(e, 1, 0);
    }
    if (atomic_load_explicit(&nbcast, memory_order_relaxed))
        bcast_key(key);
}

void tracking_enter(tracking_client_t *t, uint64_t id, const command_t *cmd, int argc,
                    sv_t *argv, reply_t *r)
{
    if (in_cmd == 0) {
        cur_cmd = cmd, cur_argc = argc, cur_argv = argv;
        self_reply = r;
        tracking_self_direct = 1;
    }
    tracking_cur = t && (atomic_load_explicit(&t->flags, memory_order_relaxed) & TRACKING_ON)
                       ? t
                       : NULL;
    cur_id = id;
    in_cmd++;
}

uint64_t tracking_current_id(void) { return cur_id; }

void tracking_serve_begin(tracking_serve_t *s, uint64_t id)
{
    s->id = cur_id;
    s->mark = self_out.len;
    cur_id = id;
    in_cmd++;
}

void tracking_serve_end(tracking_serve_t *s, reply_t *r)
{
    if (in_cmd == 1)
        bcast_send_pending(); /* outside any command: its BCAST keys now */
    if (self_out.len > s->mark) {
        if (r->proto == 3)
            buf_append(r->out, self_out.data + s->mark, self_out.len - s->mark);
        self_out.len = s->mark;
    }
    if (in_cmd == 1)
        buf_free(&self_out);
    cur_id = s->id;
    in_cmd--;
}

void tracking_leave(reply_t *r)
{
    if (in_cmd == 1 && (nbpend || self_out.cap)) {
        bcast_send_pending();
        /* in_cmd is still set, so these went to self_out */
        if (self_out.len && r->proto == 3)
            buf_append(r->out, self_out.data, self_out.len);
        buf_free(&self_out); /* no destructor for thread-locals */
    }
    if (--in_cmd == 0) {
        tracking_cur = NULL;
        cur_id = 0;
        cur_cmd = NULL;
        self_reply = NULL;
        tracking_self_direct = 0;
    }
}

void tracking_flush(void)
{
    pthread_rwlock_rdlock(&reg_lock);
    size_t bucket = 0;
    for (hnode_t *h = htab_next(&reg, &bucket, NULL); h; h = htab_next(&reg, &bucket, h))
        send_locked((tracking_client_t *)h, NULL, 0);
    pthread_rwlock_unlock(&reg_lock);
    for (int i = 0; i < ntabs; i++)
        htab_drain(&tabs[i], free_tkey, NULL);
    atomic_store(&total_keys, 0);
    atomic_store(&total_items, 0);
}

/* ---- INFO ------------------------------------------------------------------- */

uint64_t tracking_clients(void) { return atomic_load(&tracking_nclients); }

void tracking_info_stats(buf_t *out)
{
    /* Distinct prefixes over the BCAST clients (few: a quadratic count). */
    uint64_t npfx = 0;
    pthread_rwlock_rdlock(&reg_lock);
    size_t b1 = 0;
    for (hnode_t *h = htab_next(&reg, &b1, NULL); h; h = htab_next(&reg, &b1, h)) {
        tracking_client_t *t = (tracking_client_t *)h;
        for (int i = 0; i < t->npfx; i++) {
            int seen = 0;
            size_t b2 = 0;
            for (hnode_t *g = htab_next(&reg, &b2, NULL); g && g != h && !seen;
                 g = htab_next(&reg, &b2, g)) {
                const tracking_client_t *u = (const tracking_client_t *)g;
                for (int j = 0; j < u->npfx && !seen; j++)
                    seen = u->pfxlen[j] == t->pfxlen[i] &&
                           memcmp(u->pfx[j], t->pfx[i], t->pfxlen[i]) == 0;
            }
            npfx += !seen;
        }
    }
    pthread_rwlock_unlock(&reg_lock);
    buf_printf(out,
               "tracking_total_keys:%llu\r\ntracking_total_items:%llu\r\n"
               "tracking_total_prefixes:%llu\r\n",
               (unsigned long long)atomic_load(&total_keys),
               (unsigned long long)atomic_load(&total_items), (unsigned long long)npfx);
}

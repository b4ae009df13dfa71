/* db — key-level operations of db.h: each finds its key's partition by slot,
 * the database from c->db, and "now" from c->now_ms. The caller's task holds
 * the partition(s) of the keys; nothing here locks. */
#include "db.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "notify.h"
#include "store_priv.h"

/* Strings grow like Redis's sds: double below 1 MiB, then 1 MiB at a time. */
#define STR_PREALLOC_MAX (1024 * 1024)

/* Where a key lives. */
typedef struct keyloc {
    partition_t *p;
    dict_t *d; /* NULL when the database has no dict yet (and create was 0) */
    int db;
    uint64_t h;
} keyloc_t;

/* The partition of key. A task holding a single partition has all its keys
 * there (the scheduler placed it so), which saves hashing the slot again. */
static int part_of(const cmd_ctx_t *c, sv_t key)
{
    if (c->nparts == 1) {
        assert(c->parts[0] == store_part_of_key(key));
        return c->parts[0];
    }
    return store_part_of_key(key);
}

/* The live entry of key in database db (deleting it when expired), or NULL. */
static dict_entry_t *find_live_in(cmd_ctx_t *c, int db, sv_t key, keyloc_t *kl, int create,
                                  int touch)
{
    assert(db >= 0 && db < store_ndbs);
    kl->p = &store_parts[part_of(c, key)];
    kl->db = db;
    kl->d = do_db_dict(kl->p, db, create);
    kl->h = dict_hash(key.p, key.len);
    if (!kl->d)
        return NULL;
    dict_entry_t *e = dict_find_h(kl->d, kl->h, key.p, key.len);
    if (!e)
        return NULL;
    if (entry_expired(e, c->now_ms)) {
        /* While CLIENT PAUSE holds expiry, only a lookup that may create
         * the key reclaims it (its new entry must not sit beside it). */
        if (create || !store_reclaim_paused())
            do_expire_entry(kl->p, kl->db, e);
        return NULL;
    }
    if (touch)
        evict_touch(kl->d, e, c->now_ms);
    return e;
}

/* The same in the command's database. */
static dict_entry_t *find_live(cmd_ctx_t *c, sv_t key, keyloc_t *kl, int create, int touch)
{
    return find_live_in(c, c->db, key, kl, create, touch);
}

static dict_entry_t *new_entry(keyloc_t *kl, sv_t key, uint64_t now)
{
    dict_entry_t *e = dict_add_h(kl->d, kl->h, key.p, key.len);
    evict_init_entry(e, now);
    part_mem_add(kl->p, dict_entry_mem(key.len));
    notify_key_db(NOTIFY_NEW, "new", key, kl->db);
    return e;
}

/* The entry to overwrite key with: the live one (TTL cleared unless keep_ttl)
 * or a new one. */
static dict_entry_t *entry_for_write(cmd_ctx_t *c, sv_t key, keyloc_t *kl, int keep_ttl)
{
    dict_entry_t *e = find_live(c, key, kl, 1, 1);
    if (!e)
        e = new_entry(kl, key, c->now_ms);
    else if (!keep_ttl && e->expire >= 0)
        dict_set_expire(kl->d, e, DICT_NO_EXPIRE);
    do_touch_entry(kl->p, e);
    return e;
}

/* Replace a value, keeping the memory account right. */
static void set_value(partition_t *p, obj_t *o, const obj_t *nv)
{
    part_mem_sub(p, obj_mem(o));
    obj_free(o);
    *o = *nv;
    part_mem_add(p, obj_mem(o));
}

/* Give a string buffer room for need bytes: exactly (fresh strings) or
 * geometrically (growing ones, so repeated APPENDs are amortized O(1)). */
static void str_reserve(partition_t *p, obj_t *o, size_t need, int greedy)
{
    if (obj_scap(o) >= need)
        return;
    size_t cap = need;
    if (greedy)
        cap = need < STR_PREALLOC_MAX ? need * 2 : need + STR_PREALLOC_MAX;
    part_mem_sub(p, obj_mem(o));
    obj_str_reserve(o, cap);
    part_mem_add(p, obj_mem(o));
}

/* Turn an ENC_INT string into ENC_RAW with the same bytes. */
static void str_make_raw(partition_t *p, obj_t *o)
{
    if (o->enc == ENC_RAW)
        return;
    char tmp[24];
    int n = ll_to_str(tmp, o->v.i);
    obj_t nv = obj_make_str(tmp, (size_t)n);
    set_value(p, o, &nv);
}

/* The entry of key in its partition without side effects (no lazy
 * deletion, no LRU touch): NULL when missing or stale. */
static dict_entry_t *peek_live(cmd_ctx_t *c, sv_t key, keyloc_t *kl)
{
    kl->p = &store_parts[part_of(c, key)];
    kl->db = c->db;
    kl->d = do_db_dict(kl->p, c->db, 0);
    kl->h = dict_hash(key.p, key.len);
    dict_entry_t *e = kl->d ? dict_find_h(kl->d, kl->h, key.p, key.len) : NULL;
    return e && !entry_expired(e, c->now_ms) ? e : NULL;
}

obj_t *db_lookup(cmd_ctx_t *c, sv_t key, int flags)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 0, !(flags & LOOKUP_NOTOUCH));
    if (!(flags & LOOKUP_WRITE))
        ctr_add(e ? &kl.p->hits : &kl.p->misses, 1);
    if (!e && !(flags & (LOOKUP_WRITE | LOOKUP_NONOTIFY)))
        notify_key(c, NOTIFY_KEY_MISS, "keymiss", key);
    return e ? &e->val : NULL;
}

void db_set_string(cmd_ctx_t *c, sv_t key, const char *p, size_t n, int keep_ttl)
{
    long long iv;
    if (n <= 20 && str_to_ll(p, n, &iv) == 0) {
        db_set_int(c, key, iv, keep_ttl);
        return;
    }
    keyloc_t kl;
    dict_entry_t *e = entry_for_write(c, key, &kl, keep_ttl);
    obj_t *o = &e->val;
    size_t cap = o->type == OBJ_STRING && o->enc == ENC_RAW ? obj_scap(o) : 0;
    if (n && cap >= n && cap <= n + n / 2 + 16) {
        /* reuse a buffer of about the right size (memmove: p may alias it) */
        memmove(o->v.p, p, n);
        obj_set_slen(o, n);
    } else {
        obj_t nv = obj_make_str(p, n);
        set_value(kl.p, o, &nv);
    }
    do_sync_counts(kl.p, kl.db);
}

void db_set_int(cmd_ctx_t *c, sv_t key, long long v, int keep_ttl)
{
    keyloc_t kl;
    dict_entry_t *e = entry_for_write(c, key, &kl, keep_ttl);
    obj_t nv = {.type = OBJ_STRING, .enc = ENC_INT, .v.i = v};
    set_value(kl.p, &e->val, &nv);
    do_sync_counts(kl.p, kl.db);
}

size_t db_string_append(cmd_ctx_t *c, sv_t key, const char *p, size_t n)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 1, 1);
    if (!e) {
        db_set_string(c, key, p, n, 0);
        return n;
    }
    obj_t *o = &e->val;
    assert(o->type == OBJ_STRING);
    str_make_raw(kl.p, o);
    size_t len = obj_slen(o);
    if (n) {
        str_reserve(kl.p, o, len + n, 1);
        memcpy(o->v.p + len, p, n);
    }
    obj_set_slen(o, len + n);
    do_touch_entry(kl.p, e);
    return len + n;
}

/* touch: count the call as a write of the key even when the bytes stay. */
static char *string_grow(cmd_ctx_t *c, sv_t key, size_t minlen, size_t *len, int touch,
                         int *grewp)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 1, 1);
    obj_t *o;
    int grew = 0;
    if (!e) {
        e = new_entry(&kl, key, c->now_ms);
        o = &e->val;
        o->enc = ENC_RAW; /* empty, no buffer yet */
        grew = 1;
    } else {
        o = &e->val;
        assert(o->type == OBJ_STRING);
        str_make_raw(kl.p, o);
    }
    size_t cur = obj_slen(o);
    if (minlen > cur) {
        str_reserve(kl.p, o, minlen, cur != 0);
        memset(o->v.p + cur, 0, minlen - cur);
        obj_set_slen(o, minlen);
        grew = 1;
    }
    if (touch || grew)
        do_touch_entry(kl.p, e);
    do_sync_counts(kl.p, kl.db);
    *len = obj_slen(o);
    *grewp = grew;
    return o->v.p;
}

char *db_string_grow(cmd_ctx_t *c, sv_t key, size_t minlen, size_t *len)
{
    int grew;
    return string_grow(c, key, minlen, len, 1, &grew);
}

char *db_string_grow_quiet(cmd_ctx_t *c, sv_t key, size_t minlen, size_t *len, int *grew)
{
    return string_grow(c, key, minlen, len, 0, grew);
}

void db_string_changed(cmd_ctx_t *c, sv_t key)
{
    keyloc_t kl;
    dict_entry_t *e = peek_live(c, key, &kl);
    if (e)
        do_touch_entry(kl.p, e);
}

size_t db_string_setrange(cmd_ctx_t *c, sv_t key, size_t off, const char *p, size_t n)
{
    if (n == 0) {
        /* Redis: nothing to write changes nothing (no padding, no new key) */
        char tmp[24];
        keyloc_t kl;
        dict_entry_t *e = find_live(c, key, &kl, 0, 1);
        return e ? obj_str(&e->val, tmp).len : 0;
    }
    size_t len;
    char *s = db_string_grow(c, key, off + n, &len);
    memcpy(s + off, p, n);
    return len;
}

int db_delete(cmd_ctx_t *c, sv_t key)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 0, 0);
    if (!e)
        return 0;
    do_delete_entry(kl.p, kl.db, e);
    return 1;
}

int db_delete_notify(cmd_ctx_t *c, sv_t key)
{
    if (!db_delete(c, key))
        return 0;
    notify_key(c, NOTIFY_GENERIC, "del", key);
    return 1;
}

int64_t db_get_expire(cmd_ctx_t *c, sv_t key)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 0, 0);
    if (!e)
        return -2;
    return e->expire >= 0 ? e->expire : -1;
}

int db_set_expire(cmd_ctx_t *c, sv_t key, int64_t when_ms)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 0, 1);
    if (!e)
        return 0;
    if (when_ms <= 0 || (uint64_t)when_ms <= c->now_ms) {
        /* Already past (SET ... PXAT): Redis keeps the key until its expiry
         * cycle or next access expires it; percore expires it now, counted
         * and notified as expired, and stamped as a deletion for WATCH (the
         * command wrote the key). */
        ctr_add(&kl.p->expired, 1);
        do_key_event(STORE_EVENT_EXPIRED, kl.db, e);
        do_delete_entry(kl.p, kl.db, e);
        return 1;
    }
    dict_set_expire(kl.d, e, when_ms);
    do_touch_entry(kl.p, e);
    do_sync_counts(kl.p, kl.db);
    return 1;
}

int db_persist(cmd_ctx_t *c, sv_t key)
{
    keyloc_t kl;
    dict_entry_t *e = find_live(c, key, &kl, 0, 1);
    if (!e || e->expire < 0)
        return 0;
    dict_set_expire(kl.d, e, DICT_NO_EXPIRE);
    do_touch_entry(kl.p, e);
    do_sync_counts(kl.p, kl.db);
    return 1;
}

/* RENAME and MOVE: se's value, TTL and LRU/LFU data go to a new entry for
 * key at dk (where key has no live entry) without copying the value's bytes,
 * its memory moving between the partitions' accounts (the same partition for
 * MOVE); then se is deleted. */
static void move_entry(cmd_ctx_t *c, keyloc_t *sk, dict_entry_t *se, keyloc_t *dk, sv_t key)
{
    dict_entry_t *ne = new_entry(dk, key, c->now_ms);
    uint64_t vmem = obj_mem(&se->val);
    ne->val = se->val;
    ne->access = se->access;
    if (se->expire >= 0)
        dict_set_expire(dk->d, ne, se->expire);
    do_touch_entry(dk->p, ne);
    part_mem_sub(sk->p, vmem);
    part_mem_add(dk->p, vmem);
    memset(&se->val, 0, sizeof se->val); /* an empty ENC_INT: nothing to free */
    do_delete_entry(sk->p, sk->db, se); /* which publishes sk's counts */
    do_sync_counts(dk->p, dk->db);
}

int db_rename(cmd_ctx_t *c, sv_t src, sv_t dst, int nx)
{
    keyloc_t sk, dk;
    dict_entry_t *se = find_live(c, src, &sk, 0, 1);
    if (!se)
        return -1;
    if (src.len == dst.len && memcmp(src.p, dst.p, src.len) == 0)
        return nx ? 1 : 0;
    dict_entry_t *de = find_live(c, dst, &dk, 1, 0);
    if (de) {
        if (nx)
            return 1;
        do_delete_entry(dk.p, dk.db, de);
    }
    move_entry(c, &sk, se, &dk, dst);
    return 0;
}

int db_copy(cmd_ctx_t *c, sv_t src, sv_t dst, int dstdb, int replace)
{
    keyloc_t sk, dk;
    dict_entry_t *se = find_live(c, src, &sk, 0, 1);
    if (!se)
        return -1;
    dict_entry_t *de = find_live_in(c, dstdb, dst, &dk, 1, 0);
    if (de) {
        if (!replace)
            return 0;
        do_delete_entry(dk.p, dk.db, de);
    }
    obj_t copy;
    obj_dup(&se->val, &copy);
    int64_t expire = se->expire;
    dict_entry_t *ne = new_entry(&dk, dst, c->now_ms);
    ne->val = copy;
    part_mem_add(dk.p, obj_mem(&copy));
    if (expire >= 0)
        dict_set_expire(dk.d, ne, expire);
    do_touch_entry(dk.p, ne);
    do_sync_counts(dk.p, dk.db);
    return 1;
}

int db_move(cmd_ctx_t *c, sv_t key, int dstdb)
{
    keyloc_t sk, dk;
    dict_entry_t *se = find_live(c, key, &sk, 0, 1);
    if (!se || find_live_in(c, dstdb, key, &dk, 1, 0))
        return 0;
    move_entry(c, &sk, se, &dk, key);
    return 1;
}

int db_key_meta(cmd_ctx_t *c, sv_t key, db_key_meta_t *m)
{
    keyloc_t kl;
    if (!db_lookup(c, key, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY))
        return -1;
    dict_entry_t *e = peek_live(c, key, &kl);
    if (!e)
        return -1;
    m->val = &e->val;
    m->idle_ms = evict_idle_ms(e, c->now_ms);
    m->freq = evict_lfu_count(e, c->now_ms);
    m->entry_mem = dict_entry_mem(e->klen);
    return 0;
}

void db_set_access(cmd_ctx_t *c, sv_t key, int64_t idle_s, int freq)
{
    keyloc_t kl;
    dict_entry_t *e = peek_live(c, key, &kl);
    if (e)
        evict_set_access(e, c->now_ms, idle_s, freq);
}

void db_watch(cmd_ctx_t *c, sv_t key, uint64_t *stamp, int *existed)
{
    keyloc_t kl;
    *existed = peek_live(c, key, &kl) != NULL;
    *stamp = kl.p->wseq;
}

int db_watch_changed(cmd_ctx_t *c, sv_t key, uint64_t stamp, int existed)
{
    keyloc_t kl;
    dict_entry_t *e = peek_live(c, key, &kl);
    if (e)
        return !existed || e->mseq > stamp || kl.p->swap_seq[kl.db] > stamp;
    if (existed)
        return 1; /* deleted, expired or flushed since */
    return kl.p->del_seq[(uint32_t)kl.h % WATCH_DEL_SLOTS] > stamp;
}

obj_t *db_add(cmd_ctx_t *c, sv_t key, const obj_t *val)
{
    keyloc_t kl;
    dict_entry_t *e = entry_for_write(c, key, &kl, 0);
    set_value(kl.p, &e->val, val);
    do_sync_counts(kl.p, kl.db);
    return &e->val;
}

int db_modified(cmd_ctx_t *c, sv_t key, obj_t *o, size_t mem_before)
{
    keyloc_t kl;
    dict_entry_t *e = peek_live(c, key, &kl);
    if (!e || &e->val != o)
        return 0;
    part_mem_sub(kl.p, mem_before);
    part_mem_add(kl.p, obj_mem(o));
    if (obj_is_empty(o)) {
        do_delete_entry(kl.p, kl.db, e);
        return 1;
    }
    do_touch_entry(kl.p, e);
    return 0;
}

void db_set_obj(cmd_ctx_t *c, sv_t key, const obj_t *val, int keep_ttl)
{
    if (obj_is_empty(val)) {
        obj_t tmp = *val;
        obj_free(&tmp);
        db_delete(c, key);
        return;
    }
    keyloc_t kl;
    dict_entry_t *e = entry_for_write(c, key, &kl, keep_ttl);
    set_value(kl.p, &e->val, val);
    do_sync_counts(kl.p, kl.db);
}

/* ---- RDB persistence (store.h's store_walk / store_load_key: here, above
 * evict.c, whose access info they read and set) ---------------------------- */

typedef struct walk_ctx {
    store_walk_fn *fn;
    void *arg;
    uint64_t now_ms;
    int lfu;
} walk_ctx_t;

static void walk_entry(void *arg, dict_entry_t *e)
{
    walk_ctx_t *w = arg;
    store_entry_t se = {
        .key = {e->key, e->klen},
        .val = &e->val,
        .expire_ms = e->expire >= 0 ? e->expire : -1,
        .idle_s = w->lfu ? -1 : (int64_t)(evict_idle_ms(e, w->now_ms) / 1000),
        .freq = w->lfu ? (int)evict_lfu_count(e, w->now_ms) : -1,
    };
    w->fn(w->arg, &se);
}

void store_walk(int part, int db, uint64_t now_ms, store_walk_fn *fn, void *arg)
{
    dict_t *d = store_parts[part].dbs[db];
    if (!d)
        return;
    walk_ctx_t w = {fn, arg, now_ms, store_policy_is_lfu()};
    /* Nothing changes the dict during the walk, so the scan's cursor visits
     * each entry exactly once, and it never steps a rehash. */
    uint64_t cur = 0;
    do
        cur = dict_scan(d, cur, walk_entry, &w);
    while (cur != 0);
}

int store_load_key(int db, sv_t key, obj_t *val, int64_t expire_ms, int64_t idle_s, int freq,
                   uint64_t now_ms)
{
    int part = store_part_of_key(key);
    partition_t *p = &store_parts[part];
    dict_t *d = do_db_dict(p, db, 1);
    uint64_t h = dict_hash(key.p, key.len);
    dict_entry_t *e = dict_find_h(d, h, key.p, key.len);
    int dup = e != NULL;
    if (e) {
        part_mem_sub(p, obj_mem(&e->val));
        obj_free(&e->val);
    } else {
        e = dict_add_h(d, h, key.p, key.len);
        evict_init_entry(e, now_ms);
        part_mem_add(p, dict_entry_mem(key.len));
    }
    e->val = *val;
    part_mem_add(p, obj_mem(&e->val));
    dict_set_expire(d, e, expire_ms >= 0 ? expire_ms : DICT_NO_EXPIRE);
    evict_set_access(e, now_ms, idle_s, freq);
    do_sync_counts(p, db);
    return dup;
}

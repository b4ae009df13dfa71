/* The blocking commands' waits; the design is in blocking.h. A wait table
 * and the ready list are touched only by the thread holding the partition
 * (the ready list is that thread's own); a block's state and references are
 * atomics, every other block field is written before the block is
 * published (its partitions released) or by its home worker. */
#include "blocking.h"

#include "aof.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "object.h"
#include "resp.h"
#include "store.h"
#include "t_htab.h"
#include "tracking.h"

struct block {
    xmsg_t msg; /* first: blocking_of is a cast */
    _Atomic int state;
    _Atomic int refs;
    int home;
    void *owner; /* home worker only */
    int arrived; /* home worker only: the wake came while the client was away */
    const command_t *cmd;
    int db, proto, type;
    int first, last, numkeys_at, dest_at;
    uint64_t timeout_ms;
    int argc;
    sv_t *argv; /* copies, in the same allocation as the block */
    buf_t reply;
    uint64_t errors;
    uint64_t client_id; /* the blocked client (its own invalidations, tracking.h) */
    blocking_ready_fn *ready; /* streams: whether a write serves it (blocking.h) */
};

typedef struct wkey wkey_t;

/* One client's wait on one key: a link of the key's FIFO. */
typedef struct waiter {
    struct waiter *next, *prev;
    block_t *b;
} waiter_t;

/* A key with waits: the table entry's key is the database (4 bytes) then the
 * key's bytes, so one table serves every database of the partition. */
struct wkey {
    hnode_t h;
    waiter_t *head, *tail;
    int db;
    size_t klen;
    char kb[];
};

typedef struct wtab {
    htab_t keys;
    uint64_t records;    /* wait records in the table, stale ones included */
    uint64_t sweep_over; /* sweep when records pass this */
} wtab_t;

#define SWEEP_SLACK 64

static wtab_t *tabs;
static int ntabs;
static _Atomic uint64_t total_records; /* a cheap "any waits at all?" for writers */
static void (*send_wake)(int to, xmsg_t *m);
static void (*wake_fn)(xmsg_t *m);

/* The ready list of the calling thread: keys written since its top-level
 * command began that have waits (partition, database, key bytes). */
typedef struct ready {
    int part, db;
    size_t len;
    char *key;
} ready_t;
static _Thread_local ready_t *ready;
static _Thread_local size_t nready, ready_cap;
static _Thread_local size_t ready_pos; /* entries before it are served already */
static _Thread_local int serving;

void blocking_setup(int nparts, void (*send)(int to, xmsg_t *m), void (*woken)(xmsg_t *m))
{
    ntabs = nparts;
    tabs = xcalloc((size_t)nparts, sizeof *tabs);
    for (int p = 0; p < nparts; p++)
        tabs[p].sweep_over = SWEEP_SLACK;
    send_wake = send;
    wake_fn = woken;
    atomic_store(&total_records, 0);
}

void blocking_release(block_t *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    buf_free(&b->reply);
    free(b);
}

static void free_wkey(void *arg, hnode_t *e)
{
    (void)arg;
    wkey_t *k = (wkey_t *)e;
    for (waiter_t *w = k->head, *next; w; w = next) {
        next = w->next;
        blocking_release(w->b);
        free(w);
    }
}

void blocking_teardown(void)
{
    for (int p = 0; p < ntabs; p++)
        htab_drain(&tabs[p].keys, free_wkey, NULL);
    free(tabs);
    tabs = NULL;
    ntabs = 0;
    for (size_t i = 0; i < nready; i++)
        free(ready[i].key);
    free(ready);
    ready = NULL;
    nready = ready_cap = 0;
}

uint64_t blocking_records(void) { return atomic_load_explicit(&total_records, memory_order_relaxed); }

/* ---- the wait tables (partition held) -------------------------------------- */

static void wkey_name(char *dst, int db, sv_t key)
{
    memcpy(dst, &db, sizeof db);
    memcpy(dst + sizeof db, key.p, key.len);
}

static wkey_t *wkey_find(int p, int db, sv_t key)
{
    char stack[256];
    size_t n = sizeof(int) + key.len;
    char *name = n <= sizeof stack ? stack : xmalloc(n);
    wkey_name(name, db, key);
    wkey_t *k = (wkey_t *)htab_find(&tabs[p].keys, name, n);
    if (name != stack)
        free(name);
    return k;
}

static wkey_t *wkey_get(int p, int db, sv_t key)
{
    wkey_t *k = wkey_find(p, db, key);
    if (k)
        return k;
    size_t n = sizeof(int) + key.len;
    k = xcalloc(1, sizeof *k + n);
    wkey_name(k->kb, db, key);
    k->h.key = k->kb;
    k->h.klen = n;
    k->db = db;
    k->klen = key.len;
    htab_insert(&tabs[p].keys, &k->h);
    return k;
}

static void wkey_remove(int p, wkey_t *k)
{
    htab_unlink(&tabs[p].keys, k->h.key, k->h.klen);
    free(k);
}

static void waiter_drop(int p, wkey_t *k, waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        k->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        k->tail = w->prev;
    blocking_release(w->b);
    free(w);
    tabs[p].records--;
    atomic_fetch_sub_explicit(&total_records, 1, memory_order_relaxed);
}

static int block_live(const block_t *b)
{
    return atomic_load_explicit(&b->state, memory_order_acquire) == BLOCK_WAITING;
}

/* Drop every stale record of partition p, and the keys left without waits. */
static void sweep(int p)
{
    size_t bucket = 0, nempty = 0, cap = 0;
    wkey_t **empty = NULL;
    for (hnode_t *e = htab_next(&tabs[p].keys, &bucket, NULL); e;
         e = htab_next(&tabs[p].keys, &bucket, e)) {
        wkey_t *k = (wkey_t *)e;
        for (waiter_t *w = k->head, *next; w; w = next) {
            next = w->next;
            if (!block_live(w->b))
                waiter_drop(p, k, w);
        }
        if (!k->head) {
            if (nempty == cap) {
                cap = cap ? cap * 2 : 16;
                empty = xrealloc(empty, cap * sizeof *empty);
            }
            empty[nempty++] = k;
        }
    }
    for (size_t i = 0; i < nempty; i++)
        wkey_remove(p, empty[i]);
    free(empty);
    tabs[p].sweep_over = 2 * tabs[p].records + SWEEP_SLACK;
}

/* ---- blocking (the handler, partitions held) ---------------------------------- */

int blocking_timeout_arg(cmd_ctx_t *c, int i, uint64_t *ms)
{
    long double v;
    if (str_to_ld(c->argv[i].p, c->argv[i].len, &v) != 0 || isnan(v)) {
        reply_error(c->r, "ERR timeout is not a float or out of range");
        return -1;
    }
    /* Redis 7.0 converts ceil(seconds * 1000) to a long long: anything past
     * its range (inf included) turns negative there, so it is "negative". */
    v = ceill(v * 1000.0L);
    if (v < 0 || !isfinite(v) || v >= 9.2e18L) {
        reply_error(c->r, "ERR timeout is negative");
        return -1;
    }
    *ms = (uint64_t)v;
    return 0;
}

int blocking_wait_ready(cmd_ctx_t *c, int first, int last, uint64_t timeout_ms, int type,
                        blocking_ready_fn *ready)
{
    if (!blocking_wait(c, first, last, 0, 0, timeout_ms, type))
        return 0;
    c->blocked->ready = ready;
    return 1;
}

int blocking_wait(cmd_ctx_t *c, int first, int last, int numkeys_at, int dest_at,
                  uint64_t timeout_ms, int type)
{
    if (!c->may_block)
        return 0;
    size_t bytes = 0;
    for (int i = 0; i < c->argc; i++)
        bytes += c->argv[i].len;
    block_t *b = xcalloc(1, sizeof *b + (size_t)c->argc * sizeof(sv_t) + bytes);
    b->argv = (sv_t *)(b + 1);
    char *dst = (char *)(b->argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(dst, c->argv[i].p, c->argv[i].len);
        b->argv[i] = (sv_t){dst, c->argv[i].len};
        dst += c->argv[i].len;
    }
    b->argc = c->argc;
    b->cmd = c->cmd;
    b->db = c->db;
    b->proto = c->r->proto;
    b->type = type;
    b->first = first;
    b->last = last;
    b->numkeys_at = numkeys_at;
    b->dest_at = dest_at;
    b->timeout_ms = timeout_ms;
    b->client_id = tracking_current_id();
    b->home = -1;
    int refs = 1; /* the client's */
    for (int j = first; j <= last; j++) {
        sv_t key = b->argv[j];
        int p = store_part_of_key(key);
        /* Before the lookup: a sweep frees the keys left without waits. */
        if (tabs[p].records >= tabs[p].sweep_over)
            sweep(p);
        wkey_t *k = wkey_get(p, c->db, key);
        /* A key named twice waits once: its last record is then ours. */
        if (k->tail && k->tail->b == b)
            continue;
        waiter_t *w = xcalloc(1, sizeof *w);
        w->b = b;
        w->prev = k->tail;
        if (k->tail)
            k->tail->next = w;
        else
            k->head = w;
        k->tail = w;
        tabs[p].records++;
        atomic_fetch_add_explicit(&total_records, 1, memory_order_relaxed);
        refs++;
    }
    atomic_store_explicit(&b->refs, refs, memory_order_relaxed);
    atomic_store_explicit(&b->state, BLOCK_WAITING, memory_order_relaxed);
    c->blocked = b;
    return 1;
}

/* ---- marking ready and serving (the holder) ---------------------------------- */

static void ready_add(int p, int db, sv_t key)
{
    /* A key served earlier in this round that gets a value again (BLMOVE's
     * destination) is served again: it is looked for only among the rest. */
    for (size_t i = ready_pos; i < nready; i++)
        if (ready[i].part == p && ready[i].db == db && ready[i].len == key.len &&
            memcmp(ready[i].key, key.p, key.len) == 0)
            return;
    if (nready == ready_cap) {
        ready_cap = ready_cap ? ready_cap * 2 : 8;
        ready = xrealloc(ready, ready_cap * sizeof *ready);
    }
    char *copy = xmalloc(key.len ? key.len : 1);
    memcpy(copy, key.p, key.len);
    ready[nready++] = (ready_t){p, db, key.len, copy};
}

void blocking_touched(cmd_ctx_t *c)
{
    if (!(command_flags(c->cmd, c->argc, c->argv) & CMD_WRITE) || /* XGROUP DESTROY too */
        !atomic_load_explicit(&total_records, memory_order_relaxed))
        return;
    if (command_flags(c->cmd, c->argc, c->argv) & CMD_ALLPARTS) {
        /* FLUSHALL / FLUSHDB: every waited key of the held partitions (an
         * XREADGROUP wait then ends, its key gone; others stay). */
        for (int i = 0; i < c->nparts; i++) {
            int p = c->parts[i];
            size_t bucket = 0;
            for (hnode_t *e = htab_next(&tabs[p].keys, &bucket, NULL); e;
                 e = htab_next(&tabs[p].keys, &bucket, e)) {
                wkey_t *wk = (wkey_t *)e;
                ready_add(p, wk->db, (sv_t){wk->kb + sizeof(int), wk->klen});
            }
        }
        return;
    }
    cmd_keys_t k;
    if (command_keys(c->cmd, c->argc, c->argv, &k) < 0)
        return;
    for (int j = 0, n = cmd_keys_count(&k); j < n; j++) {
        sv_t key = c->argv[cmd_keys_at(&k, j)];
        int p = store_part_of_key(key);
        if (tabs[p].records && wkey_find(p, c->db, key))
            ready_add(p, c->db, key);
    }
}

void blocking_touched_db(cmd_ctx_t *c, int db)
{
    if (!atomic_load_explicit(&total_records, memory_order_relaxed))
        return;
    for (int i = 0; i < c->nparts; i++) {
        int p = c->parts[i];
        size_t bucket = 0;
        for (hnode_t *e = htab_next(&tabs[p].keys, &bucket, NULL); e;
             e = htab_next(&tabs[p].keys, &bucket, e)) {
            wkey_t *k = (wkey_t *)e;
            if (k->db == db)
                ready_add(p, db, (sv_t){k->kb + sizeof db, k->klen});
        }
    }
}

static int held(const cmd_ctx_t *c, int p)
{
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i] == p)
            return 1;
    return 0;
}

/* Claim a waiting block for the one who serves or cancels it. */
static int claim(block_t *b, int to)
{
    int expect = BLOCK_WAITING;
    return atomic_compare_exchange_strong_explicit(&b->state, &expect, to, memory_order_acq_rel,
                                                   memory_order_acquire);
}

static void send_block(block_t *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    b->msg.fn = wake_fn;
    send_wake(b->home, &b->msg);
}

/* Run b's command for it in its single-key, non-blocking form on key (which
 * holds a value of b's type), its reply into b's. The form: the arguments
 * before the keys, key, those after them; numkeys, when there is one, 1. */
static void serve_one(cmd_ctx_t *holder, block_t *b, sv_t key, int keyi)
{
    /* A ready-checked wait (streams) takes the key's own argument after
     * the keys (XREAD ... STREAMS key id): one, not all of them. */
    int argc = b->first + 1 + (b->ready ? 1 : b->argc - b->last - 1);
    sv_t stack[16];
    sv_t *argv = argc <= 16 ? stack : xmalloc((size_t)argc * sizeof *argv);
    int n = 0;
    for (int i = 0; i < b->first; i++)
        argv[n++] = i == b->numkeys_at && i ? (sv_t){"1", 1} : b->argv[i];
    argv[n++] = key;
    if (b->ready)
        argv[n++] = b->argv[b->last + 1 + (keyi - b->first)];
    else
        for (int i = b->last + 1; i < b->argc; i++)
            argv[n++] = b->argv[i];
    reply_t r = {.out = &b->reply, .proto = b->proto};
    cmd_ctx_t x = {
        .argc = argc,
        .argv = argv,
        .r = &r,
        .db = b->db,
        .now_ms = holder->now_ms,
        .cmd = b->cmd,
        .worker = holder->worker,
        .parts = holder->parts,
        .nparts = holder->nparts,
    };
    /* Served in the blocked client's name: its own invalidations follow its
     * reply (tracking.h), as when Redis runs the unblocked command. */
    tracking_serve_t ts;
    tracking_serve_begin(&ts, b->client_id);
    int aof = atomic_load_explicit(&aof_logging, memory_order_relaxed);
    uint64_t aof_d0 = aof ? store_parts_dirty(x.parts, x.nparts) : 0;
    b->cmd->proc(&x);
    if (aof)
        aof_feed_served(&x, aof_d0);
    tracking_serve_end(&ts, &r);
    b->errors = r.errors;
    blocking_touched(&x); /* BLMOVE's destination may have waits of its own */
    if (argv != stack)
        free(argv);
}

/* Serve the FIFO of ready key rd while it holds a value: each live waiter
 * of the value's type is claimed and served in turn; stale records go. */
static void serve_key(cmd_ctx_t *holder, const ready_t *rd)
{
    int p = rd->part;
    sv_t key = {rd->key, rd->len};
    wkey_t *k = wkey_find(p, rd->db, key);
    if (!k)
        return;
    cmd_ctx_t look = *holder;
    look.db = rd->db;
    for (waiter_t *w = k->head, *next; w; w = next) {
        next = w->next;
        block_t *b = w->b;
        if (!block_live(b)) {
            waiter_drop(p, k, w);
            continue;
        }
        if (b->ready) {
            int keyi = b->first;
            while (keyi < b->last && !(b->argv[keyi].len == key.len &&
                                        memcmp(b->argv[keyi].p, key.p, key.len) == 0))
                keyi++;
            int r = b->ready(&look, b->argc, b->argv, keyi, key);
            if (r == BLOCKING_NOT_READY)
                continue;
            if (!claim(b, BLOCK_SERVED)) {
                waiter_drop(p, k, w);
                continue;
            }
            if (r == BLOCKING_KEY_GONE) {
                reply_t gone = {.out = &b->reply, .proto = b->proto};
                reply_error(&gone, "UNBLOCKED the stream key no longer exists");
                b->errors = gone.errors;
            } else {
                serve_one(holder, b, key, keyi);
            }
            send_block(b);
            waiter_drop(p, k, w);
            continue;
        }
        obj_t *o = db_lookup(&look, key, LOOKUP_WRITE | LOOKUP_NOTOUCH);
        if (!o)
            break;
        if (o->type != b->type)
            continue; /* Redis 7.0 leaves it blocked */
        if (b->dest_at && !held(holder, store_part_of_key(b->argv[b->dest_at]))) {
            /* The element stays for the retry, which runs at home holding
             * both partitions; the waiters behind wait for its pop (a write
             * of this key: it serves them then), so they keep their order. */
            if (claim(b, BLOCK_RETRY)) {
                send_block(b);
                waiter_drop(p, k, w);
                break;
            }
            waiter_drop(p, k, w);
            continue;
        }
        if (!claim(b, BLOCK_SERVED)) {
            waiter_drop(p, k, w);
            continue;
        }
        serve_one(holder, b, key, 0);
        send_block(b);
        waiter_drop(p, k, w);
    }
    if (!k->head)
        wkey_remove(p, k);
}

void blocking_serve(cmd_ctx_t *c)
{
    if (serving || !nready)
        return;
    serving = 1;
    /* Serving may mark more keys ready (BLMOVE's destination): the list
     * grows while it is walked. */
    for (size_t i = 0; i < nready; i++) {
        ready_t rd = ready[i]; /* serve_key may grow (move) the list */
        ready_pos = i + 1;
        if (held(c, rd.part))
            serve_key(c, &rd);
    }
    ready_pos = 0;
    for (size_t i = 0; i < nready; i++)
        free(ready[i].key);
    /* Freed each time (the list is per thread, and exists only while waits
     * do), so no thread keeps one past its end. */
    free(ready);
    ready = NULL;
    nready = ready_cap = 0;
    serving = 0;
}

/* ---- the client's side ------------------------------------------------------------ */

void blocking_set_owner(block_t *b, void *owner, int home)
{
    b->owner = owner;
    if (home >= 0)
        b->home = home;
}

void *blocking_owner(const block_t *b) { return b->owner; }
block_t *blocking_of(xmsg_t *m) { return (block_t *)m; }

int blocking_cancel(block_t *b, int why)
{
    if (!claim(b, why))
        return 0;
    send_block(b);
    return 1;
}

int blocking_abandon(block_t *b) { return claim(b, BLOCK_GONE); }

int blocking_type(const block_t *b) { return b->type; }
const command_t *blocking_command(const block_t *b) { return b->cmd; }

int blocking_state(const block_t *b) { return atomic_load_explicit(&b->state, memory_order_acquire); }
uint64_t blocking_timeout_ms(const block_t *b) { return b->timeout_ms; }
const buf_t *blocking_reply(const block_t *b) { return &b->reply; }
uint64_t blocking_reply_errors(const block_t *b) { return b->errors; }
void blocking_set_arrived(block_t *b) { b->arrived = 1; }
int blocking_arrived(const block_t *b) { return b->arrived; }

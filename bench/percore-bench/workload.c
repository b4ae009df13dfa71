/* workload — request classes, key choice and RESP composition. */
#include "workload.h"

#include "mcproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wl_class_name[NCLASS] = {"cheap", "heavy", "txn"};

void wbuf_reserve(struct wbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "percore-bench: out of memory (%zu bytes of requests)\n", cap);
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void wbuf_free(struct wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Decimal digits of v into out, which has room for 20 (no terminator);
 * returns their count. */
static size_t u64_str(uint64_t v, char *out)
{
    size_t n = 0;
    do {
        out[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n / 2; i++) {
        char c = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = c;
    }
    return n;
}

static void put(struct wbuf *b, const void *p, size_t n)
{
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_header(struct wbuf *b, char kind, uint64_t n)
{
    char d[24];
    size_t dl = u64_str(n, d);
    wbuf_reserve(b, dl + 3);
    b->p[b->len++] = kind;
    put(b, d, dl);
    put(b, "\r\n", 2);
}

void resp_array(struct wbuf *b, unsigned n)
{
    put_header(b, '*', n);
}

void resp_bulk(struct wbuf *b, const void *p, size_t len)
{
    put_header(b, '$', len);
    wbuf_reserve(b, len + 2);
    put(b, p, len);
    put(b, "\r\n", 2);
}

void resp_bulk_str(struct wbuf *b, const char *s)
{
    resp_bulk(b, s, strlen(s));
}

void resp_bulk_i64(struct wbuf *b, int64_t v)
{
    char d[24];
    size_t n = 0;
    if (v < 0)
        d[n++] = '-';
    n += u64_str(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, d + n);
    resp_bulk(b, d, n);
}

void resp_bulk_key(struct wbuf *b, const char *prefix, uint64_t i)
{
    char key[64];
    size_t pl = strlen(prefix);
    if (pl > sizeof key - 24)
        pl = sizeof key - 24;
    memcpy(key, prefix, pl);
    resp_bulk(b, key, pl + u64_str(i, key + pl));
}

static char *filled(size_t n, uint64_t seed)
{
    char *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + rng_splitmix64(&x) % 26);
    return p;
}

int wl_init(struct workload *w, const struct opts *o)
{
    memset(w, 0, sizeof *w);
    w->memcache = o->memcache;
    w->keys = o->keys;
    if (o->theta > 0) {
        w->zipf_on = 1;
        if (zipf_init(&w->key_zipf, o->keys, o->theta))
            return -1;
    }
    w->set_frac = (double)o->ratio_set / (double)(o->ratio_set + o->ratio_get);
    w->value_size = o->value_size;
    w->value = filled(o->value_size, 0x5e7);
    w->nheavy = o->nheavy;
    memcpy(w->heavy, o->heavy, sizeof w->heavy);
    for (int i = 0; i < o->nheavy; i++)
        w->heavy_frac += o->heavy[i].frac;
    w->heavy_keys = o->heavy_keys;
    w->list_len = o->list_len;
    w->lua_loops = o->lua_loops;
    if (wl_has_heavy(w, HEAVY_BIGVALUE)) {
        w->big_size = o->big_size;
        w->big = filled(o->big_size, 0xb16);
        if (!w->big)
            goto nomem;
    }
    w->txn_frac = o->txn_frac;
    w->txn_keys = o->txn_keys;
    w->txn_lua = o->txn_lua;
    if (o->txn_frac > 0 && zipf_init(&w->txn_zipf, o->keys, o->txn_theta))
        return -1;
    if (!w->value)
        goto nomem;
    return 0;
nomem:
    wl_free(w);
    return -1;
}

void wl_free(struct workload *w)
{
    free(w->value);
    free(w->big);
    w->value = w->big = NULL;
}

int wl_has_heavy(const struct workload *w, enum heavy_kind k)
{
    for (int i = 0; i < w->nheavy; i++)
        if (w->heavy[i].kind == k)
            return 1;
    return 0;
}

uint64_t wl_key(const struct workload *w, struct rng *r)
{
    return w->zipf_on ? zipf_sample(&w->key_zipf, r) - 1 : rng_below(r, w->keys);
}

enum req_class wl_pick_class(const struct workload *w, struct rng *r)
{
    if (w->txn_frac <= 0 && w->heavy_frac <= 0)
        return CLS_CHEAP;
    double u = rng_uniform(r);
    if (u < w->txn_frac)
        return CLS_TXN;
    if (u < w->txn_frac + w->heavy_frac)
        return CLS_HEAVY;
    return CLS_CHEAP;
}

static unsigned compose_cheap(const struct workload *w, struct rng *r, struct wbuf *b)
{
    uint64_t k = wl_key(w, r);
    if (w->memcache) {
        if (rng_uniform(r) < w->set_frac)
            mc_set(b, "key:", k, w->value, w->value_size);
        else
            mc_get(b, "key:", k);
        return 1;
    }
    if (rng_uniform(r) < w->set_frac) {
        resp_array(b, 3);
        resp_bulk(b, "SET", 3);
        resp_bulk_key(b, "key:", k);
        resp_bulk(b, w->value, w->value_size);
    } else {
        resp_array(b, 2);
        resp_bulk(b, "GET", 3);
        resp_bulk_key(b, "key:", k);
    }
    return 1;
}

static unsigned compose_heavy(const struct workload *w, struct rng *r, struct wbuf *b)
{
    double u = rng_uniform(r) * w->heavy_frac;
    int i = 0;
    while (i < w->nheavy - 1 && u >= w->heavy[i].frac)
        u -= w->heavy[i++].frac;
    switch (w->heavy[i].kind) {
    case HEAVY_LRANGE:
        resp_array(b, 4);
        resp_bulk(b, "LRANGE", 6);
        resp_bulk_key(b, "list:", rng_below(r, w->heavy_keys));
        resp_bulk(b, "0", 1);
        resp_bulk_i64(b, (int64_t)w->list_len - 1);
        break;
    case HEAVY_BIGVALUE:
        if (w->memcache) {
            uint64_t k = rng_below(r, w->heavy_keys);
            if (rng_uniform(r) < w->set_frac)
                mc_set(b, "big:", k, w->big, w->big_size);
            else
                mc_get(b, "big:", k);
        } else if (rng_uniform(r) < w->set_frac) {
            resp_array(b, 3);
            resp_bulk(b, "SET", 3);
            resp_bulk_key(b, "big:", rng_below(r, w->heavy_keys));
            resp_bulk(b, w->big, w->big_size);
        } else {
            resp_array(b, 2);
            resp_bulk(b, "GET", 3);
            resp_bulk_key(b, "big:", rng_below(r, w->heavy_keys));
        }
        break;
    case HEAVY_LUA:
        resp_array(b, 5);
        resp_bulk(b, "EVAL", 4);
        resp_bulk_str(b, WL_HEAVY_LUA);
        resp_bulk(b, "1", 1);
        resp_bulk_key(b, "key:", wl_key(w, r));
        resp_bulk_i64(b, w->lua_loops);
        break;
    }
    return 1;
}

/* txn_keys distinct account indices, Zipf-distributed. */
static void txn_pick(const struct workload *w, struct rng *r, uint64_t *acct)
{
    int n = 0;
    for (long tries = 0; n < w->txn_keys; tries++) {
        uint64_t a;
        if (tries < 100000) {
            a = zipf_sample(&w->txn_zipf, r) - 1;
        } else { /* pathological theta and tiny key space: take the first free index */
            a = 0;
            for (int j = 0; j < n; j++)
                if (acct[j] == a)
                    a++, j = -1;
        }
        int dup = 0;
        for (int j = 0; j < n && !dup; j++)
            dup = acct[j] == a;
        if (!dup)
            acct[n++] = a;
    }
}

static unsigned compose_txn(const struct workload *w, struct rng *r, struct wbuf *b)
{
    uint64_t acct[64];
    int k = w->txn_keys;
    txn_pick(w, r, acct);
    if (w->txn_lua) {
        resp_array(b, (unsigned)(k + 4));
        resp_bulk(b, "EVAL", 4);
        resp_bulk_str(b, WL_TRANSFER_LUA);
        resp_bulk_i64(b, k);
        for (int i = 0; i < k; i++)
            resp_bulk_key(b, "acct:", acct[i]);
        resp_bulk(b, "1", 1);
        return 1;
    }
    resp_array(b, 1);
    resp_bulk(b, "MULTI", 5);
    for (int i = 0; i < k; i++) {
        resp_array(b, 3);
        resp_bulk(b, "INCRBY", 6);
        resp_bulk_key(b, "acct:", acct[i]);
        resp_bulk_i64(b, i == 0 ? -(int64_t)(k - 1) : 1);
    }
    resp_array(b, 1);
    resp_bulk(b, "EXEC", 4);
    return (unsigned)k + 2;
}

unsigned wl_compose(const struct workload *w, struct rng *r, enum req_class cls, struct wbuf *b)
{
    switch (cls) {
    case CLS_HEAVY:
        if (w->nheavy)
            return compose_heavy(w, r, b);
        break;
    case CLS_TXN:
        if (w->txn_frac > 0)
            return compose_txn(w, r, b);
        break;
    default:
        break;
    }
    return compose_cheap(w, r, b);
}

/* workload — what each request is: its class (cheap, heavy, txn), its keys and
 * its bytes. Pure functions over buffers (no sockets), so the unit tests can
 * drive them directly. Key names: key:<i> (cheap and LUA), acct:<i> (txn, integer
 * values), list:<i> (LRANGE), big:<i> (BIGVALUE). */
#ifndef PB_WORKLOAD_H
#define PB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "rng.h"
#include "zipf.h"

enum req_class { CLS_CHEAP, CLS_HEAVY, CLS_TXN, NCLASS };
extern const char *const wl_class_name[NCLASS];

/* A transfer: KEYS[1] pays ARGV[1] to each of the other keys, so the sum of
 * all accounts never changes (the MULTI/EXEC form does the same INCRBYs). */
#define WL_TRANSFER_LUA                                                                            \
    "local a = tonumber(ARGV[1]) "                                                                 \
    "redis.call('INCRBY', KEYS[1], -a * (#KEYS - 1)) "                                             \
    "for i = 2, #KEYS do redis.call('INCRBY', KEYS[i], a) end "                                    \
    "return #KEYS"
/* CPU-bound script touching one declared key: the "heavy" workload of bench/run. */
#define WL_HEAVY_LUA                                                                               \
    "local x = 0 for i = 1, tonumber(ARGV[1]) do x = x + i % 7 end "                               \
    "redis.call('GET', KEYS[1]) return x"

/* A growable byte buffer that requests are composed into. */
struct wbuf {
    char *p;
    size_t len, cap;
};
void wbuf_reserve(struct wbuf *b, size_t more); /* aborts when memory runs out */
void wbuf_free(struct wbuf *b);

/* RESP2 multibulk composition: an array header, then its bulk strings. */
void resp_array(struct wbuf *b, unsigned n);
void resp_bulk(struct wbuf *b, const void *p, size_t len);
void resp_bulk_str(struct wbuf *b, const char *s);
void resp_bulk_i64(struct wbuf *b, int64_t v);
void resp_bulk_key(struct wbuf *b, const char *prefix, uint64_t i);

struct workload {
    int memcache; /* compose memcached text get/set (mcproto.h) instead of RESP */
    uint64_t keys;
    int zipf_on;
    struct zipf key_zipf;
    double set_frac;
    char *value;
    size_t value_size;
    char *big;
    size_t big_size;
    double txn_frac;
    int txn_keys, txn_lua;
    struct zipf txn_zipf;
    double heavy_frac;
    int nheavy;
    struct heavy_opt heavy[OPTS_MAX_HEAVY];
    unsigned heavy_keys, list_len, lua_loops;
};

/* 0, or -1 (bad parameters or no memory). */
int wl_init(struct workload *w, const struct opts *o);
void wl_free(struct workload *w);
int wl_has_heavy(const struct workload *w, enum heavy_kind k);

/* A key index in [0, keys) from the configured distribution (rank 1 -> key:0). */
uint64_t wl_key(const struct workload *w, struct rng *r);
enum req_class wl_pick_class(const struct workload *w, struct rng *r);
/* Appends one request of class cls to b; returns the number of replies it gets
 * (a MULTI/EXEC of k commands gets k + 2). */
unsigned wl_compose(const struct workload *w, struct rng *r, enum req_class cls, struct wbuf *b);

#endif

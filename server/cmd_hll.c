/* cmd_hll — the HyperLogLog commands: PFADD PFCOUNT PFMERGE PFSELFTEST PFDEBUG.
 *
 * A HyperLogLog is a string value in Redis 7.0's HYLL representation
 * (t_hll.h), so GET/SET move sketches between percore and redis-server.
 * Every handler runs with its keys' partitions held by its task: PFCOUNT
 * with several keys and PFMERGE hold all of theirs (their rows name every
 * argument a key), so they read one consistent state of every sketch.
 *
 * Writes: a dense sketch is changed in place (db_string_grow); a sparse one is
 * loaded into its registers, changed, and written back whole (db_set_string,
 * keeping the TTL), becoming dense when a register passes 32 or the value
 * would grow past hll-sparse-max-bytes, as Redis's PFADD promotes it. Errors
 * and events follow Redis 7.0: "pfadd" (class $) when PFADD changed a
 * register, and after every PFMERGE. */
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_hll.h"

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_INVALID_HLL "INVALIDOBJ Corrupted HLL object detected"

/* Registers and an output buffer for one sketch (about 33 KB: static per
 * thread rather than on the stack of every caller). */
typedef struct hll_work {
    uint8_t regs[HLL_REGISTERS];
    unsigned char out[HLL_SPARSE_MAX_SIZE > HLL_DENSE_SIZE ? HLL_SPARSE_MAX_SIZE
                                                           : HLL_DENSE_SIZE];
} hll_work_t;

static _Thread_local hll_work_t work;

/* The bytes of key's sketch for reading: 0 with *v set (v->len 0 when the
 * key is missing), or -1 after the error reply: WRONGTYPE for another type,
 * Redis's "not a valid HyperLogLog" for a string that is not one. */
static int hll_lookup(cmd_ctx_t *c, sv_t key, int flags, sv_t *v)
{
    obj_t *o;
    char tmp[24];

    if (t_lookup(c, key, OBJ_STRING, flags, &o) != 0)
        return -1;
    *v = (sv_t){NULL, 0};
    if (!o)
        return 0;
    if (o->enc == ENC_INT) {
        reply_error(c->r, ERR_NOT_HLL);
        return -1;
    }
    *v = obj_str(o, tmp);
    if (hll_check((const unsigned char *)v->p, v->len) != 0) {
        reply_error(c->r, ERR_NOT_HLL);
        return -1;
    }
    return 0;
}

/* Store work.regs under key as a sketch that was `old` (len bytes; header
 * bytes kept, cache marked stale): dense when it was dense or dense is asked,
 * else sparse unless a register is over 32 or it would grow past
 * hll-sparse-max-bytes. */
static void store_regs(cmd_ctx_t *c, sv_t key, const unsigned char *old, size_t len, int dense)
{
    size_t n = 0;
    if (!dense && hll_encoding(old) == HLL_SPARSE) {
        size_t max = (size_t)config_get_u64(CFG_HLL_SPARSE_MAX_BYTES);
        n = hll_write_sparse(work.regs, old, work.out);
        if (n > max && n > len)
            n = 0;
    }
    if (n == 0) {
        hll_write_dense(work.regs, old, work.out);
        n = HLL_DENSE_SIZE;
    }
    db_set_string(c, key, (const char *)work.out, n, 1);
}

/* PFADD key [element [element ...]] */
static void pfadd_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1], v;
    unsigned char empty[HLL_EMPTY_SIZE];
    long long updated = 0;

    if (hll_lookup(c, key, LOOKUP_WRITE, &v) != 0)
        return;
    if (!v.p) {
        /* a new sketch counts as a change even with no element (Redis) */
        hll_write_empty(empty);
        v = (sv_t){(const char *)empty, sizeof empty};
        updated = 1;
    }
    const unsigned char *p = (const unsigned char *)v.p;
    if (hll_encoding(p) == HLL_DENSE) {
        unsigned char *w = NULL;
        size_t len;
        for (int j = 2; j < c->argc; j++) {
            int idx, count = hll_pattern(c->argv[j].p, c->argv[j].len, &idx);
            const unsigned char *r = (w ? w : p) + HLL_HDR_SIZE;
            if ((unsigned)count <= hll_dense_get(r, idx))
                continue;
            if (!w) /* the first change: now the value may be written */
                w = (unsigned char *)db_string_grow(c, key, 1, &len);
            hll_dense_set(w + HLL_HDR_SIZE, idx, (unsigned)count);
            updated++;
        }
        if (w)
            hll_cache_invalidate(w);
    } else {
        if (hll_load(p, v.len, work.regs) != 0) {
            reply_error(c->r, ERR_INVALID_HLL);
            return;
        }
        for (int j = 2; j < c->argc; j++) {
            int idx, count = hll_pattern(c->argv[j].p, c->argv[j].len, &idx);
            if (count > work.regs[idx]) {
                work.regs[idx] = (uint8_t)count;
                updated++;
            }
        }
        if (updated)
            store_regs(c, key, p, v.len, 0);
    }
    if (updated) {
        notify_key(c, NOTIFY_STRING, "pfadd", key);
        c->dirty += (uint64_t)updated;
    }
    reply_int(c->r, updated ? 1 : 0);
}

/* PFCOUNT key [key ...]: one key answers from (and fills) its cached
 * cardinality; several are merged into one register set, nothing cached. */
static void pfcount_command(cmd_ctx_t *c)
{
    sv_t v;

    if (c->argc == 2) {
        if (hll_lookup(c, c->argv[1], 0, &v) != 0)
            return;
        if (!v.p) {
            reply_int(c->r, 0);
            return;
        }
        const unsigned char *p = (const unsigned char *)v.p;
        if (hll_cache_valid(p)) {
            reply_int(c->r, (long long)hll_cache_get(p));
            return;
        }
        if (hll_load(p, v.len, work.regs) != 0) {
            reply_error(c->r, ERR_INVALID_HLL);
            return;
        }
        uint64_t card = hll_estimate(work.regs);
        /* Redis writes the cache back as a change of the key (WATCH sees it) */
        size_t len;
        hll_cache_set((unsigned char *)db_string_grow(c, c->argv[1], 1, &len), card);
        c->dirty++;
        reply_int(c->r, (long long)card);
        return;
    }
    memset(work.regs, 0, sizeof work.regs);
    for (int j = 1; j < c->argc; j++) {
        if (hll_lookup(c, c->argv[j], 0, &v) != 0)
            return;
        if (v.p && hll_merge((const unsigned char *)v.p, v.len, work.regs) != 0) {
            reply_error(c->r, ERR_INVALID_HLL);
            return;
        }
    }
    reply_int(c->r, (long long)hll_estimate(work.regs));
}

/* PFMERGE destkey [sourcekey [sourcekey ...]]: the destination takes the
 * maximum of every register of itself and the sources; dense when any of them
 * is. */
static void pfmerge_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1], v;
    int dense = 0;
    unsigned char hdr[HLL_EMPTY_SIZE];

    memset(work.regs, 0, sizeof work.regs);
    for (int j = 1; j < c->argc; j++) {
        if (hll_lookup(c, c->argv[j], 0, &v) != 0)
            return;
        if (!v.p)
            continue;
        dense |= hll_encoding((const unsigned char *)v.p) == HLL_DENSE;
        if (hll_merge((const unsigned char *)v.p, v.len, work.regs) != 0) {
            reply_error(c->r, ERR_INVALID_HLL);
            return;
        }
    }
    /* the sources may share the destination's partition: look it up again */
    if (hll_lookup(c, key, LOOKUP_WRITE | LOOKUP_NONOTIFY, &v) != 0)
        return;
    if (v.p) {
        /* its header (the cached bytes) outlives the old value */
        memcpy(hdr, v.p, HLL_HDR_SIZE);
        store_regs(c, key, hdr, v.len, dense);
    } else {
        hll_write_empty(hdr);
        store_regs(c, key, hdr, sizeof hdr, dense);
    }
    notify_key(c, NOTIFY_STRING, "pfadd", key);
    c->dirty++;
    reply_ok(c->r);
}

/* PFSELFTEST */
static void pfselftest_command(cmd_ctx_t *c)
{
    char err[128];
    if (hll_selftest(err, sizeof err) != 0)
        reply_error(c->r, err);
    else
        reply_ok(c->r);
}

/* PFDEBUG's sparse-to-dense conversion (GETREG, TODENSE): 1 when converted,
 * 0 when already dense, -1 after INVALIDOBJ. *v is the value afterwards. */
static int pfdebug_todense(cmd_ctx_t *c, sv_t key, sv_t *v)
{
    const unsigned char *p = (const unsigned char *)v->p;
    if (hll_encoding(p) == HLL_DENSE)
        return 0;
    if (hll_load(p, v->len, work.regs) != 0) {
        reply_error(c->r, ERR_INVALID_HLL);
        return -1;
    }
    hll_write_dense(work.regs, p, work.out);
    /* the conversion keeps the cache as it was */
    memcpy(work.out + 8, p + 8, 8);
    db_set_string(c, key, (const char *)work.out, HLL_DENSE_SIZE, 1);
    c->dirty++;
    return hll_lookup(c, key, LOOKUP_WRITE, v) == 0 ? 1 : -1;
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
static void pfdebug_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[2], v;
    const char *sub = NULL;
    static const char *const subs[] = {"getreg", "decode", "encoding", "todense"};

    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++)
        if (arg_is(c, 1, subs[k]))
            sub = subs[k];
    if (hll_lookup(c, key, LOOKUP_WRITE, &v) != 0)
        return;
    if (!v.p) {
        reply_error(c->r, "ERR The specified key does not exist");
        return;
    }
    if (!sub) {
        reply_errorf(c->r, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)c->argv[1].len,
                     c->argv[1].p);
        return;
    }
    if (sub == subs[0]) {
        if (pfdebug_todense(c, key, &v) < 0)
            return;
        reply_array(c->r, HLL_REGISTERS);
        for (int i = 0; i < HLL_REGISTERS; i++)
            reply_int(c->r, hll_dense_get((const unsigned char *)v.p + HLL_HDR_SIZE, i));
    } else if (sub == subs[1]) {
        if (hll_encoding((const unsigned char *)v.p) != HLL_SPARSE) {
            reply_error(c->r, "ERR HLL encoding is not sparse");
            return;
        }
        size_t cap = (size_t)HLL_REGISTERS * 8 + 1;
        char *text = malloc(cap);
        long n = text ? hll_decode_text((const unsigned char *)v.p, v.len, text, cap) : -1;
        if (n < 0)
            reply_error(c->r, ERR_INVALID_HLL);
        else
            reply_bulk(c->r, text, (size_t)n);
        free(text);
    } else if (sub == subs[2]) {
        reply_status(c->r, hll_encoding((const unsigned char *)v.p) == HLL_DENSE ? "dense"
                                                                                 : "sparse");
    } else {
        int conv = pfdebug_todense(c, key, &v);
        if (conv >= 0)
            reply_int(c->r, conv);
    }
}

const command_t cmds_hll[] = {
    CMD_ROW("pfadd", pfadd_command, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "@write @hyperloglog @fast", "hyperloglog", "2.8.9",
            "Adds the specified elements to the specified HyperLogLog.",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    /* Redis 7.0 flags PFCOUNT readonly though it may write the cache back */
    CMD_ROW("pfcount", pfcount_command, -2, CMD_READONLY, 1, -1, 1,
            "@read @hyperloglog @slow", "hyperloglog", "2.8.9",
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at "
            "key(s).",
        .key_specs = "RW ACCESS index:1 range:-1,1,0"),
    CMD_ROW("pfmerge", pfmerge_command, -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1,
            "@write @hyperloglog @slow", "hyperloglog", "2.8.9",
            "Merge N different HyperLogLogs into a single one.",
        .key_specs = "RW ACCESS INSERT index:1 range:0,1,0; RO ACCESS index:2 range:-1,1,0"),
    CMD_ROW("pfselftest", pfselftest_command, 1, CMD_ADMIN, 0, 0, 0,
            "@hyperloglog @admin @slow @dangerous", "hyperloglog", "2.8.9",
            "An internal command for testing HyperLogLog values"),
    CMD_ROW("pfdebug", pfdebug_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, 2, 2, 1,
            "@write @hyperloglog @admin @slow @dangerous", "hyperloglog", "2.8.9",
            "Internal commands for debugging HyperLogLog values",
        .key_specs = "RW ACCESS index:2 range:0,1,0"),
    {0},
};

/* cmd_util — parsing and reply helpers shared by command handlers. */
#ifndef PERCORE_CMD_UTIL_H
#define PERCORE_CMD_UTIL_H

#include <stdint.h>

#include "buf.h"
#include "command.h"
#include "db.h"
#include "object.h"
#include "util.h"

/* Parse argv[i] as an integer; on failure reply ERR_NOT_INT (or msg when not
 * NULL) and return -1. */
int arg_ll(cmd_ctx_t *c, int i, long long *out, const char *msg);

/* Parse argv[i] as a timeout in whole ms (WAIT, CLIENT PAUSE); on failure
 * reply Redis 7.0's error (not an integer, negative) and return -1. */
int arg_timeout_ms(cmd_ctx_t *c, int i, long long *ms);

/* 1 when argument i equals the option name lit, ignoring case. */
static inline int arg_is(const cmd_ctx_t *c, int i, const char *lit)
{
    return sv_eq_ci(c->argv[i], lit);
}

/* proto-max-bulk-len: the largest string value a command may build (APPEND,
 * SETRANGE). Implemented by the config module; any thread. */
extern size_t cmd_max_bulk_len(void);

/* Turn Redis's inclusive start/end (negative from the end) into a first index
 * and a count, for a list or sorted set of len elements (LRANGE, LTRIM, ZRANGE,
 * ZREMRANGEBYRANK); 0 when the range is empty. */
size_t clamp_range(long long start, long long end, size_t len, size_t *first);

/* ---- helpers shared by the aggregate types' commands ---------------------
 * randmember_generic and scan_generic look up argv[1]: like the handlers,
 * they run with its partition held. */

/* The optional count of SPOP, ZPOPMIN and ZPOPMAX (argument 2, the last one):
 * leaves *count alone when absent; a negative count, or more arguments, is an
 * error. 0, or -1 after replying it. */
int pop_count_generic(cmd_ctx_t *c, long long *count);

/* LMPOP and ZMPOP: numkeys key [key ...] <end0 | end1> [COUNT count], checked
 * in Redis 7.0's order; the first key holding a value of type (WRONGTYPE for
 * another type met before it) is popped from: the reply is [key, what pop
 * replies] (pop gets end 0 for end0, 1 for end1, count default 1), or a null
 * array when no key holds one. mpop_keys is their keys_fn. */
typedef void mpop_fn(cmd_ctx_t *c, sv_t key, obj_t *o, int end, long long count);
void mpop_generic(cmd_ctx_t *c, int type, const char *end0, const char *end1, mpop_fn *pop);
int mpop_keys(int argc, const sv_t *argv, int *first, int *last, int *step);
/* BLMPOP and BZMPOP: timeout numkeys key [key ...] <end0 | end1> [COUNT count],
 * checked in Redis 7.0's order (the syntax, then the timeout, then the keys'
 * types); mpop_generic's reply when a key holds a value, else it blocks
 * (blocking_wait) or, where it may not, replies a null array. bmpop_keys is
 * their keys_fn. */
void bmpop_generic(cmd_ctx_t *c, int type, const char *end0, const char *end1, mpop_fn *pop);
int bmpop_keys(int argc, const sv_t *argv, int *first, int *last, int *step);

/* HRANDFIELD, SRANDMEMBER and ZRANDMEMBER: key [count [with_opt]], with_opt
 * being "withvalues", NULL (SRANDMEMBER takes none) or "withscores". Without a
 * count one random element is replied (null for a missing key); a negative
 * count allows repeats, a positive one does not (and is capped at the size).
 * Each type gives two callbacks on its value (a hash_t, set_t or zset_t, never
 * empty): one replies a random element, with its value or score when with is
 * set (a [element, value] pair in RESP3); distinct replies the array of
 * min(count, size) distinct random elements. */
typedef void rand_one_fn(cmd_ctx_t *c, void *value, int with);
typedef void rand_distinct_fn(cmd_ctx_t *c, void *value, size_t count, int with);
void randmember_generic(cmd_ctx_t *c, int type, const char *with_opt, rand_one_fn *one,
                        rand_distinct_fn *distinct);

/* ---- lookups shared by the aggregate types' command files ---------------- */

/* Look key up for a command on type `type`: *out is the value or NULL when the
 * key is missing; returns -1 (after replying WRONGTYPE) when it holds another
 * type. */
static inline int t_lookup(cmd_ctx_t *c, sv_t key, int type, int flags, obj_t **out)
{
    obj_t *o = db_lookup(c, key, flags);
    if (o && o->type != type) {
        reply_error(c->r, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

/* What a command replies for a missing key, where it answers at once. */
enum { MISS_ZERO, MISS_EMPTY_ARRAY, MISS_OK, MISS_NO_KEY };

/* t_lookup for a command that answers a missing key at once (as Redis's
 * lookupKeyReadOrReply): then replies `miss` (:0, an empty array, +OK or
 * ERR_NO_KEY) and returns -1, as for WRONGTYPE; 0 with *out set otherwise. */
int t_lookup_or_reply(cmd_ctx_t *c, sv_t key, int type, int flags, int miss, obj_t **out);

/* HGET/HMGET, SISMEMBER/SMISMEMBER, ZSCORE/ZMSCORE: key member [member ...].
 * one replies for one member of o (the key's value, NULL when missing); the
 * multi form replies an array of them for arguments 2 and on. */
typedef void member_reply_fn(cmd_ctx_t *c, const obj_t *o, sv_t member);
void member_reply_generic(cmd_ctx_t *c, int type, member_reply_fn *one, int multi);

/* HDEL, SREM, ZREM: key member [member ...]; replies how many were removed
 * and raises hdel, srem or zrem (then del when the key is left empty).
 * del removes one member from the value (until it is empty), returning 1
 * when it was there. */
/* slot: the obj_t's value pointer, which the callback may move */
typedef int member_del_fn(void **slot, sv_t member);
void member_del_generic(cmd_ctx_t *c, int type, member_del_fn *del);

/* ---- SCAN-family arguments and replies of HSCAN, SSCAN and ZSCAN ---------- */

typedef struct scan_opts {
    sv_t pat;
    int use_pat;
    long long count;
} scan_opts_t;

/* Parse "[MATCH pattern] [COUNT count]" from argument `first`; replies the
 * error and returns -1 when invalid. */
int scan_opts_parse(cmd_ctx_t *c, int first, scan_opts_t *o);
static inline int scan_match(const scan_opts_t *o, sv_t s)
{
    return !o->use_pat || glob_match(o->pat.p, o->pat.len, s.p, s.len, 0);
}
/* Reply [cursor, [items...]] from a buffer of length-prefixed strings
 * (t_common.h's scan_push). */
void scan_reply(cmd_ctx_t *c, uint64_t cursor, const buf_t *items, long nitems);

/* What one HSCAN, SSCAN or ZSCAN call gathers: the elements (and values or
 * scores) that pass the options, scan_push'ed into items, n of them. */
typedef struct scan_acc {
    const struct scan_opts *opts;
    buf_t items;
    long n;
} scan_acc_t;

/* HSCAN, SSCAN and ZSCAN: key cursor [MATCH pattern] [COUNT count] on a value
 * of the given OBJ_* type. walk visits about count elements of the value from
 * cursor, adds those that match to acc, and returns the next cursor. */
typedef uint64_t scan_walk_fn(void *value, uint64_t cursor, long long count, scan_acc_t *acc);
void scan_generic(cmd_ctx_t *c, int type, scan_walk_fn *walk);

/* ---- container commands (CLIENT, COMMAND) -------------------------------- */

/* A HELP subcommand's reply: one status line per entry of the NULL-ended lines. */
void reply_help(reply_t *r, const char *const *lines);
/* Redis 7.0's two errors for container commands: a known subcommand with the
 * wrong argument count, or an unknown one ("Try CLIENT HELP."). container is
 * the command's name in lower case, at most 15 characters. */
void reply_subcommand_error(cmd_ctx_t *c, const char *container);

#endif

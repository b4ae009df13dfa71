/* cmd_util — parsing and reply helpers shared by command handlers. No state:
 * the parsers run on any thread; the *_generic command bodies run where their
 * handlers do, with the key's partition held. */
#include "cmd_util.h"

#include "blocking.h"
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "object.h"
#include "t_common.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

int arg_ll(cmd_ctx_t *c, int i, long long *out, const char *msg)
{
    if (str_to_ll(c->argv[i].p, c->argv[i].len, out) == 0)
        return 0;
    reply_error(c->r, msg ? msg : ERR_NOT_INT);
    return -1;
}

int arg_timeout_ms(cmd_ctx_t *c, int i, long long *ms)
{
    if (arg_ll(c, i, ms, "ERR timeout is not an integer or out of range") != 0)
        return -1;
    if (*ms < 0) {
        reply_error(c->r, "ERR timeout is negative");
        return -1;
    }
    return 0;
}

/* ---- SPOP ZPOPMIN ZPOPMAX ---------------------------------------------------- */

int pop_count_generic(cmd_ctx_t *c, long long *count)
{
    long long n = 0;

    if (c->argc > 3) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    if (c->argc < 3)
        return 0;
    /* Not a number and a negative number get the same error. */
    if (arg_ll(c, 2, &n, ERR_POSITIVE) != 0)
        return -1;
    if (n < 0) {
        reply_error(c->r, ERR_POSITIVE);
        return -1;
    }
    *count = n;
    return 0;
}

/* ---- LMPOP ZMPOP -------------------------------------------------------------- */

/* numkeys from argument 1 when it is >= 1 and at most the arguments after
 * it (room for the end word too: room = 1); otherwise -1. */
static int mpop_numkeys(int argc, const sv_t *argv, int room, long long *numkeys)
{
    return str_to_ll(argv[1].p, argv[1].len, numkeys) == 0 && *numkeys >= 1 &&
                   *numkeys <= argc - 2 - room
               ? 0
               : -1;
}

/* As Redis's key finder, this takes numkeys keys whenever that many
 * arguments follow (COMMAND GETKEYS ZMPOP 3 a b min: a, b, min); the
 * handler then replies its syntax error. */
int mpop_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long numkeys;

    if (mpop_numkeys(argc, argv, 0, &numkeys) != 0)
        return -1;
    *first = 2;
    *last = 1 + (int)numkeys;
    *step = 1;
    return 0;
}

static int mpop_parse(cmd_ctx_t *c, const char *end0, const char *end1, long long *numkeys,
                      int *end, long long *count)
{
    if (str_to_ll(c->argv[1].p, c->argv[1].len, numkeys) != 0 || *numkeys < 1) {
        reply_error(c->r, "ERR numkeys should be greater than 0");
        return -1;
    }
    sv_t word = c->argv[2 + (*numkeys < c->argc - 2 ? *numkeys : 0)];
    if (mpop_numkeys(c->argc, c->argv, 1, numkeys) != 0 ||
        !(sv_eq_ci(word, end0) || sv_eq_ci(word, end1))) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    *end = sv_eq_ci(word, end1);
    *count = -1;
    for (int j = 3 + (int)*numkeys; j < c->argc; j++) {
        if (*count != -1 || !arg_is(c, j, "count") || j + 1 >= c->argc) {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
        j++;
        if (arg_ll(c, j, count, "ERR count should be greater than 0") != 0)
            return -1;
        if (*count < 1) {
            reply_error(c->r, "ERR count should be greater than 0");
            return -1;
        }
    }
    if (*count == -1)
        *count = 1;
    return 0;
}

/* Pop from the first non-empty of numkeys keys from argv[first], replying
 * [key, elements]: 1 when done, 0 when all are empty, -1 on an error reply. */
static int mpop_first(cmd_ctx_t *c, int first, int numkeys, int type, mpop_fn *pop, int end,
                      long long count)
{
    obj_t *o;
    for (int k = 0; k < numkeys; k++) {
        sv_t key = c->argv[first + k];
        if (t_lookup(c, key, type, LOOKUP_WRITE, &o) != 0)
            return -1;
        if (o) {
            reply_array(c->r, 2);
            reply_bulk(c->r, key.p, key.len);
            pop(c, key, o, end, count);
            return 1;
        }
    }
    return 0;
}

void mpop_generic(cmd_ctx_t *c, int type, const char *end0, const char *end1, mpop_fn *pop)
{
    long long numkeys, count;
    int end;

    if (mpop_parse(c, end0, end1, &numkeys, &end, &count) != 0)
        return;
    if (mpop_first(c, 2, (int)numkeys, type, pop, end, count) == 0)
        reply_null_array(c->r);
}

int bmpop_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    int rc = mpop_keys(argc - 1, argv + 1, first, last, step);
    if (rc == 0) {
        ++*first;
        ++*last;
    }
    return rc;
}

void bmpop_generic(cmd_ctx_t *c, int type, const char *end0, const char *end1, mpop_fn *pop)
{
    long long numkeys, count;
    int end;
    uint64_t timeout;

    /* The arguments after the timeout are LMPOP's / ZMPOP's. */
    cmd_ctx_t m = *c;
    m.argv = c->argv + 1;
    m.argc = c->argc - 1;
    if (mpop_parse(&m, end0, end1, &numkeys, &end, &count) != 0)
        return;
    if (blocking_timeout_arg(c, 1, &timeout) != 0)
        return;
    int served = mpop_first(c, 3, (int)numkeys, type, pop, end, count);
    if (served != 0)
        return;
    if (!blocking_wait(c, 3, 2 + (int)numkeys, 2, 0, timeout, type))
        reply_null_array(c->r);
}

/* ---- HRANDFIELD SRANDMEMBER ZRANDMEMBER -------------------------------------- */

/* [count [with_opt]], checked in Redis 7.0's order: SRANDMEMBER's extra
 * argument before its count, the others' after. The count lies within
 * +-LLONG_MAX, and with the option within +-LLONG_MAX/2, so that twice it
 * fits a reply length. 0, or -1 after replying the error. */
static int randmember_args(cmd_ctx_t *c, const char *with_opt, long long *count, int *with)
{
    *count = 0;
    *with = 0;
    if (!with_opt && c->argc > 3) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    if (c->argc < 3)
        return 0;
    if (arg_ll(c, 2, count, NULL) != 0)
        return -1;
    if (*count < -LLONG_MAX) {
        reply_error(c->r, "ERR value is out of range, value must between "
                          "-9223372036854775807 and 9223372036854775807");
        return -1;
    }
    if (c->argc > 4 || (c->argc == 4 && !arg_is(c, 3, with_opt))) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    *with = c->argc == 4;
    if (*with && (*count < -LLONG_MAX / 2 || *count > LLONG_MAX / 2)) {
        reply_error(c->r, "ERR value is out of range");
        return -1;
    }
    return 0;
}

void randmember_generic(cmd_ctx_t *c, int type, const char *with_opt, rand_one_fn *one,
                        rand_distinct_fn *distinct)
{
    long long l;
    int with;
    obj_t *o;

    if (randmember_args(c, with_opt, &l, &with) != 0)
        return;
    if (t_lookup(c, c->argv[1], type, 0, &o) != 0)
        return;
    if (c->argc == 2) {
        if (o)
            one(c, o->v.ptr, 0);
        else
            reply_null(c->r);
        return;
    }
    if (!o || l == 0) {
        reply_array(c->r, 0);
        return;
    }
    if (l < 0) {
        /* Repetitions allowed: each pick independent. */
        unsigned long long count = (unsigned long long)-l;
        reply_array(c->r, (long)(with && c->r->proto < 3 ? count * 2 : count));
        /* A reply past its limit is being refused (reply_t.limit): stop
         * picking rather than spin through the rest of a huge count. */
        while (count-- && !c->r->overflow)
            one(c, o->v.ptr, with);
        return;
    }
    distinct(c, o->v.ptr, (size_t)l, with);
}

/* ---- HSCAN SSCAN ZSCAN --------------------------------------------------------- */

int scan_opts_parse(cmd_ctx_t *c, int first, scan_opts_t *o)
{
    o->pat = (sv_t){"", 0};
    o->use_pat = 0;
    o->count = 10;
    for (int j = first; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
        if (arg_is(c, j, "count")) {
            if (arg_ll(c, j + 1, &o->count, NULL) != 0)
                return -1;
            if (o->count < 1) {
                reply_error(c->r, ERR_SYNTAX);
                return -1;
            }
        } else if (arg_is(c, j, "match")) {
            o->pat = c->argv[j + 1];
            o->use_pat = !(o->pat.len == 1 && o->pat.p[0] == '*');
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

void scan_reply(cmd_ctx_t *c, uint64_t cursor, const buf_t *items, long nitems)
{
    char num[24];
    sv_t s;

    reply_array(c->r, 2);
    reply_bulk(c->r, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)cursor));
    reply_array(c->r, nitems);
    for (size_t off = 0; items_next(items, &off, &s);)
        reply_bulk(c->r, s.p, s.len);
}

void scan_generic(cmd_ctx_t *c, int type, scan_walk_fn *walk)
{
    uint64_t cursor;
    scan_opts_t opts;
    obj_t *o;

    if (parse_scan_cursor(c->argv[2], &cursor) != 0) {
        reply_error(c->r, "ERR invalid cursor");
        return;
    }
    if (t_lookup(c, c->argv[1], type, 0, &o) != 0)
        return;
    /* A missing key answers before the options are looked at, as Redis. */
    if (!o) {
        buf_t none = {NULL, 0, 0};
        scan_reply(c, 0, &none, 0);
        return;
    }
    if (scan_opts_parse(c, 3, &opts) != 0)
        return;
    scan_acc_t acc = {&opts, {NULL, 0, 0}, 0};
    cursor = walk(o->v.ptr, cursor, opts.count, &acc);
    scan_reply(c, cursor, &acc.items, acc.n);
    buf_free(&acc.items);
}

size_t cmd_max_bulk_len(void) { return (size_t)config_get_u64(CFG_PROTO_MAX_BULK_LEN); }

/* ---- container commands (CLIENT, COMMAND) ------------------------------- */

void reply_help(reply_t *r, const char *const *lines)
{
    long n = 0;
    while (lines[n])
        n++;
    reply_array(r, n);
    for (long i = 0; i < n; i++)
        reply_status(r, lines[i]);
}

void reply_subcommand_error(cmd_ctx_t *c, const char *container)
{
    sv_t sub = c->argv[1];
    const char *full = command_subcommand_name(c->cmd, sub);
    if (full) {
        reply_errorf(c->r, "ERR wrong number of arguments for '%s' command", full);
        return;
    }
    char upper[16];
    size_t n = strlen(container);
    for (size_t i = 0; i <= n && i < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)container[i]);
    upper[sizeof upper - 1] = '\0';
    reply_errorf(c->r, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(sub.len > 128 ? 128 : sub.len), sub.p, upper);
}

int t_lookup_or_reply(cmd_ctx_t *c, sv_t key, int type, int flags, int miss, obj_t **out)
{
    if (t_lookup(c, key, type, flags, out) != 0)
        return -1;
    if (*out)
        return 0;
    switch (miss) {
    case MISS_ZERO: reply_int(c->r, 0); break;
    case MISS_EMPTY_ARRAY: reply_array(c->r, 0); break;
    case MISS_OK: reply_ok(c->r); break;
    default: reply_error(c->r, ERR_NO_KEY); break;
    }
    return -1;
}

size_t clamp_range(long long start, long long end, size_t len, size_t *first)
{
    long long llen = (long long)len;

    if (start < 0)
        start += llen;
    if (end < 0)
        end += llen;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen)
        return 0;
    if (end >= llen)
        end = llen - 1;
    *first = (size_t)start;
    return (size_t)(end - start + 1);
}

void member_reply_generic(cmd_ctx_t *c, int type, member_reply_fn *one, int multi)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], type, 0, &o) != 0)
        return;
    if (!multi) {
        one(c, o, c->argv[2]);
        return;
    }
    reply_array(c->r, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        one(c, o, c->argv[j]);
}

void member_del_generic(cmd_ctx_t *c, int type, member_del_fn *del)
{
    long long removed = 0;
    obj_t *o;

    if (t_lookup_or_reply(c, c->argv[1], type, LOOKUP_WRITE, MISS_ZERO, &o) != 0)
        return;
    size_t before = obj_mem(o);
    for (int j = 2; j < c->argc && !obj_is_empty(o); j++)
        removed += del(&o->v.ptr, c->argv[j]);
    if (removed) {
        int gone = db_modified(c, c->argv[1], o, before);
        if (type == OBJ_HASH)
            notify_key_gone(c, NOTIFY_HASH, "hdel", c->argv[1], gone);
        else if (type == OBJ_SET)
            notify_key_gone(c, NOTIFY_SET, "srem", c->argv[1], gone);
        else
            notify_key_gone(c, NOTIFY_ZSET, "zrem", c->argv[1], gone);
        c->dirty += (uint64_t)removed;
    }
    reply_int(c->r, removed);
}

/* cmd_bitfield — BITFIELD and BITFIELD_RO: signed and unsigned integers of 1
 * to 64 bits (u63 at most) at any bit offset of a string. Their rows are in
 * cmd_bitmap.c's table.
 *
 * The whole command is parsed before any key is touched (so a bad argument
 * anywhere changes nothing), then the operations run in order on the key's
 * bytes; when any of them writes, the string is first zero-padded to the
 * farthest bit written, as Redis does (even when OVERFLOW FAIL then skips
 * the write). Overflow is decided on the exact sum in 128 bits. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmd_bitmap.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

typedef struct bf_op {
    int kind, sign, bits, overflow;
    uint64_t off;
    long long arg; /* SET's value, INCRBY's increment */
} bf_op_t;

/* "i1".."i64" or "u1".."u63". */
static int parse_type(sv_t t, int *sign, int *bits)
{
    long long n;
    if (t.len < 2 || (t.p[0] != 'i' && t.p[0] != 'u')) /* lower case only, as Redis */
        return -1;
    *sign = t.p[0] == 'i';
    if (str_to_ll(t.p + 1, t.len - 1, &n) != 0 || n < 1 || n > (*sign ? 64 : 63))
        return -1;
    *bits = (int)n;
    return 0;
}

int bit_offset_parse(sv_t arg, int bits, uint64_t *out)
{
    long long n;
    int hash = bits > 0 && arg.len > 0 && arg.p[0] == '#';
    if (str_to_ll(arg.p + hash, arg.len - hash, &n) != 0 || n < 0 ||
        (hash && n > LLONG_MAX / bits))
        return -1;
    if (hash)
        n *= bits;
    if ((uint64_t)n >> 3 >= cmd_max_bulk_len())
        return -1;
    *out = (uint64_t)n;
    return 0;
}

/* Parse every operation into ops (room for argc); the count, or -1 after
 * the error reply. */
static int parse_ops(cmd_ctx_t *c, int readonly, bf_op_t *ops)
{
    int n = 0, overflow = BF_WRAP;
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1, kind;
        if (arg_is(c, j, "overflow") && left >= 1) {
            j++;
            if (arg_is(c, j, "wrap"))
                overflow = BF_WRAP;
            else if (arg_is(c, j, "sat"))
                overflow = BF_SAT;
            else if (arg_is(c, j, "fail"))
                overflow = BF_FAIL;
            else {
                reply_error(c->r, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        }
        if (arg_is(c, j, "get") && left >= 2)
            kind = BF_GET;
        else if (arg_is(c, j, "set") && left >= 3)
            kind = BF_SET;
        else if (arg_is(c, j, "incrby") && left >= 3)
            kind = BF_INCRBY;
        else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
        bf_op_t *op = &ops[n++];
        op->kind = kind;
        op->overflow = overflow;
        if (parse_type(c->argv[j + 1], &op->sign, &op->bits) != 0) {
            reply_error(c->r, "ERR Invalid bitfield type. Use something like i16 u8. Note that "
                              "u64 is not supported but i64 is.");
            return -1;
        }
        if (bit_offset_parse(c->argv[j + 2], op->bits, &op->off) != 0) {
            reply_error(c->r, ERR_BIT_OFFSET);
            return -1;
        }
        j += 2;
        if (kind != BF_GET && arg_ll(c, ++j, &op->arg, NULL) != 0)
            return -1;
    }
    /* Only once everything parsed, as Redis: a bad argument anywhere wins. */
    for (int i = 0; readonly && i < n; i++)
        if (ops[i].kind != BF_GET) {
            reply_error(c->r, "ERR BITFIELD_RO only supports the GET subcommand");
            return -1;
        }
    return n;
}

/* The field's bits as an integer, sign-extended for iN (missing bytes are 0). */
static long long get_field(const unsigned char *p, size_t len, const bf_op_t *op)
{
    uint64_t v = 0;
    for (int i = 0; i < op->bits; i++) {
        uint64_t bit = op->off + (uint64_t)i, byte = bit >> 3;
        v = (v << 1) | (byte < len ? (uint64_t)(p[byte] >> (7 - (bit & 7))) & 1 : 0);
    }
    if (op->sign && op->bits < 64 && (v >> (op->bits - 1)) & 1)
        v |= UINT64_MAX << op->bits;
    return (long long)v;
}

static void set_field(unsigned char *p, const bf_op_t *op, long long value)
{
    uint64_t v = (uint64_t)value;
    for (int i = 0; i < op->bits; i++) {
        uint64_t bit = op->off + (uint64_t)i;
        unsigned char mask = (unsigned char)(1u << (7 - (bit & 7)));
        if ((v >> (op->bits - 1 - i)) & 1)
            p[bit >> 3] |= mask;
        else
            p[bit >> 3] &= (unsigned char)~mask;
    }
}

/* The value a field of op's type gets for the exact result r: 0 with *out
 * when r fits; otherwise 1, with *out what WRAP or SAT make of it. (Redis
 * 7.0 saturates OVERFLOW SAT SET iN of a value near INT64_MIN to the
 * maximum, through an int64 overflow in its check; here it is the minimum.) */
static int fit(const bf_op_t *op, __int128 r, long long *out)
{
    __int128 span = (__int128)1 << op->bits;
    __int128 min = op->sign ? -(span / 2) : 0, max = op->sign ? span / 2 - 1 : span - 1;
    if (r >= min && r <= max) {
        *out = (long long)r;
        return 0;
    }
    if (op->overflow == BF_SAT) {
        *out = (long long)(r > max ? max : min);
    } else {
        __int128 m = ((r % span) + span) % span;
        if (op->sign && m > max)
            m -= span;
        *out = (long long)m;
    }
    return 1;
}

static void bitfield_generic(cmd_ctx_t *c, int readonly)
{
    bf_op_t *ops = xcalloc((size_t)c->argc, sizeof *ops);
    int n = parse_ops(c, readonly, ops);
    if (n < 0)
        goto out;
    uint64_t reach = 0; /* bytes the writes need */
    for (int i = 0; i < n; i++)
        if (ops[i].kind != BF_GET && ((ops[i].off + (uint64_t)ops[i].bits + 7) >> 3) > reach)
            reach = (ops[i].off + (uint64_t)ops[i].bits + 7) >> 3;
    obj_t *o;
    if (t_lookup(c, c->argv[1], OBJ_STRING, reach ? LOOKUP_WRITE : 0, &o) != 0)
        goto out;
    char tmp[24];
    size_t len = 0;
    unsigned char *p = NULL;
    int grew = 0;
    if (reach) {
        p = (unsigned char *)db_string_grow_quiet(c, c->argv[1], reach, &len, &grew);
    } else if (o) {
        sv_t s = obj_str(o, tmp);
        p = (unsigned char *)s.p;
        len = s.len;
    }
    reply_array(c->r, n);
    int changes = 0;
    for (int i = 0; i < n; i++) {
        bf_op_t *op = &ops[i];
        long long old = get_field(p, len, op), v;
        if (op->kind == BF_GET) {
            reply_int(c->r, old);
            continue;
        }
        __int128 r = op->kind == BF_INCRBY ? (__int128)old + op->arg
                     : op->sign           ? (__int128)op->arg
                                          : (__int128)(uint64_t)op->arg;
        if (fit(op, r, &v) && op->overflow == BF_FAIL) {
            reply_null(c->r);
            continue;
        }
        set_field(p, op, v);
        if (grew || v != old) { /* Redis 7.0 counts only what changed */
            changes++;
            c->dirty++;
        }
        reply_int(c->r, op->kind == BF_INCRBY ? v : old);
    }
    if (changes) {
        if (!grew)
            db_string_changed(c, c->argv[1]);
        notify_key(c, NOTIFY_STRING, "setbit", c->argv[1]);
    }
out:
    free(ops);
}

/* BITFIELD key [GET type offset | SET type offset value | INCRBY type offset
 * increment | OVERFLOW <WRAP | SAT | FAIL>] ... */
void bitfield_command(cmd_ctx_t *c)
{
    bitfield_generic(c, 0);
}

/* BITFIELD_RO key [GET type offset] ... */
void bitfield_ro_command(cmd_ctx_t *c)
{
    bitfield_generic(c, 1);
}

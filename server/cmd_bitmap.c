/* cmd_bitmap — strings as arrays of bits: SETBIT GETBIT BITCOUNT BITPOS BITOP
 * BITFIELD BITFIELD_RO. Bit 0 is the most significant bit of byte 0, as in
 * Redis; a missing key reads as an empty string, and a write past the end
 * zero-pads the string first (db_string_grow).
 *
 * Every handler runs with its keys' partitions held by its task (BITOP holds
 * its destination's and every source's), and checks its arguments in Redis
 * 7.0's order. Sizes: a bit offset is refused at or past proto-max-bulk-len
 * bytes, so no command here can make a string longer than SETRANGE could. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_bitmap.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"


/* The string under key for reading: 0 with *s set (empty when the key is
 * missing), or -1 after WRONGTYPE. tmp holds an integer-encoded value. */
static int read_string(cmd_ctx_t *c, sv_t key, sv_t *s, char tmp[24])
{
    obj_t *o;
    if (t_lookup(c, key, OBJ_STRING, 0, &o) != 0)
        return -1;
    *s = o ? obj_str(o, tmp) : (sv_t){"", 0};
    return 0;
}

/* SETBIT's and GETBIT's offset: 0, or -1 after the error reply. */
static int parse_bit_offset(cmd_ctx_t *c, sv_t arg, uint64_t *out)
{
    if (bit_offset_parse(arg, 0, out) == 0)
        return 0;
    reply_error(c->r, ERR_BIT_OFFSET);
    return -1;
}

static int get_bit(const unsigned char *p, size_t len, uint64_t bit)
{
    uint64_t byte = bit >> 3;
    return byte < len ? (p[byte] >> (7 - (bit & 7))) & 1 : 0;
}

/* SETBIT key offset value: the bit's old value. */
static void setbit_command(cmd_ctx_t *c)
{
    uint64_t off;
    obj_t *o;
    if (parse_bit_offset(c, c->argv[2], &off) != 0)
        return;
    sv_t v = c->argv[3];
    if (v.len != 1 || (v.p[0] != '0' && v.p[0] != '1')) {
        reply_error(c->r, "ERR bit is not an integer or out of range");
        return;
    }
    if (t_lookup(c, c->argv[1], OBJ_STRING, LOOKUP_WRITE, &o) != 0)
        return;
    size_t len;
    unsigned char *p = (unsigned char *)db_string_grow(c, c->argv[1], (off >> 3) + 1, &len);
    int old = get_bit(p, len, off);
    unsigned char mask = (unsigned char)(1u << (7 - (off & 7)));
    if (v.p[0] == '1')
        p[off >> 3] |= mask;
    else
        p[off >> 3] &= (unsigned char)~mask;
    notify_key(c, NOTIFY_STRING, "setbit", c->argv[1]);
    c->dirty++;
    reply_int(c->r, old);
}

/* GETBIT key offset */
static void getbit_command(cmd_ctx_t *c)
{
    uint64_t off;
    sv_t s;
    char tmp[24];
    if (parse_bit_offset(c, c->argv[2], &off) != 0 || read_string(c, c->argv[1], &s, tmp) != 0)
        return;
    reply_int(c->r, get_bit((const unsigned char *)s.p, s.len, off));
}

/* ---- ranges: BITCOUNT and BITPOS ----------------------------------------- */

/* [start end] of a string of total units (bytes, or bits with BIT), as
 * BITCOUNT and BITPOS resolve it: negatives count from the end, then both
 * are clamped into the string (end < 0 becomes 0, so "0 -100" still covers
 * unit 0). 0 when the range is empty. */
static int resolve_range(long long *start, long long *end, long long total)
{
    if (*start < 0)
        *start += total;
    if (*end < 0)
        *end += total;
    if (*start < 0)
        *start = 0;
    if (*end < 0)
        *end = 0;
    if (*end >= total)
        *end = total - 1;
    return *start <= *end;
}

/* The optional BYTE | BIT of argument i: 0 with *bits set, -1 after a
 * syntax error. */
static int parse_unit(cmd_ctx_t *c, int i, int *bits)
{
    *bits = 0;
    if (i >= c->argc)
        return 0;
    if (arg_is(c, i, "bit"))
        *bits = 1;
    else if (!arg_is(c, i, "byte")) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* Bits set in p[from bit .. to bit], inclusive. */
static uint64_t count_bits(const unsigned char *p, uint64_t from, uint64_t to)
{
    uint64_t n = 0, b = from;
    for (; b <= to && (b & 7); b++)
        n += get_bit(p, SIZE_MAX, b);
    for (; b + 64 <= to + 1; b += 64) {
        uint64_t w;
        memcpy(&w, p + (b >> 3), 8);
        n += (uint64_t)__builtin_popcountll(w);
    }
    for (; b + 8 <= to + 1; b += 8)
        n += (uint64_t)__builtin_popcount(p[b >> 3]);
    for (; b <= to; b++)
        n += get_bit(p, SIZE_MAX, b);
    return n;
}

/* BITCOUNT key [start end [BYTE | BIT]] */
static void bitcount_command(cmd_ctx_t *c)
{
    sv_t s;
    char tmp[24];
    long long start, end;
    int bits;
    obj_t *o;
    /* A missing key is 0 before the arguments are looked at, as in Redis. */
    if (t_lookup(c, c->argv[1], OBJ_STRING, 0, &o) != 0)
        return;
    if (!o) {
        reply_int(c->r, 0);
        return;
    }
    s = obj_str(o, tmp);
    if (c->argc == 2) {
        reply_int(c->r, s.len ? (long long)count_bits((const unsigned char *)s.p, 0,
                                                      (uint64_t)s.len * 8 - 1)
                              : 0);
        return;
    }
    if (c->argc != 4 && c->argc != 5) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (arg_ll(c, 2, &start, NULL) != 0 || arg_ll(c, 3, &end, NULL) != 0)
        return;
    /* Both from the end and crossed: empty before the unit is looked at. */
    if ((start < 0 && end < 0 && start > end) || parse_unit(c, 4, &bits) != 0) {
        if (start < 0 && end < 0 && start > end)
            reply_int(c->r, 0);
        return;
    }
    long long total = (long long)s.len * (bits ? 8 : 1);
    if (!resolve_range(&start, &end, total)) {
        reply_int(c->r, 0);
        return;
    }
    uint64_t from = bits ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t to = bits ? (uint64_t)end : (uint64_t)end * 8 + 7;
    reply_int(c->r, (long long)count_bits((const unsigned char *)s.p, from, to));
}

/* The first bit equal to bit in p[from bit .. to bit], or -1. */
static long long find_bit(const unsigned char *p, uint64_t from, uint64_t to, int bit)
{
    uint64_t b = from;
    unsigned char skip8 = bit ? 0x00 : 0xff;
    uint64_t skip64 = bit ? 0 : UINT64_MAX;
    for (; b <= to && (b & 7); b++)
        if (get_bit(p, SIZE_MAX, b) == bit)
            return (long long)b;
    for (; b + 64 <= to + 1; b += 64) {
        uint64_t w;
        memcpy(&w, p + (b >> 3), 8);
        if (w != skip64)
            break;
    }
    for (; b + 8 <= to + 1 && p[b >> 3] == skip8; b += 8)
        ;
    for (; b <= to; b++)
        if (get_bit(p, SIZE_MAX, b) == bit)
            return (long long)b;
    return -1;
}

/* BITPOS key bit [start [end [BYTE | BIT]]] */
static void bitpos_command(cmd_ctx_t *c)
{
    long long bit, start = 0, end = -1;
    int bits = 0;
    sv_t s;
    char tmp[24];
    obj_t *o;
    if (arg_ll(c, 2, &bit, NULL) != 0)
        return;
    if (bit != 0 && bit != 1) {
        reply_error(c->r, "ERR The bit argument must be 1 or 0.");
        return;
    }
    if (t_lookup(c, c->argv[1], OBJ_STRING, 0, &o) != 0)
        return;
    if (!o) { /* an empty string: no 1, and a 0 right at its start */
        reply_int(c->r, bit ? -1 : 0);
        return;
    }
    s = obj_str(o, tmp);
    if (c->argc > 6) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    /* Redis's order: start, the unit, then end. */
    int end_given = c->argc >= 5;
    if ((c->argc >= 4 && arg_ll(c, 3, &start, NULL) != 0) || parse_unit(c, 5, &bits) != 0 ||
        (end_given && arg_ll(c, 4, &end, NULL) != 0))
        return;
    long long total = (long long)s.len * (bits ? 8 : 1);
    if (!resolve_range(&start, &end, total)) {
        reply_int(c->r, -1);
        return;
    }
    uint64_t from = bits ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t to = bits ? (uint64_t)end : (uint64_t)end * 8 + 7;
    long long at = find_bit((const unsigned char *)s.p, from, to, (int)bit);
    /* Without an end the string counts as followed by zeros. */
    if (at < 0 && bit == 0 && !end_given)
        at = (long long)to + 1;
    reply_int(c->r, at);
}

/* ---- BITOP ---------------------------------------------------------------- */

enum { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

/* BITOP <AND | OR | XOR | NOT> destkey key [key ...]: the result, as long as
 * the longest source (shorter ones and missing keys read as zeros), replaces
 * destkey (deleted when empty); replies its length. */
static void bitop_command(cmd_ctx_t *c)
{
    static const char *const names[] = {"and", "or", "xor", "not"};
    int op = -1, nsrc = c->argc - 3;
    for (int i = 0; i < 4; i++)
        if (arg_is(c, 1, names[i]))
            op = i;
    if (op < 0) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (op == BITOP_NOT && nsrc != 1) {
        reply_error(c->r, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    sv_t *src = xcalloc((size_t)nsrc, sizeof *src);
    char(*tmp)[24] = xcalloc((size_t)nsrc, sizeof *tmp);
    size_t maxlen = 0;
    for (int i = 0; i < nsrc; i++) {
        if (read_string(c, c->argv[3 + i], &src[i], tmp[i]) != 0)
            goto out;
        if (src[i].len > maxlen)
            maxlen = src[i].len;
    }
    if (maxlen == 0) {
        db_delete_notify(c, c->argv[2]);
        c->dirty++;
        reply_int(c->r, 0);
        goto out;
    }
    unsigned char *res = xmalloc(maxlen);
    for (size_t j = 0; j < maxlen; j++) {
        unsigned char acc = j < src[0].len ? (unsigned char)src[0].p[j] : 0;
        if (op == BITOP_NOT)
            acc = (unsigned char)~acc;
        for (int i = 1; i < nsrc; i++) {
            unsigned char b = j < src[i].len ? (unsigned char)src[i].p[j] : 0;
            acc = op == BITOP_AND ? acc & b : op == BITOP_OR ? acc | b : acc ^ b;
        }
        res[j] = acc;
    }
    db_set_string(c, c->argv[2], (const char *)res, maxlen, 0);
    notify_key(c, NOTIFY_STRING, "set", c->argv[2]);
    free(res);
    c->dirty++;
    reply_int(c->r, (long long)maxlen);
out:
    free(tmp);
    free(src);
}

const command_t cmds_bitmap[] = {
    CMD_ROW("setbit", setbit_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @bitmap @slow",
        "bitmap", "2.2.0", "Sets or clears the bit at offset in the string value stored at key",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("getbit", getbit_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @bitmap @fast",
        "bitmap", "2.2.0", "Returns the bit value at offset in the string value stored at key",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("bitcount", bitcount_command, -2, CMD_READONLY, 1, 1, 1, "@read @bitmap @slow",
        "bitmap", "2.6.0", "Count set bits in a string",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("bitpos", bitpos_command, -3, CMD_READONLY, 1, 1, 1, "@read @bitmap @slow", "bitmap",
        "2.8.7", "Find first bit set or clear in a string",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("bitop", bitop_command, -4, CMD_WRITE | CMD_DENYOOM, 2, -1, 1, "@write @bitmap @slow",
        "bitmap", "2.6.0", "Perform bitwise operations between strings",
        .key_specs = "OW UPDATE index:2 range:0,1,0; RO ACCESS index:3 range:-1,1,0"),
    CMD_ROW("bitfield", bitfield_command, -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
        "@write @bitmap @slow", "bitmap", "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        .key_specs = "RW UPDATE ACCESS VARIABLE_FLAGS index:1 range:0,1,0"),
    CMD_ROW("bitfield_ro", bitfield_ro_command, -2, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@read @bitmap @fast", "bitmap", "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    {0},
};

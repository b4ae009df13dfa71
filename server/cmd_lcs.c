/* cmd_lcs — LCS key1 key2: the longest common subsequence of two strings,
 * by the dynamic-programming table of prefix LCS lengths, as Redis 7.0
 * computes it (so ties resolve the same way and the replies match).
 *
 * The table has (len1 + 1) * (len2 + 1) cells of 4 bytes and takes as many
 * steps to fill, all while the task holds both keys' partitions (key
 * positions 1..2, so they may be two partitions). Its size is checked before
 * anything is allocated: over proto-max-bulk-len it is refused with Redis's
 * error, as Redis does; over LCS_TABLE_MAX (percore's own bound, far below
 * proto-max-bulk-len's default 512 MB) it is refused with the error Redis
 * gives when the table cannot be allocated. 64 MiB is two 4 KiB strings'
 * table; a partition is held for about 20-60 ms to fill it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "object.h"
#include "resp.h"

#define LCS_TABLE_MAX ((size_t)64 << 20)

#define ERR_LCS_TYPE "ERR The specified keys must contain string values"
#define ERR_LCS_BOTH "ERR If you want both the length and indexes, please just use IDX."
#define ERR_LCS_TOO_LONG "ERR String too long for LCS"
#define ERR_LCS_PROTO                                                                          \
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
#define ERR_LCS_ALLOC "ERR Insufficient memory, failed allocating transient memory for LCS"

/* One run of matching bytes: a[a0..a1] == b[b0..b1]. */
typedef struct lcs_range {
    uint32_t a0, a1, b0, b1;
} lcs_range_t;

/* The string value of key (an empty one when missing) or -1 for another type. */
static int lcs_value(cmd_ctx_t *c, int i, char tmp[24], sv_t *out)
{
    obj_t *o = db_lookup(c, c->argv[i], 0);
    if (o && o->type != OBJ_STRING)
        return -1;
    *out = o ? obj_str(o, tmp) : (sv_t){"", 0};
    return 0;
}

/* The table's size in bytes, or 0 after replying why it may not be built. */
static size_t lcs_table_bytes(cmd_ctx_t *c, size_t alen, size_t blen)
{
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        reply_error(c->r, ERR_LCS_TOO_LONG);
        return 0;
    }
    /* Both factors are below 2^32, so the cell count fits 64 bits; the byte
     * count is checked against overflow by division. */
    uint64_t cells = (uint64_t)(alen + 1) * (uint64_t)(blen + 1);
    uint64_t bytes = cells * sizeof(uint32_t);
    if (bytes / sizeof(uint32_t) != cells || bytes > SIZE_MAX ||
        bytes > (uint64_t)cmd_max_bulk_len()) {
        reply_error(c->r, ERR_LCS_PROTO);
        return 0;
    }
    if (bytes > LCS_TABLE_MAX) {
        reply_error(c->r, ERR_LCS_ALLOC);
        return 0;
    }
    return (size_t)bytes;
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
 * Redis 7.0's order: the keys' types, the options, LEN with IDX, the sizes. */
static void lcs_command(cmd_ctx_t *c)
{
    char ta[24], tb[24];
    sv_t a, b;
    int getlen = 0, getidx = 0, withlen = 0;
    long long minlen = 0;

    if (lcs_value(c, 1, ta, &a) != 0 || lcs_value(c, 2, tb, &b) != 0) {
        reply_error(c->r, ERR_LCS_TYPE);
        return;
    }
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c, j, "idx")) {
            getidx = 1;
        } else if (arg_is(c, j, "len")) {
            getlen = 1;
        } else if (arg_is(c, j, "withmatchlen")) {
            withlen = 1;
        } else if (arg_is(c, j, "minmatchlen") && j + 1 < c->argc) {
            if (arg_ll(c, j + 1, &minlen, NULL) != 0)
                return;
            if (minlen < 0)
                minlen = 0;
            j++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (getlen && getidx) {
        reply_error(c->r, ERR_LCS_BOTH);
        return;
    }
    size_t bytes = lcs_table_bytes(c, a.len, b.len);
    if (bytes == 0)
        return;
    uint32_t *t = malloc(bytes);
    if (!t) {
        reply_error(c->r, ERR_LCS_ALLOC);
        return;
    }
    size_t w = b.len + 1; /* row width: T(i, j) is the LCS of a[0..i) and b[0..j) */
#define T(i, j) t[(size_t)(i) * w + (j)]
    for (size_t i = 0; i <= a.len; i++) {
        for (size_t j = 0; j <= b.len; j++) {
            if (i == 0 || j == 0)
                T(i, j) = 0;
            else if (a.p[i - 1] == b.p[j - 1])
                T(i, j) = T(i - 1, j - 1) + 1;
            else
                T(i, j) = T(i - 1, j) > T(i, j - 1) ? T(i - 1, j) : T(i, j - 1);
        }
    }
    uint32_t total = T(a.len, b.len);
    if (getlen) {
        free(t);
        reply_int(c->r, total);
        return;
    }

    /* Walk back from the end: the subsequence's bytes (filled from the end)
     * and its runs of consecutive matches, last run first, as Redis lists
     * them. When both neighbours tie, the walk moves along b (j), as Redis. */
    char *seq = total ? malloc(total) : NULL;
    buf_t runs;
    lcs_range_t cur = {0, 0, 0, 0};
    int open = 0;
    size_t i = a.len, j = b.len, k = total, nruns = 0;
    buf_init(&runs);
    if (total && !seq) {
        free(t);
        reply_error(c->r, ERR_LCS_ALLOC);
        return;
    }
    while (i > 0 && j > 0) {
        if (a.p[i - 1] == b.p[j - 1]) {
            seq[--k] = a.p[i - 1];
            if (open) { /* the previous step matched too: the run grows backwards */
                cur.a0--;
                cur.b0--;
            } else {
                cur = (lcs_range_t){(uint32_t)(i - 1), (uint32_t)(i - 1), (uint32_t)(j - 1),
                                    (uint32_t)(j - 1)};
                open = 1;
            }
            i--;
            j--;
            if (i > 0 && j > 0)
                continue;
        } else if (T(i - 1, j) > T(i, j - 1)) {
            i--;
        } else {
            j--;
        }
        if (open && cur.a1 - cur.a0 + 1 >= (unsigned long long)minlen && getidx) {
            buf_append(&runs, &cur, sizeof cur);
            nruns++;
        }
        open = 0;
    }
#undef T
    free(t);

    if (!getidx) {
        reply_bulk(c->r, seq ? seq : "", total);
    } else {
        reply_map(c->r, 2);
        reply_bulk_cstr(c->r, "matches");
        reply_array(c->r, (long)nruns);
        for (size_t n = 0; n < nruns; n++) {
            lcs_range_t rg;
            memcpy(&rg, runs.data + n * sizeof rg, sizeof rg);
            reply_array(c->r, 2 + withlen);
            reply_array(c->r, 2);
            reply_int(c->r, rg.a0);
            reply_int(c->r, rg.a1);
            reply_array(c->r, 2);
            reply_int(c->r, rg.b0);
            reply_int(c->r, rg.b1);
            if (withlen)
                reply_int(c->r, (long long)(rg.a1 - rg.a0 + 1));
        }
        reply_bulk_cstr(c->r, "len");
        reply_int(c->r, total);
    }
    free(seq);
    buf_free(&runs);
}

const command_t cmds_lcs[] = {
    CMD_ROW("lcs", lcs_command, -3, CMD_READONLY, 1, 2, 1, "@read @string @slow", "string",
        "7.0.0", "Find longest common substring",
        .key_specs = "RO ACCESS index:1 range:1,1,0"),
    {0},
};

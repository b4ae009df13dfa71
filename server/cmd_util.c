/* cmd_util — parsing and reply helpers shared by command handlers. No state:
 * the parsers run on any thread; the *_generic command bodies run where their
 * handlers do, with the key's partition held. */
#include "cmd_util.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "types.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

/* Redis gives up on patterns nesting deeper than this many '*' (a guard against
 * patterns built to take exponential time); we keep the same answer. */
#define GLOB_MAX_NESTING 1000

static inline int fold(unsigned char ch, int nocase)
{
    return nocase ? tolower(ch) : ch;
}

/* Match one "[...]" class against byte ch. *pp and *pn point just past the '['
 * and are left on the closing ']' (or on the last byte when the class is not
 * terminated, so the caller's step moves past the end of the pattern). */
static int class_match(const unsigned char **pp, size_t *pn, unsigned char ch, int nocase)
{
    const unsigned char *p = *pp;
    size_t n = *pn;
    int negate = 0, match = 0;

    if (n > 0 && p[0] == '^') {
        negate = 1;
        p++;
        n--;
    }
    for (;;) {
        if (n >= 2 && p[0] == '\\') {
            /* An escaped byte inside a class compares exactly, even with nocase,
             * as in Redis. */
            p++;
            n--;
            if (p[0] == ch)
                match = 1;
        } else if (n == 0) {
            /* Unterminated class: step back onto the last byte so the caller's
             * advance ends the pattern. */
            p--;
            n++;
            break;
        } else if (p[0] == ']') {
            break;
        } else if (n >= 3 && p[1] == '-') {
            /* Ends are ordered before folding, as Redis does. */
            int lo = p[0], hi = p[2], c = fold(ch, nocase);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            lo = fold((unsigned char)lo, nocase);
            hi = fold((unsigned char)hi, nocase);
            if (c >= lo && c <= hi)
                match = 1;
            p += 2;
            n -= 2;
        } else if (fold(p[0], nocase) == fold(ch, nocase)) {
            match = 1;
        }
        p++;
        n--;
    }
    *pp = p;
    *pn = n;
    return negate ? !match : match;
}

/* *give_up is set once the rest of the pattern after some '*' failed at every
 * position of the string: a longer match for an earlier '*' can only start the
 * rest later, so every caller up the recursion can stop too. */
static int glob_rec(const unsigned char *p, size_t pn, const unsigned char *s, size_t sn,
                    int nocase, int *give_up, int nesting)
{
    if (nesting > GLOB_MAX_NESTING)
        return 0;

    while (pn > 0 && sn > 0) {
        switch (p[0]) {
        case '*':
            while (pn > 1 && p[1] == '*') {
                p++;
                pn--;
            }
            if (pn == 1)
                return 1;
            for (; sn > 0; s++, sn--) {
                if (glob_rec(p + 1, pn - 1, s, sn, nocase, give_up, nesting + 1))
                    return 1;
                if (*give_up)
                    return 0;
            }
            *give_up = 1;
            return 0;
        case '?':
            s++;
            sn--;
            break;
        case '[':
            p++;
            pn--;
            if (!class_match(&p, &pn, s[0], nocase))
                return 0;
            s++;
            sn--;
            break;
        case '\\':
            if (pn >= 2) {
                p++;
                pn--;
            }
            /* the escaped byte is a literal */
            __attribute__((fallthrough));
        default:
            if (fold(p[0], nocase) != fold(s[0], nocase))
                return 0;
            s++;
            sn--;
            break;
        }
        p++;
        pn--;
        if (sn == 0) {
            /* Trailing stars match the empty rest of the string. */
            while (pn > 0 && p[0] == '*') {
                p++;
                pn--;
            }
            break;
        }
    }
    return pn == 0 && sn == 0;
}

int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    int give_up = 0;
    return glob_rec((const unsigned char *)pat, plen, (const unsigned char *)s, slen, nocase,
                    &give_up, 0);
}

int arg_ll(cmd_ctx_t *c, int i, long long *out, const char *msg)
{
    if (str_to_ll(c->argv[i].p, c->argv[i].len, out) == 0)
        return 0;
    reply_error(c->r, msg ? msg : ERR_NOT_INT);
    return -1;
}

int parse_scan_cursor(sv_t s, uint64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;

    /* strtoul semantics, which Redis uses: "" is cursor 0 (nothing converted,
     * nothing left over), a lone sign is not, and "-n" wraps around. */
    if (s.len == 0) {
        *out = 0;
        return 0;
    }
    if (s.p[0] == '+' || s.p[0] == '-') {
        neg = s.p[0] == '-';
        i++;
    }
    if (i == s.len)
        return -1;
    for (; i < s.len; i++) {
        unsigned d = (unsigned char)s.p[i] - '0';
        if (d > 9)
            return -1;
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
}

int format_ld_human(char *dst, size_t cap, long double v)
{
    int n = snprintf(dst, cap, "%.17Lf", v);

    if (n < 0 || (size_t)n >= cap)
        return -1;
    if (memchr(dst, '.', (size_t)n)) {
        while (dst[n - 1] == '0')
            n--;
        if (dst[n - 1] == '.')
            n--;
    }
    if (n == 2 && dst[0] == '-' && dst[1] == '0') {
        dst[0] = '0';
        n = 1;
    }
    dst[n] = '\0';
    return n;
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

/* cmd_util — parsing helpers shared by command handlers. No state: any thread. */
#include "cmd_util.h"

#include <ctype.h>
#include <stdint.h>

#include "object.h"

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

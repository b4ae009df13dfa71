/* util — leaf helpers: Redis's number rules, the glob matcher, clocks and the
 * seeded byte hash. Any thread; the only state is the hash seed, written once
 * at startup. See util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

/* ---- numbers --------------------------------------------------------------- */

/* Redis refuses longer float strings (MAX_LONG_DOUBLE_CHARS). */
#define MAX_FLOAT_CHARS (5 * 1024)

/* Redis's string2ll: an optional '-', then "0" or digits not starting with 0,
 * nothing else, and within range. */
int str_to_ll(const char *p, size_t n, long long *out)
{
    if (n == 0 || n > 20)
        return -1;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return 0;
    }
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1)
            return -1;
    }
    if (p[i] < '1' || p[i] > '9')
        return -1;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return -1;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return -1;
        *out = (long long)v;
    }
    return 0;
}

/* Shared by both float parsers: a NUL-terminated copy (the input is a view),
 * the parse, and Redis's checks (string2ld/string2d in Redis 7.0): no leading
 * space, whole string consumed, no overflow or underflow to zero, no NaN.
 * "inf" and "-inf" are accepted, as Redis does. */
static int parse_float(const char *p, size_t n, int want_ld, long double *ld, double *d)
{
    char stackbuf[128];
    if (n == 0 || n >= MAX_FLOAT_CHARS)
        return -1;
    if (isspace((unsigned char)p[0]) || memchr(p, '\0', n))
        return -1;
    char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    int ok;
    errno = 0;
    if (want_ld) {
        long double v = strtold(buf, &end);
        ok = end == buf + n && !isnan(v) &&
             !(errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO));
        if (ok)
            *ld = v;
    } else {
        double v = strtod(buf, &end);
        ok = end == buf + n && !isnan(v) &&
             !(errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO));
        if (ok)
            *d = v;
    }
    if (buf != stackbuf)
        free(buf);
    return ok ? 0 : -1;
}

int str_to_ld(const char *p, size_t n, long double *out)
{
    return parse_float(p, n, 1, out, NULL);
}

int str_to_double(const char *p, size_t n, double *out)
{
    return parse_float(p, n, 0, NULL, out);
}

int ll_to_str(char *dst, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int len = 0;
    if (v < 0)
        dst[len++] = '-';
    while (n)
        dst[len++] = tmp[--n];
    dst[len] = '\0';
    return len;
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

/* ---- glob ----------------------------------------------------------------- */

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

/* ---- clocks ------------------------------------------------------------ */

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

uint64_t now_ms(void)
{
    return clock_us(CLOCK_REALTIME) / 1000u;
}

uint64_t mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* ---- hashing --------------------------------------------------------------- */

/* Set once at startup, before any table holds keys; read-only afterwards. */
static uint64_t hash_seed;

void hash_bytes_seed(uint64_t seed)
{
    hash_seed = seed;
}

uint64_t hash_bytes(const char *k, size_t n)
{
    return XXH3_64bits_withSeed(k, n, hash_seed);
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
}

uint64_t scan_cursor_next(uint64_t cursor, uint64_t mask)
{
    cursor |= ~mask;
    return rev64(rev64(cursor) + 1);
}

/* ---- memory account ---------------------------------------------------- */

/* One slot a thread, from its first change on: written by that thread only
 * (load + store), read by anyone summing. A thread past MEM_SLOTS keeps its
 * part in a thread-local instead, still bounded by the batch. */
#define MEM_SLOTS 512
typedef struct mem_slot {
    _Alignas(64) _Atomic int64_t pending;
} mem_slot_t;

static mem_slot_t mem_slots[MEM_SLOTS];
static _Atomic int mem_nslots;
static _Atomic int64_t mem_shared;
static _Thread_local mem_slot_t *mem_mine;
static _Thread_local mem_slot_t mem_spare;

static mem_slot_t *mem_slot(void)
{
    if (!mem_mine) {
        int i = atomic_fetch_add_explicit(&mem_nslots, 1, memory_order_relaxed);
        mem_mine = i < MEM_SLOTS ? &mem_slots[i] : &mem_spare;
    }
    return mem_mine;
}

void mem_account(int64_t delta)
{
    mem_slot_t *s = mem_slot();
    int64_t p = atomic_load_explicit(&s->pending, memory_order_relaxed) + delta;
    if (p >= MEM_ACCOUNT_BATCH || p <= -MEM_ACCOUNT_BATCH) {
        /* shared first: a reader in between counts p twice, never zero times */
        atomic_fetch_add_explicit(&mem_shared, p, memory_order_relaxed);
        p = 0;
    }
    atomic_store_explicit(&s->pending, p, memory_order_relaxed);
}

static uint64_t clamp0(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

uint64_t mem_used(void)
{
    return clamp0(atomic_load_explicit(&mem_shared, memory_order_relaxed));
}

uint64_t mem_used_here(void)
{
    return clamp0(atomic_load_explicit(&mem_shared, memory_order_relaxed) +
                  atomic_load_explicit(&mem_slot()->pending, memory_order_relaxed));
}

uint64_t mem_used_exact(void)
{
    int n = atomic_load_explicit(&mem_nslots, memory_order_relaxed);
    int64_t v = atomic_load_explicit(&mem_shared, memory_order_relaxed);
    for (int i = 0; i < n && i < MEM_SLOTS; i++)
        v += atomic_load_explicit(&mem_slots[i].pending, memory_order_relaxed);
    return clamp0(v);
}

uint64_t mem_used_slack(void)
{
    return (uint64_t)atomic_load_explicit(&mem_nslots, memory_order_relaxed) * MEM_ACCOUNT_BATCH;
}

static _Atomic uint64_t mem_uncounted;

void mem_set_not_counted(uint64_t bytes)
{
    atomic_store_explicit(&mem_uncounted, bytes, memory_order_relaxed);
}

uint64_t mem_not_counted(void)
{
    return atomic_load_explicit(&mem_uncounted, memory_order_relaxed);
}

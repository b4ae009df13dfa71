/* util — the leaf helpers every layer uses: Redis's number parsing and
 * formatting rules, the glob matcher, clocks, the seeded byte hash, the
 * allocator footprint estimate, and single-writer counters.
 *
 * The bottom layer: util includes only system headers and buf.h, and any
 * module may call it. No function here keeps state besides the hash seed
 * (set once at startup); all are safe on any thread. */
#ifndef PERCORE_UTIL_H
#define PERCORE_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- numbers ------------------------------------------------------------- */

/* Strict parsers as Redis accepts numbers: no spaces, no trailing bytes, in
 * range. Return 0 on success, -1 if not a number. */
int str_to_ll(const char *p, size_t n, long long *out);
int str_to_ld(const char *p, size_t n, long double *out);
int str_to_double(const char *p, size_t n, double *out);
/* long long -> decimal; returns length (dst >= 21 bytes). */
int ll_to_str(char *dst, long long v);

/* Parse a SCAN-family cursor as Redis does (strtoul rules: optional sign, no
 * leading space, no trailing bytes, no overflow; "" is 0). 0 or -1. */
int parse_scan_cursor(sv_t s, uint64_t *out);
/* The SCAN cursor after the bucket at cursor in a table of mask + 1 buckets:
 * one added to its bits under mask counting from the high bit down, as
 * Redis's dictScan. That reverse-binary order keeps a scan complete when the
 * table doubles or halves between calls (dict.c, t_htab.c). */
uint64_t scan_cursor_next(uint64_t cursor, uint64_t mask);

/* Room for "%.17Lf" of the largest long double (about 4950 digits): Redis
 * sizes its buffer the same way. */
#define LD_STR_MAX 5120

/* Redis's "human" long double form (INCRBYFLOAT, HINCRBYFLOAT): fixed point
 * with 17 decimals, trailing zeros and a trailing dot dropped, never an
 * exponent, "-0" shown as "0". Returns the length, or -1 when cap is too
 * small. */
int format_ld_human(char *dst, size_t cap, long double v);

/* ---- patterns ------------------------------------------------------------ */

/* Glob-style match with Redis's stringmatch rules (* ? [abc] [^a-z] \x), binary
 * safe. Quirks kept from Redis: an unterminated class ("[ab") still matches one
 * byte from its set, "[a-]" is a range up to ']', a range's ends may be given in
 * either order, a pattern nesting more than 1000 '*' never matches, and the
 * empty string is matched by the empty pattern only (not by "*"). Range
 * ends compare as unsigned bytes. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

/* ---- clocks -------------------------------------------------------------- */

/* Milliseconds / microseconds since the epoch, wall clock. */
uint64_t now_ms(void);
uint64_t now_us(void);
/* Microseconds of the monotonic clock (durations and budgets). */
uint64_t mono_us(void);

/* ---- hashing ------------------------------------------------------------- */

/* The seeded 64-bit hash of byte strings that every hash table keys on (the
 * store's dicts and the aggregate values' tables), so that clients cannot
 * flood a bucket. Seed it once at startup, before any table holds keys; 0
 * (the default) is fine for tests. */
void hash_bytes_seed(uint64_t seed);
uint64_t hash_bytes(const char *k, size_t n);

/* ---- memory -------------------------------------------------------------- */

/* The allocator footprint the memory accounts charge for a malloc(n):
 * jemalloc's size class for n (the allocator percore links; see
 * tests/unit/util for the check against nallocx): 8 and 16, then multiples of
 * 16 up to 128, then four classes per doubling. */
static inline size_t mem_alloc_size(size_t n)
{
    if (n <= 8)
        return 8;
    if (n <= 128)
        return (n + 15) & ~(size_t)15;
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    size_t step = (size_t)1 << (lg - 2);
    return (n + step - 1) & ~(step - 1);
}

/* The size classes of mem_alloc_size numbered from 0 (8 bytes), so that one
 * byte names a class (obj_t's string capacity): mem_class_index takes a value
 * of mem_alloc_size, mem_class_size gives it back. */
static inline unsigned mem_class_index(size_t cls)
{
    if (cls <= 128)
        return (unsigned)(cls / 16);
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(cls - 1));
    return 9 + (lg - 7) * 4 + (unsigned)(cls >> (lg - 2)) - 5;
}
static inline size_t mem_class_size(unsigned i)
{
    if (i <= 8)
        return i ? (size_t)i * 16 : 8;
    unsigned j = i - 9, lg = 7 + j / 4;
    return (size_t)(5 + j % 4) << (lg - 2);
}

/* The server-wide memory account (what maxmemory limits): every thread adds
 * its changes to a slot of its own and moves that into one shared counter
 * once it passes MEM_ACCOUNT_BATCH either way, so the write path touches a
 * shared cache line once per ~16 KiB instead of on every write.
 * mem_used() reads the shared counter alone: stale by less than
 * MEM_ACCOUNT_BATCH per thread that changes memory; mem_used_here() adds the
 * caller's own slot; mem_used_exact() adds every thread's slot (one load per
 * thread: for checks near the limit). mem_used_slack() bounds how far the
 * first two may be from the exact sum. */
#define MEM_ACCOUNT_BATCH (16 * 1024)
void mem_account(int64_t delta);
uint64_t mem_used(void);
uint64_t mem_used_here(void);
uint64_t mem_used_exact(void);
uint64_t mem_used_slack(void);
/* Bytes of the account that maxmemory does not count for now (clients'
 * buffers past maxmemory-clients, which client eviction is about to free:
 * keys are not evicted for them). Any thread. */
void mem_set_not_counted(uint64_t bytes);
uint64_t mem_not_counted(void);

/* ---- threads ------------------------------------------------------------- */

/* The pause between two polls of a spinning waiter (rings, spinlocks). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* A counter with one writer thread, read by any: a relaxed load and store
 * instead of an atomic add, as cheap as a plain increment. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
static inline uint64_t stat_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}
/* Zero a struct of such counters (a module's X-macro table), e.g. for
 * CONFIG RESETSTAT; racing increments may survive, as in Redis. */
static inline void stat_zero(void *counters, size_t bytes)
{
    _Atomic uint64_t *c = counters;
    for (size_t i = 0; i < bytes / sizeof *c; i++)
        atomic_store_explicit(&c[i], 0, memory_order_relaxed);
}

#endif

/* t_hll — HyperLogLog registers and their two representations (t_hll.h).
 * Written from the public descriptions: MurmurHash64A (Austin Appleby),
 * Redis's documented HYLL layout, and O. Ertl, "New cardinality estimation
 * algorithms for HyperLogLog sketches" (2017) for the estimator. */
#include "t_hll.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MURMUR_M 0xc6a4a7935bd1e995ULL
#define MURMUR_R 47
#define HLL_SEED 0xadc83b19ULL

/* Sparse opcodes. */
#define OP_XZERO_BIT 0x40
#define OP_VAL_BIT 0x80
#define ZERO_RUN_MAX 64
#define XZERO_RUN_MAX 16384
#define VAL_RUN_MAX 4

uint64_t hll_hash(const void *key, size_t len, uint64_t seed)
{
    const unsigned char *p = key;
    uint64_t h = seed ^ ((uint64_t)len * MURMUR_M);
    size_t blocks = len / 8;

    for (size_t b = 0; b < blocks; b++, p += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--)
            k = (k << 8) | p[j];
        k *= MURMUR_M;
        k ^= k >> MURMUR_R;
        k *= MURMUR_M;
        h ^= k;
        h *= MURMUR_M;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t j = tail; j-- > 0;)
            h ^= (uint64_t)p[j] << (8 * j);
        h *= MURMUR_M;
    }
    h ^= h >> MURMUR_R;
    h *= MURMUR_M;
    h ^= h >> MURMUR_R;
    return h;
}

int hll_pattern(const void *p, size_t len, int *idx)
{
    uint64_t h = hll_hash(p, len, HLL_SEED);
    *idx = (int)(h & (HLL_REGISTERS - 1));
    /* The sentinel bit caps the count at HLL_Q + 1. */
    h = (h >> HLL_P) | (1ULL << HLL_Q);
    return __builtin_ctzll(h) + 1;
}

int hll_check(const unsigned char *p, size_t len)
{
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0)
        return -1;
    if (p[4] > HLL_SPARSE)
        return -1;
    if (p[4] == HLL_DENSE && len != HLL_DENSE_SIZE)
        return -1;
    return 0;
}

int hll_cache_valid(const unsigned char *p)
{
    return (p[15] & 0x80) == 0;
}

uint64_t hll_cache_get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int j = 7; j >= 0; j--)
        v = (v << 8) | p[8 + j];
    return v;
}

void hll_cache_set(unsigned char *p, uint64_t card)
{
    for (int j = 0; j < 8; j++)
        p[8 + j] = (unsigned char)(card >> (8 * j));
}

void hll_cache_invalidate(unsigned char *p)
{
    p[15] |= 0x80;
}

unsigned hll_dense_get(const unsigned char *regs, int i)
{
    size_t bit = (size_t)i * HLL_BITS, b = bit / 8;
    unsigned sh = bit & 7;
    unsigned v = regs[b] >> sh;
    if (sh > 8 - HLL_BITS)
        v |= (unsigned)regs[b + 1] << (8 - sh);
    return v & HLL_REG_MAX;
}

void hll_dense_set(unsigned char *regs, int i, unsigned v)
{
    size_t bit = (size_t)i * HLL_BITS, b = bit / 8;
    unsigned sh = bit & 7;
    v &= HLL_REG_MAX;
    regs[b] = (unsigned char)((regs[b] & ~(HLL_REG_MAX << sh)) | (v << sh));
    if (sh > 8 - HLL_BITS) {
        unsigned hi = 8 - sh; /* bits of v already in regs[b] */
        regs[b + 1] = (unsigned char)((regs[b + 1] & ~(HLL_REG_MAX >> hi)) | (v >> hi));
    }
}

/* One sparse opcode at p[*pos]: its run and value (0 for the zero runs);
 * *xz tells an XZERO. -1 when the opcode is cut short. */
static int sparse_op(const unsigned char *p, size_t len, size_t *pos, int *run, int *val, int *xz)
{
    unsigned char op = p[*pos];
    *xz = 0;
    if (op & OP_VAL_BIT) {
        *val = ((op >> 2) & 0x1f) + 1;
        *run = (op & 3) + 1;
    } else if (op & OP_XZERO_BIT) {
        if (*pos + 1 >= len)
            return -1;
        *val = 0;
        *run = (((op & 0x3f) << 8) | p[*pos + 1]) + 1;
        *xz = 1;
        (*pos)++;
    } else {
        *val = 0;
        *run = (op & 0x3f) + 1;
    }
    (*pos)++;
    return 0;
}

int hll_merge(const unsigned char *p, size_t len, uint8_t regs[HLL_REGISTERS])
{
    const unsigned char *r = p + HLL_HDR_SIZE;
    if (hll_encoding(p) == HLL_DENSE) {
        for (int i = 0; i < HLL_REGISTERS; i++) {
            unsigned v = hll_dense_get(r, i);
            if (v > regs[i])
                regs[i] = (uint8_t)v;
        }
        return 0;
    }
    size_t pos = HLL_HDR_SIZE, idx = 0;
    while (pos < len) {
        int run, val, xz;
        if (sparse_op(p, len, &pos, &run, &val, &xz) != 0)
            return -1;
        /* idx never passes HLL_REGISTERS, so it cannot overflow however many
         * opcodes a crafted value holds */
        if ((size_t)run > HLL_REGISTERS - idx)
            return -1;
        for (int j = 0; j < run && val; j++)
            if (val > regs[idx + j])
                regs[idx + j] = (uint8_t)val;
        idx += (size_t)run;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

int hll_load(const unsigned char *p, size_t len, uint8_t regs[HLL_REGISTERS])
{
    memset(regs, 0, HLL_REGISTERS);
    return hll_merge(p, len, regs);
}

static void write_header(unsigned char *out, int enc, const unsigned char *hdr)
{
    memset(out, 0, HLL_HDR_SIZE);
    memcpy(out, "HYLL", 4);
    out[4] = (unsigned char)enc;
    if (hdr)
        memcpy(out + 8, hdr + 8, 8);
    hll_cache_invalidate(out);
}

size_t hll_write_sparse(const uint8_t regs[HLL_REGISTERS], const unsigned char *hdr,
                        unsigned char *out)
{
    size_t n = HLL_HDR_SIZE;
    write_header(out, HLL_SPARSE, hdr);
    for (int i = 0; i < HLL_REGISTERS;) {
        int v = regs[i], run = 1;
        if (v > HLL_SPARSE_VAL_MAX)
            return 0;
        while (i + run < HLL_REGISTERS && regs[i + run] == v)
            run++;
        i += run;
        if (v == 0) {
            /* ZERO for a run that fits it, XZERO for longer ones */
            while (run > 0) {
                int k = run > XZERO_RUN_MAX ? XZERO_RUN_MAX : run;
                if (k <= ZERO_RUN_MAX) {
                    out[n++] = (unsigned char)(k - 1);
                } else {
                    out[n++] = (unsigned char)(OP_XZERO_BIT | ((k - 1) >> 8));
                    out[n++] = (unsigned char)((k - 1) & 0xff);
                }
                run -= k;
            }
        } else {
            while (run > 0) {
                int k = run > VAL_RUN_MAX ? VAL_RUN_MAX : run;
                out[n++] = (unsigned char)(OP_VAL_BIT | ((v - 1) << 2) | (k - 1));
                run -= k;
            }
        }
    }
    return n;
}

void hll_write_dense(const uint8_t regs[HLL_REGISTERS], const unsigned char *hdr,
                     unsigned char *out)
{
    write_header(out, HLL_DENSE, hdr);
    memset(out + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    for (int i = 0; i < HLL_REGISTERS; i++)
        if (regs[i])
            hll_dense_set(out + HLL_HDR_SIZE, i, regs[i]);
}

void hll_write_empty(unsigned char out[HLL_EMPTY_SIZE])
{
    memset(out, 0, HLL_EMPTY_SIZE);
    memcpy(out, "HYLL", 4);
    out[4] = HLL_SPARSE;
    out[HLL_HDR_SIZE] = (unsigned char)(OP_XZERO_BIT | ((XZERO_RUN_MAX - 1) >> 8));
    out[HLL_HDR_SIZE + 1] = (unsigned char)((XZERO_RUN_MAX - 1) & 0xff);
}

/* Ertl's sigma(x) = x + sum_k x^(2^k) 2^(k-1), for the zero registers. */
static double hll_sigma(double x)
{
    if (x == 1.)
        return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

/* Ertl's tau(x), for the registers at the maximum value. */
static double hll_tau(double x)
{
    if (x == 0. || x == 1.)
        return 0.;
    double y = 1.0, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

uint64_t hll_estimate(const uint8_t regs[HLL_REGISTERS])
{
    /* 1 / (2 ln 2): the estimator's constant as m grows */
    const double alpha_inf = 0.721347520444481703680;
    double m = HLL_REGISTERS;
    int histo[HLL_REG_MAX + 1] = {0};

    for (int i = 0; i < HLL_REGISTERS; i++)
        histo[regs[i] & HLL_REG_MAX]++;
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += histo[k];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(alpha_inf * m * m / z);
}

long hll_decode_text(const unsigned char *p, size_t len, char *out, size_t cap)
{
    size_t pos = HLL_HDR_SIZE, n = 0, idx = 0;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    while (pos < len) {
        int run, val, xz, w;
        if (sparse_op(p, len, &pos, &run, &val, &xz) != 0 || (size_t)run > HLL_REGISTERS - idx)
            return -1;
        idx += (size_t)run;
        const char *sep = n ? " " : "";
        if (val)
            w = snprintf(out + n, cap - n, "%sv:%d,%d", sep, val, run);
        else
            w = snprintf(out + n, cap - n, "%s%s:%d", sep, xz ? "Z" : "z", run);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
    }
    return (long)n;
}

/* ---- PFSELFTEST ---------------------------------------------------------- */

static uint64_t selftest_rand(uint64_t *s)
{
    /* xorshift64*: any fixed sequence will do */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

/* The buffers of one self test: PFSELFTEST may run on several workers at once. */
typedef struct selftest {
    uint8_t regs[HLL_REGISTERS], back[HLL_REGISTERS];
    unsigned char sparse[HLL_SPARSE_MAX_SIZE], dense[HLL_DENSE_SIZE];
} selftest_t;

static int selftest_dense(selftest_t *t, char *err, size_t errlen)
{
    unsigned char *dense = t->dense + HLL_HDR_SIZE;
    uint64_t s = 88172645463325252ULL;

    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < HLL_REGISTERS; i++) {
            t->regs[i] = (uint8_t)(selftest_rand(&s) & HLL_REG_MAX);
            hll_dense_set(dense, i, t->regs[i]);
        }
        for (int i = 0; i < HLL_REGISTERS; i++)
            if (hll_dense_get(dense, i) != t->regs[i]) {
                snprintf(err, errlen, "TESTFAILED Register error at %d", i);
                return -1;
            }
    }
    return 0;
}

/* The estimate at n elements, and both representations of the registers. */
static int selftest_check(selftest_t *t, uint64_t n, char *err, size_t errlen)
{
    const double relerr = 1.04 / sqrt(HLL_REGISTERS);

    hll_write_dense(t->regs, NULL, t->dense);
    if (hll_load(t->dense, sizeof t->dense, t->back) != 0 ||
        memcmp(t->back, t->regs, sizeof t->regs) != 0) {
        snprintf(err, errlen, "TESTFAILED dense round trip at %llu", (unsigned long long)n);
        return -1;
    }
    size_t sl = hll_write_sparse(t->regs, NULL, t->sparse);
    if (sl && (hll_load(t->sparse, sl, t->back) != 0 ||
               memcmp(t->back, t->regs, sizeof t->regs) != 0)) {
        snprintf(err, errlen, "TESTFAILED sparse round trip at %llu", (unsigned long long)n);
        return -1;
    }
    /* within 5 standard errors, or 1 for the first few */
    double e = (double)hll_estimate(t->regs), maxerr = 5 * relerr * (double)n;
    if (maxerr < 1)
        maxerr = 1;
    if (fabs(e - (double)n) > maxerr) {
        snprintf(err, errlen, "TESTFAILED Too big error. card:%llu abserr:%.0f",
                 (unsigned long long)n, fabs(e - (double)n));
        return -1;
    }
    return 0;
}

int hll_selftest(char *err, size_t errlen)
{
    selftest_t *t = calloc(1, sizeof *t);
    uint64_t checkpoint = 1;
    int rc = 0;

    if (!t) {
        snprintf(err, errlen, "TESTFAILED out of memory");
        return -1;
    }
    rc = selftest_dense(t, err, errlen);
    memset(t->regs, 0, sizeof t->regs);
    for (uint64_t n = 1; n <= 1000000 && rc == 0; n++) {
        unsigned char ele[8];
        int idx;
        for (int j = 0; j < 8; j++)
            ele[j] = (unsigned char)(n >> (8 * j));
        int count = hll_pattern(ele, sizeof ele, &idx);
        if (count > t->regs[idx])
            t->regs[idx] = (uint8_t)count;
        if (n == checkpoint) {
            checkpoint = checkpoint < 100 ? checkpoint + 1 : checkpoint * 10;
            rc = selftest_check(t, n, err, errlen);
        }
    }
    free(t);
    return rc;
}

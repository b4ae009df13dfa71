/* hist — log-linear latency histogram, values in nanoseconds.
 *
 * Values below 128 ns get a bucket each. Above, every power of two [2^e, 2^e+1)
 * is split into 128 equal sub-buckets, so a bucket is at most 1/128 of its lower
 * bound wide; reporting its midpoint keeps the relative error under 0.4% (the
 * brief asks for 1%) anywhere from 1 µs to 2^40 ns (18 minutes). Larger values
 * land in the last bucket; the exact min and max are kept beside the buckets.
 * A histogram is about 35 KB, owned by one thread; merge them to aggregate. */
#ifndef PB_HIST_H
#define PB_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 40 /* values up to 2^40 ns are resolved */
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS) * HIST_SUB)

struct hist {
    uint64_t count;
    uint64_t min, max;
    double sum;
    uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at quantile q in [0, 1]: the midpoint of the bucket holding the
 * ceil(q * count)-th smallest value, clamped to [min, max]; q = 1 gives max.
 * 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

/* Bucket arithmetic, exposed for the tests. */
unsigned hist_index(uint64_t v);
uint64_t hist_bucket_low(unsigned idx);
uint64_t hist_bucket_width(unsigned idx);

#endif

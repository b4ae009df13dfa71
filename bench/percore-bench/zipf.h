/* zipf — Zipf-distributed ranks: P(k) proportional to k^-theta, k = 1..n.
 *
 * Rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996): O(1) memory and expected O(1) time for any n, any theta > 0 including
 * theta = 1, so a 10^8-key space costs nothing to set up. */
#ifndef PB_ZIPF_H
#define PB_ZIPF_H

#include <stdint.h>

#include "rng.h"

struct zipf {
    uint64_t n;
    double theta;
    double h_lo;    /* H(1.5) - 1: the lower end of the area sampled */
    double h_hi;    /* H(n + 0.5): the upper end */
    double squeeze; /* x within this of its rank is accepted without the test */
};

/* n >= 1, theta > 0 (values near 0 approach uniform). 0, or -1 if out of range. */
int zipf_init(struct zipf *z, uint64_t n, double theta);
/* A rank in 1..n; rank 1 is the most frequent. */
uint64_t zipf_sample(const struct zipf *z, struct rng *r);

#endif

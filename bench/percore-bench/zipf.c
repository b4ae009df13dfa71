/* zipf — rejection-inversion sampling of a Zipf distribution.
 *
 * With h(x) = x^-theta and H(x) = integral of h from 1 to x, rank k owns the
 * strip [H(k + 0.5) - h(k), H(k + 0.5)] of the H axis, whose length is exactly
 * h(k); rank 1's strip is [H(1.5) - 1, H(1.5)]. Because h is convex and
 * decreasing, H(k + 0.5) - H(k - 0.5) >= h(k), so the strips fit inside the
 * "hat" intervals [H(k - 0.5), H(k + 0.5)], which tile [H(1.5) - 1, H(n + 0.5)].
 * Draw u uniformly on that range, map it back with x = H^-1(u), round to the
 * nearest rank k, and accept when u lies in k's strip: each accepted rank then
 * has probability proportional to h(k). Most draws are accepted by a cheaper
 * squeeze (|k - x| small enough), which needs no H evaluation.
 */
#include "zipf.h"

#include <math.h>

/* log1p(z) / z and expm1(y) / y, with their limits at 0 (both 1), so that
 * theta = 1 (where H(x) = log x) needs no special case. */
static double log1p_over(double z)
{
    return fabs(z) > 1e-8 ? log1p(z) / z : 1.0 - z * (0.5 - z / 3.0);
}

static double expm1_over(double y)
{
    return fabs(y) > 1e-8 ? expm1(y) / y : 1.0 + y * (0.5 + y / 6.0);
}

static double zh(const struct zipf *z, double x)
{
    return exp(-z->theta * log(x));
}

/* H(x) = (x^(1-theta) - 1) / (1 - theta), or log x when theta = 1 */
static double zH(const struct zipf *z, double x)
{
    double lx = log(x);
    return lx * expm1_over((1.0 - z->theta) * lx);
}

/* H^-1(y) = (1 + (1-theta) y)^(1 / (1-theta)), or e^y when theta = 1 */
static double zH_inv(const struct zipf *z, double y)
{
    double t = (1.0 - z->theta) * y;
    if (t < -1.0) /* only rounding can get here: the range sampled keeps t > -1 */
        t = -1.0;
    return exp(y * log1p_over(t));
}

int zipf_init(struct zipf *z, uint64_t n, double theta)
{
    if (n < 1 || !(theta > 0) || theta > 100)
        return -1;
    z->n = n;
    z->theta = theta;
    z->h_lo = zH(z, 1.5) - 1.0;
    z->h_hi = zH(z, (double)n + 0.5);
    z->squeeze = 2.0 - zH_inv(z, zH(z, 2.5) - zh(z, 2.0));
    return 0;
}

uint64_t zipf_sample(const struct zipf *z, struct rng *r)
{
    for (;;) {
        double u = z->h_hi + rng_uniform(r) * (z->h_lo - z->h_hi);
        double x = zH_inv(z, u);
        double kd = floor(x + 0.5);
        if (kd < 1)
            kd = 1;
        else if (kd > (double)z->n)
            kd = (double)z->n;
        if (kd - x <= z->squeeze || u >= zH(z, kd + 0.5) - zh(z, kd))
            return (uint64_t)kd;
    }
}

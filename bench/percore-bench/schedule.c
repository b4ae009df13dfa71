/* schedule — Poisson and fixed-interval arrivals with periodic bursts. */
#include "schedule.h"

#include <math.h>

int schedule_init(struct schedule *s, double rate, int fixed, double factor, double period_ms,
                  double len_ms, double start_ns)
{
    if (!(rate > 0) || !(factor >= 1) || start_ns < 0)
        return -1;
    if (factor > 1 && !(len_ms > 0 && period_ms >= len_ms))
        return -1;
    s->fixed = fixed;
    s->rate = rate / 1e9;
    s->factor = factor;
    s->period = factor > 1 ? period_ms * 1e6 : 0;
    s->len = factor > 1 ? len_ms * 1e6 : 0;
    s->t = start_ns;
    return 0;
}

double schedule_next(struct schedule *s, struct rng *r)
{
    double work = s->fixed ? 1.0 : rng_exp(r);
    if (s->factor <= 1) {
        s->t += work / s->rate;
        return s->t;
    }
    /* Walk the constant-rate segments (burst, then quiet, then burst...) until
     * their integrated rate covers the work. */
    for (;;) {
        double pos = fmod(s->t, s->period);
        double rate, end;
        if (pos < s->len) {
            rate = s->rate * s->factor;
            end = s->t - pos + s->len;
        } else {
            rate = s->rate;
            end = s->t - pos + s->period;
        }
        double span = end - s->t;
        if (span <= 0) { /* rounding put t on the boundary: step over it */
            s->t = nextafter(end, INFINITY);
            continue;
        }
        if (work <= rate * span) {
            s->t += work / rate;
            return s->t;
        }
        work -= rate * span;
        s->t = end;
    }
}

double schedule_mean_rate(const struct schedule *s)
{
    double r = s->rate * 1e9;
    if (s->factor <= 1)
        return r;
    return r * (1.0 + (s->factor - 1.0) * s->len / s->period);
}

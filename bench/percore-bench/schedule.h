/* schedule — the arrival times of an open-loop run.
 *
 * Arrivals form a Poisson process (exponential gaps) or a fixed-interval one at
 * a base rate, optionally multiplied by FACTOR during the first LEN of every
 * PERIOD (bursts). Both are built the same way: draw the "work" until the next
 * arrival (an Exp(1) variate, or exactly 1 for fixed intervals) and advance time
 * until the integral of the rate covers it. For a piecewise-constant rate that is
 * exact, so a Poisson process stays Poisson inside and across bursts.
 * Times are nanoseconds from the start of the run, as doubles (exact to far below
 * a nanosecond for runs of days). */
#ifndef PB_SCHEDULE_H
#define PB_SCHEDULE_H

#include "rng.h"

struct schedule {
    int fixed;
    double rate;   /* base arrivals per ns */
    double factor; /* rate multiplier inside a burst; 1 = no bursts */
    double period; /* ns */
    double len;    /* ns of each period spent bursting */
    double t;      /* time of the last arrival */
};

/* rate in arrivals per second (> 0); factor >= 1 with 0 < len_ms <= period_ms,
 * or factor 1 for none; the first arrival comes one gap after start_ns.
 * 0, or -1 on bad parameters. */
int schedule_init(struct schedule *s, double rate, int fixed, double factor, double period_ms,
                  double len_ms, double start_ns);
/* The next arrival time, ns from the start of the run. */
double schedule_next(struct schedule *s, struct rng *r);
/* The long-run mean rate, arrivals per second. */
double schedule_mean_rate(const struct schedule *s);

#endif

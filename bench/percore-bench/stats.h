/* stats — what a run measured, per request class; filled by engine.c, printed
 * by report.c. A request is "in the window" when its intended send time is in
 * [warmup end, warmup end + duration). */
#ifndef PB_STATS_H
#define PB_STATS_H

#include <stdint.h>

#include "hist.h"
#include "workload.h"

struct class_stats {
    uint64_t offered;    /* requests due in the window */
    uint64_t completed;  /* requests whose last reply came in the window (any due time) */
    uint64_t errors;     /* requests due in the window answered with an error */
    uint64_t unfinished; /* due in the window, still unanswered after the drain */
    struct hist lat;     /* ns from the intended send time to the last reply, requests due
                            in the window; unfinished ones count with their age at the end */
};

struct run_stats {
    double window_s;
    struct class_stats cls[NCLASS];
    struct hist lag;       /* ns the generator's timer woke after an arrival was due */
    uint64_t max_backlog;  /* most due requests waiting for a pipeline slot, one thread */
    uint64_t answered;     /* requests fully answered during the whole run (warmup, window
                              and drain): what the server did, for CPU time per request */
    char first_error[128]; /* text of an error reply, "" if none */
};

void stats_init(struct run_stats *st);
/* Adds src into dst (histograms merged, counters and answered summed, max_backlog maxed,
 * dst's first_error kept unless empty). */
void stats_merge(struct run_stats *dst, const struct run_stats *src);
/* All classes together. */
void stats_total(const struct run_stats *st, struct class_stats *all);

#endif

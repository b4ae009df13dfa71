/* engine — runs the load: --threads generator threads, each pinned, each with
 * its own libev loop, its share of the connections, and its share of the arrival
 * schedule. The only file that includes ev.h. */
#ifndef PB_ENGINE_H
#define PB_ENGINE_H

#include <stddef.h>

#include "opts.h"
#include "stats.h"
#include "workload.h"

/* Connects, runs warmup + duration, drains, and fills st (stats_init'ed by the
 * caller). 0, or -1 with err filled in (connection refused, server hung up,
 * protocol error, interrupted). */
int engine_run(const struct opts *o, const struct workload *wl, struct run_stats *st, char *err,
               size_t errlen);
/* Async-signal-safe: makes a running engine_run stop within 100 ms and fail. */
void engine_interrupt(void);

#endif

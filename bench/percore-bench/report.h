/* report — a run's results for people (a table on stdout) and for scripts
 * (--json: offered_rps, achieved_rps, p50_us ... max_us, errors, overall and per
 * class). */
#ifndef PB_REPORT_H
#define PB_REPORT_H

#include <stdio.h>

#include "opts.h"
#include "stats.h"

void report_print(FILE *f, const struct opts *o, const struct run_stats *st);
/* 0, or -1 when the file cannot be written (reported on stderr). */
int report_json(const char *path, const struct opts *o, const struct run_stats *st);

#endif

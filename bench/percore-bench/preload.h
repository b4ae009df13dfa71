/* preload — fills the server before a run, over one pipelined connection:
 * with --preload, every key:<i> (and acct:<i> = 0 when --txn is on); with
 * --heavy LRANGE, list:<i> rebuilt with --list-len elements; with --heavy
 * BIGVALUE, big:<i> set to a --big-size value (those two unless
 * --no-heavy-preload: a --preload-only run before the measured ones built them,
 * so rebuilding them does not add to the server's CPU time of each run). */
#ifndef PB_PRELOAD_H
#define PB_PRELOAD_H

#include <stddef.h>

#include "opts.h"
#include "workload.h"

/* 0 (nothing to do counts), or -1 with err filled in (e.g. the server refused
 * a command: its error text is in err). */
int preload_run(const struct opts *o, const struct workload *w, char *err, size_t errlen);

#endif

/* latency — LATENCY's monitor (events of at least latency-monitor-threshold
 * ms, server-wide) and the per-command latency histograms of LATENCY
 * HISTOGRAM and INFO latencystats (commands layer).
 *
 * Monitor: a table of named events, each a 160-sample history of (second,
 * worst ms in it) and its all-time max, under one mutex taken only by an
 * event past the threshold (or by LATENCY): the hot path is
 * latency_wanted's relaxed load and compare.
 *
 * Histograms: per worker and command, single writer, relaxed atomics (as
 * cmd_stats_t), summed on read. A duration falls in the first bucket b
 * with duration <= 1024 << b ns, the buckets Redis 7.0 reports (1, 2, 4, 8,
 * 16, 32, 65, 131 ... usec). Not HdrHistogram: Debian packages no C one
 * (`apt-cache search hdr histogram`: Go and Java only), and its counters are
 * plain integers, which another worker could not read while one records. */
#ifndef PERCORE_LATENCY_H
#define PERCORE_LATENCY_H

#include <stdint.h>

#include "buf.h"
#include "command.h"
#include "config.h"

#define LATENCY_BUCKETS 44 /* up to 1024 << 43 ns, about 2.5 hours */
#define LATENCY_HISTORY 160

/* 1 when an event of ms milliseconds is recorded. Any thread. */
static inline int latency_wanted(uint64_t ms)
{
    long long th = config_get(latency_monitor_threshold);
    return th && ms >= (uint64_t)th;
}

/* Record an event ("command", "fast-command", "expire-cycle", ...) that
 * took ms. Any thread. */
void latency_add(const char *event, uint64_t ms);

/* LATENCY subcommands' replies. Any thread. */
void latency_reply_latest(reply_t *r);
void latency_reply_history(reply_t *r, sv_t event);
/* Forget the named events (all when n == 0); the number forgotten. */
int latency_reset(int n, const sv_t *events);
/* GRAPH's drawing of an event into out; -1 when it has no samples. */
int latency_graph(sv_t event, buf_t *out);
void latency_doctor(buf_t *out);

/* Histograms, one per slot: a command, or one of its subcommands
 * ("config|set"). Setup for workers x the command table; record us on
 * worker w (its own slot row, single writer). */
void latency_hist_setup(int workers, int commands);
void latency_hist_teardown(void);
/* The slot of a call: its subcommand's for a container command (-1 for an
 * unknown one), else the command's. */
int latency_slot(const command_t *cmd, int argc, const sv_t *argv);
int latency_slot_count(void);
const char *latency_slot_name(int slot); /* "set", "client|id" */
uint64_t latency_slot_calls(int slot);
void latency_hist_record(int w, int slot, uint64_t us);
void latency_hist_reset(void);
/* LATENCY HISTOGRAM's value for a slot: {calls, histogram_usec {...}}. */
void latency_hist_reply(reply_t *r, int slot);
/* INFO latencystats' line for a slot with calls, with the percentiles pcts
 * ("50 99 99.9"). */
void latency_hist_info(buf_t *out, int slot, const char *pcts);

#endif

/* slowlog — SLOWLOG's shared log of the commands that ran at least
 * slowlog-log-slower-than microseconds (commands layer).
 *
 * Every worker runs commands, so the log is server-wide: a ring of entries
 * under one mutex, taken only by a command that was slow (or by SLOWLOG
 * itself). The hot path is slowlog_wanted, one relaxed load and one compare:
 * a negative threshold, cast to unsigned, is larger than any duration. Entry
 * ids come from one counter under the mutex, so they are unique and
 * increasing server-wide. Memory is bounded by slowlog-max-len entries, and by
 * SLOWLOG_MAX_BYTES whatever slowlog-max-len says (each entry is itself
 * bounded: 32 arguments of at most 128 bytes, as Redis 7.0 keeps them). */
#ifndef PERCORE_SLOWLOG_H
#define PERCORE_SLOWLOG_H

#include <stdint.h>

#include "command.h"
#include "config.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128
#define SLOWLOG_MAX_BYTES (64u << 20)

/* 1 when a command that ran us microseconds goes to the log. Any thread. */
static inline int slowlog_wanted(uint64_t us)
{
    return us >= (uint64_t)(long long)config_get(slowlog_log_slower_than);
}

/* Log one call: its arguments (trimmed as Redis 7.0 trims them, secrets
 * redacted), duration, the client's address and the client, named by the
 * namer (either may be NULL: a script's call). Any thread. */
struct client;
void slowlog_push(const command_t *cmd, int argc, const sv_t *argv, uint64_t us,
                  const char *peer, struct client *origin);
/* How a client's name is read (set once at startup by the connections
 * layer, which owns clients): appends it to out, nothing when unnamed. */
void slowlog_set_namer(void (*fn)(struct client *, buf_t *out));

/* SLOWLOG LEN / RESET; SLOWLOG GET's reply of the newest count entries
 * (count < 0: all). Any thread. */
long slowlog_len(void);
void slowlog_reset(void);
void slowlog_reply(reply_t *r, long long count);

/* Bytes the log holds (INFO memory, tests). */
uint64_t slowlog_bytes(void);

void slowlog_teardown(void);

#endif

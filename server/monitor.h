/* monitor — MONITOR's feed: every command executed on any worker, as one
 * line in Redis 7.0's format, to every monitoring client.
 *
 * Design. A monitor is a client with a Pub/Sub mailbox (pubsub.h): the
 * worker running a command formats its line once and appends it to each
 * monitor's mailbox, which wakes the monitor's home worker as a message
 * does; nothing else writes a monitor's output from another thread. The
 * monitors are a list behind a mutex; the count of monitors is an atomic, so
 * a command costs one relaxed load when nobody monitors. A monitor that does
 * not read is bounded like a subscriber: its mailbox plus unsent output past
 * the pubsub class's hard limit (client-output-buffer-limit) drops it and its
 * home worker closes it with a logged reason (client.c, pubsub_flush).
 * What is shown, as Redis 7.0 (command_call.c feeds it): a command after it
 * ran (a command refused before running is not shown; EXEC follows the
 * commands it ran), EVAL-like commands (CMD_SKIP_MONITOR) before they run,
 * so that the calls of their script ("[db lua]") follow them; CMD_ADMIN
 * commands never; AUTH's arguments and HELLO's AUTH pair as "(redacted)".
 * Commands layer. */
#ifndef PERCORE_MONITOR_H
#define PERCORE_MONITOR_H

#include <stdatomic.h>

#include "command.h"
#include "pubsub.h"

extern _Atomic int monitor_n; /* monitors registered (relaxed reads) */

/* The owning thread of the monitoring client: (un)register its mailbox. The
 * mailbox must be removed before it is released. */
void monitor_add(pubsub_sub_t *s);
void monitor_remove(const pubsub_sub_t *s);
/* Any worker, when monitor_n is nonzero: feed the call. peer: the issuing
 * client's address, NULL for a script's call. */
void monitor_feed(const cmd_ctx_t *c, int db);

#endif

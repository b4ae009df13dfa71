/* cmd_stream — what the stream command files share (cmd_stream.c,
 * cmd_stream_read.c, cmd_stream_cg.c, cmd_stream_info.c): ID parsing with
 * Redis 7.0's rules and errors, the stream lookup, and the entry reply.
 * Handlers hold their keys' partitions (command.h). */
#ifndef PERCORE_CMD_STREAM_H
#define PERCORE_CMD_STREAM_H

#include "command.h"
#include "object.h"
#include "t_stream.h"

#define ERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"

/* Parse argv[i] as a stream ID: "ms-seq", or "ms" with seq missing_seq;
 * with specials, "-" and "+" are the smallest and largest IDs. -1 after
 * replying ERR_INVALID_ID (unless quiet). */
int stream_parse_id(cmd_ctx_t *c, int i, uint64_t missing_seq, int specials, sid_t *id,
                    int quiet);

/* The stream at key: 0 with *s (NULL when missing), or -1 after WRONGTYPE. */
int stream_lookup(cmd_ctx_t *c, sv_t key, int flags, stream_t **s, obj_t **o);

/* One entry as Redis replies it: [id, [field, value, ...]]; the iterator
 * stands on it (stream_iter_next returned it, nf its fields). */
void stream_reply_id(reply_t *r, sid_t id);
void stream_reply_entry(reply_t *r, stream_iter_t *it, sid_t id, uint64_t nf);
/* The entry id of s as [id, fields], or a null (deleted) when noreply_missing
 * is 0; returns 1 when it exists. */
int stream_reply_entry_at(reply_t *r, const stream_t *s, sid_t id, int null_if_missing);

/* The node limits the config gives (stream-node-max-entries / -bytes). */
void stream_node_limits(size_t *entries, size_t *bytes);

/* The keys of XREAD / XREADGROUP (their keys_fn). */
int xread_keys(int argc, const sv_t *argv, int *first, int *last, int *step);

#endif

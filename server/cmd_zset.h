/* cmd_zset — what the sorted set commands' two files share: the reply
 * helpers, the handlers and the key functions of cmd_zset_ops.c, which
 * cmd_zset.c uses (its table holds their rows); never the other way; and
 * zadd_command, which GEOADD (cmd_geo.c) runs on its rewritten arguments.
 * The commands layer: only cmd_zset.c, cmd_zset_ops.c and cmd_geo.c include it. */
#ifndef PERCORE_CMD_ZSET_H
#define PERCORE_CMD_ZSET_H

#include "buf.h"
#include "command.h"

/* Reply n scored elements: the header, then each member (with its score as a
 * double when withscores: flat in RESP2, [member, score] pairs in RESP3). */
void zreply_header(cmd_ctx_t *c, long n, int withscores);
void zreply_elem(cmd_ctx_t *c, sv_t m, double score, int withscores);
cmd_handler zadd_command;
cmd_handler zpopmin_command, zpopmax_command, zmpop_command, zrandmember_command, zscan_command;
cmd_handler bzpopmin_command, bzpopmax_command, bzmpop_command;
cmd_handler zunionstore_command, zinterstore_command, zdiffstore_command;
cmd_handler zunion_command, zinter_command, zdiff_command, zintercard_command;
cmd_keys_fn zstore_keys, zsetop_keys;

#endif

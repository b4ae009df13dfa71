/* types — what the aggregate types' command files (cmd_<type>.c) share: the
 * data structures' headers (t_*.h) and the command-layer helpers below. */
#ifndef PERCORE_TYPES_H
#define PERCORE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "object.h"
#include "t_common.h"
#include "t_hash.h"
#include "t_htab.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

/* The command rows of each type (registered in command.c's group list). */
extern const command_t cmds_list[];
extern const command_t cmds_hash[];
extern const command_t cmds_set[];
extern const command_t cmds_zset[];

/* ---- sorted set commands split over cmd_zset.c and cmd_zset_ops.c --------- */

/* Reply n scored elements: the header, then each member (with its score as a
 * double when withscores: flat in RESP2, [member, score] pairs in RESP3). */
void zreply_header(cmd_ctx_t *c, long n, int withscores);
void zreply_elem(cmd_ctx_t *c, sv_t m, double score, int withscores);
cmd_handler zpopmin_command, zpopmax_command, zrandmember_command, zscan_command;
cmd_handler zunionstore_command, zinterstore_command, zdiffstore_command;
cmd_handler zunion_command, zinter_command, zdiff_command, zintercard_command;
cmd_keys_fn zstore_keys, zsetop_keys;

/* ---- SCAN-family arguments shared by HSCAN, SSCAN and ZSCAN --------------- */

typedef struct scan_opts {
    sv_t pat;
    int use_pat;
    long long count;
} scan_opts_t;

/* Parse "[MATCH pattern] [COUNT count]" from argument `first`; replies the
 * error and returns -1 when invalid. */
int scan_opts_parse(cmd_ctx_t *c, int first, scan_opts_t *o);
static inline int scan_match(const scan_opts_t *o, sv_t s)
{
    return !o->use_pat || glob_match(o->pat.p, o->pat.len, s.p, s.len, 0);
}
/* Reply [cursor, [items...]] from a buffer of length-prefixed strings. */
void scan_reply(cmd_ctx_t *c, uint64_t cursor, const buf_t *items, long nitems);
/* ---- lookups shared by the command files --------------------------------- */

/* Look key up for a command on type `type`: *out is the value or NULL when the
 * key is missing; returns -1 (after replying WRONGTYPE) when it holds another
 * type. */
static inline int t_lookup(cmd_ctx_t *c, sv_t key, int type, int flags, obj_t **out)
{
    obj_t *o = db_lookup(c, key, flags);
    if (o && o->type != type) {
        reply_error(c->r, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

#endif

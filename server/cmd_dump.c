/* cmd_dump — DUMP and RESTORE: a key's value as a Redis DUMP payload (the
 * RDB value format of rdb.h, version 10 as redis-server 7.0 writes), so
 * values move between percore and redis-server in both directions. Both
 * commands touch one key, so their task holds its partition only. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "rdb.h"
#include "resp.h"
#include "store.h"

#define ERR_BUSYKEY "BUSYKEY Target key name already exists."
#define ERR_PAYLOAD "ERR DUMP payload version or checksum are wrong"
#define ERR_BAD_DATA "ERR Bad data format"
#define ERR_TTL "ERR Invalid TTL value, must be >= 0"
#define ERR_IDLETIME "ERR Invalid IDLETIME value, must be >= 0"
#define ERR_FREQ "ERR Invalid FREQ value, must be >= 0 and <= 255"

/* DUMP key */
static void dump_command(cmd_ctx_t *c)
{
    obj_t *o = db_lookup(c, c->argv[1], 0);
    if (!o) {
        reply_null(c->r);
        return;
    }
    buf_t b;
    buf_init(&b);
    if (rdb_dump_object(&b, o) != 0) {
        buf_free(&b);
        reply_error(c->r, "ERR DUMP of this type is not supported");
        return;
    }
    reply_bulk(c->r, b.data, b.len);
    buf_free(&b);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
 *   [FREQ frequency] -- the checks in Redis 7.0's order: options, BUSYKEY,
 * the TTL, the payload's frame, then its data. */
static void restore_command(cmd_ctx_t *c)
{
    int replace = 0, absttl = 0;
    long long idle = -1, freq = -1, ttl;
    sv_t key = c->argv[1];

    for (int j = 4; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(c, j, "replace")) {
            replace = 1;
        } else if (arg_is(c, j, "absttl")) {
            absttl = 1;
        } else if (arg_is(c, j, "idletime") && more >= 1 && freq == -1) {
            if (arg_ll(c, j + 1, &idle, NULL) != 0)
                return;
            if (idle < 0) {
                reply_error(c->r, ERR_IDLETIME);
                return;
            }
            j++;
        } else if (arg_is(c, j, "freq") && more >= 1 && idle == -1) {
            if (arg_ll(c, j + 1, &freq, NULL) != 0)
                return;
            if (freq < 0 || freq > 255) {
                reply_error(c->r, ERR_FREQ);
                return;
            }
            j++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (!replace && db_lookup(c, key, LOOKUP_WRITE)) {
        reply_error(c->r, ERR_BUSYKEY);
        return;
    }
    if (arg_ll(c, 2, &ttl, NULL) != 0)
        return;
    if (ttl < 0) {
        reply_error(c->r, ERR_TTL);
        return;
    }
    obj_t val;
    int rc = rdb_restore_object(c->argv[3].p, c->argv[3].len, &val);
    if (rc != 0) {
        reply_error(c->r, rc == -1 ? ERR_PAYLOAD : ERR_BAD_DATA);
        return;
    }
    int deleted = replace ? db_delete(c, key) : 0;
    if (ttl && !absttl)
        ttl = ttl > LLONG_MAX - (long long)c->now_ms ? LLONG_MAX : ttl + (long long)c->now_ms;
    if (ttl && (uint64_t)ttl <= c->now_ms) {
        /* already expired: the key is gone (Redis propagates a DEL) */
        obj_free(&val);
        if (deleted) {
            notify_key(c, NOTIFY_GENERIC, "del", key);
            c->dirty++;
        }
        reply_ok(c->r);
        return;
    }
    db_set_obj(c, key, &val, 0);
    if (ttl)
        db_set_expire(c, key, ttl);
    db_set_access(c, key, idle, (int)freq);
    notify_key(c, NOTIFY_GENERIC, "restore", key);
    c->dirty++;
    reply_ok(c->r);
}

const command_t cmds_dump[] = {
    CMD_ROW("dump", dump_command, 2, CMD_READONLY, 1, 1, 1, "@keyspace @read @slow", "generic",
        "2.6.0", "Return a serialized version of the value stored at the specified key.",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("restore", restore_command, -4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
        "@keyspace @write @slow @dangerous", "generic", "2.6.0",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        .key_specs = "OW UPDATE index:1 range:0,1,0"),
    {0},
};

/* cmd_keys_copy — COPY and MOVE: a key's value and TTL to another key or
 * database; SWAPDB: two databases' keys exchanged.
 *
 * Databases live inside each partition (store_priv.h: a partition holds a
 * dict per database), so MOVE stays in its key's partition, COPY holds
 * the partitions of both its keys (key positions 1..2, like RENAME), and
 * SWAPDB holds every partition (CMD_ALLPARTS) and swaps in each. */
#include <limits.h>
#include <string.h>

#include "blocking.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "resp.h"
#include "store.h"

#define ERR_DB_RANGE "ERR DB index is out of range"
#define ERR_SAME_OBJECT "ERR source and destination objects are the same"

/* COPY source destination [DB destination-db] [REPLACE] */
static void copy_command(cmd_ctx_t *c)
{
    sv_t src = c->argv[1], dst = c->argv[2];
    int dstdb = c->db, replace = 0;

    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c, j, "replace")) {
            replace = 1;
        } else if (arg_is(c, j, "db") && j + 1 < c->argc) {
            long long id;
            if (arg_ll(c, j + 1, &id, NULL) != 0)
                return;
            if (id < 0 || id >= store_databases()) {
                reply_error(c->r, ERR_DB_RANGE);
                return;
            }
            dstdb = (int)id;
            j++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (dstdb == c->db && src.len == dst.len && memcmp(src.p, dst.p, src.len) == 0) {
        reply_error(c->r, ERR_SAME_OBJECT);
        return;
    }
    if (db_copy(c, src, dst, dstdb, replace) != 1) {
        reply_int(c->r, 0);
        return;
    }
    notify_key_db(NOTIFY_GENERIC, "copy_to", dst, dstdb);
    c->dirty++;
    reply_int(c->r, 1);
}

/* MOVE key db */
static void move_command(cmd_ctx_t *c)
{
    long long id;

    if (arg_ll(c, 2, &id, NULL) != 0)
        return;
    if (id < 0 || id >= store_databases()) {
        reply_error(c->r, ERR_DB_RANGE);
        return;
    }
    if (id == c->db) {
        reply_error(c->r, ERR_SAME_OBJECT);
        return;
    }
    if (!db_move(c, c->argv[1], (int)id)) {
        reply_int(c->r, 0);
        return;
    }
    notify_key(c, NOTIFY_GENERIC, "move_from", c->argv[1]);
    notify_key_db(NOTIFY_GENERIC, "move_to", c->argv[1], (int)id);
    c->dirty++;
    reply_int(c->r, 1);
}

/* A database index argument: Redis's int parse, with its own message. */
static int db_index_arg(cmd_ctx_t *c, int i, const char *msg, int *out)
{
    long long v;
    if (str_to_ll(c->argv[i].p, c->argv[i].len, &v) != 0 || v < INT_MIN || v > INT_MAX) {
        reply_error(c->r, msg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* SWAPDB index1 index2 -- as Redis 7.0: no keyspace event and no tracking
 * invalidation; WATCHed keys alive in either database read as changed
 * (db_swap), and clients blocked on keys of either database that now hold
 * a value are served (their waits stay with their database). */
static void swapdb_command(cmd_ctx_t *c)
{
    int a, b;
    if (db_index_arg(c, 1, "ERR invalid first DB index", &a) != 0 ||
        db_index_arg(c, 2, "ERR invalid second DB index", &b) != 0)
        return;
    if (a < 0 || a >= store_databases() || b < 0 || b >= store_databases()) {
        reply_error(c->r, ERR_DB_RANGE);
        return;
    }
    if (a != b) {
        for (int p = 0; p < store_partitions(); p++)
            db_swap(p, a, b);
        blocking_touched_db(c, a);
        blocking_touched_db(c, b);
    }
    c->dirty++;
    reply_ok(c->r);
}

const command_t cmds_keys_copy[] = {
    CMD_ROW("copy", copy_command, -3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@keyspace @write @slow",
        "generic", "6.2.0", "Copy a key",
        .key_specs = "RO ACCESS index:1 range:0,1,0; OW UPDATE index:2 range:0,1,0"),
    CMD_ROW("move", move_command, 3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast",
        "generic", "1.0.0", "Move a key to another database",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("swapdb", swapdb_command, 3, CMD_WRITE | CMD_FAST | CMD_ALLPARTS, 0, 0, 0,
        "@keyspace @write @fast @dangerous", "server", "4.0.0", "Swaps two Redis databases"),
    {0},
};

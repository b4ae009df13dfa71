/* Transactions: MULTI EXEC DISCARD WATCH UNWATCH. EXEC runs as one task
 * holding every partition its queued commands and watched keys touch, so the
 * block is atomic and isolated across partitions under every policy. WATCH
 * stamps each key with its partition's write clock (db_watch); EXEC aborts
 * when any watched key changed since. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"
#include "db.h"
#include "scheduler.h"

/* MULTI */
static void cmd_multi(cmd_ctx_t *c)
{
    if (c->cl->in_multi) {
        reply_error(c->r, "ERR MULTI calls can not be nested");
        return;
    }
    c->cl->in_multi = 1;
    reply_ok(c->r);
}

/* DISCARD */
static void cmd_discard(cmd_ctx_t *c)
{
    if (!c->cl->in_multi) {
        reply_error(c->r, "ERR DISCARD without MULTI");
        return;
    }
    client_multi_reset(c->cl);
    client_unwatch(c->cl);
    reply_ok(c->r);
}

static int watched_changed(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    for (uint32_t i = 0; i < cl->nwatched; i++) {
        watched_t *w = &cl->watched[i];
        cmd_ctx_t at = *c;
        at.db = w->db;
        if (db_watch_changed(&at, (sv_t){w->key, w->len}, w->stamp, w->existed))
            return 1;
    }
    return 0;
}

/* EXEC */
static void cmd_exec(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    if (!cl->in_multi) {
        reply_error(c->r, "ERR EXEC without MULTI");
        return;
    }
    if (cl->multi_err) {
        reply_error(c->r, "EXECABORT Transaction discarded because of previous errors.");
    } else if (watched_changed(c)) {
        reply_null_array(c->r);
    } else {
        /* Runtime errors inside the block don't roll back: each command
         * replies on its own, as Redis. */
        reply_array(c->r, cl->mqlen);
        for (uint32_t i = 0; i < cl->mqlen; i++) {
            const qcmd_t *q = &cl->mq[i];
            sched_exec_cmd(cl, q->cmd, q->argc, cl->margs.v + q->argi, c->r, cl->db, c->parts,
                           c->nparts, 1);
        }
    }
    client_multi_reset(cl);
    client_unwatch(cl);
}

/* WATCH key [key ...] */
static void cmd_watch(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    if (cl->in_multi) {
        reply_error(c->r, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) {
        sv_t key = c->argv[i];
        int dup = 0;
        for (uint32_t j = 0; j < cl->nwatched && !dup; j++)
            dup = cl->watched[j].db == c->db && cl->watched[j].len == key.len &&
                  memcmp(cl->watched[j].key, key.p, key.len) == 0;
        if (dup)
            continue;
        if (cl->nwatched == cl->watchcap) {
            cl->watchcap = cl->watchcap ? cl->watchcap * 2 : 4;
            cl->watched = xrealloc(cl->watched, cl->watchcap * sizeof *cl->watched);
        }
        watched_t *w = &cl->watched[cl->nwatched++];
        w->db = c->db;
        w->len = key.len;
        w->key = xstrndup(key.p, key.len);
        db_watch(c, key, &w->stamp, &w->existed);
    }
    reply_ok(c->r);
}

/* UNWATCH */
static void cmd_unwatch(cmd_ctx_t *c)
{
    client_unwatch(c->cl);
    reply_ok(c->r);
}

#define TXN_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

const command_t cmds_multi[] = {
    {"multi", cmd_multi, 1, CMD_HOME | CMD_NOMULTI | CMD_FAST | CMD_ALLOW_BUSY | TXN_FLAGS, 0, 0, 0, NULL,
     "@fast @transaction", "Mark the start of a transaction block", "1.2.0", "transactions", 0},
    {"exec", cmd_exec, 1, CMD_TXN | CMD_EXEC | CMD_NOMULTI | TXN_FLAGS, 0, 0, 0, NULL,
     "@slow @transaction", "Execute all commands issued after MULTI", "1.2.0", "transactions",
     0},
    {"discard", cmd_discard, 1, CMD_HOME | CMD_NOMULTI | CMD_FAST | CMD_ALLOW_BUSY | TXN_FLAGS, 0, 0, 0, NULL,
     "@fast @transaction", "Discard all commands issued after MULTI", "2.0.0", "transactions",
     0},
    {"watch", cmd_watch, -2, CMD_TXN | CMD_NOMULTI | CMD_FAST | TXN_FLAGS, 1, -1, 1, NULL,
     "@fast @transaction", "Watch the given keys to determine execution of the MULTI/EXEC block",
     "2.2.0", "transactions", 0},
    {"unwatch", cmd_unwatch, 1, CMD_HOME | CMD_FAST | CMD_ALLOW_BUSY | TXN_FLAGS, 0, 0, 0, NULL,
     "@fast @transaction", "Forget about all watched keys", "2.2.0", "transactions", 0},
    {0},
};

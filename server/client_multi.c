/* Transactions, at the connections layer: MULTI EXEC DISCARD WATCH UNWATCH
 * and the client state behind them. Inside MULTI, client_precheck (client.c)
 * hands each command here to be copied and answered QUEUED; EXEC then runs as
 * one task holding every partition its queued commands and watched keys touch
 * (the scheduler collects them, see sched_collect_parts in sched.c), so the
 * block is atomic and isolated across partitions under every policy. WATCH
 * stamps each key with its partition's write clock (db_watch); EXEC aborts
 * when any watched key changed since. Everything here runs where the
 * client's commands run (its home worker, or under work-stealing the worker
 * serving it), one at a time: the handlers are CMD_HOME or CMD_TXN. */
#include "client_multi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "db.h"
#include "worker.h"

/* Inside MULTI: keep a copy of the command for EXEC and answer QUEUED. The
 * copies cannot point into the input buffer, which is reused between rounds. */
static void multi_queue(client_t *c, const qcmd_t *qc)
{
    sv_t *argv = client_argv(c, qc);
    if (c->mqlen == c->mqcap) {
        c->mqcap = c->mqcap ? c->mqcap * 2 : 8;
        c->mq = xrealloc(c->mq, c->mqcap * sizeof *c->mq);
    }
    qcmd_t *m = &c->mq[c->mqlen++];
    *m = *qc;
    m->argi = (uint32_t)c->margs.n;
    for (int i = 0; i < qc->argc; i++) {
        /* An offset for now: mbuf may move until EXEC (see multi_fixup). */
        argvec_push(&c->margs, (sv_t){(const char *)(uintptr_t)c->mbuf.len, argv[i].len});
        buf_append(&c->mbuf, argv[i].p, argv[i].len);
    }
    reply_status(&c->reply, "QUEUED");
}

/* Before EXEC runs: turn the queued arguments' offsets into pointers. */
static void multi_fixup(client_t *c)
{
    for (size_t i = 0; i < c->margs.n; i++)
        c->margs.v[i].p = c->mbuf.data + (uintptr_t)c->margs.v[i].p;
}

int client_multi_intercept(client_t *c, const qcmd_t *qc, const command_t *cmd)
{
    if (!c->in_multi)
        return 0;
    if (cmd->flags & CMD_REFUSED_IN_MULTI) {
        c->multi_err = 1;
        reply_error(&c->reply, "ERR Command not allowed inside a transaction");
        command_refused(worker_self(), cmd, c->reply.err);
        return 1;
    }
    if (!(cmd->flags & CMD_NOMULTI)) {
        multi_queue(c, qc);
        return 1;
    }
    if (cmd->flags & CMD_EXEC)
        multi_fixup(c); /* its task collects partitions from the queue */
    return 0;
}

void client_multi_reset(client_t *c)
{
    c->in_multi = c->multi_err = 0;
    c->mqlen = 0;
    c->margs.n = 0;
    c->mbuf.len = 0;
    if (c->mbuf.cap > (1u << 20))
        buf_free(&c->mbuf);
}

void client_unwatch(client_t *c)
{
    for (uint32_t i = 0; i < c->nwatched; i++)
        free(c->watched[i].key);
    c->nwatched = 0;
}

void client_multi_free(client_t *c)
{
    client_unwatch(c);
    free(c->watched);
    buf_free(&c->mbuf);
    argvec_free(&c->margs);
    free(c->mq);
}

/* Watch key of database db unless it is watched already; stamp is db_watch's. */
static watched_t *watch_add(client_t *c, int db, sv_t key)
{
    for (uint32_t j = 0; j < c->nwatched; j++)
        if (c->watched[j].db == db && c->watched[j].len == key.len &&
            memcmp(c->watched[j].key, key.p, key.len) == 0)
            return NULL;
    if (c->nwatched == c->watchcap) {
        c->watchcap = c->watchcap ? c->watchcap * 2 : 4;
        c->watched = xrealloc(c->watched, c->watchcap * sizeof *c->watched);
    }
    watched_t *w = &c->watched[c->nwatched++];
    w->db = db;
    w->len = key.len;
    w->key = xstrndup(key.p, key.len);
    return w;
}

/* ---- the commands ------------------------------------------------------- */

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
            cmd_ctx_t qc = *c; /* EXEC's partitions, clock, client, worker */
            qc.argc = q->argc;
            qc.argv = cl->margs.v + q->argi;
            qc.db = cl->db; /* a SELECT in the block moves the rest */
            qc.cmd = q->cmd;
            qc.dirty = 0;
            qc.failed = 0;
            /* a SUBSCRIBE in the block turns PING's reply to RESP2's subscribed one */
            qc.pubsub_resp2 = cl->in_pubsub && cl->proto == 2;
            qc.may_block = 0; /* a blocking command in the block answers at once */
            command_call(&qc, CALL_OOM);
        }
    }
    client_multi_reset(cl);
    client_unwatch(cl);
}

/* WATCH key [key ...] */
static void cmd_watch(cmd_ctx_t *c)
{
    if (c->cl->in_multi) {
        reply_error(c->r, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) {
        watched_t *w = watch_add(c->cl, c->db, c->argv[i]);
        if (w)
            db_watch(c, c->argv[i], &w->stamp, &w->existed);
    }
    reply_ok(c->r);
}

/* UNWATCH */
static void cmd_unwatch(cmd_ctx_t *c)
{
    client_unwatch(c->cl);
    reply_ok(c->r);
}

const command_t cmds_multi[] = {
    CMD_ROW("multi", cmd_multi, 1,
        CMD_HOME | CMD_NOMULTI | CMD_FAST | CMD_ALLOW_BUSY | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@fast @transaction", "transactions", "1.2.0",
        "Mark the start of a transaction block"),
    CMD_ROW("exec", cmd_exec, 1,
        CMD_TXN | CMD_EXEC | CMD_NOMULTI | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG, 0, 0, 0,
        "@slow @transaction", "transactions", "1.2.0", "Execute all commands issued after MULTI"),
    CMD_ROW("discard", cmd_discard, 1,
        CMD_HOME | CMD_NOMULTI | CMD_FAST | CMD_ALLOW_BUSY | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@fast @transaction", "transactions", "2.0.0",
        "Discard all commands issued after MULTI"),
    CMD_ROW("watch", cmd_watch, -2,
        CMD_TXN | CMD_NOMULTI | CMD_FAST | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 1, -1, 1,
        "@fast @transaction", "transactions", "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        .key_specs = "RO index:1 range:-1,1,0"),
    CMD_ROW("unwatch", cmd_unwatch, 1,
        CMD_HOME | CMD_FAST | CMD_ALLOW_BUSY | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@fast @transaction", "transactions", "2.2.0", "Forget about all watched keys"),
    {0},
};

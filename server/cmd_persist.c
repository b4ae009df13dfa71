/* cmd_persist — SAVE, BGSAVE and LASTSAVE (persist.h). SAVE and BGSAVE hold
 * every partition (CMD_ALLPARTS): SAVE writes the file while no other task
 * can change a key, and BGSAVE forks while no worker is half-way through a
 * write, so the child's copy is an atomic snapshot. */
#include "aof.h"
#include "cmd_util.h"
#include "command.h"
#include "persist.h"
#include "resp.h"

#define ERR_IN_PROGRESS "ERR Background save already in progress"

/* SAVE */
static void save_command(cmd_ctx_t *c)
{
    if (persist_bgsave_running()) {
        reply_error(c->r, ERR_IN_PROGRESS);
        return;
    }
    if (persist_save() != 0)
        reply_error(c->r, "ERR");
    else
        reply_ok(c->r);
}

/* BGSAVE [SCHEDULE] */
static void bgsave_command(cmd_ctx_t *c)
{
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && arg_is(c, 1, "schedule")) {
            schedule = 1;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (persist_bgsave_running()) {
        reply_error(c->r, ERR_IN_PROGRESS);
        return;
    }
    if (aof_rewrite_running()) {
        if (!schedule) {
            reply_error(c->r, "ERR Another child process is active (AOF?): can't BGSAVE right "
                              "now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever "
                              "possible.");
            return;
        }
        persist_schedule_bgsave(); /* worker 0's cron starts it once the rewrite ends */
        reply_status(c->r, "Background saving scheduled");
        return;
    }
    if (c->in_exec) {
        /* a fork here would save half the transaction: worker 0's cron
         * starts it once EXEC is over, as Redis */
        persist_schedule_bgsave();
        reply_status(c->r, "Background saving scheduled");
        return;
    }
    if (persist_bgsave() != 0)
        reply_error(c->r, "ERR");
    else
        reply_status(c->r, "Background saving started");
}

/* BGREWRITEAOF -- holds every partition, so the fork's copy is a snapshot
 * and the new incr file starts exactly after it (aof_rewrite.c). */
static void bgrewriteaof_command(cmd_ctx_t *c)
{
    if (aof_rewrite_running()) {
        reply_error(c->r, "ERR Background append only file rewriting already in progress");
        return;
    }
    if (persist_bgsave_running() || c->in_exec) {
        aof_rewrite_schedule();
        reply_status(c->r, "Background append only file rewriting scheduled");
        return;
    }
    int rc = aof_rewrite_background();
    if (rc == -3)
        reply_status(c->r, "Background append only file rewriting scheduled");
    else if (rc != 0)
        reply_error(c->r, "ERR Can't execute an AOF background rewriting. Please check the "
                          "server logs for more information.");
    else
        reply_status(c->r, "Background append only file rewriting started");
}

/* LASTSAVE */
static void lastsave_command(cmd_ctx_t *c)
{
    reply_int(c->r, (long long)persist_lastsave());
}

const command_t cmds_persist[] = {
    CMD_ROW("save", save_command, 1,
        CMD_ADMIN | CMD_NOSCRIPT | CMD_REFUSED_IN_MULTI | CMD_NO_ASYNC_LOADING | CMD_ALLPARTS, 0,
        0, 0, "@admin @slow @dangerous", "server", "1.0.0",
        "Synchronously save the dataset to disk"),
    CMD_ROW("bgsave", bgsave_command, -1,
        CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_ALLPARTS, 0, 0, 0,
        "@admin @slow @dangerous", "server", "1.0.0", "Asynchronously save the dataset to disk"),
    CMD_ROW("bgrewriteaof", bgrewriteaof_command, 1,
        CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_ALLPARTS, 0, 0, 0,
        "@admin @slow @dangerous", "server", "1.0.0",
        "Asynchronously rewrite the append-only file"),
    CMD_ROW("lastsave", lastsave_command, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0,
        "@admin @fast @dangerous", "server", "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        .tips = "nondeterministic_output"),
    {0},
};

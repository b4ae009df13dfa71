/* cmd_persist — SAVE, BGSAVE and LASTSAVE (persist.h). SAVE and BGSAVE hold
 * every partition (CMD_ALLPARTS): SAVE writes the file while no other task
 * can change a key, and BGSAVE forks while no worker is half-way through a
 * write, so the child's copy is an atomic snapshot. */
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
    (void)schedule; /* Redis 7.0: SCHEDULE waits for an AOF rewrite, which percore has not */
    if (persist_bgsave_running()) {
        reply_error(c->r, ERR_IN_PROGRESS);
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
    CMD_ROW("lastsave", lastsave_command, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0,
        "@admin @fast @dangerous", "server", "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        .tips = "nondeterministic_output"),
    {0},
};

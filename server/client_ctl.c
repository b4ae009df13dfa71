/* Client control: CLIENT REPLY's modes (a per-client state applied once per
 * answered command) and MONITOR's client side, with Redis 7.0's semantics. */
#include "client.h"
#include "cmd_util.h"
#include "monitor.h"

void client_reply_done(client_t *c, buf_t *out, size_t start, const command_t *cmd)
{
    /* Pub/Sub confirmations are pushes: Redis 7.0 writes them under OFF and
     * SKIP too (tests/unit/pubsub.tcl "PubSub messages with CLIENT REPLY
     * OFF"); SUB_FLAGS in client_pubsub.c marks them CMD_SUBSCRIBED|CMD_PUBSUB. */
    int push = cmd && (cmd->flags & (CMD_PUBSUB | CMD_SUBSCRIBED)) == (CMD_PUBSUB | CMD_SUBSCRIBED);
    if ((c->reply_off || c->reply_skip) && !push && out->len > start)
        out->len = start;
    c->reply_skip = c->reply_skip_next;
    c->reply_skip_next = 0;
}

/* CLIENT REPLY ON|OFF|SKIP: ON answers OK; OFF and SKIP answer nothing. */
void client_reply_command(cmd_ctx_t *ctx)
{
    client_t *c = ctx->cl;
    sv_t mode = ctx->argv[2];
    if (sv_eq_ci(mode, "ON")) {
        c->reply_off = c->reply_skip = 0;
        reply_ok(ctx->r);
    } else if (sv_eq_ci(mode, "OFF")) {
        c->reply_off = 1;
    } else if (sv_eq_ci(mode, "SKIP")) {
        if (!c->reply_off)
            c->reply_skip_next = 1;
    } else {
        reply_error(ctx->r, ERR_SYNTAX);
    }
}

/* MONITOR
 * The client's Pub/Sub mailbox receives the lines (monitor.h). Inside MULTI
 * it is refused; a second MONITOR gets no reply, as Redis 7.0. */
static void cmd_monitor(cmd_ctx_t *ctx)
{
    client_t *c = ctx->cl;
    if (!ctx->may_block) {
        reply_error(ctx->r, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (atomic_load_explicit(&c->monitoring, memory_order_relaxed))
        return;
    reply_ok(ctx->r); /* before any line: lines reach the output after it */
    atomic_store_explicit(&c->monitoring, 1, memory_order_relaxed);
    monitor_add(client_pubsub_sub(c));
}

void client_monitor_stop(client_t *c)
{
    if (!atomic_load_explicit(&c->monitoring, memory_order_relaxed))
        return;
    monitor_remove(c->ps);
    atomic_store_explicit(&c->monitoring, 0, memory_order_relaxed);
}

const command_t cmds_monitor[] = {
    CMD_ROW("monitor", cmd_monitor, 1, CMD_HOME | CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@admin @slow @dangerous", "server", "1.0.0",
        "Listen for all requests received by the server in real time"),
    {0},
};

/* Client control: CLIENT REPLY's modes (a per-client state applied once per
 * answered command), with Redis 7.0's semantics. */
#include "client.h"
#include "cmd_util.h"

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

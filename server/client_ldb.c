/* client_ldb — the connection side of the Lua debugger (SCRIPT DEBUG SYNC,
 * scripting/script_ldb.c): the client's debugging mode, and blocking reads
 * and writes on its socket while its EVAL runs a debugging session.
 *
 * Where the session runs: a debugged EVAL is queued as a multi-partition
 * task (client_parse), which every policy runs on the thread that owns the
 * client right then: its home worker (share-nothing, shared-locks), or the
 * thief serving it (work-stealing, whose home loop stops watching it). So
 * the socket and the client's output buffer are this thread's while the
 * session lasts; the home loop's busy serving skips the client (in_round or
 * CLIENT_IN_FLIGHT). That worker serves only the session (and BUSY replies)
 * until it ends, holding the script's partitions. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "script.h"

int client_ldb_at_home(const command_t *cmd)
{
    return strcmp(cmd->name, "eval") == 0 || strcmp(cmd->name, "eval_ro") == 0;
}

static int ldb_mode(client_t *c) { return c->ldb_mode; }

static void ldb_set_mode(client_t *c, int mode)
{
    c->ldb_mode = mode;
    if (!mode)
        return;
    /* An EVAL pipelined behind SCRIPT DEBUG was classified before the mode
     * was set: move it home too. */
    for (uint32_t i = c->qhead; i < c->qlen; i++)
        if (c->q[i].cmd && c->q[i].part >= 0 && client_ldb_at_home(c->q[i].cmd))
            c->q[i].part = -2;
}

/* Write all of p, waiting for the socket up to 5 s at a time (Redis's send
 * timeout for a debugging session). */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, 5000) <= 0)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

static int ldb_send(client_t *c, const char *p, size_t n)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return -1;
    /* Replies already queued (SCRIPT DEBUG's +OK) go first. */
    if (c->out.len > c->out_sent) {
        if (write_all(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent) != 0)
            return -1;
        c->out.len = c->out_sent = 0;
    }
    return write_all(c->fd, p, n);
}

static long ldb_recv(client_t *c, char *p, size_t cap, int timeout_ms)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return -1;
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int rc = poll(&pf, 1, timeout_ms);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return 0;
    if (rc < 0)
        return -1;
    ssize_t n = read(c->fd, p, cap);
    if (n > 0)
        return (long)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return -1;
}

/* Redis closes a synchronous session's connection once the EVAL's reply
 * is written (redis-cli reconnects). */
static void ldb_end(client_t *c)
{
    c->ldb_mode = 0;
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

void client_ldb_setup(void)
{
    static const script_ldb_io_t io = {
        .mode = ldb_mode,
        .set_mode = ldb_set_mode,
        .send = ldb_send,
        .recv = ldb_recv,
        .end = ldb_end,
    };
    script_set_ldb_io(&io);
}

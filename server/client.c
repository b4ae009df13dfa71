/* Connections: read, parse into the command queue, hand it to the scheduler,
 * write the replies. Everything here runs on the client's home worker; the
 * registry functions (CLIENT LIST/KILL, names) are client_registry.c's. */
#include "acl.h"
#include "client.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "aof.h"
#include "client_internal.h"
#include "client_multi.h"
#include "config.h"
#include "log.h"
#include "netutil.h"
#include "store.h"
#include "forksafe.h"

#define QUEUE_MAX 1024 /* commands parsed ahead per round */

static client_t **worker_clients; /* per worker list head */
static client_stats_t *stats;      /* [worker] */
static int nstats;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(registry_lock) /* a SCRIPT DEBUG YES child may take it */
static client_t *registry;
static _Atomic uint64_t next_client_id = 1;
static _Atomic uint64_t nclients;

void client_setup(int nworkers)
{
    worker_clients = xcalloc((size_t)nworkers, sizeof *worker_clients);
    stats = xcalloc((size_t)nworkers, sizeof *stats);
    nstats = nworkers;
    client_evict_setup(nworkers);
    client_pause_setup(nworkers);
    client_ldb_setup();
}

void client_teardown(void)
{
    client_pause_teardown();
    client_evict_teardown();
    free(worker_clients);
    worker_clients = NULL;
    free(stats);
    stats = NULL;
    nstats = 0;
}

client_stats_t *client_stats(int worker) { return &stats[worker]; }
void client_reset_stats(void) { stat_zero(stats, (size_t)nstats * sizeof *stats); }

uint64_t client_count(void) { return atomic_load_explicit(&nclients, memory_order_relaxed); }
void client_registry_lock(void) { pthread_mutex_lock(&registry_lock); }
void client_registry_unlock(void) { pthread_mutex_unlock(&registry_lock); }

client_t *client_registry_first_locked(void) { return registry; }
client_t *client_worker_first(int worker) { return worker_clients[worker]; }

int client_alive(uint64_t id)
{
    pthread_mutex_lock(&registry_lock);
    int found = client_find_locked(id) != NULL;
    pthread_mutex_unlock(&registry_lock);
    return found;
}

client_t *client_find_locked(uint64_t id)
{
    for (client_t *c = registry; c; c = c->rnext)
        if (c->id == id)
            return c;
    return NULL;
}

static _Atomic uint64_t clients_mem;

uint64_t client_memory(void) { return atomic_load_explicit(&clients_mem, memory_order_relaxed); }

static size_t buf_mem(const buf_t *b) { return b->cap ? mem_alloc_size(b->cap) : 0; }

/* Charge the client's buffers again: their capacities change seldom (they
 * grow and are trimmed), so this costs a few loads per round. */
void client_mem_sync(client_t *c, int gone)
{
    /* A task away writes task.out and err: it is counted again once back. */
    if (!gone && (c->flags & CLIENT_IN_FLIGHT))
        return;
    size_t now = gone ? 0
                      : buf_mem(&c->in) + buf_mem(&c->out) + buf_mem(&c->task.out) +
                            buf_mem(&c->mbuf) + buf_mem(&c->err);
    uint64_t was = atomic_load_explicit(&c->mem_charged, memory_order_relaxed);
    if (now == was)
        return;
    int64_t d = (int64_t)now - (int64_t)was;
    atomic_store_explicit(&c->mem_charged, now, memory_order_relaxed);
    uint64_t total = atomic_fetch_add_explicit(&clients_mem, (uint64_t)d, memory_order_relaxed) +
                     (uint64_t)d;
    mem_account(d);
    int w = worker_self();
    uint64_t lim = config_get_mem_or_pct(CFG_MAXMEMORY_CLIENTS);
    /* what client eviction is about to free: keys are not evicted for it */
    mem_set_not_counted(lim && total > lim ? total - lim : 0);
    if (d > 0 && w >= 0 && w == c->home && lim && total > lim)
        client_evict_soon(w);
}

static void client_free(client_t *c)
{
    client_mem_sync(c, 1);
    int w = c->home;
    client_block_free(c); /* its waits are dropped; an element stays in its list */
    client_pause_forget(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        worker_clients[w] = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_lock(&registry_lock);
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        registry = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    free(c->name);
    pthread_mutex_unlock(&registry_lock);
    acl_release(c->acl);
    c->acl = NULL;
    atomic_fetch_sub(&nclients, 1);
    client_monitor_stop(c);  /* before its mailbox goes */
    client_tracking_free(c); /* likewise: deliveries use it */
    if (c->ps) /* unsubscribes everything; a wake in flight finds no owner */
        pubsub_sub_release(c->ps);
    worker_io_free(c->io);
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->in);
    resp_parser_free(&c->parser);
    buf_free(&c->out);
    argvec_free(&c->args);
    free(c->q);
    buf_free(&c->task.out);
    free(c->task.parts);
    client_multi_free(c);
    buf_free(&c->err);
    free(c);
}

static int on_home(const client_t *c) { return worker_self() == c->home; }

/* Close now, or as soon as the client is back home: a task in flight, or
 * (work-stealing) the client is being served by another worker. */
void client_close(client_t *c, const char *why)
{
    if (why)
        log_verbose("closing client id=%llu addr=%s: %s", (unsigned long long)c->id, c->addr, why);
    c->flags |= CLIENT_CLOSE_ASAP;
    if (!on_home(c))
        return;
    if (c->flags & CLIENT_IN_FLIGHT) {
        worker_io_want(c->io, 0, 0);
        return;
    }
    client_free(c);
}

static void client_new(int worker, int fd, struct sockaddr *sa, int internal);

void client_accept(int worker, int fd, struct sockaddr *sa, socklen_t sl)
{
    (void)sl;
    net_keepalive(fd, config_get_int(CFG_TCP_KEEPALIVE));
    stat_add(&client_stats(worker)->connections_received, 1);
    uint64_t max = (uint64_t)config_get_int(CFG_MAXCLIENTS);
    if (atomic_load(&nclients) >= max) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        ssize_t wr = write(fd, msg, sizeof msg - 1);
        (void)wr;
        close(fd);
        stat_add(&client_stats(worker)->rejected_connections, 1);
        return;
    }
    if (net_protected_refuse(fd, sa, acl_default_has_password())) {
        stat_add(&client_stats(worker)->rejected_connections, 1);
        return;
    }
    client_new(worker, fd, sa, 0);
}

int client_internal(int worker)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    client_new(worker, sv[0], (struct sockaddr *)&sa, 1);
    return sv[1];
}

static void client_new(int worker, int fd, struct sockaddr *sa, int internal)
{
    client_t *c = xcalloc(1, sizeof *c);
    c->id = atomic_fetch_add(&next_client_id, 1);
    c->fd = fd;
    c->home = worker;
    c->proto = 2;
    atomic_store_explicit(&c->shown_resp, 2, memory_order_relaxed);
    c->reply.out = &c->out;
    c->reply.proto = 2;
    c->acl = acl_default();
    c->authenticated = internal || acl_default_nopass();
    c->ctime_ms = worker_now_ms();
    c->task.exec = -1;
    resp_parser_init(&c->parser);
    atomic_store_explicit(&c->last_ms, c->ctime_ms, memory_order_relaxed);
    net_format_addr(sa, c->addr, sizeof c->addr);
    struct sockaddr_storage ls;
    socklen_t lsl = sizeof ls;
    if (getsockname(fd, (struct sockaddr *)&ls, &lsl) == 0)
        net_format_addr((struct sockaddr *)&ls, c->laddr, sizeof c->laddr);
    c->next = worker_clients[worker];
    if (c->next)
        c->next->prev = c;
    worker_clients[worker] = c;
    pthread_mutex_lock(&registry_lock);
    c->rnext = registry;
    if (registry)
        registry->rprev = c;
    registry = c;
    pthread_mutex_unlock(&registry_lock);
    atomic_fetch_add(&nclients, 1);
    c->io = worker_io_new(fd, c);
    worker_io_want(c->io, 1, 0);
}

/* ---- output ------------------------------------------------------------ */

/* Mark c to be closed by whoever ends its round at home (client_finish). */
static void mark_close(client_t *c, const char *why)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    if (why)
        log_verbose("closing client id=%llu addr=%s: %s", (unsigned long long)c->id, c->addr, why);
    c->flags |= CLIENT_CLOSE_ASAP;
}


/* Write what the socket takes. Never frees c: an error marks it to close. */
static void client_write(client_t *c)
{
    /* The AOF first: replies follow their writes to it (aof.h). With
     * appendfsync always the reply waits for the loop's round end, where one
     * fsync covers every client's writes (group commit, server.c's poll);
     * the socket's writability then brings it back here. */
    if (atomic_load_explicit(&aof_pending, memory_order_relaxed)) {
        if (!(c->flags & CLIENT_CLOSE_ASAP) && aof_group_commit())
            return;
        aof_flush();
    }
    while (c->out_sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent);
        if (n > 0) {
            c->out_sent += (size_t)n;
            stat_add(&client_stats(worker_self())->net_output_bytes, (uint64_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        mark_close(c, n < 0 ? strerror(errno) : "write returned 0");
        return;
    }
    if (c->out_sent == c->out.len) {
        c->out.len = c->out_sent = 0;
        /* Don't keep a huge buffer around after a big reply. */
        if (c->out.cap > (1u << 20))
            buf_free(&c->out);
    } else if (c->out_sent > (1u << 20)) {
        buf_consume(&c->out, c->out_sent);
        c->out_sent = 0;
    }
}

/* client-output-buffer-limit (normal class), as Redis: pending output past
 * the hard limit, or past the soft limit for soft-seconds, closes the client.
 * 1 when it is to be closed. */
int client_over_output_limit(client_t *c)
{
    size_t pending = out_pending(c);
    obl_t l;
    config_obl_get(c->in_pubsub ? OBL_PUBSUB : OBL_NORMAL, &l);
    int over = l.hard && pending > l.hard;
    if (!over && l.soft && pending > l.soft) {
        uint64_t now = worker_now_ms();
        if (!c->soft_since_ms)
            c->soft_since_ms = now;
        over = now - c->soft_since_ms >= l.soft_seconds * 1000;
    } else if (!over) {
        c->soft_since_ms = 0;
    }
    if (over && !(c->flags & CLIENT_CLOSE_ASAP)) {
        log_warn("client id=%llu addr=%s closed for overcoming of output buffer limits "
                 "(%zu bytes pending)",
                 (unsigned long long)c->id, c->addr, pending);
        mark_close(c, NULL);
    }
    return over;
}

int client_output_full(client_t *c)
{
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_BLOCKED | CLIENT_POSTPONED))
        return 1;
    size_t pending = out_pending(c);
    if (pending == 0)
        return 0;
    if (client_over_output_limit(c))
        return 1;
    uint64_t high = config_get_u64(CFG_CLIENT_OUTPUT_HIGH_WATER);
    if (!high || pending < high)
        return 0;
    client_write(c); /* a reader keeping up never pauses */
    if (c->flags & CLIENT_CLOSE_ASAP)
        return 1;
    if (out_pending(c) < high)
        return 0;
    c->flags |= CLIENT_OUT_PAUSED;
    return 1;
}

size_t client_out_budget(const client_t *c)
{
    /* The high mark (back-pressure), or without one the class's hard limit:
     * past it the batch comes home early and the client is closed there,
     * rather than the owner building every reply first. */
    uint64_t high = config_get_u64(CFG_CLIENT_OUTPUT_HIGH_WATER);
    if (!high) {
        obl_t l;
        config_obl_get(c->in_pubsub ? OBL_PUBSUB : OBL_NORMAL, &l);
        high = l.hard;
    }
    size_t pending = out_pending(c);
    if (!high)
        return 0;
    return pending < high ? (size_t)high - pending : 1;
}

static void client_pump(client_t *c);

/* After a round, at home: write; resume a paused queue once the output has
 * drained to the low mark; then decide what to watch for. A client whose
 * output is past the high mark is not read (back-pressure), so one that
 * never reads costs at most one reply over the mark. */
static void client_settle(client_t *c)
{
    for (;;) {
        client_write(c);
        if (!(c->flags & CLIENT_CLOSE_ASAP))
            client_over_output_limit(c);
        if (c->flags & CLIENT_CLOSE_ASAP) {
            client_close(c, NULL);
            return;
        }
        if ((c->flags & CLIENT_OUT_PAUSED) && !(c->flags & CLIENT_IN_FLIGHT) &&
            out_pending(c) <= config_get_u64(CFG_CLIENT_OUTPUT_LOW_WATER)) {
            c->flags &= ~CLIENT_OUT_PAUSED;
            client_pump(c);
            continue;
        }
        break;
    }
    size_t pending = out_pending(c);
    if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && !pending) {
        client_close(c, NULL);
        return;
    }
    uint64_t high = config_get_u64(CFG_CLIENT_OUTPUT_HIGH_WATER);
    if (high && pending >= high)
        c->flags |= CLIENT_OUT_PAUSED;
    int busy = c->flags & (CLIENT_IN_FLIGHT | CLIENT_CLOSE_AFTER_REPLY | CLIENT_OUT_PAUSED);
    worker_io_want(c->io, !busy, pending > 0);
    atomic_store_explicit(&c->obuf_len, pending, memory_order_relaxed);
    if (c->ps)
        pubsub_sub_set_out(c->ps, pending);
    atomic_store_explicit(&c->qbuf_len, c->in.len, memory_order_relaxed);
    atomic_store_explicit(&c->qbuf_free, c->in.cap - c->in.len, memory_order_relaxed);
    client_mem_sync(c, 0);
}

/* ---- input ------------------------------------------------------------- */

static void queue_push(client_t *c, const command_t *cmd, uint32_t argi, int argc, int part,
                       const char *err)
{
    if (c->qlen == c->qcap) {
        c->qcap = c->qcap ? c->qcap * 2 : 16;
        c->q = xrealloc(c->q, c->qcap * sizeof *c->q);
    }
    c->q[c->qlen++] = (qcmd_t){cmd, argi, argc, part, err};
}

/* Decide, once per parsed command, which partitions it needs: -1 none (runs
 * at home), >= 0 a single partition, -2 several (the scheduler collects them). */
static int classify(const command_t *cmd, int argc, const sv_t *argv)
{
    /* Blocking commands run at home (as multi-partition tasks): blocking
     * needs the client, and the queue stops behind them. */
    if (cmd->flags & (CMD_ALLPARTS | CMD_TXN | CMD_BLOCKING))
        return -2;
    if (cmd->part_fn)
        return cmd->part_fn(argc, argv);
    cmd_keys_t k;
    int rc = command_keys(cmd, argc, argv, &k), n = cmd_keys_count(&k);
    if (rc == 1)
        return -2;
    if (rc < 0 || !n)
        return -1;
    int part = store_part_of_key(argv[cmd_keys_at(&k, 0)]);
    for (int j = 1; j < n; j++)
        if (store_part_of_key(argv[cmd_keys_at(&k, j)]) != part)
            return -2;
    return part;
}

/* Parse every complete request in the input (up to QUEUE_MAX). The parser
 * resumes a request that arrived in pieces where it stopped (resp.h). */
static void client_parse(client_t *c)
{
    resp_limits_t lim = {
        .max_bulk = config_get_u64(CFG_PROTO_MAX_BULK_LEN),
        .max_args = 1024 * 1024,
        .max_inline = 64 * 1024,
        .unauth = !c->authenticated,
        .unauth_max_args = 10,
        .unauth_max_bulk = 16384,
    };
    while (c->qlen < QUEUE_MAX && !c->resp_error_close && c->in_parsed < c->in.len) {
        /* Before AUTH, one command at a time: the next is parsed under the
         * limits that its predecessor's AUTH may lift, as Redis does. */
        if (!c->authenticated && c->qlen > 0)
            break;
        if (c->in_need > c->in.len)
            break; /* a bulk is still arriving: nothing new to parse */
        resp_parse_t res;
        uint32_t argi = (uint32_t)c->args.n;
        int rc = resp_parse_next(&c->parser, c->in.data + c->in_parsed, c->in.len - c->in_parsed,
                                 &lim, &c->args, &res);
        if (rc == RESP_INCOMPLETE) {
            c->in_need = res.need ? c->in_parsed + res.need : 0;
            break;
        }
        c->in_need = 0;
        if (rc == RESP_ERROR) {
            log_verbose("protocol error from client id=%llu addr=%s: %s",
                        (unsigned long long)c->id, c->addr, res.err);
            queue_push(c, NULL, argi, 0, -1, res.err);
            c->resp_error_close = 1;
            break;
        }
        c->in_parsed += res.consumed;
        if (res.argc == 0)
            continue;
        sv_t *argv = c->args.v + argi;
        const command_t *cmd = command_lookup(argv[0]);
        int part = -1;
        if (cmd && ((cmd->arity > 0 && res.argc != cmd->arity) ||
                    (cmd->arity < 0 && res.argc < -cmd->arity)))
            queue_push(c, NULL, argi, res.argc, -1, "arity");
        else if (!cmd)
            queue_push(c, NULL, argi, res.argc, -1, "unknown");
        else {
            part = classify(cmd, res.argc, argv);
            part = client_ldb_route(c, cmd, part);
            queue_push(c, cmd, argi, res.argc, part, NULL);
        }
    }
}

int client_may_run(const client_t *c, const qcmd_t *qc)
{
    if (!qc->cmd || c->in_multi)
        return 0;
    if (!c->authenticated && !(qc->cmd->flags & CMD_NOAUTH))
        return 0;
    if (!acl_fast(c->acl)) /* checked one at a time by client_precheck */
        return 0;
    return !client_pause_holds(c, qc); /* a held command starts no batch */
}

static void pubsub_flush(client_t *c);

static int precheck_reply(client_t *c, const qcmd_t *qc, int busy);

int client_precheck(client_t *c, const qcmd_t *qc, int busy)
{
    /* After QUIT (or a protocol error) nothing more runs, as Redis. */
    if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))
        return -1;
    /* Messages published before this command reach the client before its
     * reply (an UNSUBSCRIBE's or RESET's too), as in Redis. */
    if (c->ps)
        pubsub_flush(c);
    size_t start = c->out.len;
    int rc = precheck_reply(c, qc, busy);
    if (rc != 0) /* answered here (refused, or QUEUED): its CLIENT REPLY mode */
        client_reply_done(c, &c->out, start, NULL);
    return rc;
}

/* client_precheck's checks; a nonzero return has written the reply. */
static int precheck_reply(client_t *c, const qcmd_t *qc, int busy)
{
    atomic_store_explicit(&c->last_cmd, qc->cmd, memory_order_relaxed);
    sv_t *argv = client_argv(c, qc);
    if (qc->cmd && qc->cmd->subcommands && qc->argc > 1)
        atomic_store_explicit(&c->last_sub, command_subcommand_name(qc->cmd, argv[1]),
                              memory_order_relaxed);
    if (!qc->cmd && qc->argc == 0) { /* a protocol error: reply, then close */
        reply_errorf(&c->reply, "ERR %s", qc->err);
        command_refused(worker_self(), NULL, c->reply.err);
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        c->multi_err |= c->in_multi;
        return -1;
    }
    /* A wrong argument count was found at parse time (qc->cmd NULL, so no
     * policy looks at its keys): the lookup again, for the check's text. */
    const command_t *cmd = qc->cmd ? qc->cmd : command_lookup(argv[0]);
    cmd_caller_t who = {.noauth = !c->authenticated, .busy = (unsigned char)busy,
                        .worker = worker_self()};
    if (!acl_fast(c->acl)) { /* the one branch a user allowed everything pays */
        if (atomic_load_explicit(&c->acl->stale, memory_order_acquire)) {
            acl_user_t *cur = acl_get(c->acl->name, strlen(c->acl->name));
            if (cur)
                client_set_user(c, cur);
        }
        if (!acl_fast(c->acl)) {
            who.user = c->acl;
            who.acl_ctx = c->in_multi ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL;
            who.origin = c;
        }
    }
    int rc = command_check(&who, cmd, qc->argc, argv, &c->err);
    if (rc != 0) {
        /* Any refusal while queueing aborts the EXEC, as Redis. */
        c->multi_err |= c->in_multi;
        reply_error(&c->reply, c->err.data);
        return rc;
    }
    /* RESP2's subscribed mode: only the Pub/Sub commands, PING, QUIT, RESET. */
    if (c->in_pubsub && c->proto == 2 && client_pubsub_refuse(c, cmd, qc->argc, argv) != 0) {
        c->multi_err |= c->in_multi;
        reply_error(&c->reply, c->err.data);
        return CHECK_REFUSED;
    }
    return client_multi_intercept(c, qc, cmd) ? -1 : 0;
}

/* Run the queue, parse more, run again... until the input holds no complete
 * request, a task is in flight, or the output is past the high mark. Runs on
 * whichever worker serves the client; touches no watcher. */
static void client_pump(client_t *c)
{
    for (;;) {
        if (c->flags & (CLIENT_IN_FLIGHT | CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY |
                        CLIENT_OUT_PAUSED | CLIENT_BLOCKED | CLIENT_POSTPONED))
            break;
        if (c->qhead >= c->qlen) {
            client_parse(c);
            if (c->qlen == 0)
                break;
        }
        c->in_round = 1;
        sched_run_client(c); /* ends with client_queue_done, now or later */
        c->in_round = 0;
    }
}

/* The end of a round, on the home worker: close, or write and re-arm. The
 * only place (with the idle and kill paths) where a client is freed. */
static void client_finish(client_t *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) {
        client_close(c, NULL);
        return;
    }
    client_settle(c);
}

#define QBUF_KEEP (64 * 1024) /* an empty query buffer larger than this is freed */
#define ARGS_KEEP 4096        /* so is an argument vector with more slots */

void client_queue_done(client_t *c)
{
    int paused = (c->flags & (CLIENT_OUT_PAUSED | CLIENT_BLOCKED | CLIENT_POSTPONED)) &&
                 !(c->flags & CLIENT_CLOSE_ASAP) && c->qhead < c->qlen;
    if (!paused) {
        c->flags &= ~CLIENT_OUT_PAUSED;
        c->qlen = c->qhead = 0;
        c->args.n = 0;
        buf_consume(&c->in, c->in_parsed);
        c->in_need = c->in_need > c->in_parsed ? c->in_need - c->in_parsed : 0;
        c->in_parsed = 0;
        if (c->in.len == 0 && c->in.cap > QBUF_KEEP)
            buf_free(&c->in);
        if (c->args.cap > ARGS_KEEP)
            argvec_free(&c->args);
        if (c->resp_error_close)
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
    /* Completed asynchronously (a task came home): carry on with the input. */
    if (!c->in_round) {
        client_pump(c);
        client_finish(c);
    }
}

/* Read once and run what arrived. Never frees c: a closed connection is
 * marked CLIENT_CLOSE_ASAP for client_finish. */
static void client_read(client_t *c)
{
    /* A large bulk's buffer grows with the data that arrived (at most
     * doubling per read), never to the size its header announced. */
    size_t want = READ_CHUNK;
    if (c->in_need > c->in.len) {
        size_t rest = c->in_need - c->in.len, grow = c->in.len > want ? c->in.len : want;
        want = rest < grow ? (rest > want ? rest : want) : grow;
    }
    uintptr_t old = (uintptr_t)c->in.data;
    buf_reserve(&c->in, want);
    /* A blocked client is read with its queue held (it must see a
     * disconnect): the queued commands' arguments move with the buffer. */
    if (c->qlen && old && (uintptr_t)c->in.data != old) {
        for (size_t i = 0; i < c->args.n; i++) {
            uintptr_t p = (uintptr_t)c->args.v[i].p;
            if (p >= old && p <= old + c->in.len)
                c->args.v[i].p = c->in.data + (p - old);
        }
    }
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n == 0) {
        mark_close(c, "client closed connection");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            mark_close(c, strerror(errno));
        return;
    }
    c->in.len += (size_t)n;
    stat_add(&client_stats(worker_self())->net_input_bytes, (uint64_t)n);
    atomic_store_explicit(&c->last_ms, worker_now_ms(), memory_order_relaxed);
    uint64_t limit = config_get_u64(CFG_CLIENT_QUERY_BUFFER_LIMIT);
    if (limit && c->in.len > limit) {
        log_warn("closing client id=%llu addr=%s: query buffer of %zu bytes over the limit",
                 (unsigned long long)c->id, c->addr, c->in.len);
        mark_close(c, NULL);
        return;
    }
    client_pump(c);
}

void client_on_event(void *arg, int readable, int writable)
{
    client_t *c = arg;
    /* From worker_serve_busy: this client's own round is the busy script. */
    if (c->in_round)
        return;
    if (writable) {
        client_settle(c);
        return; /* c may be gone */
    }
    if (!readable || (c->flags & (CLIENT_IN_FLIGHT | CLIENT_CLOSE_ASAP | CLIENT_OUT_PAUSED)))
        return;
    if (sched_client_readable(c))
        return; /* the policy queued it (work-stealing) */
    client_read(c);
    client_finish(c);
}

void client_leave_home(client_t *c)
{
    worker_io_want(c->io, 0, 0);
    c->away = 1;
}

void client_serve(client_t *c)
{
    if (!(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_OUT_PAUSED)))
        client_read(c);
    if (!(c->flags & CLIENT_CLOSE_ASAP))
        client_write(c);
}

/* Move what the Pub/Sub mailbox holds into the output, on the thread that
 * owns the client; a mailbox that went over the pubsub class's hard limit
 * closes the client. */
static void pubsub_flush(client_t *c)
{
    if (!c->ps || !pubsub_sub_take(c->ps, &c->out) || (c->flags & CLIENT_CLOSE_ASAP))
        return;
    log_warn("client id=%llu addr=%s closed for overcoming of output buffer limits "
             "(pubsub messages or MONITOR lines past the pubsub hard limit)",
             (unsigned long long)c->id, c->addr);
    mark_close(c, NULL);
}

void client_pubsub_wake(xmsg_t *m)
{
    client_t *c = pubsub_sub_woken(pubsub_sub_of(m));
    /* Gone; or away: another worker owns it, client_come_home flushes. */
    if (!c || c->away)
        return;
    pubsub_flush(c);
    client_settle(c); /* c may be gone */
}

void client_come_home(client_t *c)
{
    c->away = 0;
    if (atomic_load_explicit(&c->kill_pending, memory_order_relaxed))
        c->flags |= CLIENT_CLOSE_ASAP;
    pubsub_flush(c);
    /* A block whose wake came while away ends now (and resumes the queue). */
    if (c->blk && !(c->flags & CLIENT_CLOSE_ASAP) && client_block_home(c))
        return;
    /* So does a CLIENT PAUSE that ended while it was held away. */
    if (!(c->flags & CLIENT_CLOSE_ASAP) && client_pause_home(c))
        return;
    client_finish(c);
}

void client_resume(client_t *c)
{
    client_pump(c);
    client_finish(c);
}

void client_close_all(int worker)
{
    client_pause_worker_stop(worker);
    for (client_t *c = worker_clients[worker], *next; c; c = next) {
        next = c->next;
        /* A client in flight or away belongs to another worker's stopped
         * loop: the process is exiting, so leave that client to the OS. */
        if (c->away || (c->flags & CLIENT_IN_FLIGHT))
            continue;
        client_write(c);
        client_free(c);
    }
}

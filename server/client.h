/* client — a connection: reading, parsing into a command queue, handing the
 * queue to the scheduler, writing replies. Lives on its home worker; only the
 * fields marked "any thread" are read elsewhere (CLIENT LIST, INFO). */
#ifndef PERCORE_CLIENT_H
#define PERCORE_CLIENT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "blocking.h"
#include "buf.h"
#include "pubsub.h"
#include "resp.h"
#include "scheduler.h"
#include "util.h"
#include "worker.h"

#define CLIENT_CLOSE_AFTER_REPLY 0x1 /* QUIT, protocol errors: flush, then close */
#define CLIENT_CLOSE_ASAP 0x2        /* peer gone or killed: close now */
#define CLIENT_IN_FLIGHT 0x4         /* a task of this client is running elsewhere */
#define CLIENT_OUT_PAUSED 0x8        /* output over client-output-high-water: neither read
                                        nor run its queue until it drains to the low mark */
#define CLIENT_POSTPONED 0x20        /* held by CLIENT PAUSE: its queue waits, the held
                                        command at its head (client_pause.c) */
#define CLIENT_BLOCKED 0x10          /* in a blocking command: its queue waits (its command
                                        at the head) until served, timed out or unblocked;
                                        still read, so a disconnect is seen */

typedef struct watched {
    int db, existed;
    uint64_t stamp;
    size_t len;
    char *key;
} watched_t;

typedef struct client {
    uint64_t id;
    int fd;
    int home;
    int flags;
    worker_io_t *io;
    char addr[64], laddr[64];

    buf_t in;            /* bytes read; parsed commands point into it */
    size_t in_parsed;    /* bytes of `in` that the queue's commands used */
    size_t in_need;      /* a pending bulk ends here (reads grow towards it) */
    resp_parser_t parser; /* the request being received, between reads */
    argvec_t args;
    qcmd_t *q;           /* parsed, not yet answered commands */
    uint32_t qlen, qcap, qhead;

    buf_t out;           /* replies not yet written */
    size_t out_sent;
    uint64_t soft_since_ms; /* output over the soft limit since then (0: it is not) */
    reply_t reply;       /* writes into out */
    buf_t err;           /* a refused command's error text (command_check) */

    /* MULTI, kept by client_multi.c: queued commands keep copies of their
     * arguments; margs hold offsets into mbuf until EXEC. Plain fields, not an
     * embedded multi_t: the scheduler reads them in place (sched.c collects
     * EXEC's partitions from mq and watched), so a struct would only rename. */
    int in_multi, multi_err;
    buf_t mbuf;
    argvec_t margs;
    qcmd_t *mq;
    uint32_t mqlen, mqcap;
    /* WATCH: keys, their database and the stamp db_watch gave them. */
    struct watched *watched;
    uint32_t nwatched, watchcap;

    int db;
    int proto;
    int authenticated;
    struct acl_user *acl; /* its user's snapshot, one reference (acl.h): replaced by its
                             owner thread under the registry lock, read under it elsewhere */
    int resp_error_close; /* a protocol error: close after the error reply */
    int in_round;         /* client_pump is running the queue */
    int ldb_mode;         /* SCRIPT DEBUG's mode for the next EVAL (client_ldb.c) */
    int away;             /* work-stealing: queued or served away (home-only field) */
    _Atomic int kill_pending; /* CLIENT KILL while away: close on return */
    xmsg_t home_msg;      /* work-stealing: "served, back to you" */
    struct tracking_client *trk; /* CLIENT TRACKING's state, from its first ON (tracking.h);
                                    freed with the client */
    pubsub_sub_t *ps;     /* Pub/Sub mailbox, from the first (P|S)SUBSCRIBE (pubsub.h) */
    block_t *blk;         /* the blocking command's block (client_block.c); changed by
                             the thread owning the client under the registry lock,
                             read under it by CLIENT UNBLOCK */
    worker_timer_t *blk_timer; /* its timeout, on the home worker */
    int blk_armed;        /* the timer runs for blk */
    int in_pubsub;        /* subscribed to anything: RESP2's subscribed mode, pubsub class */
    /* CLIENT REPLY (client_ctl.c): OFF drops every reply; skip drops the reply
     * of the command being answered, skip_next the one after it. Written by
     * the thread running the client's command (home, or the worker serving
     * it away, which then owns its queue). */
    int reply_off, reply_skip, reply_skip_next;
    struct client *pprev, *pnext; /* CLIENT PAUSE: the home worker's FIFO of held clients */
    int pqueued;                  /* in that FIFO */
    uint64_t ctime_ms;
    task_t task;

    /* any thread (CLIENT LIST / INFO), single writer: the home worker */
    _Atomic uint64_t last_ms;
    _Atomic int shown_db;
    _Atomic int shown_resp;
    _Atomic(const command_t *) last_cmd;
    _Atomic(const char *) last_sub; /* "client|list" for container commands */
    _Atomic uint64_t qbuf_len, qbuf_free, obuf_len;
    _Atomic uint64_t mem_charged; /* its buffers' bytes in the memory account (home writes) */
    _Atomic int no_evict; /* CLIENT NO-EVICT on: maxmemory-clients spares it */
    _Atomic int doomed;   /* its user was deleted or lost a channel: closing; not listed */
    _Atomic(pubsub_sub_t *) shown_ps; /* c->ps for other threads (set once, before
                                         its first subscription) */
    _Atomic int shown_postponed; /* held by CLIENT PAUSE (CLIENT LIST's b flag) */
    _Atomic int monitoring; /* MONITOR (CLIENT LIST's O flag); its home writes */
    _Atomic int shown_sub, shown_psub, shown_ssub; /* subscriptions per kind */
    char *name;          /* guarded by the client registry lock */

    struct client *prev, *next; /* the home worker's list */
    struct client *rprev, *rnext; /* the registry (all clients) */
} client_t;

/* The connections' counters, per worker (one writer: that worker; see
 * stat_add in util.h), summed by INFO. */
#define CLIENT_STATS(X)                                                                        \
    X(connections_received, "connections accepted")                                           \
    X(rejected_connections, "connections refused (maxclients, protected mode)")               \
    X(net_input_bytes, "bytes read from clients")                                             \
    X(net_output_bytes, "bytes written to clients")                                           \
    X(evicted_clients, "clients closed because all clients' buffers passed maxmemory-clients")

typedef struct client_stats {
#define X(name, desc) _Atomic uint64_t name;
    CLIENT_STATS(X)
#undef X
} client_stats_t;

void client_setup(int nworkers);
void client_teardown(void);
/* Worker w's counters (0 <= w < client_setup's nworkers). */
client_stats_t *client_stats(int worker);
void client_reset_stats(void);
/* The event loop's hooks (worker_hooks_t, wired by main.c): a socket its
 * listener accepted (tcp-keepalive, maxclients, protected mode, then a
 * client), a client socket's readiness, the periodic checks (timeouts,
 * output limits) and, at shutdown, closing the worker's clients. */
void client_accept(int worker, int fd, struct sockaddr *sa, socklen_t sl);
/* A connection from the server to itself, on worker's loop: what is written
 * to the returned fd (a socketpair's other end, non-blocking; -1 on failure)
 * runs as an authenticated client's commands, through the scheduler like any
 * other (the cron's BGSAVE for save points: server.c). The caller reads the
 * replies and closes the fd, which closes the client. */
int client_internal(int worker);
void client_on_event(void *client, int readable, int writable);
void client_cron(int worker, uint64_t now_ms);
void client_close_all(int worker);

/* Work-stealing: the home worker parks a readable client (watchers off)
 * before queueing it; any worker serves it (read, run, write); the home
 * worker takes it back (re-arm or close). */
void client_leave_home(client_t *c);
/* Read, run and write on whichever worker serves it; never frees c (a client
 * to close is closed by client_come_home). */
void client_serve(client_t *c);
void client_come_home(client_t *c);

/* Called by the scheduler when it stops running the queue: at its end, or
 * early when client_output_full() said so (the rest then waits). */
void client_queue_done(client_t *c);
/* Before each queued command, wherever the queue runs: 1 when the client's
 * pending output is past client-output-high-water even after a write (the
 * queue then pauses until it drains to the low mark) or the client is to be
 * closed (over client-output-buffer-limit, or gone). Never frees c. */
int client_output_full(client_t *c);
/* At home: how much output a batch sent to another worker may produce before
 * it stops early (0: no limit). */
size_t client_out_budget(const client_t *c);
/* Before a queued command is placed, on the home worker: command_check for
 * this client (busy: a busy script is in the way of everything but
 * CMD_ALLOW_BUSY commands), then MULTI's queueing. 0 when it may run;
 * otherwise its reply (an error, or QUEUED) has been written and the
 * scheduler skips it (CHECK_BUSY: it was refused as BUSY). client_may_run:
 * 1 when it surely passes (a command
 * that is neither an error nor queued), without a reply. */
int client_precheck(client_t *c, const qcmd_t *qc, int busy);
int client_may_run(const client_t *c, const qcmd_t *qc);
/* AUTH / HELLO AUTH / RESET: c's user becomes u (a reference c takes over). */
void client_set_user(client_t *c, struct acl_user *u);
/* Disconnect every client of user (ACL DELUSER). */
void client_kill_user(const char *user);
/* Drop the subscribers of user whose subscriptions its new rules refuse. */
void client_recheck_user(const char *user);
/* The client's CLIENT INFO line, for ACL LOG (origin: a client_t). */
void client_describe(void *origin, buf_t *out);
/* The connections layer's command rows, for the group list in all_commands.c:
 * QUIT RESET HELLO AUTH SELECT CLIENT and SHUTDOWN (client_cmds.c), MULTI
 * EXEC DISCARD WATCH UNWATCH (client_multi.c). */
extern const command_t cmds_client[];
extern const command_t cmds_shutdown[];
extern const command_t cmds_multi[];
/* SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE
 * (client_pubsub.c). */
extern const command_t cmds_subscribe[];

/* Pub/Sub, on the thread that owns the client (client_pubsub.c): its mailbox
 * (created on first use), the subscribed state after a change, every
 * subscription dropped without replies (RESET), and the RESP2 subscribed
 * mode's refusal of other commands (0: cmd may run; else the error is in
 * c->err). */
pubsub_sub_t *client_pubsub_sub(client_t *c);
void client_pubsub_changed(client_t *c);
void client_pubsub_reset(client_t *c);
int client_pubsub_refuse(client_t *c, const command_t *cmd, int argc, const sv_t *argv);
/* The mailbox's wake message, on the home worker (client.c): move what
 * arrived into the output, unless the client is away (then client_come_home
 * does). */
void client_pubsub_wake(xmsg_t *m);

/* The arguments of queued command qc; NULL when a protocol error came before
 * any argument was parsed on the connection (no arithmetic on a NULL vector). */
static inline sv_t *client_argv(client_t *c, const qcmd_t *qc)
{
    return c->args.v ? c->args.v + qc->argi : NULL;
}

/* CLIENT REPLY (client_ctl.c), after each queued command of c is answered,
 * on the thread that answered it: the reply, out[start..], is dropped when
 * replies are OFF or skipped (not a (un)subscribe's confirmations, pushes
 * that Redis 7.0 sends whatever the mode: cmd NULL for a refused command),
 * and a SKIP moves on to the next command. */
void client_reply_done(client_t *c, buf_t *out, size_t start, const command_t *cmd);
/* MONITOR's row (client_ctl.c), and leaving the monitors (RESET, the
 * client's freeing), on the thread owning c. */
extern const command_t cmds_monitor[];
void client_monitor_stop(client_t *c);
/* CLIENT REPLY ON|OFF|SKIP, for cmd_client (client_cmds.c). */
void client_reply_command(cmd_ctx_t *ctx);

/* CLIENT PAUSE / UNPAUSE (client_pause.c has the design). setup/teardown
 * with client_setup/teardown; worker_stop on worker w at shutdown. */
void client_pause_setup(int nworkers);
/* SCRIPT DEBUG (client_ldb.c): hands the scripting engine its I/O hooks.
 * client_ldb_at_home: 1 for the commands a debug session runs in (EVAL,
 * EVAL_RO), which then run on the client's home worker under every policy
 * (as multi-partition tasks do), where the session may use the socket. */
void client_ldb_setup(void);
int client_ldb_at_home(const command_t *cmd);
/* The partition a parsed command of c runs under (client_parse's part,
 * changed for a debugged EVAL); whether it needs every partition (SCRIPT
 * DEBUG YES: the session forks, sched_collect_parts). */
int client_ldb_route(const client_t *c, const command_t *cmd, int part);
int client_ldb_all_parts(const client_t *c, const command_t *cmd);
/* At exit: kill the forked debugging sessions still running (Redis's
 * ldbKillForkedSessions) and reap them. */
void client_ldb_kill_sessions(void);
void client_pause_teardown(void);
void client_pause_worker_stop(int worker);
/* 1 when the pause in force would hold queued command qc of c (any thread
 * running c's queue). */
int client_pause_holds(const client_t *c, const qcmd_t *qc);
/* Where c's queue runs, before its head command qc: 1 when the pause holds
 * it (c is then CLIENT_POSTPONED, its queue stops until the pause ends). */
int client_postponed(client_t *c, const qcmd_t *qc);
/* At home: c is being freed (leaves the held clients); c came back from
 * being served away (joins them, or resumes when the pause is over: 1). */
void client_pause_forget(client_t *c);
int client_pause_home(client_t *c);
void client_pause_timer(void *arg);
uint64_t client_postponed_count(void);
/* CLIENT PAUSE timeout [WRITE|ALL], CLIENT UNPAUSE, for cmd_client. */
void client_pause_command(cmd_ctx_t *ctx);
void client_unpause_command(cmd_ctx_t *ctx);

/* CLIENT command support (home worker of the calling client). */
uint64_t client_count(void);
/* INFO's client_recent_max_input_buffer / _output_buffer: the largest query
 * buffer (used and free) and pending output among the clients now (Redis
 * keeps the peaks of the last seconds). Any thread. */
void client_max_buffers(uint64_t *in, uint64_t *out);
/* Any thread: 1 while client id is connected (takes the registry lock). */
int client_alive(uint64_t id);
/* CLIENT TRACKING | CACHING | GETREDIR | TRACKINGINFO (client_tracking.c):
 * 1 when sub was one of them (replied); RESET's and a closing client's
 * tracking off; after each command, CLIENT CACHING's flag spent. */
int client_tracking_command(cmd_ctx_t *c, sv_t sub);
void client_tracking_reset(client_t *c);
void client_tracking_free(client_t *c);
void client_tracking_after(client_t *c, const command_t *cmd);
/* CLIENT LIST's flags (t, R, B) and redir field of c (any thread). */
int client_tracking_flags(const client_t *c, char *flags);
long long client_tracking_redir(const client_t *c);
/* type: CLIENT_TYPE_ANY, or only normal / pubsub clients, or none (master,
 * replica). */
enum { CLIENT_TYPE_ANY = -1, CLIENT_TYPE_NORMAL = 0, CLIENT_TYPE_PUBSUB = 1, CLIENT_TYPE_NONE = 2 };
void client_list(buf_t *out, uint64_t only_id, const client_t *self, int type);
int client_kill(uint64_t id, const char *addr, const client_t *self, int skipme, int type,
                const char *user);
void client_set_name(client_t *c, const char *name, size_t n);
void client_get_name(client_t *c, buf_t *out); /* appends; empty if unset */
void client_info_line(client_t *c, buf_t *out);
/* Blocking commands (client_block.c). */
uint64_t client_blocked_count(void);
/* Bytes of every client's buffers (input, output, MULTI queue), as charged
 * to the server's memory account (util.h's mem_account), which maxmemory
 * limits as Redis 7 counts normal clients' buffers. */
uint64_t client_memory(void);
/* The thread owning c (its home, or the worker serving it away), from
 * sched_exec_cmd: c's command blocked as b (blocking.h); it stays at the head
 * of the queue, which waits. */
void client_blocked(client_t *c, block_t *b);
/* b's wake message, on the home worker: answer the command (served, timed
 * out, unblocked) or run it again (BLMOVE's retry), then resume the queue. */
void client_block_woken(xmsg_t *m);
/* At home, when c (blocked) is back from being served away: arm its timeout;
 * 1 when a wake had come meanwhile, and the block ended (c then resumed). */
int client_block_home(client_t *c);
void client_block_free(client_t *c);
/* CLIENT UNBLOCK id: 1 when client id was blocked (err: reply UNBLOCKED). */
int client_unblock(uint64_t id, int err);
/* For client_block.c (client.c): the registry lock, a client by id under
 * it, and resuming a client's queue at home after its block ended. */
void client_registry_lock(void);
void client_registry_unlock(void);
client_t *client_find_locked(uint64_t id);
void client_resume(client_t *c);

#endif

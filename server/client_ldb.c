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
 * until it ends, holding the script's partitions.
 *
 * SCRIPT DEBUG YES (Redis's forked session): the EVAL is routed the same
 * way but holds every partition (client_ldb_route), so the memory fork()
 * copies has no write half done; ldb_fork forks there (forksafe.h), the
 * parent drops the client without a byte written or a shutdown() (the child
 * holds the connection now), and the child runs the SYNC session on its
 * copy, writes the reply and _exits: the data changes die with it.
 *
 * What the child runs, and why each is safe with the other threads gone:
 *   - system calls only for its setup and I/O (child_setup, poll, read,
 *     write, _exit): no lock, no loop;
 *   - this thread's own Lua state and the commands a script or the
 *     debugger calls, under the partitions this thread holds (all of them);
 *   - the locks those may take (config, ACL, script cache and registry,
 *     client registry, pause, slowlog, latency, monitor, Pub/Sub and
 *     tracking registries): registered with forksafe, so they were free
 *     at fork and are fresh in the child;
 *   - the log and the Pub/Sub mailboxes (per-subscriber locks) do nothing
 *     in a child (forksafe_in_child); messages to other workers go into rings
 *     no one reads (a push never waits: a full ring overflows into a list;
 *     the wake-ups are the loop's, which the child never returns to);
 *   - malloc: glibc's and jemalloc's fork handlers leave it usable. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "forksafe.h"
#include "latency.h"
#include "log.h"
#include "script.h"

int client_ldb_at_home(const command_t *cmd)
{
    return strcmp(cmd->name, "eval") == 0 || strcmp(cmd->name, "eval_ro") == 0;
}

int client_ldb_route(const client_t *c, const command_t *cmd, int part)
{
    if (!c->ldb_mode || !client_ldb_at_home(cmd))
        return part;
    if (part >= 0 || (part == -1 && c->ldb_mode == LDB_MODE_YES))
        return -2;
    return part;
}

int client_ldb_all_parts(const client_t *c, const command_t *cmd)
{
    return c->ldb_mode == LDB_MODE_YES && client_ldb_at_home(cmd);
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
        if (c->q[i].cmd)
            c->q[i].part = client_ldb_route(c, c->q[i].cmd, c->q[i].part);
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

/* A forked session's child whose client went away has nothing left to do:
 * its changes are dropped anyway, so it exits rather than run on. */
static int gone(void)
{
    if (forksafe_in_child())
        _exit(0);
    return -1;
}

static int ldb_send(client_t *c, const char *p, size_t n)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return gone();
    /* Replies already queued (SCRIPT DEBUG's +OK) go first. */
    if (c->out.len > c->out_sent) {
        if (write_all(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent) != 0)
            return gone();
        c->out.len = c->out_sent = 0;
    }
    return write_all(c->fd, p, n) == 0 ? 0 : gone();
}

static long ldb_recv(client_t *c, char *p, size_t cap, int timeout_ms)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return gone();
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int rc = poll(&pf, 1, timeout_ms);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return 0;
    if (rc < 0)
        return gone();
    ssize_t n = read(c->fd, p, cap);
    if (n > 0)
        return (long)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return gone();
}

/* Redis closes a synchronous session's connection once the EVAL's reply
 * is written (redis-cli reconnects); a forked session's child exits (its
 * reply is written: script_ldb.c's ldb_end), which closes it. */
static void ldb_end(client_t *c)
{
    if (forksafe_in_child())
        _exit(0);
    c->ldb_mode = 0;
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* ---- forked sessions (SCRIPT DEBUG YES) --------------------------------- */

/* The running children: pid, and the read end of a pipe whose write end
 * only that child holds, so EOF there means it is gone (libev's default
 * loop reaps it, as it reaps the BGSAVE child: persist.c). Any worker may
 * fork; sess_lock is never taken in a child. */
#define LDB_SESSIONS_MAX 1024 /* lua-debug-max-forked-sessions' bound */
typedef struct {
    pid_t pid;
    int fd;
} ldb_child_t;
static pthread_mutex_t sess_lock = PTHREAD_MUTEX_INITIALIZER;
static ldb_child_t sess[LDB_SESSIONS_MAX];
static int nsess;

static void prune_locked(void)
{
    for (int i = 0; i < nsess;) {
        char b;
        ssize_t k = read(sess[i].fd, &b, 1);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            i++;
            continue;
        }
        close(sess[i].fd);
        sess[i] = sess[--nsess];
    }
}

void client_ldb_kill_sessions(void)
{
    pthread_mutex_lock(&sess_lock);
    prune_locked();
    for (int i = 0; i < nsess; i++) {
        log_warn("Killing debugging session %d", (int)sess[i].pid);
        kill(sess[i].pid, SIGKILL);
        /* ECHILD when libev's loop reaped it first */
        while (waitpid(sess[i].pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(sess[i].fd);
    }
    nsess = 0;
    pthread_mutex_unlock(&sess_lock);
}

/* Close every descriptor but 0-2 and the two given (a < b). */
static void close_others(int a, int b)
{
    int keep[2] = {a, b};
    unsigned from = 3;
    for (int i = 0; i < 2; i++) {
        if ((unsigned)keep[i] > from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        if ((unsigned)keep[i] + 1 > from)
            from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0u, 0);
}

/* The child, right after fork, before it runs any session code. Only this
 * thread exists; the locks it may take were handed over free (forksafe.h).
 * It makes system calls only: no log, no loop, no lock. */
static void child_setup(client_t *c, int alive_fd, pid_t parent)
{
    /* Gone with the server even when the server is killed outright
     * (SIGKILL): the kernel sends it SIGKILL when the forking thread ends. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    /* The parent's handlers (libev's) have no loop here: plain default
     * actions, so SIGTERM ends a session; nothing blocked. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    /* The listeners, the loops' epoll and event fds, other clients'
     * sockets: held here they would outlive the parent's close (a client
     * the parent closes would see no EOF while the session lasts). */
    close_others(c->fd < alive_fd ? c->fd : alive_fd, c->fd < alive_fd ? alive_fd : c->fd);
}

static int ldb_fork(client_t *c, char *err, size_t errlen)
{
    int max = config_get_int(CFG_LUA_DEBUG_MAX_FORKED_SESSIONS);
    pthread_mutex_lock(&sess_lock);
    prune_locked();
    if (nsess >= max || nsess >= LDB_SESSIONS_MAX) {
        pthread_mutex_unlock(&sess_lock);
        snprintf(err, errlen,
                 "ERR Too many forked Lua debugging sessions (lua-debug-max-forked-sessions "
                 "is %d): try again later",
                 max);
        return -1;
    }
    int pfd[2];
    pid_t parent = getpid(), pid = -1;
    if (pipe2(pfd, O_CLOEXEC) == 0) {
        /* 200 ms for the registered locks to be free together. */
        pid = forksafe_fork(200);
        if (pid == 0) {
            child_setup(c, pfd[1], parent);
            return 0;
        }
        int e = errno;
        close(pfd[1]);
        if (pid < 0)
            close(pfd[0]);
        errno = e;
    }
    if (pid < 0) {
        int e = errno;
        pthread_mutex_unlock(&sess_lock);
        log_warn("Can't start a forked Lua debugging session: %s", strerror(e));
        snprintf(err, errlen, "ERR Fork() failed: can't run EVAL in debugging mode: %s",
                 strerror(e));
        return -1;
    }
    uint64_t fork_ms = forksafe_latest_fork_usec() / 1000;
    if (latency_wanted(fork_ms)) /* Redis's "fork" latency event */
        latency_add("fork", fork_ms);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    sess[nsess++] = (ldb_child_t){pid, pfd[0]};
    pthread_mutex_unlock(&sess_lock);
    log_warn("Redis forked for debugging eval (pid %d)", (int)pid);
    /* The child has the connection and sends what is queued (SCRIPT
     * DEBUG's +OK): drop the client here without writing. client_free only
     * close()s its descriptor (no shutdown()), which leaves the child's open;
     * libev drops the stale epoll entry the first time it reports it. */
    c->ldb_mode = 0;
    c->out.len = c->out_sent = 0;
    c->flags |= CLIENT_CLOSE_ASAP;
    return 1;
}

void client_ldb_setup(void)
{
    static const script_ldb_io_t io = {
        .mode = ldb_mode,
        .set_mode = ldb_set_mode,
        .send = ldb_send,
        .recv = ldb_recv,
        .end = ldb_end,
        .fork = ldb_fork,
    };
    script_set_ldb_io(&io);
}

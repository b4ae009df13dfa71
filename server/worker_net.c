/* worker_net — the worker module's listeners: every worker its own
 * SO_REUSEPORT socket per bind address, accept() with its failure modes (an
 * accepted socket goes to the accept hook), and the descriptors all this
 * holds (fdlimit's reserve). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"
#include "fdlimit.h"
#include "log.h"
#include "worker_internal.h"

/* accept() that fails for want of descriptors or memory (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM) fails again at once, while the connection waits in the
 * backlog and keeps the level-triggered listener readable: the loop would
 * spin and log without end. Instead the worker stops its listeners for
 * ACCEPT_PAUSE_S, then tries again; the log gets one line per
 * ACCEPT_LOG_EVERY_MS at most, all workers together, with the pauses since. */
#define ACCEPT_PAUSE_S 0.1
#define ACCEPT_LOG_EVERY_MS 10000

static _Atomic uint64_t accept_log_ms;   /* when the last such line was logged */
static _Atomic uint64_t accept_unlogged; /* pauses since then */

static void on_accept_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
    worker_t *w = t->data;
    for (int l = 0; l < w->nlisten; l++)
        ev_io_start(loop, &w->listen_io[l]);
}

static void accept_pause(worker_t *w, int err)
{
    for (int l = 0; l < w->nlisten; l++)
        ev_io_stop(w->loop, &w->listen_io[l]);
    if (!ev_is_active(&w->accept_pause)) {
        ev_timer_set(&w->accept_pause, ACCEPT_PAUSE_S, 0.);
        ev_timer_start(w->loop, &w->accept_pause);
    }
    uint64_t pauses = atomic_fetch_add(&accept_unlogged, 1) + 1;
    uint64_t last = atomic_load(&accept_log_ms);
    if ((last && w->now_ms - last < ACCEPT_LOG_EVERY_MS) ||
        !atomic_compare_exchange_strong(&accept_log_ms, &last, w->now_ms))
        return;
    atomic_fetch_sub(&accept_unlogged, pauses);
    char limit[64] = "";
    struct rlimit rl;
    if (err == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
        snprintf(limit, sizeof limit, " (open file limit %llu)", (unsigned long long)rl.rlim_cur);
    log_warn("accept: %s%s: not accepting new connections for %d ms at a time (%llu pauses "
             "since the last report; this line repeats every %d s at most)",
             strerror(err), limit, (int)(ACCEPT_PAUSE_S * 1000), (unsigned long long)pauses,
             ACCEPT_LOG_EVERY_MS / 1000);
}

/* Errors accept() returns for one connection (it was reset, or Linux passes
 * on a network error pending on it): skip it, take the next. */
static int accept_error_is_transient(int e)
{
    switch (e) {
    case EINTR:
    case ECONNABORTED:
    case EPERM: /* a firewall rule refused it */
    case EPROTO:
    case ENOPROTOOPT:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENONET:
    case EOPNOTSUPP:
        return 1;
    default:
        return 0;
    }
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
    worker_t *w = io->data;
    w->now_ms = now_ms();
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK)
                break;
            if (accept_error_is_transient(e))
                continue;
            accept_pause(w, e); /* EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse */
            break;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        worker_hook.accept(w->id, fd, (struct sockaddr *)&ss, sl);
    }
    worker_run_deferred(w);
}

int worker_fd_reserve(int n, const char *bind)
{
    int naddr = 0;
    for (const char *p = bind ? bind : ""; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        naddr++;
        while (*p && *p != ' ')
            p++;
    }
    /* Each worker: its loop's epoll fd, the eventfd behind ev_async (a pipe's
     * two ends where eventfd is missing), one listener per address. */
    return FDLIMIT_MIN_RESERVE + n * (3 + naddr);
}

static int listen_one(worker_t *w, const char *addr, int port, int backlog, char *err,
                      size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int family;
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (strcmp(addr, "*") != 0 && inet_pton(AF_INET6, strcmp(addr, "::*") == 0 ? "::" : addr,
                                                &a6->sin6_addr) != 1) {
            snprintf(err, errlen, "invalid bind address '%s'", addr);
            return -2;
        }
        sl = sizeof *a6;
        family = AF_INET6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (strcmp(addr, "*") == 0)
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) {
            snprintf(err, errlen, "invalid bind address '%s'", addr);
            return -2;
        }
        sl = sizeof *a4;
        family = AF_INET;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket(%s): %s", addr, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (w->id == 0) {
        /* SO_REUSEPORT would let us share a port another server holds: first
         * make sure the address is free with a plain bind. */
        int probe = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
            setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (family == AF_INET6)
                setsockopt(probe, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            int rc = bind(probe, (struct sockaddr *)&ss, sl);
            int e = errno;
            close(probe);
            if (rc < 0) {
                snprintf(err, errlen, "could not listen on %s:%d: %s", addr, port, strerror(e));
                close(fd);
                return -1;
            }
        }
    }
    /* Each worker its own listener: the kernel spreads connections over them. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, backlog) < 0) {
        snprintf(err, errlen, "could not listen on %s:%d: %s", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    if (w->nlisten == MAX_LISTENERS) {
        snprintf(err, errlen, "too many bind addresses");
        close(fd);
        return -2;
    }
    ev_io *io = &w->listen_io[w->nlisten++];
    ev_io_init(io, on_accept, fd, EV_READ);
    io->data = w;
    return 0;
}

int worker_listen(const char *bind_list, int port, int backlog, char *err, size_t errlen)
{
    char *copy = xstrndup(bind_list, strlen(bind_list));
    int bound = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int optional = tok[0] == '-';
        const char *addr = optional ? tok + 1 : tok;
        int ok = 1;
        for (int i = 0; i < worker_count() && ok; i++) {
            int rc = listen_one(worker_get(i), addr, port, backlog, err, errlen);
            if (rc == -1 && optional && i == 0) {
                log_notice("skipping optional bind address %s: %s", addr, err);
                ok = 0;
            } else if (rc != 0) {
                free(copy);
                return -1;
            }
        }
        bound += ok;
    }
    free(copy);
    if (!bound) {
        snprintf(err, errlen, "no address to listen on");
        return -1;
    }
    return 0;
}

void worker_net_init(worker_t *w)
{
    ev_init(&w->accept_pause, on_accept_resume);
    w->accept_pause.data = w;
}

void worker_net_start(worker_t *w)
{
    for (int l = 0; l < w->nlisten; l++)
        ev_io_start(w->loop, &w->listen_io[l]);
}

void worker_net_close(worker_t *w)
{
    for (int l = 0; l < w->nlisten; l++)
        close(w->listen_io[l].fd);
}

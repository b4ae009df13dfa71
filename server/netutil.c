/* netutil — keepalive and protected mode for accepted sockets. See netutil.h. */
#include "netutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "worker.h"

int net_keepalive(int fd, int secs)
{
    if (secs <= 0)
        return 0;
    int one = 1, idle = secs, intvl = secs / 3 > 0 ? secs / 3 : 1, cnt = 3;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0)
        return -1;
    return 0;
}

int net_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

/* Redis's text, with the server's name (and without CONFIG REWRITE, which
 * percore does not have): clients recognise the DENIED prefix. */
static const char denied[] =
    "-DENIED percore is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to percore you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to percore from "
    "the same host the server is running, however MAKE SURE percore is not publicly accessible "
    "from internet if you do so. Set it in server.ini too to make this change permanent. "
    "2) Alternatively you can just disable the protected mode by editing the percore "
    "configuration file, and setting the protected mode option to 'no', and then restarting "
    "the server. 3) If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Set up an authentication password for the default user. "
    "NOTE: You only need to do one of the above things in order for the server to start "
    "accepting connections from the outside.\r\n";

/* One log line a second at most, whichever worker refuses: a scan of the
 * port must not flood the log. */
static _Atomic uint64_t last_log_ms;
static _Atomic uint64_t refused_unlogged;

void net_format_addr(const struct sockaddr *sa, char *dst, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(dst, n, "%s:%d", host, port);
}

int net_protected_refuse(int fd, const struct sockaddr *sa, int has_password)
{
    if (!config_get_int(CFG_PROTECTED_MODE) || has_password || net_is_loopback(sa))
        return 0;
    /* Best effort, as Redis: the socket is new, its buffer takes the text. */
    ssize_t wr = write(fd, denied, sizeof denied - 1);
    (void)wr;
    close(fd);
    uint64_t now = worker_now_ms(), last = atomic_load(&last_log_ms);
    uint64_t missed = atomic_fetch_add(&refused_unlogged, 1);
    if (now - last >= 1000 && atomic_compare_exchange_strong(&last_log_ms, &last, now)) {
        char peer[INET6_ADDRSTRLEN + 8], more[64] = "";
        net_format_addr(sa, peer, sizeof peer);
        atomic_fetch_sub(&refused_unlogged, missed + 1);
        if (missed)
            snprintf(more, sizeof more, "; %llu more refused since the last report",
                     (unsigned long long)missed);
        log_notice("protected mode: refused a client from %s (not a loopback address, and the "
                   "default user has no password: set requirepass, or protected-mode no)%s",
                   peer, more);
    }
    return 1;
}

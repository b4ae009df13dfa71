/* netutil — what happens to an accepted client socket before it becomes a
 * connection: TCP keepalive as Redis sets it, Redis's protected mode, and
 * the peer's address as CLIENT LIST and the log show it.
 * Runs on the accepting worker. */
#ifndef PERCORE_NETUTIL_H
#define PERCORE_NETUTIL_H

#include <sys/socket.h>

/* SO_KEEPALIVE with TCP_KEEPIDLE = secs, TCP_KEEPINTVL = secs / 3 (at least 1)
 * and TCP_KEEPCNT = 3, as Redis's tcp-keepalive: a dead peer is noticed about
 * 2 x secs after it went quiet. secs <= 0 leaves the socket alone. 0, or -1
 * with errno set. */
int net_keepalive(int fd, int secs);

/* 1 when sa is a loopback peer: 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into
 * IPv6 (::ffff:127.x.y.z). */
int net_is_loopback(const struct sockaddr *sa);

/* "host:port" of an IPv4 or IPv6 address ("?:0" for another family). */
void net_format_addr(const struct sockaddr *sa, char *dst, size_t n);

/* Protected mode. Called by client_accept after its maxclients check (Redis's
 * order): when protected-mode is yes, the default user has no password
 * (has_password: acl_default_has_password, as Redis 7.0 looks at the default
 * user's nopass flag) and the peer is not on loopback, writes Redis's DENIED error, closes fd, logs why (at most once a
 * second, with how many were refused meanwhile) and returns 1. Otherwise
 * returns 0 and leaves fd alone. */
int net_protected_refuse(int fd, const struct sockaddr *sa, int has_password);

#endif

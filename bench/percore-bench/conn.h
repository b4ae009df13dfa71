/* conn — one connection to the server: its socket, the reply reader (hiredis's
 * for RESP; for --protocol memcache the bytes received and mcproto.c's parser),
 * the bytes waiting to be written, the requests in flight (oldest first: replies
 * come back in order) and, in the open loop, the requests whose time has come
 * but that the pipeline window does not admit yet. No event loop here: engine.c
 * calls these when the socket is ready. Owned by one generator thread. */
#ifndef PB_CONN_H
#define PB_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "workload.h"

struct inflight {
    uint64_t intended; /* ns, CLOCK_MONOTONIC: when the request was due */
    uint32_t left;     /* replies still to come */
    uint8_t cls;
    uint8_t err; /* an error reply (or an error element inside EXEC's) was seen */
};

struct pending {
    uint64_t intended;
    uint8_t cls;
};

struct conn {
    int fd;
    int depth; /* requests in flight at most */
    void *reader;     /* hiredis's, RESP only */
    int memcache;     /* memcached text protocol: replies parsed from in */
    struct wbuf in;   /* memcache: bytes received, not yet parsed from in_off */
    size_t in_off;
    unsigned partial_errors; /* errors seen in a reply not yet complete */
    struct wbuf out;
    size_t out_off; /* bytes of out already written */
    struct inflight *fl;
    size_t fl_cap, fl_head, fl_n;
    struct pending *pq;
    size_t pq_cap, pq_head, pq_n;
};

/* A blocking TCP connection with TCP_NODELAY, or -1 with err filled in. */
int conn_connect(const char *host, int port, char *err, size_t errlen);
/* Takes fd (made non-blocking); memcache: replies are memcached's text
 * protocol, not RESP. 0, or -1 when out of memory. */
int conn_init(struct conn *c, int fd, int depth, int memcache);
void conn_free(struct conn *c);

void conn_pend_push(struct conn *c, uint64_t intended, uint8_t cls);
int conn_pend_pop(struct conn *c, struct pending *p);
static inline const struct pending *conn_pend_at(const struct conn *c, size_t i)
{
    return &c->pq[(c->pq_head + i) & (c->pq_cap - 1)];
}
void conn_fl_push(struct conn *c, uint64_t intended, uint8_t cls, uint32_t replies);
static inline const struct inflight *conn_fl_at(const struct conn *c, size_t i)
{
    return &c->fl[(c->fl_head + i) & (c->fl_cap - 1)];
}

/* Writes what it can of out: 1 all written, 0 the socket is full, -1 error. */
int conn_flush(struct conn *c);
/* One read into buf, fed to the reader: bytes read, 0 when nothing is there,
 * -1 on error or EOF (errno 0 for EOF). */
ssize_t conn_recv(struct conn *c, char *buf, size_t size);
/* 1 and *done filled when a whole request's replies are in; 0 when more bytes
 * are needed; -1 on a protocol error or a reply nobody asked for (msg says). */
int conn_next_done(struct conn *c, struct inflight *done, const char **msg);
/* The text of the last error reply this thread parsed ("" if none yet). */
const char *conn_last_error(void);

#endif

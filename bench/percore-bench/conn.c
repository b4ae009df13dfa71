/* conn — socket I/O, reply parsing (hiredis's reader) and request queues. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "mcproto.h"

/* Reply objects are never built: the generator only needs to know where each
 * reply ends and whether it holds an error, so every "object" is a non-NULL
 * token and errors are counted on the side. That keeps a 1000-element LRANGE
 * reply from costing 1000 allocations on the client. */
static _Thread_local unsigned tl_errors;
static _Thread_local char tl_last_error[128];

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
typedef size_t array_len_t; /* hiredis 1.x */
#else
typedef int array_len_t; /* hiredis 0.14 */
#endif

static void *token_string(const redisReadTask *t, char *s, size_t len)
{
    if (t->type == REDIS_REPLY_ERROR) {
        tl_errors++;
        size_t n = len < sizeof tl_last_error - 1 ? len : sizeof tl_last_error - 1;
        memcpy(tl_last_error, s, n);
        tl_last_error[n] = 0;
    }
    return (void *)1;
}

static void *token_array(const redisReadTask *t, array_len_t n)
{
    (void)t, (void)n;
    return (void *)1;
}

static void *token_integer(const redisReadTask *t, long long v)
{
    (void)t, (void)v;
    return (void *)1;
}

static void *token_nil(const redisReadTask *t)
{
    (void)t;
    return (void *)1;
}

static void token_free(void *p)
{
    (void)p;
}

/* Types hiredis 1.x adds (double, bool) are left NULL: it then uses its own
 * non-NULL placeholders, which is all we need. */
static redisReplyObjectFunctions token_fns = {
    .createString = token_string,
    .createArray = token_array,
    .createInteger = token_integer,
    .createNil = token_nil,
    .freeObject = token_free,
};

const char *conn_last_error(void)
{
    return tl_last_error;
}

int conn_connect(const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "connect to %s:%d: %s", host, port, strerror(saved));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int conn_init(struct conn *c, int fd, int depth, int memcache)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->depth = depth;
    c->memcache = memcache;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    if (memcache)
        return 0;
    c->reader = redisReaderCreateWithFunctions(&token_fns);
    return c->reader ? 0 : -1;
}

void conn_free(struct conn *c)
{
    if (c->reader)
        redisReaderFree(c->reader);
    if (c->fd >= 0)
        close(c->fd);
    wbuf_free(&c->out);
    wbuf_free(&c->in);
    free(c->fl);
    free(c->pq);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* Grow a power-of-two ring of n used entries starting at head to twice its
 * capacity, unwrapping it so the entries start at 0. */
static void *ring_grow(void *ring, size_t elem, size_t *cap, size_t *head, size_t n)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    char *p = malloc(ncap * elem);
    if (!p) {
        fprintf(stderr, "percore-bench: out of memory (request queue of %zu)\n", ncap);
        abort();
    }
    for (size_t i = 0; i < n; i++)
        memcpy(p + i * elem, (char *)ring + ((*head + i) & (*cap - 1)) * elem, elem);
    free(ring);
    *cap = ncap;
    *head = 0;
    return p;
}

void conn_pend_push(struct conn *c, uint64_t intended, uint8_t cls)
{
    if (c->pq_n == c->pq_cap)
        c->pq = ring_grow(c->pq, sizeof *c->pq, &c->pq_cap, &c->pq_head, c->pq_n);
    struct pending *p = &c->pq[(c->pq_head + c->pq_n++) & (c->pq_cap - 1)];
    p->intended = intended;
    p->cls = cls;
}

int conn_pend_pop(struct conn *c, struct pending *p)
{
    if (!c->pq_n)
        return 0;
    *p = c->pq[c->pq_head];
    c->pq_head = (c->pq_head + 1) & (c->pq_cap - 1);
    c->pq_n--;
    return 1;
}

void conn_fl_push(struct conn *c, uint64_t intended, uint8_t cls, uint32_t replies)
{
    if (c->fl_n == c->fl_cap)
        c->fl = ring_grow(c->fl, sizeof *c->fl, &c->fl_cap, &c->fl_head, c->fl_n);
    struct inflight *f = &c->fl[(c->fl_head + c->fl_n++) & (c->fl_cap - 1)];
    f->intended = intended;
    f->left = replies;
    f->cls = cls;
    f->err = 0;
}

int conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out.len = c->out_off = 0;
    return 1;
}

/* Appends received bytes to in, first dropping the parsed ones in front. */
static void mc_feed(struct conn *c, const char *buf, size_t n)
{
    if (c->in_off == c->in.len) {
        c->in.len = c->in_off = 0;
    } else if (c->in_off > c->in.len / 2) {
        memmove(c->in.p, c->in.p + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    wbuf_reserve(&c->in, n);
    memcpy(c->in.p + c->in.len, buf, n);
    c->in.len += n;
}

/* One reply (an error reply if err) for the oldest request in flight: 1 and
 * *done filled when that was its last reply, 0 when it awaits more, -1 when no
 * request was in flight. */
static int reply_in(struct conn *c, int err, struct inflight *done, const char **msg)
{
    if (!c->fl_n) {
        *msg = "a reply arrived with no request in flight";
        return -1;
    }
    struct inflight *f = &c->fl[c->fl_head];
    if (err)
        f->err = 1;
    if (--f->left)
        return 0;
    *done = *f;
    c->fl_head = (c->fl_head + 1) & (c->fl_cap - 1);
    c->fl_n--;
    return 1;
}

/* conn_next_done for memcache. */
static int mc_next_done(struct conn *c, struct inflight *done, const char **msg)
{
    for (;;) {
        size_t used;
        int is_err;
        if (c->in_off == c->in.len)
            return 0;
        int rc = mc_parse_reply(c->in.p + c->in_off, c->in.len - c->in_off, &used, &is_err,
                                tl_last_error, sizeof tl_last_error, msg);
        if (rc <= 0)
            return rc;
        c->in_off += used;
        if ((rc = reply_in(c, is_err, done, msg)) != 0)
            return rc;
    }
}

ssize_t conn_recv(struct conn *c, char *buf, size_t size)
{
    for (;;) {
        ssize_t n = recv(c->fd, buf, size, 0);
        if (n > 0) {
            if (c->memcache)
                mc_feed(c, buf, (size_t)n);
            else if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK)
                return -1;
            return n;
        }
        if (n == 0) {
            errno = 0;
            return -1;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

int conn_next_done(struct conn *c, struct inflight *done, const char **msg)
{
    if (c->memcache)
        return mc_next_done(c, done, msg);
    redisReader *rd = c->reader;
    for (;;) {
        void *reply = NULL;
        tl_errors = c->partial_errors;
        int rc = redisReaderGetReply(rd, &reply);
        c->partial_errors = tl_errors;
        if (rc != REDIS_OK) {
            *msg = rd->errstr[0] ? rd->errstr : "protocol error";
            return -1;
        }
        if (!reply)
            return 0;
        unsigned errors = c->partial_errors;
        c->partial_errors = 0;
        if ((rc = reply_in(c, errors != 0, done, msg)) != 0)
            return rc;
    }
}

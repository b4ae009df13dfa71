/* preload — pipelined batches of writes, each batch's replies checked. */
#include "preload.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "mcproto.h"

#define BATCH_CMDS 512
#define BATCH_BYTES (4u << 20)

struct loader {
    struct conn c;
    char rbuf[65536];
    unsigned queued;
    unsigned long long sent;
    char *err;
    size_t errlen;
};

static int wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;
    while ((rc = poll(&p, 1, 30000)) < 0 && errno == EINTR)
        ;
    return rc > 0 ? 0 : -1;
}

/* Writes the batch and reads its replies; fails on the first error reply. */
static int loader_sync(struct loader *l)
{
    if (!l->queued)
        return 0;
    for (;;) {
        int rc = conn_flush(&l->c);
        if (rc > 0)
            break;
        if (rc < 0 || wait_fd(l->c.fd, POLLOUT)) {
            snprintf(l->err, l->errlen, "preload: writing: %s",
                     rc < 0 ? strerror(errno) : "timed out");
            return -1;
        }
    }
    while (l->c.fl_n) {
        struct inflight d;
        const char *msg;
        int rc;
        while ((rc = conn_next_done(&l->c, &d, &msg)) == 1) {
            if (d.err) {
                snprintf(l->err, l->errlen, "preload: the server refused a write: %s",
                         conn_last_error());
                return -1;
            }
        }
        if (rc < 0) {
            snprintf(l->err, l->errlen, "preload: %s", msg);
            return -1;
        }
        if (!l->c.fl_n)
            break;
        ssize_t n = conn_recv(&l->c, l->rbuf, sizeof l->rbuf);
        if (n < 0) {
            snprintf(l->err, l->errlen, "preload: reading: %s",
                     errno ? strerror(errno) : "the server closed the connection");
            return -1;
        }
        if (n == 0 && wait_fd(l->c.fd, POLLIN)) {
            snprintf(l->err, l->errlen, "preload: no reply within 30 s");
            return -1;
        }
    }
    l->sent += l->queued;
    l->queued = 0;
    return 0;
}

/* Call after composing one command into l->c.out. */
static int loader_added(struct loader *l)
{
    conn_fl_push(&l->c, 0, 0, 1);
    if (++l->queued >= BATCH_CMDS || l->c.out.len >= BATCH_BYTES)
        return loader_sync(l);
    return 0;
}

static int set_key(struct loader *l, const char *prefix, uint64_t i, const char *v, size_t vlen)
{
    if (l->c.memcache) {
        mc_set(&l->c.out, prefix, i, v, vlen);
        return loader_added(l);
    }
    resp_array(&l->c.out, 3);
    resp_bulk(&l->c.out, "SET", 3);
    resp_bulk_key(&l->c.out, prefix, i);
    resp_bulk(&l->c.out, v, vlen);
    return loader_added(l);
}

static int fill_list(struct loader *l, const struct workload *w, unsigned i)
{
    resp_array(&l->c.out, 2);
    resp_bulk(&l->c.out, "DEL", 3);
    resp_bulk_key(&l->c.out, "list:", i);
    if (loader_added(l))
        return -1;
    size_t elen = w->value_size < 16 ? w->value_size : 16;
    for (unsigned left = w->list_len; left > 0;) {
        unsigned n = left > 1000 ? 1000 : left; /* RPUSH in chunks of 1000 elements */
        resp_array(&l->c.out, n + 2);
        resp_bulk(&l->c.out, "RPUSH", 5);
        resp_bulk_key(&l->c.out, "list:", i);
        /* cppcheck-suppress knownConditionTrueFalse ; false positive: n >= 1 here */
        for (unsigned j = 0; j < n; j++)
            resp_bulk(&l->c.out, w->value, elen);
        if (loader_added(l))
            return -1;
        left -= n;
    }
    return 0;
}

int preload_run(const struct opts *o, const struct workload *w, char *err, size_t errlen)
{
    int heavy = !o->no_heavy_preload;
    int lists = heavy && wl_has_heavy(w, HEAVY_LRANGE);
    int bigs = heavy && wl_has_heavy(w, HEAVY_BIGVALUE);
    if (!o->preload && !lists && !bigs)
        return 0;
    static struct loader l; /* 64 KB read buffer: not on the stack */
    memset(&l, 0, sizeof l);
    l.err = err;
    l.errlen = errlen;
    int fd = conn_connect(o->host, o->port, err, errlen);
    if (fd < 0)
        return -1;
    if (conn_init(&l.c, fd, 1, o->memcache)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    if (o->preload) {
        for (uint64_t i = 0; i < w->keys && !rc; i++)
            rc = set_key(&l, "key:", i, w->value, w->value_size);
        for (uint64_t i = 0; w->txn_frac > 0 && i < w->keys && !rc; i++)
            rc = set_key(&l, "acct:", i, "0", 1);
    }
    for (unsigned i = 0; lists && i < w->heavy_keys && !rc; i++)
        rc = fill_list(&l, w, i);
    for (unsigned i = 0; bigs && i < w->heavy_keys && !rc; i++)
        rc = set_key(&l, "big:", i, w->big, w->big_size);
    if (!rc)
        rc = loader_sync(&l);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!rc && !o->quiet)
        fprintf(stderr, "percore-bench: preloaded with %llu writes in %.2f s\n", l.sent,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    conn_free(&l.c);
    return rc;
}

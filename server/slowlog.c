/* SLOWLOG's log: a ring of entries under one mutex (see slowlog.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowlog.h"
#include "util.h"
#include "forksafe.h"

typedef struct slow_entry {
    long long id, time, us;
    int argc;
    size_t bytes;       /* what this entry costs, for SLOWLOG_MAX_BYTES */
    sv_t *argv;         /* into the same allocation */
    char *peer, *name;  /* ditto */
} slow_entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(lock) /* a SCRIPT DEBUG YES child may take it */
static slow_entry_t **ring; /* oldest at ring[head], newest at ring[(head+nents-1) % cap] */
static size_t cap, head, nents;
static uint64_t bytes;
static long long next_id;

/* 1 when argument i of this call holds a secret Redis 7.0 redacts. */
static int redacted(const command_t *cmd, int argc, const sv_t *argv, int i)
{
    if (!cmd || i == 0)
        return 0;
    if (strcmp(cmd->name, "auth") == 0)
        return 1;
    if (strcmp(cmd->name, "hello") == 0) /* HELLO ... AUTH user pass */
        return (i >= 2 && sv_eq_ci(argv[i - 1], "auth")) ||
               (i >= 3 && sv_eq_ci(argv[i - 2], "auth"));
    if (strcmp(cmd->name, "config") == 0 && argc >= 4 && sv_eq_ci(argv[1], "set"))
        return i >= 3 && i % 2 == 1 && sv_eq_ci(argv[i - 1], "requirepass");
    return 0;
}

static void drop_oldest_locked(void)
{
    slow_entry_t *e = ring[head];
    ring[head] = NULL;
    head = (head + 1) % cap;
    nents--;
    bytes -= e->bytes;
    free(e);
}

/* Append the argument as the log keeps it into dst (NULL: only measure). */
static size_t trimmed(const command_t *cmd, int argc, const sv_t *argv, int shown, int i,
                      char *dst)
{
    char tmp[64 + SLOWLOG_MAX_ARGLEN];
    const char *p;
    size_t len;
    if (shown < argc && i == shown - 1) {
        len = (size_t)snprintf(tmp, sizeof tmp, "... (%d more arguments)", argc - shown + 1);
        p = tmp;
    } else if (redacted(cmd, argc, argv, i)) {
        p = "(redacted)", len = 10;
    } else if (argv[i].len > SLOWLOG_MAX_ARGLEN) {
        memcpy(tmp, argv[i].p, SLOWLOG_MAX_ARGLEN);
        len = SLOWLOG_MAX_ARGLEN +
              (size_t)snprintf(tmp + SLOWLOG_MAX_ARGLEN, sizeof tmp - SLOWLOG_MAX_ARGLEN,
                               "... (%zu more bytes)", argv[i].len - SLOWLOG_MAX_ARGLEN);
        p = tmp;
    } else {
        p = argv[i].p, len = argv[i].len;
    }
    if (dst)
        memcpy(dst, p, len);
    return len;
}

static void (*namer)(struct client *, buf_t *);
void slowlog_set_namer(void (*fn)(struct client *, buf_t *out)) { namer = fn; }

void slowlog_push(const command_t *cmd, int argc, const sv_t *argv, uint64_t us,
                  const char *peer, struct client *origin)
{
    buf_t nb;
    buf_init(&nb);
    if (origin && namer)
        namer(origin, &nb);
    const char *name = buf_cstr(&nb);
    int shown = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;
    if (!peer)
        peer = "?:0"; /* a script's call: Redis's Lua client has no address */
    size_t plen = strlen(peer) + 1, nlen = strlen(name) + 1, total = sizeof(slow_entry_t);
    total += (size_t)shown * sizeof(sv_t) + plen + nlen;
    for (int i = 0; i < shown; i++)
        total += trimmed(cmd, argc, argv, shown, i, NULL);
    /* Built before the lock: the critical section only links it in. */
    slow_entry_t *e = xmalloc(total);
    e->argv = (sv_t *)(e + 1);
    char *w = (char *)(e->argv + shown);
    for (int i = 0; i < shown; i++) {
        size_t len = trimmed(cmd, argc, argv, shown, i, w);
        e->argv[i] = (sv_t){w, len};
        w += len;
    }
    e->peer = memcpy(w, peer, plen);
    e->name = memcpy(w + plen, name, nlen);
    buf_free(&nb);
    e->argc = shown;
    e->bytes = total;
    e->us = (long long)us;
    e->time = (long long)(now_us() / 1000000);
    size_t max_len = (size_t)config_get(slowlog_max_len);
    pthread_mutex_lock(&lock);
    e->id = next_id++;
    while (nents && (nents >= max_len || bytes + total > SLOWLOG_MAX_BYTES))
        drop_oldest_locked();
    if (max_len == 0) {
        pthread_mutex_unlock(&lock);
        free(e);
        return;
    }
    if (nents == cap) { /* grow, never past max_len */
        size_t ncap = cap ? cap * 2 : 16;
        if (ncap > max_len)
            ncap = max_len;
        slow_entry_t **nr = xcalloc(ncap, sizeof *nr);
        for (size_t i = 0; i < nents; i++)
            nr[i] = ring[(head + i) % cap];
        free(ring);
        ring = nr, cap = ncap, head = 0;
    }
    ring[(head + nents) % cap] = e;
    nents++;
    bytes += total;
    pthread_mutex_unlock(&lock);
}

long slowlog_len(void)
{
    pthread_mutex_lock(&lock);
    long len = (long)nents;
    pthread_mutex_unlock(&lock);
    return len;
}

void slowlog_reset(void)
{
    pthread_mutex_lock(&lock);
    while (nents)
        drop_oldest_locked();
    pthread_mutex_unlock(&lock);
}

uint64_t slowlog_bytes(void)
{
    pthread_mutex_lock(&lock);
    uint64_t b = bytes;
    pthread_mutex_unlock(&lock);
    return b;
}

/* Newest first, as Redis's: [id, time, us, [args...], peer, name]. The reply
 * is bounded by the log, itself bounded, whatever count asks for. */
void slowlog_reply(reply_t *r, long long count)
{
    pthread_mutex_lock(&lock);
    size_t k = count < 0 || (unsigned long long)count > nents ? nents : (size_t)count;
    reply_array(r, (long)k);
    for (size_t j = 0; j < k; j++) {
        const slow_entry_t *e = ring[(head + nents - 1 - j) % cap];
        reply_array(r, 6);
        reply_int(r, e->id);
        reply_int(r, e->time);
        reply_int(r, e->us);
        reply_array(r, e->argc);
        for (int i = 0; i < e->argc; i++)
            reply_bulk(r, e->argv[i].p, e->argv[i].len);
        reply_bulk_cstr(r, e->peer);
        reply_bulk_cstr(r, e->name);
    }
    pthread_mutex_unlock(&lock);
}

void slowlog_teardown(void)
{
    slowlog_reset();
    pthread_mutex_lock(&lock);
    free(ring);
    ring = NULL;
    cap = head = nents = 0;
    next_id = 0;
    pthread_mutex_unlock(&lock);
}

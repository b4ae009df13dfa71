/* monitor — MONITOR's feed (monitor.h has the design). */
#include "monitor.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>

#include "config.h"
#include "forksafe.h"

_Atomic int monitor_n;
static pthread_mutex_t mon_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(mon_lock) /* a SCRIPT DEBUG YES child may take it */
static pubsub_sub_t **mons;
static int nmons, capmons;

void monitor_add(pubsub_sub_t *s)
{
    pthread_mutex_lock(&mon_lock);
    if (nmons == capmons) {
        capmons = capmons ? capmons * 2 : 8;
        mons = xrealloc(mons, (size_t)capmons * sizeof *mons);
    }
    mons[nmons++] = s;
    atomic_store_explicit(&monitor_n, nmons, memory_order_relaxed);
    pthread_mutex_unlock(&mon_lock);
}

void monitor_remove(const pubsub_sub_t *s)
{
    pthread_mutex_lock(&mon_lock);
    for (int i = 0; i < nmons; i++) {
        if (mons[i] == s) {
            mons[i] = mons[--nmons]; /* order among monitors does not matter */
            break;
        }
    }
    atomic_store_explicit(&monitor_n, nmons, memory_order_relaxed);
    if (!nmons) {
        free(mons);
        mons = NULL;
        capmons = 0;
    }
    pthread_mutex_unlock(&mon_lock);
}

/* Redis's sdscatrepr: a quoted string, \\ \" \n \r \t \a \b escaped, other
 * unprintable bytes as \xHH. */
static void put_repr(buf_t *b, sv_t v)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.p[i];
        switch (ch) {
        case '\\': buf_append(b, "\\\\", 2); break;
        case '"': buf_append(b, "\\\"", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        case '\a': buf_append(b, "\\a", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        default:
            if (ch >= 0x20 && ch < 0x7f)
                buf_append(b, (const char *)&ch, 1);
            else
                buf_printf(b, "\\x%02x", ch);
        }
    }
    buf_append(b, "\"", 1);
}

/* Redis 7.0 redacts AUTH's arguments and HELLO's AUTH username password. */
static int redacted(const cmd_ctx_t *c, int i)
{
    if (sv_eq_ci(c->argv[0], "auth"))
        return i >= 1;
    if (sv_eq_ci(c->argv[0], "hello"))
        for (int j = 2; j + 2 < c->argc; j++)
            if (sv_eq_ci(c->argv[j], "auth") && (i == j + 1 || i == j + 2))
                return 1;
    return 0;
}

void monitor_feed(const cmd_ctx_t *c, int db)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    buf_t line;
    buf_init(&line);
    buf_printf(&line, "+%ld.%06ld [%d %s]", (long)tv.tv_sec, (long)tv.tv_usec, db,
               c->peer ? c->peer : "lua");
    for (int i = 0; i < c->argc; i++) {
        buf_append(&line, " ", 1);
        if (redacted(c, i))
            buf_append(&line, "\"(redacted)\"", 12);
        else
            put_repr(&line, c->argv[i]);
    }
    buf_append(&line, "\r\n", 2);
    obl_t l;
    config_obl_get(OBL_PUBSUB, &l);
    pthread_mutex_lock(&mon_lock);
    for (int i = 0; i < nmons; i++)
        pubsub_sub_push_raw(mons[i], line.data, line.len, l.hard);
    pthread_mutex_unlock(&mon_lock);
    buf_free(&line);
}

/* mcproto — memcached text protocol: get/set composition and the reply parser. */
#include "mcproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mc_put(struct wbuf *b, const void *p, size_t n)
{
    wbuf_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void mc_get(struct wbuf *b, const char *prefix, uint64_t i)
{
    char line[96];
    int n = snprintf(line, sizeof line, "get %s%llu\r\n", prefix, (unsigned long long)i);
    mc_put(b, line, (size_t)n);
}

void mc_set(struct wbuf *b, const char *prefix, uint64_t i, const void *v, size_t len)
{
    char line[128];
    int n = snprintf(line, sizeof line, "set %s%llu 0 0 %zu\r\n", prefix, (unsigned long long)i,
                     len);
    mc_put(b, line, (size_t)n);
    mc_put(b, v, len);
    mc_put(b, "\r\n", 2);
}

static int starts(const char *line, size_t n, const char *word)
{
    size_t wl = strlen(word);
    return n >= wl && memcmp(line, word, wl) == 0 && (n == wl || line[wl] == ' ');
}

/* The byte count of "VALUE <key> <flags> <bytes>[ <cas>]" (n bytes, no CRLF),
 * or -1 when the line is malformed or announces more than MC_MAX_VALUE. */
static long long value_bytes(const char *line, size_t n)
{
    char tmp[MC_MAX_LINE + 1];
    memcpy(tmp, line, n);
    tmp[n] = 0;
    char *save = NULL, *tok = strtok_r(tmp, " ", &save);
    for (int field = 0; tok && field < 3; field++)
        tok = strtok_r(NULL, " ", &save); /* key, flags, then bytes */
    if (!tok)
        return -1;
    char *end;
    unsigned long long v = strtoull(tok, &end, 10);
    if (end == tok || *end || tok[0] == '-' || v > MC_MAX_VALUE)
        return -1;
    return (long long)v;
}

int mc_parse_reply(const char *p, size_t len, size_t *used, int *is_err, char *err,
                   size_t errlen, const char **msg)
{
    size_t pos = 0;
    *is_err = 0;
    for (;;) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t avail = nl ? (size_t)(nl - (p + pos)) : len - pos;
        if (!nl) {
            if (avail > MC_MAX_LINE) {
                *msg = "memcache reply line too long";
                return -1;
            }
            return 0;
        }
        if (avail == 0 || p[pos + avail - 1] != '\r') {
            *msg = "memcache reply line without CRLF";
            return -1;
        }
        if (avail - 1 > MC_MAX_LINE) {
            *msg = "memcache reply line too long";
            return -1;
        }
        const char *line = p + pos;
        size_t n = avail - 1, next = pos + avail + 1;
        if (starts(line, n, "VALUE")) {
            long long bytes = value_bytes(line, n);
            if (bytes < 0) {
                *msg = "malformed memcache VALUE line";
                return -1;
            }
            if (len - next < (size_t)bytes + 2)
                return 0;
            if (memcmp(p + next + bytes, "\r\n", 2) != 0) {
                *msg = "memcache value not followed by CRLF";
                return -1;
            }
            pos = next + (size_t)bytes + 2;
            continue; /* more VALUE blocks, then END */
        }
        if (pos > 0 && !starts(line, n, "END")) {
            *msg = "memcache get reply not ended by END";
            return -1;
        }
        if (starts(line, n, "ERROR") || starts(line, n, "CLIENT_ERROR") ||
            starts(line, n, "SERVER_ERROR")) {
            *is_err = 1;
            size_t c = n < errlen - 1 ? n : errlen - 1;
            memcpy(err, line, c);
            err[c] = 0;
        }
        *used = next;
        return 1;
    }
}

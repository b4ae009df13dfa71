/* resp — the Redis protocol on buffers only: request parsing (the reply
 * composer is resp_reply.c).
 *
 * A connection keeps a resp_parser_t between reads: a partly received request
 * is resumed where the last call stopped (the header being scanned, the bulk
 * being awaited, the arguments so far), so parsing costs time linear in the
 * bytes received however a client splits its writes. RESP_INCOMPLETE reports
 * in res->need how much input a pending bulk requires, so the caller can read
 * towards it without calling in between. */
#include "resp.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- request parsing ---------------------------------------------------- */

#define ERR_MBULK_LEN "Protocol error: invalid multibulk length"
#define ERR_BULK_LEN "Protocol error: invalid bulk length"
#define ERR_MBULK_BIG "Protocol error: too big mbulk count string"
#define ERR_BULK_BIG "Protocol error: too big bulk count string"
#define ERR_INLINE_BIG "Protocol error: too big inline request"
#define ERR_QUOTES "Protocol error: unbalanced quotes in request"
#define ERR_UNAUTH_MBULK "Protocol error: unauthenticated multibulk length"
#define ERR_UNAUTH_BULK "Protocol error: unauthenticated bulk length"
/* Redis does not check the two bytes after a bulk payload; we require CRLF so a
 * client that miscounts a length fails loudly instead of desynchronising. */
#define ERR_BULK_CRLF "Protocol error: expected '\\r\\n' after bulk data"

/* Look for ch in data[pos..len), scanning on from pos + ps->scanned (the bytes
 * before it are known to hold none), so input that arrives a byte at a time is
 * scanned once. Like Redis, ch not within the first max_inline + 1 bytes is
 * too big (res->err = too_big). On RESP_OK, *at is the index of ch;
 * RESP_INCOMPLETE remembers in ps->scanned how far it looked. */
static int scan_for(resp_parser_t *ps, const char *data, size_t len, size_t pos, char ch,
                    const resp_limits_t *lim, resp_parse_t *res, const char *too_big,
                    size_t *at)
{
    size_t avail = len - pos;
    size_t scan = avail < lim->max_inline + 1 ? avail : lim->max_inline + 1;
    const char *p = NULL;

    if (scan > ps->scanned)
        p = memchr(data + pos + ps->scanned, ch, scan - ps->scanned);
    if (!p) {
        if (avail > lim->max_inline) {
            res->err = too_big;
            return RESP_ERROR;
        }
        ps->scanned = scan;
        return RESP_INCOMPLETE;
    }
    *at = (size_t)(p - data);
    return RESP_OK;
}

/* Find the '\r' ending the '*' or '$' header that starts at data[pos] (with
 * scan_for). On RESP_OK, *cr is the index of the '\r', which is followed by
 * '\n'. */
static int find_header(resp_parser_t *ps, const char *data, size_t len, size_t pos,
                       const resp_limits_t *lim, size_t *cr, resp_parse_t *res,
                       const char *too_big, const char *bad_len)
{
    int rc = scan_for(ps, data, len, pos, '\r', lim, res, too_big, cr);

    if (rc != RESP_OK)
        return rc;
    ps->scanned = *cr - pos; /* found: a retry (for the '\n') starts here */
    if (*cr + 1 >= len)
        return RESP_INCOMPLETE;
    if (data[*cr + 1] != '\n') {
        res->err = bad_len;
        return RESP_ERROR;
    }
    ps->scanned = 0;
    return RESP_OK;
}

/* res->err must outlive the call without allocating, and this text carries the
 * offending byte; each thread parses its own connections, so one buffer per
 * thread suffices. Valid until this thread's next protocol error. */
static const char *err_expected_dollar(char got)
{
    static _Thread_local char msg[sizeof "Protocol error: expected '$', got 'X'"];
    static const char head[] = "Protocol error: expected '$', got '";
    size_t n = sizeof head - 1;

    memcpy(msg, head, n);
    msg[n] = got;
    msg[n + 1] = '\'';
    msg[n + 2] = '\0';
    return msg;
}

/* Resume (or start) a multibulk request. Arguments parsed so far are kept in
 * ps->saved as offsets from data (the buffer may move between calls); they
 * become views only once the request is complete, so each byte and each
 * argument is handled once however the request is split. */
static int parse_multibulk(resp_parser_t *ps, char *data, size_t len, const resp_limits_t *lim,
                           argvec_t *args, resp_parse_t *res)
{
    size_t cr;
    long long v;
    int rc;

    if (ps->left < 0) { /* the "*count" header */
        rc = find_header(ps, data, len, 0, lim, &cr, res, ERR_MBULK_BIG, ERR_MBULK_LEN);
        if (rc != RESP_OK)
            return rc;
        if (str_to_ll(data + 1, cr - 1, &v) != 0 ||
            (v > 0 && ((unsigned long long)v > lim->max_args || v > INT_MAX))) {
            res->err = ERR_MBULK_LEN;
            return RESP_ERROR;
        }
        if (lim->unauth && v > (long long)lim->unauth_max_args) {
            res->err = ERR_UNAUTH_MBULK;
            return RESP_ERROR;
        }
        ps->pos = cr + 2;
        if (v <= 0) { /* Redis skips "*0" and "*-1" without a reply */
            res->consumed = ps->pos;
            return RESP_OK;
        }
        ps->argc = (int)v;
        ps->left = v;
        ps->bulk = -1;
    }
    while (ps->left > 0) {
        size_t pos = ps->pos;
        if (ps->bulk < 0) { /* the "$len" header */
            rc = find_header(ps, data, len, pos, lim, &cr, res, ERR_BULK_BIG, ERR_BULK_LEN);
            if (rc != RESP_OK)
                return rc;
            if (data[pos] != '$') {
                res->err = err_expected_dollar(data[pos]);
                return RESP_ERROR;
            }
            if (str_to_ll(data + pos + 1, cr - pos - 1, &v) != 0 || v < 0 ||
                (unsigned long long)v > lim->max_bulk) {
                res->err = ERR_BULK_LEN;
                return RESP_ERROR;
            }
            if (lim->unauth && (unsigned long long)v > lim->unauth_max_bulk) {
                res->err = ERR_UNAUTH_BULK;
                return RESP_ERROR;
            }
            ps->bulk = v;
            ps->pos = pos = cr + 2;
        }
        size_t n = (size_t)ps->bulk;
        if (len - pos < n + 2) {
            /* the caller can wait for the whole value instead of calling again */
            res->need = pos + n + 2;
            return RESP_INCOMPLETE;
        }
        if (data[pos + n] != '\r' || data[pos + n + 1] != '\n') {
            res->err = ERR_BULK_CRLF;
            return RESP_ERROR;
        }
        argvec_push(&ps->saved, (sv_t){(const char *)(uintptr_t)pos, n});
        ps->pos = pos + n + 2;
        ps->bulk = -1;
        ps->left--;
    }
    for (size_t i = 0; i < ps->saved.n; i++)
        argvec_push(args, (sv_t){data + (uintptr_t)ps->saved.v[i].p, ps->saved.v[i].len});
    res->consumed = ps->pos;
    res->argc = ps->argc;
    return RESP_OK;
}

/* isspace() in the C locale, without the locale lookup. */
static inline int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One character of a quoted argument at s[0..n), s[0] not the closing quote:
 * stores it in *out (after reading, so out may point at or before s) and
 * returns how many bytes it took. In "..." a backslash starts \xHH or a
 * one-letter escape (\n \r \t \b \a, any other letter stands for itself);
 * in '...' only \' is an escape. */
static size_t unquote_char(const char *s, size_t n, char quote, char *out)
{
    char c = s[0];

    if (c != '\\' || n < 2) {
        *out = c;
        return 1;
    }
    if (quote == '\'') {
        *out = s[1] == '\'' ? '\'' : c;
        return s[1] == '\'' ? 2 : 1;
    }
    int hi = n > 3 && s[1] == 'x' ? hex_val(s[2]) : -1;
    int lo = hi >= 0 ? hex_val(s[3]) : -1;
    if (lo >= 0) {
        *out = (char)(hi * 16 + lo);
        return 4;
    }
    switch (s[1]) {
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'b': c = '\b'; break;
    case 'a': c = '\a'; break;
    default: c = s[1]; break;
    }
    *out = c;
    return 2;
}

/* Split data[0..end) into arguments with sdssplitargs' rules, unquoting in place:
 * every step reads at least as many bytes as it writes, so the write cursor never
 * overtakes the read cursor. Unlike sdssplitargs, a NUL byte is ordinary data. */
static int split_inline(char *data, size_t end, argvec_t *args, int *argc)
{
    size_t p = 0;

    *argc = 0;
    for (;;) {
        while (p < end && is_space(data[p]))
            p++;
        if (p >= end)
            return RESP_OK;

        size_t start = p, w = p;
        char quote = 0; /* '"' or '\'' inside quotes */
        int done = 0;
        while (!done) {
            if (quote) {
                if (p >= end)
                    return RESP_ERROR; /* unterminated "..." or '...' */
                if (data[p] == quote) {
                    /* a closing quote must end the argument */
                    if (p + 1 < end && !is_space(data[p + 1]))
                        return RESP_ERROR;
                    p++;
                    done = 1;
                } else {
                    p += unquote_char(data + p, end - p, quote, &data[w++]);
                }
            } else if (p >= end) {
                done = 1;
            } else {
                /* only these end an unquoted argument, as in sdssplitargs:
                 * '\v' and '\f' separate arguments but do not end one */
                switch (data[p]) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                    done = 1;
                    break;
                case '"':
                case '\'':
                    quote = data[p];
                    break;
                default:
                    data[w++] = data[p];
                    break;
                }
                p++;
            }
        }
        argvec_push(args, (sv_t){data + start, w - start});
        (*argc)++;
    }
}

static int parse_inline(resp_parser_t *ps, char *data, size_t len, const resp_limits_t *lim,
                        argvec_t *args, resp_parse_t *res)
{
    size_t end;
    int rc = scan_for(ps, data, len, 0, '\n', lim, res, ERR_INLINE_BIG, &end);

    if (rc != RESP_OK)
        return rc;
    res->consumed = end + 1;
    if (end > 0 && data[end - 1] == '\r')
        end--;
    if (split_inline(data, end, args, &res->argc) != RESP_OK) {
        res->err = ERR_QUOTES;
        return RESP_ERROR;
    }
    return RESP_OK;
}

void resp_parser_reset(resp_parser_t *ps)
{
    ps->left = -1;
    ps->bulk = -1;
    ps->pos = ps->scanned = 0;
    ps->argc = 0;
    ps->saved.n = 0;
}

void resp_parser_init(resp_parser_t *ps)
{
    memset(ps, 0, sizeof *ps);
    resp_parser_reset(ps);
}

void resp_parser_free(resp_parser_t *ps)
{
    argvec_free(&ps->saved);
    resp_parser_init(ps);
}

int resp_parse_next(resp_parser_t *ps, char *data, size_t len, const resp_limits_t *lim,
                    argvec_t *args, resp_parse_t *res)
{
    size_t n0 = args->n;
    int rc;

    res->consumed = 0;
    res->argc = 0;
    res->need = 0;
    res->err = NULL;
    if (len == 0)
        return RESP_INCOMPLETE;
    if (data[0] == '*')
        rc = parse_multibulk(ps, data, len, lim, args, res);
    else
        rc = parse_inline(ps, data, len, lim, args, res);
    if (rc == RESP_INCOMPLETE)
        return rc;
    if (rc != RESP_OK) {
        args->n = n0; /* nothing half-parsed is left behind */
        res->consumed = 0;
        res->argc = 0;
    }
    resp_parser_reset(ps);
    /* A huge request's offsets are not worth keeping for the next one. */
    if (ps->saved.cap > 1024)
        argvec_free(&ps->saved);
    return rc;
}

int resp_parse_request(char *data, size_t len, const resp_limits_t *lim, argvec_t *args,
                       resp_parse_t *res)
{
    resp_parser_t ps;
    resp_parser_init(&ps);
    int rc = resp_parse_next(&ps, data, len, lim, args, res);
    resp_parser_free(&ps);
    return rc;
}

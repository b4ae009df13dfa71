/* resp — the Redis protocol on buffers only: request parsing and reply composing.
 * No sockets here, so unit tests drive both with byte strings. */
#ifndef PERCORE_RESP_H
#define PERCORE_RESP_H

#include <stdint.h>

#include "buf.h"

/* ---- request parsing ---------------------------------------------------- */

enum { RESP_OK = 0, RESP_INCOMPLETE = 1, RESP_ERROR = -1 };

typedef struct resp_limits {
    size_t max_bulk;   /* proto-max-bulk-len: a larger $len is "invalid bulk length" */
    size_t max_args;   /* a larger *count is "invalid multibulk length" (Redis: 1024*1024) */
    size_t max_inline; /* an inline line (or a *count / $len header) with no newline
                          within this many bytes is an error (Redis: 64 KiB) */
    /* A client that has not authenticated yet (when a password is required)
     * gets Redis's smaller caps, with their own error texts. */
    int unauth;
    size_t unauth_max_args; /* Redis: 10 */
    size_t unauth_max_bulk; /* Redis: 16384 */
} resp_limits_t;

typedef struct resp_parse {
    size_t consumed; /* RESP_OK: bytes of input that made up the request */
    int argc;        /* RESP_OK: arguments appended to the argvec (0: empty line, skip it) */
    size_t need;     /* RESP_INCOMPLETE: total input length needed before a retry can
                        make progress (e.g. the end of a large bulk), or 0 if unknown */
    const char *err; /* RESP_ERROR: Redis's exact text, e.g.
                        "Protocol error: invalid bulk length" (no leading '-') */
} resp_parse_t;

/* A connection's parser state between reads (see resp_parse_next). */
typedef struct resp_parser {
    long long left; /* multibulk: arguments still to parse; -1 before the "*count" header */
    long long bulk; /* length of the bulk whose "$len" header was parsed, or -1 */
    size_t pos;     /* bytes of the pending request parsed so far */
    size_t scanned; /* bytes past the current header's (or inline line's) start known
                       to hold no line end */
    int argc;       /* multibulk: the count announced */
    argvec_t saved; /* arguments of the pending request, as offsets from its start */
} resp_parser_t;

void resp_parser_init(resp_parser_t *ps);
void resp_parser_reset(resp_parser_t *ps); /* forget a pending request */
void resp_parser_free(resp_parser_t *ps);

/* Parse one request starting at data[0], resuming the pending one in ps: the
 * caller passes the same request start again (the buffer may have moved and
 * grown) until RESP_OK or RESP_ERROR, which leave ps ready for the next
 * request. Time is linear in the bytes received over all calls. */
int resp_parse_next(resp_parser_t *ps, char *data, size_t len, const resp_limits_t *lim,
                    argvec_t *args, resp_parse_t *res);

/* The same without state: every call parses data[0..len) from the start.
 * Parse one request (multibulk "*N\r\n$L\r\n...", or an inline line split with
 * Redis's quoting rules) from data[0..len). Arguments are appended to args as views
 * into data; inline arguments are unquoted in place, which is why data is mutable.
 * The caller keeps data unchanged while the views are in use. Every size from the
 * input is checked against lim before anything is allocated for it. */
int resp_parse_request(char *data, size_t len, const resp_limits_t *lim, argvec_t *args,
                       resp_parse_t *res);

/* ---- reply composing ---------------------------------------------------- */

/* Where a reply goes, and in which protocol (2 or 3). RESP3 types degrade to
 * their RESP2 forms exactly as Redis does. */
typedef struct reply {
    buf_t *out;
    int proto;
    uint64_t errors; /* error replies written, for INFO stats */
    char err[32];    /* the code (first word) of the last one, for INFO errorstats */
    /* out may not grow past this length (0: no limit): an append that would is
     * dropped and sets overflow, and the caller replaces the whole reply with
     * an error (command_call), so a huge reply is refused, never built. */
    size_t limit;
    int overflow;
} reply_t;

void reply_status(reply_t *r, const char *s);  /* +s */
void reply_ok(reply_t *r);                     /* +OK */
void reply_error(reply_t *r, const char *msg); /* -msg; msg carries its prefix ("ERR ...") */
/* Count an error reply written by other means (errors++, and its code). */
void reply_note_error(reply_t *r, const char *msg, size_t n);
void reply_errorf(reply_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(reply_t *r, long long v);              /* :v */
void reply_bulk(reply_t *r, const void *p, size_t n); /* $n p */
void reply_bulk_cstr(reply_t *r, const char *s);
void reply_bulk_ll(reply_t *r, long long v);   /* integer as a bulk string */
void reply_bulk_double(reply_t *r, double d);  /* %.17g as a bulk string (INCRBYFLOAT) */
void reply_double(reply_t *r, double d);       /* RESP3 ",d"; RESP2 bulk string */
/* A double already formatted (GEOPOS's coordinates): RESP3 ",s"; RESP2 bulk s. */
void reply_double_str(reply_t *r, const char *s, size_t n);
void reply_bool(reply_t *r, int v);            /* RESP3 "#t"/"#f"; RESP2 :1/:0 */
void reply_null(reply_t *r);                   /* RESP3 "_"; RESP2 "$-1" */
void reply_null_array(reply_t *r);             /* RESP3 "_"; RESP2 "*-1" */
void reply_array(reply_t *r, long n);          /* *n */
void reply_map(reply_t *r, long n);            /* RESP3 %n; RESP2 *2n */
void reply_set(reply_t *r, long n);            /* RESP3 ~n; RESP2 *n */
void reply_push(reply_t *r, long n);           /* RESP3 >n; RESP2 *n */
void reply_verbatim(reply_t *r, const char *p, size_t n, const char *fmt3); /* =; RESP2 bulk */

/* An aggregate whose length is known only after its elements: reply_defer() marks
 * the place, reply_defer_set() writes the header there (type '*', '%' or '~',
 * degraded for RESP2 as above). */
size_t reply_defer(reply_t *r);
void reply_defer_set(reply_t *r, size_t mark, char type, long n);

/* Format a double the way Redis does for INCRBYFLOAT/RESP3 (shortest round-trip
 * "%.17g", "inf", "-inf"); returns the length written to dst (>= 40 bytes). */
int resp_format_double(char *dst, double d);

#endif

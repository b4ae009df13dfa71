/* buf — growable byte buffers and string views, the currency of every module. */
#ifndef PERCORE_BUF_H
#define PERCORE_BUF_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* A view of bytes owned by someone else (an input buffer, an object). */
typedef struct sv {
    const char *p;
    size_t len;
} sv_t;

#define SV_LIT(s) ((sv_t){(s), sizeof(s) - 1})

static inline int sv_eq_ci(sv_t a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && strncasecmp(a.p, lit, n) == 0;
}

/* A growable byte buffer. data may move on every append. */
typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

void buf_init(buf_t *b);
void buf_free(buf_t *b);
/* Ensure room for extra more bytes; aborts the process on out-of-memory. */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(buf_t *b, size_t n);
/* Insert n bytes at offset off, moving what follows. */
void buf_insert(buf_t *b, size_t off, const void *p, size_t n);

static inline void buf_putc(buf_t *b, char c)
{
    if (b->len == b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
}

/* The contents as a C string: a NUL is kept after len (not counted). */
static inline const char *buf_cstr(buf_t *b)
{
    buf_putc(b, '\0');
    b->len--;
    return b->data;
}

/* Vectors of string views: the parsed arguments of a connection's commands. */
typedef struct argvec {
    sv_t *v;
    size_t n;
    size_t cap;
} argvec_t;

void argvec_push(argvec_t *a, sv_t s);
void argvec_free(argvec_t *a);

/* Allocation that aborts on out-of-memory: callers check network sizes first. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

#endif

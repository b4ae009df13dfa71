/* rdb — Redis's RDB value format (version 10, as redis-server 7.0 writes it)
 * for DUMP / RESTORE and FUNCTION DUMP / RESTORE: the primitives (rdb.c:
 * lengths, strings plain / integer / LZF-compressed, doubles, Redis's CRC-64
 * and the payload framing), the compact blobs an older or smaller value is
 * kept in (rdb_blob.c: listpack, ziplist, intset, zipmap, each fully
 * validated), and one reader/writer pair per value type (rdb_obj.c).
 *
 * A payload is: type byte, value, 2-byte little-endian RDB version, 8-byte
 * little-endian CRC-64 of everything before it. FUNCTION DUMP's payload is
 * the same frame around RDB_OPCODE_FUNCTION2 and the library code as an RDB
 * string (rdb_put_string / rdb_get_string).
 *
 * The data-structure layer: util.h, buf.h, object.h and the t_*.h types.
 * Readers take hostile bytes: every length is checked against the bytes left
 * before it is used, and nothing is allocated from a declared size alone. */
#ifndef PERCORE_RDB_H
#define PERCORE_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "object.h"

#define RDB_VERSION 10

enum rdb_type {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION_PRE_GA = 246, /* 7.0 release candidates' format: refused */
};

/* ---- CRC-64 (Jones polynomial, reflected, as Redis's crc64.c) ------------ */

/* crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca. */
uint64_t rdb_crc64(uint64_t crc, const void *p, size_t n);

/* ---- writing: appends to a buf_t ---------------------------------------- */

void rdb_put_type(buf_t *b, int type);
void rdb_put_len(buf_t *b, uint64_t len);
/* A string as Redis writes it: integer-encoded when it is a canonical
 * integer that fits 32 bits, LZF-compressed when longer than 20 bytes and
 * compression saves at least 4 bytes, else plain. */
void rdb_put_string(buf_t *b, const char *p, size_t n);
void rdb_put_double_bin(buf_t *b, double v);
/* Close a payload: append RDB_VERSION and the CRC-64 of all of b. */
void rdb_put_frame(buf_t *b);

/* ---- reading ------------------------------------------------------------ */

typedef struct rdb_reader {
    const unsigned char *p;
    size_t len, off;
    uint64_t inflated; /* bytes LZF strings have expanded to so far */
} rdb_reader_t;

/* What the LZF strings of one payload may expand to in all: a small payload
 * can't make the server hold more than this (1 GiB, twice the largest
 * string a client may send). */
#define RDB_INFLATE_MAX (1ULL << 30)

/* A reader over n bytes at p (a blob or body without a frame). */
static inline rdb_reader_t rdb_reader(const void *p, size_t n)
{
    rdb_reader_t r = {(const unsigned char *)p, n, 0, 0};
    return r;
}

/* Check a payload's frame: at least 10 bytes, a version <= RDB_VERSION and
 * a matching CRC-64. 0 with r set over the body (without the frame), or -1
 * (Redis's "DUMP payload version or checksum are wrong"). */
int rdb_check_frame(const void *p, size_t n, rdb_reader_t *r);

/* Each returns 0, or -1 on malformed or truncated input. */
int rdb_get_type(rdb_reader_t *r, int *type);
int rdb_get_len(rdb_reader_t *r, uint64_t *len);
/* A string in any encoding, into out (reset first). Decompressed sizes are
 * bounded by what LZF can expand the compressed bytes to. */
int rdb_get_string(rdb_reader_t *r, buf_t *out);
int rdb_get_double_bin(rdb_reader_t *r, double *v);
/* RDB_TYPE_ZSET's text double: length byte (253 nan, 254 +inf, 255 -inf). */
int rdb_get_double_text(rdb_reader_t *r, double *v);
/* 1 when every byte has been read. */
static inline int rdb_at_end(const rdb_reader_t *r)
{
    return r->off == r->len;
}

/* ---- compact blobs (rdb_blob.c) ------------------------------------------ */

/* One element of a blob: bytes (p, n), or an integer (p NULL, v). */
typedef struct rdb_elem {
    const unsigned char *p;
    size_t n;
    long long v;
} rdb_elem_t;
/* Called for each element in order; nonzero stops the walk (returned). */
typedef int rdb_elem_fn(void *arg, const rdb_elem_t *e);

/* Validate the whole blob, then call fn per element. Return 0, -1 when the
 * blob is malformed (nothing called), or fn's nonzero return. *count gets
 * the number of elements (may be NULL). */
int rdb_listpack_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count);
int rdb_ziplist_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count);
/* An intset must be sorted ascending without duplicates. */
int rdb_intset_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count);
/* Zipmap: field, value, field, value ... */
int rdb_zipmap_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count);

/* ---- values (rdb_obj.c): one reader/writer pair per type ----------------- */

/* Append o's type byte and value (not the frame). 0, or -1 when percore's
 * type has no RDB writer. */
int rdb_save_object(buf_t *b, const obj_t *o);
/* Read a type byte and its value into *o (a fresh value the caller owns).
 * 0, or -1 for bad data (Redis's "Bad data format"): malformed, an unknown
 * type, an empty aggregate, or duplicate members / fields. */
int rdb_load_object(rdb_reader_t *r, obj_t *o);

/* A whole DUMP payload: value plus frame. */
int rdb_dump_object(buf_t *b, const obj_t *o);
/* RESTORE's parse: -1 bad frame (version or checksum), -2 bad data, 0
 * with *o set. Bytes after the value are ignored, as Redis does. */
int rdb_restore_object(const void *p, size_t n, obj_t *o);

#endif

/* t_common — what the aggregate data structures share (t_htab.c, t_list.c,
 * t_hash.c, t_set.c, t_zset.c): the random generator, Redis's
 * small-encoding limits, and the buffer of length-prefixed strings that
 * random picks and scans gather their elements into. Defined in t_common.c.
 *
 * The data-structure layer: includes only util.h, buf.h and system headers;
 * the object module and the commands call it, never the other way round. */
#ifndef PERCORE_T_COMMON_H
#define PERCORE_T_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* A random 64-bit number from a per-thread generator (HRANDFIELD, SPOP ...). */
uint64_t t_rand(void);
/* min(count, n) distinct random indexes of [0, n), ascending (one O(n) pass:
 * for the small array encodings). */
size_t rand_distinct_indexes(size_t n, size_t *out, size_t count);

/* Redis 7.0's compact-encoding limits, used to decide when the small encodings
 * convert and when *SCAN returns a whole small value in one call. */
#define HASH_SMALL_ENTRIES 128
#define HASH_SMALL_VALUE 64
#define SET_INTS_ENTRIES 512
#define ZSET_SMALL_ENTRIES 128
#define ZSET_SMALL_VALUE 64

/* Append one length-prefixed string to a scan result buffer. */
void scan_push(buf_t *items, const char *p, size_t n);
/* Walk such a buffer: *off starts at 0; 0 at the end. */
static inline int items_next(const buf_t *items, size_t *off, sv_t *out)
{
    size_t n;
    if (*off >= items->len)
        return 0;
    memcpy(&n, items->data + *off, sizeof n);
    *out = (sv_t){items->data + *off + sizeof n, n};
    *off += sizeof n + n;
    return 1;
}

#endif

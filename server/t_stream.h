/* t_stream — the stream type: entries (ID -> field/value pairs) in packed
 * nodes, and the consumer groups with their pending-entries lists.
 *
 * Layout (t_stream.c). A stream is a vector of node pointers ordered by ID
 * (binary search finds the node of an ID; appends go to the last node). A
 * node is one allocation: a small header (base ID, last ID, entry counts,
 * byte length) then its bytes:
 *     master fields: varint nfields, then (varint len, bytes) per field
 *     entries, each: flags byte (DELETED, SAMEFIELDS)
 *                    varint (ms - base.ms), varint seq
 *                    SAMEFIELDS: (varint len, bytes) per master field's value
 *                    otherwise:  varint nfields, then (field, value) as above
 * The master fields are the first entry's: a stream whose entries share their
 * field names (the common case) stores each entry as its ID deltas and its
 * values only, about 9 bytes for `f1 v1 f2 v2` with 2-byte values, where a
 * Redis listpack entry takes about 16. A node closes at stream-node-max-entries
 * entries or stream-node-max-bytes bytes (Redis's knobs and defaults: 100,
 * 4096), and is reallocated to its exact length on each append, so memory
 * tracks the allocator's size class of the bytes used. XDEL and exact trims
 * set the DELETED flag in place (the node keeps its bytes until all its
 * entries are deleted, then it is freed), approximate trims drop whole nodes:
 * Redis's model, so lengths after `MAXLEN ~` match redis-server's.
 * Reverse iteration decodes a node's entry offsets forward once (a node holds
 * at most STREAM_NODE_HARD_MAX entries).
 *
 * Consumer groups (t_stream_cg.c) are sorted vectors: groups by name,
 * consumers by name, a group's PEL by ID (a PEL entry, snack_t, is shared by
 * the group's PEL and its consumer's PEL, which is also sorted by ID).
 *
 * Everything a stream owns is counted in its `mem` field as mem_alloc_size()
 * of each allocation. The iteration API below (stream_iter_*, the group,
 * consumer and PEL vectors) is what a serializer walks; a loader rebuilds a
 * stream with stream_append (IDs ascending), then sets last_id,
 * entries_added and max_deleted_id, and adds groups, consumers and PEL
 * entries with the stream_group_* / stream_consumer_* / stream_pel_add
 * calls, setting each snack_t's delivery time and count after.
 *
 * The data-structure layer: includes only util.h, buf.h and system headers.
 * Nothing here locks: callers hold the partition of the value's key. */
#ifndef PERCORE_T_STREAM_H
#define PERCORE_T_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct sid {
    uint64_t ms, seq;
} sid_t;

static inline int sid_cmp(sid_t a, sid_t b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}
/* id + 1 / id - 1; -1 when it would wrap (the largest / smallest ID). */
int sid_incr(sid_t *id);
int sid_decr(sid_t *id);
/* "ms-seq" into buf (>= 42 bytes); returns the length. */
int sid_format(sid_t id, char *buf);

#define STREAM_NODE_HARD_MAX 1024 /* entries per node, whatever the config says */

typedef struct snode snode_t;
struct scgroup;

typedef struct stream {
    snode_t **nodes;
    size_t nnodes, ncap;
    uint64_t length;         /* live entries */
    sid_t last_id;           /* the largest ID ever added (or XSETID) */
    sid_t max_deleted_id;    /* Redis 7.0's max-deleted-entry-id */
    uint64_t entries_added;  /* Redis 7.0's entries-added */
    struct scgroup **groups; /* sorted by name */
    size_t ngroups, gcap;
    size_t mem;
} stream_t;

stream_t *stream_new(void);
void stream_free(stream_t *s);
stream_t *stream_dup(const stream_t *s);
static inline uint64_t stream_len(const stream_t *s) { return s->length; }
static inline size_t stream_mem(const stream_t *s) { return s->mem; }

/* Append an entry with id > s->last_id (the caller checked) and nf
 * field/value pairs fv[0..2nf-1]; node limits as the config gives them.
 * Updates last_id and entries_added. */
void stream_append(stream_t *s, sid_t id, const sv_t *fv, size_t nf, size_t max_entries,
                   size_t max_bytes);
/* Delete the live entry id: 1, or 0 when there is none. Does not touch
 * max_deleted_id (XDEL does, once per call). */
int stream_delete(stream_t *s, sid_t id);

/* XADD/XTRIM's trimming: by MAXLEN (keep at most maxlen entries) or by MINID
 * (drop entries below minid). approx: whole nodes only; limit (approx only):
 * at most that many entries removed, 0 = none. Returns entries removed. */
typedef struct strim {
    int by_minid;
    uint64_t maxlen;
    sid_t minid;
    int approx;
    uint64_t limit;
} strim_t;
uint64_t stream_trim(stream_t *s, const strim_t *t);

/* The first / last live entry's ID: 0, or -1 when the stream has none. */
int stream_first_id(const stream_t *s, sid_t *id);
int stream_last_live_id(const stream_t *s, sid_t *id);

/* Walking entries with start <= ID <= end, ascending or (rev) descending.
 * The iterator reads the stream in place: no write may happen in between. */
typedef struct stream_iter {
    const stream_t *s;
    sid_t start, end;
    int rev;
    size_t ni;            /* node index */
    int started;
    uint32_t nent, ei;    /* entries in the decoded node, next one */
    uint32_t offs[STREAM_NODE_HARD_MAX];
    /* the current entry's fields */
    const unsigned char *fp, *mp; /* entry cursor, master-field cursor */
    uint64_t nf, fi;
    int same;
} stream_iter_t;
void stream_iter_start(stream_iter_t *it, const stream_t *s, sid_t start, sid_t end, int rev);
/* The next live entry: 1 with *id and *nf (its field count), or 0 at the end. */
int stream_iter_next(stream_iter_t *it, sid_t *id, uint64_t *nf);
/* The current entry's next field and value: 1, or 0 after the last. */
int stream_iter_field(stream_iter_t *it, sv_t *field, sv_t *value);

/* Bytes a node keeps (its allocation) and the whole stream's entry count
 * including deleted ones (tests, XINFO debugging). */
size_t stream_nodes(const stream_t *s);

/* ---- consumer groups (t_stream_cg.c) ------------------------------------- */

struct sconsumer;
typedef struct snack {
    sid_t id;
    uint64_t delivery_time;  /* ms */
    uint64_t delivery_count;
    struct sconsumer *consumer;
} snack_t;

typedef struct sconsumer {
    char *name;
    size_t nlen;
    uint64_t seen_time; /* ms */
    snack_t **pel;      /* sorted by ID */
    size_t npel, pcap;
} sconsumer_t;

typedef struct scgroup {
    char *name;
    size_t nlen;
    sid_t last_id;
    int64_t entries_read; /* -1: unknown (SCG_INVALID_READ) */
    snack_t **pel;        /* sorted by ID */
    size_t npel, pcap;
    sconsumer_t **consumers; /* sorted by name */
    size_t nconsumers, ccap;
} scgroup_t;

#define SCG_INVALID_READ (-1)

scgroup_t *stream_group_find(const stream_t *s, sv_t name);
/* NULL when a group of that name exists. */
scgroup_t *stream_group_create(stream_t *s, sv_t name, sid_t last_id, int64_t entries_read);
/* 1 when destroyed, 0 when there was none. */
int stream_group_destroy(stream_t *s, sv_t name);

sconsumer_t *stream_consumer_find(const scgroup_t *g, sv_t name);
/* A new consumer (NULL when it exists already). */
sconsumer_t *stream_consumer_create(stream_t *s, scgroup_t *g, sv_t name, uint64_t now_ms);
/* Delete a consumer and its pending entries; returns how many it had. */
uint64_t stream_consumer_delete(stream_t *s, scgroup_t *g, sv_t name);

/* The PEL entry of id in g, or NULL. */
snack_t *stream_pel_find(const scgroup_t *g, sid_t id);
/* Index of the first PEL entry (group or consumer vector) with ID >= id. */
size_t stream_pel_lower(snack_t *const *pel, size_t n, sid_t id);
/* Add id to g's PEL owned by c (a new entry, delivery count 1): the caller
 * checked that it is not pending. */
snack_t *stream_pel_add(stream_t *s, scgroup_t *g, sconsumer_t *c, sid_t id, uint64_t now_ms);
/* Remove a pending entry from its group and consumer and free it. */
void stream_pel_remove(stream_t *s, scgroup_t *g, snack_t *n);
/* Hand a pending entry to consumer c (XCLAIM). */
void stream_pel_move(stream_t *s, snack_t *n, sconsumer_t *c);

/* Redis 7.0's lag of a group: 0 with *lag the entries not read yet, or -1
 * when it cannot be told (XINFO's lag null). */
int stream_group_lag(const stream_t *s, const scgroup_t *g, int64_t *lag);
/* Redis 7.0's estimate of how many entries precede id (for a group's
 * entries-read after XGROUP SETID / XREADGROUP): -1 when unknown. */
int64_t stream_estimate_distance(const stream_t *s, sid_t id);
/* 1 when id lies in the range where entries were deleted (so counts from
 * entries-added do not hold). */
int stream_range_has_tombstones(const stream_t *s, sid_t start, sid_t end);

#endif

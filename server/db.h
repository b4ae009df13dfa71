/* db — the keyspace as command handlers see it: keys of the selected database,
 * routed to their partition by slot. Every function here needs the key's
 * partition held by the calling task (see scheduler.h); the caller never
 * touches partitions directly. Expired keys are deleted when looked up (lazy
 * expiry), and every write keeps the partition's memory account and counters.
 * Whatever creates a key raises the "new" keyspace event (notify.h). */
#ifndef PERCORE_DB_H
#define PERCORE_DB_H

#include <stdint.h>

#include "buf.h"
#include "object.h"
#include "store.h"

struct cmd_ctx;

/* lookup flags */
#define LOOKUP_WRITE 0x1   /* for a write: no keyspace_hits/misses counted */
#define LOOKUP_NOTOUCH 0x2 /* do not update LRU/LFU (TYPE, TTL, OBJECT ...) */
#define LOOKUP_NONOTIFY 0x4 /* a miss raises no keymiss event (OBJECT, as Redis) */

/* The live value of key, or NULL (missing or just expired; a read's miss
 * raises the keymiss event, notify.h). The pointer is valid
 * until the next write to this key's partition. */
obj_t *db_lookup(struct cmd_ctx *c, sv_t key, int flags);

/* Set key to a string value, replacing any value of any type. With keep_ttl the
 * existing TTL (if any) is kept, otherwise it is cleared. */
void db_set_string(struct cmd_ctx *c, sv_t key, const char *p, size_t n, int keep_ttl);
/* Same, storing the integer in ENC_INT form (INCR and friends). */
void db_set_int(struct cmd_ctx *c, sv_t key, long long v, int keep_ttl);
/* APPEND: append to a string (creating it); returns the new length. The caller
 * checked the type and that the result fits proto-max-bulk-len. */
size_t db_string_append(struct cmd_ctx *c, sv_t key, const char *p, size_t n);
/* SETRANGE: overwrite at offset, zero-padding (creating the key); returns the
 * new length. The caller checked the type and the size limit. */
size_t db_string_setrange(struct cmd_ctx *c, sv_t key, size_t off, const char *p, size_t n);
/* The bytes of key's string, zero-padded to at least minlen (>= 1) bytes and
 * created when missing, to be changed in place (SETBIT, BITFIELD): valid
 * until the next write to the key's partition; *len is the length. Counts as
 * a write of the key (WATCH, memory). The caller checked the type and the
 * size limit. */
char *db_string_grow(struct cmd_ctx *c, sv_t key, size_t minlen, size_t *len);
/* The same, counted as a write only when the key was created or grew
 * (*grew says which); a caller that then changes bytes calls
 * db_string_changed (SETBIT, BITFIELD: Redis 7.0 counts a change, for WATCH,
 * tracking and the dirty counter, only when a bit changed). */
char *db_string_grow_quiet(struct cmd_ctx *c, sv_t key, size_t minlen, size_t *len, int *grew);
void db_string_changed(struct cmd_ctx *c, sv_t key);

/* Aggregate types (lists, hashes, sets, sorted sets) are changed in place by
 * their handlers: db_add creates key (which must not exist) holding *val and
 * returns the stored object; after changing an object in place, the handler
 * calls db_modified with the obj_mem() it had before the change, which keeps
 * the memory account and WATCH stamps right and deletes the key when the
 * aggregate became empty (an empty aggregate never exists, as Redis). */
obj_t *db_add(struct cmd_ctx *c, sv_t key, const obj_t *val);
/* db_modified returns 1 when it deleted the emptied key, else 0. */
int db_modified(struct cmd_ctx *c, sv_t key, obj_t *o, size_t mem_before);
/* Replace key's value (any type) with *val, clearing its TTL unless keep_ttl
 * (SUNIONSTORE, ZRANGESTORE...); an empty aggregate deletes the key. */
void db_set_obj(struct cmd_ctx *c, sv_t key, const obj_t *val, int keep_ttl);

/* Delete key; 1 if it existed (and was not expired), else 0. */
int db_delete(struct cmd_ctx *c, sv_t key);
/* db_delete, raising the "del" keyspace event when the key existed (DEL, and
 * a STORE command's empty result). */
int db_delete_notify(struct cmd_ctx *c, sv_t key);

/* Expiry, absolute unix time in ms. db_get_expire: -1 when the key has no TTL,
 * -2 when the key does not exist. db_set_expire on a time already past expires
 * the key now (an expired key, as Redis's next access would make it) and
 * returns 1; returns 0 if the key does not exist. */
int64_t db_get_expire(struct cmd_ctx *c, sv_t key);
int db_set_expire(struct cmd_ctx *c, sv_t key, int64_t when_ms);
int db_persist(struct cmd_ctx *c, sv_t key); /* 1 if a TTL was removed */

/* Move src's value and TTL to dst (replacing dst). Both partitions are held.
 * Returns 0, or -1 if src does not exist. With nx, does nothing and returns 1
 * when dst exists. */
int db_rename(struct cmd_ctx *c, sv_t src, sv_t dst, int nx);

/* COPY: copy src's value (a deep copy) and TTL to dst in database dstdb
 * (both partitions held). Returns 1 when copied, 0 when dst exists and not
 * replace, -1 when src does not exist. The caller rejected src == dst in
 * the same database. */
int db_copy(struct cmd_ctx *c, sv_t src, sv_t dst, int dstdb, int replace);
/* MOVE: move key with its TTL to database dstdb (same partition). Returns 1
 * when moved, 0 when key is missing or exists in dstdb. */
int db_move(struct cmd_ctx *c, sv_t key, int dstdb);

/* OBJECT and MEMORY USAGE: what the store keeps about a live key, read
 * without touching it. */
typedef struct db_key_meta {
    obj_t *val;       /* the value, valid as db_lookup's */
    uint64_t idle_ms; /* since the last access (kept while the policy is not LFU) */
    unsigned freq;    /* LFU log counter after decay (kept under an LFU policy) */
    size_t entry_mem; /* the key's dict entry, as the memory account charges it */
} db_key_meta_t;
/* 0 with *m filled, or -1 when key is missing (looked up as db_lookup with
 * LOOKUP_NOTOUCH | LOOKUP_NONOTIFY would). */
int db_key_meta(struct cmd_ctx *c, sv_t key, db_key_meta_t *m);

/* RESTORE's IDLETIME seconds / FREQ counter (-1: not given) for a live key:
 * the one the maxmemory-policy uses is set, the other ignored (as Redis). */
void db_set_access(struct cmd_ctx *c, sv_t key, int64_t idle_s, int freq);

/* WATCH: stamp key's state now; later, whether it changed since (written,
 * deleted, expired after being seen alive, flushed, or created). Neither
 * call has side effects on the key. */
void db_watch(struct cmd_ctx *c, sv_t key, uint64_t *stamp, int *existed);
int db_watch_changed(struct cmd_ctx *c, sv_t key, uint64_t stamp, int existed);

#endif

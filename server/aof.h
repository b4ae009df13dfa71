/* aof — Redis 7.0's append-only file: every write that changes the dataset
 * is appended as commands whose replay gives the same state, in the
 * multi-part layout redis-server 7.0 reads and writes (dir/appenddirname:
 * <appendfilename>.manifest naming one base, <name>.<seq>.base.rdb|.aof,
 * and incr files <name>.<seq>.incr.aof of RESP commands).
 *
 * Logging (aof.c, aof_feed.c). command_call is the one path every command
 * takes (a client's, EXEC's queued ones, a script's redis.call); it calls
 * aof_feed_call after the handler while the task still holds its
 * partitions. Two commands that conflict share a partition, so appending
 * then gives a log order consistent with execution. A call's entries (and
 * the DEL of keys expired or evicted meanwhile) gather in a thread-local
 * buffer; when the outermost call ends they go to one global buffer under
 * one mutex, wrapped in MULTI/EXEC when there are several (EXEC, a script).
 * One mutex is enough: the critical section is a memcpy of a few hundred
 * bytes (README's AOF figures measure it); with appendonly no the cost is
 * one relaxed load and a branch in command_call.
 *
 * What is logged for a call that changed its partitions (rules, aof_feed.c):
 *  - relative times become absolute: EXPIRE/PEXPIRE/EXPIREAT -> PEXPIREAT,
 *    SETEX/PSETEX and SET EX/PX/EXAT -> SET ... PXAT, GETEX -> PEXPIREAT or
 *    PERSIST, RESTORE ttl -> RESTORE ... ABSTTL;
 *  - INCRBYFLOAT -> SET key <result> KEEPTTL, HINCRBYFLOAT -> HSET, SPOP ->
 *    SREM of the members it replied, XADD with an automatic id -> XADD with
 *    the id it replied;
 *  - a blocked command served later -> its non-blocking form (BLPOP ->
 *    LPOP, BLMOVE -> LMOVE, BZPOPMIN -> ZPOPMIN, BLMPOP -> LMPOP ...); one
 *    that found data at once is logged as sent (the loader never blocks and
 *    replays it on the same state);
 *  - the fallback, for commands whose effect Redis rewrites intricately
 *    (XREADGROUP, XCLAIM, XAUTOCLAIM, XADD/XTRIM with approximate trimming,
 *    and any other stream group command whose result depends on the clock):
 *    the resulting value of each of its keys, RESTORE key 0 <dump> REPLACE
 *    ABSTTL [with its absolute TTL], or DEL when the key is gone;
 *  - keyless writes (FUNCTION LOAD/DELETE/FLUSH/RESTORE) as sent when they
 *    replied no error; EXEC and scripts never themselves, only their calls;
 *  - everything else as sent; SELECT written when the database changes.
 *
 * Durability: the global buffer is written by whichever worker is about to
 * write replies (client_write calls aof_flush_pending) and by worker 0's
 * cron; appendfsync always fsyncs before returning, everysec leaves the
 * fsync to a thread that runs once a second, no never fsyncs.
 *
 * Rewrite (BGREWRITEAOF, aof_rewrite.c): forks holding every partition; at
 * the fork the parent opens a new incr file and logs into it; the child
 * writes the new base; on success a new manifest (temp, rename, fsync of
 * the directory) names the new base and the incr files since the fork,
 * and the old files are deleted. */
#ifndef PERCORE_AOF_H
#define PERCORE_AOF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cmd_ctx;

/* 1 while writes are logged (any thread; relaxed: the one check on the hot path). */
extern _Atomic int aof_logging;
/* Bytes waiting in the global buffer (relaxed). */
extern _Atomic size_t aof_pending;

/* command_call, after the handler: log ctx's call if it changed its
 * partitions (dirty0: store_parts_dirty before it ran; start: where its
 * reply began in ctx->r->out). Only while aof_logging. */
void aof_call_begin(void);
void aof_feed_call(struct cmd_ctx *ctx, uint64_t dirty0, size_t start);
void aof_call_end(void);
/* blocking.c: a blocked command served (its single-key form) on the holder;
 * dirty0: store_parts_dirty before it ran. */
void aof_feed_served(struct cmd_ctx *x, uint64_t dirty0);
/* notify.c: a key expired or was evicted on its partition's holder. */
void aof_feed_key_gone(int db, const char *key, size_t len);

/* Before writing replies (any worker): write what is pending, fsync when
 * appendfsync is always. */
void aof_flush(void);
/* appendfsync always: replies wait for the round's one fsync (client.c). */
int aof_group_commit(void);
static inline void aof_flush_pending(void)
{
    if (atomic_load_explicit(&aof_pending, memory_order_relaxed))
        aof_flush();
}

/* Startup (no worker runs): with appendonly yes, load dir/appenddirname
 * (upgrading an old single file, creating the layout when there is none)
 * and open the last incr file. 0, or -1 with the reason in err. */
int aof_load_at_start(char *err, size_t errlen);
/* Turn logging on/off (CONFIG SET appendonly; any thread). */
void aof_config_changed(void);

/* BGREWRITEAOF, the caller holding every partition. 0 started; -1 failed
 * (logged); -2 a rewrite runs; -3 another child (BGSAVE) runs: scheduled. */
int aof_rewrite_background(void);
int aof_rewrite_running(void);
int aof_rewrite_is_scheduled(void);
void aof_rewrite_schedule(void); /* worker 0's cron starts it when no child runs */
/* Worker 0's cron: collect a finished child, flush, and say whether a
 * rewrite is due now (scheduled, automatic, or retried): the caller then
 * runs BGREWRITEAOF holding every partition. */
int aof_cron(uint64_t now_ms);

/* Writes refused while writing the AOF fails (command_call): the error text. */
const char *aof_refuse_writes(void);
/* SHUTDOWN / exit: kill a rewrite child, flush and fsync. */
void aof_at_exit(void);
/* INFO persistence's aof_* fields: part 0 those always shown, 1 those
 * shown while the AOF is on (after module_fork_*, as Redis). */
void aof_info(buf_t *o, int part);
void aof_teardown(void);

/* DEBUG LOADAOF (every partition held): flush the log, empty the keyspace,
 * load the files again. 0, or -1 with err. */
int aof_debug_loadaof(char *err, size_t errlen);
/* aof_load.c: replay one file of RESP commands (no worker runs, or every
 * partition held); last: the last file (may be truncated). 0, or -1 err. */
int aof_load_commands(const char *path, int last, char *err, size_t errlen);

#endif

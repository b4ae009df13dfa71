/* blocking — the waits of the blocking commands (BLPOP BRPOP BRPOPLPUSH
 * BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP, and XREAD XREADGROUP through
 * blocking_wait_ready): per-partition wait tables and the
 * block record each blocked client shares with the workers that may serve it.
 *
 * Design.
 *  - A blocked call is one block record (block_t, refcounted): its state
 *    (atomic), a copy of the call's arguments, and room for the reply. The
 *    client holds one reference, each wait record one, an in-flight wake one.
 *  - A wait record per (block, key) sits in the FIFO of that key in the wait
 *    table of the key's partition. The table is touched only by the task
 *    holding the partition, like the partition's keys: no lock of its own.
 *  - Blocking is atomic with the emptiness check: the handler found its keys
 *    empty and registers the waits in the same call, its partitions held, so
 *    no push can come in between.
 *  - A write (command_call, blocking_touched) marks its keys that have waits
 *    as ready, in a list of the calling thread; at the end of the top-level
 *    command (blocking_serve, from sched_exec_cmd, partitions still held) the
 *    holder serves each ready key's FIFO: EXEC and scripts serve once, after
 *    their last command, as Redis does.
 *  - Serving claims a waiter with a CAS WAITING -> SERVED on its block (the
 *    claim is what makes a client blocked on several keys served once), then
 *    runs the call's non-blocking single-key form for it (the handler, into
 *    the block's reply) before the partition is released: the element goes to
 *    exactly one waiter or stays. A failed CAS drops the stale record.
 *  - The reply reaches the client through the block's embedded wake message,
 *    sent to its home worker by whoever won the CAS (served, timed out at
 *    home, CLIENT UNBLOCK on any worker, the client gone): one sender, one
 *    message, no allocation.
 *  - BLMOVE whose destination lies in a partition the serving task does not
 *    hold is claimed as RETRY instead: the element stays in the source and
 *    the client runs its command again at home, holding both partitions (it
 *    blocks again, last in the FIFO, if a non-blocking pop took the element
 *    meanwhile). The waiters behind it wait for that run's pop, whose write
 *    of the key serves them, so the elements keep their order.
 *  - Stale records (blocks ended on another key, timed out, unblocked, gone)
 *    are dropped when met; a partition whose table holds more than twice its
 *    live records (plus a slack) is swept when a new wait registers there, so
 *    what the server holds stays bounded by the live waits.
 * Commands layer: db, command table, store's key placement; the event loop's
 * xmsg_t for the wake. */
#ifndef PERCORE_BLOCKING_H
#define PERCORE_BLOCKING_H

#include <stdint.h>

#include "buf.h"
#include "command.h"
#include "worker.h"

typedef struct block block_t;

/* A block's state; only a CAS from BLOCK_WAITING changes it. */
enum block_state {
    BLOCK_WAITING = 0,
    BLOCK_SERVED,    /* the reply is in blocking_reply */
    BLOCK_RETRY,     /* run the command again (BLMOVE across partitions) */
    BLOCK_TIMEOUT,   /* timed out, or CLIENT UNBLOCK [TIMEOUT]: a null array (BLMOVE's
                        too, as Redis 7.0) */
    BLOCK_UNBLOCKED, /* CLIENT UNBLOCK ERROR */
    BLOCK_GONE,      /* the client was freed */
};

/* send: how a wake reaches the home worker (xthread_send); woken: the wake
 * message's function there (client_block.c). */
void blocking_setup(int nparts, void (*send)(int to, xmsg_t *m), void (*woken)(xmsg_t *m));
void blocking_teardown(void);

/* Handlers: the timeout argument i (seconds, fractional) in ms, 0 forever;
 * -1 after replying Redis's error. */
int blocking_timeout_arg(cmd_ctx_t *c, int i, uint64_t *ms);
/* Handlers, partitions held, after finding keys argv[first..last] without a
 * value: when the caller may block (c->may_block) register the waits and set
 * c->blocked (no reply: 1); otherwise 0 and the handler replies its null.
 * type: OBJ_LIST or OBJ_ZSET (OBJ_STREAM: blocking_wait_ready); numkeys_at: the argv index of numkeys (BLMPOP,
 * BZMPOP), 0 for none; dest_at: BLMOVE's destination argument, 0 for none. */
int blocking_wait(cmd_ctx_t *c, int first, int last, int numkeys_at, int dest_at,
                  uint64_t timeout_ms, int type);
/* Waits that a write of their key may not serve (XREAD, XREADGROUP: only
 * entries past the wait's ID do): ready, called by the serving holder with
 * a context for the key's database, says BLOCKING_NOT_READY (stays
 * blocked), BLOCKING_READY (served: the handler runs on the call's form
 * argv[0..first-1] key argv[last+1+(keyi-first)]) or BLOCKING_KEY_GONE
 * (answered "UNBLOCKED the stream key no longer exists"), even when the key
 * is missing. */
enum { BLOCKING_NOT_READY = 0, BLOCKING_READY = 1, BLOCKING_KEY_GONE = 2 };
typedef int blocking_ready_fn(cmd_ctx_t *look, int argc, const sv_t *argv, int keyi, sv_t key);
int blocking_wait_ready(cmd_ctx_t *c, int first, int last, uint64_t timeout_ms, int type,
                        blocking_ready_fn *ready);
/* type of a wait on no key (first > last: WAIT), ended only by its timeout
 * (answered with 0 replicas, client_block.c) or CLIENT UNBLOCK. */
#define BLOCKING_NO_KEYS (-1)
int blocking_type(const block_t *b);
/* The blocked call's command (its statistics, client_block.c). */
const command_t *blocking_command(const block_t *b);
/* command_call, after a write: mark the call's keys that have waits ready. */
void blocking_touched(cmd_ctx_t *c);
/* SWAPDB, every partition held: mark every key of database db with waits
 * ready (blocking_serve serves those that now hold a value). */
void blocking_touched_db(cmd_ctx_t *c, int db);
/* At the end of a top-level command, its partitions (c->parts) still held:
 * serve the waits of the keys marked ready. */
void blocking_serve(cmd_ctx_t *c);
/* Waits registered and not yet dropped, all partitions (INFO, tests). */
uint64_t blocking_records(void);

/* ---- the client's side (its home worker) ---------------------------------- */

/* Set once by the client that blocked, before its partitions are released. */
void blocking_set_owner(block_t *b, void *owner, int home);
void *blocking_owner(const block_t *b);
/* The block whose wake message m is. */
block_t *blocking_of(xmsg_t *m);
/* Any thread: move a waiting block to why (TIMEOUT, UNBLOCKED or GONE) and
 * send its wake; 0 when it was no longer waiting. */
int blocking_cancel(block_t *b, int why);
/* Home worker, the client being freed: BLOCK_GONE without a wake (there is
 * nobody to wake); 0 when it was no longer waiting. */
int blocking_abandon(block_t *b);
int blocking_state(const block_t *b);
uint64_t blocking_timeout_ms(const block_t *b);
/* The reply of a served block and the error replies in it. */
const buf_t *blocking_reply(const block_t *b);
uint64_t blocking_reply_errors(const block_t *b);
/* Home worker: the wake came while the client was served away (work-stealing);
 * it is handled when the client comes home. */
void blocking_set_arrived(block_t *b);
int blocking_arrived(const block_t *b);
/* Drop one reference (the client's, or the wake's once handled). */
void blocking_release(block_t *b);

#endif

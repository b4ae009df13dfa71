/* pubsub — the Pub/Sub registry and the subscribers' mailboxes.
 *
 * Design. A subscriber lives on its home worker; a publisher may run on any
 * worker (and, under work-stealing, a client is served away from home), so a
 * publisher never touches a client's output buffer. Instead:
 *  - The registry (channel, pattern and shard-channel name -> the mailboxes
 *    subscribed to it) is one set of hash tables behind a read-write lock:
 *    PUBLISH reads it (workers publish in parallel), (UN)SUBSCRIBE writes it.
 *    PUBLISH's receiver count is taken under that lock, so it is the count at
 *    publish time.
 *  - Each subscribing client has one mailbox (pubsub_sub_t, refcounted, its
 *    own mutex): a publisher appends the formatted message (RESP2 array or
 *    RESP3 push, by the subscriber's protocol) to its `pending` bytes and, when
 *    the mailbox was idle, sends its embedded wake message to the home worker
 *    (xthread_send). Only the home worker, or the worker serving the client
 *    while it is away, moves `pending` into the client's output (the wake
 *    callback is the connections layer's: client.c, client_pubsub_flush).
 *  - Order: one publisher's messages reach a mailbox in publish order (its
 *    commands run one at a time, each appends under the mailbox lock before
 *    the next starts), and every delivery, local or remote, goes through the
 *    same mailbox, so nothing overtakes anything.
 *  - Memory: `pending` plus the client's unsent output (out_pending, published
 *    by the owner) is held under the pubsub class's hard limit of
 *    client-output-buffer-limit: past it the mailbox drops its bytes, is marked
 *    `dropped` and the home worker closes the client with a logged reason.
 *  - Lifetime: the client holds one reference and an in-flight wake another;
 *    a client that is freed unsubscribes everything (registry write lock) and
 *    detaches (owner = NULL), so a wake still in a ring finds no owner and
 *    frees the mailbox if it held the last reference.
 * Commands layer: util, config and the event loop's xthread_send below it. */
#ifndef PERCORE_PUBSUB_H
#define PERCORE_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"
#include "worker.h"

enum { PUBSUB_CHANNEL = 0, PUBSUB_PATTERN = 1, PUBSUB_SHARD = 2, PUBSUB_KINDS = 3 };

typedef struct pubsub_sub pubsub_sub_t;

/* send: how a wake reaches a worker (xthread_send; unit tests pass their own). */
void pubsub_setup(void (*send)(int to, xmsg_t *m));
void pubsub_teardown(void);

/* A mailbox for a client (owner) whose home worker is home; wake runs on home
 * when messages arrive (its xmsg_t is pubsub_sub_xmsg's). */
pubsub_sub_t *pubsub_sub_new(int home, void *owner, void (*wake)(xmsg_t *m));
/* The mailbox whose wake message m is (in the wake callback). */
pubsub_sub_t *pubsub_sub_of(xmsg_t *m);
/* In the wake callback: the wake is no longer in flight. Returns the owner,
 * or NULL when the client is gone (the mailbox may then have been freed). */
void *pubsub_sub_woken(pubsub_sub_t *s);
/* The owner is being freed (its owning thread): unsubscribe everything, drop
 * pending bytes, give up the owner's reference. */
void pubsub_sub_release(pubsub_sub_t *s);

/* Owning thread of the client. Subscribe / unsubscribe one name of a kind: 1
 * when it changed anything. */
int pubsub_subscribe(pubsub_sub_t *s, int kind, sv_t name);
int pubsub_unsubscribe(pubsub_sub_t *s, int kind, sv_t name);
/* Unsubscribe every name of kind, calling each(arg, name, left) after each
 * one (left: names of that kind still subscribed). Returns how many. */
size_t pubsub_unsubscribe_all(pubsub_sub_t *s, int kind,
                              void (*each)(void *arg, sv_t name, size_t left), void *arg);
size_t pubsub_count(const pubsub_sub_t *s, int kind);
/* Any thread (the names are read under the registry's read lock): fn for each
 * name s is subscribed to of this kind, until fn returns nonzero (returned). */
int pubsub_sub_each(const pubsub_sub_t *s, int kind, int (*fn)(void *arg, sv_t name), void *arg);
/* The subscriber's protocol (2 or 3): how its messages are formatted. */
void pubsub_sub_set_proto(pubsub_sub_t *s, int proto);
int pubsub_sub_proto(const pubsub_sub_t *s);
/* The owner's client id, once, before the mailbox is used: pubsub_send_to
 * finds the mailbox by it (until pubsub_sub_release). */
void pubsub_sub_set_id(pubsub_sub_t *s, uint64_t id);
/* The owner's output not yet written (counts against the hard limit). */
void pubsub_sub_set_out(pubsub_sub_t *s, size_t pending);
/* Move the pending bytes to the end of out; returns 1 when the mailbox went
 * over the hard limit (the client is to be closed). */
int pubsub_sub_take(pubsub_sub_t *s, buf_t *out);

/* Any worker: append raw bytes (a MONITOR line, monitor.c) to s's pending
 * output as they are, whatever its protocol, under the same hard limit and
 * wake as a message. */
void pubsub_sub_push_raw(pubsub_sub_t *s, const char *p, size_t n, uint64_t hard);

/* Any worker. PUBLISH (kind PUBSUB_CHANNEL: channel and pattern subscribers)
 * or SPUBLISH (PUBSUB_SHARD): the number of receivers. */
long long pubsub_publish(int kind, sv_t channel, sv_t msg);
/* Any worker. Append one formatted frame (already in the mailbox's protocol)
 * to s, under the pubsub class's hard limit, as a publish would (tracking.c's
 * invalidation pushes to the tracking client itself). */
void pubsub_sub_push(pubsub_sub_t *s, const buf_t *frame);
/* Any worker. Deliver to the mailbox of client id: frame3 when it speaks
 * RESP3, frame2 when it speaks RESP2 and is subscribed to anything (its
 * subscribed mode), as Redis sends tracking's REDIRECT invalidations. 1 when
 * sent; 0 when the client has no mailbox or is not eligible. */
int pubsub_send_to(uint64_t id, const buf_t *frame2, const buf_t *frame3);
/* PUBSUB CHANNELS / SHARDCHANNELS: call fn for each active name of kind
 * matching pattern (NULL: all), under the read lock. */
void pubsub_channels(int kind, const sv_t *pattern, void (*fn)(void *arg, sv_t name),
                     void *arg);
/* Subscribers of one channel (kind CHANNEL or SHARD). */
long long pubsub_numsub(int kind, sv_t name);
/* Distinct names of kind with subscribers (PUBSUB NUMPAT, INFO). */
long long pubsub_active(int kind);

#endif

/* client_block — the client's side of the blocking commands: a client whose
 * command blocked (blocking.h has the waits and the design) keeps that
 * command at the head of its queue, which waits, and is still read so that
 * a disconnect is seen. Whoever ends the block (a serving worker, the
 * timeout timer at home, CLIENT UNBLOCK on any worker, the client's freeing)
 * wins one CAS on the block and sends its one wake message home, where the
 * reply is written and the queue resumes. Everything here runs on the home
 * worker, except client_blocked (the thread owning the client) and
 * client_unblock (any worker, under the registry lock). */
#include <stdatomic.h>

#include "blocking.h"
#include "client.h"
#include "slowlog.h"

static _Atomic uint64_t nblocked;

uint64_t client_blocked_count(void) { return atomic_load_explicit(&nblocked, memory_order_relaxed); }

static void on_timeout(void *arg)
{
    client_t *c = arg;
    c->blk_armed = 0;
    if (c->blk)
        blocking_cancel(c->blk, BLOCK_TIMEOUT); /* its wake comes back here */
}

/* At home: the timeout runs from the moment the block is seen at home
 * (work-stealing: when the client comes back, a moment after it blocked). */
static void arm(client_t *c)
{
    uint64_t ms = blocking_timeout_ms(c->blk);
    if (!ms || c->blk_armed)
        return;
    if (!c->blk_timer)
        c->blk_timer = worker_timer_new(on_timeout, c);
    worker_timer_start(c->blk_timer, ms);
    c->blk_armed = 1;
}

void client_blocked(client_t *c, block_t *b)
{
    blocking_set_owner(b, c, c->home);
    client_registry_lock();
    c->blk = b;
    client_registry_unlock();
    c->flags |= CLIENT_BLOCKED;
    c->qhead--; /* the command stays at the head of the queue until answered */
    atomic_fetch_add_explicit(&nblocked, 1, memory_order_relaxed);
    if (!c->away && worker_self() == c->home)
        arm(c);
}

/* Forget the block: c->blk cleared under the registry lock (CLIENT UNBLOCK
 * reads it there), the client's reference dropped. */
static void detach(client_t *c)
{
    block_t *b = c->blk;
    client_registry_lock();
    c->blk = NULL;
    client_registry_unlock();
    if (c->blk_armed) {
        worker_timer_stop(c->blk_timer);
        c->blk_armed = 0;
    }
    c->flags &= ~CLIENT_BLOCKED;
    atomic_fetch_sub_explicit(&nblocked, 1, memory_order_relaxed);
    blocking_release(b);
}

/* A served reply that is an error (a blocked XREADGROUP answered NOGROUP
 * or "no longer exists", BLMOVE into a wrong type) counts as the call's, as
 * Redis's: failed_calls, error replies, errorstats by its code (the call
 * itself was counted when it blocked). On the home worker. */
static void late_errors(client_t *c, const block_t *b)
{
    const buf_t *r = blocking_reply(b);
    int w = c->home;
    if (!blocking_reply_errors(b) || !command_stats_counted(w) || r->len < 2 ||
        r->data[0] != '-')
        return;
    size_t n = 1;
    while (n < r->len && n < 40 && r->data[n] != ' ' && r->data[n] != '\r')
        n++;
    stat_add(&command_stats(w)[blocking_command(b)->id].failed_calls, 1);
    stat_add(&command_worker_stats(w)->error_replies, 1);
    command_errstat_add(w, r->data + 1, n - 1, 1);
}

/* The wake came and c is at home: answer, then resume the queue. */
static void end_block(client_t *c)
{
    block_t *b = c->blk;
    size_t start = c->out.len;
    /* SLOWLOG logs a blocked command once it is answered, as Redis 7.0,
     * with the time it ran (not the wait): about 0 here. */
    if (blocking_state(b) != BLOCK_RETRY && slowlog_wanted(0) && c->qhead < c->qlen) {
        const qcmd_t *qc = &c->q[c->qhead];
        if (qc->cmd)
            slowlog_push(qc->cmd, qc->argc, client_argv(c, qc), 0, c->addr, c);
    }
    switch (blocking_state(b)) {
    case BLOCK_SERVED: {
        const buf_t *r = blocking_reply(b);
        buf_append(&c->out, r->data, r->len);
        c->reply.errors += blocking_reply_errors(b);
        late_errors(c, b);
        c->qhead++;
        break;
    }
    case BLOCK_TIMEOUT: /* a null array, BLMOVE's too (Redis 7.0); WAIT: 0 replicas */
        if (blocking_type(b) == BLOCKING_NO_KEYS)
            reply_int(&c->reply, 0);
        else
            reply_null_array(&c->reply);
        c->qhead++;
        break;
    case BLOCK_UNBLOCKED:
        reply_error(&c->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        c->qhead++;
        break;
    default: /* BLOCK_RETRY: the command runs again */
        break;
    }
    /* The late reply is the command's: CLIENT REPLY OFF or a SKIP given
     * before it drops it, as Redis's (client_ctl.c). A retry is answered when
     * it runs again. */
    if (blocking_state(b) != BLOCK_RETRY)
        client_reply_done(c, &c->out, start, NULL);
    detach(c);
    blocking_release(b); /* the wake's reference */
    /* Its reply is an interaction: the idle timeout counts from now (Redis
     * counts from the reply's write). */
    atomic_store_explicit(&c->last_ms, worker_now_ms(), memory_order_relaxed);
    client_resume(c);
}

void client_block_woken(xmsg_t *m)
{
    block_t *b = blocking_of(m);
    client_t *c = blocking_owner(b);
    if (!c || c->blk != b) { /* the client is gone */
        blocking_release(b);
        return;
    }
    if (c->away) { /* served elsewhere right now: ended when it comes home */
        blocking_set_arrived(b);
        return;
    }
    end_block(c);
}

int client_block_home(client_t *c)
{
    if (blocking_arrived(c->blk)) {
        end_block(c);
        return 1;
    }
    arm(c);
    return 0;
}

void client_block_free(client_t *c)
{
    worker_timer_free(c->blk_timer);
    c->blk_timer = NULL;
    c->blk_armed = 0;
    block_t *b = c->blk;
    if (!b)
        return;
    /* Not served yet: nobody will be (its records are dropped when met), and
     * no wake is sent (at shutdown it would never be run). Served already:
     * the element went with the reply, lost with the connection as any
     * reply is; the wake in flight finds no owner. */
    blocking_abandon(b);
    blocking_set_owner(b, NULL, -1);
    int arrived = blocking_arrived(b);
    detach(c);
    if (arrived)
        blocking_release(b);
}

int client_unblock(uint64_t id, int err)
{
    int done = 0;
    client_registry_lock();
    client_t *c = client_find_locked(id);
    if (c && c->blk)
        done = blocking_cancel(c->blk, err ? BLOCK_UNBLOCKED : BLOCK_TIMEOUT);
    client_registry_unlock();
    return done;
}

/* share-nothing: each partition is touched only by its owner worker. A
 * command runs inline when its client's home worker owns the partition;
 * otherwise the home worker sends a batch of the client's consecutive
 * commands for that owner over a ring and waits for the replies. A
 * multi-partition command runs on the home worker after the owners have lent
 * it their partitions, acquired one owner-run at a time in ascending partition
 * order, so no two tasks can wait on each other (README.md, How it works).
 *
 * Partition state lives with the owner and is touched only by it: who holds
 * the partition now, and a FIFO of tasks waiting for it. */
#include <stdlib.h>

#include "log.h"
#include "sched_internal.h"
#include "store.h"

typedef struct pstate {
    task_t *holder;
    task_t *wq_head, *wq_tail;
} pstate_t;

static pstate_t *pst;

static int part_free(int p) { return pst[p].holder == NULL && pst[p].wq_head == NULL; }

static void wait_enqueue(int p, task_t *t)
{
    t->wait_next = NULL;
    t->waiting_part = p;
    if (pst[p].wq_tail)
        pst[p].wq_tail->wait_next = t;
    else
        pst[p].wq_head = t;
    pst[p].wq_tail = t;
    stat_add(&sched_stats(worker_self())->part_waits, 1);
}

static void batch_run(task_t *t);
static void multi_acquire(task_t *t);
static void lend_acquire(task_t *t);

static void batch_run_msg(xmsg_t *m) { batch_run((task_t *)m); }
static void multi_acquire_msg(xmsg_t *m) { multi_acquire((task_t *)m); }
static void lend_acquire_msg(xmsg_t *m) { lend_acquire((task_t *)m); }

/* On the owner: p is free again; hand it to the first waiter, whose next step
 * runs from the deferred queue so that releases never recurse. */
static void part_release(int p)
{
    pst[p].holder = NULL;
    task_t *t = pst[p].wq_head;
    if (!t)
        return;
    pst[p].wq_head = t->wait_next;
    if (!pst[p].wq_head)
        pst[p].wq_tail = NULL;
    t->waiting_part = -1;
    pst[p].holder = t;
    if (t->kind == TASK_BATCH) {
        t->msg.fn = batch_run_msg;
    } else {
        t->acquired++;
        if (t->exec != worker_self())
            stat_add(&sched_stats(worker_self())->parts_lent, 1);
        t->msg.fn = t->exec == worker_self() ? multi_acquire_msg : lend_acquire_msg;
    }
    worker_defer(&t->msg);
}

/* ---- completion at home ------------------------------------------------ */

static void run_client(client_t *c);

/* The client whose task this worker is placing right now: a task that
 * completes before run_client returns must not resume the client twice. */
static _Thread_local client_t *placing;

static void task_complete(task_t *t)
{
    client_t *c = t->cl;
    /* A batch stopped early by its output budget: the rest runs later. */
    if (t->kind == TASK_BATCH)
        c->qhead -= t->count - t->cursor;
    if (t->exec != t->home) {
        buf_append(&c->out, t->out.data, t->out.len);
        c->reply.errors += t->errors;
        t->out.len = 0;
        t->errors = 0;
    }
    t->exec = -1;
    if (placing == c)
        return; /* completed synchronously: run_client goes on */
    c->flags &= ~CLIENT_IN_FLIGHT;
    run_client(c);
}

static void task_complete_msg(xmsg_t *m)
{
    worker_await(-1);
    task_complete((task_t *)m);
}

/* ---- batches of single-partition commands ------------------------------- */

/* Is the batch's output past its share of client-output-high-water? At home
 * the client's own buffer says; away, the budget the home worker gave it
 * (the owner must not read the client's buffer, which home may be writing). */
static int batch_out_full(task_t *t)
{
    if (t->exec == t->home)
        return client_output_full(t->cl);
    return t->out_budget && t->out.len >= t->out_budget;
}

/* On the owner: run the batch's commands in order; a command whose partition
 * is busy parks the batch in that partition's queue. Output past the budget
 * ends the batch early (at least one command runs). */
static void batch_run(task_t *t)
{
    client_t *c = t->cl;
    reply_t away = {.out = &t->out, .proto = t->proto, .errors = 0};
    reply_t *r = t->exec == t->home ? &c->reply : &away;
    while (t->cursor < t->count) {
        if (t->cursor > 0 && batch_out_full(t))
            break;
        const qcmd_t *qc = &c->q[t->first + t->cursor];
        int p = qc->part;
        int granted = pst[p].holder == t;
        if (!granted && !part_free(p)) {
            t->errors += away.errors;
            wait_enqueue(p, t);
            return;
        }
        pst[p].holder = t;
        sched_exec(c, qc, r, t->db, &p, 1, t->exec == t->home);
        t->cursor++;
        part_release(p);
    }
    t->errors += away.errors;
    if (t->exec == t->home) {
        task_complete(t);
    } else {
        t->msg.fn = task_complete_msg;
        xthread_send(t->home, &t->msg);
    }
}

static void batch_received(xmsg_t *m)
{
    stat_add(&sched_stats(worker_self())->tasks_received, 1);
    batch_run((task_t *)m);
}

/* ---- multi-partition tasks ----------------------------------------------- */

typedef struct return_msg {
    xmsg_t msg;
    int n;
    int parts[];
} return_msg_t;

static void return_received(xmsg_t *m)
{
    return_msg_t *rm = (return_msg_t *)m;
    worker_await(-1);
    for (int i = 0; i < rm->n; i++)
        part_release(rm->parts[i]);
    free(rm);
}

static void lend_grant_received(xmsg_t *m)
{
    worker_await(-1);
    multi_acquire((task_t *)m);
}

/* On a lender: take partitions [acquired, req_end) in order, then grant. */
static void lend_acquire(task_t *t)
{
    while (t->acquired < t->req_end) {
        int p = t->parts[t->acquired];
        if (!part_free(p)) {
            wait_enqueue(p, t);
            return;
        }
        pst[p].holder = t;
        t->acquired++;
        stat_add(&sched_stats(worker_self())->parts_lent, 1);
    }
    t->msg.fn = lend_grant_received;
    worker_await(1); /* the partitions' return */
    xthread_send(t->exec, &t->msg);
}

static void multi_run(task_t *t)
{
    client_t *c = t->cl;
    sched_exec(c, &c->q[t->first], &c->reply, t->db, t->parts, t->nparts, 1);
    /* Give every partition back: ours directly, the lenders' in one message
     * per owner. */
    int self = worker_self();
    for (int i = 0; i < t->nparts;) {
        int o = sched_owner_of[t->parts[i]];
        if (o == self) {
            part_release(t->parts[i++]);
            continue;
        }
        int j = i;
        while (j < t->nparts && sched_owner_of[t->parts[j]] == o)
            j++;
        return_msg_t *rm = xmalloc(sizeof *rm + (size_t)(j - i) * sizeof(int));
        rm->msg.fn = return_received;
        rm->msg.heap = 1;
        rm->n = j - i;
        for (int k = i; k < j; k++)
            rm->parts[k - i] = t->parts[k];
        xthread_send(o, &rm->msg);
        i = j;
    }
    task_complete(t);
}

/* On the home worker: acquire the next partitions in order; local ones
 * directly, a remote owner's consecutive run with one lend request. */
static void multi_acquire(task_t *t)
{
    int self = worker_self();
    while (t->acquired < t->nparts) {
        int p = t->parts[t->acquired];
        int o = sched_owner_of[p];
        if (o == self) {
            if (!part_free(p) && pst[p].holder != t) {
                wait_enqueue(p, t);
                return;
            }
            pst[p].holder = t;
            t->acquired++;
            continue;
        }
        t->req_end = t->acquired + 1;
        while (t->req_end < t->nparts && sched_owner_of[t->parts[t->req_end]] == o)
            t->req_end++;
        t->msg.fn = lend_acquire_msg;
        worker_await(1); /* the grant */
        xthread_send(o, &t->msg);
        return;
    }
    multi_run(t);
}

/* ---- placing a client's queue -------------------------------------------- */

static int batchable(client_t *c, const qcmd_t *qc, int owner)
{
    return qc->cmd && qc->part >= 0 && sched_owner_of[qc->part] == owner &&
           client_may_run(c, qc) && !sched_part_busy(qc->part);
}

/* May this worker read partition p's tables now (see sched_prefetch_ahead)?
 * Our own and not lent out: then no other worker is in them. */
static int may_prefetch(int p) { return sched_owner_of[p] == worker_self() && part_free(p); }

static void run_client(client_t *c)
{
    int self = worker_self();
    task_t *t = &c->task;
    while (c->qhead < c->qlen) {
        if (client_output_full(c))
            break; /* resumed by client_settle once the output drains */
        qcmd_t *qc = &c->q[c->qhead];
        if (client_postponed(c, qc))
            break; /* CLIENT PAUSE: resumed when it ends (client_pause.c) */
        if (client_precheck(c, qc, 0) != 0) {
            c->qhead++;
            continue;
        }
        if (qc->part == -1) {
            sched_exec(c, qc, &c->reply, c->db, NULL, 0, 1);
            c->qhead++;
            continue;
        }
        t->cl = c;
        t->home = self;
        t->db = c->db;
        t->proto = c->reply.proto;
        t->first = c->qhead;
        t->cursor = 0;
        t->acquired = 0;
        t->waiting_part = -1;
        if (qc->part >= 0) {
            int p = qc->part, o = sched_owner_of[p];
            if (o == self && part_free(p)) {
                /* The fast path: our partition, nobody waiting for it. */
                if (c->qlen - c->qhead > 1)
                    sched_prefetch_ahead(c, c->qhead, may_prefetch, NULL);
                sched_exec(c, qc, &c->reply, c->db, &p, 1, 1);
                stat_add(&sched_stats(self)->tasks_local, 1);
                c->qhead++;
                continue;
            }
            if (sched_part_busy(p)) {
                sched_reply_busy(c, qc, &c->reply);
                c->qhead++;
                continue;
            }
            t->kind = TASK_BATCH;
            t->count = 1;
            while (c->qhead + t->count < c->qlen && t->count < (uint32_t)sched_batch_max &&
                   batchable(c, &c->q[c->qhead + t->count], o))
                t->count++;
            t->exec = o;
            t->out_budget = client_out_budget(c);
            c->qhead += t->count;
            placing = c;
            if (o == self) {
                batch_run(t);
            } else {
                stat_add(&sched_stats(self)->tasks_forwarded, 1);
                t->msg.fn = batch_received;
                worker_await(1); /* the replies */
                xthread_send(o, &t->msg);
            }
        } else {
            t->kind = TASK_MULTI;
            t->count = 1;
            t->exec = self;
            sched_collect_parts(c, qc, t);
            c->qhead++;
            if (sched_parts_busy(t->parts, t->nparts)) {
                t->exec = -1;
                sched_reply_busy(c, qc, &c->reply);
                continue;
            }
            placing = c;
            stat_add(&sched_stats(self)->multi_tasks, 1);
            multi_acquire(t);
        }
        placing = NULL;
        /* Only this thread writes t->exec (task_complete runs at home). */
        if (t->exec != -1) {
            c->flags |= CLIENT_IN_FLIGHT; /* task_complete resumes this loop */
            return;
        }
    }
    client_queue_done(c);
}

static int part_idle(int p) { return part_free(p); }

static void sn_init(void) { pst = xcalloc((size_t)sched_nparts, sizeof *pst); }

static void sn_teardown(void)
{
    free(pst);
    pst = NULL;
}

const sched_policy_ops_t sched_share_nothing = {
    .name = "share-nothing",
    .init = sn_init,
    .teardown = sn_teardown,
    .run_client = run_client,
    .part_idle = part_idle,
    .owner_bound = 1,
};

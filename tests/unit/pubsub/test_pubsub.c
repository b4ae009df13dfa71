/* Unit tests for pubsub: the registry's counts and listings, the formatted
 * messages in a mailbox (RESP2 and RESP3), one wake in flight per mailbox, a
 * mailbox outliving its client while a wake is in flight, the hard limit,
 * and a race of publishers on several threads against (un)subscribing
 * owners that checks every publisher's order (TSan-clean: make test-tsan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pubsub.h"

/* ---- a fake "send to worker": wakes queue here, per worker ----------------- */

#define WORKERS 4
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static xmsg_t *q_head[WORKERS], *q_tail[WORKERS];
static int sends;

static void fake_send(int to, xmsg_t *m)
{
    pthread_mutex_lock(&q_lock);
    m->next = NULL;
    if (q_tail[to])
        q_tail[to]->next = m;
    else
        q_head[to] = m;
    q_tail[to] = m;
    sends++;
    pthread_mutex_unlock(&q_lock);
}

static xmsg_t *q_pop(int w)
{
    pthread_mutex_lock(&q_lock);
    xmsg_t *m = q_head[w];
    if (m) {
        q_head[w] = m->next;
        if (!q_head[w])
            q_tail[w] = NULL;
    }
    pthread_mutex_unlock(&q_lock);
    return m;
}

static void no_wake(xmsg_t *m) { (void)m; }

static int setup(void **state)
{
    (void)state;
    config_defaults();
    pubsub_setup(fake_send);
    sends = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pubsub_teardown();
    return 0;
}

static sv_t S(const char *s) { return (sv_t){s, strlen(s)}; }

static void collect(void *arg, sv_t name)
{
    buf_t *b = arg;
    buf_append(b, name.p, name.len);
    buf_putc(b, ',');
}

/* Run the wake that fake_send queued for worker w: 1 when there was one. */
static int run_wake(int w, void **owner)
{
    xmsg_t *m = q_pop(w);
    if (!m)
        return 0;
    *owner = pubsub_sub_woken(pubsub_sub_of(m));
    return 1;
}

static void test_counts(void **state)
{
    (void)state;
    int owner;
    pubsub_sub_t *a = pubsub_sub_new(0, &owner, no_wake);
    pubsub_sub_t *b = pubsub_sub_new(1, &owner, no_wake);
    assert_int_equal(pubsub_subscribe(a, PUBSUB_CHANNEL, S("x")), 1);
    assert_int_equal(pubsub_subscribe(a, PUBSUB_CHANNEL, S("x")), 0);
    assert_int_equal(pubsub_subscribe(a, PUBSUB_CHANNEL, S("y")), 1);
    assert_int_equal(pubsub_subscribe(b, PUBSUB_CHANNEL, S("x")), 1);
    assert_int_equal(pubsub_subscribe(b, PUBSUB_PATTERN, S("x*")), 1);
    assert_int_equal(pubsub_subscribe(b, PUBSUB_SHARD, S("x")), 1);
    assert_int_equal(pubsub_count(a, PUBSUB_CHANNEL), 2);
    assert_int_equal(pubsub_count(b, PUBSUB_PATTERN), 1);
    assert_int_equal(pubsub_numsub(PUBSUB_CHANNEL, S("x")), 2);
    assert_int_equal(pubsub_numsub(PUBSUB_SHARD, S("x")), 1);
    assert_int_equal(pubsub_numsub(PUBSUB_CHANNEL, S("none")), 0);
    assert_int_equal(pubsub_active(PUBSUB_CHANNEL), 2);
    assert_int_equal(pubsub_active(PUBSUB_PATTERN), 1);
    buf_t names;
    buf_init(&names);
    sv_t pat = S("y*");
    pubsub_channels(PUBSUB_CHANNEL, &pat, collect, &names);
    assert_int_equal(names.len, 2);
    assert_memory_equal(names.data, "y,", 2);
    buf_free(&names);
    /* x: a and b on the channel, b on the pattern */
    assert_int_equal(pubsub_publish(PUBSUB_CHANNEL, S("x"), S("m")), 3);
    assert_int_equal(pubsub_publish(PUBSUB_SHARD, S("x"), S("m")), 1);
    assert_int_equal(pubsub_unsubscribe(a, PUBSUB_CHANNEL, S("x")), 1);
    assert_int_equal(pubsub_unsubscribe(a, PUBSUB_CHANNEL, S("x")), 0);
    assert_int_equal(pubsub_numsub(PUBSUB_CHANNEL, S("x")), 1);
    assert_int_equal(pubsub_unsubscribe_all(b, PUBSUB_PATTERN, NULL, NULL), 1);
    assert_int_equal(pubsub_active(PUBSUB_PATTERN), 0);
    pubsub_sub_release(a);
    pubsub_sub_release(b);
    assert_int_equal(pubsub_active(PUBSUB_CHANNEL), 0);
    assert_int_equal(pubsub_active(PUBSUB_SHARD), 0);
    /* the wakes still queued: their mailboxes were kept for them */
    void *o;
    while (run_wake(0, &o) || run_wake(1, &o))
        assert_null(o);
}

static void test_formats_and_one_wake(void **state)
{
    (void)state;
    int owner;
    pubsub_sub_t *s = pubsub_sub_new(2, &owner, no_wake);
    pubsub_subscribe(s, PUBSUB_CHANNEL, S("ch"));
    pubsub_subscribe(s, PUBSUB_PATTERN, S("c?"));
    pubsub_subscribe(s, PUBSUB_SHARD, S("ch"));
    assert_int_equal(pubsub_publish(PUBSUB_CHANNEL, S("ch"), S("hi")), 2);
    pubsub_sub_set_proto(s, 3);
    assert_int_equal(pubsub_publish(PUBSUB_SHARD, S("ch"), S("yo")), 1);
    assert_int_equal(sends, 1); /* one wake while it is in flight */
    void *o = NULL;
    assert_int_equal(run_wake(2, &o), 1);
    assert_ptr_equal(o, &owner);
    buf_t out;
    buf_init(&out);
    buf_append(&out, "+OK\r\n", 5);
    assert_int_equal(pubsub_sub_take(s, &out), 0);
    const char *want = "+OK\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
                       "*4\r\n$8\r\npmessage\r\n$2\r\nc?\r\n$2\r\nch\r\n$2\r\nhi\r\n"
                       ">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nyo\r\n";
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    pubsub_publish(PUBSUB_CHANNEL, S("ch"), S("again"));
    assert_int_equal(sends, 2); /* woken, so the next message wakes again */
    pubsub_sub_release(s);       /* the client goes while the wake is queued */
    assert_int_equal(run_wake(2, &o), 1);
    assert_null(o); /* ... which frees the mailbox (ASan: no leak, no use after free) */
    buf_free(&out);
}

static void test_hard_limit(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(config_set_arg("limits.client-output-buffer-limit", "pubsub 1kb 0 0", err,
                                    sizeof err),
                     0);
    int owner;
    pubsub_sub_t *s = pubsub_sub_new(0, &owner, no_wake);
    pubsub_subscribe(s, PUBSUB_CHANNEL, S("c"));
    char big[300];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 3; i++)
        pubsub_publish(PUBSUB_CHANNEL, S("c"), (sv_t){big, sizeof big});
    buf_t out;
    buf_init(&out);
    assert_int_equal(pubsub_sub_take(s, &out), 0); /* 3 x ~320 bytes fit */
    pubsub_sub_set_out(s, out.len);                /* unsent: they still count */
    pubsub_publish(PUBSUB_CHANNEL, S("c"), (sv_t){big, sizeof big});
    size_t before = out.len;
    assert_int_equal(pubsub_sub_take(s, &out), 1); /* over: dropped, to be closed */
    assert_int_equal(out.len, before);
    /* still counted as a receiver, as the client is still subscribed */
    assert_int_equal(pubsub_publish(PUBSUB_CHANNEL, S("c"), S("m")), 1);
    pubsub_sub_release(s);
    void *o;
    while (run_wake(0, &o))
        ;
    buf_free(&out);
    config_defaults();
}

/* ---- the race ---------------------------------------------------------------- */

#define PUBS 3
#define MSGS 20000
#define OWNERS 2

typedef struct owner {
    int w;
    pubsub_sub_t *s;
    long long got[PUBS];
    int bad;
} owner_t;

static _Atomic int pubs_done;

static void *publisher(void *arg)
{
    int p = (int)(intptr_t)arg;
    char m[32];
    for (int i = 0; i < MSGS; i++) {
        int n = snprintf(m, sizeof m, "%d:%d", p, i);
        pubsub_publish(PUBSUB_CHANNEL, S("race"), (sv_t){m, (size_t)n});
    }
    atomic_fetch_add(&pubs_done, 1);
    return NULL;
}

/* Parse "*3\r\n$7\r\nmessage\r\n$4\r\nrace\r\n$N\r\np:i\r\n" messages. */
static void check_out(owner_t *o, buf_t *out)
{
    size_t off = 0;
    while (off < out->len) {
        const char *p = out->data + off;
        const char *last = NULL;
        for (int k = 0; k < 4; k++) { /* header, then 3 bulks */
            const char *nl = memchr(p, '\n', (size_t)(out->data + out->len - p));
            if (k > 0) {
                long len = strtol(p + 1, NULL, 10);
                last = nl + 1;
                p = nl + 1 + len + 2;
            } else {
                p = nl + 1;
            }
        }
        int pub = atoi(last), seq = atoi(strchr(last, ':') + 1);
        if (seq != o->got[pub])
            o->bad++;
        o->got[pub] = seq + 1;
        off = (size_t)(p - out->data);
    }
    out->len = 0;
}

static void *owner_thread(void *arg)
{
    owner_t *o = arg;
    buf_t out;
    buf_init(&out);
    void *who;
    /* churn: other mailboxes come and go on the same channel meanwhile */
    int churn_owner;
    for (;;) {
        int done = atomic_load(&pubs_done) == PUBS;
        pubsub_sub_t *t = pubsub_sub_new(o->w, &churn_owner, no_wake);
        pubsub_subscribe(t, PUBSUB_CHANNEL, S("race"));
        pubsub_subscribe(t, PUBSUB_PATTERN, S("r*"));
        while (run_wake(o->w, &who))
            ;
        pubsub_sub_take(o->s, &out);
        pubsub_sub_set_out(o->s, 0);
        check_out(o, &out);
        pubsub_sub_release(t);
        if (done)
            break;
    }
    while (run_wake(o->w, &who))
        ;
    pubsub_sub_take(o->s, &out);
    check_out(o, &out);
    buf_free(&out);
    return NULL;
}

static void test_race(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(config_set_arg("limits.client-output-buffer-limit", "pubsub 0 0 0", err,
                                    sizeof err),
                     0);
    static owner_t owners[OWNERS];
    int owner_tag;
    atomic_store(&pubs_done, 0);
    for (int i = 0; i < OWNERS; i++) {
        memset(&owners[i], 0, sizeof owners[i]);
        owners[i].w = i;
        owners[i].s = pubsub_sub_new(i, &owner_tag, no_wake);
        pubsub_subscribe(owners[i].s, PUBSUB_CHANNEL, S("race"));
    }
    pthread_t th[PUBS + OWNERS];
    for (int i = 0; i < OWNERS; i++)
        pthread_create(&th[PUBS + i], NULL, owner_thread, &owners[i]);
    for (int p = 0; p < PUBS; p++)
        pthread_create(&th[p], NULL, publisher, (void *)(intptr_t)p);
    for (int i = 0; i < PUBS + OWNERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < OWNERS; i++) {
        assert_int_equal(owners[i].bad, 0);
        for (int p = 0; p < PUBS; p++)
            assert_int_equal(owners[i].got[p], MSGS);
        pubsub_sub_release(owners[i].s);
    }
    void *o;
    for (int w = 0; w < WORKERS; w++)
        while (run_wake(w, &o))
            ;
    assert_int_equal(pubsub_active(PUBSUB_CHANNEL), 0);
    config_defaults();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats_and_one_wake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hard_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

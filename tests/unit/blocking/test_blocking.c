/* Unit tests for blocking: waits registered by the blocking handlers through
 * a hand-built cmd_ctx_t (the task's partitions held, as the scheduler
 * would), writes marking keys ready, the holder serving them (RESP2 and RESP3
 * replies in the blocks), FIFO order, a waiter on several keys served once,
 * stale records dropped, and a race of a pushing-and-serving thread against
 * threads cancelling the same blocks: every block gets exactly one wake and
 * every element is in exactly one reply or still in the list (TSan-clean:
 * make test-tsan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all_commands.h"
#include "blocking.h"
#include "command.h"
#include "config.h"
#include "store.h"

#define NPARTS 8

/* ---- a fake "send to the home worker": wakes are counted and kept -------- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static block_t *woken[4096];
static int nwoken;

static void fake_send(int to, xmsg_t *m)
{
    (void)to;
    pthread_mutex_lock(&q_lock);
    woken[nwoken++] = blocking_of(m);
    pthread_mutex_unlock(&q_lock);
}

static void no_wake(xmsg_t *m) { (void)m; }

static int setup(void **state)
{
    (void)state;
    config_defaults();
    store_setup(NPARTS, 16);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    command_setup(all_commands);
    blocking_setup(NPARTS, fake_send, no_wake);
    nwoken = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    blocking_teardown();
    command_teardown();
    store_teardown();
    return 0;
}

/* The partitions of argv's keys for cmd, ascending (what the task holds). */
static int parts_of(const command_t *cmd, int argc, const sv_t *argv, int *parts)
{
    cmd_keys_t k;
    int seen[NPARTS] = {0}, n = 0;
    command_keys(cmd, argc, argv, &k);
    for (int j = 0; j < cmd_keys_count(&k); j++)
        seen[store_part_of_key(argv[cmd_keys_at(&k, j)])] = 1;
    for (int p = 0; p < NPARTS; p++)
        if (seen[p])
            parts[n++] = p;
    return n;
}

/* Run one top-level command as sched_exec_cmd would: the call, then serving
 * the keys it made ready. Returns the block when it blocked (may_block), and
 * its reply in out. */
static block_t *run(buf_t *out, int proto, int may_block, const char *const *words)
{
    sv_t argv[128];
    int argc = 0;
    for (; words[argc]; argc++)
        argv[argc] = (sv_t){words[argc], strlen(words[argc])};
    const command_t *cmd = command_lookup(argv[0]);
    assert_non_null(cmd);
    int parts[NPARTS];
    int nparts = parts_of(cmd, argc, argv, parts);
    out->len = 0;
    reply_t r = {.out = out, .proto = proto};
    cmd_ctx_t c = {.argc = argc, .argv = argv, .r = &r, .now_ms = now_ms(), .cmd = cmd,
                   .worker = -1, .parts = parts, .nparts = nparts, .may_block = may_block};
    command_call(&c, 0);
    if (c.blocked)
        blocking_set_owner(c.blocked, out, 0);
    blocking_serve(&c);
    return c.blocked;
}

#define RUN(out, ...) run(out, 2, 1, (const char *const[]){__VA_ARGS__, NULL})

static const char *reply_of(block_t *b)
{
    static char text[512];
    const buf_t *r = blocking_reply(b);
    snprintf(text, sizeof text, "%.*s", (int)r->len, r->data ? r->data : "");
    return text;
}

/* The client's side once the block ended: its reference and the wake's. */
static void finish(block_t *b)
{
    blocking_release(b);
    blocking_release(b);
}

static void test_serve_fifo_and_once(void **state)
{
    (void)state;
    buf_t o1 = {0}, o2 = {0}, o3 = {0}, out = {0};
    block_t *b1 = RUN(&o1, "blpop", "a", "b", "0");
    block_t *b2 = RUN(&o2, "brpop", "b", "0");
    block_t *b3 = RUN(&o3, "blmpop", "0", "2", "c", "b", "left", "count", "5");
    assert_non_null(b1);
    assert_non_null(b2);
    assert_non_null(b3);
    assert_int_equal(o1.len, 0); /* blocked: no reply */
    assert_int_equal(blocking_records(), 5);
    /* Three elements, three waiters: FIFO, each served once. */
    assert_null(RUN(&out, "rpush", "b", "x", "y", "z"));
    assert_string_equal(buf_cstr(&out), ":3\r\n");
    assert_int_equal(nwoken, 3);
    assert_ptr_equal(woken[0], b1);
    assert_ptr_equal(woken[1], b2);
    assert_ptr_equal(woken[2], b3);
    assert_int_equal(blocking_state(b1), BLOCK_SERVED);
    assert_string_equal(reply_of(b1), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    assert_string_equal(reply_of(b2), "*2\r\n$1\r\nb\r\n$1\r\nz\r\n");
    assert_string_equal(reply_of(b3), "*2\r\n$1\r\nb\r\n*1\r\n$1\r\ny\r\n");
    /* b1 was served: its record on a is stale, a push there stays. */
    RUN(&out, "rpush", "a", "v");
    assert_int_equal(nwoken, 3);
    RUN(&out, "llen", "a");
    assert_string_equal(buf_cstr(&out), ":1\r\n");
    assert_int_equal(blocking_records(), 1); /* b3's on c, until c is written */
    RUN(&out, "rpush", "c", "w");
    assert_int_equal(nwoken, 3);
    assert_int_equal(blocking_records(), 0);
    finish(b1);
    finish(b2);
    finish(b3);
    buf_free(&o1);
    buf_free(&o2);
    buf_free(&o3);
    buf_free(&out);
}

static void test_no_blocking_and_resp3(void **state)
{
    (void)state;
    buf_t out = {0};
    /* Where it may not block (EXEC, scripts): a null at once, no wait. */
    assert_null(run(&out, 2, 0, (const char *const[]){"blpop", "k", "0", NULL}));
    assert_string_equal(buf_cstr(&out), "*-1\r\n");
    assert_null(run(&out, 3, 0, (const char *const[]){"bzpopmin", "z", "0", NULL}));
    assert_string_equal(buf_cstr(&out), "_\r\n");
    assert_int_equal(blocking_records(), 0);
    /* RESP3 waiter: its reply in its own protocol. */
    buf_t o = {0};
    block_t *b = run(&o, 3, 1, (const char *const[]){"bzpopmax", "z", "0", NULL});
    assert_non_null(b);
    RUN(&out, "zadd", "z", "1.5", "m", "2", "n");
    assert_string_equal(reply_of(b), "*3\r\n$1\r\nz\r\n$1\r\nn\r\n,2\r\n");
    finish(b);
    /* A cancelled block is not served; its wake is the canceller's. */
    b = RUN(&o, "blmove", "src", "src2{x}", "left", "right", "0.5");
    assert_int_equal(blocking_timeout_ms(b), 500);
    assert_int_equal(blocking_cancel(b, BLOCK_TIMEOUT), 1);
    assert_int_equal(blocking_cancel(b, BLOCK_UNBLOCKED), 0);
    int before = nwoken;
    RUN(&out, "rpush", "src", "e");
    assert_int_equal(nwoken, before);
    RUN(&out, "llen", "src");
    assert_string_equal(buf_cstr(&out), ":1\r\n");
    finish(b);
    buf_free(&o);
    buf_free(&out);
}

/* Blocks that end without being served (timeouts, disconnects) leave their
 * records; registering sweeps a partition holding more than twice its live
 * ones, so repeated blocks on many keys hold a bounded number. */
static void test_stale_records_bounded(void **state)
{
    (void)state;
    enum { KEYS = 100, ROUNDS_STALE = 60 };
    static char names[KEYS][8];
    const char *words[KEYS + 3];
    words[0] = "blpop";
    for (int i = 0; i < KEYS; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        words[1 + i] = names[i];
    }
    words[KEYS + 1] = "0";
    words[KEYS + 2] = NULL;
    buf_t o = {0};
    uint64_t most = 0;
    for (int r = 0; r < ROUNDS_STALE; r++) {
        block_t *b = run(&o, 2, 1, words);
        assert_non_null(b);
        if (blocking_records() > most)
            most = blocking_records();
        assert_int_equal(blocking_cancel(b, BLOCK_GONE), 1);
        finish(b);
    }
    /* Without sweeping: 6000. With it: about 2 x 100 live + a slack per partition. */
    assert_true(most <= 2 * KEYS + 64 * NPARTS + KEYS);
    buf_free(&o);
}

/* ---- the race ---------------------------------------------------------------- */

#define ROUNDS 400
#define CANCELLERS 2

/* Only the main thread holds partitions (registers, pushes, serves); the
 * cancellers touch nothing but the blocks, as timers, CLIENT UNBLOCK and
 * disconnects do on other workers. */
static block_t *blocks[ROUNDS];
static _Atomic int nblocks;
static _Atomic int cancelled;

static void *canceller(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load(&nblocks) <= i)
            ;
        if (blocking_cancel(blocks[i], BLOCK_GONE))
            atomic_fetch_add(&cancelled, 1);
    }
    return NULL;
}

static void test_race_serve_and_cancel(void **state)
{
    (void)state;
    pthread_t th[CANCELLERS];
    for (int i = 0; i < CANCELLERS; i++)
        pthread_create(&th[i], NULL, canceller, NULL);
    buf_t out = {0}, o = {0};
    char val[32];
    int taken = 0; /* elements a BLPOP found at once (left by cancelled blocks) */
    for (int i = 0; i < ROUNDS; i++) {
        block_t *b;
        while (!(b = RUN(&o, "blpop", "q", "q2{x}", "0")))
            taken++;
        blocks[i] = b;
        atomic_fetch_add(&nblocks, 1);
        snprintf(val, sizeof val, "v%d", i);
        RUN(&out, i % 2 ? "rpush" : "lpush", i % 3 ? "q" : "q2{x}", val);
    }
    for (int i = 0; i < CANCELLERS; i++)
        pthread_join(th[i], NULL);
    /* Every block woken exactly once, by the server or by one canceller. */
    assert_int_equal(nwoken, ROUNDS);
    int served = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int st = blocking_state(blocks[i]);
        assert_true(st == BLOCK_SERVED || st == BLOCK_GONE);
        served += st == BLOCK_SERVED;
    }
    assert_int_equal(served + atomic_load(&cancelled), ROUNDS);
    /* Every element in exactly one reply, or still in a list. */
    RUN(&out, "llen", "q");
    long left = atol(buf_cstr(&out) + 1);
    RUN(&out, "llen", "q2{x}");
    left += atol(buf_cstr(&out) + 1);
    assert_int_equal(served + taken + left, ROUNDS);
    for (int i = 0; i < ROUNDS; i++)
        finish(blocks[i]);
    buf_free(&o);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serve_fifo_and_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_blocking_and_resp3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_records_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_serve_and_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for tracking (server/tracking.h): a read remembered per key and
 * client, one RESP3 push per change then forgotten, NOLOOP, BCAST prefixes
 * batched per command, the table bound, a flush; and a race of partition
 * holders (remembering and changing keys, each thread its own partitions)
 * against a thread turning tracking on and off and freeing clients, which
 * checks every push is well formed (TSan-clean: make test-tsan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "config.h"
#include "db.h"
#include "pubsub.h"
#include "store.h"
#include "tracking.h"

#define NPARTS 4
static sv_t S(const char *s) { return (sv_t){s, strlen(s)}; }

/* Wakes in flight, by mailbox: the test takes the bytes itself (take), then
 * ends the wake as the home worker would. */
#define MAX_MB 16
static pthread_mutex_t fl_lock = PTHREAD_MUTEX_INITIALIZER;
static pubsub_sub_t *in_flight[MAX_MB];
static void fake_send(int to, xmsg_t *m)
{
    (void)to;
    pthread_mutex_lock(&fl_lock);
    for (int i = 0; i < MAX_MB; i++)
        if (!in_flight[i]) {
            in_flight[i] = pubsub_sub_of(m);
            break;
        }
    pthread_mutex_unlock(&fl_lock);
}
static void no_wake(xmsg_t *m) { (void)m; }
static int alive(uint64_t id) { return id != 0; }

static const command_t get_row = {.name = "get", .flags = CMD_READONLY, .arity = 2,
                                  .first_key = 1, .last_key = 1, .key_step = 1};
static const command_t set_row = {.name = "set", .flags = CMD_WRITE, .arity = -3,
                                  .first_key = 1, .last_key = 1, .key_step = 1};

static int setup(void **state)
{
    (void)state;
    config_defaults();
    store_setup(NPARTS, 1);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    pubsub_setup(fake_send);
    tracking_setup(NPARTS, alive);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tracking_teardown();
    pubsub_teardown();
    store_teardown();
    return 0;
}

typedef struct fake_client {
    uint64_t id;
    pubsub_sub_t *mb;
    tracking_client_t *t;
} fake_client_t;

static void take(fake_client_t *fc, buf_t *b);

static void fc_open(fake_client_t *fc, uint64_t id, int modes, const sv_t *pfx, int npfx)
{
    fc->id = id;
    fc->mb = pubsub_sub_new(0, fc, no_wake);
    pubsub_sub_set_proto(fc->mb, 3);
    pubsub_sub_set_id(fc->mb, id);
    fc->t = tracking_client_new(id, fc->mb);
    tracking_on(fc->t, modes, 0, pfx, npfx);
}

static void fc_close(fake_client_t *fc)
{
    buf_t b = {0};
    take(fc, &b); /* no wake left in flight */
    buf_free(&b);
    tracking_client_free(fc->t);
    pubsub_sub_release(fc->mb);
}

/* Run one command of client fc (NULL: no client) on key, as sched_exec_cmd
 * does: a read remembers it, a write changes it. */
static void run(fake_client_t *fc, const command_t *cmd, const char *key, buf_t *out)
{
    sv_t argv[3] = {S(cmd->name), S(key), S("v")};
    int part = store_part_of_key(argv[1]);
    reply_t r = {.out = out, .proto = 3};
    cmd_ctx_t c = {.argc = cmd == &get_row ? 2 : 3, .argv = argv, .r = &r, .cmd = cmd,
                   .now_ms = now_ms(), .parts = &part, .nparts = 1};
    tracking_enter(fc ? fc->t : NULL, fc ? fc->id : 0, cmd, c.argc, argv, &r);
    tracking_handler_start();
    if (cmd == &set_row)
        db_set_string(&c, argv[1], "v", 1, 0);
    else
        db_lookup(&c, argv[1], 0);
    tracking_remember(&c);
    tracking_leave(&r);
}

static void take(fake_client_t *fc, buf_t *b)
{
    b->len = 0;
    pubsub_sub_take(fc->mb, b);
    int flying = 0;
    pthread_mutex_lock(&fl_lock);
    for (int i = 0; i < MAX_MB; i++)
        if (in_flight[i] == fc->mb)
            in_flight[i] = NULL, flying = 1;
    pthread_mutex_unlock(&fl_lock);
    if (flying)
        pubsub_sub_woken(fc->mb);
}

static void test_default_mode(void **state)
{
    (void)state;
    fake_client_t a, b;
    fc_open(&a, 1, 0, NULL, 0);
    fc_open(&b, 2, TRACKING_NOLOOP, NULL, 0);
    buf_t out = {0}, got = {0};
    run(&a, &get_row, "k", &out);
    run(&b, &get_row, "k", &out);
    run(&b, &get_row, "j", &out);
    run(NULL, &set_row, "k", &out);
    take(&a, &got);
    assert_int_equal(got.len, strlen(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"));
    assert_memory_equal(got.data, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n", got.len);
    take(&b, &got);
    assert_int_equal(got.len, strlen(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"));
    /* forgotten once sent */
    run(NULL, &set_row, "k", &out);
    take(&a, &got);
    assert_int_equal(got.len, 0);
    /* NOLOOP: b's own write of j says nothing to b */
    out.len = 0;
    run(&b, &set_row, "j", &out);
    take(&b, &got);
    assert_int_equal(got.len, 0);
    assert_int_equal(out.len, 0);
    /* a's own write: the push goes after a's reply, into its output */
    run(&a, &get_row, "m", &out);
    out.len = 0;
    run(&a, &set_row, "m", &out);
    assert_memory_equal(out.data, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nm\r\n", out.len);
    /* a flush: a null to every tracking client, the tables emptied */
    run(&a, &get_row, "f", &out);
    tracking_flush();
    take(&a, &got);
    assert_memory_equal(got.data, ">2\r\n$10\r\ninvalidate\r\n_\r\n", got.len);
    buf_t info = {0};
    tracking_info_stats(&info);
    assert_non_null(strstr(info.data, "tracking_total_keys:0\r\n"));
    buf_free(&info);
    fc_close(&a);
    fc_close(&b);
    assert_int_equal(tracking_clients(), 0);
    buf_free(&out);
    buf_free(&got);
}

static void test_bcast_and_bound(void **state)
{
    (void)state;
    sv_t pfx[2] = {S("a:"), S("b:")};
    fake_client_t bc, t;
    fc_open(&bc, 7, TRACKING_BCAST, pfx, 2);
    fc_open(&t, 8, 0, NULL, 0);
    buf_t out = {0}, got = {0};
    run(NULL, &set_row, "a:1", &out);
    run(NULL, &set_row, "c:1", &out);
    take(&bc, &got);
    assert_memory_equal(got.data, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\na:1\r\n", got.len);
    /* the bound: past tracking-table-max-keys, keys are forgotten with a push */
    char err[128];
    assert_int_equal(config_set_arg("store.tracking-table-max-keys", "10", err, sizeof err), 0);
    char key[16];
    out.len = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "x%d", i);
        run(&t, &get_row, key, &out);
    }
    buf_t info = {0};
    tracking_info_stats(&info);
    unsigned long long keys = strtoull(strstr(info.data, "tracking_total_keys:") + 20, NULL, 10);
    assert_true(keys <= 10 + NPARTS);
    /* t's own reads forgot its keys: those pushes follow its replies */
    assert_true(out.len > 0);
    assert_memory_equal(out.data, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$", 26);
    /* a lowered limit: cron trims each partition down to it */
    assert_int_equal(config_set_arg("store.tracking-table-max-keys", "2", err, sizeof err), 0);
    for (int p = 0; p < NPARTS; p++)
        tracking_cron(p);
    info.len = 0;
    tracking_info_stats(&info);
    keys = strtoull(strstr(info.data, "tracking_total_keys:") + 20, NULL, 10);
    assert_int_equal(keys, 2);
    take(&t, &got); /* cron's evictions: pushed to t's mailbox */
    assert_true(got.len > 0);
    buf_free(&info);
    fc_close(&bc);
    fc_close(&t);
    buf_free(&out);
    buf_free(&got);
}

/* ---- the race -------------------------------------------------------------- */

#define ROUNDS 3000
static _Atomic int stop;

typedef struct holder {
    int part; /* the partition this thread holds */
    fake_client_t *reader;
} holder_t;

static void *holder_main(void *arg)
{
    holder_t *h = arg;
    buf_t out = {0};
    char key[32];
    int made = 0;
    for (int i = 0; made < ROUNDS; i++) {
        snprintf(key, sizeof key, "r%d", i);
        if (store_part_of_key(S(key)) != h->part)
            continue;
        made++;
        run(h->reader, &get_row, key, &out);
        run(NULL, &set_row, key, &out);
        out.len = 0;
    }
    buf_free(&out);
    return NULL;
}

static void *toggler_main(void *arg)
{
    fake_client_t *fc = arg;
    buf_t info = {0};
    sv_t pfx = S("r1");
    for (int i = 0; !atomic_load(&stop); i++) {
        tracking_off(fc->t);
        tracking_on(fc->t, i % 2 ? TRACKING_BCAST : 0, 0, i % 2 ? &pfx : NULL, i % 2);
        info.len = 0;
        tracking_info_stats(&info);
    }
    buf_free(&info);
    return NULL;
}

static void test_race(void **state)
{
    (void)state;
    fake_client_t readers[NPARTS], toggled;
    for (int p = 0; p < NPARTS; p++)
        fc_open(&readers[p], 100 + (uint64_t)p, 0, NULL, 0);
    fc_open(&toggled, 200, 0, NULL, 0);
    pthread_t th[NPARTS], tog;
    holder_t hs[NPARTS];
    atomic_store(&stop, 0);
    assert_int_equal(pthread_create(&tog, NULL, toggler_main, &toggled), 0);
    for (int p = 0; p < NPARTS; p++) {
        hs[p] = (holder_t){p, &readers[p]};
        assert_int_equal(pthread_create(&th[p], NULL, holder_main, &hs[p]), 0);
    }
    for (int p = 0; p < NPARTS; p++)
        pthread_join(th[p], NULL);
    atomic_store(&stop, 1);
    pthread_join(tog, NULL);
    /* every reader got exactly its ROUNDS pushes, each well formed */
    buf_t got = {0};
    for (int p = 0; p < NPARTS; p++) {
        take(&readers[p], &got);
        int n = 0;
        static const char head[] = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$";
        size_t hl = sizeof head - 1;
        buf_putc(&got, '\0'); /* for strtoul and strstr */
        got.len--;
        for (size_t at = 0; at < got.len; n++) {
            assert_memory_equal(got.data + at, head, hl);
            const char *end = strstr(got.data + at + hl, "\r\n");
            size_t klen = strtoul(got.data + at + hl, NULL, 10);
            at = (size_t)(end - got.data) + 2 + klen + 2;
        }
        assert_int_equal(n, ROUNDS);
    }
    take(&toggled, &got); /* its BCAST pushes: just drained */
    buf_free(&got);
    for (int p = 0; p < NPARTS; p++)
        fc_close(&readers[p]);
    fc_close(&toggled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bcast_and_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

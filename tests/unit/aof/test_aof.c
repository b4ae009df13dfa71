/* Unit tests for the AOF's buffers (server/aof.c): threads append calls of
 * one and of several entries (a transaction), expired keys, and flush, all
 * at once, while the everysec fsync thread runs; the file must hold every
 * entry exactly once, each thread's in its order, each transaction whole
 * between MULTI and EXEC, and a SELECT before any change of database. Run
 * under ThreadSanitizer by `make test-tsan` (it races aof_flush against
 * appends and against the fsync thread). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aof.h"
#include "aof_internal.h"
#include "command.h"
#include "config.h"
#include "store.h"

#define THREADS 4
#define CALLS 3000

static char dir[256];

static int setup(void **state)
{
    (void)state;
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/percore-unit-aof-%d", (int)getpid());
    assert_int_equal(mkdir(dir, 0755) == 0 || errno == EEXIST, 1);
    config_defaults();
    assert_int_equal(config_set_arg("persistence.dir", dir, err, sizeof err), 0);
    assert_int_equal(config_set_arg("persistence.appendonly", "yes", err, sizeof err), 0);
    store_setup(4, 4);
    assert_int_equal(aof_load_at_start(err, sizeof err), 0);
    assert_int_equal(atomic_load(&aof_logging), 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    aof_teardown();
    store_teardown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    char key[32], val[32];
    for (int i = 0; i < CALLS; i++) {
        int kn = snprintf(key, sizeof key, "k:%d", t);
        int vn = snprintf(val, sizeof val, "%d", i);
        sv_t a[3] = {{"SET", 3}, {key, (size_t)kn}, {val, (size_t)vn}};
        aof_call_begin();
        aof_tl_add(t % 2, 3, a); /* two databases: SELECTs interleave */
        if (i % 7 == 0) /* a transaction of two */
            aof_tl_add(t % 2, 3, a);
        aof_call_end();
        if (i % 50 == 0)
            aof_feed_key_gone(2, key, (size_t)kn); /* outside a call: committed at once */
        if (i % 3 == 0)
            aof_flush_pending();
    }
    return NULL;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)len + 1);
    assert_int_equal(fread(d, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    d[len] = 0;
    *n = (size_t)len;
    return d;
}

/* One command of the file at *p: its argc and argv (pointing into d). */
static int next_cmd(const char *d, size_t n, size_t *p, sv_t *argv, int max)
{
    if (*p >= n)
        return 0;
    assert_int_equal(d[*p], '*');
    int argc = (int)strtol(d + *p + 1, NULL, 10);
    assert_true(argc >= 1 && argc <= max);
    *p = (size_t)(strstr(d + *p, "\r\n") - d) + 2;
    for (int j = 0; j < argc; j++) {
        assert_int_equal(d[*p], '$');
        size_t len = (size_t)strtol(d + *p + 1, NULL, 10);
        *p = (size_t)(strstr(d + *p, "\r\n") - d) + 2;
        argv[j] = (sv_t){d + *p, len};
        *p += len + 2;
    }
    return argc;
}

static void test_racing_appends_and_flushes(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    aof_flush();
    assert_int_equal(atomic_load(&aof_pending), 0);

    char path[600];
    snprintf(path, sizeof path, "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    size_t n, p = 0;
    char *d = slurp(path, &n);
    int next[THREADS] = {0}, dups[THREADS] = {0}, db = -1, in_multi = 0, dels = 0, multis = 0;
    sv_t argv[8];
    int argc;
    while ((argc = next_cmd(d, n, &p, argv, 8)) > 0) {
        if (argc == 1 && argv[0].len == 5 && !memcmp(argv[0].p, "MULTI", 5)) {
            assert_false(in_multi);
            in_multi = 1;
            multis++;
            continue;
        }
        if (argc == 1 && argv[0].len == 4 && !memcmp(argv[0].p, "EXEC", 4)) {
            assert_true(in_multi);
            in_multi = 0;
            continue;
        }
        if (argc == 2 && !memcmp(argv[0].p, "SELECT", 6)) {
            db = atoi(argv[1].p);
            continue;
        }
        if (argc == 2 && !memcmp(argv[0].p, "DEL", 3)) {
            assert_int_equal(db, 2);
            dels++;
            continue;
        }
        assert_int_equal(argc, 3);
        int t = atoi(argv[1].p + 2), i = atoi(argv[2].p);
        assert_int_equal(db, t % 2);
        if (i == next[t] - 1 && i % 7 == 0 && !dups[t]) { /* the transaction's second */
            assert_true(in_multi);
            dups[t] = 1;
            continue;
        }
        assert_int_equal(i, next[t]);
        dups[t] = 0;
        next[t]++;
    }
    assert_false(in_multi);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(next[t], CALLS);
    assert_int_equal(dels, THREADS * (CALLS / 50));
    assert_int_equal(multis, THREADS * ((CALLS + 6) / 7));
    assert_int_equal((long long)n, atomic_load(&aof_cur_size) - atomic_load(&aof_base_size));
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_racing_appends_and_flushes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

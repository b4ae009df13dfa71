/* Unit tests for slowlog and latency's monitor: Redis 7.0's trimming of
 * arguments, the max-len bound, and the shared log raced by several writer
 * threads and a reader (run under TSan by the tsan build). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "latency.h"
#include "slowlog.h"

static void set_int(_Atomic int *f, int v) { atomic_store(f, v); }

static int setup(void **state)
{
    (void)state;
    config_defaults();
    slowlog_reset();
    return 0;
}

static size_t reply_of(long long count, buf_t *out)
{
    reply_t r = {.out = out, .proto = 2};
    out->len = 0;
    slowlog_reply(&r, count);
    return out->len;
}

static void test_trim(void **state)
{
    (void)state;
    sv_t argv[40];
    char names[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "a%d", i);
        argv[i] = (sv_t){names[i], strlen(names[i])};
    }
    char big[300];
    memset(big, 'x', sizeof big);
    argv[1] = (sv_t){big, sizeof big};
    slowlog_push(NULL, 40, argv, 12345, "1.2.3.4:5", NULL);
    assert_int_equal(slowlog_len(), 1);
    buf_t out;
    buf_init(&out);
    reply_of(10, &out);
    const char *s = buf_cstr(&out);
    assert_non_null(strstr(s, "*32\r\n$2\r\na0\r\n"));
    assert_non_null(strstr(s, "... (172 more bytes)"));
    assert_non_null(strstr(s, "$22\r\n... (9 more arguments)\r\n"));
    assert_non_null(strstr(s, ":12345\r\n"));
    assert_non_null(strstr(s, "$9\r\n1.2.3.4:5\r\n$0\r\n\r\n"));
    assert_null(strstr(s, "a31"));
    buf_free(&out);
}

static void test_max_len(void **state)
{
    (void)state;
    set_int(&cfg.slowlog_max_len, 3);
    sv_t argv[1] = {{"ping", 4}};
    for (int i = 0; i < 10; i++)
        slowlog_push(NULL, 1, argv, 1, "p", NULL);
    assert_int_equal(slowlog_len(), 3);
    set_int(&cfg.slowlog_max_len, 0);
    slowlog_push(NULL, 1, argv, 1, "p", NULL);
    assert_int_equal(slowlog_len(), 0);
    assert_int_equal(slowlog_bytes(), 0);
}

#define WRITERS 4
#define PER 3000

static void *writer(void *arg)
{
    (void)arg;
    sv_t argv[2] = {{"set", 3}, {"key", 3}};
    for (int i = 0; i < PER; i++)
        slowlog_push(NULL, 2, argv, (uint64_t)i, "127.0.0.1:1", NULL);
    return NULL;
}

static _Atomic int stop_reader;

static void *reader(void *arg)
{
    (void)arg;
    buf_t out;
    buf_init(&out);
    while (!atomic_load(&stop_reader)) {
        reply_of(-1, &out);
        (void)slowlog_len();
        (void)slowlog_bytes();
    }
    buf_free(&out);
    return NULL;
}

/* Ids unique and increasing newest first, the bound kept, while racing. */
static void test_race(void **state)
{
    (void)state;
    set_int(&cfg.slowlog_max_len, 100);
    slowlog_reset();
    pthread_t w[WRITERS], r;
    atomic_store(&stop_reader, 0);
    pthread_create(&r, NULL, reader, NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop_reader, 1);
    pthread_join(r, NULL);
    assert_int_equal(slowlog_len(), 100);
    buf_t out;
    buf_init(&out);
    reply_of(-1, &out);
    /* each entry starts "*6\r\n:<id>\r\n": ids strictly decreasing */
    const char *p = buf_cstr(&out);
    long long prev = -1, n = 0;
    while ((p = strstr(p, "*6\r\n:")) != NULL) {
        long long id = strtoll(p + 5, NULL, 10);
        if (prev >= 0)
            assert_true(id < prev);
        if (n == 0)
            assert_true(id >= WRITERS * PER - 1);
        prev = id, n++, p += 5;
    }
    assert_int_equal(n, 100);
    buf_free(&out);
}

static void *lat_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++)
        latency_add(i % 2 ? "command" : "fast-command", (uint64_t)i);
    return NULL;
}

static void test_latency_race(void **state)
{
    (void)state;
    pthread_t w[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, lat_writer, NULL);
    buf_t out;
    buf_init(&out);
    reply_t r = {.out = &out, .proto = 2};
    for (int i = 0; i < 200; i++) {
        out.len = 0;
        latency_reply_latest(&r);
        latency_reply_history(&r, (sv_t){"command", 7});
        if (i % 50 == 0)
            latency_reset(0, NULL);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    latency_add("command", 1999);
    out.len = 0;
    latency_reply_latest(&r);
    assert_non_null(strstr(buf_cstr(&out), "$7\r\ncommand\r\n"));
    assert_non_null(strstr(buf_cstr(&out), ":1999\r\n"));
    sv_t names[1] = {{"command", 7}};
    assert_int_equal(latency_reset(1, names), 1);
    assert_int_equal(latency_reset(1, names), 0);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_trim, setup),
        cmocka_unit_test_setup(test_max_len, setup),
        cmocka_unit_test_setup(test_race, setup),
        cmocka_unit_test_setup(test_latency_race, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    slowlog_teardown();
    latency_reset(0, NULL);
    config_teardown();
    return rc;
}

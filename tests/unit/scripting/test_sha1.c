/* Unit tests for sha1: FIPS 180 / RFC 3174 vectors, Redis's own sha1hex
 * examples, and incremental hashing across block boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha1.h"

static void check(const char *in, size_t n, const char *want)
{
    char hex[41];
    sha1_hex(in, n, hex);
    assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
    (void)state;
    check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check("The quick brown fox jumps over the lazy dog", 43,
          "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    /* redis.sha1hex() examples from Redis's test suite */
    check("Pizza & Mandolino", 17, "74822d82031af7493c20eefa13bd07ec4fada82f");
    /* the script names Redis's tests use */
    check("return redis.call('get',KEYS[1])", 32, "fd758d1589d044dd850a6f05d52f2eefd27f033f");
    check("return 'loaded'", 15, "b534286061d4b9e4026607613b95c06c06015ae8");
}

static void test_million_a(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *a = malloc(n);
    assert_non_null(a);
    memset(a, 'a', n);
    check(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
}

/* Every split point of inputs around the 55/56/64-byte padding edges gives
 * the one-shot digest. */
static void test_incremental(void **state)
{
    (void)state;
    char buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 7 + 3);
    for (size_t n = 50; n < 140; n++) {
        char want[41];
        sha1_hex(buf, n, want);
        for (size_t cut = 0; cut <= n; cut += 5) {
            sha1_ctx_t s;
            unsigned char d[20];
            char got[41];
            sha1_init(&s);
            sha1_update(&s, buf, cut);
            sha1_update(&s, buf + cut, n - cut);
            sha1_final(&s, d);
            for (int i = 0; i < 20; i++)
                snprintf(got + 2 * i, 3, "%02x", d[i]);
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

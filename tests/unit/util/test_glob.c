/* Unit tests of glob_match (Redis's stringmatch rules) and parse_scan_cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static int m(const char *pat, const char *s)
{
    return glob_match(pat, strlen(pat), s, strlen(s), 0);
}

static int mi(const char *pat, const char *s)
{
    return glob_match(pat, strlen(pat), s, strlen(s), 1);
}

static void test_literals(void **state)
{
    (void)state;
    assert_true(m("", ""));
    assert_false(m("", "a"));
    assert_false(m("a", ""));
    assert_true(m("hello", "hello"));
    assert_false(m("hello", "hell"));
    assert_false(m("hell", "hello"));
    assert_false(m("Hello", "hello"));
    assert_true(mi("HeLLo", "hello"));
}

static void test_star(void **state)
{
    (void)state;
    /* Redis quirk: no pattern but "" matches the empty string, not even "*"
     * (KEYS * and SCAN MATCH * bypass matching, so they still list it). */
    assert_false(m("*", ""));
    assert_false(m("**", ""));
    assert_true(m("*", "anything"));
    assert_true(m("***", "x"));
    assert_true(m("h*o", "ho"));
    assert_true(m("h*o", "hello"));
    assert_false(m("h*o", "help"));
    assert_true(m("*llo", "hello"));
    assert_true(m("he*", "he"));
    assert_true(m("user:*:name", "user:42:name"));
    assert_false(m("user:*:name", "user:42:names"));
    assert_true(m("a*b*c", "aXbYc"));
    assert_true(m("a*b*c", "abbbc"));
    assert_false(m("a*b*c", "aXbY"));
    assert_true(m("a**", "a"));
    assert_true(m("*a*", "bab"));
    assert_false(m("*a*", "bbb"));
}

static void test_question(void **state)
{
    (void)state;
    assert_true(m("h?llo", "hello"));
    assert_true(m("h?llo", "hallo"));
    assert_false(m("h?llo", "hllo"));
    assert_true(m("???", "abc"));
    assert_false(m("???", "ab"));
    assert_true(m("*?", "a"));
    assert_false(m("*?", ""));
}

static void test_classes(void **state)
{
    (void)state;
    assert_true(m("h[ae]llo", "hello"));
    assert_true(m("h[ae]llo", "hallo"));
    assert_false(m("h[ae]llo", "hillo"));
    assert_true(m("h[^e]llo", "hallo"));
    assert_false(m("h[^e]llo", "hello"));
    assert_true(m("h[a-b]llo", "hbllo"));
    assert_false(m("h[a-b]llo", "hcllo"));
    /* Reversed range ends are swapped. */
    assert_true(m("[z-a]", "m"));
    assert_true(m("[^a-c]", "d"));
    assert_false(m("[^a-c]", "b"));
    assert_true(m("[abc0-9]", "7"));
    assert_false(m("[]", "a"));
    /* A class matches exactly one byte. */
    assert_false(m("[ab]", "ab"));
    assert_false(m("[ab]", ""));
}

static void test_class_quirks(void **state)
{
    (void)state;
    /* Unterminated class: the bytes seen so far form the set. */
    assert_true(m("[ab", "a"));
    assert_true(m("[ab", "b"));
    assert_false(m("[ab", "c"));
    assert_false(m("[ab", "ab"));
    assert_false(m("[", "a"));
    assert_false(m("a[", "a"));
    /* "[a-]" is a range from ']' to 'a' (ends swapped), then the class goes on
     * looking for its ']' until the pattern ends. */
    assert_true(m("[a-]", "^"));
    assert_false(m("[a-]", "b"));
    /* An escaped byte inside a class is literal, including ']' and '-'. */
    assert_true(m("[\\]]", "]"));
    assert_true(m("[\\-a]", "-"));
    assert_false(m("[\\-a]", "b"));
    assert_true(m("[\\^]", "^"));
    /* "^" after the first position is an ordinary member. */
    assert_true(m("[a^]", "^"));
}

static void test_escapes(void **state)
{
    (void)state;
    assert_true(m("\\*", "*"));
    assert_false(m("\\*", "a"));
    assert_true(m("a\\?b", "a?b"));
    assert_false(m("a\\?b", "axb"));
    assert_true(m("\\[a]", "[a]"));
    assert_true(m("\\\\", "\\"));
    /* A trailing lone backslash matches itself. */
    assert_true(m("a\\", "a\\"));
    assert_false(m("a\\", "a"));
    assert_true(m("*\\*", "foo*"));
    assert_false(m("*\\*", "foo"));
}

static void test_nocase(void **state)
{
    (void)state;
    assert_true(mi("H*O", "hello"));
    assert_true(mi("[A-C]x", "bX"));
    assert_true(mi("[a-c]", "B"));
    assert_false(m("[a-c]", "B"));
    assert_true(mi("[^x]", "a"));
    assert_false(mi("[^x]", "X"));
    assert_true(mi("h[E]llo", "HELLO"));
    /* Range ends are ordered before folding, as Redis does: 'Z' < 'a' stays
     * the range "z".."a" after folding, which matches nothing. */
    assert_false(mi("[Z-a]", "m"));
    assert_false(mi("[Z-a]", "_"));
    /* An escaped byte inside a class compares exactly. */
    assert_false(mi("[\\A]", "a"));
    assert_true(mi("[\\A]", "A"));
}

static void test_binary(void **state)
{
    (void)state;
    static const char pat[] = {'a', '\0', '*'};
    static const char s1[] = {'a', '\0', 'x', 'y'};
    static const char s2[] = {'a', 'b', 'x'};
    assert_true(glob_match(pat, sizeof(pat), s1, sizeof(s1), 0));
    assert_false(glob_match(pat, sizeof(pat), s2, sizeof(s2), 0));
    /* Bytes over 0x7f compare as unsigned in ranges. */
    assert_true(glob_match("[\x80-\xff]", 5, "\xc3", 1, 0));
    assert_false(glob_match("[\x80-\xff]", 5, "a", 1, 0));
    assert_true(glob_match("[a-\xff]", 5, "\xc3", 1, 0));
    /* The pattern need not be NUL terminated: only plen bytes are read. */
    assert_true(glob_match("ab*junk", 3, "abc", 3, 0));
    assert_true(glob_match("a*", 2, "a", 1, 0));
}

static void test_pathological(void **state)
{
    (void)state;
    /* Many stars against a long non-matching string: must finish fast thanks
     * to the give-up rule rather than backtrack exponentially. */
    char pat[64], s[256];
    size_t n = 0;
    for (int i = 0; i < 20; i++) {
        pat[n++] = 'a';
        pat[n++] = '*';
    }
    pat[n++] = 'b';
    memset(s, 'a', sizeof(s));
    assert_false(glob_match(pat, n, s, sizeof(s), 0));
    s[sizeof(s) - 1] = 'b';
    assert_true(glob_match(pat, n, s, sizeof(s), 0));
}

static void test_nesting_limit(void **state)
{
    (void)state;
    /* Redis gives up past 1000 nested '*' (a final '*' needs no nesting):
     * "a*" repeated 1001 times still matches, 1002 times never does. */
    const size_t reps[] = {1001, 1002};
    for (int k = 0; k < 2; k++) {
        size_t n = reps[k] * 2;
        char *pat = malloc(n), *s = malloc(reps[k] + 1);
        for (size_t i = 0; i < reps[k]; i++) {
            pat[2 * i] = 'a';
            pat[2 * i + 1] = '*';
            s[i] = 'a';
        }
        s[reps[k]] = 'b';
        if (k == 0)
            assert_true(glob_match(pat, n, s, reps[k] + 1, 0));
        else
            assert_false(glob_match(pat, n, s, reps[k] + 1, 0));
        free(pat);
        free(s);
    }
}

/* Random patterns over a small alphabet full of special bytes: must never read
 * out of bounds (run under ASan) and must agree with itself under nocase for
 * caseless input. */
static void test_fuzz(void **state)
{
    (void)state;
    static const char alpha[] = "ab*?[]^-\\";
    unsigned seed = 12345;
    for (int iter = 0; iter < 200000; iter++) {
        char pat[16] = {0}, s[16] = {0};
        size_t pn, sn;
        seed = seed * 1103515245u + 12345u;
        pn = (seed >> 16) % sizeof(pat);
        seed = seed * 1103515245u + 12345u;
        sn = (seed >> 16) % sizeof(s);
        for (size_t i = 0; i < pn; i++) {
            seed = seed * 1103515245u + 12345u;
            pat[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
        }
        for (size_t i = 0; i < sn; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
        }
        char *hp = malloc(pn ? pn : 1), *hs = malloc(sn ? sn : 1);
        memcpy(hp, pat, pn);
        memcpy(hs, s, sn);
        int a = glob_match(hp, pn, hs, sn, 0);
        int b = glob_match(hp, pn, hs, sn, 1);
        assert_int_equal(a, b);
        free(hp);
        free(hs);
    }
}

static void test_scan_cursor(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_scan_cursor(SV_LIT("0"), &v), 0);
    assert_true(v == 0);
    assert_int_equal(parse_scan_cursor(SV_LIT("1234"), &v), 0);
    assert_true(v == 1234);
    assert_int_equal(parse_scan_cursor(SV_LIT("18446744073709551615"), &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(parse_scan_cursor(SV_LIT("18446744073709551616"), &v), -1);
    assert_int_equal(parse_scan_cursor(SV_LIT("+7"), &v), 0);
    assert_true(v == 7);
    assert_int_equal(parse_scan_cursor(SV_LIT("-1"), &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(parse_scan_cursor(SV_LIT(""), &v), 0);
    assert_true(v == 0);
    assert_int_equal(parse_scan_cursor(SV_LIT("-"), &v), -1);
    assert_int_equal(parse_scan_cursor(SV_LIT(" 1"), &v), -1);
    assert_int_equal(parse_scan_cursor(SV_LIT("1 "), &v), -1);
    assert_int_equal(parse_scan_cursor(SV_LIT("abc"), &v), -1);
    assert_int_equal(parse_scan_cursor(SV_LIT("12x"), &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),     cmocka_unit_test(test_star),
        cmocka_unit_test(test_question),     cmocka_unit_test(test_classes),
        cmocka_unit_test(test_class_quirks), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_nocase),       cmocka_unit_test(test_binary),
        cmocka_unit_test(test_pathological), cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_fuzz),         cmocka_unit_test(test_scan_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

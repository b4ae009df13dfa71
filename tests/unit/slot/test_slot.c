/* Unit tests for slot: CRC16 (XMODEM) and Redis Cluster's hash tag rules,
 * checked against the values Redis documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slot.h"

#define S(s) (s), (sizeof(s) - 1)

static void test_crc16_reference(void **state)
{
    (void)state;
    /* The check value in the Redis Cluster specification. */
    assert_int_equal(slot_crc16(S("123456789")), 0x31C3);
    assert_int_equal(slot_crc16(S("")), 0);
}

static void test_known_slots(void **state)
{
    (void)state;
    assert_int_equal(slot_of(S("foo")), 12182);
    assert_int_equal(slot_of(S("bar")), 5061);
    assert_int_equal(slot_of(S("hello")), 866);
    assert_int_equal(slot_of(S("123456789")), 0x31C3 & 16383);
    assert_int_equal(slot_of(S("")), 0);
}

static void test_hash_tags(void **state)
{
    (void)state;
    unsigned a = slot_of(S("{user1000}.following"));
    assert_int_equal(a, slot_of(S("{user1000}.followers")));
    assert_int_equal(a, slot_of(S("user1000")));
    /* "foo{}{bar}": the first {} is empty, so the whole key is hashed */
    assert_int_equal(slot_of(S("foo{}{bar}")), slot_crc16(S("foo{}{bar}")) & 16383);
    /* "foo{{bar}}zap": the tag is "{bar" */
    assert_int_equal(slot_of(S("foo{{bar}}zap")), slot_crc16(S("{bar")) & 16383);
    /* "foo{bar}{zap}": only the first tag counts */
    assert_int_equal(slot_of(S("foo{bar}{zap}")), slot_of(S("bar")));
    /* an opening brace with no closing one: whole key */
    assert_int_equal(slot_of(S("foo{bar")), slot_crc16(S("foo{bar")) & 16383);
    assert_int_equal(slot_of(S("}foo{bar}")), slot_of(S("bar")));
    assert_int_equal(slot_of(S("{}")), slot_crc16(S("{}")) & 16383);
}

static void test_binary_keys(void **state)
{
    (void)state;
    const char k[] = {'a', 0, '{', 'x', 0, '}', 'b'};
    const char tag[] = {'x', 0};
    assert_int_equal(slot_of(k, sizeof k), slot_crc16(tag, sizeof tag) & 16383);
    for (unsigned i = 0; i < 1000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "key:%u", i);
        assert_true(slot_of(buf, (size_t)n) < SLOT_COUNT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_reference),
        cmocka_unit_test(test_known_slots),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_binary_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

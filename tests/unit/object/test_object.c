/* Unit tests for the object module's COPY and OBJECT ENCODING support
 * (server/object.c): obj_dup makes a deep copy of every type, with the same
 * contents and memory account and nothing shared; obj_encoding_name maps
 * each representation to Redis 7.0's name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "object.h"
#include "t_common.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

static obj_t raw_string(const char *s)
{
    return obj_make_str(s, strlen(s));
}

static void test_string_encodings_and_dup(void **state)
{
    (void)state;
    obj_t i = {.type = OBJ_STRING, .enc = ENC_INT, .v.i = -42}, d;
    assert_string_equal(obj_encoding_name(&i), "int");
    obj_dup(&i, &d);
    assert_int_equal(d.enc, ENC_INT);
    assert_int_equal(d.v.i, -42);

    char b44[45], b45[46];
    memset(b44, 'x', 44), b44[44] = '\0';
    memset(b45, 'x', 45), b45[45] = '\0';
    obj_t s44 = raw_string(b44), s45 = raw_string(b45), empty = raw_string("");
    assert_string_equal(obj_encoding_name(&s44), "embstr");
    assert_string_equal(obj_encoding_name(&s45), "raw");
    obj_dup(&s45, &d);
    assert_ptr_not_equal(d.v.p, s45.v.p);
    assert_memory_equal(d.v.p, b45, 45);
    assert_int_equal(obj_mem(&d), obj_mem(&s45));
    obj_free(&d);
    obj_dup(&empty, &d);
    assert_int_equal(obj_slen(&d), 0);
    obj_free(&d);
    obj_free(&s44);
    obj_free(&s45);
    obj_free(&empty);
}

static void test_list_dup(void **state)
{
    (void)state;
    obj_t l = obj_make(OBJ_LIST, list_new()), d;
    char k[32];
    for (int i = 0; i < 1000; i++)
        list_push(l.v.ptr, LIST_TAIL, k, (size_t)snprintf(k, sizeof k, "e%d", i));
    assert_string_equal(obj_encoding_name(&l), "quicklist");
    obj_dup(&l, &d);
    assert_ptr_not_equal(d.v.ptr, l.v.ptr);
    assert_int_equal(list_len(d.v.ptr), 1000);
    for (size_t i = 0; i < 1000; i++) {
        sv_t a = list_at(l.v.ptr, i), b = list_at(d.v.ptr, i);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.p, b.p, a.len);
        assert_ptr_not_equal(a.p, b.p);
    }
    list_push(d.v.ptr, LIST_HEAD, "new", 3);
    assert_int_equal(list_len(l.v.ptr), 1000);
    obj_free(&d);
    obj_free(&l);
}

static void test_hash_dup_and_encodings(void **state)
{
    (void)state;
    obj_t h = obj_make(OBJ_HASH, hash_new()), d;
    char f[32], v[32];
    hash_t *hp = h.v.ptr;
    hash_set(&hp, "a", 1, "1", 1);
    h.v.ptr = hp;
    assert_string_equal(obj_encoding_name(&h), "listpack");
    for (int i = 0; i < HASH_SMALL_ENTRIES * 2; i++)
        hash_set(&hp, f, (size_t)snprintf(f, sizeof f, "f%d", i), v,
                 (size_t)snprintf(v, sizeof v, "v%d", i));
    h.v.ptr = hp;
    assert_string_equal(obj_encoding_name(&h), "hashtable");
    obj_dup(&h, &d);
    assert_string_equal(obj_encoding_name(&d), "hashtable");
    assert_int_equal(hash_len(d.v.ptr), hash_len(h.v.ptr));
    sv_t e;
    assert_true(hash_get(d.v.ptr, "f7", 2, &e));
    assert_memory_equal(e.p, "v7", 2);
    hash_del(&hp, "f7", 2);
    h.v.ptr = hp;
    assert_true(hash_get(d.v.ptr, "f7", 2, NULL));
    obj_free(&d);
    obj_free(&h);
}

static void test_set_dup_and_encodings(void **state)
{
    (void)state;
    obj_t s = obj_make(OBJ_SET, set_new()), d;
    set_add(s.v.ptr, "1", 1);
    set_add(s.v.ptr, "2", 1);
    assert_string_equal(obj_encoding_name(&s), "intset");
    obj_dup(&s, &d);
    assert_string_equal(obj_encoding_name(&d), "intset");
    assert_true(set_has(d.v.ptr, "2", 1));
    obj_free(&d);
    set_add(s.v.ptr, "x", 1);
    assert_string_equal(obj_encoding_name(&s), "hashtable");
    obj_dup(&s, &d);
    assert_int_equal(set_len(d.v.ptr), 3);
    assert_true(set_has(d.v.ptr, "x", 1) && set_has(d.v.ptr, "1", 1));
    set_remove(s.v.ptr, "x", 1);
    assert_true(set_has(d.v.ptr, "x", 1));
    obj_free(&d);
    obj_free(&s);
}

static void test_zset_dup_keeps_order_and_scores(void **state)
{
    (void)state;
    obj_t z = obj_make(OBJ_ZSET, zset_new()), d;
    zset_insert(z.v.ptr, "b", 1, 2.5);
    zset_insert(z.v.ptr, "a", 1, -1);
    assert_string_equal(obj_encoding_name(&z), "listpack");
    char big[100];
    memset(big, 'm', sizeof big);
    zset_insert(z.v.ptr, big, sizeof big, 0.0);
    assert_string_equal(obj_encoding_name(&z), "skiplist");
    zset_insert(z.v.ptr, "negzero", 7, -0.0); /* kept as -0 once big */
    obj_dup(&z, &d);
    assert_string_equal(obj_encoding_name(&d), "skiplist");
    assert_int_equal(zset_len(d.v.ptr), 4);
    znode_t *x = zset_first(z.v.ptr), *y = zset_first(d.v.ptr);
    for (; x; x = zn_next(x), y = zn_next(y)) {
        assert_non_null(y);
        assert_memory_equal(&x->score, &y->score, sizeof x->score); /* -0 stays -0 */
        assert_int_equal(zn_member(x).len, zn_member(y).len);
        assert_memory_equal(zn_member(x).p, zn_member(y).p, zn_member(x).len);
    }
    assert_null(y);
    obj_free(&d);
    obj_free(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_encodings_and_dup),
        cmocka_unit_test(test_list_dup),
        cmocka_unit_test(test_hash_dup_and_encodings),
        cmocka_unit_test(test_set_dup_and_encodings),
        cmocka_unit_test(test_zset_dup_keeps_order_and_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for rdb (server/rdb.h): Redis's CRC-64 check value, lengths and
 * strings in every encoding, doubles, the DUMP frame, the blob walkers on
 * good and corrupt blobs, and payloads taken from redis-server 7.0.15 (DUMP
 * of HSET h f v n 12; SADD si 1 2 3 -5; ZADD z 1 a 2.5 b; RPUSH l a 1 -3
 * 300 70000 2^40 x*70, whose listpack node is LZF-compressed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_stream.h"
#include "t_zset.h"

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void test_crc64(void **state)
{
    (void)state;
    assert_true(rdb_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    assert_true(rdb_crc64(0, "", 0) == 0);
    /* incremental == whole */
    uint64_t c = rdb_crc64(0, "1234", 4);
    assert_true(rdb_crc64(c, "56789", 5) == 0xe9c6d914c4b8d9caULL);
}

static void test_lengths(void **state)
{
    (void)state;
    static const uint64_t v[] = {0, 1, 63, 64, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                 UINT64_MAX};
    static const size_t sz[] = {1, 1, 1, 2, 2, 5, 5, 9, 9};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        buf_t b;
        buf_init(&b);
        rdb_put_len(&b, v[i]);
        assert_int_equal(b.len, sz[i]);
        rdb_reader_t r = rdb_reader((const unsigned char *)b.data, b.len);
        uint64_t got;
        assert_int_equal(rdb_get_len(&r, &got), 0);
        assert_true(got == v[i]);
        assert_true(rdb_at_end(&r));
        /* every truncation fails */
        for (size_t n = 0; n < b.len; n++) {
            rdb_reader_t t = rdb_reader((const unsigned char *)b.data, n);
            assert_int_equal(rdb_get_len(&t, &got), -1);
        }
        buf_free(&b);
    }
}

static void roundtrip(const char *s, size_t n, size_t want_len, int first_byte)
{
    buf_t b, out;
    buf_init(&b);
    buf_init(&out);
    rdb_put_string(&b, s, n);
    if (want_len)
        assert_int_equal(b.len, want_len);
    if (first_byte >= 0)
        assert_int_equal((unsigned char)b.data[0], first_byte);
    rdb_reader_t r = rdb_reader((const unsigned char *)b.data, b.len);
    assert_int_equal(rdb_get_string(&r, &out), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data ? out.data : "", s, n);
    assert_true(rdb_at_end(&r));
    for (size_t k = 0; k < b.len; k++) {
        rdb_reader_t t = rdb_reader((const unsigned char *)b.data, k);
        assert_int_equal(rdb_get_string(&t, &out), -1);
    }
    buf_free(&b);
    buf_free(&out);
}

static void test_strings(void **state)
{
    (void)state;
    roundtrip("12", 2, 2, 0xc0);           /* int8 */
    roundtrip("-128", 4, 2, 0xc0);
    roundtrip("12345", 5, 3, 0xc1);        /* int16 */
    roundtrip("-70000", 6, 5, 0xc2);       /* int32 */
    roundtrip("2147483648", 10, 11, 10);   /* past 32 bits: plain */
    roundtrip("007", 3, 4, 3);             /* not canonical: plain */
    roundtrip("", 0, 1, 0);
    char big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = "abcdefgh"[i % 8];
    roundtrip(big, sizeof big, 0, 0xc3); /* LZF */
    char rnd[100];
    unsigned x = 12345;
    for (int i = 0; i < 100; i++) {
        x = x * 1103515245 + 12345;
        rnd[i] = (char)(x >> 16);
    }
    roundtrip(rnd, sizeof rnd, 102, 0x40); /* incompressible: plain, 14-bit length */
}

static void test_lzf_bounds(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
    /* claims 256 MiB from 2 compressed bytes: refused before allocating */
    static const unsigned char a[] = {0xc3, 0x02, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 'a'};
    rdb_reader_t r = rdb_reader(a, sizeof a);
    assert_int_equal(rdb_get_string(&r, &out), -1);
    assert_true(out.cap < 1024);
    /* a wrong decompressed length */
    buf_t b;
    buf_init(&b);
    char s[200];
    memset(s, 'z', sizeof s);
    rdb_put_string(&b, s, sizeof s);
    assert_int_equal((unsigned char)b.data[0], 0xc3);
    b.data[b.data[1] & 0x40 ? 3 : 2] ^= 1; /* the original length (after the compressed one) */
    rdb_reader_t t = rdb_reader((const unsigned char *)b.data, b.len);
    assert_int_equal(rdb_get_string(&t, &out), -1);
    /* the payload's budget for expanded LZF strings */
    b.data[b.data[1] & 0x40 ? 3 : 2] ^= 1;
    rdb_reader_t u = rdb_reader(b.data, b.len);
    assert_int_equal(rdb_get_string(&u, &out), 0);
    assert_true(u.inflated == 200);
    u = rdb_reader(b.data, b.len);
    u.inflated = RDB_INFLATE_MAX - 199;
    assert_int_equal(rdb_get_string(&u, &out), -1);
    buf_free(&b);
    buf_free(&out);
}

static void test_doubles(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    rdb_put_double_bin(&b, 2.5);
    assert_memory_equal(b.data, "\x00\x00\x00\x00\x00\x00\x04\x40", 8);
    rdb_reader_t r = rdb_reader((const unsigned char *)b.data, b.len);
    double d;
    assert_int_equal(rdb_get_double_bin(&r, &d), 0);
    assert_true(d == 2.5);
    static const unsigned char t[] = {3, '1', '.', '5', 253, 254, 255, 2, '1', 'x'};
    rdb_reader_t q = rdb_reader(t, sizeof t);
    assert_int_equal(rdb_get_double_text(&q, &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(rdb_get_double_text(&q, &d), 0);
    assert_true(isnan(d));
    assert_int_equal(rdb_get_double_text(&q, &d), 0);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(rdb_get_double_text(&q, &d), 0);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(rdb_get_double_text(&q, &d), -1); /* "1x" */
    buf_free(&b);
}

static void test_frame(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    rdb_put_type(&b, RDB_TYPE_STRING);
    rdb_put_string(&b, "v", 1);
    rdb_put_frame(&b);
    assert_int_equal(b.len, 3 + 10);
    rdb_reader_t r;
    assert_int_equal(rdb_check_frame(b.data, b.len, &r), 0);
    assert_int_equal(r.len, 3);
    b.data[5] ^= 1; /* the CRC */
    assert_int_equal(rdb_check_frame(b.data, b.len, &r), -1);
    assert_int_equal(rdb_check_frame(b.data, 9, &r), -1);
    buf_free(&b);
}

static int count_cb(void *arg, const rdb_elem_t *e)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

static void test_blobs(void **state)
{
    (void)state;
    unsigned char lp[64], zl[64], is[64];
    int n = 0;
    size_t cnt;
    /* listpack "f" "v" "n" 12 (from the hash payload below) */
    size_t lpn = unhex("120000000400816602817602816e020c01ff", lp);
    assert_int_equal(rdb_listpack_walk(lp, lpn, count_cb, &n, &cnt), 0);
    assert_int_equal(n, 4);
    assert_int_equal(cnt, 4);
    lp[8] ^= 0x01; /* a back length */
    n = 0;
    assert_int_equal(rdb_listpack_walk(lp, lpn, count_cb, &n, &cnt), -1);
    assert_int_equal(n, 0); /* nothing handed out from a corrupt blob */
    lp[8] ^= 0x01;
    lp[4] = 5; /* the count */
    assert_int_equal(rdb_listpack_walk(lp, lpn, NULL, NULL, &cnt), -1);
    /* ziplist "a" 5 */
    static const unsigned char z[] = {16, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 1, 'a', 3, 0xf6, 0xff};
    memcpy(zl, z, sizeof z);
    assert_int_equal(rdb_ziplist_walk(zl, sizeof z, NULL, NULL, &cnt), 0);
    assert_int_equal(cnt, 2);
    zl[13] = 2; /* the second entry's previous length */
    assert_int_equal(rdb_ziplist_walk(zl, sizeof z, NULL, NULL, &cnt), -1);
    zl[13] = 3;
    zl[4] = 11; /* the tail offset */
    assert_int_equal(rdb_ziplist_walk(zl, sizeof z, NULL, NULL, &cnt), -1);
    /* intset 1 2 3 -5 (sorted: -5 1 2 3) */
    size_t isn = unhex("0200000004000000fbff010002000300", is);
    assert_int_equal(rdb_intset_walk(is, isn, NULL, NULL, &cnt), 0);
    assert_int_equal(cnt, 4);
    is[8] = 0x05; /* 5 before 1: unsorted */
    is[9] = 0x00;
    assert_int_equal(rdb_intset_walk(is, isn, NULL, NULL, &cnt), -1);
    assert_int_equal(rdb_intset_walk(is, isn - 1, NULL, NULL, &cnt), -1);
}

static obj_t restore_hex(const char *hex)
{
    unsigned char p[512];
    size_t n = unhex(hex, p);
    obj_t o;
    assert_int_equal(rdb_restore_object(p, n, &o), 0);
    /* any flipped byte breaks the frame */
    p[n / 2] ^= 0x10;
    obj_t x;
    assert_int_equal(rdb_restore_object(p, n, &x), -1);
    return o;
}

static void test_redis_payloads(void **state)
{
    (void)state;
    obj_t h = restore_hex("1012120000000400816602817602816e020c01ff0a0001369481d35b8974");
    assert_int_equal(h.type, OBJ_HASH);
    assert_int_equal(hash_len(h.v.ptr), 2);
    sv_t f;
    assert_true(hash_get(h.v.ptr, "n", 1, &f));
    assert_memory_equal(f.p, "12", 2);
    obj_free(&h);

    obj_t s = restore_hex("0b100200000004000000fbff0100020003000a00c8e4dfb66f7396f0");
    assert_int_equal(s.type, OBJ_SET);
    assert_int_equal(set_len(s.v.ptr), 4);
    assert_true(set_has(s.v.ptr, "-5", 2));
    obj_free(&s);

    obj_t z = restore_hex("1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7");
    assert_int_equal(z.type, OBJ_ZSET);
    znode_t *x = zset_find(z.v.ptr, "b", 1);
    assert_non_null(x);
    assert_true(x->score == 2.5);
    obj_free(&z);

    obj_t l = restore_hex("120102c32a406a166a00000007008161020101dffd02c12c02f270110104f42015080000"
                          "01000009e04678e03c000148ff0a008e92ab1f027cdd14");
    assert_int_equal(l.type, OBJ_LIST);
    assert_int_equal(list_len(l.v.ptr), 7);
    sv_t e = list_at(l.v.ptr, 5);
    assert_int_equal(e.len, 13);
    assert_memory_equal(e.p, "1099511627776", 13);
    obj_free(&l);

    /* a round trip of what was read */
    obj_t z2 = restore_hex("1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7");
    buf_t b;
    buf_init(&b);
    assert_int_equal(rdb_dump_object(&b, &z2), 0);
    obj_t z3;
    assert_int_equal(rdb_restore_object(b.data, b.len, &z3), 0);
    assert_int_equal(zset_len(z3.v.ptr), 2);
    obj_free(&z2);
    obj_free(&z3);
    buf_free(&b);
}

/* Streams: a writer/reader round trip (entries with the master's fields
 * and others, values long enough for the listpack's 12- and 32-bit string
 * lengths and multi-byte back-lengths, a deleted entry, groups with a PEL
 * and consumers), then every truncated prefix refused without a crash. */
static void test_streams(void **state)
{
    (void)state;
    stream_t *s = stream_new();
    char big[5000];
    memset(big, 'q', sizeof big);
    for (uint64_t i = 1; i <= 300; i++) {
        char num[24];
        int n = snprintf(num, sizeof num, "%llu", (unsigned long long)i);
        sv_t fv[4] = {{"f", 1}, {num, (size_t)n}, {"g", 1}, {big, i % 50 == 0 ? sizeof big : 200}};
        if (i % 7 == 0)
            fv[2] = (sv_t){"other", 5};
        stream_append(s, (sid_t){i, 1}, fv, 2, 100, 4096);
    }
    assert_int_equal(stream_delete(s, (sid_t){10, 1}), 1);
    s->max_deleted_id = (sid_t){10, 1};
    scgroup_t *g = stream_group_create(s, (sv_t){"grp", 3}, (sid_t){5, 1}, 5);
    sconsumer_t *alice = stream_consumer_create(s, g, (sv_t){"alice", 5}, 1000);
    sconsumer_t *bob = stream_consumer_create(s, g, (sv_t){"bob", 3}, 2000);
    stream_pel_add(s, g, alice, (sid_t){2, 1}, 111)->delivery_count = 3;
    stream_pel_add(s, g, bob, (sid_t){4, 1}, 222);
    stream_group_create(s, (sv_t){"empty", 5}, (sid_t){300, 1}, -1);
    obj_t o = obj_make(OBJ_STREAM, s), back;
    buf_t b;
    buf_init(&b);
    assert_int_equal(rdb_save_object(&b, &o), 0);
    rdb_reader_t r = rdb_reader(b.data, b.len);
    assert_int_equal(rdb_load_object(&r, &back), 0);
    assert_true(rdb_at_end(&r));
    const stream_t *t = back.v.ptr;
    assert_int_equal(t->length, 299);
    assert_int_equal(t->entries_added, s->entries_added);
    assert_true(sid_cmp(t->last_id, s->last_id) == 0);
    assert_true(sid_cmp(t->max_deleted_id, s->max_deleted_id) == 0);
    stream_iter_t *a = malloc(sizeof *a), *c = malloc(sizeof *c);
    sid_t lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, ia, ic;
    uint64_t na, nc;
    stream_iter_start(a, s, lo, hi, 0);
    stream_iter_start(c, t, lo, hi, 0);
    size_t seen = 0;
    while (stream_iter_next(a, &ia, &na)) {
        assert_true(stream_iter_next(c, &ic, &nc));
        assert_true(sid_cmp(ia, ic) == 0);
        assert_int_equal(na, nc);
        sv_t fa, va, fc, vc;
        while (stream_iter_field(a, &fa, &va)) {
            assert_true(stream_iter_field(c, &fc, &vc));
            assert_true(fa.len == fc.len && memcmp(fa.p, fc.p, fa.len) == 0);
            assert_true(va.len == vc.len && memcmp(va.p, vc.p, va.len) == 0);
        }
        seen++;
    }
    assert_false(stream_iter_next(c, &ic, &nc));
    assert_int_equal(seen, 299);
    free(a);
    free(c);
    assert_int_equal(t->ngroups, 2);
    const scgroup_t *tg = stream_group_find(t, (sv_t){"grp", 3});
    assert_non_null(tg);
    assert_int_equal(tg->npel, 2);
    assert_int_equal(tg->entries_read, 5);
    assert_int_equal(tg->pel[0]->delivery_count, 3);
    assert_int_equal(tg->pel[0]->delivery_time, 111);
    assert_int_equal(tg->nconsumers, 2);
    assert_int_equal(tg->consumers[1]->seen_time, 2000);
    assert_string_equal(tg->pel[1]->consumer->name, "bob");
    obj_free(&back);
    /* every truncated prefix is refused */
    for (size_t cut = 0; cut < b.len; cut += (cut < 400 ? 1 : 37)) {
        rdb_reader_t tr = rdb_reader(b.data, cut);
        obj_t x;
        assert_int_equal(rdb_load_object(&tr, &x), -1);
    }
    buf_free(&b);
    obj_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc64),   cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_strings), cmocka_unit_test(test_lzf_bounds),
        cmocka_unit_test(test_doubles), cmocka_unit_test(test_frame),
        cmocka_unit_test(test_blobs),   cmocka_unit_test(test_redis_payloads),
        cmocka_unit_test(test_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

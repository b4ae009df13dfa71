/* Unit tests for server/geohash.c: scores, positions, GEOHASH strings and
 * distances checked against redis-server 7.0's replies for the same points
 * (GEOADD then ZSCORE / GEOPOS / GEOHASH / GEODIST), neighbours and their
 * wrap-around, the step estimate, and that a search's cells hold the points
 * inside its area. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geohash.h"

/* GEOADD's point -> the score, GEOPOS's two strings, GEOHASH's string. */
static const struct vec {
    double lon, lat;
    double score;
    const char *pos_lon, *pos_lat, *hash;
} VECS[] = {
    {13.361389, 38.115556, 3479099956230698.0, "13.36138933897018433", "38.11555639549629859",
     "sqc8b49rny0"},
    {15.087269, 37.502669, 3479447370796909.0, "15.08726745843887329", "37.50266842333162032",
     "sqdtr74hyu0"},
    {0, 0, 3377699720527872.0, "0.00000268220901489", "0.00000126736058093", "s0000000000"},
    {180, 85.05112878, 13510798882111488.0, "180", "85.0511287799999991", "bp05b5048p0"},
    {-180, -85.05112878, 0.0, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"},
};

/* A coordinate as GEOPOS prints it (cmd_geo.c's reply_coord). */
static void human(char *buf, size_t n, double d)
{
    int len = snprintf(buf, n, "%.17Lf", (long double)d);
    while (len > 0 && buf[len - 1] == '0')
        len--;
    if (len > 0 && buf[len - 1] == '.')
        len--;
    buf[len] = '\0';
}

static void test_encode_decode_strings(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VECS / sizeof *VECS; i++) {
        const struct vec *v = &VECS[i];
        char buf[64], hash[12] = {0};
        double lon, lat;

        assert_true(geo_lonlat_valid(v->lon, v->lat));
        assert_true(geo_score_encode(v->lon, v->lat) == v->score);
        geo_score_decode(v->score, &lon, &lat);
        human(buf, sizeof buf, lon);
        assert_string_equal(buf, v->pos_lon);
        human(buf, sizeof buf, lat);
        assert_string_equal(buf, v->pos_lat);
        geo_score_string(v->score, hash);
        assert_string_equal(hash, v->hash);
        /* re-encoding the decoded point gives the same score back */
        assert_true(geo_score_encode(lon, lat) == v->score);
    }
}

static void test_limits(void **state)
{
    (void)state;
    geohash_t h = {7, 3};
    assert_false(geo_lonlat_valid(180.0001, 0));
    assert_false(geo_lonlat_valid(0, 85.06));
    assert_false(geo_lonlat_valid(0, -85.06));
    assert_false(geo_lonlat_valid(NAN, 0));
    assert_false(geohash_encode_wgs84(0, 90, 26, &h));
    assert_int_equal(h.bits, 7); /* untouched on failure */
    assert_false(geohash_encode_wgs84(0, 0, 0, &h));
    assert_false(geohash_encode_wgs84(0, 0, 33, &h));
    /* scores ZADD may set, decoded as redis-server 7.0 decodes them */
    double lon, lat;
    char buf[64];
    geo_score_decode(-1, &lon, &lat);
    assert_true(lon == 180 && lat == GEO_LAT_MAX);
    geo_score_decode(1e20, &lon, &lat);
    human(buf, sizeof buf, lon);
    assert_string_equal(buf, "-179.99999731779098511");
}

static void test_distance(void **state)
{
    (void)state;
    double lon1, lat1, lon2, lat2;
    char buf[64];

    /* GEODIST Sicily Palermo Catania: 166274.1516 m */
    geo_score_decode(VECS[0].score, &lon1, &lat1);
    geo_score_decode(VECS[1].score, &lon2, &lat2);
    snprintf(buf, sizeof buf, "%.4f", geo_distance(lon1, lat1, lon2, lat2));
    assert_string_equal(buf, "166274.1516");
    assert_true(geo_distance(lon1, lat1, lon2, lat2) == geo_distance(lon2, lat2, lon1, lat1));
    assert_true(geo_distance(lon1, lat1, lon1, lat1) == 0);
    /* same meridian: the latitude distance */
    assert_true(geo_distance(10, 20, 10, 30) == geo_lat_distance(20, 30));
    snprintf(buf, sizeof buf, "%.4f", geo_lat_distance(0, 1));
    assert_string_equal(buf, "111226.3000");
    /* half the equator */
    assert_true(fabs(geo_distance(0, 0, 180, 0) - M_PI * GEO_EARTH_RADIUS_M) < 1e-6);
}

static void test_neighbors(void **state)
{
    (void)state;
    geohash_t h, nb[8];
    geo_area_t c, a;

    assert_true(geohash_encode_wgs84(13.361389, 38.115556, 10, &h));
    geohash_neighbors(h, nb);
    geohash_decode_wgs84(h, &c);
    geohash_decode_wgs84(nb[GEO_N], &a);
    assert_true(a.lat.min == c.lat.max && a.lon.min == c.lon.min);
    geohash_decode_wgs84(nb[GEO_S], &a);
    assert_true(a.lat.max == c.lat.min && a.lon.min == c.lon.min);
    geohash_decode_wgs84(nb[GEO_E], &a);
    assert_true(a.lon.min == c.lon.max && a.lat.min == c.lat.min);
    geohash_decode_wgs84(nb[GEO_W], &a);
    assert_true(a.lon.max == c.lon.min && a.lat.min == c.lat.min);
    geohash_decode_wgs84(nb[GEO_NE], &a);
    assert_true(a.lat.min == c.lat.max && a.lon.min == c.lon.max);
    geohash_decode_wgs84(nb[GEO_SW], &a);
    assert_true(a.lat.max == c.lat.min && a.lon.max == c.lon.min);
    for (int i = 0; i < 8; i++)
        assert_int_equal(nb[i].step, 10);

    /* wrap-around: east of the last column is the first one */
    assert_true(geohash_encode_wgs84(179.99, 0, 4, &h));
    geohash_neighbors(h, nb);
    geohash_decode_wgs84(nb[GEO_E], &a);
    assert_true(a.lon.min == GEO_LONG_MIN);
    /* the south-west corner cell: number 0; its west and south wrap */
    h = (geohash_t){0, 3};
    geohash_neighbors(h, nb);
    geohash_decode_wgs84(nb[GEO_W], &a);
    assert_true(a.lon.max == GEO_LONG_MAX && a.lat.min == GEO_LAT_MIN);
    geohash_decode_wgs84(nb[GEO_S], &a);
    assert_true(a.lat.max == GEO_LAT_MAX);
    assert_int_equal(nb[GEO_N].bits, 1); /* latitude: the even bits */
    assert_int_equal(nb[GEO_E].bits, 2); /* longitude: the odd bits */
    assert_int_equal(nb[GEO_NE].bits, 3);
}

static void test_steps(void **state)
{
    (void)state;
    assert_int_equal(geohash_steps_for_radius(0, 0), 26);
    assert_int_equal(geohash_steps_for_radius(200000, 37), 6);
    assert_int_equal(geohash_steps_for_radius(200000, 70), 5);
    assert_int_equal(geohash_steps_for_radius(200000, -85), 4);
    assert_int_equal(geohash_steps_for_radius(1, 0), 24);
    assert_int_equal(geohash_steps_for_radius(0.001, 0), 26);
    assert_int_equal(geohash_steps_for_radius(1e300, 0), 1);
    assert_int_equal(geohash_steps_for_radius(INFINITY, 0), 1);
}

/* 1 when a non-none cell's score range holds score. */
static int covered(const geohash_t cells[9], double score)
{
    for (int i = 0; i < 9; i++) {
        if (!cells[i].step)
            continue;
        geohash_t next = {cells[i].bits + 1, cells[i].step};
        if (score >= (double)geohash_align52(cells[i]) && score < (double)geohash_align52(next))
            return 1;
    }
    return 0;
}

static void test_shape_cells_and_contains(void **state)
{
    (void)state;
    geohash_t cells[9];
    double d, lon, lat;
    /* GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km: both found, at
     * 190.4424 and 56.4413 km */
    geo_shape_t s = {.lon = 15, .lat = 37, .radius = 200, .conv = 1000};
    geo_shape_cells(&s, cells);
    assert_int_equal(cells[0].step, 6);
    for (int i = 0; i < 2; i++) {
        assert_true(covered(cells, VECS[i].score));
        geo_score_decode(VECS[i].score, &lon, &lat);
        assert_true(geo_shape_contains(&s, lon, lat, &d));
    }
    geo_score_decode(VECS[0].score, &lon, &lat);
    geo_shape_contains(&s, lon, lat, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%.4f", d / 1000);
    assert_string_equal(buf, "190.4424");
    s.radius = 100; /* Palermo is out */
    assert_false(geo_shape_contains(&s, lon, lat, &d));

    /* a box: width along the parallel, height along the meridian */
    geo_shape_t b = {.is_box = 1, .lon = 0, .lat = 0, .width = 200, .height = 20, .conv = 1000};
    assert_true(geo_shape_contains(&b, 0.8, 0.05, &d));
    assert_false(geo_shape_contains(&b, 0.05, 0.8, &d));
    assert_false(geo_shape_contains(&b, 0.91, 0, &d));
    geo_shape_cells(&b, cells);
    assert_true(covered(cells, geo_score_encode(0.8, 0.05)));
    assert_true(covered(cells, geo_score_encode(-0.8, -0.05)));

    /* a huge area: step 1, every point's cell walked */
    geo_shape_t w = {.lon = 0, .lat = 0, .radius = 1e300, .conv = 1000};
    geo_shape_cells(&w, cells);
    assert_int_equal(cells[0].step, 1);
    for (size_t i = 0; i < sizeof VECS / sizeof *VECS; i++)
        /* but the north-east corner: its cell numbers are 2^26, one past
         * the last cell (as in Redis, no search finds it) */
        assert_true(covered(cells, VECS[i].score) == (i != 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode_strings),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_neighbors),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_shape_cells_and_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

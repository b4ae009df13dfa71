/* geohash — see geohash.h. Written from the public descriptions of Redis's
 * GEO encoding (its command docs and geohash's definition); the numbers
 * (limits, Earth radius, the step estimate) are Redis 7.0's so that results
 * match redis-server's to the printed digit. */
#include "geohash.h"

#include <math.h>
#include <stdint.h>

static const geo_range_t LON_RANGE = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geo_range_t LAT_RANGE = {GEO_LAT_MIN, GEO_LAT_MAX};

/* The 32 bits of v spread to the even bit positions of the result. */
static uint64_t spread32(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x gathered into 32 bits (spread32's inverse). */
static uint32_t gather32(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* Latitude cell in the even bits, longitude cell in the odd ones. */
static uint64_t interleave(uint32_t lat_cell, uint32_t lon_cell)
{
    return spread32(lat_cell) | (spread32(lon_cell) << 1);
}

int geo_lonlat_valid(double lon, double lat)
{
    return lon >= GEO_LONG_MIN && lon <= GEO_LONG_MAX && lat >= GEO_LAT_MIN && lat <= GEO_LAT_MAX;
}

int geohash_encode(geo_range_t lon_r, geo_range_t lat_r, double lon, double lat, int step,
                   geohash_t *h)
{
    if (step < 1 || step > 32 || !geo_lonlat_valid(lon, lat))
        return 0;
    if (lon < lon_r.min || lon > lon_r.max || lat < lat_r.min || lat > lat_r.max)
        return 0;
    double lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    double lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    /* The cell numbers truncate toward zero; an edge point (offset 1) gets
     * the number 2^step, one past the last cell, as in Redis. */
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    h->bits = interleave((uint32_t)lat_off, (uint32_t)lon_off);
    h->step = step;
    return 1;
}

int geohash_encode_wgs84(double lon, double lat, int step, geohash_t *h)
{
    return geohash_encode(LON_RANGE, LAT_RANGE, lon, lat, step, h);
}

static void geohash_decode(geo_range_t lon_r, geo_range_t lat_r, geohash_t h, geo_area_t *a)
{
    uint32_t lat_cell = gather32(h.bits), lon_cell = gather32(h.bits >> 1);
    double cells = (double)(1ULL << h.step);
    double lat_scale = lat_r.max - lat_r.min, lon_scale = lon_r.max - lon_r.min;

    a->lat.min = lat_r.min + (lat_cell * 1.0 / cells) * lat_scale;
    a->lat.max = lat_r.min + ((lat_cell + 1.0) / cells) * lat_scale;
    a->lon.min = lon_r.min + (lon_cell * 1.0 / cells) * lon_scale;
    a->lon.max = lon_r.min + ((lon_cell + 1.0) / cells) * lon_scale;
}

void geohash_decode_wgs84(geohash_t h, geo_area_t *a)
{
    geohash_decode(LON_RANGE, LAT_RANGE, h, a);
}

static double clamp(double v, double lo, double hi)
{
    return v > hi ? hi : v < lo ? lo : v;
}

/* A score as the 64-bit number it encodes. Scores come from GEOADD, but ZADD
 * may have set any double: those are converted without undefined behaviour
 * (negative and huge values as x86's conversion gives them). */
static uint64_t score_bits(double score)
{
    if (score >= 0 && score < 18446744073709551616.0)
        return (uint64_t)score;
    if (score >= 18446744073709551616.0)
        return 0;
    if (score < 0 && score >= -9223372036854775808.0)
        return (uint64_t)(int64_t)score;
    return 0x8000000000000000ULL;
}

void geo_score_decode(double score, double *lon, double *lat)
{
    geo_area_t a;
    geohash_decode_wgs84((geohash_t){score_bits(score), GEO_STEP_MAX}, &a);
    *lon = clamp((a.lon.min + a.lon.max) / 2, GEO_LONG_MIN, GEO_LONG_MAX);
    *lat = clamp((a.lat.min + a.lat.max) / 2, GEO_LAT_MIN, GEO_LAT_MAX);
}

double geo_score_encode(double lon, double lat)
{
    geohash_t h = {0, 0};
    geohash_encode_wgs84(lon, lat, GEO_STEP_MAX, &h);
    return (double)geohash_align52(h);
}

/* Move one coordinate's cell number (odd bits: longitude, even: latitude)
 * by d cells, wrapping around modulo 2^step. */
static geohash_t move(geohash_t h, int lon, int d)
{
    uint64_t mask = h.step >= 32 ? 0xFFFFFFFFULL : (1ULL << h.step) - 1;
    uint32_t lat_cell = gather32(h.bits), lon_cell = gather32(h.bits >> 1);
    if (lon)
        lon_cell = (uint32_t)((lon_cell + (uint64_t)(int64_t)d) & mask);
    else
        lat_cell = (uint32_t)((lat_cell + (uint64_t)(int64_t)d) & mask);
    h.bits = interleave(lat_cell, lon_cell);
    return h;
}

void geohash_neighbors(geohash_t h, geohash_t out[8])
{
    out[GEO_N] = move(h, 0, 1);
    out[GEO_S] = move(h, 0, -1);
    out[GEO_E] = move(h, 1, 1);
    out[GEO_W] = move(h, 1, -1);
    out[GEO_NE] = move(out[GEO_N], 1, 1);
    out[GEO_NW] = move(out[GEO_N], 1, -1);
    out[GEO_SE] = move(out[GEO_S], 1, 1);
    out[GEO_SW] = move(out[GEO_S], 1, -1);
}

static double deg_rad(double deg)
{
    return deg * (M_PI / 180.0);
}

static double rad_deg(double rad)
{
    return rad / (M_PI / 180.0);
}

double geo_lat_distance(double lat1, double lat2)
{
    return GEO_EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double v = sin((deg_rad(lon2) - deg_rad(lon1)) / 2);
    /* same meridian: the haversine reduces to the latitude difference */
    if (v == 0.0)
        return geo_lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

void geo_score_string(double score, char out[11])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    static const geo_range_t std_lat = {-90, 90};
    double lon, lat;
    geohash_t h = {0, 0};

    geo_score_decode(score, &lon, &lat);
    geohash_encode(LON_RANGE, std_lat, lon, lat, GEO_STEP_MAX, &h);
    for (int i = 0; i < 10; i++)
        out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = '0'; /* 52 bits fill 10.4 characters: the 11th is always 0 */
}

int geohash_steps_for_radius(double radius_m, double lat)
{
    if (radius_m == 0)
        return GEO_STEP_MAX;
    int step = 1;
    while (radius_m < GEO_MERCATOR_MAX) {
        radius_m *= 2;
        step++;
    }
    step -= 2; /* a cell twice the radius or more: the 9 cells cover the area */
    /* cells narrow toward the poles */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    return step < 1 ? 1 : step > GEO_STEP_MAX ? GEO_STEP_MAX : step;
}

/* The shape's bounding box: min lon, min lat, max lon, max lat. */
static void shape_bounds(const geo_shape_t *s, double b[4])
{
    double half_h = s->conv * (s->is_box ? s->height / 2 : s->radius);
    double half_w = s->conv * (s->is_box ? s->width / 2 : s->radius);
    double lat_delta = rad_deg(half_h / GEO_EARTH_RADIUS_M);
    double lon_delta_top = rad_deg(half_w / GEO_EARTH_RADIUS_M / cos(deg_rad(s->lat + lat_delta)));
    double lon_delta_bottom =
        rad_deg(half_w / GEO_EARTH_RADIUS_M / cos(deg_rad(s->lat - lat_delta)));
    /* the wider of the two edges: the one nearer the equator */
    double lon_delta = s->lat < 0 ? lon_delta_bottom : lon_delta_top;
    b[0] = s->lon - lon_delta;
    b[1] = s->lat - lat_delta;
    b[2] = s->lon + lon_delta;
    b[3] = s->lat + lat_delta;
}

void geo_shape_cells(const geo_shape_t *s, geohash_t cells[9])
{
    double b[4];
    geohash_t h = {0, 0}, *nb = cells + 1;
    geo_area_t area, n, so, e, w;

    shape_bounds(s, b);
    /* a box's radius: from its centre to a corner */
    double radius_m = s->is_box ? sqrt((s->width / 2) * (s->width / 2) +
                                       (s->height / 2) * (s->height / 2))
                                : s->radius;
    radius_m *= s->conv;
    int steps = geohash_steps_for_radius(radius_m, s->lat);

    geohash_encode_wgs84(s->lon, s->lat, steps, &h);
    geohash_neighbors(h, nb);
    geohash_decode_wgs84(h, &area);
    /* Near a cell's edge the estimated step may leave part of the area
     * outside the 9 cells: one step coarser then. */
    geohash_decode_wgs84(nb[GEO_N], &n);
    geohash_decode_wgs84(nb[GEO_S], &so);
    geohash_decode_wgs84(nb[GEO_E], &e);
    geohash_decode_wgs84(nb[GEO_W], &w);
    int coarser = n.lat.max < b[3] || so.lat.min > b[1] || e.lon.max < b[2] || w.lon.min > b[0];
    if (steps > 1 && coarser) {
        steps--;
        geohash_encode_wgs84(s->lon, s->lat, steps, &h);
        geohash_neighbors(h, nb);
        geohash_decode_wgs84(h, &area);
    }
    cells[0] = h;
    /* Leave out the neighbours on a side the centre cell already covers. */
    if (steps >= 2) {
        static const geohash_t none = {0, 0};
        if (area.lat.min < b[1])
            nb[GEO_S] = nb[GEO_SW] = nb[GEO_SE] = none;
        if (area.lat.max > b[3])
            nb[GEO_N] = nb[GEO_NE] = nb[GEO_NW] = none;
        if (area.lon.min < b[0])
            nb[GEO_W] = nb[GEO_SW] = nb[GEO_NW] = none;
        if (area.lon.max > b[2])
            nb[GEO_E] = nb[GEO_SE] = nb[GEO_NE] = none;
    }
}

int geo_shape_contains(const geo_shape_t *s, double lon, double lat, double *dist)
{
    if (!s->is_box) {
        *dist = geo_distance(s->lon, s->lat, lon, lat);
        return !(*dist > s->radius * s->conv); /* a NaN distance is in, as in Redis */
    }
    /* the latitude test is the cheaper: first */
    if (geo_lat_distance(lat, s->lat) > s->height * s->conv / 2)
        return 0;
    if (geo_distance(lon, lat, s->lon, lat) > s->width * s->conv / 2)
        return 0;
    *dist = geo_distance(s->lon, s->lat, lon, lat);
    return 1;
}

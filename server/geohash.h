/* geohash — the 52-bit geohash that GEO commands keep as a sorted set's
 * score, as Redis 7.0 defines it: longitude in [-180, 180] and latitude in
 * Redis's Web Mercator limits [-85.05112878, 85.05112878], each cut into
 * 2^step cells; the two cell numbers are interleaved, longitude in the odd
 * bits and latitude in the even ones. Also: the cells next to a cell, the
 * haversine distance on Redis's Earth radius, the standard 11-character
 * base32 string of GEOHASH (re-encoded with latitude in [-90, 90]), and the
 * (at most 9) cells a radius or box search walks (cmd_geo.c).
 *
 * The data-structure layer: pure computation on numbers, system headers
 * only; nothing here allocates or locks. */
#ifndef PERCORE_GEOHASH_H
#define PERCORE_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26 /* 26 * 2 = 52 bits: a double holds every score exactly */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0
#define GEO_EARTH_RADIUS_M 6372797.560856
#define GEO_MERCATOR_MAX 20037726.37

/* A cell: its interleaved number and its precision (bits per coordinate).
 * A cell with step 0 is "none" (a neighbour a search leaves out). */
typedef struct geohash {
    uint64_t bits;
    int step;
} geohash_t;

typedef struct geo_range {
    double min, max;
} geo_range_t;

typedef struct geo_area {
    geo_range_t lon, lat;
} geo_area_t;

/* Encode (lon, lat) at step within the given ranges. 0 when the point is
 * outside the ranges or outside Redis's limits (then h is unchanged). */
int geohash_encode(geo_range_t lon_r, geo_range_t lat_r, double lon, double lat, int step,
                   geohash_t *h);
/* ... within Redis's ranges (the ones scores use). */
int geohash_encode_wgs84(double lon, double lat, int step, geohash_t *h);
/* The cell's bounds within Redis's ranges. */
void geohash_decode_wgs84(geohash_t h, geo_area_t *a);
/* A cell's number scaled to 52 bits: the lowest score inside it. */
static inline uint64_t geohash_align52(geohash_t h)
{
    return h.bits << (52 - 2 * h.step);
}

/* The point a score stands for: the centre of its step-26 cell, clamped to
 * Redis's limits. Any double is accepted (scores set by ZADD included). */
void geo_score_decode(double score, double *lon, double *lat);
/* The score GEOADD stores for a valid point. */
double geo_score_encode(double lon, double lat);
/* 1 when (lon, lat) is within Redis's limits (GEOADD, FROMLONLAT). */
int geo_lonlat_valid(double lon, double lat);

/* The 8 cells around h at its step, wrapping around at the range ends, in
 * Redis's order: north, south, east, west, north-east, north-west,
 * south-east, south-west. */
enum { GEO_N, GEO_S, GEO_E, GEO_W, GEO_NE, GEO_NW, GEO_SE, GEO_SW };
void geohash_neighbors(geohash_t h, geohash_t out[8]);

/* Haversine distance in metres between two points in degrees. */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Distance in metres along a meridian between two latitudes. */
double geo_lat_distance(double lat1, double lat2);

/* GEOHASH's string for a score: 11 characters of the standard base32
 * alphabet (no terminator written). */
void geo_score_string(double score, char out[11]);

/* A search area: around (lon, lat), a circle of `radius` or a box of
 * width x height, in the unit whose length in metres is `conv`. */
typedef struct geo_shape {
    int is_box;
    double lon, lat;
    double radius, width, height;
    double conv;
} geo_shape_t;

/* The step a search of radius_m metres around latitude lat starts from. */
int geohash_steps_for_radius(double radius_m, double lat);
/* The cells a search of s walks, in Redis's order: the centre's cell, then
 * its neighbours in geohash_neighbors' order; those the search leaves out
 * have step 0. */
void geo_shape_cells(const geo_shape_t *s, geohash_t cells[9]);
/* 1 when the point is inside s, its distance in metres from s's centre in
 * *dist. */
int geo_shape_contains(const geo_shape_t *s, double lon, double lat, double *dist);

#endif

/* cmd_geo — the GEO commands: GEOADD, GEODIST, GEOHASH, GEOPOS and the
 * searches GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their
 * _RO forms (one geosearch_generic). A GEO value is a sorted set whose
 * scores are 52-bit geohashes (geohash.h); GEOADD is ZADD with the scores
 * computed (zadd_command, cmd_zset.c), and a search walks the sorted set by
 * score over the (at most 9) cells geo_shape_cells picks.
 *
 * Every handler runs with its keys' partitions held (the STORE forms hold
 * their destination's too: see georadius_keys and the rows' key ranges), and
 * checks its arguments in Redis 7.0's order with Redis's error texts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "cmd_zset.h"
#include "command.h"
#include "db.h"
#include "geohash.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_zset.h"

/* A coordinate as Redis prints it: the value as a long double with 17
 * decimals, trailing zeros (and a bare point) dropped; a RESP3 double. */
static void reply_coord(cmd_ctx_t *c, double d)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.17Lf", (long double)d);
    if (n < 0 || (size_t)n >= sizeof buf) {
        reply_double(c->r, d);
        return;
    }
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
    }
    reply_double_str(c->r, buf, (size_t)n);
}

/* A distance as Redis 7.0 prints it: four decimals, a bulk string in both
 * protocols. The value times 10^4 is rounded to an integer in the current
 * rounding mode (half to even), so 0.00005 exactly in binary gives 0.0000
 * where printf's "%.4f" would round up: the two differ at such ties. */
static void reply_distance(cmd_ctx_t *c, double d)
{
    char buf[512];
    double scaled = d * 10000.0;
    int n;

    if (fabs(scaled) < 9e18) {
        long long v = llrint(scaled);
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        n = snprintf(buf, sizeof buf, "%s%llu.%04llu", v < 0 ? "-" : "", u / 10000, u % 10000);
    } else {
        n = snprintf(buf, sizeof buf, "%.4f", d);
    }
    reply_bulk(c->r, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A double argument as Redis's getDoubleFromObjectOrReply takes it (NaN
 * refused, inf accepted); on failure replies msg (NULL: ERR_NOT_FLOAT). */
static int arg_double(cmd_ctx_t *c, int i, double *out, const char *msg)
{
    if (str_to_double(c->argv[i].p, c->argv[i].len, out) != 0 || isnan(*out)) {
        reply_error(c->r, msg ? msg : ERR_NOT_FLOAT);
        return -1;
    }
    return 0;
}

/* argv[i], argv[i+1] as a longitude, latitude pair within Redis's limits. */
static int arg_lonlat(cmd_ctx_t *c, int i, double *lon, double *lat)
{
    if (arg_double(c, i, lon, NULL) != 0 || arg_double(c, i + 1, lat, NULL) != 0)
        return -1;
    if (!geo_lonlat_valid(*lon, *lat)) {
        reply_errorf(c->r, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return -1;
    }
    return 0;
}

/* A unit's length in metres, or -1 after replying the error. */
static double arg_unit(cmd_ctx_t *c, int i)
{
    static const struct {
        const char *name;
        double metres;
    } units[] = {{"m", 1}, {"km", 1000}, {"ft", 0.3048}, {"mi", 1609.34}};
    for (size_t k = 0; k < sizeof units / sizeof *units; k++)
        if (arg_is(c, i, units[k].name))
            return units[k].metres;
    reply_error(c->r, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* radius unit at argv[i]. */
static int arg_radius(cmd_ctx_t *c, int i, geo_shape_t *s)
{
    if (arg_double(c, i, &s->radius, "ERR need numeric radius") != 0)
        return -1;
    if (s->radius < 0) {
        reply_error(c->r, "ERR radius cannot be negative");
        return -1;
    }
    s->is_box = 0;
    return (s->conv = arg_unit(c, i + 1)) < 0 ? -1 : 0;
}

/* width height unit at argv[i]. */
static int arg_box(cmd_ctx_t *c, int i, geo_shape_t *s)
{
    if (arg_double(c, i, &s->width, "ERR need numeric width") != 0 ||
        arg_double(c, i + 1, &s->height, "ERR need numeric height") != 0)
        return -1;
    if (s->width < 0 || s->height < 0) {
        reply_error(c->r, "ERR height or width cannot be negative");
        return -1;
    }
    s->is_box = 1;
    return (s->conv = arg_unit(c, i + 2)) < 0 ? -1 : 0;
}

/* A member's position in a GEO sorted set; 0 when it is not a member. */
static int member_pos(const obj_t *o, sv_t m, double *lon, double *lat)
{
    znode_t *x = o ? zset_find(o->v.ptr, m.p, m.len) : NULL;
    if (x)
        geo_score_decode(x->score, lon, lat);
    return x != NULL;
}

/* ---- GEOADD GEODIST GEOHASH GEOPOS ----------------------------------------------- */

/* GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
 * Every point is checked before anything is added; then it is ZADD with each
 * point's geohash as its score (its notification, zadd, included). */
static void geoadd_command(cmd_ctx_t *c)
{
    int idx = 2, nx = 0, xx = 0;

    for (; idx < c->argc; idx++) {
        if (arg_is(c, idx, "nx"))
            nx = 1;
        else if (arg_is(c, idx, "xx"))
            xx = 1;
        else if (!arg_is(c, idx, "ch"))
            break;
    }
    if ((c->argc - idx) % 3 || (nx && xx)) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    int n = (c->argc - idx) / 3, zargc = idx + 2 * n;
    sv_t *zargv = xmalloc((size_t)zargc * sizeof *zargv);
    char(*scores)[24] = xmalloc((size_t)(n ? n : 1) * sizeof *scores);
    zargv[0] = (sv_t){"zadd", 4};
    memcpy(zargv + 1, c->argv + 1, (size_t)(idx - 1) * sizeof *zargv);
    for (int j = 0; j < n; j++) {
        double lon, lat;
        if (arg_lonlat(c, idx + 3 * j, &lon, &lat) != 0)
            goto out;
        int len = ll_to_str(scores[j], (long long)geo_score_encode(lon, lat));
        zargv[idx + 2 * j] = (sv_t){scores[j], (size_t)len};
        zargv[idx + 2 * j + 1] = c->argv[idx + 3 * j + 2];
    }
    sv_t *argv = c->argv;
    int argc = c->argc;
    c->argv = zargv;
    c->argc = zargc;
    zadd_command(c);
    c->argv = argv;
    c->argc = argc;
out:
    free(scores);
    free(zargv);
}

/* GEODIST key member1 member2 [M | KM | FT | MI] */
static void geodist_command(cmd_ctx_t *c)
{
    double to_m = 1, lon1, lat1, lon2, lat2;
    obj_t *o;

    if (c->argc == 5) {
        if ((to_m = arg_unit(c, 4)) < 0)
            return;
    } else if (c->argc > 5) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (t_lookup(c, c->argv[1], OBJ_ZSET, 0, &o) != 0)
        return;
    if (!member_pos(o, c->argv[2], &lon1, &lat1) || !member_pos(o, c->argv[3], &lon2, &lat2)) {
        reply_null(c->r);
        return;
    }
    reply_distance(c, geo_distance(lon1, lat1, lon2, lat2) / to_m);
}

/* GEOHASH key [member [member ...]] */
static void geohash_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_ZSET, 0, &o) != 0)
        return;
    reply_array(c->r, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        znode_t *x = o ? zset_find(o->v.ptr, c->argv[j].p, c->argv[j].len) : NULL;
        char s[11];
        if (!x) {
            reply_null(c->r);
            continue;
        }
        geo_score_string(x->score, s);
        reply_bulk(c->r, s, sizeof s);
    }
}

/* GEOPOS key [member [member ...]] */
static void geopos_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_ZSET, 0, &o) != 0)
        return;
    reply_array(c->r, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double lon, lat;
        if (!member_pos(o, c->argv[j], &lon, &lat)) {
            reply_null_array(c->r);
            continue;
        }
        reply_array(c->r, 2);
        reply_coord(c, lon);
        reply_coord(c, lat);
    }
}

/* ---- the searches ------------------------------------------------------------------ */

typedef struct geo_point {
    double lon, lat, dist, score;
    sv_t member; /* points into the source sorted set */
} geo_point_t;

typedef struct geo_found {
    geo_point_t *p;
    size_t n, cap;
} geo_found_t;

/* Append the members of one cell that are inside s; stop once limit (0: no
 * limit) points were found. */
static void search_cell(const zset_t *z, geohash_t cell, const geo_shape_t *s, geo_found_t *f,
                        size_t limit)
{
    geohash_t next = {cell.bits + 1, cell.step};
    zrange_spec_t r = {(double)geohash_align52(cell), (double)geohash_align52(next), 0, 1};

    for (znode_t *x = zset_first_in_score(z, &r); x && zscore_lte_max(x->score, &r);
         x = zn_next(x)) {
        geo_point_t p = {.score = x->score, .member = zn_member(x)};
        geo_score_decode(x->score, &p.lon, &p.lat);
        if (geo_shape_contains(s, p.lon, p.lat, &p.dist)) {
            if (f->n == f->cap) {
                f->cap = f->cap ? f->cap * 2 : 16;
                f->p = xrealloc(f->p, f->cap * sizeof *f->p);
            }
            f->p[f->n++] = p;
        }
        if (f->n && limit && f->n >= limit)
            return;
    }
}

/* Every member inside s, cell by cell in geo_shape_cells' order. A huge
 * area gives the same cell more than once: a cell equal to the last one
 * walked is skipped (as Redis, the centre cell is never compared with). */
static void search_all(const zset_t *z, const geo_shape_t *s, geo_found_t *f, size_t limit)
{
    geohash_t cells[9];
    int last = 0;

    geo_shape_cells(s, cells);
    for (int i = 0; i < 9; i++) {
        if (cells[i].step == 0)
            continue;
        if (last != 0 && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step)
            continue;
        if (f->n && limit && f->n >= limit)
            break;
        search_cell(z, cells[i], s, f, limit);
        last = i;
    }
}

static int by_dist_asc(const void *a, const void *b)
{
    double x = ((const geo_point_t *)a)->dist, y = ((const geo_point_t *)b)->dist;
    return x > y ? 1 : x == y ? 0 : -1;
}

static int by_dist_desc(const void *a, const void *b)
{
    return -by_dist_asc(a, b);
}

/* ---- the nearest COUNT: a partial sort ----------------------------------------------
 * Redis sorts a search's points with the libc's qsort when it replies them
 * all, but with a partial quicksort when COUNT keeps fewer: Bentley and
 * McIlroy's three-way partitioning quicksort ("Engineering a Sort Function",
 * 1993: median of three, or of three medians of three past 40 elements;
 * insertion sort under 7; keys equal to the pivot gathered at both ends and
 * swapped to the middle) that only descends into the parts overlapping the
 * ranks kept. Points at equal distances come out in the order that
 * algorithm leaves them, so it is followed step by step here. */

static int psort_cmp(const geo_point_t *p, long i, long j, int desc)
{
    int c = by_dist_asc(&p[i], &p[j]);
    return desc ? -c : c;
}

static void psort_swap(geo_point_t *p, long i, long j)
{
    geo_point_t t = p[i];
    p[i] = p[j];
    p[j] = t;
}

static long psort_med3(const geo_point_t *p, long a, long b, long c, int desc)
{
    if (psort_cmp(p, a, b, desc) < 0)
        return psort_cmp(p, b, c, desc) < 0 ? b : psort_cmp(p, a, c, desc) < 0 ? c : a;
    return psort_cmp(p, b, c, desc) > 0 ? b : psort_cmp(p, a, c, desc) < 0 ? a : c;
}

/* Sort p[a .. a+n-1] enough that the ranks lo..hi (absolute indexes) hold
 * what a full sort puts there. */
static void psort(geo_point_t *p, long a, long n, int desc, long lo, long hi)
{
    for (;;) {
        if (n < 7) {
            for (long m = a + 1; m < a + n; m++)
                for (long l = m; l > a && psort_cmp(p, l - 1, l, desc) > 0; l--)
                    psort_swap(p, l, l - 1);
            return;
        }
        long m = a + n / 2;
        if (n > 7) {
            long l = a, r = a + n - 1;
            if (n > 40) {
                long d = n / 8;
                l = psort_med3(p, l, l + d, l + 2 * d, desc);
                m = psort_med3(p, m - d, m, m + d, desc);
                r = psort_med3(p, r - 2 * d, r - d, r, desc);
            }
            m = psort_med3(p, l, m, r, desc);
        }
        psort_swap(p, a, m); /* the pivot at a */
        long pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
        for (;;) {
            int c;
            while (pb <= pc && (c = psort_cmp(p, pb, a, desc)) <= 0) {
                if (c == 0)
                    psort_swap(p, pa++, pb);
                pb++;
            }
            while (pb <= pc && (c = psort_cmp(p, pc, a, desc)) >= 0) {
                if (c == 0)
                    psort_swap(p, pc, pd--);
                pc--;
            }
            if (pb > pc)
                break;
            psort_swap(p, pb++, pc--);
        }
        long pn = a + n;
        long r = pa - a < pb - pa ? pa - a : pb - pa;
        for (long k = 0; k < r; k++) /* the equal keys from the left end to the middle */
            psort_swap(p, a + k, pb - r + k);
        r = pd - pc < pn - pd - 1 ? pd - pc : pn - pd - 1;
        for (long k = 0; k < r; k++) /* ... and from the right end */
            psort_swap(p, pb + k, pn - r + k);
        r = pb - pa; /* the smaller part: p[a .. a+r-1] */
        if (r > 1 && !(hi < a || lo > a + r - 1))
            psort(p, a, r, desc, lo, hi);
        r = pd - pc; /* the larger part: p[pn-r .. pn-1] */
        if (r <= 1)
            return;
        a = pn - r;
        n = r;
        if (hi < a || lo > a + n - 1)
            return;
    }
}

enum {
    GEO_FROM_COORDS = 1 << 0, /* GEORADIUS: key longitude latitude radius unit */
    GEO_FROM_MEMBER = 1 << 1, /* GEORADIUSBYMEMBER: key member radius unit */
    GEO_NOSTORE = 1 << 2,     /* the _RO forms */
    GEO_SEARCH = 1 << 3,      /* GEOSEARCH: key, then FROM... BY... */
    GEO_SEARCHSTORE = 1 << 4, /* GEOSEARCHSTORE: destination key, then as GEOSEARCH */
};
enum { SORT_NONE, SORT_ASC, SORT_DESC };

typedef struct geo_opts {
    int withdist, withhash, withcoord, any, sort, storedist;
    int from_member, from_lonlat, by_radius, by_box;
    long long count;
    int store_i; /* argv index of the destination, 0: none */
} geo_opts_t;

/* The options after base; 0, or -1 after replying the error. o: the source
 * (NULL: missing, FROMMEMBER is then not looked up). */
static int parse_opts(cmd_ctx_t *c, int flags, int base, const obj_t *o, geo_shape_t *s,
                      geo_opts_t *op)
{
    int search = flags & (GEO_SEARCH | GEO_SEARCHSTORE);
    for (int i = base; i < c->argc; i++) {
        int left = c->argc - i - 1;
        if (arg_is(c, i, "withdist")) {
            op->withdist = 1;
        } else if (arg_is(c, i, "withhash")) {
            op->withhash = 1;
        } else if (arg_is(c, i, "withcoord")) {
            op->withcoord = 1;
        } else if (arg_is(c, i, "any")) {
            op->any = 1;
        } else if (arg_is(c, i, "asc")) {
            op->sort = SORT_ASC;
        } else if (arg_is(c, i, "desc")) {
            op->sort = SORT_DESC;
        } else if (arg_is(c, i, "count") && left >= 1) {
            if (arg_ll(c, i + 1, &op->count, NULL) != 0)
                return -1;
            if (op->count <= 0) {
                reply_error(c->r, "ERR COUNT must be > 0");
                return -1;
            }
            i++;
        } else if (!search && !(flags & GEO_NOSTORE) && left >= 1 &&
                   (arg_is(c, i, "store") || arg_is(c, i, "storedist"))) {
            op->storedist = arg_is(c, i, "storedist");
            op->store_i = ++i;
        } else if ((flags & GEO_SEARCHSTORE) && arg_is(c, i, "storedist")) {
            op->storedist = 1;
        } else if (search && arg_is(c, i, "frommember") && left >= 1 && !op->from_lonlat) {
            op->from_member = 1;
            i++;
            if (o && !member_pos(o, c->argv[i], &s->lon, &s->lat)) {
                reply_error(c->r, "ERR could not decode requested zset member");
                return -1;
            }
        } else if (search && arg_is(c, i, "fromlonlat") && left >= 2 && !op->from_member) {
            if (arg_lonlat(c, i + 1, &s->lon, &s->lat) != 0)
                return -1;
            op->from_lonlat = 1;
            i += 2;
        } else if (search && arg_is(c, i, "byradius") && left >= 2 && !op->by_box) {
            if (arg_radius(c, i + 1, s) != 0)
                return -1;
            op->by_radius = 1;
            i += 2;
        } else if (search && arg_is(c, i, "bybox") && left >= 3 && !op->by_radius) {
            if (arg_box(c, i + 1, s) != 0)
                return -1;
            op->by_box = 1;
            i += 3;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Reply the first n points, or store them in argv[store_i]. */
static void search_result(cmd_ctx_t *c, int flags, const geo_opts_t *op, const geo_shape_t *s,
                          geo_point_t *p, size_t n)
{
    if (!op->store_i) {
        int extra = op->withdist + op->withhash + op->withcoord;
        reply_array(c->r, (long)n);
        for (size_t i = 0; i < n; i++) {
            if (extra)
                reply_array(c->r, extra + 1);
            reply_bulk(c->r, p[i].member.p, p[i].member.len);
            if (op->withdist)
                reply_distance(c, p[i].dist / s->conv);
            if (op->withhash)
                reply_int(c->r, (long long)p[i].score);
            if (op->withcoord) {
                reply_array(c->r, 2);
                reply_coord(c, p[i].lon);
                reply_coord(c, p[i].lat);
            }
        }
        return;
    }
    sv_t dst = c->argv[op->store_i];
    if (n) {
        /* built big so that every score is kept as computed, then settled
         * to Redis's encoding for its size (see zset_settle) */
        zset_t *z = zset_new();
        z->big = 1;
        for (size_t i = 0; i < n; i++)
            zset_insert(z, p[i].member.p, p[i].member.len,
                        op->storedist ? p[i].dist / s->conv : p[i].score);
        zset_settle(z);
        /* the source may be dst: its members are copied above, before it goes */
        obj_t nv = obj_make(OBJ_ZSET, z);
        db_set_obj(c, dst, &nv, 0);
        notify_key(c, NOTIFY_ZSET,
                   (flags & (GEO_SEARCH | GEO_SEARCHSTORE)) ? "geosearchstore" : "georadiusstore",
                   dst);
        c->dirty += n;
    } else {
        c->dirty += (uint64_t)db_delete_notify(c, dst);
    }
    reply_int(c->r, (long long)n);
}

/* The engine of every search. Redis 7.0's order: the source's type, the
 * centre and radius of the GEORADIUS forms, the options, the conflicts,
 * then a missing source answers (an empty array; 0 and the destination
 * deleted for a store). */
static void geosearch_generic(cmd_ctx_t *c, int src_i, int flags)
{
    geo_shape_t s = {.conv = 1};
    geo_opts_t op = {0};
    geo_found_t f = {0};
    int base;
    obj_t *o = db_lookup(c, c->argv[src_i], 0);

    if (o && o->type != OBJ_ZSET) {
        reply_error(c->r, ERR_WRONGTYPE);
        return;
    }
    if (flags & GEO_FROM_COORDS) {
        base = 6;
        if (arg_lonlat(c, 2, &s.lon, &s.lat) != 0 || arg_radius(c, 4, &s) != 0)
            return;
    } else if (flags & GEO_FROM_MEMBER) {
        base = 5;
        /* a missing source: the radius is not even parsed (Redis 7.0) */
        if (o) {
            if (!member_pos(o, c->argv[2], &s.lon, &s.lat)) {
                reply_error(c->r, "ERR could not decode requested zset member");
                return;
            }
            if (arg_radius(c, 3, &s) != 0)
                return;
        }
    } else {
        base = src_i + 1;
    }
    if (flags & GEO_SEARCHSTORE)
        op.store_i = 1;
    if (parse_opts(c, flags, base, o, &s, &op) != 0)
        return;
    if (op.store_i && (op.withdist || op.withhash || op.withcoord)) {
        reply_errorf(c->r, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & GEO_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & (GEO_SEARCH | GEO_SEARCHSTORE)) && !(op.from_member || op.from_lonlat)) {
        reply_errorf(c->r, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if ((flags & (GEO_SEARCH | GEO_SEARCHSTORE)) && !(op.by_radius || op.by_box)) {
        reply_errorf(c->r, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                     (int)c->argv[0].len, c->argv[0].p);
        return;
    }
    if (op.any && !op.count) {
        reply_error(c->r, "ERR the ANY argument requires COUNT argument");
        return;
    }
    if (!o) {
        if (op.store_i) {
            c->dirty += (uint64_t)db_delete_notify(c, c->argv[op.store_i]);
            reply_int(c->r, 0);
        } else {
            reply_array(c->r, 0);
        }
        return;
    }
    /* the nearest COUNT need the points sorted; ANY takes the first found */
    if (op.count && op.sort == SORT_NONE && !op.any)
        op.sort = SORT_ASC;
    search_all(o->v.ptr, &s, &f, op.any ? (size_t)op.count : 0);
    size_t n = op.count && (unsigned long long)op.count < f.n ? (size_t)op.count : f.n;
    if (op.sort != SORT_NONE && n == f.n)
        qsort(f.p, f.n, sizeof *f.p, op.sort == SORT_ASC ? by_dist_asc : by_dist_desc);
    else if (op.sort != SORT_NONE)
        psort(f.p, 0, (long)f.n, op.sort == SORT_DESC, 0, (long)n - 1);
    search_result(c, flags, &op, &s, f.p, n);
    free(f.p);
}

/* GEORADIUS and GEORADIUSBYMEMBER: the source (the row's lead key), then the
 * destinations of the STORE and STOREDIST options, found as the options are
 * read (COUNT's argument is skipped). The last one is written; Redis names
 * every one as a key, which a range can hold for two (first, last, step the
 * distance between them); past two, only the first and the last are named. */
static int georadius_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    int base = sv_eq_ci(argv[0], "georadius") ? 6 : 5, d0 = 0, d1 = 0;
    for (int i = base; i + 1 < argc; i++) {
        if (sv_eq_ci(argv[i], "count")) {
            i++;
        } else if (sv_eq_ci(argv[i], "store") || sv_eq_ci(argv[i], "storedist")) {
            d1 = ++i;
            if (!d0)
                d0 = d1;
        }
    }
    *first = d0;
    *last = d1;
    *step = d1 > d0 ? d1 - d0 : 1;
    return 0;
}

/* GEORADIUS key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key] */
static void georadius_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 1, GEO_FROM_COORDS);
}

/* GEORADIUSBYMEMBER key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key] */
static void georadiusbymember_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 1, GEO_FROM_MEMBER);
}

/* GEORADIUS_RO key longitude latitude radius <M | KM | FT | MI> [WITHCOORD]
 *   [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] */
static void georadius_ro_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 1, GEO_FROM_COORDS | GEO_NOSTORE);
}

/* GEORADIUSBYMEMBER_RO key member radius <M | KM | FT | MI> [WITHCOORD]
 *   [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] */
static void georadiusbymember_ro_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 1, GEO_FROM_MEMBER | GEO_NOSTORE);
}

/* GEOSEARCH key <FROMMEMBER member | FROMLONLAT longitude latitude>
 *   <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>>
 *   [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] */
static void geosearch_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 1, GEO_SEARCH);
}

/* GEOSEARCHSTORE destination source <FROMMEMBER member | FROMLONLAT longitude latitude>
 *   <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>>
 *   [ASC | DESC] [COUNT count [ANY]] [STOREDIST] */
static void geosearchstore_command(cmd_ctx_t *c)
{
    geosearch_generic(c, 2, GEO_SEARCHSTORE);
}

/* ---- the table ------------------------------------------------------------------ */

const command_t cmds_geo[] = {
    CMD_ROW("geoadd", geoadd_command, -5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
        "@write @geo @slow", "geo", "3.2.0",
        "Add one or more geospatial items in the geospatial index represented using a sorted set",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("geodist", geodist_command, -4, CMD_READONLY, 1, 1, 1, "@read @geo @slow", "geo",
        "3.2.0", "Returns the distance between two members of a geospatial index",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("geohash", geohash_command, -2, CMD_READONLY, 1, 1, 1, "@read @geo @slow", "geo",
        "3.2.0", "Returns members of a geospatial index as standard geohash strings",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("geopos", geopos_command, -2, CMD_READONLY, 1, 1, 1, "@read @geo @slow", "geo",
        "3.2.0",
        "Returns longitude and latitude of members of a geospatial index",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("georadius", georadius_command, -6, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS, 1, 1,
        1, "@write @geo @slow", "geo", "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given "
        "maximum distance from a point",
        .keys_fn = georadius_keys,
        .key_specs = "RO ACCESS index:1 range:0,1,0; OW UPDATE keyword:STORE:6 range:0,1,0; OW UPDATE keyword:STOREDIST:6 range:0,1,0"),
    CMD_ROW("georadiusbymember", georadiusbymember_command, -5,
        CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS, 1, 1, 1, "@write @geo @slow", "geo", "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given "
        "maximum distance from a member",
        .keys_fn = georadius_keys,
        .key_specs = "RO ACCESS index:1 range:0,1,0; OW UPDATE keyword:STORE:5 range:0,1,0; OW UPDATE keyword:STOREDIST:5 range:0,1,0"),
    CMD_ROW("georadius_ro", georadius_ro_command, -6, CMD_READONLY, 1, 1, 1, "@read @geo @slow",
        "geo", "3.2.10",
        "A read-only variant for GEORADIUS",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("georadiusbymember_ro", georadiusbymember_ro_command, -5, CMD_READONLY, 1, 1, 1,
        "@read @geo @slow", "geo", "3.2.10", "A read-only variant for GEORADIUSBYMEMBER",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("geosearch", geosearch_command, -7, CMD_READONLY, 1, 1, 1, "@read @geo @slow", "geo",
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of "
        "a box or a circle.",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("geosearchstore", geosearchstore_command, -8, CMD_WRITE | CMD_DENYOOM, 1, 2, 1,
        "@write @geo @slow", "geo", "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of "
        "a box or a circle, and store the result in another key.",
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 range:0,1,0"),
    {0},
};

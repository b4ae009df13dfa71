/* cmd_sort — SORT and SORT_RO: the elements of a list, set or sorted set,
 * ordered by themselves or by other keys (BY pattern), paged (LIMIT),
 * projected through other keys (GET pattern), replied or stored as a list.
 *
 * Partitions: a pattern names keys that live in any partition, so a call
 * whose BY or GET patterns read keys (a '*' in BY; a GET other than "#" with
 * a '*') holds every partition (sort_keys returns 1); any other call holds
 * only the partitions of its source and STORE destination. Either way the
 * whole command is one atomic task. Inside a script the pattern keys are
 * undeclared keys: refused unless allow-undeclared-keys (script_redis.c).
 *
 * Order, as Redis 7.0: numeric by default (an element or BY value that is
 * not a double fails the whole call), ties broken by the elements' bytes;
 * ALPHA compares bytes (Redis uses strcoll, the same under the C locale);
 * a missing BY key sorts as 0 (numeric) or first (ALPHA). BY without a '*'
 * sorts nothing: a list or sorted set keeps its own order (DESC reversing
 * it, LIMIT read straight off the range), a set keeps its iteration order,
 * except with STORE or inside a script, where it is sorted ALPHA so that
 * the result is deterministic. Sorting is stable: ties under ALPHA BY keep
 * the loading order (Redis: a set's or sorted set's hash order, or with
 * LIMIT whatever its partial quicksort leaves). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

#define ERR_SORT_SCORE "ERR One or more scores can't be converted into double"

typedef struct sort_elem {
    sv_t v;         /* the element */
    double score;   /* numeric order */
    size_t cmp_off; /* ALPHA with BY: its BY value in the arena, SIZE_MAX if missing */
    size_t cmp_len;
} sort_elem_t;

typedef struct sort_opts {
    int desc, alpha, dontsort;
    long long limit_start, limit_count;
    int by;                /* argv index of BY's pattern, 0: none */
    int store;             /* argv index of STORE's destination, 0: none */
    int *gets;             /* argv indexes of the GET patterns */
    int ngets;
} sort_opts_t;

static int pattern_reads(sv_t p)
{
    return memchr(p.p, '*', p.len) != NULL && !(p.len == 1 && p.p[0] == '#');
}

/* SORT's grammar as sort_keys needs it (sort_parse is the handler's): sets
 * *store to STORE's destination index and *reads when a pattern reads keys;
 * returns the index of the first bad token, or 0 (the handler replies it). */
static int sort_walk(int argc, const sv_t *argv, int ro, int *store, int *reads)
{
    for (int j = 2; j < argc; j++) {
        int left = argc - j - 1;
        sv_t a = argv[j];
        if (sv_eq_ci(a, "asc") || sv_eq_ci(a, "desc") || sv_eq_ci(a, "alpha")) {
            continue;
        } else if (sv_eq_ci(a, "limit") && left >= 2) {
            j += 2;
        } else if (!ro && sv_eq_ci(a, "store") && left >= 1) {
            *store = ++j;
        } else if ((sv_eq_ci(a, "by") || sv_eq_ci(a, "get")) && left >= 1) {
            if (sv_eq_ci(a, "by") ? memchr(argv[j + 1].p, '*', argv[j + 1].len) != NULL
                                  : pattern_reads(argv[j + 1]))
                *reads = 1;
            j++;
        } else {
            return j;
        }
    }
    return 0;
}

/* The source is the row's lead key (1); this adds STORE's destination, and
 * asks for every partition when a pattern reads keys. */
static int sort_keys_generic(int argc, const sv_t *argv, int *first, int *last, int *step,
                             int ro)
{
    int store = 0, reads = 0;
    sort_walk(argc, argv, ro, &store, &reads);
    if (store) {
        *first = *last = store;
        *step = 1;
    }
    return reads ? 1 : 0;
}
static int sort_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    return sort_keys_generic(argc, argv, first, last, step, 0);
}
static int sort_ro_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    return sort_keys_generic(argc, argv, first, last, step, 1);
}

/* Redis's lookupKeyByPattern: "#" is the element itself; a pattern without
 * '*' names nothing; "pre*post" the string key, "pre*post->field" a field of
 * the hash key. Returns 1 with the value in *out (its bytes may be in tmp). */
static int by_pattern(cmd_ctx_t *c, sv_t pat, sv_t elem, buf_t *key, char tmp[24], sv_t *out)
{
    if (pat.len == 1 && pat.p[0] == '#') {
        *out = elem;
        return 1;
    }
    /* Redis reads its patterns as C strings: a NUL byte ends them */
    const char *nul = memchr(pat.p, '\0', pat.len);
    size_t plen = nul ? (size_t)(nul - pat.p) : pat.len;
    const char *star = memchr(pat.p, '*', plen);
    if (!star)
        return 0;
    const char *field = NULL;
    size_t flen = 0;
    for (const char *f = star + 1; f + 2 < pat.p + plen; f++)
        if (f[0] == '-' && f[1] == '>') {
            field = f + 2;
            flen = (size_t)(pat.p + pat.len - field);
            break;
        }
    size_t pre = (size_t)(star - pat.p);
    size_t post = pat.len - pre - 1 - (field ? flen + 2 : 0);
    key->len = 0;
    buf_append(key, pat.p, pre);
    buf_append(key, elem.p, elem.len);
    buf_append(key, star + 1, post);
    obj_t *o = db_lookup(c, (sv_t){key->data, key->len}, 0);
    if (!o)
        return 0;
    if (field) {
        if (o->type != OBJ_HASH)
            return 0;
        return hash_get(o->v.ptr, field, flen, out);
    }
    if (o->type != OBJ_STRING)
        return 0;
    *out = obj_str(o, tmp);
    return 1;
}

/* strtod as Redis applies it: leading spaces pass, trailing bytes, range
 * errors and NaN fail. */
static int sort_score(sv_t s, buf_t *tmp, double *out)
{
    tmp->len = 0;
    buf_append(tmp, s.p, s.len);
    const char *z = buf_cstr(tmp);
    char *end;
    errno = 0;
    *out = strtod(z, &end);
    return *end != '\0' || errno == ERANGE || isnan(*out) ? -1 : 0;
}

static int bytes_cmp(sv_t a, sv_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.p, b.p, n) : 0;
    return r ? r : (a.len > b.len) - (a.len < b.len);
}

typedef struct sort_cmp_ctx {
    int alpha, by, desc;
    const char *arena;
} sort_cmp_ctx_t;

static int elem_cmp(const sort_elem_t *a, const sort_elem_t *b, const sort_cmp_ctx_t *k)
{
    int r;
    if (!k->alpha) {
        r = a->score > b->score ? 1 : a->score < b->score ? -1 : bytes_cmp(a->v, b->v);
    } else if (k->by) {
        int ma = a->cmp_off == SIZE_MAX, mb = b->cmp_off == SIZE_MAX;
        if (ma || mb)
            r = ma && mb ? 0 : ma ? -1 : 1;
        else
            r = bytes_cmp((sv_t){k->arena + a->cmp_off, a->cmp_len},
                          (sv_t){k->arena + b->cmp_off, b->cmp_len});
    } else {
        r = bytes_cmp(a->v, b->v);
    }
    return k->desc ? -r : r;
}

/* A stable merge sort (glibc's qsort, which Redis calls, is one too). */
static void sort_merge(sort_elem_t *v, sort_elem_t *tmp, size_t n, const sort_cmp_ctx_t *k)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = elem_cmp(&v[j], &v[i], k) < 0 ? v[j++] : v[i++];
            while (i < mid)
                tmp[o++] = v[i++];
            while (j < hi)
                tmp[o++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
}

/* Redis 7.0: BY with a pattern and any GET read keys the ACL check never
 * saw, so they need a user who may read every key (acl_reads_all_keys). */
static int sort_patterns_denied(cmd_ctx_t *c, int *full, const char *opt)
{
    if (*full < 0)
        *full = acl_reads_all_keys(c->user, c->cmd, c->argc, c->argv);
    if (*full)
        return 0;
    reply_errorf(c->r, "ERR %s option of SORT denied due to insufficient ACL permissions.", opt);
    return 1;
}

static int sort_parse(cmd_ctx_t *c, int ro, sort_opts_t *o)
{
    int full = -1;
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (arg_is(c, j, "asc")) {
            o->desc = 0;
        } else if (arg_is(c, j, "desc")) {
            o->desc = 1;
        } else if (arg_is(c, j, "alpha")) {
            o->alpha = 1;
        } else if (arg_is(c, j, "limit") && left >= 2) {
            if (arg_ll(c, j + 1, &o->limit_start, NULL) != 0 ||
                arg_ll(c, j + 2, &o->limit_count, NULL) != 0)
                return -1;
            j += 2;
        } else if (!ro && arg_is(c, j, "store") && left >= 1) {
            o->store = ++j;
        } else if (arg_is(c, j, "by") && left >= 1) {
            o->by = ++j;
            /* a constant BY (no '*') sorts nothing, even when a later BY has
             * a '*' (the last BY is the pattern: Redis's rule) */
            if (!memchr(c->argv[j].p, '*', c->argv[j].len))
                o->dontsort = 1;
            else if (sort_patterns_denied(c, &full, "BY"))
                return -1;
        } else if (arg_is(c, j, "get") && left >= 1) {
            if (sort_patterns_denied(c, &full, "GET"))
                return -1;
            o->gets[o->ngets++] = ++j;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Loads the elements to sort into v (n of them); for a list or sorted set
 * that is not sorted, only the window [*start, *end], which then becomes
 * [0, n-1]. Set members are copied into arena (an int set formats them). */
static size_t sort_load(const obj_t *src, const sort_opts_t *o, long long *start, long long *end,
                        sort_elem_t *v, buf_t *arena, size_t len)
{
    size_t j = 0;
    if (src->type == OBJ_LIST) {
        const list_t *l = src->v.ptr;
        if (o->dontsort) {
            for (long long i = *start; i <= *end; i++)
                v[j++].v = list_at(l, o->desc ? len - 1 - (size_t)i : (size_t)i);
            *end -= *start;
            *start = 0;
        } else {
            for (size_t i = 0; i < len; i++)
                v[j++].v = list_at(l, i);
        }
    } else if (src->type == OBJ_ZSET) {
        const zset_t *z = src->v.ptr;
        if (o->dontsort) {
            if (*end >= *start) {
                znode_t *x = zset_at(z, o->desc ? len - 1 - (size_t)*start : (size_t)*start);
                for (long long i = *start; i <= *end; i++) {
                    v[j++].v = zn_member(x);
                    x = o->desc ? x->back : zn_next(x);
                }
            }
            *end -= *start;
            *start = 0;
        } else {
            for (znode_t *x = zset_first(z); x; x = zn_next(x))
                v[j++].v = zn_member(x);
        }
    } else {
        const set_t *s = src->v.ptr;
        set_iter_t it;
        sv_t m;
        memset(&it, 0, sizeof it);
        while (set_next(s, &it, &m)) {
            v[j].cmp_off = arena->len;
            v[j++].cmp_len = m.len;
            buf_append(arena, m.p, m.len);
        }
        for (size_t i = 0; i < j; i++)
            v[i].v = (sv_t){arena->data + v[i].cmp_off, v[i].cmp_len};
    }
    return j;
}

static void sort_generic(cmd_ctx_t *c, int ro)
{
    sort_opts_t o = {.limit_start = 0, .limit_count = -1};
    o.gets = xmalloc((size_t)c->argc * sizeof *o.gets);
    sort_elem_t *v = NULL, *tmp = NULL;
    buf_t arena, keybuf, cmps;
    buf_init(&arena);
    buf_init(&keybuf);
    buf_init(&cmps);
    if (sort_parse(c, ro, &o) != 0)
        goto out;

    obj_t *src = db_lookup(c, c->argv[1], 0);
    if (src && src->type != OBJ_SET && src->type != OBJ_LIST && src->type != OBJ_ZSET) {
        reply_error(c->r, ERR_WRONGTYPE);
        goto out;
    }
    int by = o.by && !o.dontsort;
    if (src && o.dontsort && src->type == OBJ_SET && (o.store || c->in_script)) {
        o.dontsort = 0; /* a set's own order is not deterministic: ALPHA */
        o.alpha = 1;
        by = 0;
    }
    long long len = 0;
    if (src)
        len = src->type == OBJ_LIST  ? (long long)list_len(src->v.ptr)
              : src->type == OBJ_SET ? (long long)set_len(src->v.ptr)
                                     : (long long)zset_len(src->v.ptr);

    /* LIMIT, as Redis clamps it (and without its overflows) */
    long long start = o.limit_start < 0 ? 0 : o.limit_start, end;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    } else {
        end = o.limit_count < 0 || o.limit_count > len ? len - 1 : start + o.limit_count - 1;
        if (end >= len)
            end = len - 1;
    }

    size_t n = 0;
    if (src) {
        size_t cap = src->type == OBJ_SET || !o.dontsort ? (size_t)len
                     : end >= start                     ? (size_t)(end - start + 1)
                                                        : 0;
        v = xcalloc(cap ? cap : 1, sizeof *v);
        n = sort_load(src, &o, &start, &end, v, &arena, (size_t)len);
    }

    int score_error = 0;
    if (!o.dontsort && n) {
        char ntmp[24];
        buf_t numtmp;
        buf_init(&numtmp);
        for (size_t j = 0; j < n; j++) {
            sv_t val = v[j].v;
            v[j].cmp_off = SIZE_MAX;
            if (by && !by_pattern(c, c->argv[o.by], v[j].v, &keybuf, ntmp, &val))
                continue; /* missing: 0, or first under ALPHA */
            if (o.alpha) {
                if (by) {
                    v[j].cmp_off = cmps.len;
                    v[j].cmp_len = val.len;
                    buf_append(&cmps, val.p, val.len);
                }
            } else if (sort_score(val, &numtmp, &v[j].score) != 0) {
                score_error = 1;
            }
        }
        buf_free(&numtmp);
        if (!score_error) {
            sort_cmp_ctx_t k = {o.alpha, by, o.desc, cmps.data};
            tmp = xmalloc(n * sizeof *tmp);
            sort_merge(v, tmp, n, &k);
        }
    }

    long long count = end >= start ? end - start + 1 : 0;
    long long outlen = o.ngets ? (long long)o.ngets * count : count;
    if (score_error) {
        reply_error(c->r, ERR_SORT_SCORE);
    } else if (!o.store) {
        reply_array(c->r, outlen);
        char vt[24];
        for (long long j = start; j <= end && !c->r->overflow; j++) {
            if (!o.ngets)
                reply_bulk(c->r, v[j].v.p, v[j].v.len);
            for (int g = 0; g < o.ngets; g++) {
                sv_t val;
                if (by_pattern(c, c->argv[o.gets[g]], v[j].v, &keybuf, vt, &val))
                    reply_bulk(c->r, val.p, val.len);
                else
                    reply_null(c->r);
            }
        }
    } else {
        sv_t dst = c->argv[o.store];
        list_t *res = list_new();
        char vt[24];
        for (long long j = start; j <= end; j++) {
            if (!o.ngets)
                list_push(res, LIST_TAIL, v[j].v.p, v[j].v.len);
            for (int g = 0; g < o.ngets; g++) {
                sv_t val = {"", 0};
                by_pattern(c, c->argv[o.gets[g]], v[j].v, &keybuf, vt, &val);
                list_push(res, LIST_TAIL, val.p, val.len);
            }
        }
        if (outlen) {
            obj_t nv = obj_make(OBJ_LIST, res);
            db_set_obj(c, dst, &nv, 0);
            notify_key(c, NOTIFY_LIST, "sortstore", dst);
            c->dirty += (uint64_t)outlen;
        } else {
            list_free(res);
            c->dirty += (uint64_t)db_delete_notify(c, dst);
        }
        reply_int(c->r, outlen);
    }
out:
    free(o.gets);
    free(v);
    free(tmp);
    buf_free(&arena);
    buf_free(&keybuf);
    buf_free(&cmps);
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *      [ASC|DESC] [ALPHA] [STORE destination] */
static void sort_command(cmd_ctx_t *c) { sort_generic(c, 0); }
/* SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] */
static void sort_ro_command(cmd_ctx_t *c) { sort_generic(c, 1); }

const command_t cmds_sort[] = {
    CMD_ROW("sort", sort_command, -2, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS, 1, 1, 1,
        "@write @set @sortedset @list @slow @dangerous", "generic", "1.0.0",
        "Sort the elements in a list, set or sorted set", .keys_fn = sort_keys,
        .key_specs = "RO ACCESS index:1 range:0,1,0; RO ACCESS unknown unknown; OW UPDATE unknown unknown"),
    CMD_ROW("sort_ro", sort_ro_command, -2, CMD_READONLY | CMD_MOVABLEKEYS, 1, 1, 1,
        "@read @set @sortedset @list @slow @dangerous", "generic", "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        .keys_fn = sort_ro_keys,
        .key_specs = "RO ACCESS index:1 range:0,1,0; RO ACCESS unknown unknown"),
    {0},
};

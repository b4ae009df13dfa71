/* t_zset — the sorted set type: members with double scores, ordered by
 * (score, member bytes).
 *
 * A skiplist with spans (Pugh's, as Redis's zskiplist: rank and by-rank
 * lookups in O(log n)) whose nodes are also the entries of an htab from member
 * to node (score lookups in O(1)). A node is one allocation: table header,
 * score, back link, levels, then the member bytes. Score ranges and lex ranges
 * are parsed here with Redis's rules. Callers hold the key's partition. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_htab.h"
#include "t_zset.h"
#include "util.h"

static size_t node_size(int level, size_t mlen)
{
    return sizeof(znode_t) + (size_t)level * sizeof(struct zlevel) + mlen;
}

static znode_t *node_new(zset_t *z, int level, double score, const char *m, size_t n)
{
    znode_t *x = xcalloc(1, node_size(level, n));
    char *key = (char *)&x->lvl[level];
    x->level = level;
    x->score = score;
    x->n.key = key;
    x->n.klen = n;
    if (n)
        memcpy(key, m, n);
    z->mem += mem_alloc_size(node_size(level, n));
    return x;
}

zset_t *zset_new(void)
{
    zset_t *z = xcalloc(1, sizeof *z);
    z->level = 1;
    z->mem = mem_alloc_size(sizeof *z);
    z->head = node_new(z, ZSKIPLIST_MAXLEVEL, 0, NULL, 0);
    return z;
}

void zset_free(zset_t *z)
{
    if (!z)
        return;
    znode_t *x = z->head;
    while (x) {
        znode_t *next = x->lvl[0].fwd;
        free(x);
        x = next;
    }
    htab_release(&z->tab);
    free(z);
}

size_t zset_mem(const zset_t *z)
{
    return z->mem + htab_mem(&z->tab);
}

znode_t *zset_find(const zset_t *z, const char *m, size_t n)
{
    return (znode_t *)htab_find(&z->tab, m, n);
}

static int mcmp(sv_t a, sv_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* Whether node x sorts before (score, m). */
static int before(const znode_t *x, double score, sv_t m)
{
    return x->score < score || (x->score == score && mcmp(zn_member(x), m) < 0);
}

/* Level of a new node: 1 + geometric with p = 1/4, as Redis. */
static int random_level(void)
{
    int level = 1;
    while (level < ZSKIPLIST_MAXLEVEL && (t_rand() & 0xFFFF) < 0xFFFF / 4)
        level++;
    return level;
}

/* Link a node (score, member and level set) into the skiplist. */
static void sl_link(zset_t *z, znode_t *x)
{
    znode_t *update[ZSKIPLIST_MAXLEVEL], *p = z->head;
    size_t rank[ZSKIPLIST_MAXLEVEL];
    sv_t m = zn_member(x);

    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (p->lvl[i].fwd && before(p->lvl[i].fwd, x->score, m)) {
            rank[i] += p->lvl[i].span;
            p = p->lvl[i].fwd;
        }
        update[i] = p;
    }
    if (x->level > z->level) {
        for (int i = z->level; i < x->level; i++) {
            rank[i] = 0;
            update[i] = z->head;
            update[i]->lvl[i].span = z->len;
        }
        z->level = x->level;
    }
    for (int i = 0; i < x->level; i++) {
        x->lvl[i].fwd = update[i]->lvl[i].fwd;
        update[i]->lvl[i].fwd = x;
        x->lvl[i].span = update[i]->lvl[i].span - (rank[0] - rank[i]);
        update[i]->lvl[i].span = rank[0] - rank[i] + 1;
    }
    for (int i = x->level; i < z->level; i++)
        update[i]->lvl[i].span++;
    x->back = update[0] == z->head ? NULL : update[0];
    if (x->lvl[0].fwd)
        x->lvl[0].fwd->back = x;
    else
        z->tail = x;
    z->len++;
}

/* Unlink a node from the skiplist (not from the table; not freed). */
static void sl_unlink(zset_t *z, znode_t *x)
{
    znode_t *update[ZSKIPLIST_MAXLEVEL], *p = z->head;
    sv_t m = zn_member(x);

    for (int i = z->level - 1; i >= 0; i--) {
        while (p->lvl[i].fwd && before(p->lvl[i].fwd, x->score, m))
            p = p->lvl[i].fwd;
        update[i] = p;
    }
    for (int i = 0; i < z->level; i++) {
        if (update[i]->lvl[i].fwd == x) {
            update[i]->lvl[i].span += x->lvl[i].span - 1;
            update[i]->lvl[i].fwd = x->lvl[i].fwd;
        } else {
            update[i]->lvl[i].span--;
        }
    }
    if (x->lvl[0].fwd)
        x->lvl[0].fwd->back = x->back;
    else
        z->tail = x->back;
    while (z->level > 1 && !z->head->lvl[z->level - 1].fwd)
        z->level--;
    z->len--;
}

/* The score as stored: a small zset keeps no negative zero. */
static double stored_score(const zset_t *z, double score)
{
    return !z->big && score == 0 ? 0.0 : score;
}

znode_t *zset_insert(zset_t *z, const char *m, size_t n, double score)
{
    /* Redis converts before inserting the member that does not fit. */
    if (!z->big && (z->len + 1 > ZSET_SMALL_ENTRIES || n > ZSET_SMALL_VALUE))
        z->big = 1;
    score = stored_score(z, score);
    znode_t *x = node_new(z, random_level(), score, m, n);
    sl_link(z, x);
    htab_insert(&z->tab, &x->n);
    return x;
}

void zset_settle(zset_t *z)
{
    if (!z->big || z->len > ZSET_SMALL_ENTRIES)
        return;
    for (znode_t *x = zset_first(z); x; x = zn_next(x))
        if (x->n.klen > ZSET_SMALL_VALUE)
            return;
    z->big = 0;
    for (znode_t *x = zset_first(z); x; x = zn_next(x))
        x->score = stored_score(z, x->score);
}

void zset_update(zset_t *z, znode_t *x, double score)
{
    score = stored_score(z, score);
    /* Still strictly between its neighbours: the order does not change. */
    if ((!x->back || x->back->score < score) && (!x->lvl[0].fwd || x->lvl[0].fwd->score > score)) {
        x->score = score;
        return;
    }
    sl_unlink(z, x);
    x->score = score;
    sl_link(z, x);
}

void zset_delete(zset_t *z, znode_t *x)
{
    sl_unlink(z, x);
    htab_unlink(&z->tab, x->n.key, x->n.klen);
    z->mem -= mem_alloc_size(node_size(x->level, x->n.klen));
    free(x);
}

size_t zset_rank(const zset_t *z, const znode_t *x)
{
    const znode_t *p = z->head;
    size_t rank = 0;
    sv_t m = zn_member(x);

    for (int i = z->level - 1; i >= 0; i--) {
        while (p->lvl[i].fwd && (before(p->lvl[i].fwd, x->score, m) || p->lvl[i].fwd == x)) {
            rank += p->lvl[i].span;
            p = p->lvl[i].fwd;
        }
        if (p == x)
            return rank - 1;
    }
    return rank - 1; /* not reached for a node of z */
}

znode_t *zset_at(const zset_t *z, size_t r)
{
    znode_t *p = z->head;
    size_t traversed = 0, want = r + 1;

    for (int i = z->level - 1; i >= 0; i--) {
        while (p->lvl[i].fwd && traversed + p->lvl[i].span <= want) {
            traversed += p->lvl[i].span;
            p = p->lvl[i].fwd;
        }
        if (traversed == want)
            return p;
    }
    return NULL;
}

/* ---- score ranges ------------------------------------------------------ */

/* One end of a score range as Redis's zslParseRange reads it: an optional
 * '(' for exclusive, then strtod over the C string (so "" and "(" are 0, and
 * leading spaces pass), NaN refused. */
static int parse_score_item(sv_t s, double *v, int *ex)
{
    char stackbuf[64];
    char *buf = s.len < sizeof stackbuf ? stackbuf : xmalloc(s.len + 1);
    char *start = buf, *end;
    int ok;

    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    *ex = 0;
    if (buf[0] == '(') {
        *ex = 1;
        start++;
    }
    *v = strtod(start, &end);
    ok = end[0] == '\0' && !isnan(*v);
    if (buf != stackbuf)
        free(buf);
    return ok ? 0 : -1;
}

int zrange_parse(sv_t min, sv_t max, zrange_spec_t *r)
{
    if (parse_score_item(min, &r->min, &r->minex) != 0 ||
        parse_score_item(max, &r->max, &r->maxex) != 0)
        return -1;
    return 0;
}

int zscore_gte_min(double v, const zrange_spec_t *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

int zscore_lte_max(double v, const zrange_spec_t *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

/* Whether some score could be in the range and the set overlaps it. */
static int score_range_possible(const zset_t *z, const zrange_spec_t *r)
{
    if (r->min > r->max || (r->min == r->max && (r->minex || r->maxex)))
        return 0;
    if (!z->tail || !zscore_gte_min(z->tail->score, r))
        return 0;
    return zscore_lte_max(zset_first(z)->score, r);
}

znode_t *zset_first_in_score(const zset_t *z, const zrange_spec_t *r)
{
    if (!score_range_possible(z, r))
        return NULL;
    znode_t *p = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (p->lvl[i].fwd && !zscore_gte_min(p->lvl[i].fwd->score, r))
            p = p->lvl[i].fwd;
    p = p->lvl[0].fwd;
    return p && zscore_lte_max(p->score, r) ? p : NULL;
}

znode_t *zset_last_in_score(const zset_t *z, const zrange_spec_t *r)
{
    if (!score_range_possible(z, r))
        return NULL;
    znode_t *p = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (p->lvl[i].fwd && zscore_lte_max(p->lvl[i].fwd->score, r))
            p = p->lvl[i].fwd;
    return p != z->head && zscore_gte_min(p->score, r) ? p : NULL;
}

/* ---- lex ranges --------------------------------------------------------- */

/* "-" and "+" are the infinities (and count as exclusive, as in Redis);
 * "[x" and "(x" are inclusive and exclusive bounds; anything else is an
 * error. */
static int parse_lex_item(sv_t s, sv_t *v, int *ex, int *inf)
{
    if (s.len == 0)
        return -1;
    *inf = 0;
    switch (s.p[0]) {
    case '+':
    case '-':
        if (s.len != 1)
            return -1;
        *ex = 1;
        *inf = s.p[0] == '+' ? 1 : -1;
        *v = (sv_t){"", 0};
        return 0;
    case '(':
    case '[':
        *ex = s.p[0] == '(';
        *v = (sv_t){s.p + 1, s.len - 1};
        return 0;
    default:
        return -1;
    }
}

int zlex_parse(sv_t min, sv_t max, zlex_spec_t *r)
{
    if (parse_lex_item(min, &r->min, &r->minex, &r->mininf) != 0 ||
        parse_lex_item(max, &r->max, &r->maxex, &r->maxinf) != 0)
        return -1;
    return 0;
}

int zlex_gte_min(sv_t m, const zlex_spec_t *r)
{
    if (r->mininf)
        return r->mininf < 0;
    int c = mcmp(m, r->min);
    return r->minex ? c > 0 : c >= 0;
}

int zlex_lte_max(sv_t m, const zlex_spec_t *r)
{
    if (r->maxinf)
        return r->maxinf > 0;
    int c = mcmp(m, r->max);
    return r->maxex ? c < 0 : c <= 0;
}

/* min vs max with "-" below and "+" above every string. */
static int lex_bounds_cmp(const zlex_spec_t *r)
{
    if (r->mininf && r->mininf == r->maxinf)
        return 0;
    if (r->mininf < 0 || r->maxinf > 0)
        return -1;
    if (r->mininf > 0 || r->maxinf < 0)
        return 1;
    return mcmp(r->min, r->max);
}

static int lex_range_possible(const zset_t *z, const zlex_spec_t *r)
{
    int c = lex_bounds_cmp(r);
    if (c > 0 || (c == 0 && (r->minex || r->maxex)))
        return 0;
    if (!z->tail || !zlex_gte_min(zn_member(z->tail), r))
        return 0;
    return zlex_lte_max(zn_member(zset_first(z)), r);
}

znode_t *zset_first_in_lex(const zset_t *z, const zlex_spec_t *r)
{
    if (!lex_range_possible(z, r))
        return NULL;
    znode_t *p = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (p->lvl[i].fwd && !zlex_gte_min(zn_member(p->lvl[i].fwd), r))
            p = p->lvl[i].fwd;
    p = p->lvl[0].fwd;
    return p && zlex_lte_max(zn_member(p), r) ? p : NULL;
}

znode_t *zset_last_in_lex(const zset_t *z, const zlex_spec_t *r)
{
    if (!lex_range_possible(z, r))
        return NULL;
    znode_t *p = z->head;
    for (int i = z->level - 1; i >= 0; i--)
        while (p->lvl[i].fwd && zlex_lte_max(zn_member(p->lvl[i].fwd), r))
            p = p->lvl[i].fwd;
    return p != z->head && zlex_gte_min(zn_member(p), r) ? p : NULL;
}

/* ---- ZSCAN ------------------------------------------------------------- */

struct scan_cb {
    void (*fn)(void *, znode_t *);
    void *arg;
};

static void scan_node(void *arg, hnode_t *e)
{
    struct scan_cb *s = arg;
    s->fn(s->arg, (znode_t *)e);
}

uint64_t zset_scan(const zset_t *z, uint64_t cursor, void (*fn)(void *, znode_t *), void *arg,
                   long long count)
{
    if (!z->big) {
        /* Whole and in order, as Redis answers for its listpack encoding. */
        for (znode_t *x = zset_first(z); x; x = zn_next(x))
            fn(arg, x);
        return 0;
    }
    struct scan_cb s = {fn, arg};
    return htab_scan_count(&z->tab, cursor, count, scan_node, &s);
}

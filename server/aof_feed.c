/* aof_feed — what a call that changed the dataset is logged as (the rules
 * are listed in aof.h). Runs on the partitions' holder, inside
 * command_call (or blocking.c's serving), while aof_logging. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "aof.h"
#include "aof_internal.h"
#include "command.h"
#include "db.h"
#include "rdb.h"
#include "store.h"

#define MAXARGS 64 /* rewritten forms have few arguments; longer ones go as sent */

static int is(sv_t a, const char *lit) { return sv_eq_ci(a, lit); }

/* ---- reading the call's own reply ---------------------------------------- */

/* The bulk string at *p (RESP2/3), advancing *p: 0, or -1 when not one. */
static int reply_bulk_at(const char **p, const char *end, sv_t *out)
{
    const char *s = *p;
    if (s >= end || *s != '$')
        return -1;
    long long n = 0;
    for (s++; s < end && *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (*s - '0');
    if (s + 2 > end || s[0] != '\r' || end - (s + 2) < n + 2)
        return -1;
    *out = (sv_t){s + 2, (size_t)n};
    *p = s + 2 + n + 2;
    return 0;
}

/* An aggregate's count ('*' or '~'): 0, or -1. */
static int reply_agg_at(const char **p, const char *end, long long *n)
{
    const char *s = *p;
    if (s >= end || (*s != '*' && *s != '~'))
        return -1;
    *n = 0;
    for (s++; s < end && *s >= '0' && *s <= '9'; s++)
        *n = *n * 10 + (*s - '0');
    if (s + 2 > end || s[0] != '\r')
        return -1;
    *p = s + 2;
    return 0;
}

/* ---- the fallback: the keys' resulting values ---------------------------- */

static void log_key_state(cmd_ctx_t *c, sv_t key)
{
    obj_t *o = db_lookup(c, key, 0);
    if (!o) {
        sv_t a[2] = {{"DEL", 3}, key};
        aof_tl_add(c->db, 2, a);
        return;
    }
    buf_t b;
    buf_init(&b);
    if (rdb_dump_object(&b, o) == 0) {
        int64_t exp = db_get_expire(c, key);
        char num[24];
        int n = snprintf(num, sizeof num, "%lld", (long long)(exp > 0 ? exp : 0));
        sv_t a[6] = {{"RESTORE", 7}, key, {num, (size_t)n}, {b.data, b.len}, {"REPLACE", 7},
                     {"ABSTTL", 6}};
        aof_tl_add(c->db, 6, a);
    }
    buf_free(&b);
}

static void log_keys_state(cmd_ctx_t *c)
{
    cmd_keys_t k;
    if (command_keys(c->cmd, c->argc, c->argv, &k) != 0)
        return;
    int n = cmd_keys_count(&k);
    for (int j = 0; j < n; j++)
        log_key_state(c, c->argv[cmd_keys_at(&k, j)]);
}

/* ---- rewritten forms ------------------------------------------------------ */

typedef struct form {
    int argc;
    sv_t argv[MAXARGS];
    char nums[4][24];
    int nnum;
} form_t;

static sv_t form_num(form_t *f, long long v)
{
    char *s = f->nums[f->nnum++];
    int n = snprintf(s, 24, "%lld", v);
    return (sv_t){s, (size_t)n};
}

static long long abs_ms(long long now, long long v, long long unit)
{
    if (v > LLONG_MAX / unit)
        return LLONG_MAX;
    v *= unit;
    return v > LLONG_MAX - now ? LLONG_MAX : v + now;
}

/* SET ... EX/PX/EXAT -> PXAT; SETEX/PSETEX -> SET ... PXAT. 0 when f is set. */
static int set_form(cmd_ctx_t *c, form_t *f)
{
    const char *name = c->cmd->name;
    long long v, now = (long long)c->now_ms;
    if (!strcmp(name, "setex") || !strcmp(name, "psetex")) {
        if (str_to_ll(c->argv[2].p, c->argv[2].len, &v) != 0)
            return -1;
        f->argc = 5;
        f->argv[0] = (sv_t){"SET", 3};
        f->argv[1] = c->argv[1];
        f->argv[2] = c->argv[3];
        f->argv[3] = (sv_t){"PXAT", 4};
        f->argv[4] = form_num(f, abs_ms(now, v, name[0] == 's' ? 1000 : 1));
        return 0;
    }
    f->argc = 0;
    for (int i = 0; i < c->argc; i++) {
        sv_t a = c->argv[i];
        if (i >= 3 && i + 1 < c->argc && (is(a, "ex") || is(a, "px") || is(a, "exat"))) {
            if (str_to_ll(c->argv[i + 1].p, c->argv[i + 1].len, &v) != 0)
                return -1;
            f->argv[f->argc++] = (sv_t){"PXAT", 4};
            f->argv[f->argc++] = form_num(f, is(a, "ex")   ? abs_ms(now, v, 1000)
                                             : is(a, "px") ? abs_ms(now, v, 1)
                                                           : abs_ms(0, v, 1000));
            i++;
            continue;
        }
        f->argv[f->argc++] = a;
    }
    return 0;
}

/* EXPIRE/PEXPIRE/EXPIREAT key t [flag] -> PEXPIREAT key abs [flag];
 * GETEX key EX|PX|EXAT|PXAT t -> PEXPIREAT, GETEX key PERSIST -> PERSIST. */
static int expire_form(cmd_ctx_t *c, form_t *f)
{
    const char *name = c->cmd->name;
    long long v, now = (long long)c->now_ms, abs;
    int ti = 2;
    if (!strcmp(name, "getex")) {
        if (c->argc < 3)
            return -1;
        if (is(c->argv[2], "persist")) {
            f->argc = 2;
            f->argv[0] = (sv_t){"PERSIST", 7};
            f->argv[1] = c->argv[1];
            return 0;
        }
        ti = 3;
    }
    if (ti >= c->argc || str_to_ll(c->argv[ti].p, c->argv[ti].len, &v) != 0)
        return -1;
    sv_t unit = ti == 3 ? c->argv[2] : (sv_t){name, strlen(name)};
    if (is(unit, "expire") || is(unit, "ex"))
        abs = abs_ms(now, v, 1000);
    else if (is(unit, "pexpire") || is(unit, "px"))
        abs = abs_ms(now, v, 1);
    else if (is(unit, "expireat") || is(unit, "exat"))
        abs = abs_ms(0, v, 1000);
    else
        abs = v;
    f->argc = 3;
    f->argv[0] = (sv_t){"PEXPIREAT", 9};
    f->argv[1] = c->argv[1];
    f->argv[2] = form_num(f, abs);
    if (ti == 2 && c->argc == 4)
        f->argv[f->argc++] = c->argv[3];
    return 0;
}

/* RESTORE key ttl payload ... with a relative TTL -> ABSTTL. */
static int restore_form(cmd_ctx_t *c, form_t *f)
{
    long long v;
    if (str_to_ll(c->argv[2].p, c->argv[2].len, &v) != 0 || v == 0 || c->argc + 1 > MAXARGS)
        return -1;
    for (int i = 4; i < c->argc; i++)
        if (is(c->argv[i], "absttl"))
            return -1;
    f->argc = c->argc;
    memcpy(f->argv, c->argv, (size_t)c->argc * sizeof *c->argv);
    f->argv[2] = form_num(f, abs_ms((long long)c->now_ms, v, 1));
    f->argv[f->argc++] = (sv_t){"ABSTTL", 6};
    return 0;
}

/* XADD's id argument, or -1 when it trims approximately (the fallback). */
static int xadd_id_at(cmd_ctx_t *c)
{
    int i = 2;
    while (i < c->argc) {
        if (is(c->argv[i], "nomkstream")) {
            i++;
        } else if (is(c->argv[i], "maxlen") || is(c->argv[i], "minid")) {
            i++;
            if (i < c->argc && c->argv[i].len == 1 && c->argv[i].p[0] == '~')
                return -1;
            if (i < c->argc && c->argv[i].len == 1 && c->argv[i].p[0] == '=')
                i++;
            i++;
        } else if (is(c->argv[i], "limit")) {
            i += 2;
        } else {
            break;
        }
    }
    return i < c->argc ? i : -1;
}

static int has_tilde(cmd_ctx_t *c)
{
    for (int i = 2; i < c->argc; i++)
        if (c->argv[i].len == 1 && c->argv[i].p[0] == '~')
            return 1;
    return 0;
}

static void add_form(cmd_ctx_t *c, const form_t *f) { aof_tl_add(c->db, f->argc, f->argv); }

static int blocking_call_form(cmd_ctx_t *c, const char *rp, const char *re, form_t *f);

/* The call as sent, or its rewritten form. */
void aof_feed_call(cmd_ctx_t *c, uint64_t dirty0, size_t start)
{
    const command_t *cmd = c->cmd;
    if (cmd->flags & (CMD_EXEC | CMD_SKIP_MONITOR))
        return; /* EXEC, scripts: their calls were logged */
    uint32_t flags = command_flags(cmd, c->argc, c->argv);
    /* FUNCTION LOAD/DELETE/FLUSH/RESTORE change the libraries, which a base
     * holds: Redis logs them (its rows say write; percore's container does not) */
    int fn = !strcmp(cmd->name, "function") && c->argc >= 2 &&
             (is(c->argv[1], "load") || is(c->argv[1], "delete") || is(c->argv[1], "flush") ||
              is(c->argv[1], "restore"));
    if (!(flags & CMD_WRITE) && !fn)
        return;
    cmd_keys_t k;
    int kr = command_keys(cmd, c->argc, c->argv, &k);
    int keyless = kr == 0 && cmd_keys_count(&k) == 0;
    uint64_t d1 = store_parts_dirty(c->parts, c->nparts);
    if (d1 == dirty0 && !c->dirty && (!keyless || c->r->out->len <= start || c->r->out->data[start] == '-'))
        return; /* nothing changed; a keyless write (FUNCTION LOAD) that did not fail goes */
    const char *name = cmd->name;
    const char *rp = c->r->out->data + start, *re = c->r->out->data + c->r->out->len;
    form_t f;
    f.nnum = 0;
    sv_t got;
    if (!strcmp(name, "set") || !strcmp(name, "setex") || !strcmp(name, "psetex")) {
        if (set_form(c, &f) == 0 && f.argc <= MAXARGS) {
            add_form(c, &f);
            return;
        }
    } else if (!strcmp(name, "expire") || !strcmp(name, "pexpire") ||
               !strcmp(name, "expireat") || !strcmp(name, "getex")) {
        if (expire_form(c, &f) == 0) {
            add_form(c, &f);
            return;
        }
    } else if (!strcmp(name, "restore")) {
        if (restore_form(c, &f) == 0) {
            add_form(c, &f);
            return;
        }
    } else if (!strcmp(name, "incrbyfloat")) {
        if (reply_bulk_at(&rp, re, &got) == 0) {
            sv_t a[4] = {{"SET", 3}, c->argv[1], got, {"KEEPTTL", 7}};
            aof_tl_add(c->db, 4, a);
            return;
        }
    } else if (!strcmp(name, "hincrbyfloat")) {
        if (reply_bulk_at(&rp, re, &got) == 0) {
            sv_t a[4] = {{"HSET", 4}, c->argv[1], c->argv[2], got};
            aof_tl_add(c->db, 4, a);
            return;
        }
    } else if (!strcmp(name, "spop")) {
        long long n = 1;
        int agg = reply_agg_at(&rp, re, &n) == 0;
        if (n > 0 && n <= MAXARGS - 2) {
            f.argc = 2;
            f.argv[0] = (sv_t){"SREM", 4};
            f.argv[1] = c->argv[1];
            while (f.argc < n + 2 && reply_bulk_at(&rp, re, &f.argv[f.argc]) == 0)
                f.argc++;
            if (f.argc == n + 2) {
                add_form(c, &f);
                return;
            }
        } else if (agg && n == 0) {
            return;
        }
        /* many members: the fallback */
    } else if (!strcmp(name, "xadd")) {
        int i = xadd_id_at(c);
        if (i > 0 && memchr(c->argv[i].p, '*', c->argv[i].len) == NULL) {
            aof_tl_add(c->db, c->argc, c->argv);
            return;
        }
        if (i > 0 && c->argc <= MAXARGS && reply_bulk_at(&rp, re, &got) == 0) {
            f.argc = c->argc;
            memcpy(f.argv, c->argv, (size_t)c->argc * sizeof *c->argv);
            f.argv[i] = got;
            add_form(c, &f);
            return;
        }
    } else if (!strcmp(name, "xtrim")) {
        if (!has_tilde(c)) {
            aof_tl_add(c->db, c->argc, c->argv);
            return;
        }
    } else if (cmd->flags & CMD_BLOCKING) {
        if (blocking_call_form(c, rp, re, &f) == 0) {
            add_form(c, &f);
            return;
        }
        if (strcmp(name, "xreadgroup")) {
            aof_tl_add(c->db, c->argc, c->argv);
            return;
        }
    } else if (strcmp(name, "xreadgroup") && strcmp(name, "xclaim") &&
               strcmp(name, "xautoclaim")) {
        aof_tl_add(c->db, c->argc, c->argv);
        return;
    }
    log_keys_state(c);
}

/* A blocking command's non-blocking form for the key it served (the
 * timeout dropped, numkeys 1): 0, or -1 when it has none (XREADGROUP). */
static const char *const blocking_map[][2] = {
    {"blpop", "LPOP"},   {"brpop", "RPOP"},       {"brpoplpush", "RPOPLPUSH"},
    {"blmove", "LMOVE"}, {"bzpopmin", "ZPOPMIN"}, {"bzpopmax", "ZPOPMAX"},
    {"blmpop", "LMPOP"}, {"bzmpop", "ZMPOP"},
};

static int blocking_form(cmd_ctx_t *x, sv_t key, form_t *f)
{
    const char *name = x->cmd->name, *to = NULL;
    for (size_t i = 0; i < sizeof blocking_map / sizeof blocking_map[0]; i++)
        if (!strcmp(name, blocking_map[i][0]))
            to = blocking_map[i][1];
    if (!to || x->argc > MAXARGS)
        return -1;
    f->argc = 0;
    f->argv[f->argc++] = (sv_t){to, strlen(to)};
    if (!strcmp(name, "blmpop") || !strcmp(name, "bzmpop")) {
        /* B?MPOP timeout numkeys key... where [COUNT n] -> ?MPOP 1 key where [COUNT n] */
        long long nk;
        if (x->argc < 5 || str_to_ll(x->argv[2].p, x->argv[2].len, &nk) != 0 || nk < 1 ||
            nk > x->argc - 4)
            return -1;
        f->argv[f->argc++] = (sv_t){"1", 1};
        f->argv[f->argc++] = key;
        for (int i = 3 + (int)nk; i < x->argc; i++)
            f->argv[f->argc++] = x->argv[i];
    } else if (!strcmp(name, "blmove") || !strcmp(name, "brpoplpush")) {
        for (int i = 1; i < x->argc - 1; i++) /* one source key: as sent, no timeout */
            f->argv[f->argc++] = x->argv[i];
    } else {
        f->argv[f->argc++] = key; /* BLPOP k1 k2 timeout -> LPOP key */
    }
    return 0;
}

/* An immediate blocking call: the key it served is its reply's first bulk. */
static int blocking_call_form(cmd_ctx_t *c, const char *rp, const char *re, form_t *f)
{
    long long n;
    sv_t key;
    if (!strcmp(c->cmd->name, "blmove") || !strcmp(c->cmd->name, "brpoplpush"))
        return blocking_form(c, c->argv[1], f);
    if (reply_agg_at(&rp, re, &n) != 0 || n < 2 || reply_bulk_at(&rp, re, &key) != 0)
        return -1;
    return blocking_form(c, key, f);
}

/* A blocked command served: its non-blocking form (its argv is the single-key
 * form blocking.c built: the key, then what followed the keys). */
void aof_feed_served(cmd_ctx_t *x, uint64_t dirty0)
{
    if (store_parts_dirty(x->parts, x->nparts) == dirty0)
        return;
    form_t f;
    f.nnum = 0;
    sv_t key = x->argv[1];
    if (!strcmp(x->cmd->name, "blmpop") || !strcmp(x->cmd->name, "bzmpop"))
        key = x->argc > 3 ? x->argv[3] : key;
    if (blocking_form(x, key, &f) == 0)
        add_form(x, &f);
    else
        log_keys_state(x); /* XREADGROUP ... */
    aof_tl_commit_outside();
}

/* cmd_debug — DEBUG, the subset Redis's own tests and operators use:
 * HELP SLEEP OBJECT SET-ACTIVE-EXPIRE DIGEST DIGEST-VALUE PROTOCOL LOG.
 * Every other Redis subcommand (RELOAD, LOADAOF, QUICKLIST-PACKED-THRESHOLD,
 * LISTPACK, POPULATE, ...) gets Redis's unknown-subcommand error: percore has
 * no persistence and none of the encodings they tune (README, Commands).
 *
 * Gated by enable-debug-command (no | yes | local), refused with Redis 7.0's
 * text. OBJECT and DIGEST-VALUE run with their keys' partitions held,
 * DIGEST with every partition (debug_keys). Commands layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "aof.h"
#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "object.h"
#include "persist.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

/* 1 when the caller may run DEBUG: enable-debug-command yes, or local and
 * the client is on loopback (Redis's islocalClient: 127.0.0.1 or ::1). */
static int debug_allowed(const cmd_ctx_t *c)
{
    int mode = config_get_int(CFG_ENABLE_DEBUG_COMMAND); /* no, yes, local */
    if (mode == 1)
        return 1;
    if (mode != 2 || !c->peer)
        return mode == 2 && !c->peer; /* a script's call inherits its caller's check */
    const char *colon = strrchr(c->peer, ':');
    size_t hl = colon ? (size_t)(colon - c->peer) : 0;
    return (hl == 9 && memcmp(c->peer, "127.0.0.1", 9) == 0) ||
           (hl == 3 && memcmp(c->peer, "::1", 3) == 0);
}

/* ---- digests: 20 bytes, order-dependent for lists and sorted sets,
 * order-independent (xor) for hashes, sets and the keyspace; all zero for
 * nothing, as Redis's. The hash is xxHash's, not Redis's SHA1: digests
 * compare between two states of one percore, not with redis-server's. */
typedef struct digest {
    unsigned char b[20];
} digest_t;

static void dg_hash(const void *p, size_t n, uint64_t seed, unsigned char out[20])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(p, n, seed);
    uint32_t tail = (uint32_t)XXH3_64bits_withSeed(p, n, seed ^ 0x9e3779b97f4a7c15ull);
    memcpy(out, &h.low64, 8);
    memcpy(out + 8, &h.high64, 8);
    memcpy(out + 16, &tail, 4);
}

static void dg_xor(digest_t *d, const void *p, size_t n)
{
    unsigned char h[20];
    dg_hash(p, n, 1, h);
    for (int i = 0; i < 20; i++)
        d->b[i] ^= h[i];
}

/* d = H(d || p): the order of the additions counts. */
static void dg_mix(digest_t *d, const void *p, size_t n)
{
    unsigned char h[20];
    dg_hash(p, n, 2, h);
    for (int i = 0; i < 20; i++)
        h[i] ^= (unsigned char)(d->b[i] * 31 + i);
    dg_hash(h, 20, 3, d->b);
}

/* Two strings as one element (a field and its value): length-prefixed. */
static void dg_pair(digest_t *d, sv_t a, sv_t b, int ordered)
{
    buf_t t;
    buf_init(&t);
    buf_printf(&t, "%zu:", a.len);
    buf_append(&t, a.p, a.len);
    buf_append(&t, b.p, b.len);
    if (ordered)
        dg_mix(d, t.data, t.len);
    else
        dg_xor(d, t.data, t.len);
    buf_free(&t);
}

static void digest_value(const obj_t *o, digest_t *d)
{
    memset(d, 0, sizeof *d);
    unsigned char type = o->type;
    dg_mix(d, &type, 1);
    switch (o->type) {
    case OBJ_STRING: {
        char tmp[24];
        sv_t s = obj_str(o, tmp);
        dg_mix(d, s.p, s.len);
        break;
    }
    case OBJ_LIST: {
        const list_t *l = o->v.ptr;
        for (size_t i = 0; i < list_len(l); i++) {
            sv_t s = list_at(l, i);
            dg_mix(d, s.p, s.len);
        }
        break;
    }
    case OBJ_SET: {
        set_iter_t it = {0};
        sv_t m;
        digest_t x = {{0}};
        while (set_next(o->v.ptr, &it, &m))
            dg_xor(&x, m.p, m.len);
        dg_mix(d, x.b, 20);
        break;
    }
    case OBJ_HASH: {
        hash_iter_t it = {0};
        hfield_t e;
        digest_t x = {{0}};
        while (hash_next(o->v.ptr, &it, &e))
            dg_pair(&x, e.f, e.v, 0);
        dg_mix(d, x.b, 20);
        break;
    }
    case OBJ_ZSET: {
        for (znode_t *x = zset_first(o->v.ptr); x; x = zn_next(x)) {
            char num[64];
            int n = snprintf(num, sizeof num, "%.17g", x->score);
            dg_pair(d, zn_member(x), (sv_t){num, (size_t)n}, 1);
        }
        break;
    }
    default:
        break;
    }
}

static void reply_digest(reply_t *r, const digest_t *d)
{
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d->b[i]);
    reply_status(r, hex);
}

struct digest_all {
    digest_t d;
    int any;
    int db;
};

static void digest_cb(void *arg, sv_t key, const obj_t *val)
{
    struct digest_all *st = arg;
    digest_t v;
    digest_value(val, &v);
    buf_t t;
    buf_init(&t);
    buf_printf(&t, "%d:%zu:", st->db, key.len);
    buf_append(&t, key.p, key.len);
    buf_append(&t, v.b, 20);
    dg_xor(&st->d, t.data, t.len);
    buf_free(&t);
    st->any = 1;
}

/* DEBUG DIGEST: every database, every partition (all held). */
static void debug_digest(cmd_ctx_t *c)
{
    struct digest_all st = {0};
    for (int db = 0; db < store_databases(); db++) {
        st.db = db;
        for (int p = 0; p < store_partitions(); p++) {
            uint64_t cursor = 0;
            do
                cursor = db_scan(p, db, cursor, c->now_ms, digest_cb, &st);
            while (cursor != 0);
        }
    }
    reply_digest(c->r, &st.d); /* all zero when the dataset is empty */
}

/* DEBUG DIGEST-VALUE [key ...] */
static void debug_digest_value(cmd_ctx_t *c)
{
    reply_array(c->r, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        obj_t *o = db_lookup(c, c->argv[j], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
        digest_t d = {{0}};
        if (o)
            digest_value(o, &d);
        reply_digest(c->r, &d);
    }
}

/* DEBUG OBJECT key: Redis's line, with percore's encoding name; the
 * serialized length is the value's size in memory (no RDB here). */
static void debug_object(cmd_ctx_t *c)
{
    obj_t *o = db_lookup(c, c->argv[2], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    db_key_meta_t m;
    if (!o || db_key_meta(c, c->argv[2], &m) != 0) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    char tmp[24];
    size_t len = o->type == OBJ_STRING ? obj_str(o, tmp).len : obj_mem(o);
    buf_t t;
    buf_init(&t);
    buf_printf(&t,
               "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u "
               "lru_seconds_idle:%llu",
               (void *)o, obj_encoding_name(o), len,
               (unsigned)((c->now_ms - m.idle_ms) / 1000) & 0xffffff,
               (unsigned long long)(m.idle_ms / 1000));
    reply_status(c->r, buf_cstr(&t));
    buf_free(&t);
}

/* DEBUG PROTOCOL <type>: a sample reply of each RESP type, Redis's values. */
static void debug_protocol(cmd_ctx_t *c)
{
    reply_t *r = c->r;
    sv_t t = c->argv[2];
    if (sv_eq_ci(t, "string")) {
        reply_bulk_cstr(r, "Hello World");
    } else if (sv_eq_ci(t, "integer")) {
        reply_int(r, 12345);
    } else if (sv_eq_ci(t, "double")) {
        reply_double(r, 3.141);
    } else if (sv_eq_ci(t, "bignum")) {
        const char *big = "1234567999999999999999999999999999999";
        if (r->proto >= 3)
            buf_printf(r->out, "(%s\r\n", big);
        else
            reply_bulk_cstr(r, big);
    } else if (sv_eq_ci(t, "null")) {
        reply_null(r);
    } else if (sv_eq_ci(t, "array") || sv_eq_ci(t, "set")) {
        if (sv_eq_ci(t, "set"))
            reply_set(r, 3);
        else
            reply_array(r, 3);
        for (int j = 0; j < 3; j++)
            reply_int(r, j);
    } else if (sv_eq_ci(t, "map")) {
        reply_map(r, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(r, j);
            reply_bool(r, j == 1);
        }
    } else if (sv_eq_ci(t, "attrib")) {
        if (r->proto >= 3) {
            buf_printf(r->out, "|1\r\n");
            reply_bulk_cstr(r, "key-popularity");
            reply_array(r, 2);
            reply_bulk_cstr(r, "key:123");
            reply_int(r, 90);
        }
        reply_bulk_cstr(r, "Some real reply following the attribute");
    } else if (sv_eq_ci(t, "push")) {
        if (r->proto < 3) {
            reply_error(r, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push(r, 2);
        reply_bulk_cstr(r, "server-cpu-usage");
        reply_int(r, 42);
        reply_bulk_cstr(r, "Some real reply following the push reply");
    } else if (sv_eq_ci(t, "true") || sv_eq_ci(t, "false")) {
        reply_bool(r, sv_eq_ci(t, "true"));
    } else if (sv_eq_ci(t, "verbatim")) {
        reply_verbatim(r, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(r, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false");
    }
}

/* DEBUG SLEEP seconds: this worker sleeps (its clients wait, the other
 * workers' do not). */
static void debug_sleep(cmd_ctx_t *c)
{
    char num[64];
    size_t n = c->argv[2].len < sizeof num - 1 ? c->argv[2].len : sizeof num - 1;
    memcpy(num, c->argv[2].p, n);
    num[n] = '\0';
    double secs = strtod(num, NULL);
    if (!(secs > 0)) /* NaN, negative, not a number: Redis's strtod gives 0 */
        secs = 0;
    if (secs > 1e9)
        secs = 1e9;
    long long us = (long long)(secs * 1e6);
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
    reply_ok(c->r);
}

static void debug_set_active_expire(cmd_ctx_t *c)
{
    store_set_active_expire(atoi(c->argv[2].p) != 0); /* Redis's atoi: "x" is 0 */
    reply_ok(c->r);
}

static void debug_log(cmd_ctx_t *c)
{
    log_warn("DEBUG LOG: %.*s", (int)(c->argv[2].len > 4096 ? 4096 : c->argv[2].len),
             c->argv[2].p);
    reply_ok(c->r);
}

static void debug_help(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about the <key> and associated value.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush, load (every
 * partition held). MERGE and NOFLUSH load over what is there (a loaded key
 * replaces a present one). */
static void debug_reload(cmd_ctx_t *c)
{
    int save = 1, flush = 1;
    for (int i = 2; i < c->argc; i++) {
        if (arg_is(c, i, "nosave")) {
            save = 0;
        } else if (arg_is(c, i, "noflush") || arg_is(c, i, "merge")) {
            flush = 0;
        } else {
            reply_error(c->r, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    char err[512];
    if (save && persist_bgsave_running()) {
        reply_error(c->r, "ERR Background save already in progress");
        return;
    }
    int rc = persist_reload(save, flush, err, sizeof err);
    if (rc == -2) {
        reply_error(c->r, "ERR Error trying to save the DB");
        return;
    }
    if (rc != 0) {
        log_warn("DEBUG RELOAD: %s", err);
        reply_error(c->r, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log_notice("DB reloaded by DEBUG RELOAD");
    reply_ok(c->r);
}

/* DEBUG LOADAOF: the AOF flushed, the keyspace emptied and loaded from the
 * AOF again (every partition held), as Redis's tests use it. */
static void debug_loadaof(cmd_ctx_t *c)
{
    char err[600];
    if (aof_debug_loadaof(err, sizeof err) != 0) {
        log_warn("DEBUG LOADAOF: %s", err);
        reply_error(c->r, "ERR Error loading the append only file, check server logs.");
        return;
    }
    log_notice("Append Only File loaded by DEBUG LOADAOF");
    reply_ok(c->r);
}

/* DEBUG <subcommand> [<arg> ...] */
static void cmd_debug(cmd_ctx_t *c)
{
    static const struct {
        const char *name;
        cmd_handler *proc;
        int argc; /* exact; -n: at least n */
    } subs[] = {
        {"help", debug_help, 2},       {"sleep", debug_sleep, 3},
        {"object", debug_object, 3},   {"set-active-expire", debug_set_active_expire, 3},
        {"digest", debug_digest, 2},   {"digest-value", debug_digest_value, -2},
        {"protocol", debug_protocol, 3}, {"log", debug_log, 3},
        {"reload", debug_reload, -2},  {"loadaof", debug_loadaof, 2},
    };
    if (!debug_allowed(c)) {
        reply_error(c->r, "ERR DEBUG command not allowed. If the enable-debug-command option "
                          "is set to \"local\", you can run it from a local connection, "
                          "otherwise you need to set this option in the configuration file, "
                          "and then restart the server.");
        return;
    }
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        if (!sv_eq_ci(c->argv[1], subs[i].name))
            continue;
        if (subs[i].argc > 0 ? c->argc != subs[i].argc : c->argc < -subs[i].argc)
            break;
        subs[i].proc(c);
        return;
    }
    sv_t sub = c->argv[1];
    reply_errorf(c->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                       "DEBUG HELP.", (int)(sub.len > 128 ? 128 : sub.len), sub.p);
}

/* The keys DEBUG touches: OBJECT's and DIGEST-VALUE's (argv[2..]); DIGEST
 * holds every partition. */
static int debug_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    *step = 1;
    if ((sv_eq_ci(argv[1], "digest") && argc == 2) || sv_eq_ci(argv[1], "reload") ||
        sv_eq_ci(argv[1], "loadaof"))
        return 1;
    if ((sv_eq_ci(argv[1], "object") && argc == 3) ||
        (sv_eq_ci(argv[1], "digest-value") && argc >= 3)) {
        *first = 2;
        *last = argc - 1;
    }
    return 0;
}

const command_t cmds_debug[] = {
    CMD_ROW("debug", cmd_debug, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@admin @slow @dangerous", "server", "1.0.0", "A container for debugging commands",
        .keys_fn = debug_keys),
    {0},
};

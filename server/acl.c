/* ACL: the registry of users (current snapshots), AUTH, the permission
 * checks and ACL LOG. How snapshots are shared between workers: acl.h. */
#include "acl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"
#include "forksafe.h"

void acl_rules_setup(void);
void acl_rules_teardown(void);

/* Immutable snapshots swapped under this mutex: a reader holding a reference
 * never sees a user change; the writer only swaps the registry's pointer and
 * marks the old snapshot stale, which its holders see at their next command. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(reg_lock) /* a SCRIPT DEBUG YES child may take it */
static acl_user_t **users; /* current snapshots, one reference each */
static int nusers, capusers;
static _Atomic int default_nopass = 1;
static _Atomic int default_has_password;

/* [bit] (acl_cmd_bit): the command's row, or its subcommand's row
 * (cmd_subcommands.c), whose key specs and flags say what a key needs. */
static const command_t **row_of;
static void rows_setup(void);

static const command_t *c_publish, *c_spublish, *c_subscribe, *c_ssubscribe, *c_psubscribe;

static void (*describer)(void *origin, buf_t *out);
static void (*killer)(const char *user);
void acl_set_describer(void (*fn)(void *origin, buf_t *out)) { describer = fn; }
void acl_set_killer(void (*fn)(const char *user)) { killer = fn; }
static void (*changed_hook)(const char *user);
void acl_set_changed_hook(void (*fn)(const char *user)) { changed_hook = fn; }
void acl_describe(void *origin, buf_t *out)
{
    if (describer && origin)
        describer(origin, out);
    while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
        out->len--; /* the CLIENT INFO line without its end */
}

static int find_locked(const char *name, size_t n)
{
    for (int i = 0; i < nusers; i++)
        if (strlen(users[i]->name) == n && memcmp(users[i]->name, name, n) == 0)
            return i;
    return -1;
}

static void publish_locked(int at, acl_user_t *u)
{
    atomic_store_explicit(&u->fast, acl_user_all(u), memory_order_relaxed);
    if (strcmp(u->name, "default") == 0) {
        atomic_store_explicit(&default_nopass, u->nopass && u->on, memory_order_relaxed);
        atomic_store_explicit(&default_has_password, !u->nopass, memory_order_relaxed);
    }
    if (at < 0) {
        if (nusers == capusers) {
            capusers = capusers ? capusers * 2 : 8;
            users = xrealloc(users, (size_t)capusers * sizeof *users);
        }
        users[nusers++] = u;
        return;
    }
    acl_user_t *old = users[at];
    users[at] = u;
    atomic_store_explicit(&old->fast, 0, memory_order_release);
    atomic_store_explicit(&old->stale, 1, memory_order_release);
    acl_release(old);
}

int acl_default_nopass(void);
int acl_default_nopass(void) { return atomic_load_explicit(&default_nopass, memory_order_relaxed); }
int acl_default_has_password(void)
{
    return atomic_load_explicit(&default_has_password, memory_order_relaxed);
}

void acl_setup(void)
{
    acl_rules_setup();
    rows_setup();
    c_publish = command_lookup(SV_LIT("publish"));
    c_spublish = command_lookup(SV_LIT("spublish"));
    c_subscribe = command_lookup(SV_LIT("subscribe"));
    c_ssubscribe = command_lookup(SV_LIT("ssubscribe"));
    c_psubscribe = command_lookup(SV_LIT("psubscribe"));
    acl_user_t *d = acl_user_new("default", 7);
    buf_t err;
    buf_init(&err);
    static const char *const rules[] = {"on", "nopass", "~*", "&*", "+@all"};
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        acl_apply_rule(d, (sv_t){rules[i], strlen(rules[i])}, &err);
    buf_free(&err);
    pthread_mutex_lock(&reg_lock);
    publish_locked(-1, d);
    pthread_mutex_unlock(&reg_lock);
    acl_apply_requirepass();
}

void acl_teardown(void)
{
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < nusers; i++)
        acl_release(users[i]);
    free(users);
    users = NULL;
    nusers = capusers = 0;
    pthread_mutex_unlock(&reg_lock);
    acl_log_reset();
    free(row_of);
    row_of = NULL;
    acl_rules_teardown();
}

/* ---- snapshots ------------------------------------------------------------ */

void acl_release(acl_user_t *u)
{
    if (u && atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) == 1)
        acl_user_free(u);
}

acl_user_t *acl_get(const char *name, size_t n)
{
    pthread_mutex_lock(&reg_lock);
    int i = find_locked(name, n);
    acl_user_t *u = i >= 0 ? users[i] : NULL;
    if (u)
        atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&reg_lock);
    return u;
}

acl_user_t *acl_default(void) { return acl_get("default", 7); }

void acl_apply_requirepass(void)
{
    buf_t b;
    buf_init(&b);
    config_format_value(config_lookup("requirepass", 11), &b);
    acl_set_requirepass(buf_cstr(&b));
    buf_free(&b);
}

void acl_set_requirepass(const char *p)
{
    pthread_mutex_lock(&reg_lock);
    int i = find_locked("default", 7);
    acl_user_t *u = acl_user_dup(users[i]);
    u->npw = 0;
    u->nopass = !*p;
    if (*p) {
        buf_t err;
        buf_init(&err);
        buf_putc(&err, '>');
        buf_append(&err, p, strlen(p));
        buf_t e2;
        buf_init(&e2);
        acl_apply_rule(u, (sv_t){err.data, err.len}, &e2);
        buf_free(&e2);
        buf_free(&err);
    }
    publish_locked(i, u);
    pthread_mutex_unlock(&reg_lock);
}

acl_user_t *acl_authenticate(sv_t name, sv_t pass, const char *info)
{
    unsigned char h[ACL_HASH_LEN];
    acl_hash_password(pass.p, pass.len, h);
    acl_user_t *u = acl_get(name.p, name.len);
    int ok = 0;
    if (u && u->on) {
        /* Every stored hash compared in full: the time says nothing of which
         * byte or which password differed. */
        unsigned found = 0;
        for (int i = 0; i < u->npw; i++) {
            unsigned diff = 0;
            for (int j = 0; j < ACL_HASH_LEN; j++)
                diff |= (unsigned)(u->pw[i][j] ^ h[j]);
            found |= diff == 0;
        }
        ok = u->nopass || found;
    }
    if (ok)
        return u;
    acl_release(u);
    char uname[256];
    size_t n = name.len < sizeof uname - 1 ? name.len : sizeof uname - 1;
    memcpy(uname, name.p, n);
    uname[n] = '\0';
    acl_log(ACL_DENIED_AUTH, ACL_CTX_TOPLEVEL, "AUTH", 4, uname, info);
    return NULL;
}

/* ---- checks --------------------------------------------------------------- */


static void rows_setup(void)
{
    row_of = xcalloc((size_t)acl_nbits(), sizeof *row_of);
    for (int i = 0; i < command_count(); i++) {
        const command_t *c = command_at(i);
        row_of[c->id] = c;
        for (const char *const *s = c->subcommands; s && *s; s++) {
            const char *bar = strchr(*s, '|');
            int bit = acl_cmd_bit(c, 2, (sv_t[]){{c->name, strlen(c->name)},
                                                 {bar + 1, strlen(bar + 1)}});
            const command_t *sub = command_lookup_sub((sv_t){*s, strlen(*s)});
            row_of[bit] = sub ? sub : c;
        }
    }
}

/* What the key at argv[at] needs: ACL_PAT_R, ACL_PAT_W, both, or 0 (any
 * pattern), from the row's key specs as Redis 7.0 reads them (ACCESS reads;
 * INSERT, DELETE, UPDATE write). A key only the keys function finds (SORT's
 * STORE destination) takes the row's last spec (command_key_flags); a row
 * without specs, its write flag. */
static int key_need(const command_t *row, int argc, const sv_t *argv, int at)
{
    if (!row->nks)
        return (row->flags & CMD_WRITE) ? ACL_PAT_W : ACL_PAT_R;
    unsigned f = command_call_key_flags(row, argc, argv, at);
    return ((f & KS_ACCESS) ? ACL_PAT_R : 0) |
           ((f & (KS_INSERT | KS_DELETE | KS_UPDATE)) ? ACL_PAT_W : 0);
}

static int key_ok(const acl_sel_t *s, sv_t key, int need)
{
    for (uint32_t i = 0; i < s->nkeys; i++) {
        const acl_pat_t *p = &s->keys[i];
        if ((p->flags & need) == need && glob_match(p->p, p->len, key.p, key.len, 0))
            return 1;
    }
    return 0;
}

static int chan_ok(const acl_sel_t *s, sv_t ch, int literal)
{
    for (uint32_t i = 0; i < s->nchans; i++) {
        const acl_pat_t *p = &s->chans[i];
        if (literal ? (p->len == ch.len && memcmp(p->p, ch.p, ch.len) == 0)
                    : glob_match(p->p, p->len, ch.p, ch.len, 0))
            return 1;
    }
    return 0;
}

int acl_channel_allowed(const acl_user_t *u, sv_t name, int literal)
{
    for (int i = 0; i < u->nsels; i++)
        if ((u->sels[i].flags & SEL_ALLCHANNELS) || chan_ok(&u->sels[i], name, literal))
            return 1;
    return 0;
}

static int sel_check(const acl_sel_t *s, const command_t *cmd, int argc, const sv_t *argv,
                     int *errpos)
{
    int bit = acl_cmd_bit(cmd, argc, argv);
    /* AUTH, HELLO, QUIT, RESET: every user may run them, as Redis's no-auth commands. */
    if (!((s->bits[bit / 64] >> (bit % 64)) & 1) && !(cmd->flags & CMD_NOAUTH) &&
        !(s->nfargs && acl_sel_firstarg(s, cmd, argc, argv))) {
        *errpos = 0;
        return ACL_DENIED_CMD;
    }
    /* Shard channels sit at key positions (their slot): checked as channels. */
    if (!(s->flags & SEL_ALLKEYS) && (cmd->first_key || cmd->keys_fn) &&
        !(cmd->flags & CMD_PUBSUB)) {
        cmd_keys_t k;
        if (command_keys(cmd, argc, argv, &k) == 1 && cmd->keys_fn) {
            /* Every partition held (a script with undeclared keys allowed):
             * its declared keys are still checked. */
            int f = 0, l = 0, st = 1;
            if (cmd->keys_fn(argc, argv, &f, &l, &st) == 1 && f > 0 && f <= l && l < argc &&
                st >= 1)
                k.first = f, k.last = l, k.step = st;
        }
        for (int j = 0, n = cmd_keys_count(&k); j < n; j++) {
            int at = cmd_keys_at(&k, j);
            if (at < argc && !key_ok(s, argv[at], key_need(row_of[bit], argc, argv, at))) {
                *errpos = at;
                return ACL_DENIED_KEY;
            }
        }
    }
    if (!(s->flags & SEL_ALLCHANNELS) && (cmd->flags & CMD_PUBSUB)) {
        int from = 1, to = argc - 1, literal = 0;
        if (cmd == c_publish || cmd == c_spublish)
            to = 1;
        else if (cmd == c_psubscribe)
            literal = 1;
        else if (cmd != c_subscribe && cmd != c_ssubscribe)
            to = 0; /* the unsubscribes, PUBSUB: no channel is checked */
        for (int j = from; j <= to && j < argc; j++)
            if (!chan_ok(s, argv[j], literal)) {
                *errpos = j;
                return ACL_DENIED_CHANNEL;
            }
    }
    return ACL_OK;
}

int acl_check(const acl_user_t *u, const command_t *cmd, int argc, const sv_t *argv, int *errpos)
{
    int best = ACL_OK, pos = 0;
    *errpos = 0;
    for (int i = 0; i < u->nsels; i++) {
        int p = 0;
        int rc = sel_check(&u->sels[i], cmd, argc, argv, &p);
        if (rc == ACL_OK)
            return ACL_OK;
        /* Redis reports the most specific failure, and of equal ones the
         * selector that got furthest. */
        if (rc > best || (rc == best && p > pos)) {
            best = rc;
            pos = p;
        }
    }
    *errpos = pos;
    return best;
}

/* Redis 7.0's unrestricted key access: a selector that allows this call
 * and reads every key (allkeys, or a "*" pattern with R). */
int acl_reads_all_keys(const acl_user_t *u, const command_t *cmd, int argc, const sv_t *argv)
{
    if (!u || acl_fast(u))
        return 1;
    for (int i = 0; i < u->nsels; i++) {
        const acl_sel_t *s = &u->sels[i];
        int p = 0, all = (s->flags & SEL_ALLKEYS) != 0;
        for (uint32_t k = 0; !all && k < s->nkeys; k++)
            all = (s->keys[k].flags & ACL_PAT_R) && s->keys[k].len == 1 && s->keys[k].p[0] == '*';
        if (all && sel_check(s, cmd, argc, argv, &p) == ACL_OK)
            return 1;
    }
    return 0;
}

static const char *cmd_fullname(const command_t *cmd, int argc, const sv_t *argv)
{
    const char *sub = argc >= 2 ? command_subcommand_name(cmd, argv[1]) : NULL;
    return sub ? sub : cmd->name;
}

void acl_error_text(buf_t *err, int reason, const command_t *cmd, int argc, const sv_t *argv,
                    int script)
{
    err->len = 0;
    if (script) {
        buf_printf(err, "ERR The user executing the script can't %s",
                   reason == ACL_DENIED_CMD   ? "run this command or subcommand"
                   : reason == ACL_DENIED_KEY ? "access at least one of the keys mentioned in the "
                                                "command arguments"
                                              : "publish to the channel mentioned in the command");
        return;
    }
    if (reason == ACL_DENIED_CMD)
        buf_printf(err, "NOPERM this user has no permissions to run the '%s' command",
                   cmd_fullname(cmd, argc, argv));
    else
        buf_printf(err, "NOPERM this user has no permissions to access one of the %s used as "
                        "arguments",
                   reason == ACL_DENIED_KEY ? "keys" : "channels");
}

/* ---- ACL LOG -------------------------------------------------------------- */

typedef struct log_entry {
    uint64_t count;
    int reason, context;
    char *object, *user, *info;
    uint64_t ctime_ms;
    struct log_entry *prev, *next;
} log_entry_t;

/* Newest first; a refusal updates one of the LOG_SCAN newest entries when it
 * is the same event (as Redis groups them), else a new entry goes in front and
 * the oldest past acllog-max-len are dropped: O(1) per refusal. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(log_lock) /* a SCRIPT DEBUG YES child may take it */
static log_entry_t *log_head, *log_tail;
static long log_len;
#define LOG_GROUP_MS 60000 /* Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA */
#define LOG_SCAN 10

static void entry_free(log_entry_t *e)
{
    free(e->object);
    free(e->user);
    free(e->info);
    free(e);
}

static void log_unlink(log_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        log_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        log_tail = e->prev;
    e->prev = e->next = NULL;
    log_len--;
}

static void log_push_front(log_entry_t *e)
{
    e->prev = NULL;
    e->next = log_head;
    if (log_head)
        log_head->prev = e;
    else
        log_tail = e;
    log_head = e;
    log_len++;
}

void acl_log(int reason, int context, const char *object, size_t olen, const char *user,
             const char *info)
{
    long max = config_get_int(CFG_ACLLOG_MAX_LEN);
    uint64_t now = now_ms();
    if (olen > 1024)
        olen = 1024; /* a huge key or channel is named by its start */
    if (!info)
        info = "";
    pthread_mutex_lock(&log_lock);
    log_entry_t *e = NULL;
    int k = 0;
    for (log_entry_t *x = log_head; x && k < LOG_SCAN && !e; x = x->next, k++)
        if (x->reason == reason && x->context == context && strlen(x->object) == olen &&
            memcmp(x->object, object, olen) == 0 && strcmp(x->user, user) == 0 &&
            now - x->ctime_ms < LOG_GROUP_MS && x->count < UINT64_MAX)
            e = x;
    if (e) {
        log_unlink(e); /* moved to the front, updated */
        e->count++;
        e->ctime_ms = now;
        free(e->info);
        e->info = xstrndup(info, strlen(info));
    } else {
        e = xcalloc(1, sizeof *e);
        e->count = 1;
        e->reason = reason;
        e->context = context;
        e->object = xstrndup(object, olen);
        e->user = xstrndup(user, strlen(user));
        e->info = xstrndup(info, strlen(info));
        e->ctime_ms = now;
    }
    log_push_front(e);
    /* acllog-max-len bounds what failures can make the server hold. */
    while (log_len > max && log_tail) {
        log_entry_t *x = log_tail;
        log_unlink(x);
        entry_free(x);
    }
    pthread_mutex_unlock(&log_lock);
}

void acl_log_refusal(const acl_user_t *u, int reason, int context, const command_t *cmd, int argc,
                     const sv_t *argv, int errpos, const char *info)
{
    const char *obj;
    size_t olen;
    if (reason == ACL_DENIED_CMD) {
        obj = cmd_fullname(cmd, argc, argv);
        olen = strlen(obj);
    } else {
        obj = argv[errpos].p;
        olen = argv[errpos].len;
    }
    acl_log(reason, context, obj, olen, u->name, info);
}

void acl_log_reset(void)
{
    pthread_mutex_lock(&log_lock);
    while (log_head) {
        log_entry_t *x = log_head;
        log_unlink(x);
        entry_free(x);
    }
    pthread_mutex_unlock(&log_lock);
}

void acl_log_reply(reply_t *r, long count)
{
    static const char *const reasons[] = {"", "command", "key", "auth", "channel"};
    static const char *const contexts[] = {"toplevel", "multi", "lua"};
    uint64_t now = now_ms();
    pthread_mutex_lock(&log_lock);
    long n = count < log_len ? count : log_len;
    reply_array(r, n);
    log_entry_t *e = log_head;
    for (long i = 0; i < n; i++, e = e->next) {
        reply_map(r, 7);
        reply_bulk_cstr(r, "count");
        reply_int(r, (long long)e->count);
        reply_bulk_cstr(r, "reason");
        reply_bulk_cstr(r, reasons[e->reason]);
        reply_bulk_cstr(r, "context");
        reply_bulk_cstr(r, contexts[e->context]);
        reply_bulk_cstr(r, "object");
        reply_bulk_cstr(r, e->object);
        reply_bulk_cstr(r, "username");
        reply_bulk_cstr(r, e->user);
        reply_bulk_cstr(r, "age-seconds");
        reply_double(r, (double)(now - e->ctime_ms) / 1000.0);
        reply_bulk_cstr(r, "client-info");
        reply_bulk_cstr(r, e->info);
    }
    pthread_mutex_unlock(&log_lock);
}

/* ---- registry ------------------------------------------------------------- */

static int name_bad(sv_t n)
{
    for (size_t i = 0; i < n.len; i++)
        if (n.p[i] == ' ' || n.p[i] == '\0')
            return 1;
    return 0;
}

/* Apply rules to a copy of u (or a new user): the copy, or NULL with err set. */
static acl_user_t *build(const acl_user_t *u, sv_t name, int argc, const sv_t *argv, buf_t *err)
{
    acl_user_t *nu = u ? acl_user_dup(u) : acl_user_new(name.p, name.len);
    argvec_t merged = {0};
    buf_t store, why;
    buf_init(&store);
    buf_init(&why);
    int bad = 0;
    if (acl_merge_selectors(argc, argv, &merged, &store, &bad) != 0) {
        buf_printf(err, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.",
                   (int)argv[bad].len, argv[bad].p);
        acl_user_free(nu);
        nu = NULL;
    }
    for (size_t i = 0; nu && i < merged.n; i++) {
        why.len = 0;
        if (acl_apply_rule(nu, merged.v[i], &why) != 0) {
            buf_printf(err, "ERR Error in ACL SETUSER modifier '%.*s': %.*s",
                       (int)merged.v[i].len, merged.v[i].p, (int)why.len, why.data);
            acl_user_free(nu);
            nu = NULL;
        }
    }
    argvec_free(&merged);
    buf_free(&store);
    buf_free(&why);
    return nu;
}

int acl_setuser(sv_t name, int argc, const sv_t *argv, buf_t *err)
{
    if (name_bad(name)) {
        buf_printf(err, "ERR Usernames can't contain spaces or null characters");
        return -1;
    }
    pthread_mutex_lock(&reg_lock);
    int i = find_locked(name.p, name.len);
    acl_user_t *nu = build(i >= 0 ? users[i] : NULL, name, argc, argv, err);
    char *changed = nu && i >= 0 ? xstrndup(name.p, name.len) : NULL;
    if (nu)
        publish_locked(i, nu);
    pthread_mutex_unlock(&reg_lock);
    if (changed && changed_hook)
        changed_hook(changed);
    free(changed);
    return nu ? 0 : -1;
}

int acl_deluser(sv_t name)
{
    if (sv_eq_ci(name, "default") && name.len == 7 && memcmp(name.p, "default", 7) == 0)
        return -1;
    pthread_mutex_lock(&reg_lock);
    int i = find_locked(name.p, name.len);
    acl_user_t *old = i >= 0 ? users[i] : NULL;
    if (old) {
        users[i] = users[--nusers];
        old->deleted = 1;
        atomic_store_explicit(&old->fast, 0, memory_order_release);
        atomic_store_explicit(&old->stale, 1, memory_order_release);
    }
    pthread_mutex_unlock(&reg_lock);
    if (!old)
        return 0;
    if (killer)
        killer(old->name);
    acl_release(old);
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(acl_user_t *const *)a)->name, (*(acl_user_t *const *)b)->name);
}

acl_user_t **acl_users(int *n)
{
    pthread_mutex_lock(&reg_lock);
    acl_user_t **v = xmalloc(((size_t)nusers + 1) * sizeof *v);
    for (int i = 0; i < nusers; i++) {
        v[i] = users[i];
        atomic_fetch_add_explicit(&v[i]->refs, 1, memory_order_relaxed);
    }
    *n = nusers;
    pthread_mutex_unlock(&reg_lock);
    qsort(v, (size_t)*n, sizeof *v, by_name);
    return v;
}

/* The ACL file: "user NAME rules..." per line; every line must parse or
 * nothing changes. Users not in the file are dropped (default is kept as a
 * fresh default when the file does not name it). */
#define LOAD_WARN                                                                              \
    "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"

int acl_load_text(const char *path, const char *text, size_t len, buf_t *err)
{
    acl_user_t **nv = NULL;
    int nn = 0, cap = 0, lineno = 0, rc = 0;
    argvec_t words = {0};
    const char *p = text, *end = text + len;
    while (p < end && rc == 0) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        lineno++;
        const char *q = p;
        words.n = 0;
        while (q < e) {
            while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            const char *w = q;
            while (q < e && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            if (q > w)
                argvec_push(&words, (sv_t){w, (size_t)(q - w)});
        }
        p = e + 1;
        if (words.n == 0 || words.v[0].p[0] == '#')
            continue;
        if (!sv_eq_ci(words.v[0], "user") || words.n < 2) {
            buf_printf(err, "ERR %s:%d should start with user keyword followed by the username. "
                            "%s", path, lineno, LOAD_WARN);
            rc = -1;
            break;
        }
        sv_t name = words.v[1];
        for (int i = 0; i < nn; i++)
            if (strlen(nv[i]->name) == name.len && memcmp(nv[i]->name, name.p, name.len) == 0) {
                buf_printf(err, "ERR WARNING: Duplicate user '%.*s' found on line %d. %s",
                           (int)name.len, name.p, lineno, LOAD_WARN);
                rc = -1;
            }
        if (rc)
            break;
        acl_user_t *u = name_bad(name) ? NULL : acl_user_new(name.p, name.len);
        if (!u) {
            buf_printf(err, "ERR %s:%d should start with user keyword followed by the username. "
                            "%s", path, lineno, LOAD_WARN);
            rc = -1;
            break;
        }
        argvec_t merged = {0};
        buf_t store, why;
        buf_init(&store);
        buf_init(&why);
        int bad = 0;
        if (acl_merge_selectors((int)words.n - 2, words.v + 2, &merged, &store, &bad) != 0) {
            buf_printf(err, "ERR %s:%d: Unmatched parenthesis in acl selector starting at "
                            "'%.*s'. %s", path, lineno, (int)words.v[2 + bad].len,
                       words.v[2 + bad].p, LOAD_WARN);
            rc = -1;
        }
        for (size_t i = 0; rc == 0 && i < merged.n; i++)
            if (acl_apply_rule(u, merged.v[i], &why) != 0) {
                buf_printf(err, "ERR %s:%d: Error in applying operation '%.*s': %.*s. %s", path,
                           lineno, (int)merged.v[i].len, merged.v[i].p, (int)why.len, why.data,
                           LOAD_WARN);
                rc = -1;
            }
        argvec_free(&merged);
        buf_free(&store);
        buf_free(&why);
        if (rc) {
            acl_user_free(u);
            break;
        }
        if (nn == cap) {
            cap = cap ? cap * 2 : 8;
            nv = xrealloc(nv, (size_t)cap * sizeof *nv);
        }
        nv[nn++] = u;
    }
    argvec_free(&words);
    if (rc) {
        for (int i = 0; i < nn; i++)
            acl_user_free(nv[i]);
        free(nv);
        return -1;
    }
    /* All parsed: swap the whole registry. Users that are gone or changed
     * go stale; the default user is kept when the file leaves it out. */
    pthread_mutex_lock(&reg_lock);
    acl_user_t **oldv = users;
    int oldn = nusers;
    /* As Redis 7.0, the clients of every user but default are disconnected:
     * their names, to tell the client layer once the lock is released. */
    char **gone = xcalloc((size_t)oldn + 1, sizeof *gone);
    int ngone = 0;
    users = NULL;
    nusers = capusers = 0;
    int have_default = 0;
    for (int i = 0; i < nn; i++) {
        have_default |= strcmp(nv[i]->name, "default") == 0;
        publish_locked(-1, nv[i]);
    }
    for (int i = 0; i < oldn; i++) {
        if (!have_default && strcmp(oldv[i]->name, "default") == 0) {
            publish_locked(-1, oldv[i]);
            continue;
        }
        if (find_locked(oldv[i]->name, strlen(oldv[i]->name)) < 0)
            oldv[i]->deleted = 1;
        if (strcmp(oldv[i]->name, "default") != 0)
            gone[ngone++] = xstrndup(oldv[i]->name, strlen(oldv[i]->name));
        atomic_store_explicit(&oldv[i]->fast, 0, memory_order_release);
        atomic_store_explicit(&oldv[i]->stale, 1, memory_order_release);
        acl_release(oldv[i]);
    }
    pthread_mutex_unlock(&reg_lock);
    for (int i = 0; i < ngone; i++) {
        if (killer)
            killer(gone[i]);
        free(gone[i]);
    }
    free(gone);
    free(oldv);
    free(nv);
    return 0;
}

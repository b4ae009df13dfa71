/* config — the option table, its values (parsing, storing, defaults, auto
 * values) and the runtime side: lookups for CONFIG GET, CONFIG SET, and the
 * reads any thread makes. server.ini, the command line, --help and
 * --print-ini are in config_ini.c. See config.h for the contract. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "fdlimit.h"
#include "log.h"
#include "util.h"
#include "forksafe.h"

config_t cfg;

const config_opt_t config_opts[CONFIG_NOPTS] = {
#define ROW(ID, field, section_, key, type_, def_, min_, max_, flags_, words_, desc_)          \
    {.id = CFG_##ID,                                                                           \
     .section = section_,                                                                      \
     .name = key,                                                                              \
     .type = type_,                                                                            \
     .def = def_,                                                                              \
     .min = min_,                                                                              \
     .max = max_,                                                                              \
     .flags = flags_,                                                                          \
     .words = words_,                                                                          \
     .desc = desc_},
    CONFIG_OPTIONS(ROW)
#undef ROW
};

/* Where each option's value lives in cfg. */
static void *const opt_ptr[CONFIG_NOPTS] = {
#define PTR(ID, field, ...) (void *)&cfg.field,
    CONFIG_OPTIONS(PTR)
#undef PTR
};

static const struct {
    const char *name;
    int id;
} aliases[] = {
#define ALIAS(name, ID) {name, CFG_##ID},
    CONFIG_ALIASES(ALIAS)
#undef ALIAS
};
#define NALIASES ((int)(sizeof aliases / sizeof aliases[0]))

/* str_lock guards the string pointers (readers copy or compare under it);
 * set_lock serialises CONFIG SETs so that their hooks apply in order. */
static pthread_mutex_t str_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(str_lock) /* a SCRIPT DEBUG YES child may take it */
static config_changed_fn *changed_hook;
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(set_lock) /* a SCRIPT DEBUG YES child may take it */

#define PASSWORD_CMP_LEN 512 /* requirepass's maximum length (see its row) */

/* Values a startup step resolved for the configured ones (config_resolve):
 * set on the main thread before the workers start, then only read. */
static struct {
    long long configured, running;
    unsigned char set;
} resolved[CONFIG_NOPTS];

/* ---- values ------------------------------------------------------------- */


static int word_index(const config_opt_t *o, const char *v, size_t len)
{
    for (int i = 0; o->words[i]; i++)
        if (strlen(o->words[i]) == len && strncasecmp(o->words[i], v, len) == 0)
            return i;
    return -1;
}

static const char *word_of(const config_opt_t *o, long long v)
{
    for (long long i = 0; o->words[i]; i++)
        if (i == v)
            return o->words[i];
    return "unknown";
}

/* An address list: split on blanks, at least 1 and at most 16 (Redis's
 * limit), each a plausible address, joined again with single spaces. */
static int parse_addrs(const char *v, size_t len, cval_t *out, char *err, size_t errlen)
{
    buf_t b;
    buf_init(&b);
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)v[i]))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)v[i]))
            i++;
        if (i == start)
            break;
        size_t tl = i - start;
        const char *t = v + start;
        if (++n > 16) {
            buf_free(&b);
            return config_fail(err, errlen, "Too many bind addresses specified.");
        }
        if ((t[0] == '-' && tl == 1) || tl > 64) {
            buf_free(&b);
            return config_fail(err, errlen, "invalid bind address '%.*s'",
                               (int)(tl > 64 ? 64 : tl), t);
        }
        if (b.len)
            buf_putc(&b, ' ');
        buf_append(&b, t, tl);
    }
    if (n == 0) {
        /* Redis treats an empty bind as every address; an empty value is too
         * easy to write by accident for that. */
        buf_free(&b);
        return config_fail(err, errlen,
                           "bind needs at least one address (\"* -::*\" listens on every one)");
    }
    out->s = xstrndup(b.data, b.len);
    buf_free(&b);
    return 0;
}

int config_parse_value(const config_opt_t *o, const char *v, size_t len, cval_t *out, char *err,
                       size_t errlen)
{
    return config_parse_over(o, NULL, v, len, out, err, errlen);
}

/* Parse v[0..len) for option o. Error texts are Redis's CONFIG SET reasons. */
int config_parse_over(const config_opt_t *o, const cval_t *base, const char *v, size_t len,
                      cval_t *out, char *err, size_t errlen)
{
    long long n = 0;
    out->n = 0;
    out->s = NULL;
    switch (o->type) {
    case CFGT_INT:
        if (str_to_ll(v, len, &n) != 0)
            return config_fail(err, errlen, "argument couldn't be parsed into an integer");
        break;
    case CFGT_MEM:
        if ((o->flags & CFGF_PERCENT) && len > 1 && v[len - 1] == '%') {
            if (str_to_ll(v, len - 1, &n) != 0 || n < 0 || n > 100)
                return config_fail(err, errlen, "argument must be a memory or percent value");
            out->n = -n; /* Redis keeps a percentage as its negative too */
            return 0;
        }
        if (!config_parse_mem(v, len, &n))
            return config_fail(err, errlen, "argument must be a memory value");
        break;
    case CFGT_BOOL:
        if (config_name_eq(v, len, "yes"))
            out->n = 1;
        else if (!config_name_eq(v, len, "no"))
            return config_fail(err, errlen, "argument must be 'yes' or 'no'");
        return 0;
    case CFGT_ENUM: {
        int i = word_index(o, v, len);
        if (i < 0) {
            char words[256];
            size_t w = 0;
            words[0] = '\0';
            for (int j = 0; o->words[j]; j++)
                w += (size_t)snprintf(words + w, w < sizeof words ? sizeof words - w : 0, "%s%s",
                                      j ? ", " : "", o->words[j]);
            return config_fail(err, errlen, "argument must be one of the following: %s", words);
        }
        out->n = i;
        return 0;
    }
    case CFGT_STR:
        if (memchr(v, '\0', len))
            return config_fail(err, errlen, "argument must not contain NUL bytes");
        if (o->max > 0 && (long long)len > o->max)
            return config_fail(err, errlen, "argument must be at most %lld bytes", o->max);
        if (o->flags & CFGF_ADDRS)
            return parse_addrs(v, len, out, err, errlen);
        if (o->flags & CFGF_OBL)
            return config_parse_obl(v, len, base ? base->s : NULL, out, err, errlen);
        if (o->flags & CFGF_EVENTS)
            return config_parse_events(v, len, out, err, errlen);
        if (o->flags & CFGF_PCTS)
            return config_parse_pcts(v, len, out, err, errlen);
        if (o->flags & CFGF_SAVE)
            return config_parse_save(v, len, out, err, errlen);
        if ((o->flags & CFGF_FNAME) && (memchr(v, '/', len) || len == 0))
            return config_fail(err, errlen, "%s can't be a path, just a filename", o->name);
        out->s = xstrndup(v, len);
        return 0;
    }
    if (n < o->min || n > o->max)
        return config_fail(err, errlen, "argument must be between %lld and %lld inclusive",
                           o->min, o->max);
    if ((o->flags & CFGF_POW2) && n != 0 && (n & (n - 1)) != 0)
        return config_fail(err, errlen, "argument must be %sa power of two",
                           o->min == 0 ? "0 or " : "");
    out->n = n;
    return 0;
}

/* Store a parsed value (taking v->s). Any thread; strings under str_lock. */
void config_put_value(int id, cval_t *v)
{
    void *p = opt_ptr[id];
    switch (config_opts[id].type) {
    case CFGT_MEM:
        atomic_store_explicit((_Atomic long long *)p, v->n, memory_order_relaxed);
        break;
    case CFGT_STR: {
        char **sp = p;
        pthread_mutex_lock(&str_lock);
        char *old = *sp;
        *sp = v->s;
        if (config_opts[id].flags & CFGF_OBL)
            config_obl_store(v->s);
        if (config_opts[id].flags & CFGF_EVENTS)
            config_events_store((int)v->n);
        pthread_mutex_unlock(&str_lock);
        free(old);
        v->s = NULL;
        break;
    }
    default:
        atomic_store_explicit((_Atomic int *)p, (int)v->n, memory_order_relaxed);
        break;
    }
}

void config_cval_free(cval_t *v)
{
    free(v->s);
    v->s = NULL;
}

void config_defaults(void)
{
    char err[256];
    memset(resolved, 0, sizeof resolved);
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        cval_t v;
        const config_opt_t *o = &config_opts[i];
        if (config_parse_value(o, o->def, strlen(o->def), &v, err, sizeof err) != 0)
            log_fatal("config: default of %s is invalid: %s", o->name, err);
        config_put_value(i, &v);
    }
}

void config_teardown(void)
{
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        if (config_opts[i].type != CFGT_STR)
            continue;
        char **sp = opt_ptr[i];
        pthread_mutex_lock(&str_lock);
        free(*sp);
        *sp = NULL;
        pthread_mutex_unlock(&str_lock);
    }
}


void config_resolve(int id, long long value)
{
    cval_t v = {.n = value};
    resolved[id].configured = config_opts[id].type == CFGT_MEM ? (long long)config_get_u64(id)
                                                               : config_get_int(id);
    resolved[id].running = value;
    resolved[id].set = 1;
    config_put_value(id, &v);
}

/* ---- lookup ------------------------------------------------------------- */

const config_opt_t *config_lookup(const char *name, size_t len)
{
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (config_name_eq(name, len, config_opts[i].name))
            return &config_opts[i];
    for (int i = 0; i < NALIASES; i++)
        if (config_name_eq(name, len, aliases[i].name))
            return &config_opts[aliases[i].id];
    return NULL;
}

const char *config_name_at(int i, const config_opt_t **opt)
{
    const config_opt_t *o = NULL;
    const char *name = NULL;
    if (i >= 0 && i < CONFIG_NOPTS) {
        o = &config_opts[i];
        name = o->name;
    } else if (i >= CONFIG_NOPTS && i < CONFIG_NOPTS + NALIASES) {
        o = &config_opts[aliases[i - CONFIG_NOPTS].id];
        name = aliases[i - CONFIG_NOPTS].name;
    }
    if (opt)
        *opt = o;
    return name;
}

/* The checks across options, for config_finalize and CONFIG SET alike. */
static int check_limits(long long max_bulk, long long qbuf, long long high, long long low,
                        char *err, size_t errlen)
{
    if (max_bulk > qbuf)
        return config_fail(err, errlen,
                           "proto-max-bulk-len (%lld) must not exceed client-query-buffer-limit "
                           "(%lld): a request must fit in the query buffer",
                           max_bulk, qbuf);
    if (high && low >= high)
        return config_fail(err, errlen,
                           "client-output-low-water (%lld) must be below client-output-high-water "
                           "(%lld)",
                           low, high);
    return 0;
}

int config_finalize(int online_cpus, char *err, size_t errlen)
{
    int threads = config_get(threads);
    if (threads == 0)
        threads = online_cpus < 1 ? 1 : online_cpus;
    if (threads > config_opts[CFG_THREADS].max)
        threads = (int)config_opts[CFG_THREADS].max;
    config_resolve(CFG_THREADS, threads);

    if (config_get(partitions) == 0) {
        int p = 16;
        while (p < 4 * threads && p < config_opts[CFG_PARTITIONS].max)
            p <<= 1;
        config_resolve(CFG_PARTITIONS, p);
    }

    return check_limits(config_get(proto_max_bulk_len), config_get(client_query_buffer_limit),
                        config_get(client_output_high_water), config_get(client_output_low_water),
                        err, errlen);
}

const char *config_policy_name(void)
{
    return word_of(&config_opts[CFG_POLICY], config_get(policy));
}

/* ---- any thread --------------------------------------------------------- */

int config_get_int(int id)
{
    switch (config_opts[id].type) {
    case CFGT_MEM: {
        long long v = atomic_load_explicit((_Atomic long long *)opt_ptr[id], memory_order_relaxed);
        return v > INT_MAX ? INT_MAX : (int)v;
    }
    case CFGT_STR:
        return 0;
    default:
        return atomic_load_explicit((_Atomic int *)opt_ptr[id], memory_order_relaxed);
    }
}

uint64_t config_get_u64(int id)
{
    switch (config_opts[id].type) {
    case CFGT_MEM:
        return (uint64_t)atomic_load_explicit((_Atomic long long *)opt_ptr[id],
                                              memory_order_relaxed);
    case CFGT_STR:
        return 0;
    default: {
        int v = atomic_load_explicit((_Atomic int *)opt_ptr[id], memory_order_relaxed);
        return v < 0 ? 0 : (uint64_t)v;
    }
    }
}

uint64_t config_get_mem_or_pct(int id)
{
    long long v = atomic_load_explicit((_Atomic long long *)opt_ptr[id], memory_order_relaxed);
    return v >= 0 ? (uint64_t)v : config_get_u64(CFG_MAXMEMORY) / 100 * (uint64_t)-v;
}

void config_on_change(config_changed_fn *fn) { changed_hook = fn; }

int config_check_password(const char *p, size_t n)
{
    /* Always scan at least PASSWORD_CMP_LEN bytes (requirepass's maximum), so
     * the time depends only on n: neither on where the bytes differ nor on the
     * password's length. */
    size_t scan = n > PASSWORD_CMP_LEN ? n : PASSWORD_CMP_LEN;
    unsigned diff = 0;
    pthread_mutex_lock(&str_lock);
    const char *pw = cfg.requirepass ? cfg.requirepass : "";
    size_t pwlen = strlen(pw);
    for (size_t i = 0; i < scan; i++) {
        unsigned char a = i < n ? (unsigned char)p[i] : 0;
        unsigned char b = i < pwlen ? (unsigned char)pw[i] : 0;
        diff |= (unsigned)(a ^ b);
    }
    pthread_mutex_unlock(&str_lock);
    diff |= (unsigned)(n != pwlen);
    return pwlen > 0 && diff == 0;
}

void config_format_value(const config_opt_t *o, buf_t *out)
{
    switch (o->type) {
    case CFGT_INT:
    case CFGT_MEM: {
        long long v = o->type == CFGT_MEM ? (long long)config_get_u64(o->id)
                                          : (long long)config_get_int(o->id);
        if (v < 0 && (o->flags & CFGF_PERCENT))
            buf_printf(out, "%lld%%", -v);
        else
            buf_printf(out, "%lld", v);
        break;
    }
    case CFGT_BOOL:
        buf_printf(out, "%s", config_get_int(o->id) ? "yes" : "no");
        break;
    case CFGT_ENUM:
        buf_printf(out, "%s", word_of(o, config_get_int(o->id)));
        break;
    case CFGT_STR: {
        char **sp = opt_ptr[o->id];
        pthread_mutex_lock(&str_lock);
        if (*sp)
            buf_append(out, *sp, strlen(*sp));
        pthread_mutex_unlock(&str_lock);
        break;
    }
    }
}

/* Index of option id among opts[0..n), or -1. */
static int index_of(int n, const config_opt_t *const *opts, int id)
{
    for (int i = 0; i < n; i++)
        if (opts[i]->id == id)
            return i;
    return -1;
}

/* What CONFIG SET checks once every value parsed (under set_lock): the
 * cross-checks on the values the set would leave, then maxclients against the
 * open-file limit (raised if it can be: the only side effect, and harmless
 * when the set fails). Returns -1, or the index of the pair to blame. */
static int check_runtime(int n, const config_opt_t *const *opts, const cval_t *v, char *err,
                         size_t errlen)
{
    int ib = index_of(n, opts, CFG_PROTO_MAX_BULK_LEN);
    int iq = index_of(n, opts, CFG_CLIENT_QUERY_BUFFER_LIMIT);
    int ih = index_of(n, opts, CFG_CLIENT_OUTPUT_HIGH_WATER);
    int il = index_of(n, opts, CFG_CLIENT_OUTPUT_LOW_WATER);
    if (ib >= 0 || iq >= 0 || ih >= 0 || il >= 0) {
        long long bulk = ib >= 0 ? v[ib].n : config_get(proto_max_bulk_len);
        long long qbuf = iq >= 0 ? v[iq].n : config_get(client_query_buffer_limit);
        long long high = ih >= 0 ? v[ih].n : config_get(client_output_high_water);
        long long low = il >= 0 ? v[il].n : config_get(client_output_low_water);
        if (check_limits(bulk, qbuf, high, low, err, errlen) != 0)
            return ib >= 0 ? ib : iq >= 0 ? iq : ih >= 0 ? ih : il;
    }
    int im = index_of(n, opts, CFG_MAXCLIENTS);
    if (im >= 0 && v[im].n > config_get(maxclients)) {
        long long fit = fdlimit_fit(v[im].n, NULL);
        if (fit < v[im].n) {
            config_fail(err, errlen,
                        "The operating system is not able to handle the specified number of "
                        "clients, try with %lld",
                        fit < 0 ? 0 : fit);
            return im;
        }
    }
    return -1;
}

/* The apply step of CONFIG SET and of a reload, under set_lock: check n parsed
 * values together (check_runtime), then store them all, set the log level and
 * call the change hook; or, when a check fails, store none and set *bad. The
 * values' strings are taken or freed either way. 0 or -1. */
static int apply_locked(int n, const config_opt_t *const *opts, cval_t *v, int *bad, char *err,
                        size_t errlen)
{
    int failed = check_runtime(n, opts, v, err, errlen);
    if (failed >= 0) {
        for (int j = 0; j < n; j++)
            config_cval_free(&v[j]);
        *bad = failed;
        return -1;
    }
    int log_changed = 0;
    for (int i = 0; i < n; i++) {
        log_changed |= opts[i]->id == CFG_LOGLEVEL;
        config_put_value(opts[i]->id, &v[i]);
    }
    /* Hooks read the stored values, under set_lock: the last CONFIG SET's
     * values are the ones applied last. */
    if (log_changed)
        log_set_level(config_get(loglevel));
    if (changed_hook)
        for (int i = 0; i < n; i++)
            changed_hook(opts[i]->id);
    return 0;
}

int config_set_runtime(int n, const config_opt_t *const *opts, const sv_t *values, int *bad,
                       char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (!(opts[i]->flags & CFGF_RUNTIME)) {
            *bad = i;
            return config_fail(err, errlen, "can't set immutable config");
        }
    }
    cval_t *v = xcalloc((size_t)(n ? n : 1), sizeof *v);
    pthread_mutex_lock(&set_lock);
    int failed = -1;
    for (int i = 0; i < n && failed < 0; i++)
        if (config_parse_value(opts[i], values[i].p, values[i].len, &v[i], err, errlen) != 0)
            failed = i;
    int rc = -1;
    if (failed >= 0) {
        for (int j = 0; j < n; j++)
            config_cval_free(&v[j]);
        *bad = failed;
    } else {
        rc = apply_locked(n, opts, v, bad, err, errlen);
    }
    pthread_mutex_unlock(&set_lock);
    free(v);
    return rc;
}

/* ---- reload ------------------------------------------------------------- */

/* 1 when option id runs with the value want gives it. A value resolved at
 * startup (config_resolve) still running stands for the one configured. */
static int running_as(int id, const cval_t *want)
{
    if (config_opts[id].type == CFGT_STR) {
        pthread_mutex_lock(&str_lock);
        const char *cur = *(char **)opt_ptr[id];
        int same = strcmp(cur ? cur : "", want->s ? want->s : "") == 0;
        pthread_mutex_unlock(&str_lock);
        return same;
    }
    long long cur = config_opts[id].type == CFGT_MEM ? (long long)config_get_u64(id)
                                                     : config_get_int(id);
    if (resolved[id].set && cur == resolved[id].running && want->n == resolved[id].configured)
        return 1;
    return cur == want->n;
}

int config_running_as(int id, const char *v, size_t len)
{
    cval_t want;
    if (config_parse_value(&config_opts[id], v, len, &want, NULL, 0) != 0)
        return -1;
    int same = running_as(id, &want);
    config_cval_free(&want);
    return same;
}

/* An applied option, as CONFIG GET shows it (but not the password). */
static void log_applied(const config_opt_t *o)
{
    if (o->id == CFG_REQUIREPASS) {
        log_notice("config reload: %s.%s changed", o->section, o->name);
        return;
    }
    buf_t b;
    buf_init(&b);
    config_format_value(o, &b);
    log_notice("config reload: %s.%s = %.*s", o->section, o->name, (int)b.len,
               b.data ? b.data : "");
    buf_free(&b);
}

int config_reload_values(cval_t *want, const char *source, char *err, size_t errlen)
{
    const config_opt_t *opts[CONFIG_NOPTS];
    cval_t v[CONFIG_NOPTS];
    char why[256];
    int n = 0, bad = 0;
    /* Compared and applied under set_lock, so no CONFIG SET comes between. */
    pthread_mutex_lock(&set_lock);
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        if (!(config_opts[i].flags & CFGF_RUNTIME) || running_as(i, &want[i]))
            continue;
        opts[n] = &config_opts[i];
        v[n++] = want[i];
        want[i].s = NULL; /* v[] has it now */
    }
    int rc = apply_locked(n, opts, v, &bad, why, sizeof why);
    for (int i = 0; rc == 0 && i < n; i++)
        log_applied(opts[i]);
    pthread_mutex_unlock(&set_lock);
    if (rc != 0)
        return config_fail(err, errlen, "%s.%s: %s", opts[bad]->section, opts[bad]->name, why);
    /* The others never change after startup: read without the lock. */
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (!(config_opts[i].flags & CFGF_RUNTIME) && !running_as(i, &want[i]))
            log_warn("config reload: %s.%s changed in %s; restart to apply",
                     config_opts[i].section, config_opts[i].name, source);
    return 0;
}

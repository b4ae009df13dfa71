/* config — the option table's parsers, the server.ini loader, runtime changes,
 * and the generated --help and server.ini. See config.h for the contract. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_util.h"
#include "log.h"
#include "store.h"

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
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int auth_required;

#define PASSWORD_CMP_LEN 512 /* requirepass's maximum length (see its row) */

/* ---- values ------------------------------------------------------------- */

/* A parsed value, not yet stored: n for numbers, s (owned) for strings. */
typedef struct cval {
    long long n;
    char *s;
} cval_t;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Redis's string2ll rules: optional '-', digits, no leading zeros, no spaces. */
static int parse_ll(const char *p, size_t len, long long *out)
{
    size_t i = 0;
    int neg = 0;
    if (len == 0)
        return 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len || (p[i] == '0' && (len - i > 1 || neg)))
        return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

static int unit_is(const char *u, size_t ulen, const char *lit)
{
    return ulen == strlen(lit) && strncasecmp(u, lit, ulen) == 0;
}

/* A memory size as redis.conf writes it: digits, then b, k, kb, m, mb, g or gb
 * (k = 1000, kb = 1024, ...), case-insensitive. Unlike Redis, a value that
 * overflows is refused instead of wrapping. */
static int parse_mem(const char *p, size_t len, long long *out)
{
    size_t i = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == 0)
        return 0;
    const char *u = p + i;
    size_t ulen = len - i;
    long long mul;
    if (ulen == 0 || unit_is(u, ulen, "b"))
        mul = 1;
    else if (unit_is(u, ulen, "k"))
        mul = 1000;
    else if (unit_is(u, ulen, "kb"))
        mul = 1024;
    else if (unit_is(u, ulen, "m"))
        mul = 1000LL * 1000;
    else if (unit_is(u, ulen, "mb"))
        mul = 1024LL * 1024;
    else if (unit_is(u, ulen, "g"))
        mul = 1000LL * 1000 * 1000;
    else if (unit_is(u, ulen, "gb"))
        mul = 1024LL * 1024 * 1024;
    else
        return 0;
    long long v = 0;
    for (size_t j = 0; j < i; j++) {
        int d = p[j] - '0';
        if (v > (LLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (v > LLONG_MAX / mul)
        return 0;
    *out = v * mul;
    return 1;
}

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

/* An address list: split on blanks, at most 16 (Redis's limit), each a
 * plausible address, joined again with single spaces. */
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
            return fail(err, errlen, "Too many bind addresses specified.");
        }
        if ((t[0] == '-' && tl == 1) || tl > 64) {
            buf_free(&b);
            return fail(err, errlen, "invalid bind address '%.*s'", (int)(tl > 64 ? 64 : tl), t);
        }
        if (b.len)
            buf_putc(&b, ' ');
        buf_append(&b, t, tl);
    }
    out->s = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    return 0;
}

/* Parse v[0..len) for option o. Error texts are Redis's CONFIG SET reasons. */
static int parse_value(const config_opt_t *o, const char *v, size_t len, cval_t *out, char *err,
                       size_t errlen)
{
    long long n = 0;
    out->n = 0;
    out->s = NULL;
    switch (o->type) {
    case CFGT_INT:
        if (!parse_ll(v, len, &n))
            return fail(err, errlen, "argument couldn't be parsed into an integer");
        break;
    case CFGT_MEM:
        if (!parse_mem(v, len, &n))
            return fail(err, errlen, "argument must be a memory value");
        break;
    case CFGT_BOOL:
        if (unit_is(v, len, "yes"))
            out->n = 1;
        else if (!unit_is(v, len, "no"))
            return fail(err, errlen, "argument must be 'yes' or 'no'");
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
            return fail(err, errlen, "argument must be one of the following: %s", words);
        }
        out->n = i;
        return 0;
    }
    case CFGT_STR:
        if (memchr(v, '\0', len))
            return fail(err, errlen, "argument must not contain NUL bytes");
        if (o->max > 0 && (long long)len > o->max)
            return fail(err, errlen, "argument must be at most %lld bytes", o->max);
        if (o->flags & CFGF_ADDRS)
            return parse_addrs(v, len, out, err, errlen);
        out->s = xstrndup(v, len);
        return 0;
    }
    if (n < o->min || n > o->max)
        return fail(err, errlen, "argument must be between %lld and %lld inclusive", o->min,
                    o->max);
    if ((o->flags & CFGF_POW2) && n != 0 && (n & (n - 1)) != 0)
        return fail(err, errlen, "argument must be %sa power of two", o->min == 0 ? "0 or " : "");
    out->n = n;
    return 0;
}

/* Store a parsed value (taking v->s). Any thread; strings under str_lock. */
static void put_value(int id, cval_t *v)
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
        if (id == CFG_REQUIREPASS)
            atomic_store_explicit(&auth_required, v->s[0] != '\0', memory_order_relaxed);
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

static void cval_free(cval_t *v)
{
    free(v->s);
    v->s = NULL;
}

void config_defaults(void)
{
    char err[256];
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        cval_t v;
        if (parse_value(&config_opts[i], config_opts[i].def, strlen(config_opts[i].def), &v, err,
                        sizeof err) != 0)
            log_fatal("config: default of %s is invalid: %s", config_opts[i].name, err);
        put_value(i, &v);
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
    atomic_store_explicit(&auth_required, 0, memory_order_relaxed);
}

/* ---- lookup ------------------------------------------------------------- */

static int name_eq(const char *a, size_t alen, const char *lit)
{
    return alen == strlen(lit) && strncasecmp(a, lit, alen) == 0;
}

const config_opt_t *config_lookup(const char *name, size_t len)
{
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (name_eq(name, len, config_opts[i].name))
            return &config_opts[i];
    for (int i = 0; i < NALIASES; i++)
        if (name_eq(name, len, aliases[i].name))
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

static int section_known(const char *s, size_t len)
{
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (name_eq(s, len, config_opts[i].section))
            return 1;
    return 0;
}

/* Trimmed view of s[0..len). */
static sv_t trim(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return (sv_t){s, len};
}

/* ---- the ini file ------------------------------------------------------- */

typedef struct load {
    FILE *f;
    const char *path;
    char *line; /* getline's buffer */
    size_t linecap;
    int lineno;   /* lines handed to inih so far: the line inih is parsing */
    int failed;   /* an error was recorded in err */
    int err_line; /* its line */
    char *err;
    size_t errlen;
    /* An unknown [section] is reported with its first key; one without keys
     * is reported when the next header or the end of the file comes. */
    char pend_section[64];
    int pend_line;
    cval_t staged[CONFIG_NOPTS];
    unsigned char has[CONFIG_NOPTS];
} load_t;

static void load_error(load_t *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void load_error(load_t *l, int line, const char *fmt, ...)
{
    if (l->failed)
        return;
    l->failed = 1;
    l->err_line = line;
    int n = snprintf(l->err, l->errlen, "%s:%d: ", l->path, line);
    if (n < 0 || (size_t)n >= l->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void flush_pending_section(load_t *l)
{
    if (l->pend_line)
        load_error(l, l->pend_line, "unknown section [%s]", l->pend_section);
    l->pend_line = 0;
}

/* inih's reader: hands inih one line at a time, which gives us its line number,
 * and normalises what inih would get wrong. Leading blanks are removed so an
 * indented key is a key, not a continuation of the previous value; a line
 * longer than inih's buffer is an error (a comment is just cut short). */
static char *load_reader(char *str, int num, void *stream)
{
    load_t *l = stream;
    ssize_t n = getline(&l->line, &l->linecap, l->f);
    if (n < 0) {
        flush_pending_section(l);
        return NULL;
    }
    l->lineno++;
    const char *s = l->line;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s); /* a NUL byte ends the line, as with fgets */
    if (len + 1 > (size_t)num) {
        if (*s != ';' && *s != '#')
            load_error(l, l->lineno, "line too long (at most %d bytes)", num - 3);
        len = 0;
        s = "";
    }
    if (*s == '[') {
        flush_pending_section(l);
        const char *end = strchr(s, ']');
        if (end) {
            sv_t name = trim(s + 1, (size_t)(end - s - 1));
            if (!section_known(name.p, name.len)) {
                snprintf(l->pend_section, sizeof l->pend_section, "%.*s", (int)name.len, name.p);
                l->pend_line = l->lineno;
            }
        }
    }
    memcpy(str, s, len);
    str[len] = '\0';
    return str;
}

/* Values are quoted in messages up to 64 bytes, then "...". */
static const char *more(const char *v)
{
    return strlen(v) > 64 ? "..." : "";
}

/* "value" -> value: lets an ini file spell an empty string. */
static sv_t unquote(const char *v)
{
    size_t len = strlen(v);
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
        return (sv_t){v + 1, len - 2};
    return (sv_t){v, len};
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
    load_t *l = user;
    int line = l->lineno;
    sv_t sect = trim(section, strlen(section));
    if (l->failed)
        return 1; /* one error is reported; the rest of the file is not applied */
    if (sect.len == 0) {
        load_error(l, line, "key '%s' is outside any [section]", name);
        return 0;
    }
    if (!section_known(sect.p, sect.len)) {
        l->pend_line = 0;
        load_error(l, line, "unknown section [%.*s] (key '%s')", (int)sect.len, sect.p, name);
        return 0;
    }
    const config_opt_t *o = config_lookup(name, strlen(name));
    if (!o) {
        load_error(l, line, "unknown key '%s' in [%.*s]", name, (int)sect.len, sect.p);
        return 0;
    }
    if (!name_eq(sect.p, sect.len, o->section)) {
        load_error(l, line, "unknown key '%s' in [%.*s] (it belongs in [%s])", name,
                   (int)sect.len, sect.p, o->section);
        return 0;
    }
    char why[256];
    cval_t v;
    sv_t val = unquote(value);
    if (parse_value(o, val.p, val.len, &v, why, sizeof why) != 0) {
        load_error(l, line, "bad value '%.64s%s' for key '%s' in [%s]: %s", value,
                   more(value), name, o->section, why);
        return 0;
    }
    cval_free(&l->staged[o->id]); /* a repeated key: the last one wins */
    l->staged[o->id] = v;
    l->has[o->id] = 1;
    return 1;
}

int config_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    load_t *l = xcalloc(1, sizeof *l);
    l->f = f;
    l->path = path;
    l->err = err;
    l->errlen = errlen;
    int rc = ini_parse_stream(load_reader, l, load_handler, l);
    if (ferror(f))
        load_error(l, l->lineno, "read error: %s", strerror(errno));
    /* inih reports the first bad line: ours (the handler said no), or a line it
     * could not parse, which may come before the first error we found. */
    if (rc > 0 && (!l->failed || rc < l->err_line)) {
        l->failed = 0;
        load_error(l, rc, "syntax error (expected [section] or key = value)");
    } else if (rc < 0) {
        load_error(l, l->lineno, "cannot parse (out of memory)");
    }
    int ok = !l->failed;
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        if (ok && l->has[i])
            put_value(i, &l->staged[i]);
        cval_free(&l->staged[i]);
    }
    free(l->line);
    fclose(f);
    free(l);
    return ok ? 0 : -1;
}

int config_set_arg(const char *section_dot_key, const char *value, char *err, size_t errlen)
{
    const char *arg = section_dot_key;
    while (*arg == '-')
        arg++;
    const char *dot = strchr(arg, '.');
    if (!dot)
        return fail(err, errlen, "unknown option --%s (options are --section.key value)", arg);
    size_t slen = (size_t)(dot - arg);
    const char *key = dot + 1;
    const config_opt_t *o = config_lookup(key, strlen(key));
    if (!section_known(arg, slen))
        return fail(err, errlen, "unknown option --%s: no section [%.*s]", arg, (int)slen, arg);
    if (!o || !name_eq(arg, slen, o->section))
        return fail(err, errlen, "unknown option --%s: no key '%s' in [%.*s]", arg, key,
                    (int)slen, arg);
    if (!value)
        return fail(err, errlen, "option --%s needs a value", arg);
    char why[256];
    cval_t v;
    if (parse_value(o, value, strlen(value), &v, why, sizeof why) != 0)
        return fail(err, errlen, "bad value '%.64s%s' for --%s: %s", value, more(value), arg, why);
    put_value(o->id, &v);
    return 0;
}

int config_finalize(int online_cpus, char *err, size_t errlen)
{
    int threads = config_get(threads);
    if (threads == 0)
        threads = online_cpus < 1 ? 1 : online_cpus;
    if (threads > config_opts[CFG_THREADS].max)
        threads = (int)config_opts[CFG_THREADS].max;
    atomic_store_explicit(&cfg.threads, threads, memory_order_relaxed);

    if (config_get(partitions) == 0) {
        int p = 16;
        while (p < 4 * threads && p < config_opts[CFG_PARTITIONS].max)
            p <<= 1;
        atomic_store_explicit(&cfg.partitions, p, memory_order_relaxed);
    }

    if (!cfg.bind || !cfg.bind[0]) {
        cval_t v = {0, xstrndup("* -::*", 6)};
        put_value(CFG_BIND, &v);
    }

    if (config_get(proto_max_bulk_len) > config_get(client_query_buffer_limit))
        return fail(err, errlen,
                    "proto-max-bulk-len (%lld) must not exceed client-query-buffer-limit (%lld): "
                    "a request must fit in the query buffer",
                    config_get(proto_max_bulk_len), config_get(client_query_buffer_limit));
    return 0;
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

/* Declared in cmd_util.h for the string commands (APPEND, SETRANGE). */
size_t cmd_max_bulk_len(void)
{
    return (size_t)config_get(proto_max_bulk_len);
}

int config_auth_required(void)
{
    return atomic_load_explicit(&auth_required, memory_order_relaxed);
}

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
    case CFGT_MEM:
        buf_printf(out, "%lld", o->type == CFGT_MEM ? (long long)config_get_u64(o->id)
                                                    : (long long)config_get_int(o->id));
        break;
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

int config_set_runtime(int n, const config_opt_t *const *opts, const sv_t *values, int *bad,
                       char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (!(opts[i]->flags & CFGF_RUNTIME)) {
            *bad = i;
            return fail(err, errlen, "can't set immutable config");
        }
    }
    cval_t *v = xcalloc((size_t)(n ? n : 1), sizeof *v);
    pthread_mutex_lock(&set_lock);
    for (int i = 0; i < n; i++) {
        if (parse_value(opts[i], values[i].p, values[i].len, &v[i], err, errlen) != 0) {
            for (int j = 0; j < i; j++)
                cval_free(&v[j]);
            pthread_mutex_unlock(&set_lock);
            free(v);
            *bad = i;
            return -1;
        }
    }
    int mem_changed = 0, log_changed = 0;
    for (int i = 0; i < n; i++) {
        int id = opts[i]->id;
        mem_changed |= id == CFG_MAXMEMORY || id == CFG_MAXMEMORY_POLICY ||
                       id == CFG_MAXMEMORY_SAMPLES;
        log_changed |= id == CFG_LOGLEVEL;
        put_value(id, &v[i]);
    }
    /* Hooks read the stored values, under set_lock: the last CONFIG SET's
     * values are the ones applied last. */
    if (mem_changed)
        store_set_maxmemory((uint64_t)config_get(maxmemory), config_get(maxmemory_policy),
                            config_get(maxmemory_samples));
    if (log_changed)
        log_set_level(config_get(loglevel));
    pthread_mutex_unlock(&set_lock);
    free(v);
    return 0;
}

/* ---- generated help and server.ini --------------------------------------- */

/* 1048576 -> "1mb": sizes as a person would write them in server.ini. */
static void fmt_mem(char *dst, size_t len, long long v)
{
    if (v && v % (1024LL * 1024 * 1024) == 0)
        snprintf(dst, len, "%lldgb", v / (1024LL * 1024 * 1024));
    else if (v && v % (1024LL * 1024) == 0)
        snprintf(dst, len, "%lldmb", v / (1024LL * 1024));
    else if (v && v % 1024 == 0)
        snprintf(dst, len, "%lldkb", v / 1024);
    else
        snprintf(dst, len, "%lld", v);
}

/* What values an option takes, e.g. "integer 1..65535", "yes|no". */
static void domain(const config_opt_t *o, char *dst, size_t len)
{
    char lo[32], hi[32];
    size_t w = 0;
    switch (o->type) {
    case CFGT_INT:
        if (o->flags & CFGF_POW2)
            snprintf(dst, len, "%spower of two %lld..%lld", o->min == 0 ? "0 or " : "",
                     o->min == 0 ? 1 : o->min, o->max);
        else if (o->max == INT_MAX)
            snprintf(dst, len, "integer >= %lld", o->min);
        else
            snprintf(dst, len, "integer %lld..%lld", o->min, o->max);
        break;
    case CFGT_MEM:
        fmt_mem(lo, sizeof lo, o->min);
        fmt_mem(hi, sizeof hi, o->max);
        if (o->max == LLONG_MAX)
            snprintf(dst, len, "size >= %s", lo);
        else
            snprintf(dst, len, "size %s..%s", lo, hi);
        break;
    case CFGT_BOOL:
        snprintf(dst, len, "yes|no");
        break;
    case CFGT_ENUM:
        dst[0] = '\0';
        for (int i = 0; o->words[i]; i++)
            w += (size_t)snprintf(dst + w, w < len ? len - w : 0, "%s%s", i ? "|" : "",
                                  o->words[i]);
        break;
    case CFGT_STR:
        snprintf(dst, len, "%s", o->flags & CFGF_ADDRS ? "address list" : "string");
        break;
    }
}

static void print_default(FILE *f, const config_opt_t *o)
{
    if (o->type == CFGT_STR && o->def[0] == '\0')
        fputs("\"\"", f);
    else
        fputs(o->def, f);
}

void config_print_help(FILE *f)
{
    fputs("Options, set in the ini file's [section] as key = value, or on the command line\n"
          "as --section.key value (overriding the file). [runtime]: CONFIG SET may change it.\n"
          "Sizes accept 1024, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb.\n",
          f);
    const char *section = "";
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        char dom[256];
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            fprintf(f, "\n[%s]\n", section);
        }
        domain(o, dom, sizeof dom);
        fprintf(f, "  --%s.%s <%s>  (default ", o->section, o->name, dom);
        print_default(f, o);
        fprintf(f, ")%s\n      %s\n", o->flags & CFGF_RUNTIME ? " [runtime]" : "", o->desc);
    }
}

void config_print_ini(FILE *f)
{
    fputs("; percore server.ini: every option, set to its default.\n"
          ";\n"
          "; Generated from the option table in server/config.h (percore-server --print-ini);\n"
          "; tests/unit/config checks that this file matches it.\n"
          "; Sizes accept 1024, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb; booleans are yes/no.\n"
          "; Any key can be overridden on the command line as --section.key value.\n"
          "; Keys marked [runtime] can also be changed with CONFIG SET.\n",
          f);
    const char *section = "";
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        char dom[256];
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            fprintf(f, "\n[%s]\n", section);
        }
        domain(o, dom, sizeof dom);
        fprintf(f, "; %s (%s)%s\n%s = ", o->desc, dom, o->flags & CFGF_RUNTIME ? " [runtime]" : "",
                o->name);
        print_default(f, o);
        fputc('\n', f);
    }
}

/* config_ini — the file side of config: the server.ini loader (inih, with
 * file, line and key named in every error), the --section.key command-line
 * overrides, the SIGHUP reload that reads both again, and the generated --help
 * and server.ini. The main thread before the workers start; then only
 * config_reload_file, on worker 0, which reads the running values only
 * through config.c (atomics, its locks). The table and its values are in
 * config.c. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_internal.h"

/* ---- the ini file ------------------------------------------------------- */

/* 1 when some option lives in [s[0..len)]. */
static int section_known(const char *s, size_t len)
{
    for (int i = 0; i < CONFIG_NOPTS; i++)
        if (config_name_eq(s, len, config_opts[i].section))
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
    cval_t *into; /* see put() */
} load_t;

/* Keep v for option id, taking v->s: as the running value, or, when into is
 * not NULL, as into[id] (a reload's wanted values, which v was parsed over). */
static void put(cval_t *into, int id, cval_t *v)
{
    if (!into) {
        config_put_value(id, v);
        return;
    }
    config_cval_free(&into[id]);
    into[id] = *v;
    v->s = NULL;
}

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
    /* Every blank, '\r', '\v' and '\f' too: inih takes a line starting with
     * any of them as the previous value's continuation. */
    while (*s && *s != '\n' && isspace((unsigned char)*s))
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
    if (!config_name_eq(sect.p, sect.len, o->section)) {
        load_error(l, line, "unknown key '%s' in [%.*s] (it belongs in [%s])", name,
                   (int)sect.len, sect.p, o->section);
        return 0;
    }
    char why[256];
    cval_t v;
    sv_t val = unquote(value);
    if (config_parse_over(o, l->into ? &l->into[o->id] : NULL, val.p, val.len, &v, why,
                          sizeof why) != 0) {
        load_error(l, line, "bad value '%.64s%s' for key '%s' in [%s]: %s", value,
                   more(value), name, o->section, why);
        return 0;
    }
    config_cval_free(&l->staged[o->id]); /* a repeated key: the last one wins */
    l->staged[o->id] = v;
    l->has[o->id] = 1;
    return 1;
}

/* config_load_file, kept as put(into, ...) keeps values. */
static int load_file(const char *path, cval_t *into, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return config_fail(err, errlen, "%s: %s", path, strerror(errno));
    load_t *l = xcalloc(1, sizeof *l);
    l->into = into;
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
            put(into, i, &l->staged[i]);
        config_cval_free(&l->staged[i]);
    }
    free(l->line);
    fclose(f);
    free(l);
    return ok ? 0 : -1;
}

int config_load_file(const char *path, char *err, size_t errlen)
{
    return load_file(path, NULL, err, errlen);
}

/* config_set_arg, kept as put(into, ...) keeps values. */
static int set_arg(const char *section_dot_key, const char *value, cval_t *into, char *err,
                   size_t errlen)
{
    const char *arg = section_dot_key;
    while (*arg == '-')
        arg++;
    const char *dot = strchr(arg, '.');
    if (!dot)
        return config_fail(err, errlen, "unknown option --%s (options are --section.key value)",
                           arg);
    size_t slen = (size_t)(dot - arg);
    const char *key = dot + 1;
    const config_opt_t *o = config_lookup(key, strlen(key));
    if (!section_known(arg, slen))
        return config_fail(err, errlen, "unknown option --%s: no section [%.*s]", arg,
                           (int)slen, arg);
    if (!o || !config_name_eq(arg, slen, o->section))
        return config_fail(err, errlen, "unknown option --%s: no key '%s' in [%.*s]", arg, key,
                           (int)slen, arg);
    if (!value)
        return config_fail(err, errlen, "option --%s needs a value", arg);
    char why[256];
    cval_t v;
    if (config_parse_over(o, into ? &into[o->id] : NULL, value, strlen(value), &v, why,
                          sizeof why) != 0)
        return config_fail(err, errlen, "bad value '%.64s%s' for --%s: %s", value, more(value),
                           arg, why);
    put(into, o->id, &v);
    return 0;
}

int config_set_arg(const char *section_dot_key, const char *value, char *err, size_t errlen)
{
    return set_arg(section_dot_key, value, NULL, err, errlen);
}

/* ---- reload ------------------------------------------------------------- */

int config_reload_file(const char *path, const char *const *overrides, char *err,
                       size_t errlen)
{
    /* What startup would make of it, in the same order, but into want[]:
     * each step parses over the one before (client-output-buffer-limit keeps
     * the classes it does not name from there, not from the running value). */
    cval_t want[CONFIG_NOPTS] = {{0}};
    int rc = 0;
    for (int i = 0; i < CONFIG_NOPTS && rc == 0; i++)
        rc = config_parse_value(&config_opts[i], config_opts[i].def, strlen(config_opts[i].def),
                                &want[i], err, errlen);
    if (rc == 0 && path)
        rc = load_file(path, want, err, errlen);
    for (const char *const *a = overrides; rc == 0 && a && a[0] && a[1]; a += 2)
        rc = set_arg(a[0], a[1], want, err, errlen);
    if (rc == 0)
        rc = config_reload_values(want, path ? path : "the command line", err, errlen);
    for (int i = 0; i < CONFIG_NOPTS; i++)
        config_cval_free(&want[i]);
    return rc;
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
            snprintf(dst, len, "size %s..%s%s", lo, hi,
                     o->flags & CFGF_PERCENT ? " or 0%..100%" : "");
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

static const char *runtime_mark(const config_opt_t *o)
{
    return o->flags & CFGF_RUNTIME ? " [runtime]" : "";
}

/* One option as --help shows it; dom is what values it takes. */
static void help_row(FILE *f, const config_opt_t *o, const char *dom)
{
    fprintf(f, "  --%s.%s <%s>  (default ", o->section, o->name, dom);
    print_default(f, o);
    fprintf(f, ")%s\n      %s\n", runtime_mark(o), o->desc);
}

/* One option as server.ini has it: a comment, then key = default. */
static void ini_row(FILE *f, const config_opt_t *o, const char *dom)
{
    fprintf(f, "; %s (%s)%s\n%s = ", o->desc, dom, runtime_mark(o), o->name);
    print_default(f, o);
    fputc('\n', f);
}

/* The table in order, a [section] line before each section's first option:
 * shared by --help and --print-ini. */
static void print_options(FILE *f, const char *preamble,
                          void (*row)(FILE *, const config_opt_t *, const char *))
{
    const char *section = "";
    fputs(preamble, f);
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        char dom[256];
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            fprintf(f, "\n[%s]\n", section);
        }
        domain(o, dom, sizeof dom);
        row(f, o, dom);
    }
}

void config_print_help(FILE *f)
{
    print_options(
        f,
        "Options, set in the ini file's [section] as key = value, or on the command line\n"
        "as --section.key value (overriding the file). [runtime]: CONFIG SET may change it,\n"
        "and so may an edit of the file followed by SIGHUP (systemctl reload percore).\n"
        "Sizes accept 1024, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb.\n",
        help_row);
}

void config_print_ini(FILE *f)
{
    print_options(
        f,
        "; percore server.ini: every option, set to its default.\n"
        ";\n"
        "; Generated from the option table in server/config.h (percore-server --print-ini);\n"
        "; tests/unit/config checks that this file matches it.\n"
        "; Sizes accept 1024, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb; booleans are yes/no.\n"
        "; Any key can be overridden on the command line as --section.key value.\n"
        "; Keys marked [runtime] can also be changed with CONFIG SET, or by editing this\n"
        "; file and sending SIGHUP (systemctl reload percore).\n",
        ini_row);
}

/* config_rewrite — CONFIG REWRITE: the ini file the server started with,
 * brought to the running values. Comments, blank lines and the order of keys
 * stay; a key whose value differs from the running one gets the running
 * value (its inline comment kept); an option set at runtime that the file
 * lacks, and whose value is not the default, is added at the end of its
 * [section] (a new section at the end when the file has none). The result
 * goes to a temporary file in the same directory, synced and renamed over the
 * original, so a reader sees the old file or the new one, never half. Any
 * worker; rewrites are serialised. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_internal.h"

static pthread_mutex_t rewrite_lock = PTHREAD_MUTEX_INITIALIZER;
static char *config_path; /* set once by main before the workers start */

void config_set_file(const char *path)
{
    free(config_path);
    config_path = path && *path ? xstrndup(path, strlen(path)) : NULL;
}

const char *config_file(void) { return config_path; }

typedef struct line {
    char *text; /* without its newline */
    int section; /* index into sections of the section it belongs to; -1 before any */
    int opt;     /* the option a key line sets, else -1 */
} line_t;

static sv_t trim_sv(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return (sv_t){s, len};
}

/* The running value as the file writes it ("" quoted, so it reads back). */
static void value_text(int id, buf_t *out)
{
    buf_t v;
    buf_init(&v);
    config_format_value(&config_opts[id], &v);
    if (v.len == 0)
        buf_printf(out, "\"\"");
    else
        buf_append(out, v.data, v.len);
    buf_free(&v);
}

/* Split "key = value ; comment" at its parts: the key, the value (unquoted),
 * and where the inline comment starts (inih's: ';' after whitespace). */
static int split_kv(const char *t, sv_t *key, sv_t *val, const char **comment)
{
    const char *eq = strpbrk(t, "=:");
    if (!eq)
        return -1;
    *key = trim_sv(t, (size_t)(eq - t));
    const char *v = eq + 1, *end = v + strlen(v);
    *comment = end;
    for (const char *p = v; *p; p++)
        if (*p == ';' && p > v && isspace((unsigned char)p[-1])) {
            *comment = p - 1;
            while (*comment > v && isspace((unsigned char)(*comment)[-1]))
                (*comment)--;
            break;
        }
    *val = trim_sv(v, (size_t)(*comment - v));
    if (val->len >= 2 && val->p[0] == '"' && val->p[val->len - 1] == '"')
        val->p++, val->len -= 2;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* The new text of the file at path into out; -1 with errno set. */
static int build(const char *path, buf_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    line_t *lines = NULL;
    size_t n = 0, cap = 0;
    char *l = NULL;
    size_t lcap = 0;
    ssize_t len;
    char sections[32][64];
    int nsec = 0, cur = -1;
    unsigned char present[CONFIG_NOPTS] = {0};
    while ((len = getline(&l, &lcap, f)) >= 0) {
        while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
            l[--len] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines)
                abort();
        }
        line_t *ln = &lines[n++];
        ln->text = xstrndup(l, (size_t)len);
        ln->opt = -1;
        sv_t t = trim_sv(l, (size_t)len);
        if (t.len && t.p[0] == '[') {
            const char *close = memchr(t.p, ']', t.len);
            sv_t name = trim_sv(t.p + 1, close ? (size_t)(close - t.p - 1) : t.len - 1);
            cur = -1;
            for (int s = 0; s < nsec; s++)
                if (strlen(sections[s]) == name.len && !strncasecmp(sections[s], name.p, name.len))
                    cur = s;
            if (cur < 0 && nsec < 32) {
                snprintf(sections[nsec], sizeof sections[nsec], "%.*s", (int)name.len, name.p);
                cur = nsec++;
            }
        } else if (t.len && t.p[0] != ';' && t.p[0] != '#') {
            sv_t key, val;
            const char *comment;
            const config_opt_t *o;
            if (split_kv(ln->text, &key, &val, &comment) == 0 &&
                (o = config_lookup(key.p, key.len)) != NULL) {
                ln->opt = o->id;
                present[o->id] = 1;
            }
        }
        ln->section = cur;
    }
    free(l);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        for (size_t i = 0; i < n; i++)
            free(lines[i].text);
        free(lines);
        errno = rerr;
        return -1;
    }
    /* What to add: options the file lacks that run with a value not the
     * default, by section. */
    unsigned char add[CONFIG_NOPTS] = {0};
    for (int id = 0; id < CONFIG_NOPTS; id++) {
        const config_opt_t *o = &config_opts[id];
        add[id] = !present[id] && config_running_as(id, o->def, strlen(o->def)) == 0;
    }
    /* The last line of each section that holds something (its keys go after). */
    size_t last[32];
    for (int s = 0; s < nsec; s++)
        last[s] = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        sv_t t = trim_sv(lines[i].text, strlen(lines[i].text));
        if (lines[i].section >= 0 && t.len && t.p[0] != ';' && t.p[0] != '#')
            last[lines[i].section] = i;
    }
    for (size_t i = 0; i < n; i++) {
        line_t *ln = &lines[i];
        sv_t key, val;
        const char *comment;
        if (ln->opt >= 0 && split_kv(ln->text, &key, &val, &comment) == 0 &&
            config_running_as(ln->opt, val.p, val.len) != 1) {
            /* keep the indentation and the key as written */
            buf_append(out, ln->text, (size_t)(key.p + key.len - ln->text));
            buf_printf(out, " = ");
            value_text(ln->opt, out);
            buf_printf(out, "%s\n", comment);
        } else {
            buf_printf(out, "%s\n", ln->text);
        }
        for (int s = 0; s < nsec; s++) {
            if (last[s] != i)
                continue;
            for (int id = 0; id < CONFIG_NOPTS; id++)
                if (add[id] && !strcasecmp(config_opts[id].section, sections[s])) {
                    buf_printf(out, "%s = ", config_opts[id].name);
                    value_text(id, out);
                    buf_printf(out, "\n");
                    add[id] = 0;
                }
        }
    }
    /* Sections the file does not have, in the table's order. */
    for (int id = 0; id < CONFIG_NOPTS; id++) {
        if (!add[id])
            continue;
        const char *sec = config_opts[id].section;
        buf_printf(out, "%s[%s]\n", out->len ? "\n" : "", sec);
        for (int j = id; j < CONFIG_NOPTS; j++)
            if (add[j] && !strcmp(config_opts[j].section, sec)) {
                buf_printf(out, "%s = ", config_opts[j].name);
                value_text(j, out);
                buf_printf(out, "\n");
                add[j] = 0;
            }
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i].text);
    free(lines);
    return 0;
}

int config_rewrite(void)
{
    if (!config_path) {
        errno = ENOENT;
        return -2;
    }
    pthread_mutex_lock(&rewrite_lock);
    buf_t out;
    buf_init(&out);
    int rc = build(config_path, &out), saved = 0;
    char *tmp = NULL;
    if (rc == 0) {
        size_t tl = strlen(config_path) + 8;
        tmp = xmalloc(tl);
        snprintf(tmp, tl, "%s.XXXXXX", config_path);
        struct stat st; /* the new file keeps the old one's permissions */
        mode_t mode = stat(config_path, &st) == 0 ? (st.st_mode & 07777) : 0644;
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0 || write_all(fd, out.data ? out.data : "", out.len) != 0 || fsync(fd) != 0 ||
            fchmod(fd, mode) != 0)
            rc = -1;
        saved = errno;
        if (fd >= 0)
            close(fd);
        if (rc == 0 && rename(tmp, config_path) != 0)
            rc = -1, saved = errno;
        if (rc != 0 && fd >= 0)
            unlink(tmp);
        if (rc == 0) { /* the rename itself survives a crash once its directory is synced */
            char *d = xstrndup(config_path, strlen(config_path));
            int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            free(d);
        }
    } else {
        saved = errno;
    }
    free(tmp);
    buf_free(&out);
    pthread_mutex_unlock(&rewrite_lock);
    errno = saved;
    return rc;
}

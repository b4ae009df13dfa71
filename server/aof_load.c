/* aof_load — the AOF at startup: the manifest, the base (an RDB file, or
 * RESP commands), the incr files replayed in order; an old single
 * appendonly.aof upgraded into the directory layout; the layout created
 * when there is none. Runs before any worker (or holding every partition),
 * with logging off, so replayed commands are not logged again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "aof_internal.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "db.h"
#include "persist.h"
#include "script.h"
#include "store.h"

static int fail(char *err, size_t n, const char *fmt, const char *a, const char *b)
{
    snprintf(err, n, fmt, a, b);
    return -1;
}

/* ---- the manifest --------------------------------------------------------- */

int aof_manifest_read(const char *path, aof_manifest_t *m, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "Can't open the AOF manifest %s: %s", path, strerror(errno));
    char line[1024];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(f)) {
            rc = fail(err, errlen, "The AOF manifest file %s contains too long line%s", path, "");
            break;
        }
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r')
            continue;
        char *save = NULL, *name = NULL, *type = NULL, *seq = NULL;
        for (char *k = strtok_r(line, " \r\n", &save); k; k = strtok_r(NULL, " \r\n", &save)) {
            char *v = strtok_r(NULL, " \r\n", &save);
            if (!v)
                break;
            if (!strcmp(k, "file"))
                name = v;
            else if (!strcmp(k, "seq"))
                seq = v;
            else if (!strcmp(k, "type"))
                type = v;
        }
        if (!name || !seq || !type || strlen(name) >= AOF_NAME_MAX || strchr(name, '/') ||
            (strcmp(type, "b") && strcmp(type, "i") && strcmp(type, "h"))) {
            rc = fail(err, errlen, "Invalid AOF manifest file format (%s)%s", path, "");
            break;
        }
        long long s = atoll(seq);
        if (!strcmp(type, "b")) {
            if (m->base.name[0]) {
                rc = fail(err, errlen, "Found duplicate base file information in %s%s", path, "");
                break;
            }
            snprintf(m->base.name, AOF_NAME_MAX, "%s", name);
            m->base.seq = s;
        } else if (!strcmp(type, "i")) {
            if (m->nincr && s <= m->incr[m->nincr - 1].seq) {
                rc = fail(err, errlen, "Found a non-monotonic sequence number in %s%s", path, "");
                break;
            }
            aof_manifest_add_incr(m, name, s);
        } /* "h": history, deleted by Redis later: ignored */
    }
    fclose(f);
    if (rc == 0 && !m->base.name[0] && !m->nincr)
        rc = fail(err, errlen, "Invalid AOF manifest file format (%s: no files)%s", path, "");
    return rc;
}

/* ---- replaying commands ----------------------------------------------------- */

typedef struct queued {
    int argc;
    sv_t *argv;
} queued_t;

typedef struct replay {
    const char *file;
    int db;
    int *parts;
    buf_t out;
    queued_t *q;
    int nq, capq;
    char *err;
    size_t errlen;
} replay_t;

static int run_one(replay_t *rp, int argc, sv_t *argv)
{
    const command_t *cmd = command_lookup(argv[0]);
    if (!cmd) {
        snprintf(rp->err, rp->errlen, "Unknown command '%.*s' reading the append only file %s",
                 (int)(argv[0].len > 64 ? 64 : argv[0].len), argv[0].p, rp->file);
        return -1;
    }
    if (sv_eq_ci(argv[0], "select")) {
        long long db;
        if (argc != 2 || str_to_ll(argv[1].p, argv[1].len, &db) != 0 || db < 0 ||
            db >= store_databases())
            return fail(rp->err, rp->errlen, "Bad file format reading the append only file %s: %s",
                        rp->file, "SELECT of a database out of range");
        rp->db = (int)db;
        return 0;
    }
    cmd_caller_t who = {.worker = -1};
    buf_t e;
    buf_init(&e);
    int rc = command_check(&who, cmd, argc, argv, &e);
    buf_free(&e);
    if (rc != 0)
        return fail(rp->err, rp->errlen, "Bad file format reading the append only file %s: %s",
                    rp->file, "wrong number of arguments");
    reply_t r = {.out = &rp->out, .proto = 2};
    cmd_ctx_t ctx = {
        .argc = argc,
        .argv = argv,
        .r = &r,
        .db = rp->db,
        .now_ms = now_ms(),
        .dbp = &rp->db,
        .cmd = cmd,
        .worker = -1,
        .parts = rp->parts,
        .nparts = store_partitions(),
        .peer = "aof",
    };
    command_call(&ctx, 0);
    rp->out.len = 0;
    return 0;
}

static void drop_queue(replay_t *rp)
{
    for (int i = 0; i < rp->nq; i++)
        free(rp->q[i].argv);
    rp->nq = 0;
}

/* Parse a decimal after *p up to "\r\n": 0, 1 when the data ends first, -1 bad. */
static int read_num(const char *d, size_t n, size_t *p, long long *out)
{
    size_t i = *p;
    long long v = 0;
    int digits = 0;
    while (i < n && d[i] >= '0' && d[i] <= '9' && digits < 18) {
        v = v * 10 + (d[i] - '0');
        i++;
        digits++;
    }
    if (i + 1 >= n)
        return 1;
    if (!digits || d[i] != '\r' || d[i + 1] != '\n')
        return -1;
    *p = i + 2;
    *out = v;
    return 0;
}

static int replay(replay_t *rp, const char *d, size_t n, size_t *valid, int *truncated)
{
    size_t p = 0, before_multi = 0;
    int in_multi = 0;
    *valid = 0;
    *truncated = 0;
    while (p < n) {
        if (d[p] == '#') { /* an annotation (#TS:...) */
            const char *nl = memchr(d + p, '\n', n - p);
            if (!nl)
                break;
            p = (size_t)(nl - d) + 1;
            if (!in_multi)
                *valid = p;
            continue;
        }
        if (d[p] != '*')
            return fail(rp->err, rp->errlen,
                        "Bad file format reading the append only file %s: make a backup of your "
                        "AOF file, then use ./redis-check-aof --fix <filename.manifest>%s",
                        rp->file, "");
        p++;
        long long argc, len;
        int r = read_num(d, n, &p, &argc);
        /* every argument takes at least 6 bytes: more than the rest holds is a cut file */
        if (r == 1 || (r == 0 && (size_t)argc > (n - p) / 6 + 1))
            break;
        if (r < 0 || argc < 1)
            return fail(rp->err, rp->errlen, "Bad file format reading the append only file %s%s",
                        rp->file, "");
        sv_t *argv = xmalloc((size_t)argc * sizeof *argv);
        int j = 0, cut = 0;
        for (; j < argc; j++) {
            if (p >= n) {
                cut = 1;
                break;
            }
            if (d[p] != '$') {
                free(argv);
                return fail(rp->err, rp->errlen,
                            "Bad file format reading the append only file %s%s", rp->file, "");
            }
            p++;
            r = read_num(d, n, &p, &len);
            if (r == 1 || (r == 0 && (size_t)len + 2 > n - p)) {
                cut = 1;
                break;
            }
            if (r < 0 || d[p + (size_t)len] != '\r' || d[p + (size_t)len + 1] != '\n') {
                free(argv);
                return fail(rp->err, rp->errlen,
                            "Bad file format reading the append only file %s%s", rp->file, "");
            }
            argv[j] = (sv_t){d + p, (size_t)len};
            p += (size_t)len + 2;
        }
        if (cut) {
            free(argv);
            break;
        }
        if (sv_eq_ci(argv[0], "multi")) {
            free(argv);
            drop_queue(rp);
            in_multi = 1;
            before_multi = *valid;
            continue;
        }
        if (sv_eq_ci(argv[0], "exec") && in_multi) {
            free(argv);
            for (int i = 0; i < rp->nq; i++)
                if (run_one(rp, rp->q[i].argc, rp->q[i].argv) != 0) {
                    drop_queue(rp);
                    return -1;
                }
            drop_queue(rp);
            in_multi = 0;
            *valid = p;
            continue;
        }
        if (in_multi) {
            if (rp->nq == rp->capq) {
                rp->capq = rp->capq ? 2 * rp->capq : 16;
                rp->q = xrealloc(rp->q, (size_t)rp->capq * sizeof *rp->q);
            }
            rp->q[rp->nq++] = (queued_t){(int)argc, argv};
            continue;
        }
        int rc = run_one(rp, (int)argc, argv);
        free(argv);
        if (rc != 0)
            return -1;
        *valid = p;
    }
    if (in_multi) { /* a transaction cut off: none of it happened */
        drop_queue(rp);
        *valid = before_multi;
    }
    *truncated = *valid < n;
    return 0;
}

int aof_load_commands(const char *path, int last, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "Can't open the append-only file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s is not a regular file%s", path, "");
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *d = xmalloc(n ? n : 1);
    while (got < n) {
        ssize_t k = read(fd, d + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    replay_t rp = {.file = path, .err = err, .errlen = errlen};
    rp.parts = xmalloc((size_t)store_partitions() * sizeof *rp.parts);
    for (int i = 0; i < store_partitions(); i++)
        rp.parts[i] = i;
    buf_init(&rp.out);
    size_t valid;
    int truncated, rc = replay(&rp, d, got, &valid, &truncated);
    drop_queue(&rp);
    free(rp.q);
    free(rp.parts);
    buf_free(&rp.out);
    free(d);
    if (rc == 0 && truncated) {
        if (!last || !config_get(aof_load_truncated)) {
            snprintf(err, errlen,
                     "Unexpected end of file reading the append only file %s. You can: 1) Make a "
                     "backup of your AOF file, then use ./redis-check-aof --fix "
                     "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
                     "configuration option to yes and restart the server.",
                     path);
            return -1;
        }
        log_warn("!!! Warning: short read while loading the AOF file %s!!!", path);
        log_warn("!!! Truncating the AOF %s at offset %zu !!!", path, valid);
        if (truncate(path, (off_t)valid) != 0) {
            snprintf(err, errlen, "Error truncating the AOF file %s: %s", path, strerror(errno));
            return -1;
        }
        log_warn("AOF %s loaded anyway because aof-load-truncated is enabled", path);
    }
    return rc;
}

/* ---- startup -------------------------------------------------------------- */

static int load_file(const char *name, int base, int last, char *err, size_t errlen,
                     long long *size)
{
    char path[AOF_PATH_MAX + AOF_NAME_MAX];
    aof_file_path(path, sizeof path, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "Can't open the append-only file %s: %s", path, strerror(errno));
    char head[5] = {0};
    ssize_t k = read(fd, head, 5);
    close(fd);
    int rc;
    if (k == 5 && !memcmp(head, "REDIS", 5)) {
        rc = persist_load_file(path, err, errlen);
        if (rc > 0)
            rc = fail(err, errlen, "Can't open the append-only file %s%s", path, "");
    } else {
        rc = aof_load_commands(path, last, err, errlen);
    }
    struct stat st;
    *size = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    if (rc == 0)
        log_notice("DB loaded from %s file %s", base ? "base" : "incr", name);
    return rc;
}

/* No manifest: upgrade dir/appendfilename, or start with an empty base. */
static int create_layout(const char *dir, char *err, size_t errlen)
{
    char old[AOF_PATH_MAX + AOF_NAME_MAX], path[AOF_PATH_MAX + AOF_NAME_MAX];
    const char *slash = strrchr(dir, '/');
    snprintf(old, sizeof old, "%.*s/%s", (int)(slash - dir), dir, aof_basename());
    struct stat st;
    if (stat(old, &st) == 0 && S_ISREG(st.st_mode)) {
        aof_file_path(path, sizeof path, aof_basename());
        if (rename(old, path) != 0)
            return fail(err, errlen, "Error moving the old AOF file %s: %s", old, strerror(errno));
        snprintf(aof_mf.base.name, AOF_NAME_MAX, "%s", aof_basename());
        aof_mf.base.seq = 1;
        log_notice("Successfully migrated an old-style AOF into the AOF directory (%s)", dir);
        return 0;
    }
    snprintf(aof_mf.base.name, AOF_NAME_MAX, "%s.1.base.rdb", aof_basename());
    aof_mf.base.seq = 1;
    aof_file_path(path, sizeof path, aof_mf.base.name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    buf_t funcs;
    persist_gather_functions(&funcs);
    int e = fd < 0 ? errno : persist_write_aof_base(fd, &funcs);
    buf_free(&funcs);
    if (fd >= 0) {
        if (!e && fsync(fd) != 0)
            e = errno;
        close(fd);
    }
    if (e)
        return fail(err, errlen, "Can't create the AOF base %s: %s", path, strerror(e));
    return 0;
}

int aof_load_at_start(char *err, size_t errlen)
{
    if (!config_get(appendonly))
        return 0;
    char dir[AOF_PATH_MAX], mpath[AOF_PATH_MAX + AOF_NAME_MAX];
    aof_dir_path(dir, sizeof dir);
    snprintf(mpath, sizeof mpath, "%s/%s.manifest", dir, aof_basename());
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return fail(err, errlen, "Can't open or create append-only dir %s: %s", dir,
                    strerror(errno));
    int fresh = 0;
    struct stat st;
    if (stat(mpath, &st) != 0) {
        if (create_layout(dir, err, errlen) != 0)
            return -1;
        fresh = 1;
    } else if (aof_manifest_read(mpath, &aof_mf, err, errlen) != 0) {
        return -1;
    }
    uint64_t t0 = mono_us();
    long long size, total = 0, base = 0;
    if (aof_mf.base.name[0]) {
        if (load_file(aof_mf.base.name, 1, aof_mf.nincr == 0, err, errlen, &size) != 0)
            return -1;
        base = total = size;
    }
    for (int i = 0; i < aof_mf.nincr; i++) {
        if (load_file(aof_mf.incr[i].name, 0, i == aof_mf.nincr - 1, err, errlen, &size) != 0)
            return -1;
        total += size;
    }
    char name[AOF_NAME_MAX];
    if (aof_mf.nincr) { /* go on appending to the last one, as Redis */
        char path[AOF_PATH_MAX + AOF_NAME_MAX];
        aof_file_path(path, sizeof path, aof_mf.incr[aof_mf.nincr - 1].name);
        aof_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (aof_fd < 0)
            return fail(err, errlen, "Can't open the append-only file %s: %s", path,
                        strerror(errno));
    } else {
        aof_fd = aof_open_incr(1, name, sizeof name);
        if (aof_fd < 0)
            return fail(err, errlen, "Can't create the append-only file in %s%s", dir, "");
        aof_manifest_add_incr(&aof_mf, name, 1);
        if (aof_manifest_write(&aof_mf) != 0)
            return fail(err, errlen, "Can't write the AOF manifest in %s%s", dir, "");
    }
    atomic_store(&aof_cur_size, total);
    atomic_store(&aof_base_size, base);
    if (!fresh)
        log_notice("DB loaded from append only file: %.3f seconds",
                   (double)(mono_us() - t0) / 1e6);
    aof_set_logging(1);
    return 0;
}

int aof_debug_loadaof(char *err, size_t errlen)
{
    int on = atomic_load(&aof_logging);
    aof_manifest_t m = {0};
    if (on) {
        aof_flush();
        pthread_mutex_lock(&aof_wr_mu);
        m = aof_mf;
        m.incr = xmalloc((size_t)(m.nincr ? m.nincr : 1) * sizeof *m.incr);
        memcpy(m.incr, aof_mf.incr, (size_t)m.nincr * sizeof *m.incr);
        pthread_mutex_unlock(&aof_wr_mu);
    } else { /* appendonly no: what a BGREWRITEAOF left, as Redis */
        char dir[AOF_PATH_MAX], mpath[AOF_PATH_MAX + AOF_NAME_MAX];
        aof_dir_path(dir, sizeof dir);
        snprintf(mpath, sizeof mpath, "%s/%s.manifest", dir, aof_basename());
        if (aof_manifest_read(mpath, &m, err, errlen) != 0) {
            aof_manifest_free(&m);
            return -1;
        }
    }
    for (int p = 0; p < store_partitions(); p++)
        db_flush(p, -1);
    function_flush();
    /* every partition is held: no write is logged meanwhile, and what the
     * replay does must not be */
    atomic_store(&aof_logging, 0);
    long long size;
    int rc = 0;
    if (m.base.name[0])
        rc = load_file(m.base.name, 1, m.nincr == 0, err, errlen, &size);
    for (int i = 0; i < m.nincr && rc == 0; i++)
        rc = load_file(m.incr[i].name, 0, i == m.nincr - 1, err, errlen, &size);
    aof_manifest_free(&m);
    if (on) {
        aof_reset_db_locked();
        atomic_store(&aof_logging, 1);
    }
    return rc;
}

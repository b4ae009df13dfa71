/* persist_load — reading an RDB file into the store (persist.h): at startup,
 * before any worker runs, and for DEBUG RELOAD with every partition held.
 * The file is hostile input like a RESTORE payload: every length is checked
 * by rdb.h's readers, and a bad byte stops the load naming its offset. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "persist.h"
#include "persist_internal.h"
#include "rdb.h"
#include "script.h"
#include "store.h"
#include "util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int get_le(rdb_reader_t *r, int n, uint64_t *v)
{
    if (r->len - r->off < (size_t)n)
        return -1;
    *v = 0;
    for (int i = 0; i < n; i++)
        *v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)n;
    return 0;
}

/* Parse the whole image into the store. */
static int load_image(const unsigned char *data, size_t n, uint64_t *loaded, uint64_t *expired,
                      char *err, size_t errlen)
{
    if (n < 9 || memcmp(data, "REDIS", 5) != 0)
        return fail(err, errlen, "Wrong signature trying to load DB from file");
    int version = 0;
    for (int i = 5; i < 9; i++) {
        if (data[i] < '0' || data[i] > '9')
            return fail(err, errlen, "Wrong signature trying to load DB from file");
        version = version * 10 + (data[i] - '0');
    }
    if (version < 1 || version > RDB_VERSION)
        return fail(err, errlen, "Can't handle RDB format version %d", version);
    rdb_reader_t r = rdb_reader(data, n);
    r.off = 9;
    int db = 0, freq = -1;
    int64_t expire = -1, idle = -1;
    uint64_t now = now_ms(), v, v2;
    buf_t key, aux;
    buf_init(&key);
    buf_init(&aux);
    int rc = -1;
    sv_t *funcs = NULL; /* the libraries' code, loaded together after the keys */
    size_t nfuncs = 0, funcs_cap = 0;
    for (;;) {
        size_t at = r.off;
        int type;
        if (rdb_get_type(&r, &type) != 0) {
            fail(err, errlen, "Short read at offset %zu: the file is truncated", at);
            goto out;
        }
        switch (type) {
        case RDB_OPCODE_EXPIRETIME_MS:
        case RDB_OPCODE_EXPIRETIME:
            if (get_le(&r, type == RDB_OPCODE_EXPIRETIME ? 4 : 8, &v) != 0)
                goto truncated;
            expire = type == RDB_OPCODE_EXPIRETIME ? (int64_t)v * 1000 : (int64_t)v;
            if (expire < 0)
                expire = 0;
            continue;
        case RDB_OPCODE_FREQ:
            if (get_le(&r, 1, &v) != 0)
                goto truncated;
            freq = (int)v;
            continue;
        case RDB_OPCODE_IDLE:
            if (rdb_get_len(&r, &v) != 0)
                goto truncated;
            idle = v > INT64_MAX / 1000 ? INT64_MAX / 1000 : (int64_t)v;
            continue;
        case RDB_OPCODE_SELECTDB:
            if (rdb_get_len(&r, &v) != 0)
                goto truncated;
            if (v >= (uint64_t)store_databases()) {
                fail(err, errlen,
                     "Data file was created with a Redis server configured to handle more "
                     "than %d databases (SELECTDB %llu at offset %zu)",
                     store_databases(), (unsigned long long)v, at);
                goto out;
            }
            db = (int)v;
            continue;
        case RDB_OPCODE_RESIZEDB:
            if (rdb_get_len(&r, &v) != 0 || rdb_get_len(&r, &v2) != 0)
                goto truncated;
            continue;
        case RDB_OPCODE_AUX:
            if (rdb_get_string(&r, &key) != 0 || rdb_get_string(&r, &aux) != 0)
                goto truncated;
            if (key.len == 9 && memcmp(key.data, "redis-ver", 9) == 0)
                log_notice("Loading RDB produced by version %.*s", (int)aux.len, aux.data);
            continue;
        case RDB_OPCODE_MODULE_AUX:
            fail(err, errlen, "Module data at offset %zu: percore has no modules", at);
            goto out;
        case RDB_OPCODE_FUNCTION_PRE_GA:
            fail(err, errlen, "Pre-release function format at offset %zu is not supported", at);
            goto out;
        case RDB_OPCODE_FUNCTION2:
            if (rdb_get_string(&r, &aux) != 0)
                goto truncated;
            if (nfuncs == funcs_cap) {
                funcs_cap = funcs_cap ? funcs_cap * 2 : 8;
                funcs = xrealloc(funcs, funcs_cap * sizeof *funcs);
            }
            funcs[nfuncs].p = xstrndup(aux.data ? aux.data : "", aux.len);
            funcs[nfuncs++].len = aux.len;
            continue;
        case RDB_OPCODE_EOF:
            goto eof;
        default:
            break;
        }
        if (!rdb_is_value_type(type)) {
            fail(err, errlen, "Unknown RDB encoding type %d at offset %zu", type, at);
            goto out;
        }
        if (rdb_get_string(&r, &key) != 0)
            goto truncated;
        obj_t o;
        r.inflated = 0; /* each value may expand as much as one RESTORE's */
        if (rdb_load_value(&r, type, &o) != 0) {
            fail(err, errlen, "Bad data format in the value of key at offset %zu", at);
            goto out;
        }
        if (expire >= 0 && (uint64_t)expire < now) {
            obj_free(&o); /* already expired: dropped, as a Redis primary does */
            (*expired)++;
        } else {
            store_load_key(db, (sv_t){key.data, key.len}, &o, expire, idle, freq, now);
            (*loaded)++;
        }
        expire = -1;
        idle = -1;
        freq = -1;
        continue;
    truncated:
        fail(err, errlen, "Short read or bad length at offset %zu: the file is truncated or corrupt",
             at);
        goto out;
    }
eof:
    if (version >= 5) {
        size_t body = r.off;
        if (get_le(&r, 8, &v) != 0) {
            fail(err, errlen, "Short read at offset %zu: no checksum after EOF", body);
            goto out;
        }
        if (v != 0 && config_get_int(CFG_RDBCHECKSUM)) {
            uint64_t crc = rdb_crc64(0, data, body);
            if (crc != v) {
                fail(err, errlen, "Wrong RDB checksum expected: (%016llx) got: (%016llx)",
                     (unsigned long long)v, (unsigned long long)crc);
                goto out;
            }
        }
    }
    rc = 0;
    if (nfuncs) {
        char ferr[256];
        if (function_restore(funcs, (int)nfuncs, FUNC_POLICY_REPLACE, ferr, sizeof ferr) != 0) {
            rc = fail(err, errlen, "Failed loading the functions: %s", ferr);
        } else {
            log_notice("Loaded %zu function libraries", nfuncs);
        }
    }
out:
    for (size_t i = 0; i < nfuncs; i++)
        free((char *)funcs[i].p);
    free(funcs);
    buf_free(&key);
    buf_free(&aux);
    return rc;
}

int persist_load_path(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return fail(err, errlen, "Can't open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s is not a regular file", path);
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *data = xmalloc(n ? n : 1);
    while (got < n) {
        ssize_t k = read(fd, data + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    uint64_t t0 = mono_us(), loaded = 0, expired = 0;
    int rc = load_image(data, got, &loaded, &expired, err, errlen);
    free(data);
    if (rc == 0) {
        persist_loaded(loaded, expired);
        log_notice("Done loading RDB, keys loaded: %llu, keys expired: %llu.",
                   (unsigned long long)loaded, (unsigned long long)expired);
        log_notice("DB loaded from disk: %.3f seconds", (double)(mono_us() - t0) / 1e6);
    }
    return rc;
}

int persist_load(char *err, size_t errlen)
{
    char path[4400], tmp[4400];
    persist_paths(path, tmp, sizeof path, 0);
    int rc = persist_load_path(path, err, errlen);
    if (rc > 0)
        return 0;
    if (rc == 0)
        return 0;
    for (int p = 0; p < store_partitions(); p++)
        db_flush(p, -1); /* nothing half loaded stays */
    persist_loaded(0, 0);
    return -1;
}

int persist_reload(int save, int flush, char *err, size_t errlen)
{
    if (save && persist_save() != 0) {
        fail(err, errlen, "Error trying to save the DB");
        return -2;
    }
    if (flush) {
        for (int p = 0; p < store_partitions(); p++)
            db_flush(p, -1);
        function_flush(); /* Redis 7.0's emptyData drops the libraries too */
    }
    int rc = persist_load(err, errlen);
    persist_saved_now();
    return rc;
}

int persist_load_file(const char *path, char *err, size_t errlen)
{
    return persist_load_path(path, err, errlen);
}

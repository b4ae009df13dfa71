/* aof — the log's buffers, writing and fsync, the manifest and the files
 * (aof.h says what is logged and why one mutex). aof_feed.c turns calls
 * into entries, aof_rewrite.c rewrites, aof_load.c loads. */
#include "aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aof_internal.h"
#include "config.h"
#include "log.h"
#include "persist.h"

_Atomic int aof_logging;
_Atomic size_t aof_pending; /* bytes appended and not yet written (and fsynced: always) */
pthread_mutex_t aof_wr_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t aof_buf_mu = PTHREAD_MUTEX_INITIALIZER;
aof_manifest_t aof_mf;
int aof_fd = -1;
_Atomic long long aof_cur_size, aof_base_size;
_Atomic int aof_write_errno;

static buf_t gbuf;      /* under aof_buf_mu: entries not yet taken by a writer */
static int last_db = -1; /* under aof_buf_mu: the database the file is in */
static int64_t last_ts;  /* under aof_buf_mu: aof-timestamp-enabled's last second */
static buf_t wtail;     /* under aof_wr_mu: taken from gbuf, not yet written */
static _Atomic int fsync_needed, fsync_running, fsync_in_progress;
static _Atomic long long delayed_fsync;

/* ---- paths and the manifest ---------------------------------------------- */

static void opt_str(const char *name, buf_t *out)
{
    const config_opt_t *o = config_lookup(name, strlen(name));
    config_format_value(o, out);
}

const char *aof_basename(void) { return cfg.appendfilename; }

void aof_dir_path(char *out, size_t n)
{
    buf_t d;
    buf_init(&d);
    opt_str("dir", &d);
    snprintf(out, n, "%s/%s", buf_cstr(&d), cfg.appenddirname);
    buf_free(&d);
}

void aof_file_path(char *out, size_t n, const char *name)
{
    char dir[AOF_PATH_MAX];
    aof_dir_path(dir, sizeof dir);
    snprintf(out, n, "%s/%s", dir, name);
}

void aof_manifest_add_incr(aof_manifest_t *m, const char *name, long long seq)
{
    if (m->nincr == m->capincr) {
        m->capincr = m->capincr ? 2 * m->capincr : 4;
        m->incr = xrealloc(m->incr, (size_t)m->capincr * sizeof *m->incr);
    }
    snprintf(m->incr[m->nincr].name, AOF_NAME_MAX, "%s", name);
    m->incr[m->nincr++].seq = seq;
}

void aof_manifest_free(aof_manifest_t *m)
{
    free(m->incr);
    memset(m, 0, sizeof *m);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int aof_manifest_write(const aof_manifest_t *m)
{
    char dir[AOF_PATH_MAX], tmp[AOF_PATH_MAX + 64], path[AOF_PATH_MAX + 300];
    aof_dir_path(dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/temp-%s.manifest", dir, aof_basename());
    snprintf(path, sizeof path, "%s/%s.manifest", dir, aof_basename());
    buf_t b;
    buf_init(&b);
    if (m->base.name[0])
        buf_printf(&b, "file %s seq %lld type b\n", m->base.name, m->base.seq);
    for (int i = 0; i < m->nincr; i++)
        buf_printf(&b, "file %s seq %lld type i\n", m->incr[i].name, m->incr[i].seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = fd < 0 ? errno : 0;
    if (!err && write(fd, b.data, b.len) != (ssize_t)b.len)
        err = errno ? errno : EIO;
    if (!err && fsync(fd) != 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (!err)
        fsync_dir(dir);
    buf_free(&b);
    if (err) {
        unlink(tmp);
        log_warn("Can't write the AOF manifest %s: %s", path, strerror(err));
        return -1;
    }
    return 0;
}

int aof_open_incr(long long seq, char *name, size_t n)
{
    char path[AOF_PATH_MAX + AOF_NAME_MAX];
    snprintf(name, n, "%s.%lld.incr.aof", aof_basename(), seq);
    aof_file_path(path, sizeof path, name);
    /* always a new file: a stale one of that name (left by an earlier run
     * with another manifest) must not lend its commands */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        log_warn("Can't open the append-only file %s: %s", path, strerror(errno));
    return fd;
}

/* ---- appending ----------------------------------------------------------- */

void aof_put_cmd(buf_t *b, int argc, const sv_t *argv)
{
    buf_printf(b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(b, "$%zu\r\n", argv[i].len);
        buf_append(b, argv[i].p, argv[i].len);
        buf_append(b, "\r\n", 2);
    }
}

/* The thread's entries of the outermost call running on it (aof_feed.c adds
 * them; aof_call_end moves them to gbuf). */
typedef struct tl_entry {
    int db;
    size_t end;
} tl_entry_t;
static _Thread_local buf_t tl_buf;
static _Thread_local tl_entry_t *tl_ent;
static _Thread_local int tl_n, tl_cap, tl_depth;

/* The thread's buffers go when it ends (a pthread key's destructor: the
 * workers' threads, and any other that fed an entry). */
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;

static void tl_free(void *arg)
{
    (void)arg;
    buf_free(&tl_buf);
    free(tl_ent);
    tl_ent = NULL;
    tl_n = tl_cap = 0;
}

static void tl_key_make(void) { pthread_key_create(&tl_key, tl_free); }

void aof_tl_add(int db, int argc, const sv_t *argv)
{
    if (!tl_cap) {
        pthread_once(&tl_once, tl_key_make);
        pthread_setspecific(tl_key, &tl_key); /* any non-NULL value: the destructor runs */
    }
    aof_put_cmd(&tl_buf, argc, argv);
    if (tl_n == tl_cap) {
        tl_cap = tl_cap ? 2 * tl_cap : 8;
        tl_ent = xrealloc(tl_ent, (size_t)tl_cap * sizeof *tl_ent);
    }
    tl_ent[tl_n++] = (tl_entry_t){db, tl_buf.len};
}

static void put_select(int db)
{
    char num[16];
    int n = snprintf(num, sizeof num, "%d", db);
    sv_t a[2] = {{"SELECT", 6}, {num, (size_t)n}};
    aof_put_cmd(&gbuf, 2, a);
    last_db = db;
}

/* The thread's entries into the global buffer, as one transaction when
 * there are several (Redis wraps a script's or EXEC's effects alike). */
static void tl_commit(void)
{
    if (!tl_n)
        return;
    pthread_mutex_lock(&aof_buf_mu);
    size_t before = gbuf.len;
    if (config_get(aof_timestamp_enabled)) {
        int64_t now = (int64_t)time(NULL);
        if (now != last_ts) {
            buf_printf(&gbuf, "#TS:%lld\r\n", (long long)now);
            last_ts = now;
        }
    }
    if (tl_n > 1)
        buf_append(&gbuf, "*1\r\n$5\r\nMULTI\r\n", 15);
    size_t from = 0;
    for (int i = 0; i < tl_n; i++) {
        if (tl_ent[i].db != last_db)
            put_select(tl_ent[i].db);
        buf_append(&gbuf, tl_buf.data + from, tl_ent[i].end - from);
        from = tl_ent[i].end;
    }
    if (tl_n > 1)
        buf_append(&gbuf, "*1\r\n$4\r\nEXEC\r\n", 14);
    atomic_fetch_add_explicit(&aof_pending, gbuf.len - before, memory_order_relaxed);
    pthread_mutex_unlock(&aof_buf_mu);
    tl_n = 0;
    tl_buf.len = 0;
    if (tl_buf.cap > (1u << 20))
        buf_free(&tl_buf);
}

void aof_call_begin(void) { tl_depth++; }

void aof_tl_commit_outside(void)
{
    if (tl_depth == 0) /* not inside command_call: nothing else will */
        tl_commit();
}

void aof_call_end(void)
{
    if (--tl_depth == 0)
        tl_commit();
}

void aof_feed_key_gone(int db, const char *key, size_t len)
{
    if (!atomic_load_explicit(&aof_logging, memory_order_relaxed))
        return;
    sv_t a[2] = {{"DEL", 3}, {key, len}};
    aof_tl_add(db, 2, a);
    if (tl_depth == 0) /* active expiry or eviction outside a command */
        tl_commit();
}

void aof_reset_db_locked(void)
{
    pthread_mutex_lock(&aof_buf_mu);
    last_db = -1;
    pthread_mutex_unlock(&aof_buf_mu);
}

/* ---- writing ------------------------------------------------------------- */

void aof_write_pending_locked(void)
{
    pthread_mutex_lock(&aof_buf_mu);
    size_t taken = gbuf.len;
    if (taken) {
        buf_append(&wtail, gbuf.data, gbuf.len);
        gbuf.len = 0;
        if (gbuf.cap > (4u << 20))
            buf_free(&gbuf);
    }
    pthread_mutex_unlock(&aof_buf_mu);
    size_t off = 0;
    int err = 0;
    while (off < wtail.len && aof_fd >= 0) {
        ssize_t k = write(aof_fd, wtail.data + off, wtail.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            err = k < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)k;
    }
    if (aof_fd < 0)
        off = wtail.len; /* logging stopped: nothing to write into */
    buf_consume(&wtail, off);
    atomic_fetch_add(&aof_cur_size, (long long)off);
    if (err) {
        if (config_get(appendfsync) == 0) {
            /* Redis 7.0: replies for these writes must not leave, and none
             * can be taken back */
            log_warn("Can't recover from AOF write error when the AOF fsync policy is "
                     "'always' (%s). Exiting...", strerror(err));
            _exit(1);
        }
        if (!atomic_load(&aof_write_errno))
            log_warn("Error writing to the AOF file: %s", strerror(err));
        atomic_store(&aof_write_errno, err);
    } else if (off || taken) {
        if (atomic_exchange(&aof_write_errno, 0))
            log_notice("AOF write error looks solved, Redis can write again.");
        int policy = config_get(appendfsync);
        int skip = config_get(no_appendfsync_on_rewrite) &&
                   (aof_rewrite_running() || persist_bgsave_running());
        if (policy == 0 && !skip && aof_fd >= 0) {
            if (fdatasync(aof_fd) != 0) {
                log_warn("Can't persist AOF for fsync error when the AOF fsync policy is "
                         "'always': %s. Exiting...", strerror(errno));
                _exit(1);
            }
        } else if (policy == 1) {
            atomic_store(&fsync_needed, 1);
        }
    }
    /* What was taken is now written (and fsynced when always): replies for
     * it may leave. A failed write keeps it in wtail; writes are refused. */
    if (!wtail.len)
        atomic_fetch_sub_explicit(&aof_pending, taken, memory_order_relaxed);
    else
        atomic_store_explicit(&aof_pending, 0, memory_order_relaxed);
}

int aof_group_commit(void) { return config_get(appendfsync) == 0; }

void aof_flush(void)
{
    pthread_mutex_lock(&aof_wr_mu);
    aof_write_pending_locked();
    pthread_mutex_unlock(&aof_wr_mu);
}

/* everysec: fsync once a second off the workers, on a dup of the fd so the
 * workers' writes never wait for it. */
static pthread_t fsync_tid;
static pthread_mutex_t fsync_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fsync_cv = PTHREAD_COND_INITIALIZER;
static int fsync_stop;

static void *fsync_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&fsync_mu);
    while (!fsync_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&fsync_cv, &fsync_mu, &ts);
        if (fsync_stop || !atomic_exchange(&fsync_needed, 0))
            continue;
        pthread_mutex_unlock(&fsync_mu);
        pthread_mutex_lock(&aof_wr_mu);
        int fd = aof_fd >= 0 ? dup(aof_fd) : -1;
        pthread_mutex_unlock(&aof_wr_mu);
        if (fd >= 0) {
            atomic_store(&fsync_in_progress, 1);
            if (fdatasync(fd) != 0)
                log_warn("Can't persist the AOF with fsync: %s", strerror(errno));
            atomic_store(&fsync_in_progress, 0);
            close(fd);
        }
        pthread_mutex_lock(&fsync_mu);
    }
    pthread_mutex_unlock(&fsync_mu);
    return NULL;
}

void aof_fsync_thread_start(void)
{
    if (atomic_exchange(&fsync_running, 1))
        return;
    if (pthread_create(&fsync_tid, NULL, fsync_main, NULL) != 0) {
        log_warn("Can't start the AOF fsync thread");
        atomic_store(&fsync_running, 0);
    }
}

void aof_set_logging(int on)
{
    if (on)
        aof_fsync_thread_start();
    atomic_store(&aof_logging, on);
}

/* ---- on, off, exit ------------------------------------------------------- */

static _Atomic int want_on; /* CONFIG SET appendonly yes: the rewrite turns it on */

int aof_wants_enable(void) { return atomic_load(&want_on); }
void aof_enabled_now(void) { atomic_store(&want_on, 0); }

void aof_config_changed(void)
{
    int on = config_get(appendonly);
    if (on && !atomic_load(&aof_logging)) {
        atomic_store(&want_on, 1); /* aof_cron starts the rewrite that creates the base */
        return;
    }
    if (!on) {
        atomic_store(&want_on, 0);
        if (!atomic_load(&aof_logging))
            return;
        aof_set_logging(0);
        aof_rewrite_kill();
        pthread_mutex_lock(&aof_wr_mu);
        aof_write_pending_locked();
        if (aof_fd >= 0) {
            fsync(aof_fd);
            close(aof_fd);
            aof_fd = -1;
        }
        aof_write_pending_locked(); /* drops what came meanwhile */
        pthread_mutex_unlock(&aof_wr_mu);
        atomic_store(&aof_write_errno, 0);
        log_notice("AOF logging stopped (appendonly no)");
    }
}

const char *aof_refuse_writes(void)
{
    int e = atomic_load_explicit(&aof_write_errno, memory_order_relaxed);
    if (!e)
        return NULL;
    static _Thread_local char msg[160];
    snprintf(msg, sizeof msg, "MISCONF Errors writing to the AOF file: %s", strerror(e));
    return msg;
}

void aof_at_exit(void)
{
    aof_rewrite_kill();
    pthread_mutex_lock(&aof_wr_mu);
    aof_write_pending_locked();
    if (aof_fd >= 0)
        fsync(aof_fd);
    pthread_mutex_unlock(&aof_wr_mu);
}

void aof_teardown(void)
{
    if (atomic_load(&fsync_running)) {
        pthread_mutex_lock(&fsync_mu);
        fsync_stop = 1;
        pthread_cond_signal(&fsync_cv);
        pthread_mutex_unlock(&fsync_mu);
        pthread_join(fsync_tid, NULL);
        atomic_store(&fsync_running, 0);
        fsync_stop = 0;
    }
    atomic_store(&aof_logging, 0);
    pthread_mutex_lock(&aof_wr_mu);
    if (aof_fd >= 0)
        close(aof_fd);
    aof_fd = -1;
    buf_free(&wtail);
    aof_manifest_free(&aof_mf);
    pthread_mutex_unlock(&aof_wr_mu);
    pthread_mutex_lock(&aof_buf_mu);
    buf_free(&gbuf);
    last_db = -1;
    pthread_mutex_unlock(&aof_buf_mu);
    atomic_store(&aof_pending, 0);
}

void aof_info(buf_t *o, int part)
{
    int on = atomic_load(&aof_logging);
    int e = atomic_load(&aof_write_errno);
    if (part == 0) {
        buf_printf(o, "aof_enabled:%d\r\n", on || aof_wants_enable());
        aof_rewrite_info(o, 0);
        buf_printf(o, "aof_last_write_status:%s\r\n", e ? "err" : "ok");
        aof_rewrite_info(o, 1);
        return;
    }
    if (!on)
        return;
    pthread_mutex_lock(&aof_buf_mu);
    size_t blen = gbuf.len;
    pthread_mutex_unlock(&aof_buf_mu);
    buf_printf(o,
               "aof_current_size:%lld\r\naof_base_size:%lld\r\naof_pending_rewrite:%d\r\n"
               "aof_buffer_length:%zu\r\naof_pending_bio_fsync:%d\r\naof_delayed_fsync:%lld\r\n",
               atomic_load(&aof_cur_size), atomic_load(&aof_base_size),
               aof_rewrite_is_scheduled(), blen, atomic_load(&fsync_in_progress),
               atomic_load(&delayed_fsync));
}

/* aof_rewrite — BGREWRITEAOF: a child writes the new base while the parent
 * logs into a new incr file opened at the fork (aof.h). Worker 0's cron
 * collects the child, installs the new manifest and deletes the old files;
 * it also says when a rewrite is due (scheduled behind a BGSAVE, automatic
 * by auto-aof-rewrite-percentage/min-size, retried after a failure). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aof.h"
#include "aof_internal.h"
#include "config.h"
#include "log.h"
#include "persist.h"
#include "rdb.h"
#include "script.h"
#include "store.h"

static _Atomic int child_pid, child_fd = -1, scheduled, last_ok = 1;
static _Atomic long long start_s = -1, last_time_s = -1, rewrites, failures, retry_at_ms;
static long long fork_incr_seq, new_base_seq; /* under aof_wr_mu */
static int new_base_rdb;

/* collect (worker 0's cron) and kill (CONFIG SET appendonly no, any
 * worker; exit) both reap the child: one at a time. */
static pthread_mutex_t child_mu = PTHREAD_MUTEX_INITIALIZER;

static long long unix_s(void) { return (long long)time(NULL); }

int aof_rewrite_running(void) { return atomic_load(&child_pid) != 0; }
int aof_rewrite_is_scheduled(void) { return atomic_load(&scheduled); }
void aof_rewrite_schedule(void)
{
    atomic_store(&scheduled, 1);
    atomic_store(&failures, 0); /* asked for by hand: not held back (Redis 7.0) */
    atomic_store(&retry_at_ms, 0);
}

static void temp_path(char *out, size_t n, int pid)
{
    char name[64];
    snprintf(name, sizeof name, "temp-rewriteaof-bg-%d.aof", pid);
    aof_file_path(out, n, name);
}

/* ---- the child ------------------------------------------------------------ */

typedef struct cwriter {
    int fd, err, db, incr_fsync;
    buf_t b, v;
    uint64_t now, since_fsync;
} cwriter_t;

static void cw_flush(cwriter_t *w)
{
    size_t off = 0;
    while (off < w->b.len && !w->err) {
        ssize_t k = write(w->fd, w->b.data + off, w->b.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            w->err = k < 0 ? errno : EIO;
        else
            off += (size_t)k;
    }
    w->since_fsync += w->b.len;
    w->b.len = 0;
    if (w->incr_fsync && w->since_fsync >= (4u << 20)) {
        fdatasync(w->fd); /* aof-rewrite-incremental-fsync: no big burst at the end */
        w->since_fsync = 0;
    }
}

/* aof-use-rdb-preamble no: each key as RESTORE key <abs ttl> <dump> REPLACE
 * ABSTTL, which redis-server loads too (its own rewrite writes each type's
 * commands; the state replayed is the same). Expired keys are left out. */
static void put_entry(void *arg, const store_entry_t *e)
{
    cwriter_t *w = arg;
    if (w->err || (e->expire_ms >= 0 && (uint64_t)e->expire_ms <= w->now))
        return;
    w->v.len = 0;
    if (rdb_dump_object(&w->v, e->val) != 0)
        return;
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)(e->expire_ms >= 0 ? e->expire_ms : 0));
    sv_t a[6] = {{"RESTORE", 7}, e->key, {num, (size_t)n}, {w->v.data, w->v.len},
                 {"REPLACE", 7}, {"ABSTTL", 6}};
    aof_put_cmd(&w->b, 6, a);
    if (w->b.len >= (1u << 16))
        cw_flush(w);
}

static int write_commands(int fd, const buf_t *fcmds)
{
    cwriter_t w = {.fd = fd, .now = now_ms(), .incr_fsync = config_get(aof_rewrite_incremental_fsync)};
    buf_init(&w.b);
    buf_init(&w.v);
    buf_append(&w.b, fcmds->data, fcmds->len); /* the libraries first, as Redis */
    for (int db = 0; db < store_databases() && !w.err; db++) {
        char num[16];
        int n = snprintf(num, sizeof num, "%d", db);
        sv_t a[2] = {{"SELECT", 6}, {num, (size_t)n}};
        aof_put_cmd(&w.b, 2, a);
        for (int p = 0; p < store_partitions() && !w.err; p++)
            store_walk(p, db, w.now, put_entry, &w);
    }
    cw_flush(&w);
    buf_free(&w.b);
    buf_free(&w.v);
    return w.err;
}

/* FUNCTION LOAD of each library, gathered before the fork (the registry's
 * lock is never taken in the child). */
static int put_function_load(void *arg, const char *code, size_t len)
{
    sv_t a[3] = {{"FUNCTION", 8}, {"LOAD", 4}, {code, len}};
    aof_put_cmd(arg, 3, a);
    return 0;
}

static int child_write(const char *tmp, const buf_t *funcs, const buf_t *fcmds, int rdb)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno ? errno : EIO;
    int err = rdb ? persist_write_aof_base(fd, funcs) : write_commands(fd, fcmds);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    return err;
}

/* ---- the parent ----------------------------------------------------------- */

static long long next_seq(void)
{
    long long s = 0;
    for (int i = 0; i < aof_mf.nincr; i++)
        if (aof_mf.incr[i].seq > s)
            s = aof_mf.incr[i].seq;
    return s + 1;
}

int aof_rewrite_background(void)
{
    if (aof_rewrite_running())
        return -2;
    if (persist_bgsave_running()) {
        atomic_store(&scheduled, 1);
        return -3;
    }
    char dir[AOF_PATH_MAX];
    aof_dir_path(dir, sizeof dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_warn("Can't open or create append-only dir %s: %s", dir, strerror(errno));
        atomic_store(&last_ok, 0);
        return -1;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        log_warn("Can't rewrite append only file in background: pipe: %s", strerror(errno));
        return -1;
    }
    buf_t funcs, fcmds;
    persist_gather_functions(&funcs);
    int rdb = config_get(aof_use_rdb_preamble);
    buf_init(&fcmds);
    if (!rdb)
        function_each_code(put_function_load, &fcmds);
    int enabling = aof_wants_enable();
    /* The new incr file: every write after the fork goes there, so the new
     * base plus it (and those after it) is the whole dataset. */
    pthread_mutex_lock(&aof_wr_mu);
    aof_write_pending_locked();
    long long seq = LLONG_MAX; /* appendonly no: a base alone, as Redis (DEBUG LOADAOF reads it) */
    if (atomic_load(&aof_logging) || enabling) {
        char name[AOF_NAME_MAX];
        seq = next_seq();
        int fd = aof_open_incr(seq, name, sizeof name);
        if (fd < 0) {
            pthread_mutex_unlock(&aof_wr_mu);
            buf_free(&funcs);
            buf_free(&fcmds);
            close(pfd[0]);
            close(pfd[1]);
            atomic_store(&last_ok, 0);
            return -1;
        }
        if (aof_fd >= 0)
            close(aof_fd);
        aof_fd = fd;
        aof_reset_db_locked();
        aof_manifest_add_incr(&aof_mf, name, seq);
        if (aof_mf.base.name[0]) /* a crash meanwhile loads the old base and every incr */
            aof_manifest_write(&aof_mf);
    }
    fork_incr_seq = seq;
    new_base_seq = aof_mf.base.seq + 1;
    new_base_rdb = rdb;
    pthread_mutex_unlock(&aof_wr_mu);
    if (enabling)
        aof_set_logging(1);
    atomic_store(&start_s, unix_s());
    atomic_fetch_add(&rewrites, 1); /* counted as it starts, as Redis */
    /* As persist_bgsave: the child has only this thread, which holds every
     * partition; it takes no lock and never logs. */
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        char tmp[AOF_PATH_MAX + 64];
        temp_path(tmp, sizeof tmp, (int)getpid());
        int err = child_write(tmp, &funcs, &fcmds, rdb);
        unsigned char res = err > 255 ? 255 : (unsigned char)err;
        (void)!write(pfd[1], &res, 1);
        _exit(err ? 1 : 0);
    }
    buf_free(&funcs);
    buf_free(&fcmds);
    close(pfd[1]);
    if (pid < 0) {
        log_warn("Can't rewrite append only file in background: fork: %s", strerror(errno));
        close(pfd[0]);
        atomic_store(&last_ok, 0);
        atomic_store(&start_s, -1);
        return -1;
    }
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    atomic_store(&child_fd, pfd[0]);
    atomic_store(&child_pid, (int)pid); /* before: never both 0 while one is due */
    atomic_store(&scheduled, 0);
    if (enabling)
        aof_enabled_now();
    log_notice("Background append only file rewriting started by pid %d", (int)pid);
    return 0;
}

static long long file_size(const char *name)
{
    char path[AOF_PATH_MAX + AOF_NAME_MAX];
    aof_file_path(path, sizeof path, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void remove_file(const char *name)
{
    char path[AOF_PATH_MAX + AOF_NAME_MAX];
    aof_file_path(path, sizeof path, name);
    unlink(path);
}

/* The child succeeded: its file becomes the base; the manifest names it and
 * the incr files since the fork; the older files go. 0, or -1 logged. */
static int install(int pid)
{
    char tmp[AOF_PATH_MAX + 64], path[AOF_PATH_MAX + AOF_NAME_MAX];
    temp_path(tmp, sizeof tmp, pid);
    aof_manifest_t m = {0};
    pthread_mutex_lock(&aof_wr_mu);
    snprintf(m.base.name, AOF_NAME_MAX, "%s.%lld.base.%s", aof_basename(), new_base_seq,
             new_base_rdb ? "rdb" : "aof");
    m.base.seq = new_base_seq;
    for (int i = 0; i < aof_mf.nincr; i++)
        if (aof_mf.incr[i].seq >= fork_incr_seq)
            aof_manifest_add_incr(&m, aof_mf.incr[i].name, aof_mf.incr[i].seq);
    aof_file_path(path, sizeof path, m.base.name);
    int rc = rename(tmp, path) == 0 ? 0 : -1;
    if (rc != 0)
        log_warn("Error trying to rename the temporary AOF base file: %s", strerror(errno));
    if (rc == 0 && aof_manifest_write(&m) != 0) {
        unlink(path);
        rc = -1;
    }
    if (rc == 0) {
        if (aof_mf.base.name[0] && strcmp(aof_mf.base.name, m.base.name))
            remove_file(aof_mf.base.name);
        for (int i = 0; i < aof_mf.nincr; i++)
            if (aof_mf.incr[i].seq < fork_incr_seq)
                remove_file(aof_mf.incr[i].name);
        aof_manifest_free(&aof_mf);
        aof_mf = m;
        long long base = file_size(m.base.name), cur = base;
        for (int i = 0; i < m.nincr; i++)
            cur += file_size(m.incr[i].name);
        atomic_store(&aof_base_size, base);
        atomic_store(&aof_cur_size, cur);
    } else {
        aof_manifest_free(&m);
    }
    pthread_mutex_unlock(&aof_wr_mu);
    unlink(tmp);
    return rc;
}

static void collect_locked(uint64_t now);

static void collect(uint64_t now)
{
    pthread_mutex_lock(&child_mu);
    collect_locked(now);
    pthread_mutex_unlock(&child_mu);
}

static void collect_locked(uint64_t now)
{
    int pid = atomic_load(&child_pid), fd = atomic_load(&child_fd);
    if (!pid)
        return;
    unsigned char res = 0;
    ssize_t k = read(fd, &res, 1);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(fd);
    int ok = k == 1 && res == 0 && install(pid) == 0;
    if (!ok) {
        char tmp[AOF_PATH_MAX + 64];
        temp_path(tmp, sizeof tmp, pid);
        unlink(tmp);
        if (k == 1 && res)
            log_warn("Background AOF rewrite failed: %s", strerror(res));
        else if (k != 1)
            log_warn("Background AOF rewrite terminated by a signal (no result from pid %d)", pid);
        /* Redis 7.0: after three failures in a row, an automatic or
         * scheduled rewrite waits a minute, doubling up to an hour. */
        long long n = atomic_fetch_add(&failures, 1) + 1;
        long long delay = n < 3 ? 0 : 60000LL << (n - 3 > 6 ? 6 : n - 3);
        if (delay > 3600000)
            delay = 3600000;
        atomic_store(&retry_at_ms, (long long)now + delay);
        pthread_mutex_lock(&aof_wr_mu);
        int no_base = !aof_mf.base.name[0];
        pthread_mutex_unlock(&aof_wr_mu);
        if (no_base && atomic_load(&aof_logging)) /* CONFIG SET appendonly yes waits for a base */
            atomic_store(&scheduled, 1);
    } else {
        log_notice("Background AOF rewrite terminated with success");
        log_notice("Background AOF rewrite finished successfully");
        atomic_store(&failures, 0);
    }
    atomic_store(&last_ok, ok);
    atomic_store(&last_time_s, unix_s() - atomic_load(&start_s));
    atomic_store(&start_s, -1);
    atomic_store(&child_fd, -1);
    atomic_store(&child_pid, 0);
}

int aof_cron(uint64_t now)
{
    collect(now);
    aof_flush_pending();
    if (aof_rewrite_running() || persist_bgsave_running())
        return 0;
    if ((long long)now < atomic_load(&retry_at_ms))
        return 0;
    if (atomic_load(&scheduled) || aof_wants_enable())
        return 1;
    int pct = config_get(auto_aof_rewrite_percentage);
    long long cur = atomic_load(&aof_cur_size), base = atomic_load(&aof_base_size);
    if (!atomic_load(&aof_logging) || !pct || cur < config_get(auto_aof_rewrite_min_size))
        return 0;
    if (base <= 0)
        base = 1;
    if ((cur - base) * 100 / base < pct)
        return 0;
    log_notice("Starting automatic rewriting of AOF on %lld%% growth", (cur - base) * 100 / base);
    return 1;
}

void aof_rewrite_kill(void)
{
    pthread_mutex_lock(&child_mu);
    int pid = atomic_load(&child_pid);
    if (!pid) {
        pthread_mutex_unlock(&child_mu);
        return;
    }
    log_notice("Killing running AOF rewrite child: %d", pid);
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char tmp[AOF_PATH_MAX + 64];
    temp_path(tmp, sizeof tmp, pid);
    unlink(tmp);
    close(atomic_load(&child_fd));
    atomic_store(&child_fd, -1);
    atomic_store(&start_s, -1);
    atomic_store(&child_pid, 0);
    pthread_mutex_unlock(&child_mu);
}

void aof_rewrite_info(buf_t *o, int part)
{
    if (part == 1) {
        buf_printf(o, "aof_last_cow_size:0\r\n");
        return;
    }
    long long st = atomic_load(&start_s);
    int running = aof_rewrite_running();
    buf_printf(o,
               "aof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n"
               "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\n"
               "aof_last_bgrewrite_status:%s\r\naof_rewrites:%lld\r\n"
               "aof_rewrites_consecutive_failures:%lld\r\n",
               running, atomic_load(&scheduled) || aof_wants_enable(),
               atomic_load(&last_time_s), running && st >= 0 ? unix_s() - st : -1,
               atomic_load(&last_ok) ? "ok" : "err", atomic_load(&rewrites),
               atomic_load(&failures));
}

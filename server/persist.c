/* persist — RDB files (see persist.h): the writer (used by SAVE, and by the
 * BGSAVE child on its copy of memory) and the loader. */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "forksafe.h"
#include "latency.h"
#include "log.h"
#include "persist_internal.h"
#include "rdb.h"
#include "script.h"
#include "store.h"
#include "util.h"

/* State: written by the task saving (every partition held) or worker 0's
 * cron, read by INFO from any thread. */
static _Atomic int child_pid;      /* running BGSAVE child, 0: none */
static _Atomic int child_fd = -1;  /* its result pipe's read end */
static _Atomic int bgsave_scheduled;
static _Atomic int64_t bgsave_start_s = -1, last_bgsave_time_s = -1;
static _Atomic int64_t last_save_s, last_try_s;
static _Atomic int last_bgsave_ok = 1;
static _Atomic uint64_t dirty_at_save, dirty_at_fork, saves;
static _Atomic uint64_t load_loaded, load_expired;

static int64_t unix_s(void)
{
    return (int64_t)time(NULL);
}

/* A string option's value into buf (CONFIG SET may change it any time). */
static void opt_str(const char *name, buf_t *out)
{
    const config_opt_t *o = config_lookup(name, strlen(name));
    config_format_value(o, out);
}

/* dir/dbfilename and dir/temp-<pid>.rdb. */
void persist_paths(char *path, char *tmp, size_t n, int pid)
{
    buf_t d, f;
    buf_init(&d);
    buf_init(&f);
    opt_str("dir", &d);
    opt_str("dbfilename", &f);
    snprintf(path, n, "%s/%s", buf_cstr(&d), buf_cstr(&f));
    snprintf(tmp, n, "%s/temp-%d.rdb", buf_cstr(&d), pid);
    buf_free(&d);
    buf_free(&f);
}

/* ---- writing ------------------------------------------------------------- */

typedef struct writer {
    int fd, err;
    buf_t b, v;
    uint64_t crc;
    int checksum, lru, lfu;
    int delay_us; /* rdb-key-save-delay */
    uint64_t skipped; /* keys of a type with no RDB writer (streams) */
} writer_t;

static void w_flush(writer_t *w)
{
    if (w->checksum)
        w->crc = rdb_crc64(w->crc, w->b.data, w->b.len);
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
    w->b.len = 0;
}

static void put_u64le(buf_t *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, x, 8);
}

static void put_aux(buf_t *b, const char *k, const char *v)
{
    rdb_put_type(b, RDB_OPCODE_AUX);
    rdb_put_string(b, k, strlen(k));
    rdb_put_string(b, v, strlen(v));
}

static void save_entry(void *arg, const store_entry_t *e)
{
    writer_t *w = arg;
    if (w->err)
        return;
    w->v.len = 0;
    if (rdb_save_object(&w->v, e->val) != 0) {
        /* a stream, until rdb_obj.c has its writer: left out (the save
         * logs how many) rather than failing every save */
        w->skipped++;
        return;
    }
    if (e->expire_ms >= 0) {
        rdb_put_type(&w->b, RDB_OPCODE_EXPIRETIME_MS);
        put_u64le(&w->b, (uint64_t)e->expire_ms);
    }
    if (w->lru && e->idle_s >= 0) {
        rdb_put_type(&w->b, RDB_OPCODE_IDLE);
        rdb_put_len(&w->b, (uint64_t)e->idle_s);
    } else if (w->lfu && e->freq >= 0) {
        rdb_put_type(&w->b, RDB_OPCODE_FREQ);
        buf_putc(&w->b, (char)(unsigned char)e->freq);
    }
    /* type byte, key, value */
    buf_append(&w->b, w->v.data, 1);
    rdb_put_string(&w->b, e->key.p, e->key.len);
    buf_append(&w->b, w->v.data + 1, w->v.len - 1);
    if (w->b.len >= (1u << 16))
        w_flush(w);
    if (w->delay_us > 0)
        usleep((useconds_t)w->delay_us);
}

/* FUNCTION2 records of every library, gathered before a fork (the
 * registry's lock is never taken in the child). */
static int put_function(void *arg, const char *code, size_t len)
{
    buf_t *b = arg;
    rdb_put_type(b, RDB_OPCODE_FUNCTION2);
    rdb_put_string(b, code, len);
    return 0;
}

static void gather_functions(buf_t *out)
{
    buf_init(out);
    function_each_code(put_function, out);
}

/* The whole file to fd. Reads only memory and config atomics: the BGSAVE
 * child runs it (no lock is taken, nothing is logged). 0 or an errno. */
static int write_rdb_ex(int fd, const buf_t *funcs, uint64_t *skipped, int aof_base)
{
    writer_t w = {.fd = fd};
    buf_init(&w.b);
    buf_init(&w.v);
    w.checksum = config_get_int(CFG_RDBCHECKSUM);
    w.delay_us = (int)config_get_int(CFG_RDB_KEY_SAVE_DELAY);
    int pol = config_get_int(CFG_MAXMEMORY_POLICY);
    w.lru = pol == MAXMEM_ALLKEYS_LRU || pol == MAXMEM_VOLATILE_LRU;
    w.lfu = pol == MAXMEM_ALLKEYS_LFU || pol == MAXMEM_VOLATILE_LFU;
    uint64_t now = now_ms();
    char num[32];
    buf_printf(&w.b, "REDIS%04d", RDB_VERSION);
    put_aux(&w.b, "redis-ver", REDIS_API_VERSION);
    put_aux(&w.b, "redis-bits", sizeof(void *) == 8 ? "64" : "32");
    snprintf(num, sizeof num, "%lld", (long long)(now / 1000));
    put_aux(&w.b, "ctime", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)mem_used());
    put_aux(&w.b, "used-mem", num);
    put_aux(&w.b, "aof-base", aof_base ? "1" : "0");
    buf_append(&w.b, funcs->data, funcs->len);
    int nparts = store_partitions();
    for (int db = 0; db < store_databases() && !w.err; db++) {
        uint64_t keys = 0, expires = 0;
        for (int p = 0; p < nparts; p++) {
            keys += db_size(p, db);
            expires += db_expires_count(p, db);
        }
        if (keys == 0)
            continue;
        rdb_put_type(&w.b, RDB_OPCODE_SELECTDB);
        rdb_put_len(&w.b, (uint64_t)db);
        rdb_put_type(&w.b, RDB_OPCODE_RESIZEDB);
        rdb_put_len(&w.b, keys);
        rdb_put_len(&w.b, expires);
        for (int p = 0; p < nparts && !w.err; p++)
            store_walk(p, db, now, save_entry, &w);
    }
    rdb_put_type(&w.b, RDB_OPCODE_EOF);
    w_flush(&w);
    put_u64le(&w.b, w.checksum ? w.crc : 0);
    w.checksum = 0;
    w_flush(&w);
    buf_free(&w.b);
    buf_free(&w.v);
    *skipped = w.skipped;
    return w.err;
}

static int write_rdb(int fd, const buf_t *funcs, uint64_t *skipped)
{
    return write_rdb_ex(fd, funcs, skipped, 0);
}

int persist_write_aof_base(int fd, const buf_t *funcs)
{
    uint64_t skipped;
    return write_rdb_ex(fd, funcs, &skipped, 1);
}

void persist_gather_functions(buf_t *out) { gather_functions(out); }

/* Write tmp, fsync, rename over path. 0 or an errno (tmp removed). */
static int save_file(const char *tmp, const char *path, const buf_t *funcs, uint64_t *skipped)
{
    *skipped = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno ? errno : EIO;
    int err = write_rdb(fd, funcs, skipped);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    return err;
}

int persist_save(void)
{
    if (persist_bgsave_running()) /* the caller checked; never two writers */
        return -1;
    char path[4400], tmp[4400];
    persist_paths(path, tmp, sizeof path, (int)getpid());
    uint64_t dirty = store_dirty(), skipped;
    buf_t funcs;
    gather_functions(&funcs);
    int err = save_file(tmp, path, &funcs, &skipped);
    buf_free(&funcs);
    if (skipped)
        log_warn("%llu stream keys were left out of the RDB file (no stream writer yet)",
                 (unsigned long long)skipped);
    if (err) {
        log_warn("Failed saving the DB to %s: %s", path, strerror(err));
        return -1;
    }
    log_notice("DB saved on disk");
    atomic_store(&dirty_at_save, dirty);
    atomic_store(&last_save_s, unix_s());
    atomic_store(&last_bgsave_ok, 1);
    atomic_fetch_add(&saves, 1);
    return 0;
}

int persist_bgsave_running(void)
{
    return atomic_load(&child_pid) != 0;
}

void persist_schedule_bgsave(void)
{
    atomic_store(&bgsave_scheduled, 1);
}

/* INFO's fork fields (forksafe.h) and Redis's "fork" latency event. */
static void count_fork(uint64_t usec)
{
    forksafe_count(usec);
    if (latency_wanted(usec / 1000)) /* Redis's "fork" latency event */
        latency_add("fork", usec / 1000);
}

int persist_bgsave(void)
{
    if (persist_bgsave_running())
        return -2;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        log_warn("Can't save in background: pipe: %s", strerror(errno));
        atomic_store(&last_bgsave_ok, 0);
        return -1;
    }
    char path[4400], tmp[4400];
    persist_paths(path, tmp, sizeof path, 0); /* config's lock taken here, never in the child */
    uint64_t dirty = store_dirty();
    buf_t funcs;
    gather_functions(&funcs);
    atomic_store(&last_try_s, unix_s());
    /* fork() in a threaded process: the child has only this thread, which
     * holds every partition, so the memory it copies has no write half done;
     * other threads' locks (config's, the log's, libev's) may be copied held,
     * so the child takes none and never logs or runs a loop. Its malloc is
     * safe: glibc's and jemalloc's fork handlers hand the child usable arenas. */
    uint64_t t0 = mono_us();
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        char ctmp[4400];
        const char *slash = strrchr(tmp, '/');
        snprintf(ctmp, sizeof ctmp, "%.*s/temp-%d.rdb", (int)(slash - tmp), tmp, (int)getpid());
        uint64_t skipped;
        int err = save_file(ctmp, path, &funcs, &skipped);
        unsigned char res[9] = {err > 255 ? 255 : (unsigned char)err};
        memcpy(res + 1, &skipped, 8);
        (void)!write(pfd[1], res, sizeof res);
        _exit(err ? 1 : 0);
    }
    buf_free(&funcs);
    close(pfd[1]);
    if (pid < 0) {
        log_warn("Can't save in background: fork: %s", strerror(errno));
        close(pfd[0]);
        atomic_store(&last_bgsave_ok, 0);
        return -1;
    }
    count_fork(mono_us() - t0);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    atomic_store(&dirty_at_fork, dirty);
    atomic_store(&bgsave_start_s, unix_s());
    atomic_store(&child_fd, pfd[0]);
    atomic_store(&bgsave_scheduled, 0);
    atomic_store(&child_pid, (int)pid);
    log_notice("Background saving started by pid %d", (int)pid);
    return 0;
}

/* The child's result: its byte on the pipe (an errno, 0 ok), or EOF when it
 * died without one (killed). libev's default loop reaps children itself, so
 * the status comes by pipe; waitpid here only reaps what it left. */
static void collect_child(void)
{
    int pid = atomic_load(&child_pid), fd = atomic_load(&child_fd);
    if (!pid)
        return;
    unsigned char rb[9];
    ssize_t k = read(fd, rb, sizeof rb); /* one write of 9 bytes: all or none */
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    unsigned char res = rb[0];
    int ok = k == (ssize_t)sizeof rb && res == 0;
    if (k == (ssize_t)sizeof rb) {
        uint64_t skipped;
        memcpy(&skipped, rb + 1, 8);
        if (skipped)
            log_warn("%llu stream keys were left out of the RDB file (no stream writer yet)",
                     (unsigned long long)skipped);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(fd);
    int64_t now = unix_s();
    atomic_store(&last_bgsave_time_s, now - atomic_load(&bgsave_start_s));
    atomic_store(&bgsave_start_s, -1);
    if (ok) {
        log_notice("Background saving terminated with success");
        atomic_store(&dirty_at_save, atomic_load(&dirty_at_fork));
        atomic_store(&last_save_s, now);
        atomic_fetch_add(&saves, 1);
    } else {
        char path[4400], tmp[4400];
        persist_paths(path, tmp, sizeof path, pid);
        unlink(tmp);
        if (k == (ssize_t)sizeof rb)
            log_warn("Background saving error: %s", strerror(res));
        else
            log_warn("Background saving terminated by a signal (no result from pid %d)", pid);
    }
    atomic_store(&last_bgsave_ok, ok);
    atomic_store(&child_fd, -1);
    atomic_store(&child_pid, 0);
}

/* Whether a save point "<seconds> <changes> ..." is due. Redis: after a
 * failed background save, wait 5 seconds before trying again. */
static int save_point_due(int64_t now)
{
    uint64_t dirty = store_dirty() - atomic_load(&dirty_at_save);
    if (dirty == 0)
        return 0;
    if (!atomic_load(&last_bgsave_ok) && now - atomic_load(&last_try_s) <= 5)
        return 0;
    buf_t s;
    buf_init(&s);
    opt_str("save", &s);
    const char *p = buf_cstr(&s);
    int due = 0;
    long long secs, changes;
    int used;
    while (!due && sscanf(p, "%lld %lld%n", &secs, &changes, &used) == 2) {
        p += used;
        due = dirty >= (uint64_t)changes && now - atomic_load(&last_save_s) > secs;
    }
    buf_free(&s);
    return due;
}

int persist_cron(uint64_t now_ms)
{
    collect_child();
    if (persist_bgsave_running())
        return 0;
    if (atomic_load(&bgsave_scheduled))
        return 1;
    return save_point_due((int64_t)(now_ms / 1000));
}

static int save_points_set(void)
{
    buf_t s;
    buf_init(&s);
    opt_str("save", &s);
    int set = s.len > 0;
    buf_free(&s);
    return set;
}

int persist_refuse_writes(void)
{
    return !atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed) &&
           config_get_int(CFG_STOP_WRITES_ON_BGSAVE_ERROR) && save_points_set();
}

uint64_t persist_lastsave(void)
{
    return (uint64_t)atomic_load(&last_save_s);
}

void persist_info(buf_t *o, uint64_t start_s)
{
    if (atomic_load(&last_save_s) == 0)
        atomic_store(&last_save_s, (int64_t)start_s);
    int64_t st = atomic_load(&bgsave_start_s);
    int running = persist_bgsave_running();
    buf_printf(o,
               "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\n"
               "current_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n"
               "current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n"
               "rdb_changes_since_last_save:%llu\r\nrdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
               "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\n"
               "rdb_saves:%llu\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:%llu\r\n"
               "rdb_last_load_keys_loaded:%llu\r\n",
               (unsigned long long)(store_dirty() - atomic_load(&dirty_at_save)), running,
               (long long)atomic_load(&last_save_s), atomic_load(&last_bgsave_ok) ? "ok" : "err",
               (long long)atomic_load(&last_bgsave_time_s),
               (long long)(running && st >= 0 ? unix_s() - st : -1),
               (unsigned long long)atomic_load(&saves),
               (unsigned long long)atomic_load(&load_expired),
               (unsigned long long)atomic_load(&load_loaded));
}

void persist_loaded(uint64_t loaded, uint64_t expired)
{
    atomic_store(&load_loaded, loaded);
    atomic_store(&load_expired, expired);
}

void persist_started(void)
{
    if (atomic_load(&last_save_s) == 0)
        atomic_store(&last_save_s, unix_s()); /* Redis: LASTSAVE is the start until a save */
}

void persist_saved_now(void)
{
    atomic_store(&dirty_at_save, store_dirty());
}

static _Atomic int shutdown_save = -1;

void persist_set_shutdown_save(int mode)
{
    atomic_store(&shutdown_save, mode);
}

int persist_shutdown_check(int mode)
{
    if (mode == 0 || (mode < 0 && !save_points_set()))
        return 0;
    char path[4400], tmp[4400];
    persist_paths(path, tmp, sizeof path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_warn("Error trying to save the DB, can't exit: %s: %s", tmp, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(tmp);
    return 0;
}

int persist_at_exit(void)
{
    int pid = atomic_load(&child_pid);
    if (pid) {
        log_warn("There is a child saving an .rdb. Killing it!");
        kill(pid, SIGKILL);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        char path[4400], tmp[4400];
        persist_paths(path, tmp, sizeof path, pid);
        unlink(tmp);
        close(atomic_load(&child_fd));
        atomic_store(&child_pid, 0);
    }
    int mode = atomic_load(&shutdown_save);
    if (mode == 0 || (mode < 0 && !save_points_set()))
        return 0;
    log_notice("Saving the final RDB snapshot before exiting.");
    return persist_save();
}

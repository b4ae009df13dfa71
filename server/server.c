/* server — the modules wired in dependency order, with the callbacks through
 * which the lower ones reach the higher (the event loop's hooks, of which
 * reload and stopping go on to main.c's server_events_t, CONFIG SET's and
 * CONFIG RESETSTAT's): what main.c starts, and what the in-process fuzz
 * harness (tests/fuzz/fuzz_dispatch.c) starts the same way. The top layer. */
#include "acl.h"
#include "log.h"
#include "server.h"

#include <errno.h>
#include <unistd.h>

#include "all_commands.h"
#include "aof.h"
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "latency.h"
#include "log.h"
#include "slowlog.h"
#include "notify.h"
#include "persist.h"
#include "rdb.h"
#include "pubsub.h"
#include "scheduler.h"
#include "script.h"
#include "store.h"
#include "tracking.h"
#include "worker.h"

/* Save points and a BGSAVE scheduled by EXEC (worker 0's cron): a snapshot
 * needs every partition held, which only a task gets, so the cron sends
 * BGSAVE down a connection to itself (client_internal) and the scheduler
 * runs it like any client's; the reply is read and the connection closed
 * on a later tick. */
static int save_fd = -1;
static uint64_t save_fd_since;

static void cron_save(uint64_t now)
{
    int due = persist_cron(now) && !aof_rewrite_running();
    int aof_due = aof_cron(now); /* also collects a finished rewrite, flushes the log */
    if (save_fd >= 0) {
        char b[256];
        ssize_t k = read(save_fd, b, sizeof b);
        if (k >= 0 || errno != EAGAIN || now - save_fd_since > 10000) {
            close(save_fd);
            save_fd = -1;
        }
        return;
    }
    if (!due && !aof_due)
        return;
    save_fd = client_internal(0);
    if (save_fd < 0)
        return;
    /* a save point first; the rewrite waits for it (scheduled), as Redis */
    static const char save[] = "*1\r\n$6\r\nBGSAVE\r\n";
    static const char rewrite[] = "*1\r\n$12\r\nBGREWRITEAOF\r\n";
    const char *cmd = due ? save : rewrite;
    size_t len = due ? sizeof save - 1 : sizeof rewrite - 1;
    if (write(save_fd, cmd, len) != (ssize_t)len) {
        close(save_fd);
        save_fd = -1;
        return;
    }
    save_fd_since = now;
    if (due)
        log_notice("Save point reached (or a BGSAVE was scheduled): background saving");
}

/* The loop's cron: the scheduler's (expiry, rehashing), the clients', INFO's
 * rate sampling. */
static void worker_cron(int worker, uint64_t now)
{
    sched_cron(worker, now);
    client_cron(worker, now);
    info_cron(worker, now);
    if (worker == 0)
        cron_save(now);
}

/* Before the loop blocks: the scheduler's deferred work, then the AOF's
 * group commit (one write and fsync for the round's writes, aof.h). */
static int worker_poll(int worker)
{
    int more = sched_poll(worker);
    if (!more)
        aof_flush_pending();
    return more;
}

/* The process's callbacks (main.c), NULL when it has none. */
static const server_events_t *events;

static void worker_reload(void)
{
    if (events && events->reload)
        events->reload();
}

static void worker_stopping(void)
{
    if (events && events->stopping)
        events->stopping();
}

/* What the event loop calls up into (worker.h). */
static const worker_hooks_t worker_hooks = {
    .accept = client_accept,
    .client_event = client_on_event,
    .cron = worker_cron,
    .cron_hz = sched_cron_hz,
    .poll = worker_poll,
    .start = sched_worker_start,
    .stop = client_close_all,
    .reload = worker_reload,
    .stopping = worker_stopping,
};

/* CONFIG RESETSTAT: the counters of the layers above the commands. */
static void reset_stats(void)
{
    sched_reset_stats();
    client_reset_stats();
    worker_reset_stats();
}

/* CONFIG SET's changes that modules above the configuration apply. */
static void apply_config(int id)
{
    if (id == CFG_RDBCOMPRESSION || id == CFG_MAXMEMORY)
        rdb_set_compression(config_get_int(CFG_RDBCOMPRESSION));
    if (id == CFG_MAXMEMORY || id == CFG_MAXMEMORY_POLICY || id == CFG_MAXMEMORY_SAMPLES)
        store_set_maxmemory(config_get_u64(CFG_MAXMEMORY), config_get_int(CFG_MAXMEMORY_POLICY),
                            config_get_int(CFG_MAXMEMORY_SAMPLES));
    if (id == CFG_REQUIREPASS)
        acl_apply_requirepass();
    if (id == CFG_APPENDONLY)
        aof_config_changed();
}

int server_setup(int threads, int pin, const server_events_t *ev)
{
    events = ev;
    int parts = config_get_int(CFG_PARTITIONS);
    store_setup(parts, config_get_int(CFG_DATABASES));
    apply_config(CFG_MAXMEMORY);
    config_on_change(apply_config);
    command_setup(all_commands);
    acl_setup();
    acl_set_describer(client_describe);
    acl_set_killer(client_kill_user);
    acl_set_changed_hook(client_recheck_user);
    buf_t aclerr;
    buf_init(&aclerr);
    if (acl_load_file(&aclerr) == -1) { /* as Redis, a bad aclfile stops the start */
        log_warn("aclfile: %s", buf_cstr(&aclerr));
        buf_free(&aclerr);
        return -1;
    }
    buf_free(&aclerr);
    command_stats_setup(threads);
    latency_hist_setup(threads, command_count());
    slowlog_set_namer(client_get_name);
    command_on_stats_reset(reset_stats);
    client_setup(threads);
    pubsub_setup(xthread_send);
    notify_setup();
    tracking_setup(store_partitions(), client_alive);
    blocking_setup(parts, xthread_send, client_block_woken);
    if (worker_setup(threads, (size_t)config_get_int(CFG_RING_SIZE), pin, &worker_hooks) != 0 ||
        sched_setup(threads, parts, config_get_int(CFG_POLICY), config_get_int(CFG_BATCH_MAX)) != 0)
        return -1;
    script_setup();
    return 0;
}

void server_teardown(void)
{
    script_teardown();
    sched_teardown();
    aof_teardown();
    worker_teardown(); /* frees wake messages still queued: before the registry */
    notify_teardown();
    tracking_teardown();
    pubsub_teardown();
    blocking_teardown();
    client_teardown();
    config_on_change(NULL);
    acl_teardown();
    command_stats_teardown();
    latency_hist_teardown();
    slowlog_teardown();
    command_teardown();
    store_teardown();
}

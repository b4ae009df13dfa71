/* server — the modules wired in dependency order, with the callbacks through
 * which the lower ones reach the higher (the event loop's hooks, of which
 * reload and stopping go on to main.c's server_events_t, CONFIG SET's and
 * CONFIG RESETSTAT's): what main.c starts, and what the in-process fuzz
 * harness (tests/fuzz/fuzz_dispatch.c) starts the same way. The top layer. */
#include "server.h"

#include "all_commands.h"
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "latency.h"
#include "slowlog.h"
#include "notify.h"
#include "pubsub.h"
#include "scheduler.h"
#include "script.h"
#include "store.h"
#include "tracking.h"
#include "worker.h"

/* The loop's cron: the scheduler's (expiry, rehashing), the clients', INFO's
 * rate sampling. */
static void worker_cron(int worker, uint64_t now)
{
    sched_cron(worker, now);
    client_cron(worker, now);
    info_cron(worker, now);
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
    .poll = sched_poll,
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
    if (id == CFG_MAXMEMORY || id == CFG_MAXMEMORY_POLICY || id == CFG_MAXMEMORY_SAMPLES)
        store_set_maxmemory(config_get_u64(CFG_MAXMEMORY), config_get_int(CFG_MAXMEMORY_POLICY),
                            config_get_int(CFG_MAXMEMORY_SAMPLES));
}

int server_setup(int threads, int pin, const server_events_t *ev)
{
    events = ev;
    int parts = config_get_int(CFG_PARTITIONS);
    store_setup(parts, config_get_int(CFG_DATABASES));
    apply_config(CFG_MAXMEMORY);
    config_on_change(apply_config);
    command_setup(all_commands);
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
    worker_teardown(); /* frees wake messages still queued: before the registry */
    notify_teardown();
    tracking_teardown();
    pubsub_teardown();
    blocking_teardown();
    client_teardown();
    config_on_change(NULL);
    command_stats_teardown();
    latency_hist_teardown();
    slowlog_teardown();
    command_teardown();
    store_teardown();
}

/* INFO [section ...]: every figure is summed from per-worker and
 * per-partition counters at the moment INFO asks, except the instantaneous_*
 * rates, which worker 0's cron samples (info_cron). At the
 * top of the layers with main.c (README.md, Layout): it reads every module's
 * counters, so no module below has to know the others. Also the process-wide
 * facts main.c sets (server.h). MEMORY (at the end) reads the same accounts. */
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "all_commands.h"
#include "client.h"
#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "forksafe.h"
#include "latency.h"
#include "aof.h"
#include "persist.h"
#include "pubsub.h"
#include "scheduler.h"
#include "server.h"
#include "script.h"
#include "store.h"
#include "tracking.h"
#include "worker.h"

server_info_t server;

static void bytes_human(char *dst, size_t n, uint64_t b)
{
    const char *units = "BKMGTP";
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(dst, n, "%lluB", (unsigned long long)b);
    else
        snprintf(dst, n, "%.2f%c", v, units[u]);
}

/* One counter of a module's per-worker stats summed over the workers: of(w)
 * is worker w's struct of counters, offset the counter's place in it. */
static uint64_t sum_stat(const void *(*of)(int w), size_t offset)
{
    uint64_t s = 0;
    for (int w = 0; w < worker_count(); w++)
        s += stat_get((_Atomic uint64_t *)((const char *)of(w) + offset));
    return s;
}
static const void *client_of(int w) { return client_stats(w); }
static const void *command_of(int w) { return command_worker_stats(w); }
#define SUM_CLIENT(field) sum_stat(client_of, offsetof(client_stats_t, field))
#define SUM_COMMAND(field) sum_stat(command_of, offsetof(cmd_worker_stats_t, field))

/* ---- instantaneous rates ------------------------------------------------ */

static uint64_t rss_bytes(void);
static uint64_t memory_now(uint64_t *dataset, uint64_t *tables, uint64_t *clients);
static _Atomic uint64_t rss_startup;

/* What info_cron samples: commands processed, bytes read, bytes written. */
enum { RATE_OPS, RATE_IN, RATE_OUT, NRATES };
#define RATE_SAMPLES 16      /* the rates span the last 16 intervals, as Redis's */
#define RATE_INTERVAL_MS 100

/* Per second, over the sampled window: written by worker 0, read by INFO on
 * any worker. */
static _Atomic uint64_t rates[NRATES];

static struct {
    uint64_t ms, v[NRATES];
} samples[RATE_SAMPLES]; /* worker 0's alone */
static unsigned nsamples, next_sample;

void info_cron(int worker, uint64_t now)
{
    if (worker != 0)
        return;
    uint64_t dataset, tables, clients;
    memory_now(&dataset, &tables, &clients); /* the peak */
    if (!stat_get(&rss_startup))
        atomic_store_explicit(&rss_startup, rss_bytes(), memory_order_relaxed);
    unsigned last = (next_sample + RATE_SAMPLES - 1) % RATE_SAMPLES;
    if (nsamples && now < samples[last].ms + RATE_INTERVAL_MS)
        return;
    samples[next_sample].ms = now;
    samples[next_sample].v[RATE_OPS] = SUM_COMMAND(commands_processed);
    samples[next_sample].v[RATE_IN] = SUM_CLIENT(net_input_bytes);
    samples[next_sample].v[RATE_OUT] = SUM_CLIENT(net_output_bytes);
    unsigned oldest = nsamples < RATE_SAMPLES ? 0 : (next_sample + 1) % RATE_SAMPLES;
    if (nsamples < RATE_SAMPLES)
        nsamples++;
    uint64_t span = now - samples[oldest].ms;
    for (int k = 0; k < NRATES && span > 0; k++) {
        uint64_t d = samples[next_sample].v[k] - samples[oldest].v[k];
        atomic_store_explicit(&rates[k], d * 1000 / span, memory_order_relaxed);
    }
    next_sample = (next_sample + 1) % RATE_SAMPLES;
}

/* redis_build_id: what identifies this build (version and compiler), as a
 * 64-bit FNV-1a in hex, where Redis hashes its own build's details. */
static uint64_t build_id(void)
{
    static const char what[] = PERCORE_VERSION " " __VERSION__;
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = what; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static void info_server(buf_t *o)
{
    struct utsname u;
    uname(&u);
    uint64_t now = now_ms();
    uint64_t up = (now - server.start_ms) / 1000;
    buf_printf(o,
               "# Server\r\nredis_version:%s\r\npercore_version:%s\r\nredis_git_sha1:00000000\r\n"
               "redis_git_dirty:0\r\nredis_build_id:%016llx\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
               "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:libev\r\n"
               "atomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\nprocess_id:%d\r\n"
               "process_supervised:%s\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%llu\r\nuptime_in_seconds:%llu\r\n"
               "uptime_in_days:%llu\r\nhz:%d\r\nconfigured_hz:%d\r\nlru_clock:%u\r\n"
               "executable:%s\r\n"
               "config_file:%s\r\nio_threads_active:0\r\nworker_threads:%d\r\n"
               "scheduler_policy:%s\r\n\r\n",
               REDIS_API_VERSION, PERCORE_VERSION, (unsigned long long)build_id(), u.sysname, u.release, u.machine,
               (int)(sizeof(void *) * 8), __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
               (int)getpid(), getenv("NOTIFY_SOCKET") ? "systemd" : "no", server.run_id, config_get_int(CFG_PORT),
               (unsigned long long)now_us(), (unsigned long long)up,
               (unsigned long long)(up / 86400), config_get_int(CFG_HZ), config_get_int(CFG_HZ),
               (unsigned)(uint32_t)now, /* the LRU clock evict.c stamps keys with (ms) */
               server.executable, server.config_file, worker_count(), sched_policy_name());
}

static void info_clients(buf_t *o)
{
    uint64_t max_in, max_out;
    client_max_buffers(&max_in, &max_out);
    buf_printf(o,
               "# Clients\r\nconnected_clients:%llu\r\ncluster_connections:0\r\nmaxclients:%d\r\n"
               "client_recent_max_input_buffer:%llu\r\nclient_recent_max_output_buffer:%llu\r\n"
               "blocked_clients:%llu\r\ntracking_clients:%llu\r\nclients_in_timeout_table:0\r\n\r\n",
               (unsigned long long)client_count(), config_get_int(CFG_MAXCLIENTS),
               (unsigned long long)max_in, (unsigned long long)max_out,
               (unsigned long long)(client_blocked_count() + client_postponed_count()),
               (unsigned long long)tracking_clients());
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* used_memory's peak, and the RSS when the server began serving (its fixed
 * overhead: code, rings, partitions), both kept by worker 0's cron. */
static _Atomic uint64_t mem_peak;

static uint64_t memory_now(uint64_t *dataset, uint64_t *tables, uint64_t *clients)
{
    store_stats_t st;
    store_stats(&st);
    *tables = st.table_memory;
    *dataset = st.used_memory - st.table_memory;
    *clients = client_memory();
    uint64_t used = st.used_memory + *clients, peak = stat_get(&mem_peak);
    if (used > peak)
        atomic_store_explicit(&mem_peak, used, memory_order_relaxed); /* a lost race: a lower peak, briefly */
    return used;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* What is counted is what maxmemory limits (conf/server.ini says the same):
 * keys and values at jemalloc's size classes, the dicts' tables, clients'
 * buffers. The fixed overhead is used_memory_rss_startup, outside the limit. */
static void info_memory(buf_t *o)
{
    uint64_t dataset, tables, clients;
    uint64_t used = memory_now(&dataset, &tables, &clients);
    uint64_t maxmem = config_get_u64(CFG_MAXMEMORY), rss = rss_bytes(), peak = stat_get(&mem_peak);
    uint64_t rss0 = stat_get(&rss_startup), sysmem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
                                                     (uint64_t)sysconf(_SC_PAGESIZE);
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    buf_t policy;
    buf_init(&policy);
    config_format_value(&config_opts[CFG_MAXMEMORY_POLICY], &policy);
    buf_putc(&policy, '\0');
    bytes_human(h1, sizeof h1, used);
    bytes_human(h2, sizeof h2, maxmem);
    bytes_human(h3, sizeof h3, rss);
    bytes_human(h4, sizeof h4, peak);
    bytes_human(h5, sizeof h5, sysmem);
    buf_printf(o,
               "# Memory\r\nused_memory:%llu\r\nused_memory_human:%s\r\nused_memory_rss:%llu\r\n"
               "used_memory_rss_human:%s\r\nused_memory_peak:%llu\r\nused_memory_peak_human:%s\r\n"
               "used_memory_peak_perc:%.2f%%\r\nused_memory_overhead:%llu\r\n"
               "used_memory_startup:0\r\nused_memory_rss_startup:%llu\r\n"
               "used_memory_dataset:%llu\r\nused_memory_dataset_perc:%.2f%%\r\n"
               "total_system_memory:%llu\r\ntotal_system_memory_human:%s\r\n"
               "maxmemory:%llu\r\nmaxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\nmem_fragmentation_ratio:%.2f\r\n"
               "mem_fragmentation_bytes:%lld\r\nmem_not_counted_for_evict:%llu\r\n"
               "mem_clients_slaves:0\r\nmem_clients_normal:%llu\r\nmem_allocator:%s\r\n"
               "lazyfree_pending_objects:0\r\n\r\n",
               (unsigned long long)used, h1, (unsigned long long)rss, h3,
               (unsigned long long)peak, h4, pct(used, peak), (unsigned long long)(tables + clients),
               (unsigned long long)rss0, (unsigned long long)dataset, pct(dataset, used),
               (unsigned long long)sysmem, h5, (unsigned long long)maxmem, h2, policy.data,
               used ? (double)rss / (double)used : 0.0, (long long)rss - (long long)used,
               (unsigned long long)mem_not_counted(),
               (unsigned long long)clients, server.allocator ? server.allocator : "libc");
    o->len -= 2; /* the scripting lines belong to this section */
    script_info_memory(o);
    /* What Redis has and percore has not: replication, AOF, cluster links,
     * defragmentation, lazy freeing. */
    function_info_memory(o);
    buf_printf(o, "mem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n"
                  "mem_cluster_links:0\r\nmem_aof_buffer:0\r\nactive_defrag_running:0\r\n"
                  "lazyfreed_objects:0\r\n\r\n");
    buf_free(&policy);
}

static void info_persistence(buf_t *o)
{
    persist_info(o, server.start_ms / 1000);
    aof_info(o, 0);
    buf_printf(o, "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    aof_info(o, 1);
    buf_printf(o, "\r\n");
}

static void info_stats(buf_t *o)
{
    store_stats_t st;
    store_stats(&st);
    buf_printf(o,
               "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
               "instantaneous_ops_per_sec:%llu\r\n"
               "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
               "total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\n"
               "instantaneous_input_kbps:%.2f\r\ninstantaneous_output_kbps:%.2f\r\n"
               "instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n"
               "rejected_connections:%llu\r\nsync_full:0\r\nsync_partial_ok:0\r\n"
               "sync_partial_err:0\r\nexpired_keys:%llu\r\nevicted_keys:%llu\r\n"
               "evicted_clients:%llu\r\n"
               "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\npubsub_channels:%lld\r\n"
               "pubsub_patterns:%lld\r\npubsubshard_channels:%lld\r\n"
               "latest_fork_usec:%llu\r\ntotal_forks:%llu\r\nmigrate_cached_sockets:0\r\n"
               "slave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n"
               "active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n"
               "active_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\n"
               "current_active_defrag_time:0\r\n\r\n",
               (unsigned long long)SUM_CLIENT(connections_received),
               (unsigned long long)SUM_COMMAND(commands_processed),
               (unsigned long long)atomic_load_explicit(&rates[RATE_OPS], memory_order_relaxed),
               (unsigned long long)SUM_CLIENT(net_input_bytes),
               (unsigned long long)SUM_CLIENT(net_output_bytes),
               (double)atomic_load_explicit(&rates[RATE_IN], memory_order_relaxed) / 1024.0,
               (double)atomic_load_explicit(&rates[RATE_OUT], memory_order_relaxed) / 1024.0,
               (unsigned long long)SUM_CLIENT(rejected_connections),
               (unsigned long long)st.expired_keys, (unsigned long long)st.evicted_keys,
               (unsigned long long)SUM_CLIENT(evicted_clients),
               (unsigned long long)st.keyspace_hits, (unsigned long long)st.keyspace_misses,
               pubsub_active(PUBSUB_CHANNEL), pubsub_active(PUBSUB_PATTERN),
               pubsub_active(PUBSUB_SHARD),
               (unsigned long long)forksafe_latest_fork_usec(),
               (unsigned long long)forksafe_total_forks());
    o->len -= 2;
    tracking_info_stats(o);
    buf_printf(o, "unexpected_error_replies:0\r\ntotal_error_replies:%llu\r\n"
                  "dump_payload_sanitizations:0\r\nio_threaded_reads_processed:0\r\n"
                  "io_threaded_writes_processed:0\r\n",
               (unsigned long long)SUM_COMMAND(error_replies));
    script_info_stats(o);
    buf_printf(o, "\r\n");
}

/* A standalone master with no replicas and no backlog, in Redis's fields
 * (client libraries and exporters read role and connected_slaves). */
static void info_replication(buf_t *o)
{
    buf_printf(o,
               "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
               "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
               "master_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
               "repl_backlog_size:0\r\nrepl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n\r\n",
               server.replid);
}

static void info_modules(buf_t *o)
{
    buf_printf(o, "# Modules\r\n\r\n");
}

static void info_cluster(buf_t *o)
{
    buf_printf(o, "# Cluster\r\ncluster_enabled:0\r\n\r\n");
}

static void info_cpu(buf_t *o)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct rusage rc; /* percore forks no children: zero, as Redis's without a save */
    getrusage(RUSAGE_CHILDREN, &rc);
    buf_printf(o, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
                  "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n\r\n",
               (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec,
               (long)ru.ru_utime.tv_usec, (long)rc.ru_stime.tv_sec, (long)rc.ru_stime.tv_usec,
               (long)rc.ru_utime.tv_sec, (long)rc.ru_utime.tv_usec);
}

static void info_keyspace(buf_t *o)
{
    buf_printf(o, "# Keyspace\r\n");
    for (int db = 0; db < store_databases(); db++) {
        uint64_t keys = store_db_keys(db);
        if (keys)
            buf_printf(o, "db%d:keys=%llu,expires=%llu,avg_ttl=0\r\n", db,
                       (unsigned long long)keys, (unsigned long long)store_db_expires(db));
    }
    buf_printf(o, "\r\n");
}

static void info_commandstats(buf_t *o)
{
    buf_printf(o, "# Commandstats\r\n");
    for (int i = 0; i < command_count(); i++) {
        uint64_t calls = 0, usec = 0, rej = 0, failed = 0;
        for (int w = 0; w < worker_count(); w++) {
            cmd_stats_t *s = &command_stats(w)[i];
            calls += stat_get(&s->calls);
            usec += stat_get(&s->usec);
            rej += stat_get(&s->rejected_calls);
            failed += stat_get(&s->failed_calls);
        }
        if (calls || rej || failed)
            buf_printf(o,
                       "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
                       "failed_calls=%llu\r\n",
                       command_at(i)->name, (unsigned long long)calls, (unsigned long long)usec,
                       calls ? (double)usec / (double)calls : 0.0, (unsigned long long)rej,
                       (unsigned long long)failed);
    }
    buf_printf(o, "\r\n");
}

/* Percentiles of each command's latency histogram (latency.h), those of
 * latency-tracking-info-percentiles. */
static void info_latencystats(buf_t *o)
{
    buf_printf(o, "# Latencystats\r\n");
    buf_t pcts;
    buf_init(&pcts);
    config_format_value(&config_opts[CFG_LATENCY_TRACKING_INFO_PERCENTILES], &pcts);
    for (int s = 0; s < latency_slot_count(); s++)
        latency_hist_info(o, s, buf_cstr(&pcts));
    buf_free(&pcts);
    buf_printf(o, "\r\n");
}

static void info_errorstats(buf_t *o)
{
    buf_printf(o, "# Errorstats\r\n");
    command_errstats_info(o);
    buf_printf(o, "\r\n");
}

#define PUT_STAT(s, name) buf_printf(o, #name "=%llu,", (unsigned long long)stat_get(&(s)->name));

/* A line per worker with every layer's counters, in the order INFO has
 * always had (tools parse it): the scheduler's and its locks', the event
 * loop's, then the connections' and the commands' interleaved. */
static void info_scheduler(buf_t *o)
{
    buf_printf(o, "# Scheduler\r\n");
    sched_info(o);
    for (int w = 0; w < worker_count(); w++) {
        sched_stats_t *sc = sched_stats(w);
        worker_stats_t *lp = worker_stats(w);
        client_stats_t *cl = client_stats(w);
        cmd_worker_stats_t *cm = command_worker_stats(w);
        buf_printf(o, "worker%d:", w);
#define X(name, desc) PUT_STAT(sc, name)
        SCHED_STATS(X)
#undef X
#define X(name, desc) PUT_STAT(&sc->locks, name)
        PARTLOCK_STATS(X)
#undef X
#define X(name, desc) PUT_STAT(lp, name)
        WORKER_STATS(X)
#undef X
        PUT_STAT(cl, connections_received)
        PUT_STAT(cl, rejected_connections)
        PUT_STAT(cm, commands_processed)
        PUT_STAT(cl, net_input_bytes)
        PUT_STAT(cl, net_output_bytes)
        PUT_STAT(cm, error_replies)
        buf_printf(o, "ring_depth=%zu\r\n", worker_inbound_depth(w));
    }
    buf_printf(o, "\r\n");
}

static const struct {
    const char *name;
    void (*fn)(buf_t *);
    int in_default;
} sections[] = {
    {"server", info_server, 1},         {"clients", info_clients, 1},
    {"memory", info_memory, 1},         {"persistence", info_persistence, 1},
    {"stats", info_stats, 1},           {"replication", info_replication, 1},
    {"cpu", info_cpu, 1},               {"modules", info_modules, 1},  
    {"scheduler", info_scheduler, 1},   {"commandstats", info_commandstats, 0},
    {"errorstats", info_errorstats, 1}, {"latencystats", info_latencystats, 0}, {"cluster", info_cluster, 1},
    {"keyspace", info_keyspace, 1},
};
#define NSECTIONS (sizeof sections / sizeof *sections)

/* INFO [section [section ...]] */
static void cmd_info(cmd_ctx_t *c)
{
    int want[NSECTIONS] = {0};
    if (c->argc == 1) {
        for (size_t i = 0; i < NSECTIONS; i++)
            want[i] = sections[i].in_default;
    }
    for (int a = 1; a < c->argc; a++) {
        sv_t s = c->argv[a];
        int all = sv_eq_ci(s, "all") || sv_eq_ci(s, "everything");
        for (size_t i = 0; i < NSECTIONS; i++)
            if (all || (sv_eq_ci(s, "default") && sections[i].in_default) ||
                sv_eq_ci(s, sections[i].name))
                want[i] = 1;
    }
    buf_t o;
    buf_init(&o);
    for (size_t i = 0; i < NSECTIONS; i++)
        if (want[i])
            sections[i].fn(&o);
    /* Redis ends without the last blank line. */
    if (o.len >= 2)
        o.len -= 2;
    reply_verbatim(c->r, o.data ? o.data : "", o.len, "txt");
    buf_free(&o);
}

const command_t cmds_info[] = {
    CMD_ROW("info", cmd_info, -1, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow @dangerous",
        "server", "1.0.0", "Get information and statistics about the server",
        .tips = "nondeterministic_output request_policy:all_shards response_policy:special"),
    {0},
};

/* ---- MEMORY ---------------------------------------------------------------
 * Here rather than in a commands-layer file because MEMORY STATS and DOCTOR
 * read the same server-wide account as INFO memory (memory_now: the
 * partitions' accounts plus clients' buffers, connections layer). */

/* MEMORY USAGE key [SAMPLES count]
 * The key's dict entry plus obj_mem of its value: the partitions' memory
 * accounts keep every aggregate's size as it changes (t_*.h: the `mem`
 * field), so the figure is exact and O(1) and SAMPLES, checked as Redis
 * checks it, changes nothing (Redis samples because it must walk the value). */
static void memory_usage_command(cmd_ctx_t *c)
{
    for (int j = 3; j < c->argc; j++) {
        long long samples;
        if (arg_is(c, j, "samples") && j + 1 < c->argc) {
            if (arg_ll(c, j + 1, &samples, NULL) != 0)
                return;
            if (samples < 0) {
                reply_error(c->r, ERR_SYNTAX);
                return;
            }
            j++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    db_key_meta_t m;
    if (db_key_meta(c, c->argv[2], &m) != 0) {
        reply_null(c->r);
        return;
    }
    reply_int(c->r, (long long)(m.entry_mem + obj_mem(m.val)));
}

/* MEMORY STATS: Redis's field names for the figures percore has (see
 * info_memory); fields with no meaning here (replication backlog, AOF,
 * cluster links, per-allocator breakdowns) are left out. */
static void memory_stats_command(cmd_ctx_t *c)
{
    uint64_t dataset, tables, clients;
    uint64_t used = memory_now(&dataset, &tables, &clients), peak = stat_get(&mem_peak);
    uint64_t rss = rss_bytes(), keys = 0;
    for (int db = 0; db < store_databases(); db++)
        keys += store_db_keys(db);
    reply_map(c->r, 13);
    reply_bulk_cstr(c->r, "peak.allocated");
    reply_int(c->r, (long long)peak);
    reply_bulk_cstr(c->r, "total.allocated");
    reply_int(c->r, (long long)used);
    reply_bulk_cstr(c->r, "startup.allocated");
    reply_int(c->r, 0); /* as used_memory_startup: the fixed overhead is not counted */
    reply_bulk_cstr(c->r, "clients.normal");
    reply_int(c->r, (long long)clients);
    reply_bulk_cstr(c->r, "overhead.hashtable.main");
    reply_int(c->r, (long long)tables);
    reply_bulk_cstr(c->r, "overhead.total");
    reply_int(c->r, (long long)(tables + clients));
    reply_bulk_cstr(c->r, "keys.count");
    reply_int(c->r, (long long)keys);
    reply_bulk_cstr(c->r, "keys.bytes-per-key");
    reply_int(c->r, keys ? (long long)(dataset / keys) : 0);
    reply_bulk_cstr(c->r, "dataset.bytes");
    reply_int(c->r, (long long)dataset);
    reply_bulk_cstr(c->r, "dataset.percentage");
    reply_double(c->r, pct(dataset, used));
    reply_bulk_cstr(c->r, "peak.percentage");
    reply_double(c->r, pct(used, peak));
    reply_bulk_cstr(c->r, "fragmentation");
    reply_double(c->r, used ? (double)rss / (double)used : 0.0);
    reply_bulk_cstr(c->r, "fragmentation.bytes");
    reply_int(c->r, (long long)rss - (long long)used);
}

/* MEMORY DOCTOR: findings from the same figures, as a text report. */
static void memory_doctor_command(cmd_ctx_t *c)
{
    uint64_t dataset, tables, clients;
    uint64_t used = memory_now(&dataset, &tables, &clients), peak = stat_get(&mem_peak);
    uint64_t rss = rss_bytes(), rss0 = stat_get(&rss_startup);
    int found = 0;
    buf_t o;
    buf_init(&o);
    if (used < 5u << 20) {
        buf_printf(&o, "The dataset is too small (%llu bytes counted) for a diagnosis: "
                       "load some data and ask again.\n", (unsigned long long)used);
        goto done;
    }
    if (peak > used + used / 2) {
        buf_printf(&o, "* Peak memory: the peak (%llu bytes) is over 150%% of what is used "
                       "now (%llu): RSS may stay high after the peak; MEMORY PURGE returns "
                       "free pages where the allocator allows it.\n",
                   (unsigned long long)peak, (unsigned long long)used);
        found = 1;
    }
    if (rss > rss0 && (double)(rss - rss0) > 1.4 * (double)used && rss - rss0 > (10u << 20)) {
        buf_printf(&o, "* Fragmentation: the process's RSS beyond its startup size (%llu "
                       "bytes) is over 1.4 times the counted memory (%llu).\n",
                   (unsigned long long)(rss - rss0), (unsigned long long)used);
        found = 1;
    }
    if (clients > used / 2) {
        buf_printf(&o, "* Clients: their buffers (%llu bytes) are over half the counted "
                       "memory; look for slow readers (CLIENT LIST, omem).\n",
                   (unsigned long long)clients);
        found = 1;
    }
    if (!found)
        buf_printf(&o, "No memory problem found: %llu bytes counted, %llu of them the "
                       "dataset.\n", (unsigned long long)used, (unsigned long long)dataset);
done:
    reply_verbatim(c->r, o.data, o.len, "txt");
    buf_free(&o);
}

static void malloc_stats_write(void *arg, const char *text)
{
    buf_append(arg, text, strlen(text));
}

/* MEMORY MALLOC-STATS */
static void memory_malloc_stats_command(cmd_ctx_t *c)
{
    if (!server.malloc_stats) {
        reply_bulk_cstr(c->r, "Stats not supported for the current allocator");
        return;
    }
    buf_t o;
    buf_init(&o);
    server.malloc_stats(malloc_stats_write, &o);
    reply_verbatim(c->r, o.data, o.len, "txt");
    buf_free(&o);
}

/* MEMORY PURGE: jemalloc's arenas purged; with libc, malloc_trim. */
static void memory_purge_command(cmd_ctx_t *c)
{
    if (server.malloc_purge) {
        if (server.malloc_purge() != 0) {
            reply_error(c->r, "ERR Error purging dirty pages");
            return;
        }
    } else {
        malloc_trim(0);
    }
    reply_ok(c->r);
}

/* MEMORY HELP */
static void memory_help_command(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    A report of memory problems found, if any.",
        "MALLOC-STATS",
        "    The allocator's own statistics (jemalloc builds).",
        "PURGE",
        "    Return the allocator's free pages to the system.",
        "STATS",
        "    The server's memory accounts, by Redis's field names.",
        "USAGE <key> [SAMPLES <count>]",
        "    Bytes <key> and its value take, as percore accounts them (exact: the",
        "    count is accepted and not needed).",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* MEMORY <subcommand> [<arg> ...] */
static void memory_command(cmd_ctx_t *c)
{
    if (c->argc >= 3 && arg_is(c, 1, "usage"))
        memory_usage_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "stats"))
        memory_stats_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "doctor"))
        memory_doctor_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "malloc-stats"))
        memory_malloc_stats_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "purge"))
        memory_purge_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "help"))
        memory_help_command(c);
    else
        reply_subcommand_error(c, "memory");
}

/* MEMORY USAGE's key is argv[2]; the other subcommands have none. */
static int memory_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    if (argc >= 3 && sv_eq_ci(argv[1], "usage"))
        *first = *last = 2;
    *step = 1;
    return 0;
}

/* The container's row has Redis's (no flags); MEMORY USAGE reads a key. */
static uint32_t memory_flags(int argc, const sv_t *argv)
{
    return argc >= 3 && sv_eq_ci(argv[1], "usage") ? CMD_READONLY : 0;
}

static const char *const memory_subcommands[] = {"memory|doctor", "memory|malloc-stats",
                                                 "memory|purge", "memory|stats",
                                                 "memory|usage", "memory|help", NULL};

const command_t cmds_memory[] = {
    CMD_ROW("memory", memory_command, -2, 0, 0, 0, 0, "@slow", "server", "4.0.0",
        "A container for memory diagnostics commands", .keys_fn = memory_keys,
        .flags_fn = memory_flags, .subcommands = memory_subcommands,
        .subcommand_rows = subcmds_memory),
    {0},
};

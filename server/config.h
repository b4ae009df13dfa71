/* config — every option of server.ini, declared once in CONFIG_OPTIONS below.
 *
 * The table drives everything: the ini loader (with file, line and key named in
 * every error), the --section.key command-line overrides, CONFIG GET/SET, the
 * SIGHUP reload, --help and the commented conf/server.ini. Startup order (main
 * thread, before any worker runs):
 *
 *     config_defaults();
 *     config_load_file(path, err, sizeof err);        optional
 *     config_set_arg("server.port", "7000", ...);      each --section.key value
 *     config_finalize(online_cpus, err, sizeof err);   auto values, cross-checks
 *
 * After that, options flagged CFGF_RUNTIME may change at any time (CONFIG SET on
 * any worker, config_reload_file on worker 0), so every numeric field is a C11
 * atomic: read it with
 * config_get(field) or config_get_int/config_get_u64(CFG_ID), which are relaxed
 * loads — race-free, and as cheap as a plain load. String options that can
 * change at runtime (requirepass) are guarded by a mutex inside config.c: read
 * them only through config_check_password() or
 * config_format_value(). The other strings (bind, logfile, pidfile) never change
 * after config_finalize and may be read directly from cfg.
 *
 * config.c holds the table, the values and the runtime side; config_ini.c the
 * ini loader, the command line, --help and --print-ini.
 */
#ifndef PERCORE_CONFIG_H
#define PERCORE_CONFIG_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/* Value types. Memory sizes accept 1024, 1k (1000), 1kb (1024), 1m, 1mb, 1g,
 * 1gb, case-insensitive, exactly as redis.conf; CONFIG GET shows plain bytes. */
enum config_type {
    CFGT_INT,  /* decimal integer within [min, max] */
    CFGT_MEM,  /* memory size within [min, max] bytes */
    CFGT_BOOL, /* yes | no */
    CFGT_ENUM, /* one of words[]; stored as the word's index */
    CFGT_STR,  /* string; max > 0 limits its length in bytes */
};

enum config_flags {
    CFGF_RUNTIME = 1 << 0, /* CONFIG SET may change it while workers run */
    CFGF_POW2 = 1 << 1,    /* int: a power of two (or 0 when min is 0, meaning "auto") */
    CFGF_ADDRS = 1 << 2,   /* string: address list, normalised to single spaces */
    CFGF_OBL = 1 << 3,     /* string: client-output-buffer-limit classes (config_obl.c) */
    CFGF_PERCENT = 1 << 4, /* memory: also N% (0..100) of maxmemory, stored as -N */
    CFGF_EVENTS = 1 << 5,  /* string: notify-keyspace-events classes (config_events.c) */
    CFGF_PCTS = 1 << 6,    /* string: a list of percentiles 0..100, normalised (config_parse.c) */
    CFGF_SAVE = 1 << 7,    /* string: RDB save points "<seconds> <changes> ...", normalised */
    CFGF_FNAME = 1 << 8,   /* string: a file name without a directory (dbfilename) */
    CFGF_PROTECTED = 1 << 9, /* CONFIG SET only as enable-protected-configs allows (Redis 7.0) */
};

#define CFG_WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CFG_KB 1024LL
#define CFG_MB (1024LL * 1024)
#define CFG_GB (1024LL * CFG_MB)
#define CFG_TB (1024LL * CFG_GB)

/* X(ID, field, section, key, type, default, min, max, flags, words, description)
 * ID names the option (CFG_<ID>), field is its member of config_t. Keys are
 * unique across sections: CONFIG GET/SET use the bare key. Enum word order is
 * the stored value: loglevel follows enum log_level (log.h), policy follows
 * enum sched_policy (scheduler.h), maxmemory-policy follows enum maxmemory_policy
 * (store.h); tests/unit/config checks the three. */
#define CONFIG_OPTIONS(X)                                                                      \
    X(PORT, port, "server", "port", CFGT_INT, "6379", 1, 65535, 0, NULL,                       \
      "TCP port; every worker listens on it with its own SO_REUSEPORT socket")                 \
    X(BIND, bind, "server", "bind", CFGT_STR, "127.0.0.1 -::1", 0, 0, CFGF_ADDRS, NULL,        \
      "addresses to listen on (at least one; \"* -::*\" = all); a leading '-' skips one that " \
      "is unavailable")                                                                         \
    X(THREADS, threads, "server", "threads", CFGT_INT, "0", 0, 256, 0, NULL,                   \
      "worker threads, one event loop each; 0 = one per online CPU")                           \
    X(PIN_THREADS, pin_threads, "server", "pin-threads", CFGT_BOOL, "yes", 0, 1, 0, NULL,      \
      "pin worker i to CPU i (wrapping around when there are more workers than CPUs)")        \
    X(MAXCLIENTS, maxclients, "server", "maxclients", CFGT_INT, "10000", 1, INT_MAX,           \
      CFGF_RUNTIME, NULL,                                                                      \
      "most client connections open at once, all workers together (lowered to fit ulimit -n)")  \
    X(TIMEOUT, timeout, "server", "timeout", CFGT_INT, "0", 0, INT_MAX, CFGF_RUNTIME, NULL,    \
      "close a client idle for this many seconds; 0 = never")                                  \
    X(TCP_BACKLOG, tcp_backlog, "server", "tcp-backlog", CFGT_INT, "511", 0, INT_MAX, 0, NULL, \
      "listen() backlog of each listening socket")                                             \
    X(TCP_KEEPALIVE, tcp_keepalive, "server", "tcp-keepalive", CFGT_INT, "300", 0, 32767,      \
      CFGF_RUNTIME, NULL,                                                                      \
      "idle seconds before TCP keepalive probes to a new client (then every 1/3 of it); 0 = off") \
    X(LOGLEVEL, loglevel, "server", "loglevel", CFGT_ENUM, "notice", 0, 0, CFGF_RUNTIME,       \
      CFG_WORDS("debug", "verbose", "notice", "warning"), "log verbosity")                    \
    X(LOGFILE, logfile, "server", "logfile", CFGT_STR, "", 0, 0, 0, NULL,                      \
      "log file path; empty = standard error")                                                 \
    X(PIDFILE, pidfile, "server", "pidfile", CFGT_STR, "", 0, 0, 0, NULL,                      \
      "file to write the process id to at startup; empty = none")                             \
    X(NOTIFY_KEYSPACE_EVENTS, notify_keyspace_events, "server", "notify-keyspace-events",     \
      CFGT_STR, "", 0, 64, CFGF_RUNTIME | CFGF_EVENTS, NULL,                                   \
      "keyspace notification classes as Redis's: K E g $ l s h z x e t m d n A; empty = none")  \
    X(SLOWLOG_LOG_SLOWER_THAN, slowlog_log_slower_than, "server", "slowlog-log-slower-than",  \
      CFGT_INT, "10000", -1, INT_MAX, CFGF_RUNTIME, NULL,                                       \
      "log commands that run at least this many microseconds (SLOWLOG); 0 = all, -1 = none")  \
    X(SLOWLOG_MAX_LEN, slowlog_max_len, "server", "slowlog-max-len", CFGT_INT, "128", 0,        \
      INT_MAX, CFGF_RUNTIME, NULL, "entries SLOWLOG keeps (and at most 64 MiB of them)")      \
    X(LATENCY_MONITOR_THRESHOLD, latency_monitor_threshold, "server",                          \
      "latency-monitor-threshold", CFGT_INT, "0", 0, INT_MAX, CFGF_RUNTIME, NULL,              \
      "LATENCY records events that take at least this many ms; 0 = off")                      \
    X(LATENCY_TRACKING, latency_tracking, "server", "latency-tracking", CFGT_BOOL, "yes", 0,   \
      1, CFGF_RUNTIME, NULL, "per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats)") \
    X(LATENCY_TRACKING_INFO_PERCENTILES, latency_tracking_info_percentiles, "server",          \
      "latency-tracking-info-percentiles", CFGT_STR, "50 99 99.9", 0, 256,                    \
      CFGF_RUNTIME | CFGF_PCTS, NULL, "percentiles INFO latencystats shows, 0..100 each")    \
    X(ENABLE_PROTECTED_CONFIGS, enable_protected_configs, "server", "enable-protected-configs", \
      CFGT_ENUM, "no", 0, 0, 0, CFG_WORDS("no", "yes", "local"),                               \
      "allow CONFIG SET of dir and dbfilename: no, yes, or local (from loopback only)")        \
    X(ENABLE_DEBUG_COMMAND, enable_debug_command, "server", "enable-debug-command", CFGT_ENUM,  \
      "no", 0, 0, 0, CFG_WORDS("no", "yes", "local"),                                          \
      "allow DEBUG: no, yes, or local (from loopback and unix sockets only)")                  \
    X(POLICY, policy, "scheduler", "policy", CFGT_ENUM, "share-nothing", 0, 0, 0,              \
      CFG_WORDS("share-nothing", "shared-locks", "work-stealing"),                             \
      "where tasks run and how they get exclusive access to partitions")                      \
    X(RING_SIZE, ring_size, "scheduler", "ring-size", CFGT_INT, "4096", 16, 1 << 20,           \
      CFGF_POW2, NULL, "messages each worker-to-worker ring holds")           \
    X(BATCH_MAX, batch_max, "scheduler", "batch-max", CFGT_INT, "256", 1, 65536, 0, NULL,      \
      "most pipelined commands forwarded to a partition owner as one batch")                  \
    X(PARTITIONS, partitions, "store", "partitions", CFGT_INT, "0", 0, 16384, CFGF_POW2, NULL, \
      "keyspace partitions; 0 = auto: 4 x threads rounded up, at least 16")              \
    X(DATABASES, databases, "store", "databases", CFGT_INT, "16", 1, 4096, 0, NULL,            \
      "number of databases (SELECT 0 .. databases-1)")                                         \
    X(DIR, dir, "persistence", "dir", CFGT_STR, ".", 0, 4096, CFGF_RUNTIME | CFGF_PROTECTED, NULL,           \
      "directory of the RDB file (relative to the working directory at startup)")             \
    X(DBFILENAME, dbfilename, "persistence", "dbfilename", CFGT_STR, "dump.rdb", 1, 255,      \
      CFGF_RUNTIME | CFGF_FNAME | CFGF_PROTECTED, NULL, "RDB file name, loaded at startup, written by SAVE/BGSAVE") \
    X(SAVE, save, "persistence", "save", CFGT_STR, "", 0, 1024, CFGF_RUNTIME | CFGF_SAVE, NULL, \
      "save points \"<seconds> <changes> ...\"; empty = none (a cache: see README)")          \
    X(RDBCOMPRESSION, rdbcompression, "persistence", "rdbcompression", CFGT_BOOL, "yes", 0, 1, \
      CFGF_RUNTIME, NULL, "LZF-compress strings longer than 20 bytes in the RDB file")         \
    X(RDBCHECKSUM, rdbchecksum, "persistence", "rdbchecksum", CFGT_BOOL, "yes", 0, 1,         \
      CFGF_RUNTIME, NULL, "write and check the RDB file's CRC-64 (no: written as 0)")          \
    X(STOP_WRITES_ON_BGSAVE_ERROR, stop_writes_on_bgsave_error, "persistence",                \
      "stop-writes-on-bgsave-error", CFGT_BOOL, "yes", 0, 1, CFGF_RUNTIME, NULL,              \
      "refuse writes (MISCONF) while the last background save failed and save points are set") \
    X(RDB_DEL_SYNC_FILES, rdb_del_sync_files, "persistence", "rdb-del-sync-files", CFGT_BOOL,  \
      "no", 0, 1, CFGF_RUNTIME, NULL, "accepted for Redis compatibility (percore has no replication)") \
    X(RDB_LOAD_CORRUPT, rdb_load_corrupt, "persistence", "rdb-load-corrupt", CFGT_ENUM,       \
      "refuse", 0, 0, 0, CFG_WORDS("refuse", "start-empty"),                                   \
      "a corrupt or truncated RDB file at startup: refuse to start, or log it and start empty") \
    X(RDB_KEY_SAVE_DELAY, rdb_key_save_delay, "persistence", "rdb-key-save-delay", CFGT_INT,  \
      "0", 0, 1000000, CFGF_RUNTIME, NULL,                                                     \
      "testing: microseconds a save sleeps after each key (Redis's tests slow BGSAVE with it)") \
    X(APPENDONLY, appendonly, "persistence", "appendonly", CFGT_BOOL, "no", 0, 1, CFGF_RUNTIME, \
      NULL, "log every write to the append-only file (aof.h); yes at runtime starts a rewrite") \
    X(APPENDFILENAME, appendfilename, "persistence", "appendfilename", CFGT_STR,              \
      "appendonly.aof", 1, 255, CFGF_FNAME, NULL,                                              \
      "base name of the AOF files and manifest (<name>.manifest, <name>.N.base.rdb ...)")     \
    X(APPENDDIRNAME, appenddirname, "persistence", "appenddirname", CFGT_STR, "appendonlydir", \
      1, 255, CFGF_FNAME, NULL, "directory under dir holding the AOF files")                    \
    X(APPENDFSYNC, appendfsync, "persistence", "appendfsync", CFGT_ENUM, "everysec", 0, 0,     \
      CFGF_RUNTIME, CFG_WORDS("always", "everysec", "no"),                                      \
      "fsync the AOF before replies (always), once a second off the workers, or never")       \
    X(NO_APPENDFSYNC_ON_REWRITE, no_appendfsync_on_rewrite, "persistence",                    \
      "no-appendfsync-on-rewrite", CFGT_BOOL, "no", 0, 1, CFGF_RUNTIME, NULL,                 \
      "skip the AOF's fsync while a rewrite or background save runs")                         \
    X(AUTO_AOF_REWRITE_PERCENTAGE, auto_aof_rewrite_percentage, "persistence",                \
      "auto-aof-rewrite-percentage", CFGT_INT, "100", 0, INT_MAX, CFGF_RUNTIME, NULL,          \
      "rewrite when the AOF grew this % over its size after the last rewrite; 0 = never")     \
    X(AUTO_AOF_REWRITE_MIN_SIZE, auto_aof_rewrite_min_size, "persistence",                    \
      "auto-aof-rewrite-min-size", CFGT_MEM, "64mb", 0, 64 * CFG_TB, CFGF_RUNTIME, NULL,      \
      "no automatic rewrite below this AOF size")                                              \
    X(AOF_LOAD_TRUNCATED, aof_load_truncated, "persistence", "aof-load-truncated", CFGT_BOOL,  \
      "yes", 0, 1, CFGF_RUNTIME, NULL,                                                         \
      "a truncated last command at startup is cut off (logged) instead of refusing to start") \
    X(AOF_USE_RDB_PREAMBLE, aof_use_rdb_preamble, "persistence", "aof-use-rdb-preamble",      \
      CFGT_BOOL, "yes", 0, 1, CFGF_RUNTIME, NULL,                                              \
      "a rewrite writes the base as an RDB file (no: as RESTORE commands)")                   \
    X(AOF_TIMESTAMP_ENABLED, aof_timestamp_enabled, "persistence", "aof-timestamp-enabled",   \
      CFGT_BOOL, "no", 0, 1, CFGF_RUNTIME, NULL,                                               \
      "write '#TS:<unix seconds>' annotations into the AOF when the second changes")         \
    X(AOF_REWRITE_INCREMENTAL_FSYNC, aof_rewrite_incremental_fsync, "persistence",            \
      "aof-rewrite-incremental-fsync", CFGT_BOOL, "yes", 0, 1, CFGF_RUNTIME, NULL,           \
      "the rewrite child fsyncs the new base every 4 MB")                                      \
    X(MAXMEMORY, maxmemory, "store", "maxmemory", CFGT_MEM, "0", 0, 64 * CFG_TB, CFGF_RUNTIME, \
      NULL, "server-wide limit on keys, values, their tables and client buffers; 0 = none")   \
    X(MAXMEMORY_POLICY, maxmemory_policy, "store", "maxmemory-policy", CFGT_ENUM,              \
      "noeviction", 0, 0, CFGF_RUNTIME,                                                        \
      CFG_WORDS("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",  \
                "volatile-lfu", "volatile-random", "volatile-ttl"),                            \
      "what to do over maxmemory: refuse writes, or evict keys")                              \
    X(MAXMEMORY_SAMPLES, maxmemory_samples, "store", "maxmemory-samples", CFGT_INT, "5", 1,    \
      64, CFGF_RUNTIME, NULL, "keys sampled to pick each eviction victim")                     \
    X(HZ, hz, "store", "hz", CFGT_INT, "10", 1, 500, CFGF_RUNTIME, NULL,                       \
      "active expiry runs per second on each worker")                                          \
    X(ACTIVE_EXPIRE_EFFORT, active_expire_effort, "store", "active-expire-effort", CFGT_INT,   \
      "1", 1, 10, CFGF_RUNTIME, NULL, "CPU spent on active expiry, 1 (least) to 10")          \
    X(TRACKING_TABLE_MAX_KEYS, tracking_table_max_keys, "store", "tracking-table-max-keys",    \
      CFGT_INT, "1000000", 0, INT_MAX, CFGF_RUNTIME, NULL,                                     \
      "keys client-side caching remembers; past it, tracked keys are invalidated; 0 = no limit")  \
    X(HLL_SPARSE_MAX_BYTES, hll_sparse_max_bytes, "store", "hll-sparse-max-bytes", CFGT_MEM,   \
      "3000", 0, CFG_GB, CFGF_RUNTIME, NULL,                                                   \
      "largest sparse HyperLogLog; PFADD past it converts the value to dense (12304 bytes)")  \
    X(STREAM_NODE_MAX_BYTES, stream_node_max_bytes, "store", "stream-node-max-bytes", CFGT_MEM, \
      "4096", 0, CFG_GB, CFGF_RUNTIME, NULL,                                                   \
      "bytes a stream node may hold before a new one starts; 0 = no limit")                    \
    X(STREAM_NODE_MAX_ENTRIES, stream_node_max_entries, "store", "stream-node-max-entries",    \
      CFGT_INT, "100", 0, INT_MAX, CFGF_RUNTIME, NULL,                                         \
      "entries a stream node may hold (at most 1024 are used); 0 = no limit")                  \
    X(BUSY_REPLY_THRESHOLD, busy_reply_threshold, "scripting", "busy-reply-threshold",         \
      CFGT_INT, "5000", 0, INT_MAX, CFGF_RUNTIME, NULL,                                        \
      "ms a script may run before others get BUSY replies (alias lua-time-limit)")            \
    X(MEMORY_LIMIT, memory_limit, "scripting", "memory-limit", CFGT_MEM, "64mb", 0, 16 * CFG_GB, \
      CFGF_RUNTIME, NULL,                                                                      \
      "memory a script may add to its worker's Lua state while it runs; 0 = no limit")        \
    X(ALLOW_UNDECLARED_KEYS, allow_undeclared_keys, "scripting", "allow-undeclared-keys",      \
      CFGT_BOOL, "no", 0, 1, CFGF_RUNTIME, NULL,                                               \
      "let scripts touch keys not in KEYS (such scripts hold every partition)")               \
    X(LUA_DEBUG_MAX_FORKED_SESSIONS, lua_debug_max_forked_sessions, "scripting",               \
      "lua-debug-max-forked-sessions", CFGT_INT, "16", 0, 1024, CFGF_RUNTIME, NULL,            \
      "SCRIPT DEBUG YES sessions (forked children) at once; past it EVAL is refused")         \
    X(PROTO_MAX_BULK_LEN, proto_max_bulk_len, "limits", "proto-max-bulk-len", CFGT_MEM,        \
      "512mb", CFG_MB, 16 * CFG_GB, CFGF_RUNTIME, NULL,                                        \
      "largest bulk string a client may send (and a string value may grow to)")               \
    X(CLIENT_QUERY_BUFFER_LIMIT, client_query_buffer_limit, "limits",                          \
      "client-query-buffer-limit", CFGT_MEM, "1gb", CFG_MB, 16 * CFG_GB, CFGF_RUNTIME, NULL,   \
      "most unprocessed input a client may have buffered")                                     \
    X(CLIENT_OUTPUT_BUFFER_LIMIT, client_output_buffer_limit, "limits",                        \
      "client-output-buffer-limit", CFGT_STR, "normal 0 0 0 pubsub 32mb 8mb 60", 0, 256,         \
      CFGF_RUNTIME | CFGF_OBL, NULL,                                                           \
      "per class <hard> <soft> <soft-seconds>: close a client over hard, or over soft that "  \
      "long; 0 = none")                                                                        \
    X(MAXMEMORY_CLIENTS, maxmemory_clients, "limits", "maxmemory-clients", CFGT_MEM, "0", 0,  \
      64 * CFG_TB, CFGF_RUNTIME | CFGF_PERCENT, NULL,                                          \
      "close the biggest clients while all clients' buffers pass this (or N% of maxmemory); 0 = never") \
    X(CLIENT_OUTPUT_HIGH_WATER, client_output_high_water, "limits",                            \
      "client-output-high-water", CFGT_MEM, "1mb", 0, 16 * CFG_GB, CFGF_RUNTIME, NULL,        \
      "stop reading and running a client's commands while this much output is pending; 0 = never") \
    X(CLIENT_OUTPUT_LOW_WATER, client_output_low_water, "limits", "client-output-low-water",   \
      CFGT_MEM, "256kb", 0, 16 * CFG_GB, CFGF_RUNTIME, NULL,                                     \
      "resume a client stopped by client-output-high-water once its output drains to this")  \
    X(REQUIREPASS, requirepass, "security", "requirepass", CFGT_STR, "", 0, 512, CFGF_RUNTIME, \
      NULL, "password clients must AUTH with (at most 512 bytes); empty = none")               \
    X(PROTECTED_MODE, protected_mode, "security", "protected-mode", CFGT_BOOL, "yes", 0, 1,    \
      CFGF_RUNTIME, NULL,                                                                      \
      "while no requirepass is set, refuse clients not on loopback (127.0.0.0/8, ::1): DENIED") \
    X(ACLLOG_MAX_LEN, acllog_max_len, "security", "acllog-max-len", CFGT_INT, "128", 0,        \
      1000000, CFGF_RUNTIME, NULL, "most entries ACL LOG keeps (refused commands, keys, AUTHs)") \
    X(ACLFILE, aclfile, "security", "aclfile", CFGT_STR, "", 0, 4096, 0, NULL,                 \
      "users file for ACL LOAD / ACL SAVE (Redis's 'user NAME rules' lines); empty = none")

/* client-output-buffer-limit per class (any thread). */
enum { OBL_NORMAL = 0, OBL_PUBSUB, OBL_NCLASSES };
typedef struct obl {
    uint64_t hard, soft, soft_seconds;
} obl_t;
void config_obl_get(int cls, obl_t *out);

/* notify-keyspace-events, Redis 7.0's classes: the bit of each flag letter
 * (config_events.c parses and formats them; notify.h publishes). */
enum notify_class {
    NOTIFY_KEYSPACE = 1 << 0, /* K: __keyspace@<db>__:<key>, the event as message */
    NOTIFY_KEYEVENT = 1 << 1, /* E: __keyevent@<db>__:<event>, the key as message */
    NOTIFY_GENERIC = 1 << 2,  /* g: del, expire, rename_from, ... */
    NOTIFY_STRING = 1 << 3,   /* $ */
    NOTIFY_LIST = 1 << 4,     /* l */
    NOTIFY_SET = 1 << 5,      /* s */
    NOTIFY_HASH = 1 << 6,     /* h */
    NOTIFY_ZSET = 1 << 7,     /* z */
    NOTIFY_EXPIRED = 1 << 8,  /* x */
    NOTIFY_EVICTED = 1 << 9,  /* e */
    NOTIFY_STREAM = 1 << 10,  /* t (percore has no streams: never raised) */
    NOTIFY_KEY_MISS = 1 << 11, /* m: a read found no key (not in A) */
    NOTIFY_MODULE = 1 << 12,  /* d (no modules: never raised) */
    NOTIFY_NEW = 1 << 13,     /* n: a key was created (not in A) */
    NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH |
                 NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE,
};
/* The classes enabled now (a relaxed load; any thread): 0 by default. */
extern _Atomic int config_notify_flags;
static inline int config_keyspace_events(void)
{
    return atomic_load_explicit(&config_notify_flags, memory_order_relaxed);
}

/* Other names CONFIG GET/SET (and server.ini) accept: X(alias, ID). */
#define CONFIG_ALIASES(X) X("lua-time-limit", BUSY_REPLY_THRESHOLD)

enum config_id {
#define CONFIG_X_ID(ID, ...) CFG_##ID,
    CONFIG_OPTIONS(CONFIG_X_ID)
#undef CONFIG_X_ID
        CONFIG_NOPTS
};

#define CONFIG_CTYPE_CFGT_INT _Atomic int
#define CONFIG_CTYPE_CFGT_MEM _Atomic long long
#define CONFIG_CTYPE_CFGT_BOOL _Atomic int
#define CONFIG_CTYPE_CFGT_ENUM _Atomic int
#define CONFIG_CTYPE_CFGT_STR char *

/* The parsed values, one field per option. */
typedef struct config {
#define CONFIG_X_FIELD(ID, field, section, key, type, ...) CONFIG_CTYPE_##type field;
    CONFIG_OPTIONS(CONFIG_X_FIELD)
#undef CONFIG_X_FIELD
} config_t;

extern config_t cfg;

/* A relaxed load of a numeric field, e.g. config_get(timeout): any thread. */
#define config_get(field) atomic_load_explicit(&cfg.field, memory_order_relaxed)

/* One row of the table. */
typedef struct config_opt {
    int id;
    const char *section, *name;
    enum config_type type;
    const char *def; /* the default, written as in server.ini */
    long long min, max;
    unsigned flags;
    const char *const *words; /* CFGT_ENUM: allowed words, NULL-terminated */
    const char *desc;
} config_opt_t;

extern const config_opt_t config_opts[CONFIG_NOPTS];

/* ---- startup (main thread, before workers start) ----------------------- */

/* Every option to its default. Also frees strings of an earlier load. */
void config_defaults(void);

/* Load an ini file: [section] headers, key = value lines, ';' or '#' comments,
 * values optionally in double quotes. An unknown section, unknown key, bad value
 * or malformed line fails with "path:line: ..." naming the key; then nothing of
 * the file is applied. 0 or -1 with err filled. */
int config_load_file(const char *path, char *err, size_t errlen);

/* A command-line override --SECTION.KEY VALUE: section_dot_key is
 * "server.port" (leading dashes are skipped). 0 or -1 with err filled. */
int config_set_arg(const char *section_dot_key, const char *value, char *err, size_t errlen);

/* Resolve auto values and cross-check, after all overrides: threads 0 becomes
 * online_cpus (at most 256), partitions 0 becomes the smallest power of two
 * >= 4 x threads and >= 16 (at most 16384). Fails when proto-max-bulk-len
 * exceeds client-query-buffer-limit (a request must fit the query buffer, so
 * such a bulk could never arrive); CONFIG SET makes the same check. (An empty
 * bind never gets here: the loader refuses it, naming file, line and key.)
 * maxclients is fitted to the open-file limit later, by main (fdlimit.h).
 * 0 or -1. */
int config_finalize(int online_cpus, char *err, size_t errlen);

/* Run numeric option id with value, a startup step's resolution of the
 * configured value: threads and partitions 0 (config_finalize), maxclients
 * fitted to the open-file limit (main). While it runs, a reload that finds
 * the configured value again counts the option unchanged. */
void config_resolve(int id, long long value);

/* Free what the config owns (strings). */
void config_teardown(void);

/* The configured policy's name ("share-nothing", ...). */
const char *config_policy_name(void);

/* Every option, with section, type/range, default and description, for --help. */
void config_print_help(FILE *f);

/* A fully commented server.ini: every key with its default (conf/server.ini is
 * this output, checked by tests/unit/config). */
void config_print_ini(FILE *f);

/* ---- any thread --------------------------------------------------------- */

/* Relaxed loads by id: config_get_int for int/bool/enum options,
 * config_get_u64 for memory sizes (and ints). */
int config_get_int(int id);
/* A CFGF_PERCENT memory option in bytes: N% of maxmemory when set so. */
uint64_t config_get_mem_or_pct(int id);
uint64_t config_get_u64(int id);

/* 1 when p[0..n) equals requirepass; compares in time independent of where
 * the bytes differ and of requirepass's length. 0 when no password is set. */
int config_check_password(const char *p, size_t n);

/* An option by bare key or alias, case-insensitive; NULL if unknown. */
const config_opt_t *config_lookup(const char *name, size_t len);
/* Every name CONFIG GET matches: index 0..CONFIG_NOPTS-1 are the keys, then the
 * aliases; NULL past the end. *opt (if not NULL) gets the option named. */
const char *config_name_at(int i, const config_opt_t **opt);

/* Append the current value as CONFIG GET shows it: integers and memory sizes in
 * decimal (bytes), bools yes/no, enums as their word, strings as they are. */
void config_format_value(const config_opt_t *o, buf_t *out);

/* What modules above the configuration do when CONFIG SET or a reload changed
 * option id (server.c applies maxmemory to the store): called under CONFIG
 * SET's lock, after the values are stored. Set once at startup. */
typedef void config_changed_fn(int id);
void config_on_change(config_changed_fn *fn);

/* CONFIG SET of n options at once, all or nothing: every value is parsed and
 * range-checked exactly as at startup, then the cross-checks of config_finalize
 * run on the values the set would leave, and a larger maxclients must fit the
 * open-file limit (fdlimit_fit raises it when it can) — all before any value is
 * applied. Concurrent calls (and reloads) are serialised. On a change of
 * loglevel it calls log_set_level(), and the config_on_change hook with each
 * option set. Returns 0, or -1 with *bad = the index of the offending pair and
 * err = Redis's reason text (e.g. "argument must be 'yes' or 'no'", "can't set
 * immutable config", "The operating system is not able to handle the specified
 * number of clients, try with N"). */
int config_set_runtime(int n, const config_opt_t *const *opts, const sv_t *values, int *bad,
                       char *err, size_t errlen);

/* ---- CONFIG REWRITE (config_rewrite.c) ----------------------------------- */

/* The file the server was started with (main, before the workers start;
 * NULL or "": none), and what config_file() then returns. */
void config_set_file(const char *path);
const char *config_file(void);
/* Rewrite that file with the running values, keeping its comments, blank
 * lines and key order; atomically (a temporary file renamed over it). Any
 * thread, serialised. 0; -2 when the server has no file; -1 with errno. */
int config_rewrite(void);

/* ---- reload (SIGHUP: worker 0, while the other workers run) -------------- */

/* Make the running configuration what startup would make of path now: the
 * defaults, then the file (path may be NULL: none), then overrides, the
 * command line's --section.key values as a NULL-ended list of key, value,
 * key, value... ("server.port", "7000"). When the file does not load (err
 * names file, line and key), nothing changes. Otherwise the runtime options
 * whose value differs are applied together, exactly as one CONFIG SET (when
 * its checks fail nothing changes and err names the key), each logged with
 * its new value; the other options that differ are left as they run, with a
 * warning that a restart applies them. 0 or -1. */
int config_reload_file(const char *path, const char *const *overrides, char *err,
                       size_t errlen);

#endif

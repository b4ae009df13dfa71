/* percore-server [FILE] [--SECTION.KEY VALUE]... : the command line, the
 * configuration and the process (log, pidfile, run id, systemd's
 * notifications, SIGHUP's reload); server.c wires the modules. */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "client.h"
#include "config.h"
#include "fdlimit.h"
#include "command.h"
#include "log.h"
#include "aof.h"
#include "persist.h"
#include "server.h"
#include "worker.h"

#ifdef PERCORE_JEMALLOC
#include <jemalloc/jemalloc.h>
#define STR_(x) #x
#define STR(x) STR_(x)
/* As Redis names it in INFO: jemalloc-MAJOR.MINOR.BUGFIX. */
#define ALLOCATOR                                                                                  \
    "jemalloc-" STR(JEMALLOC_VERSION_MAJOR) "." STR(JEMALLOC_VERSION_MINOR) "." STR(             \
        JEMALLOC_VERSION_BUGFIX)

/* MEMORY MALLOC-STATS: jemalloc's full report, piece by piece. */
static void jemalloc_stats(void (*write)(void *arg, const char *text), void *arg)
{
    malloc_stats_print(write, arg, NULL);
}

/* MEMORY PURGE: every arena's dirty pages back to the system. */
static int jemalloc_purge(void)
{
    char name[64];
    snprintf(name, sizeof name, "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    return mallctl(name, NULL, NULL, NULL, 0) == 0 ? 0 : -1;
}
#else
#define ALLOCATOR "libc"
#endif

static void usage(FILE *f)
{
    /* help2man turns this into percore-server(1): "  or:" lines are more
     * usages, "  --opt  text" lines are options. */
    fprintf(f, "Usage: percore-server [/path/to/server.ini] [options]\n"
               "  or:  percore-server --test-config [/path/to/server.ini] [options]\n"
               "  or:  percore-server --print-ini | --version | --help\n\n"
               "  --test-config      check the file and options, print the first error, exit\n"
               "  --print-ini        print a fully commented server.ini with every default\n"
               "  --port N           short for --server.port N\n"
               "  --protected-mode no  short for --security.protected-mode no\n"
               "  --version          print the version and exit\n"
               "  --help             print this help and exit\n\n"
               "Every key of server.ini can be given as --SECTION.KEY VALUE.\n\n");
    config_print_help(f);
}

static int allowed_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* 2 * n random hex digits and a NUL into out (run_id, replid). */
static void random_hex(char *out, size_t n)
{
    unsigned char raw[32];
    if (n > sizeof raw)
        n = sizeof raw;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, n) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)n)
        for (size_t i = 0; i < n; i++)
            raw[i] = (unsigned char)(rand() ^ (int)getpid());
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* The command line's --section.key values, as config_reload_file takes them. */
static const char **overrides;

/* To systemd (Type=notify); sd_notify does nothing when NOTIFY_SOCKET is
 * unset, as outside systemd. */
static void notify_ready(void)
{
    sd_notifyf(0, "READY=1\nSTATUS=ready: port %d, %d workers, policy %s",
               config_get_int(CFG_PORT), config_get_int(CFG_THREADS), config_policy_name());
}

/* SIGHUP (worker 0): the file and the command line read again. MONOTONIC_USEC
 * is what Type=notify-reload wants with RELOADING=1; Type=notify ignores it. */
static void on_reload(void)
{
    char err[512];
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, mono_us());
    if (config_reload_file(server.config_file[0] ? server.config_file : NULL, overrides, err,
                           sizeof err) != 0)
        log_warn("config reload failed, nothing changed: %s", err);
    else
        log_notice("config reload done");
    notify_ready();
}

/* Shutdown has begun, on whatever thread asked for it. */
static void on_stopping(void) { sd_notify(0, "STOPPING=1\nSTATUS=shutting down"); }

static const server_events_t events = {.reload = on_reload, .stopping = on_stopping};

int main(int argc, char **argv)
{
    char err[512];
    int test_only = 0, noverrides = 0;
    overrides = xcalloc((size_t)argc + 1, sizeof *overrides);
    config_defaults();
    int i = 1;
    if (i < argc && argv[i][0] != '-') {
        if (config_load_file(argv[i], err, sizeof err) != 0) {
            fprintf(stderr, "percore-server: %s\n", err);
            return 1;
        }
        if (!realpath(argv[i], server.config_file))
            snprintf(server.config_file, sizeof server.config_file, "%s", argv[i]);
        config_set_file(server.config_file); /* CONFIG REWRITE's */
        i++;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
            printf("percore-server v=%s redis-api=%s\n", PERCORE_VERSION, REDIS_API_VERSION);
            return 0;
        }
        if (!strcmp(a, "--print-ini")) {
            config_print_ini(stdout);
            return 0;
        }
        if (!strcmp(a, "--test-config")) {
            test_only = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') {
                if (config_load_file(argv[++i], err, sizeof err) != 0) {
                    fprintf(stderr, "percore-server: %s\n", err);
                    return 1;
                }
            }
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "percore-server: bad argument '%s' (try --help)\n", a);
            return 1;
        }
        const char *key = a + 2;
        if (!strcmp(key, "port"))
            key = "server.port";
        else if (!strcmp(key, "protected-mode")) /* as Redis's DENIED text suggests */
            key = "security.protected-mode";
        if (config_set_arg(key, argv[++i], err, sizeof err) != 0) {
            fprintf(stderr, "percore-server: %s\n", err);
            return 1;
        }
        overrides[noverrides++] = key;
        overrides[noverrides++] = argv[i];
    }
    if (config_finalize(allowed_cpus(), err, sizeof err) != 0) {
        fprintf(stderr, "percore-server: %s\n", err);
        return 1;
    }
    if (test_only) {
        printf("percore-server: configuration OK\n");
        return 0;
    }

    log_setup(config_get_int(CFG_LOGLEVEL), cfg.logfile);
    server.start_ms = now_ms();
    random_hex(server.run_id, 20);
    random_hex(server.replid, 20);
    if (!realpath("/proc/self/exe", server.executable))
        snprintf(server.executable, sizeof server.executable, "%s", argv[0]);
    server.allocator = ALLOCATOR;
#ifdef PERCORE_JEMALLOC
    server.malloc_stats = jemalloc_stats;
    server.malloc_purge = jemalloc_purge;
#endif

    int threads = config_get_int(CFG_THREADS), parts = config_get_int(CFG_PARTITIONS);
    config_resolve(CFG_MAXCLIENTS, fdlimit_setup(worker_fd_reserve(threads, cfg.bind),
                                                 config_get_int(CFG_MAXCLIENTS)));
    if (server_setup(threads, config_get_int(CFG_PIN_THREADS), &events) != 0)
        log_fatal("cannot start %d workers with the %s scheduler", threads,
                  config_policy_name());
    char lerr[600];
    persist_started();
    if (config_get(appendonly)) { /* the AOF, not dump.rdb, as Redis */
        if (aof_load_at_start(lerr, sizeof lerr) != 0) {
            log_warn("Fatal error loading the append only file: %s. Exiting.", lerr);
            return 1;
        }
    } else if (persist_load(lerr, sizeof lerr) != 0) {
        if (config_get_int(CFG_RDB_LOAD_CORRUPT) == 0) {
            log_warn("Fatal error loading the DB: %s. Exiting.", lerr);
            return 1;
        }
        log_warn("Error loading the DB: %s; starting empty (rdb-load-corrupt start-empty)", lerr);
    }
    if (worker_listen(cfg.bind, config_get_int(CFG_PORT), config_get_int(CFG_TCP_BACKLOG), err,
                      sizeof err) != 0) {
        log_warn("%s", err);
        return 1;
    }
    if (cfg.pidfile && *cfg.pidfile) {
        FILE *f = fopen(cfg.pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    log_notice("percore %s (Redis API %s) ready: port %d, %d workers, %d partitions, policy %s",
               PERCORE_VERSION, REDIS_API_VERSION, config_get_int(CFG_PORT), threads, parts,
               config_policy_name());
    notify_ready();
    worker_run();
    client_ldb_kill_sessions();
    aof_at_exit();
    persist_at_exit();
    log_notice("percore is now ready to exit, bye bye...");
    if (cfg.pidfile && *cfg.pidfile)
        unlink(cfg.pidfile);
    server_teardown();
    config_set_file(NULL);
    config_teardown();
    log_teardown();
    free(overrides);
    return 0;
}

/* server — the top layer's header (main.c, server.c, info.c): process-wide
 * facts set once by main before the workers start, and the setup of every
 * module. */
#ifndef PERCORE_SERVER_H
#define PERCORE_SERVER_H

#include <limits.h>
#include <stdint.h>

typedef struct server_info {
    uint64_t start_ms;
    char run_id[41];
    char replid[41]; /* INFO replication's master_replid: random, as Redis's */
    char config_file[PATH_MAX]; /* realpath() writes up to PATH_MAX bytes */
    char executable[PATH_MAX];
    const char *allocator;
    /* The allocator's own report and purge (MEMORY MALLOC-STATS / PURGE), set
     * by main.c when it links jemalloc; NULL otherwise. stats calls write for
     * each piece of text; purge returns 0 when the dirty pages went back. */
    void (*malloc_stats)(void (*write)(void *arg, const char *text), void *arg);
    int (*malloc_purge)(void);
} server_info_t;

extern server_info_t server; /* defined in info.c, INFO's reader */

/* What the process does on the event loop's signals; either may be NULL. */
typedef struct server_events {
    /* SIGHUP: reload the configuration (worker 0's thread, workers running). */
    void (*reload)(void);
    /* Shutdown has begun (SIGTERM, SIGINT or SHUTDOWN): once, on whatever
     * thread asked for it. */
    void (*stopping)(void);
} server_events_t;

/* Set up every module (server.c), threads workers pinned or not; the
 * configuration and the log are the caller's, events (may be NULL; kept, not
 * copied) its callbacks. 0, or -1 when the workers or the scheduler could
 * not start. Then worker_listen and worker_run. */
int server_setup(int threads, int pin, const server_events_t *events);
/* INFO's instantaneous_* rates (info.c): worker 0's cron samples the
 * counters every 100 ms. */
void info_cron(int worker, uint64_t now_ms);
/* After worker_run returned: every module down, in reverse order. */
void server_teardown(void);


#endif

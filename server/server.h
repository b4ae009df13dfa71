/* server — the top layer's header (main.c, server.c, info.c): process-wide
 * facts set once by main before the workers start, and the setup of every
 * module. */
#ifndef PERCORE_SERVER_H
#define PERCORE_SERVER_H

#include <stdint.h>

typedef struct server_info {
    uint64_t start_ms;
    char run_id[41];
    char config_file[1024];
    char executable[1024];
    const char *allocator;
} server_info_t;

extern server_info_t server; /* defined in info.c, INFO's reader */

/* Set up every module (server.c), threads workers pinned or not; the
 * configuration and the log are the caller's. 0, or -1 when the workers or
 * the scheduler could not start. Then worker_listen and worker_run. */
int server_setup(int threads, int pin);
/* After worker_run returned: every module down, in reverse order. */
void server_teardown(void);


#endif

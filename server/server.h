/* server — process-wide facts set once by main before the workers start. */
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

extern server_info_t server;

#define REDIS_API_VERSION "7.0.15"

#endif

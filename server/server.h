/* server — the top layer's header (main.c, info.c): process-wide facts set
 * once by main before the workers start, and INFO's command group. */
#ifndef PERCORE_SERVER_H
#define PERCORE_SERVER_H

#include <stdint.h>

#include "command.h"

typedef struct server_info {
    uint64_t start_ms;
    char run_id[41];
    char config_file[1024];
    char executable[1024];
    const char *allocator;
} server_info_t;

extern server_info_t server; /* defined in info.c, INFO's reader */

/* INFO's row (info.c), a group of its own. */
extern const command_t cmds_info[];

#endif

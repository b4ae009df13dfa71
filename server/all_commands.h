/* all_commands — every command group of every layer in one list, the one
 * command_setup is given. Above all the layers that define groups (commands:
 * cmd_*.c, cmd_script.c; connections: client_cmds.c, client_multi.c), so that
 * command.c names none of them. Used by main.c and by the tests that need the
 * real table (tests/unit/scripting, tests/fuzz/fuzz_dispatch.c). */
#ifndef PERCORE_ALL_COMMANDS_H
#define PERCORE_ALL_COMMANDS_H

#include "command.h"

/* INFO's row (info.c, the top layer), a group of its own. */
extern const command_t cmds_info[];
/* MEMORY's row (info.c: MEMORY STATS reads the same accounts as INFO memory). */
extern const command_t cmds_memory[];

/* NULL-ended; command ids follow its order. */
extern const command_t *const all_commands[];

#endif

/* The list of command groups (see all_commands.h). Its order is the command
 * ids' order, which COMMAND, COMMAND LIST/INFO/DOCS and INFO commandstats show:
 * the server group is cut into cmds_ping, cmds_time and cmds_server around
 * the connection commands' rows so that this order stayed as it was before
 * those rows moved to the connections layer (and cmds_info follows
 * cmds_server, where INFO's row was). */
#include "all_commands.h"

#include <stddef.h>

#include "client.h"
#include "script.h"

const command_t *const all_commands[] = {
    cmds_string, cmds_keys, cmds_ping, cmds_client, cmds_time, cmds_shutdown, cmds_server,
    cmds_info,    cmds_config, cmds_multi, cmds_list, cmds_hash, cmds_set, cmds_zset, cmds_script,
    cmds_pubsub,  cmds_subscribe, cmds_bitmap, cmds_object, cmds_memory, cmds_keys_copy,
    cmds_lcs,     cmds_monitor, cmds_geo, cmds_hll, cmds_dump, cmds_ops, cmds_debug, cmds_function,
    cmds_sort,    cmds_stream, cmds_stream_read, cmds_stream_cg, cmds_stream_info, NULL,
};

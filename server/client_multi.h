/* client_multi — a client's transaction at the connections layer: the
 * commands queued between MULTI and EXEC, the watched keys, and the MULTI EXEC
 * DISCARD WATCH UNWATCH handlers (their rows: cmds_multi, declared in
 * client.h for all_commands.c). Called by client.c (queueing, freeing) and
 * client_cmds.c (RESET), where the client's commands run. */
#ifndef PERCORE_CLIENT_MULTI_H
#define PERCORE_CLIENT_MULTI_H

#include "client.h"

/* From client_precheck, once cmd passed command_check: inside MULTI, a copy
 * of queued command qc is kept for EXEC and QUEUED replied (returns 1); an
 * EXEC about to be placed gets its queue ready (returns 0, as does anything
 * outside MULTI). */
int client_multi_intercept(client_t *c, const qcmd_t *qc, const command_t *cmd);
/* Leave MULTI: forget the queued commands (DISCARD, EXEC, RESET). */
void client_multi_reset(client_t *c);
/* Forget the watched keys (UNWATCH, DISCARD, EXEC, RESET). */
void client_unwatch(client_t *c);
/* Free the transaction's storage (client_free). */
void client_multi_free(client_t *c);

#endif

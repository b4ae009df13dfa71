/* cmd_util — small parsing helpers shared by command handlers. */
#ifndef PERCORE_CMD_UTIL_H
#define PERCORE_CMD_UTIL_H

#include "command.h"

/* Glob-style match with Redis's rules (* ? [abc] [^a-z] \x), binary safe. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

/* Parse argv[i] as an integer; on failure reply ERR_NOT_INT (or msg when not
 * NULL) and return -1. */
int arg_ll(cmd_ctx_t *c, int i, long long *out, const char *msg);

#endif

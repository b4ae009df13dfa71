/* cmd_util — small parsing helpers shared by command handlers. */
#ifndef PERCORE_CMD_UTIL_H
#define PERCORE_CMD_UTIL_H

#include <stdint.h>

#include "command.h"

/* Glob-style match with Redis's stringmatch rules (* ? [abc] [^a-z] \x), binary
 * safe. Quirks kept from Redis: an unterminated class ("[ab") still matches one
 * byte from its set, "[a-]" is a range up to ']', a range's ends may be given in
 * either order, a pattern nesting more than 1000 '*' never matches, and the
 * empty string is matched by the empty pattern only (not by "*"). Range
 * ends compare as unsigned bytes. Any thread; no state. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

/* Parse argv[i] as an integer; on failure reply ERR_NOT_INT (or msg when not
 * NULL) and return -1. */
int arg_ll(cmd_ctx_t *c, int i, long long *out, const char *msg);

/* 1 when argument i equals the option name lit, ignoring case. */
static inline int arg_is(const cmd_ctx_t *c, int i, const char *lit)
{
    return sv_eq_ci(c->argv[i], lit);
}

/* Parse a SCAN-family cursor as Redis does (strtoul rules: optional sign, no
 * leading space, no trailing bytes, no overflow; "" is 0). 0 or -1. */
int parse_scan_cursor(sv_t s, uint64_t *out);

/* proto-max-bulk-len: the largest string value a command may build (APPEND,
 * SETRANGE). Implemented by the config module; any thread. */
extern size_t cmd_max_bulk_len(void);

#endif

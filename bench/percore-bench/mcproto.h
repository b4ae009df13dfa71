/* mcproto — memcached's text protocol for --protocol memcache: composing get
 * and set, and finding where each reply ends (and whether it is an error).
 * Pure functions over buffers, like workload.c, so the unit tests drive them
 * directly; conn.c uses the parser where the RESP side uses hiredis. */
#ifndef PB_MCPROTO_H
#define PB_MCPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "workload.h"

/* Longest reply line taken ("VALUE <key> <flags> <bytes> [<cas>]", an error
 * line): a longer one is a protocol error, so a hostile server cannot make the
 * client buffer an endless line. */
#define MC_MAX_LINE 2048
/* Largest value a VALUE line may announce (the generator's own --big-size limit). */
#define MC_MAX_VALUE (512u << 20)

/* "get <prefix><i>\r\n" */
void mc_get(struct wbuf *b, const char *prefix, uint64_t i);
/* "set <prefix><i> 0 0 <len>\r\n<value>\r\n" */
void mc_set(struct wbuf *b, const char *prefix, uint64_t i, const void *v, size_t len);

/* One reply at the start of p[0, len): 1 when it is whole (*used: its bytes;
 * *is_err: ERROR, CLIENT_ERROR or SERVER_ERROR, its line copied into err), 0
 * when more bytes are needed, -1 on a malformed reply (*msg says why). A get's
 * reply is zero or more VALUE blocks then END; every other reply is one line. */
int mc_parse_reply(const char *p, size_t len, size_t *used, int *is_err, char *err,
                   size_t errlen, const char **msg);

#endif

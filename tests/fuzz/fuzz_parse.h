/* fuzz_parse — what the RESP and inline targets share: one input is fed to
 * resp_parse_request the way a connection feeds it (server/client.c's
 * client_parse: append what arrived, parse from the first unparsed byte,
 * consume on RESP_OK, wait for res.need, stop at the first error), once as a
 * whole and then split into chunks, and every way must give the same requests,
 * the same arguments and the same error.
 *
 * Checked on every call: the bytes handed to the parser sit in a heap block of
 * exactly their size (ASan catches a read past them); RESP_OK consumed at least
 * one byte and no more than it was given, and appended exactly argc argument
 * views, each inside the request it consumed; RESP_INCOMPLETE and RESP_ERROR
 * appended nothing; an error has a text; res.need, when set, asks for more than
 * was given. A failed check prints what differs and aborts. */
#ifndef PERCORE_FUZZ_PARSE_H
#define PERCORE_FUZZ_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "resp.h"

/* Called on the whole-input pass after each parser call that did not return
 * RESP_INCOMPLETE: orig[0..size) is the untouched input, off where the request
 * began in it, base where it begins in the parser's copy (which the parser may
 * have unquoted in place), argv the arguments of a RESP_OK. A target's own
 * oracle; it aborts on a mismatch. */
typedef void fuzz_parse_check_fn(const uint8_t *orig, size_t size, size_t off, const char *base,
                                 int rc, const resp_parse_t *res, const sv_t *argv);

/* The limits both targets parse under: small, so that every "too big" and
 * "invalid length" error is reachable with a few KiB of input. */
extern const resp_limits_t fuzz_parse_limits;

/* Parse data[0..size) whole, in random chunks and (when short) byte by byte;
 * the chunk sizes come from a hash of the input, so a run is reproducible. */
void fuzz_parse_input(const uint8_t *data, size_t size, fuzz_parse_check_fn *check);

#endif

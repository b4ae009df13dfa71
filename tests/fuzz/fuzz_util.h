/* fuzz_util — what every fuzz target uses to report a failed check. */
#ifndef PERCORE_FUZZ_UTIL_H
#define PERCORE_FUZZ_UTIL_H

#include <stddef.h>

/* Print the message and abort: libFuzzer reports a crash and saves the input. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tag (n bytes): "p" with control and non-ASCII bytes escaped, at most
 * fuzz_escaped_max of them (600 unless a target changes it). */
extern size_t fuzz_escaped_max;
void fuzz_print_escaped(const char *tag, const char *p, size_t n);

#endif

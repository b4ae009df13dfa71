/* fuzz_util — reporting a failed check. */
#include "fuzz_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz check failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

size_t fuzz_escaped_max = 600;

void fuzz_print_escaped(const char *tag, const char *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes): \"", tag, n);
    for (size_t i = 0; i < n && i < fuzz_escaped_max; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\n')
            fputs("\\n", stderr);
        else if (c == '\\' || c == '"')
            fprintf(stderr, "\\%c", c);
        else if (c < 32 || c >= 127)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs(n > fuzz_escaped_max ? "\"...\n" : "\"\n", stderr);
}

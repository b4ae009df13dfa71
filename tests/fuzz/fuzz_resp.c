/* fuzz_resp — the RESP (multibulk) request parser, fed as a connection feeds
 * it (fuzz_parse.c). On top of fuzz_parse's checks, every multibulk request the
 * parser accepts is walked again here: "*N\r\n" then N times "$L\r\n", L bytes,
 * "\r\n", with each argument view pointing exactly at its L bytes and the
 * request ending where the parser said it consumed. Seeds: corpus/resp. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_parse.h"

/* The decimal number at p, up to the "\r\n" that must follow it: 1 and *v,
 * *linelen, or 0 when there is none. Any negative number reads as -1 (only
 * its sign matters here: a count <= 0 is an empty request, and a negative
 * bulk length is never accepted); a positive one saturates. */
static int number_line(const uint8_t *p, size_t avail, long long *v, size_t *linelen)
{
    int neg = avail > 0 && p[0] == '-';
    size_t i = (size_t)neg, digits = i;
    unsigned long long u = 0;
    while (i < avail && p[i] >= '0' && p[i] <= '9') {
        u = u > (unsigned long long)LLONG_MAX / 10 ? (unsigned long long)LLONG_MAX
                                                   : u * 10 + (unsigned)(p[i] - '0');
        i++;
    }
    if (i == digits || i + 1 >= avail || p[i] != '\r' || p[i + 1] != '\n')
        return 0;
    *linelen = i + 2;
    *v = neg ? (u ? -1 : 0) : (long long)(u > (unsigned long long)LLONG_MAX ? LLONG_MAX : u);
    return 1;
}

static void check_multibulk(const uint8_t *orig, size_t size, size_t off, const char *base,
                            int rc, const resp_parse_t *res, const sv_t *argv)
{
    if (rc != RESP_OK || orig[off] != '*')
        return;
    const uint8_t *p = orig + off;
    size_t avail = res->consumed, pos = 1, ll;
    long long n, len;
    if (!number_line(p + pos, avail - pos, &n, &ll))
        fuzz_fail("accepted a multibulk request without a valid count line");
    pos += ll;
    if (res->argc != (n > 0 ? n : 0))
        fuzz_fail("count %lld but argc %d", n, res->argc);
    for (int i = 0; i < res->argc; i++) {
        if (pos >= avail || p[pos] != '$')
            fuzz_fail("argument %d has no '$' header", i);
        pos++;
        if (!number_line(p + pos, avail - pos, &len, &ll) || len < 0)
            fuzz_fail("argument %d has no valid length line", i);
        pos += ll;
        if ((size_t)len != argv[i].len || (size_t)len > avail - pos)
            fuzz_fail("argument %d: header says %lld bytes, view has %zu", i, len, argv[i].len);
        if (argv[i].p != base + pos)
            fuzz_fail("argument %d's view is not at its bytes", i);
        if (memcmp(argv[i].p, p + pos, argv[i].len) != 0)
            fuzz_fail("argument %d's bytes differ from the input's", i);
        pos += (size_t)len;
        if (avail - pos < 2 || p[pos] != '\r' || p[pos + 1] != '\n')
            fuzz_fail("argument %d is not followed by \\r\\n", i);
        pos += 2;
    }
    if (pos != res->consumed)
        fuzz_fail("the request is %zu bytes but the parser consumed %zu", pos, res->consumed);
    (void)size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_input(data, size, check_multibulk);
    return 0;
}

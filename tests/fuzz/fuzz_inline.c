/* fuzz_inline — the inline request parser ("SET k 'a b'\r\n"), fed as a
 * connection feeds it (fuzz_parse.c). On top of fuzz_parse's checks, every
 * inline line is split again here by a plain reference splitter that copies
 * into a separate buffer (the parser unquotes in place), following Redis's
 * sdssplitargs rules as server/resp.h documents them: blanks separate
 * arguments; "..." with \n \r \t \b \a \xHH and \<any> escapes; '...' with
 * only \' ; a closing quote must be followed by a blank or the end; a NUL byte
 * is ordinary data. Parser and reference must agree on the arguments, and on
 * which lines are "unbalanced quotes". Seeds: corpus/inline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz_parse.h"

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static uint8_t unescape(uint8_t c)
{
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
    }
}

/* Split s[0..n) into out as "len:bytes" records; the number of arguments, or
 * -1 for unbalanced quotes. */
static int ref_split(const uint8_t *s, size_t n, buf_t *out)
{
    size_t i = 0;
    int argc = 0;
    buf_t arg;
    buf_init(&arg);
    for (;;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        enum { BARE, DQ, SQ } st = BARE;
        arg.len = 0;
        for (;;) {
            if (st != BARE && i == n)
                goto unbalanced;
            if (st == DQ) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hex_digit(s[i + 2]) >= 0 &&
                    hex_digit(s[i + 3]) >= 0) {
                    buf_putc(&arg, (char)(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3])));
                    i += 4;
                } else if (s[i] == '\\' && i + 1 < n) {
                    buf_putc(&arg, (char)unescape(s[i + 1]));
                    i += 2;
                } else if (s[i] == '"') {
                    if (i + 1 < n && !is_blank(s[i + 1]))
                        goto unbalanced;
                    i++;
                    break;
                } else {
                    buf_putc(&arg, (char)s[i++]);
                }
            } else if (st == SQ) {
                if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\'') {
                    buf_putc(&arg, '\'');
                    i += 2;
                } else if (s[i] == '\'') {
                    if (i + 1 < n && !is_blank(s[i + 1]))
                        goto unbalanced;
                    i++;
                    break;
                } else {
                    buf_putc(&arg, (char)s[i++]);
                }
            } else if (i == n || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
                break; /* '\v' and '\f' only separate arguments, as in sdssplitargs */
            } else if (s[i] == '"' || s[i] == '\'') {
                st = s[i++] == '"' ? DQ : SQ;
            } else {
                buf_putc(&arg, (char)s[i++]);
            }
        }
        buf_printf(out, "%zu:", arg.len);
        if (arg.len)
            buf_append(out, arg.data, arg.len);
        argc++;
    }
    buf_free(&arg);
    return argc;
unbalanced:
    buf_free(&arg);
    return -1;
}

static void check_inline(const uint8_t *orig, size_t size, size_t off, const char *base, int rc,
                         const resp_parse_t *res, const sv_t *argv)
{
    const uint8_t *p = orig + off;
    size_t avail = size - off;
    const uint8_t *nl = memchr(p, '\n', avail);
    if (p[0] == '*')
        return;
    if (rc == RESP_ERROR && strstr(res->err, "too big inline")) {
        if (nl && (size_t)(nl - p) <= fuzz_parse_limits.max_inline)
            fuzz_fail("\"too big inline request\" for a line of %zu bytes", (size_t)(nl - p));
        return;
    }
    if (!nl)
        fuzz_fail("an inline request without a newline was %s",
                  rc == RESP_OK ? "accepted" : "refused");
    size_t end = (size_t)(nl - p);
    if (rc == RESP_OK && res->consumed != end + 1)
        fuzz_fail("the line is %zu bytes but the parser consumed %zu", end + 1, res->consumed);
    if (end > 0 && p[end - 1] == '\r')
        end--;
    buf_t want, got;
    buf_init(&want);
    buf_init(&got);
    int argc = ref_split(p, end, &want);
    if (rc == RESP_ERROR) {
        if (argc >= 0)
            fuzz_fail("the parser says \"%s\", the reference splits %d arguments", res->err,
                      argc);
    } else {
        if (argc != res->argc)
            fuzz_fail("the parser splits %d arguments, the reference %d", res->argc, argc);
        for (int i = 0; i < res->argc; i++) {
            buf_printf(&got, "%zu:", argv[i].len);
            if (argv[i].len)
                buf_append(&got, argv[i].p, argv[i].len);
        }
        if (got.len != want.len || (got.len && memcmp(got.data, want.data, got.len) != 0))
            fuzz_fail("the parser's arguments differ from the reference's");
    }
    buf_free(&want);
    buf_free(&got);
    (void)base;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse_input(data, size, check_inline);
    return 0;
}

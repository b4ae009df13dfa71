/* fuzz_ini — the server.ini loader (server/config_ini.c over inih), with the
 * startup sequence of server/main.c: config_defaults, config_load_file, and
 * config_finalize when the file loaded; config_teardown after each input (a
 * leak is a LeakSanitizer report at exit).
 *
 * config_load_file takes a path: the input goes into a memfd created once per
 * process and is loaded as /proc/self/fd/N. Checked:
 *   - a failure fills err with "path:..." (the file is named);
 *   - after a successful load and finalize, every value lies in its option's
 *     range (ints and sizes within [min, max], powers of two where flagged,
 *     enum values among their words, strings within their length limit);
 *   - the loaded values survive a round trip: written out as an ini file of
 *     their CONFIG GET forms (strings quoted where needed), loaded and finalized again,
 *     they read back the same.
 * Seeds: corpus/ini. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fuzz_util.h"

static int input_fd = -1, trip_fd = -1;
static char input_path[64], trip_path[64];

static int open_memfd(const char *name, char *path, size_t len)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

static void fill(int fd, const void *p, size_t n)
{
    if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, p, n, 0) != (ssize_t)n)) {
        perror("memfd write");
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    input_fd = open_memfd("percore-fuzz-ini", input_path, sizeof input_path);
    trip_fd = open_memfd("percore-fuzz-ini-trip", trip_path, sizeof trip_path);
    return 0;
}

static void check_ranges(void)
{
    buf_t v;
    buf_init(&v);
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        long long n;
        switch (o->type) {
        case CFGT_INT:
        case CFGT_BOOL:
            n = config_get_int(i);
            break;
        case CFGT_MEM:
            n = (long long)config_get_u64(i);
            break;
        case CFGT_ENUM:
            n = config_get_int(i);
            for (long long w = 0; w <= n; w++)
                if (!o->words[w])
                    fuzz_fail("%s: enum value %lld has no word", o->name, n);
            continue;
        case CFGT_STR:
            v.len = 0;
            config_format_value(o, &v);
            if (o->max > 0 && v.len > (size_t)o->max)
                fuzz_fail("%s: %zu bytes, at most %lld allowed", o->name, v.len, o->max);
            continue;
        default:
            fuzz_fail("%s: unknown type %d", o->name, (int)o->type);
        }
        if (n < o->min || n > o->max)
            fuzz_fail("%s = %lld outside [%lld, %lld]", o->name, n, o->min, o->max);
        if ((o->flags & CFGF_POW2) && (n & (n - 1)) != 0)
            fuzz_fail("%s = %lld is not a power of two", o->name, n);
    }
    buf_free(&v);
}

/* A string value that the loader would not read back as it is: empty, blank
 * at either end, in quotes already, or with what inih takes for a comment. */
static int needs_quotes(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))
        return 1;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        return 1;
    return 0;
}

/* inih ends a value at a ';' after whitespace, quoted or not, and the ini
 * format has no escapes: such a value (a file can still produce one, with
 * quotes inside quotes) cannot be written back. */
static int representable(const char *v)
{
    if (!v[0])
        return 1;
    for (size_t i = 1; v[i]; i++)
        if (v[i] == ';' && isspace((unsigned char)v[i - 1]))
            return 0;
    return 1;
}

/* Every option as "[section]\nkey=value" lines (no blanks around '=': a
 * line no longer than the one it came from, since inih limits lengths), in the table's order; with
 * values, each value as CONFIG GET shows it, NUL-separated, for comparing. */
static void dump(buf_t *ini, buf_t *values)
{
    const char *section = "";
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        size_t at = values->len;
        config_format_value(o, values);
        buf_putc(values, '\0');
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            buf_printf(ini, "[%s]\n", section);
        }
        const char *q = needs_quotes(values->data + at) ? "\"" : "";
        buf_printf(ini, "%s=%s%s%s\n", o->name, q, values->data + at, q);
    }
}

static void round_trip(void)
{
    buf_t ini, before, after;
    buf_init(&ini);
    buf_init(&before);
    buf_init(&after);
    dump(&ini, &before);
    for (size_t at = 0; at < before.len; at += strlen(before.data + at) + 1) {
        if (!representable(before.data + at)) {
            buf_free(&ini);
            buf_free(&before);
            return;
        }
    }
    fill(trip_fd, ini.data, ini.len);
    config_teardown();
    config_defaults();
    char err[512];
    if (config_load_file(trip_path, err, sizeof err) != 0)
        fuzz_fail("the loaded values do not load again: %s", err);
    if (config_finalize(4, err, sizeof err) != 0)
        fuzz_fail("the loaded values do not finalize again: %s", err);
    buf_t ini2;
    buf_init(&ini2);
    dump(&ini2, &after);
    if (before.len != after.len || memcmp(before.data, after.data, before.len) != 0) {
        fprintf(stderr, "written:\n%.*s\nread back:\n%.*s\n", (int)ini.len, ini.data,
                (int)ini2.len, ini2.data);
        fuzz_fail("values differ after a round trip through an ini file");
    }
    buf_free(&ini);
    buf_free(&ini2);
    buf_free(&before);
    buf_free(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    fill(input_fd, data, size);
    config_defaults();
    err[0] = '\0';
    if (config_load_file(input_path, err, sizeof err) != 0) {
        if (strncmp(err, input_path, strlen(input_path)) != 0)
            fuzz_fail("a failed load does not name the file: \"%s\"", err);
    } else if (config_finalize(4, err, sizeof err) == 0) {
        check_ranges();
        round_trip();
    }
    config_teardown();
    return 0;
}

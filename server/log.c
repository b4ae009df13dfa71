#include "log.h"

#include "forksafe.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Read by every thread, changed by CONFIG SET: a relaxed atomic. */
static _Atomic int log_min_level = LOG_NOTICE;
static FILE *log_file; /* NULL: stderr */

static const char *const level_names[] = {"debug", "verbose", "notice", "warning"};
static const char level_marks[] = {'.', '-', '*', '#'};

void log_setup(int level, const char *path)
{
    log_set_level(level);
    if (path && *path) {
        FILE *f = fopen(path, "a");
        if (f) {
            setvbuf(f, NULL, _IOLBF, 0);
            log_file = f;
        } else {
            fprintf(stderr, "cannot open log file %s, logging to stderr\n", path);
        }
    }
}

void log_set_level(int level)
{
    atomic_store_explicit(&log_min_level, level, memory_order_relaxed);
}

void log_teardown(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

static void log_vmsg(int level, const char *fmt, va_list ap)
{
    /* A SCRIPT DEBUG YES child logs nothing: the stream's lock may have been
     * held by another thread at fork, and the parent logs for it. */
    if (forksafe_in_child())
        return;
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%d %b %Y %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                          level_marks[level]);
    if (n < sizeof line)
        vsnprintf(line + n, sizeof line - n, fmt, ap);
    /* One fprintf per line: stdio locks the stream, so lines never interleave. */
    fprintf(log_file ? log_file : stderr, "%d:%s\n", (int)getpid(), line);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < atomic_load_explicit(&log_min_level, memory_order_relaxed))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LOG_WARNING, fmt, ap);
    va_end(ap);
    abort();
}

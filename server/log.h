/* log — leveled logging to stderr (or the configured file), thread-safe by line. */
#ifndef PERCORE_LOG_H
#define PERCORE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

void log_setup(int level, const char *path);
/* Change the minimum level shown (CONFIG SET loglevel); any thread. */
void log_set_level(int level);
void log_teardown(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int log_level_parse(const char *s); /* -1 when unknown */

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif

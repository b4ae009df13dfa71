/* config_internal — what config.c (the table, values and runtime changes)
 * shares with config_ini.c (server.ini, --section.key, --help, --print-ini).
 * Not for other modules: they use config.h. */
#ifndef PERCORE_CONFIG_INTERNAL_H
#define PERCORE_CONFIG_INTERNAL_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* A parsed value, not yet stored: n for numbers, s (owned) for strings. */
typedef struct cval {
    long long n;
    char *s;
} cval_t;

/* Format err (when not NULL) and return -1. */
int config_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse v[0..len) for option o into *out (the caller owns out->s). Error texts
 * are Redis's CONFIG SET reasons. 0 or -1 with err filled. Any thread. */
int config_parse_value(const config_opt_t *o, const char *v, size_t len, cval_t *out, char *err,
                       size_t errlen);
/* The same for a value set over base (a parsed value of o; NULL: the running
 * one): client-output-buffer-limit names only the classes it changes and
 * takes the others from base. A reload's values build on one another. */
int config_parse_over(const config_opt_t *o, const cval_t *base, const char *v, size_t len,
                      cval_t *out, char *err, size_t errlen);

/* Store a parsed value for option id, taking v->s. Any thread. */
void config_put_value(int id, cval_t *v);

/* Free a parsed value that was not stored. */
void config_cval_free(cval_t *v);

/* A memory size as redis.conf writes it (1024, 1k, 1kb, 1m, 1mb, 1g, 1gb). */
int config_parse_mem(const char *p, size_t len, long long *out);

/* client-output-buffer-limit (config_obl.c): parse a value, merged with base
 * (a normalised string; NULL: the current limits), into its normalised
 * string; store a normalised string's numbers where config_obl_get reads them. */
int config_parse_obl(const char *v, size_t len, const char *base, cval_t *out, char *err,
                     size_t errlen);
void config_obl_store(const char *s);

/* notify-keyspace-events (config_events.c): parse a value into Redis's
 * canonical string ("KEA" -> "AKE") and its classes (out->n); store the
 * classes where config_keyspace_events reads them. */
int config_parse_events(const char *v, size_t len, cval_t *out, char *err, size_t errlen);
void config_events_store(int flags);

/* latency-tracking-info-percentiles (config_parse.c): numbers in [0, 100],
 * normalised to Redis's form ("50 99 99.9"). */
int config_parse_pcts(const char *v, size_t len, cval_t *out, char *err, size_t errlen);

/* 1 when option id runs with the value v[0..len) (as the file would give it;
 * a value resolved at startup stands for the one configured), 0 when it
 * differs, -1 when v does not parse. Any thread. */
int config_running_as(int id, const char *v, size_t len);

/* Reload (worker 0): make the running configuration want[] (one value per
 * option, as defaults + file + overrides built it; the caller frees what is
 * left in it). The runtime options that differ are applied together as by
 * CONFIG SET, all or nothing (err then names the key); the others that differ
 * are only logged, naming source, as needing a restart. 0 or -1. */
int config_reload_values(cval_t *want, const char *source, char *err, size_t errlen);

/* 1 when a[0..alen) equals the NUL-terminated lit, ignoring case. */
static inline int config_name_eq(const char *a, size_t alen, const char *lit)
{
    return alen == strlen(lit) && strncasecmp(a, lit, alen) == 0;
}

#endif

/* What the config unit tests share: each test starts from the defaults and
 * tears the config down after; an option's value as text, and a
 * command-line setting that must be refused. */
#ifndef PERCORE_TEST_CONFIG_HARNESS_H
#define PERCORE_TEST_CONFIG_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static inline int setup(void **state)
{
    config_defaults();
    return 0;
}

static inline int teardown(void **state)
{
    config_teardown();
    return 0;
}

static inline char *value_of(const char *name)
{
    const config_opt_t *o = config_lookup(name, strlen(name));
    assert_non_null(o);
    buf_t b;
    buf_init(&b);
    config_format_value(o, &b);
    char *s = xstrndup(b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

static inline void assert_value(const char *name, const char *want)
{
    char *got = value_of(name);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", name, got, want);
    free(got);
}

/* Not inline: inlined into the call with v NULL, gcc's -Wformat-overflow
 * flags the %s of v on the failure path. */
__attribute__((unused)) static void assert_set_fails(const char *opt, const char *v,
                                                     const char *want_err)
{
    char err[256] = "";
    if (config_set_arg(opt, v, err, sizeof err) == 0)
        fail_msg("--%s %s was accepted", opt, v);
    if (want_err && !strstr(err, want_err))
        fail_msg("--%s %s: error '%s' lacks '%s'", opt, v, err, want_err);
}

#endif

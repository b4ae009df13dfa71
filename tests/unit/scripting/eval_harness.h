/* What the scripting unit tests share: the modules EVAL needs, set up on
 * this (non-worker) thread, and EVAL of a body with its reply as text. */
#ifndef PERCORE_TEST_EVAL_HARNESS_H
#define PERCORE_TEST_EVAL_HARNESS_H

#include <string.h>

#include "all_commands.h"
#include "command.h"
#include "config.h"
#include "script.h"
#include "store.h"

static buf_t eval_out;
static char eval_text[4096];

static int eval_setup(void **state)
{
    (void)state;
    config_defaults();
    store_setup(4, 16);
    command_setup(all_commands);
    buf_init(&eval_out);
    return 0;
}

static int eval_teardown(void **state)
{
    (void)state;
    script_teardown();
    command_teardown();
    store_teardown();
    buf_free(&eval_out);
    return 0;
}

/* EVAL body 0 -> the reply's first bytes as text. */
static const char *eval(const char *body)
{
    sv_t argv[3] = {{"eval", 4}, {body, strlen(body)}, {"0", 1}};
    eval_out.len = 0;
    reply_t r = {.out = &eval_out, .proto = 2};
    cmd_ctx_t c = {.argc = 3, .argv = argv, .r = &r, .now_ms = now_ms(),
                   .cmd = command_lookup(argv[0]), .worker = -1};
    script_eval(&c, 0, 0);
    size_t n = eval_out.len < sizeof eval_text - 1 ? eval_out.len : sizeof eval_text - 1;
    memcpy(eval_text, eval_out.data, n);
    eval_text[n] = '\0';
    return eval_text;
}

#endif

/* How a script's outcome becomes its reply: Redis's error table for an
 * error (with the script's line), or the value it returned, converted
 * (script_conv.c) within memory-limit and while SCRIPT KILL can still stop
 * it. On the state's own thread. */
#include <stdint.h>
#include <string.h>

#include "script_internal.h"

/* Message handler: the error as Redis's table {err=, source=, line=}, with
 * the line of the script that raised it. */
int result_msgh(lua_State *L)
{
    lua_Debug ar;
    int have = 0;
    /* The script is over: building its error must not fail on the limit. */
    lstate_of(L)->limit_on = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        have = 1;
        if (strcmp(ar.what, "C") == 0)
            have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
    }
    if (lua_type(L, 1) != LUA_TTABLE) {
        const char *s = luaL_tolstring(L, 1, NULL);
        lua_createtable(L, 0, 3);
        lua_pushfstring(L, "ERR %s", s);
        lua_setfield(L, -2, "err");
        lua_replace(L, 1);
        lua_settop(L, 1);
    }
    if (have && ar.currentline > 0) {
        lua_pushstring(L, ar.source);
        lua_setfield(L, 1, "source");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, 1, "line");
    }
    lua_settop(L, 1);
    return 1;
}

/* The reply for a script that raised an error. Returns 1 when the error
 * was counted already (see CONV_COUNTED_FIELD) and so was written without
 * adding to r->errors. */
static int reply_run_error(lua_State *L, lstate_t *ls, int st, const char *sha, reply_t *r)
{
    if (st == LUA_ERRMEM) {
        if (ls->limit)
            reply_errorf(r, "ERR Error running script %s, not enough memory (the script "
                            "allocated more than memory-limit, %zu bytes)", sha, ls->limit);
        else
            reply_errorf(r, "ERR Error running script %s, not enough memory", sha);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TTABLE) {
        const char *msg = lua_tostring(L, -1);
        reply_errorf(r, "ERR Error running script %s, %.100s", sha,
                     msg ? msg : "execution failure");
        return 0;
    }
    lua_getfield(L, -1, "err");
    lua_getfield(L, -2, "source");
    lua_getfield(L, -3, "line");
    lua_getfield(L, -4, CONV_COUNTED_FIELD);
    const char *msg = lua_tostring(L, -4), *src = lua_tostring(L, -3);
    int counted = lua_toboolean(L, -1);
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "%s", msg ? msg : "ERR unknown error");
    if (src && lua_isinteger(L, -2))
        buf_printf(&b, " script: %s, on %s:%lld.", sha, src, (long long)lua_tointeger(L, -2));
    buf_putc(&b, '\0');
    reply_error(r, b.data);
    if (counted)
        r->errors--; /* reply_error counted it: undone, it was counted when replied */
    buf_free(&b);
    lua_pop(L, 4);
    return counted;
}

/* The script's result written as its reply (conv_lua_to_reply), run
 * protected: it checks for SCRIPT KILL as it goes. */
typedef struct conv_job {
    reply_t *r;
    int resp;
    size_t max;
    int counted; /* conv_lua_to_reply's result */
} conv_job_t;

static int conv_protected(lua_State *L)
{
    conv_job_t *job = lua_touserdata(L, 2);
    lua_settop(L, 1);
    job->counted = conv_lua_to_reply(L, job->r, job->resp, job->max);
    return 0;
}

int result_reply(lstate_t *ls, int st, const char *sha, reply_t *r, int resp)
{
    lua_State *L = ls->L;
    uint64_t errors = r->errors;
    int counted = 0;
    if (st == LUA_OK && lua_type(L, -1) != LUA_TTABLE) {
        /* One value: written at once, within any bound. */
        counted = conv_lua_to_reply(L, r, resp, 0);
    } else if (st == LUA_OK) {
        /* The reply is built in the connection's buffer, outside the state,
         * and a table that repeats itself ({t, t} nested, or t[i] = t) is
         * written out once per reference: memory-limit bounds the reply too.
         * It may take memory-limit bytes more than the state's own size, so
         * any value the script built, written once (or a big ARGV echoed),
         * still fits. Built while the script still counts as running, so
         * that its worker answers BUSY and SCRIPT KILL stops it. */
        conv_job_t job = {.r = r, .resp = resp,
                          .max = ls->limit ? ls->limit + ls->mem : 0};
        size_t start = r->out->len;
        char err[sizeof r->err];
        memcpy(err, r->err, sizeof err);
        lua_pushcfunction(L, conv_protected);
        lua_insert(L, -2);
        lua_pushlightuserdata(L, &job);
        st = lua_pcall(L, 2, 0, -4);
        if (st != LUA_OK) { /* killed halfway: the partial reply goes */
            r->out->len = start;
            r->errors = errors;
            memcpy(r->err, err, sizeof err);
        } else if (job.counted < 0) {
            reply_errorf(r, "ERR Error running script %s, not enough memory (the script's "
                               "reply is larger than memory-limit, %zu bytes)", sha,
                         ls->limit);
        } else {
            counted = job.counted;
        }
    }
    if (st != LUA_OK)
        counted = reply_run_error(L, ls, st, sha, r);
    return counted;
}

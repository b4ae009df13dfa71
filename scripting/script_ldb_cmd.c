/* script_ldb_cmd — the Lua debugger's commands (SCRIPT DEBUG SYNC): reading
 * them from the client, and help, step/next, continue, list, whole, print,
 * break, trace, eval, redis, maxlen and abort, with Redis 7.0's texts; the
 * trace of redis.call while stepping; redis.breakpoint() and redis.debug().
 *
 * Hooks do not run while Lua runs a hook, so the debugger's eval and redis
 * commands run in a coroutine with the engine's count hook of its own: an
 * endless "eval" stays interruptible (SCRIPT KILL from another connection,
 * BUSY replies past busy-reply-threshold) rather than hang the worker.
 * On the worker running the debugged EVAL. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "script_internal.h"
#include "script_ldb.h"

/* ---- reading a command ---------------------------------------------------- */

/* Parse one RESP array from d->cbuf: 1 with argv (views into cbuf) and its
 * length in *used, 0 when more input is needed, -1 for a protocol error. */
static int parse_cmd(ldb_t *d, sv_t **argvp, int *argcp, size_t *used)
{
    const char *p = d->cbuf, *end = d->cbuf + d->clen;
    if (p == end)
        return 0;
    if (*p != '*')
        return -1;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return 0;
    long argc = strtol(p + 1, NULL, 10);
    if (argc <= 0 || argc > LDB_MAX_ARGS)
        return -1;
    p = nl + 1;
    sv_t *argv = xmalloc((size_t)argc * sizeof *argv);
    for (long i = 0; i < argc; i++) {
        if (p == end)
            goto more;
        if (*p != '$')
            goto err;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            goto more;
        char *e;
        long len = strtol(p + 1, &e, 10);
        if (len < 0 || len > (long)LDB_MAX_INPUT)
            goto err;
        p = nl + 1;
        if ((size_t)(end - p) < (size_t)len + 2)
            goto more;
        if (p[len] != '\r' || p[len + 1] != '\n')
            goto err;
        argv[i] = (sv_t){p, (size_t)len};
        p += len + 2;
    }
    *argvp = argv;
    *argcp = (int)argc;
    *used = (size_t)(p - d->cbuf);
    return 1;
more:
    free(argv);
    return 0;
err:
    free(argv);
    return -1;
}

static int is(sv_t a, const char *s1, const char *s2)
{
    return sv_eq_ci(a, s1) || sv_eq_ci(a, s2);
}

static long sv_atol(sv_t a)
{
    char tmp[32];
    size_t n = a.len < sizeof tmp - 1 ? a.len : sizeof tmp - 1;
    memcpy(tmp, a.p, n);
    tmp[n] = 0;
    return strtol(tmp, NULL, 10);
}

/* ---- list, break, print, trace, maxlen ------------------------------------ */

static void list(ldb_t *d, int around, int ctx)
{
    for (int j = 1; j <= d->nlines; j++) {
        if (around != 0 && abs(around - j) > ctx)
            continue;
        ldb_log_source_line(d, j);
    }
}

static const char *const help_lines[] = {
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
    NULL,
};

static void do_break(ldb_t *d, int argc, sv_t *argv)
{
    if (argc == 1) {
        if (d->nbp == 0) {
            ldb_log(d, "No breakpoints set. Use 'b <line>' to add one.");
            return;
        }
        ldb_log(d, "%d breakpoints set:", d->nbp);
        for (int i = 0; i < d->nbp; i++)
            ldb_log_source_line(d, d->bp[i]);
        return;
    }
    for (int j = 1; j < argc; j++) {
        long long line;
        if (str_to_ll(argv[j].p, argv[j].len, &line) != 0) {
            ldb_log(d, "Invalid argument:'%.*s'", (int)(argv[j].len > 200 ? 200 : argv[j].len),
                    argv[j].p);
        } else if (line == 0) {
            d->nbp = 0;
            ldb_log(d, "All breakpoints removed.");
        } else if (line > 0) {
            if (d->nbp == LDB_BREAKPOINTS_MAX) {
                ldb_log(d, "Too many breakpoints set.");
            } else if (line <= d->nlines && !ldb_is_break(d, (int)line)) {
                d->bp[d->nbp++] = (int)line;
                list(d, (int)line, 1);
            } else {
                ldb_log(d, "Wrong line number.");
            }
        } else {
            int found = 0;
            for (int i = 0; i < d->nbp; i++)
                if (d->bp[i] == (int)-line) {
                    d->bp[i] = d->bp[--d->nbp];
                    found = 1;
                    break;
                }
            ldb_log(d, found ? "Breakpoint removed." : "No breakpoint in the specified line.");
        }
    }
}

static void log_value(ldb_t *d, lua_State *L, const char *prefix, int idx)
{
    buf_t b = {0};
    buf_printf(&b, "%s", prefix);
    ldb_repr(L, idx, &b, 0);
    ldb_log_max(d, &b);
    buf_free(&b);
}

static int get_global(lua_State *L)
{
    lua_getglobal(L, lua_tostring(L, 1));
    return 1;
}

static void print(ldb_t *d, lua_State *L, int argc, sv_t *argv)
{
    lua_Debug ar;
    if (!lua_getstack(L, 0, &ar)) {
        ldb_log(d, "<error> Can't retrieve Lua stack.");
        return;
    }
    if (argc < 2) {
        int any = 0;
        const char *name;
        for (int j = 1; (name = lua_getlocal(L, &ar, j)) != NULL; j++) {
            if (name[0] != '(') {
                buf_t b = {0};
                buf_printf(&b, "<value> %s = ", name);
                ldb_repr(L, -1, &b, 0);
                ldb_log_max(d, &b);
                buf_free(&b);
                any = 1;
            }
            lua_pop(L, 1);
        }
        if (!any)
            ldb_log(d, "No local variables in the current context.");
        return;
    }
    const char *name;
    for (int j = 1; (name = lua_getlocal(L, &ar, j)) != NULL; j++) {
        if (strlen(name) == argv[1].len && memcmp(name, argv[1].p, argv[1].len) == 0) {
            log_value(d, L, "<value> ", -1);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
    }
    lua_pushcfunction(L, get_global);
    lua_pushlstring(L, argv[1].p, argv[1].len);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && !lua_isnil(L, -1))
        log_value(d, L, "<value> ", -1);
    else
        ldb_log(d, "No such variable.");
    lua_pop(L, 1);
}

static void trace(ldb_t *d, lua_State *L)
{
    lua_Debug ar;
    int level = 0;
    while (lua_getstack(L, level, &ar)) {
        lua_getinfo(L, "Snl", &ar);
        if (strcmp(ar.source, "@user_script") == 0) {
            ldb_log(d, "%s %s:", level == 0 ? "In" : "From", ar.name ? ar.name : "top level");
            ldb_log_source_line(d, ar.currentline);
        }
        level++;
    }
    if (level == 0)
        ldb_log(d, "<error> Can't retrieve Lua stack.");
}

static void maxlen(ldb_t *d, int argc, sv_t *argv)
{
    if (argc > 1) {
        long v = sv_atol(argv[1]);
        d->maxlen_hinted = 1; /* the user knows about maxlen */
        if (v != 0 && v <= 60)
            v = 60;
        d->maxlen = v < 0 ? 60 : (size_t)v;
    }
    if (d->maxlen)
        ldb_log(d, "<value> replies are truncated at %zu bytes.", d->maxlen);
    else
        ldb_log(d, "<value> replies are unlimited.");
}

/* ---- eval and redis, in a coroutine ----------------------------------------- */

/* Resume co (its function and nargs arguments pushed) with the engine's
 * count hook; leaves one result (or the error) on L's top. A SCRIPT KILL
 * meanwhile stops the debugged script too. Returns the resume status. */
static int run_in_coroutine(lua_State *L, lua_State *co, int nargs)
{
    lstate_t *ls = lstate_of(L);
    lua_sethook(co, engine_hook, LUA_MASKCOUNT, HOOK_COUNT);
    int nres = 0;
    int st = lua_resume(co, L, nargs, &nres);
    if (ls->killed)
        engine_raise_killed(L);
    if (st == LUA_OK || st == LUA_YIELD) {
        if (nres > 0)
            lua_xmove(co, L, 1);
        else
            lua_pushnil(L);
        return LUA_OK;
    }
    lua_xmove(co, L, 1);
    return st;
}

/* The text of an error value: a string, or an error table's err. */
static const char *error_text(lua_State *L, int idx)
{
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "err");
        const char *s = lua_tostring(L, -1);
        lua_pop(L, 1);
        return s ? s : "?";
    }
    const char *s = lua_tostring(L, idx);
    return s ? s : "?";
}

static void eval(ldb_t *d, lua_State *L, int argc, sv_t *argv)
{
    buf_t code = {0};
    for (int j = 1; j < argc; j++) {
        buf_append(&code, argv[j].p, argv[j].len);
        if (j != argc - 1)
            buf_putc(&code, ' ');
    }
    lua_State *co = lua_newthread(L);
    buf_t ret = {0};
    buf_printf(&ret, "return %.*s", (int)code.len, code.data ? code.data : "");
    int st = luaL_loadbufferx(co, ret.data, ret.len, "@ldb_eval", "t");
    buf_free(&ret);
    if (st != LUA_OK) {
        lua_pop(co, 1);
        st = luaL_loadbufferx(co, code.data ? code.data : "", code.len, "@ldb_eval", "t");
    }
    buf_free(&code);
    if (st != LUA_OK) {
        ldb_log(d, "<error> %s", lua_tostring(co, -1));
        lua_pop(L, 1); /* co */
        return;
    }
    sandbox_push_env(co);
    if (!lua_setupvalue(co, -2, 1))
        lua_pop(co, 1);
    st = run_in_coroutine(L, co, 0);
    if (st != LUA_OK) {
        buf_t b = {0};
        buf_printf(&b, "<error> %s", error_text(L, -1));
        ldb_log_max(d, &b);
        buf_free(&b);
    } else {
        log_value(d, L, "<retval> ", -1);
    }
    lua_pop(L, 2); /* the result, co */
}

static void redis_cmd(ldb_t *d, lua_State *L, int argc, sv_t *argv)
{
    lua_State *co = lua_newthread(L);
    if (!lua_checkstack(co, argc + 4)) { /* argc <= LDB_MAX_ARGS */
        lua_pop(L, 1);
        ldb_log(d, "<error> too many arguments");
        return;
    }
    sandbox_push_env(co);
    lua_getfield(co, -1, "redis");
    lua_getfield(co, -1, "pcall");
    lua_replace(co, -3);
    lua_pop(co, 1);
    for (int j = 1; j < argc; j++)
        lua_pushlstring(co, argv[j].p, argv[j].len);
    d->in_redis = 1;
    d->replied = 0;
    int st = run_in_coroutine(L, co, argc - 1);
    d->in_redis = 0;
    if ((st != LUA_OK || lua_istable(L, -1)) && !d->replied) {
        const char *e = st != LUA_OK ? error_text(L, -1) : NULL;
        if (!e) {
            lua_getfield(L, -1, "err");
            e = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        if (e) {
            if (strncmp(e, "ERR ", 4) == 0)
                e += 4;
            buf_t b = {0};
            buf_printf(&b, "<error> %s", e);
            ldb_log_max(d, &b);
            buf_free(&b);
        }
    }
    lua_pop(L, 2);
}

/* ---- the loop ------------------------------------------------------------------ */

/* 1 when the command resumes the script, 2 when it aborts it. */
static int run_cmd(ldb_t *d, lua_State *L, int argc, sv_t *argv)
{
    sv_t c = argv[0];
    if (is(c, "h", "help")) {
        for (int i = 0; help_lines[i]; i++)
            ldb_log(d, "%s", help_lines[i]);
    } else if (is(c, "s", "step") || is(c, "n", "next")) {
        d->step = 1;
        return 1;
    } else if (is(c, "c", "continue")) {
        return 1;
    } else if (is(c, "t", "trace")) {
        trace(d, L);
    } else if (is(c, "m", "maxlen")) {
        maxlen(d, argc, argv);
    } else if (is(c, "b", "break")) {
        do_break(d, argc, argv);
    } else if (is(c, "e", "eval")) {
        eval(d, L, argc, argv);
    } else if (is(c, "a", "abort")) {
        return 2; /* raised by the caller, once argv is freed */
    } else if (argc > 1 && is(c, "r", "redis")) {
        redis_cmd(d, L, argc, argv);
    } else if (is(c, "p", "print")) {
        print(d, L, argc, argv);
    } else if (is(c, "l", "list")) {
        int around = d->current, ctx = 5;
        if (argc > 1 && sv_atol(argv[1]) > 0)
            around = (int)sv_atol(argv[1]);
        if (argc > 2)
            ctx = (int)sv_atol(argv[2]);
        list(d, around, ctx);
    } else if (is(c, "w", "whole")) {
        list(d, 1, 1000000);
    } else {
        ldb_log(d, "<error> Unknown Redis Lua debugger command or wrong number of arguments.");
    }
    return 0;
}

int ldb_repl(lua_State *L, ldb_t *d)
{
    lstate_t *ls = lstate_of(L);
    for (;;) {
        if (d->gone) {
            d->step = 0;
            d->nbp = 0;
            return -1;
        }
        sv_t *argv = NULL;
        int argc = 0;
        size_t used = 0;
        int rc = parse_cmd(d, &argv, &argc, &used);
        if (rc < 0)
            script_raise(L, "protocol error");
        if (rc == 0) {
            if (d->clen >= LDB_MAX_INPUT)
                script_raise(L, "max client buffer reached");
            if (d->ccap - d->clen < 16384) {
                d->ccap = d->ccap ? d->ccap * 2 : 16384;
                if (d->ccap > LDB_MAX_INPUT + 16384)
                    d->ccap = LDB_MAX_INPUT + 16384;
                d->cbuf = xrealloc(d->cbuf, d->ccap);
            }
            long n = ldb_io->recv(d->cl, d->cbuf + d->clen, d->ccap - d->clen, 10);
            if (n < 0) {
                d->gone = 1;
                continue;
            }
            d->clen += (size_t)n;
            if (n == 0) {
                /* Waiting for the user: serve this worker's other clients
                 * BUSY, and let SCRIPT KILL / SHUTDOWN stop the script. */
                ls->start_us = 0;
                engine_check_interrupt(L);
            }
            continue;
        }
        /* Owned by d until the next command or the session's end: a
         * command may raise (SCRIPT KILL during an eval). */
        d->argv = argv;
        int resume = run_cmd(d, L, argc, argv);
        free(d->argv);
        d->argv = NULL;
        memmove(d->cbuf, d->cbuf + used, d->clen - used);
        d->clen -= used;
        if (resume == 2)
            script_raise(L, "script aborted for user request");
        if (resume)
            return 0;
        ldb_send_logs(d);
    }
}

/* ---- the line hook --------------------------------------------------------- */

static uint64_t timeout_us(void)
{
    return (uint64_t)config_get_int(CFG_BUSY_REPLY_THRESHOLD) * 1000;
}

static void ldb_hook(lua_State *L, lua_Debug *ar)
{
    ldb_t *d = ldb_cur;
    lstate_t *ls = lstate_of(L);
    if (!d) {
        engine_check_interrupt(L);
        return;
    }
    lua_getinfo(L, "Sl", ar);
    /* Lines of the debugger's own eval code are not the script's. */
    if (strcmp(ar->source, "@user_script") != 0) {
        if (ar->event == LUA_HOOKCOUNT)
            engine_check_interrupt(L);
        return;
    }
    int timeout = 0;
    if (ar->event == LUA_HOOKCOUNT) {
        engine_check_interrupt(L);
        if (!d->step && !d->luabp && !d->gone && mono_us() - ls->start_us >= timeout_us()) {
            timeout = 1;
            d->step = 1;
        }
    } else {
        d->current = ar->currentline;
    }
    int bp = (ar->event == LUA_HOOKLINE && ldb_is_break(d, d->current)) || d->luabp;
    if (!d->step && !bp)
        return;
    if (ar->event == LUA_HOOKCOUNT && !timeout)
        return; /* a step stops at the next line, not mid-line */
    const char *why = "step over";
    if (bp)
        why = d->luabp ? "redis.breakpoint() called" : "break point";
    else if (timeout)
        why = "timeout reached, infinite loop?";
    d->step = 0;
    d->luabp = 0;
    /* Publish the session as a busy script before the client hears of the
     * stop: from then on, whoever needs its partitions or its worker gets
     * BUSY rather than a wait as long as the user's thinking. */
    ls->start_us = ls->last_busy_call_us = 0;
    engine_check_interrupt(L);
    ldb_log(d, "* Stopped at %d, stop reason = %s", d->current, why);
    ldb_log_source_line(d, d->current);
    ldb_send_logs(d);
    if (ldb_repl(L, d) != 0 && timeout)
        script_raise(L, "timeout during Lua debugging with client closing connection");
    /* The user's thinking time is not the script's. */
    ls->start_us = ls->last_busy_call_us = mono_us();
}

void ldb_install_hook(lua_State *L)
{
    if (ldb_cur)
        lua_sethook(L, ldb_hook, LUA_MASKCOUNT | LUA_MASKLINE, 100000);
}

/* ---- redis.call's trace, redis.breakpoint(), redis.debug() --------------------- */

static int tracing(void)
{
    ldb_t *d = ldb_cur;
    return d && !d->gone && (d->step || d->in_redis);
}

void ldb_log_call(int argc, const sv_t *argv)
{
    if (!tracing())
        return;
    buf_t b = {0};
    buf_printf(&b, "<redis>");
    for (int i = 0; i < argc; i++) {
        buf_putc(&b, ' ');
        buf_append(&b, argv[i].p, argv[i].len);
    }
    ldb_log_max(ldb_cur, &b);
    buf_free(&b);
}

/* RESP as the debugger shows it (Redis's ldbRedisProtocolToHuman); returns
 * the bytes used, 0 when malformed. */
static size_t human(buf_t *o, const char *p, size_t n, int depth)
{
    const char *nl = memchr(p, '\r', n);
    if (!n || !nl || (size_t)(nl - p) + 2 > n || depth > 64)
        return 0;
    size_t hl = (size_t)(nl - p) + 2;
    long long v = strtoll(p + 1, NULL, 10);
    switch (p[0]) {
    case '+': case '-':
        ldb_repr_str(o, p, (size_t)(nl - p));
        return hl;
    case ':':
        buf_append(o, p + 1, (size_t)(nl - p) - 1);
        return hl;
    case '_':
        buf_printf(o, "(null)");
        return hl;
    case '#':
        buf_printf(o, "%s", p[1] == 't' ? "#true" : "#false");
        return hl;
    case ',':
        buf_printf(o, "(double) %.*s", (int)(nl - p) - 1, p + 1);
        return hl;
    case '$': case '=': case '!':
        if (v < 0) {
            buf_printf(o, "NIL");
            return hl;
        }
        if ((size_t)v + 2 > n - hl)
            return 0;
        ldb_repr_str(o, p + hl, (size_t)v);
        return hl + (size_t)v + 2;
    case '*': case '~': case '%': case '>': {
        if (v < 0) {
            buf_printf(o, "NIL");
            return hl;
        }
        int map = p[0] == '%';
        buf_printf(o, "%s", p[0] == '~' ? "~(" : map ? "{" : "[");
        size_t used = hl;
        for (long long j = 0; j < v; j++) {
            size_t k = human(o, p + used, n - used, depth + 1);
            if (!k)
                return 0;
            used += k;
            if (map) {
                buf_append(o, " => ", 4);
                if (!(k = human(o, p + used, n - used, depth + 1)))
                    return 0;
                used += k;
            }
            if (j != v - 1)
                buf_putc(o, ',');
        }
        buf_printf(o, "%s", p[0] == '~' ? ")" : map ? "}" : "]");
        return used;
    }
    default:
        return 0;
    }
}

void ldb_log_reply(const char *resp, size_t len)
{
    if (!tracing())
        return;
    buf_t b = {0};
    buf_printf(&b, "<reply> ");
    human(&b, resp, len, 0);
    ldb_log_max(ldb_cur, &b);
    buf_free(&b);
    ldb_cur->replied = 1;
}

int ldb_lua_breakpoint(lua_State *L)
{
    ldb_t *d = ldb_cur;
    int on = d && !d->gone;
    if (on)
        d->luabp = 1;
    lua_pushboolean(L, on);
    return 1;
}

int ldb_lua_debug(lua_State *L)
{
    ldb_t *d = ldb_cur;
    if (!d || d->gone)
        return 0;
    lua_Debug ar;
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        line = ar.currentline;
    buf_t b = {0};
    buf_printf(&b, "<debug> line %d: ", line);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        ldb_repr(L, i, &b, 0);
        if (i != n)
            buf_append(&b, ", ", 2);
    }
    ldb_log_max(d, &b);
    buf_free(&b);
    return 0;
}

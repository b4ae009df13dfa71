/* script_ldb — the Lua debugger behind SCRIPT DEBUG SYNC (redis-cli
 * --ldb-sync-mode), speaking Redis 7.0's LDB protocol: the EVAL stops before
 * its first line; each stop sends an array of status lines ("* Stopped at
 * N, stop reason = ...", "-> N   code", "<value> ...") and reads one
 * debugger command (a RESP array) from the client's socket; the session
 * ends with "<endsession>", the EVAL's reply, and the connection closed.
 *
 * The session runs inside the EVAL's handler on the worker owning the
 * client (client_ldb.c), holding the script's partitions: that worker serves
 * only the session, and answers its other clients BUSY while it waits for
 * input, as a busy script does (engine_check_interrupt); other workers keep
 * serving everything else. Changes the script makes are kept (SYNC).
 *
 * SCRIPT DEBUG YES (redis-cli --ldb) runs the same session in a forked
 * child (ldb_fork, client_ldb.c): the EVAL holds every partition, forks, and
 * the parent hands the client over and goes on; the child runs the session
 * on its copy of the data, writes the reply and exits, so the script's
 * changes are rolled back. The child serves no BUSY (it has no loop).
 *
 * Threads: everything here runs on the worker executing the debugged EVAL;
 * the session state is per thread. The line hook and the commands are in
 * script_ldb_cmd.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "forksafe.h"
#include "script_internal.h"
#include "script_ldb.h"

_Thread_local ldb_t *ldb_cur;
const script_ldb_io_t *ldb_io;

void script_set_ldb_io(const script_ldb_io_t *io) { ldb_io = io; }

/* ---- logs ------------------------------------------------------------------ */

/* One status line of the next reply; CR/LF would break the line. */
void ldb_log_n(ldb_t *d, const char *s, size_t n)
{
    if (d->logs.len > LDB_MAX_LOGS)
        return; /* bounded: a reply past this is cut */
    buf_putc(&d->logs, '+');
    size_t at = d->logs.len;
    buf_append(&d->logs, s, n);
    for (size_t i = at; i < d->logs.len; i++)
        if (d->logs.data[i] == '\r' || d->logs.data[i] == '\n')
            d->logs.data[i] = ' ';
    buf_append(&d->logs, "\r\n", 2);
    d->nlogs++;
}

void ldb_log(ldb_t *d, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ldb_log_n(d, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A line cut at maxlen bytes (0: unlimited) with " ..." after, as Redis's
 * ldbLogWithMaxLen; the first cut also tells how to see more. */
void ldb_log_max(ldb_t *d, buf_t *line)
{
    int cut = d->maxlen && line->len > d->maxlen;
    if (cut) {
        line->len = d->maxlen;
        buf_append(line, " ...", 4);
    }
    ldb_log_n(d, line->data, line->len);
    if (cut && !d->maxlen_hinted) {
        d->maxlen_hinted = 1;
        ldb_log(d, "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
    }
}

int ldb_send_logs(ldb_t *d)
{
    if (d->gone) {
        d->logs.len = 0;
        d->nlogs = 0;
        return -1;
    }
    buf_t out = {0};
    buf_printf(&out, "*%d\r\n", d->nlogs);
    buf_append(&out, d->logs.data, d->logs.len);
    d->logs.len = 0;
    d->nlogs = 0;
    int rc = ldb_io->send(d->cl, out.data, out.len);
    buf_free(&out);
    if (rc != 0)
        d->gone = 1;
    return rc;
}

/* ---- source ---------------------------------------------------------------- */

static void split_lines(ldb_t *d, const char *body, size_t len)
{
    d->src = xmalloc(len + 1);
    memcpy(d->src, body, len);
    d->src[len] = 0;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += body[i] == '\n';
    d->line = xmalloc(n * sizeof *d->line);
    d->linelen = xmalloc(n * sizeof *d->linelen);
    d->nlines = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || body[i] == '\n') {
            if (i == len && start == len && d->nlines > 0)
                break; /* a final newline opens no line */
            d->line[d->nlines] = d->src + start;
            d->linelen[d->nlines++] = (int)(i - start);
            start = i + 1;
        }
}

int ldb_is_break(ldb_t *d, int line)
{
    for (int i = 0; i < d->nbp; i++)
        if (d->bp[i] == line)
            return 1;
    return 0;
}

void ldb_log_source_line(ldb_t *d, int line)
{
    const char *code = "<out of range source code line>";
    int len = (int)strlen(code);
    if (line >= 1 && line <= d->nlines) {
        code = d->line[line - 1];
        len = d->linelen[line - 1];
    }
    int bp = ldb_is_break(d, line), cur = line == d->current;
    const char *prefix = bp ? (cur ? "->#" : "  #") : cur ? "-> " : "   ";
    buf_t b = {0};
    buf_printf(&b, "%s%-3d %.*s", prefix, line, len, code);
    ldb_log_n(d, b.data, b.len);
    buf_free(&b);
}

/* ---- values ---------------------------------------------------------------- */

/* A quoted, escaped string, as Redis's sdscatrepr. */
void ldb_repr_str(buf_t *o, const char *s, size_t n)
{
    buf_putc(o, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '\\': case '"': buf_putc(o, '\\'); buf_putc(o, (char)ch); break;
        case '\n': buf_append(o, "\\n", 2); break;
        case '\r': buf_append(o, "\\r", 2); break;
        case '\t': buf_append(o, "\\t", 2); break;
        case '\a': buf_append(o, "\\a", 2); break;
        case '\b': buf_append(o, "\\b", 2); break;
        default:
            if (isprint(ch))
                buf_putc(o, (char)ch);
            else
                buf_printf(o, "\\x%02x", ch);
        }
    }
    buf_putc(o, '"');
}

/* The value at idx as Redis's debugger shows it: tables as {1; 2} when
 * they are sequences, {["k"]=v; ...} otherwise. depth bounds recursion
 * (a table holding itself). */
void ldb_repr(lua_State *L, int idx, buf_t *o, int depth)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        ldb_repr_str(o, s, n);
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            buf_printf(o, "%lld", (long long)lua_tointeger(L, idx));
        else
            buf_printf(o, "%.14g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN: buf_printf(o, "%s", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNIL: buf_printf(o, "nil"); break;
    case LUA_TTABLE: {
        if (depth > 16 || !lua_checkstack(L, 4)) {
            buf_printf(o, "{...}");
            break;
        }
        buf_t arr = {0}, map = {0};
        long long expect = 1;
        int is_array = 1;
        buf_putc(&arr, '{');
        buf_putc(&map, '{');
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (is_array && lua_isinteger(L, -2) && lua_tointeger(L, -2) == expect)
                expect++;
            else
                is_array = 0;
            buf_putc(&map, '[');
            ldb_repr(L, -2, &map, depth + 1);
            buf_append(&map, "]=", 2);
            ldb_repr(L, -1, &map, depth + 1);
            buf_append(&map, "; ", 2);
            ldb_repr(L, -1, &arr, depth + 1);
            buf_append(&arr, "; ", 2);
            lua_pop(L, 1);
        }
        buf_t *use = is_array ? &arr : &map;
        if (use->len > 1)
            use->len -= 2; /* the last "; " */
        buf_putc(use, '}');
        buf_append(o, use->data, use->len);
        buf_free(&arr);
        buf_free(&map);
        break;
    }
    default:
        buf_printf(o, "\"%s@%p\"", luaL_typename(L, idx), lua_topointer(L, idx));
    }
}

/* ---- the session ----------------------------------------------------------- */

int ldb_wanted(cmd_ctx_t *c)
{
    return ldb_io && c->cl && c->may_block && ldb_io->mode(c->cl) != LDB_MODE_NO;
}

int ldb_fork(cmd_ctx_t *c)
{
    if (ldb_io->mode(c->cl) != LDB_MODE_YES)
        return 0;
    char err[256];
    int rc = ldb_io->fork(c->cl, err, sizeof err);
    if (rc < 0) { /* the client stays, out of debugging mode (Redis's ldbDisable) */
        ldb_io->set_mode(c->cl, LDB_MODE_NO);
        reply_error(c->r, err);
    }
    return rc;
}

void ldb_begin(cmd_ctx_t *c, sv_t body)
{
    ldb_t *d = xcalloc(1, sizeof *d);
    d->cl = c->cl;
    d->step = 1;
    d->maxlen = LDB_DEFAULT_MAXLEN;
    d->out = c->r->out;
    d->reply_at = c->r->out->len;
    split_lines(d, body.p, body.len);
    ldb_cur = d;
}

void ldb_finish(void)
{
    ldb_t *d = ldb_cur;
    if (!d || d->ended)
        return;
    d->ended = 1;
    ldb_log(d, "<endsession>");
    /* An EVAL that failed before running (a compile error) has its reply
     * queued already: <endsession> goes before it. */
    buf_t tail = {0};
    if (d->out->len > d->reply_at) {
        buf_append(&tail, d->out->data + d->reply_at, d->out->len - d->reply_at);
        d->out->len = d->reply_at;
    }
    ldb_send_logs(d);
    if (tail.len)
        buf_append(d->out, tail.data, tail.len);
    buf_free(&tail);
}

void ldb_end(void)
{
    ldb_t *d = ldb_cur;
    if (!d)
        return;
    ldb_finish();
    /* A forked session's child writes the EVAL's reply itself, then exits
     * (end does not return there): no loop will write it. */
    if (forksafe_in_child() && d->out->len > d->reply_at)
        ldb_io->send(d->cl, d->out->data + d->reply_at, d->out->len - d->reply_at);
    ldb_io->end(d->cl);
    ldb_cur = NULL;
    buf_free(&d->logs);
    free(d->cbuf);
    free(d->argv);
    free(d->src);
    free(d->line);
    free(d->linelen);
    free(d);
}

/* ---- SCRIPT DEBUG ------------------------------------------------------------ */

/* SCRIPT DEBUG YES|SYNC|NO */
void script_debug_command(cmd_ctx_t *c)
{
    if (!c->cl || !c->may_block) {
        reply_error(c->r, "ERR SCRIPT DEBUG must be called outside a pipeline");
        return;
    }
    sv_t m = c->argv[2];
    if (sv_eq_ci(m, "no")) {
        if (ldb_io)
            ldb_io->set_mode(c->cl, LDB_MODE_NO);
        reply_ok(c->r);
    } else if (sv_eq_ci(m, "yes") || sv_eq_ci(m, "sync")) {
        if (!ldb_io) {
            reply_error(c->r, "ERR SCRIPT DEBUG is not available");
            return;
        }
        ldb_io->set_mode(c->cl, sv_eq_ci(m, "yes") ? LDB_MODE_YES : LDB_MODE_SYNC);
        reply_ok(c->r);
    } else {
        reply_error(c->r, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
}

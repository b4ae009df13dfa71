/* script_ldb — the Lua debugger's session state and its internal calls
 * (script_ldb.c: session, logs, values, hook; script_ldb_cmd.c: the
 * debugger's commands). All on the worker running the debugged EVAL. */
#ifndef PERCORE_SCRIPT_LDB_H
#define PERCORE_SCRIPT_LDB_H

#include <lua.h>

#include "buf.h"
#include "command.h"
#include "script.h"

#define LDB_BREAKPOINTS_MAX 64
#define LDB_DEFAULT_MAXLEN 256
#define LDB_MAX_INPUT (1u << 20)  /* an unread debugger command: Redis's bound */
#define LDB_MAX_ARGS 1024         /* arguments of one debugger command */
#define LDB_MAX_LOGS (4u << 20)   /* one reply's lines; past it lines are dropped */

typedef struct ldb {
    struct client *cl;
    char *src;                /* the script's body, split into lines */
    const char **line;
    int *linelen;
    int nlines;
    int current;              /* the line the script stopped at */
    int bp[LDB_BREAKPOINTS_MAX], nbp;
    int step;                 /* stop at the next line */
    int luabp;                /* redis.breakpoint() called */
    int gone;                 /* the client went away: run on, no stops */
    int ended;                /* <endsession> sent */
    buf_t *out;               /* the EVAL's reply buffer, and where its reply starts */
    size_t reply_at;
    int in_redis;             /* running the debugger's redis command */
    int replied;              /* its <reply> was logged */
    size_t maxlen;
    int maxlen_hinted;
    buf_t logs;               /* the next reply's status lines, as RESP */
    int nlogs;
    char *cbuf;               /* debugger input not yet parsed */
    size_t clen, ccap;
    sv_t *argv;               /* the command being run */
} ldb_t;

/* The connection layer's hooks (script_set_ldb_io). */
extern const script_ldb_io_t *ldb_io;
/* The session on this thread, NULL when none. */
extern _Thread_local ldb_t *ldb_cur;

/* script_eval's steps: is a SYNC session wanted for this EVAL (the client's
 * own command, SCRIPT DEBUG SYNC set)? begin it; install the line hook
 * (run(), in place of the engine's); send <endsession> before the EVAL's
 * reply (finish); end it: the connection closes after the reply. */
int ldb_wanted(cmd_ctx_t *c);
/* SCRIPT DEBUG YES: fork (client_ldb.c); 0 to run the session here (SYNC,
 * or the child), 1 in the parent, -1 refused (the error is replied). */
int ldb_fork(cmd_ctx_t *c);
void ldb_begin(cmd_ctx_t *c, sv_t body);
void ldb_install_hook(lua_State *L);
void ldb_finish(void);
void ldb_end(void);

void ldb_log(ldb_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ldb_log_n(ldb_t *d, const char *s, size_t n);
void ldb_log_max(ldb_t *d, buf_t *line);
int ldb_send_logs(ldb_t *d);
int ldb_is_break(ldb_t *d, int line);
void ldb_log_source_line(ldb_t *d, int line);
void ldb_repr_str(buf_t *o, const char *s, size_t n);
void ldb_repr(lua_State *L, int idx, buf_t *o, int depth);

/* script_ldb_cmd.c: read and run debugger commands until one resumes the
 * script; -1 when the client went away (the script then runs to its end
 * without stopping, as Redis's). Raises the script's error on abort. */
int ldb_repl(lua_State *L, ldb_t *d);
/* redis.call's trace while stepping: "<redis> cmd args" and "<reply> ...". */
void ldb_log_call(int argc, const sv_t *argv);
void ldb_log_reply(const char *resp, size_t len);
/* redis.breakpoint() and redis.debug(...) */
int ldb_lua_breakpoint(lua_State *L);
int ldb_lua_debug(lua_State *L);

#endif

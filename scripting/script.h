/* script — the Lua 5.4 engine behind EVAL: one lua_State per worker, created
 * lazily by that worker's thread and touched by no other; a script cache
 * (SHA1 -> body) shared by every worker, each compiling a script into its own
 * state the first time it runs there; the redis.* bridge; Redis's Lua <-> RESP
 * conversion rules; the sandbox; and the memory and time limits.
 *
 * A script runs inside its EVAL's command handler, so it holds exactly the
 * partitions its task holds (c->parts): its declared KEYS', or every
 * partition when allow-undeclared-keys is on (see script_keys in cmd_script.c).
 *
 * Threads: the functions taking a cmd_ctx_t run on the worker executing the
 * command; the others say which thread may call them. */
#ifndef PERCORE_SCRIPT_H
#define PERCORE_SCRIPT_H

#include <stdint.h>

#include "buf.h"
#include "command.h"

/* The command rows of EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
 * (server/cmd_script.c), for the group list in all_commands.c. */
extern const command_t cmds_script[];

/* Main thread, before the workers start / after they stopped. setup is
 * optional (everything is also set up on first use) but keeps the first
 * script of each worker from paying for the library's one-time init;
 * teardown closes every worker's Lua state and empties the cache. */
void script_setup(void);
void script_teardown(void);

/* ---- the commands (on the worker executing the command) ----------------- */

/* EVAL script numkeys key... arg... / EVALSHA sha1 numkeys ... (is_sha),
 * and the _RO variants (ro). Replies the script's result or error. */
void script_eval(cmd_ctx_t *c, int is_sha, int ro);

/* SCRIPT LOAD body: compile (replying the compile error if any), cache, and
 * reply the SHA1. */
void script_load(cmd_ctx_t *c, sv_t body);
/* 1 when a script with this SHA1 (40 hex digits, any case) is cached. Any thread. */
int script_exists(sv_t sha);
/* Empty the cache; every worker drops its compiled scripts (and its Lua
 * state) before it runs its next script. Any thread. */
void script_flush(void);
/* 1 when EVAL's body (or the cached script of EVALSHA's SHA1: is_sha)
 * declares flags=no-writes in its shebang. Any thread. */
int script_declares_no_writes(sv_t body_or_sha, int is_sha);
/* SCRIPT KILL / FUNCTION KILL: stop the busy scripts (EVAL), or functions
 * (FCALL), that have not written. Replies OK, NOTBUSY or UNKILLABLE exactly
 * as Redis does, or BUSY when only the other kind is busy. Any worker. */
void script_kill(reply_t *r);
void function_kill(reply_t *r);

/* ---- functions (Redis 7.0's FUNCTION and FCALL) -------------------------- */

/* The rows of FUNCTION, FCALL and FCALL_RO (server/cmd_function.c). */
extern const command_t cmds_function[];

/* Bound on what the libraries take in all (code, names, descriptions, and
 * a little per library and function): a LOAD or restore past it is refused.
 * Each worker compiles the libraries it calls into its own Lua state, a few
 * times their code's size. */
#define FUNC_MAX_BYTES (16 * 1024 * 1024)

/* FCALL function numkeys key... arg... (FCALL_RO: ro). On the worker
 * executing the command, holding the keys' partitions as EVAL does. */
void script_fcall(cmd_ctx_t *c, int ro);
/* FUNCTION LOAD [REPLACE] code: run the library's code (in the calling
 * thread's Lua state), then register it; replies its name or the error. */
void function_load(cmd_ctx_t *c, sv_t code, int replace);
/* FUNCTION DELETE: 1 when the library existed. Any thread. */
int function_delete(sv_t name);
/* FUNCTION FLUSH. Any thread. */
void function_flush(void);
/* FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: libraries in load order. */
void function_list(reply_t *r, sv_t pattern, int has_pattern, int withcode);
/* 1 when FCALL's function is flagged no-writes (CLIENT PAUSE WRITE lets
 * it run, as Redis 7.0); 0 for an unknown one. Any thread. */
int function_declares_no_writes(sv_t name);
/* INFO memory's number_of_functions and used_memory_functions (what the
 * libraries count against FUNC_MAX_BYTES). Any thread. */
void function_info_memory(buf_t *out);
/* FUNCTION STATS. Any thread. */
void function_stats(reply_t *r);

/* For FUNCTION DUMP / RESTORE (the payload format is the caller's):
 * function_each_code calls fn with each library's whole code, in load order,
 * stopping at the first non-zero return (returned). It holds the registry's
 * read lock: fn must not call the function_* calls. Any thread.
 * function_restore loads n library codes at once under a policy: every code
 * is checked first (parsed and run as FUNCTION LOAD does, in the calling
 * thread's Lua state), then all are registered or none: APPEND refuses a
 * library name already loaded ("ERR Library 'x' already exists"), REPLACE
 * replaces it, FLUSH drops every library first; a function name another
 * library keeps refuses the whole set. 0, or -1 with Redis's error text
 * ("ERR ...") in err. On a worker (or a thread outside the workers). */
enum { FUNC_POLICY_APPEND = 0, FUNC_POLICY_REPLACE = 1, FUNC_POLICY_FLUSH = 2 };
typedef int function_code_fn(void *arg, const char *code, size_t len);
int function_each_code(function_code_fn *fn, void *arg);
int function_restore(const sv_t *codes, int n, int policy, char *err, size_t errlen);

/* ---- for the core --------------------------------------------------------- */

/* 1 while worker w runs a script that has been running longer than
 * busy-reply-threshold (lua-time-limit) ms: commands for the partitions it
 * holds should be answered with ERR_BUSY (command.h) (only SCRIPT KILL and
 * SHUTDOWN NOSAVE are served). Any thread; relaxed reads. */
int script_busy(int worker);
/* The BUSY error for a command refused because of a busy script: Redis's
 * text names FUNCTION KILL when the busy one is a function. Any thread. */
const char *script_busy_error(void);
/* 1 while worker w is inside a script at all (busy or not). Any thread. */
int script_running(int worker);

/* A function the engine calls on the script's own thread, from the Lua
 * instruction hook, about once a millisecond while that script is busy: the
 * core's chance to serve the blocked loop (Redis's processEventsWhileBlocked):
 * answer other clients BUSY, run SCRIPT KILL / SHUTDOWN NOSAVE. It must not
 * run a script or a command touching partitions. NULL (the default) = none.
 * Set once at startup. */
typedef void script_busy_fn(int worker);
void script_set_busy_callback(script_busy_fn *fn);

/* INFO lines, each "name:value\r\n". Any thread.
 * script_info_memory: used_memory_lua (all workers' Lua states),
 *   used_memory_scripts (cached bodies), number_of_cached_scripts — Redis
 *   shows these in INFO memory (its tests look for them there);
 * script_info_stats: scripts run per path — scripts_single_partition (the
 *   task held one partition), scripts_multi_partition, scripts_global (every
 *   partition: allow-undeclared-keys), scripts_keyless (no KEYS, no
 *   partition), scripts_killed (by SCRIPT KILL) — for INFO stats/scheduler;
 * script_info: both. */
void script_info_memory(buf_t *out);
void script_info_stats(buf_t *out);
void script_info(buf_t *out);
/* Bytes used by all workers' Lua states. Any thread. */
uint64_t script_lua_memory(void);

/* ---- the Lua debugger (SCRIPT DEBUG; scripting/script_ldb.c) ------------- */

/* A client's debugging mode, set by SCRIPT DEBUG for its next EVAL. */
enum { LDB_MODE_NO = 0, LDB_MODE_YES = 1, LDB_MODE_SYNC = 2 };

/* What the debugger needs from the connection layer, on the worker running
 * the debugged EVAL (which owns the client then: see client_ldb.c). Set once
 * at startup; NULL = no debugging (SCRIPT DEBUG answers an error).
 *   mode / set_mode: the client's SCRIPT DEBUG mode;
 *   send: write these bytes now, after the client's pending output (blocks
 *     up to a few seconds); -1 when the client is gone;
 *   recv: read what arrived, waiting up to timeout_ms: bytes read, 0 none
 *     yet, -1 when the client closed the connection;
 *   end: the session is over: close the connection after the EVAL's reply
 *     (a forked session's child: exit);
 *   fork: SCRIPT DEBUG YES's session starts: fork, the child takes the
 *     client over. 0 in the child, 1 in the parent (which has handed the
 *     client to the child: no reply), -1 refused with err (an error reply).
 *     Called by the EVAL's handler, holding every partition. */
typedef struct script_ldb_io {
    int (*mode)(struct client *cl);
    void (*set_mode)(struct client *cl, int mode);
    int (*send)(struct client *cl, const char *p, size_t n);
    long (*recv)(struct client *cl, char *p, size_t cap, int timeout_ms);
    void (*end)(struct client *cl);
    int (*fork)(struct client *cl, char *err, size_t errlen);
} script_ldb_io_t;
void script_set_ldb_io(const script_ldb_io_t *io);
/* SCRIPT DEBUG YES|SYNC|NO, on the client's home worker (CMD_HOME). */
void script_debug_command(cmd_ctx_t *c);

#endif

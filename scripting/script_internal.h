/* script_internal — what the scripting/ files share; not for the core.
 * Everything here runs on the thread owning the lua_State. */
#ifndef PERCORE_SCRIPT_INTERNAL_H
#define PERCORE_SCRIPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "command.h"
#include "resp.h"

/* Deepest nesting converted between Lua and RESP; deeper is an error
 * ("reached lua stack limit"), so a self-referencing table cannot exhaust
 * the C stack. */
#define SCRIPT_MAX_DEPTH 1000

/* One running script (EVAL or EVALSHA). */
typedef struct script_run {
    cmd_ctx_t *c;      /* the EVAL's context: partitions held, db, reply */
    char sha[41];
    int ro;            /* EVAL_RO, EVALSHA_RO or a no-writes shebang */
    int allow_oom;     /* shebang flag allow-oom */
    int resp;          /* redis.setresp(): protocol of the replies the script sees */
    int db;            /* SELECT inside the script changes this only */
    int numkeys;
    const sv_t *keys;  /* the declared KEYS */
    int all_parts;     /* the task holds every partition */
    int keyset_ready, partmap_ready;
    uint64_t calls;    /* redis.call/pcall made (stats) */
} script_run_t;

/* A worker's Lua state and its scratch space. */
typedef struct lstate {
    lua_State *L;
    int slot;
    size_t mem;            /* bytes allocated by the state */
    size_t limit;          /* memory-limit while limit_on; 0 = none */
    int limit_on;          /* enforced only while a script runs */
    uint64_t gen;          /* cache generation the compiled scripts belong to */
    script_run_t *run;     /* the running script, NULL when idle */
    int killed;            /* the hook raised the kill error once */
    uint64_t start_us, last_busy_call_us;
    buf_t reply;           /* a redis.call's reply, as RESP */
    buf_t nums;            /* number arguments of a redis.call, as text */
    sv_t *argv;
    size_t argv_cap;
    uint32_t *keyset;      /* open addressing over run->keys: index + 1, 0 empty */
    size_t keyset_cap;
    unsigned char *partmap; /* held partitions, one bit each */
    size_t partmap_cap;
} lstate_t;

static inline lstate_t *lstate_of(lua_State *L) { return *(lstate_t **)lua_getextraspace(L); }

/* ---- script_conv.c: Lua <-> RESP ------------------------------------------ */

/* Write the value on top of the stack as a reply (Redis's Lua-to-RESP rules;
 * script_resp is the script's redis.setresp() version) and pop it. Reads
 * only: never calls a metamethod, never converts a value in place. */
void conv_lua_to_reply(lua_State *L, reply_t *r, int script_resp);

/* Parse one RESP2/RESP3 reply from p[0..n) and push it as a Lua value
 * (Redis's RESP-to-Lua rules). Returns the bytes used, 0 when the input is
 * malformed or truncated (then nothing was pushed). May raise a Lua memory
 * error. */
size_t conv_reply_to_lua(lua_State *L, const char *p, size_t n);

/* Push the error table {err = "<CODE> <msg>"} as Redis builds it from a
 * message: "-CODE msg" keeps its code, anything else gets "ERR ". */
void conv_push_error(lua_State *L, const char *s, size_t n);

/* A Lua number as a command argument: integers in decimal, floats in the
 * shortest form that reads back the same ("%.17g" at most). Returns the
 * length written to dst (>= 32 bytes). */
int conv_number_arg(lua_State *L, int idx, char *dst);

/* ---- script_redis.c: the redis table ---------------------------------------- */

/* Push a new table with redis.* (call, pcall, log, setresp, ...). */
void redislib_push(lua_State *L);
/* Raise the error table built by conv_push_error(msg). Never returns. */
int script_raise(lua_State *L, const char *msg);

/* ---- script_sandbox.c ------------------------------------------------------- */

/* Open the libraries scripts may use into a fresh state, the Lua 5.1 names,
 * bit and cjson, redis (from redislib_push), then make the globals and every
 * library read-only. Runs unprotected at state creation (no memory limit). */
void sandbox_open(lua_State *L);
/* Set a global behind the read-only globals table (KEYS, ARGV): pops the
 * value on top of the stack. */
void sandbox_set_global(lua_State *L, const char *name);
/* The globals table scripts see (for the _ENV of compiled chunks). */
void sandbox_push_env(lua_State *L);

/* ---- script_bit.c ----------------------------------------------------------- */

/* Push the LuaBitOp-compatible bit table. */
void bitlib_push(lua_State *L);

/* ---- script_engine.c -------------------------------------------------------- */

/* The kill check a write makes before it runs: marks the script as having
 * written (SCRIPT KILL then answers UNKILLABLE); returns -1 when it was
 * killed first (the caller raises the kill error). */
int engine_mark_write(lstate_t *ls);
/* Raise the "Script killed by user" error. Never returns. */
int engine_raise_killed(lua_State *L);

#endif

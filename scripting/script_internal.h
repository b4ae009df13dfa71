/* script_internal — what the scripting/ files share; not for the core.
 * Everything here runs on the thread owning the lua_State. */
#ifndef PERCORE_SCRIPT_INTERNAL_H
#define PERCORE_SCRIPT_INTERNAL_H

#include <pthread.h>
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
    int wrote;         /* a write command ran: no more OOM refusals (as Redis,
                          a script is not stopped halfway through its writes) */
    int keyset_ready, partmap_ready;
    uint64_t calls;    /* redis.call/pcall made (stats) */
    const char *fname; /* FCALL: the function's name (errors say it, not sha) */
} script_run_t;

/* A worker's Lua state and its scratch space. */
/* EVAL bodies seen lately and their SHA1, so a repeated EVAL costs an xxh3 hash
 * and a memcmp rather than a SHA1 (about 1 µs of a 300-byte body). */
#define SHA_MEMO_SLOTS 16
#define SHA_MEMO_MAX_BODY 4096
typedef struct sha_memo {
    uint64_t hash;
    char *body; /* a copy; NULL when the slot is empty */
    size_t len;
    char sha[41];
} sha_memo_t;

typedef struct lstate {
    lua_State *L;
    sha_memo_t memo[SHA_MEMO_SLOTS];
    int slot;
    size_t mem;            /* bytes allocated by the state */
    size_t charged;        /* bytes a C library holds outside the state for the
                              script (engine_charge): they count against the limit */
    size_t limit;          /* memory-limit while limit_on; 0 = none */
    size_t limit_base;     /* mem when the script started: it may add limit */
    int limit_on;          /* enforced only while a script runs */
    uint64_t gen;          /* cache generation the compiled scripts belong to */
    script_run_t *run;     /* the running script, NULL when idle */
    int killed;            /* the hook raised the kill error once */
    int cjson_dirty;       /* a script changed a cjson setting: reset before the next */
    int refuse;            /* growths to refuse: engine_raise_nomem's probe */
    uint64_t load_deadline_us; /* running a library's code (FUNCTION LOAD):
                              past this the hook stops it; 0 otherwise */
    void *loading;         /* the library being loaded (script_func_load.c) */
    uint64_t fn_version;   /* function registry version the state has seen */
    uint64_t start_us, last_busy_call_us;
    buf_t reply;           /* a redis.call's reply, as RESP */
    buf_t nums;            /* number arguments of a redis.call, as text */
    buf_t err;             /* a refused redis.call's error text */
    sv_t *argv;
    size_t argv_cap;
    uint32_t *keyset;      /* open addressing over run->keys: index + 1, 0 empty */
    size_t keyset_cap;
    unsigned char *partmap; /* held partitions, one bit each */
    size_t partmap_cap;
} lstate_t;

static inline lstate_t *lstate_of(lua_State *L) { return *(lstate_t **)lua_getextraspace(L); }

/* ---- script_error.c: error tables ------------------------------------------ */

/* Push the error table {err = "<CODE> <msg>"} as Redis builds it from a
 * message: "-CODE msg" keeps its code, anything else gets "ERR ". */
void conv_push_error(lua_State *L, const char *s, size_t n);

/* Raise the error table built by conv_push_error(msg). Never returns. */
int script_raise(lua_State *L, const char *msg);

/* ---- script_conv.c: Lua <-> RESP ------------------------------------------ */

/* The field, true, of an error table whose error was counted already (in
 * INFO's total_error_replies and the command's stats) when a command inside
 * the script replied it or a call was refused: written as the script's
 * reply, it does not count again. Redis 7.0's name for it, so a script sees
 * the same table. */
#define CONV_COUNTED_FIELD "ignore_error_stats_update"

/* Write the value on top of the stack as a reply (Redis's Lua-to-RESP rules;
 * script_resp is the script's redis.setresp() version) and pop it. Reads
 * only: never calls a metamethod, never converts a value in place. Errors
 * written add to r->errors, except those from CONV_COUNTED_FIELD tables: the
 * return value is how many of those were written. Nesting deeper than
 * SCRIPT_MAX_DEPTH becomes the error "reached lua stack limit" in place (as
 * Redis). A reply that would take more than max_bytes (0: no bound) is not
 * written: r is left as it was and -1 returned. Calls
 * engine_check_interrupt every few thousand values (it may raise: the
 * caller then drops the partial reply). */
int conv_lua_to_reply(lua_State *L, reply_t *r, int script_resp, size_t max_bytes);

/* Parse one RESP2/RESP3 reply from p[0..n) and push it as a Lua value
 * (Redis's RESP-to-Lua rules; its error tables have CONV_COUNTED_FIELD set).
 * Returns the bytes used, 0 when the input is malformed or truncated (then
 * nothing was pushed). May raise a Lua memory error. */
size_t conv_reply_to_lua(lua_State *L, const char *p, size_t n);

/* A Lua number as a command argument: integers in decimal, floats with
 * "%.17g" as Redis 7.0 does. Returns the length written to dst (>= 32 bytes). */
int conv_number_arg(lua_State *L, int idx, char *dst);

/* ---- script_redis.c: the redis table ---------------------------------------- */

/* Push a new table with redis.* (call, pcall, log, setresp, ...). */
void redislib_push(lua_State *L);

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
/* FUNCTION LOAD's globals: only `redis`, holding lib (register_function,
 * log) and the LOG_* and version constants; both read-only. Pushed. */
void sandbox_push_load_env(lua_State *L, const luaL_Reg *lib);

/* ---- script_cjson.c: lua-cjson, bounded -------------------------------------- */

/* Deepest nesting cjson.encode_max_depth / decode_max_depth accept: larger
 * settings are clamped to it. lua-cjson recurses in C, about 100 bytes of
 * stack a level (measured: 10000 levels fit a 1 MB thread stack, 20000 do
 * not); a worker's stack is 8 MB, and the Lua-to-RESP conversion stops at
 * the same depth anyway. Past it cjson's own error: "Found too many nested
 * data structures (1001) at character 1001", "Cannot serialise, excessive
 * nesting (1001)". */
#define CJSON_MAX_DEPTH SCRIPT_MAX_DEPTH

/* Open lua-cjson (when installed) as the global cjson, its settings
 * guarded and its encoder bounded by memory-limit. Sandbox setup only. */
void cjsonlib_open(lua_State *L);
/* Put every cjson setting back to lua-cjson's default (for the next script,
 * when ls->cjson_dirty). A lua_CFunction: run it protected. */
int cjsonlib_reset(lua_State *L);
/* Encodes whose output was longer than the bound their walk charged (0
 * unless lua-cjson writes differently than script_cjson.c expects; logged
 * once). Any thread. */
uint64_t cjsonlib_bound_misses(void);

/* ---- script_bit.c, script_msgpack.c ---------------------------------------- */

/* Push the LuaBitOp-compatible bit table. */
void bitlib_push(lua_State *L);
/* Push the lua-cmsgpack-compatible cmsgpack table. */
void msgpacklib_push(lua_State *L);

/* ---- script_pattern.c -------------------------------------------------------- */

/* Set find, match, gmatch and gsub in the table at idx to this file's
 * interruptible versions of Lua 5.4's (same results and error texts). */
void patternlib_install(lua_State *L, int idx);

/* ---- script_cache.c: the shared cache (any thread) --------------------------- */

/* Shebang flags (Redis 7.0's "#!lua flags=..."). */
enum {
    SF_SHEBANG = 1 << 0,
    SF_NO_WRITES = 1 << 1,
    SF_ALLOW_OOM = 1 << 2,
    SF_ALLOW_STALE = 1 << 3,
    SF_NO_CLUSTER = 1 << 4,
    SF_ALLOW_CROSS_SLOT = 1 << 5,
};

/* Add sha -> body unless present. */
void cache_add(const char *sha, const char *body, size_t len);
/* Copy the body of sha into out; 0 if it is not cached. */
int cache_get(const char *sha, buf_t *out);
/* Empty the cache and bump the generation. */
void cache_clear(void);
uint64_t cache_generation(void);
uint64_t cache_count(void);
uint64_t cache_bytes(void);
/* 40 hex digits of any case, lower-cased into out; -1 when s is not a SHA1. */
int cache_norm_sha(sv_t s, char out[41]);
/* The "#!lua [flags=f1,f2]" first line of a body: its SF_* flags and its
 * length (the chunk is the rest). 0, or -1 with Redis's error text in err. */
int cache_parse_shebang(const char *body, size_t len, int *flags, size_t *skip, char *err,
                        size_t errlen);

/* ---- script_result.c: the script's outcome as its reply ---------------------- */

/* The message handler of a script's pcall: the error becomes Redis's table
 * {err=, source=, line=} (the line of the script that raised it). */
int result_msgh(lua_State *L);
/* Reply the outcome of the script's pcall: st and, on top of the stack, its
 * result or error object, with result_msgh just below it. A result is
 * converted (script_conv.c) while the script still counts as running
 * (ls->run set), so SCRIPT KILL can stop a long conversion; it may take
 * memory-limit bytes more than the state's size. Returns how many errors
 * counted already were written (see CONV_COUNTED_FIELD). */
int result_reply(lstate_t *ls, int st, const char *sha, reply_t *r, int resp);

/* ---- script_mem.c: memory accounting ---------------------------------------- */

/* The allocator of every state (lua_newstate's, ud = the lstate_t). */
void *engine_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Memory a C library holds outside the Lua allocator for the running script
 * (cjson's buffers): engine_charge counts n bytes against memory-limit, as
 * if the script had allocated them, or raises Lua's memory error ("not
 * enough memory", LUA_ERRMEM) when they do not fit even after a full
 * collection; engine_uncharge gives them back (call it on every path,
 * errors included). Outside a script with a limit, only counted. */
void engine_charge(lua_State *L, size_t n);
void engine_uncharge(lua_State *L, size_t n);
/* The bytes the running script may still allocate; SIZE_MAX without a limit. */
size_t engine_budget(lua_State *L);
/* Raise Lua's memory error as the allocator does. Never returns. */
int engine_raise_nomem(lua_State *L);

/* ---- script_slots.c: what each worker publishes of its running script ------- */

#define MAX_SLOTS 257 /* workers (at most 256) + threads outside the workers */
#define HOOK_COUNT 10000 /* VM instructions between time/kill checks */

enum { RUN_IDLE = 0, RUN_CLEAN = 1, RUN_WROTE = 2, RUN_KILLED = 3 };

/* One per worker (slot = worker id; the last: threads outside the workers).
 * Other threads read only the atomics. */
typedef struct slot {
    _Atomic uint64_t run; /* seq << 2 | RUN_* */
    _Atomic uint64_t start_us;
    _Atomic uint64_t mem;
    _Atomic uint64_t n_single, n_multi, n_global, n_keyless, n_killed;
    _Atomic int func;   /* the running script is a function (FCALL) */
    pthread_mutex_t info_lock;
    buf_t info;         /* FUNCTION STATS' name and command of the running
                           function, as a reply fragment (info_lock) */
    lstate_t *ls; /* owner thread only */
} slot_t;

extern slot_t script_slots[MAX_SLOTS];

/* The instruction hook of a running script: engine_check_interrupt. */
void engine_hook(lua_State *L, lua_Debug *ar);

/* ---- script_engine.c: for the function files ---------------------------------- */

/* The calling thread's Lua state (new after SCRIPT FLUSH). */
lstate_t *engine_state(void);
/* Run the function at fidx with the nargs values above it as arguments,
 * replying its result or error to rn->c (EVAL's path: limits, hook, busy,
 * kill, reply conversion). Leaves the stack above fidx - 1 to the caller. */
void engine_run(lstate_t *ls, cmd_ctx_t *c, script_run_t *rn, int fidx, int nargs);

/* ---- script_slots.c: kill and interrupt checks -------------------------------------------------------- */

/* The kill check a write makes before it runs: marks the script as having
 * written (SCRIPT KILL then answers UNKILLABLE); returns -1 when it was
 * killed first (the caller raises the kill error). */
int engine_mark_write(lstate_t *ls);
/* Raise the "Script killed by user" error. Never returns. */
int engine_raise_killed(lua_State *L);
/* What the instruction hook does, for C code that runs long inside a script
 * (an encoder's loop, a pattern matcher): call it every few thousand steps.
 * Raises the kill error (lua_error: hold nothing malloc'd across the call)
 * after SCRIPT KILL or when the server shuts down; past
 * busy-reply-threshold, lets the worker answer other clients BUSY (about
 * once a millisecond). Does nothing outside a running script. */
void engine_check_interrupt(lua_State *L);

#endif

/* The engine: per-worker Lua states, the shared script cache, running a
 * script (limits, hook, errors).
 *
 * Threads. A worker's lua_State is created, used and replaced by that worker
 * only (slot = worker id; threads outside the workers, such as unit tests,
 * get a thread-local state). What other threads read of a slot is atomic:
 * its run word (sequence << 2 | state), start time, memory and counters
 * (script_slots.c, with SCRIPT KILL and the kill checks).
 *
 * The cache (script_cache.c) bumps a generation on SCRIPT FLUSH; a worker
 * whose state was built in an older generation throws the state away
 * before its next script. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "config.h"
#include "log.h"
#include "object.h"
#include "script.h"
#include "script_internal.h"
#include "script_ldb.h"
#include "sha1.h"
#include "store.h"
#include "worker.h"

static _Thread_local lstate_t *outside_ls; /* threads that are not workers */
static char scripts_key, flags_key; /* registry: sha -> function, sha -> flags */

/* ---- Lua states ------------------------------------------------------------ */

static int lstate_panic(lua_State *L)
{
    log_fatal("Lua panic outside a protected call: %s", lua_tostring(L, -1));
}

static int open_protected(lua_State *L)
{
    sandbox_open(L);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &scripts_key);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &flags_key);
    return 0;
}

static lstate_t *lstate_new(int slot)
{
    lstate_t *ls = xcalloc(1, sizeof *ls);
    ls->slot = slot;
    ls->gen = cache_generation();
    ls->L = lua_newstate(engine_alloc, ls);
    if (!ls->L)
        log_fatal("cannot create a Lua state: out of memory");
    lua_atpanic(ls->L, lstate_panic);
    *(lstate_t **)lua_getextraspace(ls->L) = ls;
    lua_pushcfunction(ls->L, open_protected);
    if (lua_pcall(ls->L, 0, 0, 0) != LUA_OK)
        log_fatal("cannot set up the Lua sandbox: %s", lua_tostring(ls->L, -1));
    lua_gc(ls->L, LUA_GCCOLLECT);
    atomic_store_explicit(&script_slots[slot].mem, ls->mem, memory_order_relaxed);
    return ls;
}

static void lstate_free(lstate_t *ls)
{
    if (!ls)
        return;
    lua_close(ls->L);
    buf_free(&ls->reply);
    buf_free(&ls->nums);
    buf_free(&ls->err);
    free(ls->argv);
    free(ls->keyset);
    free(ls->partmap);
    for (int i = 0; i < SHA_MEMO_SLOTS; i++)
        free(ls->memo[i].body);
    free(ls);
}

/* The SHA1 (hex) of an EVAL body, from the memo when this state saw it lately. */
static void body_sha(lstate_t *ls, sv_t body, char sha[41])
{
    uint64_t h = XXH3_64bits(body.p, body.len);
    sha_memo_t *m = &ls->memo[h % SHA_MEMO_SLOTS];
    if (m->body && m->hash == h && m->len == body.len && memcmp(m->body, body.p, body.len) == 0) {
        memcpy(sha, m->sha, 41);
        return;
    }
    sha1_hex(body.p, body.len, sha);
    if (body.len > SHA_MEMO_MAX_BODY)
        return;
    free(m->body);
    m->body = xmalloc(body.len ? body.len : 1);
    memcpy(m->body, body.p, body.len);
    m->len = body.len;
    m->hash = h;
    memcpy(m->sha, sha, 41);
}

static int self_slot(void)
{
    int w = worker_self();
    return w >= 0 && w < MAX_SLOTS - 1 ? w : MAX_SLOTS - 1;
}

/* The calling thread's state, new when the cache was flushed since. */
static lstate_t *lstate_get(void)
{
    int slot = self_slot();
    lstate_t **pls = slot == MAX_SLOTS - 1 ? &outside_ls : &script_slots[slot].ls;
    if (*pls && (*pls)->gen != cache_generation() && !(*pls)->run) {
        lstate_free(*pls);
        *pls = NULL;
    }
    if (!*pls)
        *pls = lstate_new(slot);
    return *pls;
}

/* ---- compiling ------------------------------------------------------------- */

/* Compile body into f_<sha> of this state. On success the function is on
 * top of the stack and *flags holds the shebang flags; on failure the
 * error is replied and -1 returned. */
static int compile(lstate_t *ls, const char *sha, const char *body, size_t len, int *flags,
                   reply_t *r)
{
    lua_State *L = ls->L;
    char err[256];
    size_t skip;
    if (cache_parse_shebang(body, len, flags, &skip, err, sizeof err) != 0) {
        reply_error(r, err);
        return -1;
    }
    ls->limit = config_get_u64(CFG_MEMORY_LIMIT);
    ls->limit_base = ls->mem;
    ls->limit_on = 1;
    int st = luaL_loadbufferx(L, body + skip, len - skip, "@user_script", "t");
    ls->limit_on = 0;
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        reply_errorf(r, "ERR Error compiling script (new function): %s", msg ? msg : "?");
        lua_pop(L, 1);
        return -1;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &scripts_key);
    lua_pushstring(L, sha);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &flags_key);
    lua_pushstring(L, sha);
    lua_pushinteger(L, *flags);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 0;
}

/* Push f_<sha> if this state compiled it already (with its flags). */
static int lookup_compiled(lstate_t *ls, const char *sha, int *flags)
{
    lua_State *L = ls->L;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &scripts_key);
    lua_pushstring(L, sha);
    if (lua_rawget(L, -2) != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return 0;
    }
    lua_remove(L, -2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &flags_key);
    lua_pushstring(L, sha);
    lua_rawget(L, -2);
    *flags = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    return 1;
}

void script_load(cmd_ctx_t *c, sv_t body)
{
    lstate_t *ls = lstate_get();
    if (ls->run) { /* from the busy callback: this state is in use */
        reply_error(c->r, script_busy_error());
        return;
    }
    char sha[41];
    int flags;
    sha1_hex(body.p, body.len, sha);
    if (!lookup_compiled(ls, sha, &flags)) {
        if (compile(ls, sha, body.p, body.len, &flags, c->r) != 0)
            return;
    }
    lua_pop(ls->L, 1);
    cache_add(sha, body.p, body.len);
    reply_bulk(c->r, sha, 40);
}

/* ---- running ---------------------------------------------------------------- */

static int reset_cjson(lua_State *L)
{
    lstate_of(L)->cjson_dirty = 0;
    return cjsonlib_reset(L);
}

/* Which path the task took, for INFO. */
static void count_path(slot_t *s, const cmd_ctx_t *c)
{
    if (c->nparts == 0)
        stat_add(&s->n_keyless, 1);
    else if (c->nparts == 1)
        stat_add(&s->n_single, 1);
    else if (c->nparts >= store_partitions())
        stat_add(&s->n_global, 1);
    else
        stat_add(&s->n_multi, 1);
}

/* KEYS and ARGV, fresh for every run (the script may change them). */
static void set_args(lua_State *L, const sv_t *v, int n, const char *name)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
    sandbox_set_global(L, name);
}

lstate_t *engine_state(void) { return lstate_get(); }

/* FUNCTION STATS' view of the running function: name and command, as a
 * reply fragment (the arguments shown up to 64 KB). */
static void publish_function(slot_t *s, const cmd_ctx_t *c, const char *name)
{
    pthread_mutex_lock(&s->info_lock);
    buf_t *b = &s->info;
    b->len = 0;
    reply_t r = {.out = b, .proto = 2};
    reply_bulk_cstr(&r, "name");
    reply_bulk_cstr(&r, name);
    reply_bulk_cstr(&r, "command");
    int n = 0;
    size_t bytes = 0;
    while (n < c->argc && bytes + c->argv[n].len <= 65536)
        bytes += c->argv[n++].len;
    reply_array(&r, n);
    for (int i = 0; i < n; i++)
        reply_bulk(&r, c->argv[i].p, c->argv[i].len);
    pthread_mutex_unlock(&s->info_lock);
}

void func_running_reply(reply_t *r)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        slot_t *s = &script_slots[i];
        if ((atomic_load(&s->run) & 3) == RUN_IDLE || !atomic_load(&s->func))
            continue;
        pthread_mutex_lock(&s->info_lock);
        int ok = s->info.len > 0 && (atomic_load(&s->run) & 3) != RUN_IDLE;
        if (ok) {
            reply_map(r, 3);
            /* name, its value, "command" and its array: RESP2 and RESP3
             * write these the same. */
            buf_append(r->out, s->info.data, s->info.len);
            reply_bulk_cstr(r, "duration_ms");
            reply_int(r, (long long)((mono_us() - atomic_load(&s->start_us)) / 1000));
        }
        pthread_mutex_unlock(&s->info_lock);
        if (ok)
            return;
    }
    reply_null(r);
}

static void run(lstate_t *ls, cmd_ctx_t *c, script_run_t *rn, int fidx, int nargs)
{
    lua_State *L = ls->L;
    slot_t *s = &script_slots[ls->slot];
    /* A chunk's _ENV is its first upvalue; put the sandbox back in case a
     * previous run assigned to _ENV. (A function's callback shares its
     * library chunk's _ENV, set once when the library is loaded.) */
    if (!rn->fname) {
        sandbox_push_env(L);
        if (!lua_setupvalue(L, fidx, 1))
            lua_pop(L, 1);
    }
    /* cjson settings a previous script changed do not leak into this one. */
    if (ls->cjson_dirty) {
        lua_pushcfunction(L, reset_cjson);
        if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
            log_warn("cannot reset the cjson settings: %s", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pushcfunction(L, result_msgh);
    lua_pushvalue(L, fidx);
    for (int i = 1; i <= nargs; i++)
        lua_pushvalue(L, fidx + i);
    ls->run = rn;
    ls->charged = 0;
    ls->refuse = 0;
    ls->killed = 0;
    ls->start_us = ls->last_busy_call_us = mono_us();
    ls->limit = config_get_u64(CFG_MEMORY_LIMIT);
    ls->limit_base = ls->mem;
    uint64_t seq = (atomic_load_explicit(&s->run, memory_order_relaxed) >> 2) + 1;
    atomic_store(&s->start_us, ls->start_us);
    if (rn->fname)
        publish_function(s, c, rn->fname);
    atomic_store(&s->func, rn->fname != NULL);
    atomic_store(&s->run, seq << 2 | RUN_CLEAN);
    lua_sethook(L, engine_hook, LUA_MASKCOUNT, HOOK_COUNT);
    ldb_install_hook(L); /* a debugging session's line hook instead */
    ls->limit_on = 1;
    int st = lua_pcall(L, nargs, 1, -2 - nargs);
    ls->limit_on = 0;
    ls->refuse = 0;
    ldb_finish(); /* <endsession> goes before the reply */
    uint64_t errors = c->r->errors;
    int counted = result_reply(ls, st, rn->fname ? rn->fname : rn->sha, c->r, rn->resp);
    lua_sethook(L, NULL, 0, 0);
    int killed = (atomic_load(&s->run) & 3) == RUN_KILLED;
    atomic_store(&s->run, seq << 2); /* RUN_IDLE */
    ls->run = NULL;
    /* An error counted when it was first replied is not counted again (as
     * Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE), but the EVAL still failed:
     * command_call counts that from ctx->failed. */
    if (counted && c->r->errors == errors)
        c->failed = 1;
    /* The caller's lua_settop drops the handler and any error object. */
    if (killed)
        stat_add(&s->n_killed, 1);
    count_path(s, c);
    /* A script may have stopped the collector (restarting a running one
     * would force a step: its debt is reset). Its garbage is collected all
     * at once when the script grew the state by more than a megabyte (what
     * it left is garbage, scripts keep nothing), so that used_memory_lua goes
     * back down and the next script's allowance starts from the state's real
     * size; smaller garbage is left to the incremental collector's pace, as
     * an explicit step after every script took 40% of a short script's CPU. */
    if (!lua_gc(L, LUA_GCISRUNNING))
        lua_gc(L, LUA_GCRESTART);
    if (ls->mem > ls->limit_base + (1u << 20))
        lua_gc(L, LUA_GCCOLLECT);
    /* Don't keep a huge command reply's buffer around. */
    if (ls->reply.cap > (1u << 20))
        buf_free(&ls->reply);
    if (ls->nums.cap > (1u << 20))
        buf_free(&ls->nums);
    atomic_store_explicit(&s->mem, ls->mem, memory_order_relaxed);
}

/* EVAL's script (EVALSHA's: is_sha) compiled if need be, then run. */
static void eval_run(cmd_ctx_t *c, lstate_t *ls, int is_sha, int ro, long long numkeys, int top)
{
    lua_State *L = ls->L;
    char sha[41];
    int flags = 0;
    if (is_sha) {
        if (cache_norm_sha(c->argv[1], sha) != 0) {
            reply_error(c->r, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        if (!lookup_compiled(ls, sha, &flags)) {
            if (!cache_get(sha, &ls->reply)) {
                reply_error(c->r, "NOSCRIPT No matching script. Please use EVAL.");
                return;
            }
            if (compile(ls, sha, ls->reply.data, ls->reply.len, &flags, c->r) != 0)
                return;
        }
    } else {
        body_sha(ls, c->argv[1], sha);
        if (!lookup_compiled(ls, sha, &flags)) {
            if (compile(ls, sha, c->argv[1].p, c->argv[1].len, &flags, c->r) != 0)
                return;
            cache_add(sha, c->argv[1].p, c->argv[1].len);
        }
    }
    if ((flags & SF_SHEBANG) && !(flags & (SF_ALLOW_OOM | SF_NO_WRITES)) &&
        command_no_room(c->parts, c->nparts)) {
        reply_error(c->r, "OOM allow-oom flag is not set on the script, can not run it when used "
                          "memory > 'maxmemory'");
        lua_settop(L, top);
        return;
    }
    script_run_t rn = {
        .c = c,
        .ro = ro || (flags & SF_NO_WRITES),
        .allow_oom = (flags & SF_ALLOW_OOM) || (flags & SF_NO_WRITES),
        .resp = 2,
        .db = c->db,
        .numkeys = (int)numkeys,
        .keys = c->argv + 3,
        .all_parts = c->nparts > 0 && c->nparts >= store_partitions(),
    };
    memcpy(rn.sha, sha, 41);
    set_args(L, c->argv + 3, (int)numkeys, "KEYS");
    set_args(L, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys, "ARGV");
    run(ls, c, &rn, lua_gettop(L), 0);
    lua_settop(L, top);
}

void script_eval(cmd_ctx_t *c, int is_sha, int ro)
{
    long long numkeys;
    if (str_to_ll(c->argv[2].p, c->argv[2].len, &numkeys) != 0) {
        reply_error(c->r, ERR_NOT_INT);
        return;
    }
    if (numkeys > c->argc - 3) {
        reply_error(c->r, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c->r, "ERR Number of keys can't be negative");
        return;
    }
    lstate_t *ls = lstate_get();
    lua_State *L = ls->L;
    if (ls->run) { /* a script reached from the busy callback: never nested */
        reply_error(c->r, script_busy_error());
        return;
    }
    int top = lua_gettop(L);
    if (ldb_wanted(c)) {
        if (is_sha) {
            reply_error(c->r, "ERR Please use EVAL instead of EVALSHA for debugging");
            return;
        }
        if (ldb_fork(c) != 0)
            return; /* the parent (the child has the client), or refused */
        ldb_begin(c, c->argv[1]);
        eval_run(c, ls, 0, ro, numkeys, top);
        ldb_end();
        return;
    }
    eval_run(c, ls, is_sha, ro, numkeys, top);
}

void engine_run(lstate_t *ls, cmd_ctx_t *c, script_run_t *rn, int fidx, int nargs)
{
    run(ls, c, rn, fidx, nargs);
}

/* ---- setup ------------------------------------------------------------------ */

void script_setup(void)
{
    /* Opening (and closing) one state runs lua-cjson's process-wide init
     * here, on the main thread, before any worker can race on it. */
    lstate_free(lstate_new(MAX_SLOTS - 1));
    atomic_store(&script_slots[MAX_SLOTS - 1].mem, 0);
}

void script_teardown(void)
{
    for (int i = 0; i < MAX_SLOTS - 1; i++) {
        lstate_free(script_slots[i].ls);
        script_slots[i].ls = NULL;
        atomic_store(&script_slots[i].mem, 0);
    }
    lstate_free(outside_ls);
    outside_ls = NULL;
    cache_clear();
    for (int i = 0; i < MAX_SLOTS; i++)
        buf_free(&script_slots[i].info);
}

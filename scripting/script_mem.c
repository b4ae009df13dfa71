/* The engine's memory accounting: the allocator of every worker's Lua state
 * and the budget C libraries draw on for what they hold outside it
 * (script_internal.h, engine_charge). Runs on the state's own thread. */
#include <stdint.h>
#include <stdlib.h>

#include "script_internal.h"

/* Counts every byte; while a script runs (or compiles), refuses to grow the
 * state, with what C libraries hold for the script (ls->charged), more than
 * memory-limit bytes past its size when the script started (Lua then
 * collects garbage and, if that is not enough, raises a memory error).
 * Relative, so that the compiled scripts a state keeps do not eat into every
 * later script's allowance. */
void *engine_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lstate_t *ls = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        ls->mem -= old;
        return NULL;
    }
    if (nsize > old && ls->refuse) {
        ls->refuse--;
        return NULL;
    }
    if (nsize > old && ls->limit_on && ls->limit &&
        ls->mem + ls->charged + (nsize - old) > ls->limit_base + ls->limit)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    ls->mem = ls->mem - old + nsize;
    return p;
}

size_t engine_budget(lua_State *L)
{
    lstate_t *ls = lstate_of(L);
    if (!ls->limit_on || !ls->limit)
        return SIZE_MAX;
    size_t used = ls->mem + ls->charged, cap = ls->limit_base + ls->limit;
    return used < cap ? cap - used : 0;
}

int engine_raise_nomem(lua_State *L)
{
    lstate_t *ls = lstate_of(L);
    /* A one-byte userdata the allocator refuses twice: Lua 5.4 tries, runs
     * an emergency collection, tries again, then throws LUA_ERRMEM with its
     * own "not enough memory" -- the error a script gets from any
     * allocation, caught by pcall the same way. */
    ls->refuse = 2;
    lua_newuserdatauv(L, 1, 0);
    /* Not thrown (a Lua that does not retry): the same text, as a plain error. */
    ls->refuse = 0;
    lua_pop(L, 1);
    lua_pushliteral(L, "not enough memory");
    return lua_error(L);
}

void engine_charge(lua_State *L, size_t n)
{
    lstate_t *ls = lstate_of(L);
    if (n > engine_budget(L)) {
        lua_gc(L, LUA_GCCOLLECT); /* the script's garbage first, as the allocator does */
        if (n > engine_budget(L))
            engine_raise_nomem(L);
    }
    ls->charged += n;
}

void engine_uncharge(lua_State *L, size_t n)
{
    lstate_t *ls = lstate_of(L);
    ls->charged = n < ls->charged ? ls->charged - n : 0;
}

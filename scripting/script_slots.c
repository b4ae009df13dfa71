/* What each worker publishes of the script it runs (its slot: run word,
 * start time, memory, counters), and what reads or races on it: the kill
 * and interrupt checks a running script makes (the hook, a write's
 * engine_mark_write), SCRIPT KILL from any worker, the busy state the
 * scheduler asks about, and INFO. Below script_engine.c, which runs scripts
 * and fills the slots.
 *
 * SCRIPT KILL (any worker) and a script's first write race on the run word
 * with compare-and-swap, so a script is either killed before it writes or
 * unkillable after: never killed halfway through its writes. */
#include <stdatomic.h>

#include "config.h"
#include "forksafe.h"
#include "log.h"
#include "script.h"
#include "script_internal.h"
#include "util.h"
#include "worker.h"

slot_t script_slots[MAX_SLOTS];
static script_busy_fn *_Atomic busy_fn;

int engine_raise_killed(lua_State *L)
{
    return script_raise(L, "Script killed by user with SCRIPT KILL...");
}

int engine_mark_write(lstate_t *ls)
{
    slot_t *s = &script_slots[ls->slot];
    uint64_t w = atomic_load(&s->run);
    while ((w & 3) == RUN_CLEAN)
        if (atomic_compare_exchange_weak(&s->run, &w, (w & ~(uint64_t)3) | RUN_WROTE))
            return 0;
    return (w & 3) == RUN_KILLED ? -1 : 0;
}

static uint64_t busy_threshold_us(void)
{
    return (uint64_t)config_get_int(CFG_BUSY_REPLY_THRESHOLD) * 1000;
}

void engine_check_interrupt(lua_State *L)
{
    lstate_t *ls = lstate_of(L);
    /* A state the engine did not make (the pattern unit test's), or one
     * between scripts, has nothing to interrupt. */
    if (ls && !ls->run && ls->load_deadline_us && mono_us() > ls->load_deadline_us) {
        /* A library's code at FUNCTION LOAD: stopped past its time, every
         * instruction from now on so that nothing catches it for long. */
        lua_sethook(L, engine_hook, LUA_MASKCOUNT, 1);
        script_raise(L, "FUNCTION LOAD timeout");
    }
    if (!ls || !ls->run)
        return;
    slot_t *s = &script_slots[ls->slot];
    /* SHUTDOWN (or SIGTERM) stops a busy script too: the loop it blocks
     * must get back to its shutdown. */
    int killed = (atomic_load(&s->run) & 3) == RUN_KILLED;
    if (killed || (ls->slot != MAX_SLOTS - 1 && worker_shutting_down())) {
        if (!ls->killed) {
            ls->killed = 1;
            log_warn(killed ? "Lua script killed by user with SCRIPT KILL."
                            : "Lua script stopped: the server is shutting down.");
            /* Every instruction from now on, so that a pcall loop cannot
             * catch the error and carry on for long. */
            lua_sethook(L, engine_hook, LUA_MASKCOUNT, 1);
        }
        engine_raise_killed(L);
    }
    script_busy_fn *fn = atomic_load_explicit(&busy_fn, memory_order_relaxed);
    /* A SCRIPT DEBUG YES child has no loop or clients to serve BUSY. */
    if (!fn || ls->slot == MAX_SLOTS - 1 || forksafe_in_child())
        return;
    uint64_t now = mono_us();
    if (now - ls->start_us >= busy_threshold_us() && now - ls->last_busy_call_us >= 1000) {
        ls->last_busy_call_us = now;
        fn(ls->slot);
    }
}

void engine_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    engine_check_interrupt(L);
}

static int slot_busy(slot_t *s)
{
    uint64_t w = atomic_load(&s->run);
    if ((w & 3) == RUN_IDLE)
        return 0;
    return mono_us() - atomic_load(&s->start_us) >= busy_threshold_us();
}

#define BUSY_FUNCTION                                                                       \
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."

const char *script_busy_error(void)
{
    int scripts = 0, functions = 0;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (slot_busy(&script_slots[i])) {
            if (atomic_load_explicit(&script_slots[i].func, memory_order_relaxed))
                functions++;
            else
                scripts++;
        }
    return functions && !scripts ? BUSY_FUNCTION : ERR_BUSY;
}

/* SCRIPT KILL (functions 0) or FUNCTION KILL (1). */
static void kill_kind(reply_t *r, int functions)
{
    int killed = 0, unkillable = 0, other = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
        slot_t *s = &script_slots[i];
        if (!slot_busy(s))
            continue;
        if (atomic_load(&s->func) != functions) {
            other++;
            continue;
        }
        uint64_t w = atomic_load(&s->run);
        for (;;) {
            int st = (int)(w & 3);
            if (st == RUN_CLEAN) {
                if (!atomic_compare_exchange_weak(&s->run, &w, (w & ~(uint64_t)3) | RUN_KILLED))
                    continue;
                killed++;
            } else if (st == RUN_KILLED) {
                killed++;
            } else if (st == RUN_WROTE) {
                unkillable++;
            }
            break;
        }
    }
    if (killed)
        reply_ok(r);
    else if (unkillable)
        reply_error(r, "UNKILLABLE Sorry the script already executed write commands against the "
                       "dataset. You can either wait the script termination or kill the server in "
                       "a hard way using the SHUTDOWN NOSAVE command.");
    else if (other)
        reply_error(r, functions ? ERR_BUSY : BUSY_FUNCTION);
    else
        reply_error(r, "NOTBUSY No scripts in execution right now.");
}

void script_kill(reply_t *r) { kill_kind(r, 0); }
void function_kill(reply_t *r) { kill_kind(r, 1); }

int script_busy(int worker)
{
    if (worker < 0 || worker >= MAX_SLOTS - 1)
        return 0;
    return slot_busy(&script_slots[worker]);
}

int script_running(int worker)
{
    if (worker < 0 || worker >= MAX_SLOTS - 1)
        return 0;
    return (atomic_load(&script_slots[worker].run) & 3) != RUN_IDLE;
}

void script_set_busy_callback(script_busy_fn *fn) { atomic_store(&busy_fn, fn); }

uint64_t script_lua_memory(void)
{
    uint64_t m = 0;
    for (int i = 0; i < MAX_SLOTS; i++)
        m += atomic_load_explicit(&script_slots[i].mem, memory_order_relaxed);
    return m;
}

void script_info_memory(buf_t *out)
{
    buf_printf(out,
               "used_memory_lua:%llu\r\nused_memory_scripts:%llu\r\n"
               "number_of_cached_scripts:%llu\r\n",
               (unsigned long long)script_lua_memory(), (unsigned long long)cache_bytes(),
               (unsigned long long)cache_count());
}

void script_info_stats(buf_t *out)
{
    uint64_t single = 0, multi = 0, global = 0, keyless = 0, killed = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
        single += stat_get(&script_slots[i].n_single);
        multi += stat_get(&script_slots[i].n_multi);
        global += stat_get(&script_slots[i].n_global);
        keyless += stat_get(&script_slots[i].n_keyless);
        killed += stat_get(&script_slots[i].n_killed);
    }
    buf_printf(out,
               "scripts_single_partition:%llu\r\nscripts_multi_partition:%llu\r\n"
               "scripts_global:%llu\r\nscripts_keyless:%llu\r\nscripts_killed:%llu\r\n",
               (unsigned long long)single, (unsigned long long)multi, (unsigned long long)global,
               (unsigned long long)keyless, (unsigned long long)killed);
}

void script_info(buf_t *out)
{
    script_info_memory(out);
    script_info_stats(out);
}


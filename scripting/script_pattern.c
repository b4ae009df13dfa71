/* Lua's pattern functions, string.find, match, gmatch and gsub, written anew
 * so that a script stays interruptible inside them.
 *
 * Lua 5.4's own matcher is C code that runs without the script's count hook:
 * a backtracking pattern over a long subject, such as '(.-)(.-)(.-)b' over
 * 100 kB of 'a', would keep its worker from answering BUSY, SCRIPT KILL and
 * SHUTDOWN for hours. This one counts its steps (a pattern item tried, a
 * subject byte scanned) and every PM_CHECK_EVERY steps calls
 * engine_check_interrupt(), which does what the hook does.
 *
 * Semantics are Lua 5.4's (reference manual §6.4.1, Patterns, and §6.4),
 * down to the error texts and to when "pattern too complex" is raised: the
 * matcher recurses for a capture and for a repeated or optional item that
 * matched, and iterates otherwise, at most PM_MAX_DEPTH levels deep, which
 * also bounds the C stack it uses.
 *
 * Memory: the match state lives on the C stack and results go straight to
 * the Lua stack or to a luaL_Buffer (Lua's memory), so any Lua error raised
 * in here (the kill error, a memory error, a pattern error) leaks nothing. */
#include <string.h>

#include "script_internal.h"

#define PM_MAX_CAPTURES 32          /* Lua's LUA_MAXCAPTURES */
#define PM_MAX_DEPTH 200            /* nested items before "pattern too complex" */
#define PM_CHECK_EVERY 4096         /* steps between interrupt checks (a few µs) */
#define PM_PLAIN_CHUNK (1u << 20)   /* start positions a plain search tries between checks */
#define PM_ESC '%'

enum { CAP_OPEN = -1, CAP_POSITION = -2 }; /* pm_cap_t.len of an open / a () capture */

typedef struct pm_cap {
    const char *at;
    ptrdiff_t len; /* bytes, or CAP_OPEN, CAP_POSITION */
} pm_cap_t;

typedef struct pm {
    lua_State *L;
    const char *s0, *s_end; /* the subject */
    const char *p_end;      /* the pattern's end */
    int depth_left;         /* recursion levels left before "pattern too complex" */
    int ncap;               /* captures opened */
    long steps_left;        /* steps before the next interrupt check */
    pm_cap_t cap[PM_MAX_CAPTURES];
} pm_t;

/* ---- steps and interrupts ------------------------------------------------- */

static __attribute__((noinline)) void pm_check(pm_t *m)
{
    m->steps_left = PM_CHECK_EVERY;
    engine_check_interrupt(m->L);
}

static inline void pm_step(pm_t *m, long n)
{
    if ((m->steps_left -= n) <= 0)
        pm_check(m);
}

static void pm_init(pm_t *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->s0 = s;
    m->s_end = s + ls;
    m->p_end = p + lp;
    m->steps_left = PM_CHECK_EVERY;
}

/* pm_init for find, match and gsub, where a leading '^' anchors the pattern
 * at the start position (not for gmatch, as Lua 5.4): steps *p past the '^'
 * and returns 1 when there is one. */
static int pm_init_anchored(pm_t *m, lua_State *L, const char *s, size_t ls, const char **p,
                            size_t lp)
{
    int anchored = lp > 0 && **p == '^';

    if (anchored) {
        (*p)++;
        lp--;
    }
    pm_init(m, L, s, ls, *p, lp);
    return anchored;
}

/* Before each attempt at a new start position. */
static inline void pm_restart(pm_t *m)
{
    m->depth_left = PM_MAX_DEPTH;
    m->ncap = 0;
}

/* ---- single-character classes -------------------------------------------- */

/* The end of the single-character class at p (p < p_end): "x", "%x" or a
 * set "[...]". A set's first character is a member even when it is ']'. */
static const char *pm_class_end(pm_t *m, const char *p)
{
    char c = *p++;
    if (c == PM_ESC) {
        if (p == m->p_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[')
        return p;
    if (p < m->p_end && *p == '^')
        p++;
    do {
        if (p == m->p_end)
            luaL_error(m->L, "malformed pattern (missing ']')");
        if (*p++ == PM_ESC && p < m->p_end)
            p++; /* "%]" and the like */
    } while (p == m->p_end || *p != ']');
    return p + 1;
}

/* Does byte c belong to %cl? A class letter in upper case is the
 * complement; any other cl stands for itself. The classes are the C
 * locale's, which is what Lua's <ctype.h> calls see here: the server never
 * calls setlocale(). */
static int pm_in_class(int c, int cl)
{
    unsigned u = (unsigned)c;
    int in;
    switch (cl | 0x20) { /* tolower() of a letter; no other cl becomes one */
    case 'a': in = (u | 0x20) - 'a' < 26; break;
    case 'c': in = u < 32 || u == 127; break;
    case 'd': in = u - '0' < 10; break;
    case 'g': in = u - 33 < 94; break;
    case 'l': in = u - 'a' < 26; break;
    case 'p': in = u - 33 < 94 && (u | 0x20) - 'a' >= 26 && u - '0' >= 10; break;
    case 's': in = u == ' ' || u - '\t' < 5; break;
    case 'u': in = u - 'A' < 26; break;
    case 'w': in = (u | 0x20) - 'a' < 26 || u - '0' < 10; break;
    case 'x': in = u - '0' < 10 || (u | 0x20) - 'a' < 6; break;
    case 'z': in = u == 0; break; /* Lua 5.1's %z, still accepted by 5.4 */
    default: return cl == c;
    }
    return cl < 'a' ? !in : in; /* an upper-case class letter */
}

/* Does byte c belong to the set from open ('[') to close (its ']')? */
static int pm_in_set(int c, const char *open, const char *close)
{
    const char *p = open + 1;
    int yes = 1;
    if (*p == '^') {
        yes = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == PM_ESC) {
            p++;
            if (pm_in_class(c, (unsigned char)*p))
                return yes;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return yes;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return yes;
        }
    }
    return !yes;
}

/* Does the subject byte at s match the class p..ep? */
static inline int pm_single(const pm_t *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->s_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case PM_ESC: return pm_in_class(c, (unsigned char)p[1]);
    case '[': return pm_in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- the matcher ------------------------------------------------------------ */

static const char *pm_match(pm_t *m, const char *s, const char *p);

/* item* and item+ (s is past the part that must match): the longest run
 * first, then shorter ones. */
static const char *pm_greedy(pm_t *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (pm_single(m, s + n, p, ep)) {
        n++;
        pm_step(m, 1);
    }
    for (; n >= 0; n--) {
        const char *e = pm_match(m, s + n, ep + 1);
        if (e)
            return e;
    }
    return NULL;
}

/* item-: the shortest run first, then longer ones. */
static const char *pm_lazy(pm_t *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *e = pm_match(m, s, ep + 1);
        if (e)
            return e;
        if (!pm_single(m, s, p, ep))
            return NULL;
        s++;
    }
}

/* "(" (len CAP_OPEN) or "()" (CAP_POSITION), the rest of the pattern at p. */
static const char *pm_open(pm_t *m, const char *s, const char *p, ptrdiff_t len)
{
    if (m->ncap >= PM_MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = len;
    m->ncap++;
    const char *e = pm_match(m, s, p);
    if (!e)
        m->ncap--;
    return e;
}

/* ")": closes the innermost open capture. */
static const char *pm_close(pm_t *m, const char *s, const char *p)
{
    int i = m->ncap - 1;
    while (i >= 0 && m->cap[i].len != CAP_OPEN)
        i--;
    if (i < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[i].len = s - m->cap[i].at;
    const char *e = pm_match(m, s, p);
    if (!e)
        m->cap[i].len = CAP_OPEN;
    return e;
}

/* "%1".."%9": the same bytes as that (closed) capture. A position capture
 * never matches. */
static const char *pm_backref(pm_t *m, const char *s, int digit)
{
    int i = digit - '1';
    if (i < 0 || i >= m->ncap || m->cap[i].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    ptrdiff_t len = m->cap[i].len;
    if (len < 0 || m->s_end - s < len)
        return NULL;
    pm_step(m, len >> 5);
    return memcmp(m->cap[i].at, s, (size_t)len) == 0 ? s + len : NULL;
}

/* "%bxy" with p at x: from an x at s to the y that balances it. */
static const char *pm_balance(pm_t *m, const char *s, const char *p)
{
    if (p + 1 >= m->p_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->s_end || *s != p[0])
        return NULL;
    char open = p[0], close = p[1];
    long level = 1;
    while (++s < m->s_end) {
        pm_step(m, 1);
        if (*s == close) {
            if (--level == 0)
                return s + 1;
        } else if (*s == open) {
            level++;
        }
    }
    return NULL;
}

static inline const char *pm_leave(pm_t *m, const char *e)
{
    m->depth_left++;
    return e;
}

/* Match the pattern from p against the subject from s: the end of the
 * match, or NULL. */
static const char *pm_match(pm_t *m, const char *s, const char *p)
{
    if (m->depth_left-- == 0)
        luaL_error(m->L, "pattern too complex");
    for (;;) {
        pm_step(m, 1);
        if (p == m->p_end)
            return pm_leave(m, s);
        switch (*p) {
        case '(':
            if (p + 1 < m->p_end && p[1] == ')')
                return pm_leave(m, pm_open(m, s, p + 2, CAP_POSITION));
            return pm_leave(m, pm_open(m, s, p + 1, CAP_OPEN));
        case ')':
            return pm_leave(m, pm_close(m, s, p + 1));
        case '$':
            if (p + 1 == m->p_end)
                return pm_leave(m, s == m->s_end ? s : NULL);
            break; /* a '$' elsewhere is itself */
        case PM_ESC:
            if (p + 1 == m->p_end)
                break; /* pm_class_end raises the error */
            if (p[1] == 'b') {
                s = pm_balance(m, s, p + 2);
                if (!s)
                    return pm_leave(m, NULL);
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (p == m->p_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = pm_class_end(m, p);
                int prev = s == m->s0 ? 0 : (unsigned char)s[-1];
                int cur = s < m->s_end ? (unsigned char)*s : 0;
                if (pm_in_set(prev, p, ep - 1) || !pm_in_set(cur, p, ep - 1))
                    return pm_leave(m, NULL);
                p = ep;
                continue;
            }
            if ((unsigned)(unsigned char)p[1] - '0' < 10) {
                s = pm_backref(m, s, (unsigned char)p[1]);
                if (!s)
                    return pm_leave(m, NULL);
                p += 2;
                continue;
            }
            break;
        }
        /* A single-character class, maybe with a quantifier after it. */
        const char *ep = pm_class_end(m, p);
        int q = ep < m->p_end ? *ep : 0;
        if (!pm_single(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') { /* zero times will do */
                p = ep + 1;
                continue;
            }
            return pm_leave(m, NULL);
        }
        switch (q) {
        case '?': {
            const char *e = pm_match(m, s + 1, ep + 1);
            if (e)
                return pm_leave(m, e);
            p = ep + 1;
            continue;
        }
        case '+': return pm_leave(m, pm_greedy(m, s + 1, p, ep));
        case '*': return pm_leave(m, pm_greedy(m, s, p, ep));
        case '-': return pm_leave(m, pm_lazy(m, s, p, ep));
        default:
            s++;
            p = ep;
            continue;
        }
    }
}

/* ---- captures as values ------------------------------------------------------ */

/* Capture i of a match s..e: its bytes at *at (returns the length), or
 * CAP_POSITION with the position pushed. With no captures, capture 0 is the
 * whole match. */
static ptrdiff_t pm_capture(pm_t *m, int i, const char *s, const char *e, const char **at)
{
    if (i >= m->ncap) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *at = s;
        return e - s;
    }
    ptrdiff_t len = m->cap[i].len;
    *at = m->cap[i].at;
    if (len == CAP_OPEN)
        luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].at - m->s0) + 1);
    return len;
}

static void pm_push_capture(pm_t *m, int i, const char *s, const char *e)
{
    const char *at;
    ptrdiff_t len = pm_capture(m, i, s, e, &at);
    if (len != CAP_POSITION)
        lua_pushlstring(m->L, at, (size_t)len);
}

/* Push every capture (the whole match s..e when there are none and s is
 * not NULL); returns how many. */
static int pm_push_captures(pm_t *m, const char *s, const char *e)
{
    int n = m->ncap == 0 && s ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pm_push_capture(m, i, s, e);
    return n;
}

/* ---- find and match ---------------------------------------------------------- */

/* Argument arg as a 0-based start in a subject of len bytes (negative counts
 * from the end; may be past the end). */
static size_t pm_start(lua_State *L, int arg, size_t len)
{
    lua_Integer i = luaL_optinteger(L, arg, 1);
    if (i > 0)
        return (size_t)i - 1;
    if (i == 0 || i < -(lua_Integer)len)
        return 0;
    return len - (size_t)(-i);
}

static int pm_no_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++) {
        switch (p[i]) {
        case '^': case '$': case '*': case '+': case '?':
        case '.': case '(': case '[': case '%': case '-':
            return 0;
        }
    }
    return 1;
}

/* Plain search for p in s[0..n). A short subject is scanned for p's first
 * byte (cheaper to set up than memmem); a long one goes to memmem, which is
 * linear, PM_PLAIN_CHUNK start positions at a time with an interrupt check
 * between. */
static const char *pm_plain(lua_State *L, const char *s, size_t n, const char *p, size_t lp)
{
    if (lp == 0)
        return s;
    if (lp > n)
        return NULL;
    size_t last = n - lp; /* the last start position */
    if (n <= 256) {
        const char *at = s, *end = s + last + 1;
        while ((at = memchr(at, p[0], (size_t)(end - at))) != NULL) {
            if (memcmp(at + 1, p + 1, lp - 1) == 0)
                return at;
            at++;
        }
        return NULL;
    }
    for (size_t a = 0;; a += PM_PLAIN_CHUNK) {
        int final = last - a < PM_PLAIN_CHUNK;
        size_t span = (final ? last - a + 1 : PM_PLAIN_CHUNK) + lp - 1;
        const char *r = memmem(s + a, span, p, lp);
        if (r || final)
            return r;
        engine_check_interrupt(L);
    }
}

static int pm_find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pm_start(L, 3, ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || pm_no_specials(p, lp))) {
        const char *r = pm_plain(L, s + init, ls - init, p, lp);
        if (!r) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(r - s) + 1);
        lua_pushinteger(L, (lua_Integer)(r - s + lp));
        return 2;
    }
    pm_t m;
    int anchored = pm_init_anchored(&m, L, s, ls, &p, lp);
    const char *at = s + init;
    do {
        pm_restart(&m);
        const char *e = pm_match(&m, at, p);
        if (e) {
            if (!find)
                return pm_push_captures(&m, at, e);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return 2 + pm_push_captures(&m, NULL, NULL);
        }
    } while (at++ < m.s_end && !anchored);
    luaL_pushfail(L);
    return 1;
}

/* string.find(s, pattern [, init [, plain]]) */
static int pm_find(lua_State *L) { return pm_find_or_match(L, 1); }

/* string.match(s, pattern [, init]) */
static int pm_match_fn(lua_State *L) { return pm_find_or_match(L, 0); }

/* ---- gmatch ------------------------------------------------------------------ */

typedef struct pm_iter {
    size_t next;     /* where the next search starts */
    size_t last_end; /* end of the last match + 1; 0 before the first */
} pm_iter_t;

/* The iterator; upvalues: the subject, the pattern, its pm_iter_t. A '^'
 * is no anchor here (Lua 5.4): it matches itself. */
static int pm_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    pm_iter_t *it = lua_touserdata(L, lua_upvalueindex(3));
    pm_t m;
    pm_init(&m, L, s, ls, p, lp);
    for (size_t at = it->next; at <= ls; at++) {
        pm_restart(&m);
        const char *e = pm_match(&m, s + at, p);
        /* An empty match where the last one ended is skipped. */
        if (e && (size_t)(e - s) + 1 != it->last_end) {
            it->next = (size_t)(e - s);
            it->last_end = it->next + 1;
            return pm_push_captures(&m, s + at, e);
        }
    }
    it->next = ls + 1;
    return 0;
}

/* string.gmatch(s, pattern [, init]) */
static int pm_gmatch(lua_State *L)
{
    size_t ls, lp;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, &lp);
    size_t init = pm_start(L, 3, ls);
    lua_settop(L, 2); /* the strings, kept alive as upvalues */
    pm_iter_t *it = lua_newuserdatauv(L, sizeof *it, 0);
    it->next = init > ls ? ls + 1 : init;
    it->last_end = 0;
    lua_pushcclosure(L, pm_gmatch_next, 3);
    return 1;
}

/* ---- gsub ---------------------------------------------------------------------- */

/* A replacement string (argument 3) for the match s..e: "%0" is the match,
 * "%1".."%9" its captures, "%%" a '%'. */
static void pm_add_template(pm_t *m, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = m->L;
    size_t len;
    const char *t = lua_tolstring(L, 3, &len), *t_end = t + len, *esc;
    while ((esc = memchr(t, PM_ESC, (size_t)(t_end - t))) != NULL) {
        luaL_addlstring(b, t, (size_t)(esc - t));
        int c = esc + 1 < t_end ? (unsigned char)esc[1] : 0;
        if (c == PM_ESC) {
            luaL_addchar(b, PM_ESC);
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if ((unsigned)c - '0' < 10) {
            const char *at;
            ptrdiff_t n = pm_capture(m, c - '1', s, e, &at);
            if (n == CAP_POSITION)
                luaL_addvalue(b);
            else
                luaL_addlstring(b, at, (size_t)n);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", PM_ESC);
        }
        t = esc + 2;
    }
    luaL_addlstring(b, t, (size_t)(t_end - t));
}

/* Add the replacement of the match s..e; returns 0 when the match is kept
 * as it was (a function or table gave false or nil). */
static int pm_add_replacement(pm_t *m, luaL_Buffer *b, const char *s, const char *e, int type)
{
    lua_State *L = m->L;
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = pm_push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (type == LUA_TTABLE) {
        pm_push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        pm_add_template(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

/* string.gsub(s, pattern, repl [, n]) */
static int pm_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
                            type == LUA_TTABLE,
                     3, "string/function/table");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pm_t m;
    int anchored = pm_init_anchored(&m, L, s, ls, &p, lp);
    const char *at = s, *last_end = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max) {
        pm_restart(&m);
        const char *e = pm_match(&m, at, p);
        if (e && e != last_end) { /* not an empty match where the last one ended */
            n++;
            changed |= pm_add_replacement(&m, &b, at, e, type);
            at = last_end = e;
        } else if (at < m.s_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    if (changed) {
        luaL_addlstring(&b, at, (size_t)(m.s_end - at));
        luaL_pushresult(&b);
    } else {
        lua_pushvalue(L, 1);
    }
    lua_pushinteger(L, n);
    return 2;
}

void patternlib_install(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {
        {"find", pm_find}, {"match", pm_match_fn}, {"gmatch", pm_gmatch}, {"gsub", pm_gsub},
        {NULL, NULL},
    };
    idx = lua_absindex(L, idx);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, idx, f->name);
    }
}

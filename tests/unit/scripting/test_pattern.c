/* Unit tests for the interruptible pattern functions (scripting/script_pattern.c).
 *
 * A bare Lua state holds both Lua 5.4's string library and ours (in the
 * table P): every case of the table below must give the expected text under
 * both, and a seeded fuzz of random patterns and subjects must give the same
 * results and errors under both. Then, through script_eval(), the method forms
 * in the sandbox and SCRIPT KILL stopping backtracking patterns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "command.h"
#include "config.h"
#include "script.h"
#include "script_internal.h"
#include "store.h"

#include "eval_harness.h"

static lua_State *L;

/* ser(...): the values as text (strings quoted with %q); all(iter): a gmatch
 * iterator's rows as "a,b|c,d"; summary(): every function on one input, for
 * the fuzz. */
static const char prelude[] =
    "function ser(...)\n"
    "  local r, out = table.pack(...), {}\n"
    "  for i = 1, r.n do\n"
    "    local v = r[i]\n"
    "    out[i] = type(v) == 'string' and string.format('%q', v) or tostring(v)\n"
    "  end\n"
    "  return table.concat(out, ' ')\n"
    "end\n"
    "function all(it)\n"
    "  local rows = {}\n"
    "  while true do\n"
    "    local r = table.pack(it())\n"
    "    if r[1] == nil then break end\n"
    "    for i = 1, r.n do r[i] = tostring(r[i]) end\n"
    "    rows[#rows + 1] = table.concat(r, ',')\n"
    "  end\n"
    "  return table.concat(rows, '|')\n"
    "end\n"
    "function summary(S, s, p, init, n)\n"
    "  local out = {}\n"
    "  local function add(ok, ...) out[#out + 1] = tostring(ok) .. ' ' .. ser(...) end\n"
    "  add(pcall(S.find, s, p))\n"
    "  add(pcall(S.find, s, p, init))\n"
    "  add(pcall(S.match, s, p, init))\n"
    "  add(pcall(S.gsub, s, p, '<%0>'))\n"
    "  add(pcall(S.gsub, s, p, '[%1]', n))\n"
    "  add(pcall(S.gsub, s, p, function(...) return select('#', ...) .. table.concat({...}, '/') end))\n"
    "  add(pcall(S.gsub, s, p, {a = 'A', [''] = 'E', b = false}))\n"
    "  add(pcall(function() return all(S.gmatch(s, p, init)) end))\n"
    "  return table.concat(out, '\\n')\n"
    "end\n";

static int setup(void **state)
{
    (void)state;
    L = luaL_newstate();
    /* Not an engine state: engine_check_interrupt() then has nothing to do. */
    *(void **)lua_getextraspace(L) = NULL;
    luaL_openlibs(L);
    lua_newtable(L);
    patternlib_install(L, -1);
    lua_setglobal(L, "P");
    if (luaL_dostring(L, prelude) != LUA_OK)
        fail_msg("prelude: %s", lua_tostring(L, -1));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lua_close(L);
    return 0;
}

/* Evaluate expr with S bound to lib ("string" or "P"): "ser(values)" or
 * "error: message". The chunk is the same for both libraries, so error
 * positions are too. */
static char *eval_with(const char *lib, const char *expr)
{
    char code[2048];
    snprintf(code, sizeof code, "local S = ... return ser(%s)", expr);
    lua_settop(L, 0);
    if (luaL_loadbuffer(L, code, strlen(code), "=t") != LUA_OK)
        fail_msg("cannot compile %s: %s", expr, lua_tostring(L, -1));
    lua_getglobal(L, lib);
    int st = lua_pcall(L, 1, 1, 0);
    const char *v = lua_tostring(L, -1);
    char *res = malloc(strlen(v ? v : "?") + 8);
    sprintf(res, "%s%s", st == LUA_OK ? "" : "error: ", v ? v : "?");
    lua_settop(L, 0);
    return res;
}

typedef struct pcase {
    const char *expr, *want;
} pcase_t;

static const pcase_t cases[] = {
    /* character classes and their complements */
    {"S.gsub('aZ09 \\t\\n!~\\1\\127xF', '%a', '#')", "\"##09 \\9\\\n!~\\1\\127##\" 4"},
    {"S.gsub('aZ09 \\t\\n!~\\1\\127xF', '%A', '#')", "\"aZ#########xF\" 9"},
    {"S.gsub('aZ09 \\t\\n!~\\1\\127', '%c', '#')", "\"aZ09 ##!~##\" 4"},
    {"S.gsub('aZ09 \\t!~', '%C', '#')", "\"#####\\9##\" 7"},
    {"S.gsub('aZ09 x', '%d', '#')", "\"aZ## x\" 2"},
    {"S.gsub('aZ09 x', '%D', '#')", "\"##09##\" 4"},
    {"S.gsub('a 9!\\t', '%g', '#')", "\"# ##\\9\" 3"},
    {"S.gsub('a 9!\\t', '%G', '#')", "\"a#9!#\" 2"},
    {"S.gsub('aZb9', '%l', '#')", "\"#Z#9\" 2"},
    {"S.gsub('aZb9', '%L', '#')", "\"a#b#\" 2"},
    {"S.gsub('a.b,c!', '%p', '#')", "\"a#b#c#\" 3"},
    {"S.gsub('a.b,c!', '%P', '#')", "\"#.#,#!\" 3"},
    {"S.gsub('a b\\tc\\nd\\ve\\ff\\rg', '%s', '')", "\"abcdefg\" 6"},
    {"S.gsub('a b\\tc', '%S', '#')", "\"# #\\9#\" 3"},
    {"S.gsub('aZb9', '%u', '#')", "\"a#b9\" 1"},
    {"S.gsub('aZb9', '%U', '#')", "\"#Z##\" 3"},
    {"S.gsub('a_Z 9-', '%w', '#')", "\"#_# #-\" 3"},
    {"S.gsub('a_Z 9-', '%W', '#')", "\"a#Z#9#\" 3"},
    {"S.gsub('0aFgG9', '%x', '#')", "\"###gG#\" 4"},
    {"S.gsub('0aFgG9', '%X', '#')", "\"0aF##9\" 2"},
    {"S.gsub('a.b%c', '%.', '#')", "\"a#b%c\" 1"},
    {"S.gsub('a.b%c', '%%', '#')", "\"a.b#c\" 1"},
    {"S.gsub('azZ', '%z', '#')", "\"azZ\" 0"},
    {"S.gsub('a\\0Z', '%z', '#')", "\"a#Z\" 1"},
    {"S.gsub('a\\0Z', '%Z', '#')", "\"#\\0#\" 2"},
    /* sets */
    {"S.match('hello-World_42!', '[%a_-]+')", "\"hello-World_\""},
    {"S.match('  word  ', '[^%s]+')", "\"word\""},
    {"S.match('xxbeefzz', '[a-f]+')", "\"beef\""},
    {"S.match('a]b', '[]]')", "\"]\""},
    {"S.match(']]ab', '[^]]+')", "\"ab\""},
    {"S.match('a]b', '[%]]')", "\"]\""},
    {"S.match('x-a', '[a-]+')", "\"-a\""},
    {"S.match('x-a', '[-a]+')", "\"-a\""},
    {"S.match('a^b', '[b^]+')", "\"^b\""},
    {"S.match('abc123', '[%d%u]+')", "\"123\""},
    {"S.match('\\200\\201a', '[\\128-\\255]+') == '\\200\\201'", "true"},
    {"S.match('\\0ab', '.')", "\"\\0\""},
    {"S.find('a\\0b', '\\0')", "2 2"},
    {"S.find('a\\0b', '[\\0]')", "2 2"},
    /* quantifiers */
    {"S.match('aaab', 'a*')", "\"aaa\""},
    {"S.match('baaa', 'a*')", "\"\""},
    {"S.match('aaab', 'a+b')", "\"aaab\""},
    {"S.match('<a><b>', '<.->')", "\"<a>\""},
    {"S.match('<a><b>', '<.*>')", "\"<a><b>\""},
    {"S.match('color colour', 'colou?r', 2)", "\"colour\""},
    {"S.find('aaa', 'a-')", "1 0"},
    {"S.find('', 'a*')", "1 0"},
    {"S.match('abc', 'a.-$')", "\"abc\""},
    /* anchors */
    {"S.find('abcabc', '^abc')", "1 3"},
    {"S.find('abcabc', '^abc', 2)", "nil"},
    {"S.find('abcabc', '^abc', 4)", "4 6"},
    {"S.find('abc', 'c$')", "3 3"},
    {"S.find('abcc', 'c$', -1)", "4 4"},
    {"S.find('a$b', '$b')", "2 3"},
    {"S.find('a^b', 'a^')", "1 2"},
    {"S.find('ab', '^')", "1 0"},
    {"S.find('ab', '$')", "3 2"},
    {"S.find('ab', '^$')", "nil"},
    {"S.find('', '^$')", "1 0"},
    /* captures and position captures */
    {"S.match('key=val', '(%w+)=(%w+)')", "\"key\" \"val\""},
    {"S.match('hello', '()ll()')", "3 5"},
    {"S.find('hello', '(l)(l)')", "3 4 \"l\" \"l\""},
    {"S.find('hello', '()(l+)')", "3 4 3 \"ll\""},
    {"S.match('ab', '((a)(b))')", "\"ab\" \"a\" \"b\""},
    {"S.match('ab', '(a)()(b)')", "\"a\" 2 \"b\""},
    {"S.match('abc', '()')", "1"},
    {"S.find('hello', 'l+')", "3 4"},
    {"S.match('aaa', '(a*(.)%w(%s*))')", "\"aaa\" \"a\" \"\""},
    /* back-references */
    {"S.match('say \"hi\" ok', '([\"\\'])(.-)%1')", "\"\\\"\" \"hi\""},
    {"S.find('xabab', '(ab)%1')", "2 5 \"ab\""},
    {"S.find('xabac', '(ab)%1')", "nil"},
    {"S.match('aa', '()%1')", "nil"},
    {"S.match('abcabc', '(a(b)c)%1%2')", "nil"},
    {"S.match('abcabcb', '(a(b)c)%1%2')", "\"abc\" \"b\""},
    /* %b */
    {"S.match('f(a(b)c) d', '%b()')", "\"(a(b)c)\""},
    {"S.match('f(a(b c', '%b()')", "nil"},
    {"S.gsub('x[1][[2]]y', '%b[]', '#')", "\"x##y\" 2"},
    {"S.match('((a))', '%b((')", "\"((\""},
    {"S.find('a', 'a%b()')", "nil"},
    /* %f */
    {"S.gsub('THE (quick) fox', '%f[%a]%a+', 'W')", "\"W (W) W\" 3"},
    {"S.find('hello', '%f[%A]')", "6 5"},
    {"S.find('hello', '%f[%a]')", "1 0"},
    {"S.gsub('a1b22c', '%f[%d]', '<')", "\"a<1b<22c\" 2"},
    {"S.gsub('a1b22c', '%f[%D]', '>')", "\"a1>b22>c\" 2"},
    /* find: init (negative too) and plain */
    {"S.find('hello', 'l', -2)", "4 4"},
    {"S.find('hello', 'l', -100)", "3 3"},
    {"S.find('hello', 'l', 0)", "3 3"},
    {"S.find('hello', 'l', 10)", "nil"},
    {"S.find('hello', 'l', 6)", "nil"},
    {"S.find('a.b', '.', 1, true)", "2 2"},
    {"S.find('a.b', '.', 2, 1)", "2 2"},
    {"S.find('a+b', 'a+', 1, true)", "1 2"},
    {"S.find('a(b', '(', 1, true)", "2 2"},
    {"S.find('abc', '', 4)", "4 3"},
    {"S.find('abc', '', 5)", "nil"},
    {"S.find('abc', '', -1)", "3 2"},
    {"S.find('hello', 'lo', 1, false)", "4 5"},
    {"S.find('hello', 'xyz')", "nil"},
    {"S.find('hello', 'hello!')", "nil"},
    {"S.find(12345, 34)", "3 4"},
    {"S.match('hello', '.', -1)", "\"o\""},
    {"S.match('hello', '(h)(e)', 2)", "nil"},
    {"S.match(3.5, '%d')", "\"3\""},
    /* gsub: replacement strings */
    {"S.gsub('hello world', '(o)', '[%1%0%%]')", "\"hell[oo%] w[oo%]rld\" 2"},
    {"S.gsub('hello world', '%w+', '%0 %0', 1)", "\"hello hello world\" 1"},
    {"S.gsub('abc', 'b', '%1')", "\"abc\" 1"},
    {"S.gsub('abc', '()b', '%1')", "\"a2c\" 1"},
    {"S.gsub('abc', 'b', 5)", "\"a5c\" 1"},
    {"S.gsub(12345, '3', 'x')", "\"12x45\" 1"},
    {"S.gsub('abc', '%w', '%%%0')", "\"%a%b%c\" 3"},
    {"S.gsub('a b', '(%w) (%w)', '%2 %1')", "\"b a\" 1"},
    /* gsub: tables and functions */
    {"S.gsub('$name is $age', '%$(%w+)', {name = 'bob', age = 42})", "\"bob is 42\" 2"},
    {"S.gsub('$name $x', '%$(%w+)', {name = 'bob'})", "\"bob $x\" 2"},
    {"S.gsub('ab', '%w', {a = false})", "\"ab\" 2"},
    {"S.gsub('abc', '%w', function(c) return c:upper() .. '.' end)", "\"A.B.C.\" 3"},
    {"S.gsub('abc', '%w', function(c) if c == 'b' then return 7 end end)", "\"a7c\" 3"},
    {"S.gsub('k=v, x=y', '(%w+)=(%w+)', function(k, v) return v .. '=' .. k end)",
     "\"v=k, y=x\" 2"},
    {"S.gsub('abc', '()', function(p) return p end)", "\"1a2b3c4\" 4"},
    /* gsub: counts, max n, empty matches, anchors */
    {"S.gsub('aaa', 'a', 'b', 2)", "\"bba\" 2"},
    {"S.gsub('aaa', 'a', 'b', 0)", "\"aaa\" 0"},
    {"S.gsub('aaa', 'a', 'b', -1)", "\"aaa\" 0"},
    {"S.gsub('aaa', 'a', 'b', 2.0)", "\"bba\" 2"},
    {"S.gsub('abc', '', '-')", "\"-a-b-c-\" 4"},
    {"S.gsub('abc', 'x*', '-')", "\"-a-b-c-\" 4"},
    {"S.gsub('abc', 'b*', '-')", "\"-a-c-\" 3"},
    {"S.gsub('aaa', '^a', 'b')", "\"baa\" 1"},
    {"S.gsub('aaa', '^b', 'x')", "\"aaa\" 0"},
    {"S.gsub('hello world', 'o', 'o')", "\"hello world\" 2"},
    {"S.gsub('', '', 'x')", "\"x\" 1"},
    {"S.gsub('abc', '$', '!')", "\"abc!\" 1"},
    /* gmatch: captures, init, '^' (no anchor in gmatch), empty matches */
    {"all(S.gmatch('one two  three', '%a+'))", "\"one|two|three\""},
    {"all(S.gmatch('k=v, x=y', '(%w+)=(%w+)'))", "\"k,v|x,y\""},
    {"all(S.gmatch('one two three', '%a+', 5))", "\"two|three\""},
    {"all(S.gmatch('one two three', '%a+', -5))", "\"three\""},
    {"all(S.gmatch('one two', '%a+', 100))", "\"\""},
    {"all(S.gmatch('one two', '%a+', -100))", "\"one|two\""},
    {"all(S.gmatch('^a^a', '^a'))", "\"^a|^a\""},
    {"all(S.gmatch('abc', 'x*'))", "\"|||\""},
    {"all(S.gmatch('abc', '()'))", "\"1|2|3|4\""},
    {"all(S.gmatch('abc', 'b*'))", "\"|b|\""},
    {"all(S.gmatch('a1b2', '%a()'))", "\"2|4\""},
    {"all(S.gmatch(123, '%d'))", "\"1|2|3\""},
    /* errors */
    {"S.find('a', '%')", "error: t:1: malformed pattern (ends with '%')"},
    {"S.find('a', 'a%')", "error: t:1: malformed pattern (ends with '%')"},
    {"S.find('a', 'b%')", "nil"},
    {"S.find('a', '[a')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('a', '[')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('a', '[^')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('a', '[]')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('a', '[a%]')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('a', '[a%')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find('abc', '%1')", "error: t:1: invalid capture index %1"},
    {"S.find('abc', '(a)%2')", "error: t:1: invalid capture index %2"},
    {"S.find('abc', '(a%1)')", "error: t:1: invalid capture index %1"},
    {"S.find('abc', '%0')", "error: t:1: invalid capture index %0"},
    {"S.find('abc', 'a)')", "nil"}, /* no specials: a plain search */
    {"S.match('abc', 'a)')", "error: t:1: invalid pattern capture"},
    {"S.find('abc', '(a))')", "error: t:1: invalid pattern capture"},
    {"S.find('abc', '(a')", "error: t:1: unfinished capture"},
    {"S.match('abc', '(a')", "error: t:1: unfinished capture"},
    {"S.find('abc', '%b')", "error: t:1: malformed pattern (missing arguments to '%b')"},
    {"S.find('abc', '%ba')", "error: t:1: malformed pattern (missing arguments to '%b')"},
    {"S.find('abc', '%f')", "error: t:1: missing '[' after '%f' in pattern"},
    {"S.find('abc', '%fa')", "error: t:1: missing '[' after '%f' in pattern"},
    {"S.find('abc', '%f[a')", "error: t:1: malformed pattern (missing ']')"},
    {"S.find(string.rep('a', 300), string.rep('a?', 199))", "1 199"},
    {"S.find(string.rep('a', 300), string.rep('a?', 200))", "error: t:1: pattern too complex"},
    {"S.find(string.rep('a', 300), string.rep('(a)', 33))", "error: t:1: too many captures"},
    {"select('#', S.find('a', string.rep('()', 32)))", "34"},
    {"S.find('a', string.rep('()', 33))", "error: t:1: too many captures"},
    {"S.gsub('abc', 'b', '%')", "error: t:1: invalid use of '%' in replacement string"},
    {"S.gsub('abc', 'b', '%x')", "error: t:1: invalid use of '%' in replacement string"},
    {"S.gsub('abc', 'x', '%')", "\"abc\" 0"},
    {"S.gsub('abc', 'b', '%2')", "error: t:1: invalid capture index %2"},
    {"S.gsub('abc', '(b)', '%2')", "error: t:1: invalid capture index %2"},
    {"S.gsub('abc', '(b', '%1')", "error: t:1: unfinished capture"},
    {"S.gsub('abc', 'b', {b = {}})", "error: t:1: invalid replacement value (a table)"},
    {"S.gsub('abc', 'b', function() return true end)",
     "error: t:1: invalid replacement value (a boolean)"},
    {"S.gsub('abc', 'b')",
     "error: t:1: bad argument #3 to 'gsub' (string/function/table expected, got no value)"},
    {"S.gsub('abc', 'b', true)",
     "error: t:1: bad argument #3 to 'gsub' (string/function/table expected, got boolean)"},
    {"S.gsub('abc', 'b', 'x', 'y')",
     "error: t:1: bad argument #4 to 'gsub' (number expected, got string)"},
    {"S.find()", "error: t:1: bad argument #1 to 'find' (string expected, got no value)"},
    {"S.match('a', {})", "error: t:1: bad argument #2 to 'match' (string expected, got table)"},
    {"S.find('a', 'a', 'x')", "error: t:1: bad argument #3 to 'find' (number expected, got string)"},
    {"S.find('a', 'a', 1.5)",
     "error: t:1: bad argument #3 to 'find' (number has no integer representation)"},
    {"S.gmatch(nil, 'a')", "error: t:1: bad argument #1 to 'gmatch' (string expected, got nil)"},
};

static void test_cases(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *lua = eval_with("string", cases[i].expr);
        char *ours = eval_with("P", cases[i].expr);
        if (strcmp(lua, cases[i].want) != 0) {
            print_error("case %s: Lua 5.4 gives [%s], the table says [%s]\n", cases[i].expr, lua,
                        cases[i].want);
            bad++;
        }
        if (strcmp(ours, cases[i].want) != 0) {
            print_error("case %s: ours gives [%s], want [%s]\n", cases[i].expr, ours,
                        cases[i].want);
            bad++;
        }
        free(lua);
        free(ours);
    }
    assert_int_equal(bad, 0);
}

/* Every byte against every %x, [%x] and [^%x] (x any byte but those that
 * make %x something else outside a set: digits, b, f). */
static void test_classes(void **state)
{
    (void)state;
    static const char code[] =
        "local bad = {}\n"
        "for x = 0, 255 do\n"
        "  local cl = string.char(x)\n"
        "  if not cl:find('[%dbf]') then\n"
        "    for _, p in ipairs({'%' .. cl, '[%' .. cl .. ']', '[^%' .. cl .. ']'}) do\n"
        "      for b = 0, 255 do\n"
        "        local c = string.char(b)\n"
        "        if string.find(c, p) ~= P.find(c, p) then bad[#bad + 1] = p .. ' ' .. b end\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "end\n"
        "return table.concat(bad, ', ')\n";
    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    assert_string_equal(lua_tostring(L, -1), "");
    lua_settop(L, 0);
}

/* ---- fuzz: random patterns and subjects, ours against Lua's ---------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* '@' stands for a NUL byte. */
static const char *const atoms[] = {
    "a", "b", "c", ".", "%a", "%d", "%s", "%w", "%A", "%p", "%%", "%(", "[ab]", "[^a]", "[a-c]",
    "[%d)]", "[]]", "[a-]", "[^%s@]", "(", ")", "()", "(%a+)", "%1", "%2", "%b()", "%bab",
    "%b)(", "%f[%w]", "%f[^a]", "%f[%z]", "$", "^", "x", " ", "1", "@", "[", "%", "%z", "%Z",
    "-", "*", "+", "?", "]", "%c", "%g", "%l", "%u", "%x", "%U", "%S", "[%x%p]", "[^%c%z]",
};
static const char *const quants[] = {"", "", "", "*", "+", "-", "?"};
static const char subject_chars[] = "aabbc(1) xzA\t.%\377\0";

/* A random pattern in p; returns its length. */
static size_t random_pattern(char *p, size_t cap)
{
    size_t n = 0;
    if (rnd(5) == 0)
        p[n++] = '^';
    int items = (int)rnd(8);
    for (int i = 0; i < items; i++) {
        const char *a = atoms[rnd(sizeof atoms / sizeof atoms[0])];
        const char *q = quants[rnd(sizeof quants / sizeof quants[0])];
        if (n + strlen(a) + strlen(q) + 2 >= cap)
            break;
        n += (size_t)sprintf(p + n, "%s%s", a, q);
    }
    if (rnd(6) == 0)
        p[n++] = '$';
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@')
            p[i] = '\0';
    return n;
}

/* summary(lib, s, p, init, n) as a malloc'd string. */
static char *summarize(const char *lib, const char *s, size_t sl, const char *p, size_t pl,
                       int init, int n)
{
    lua_settop(L, 0);
    lua_getglobal(L, "summary");
    lua_getglobal(L, lib);
    lua_pushlstring(L, s, sl);
    lua_pushlstring(L, p, pl);
    lua_pushinteger(L, init);
    lua_pushinteger(L, n);
    if (lua_pcall(L, 5, 1, 0) != LUA_OK)
        fail_msg("summary failed: %s", lua_tostring(L, -1));
    char *r = strdup(lua_tostring(L, -1));
    lua_settop(L, 0);
    return r;
}

static void test_fuzz(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    /* Single-threaded, so ThreadSanitizer has nothing to check here, and its
     * stack depot aborts on stock Lua's deepest recursions (> 65536 frames). */
    skip();
#endif
    char p[96], s[16];
    for (int iter = 0; iter < 30000; iter++) {
        size_t pl = random_pattern(p, sizeof p);
        size_t sl = rnd(13);
        for (size_t i = 0; i < sl; i++)
            s[i] = subject_chars[rnd(sizeof subject_chars - 1)];
        int init = (int)rnd(31) - 15, n = (int)rnd(5) - 1;
        char *lua = summarize("string", s, sl, p, pl, init, n);
        char *ours = summarize("P", s, sl, p, pl, init, n);
        if (strcmp(lua, ours) != 0)
            fail_msg("subject '%.*s' pattern '%.*s' init %d n %d:\nLua:\n%s\nours:\n%s", (int)sl,
                     s, (int)pl, p, init, n, lua, ours);
        free(lua);
        free(ours);
    }
}

/* ---- through the engine: the sandbox's string table, SCRIPT KILL ---------- */


static void test_sandbox_methods(void **state)
{
    (void)state;
    assert_string_equal(eval("return {('hello'):find('l')}"), "*2\r\n:3\r\n:3\r\n");
    assert_string_equal(eval("return {('k=v'):match('(%w)=(%w)')}"),
                        "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_string_equal(eval("return {('a-b'):gsub('%-', '+')}"), "*2\r\n$3\r\na+b\r\n:1\r\n");
    assert_string_equal(eval("local t = {} for w in ('a b c'):gmatch('%a') do t[#t+1] = w end "
                             "return table.concat(t, ',')"),
                        "$5\r\na,b,c\r\n");
    /* the sandbox's functions are ours; the library stays read-only */
    assert_string_equal(eval("return tostring(string.find == ('').find)"), "$4\r\ntrue\r\n");
    assert_string_equal(eval("local ok, e = pcall(string.find) return e"),
                        "$64\r\nbad argument #1 to 'string.find' (string expected, got no "
                        "value)\r\n");
    const char *e = eval("return string.find('a', '(')");
    if (!strstr(e, "unfinished capture") || !strstr(e, "script: "))
        fail_msg("error reply %s", e);
}

static _Atomic int kill_done;
static _Atomic uint64_t kill_at_us;

static void *killer(void *arg)
{
    (void)arg;
    usleep(150 * 1000);
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = 2};
    script_kill(&r);
    atomic_store(&kill_at_us, mono_us());
    buf_putc(&b, '\0');
    int ok = strcmp(b.data, "+OK\r\n") == 0;
    buf_free(&b);
    atomic_store(&kill_done, ok ? 1 : -1);
    return NULL;
}

/* body must be killed: returns how long after SCRIPT KILL it stopped (µs). */
static uint64_t eval_killed(const char *body)
{
    pthread_t t;
    atomic_store(&kill_done, 0);
    pthread_create(&t, NULL, killer, NULL);
    const char *res = eval(body);
    uint64_t end = mono_us();
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&kill_done), 1);
    if (strncmp(res, "-ERR Script killed by user with SCRIPT KILL...", 46) != 0)
        fail_msg("%s: reply %s", body, res);
    return end - atomic_load(&kill_at_us);
}

static void test_kill_backtracking(void **state)
{
    (void)state;
    atomic_store(&cfg.busy_reply_threshold, 20);
    static const char *const bodies[] = {
        "local s = string.rep('a', 100000) return string.find(s, '(.-)(.-)(.-)(.-)b')",
        "local s = string.rep('a', 100000) return s:match('(.-)(.-)(.-)(.-)b')",
        "local s = string.rep('a', 100000) return s:gsub('(.-)(.-)(.-)(.-)b', 'x')",
        "local s = string.rep('a', 100000) for a in s:gmatch('(.-)(.-)(.-)(.-)b') do end",
        "local s = string.rep('a', 100000) return string.find(s, '.-.-.-.-.-b')",
        "local s = string.rep('a', 100000) return string.find(s, '(a*)(a*)(a*)%1%2b')",
        "local s = string.rep('a', 100000) while true do pcall(string.find, s, '(.-)(.-)(.-)b') end",
        /* the callback is ordinary Lua; the matcher around it is ours */
        "local s = string.rep('a', 100000) return s:gsub('(.-)(.-)b', function() end)",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        uint64_t us = eval_killed(bodies[i]);
        if (us > 500 * 1000)
            fail_msg("%s: stopped %llu µs after SCRIPT KILL", bodies[i], (unsigned long long)us);
    }
    /* the state lives on, its pattern functions too */
    assert_string_equal(eval("return string.match('ab12', '%d+')"), "$2\r\n12\r\n");
    atomic_store(&cfg.busy_reply_threshold, 5000);
}

static void test_memory_limit(void **state)
{
    (void)state;
    /* the output buffer of gsub is Lua's memory: the limit stops it, nothing leaks */
    atomic_store(&cfg.memory_limit, 4 * 1024 * 1024);
    const char *r = eval("local s = string.rep('a', 100000) "
                         "return #s:gsub('a', string.rep('b', 1000))");
    if (!strstr(r, "not enough memory"))
        fail_msg("reply %s", r);
    r = eval("local s = string.rep('a', 100000) "
             "return #s:gsub('a', function() return string.rep('c', 1000) end)");
    if (!strstr(r, "not enough memory"))
        fail_msg("reply %s", r);
    atomic_store(&cfg.memory_limit, 64 * 1024 * 1024);
    assert_string_equal(eval("return #string.rep('a', 1000):gsub('a', 'bb')"), ":2000\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_methods, eval_setup, eval_teardown),
        cmocka_unit_test_setup_teardown(test_kill_backtracking, eval_setup, eval_teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit, eval_setup, eval_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

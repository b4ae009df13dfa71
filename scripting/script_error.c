/* Redis's error tables in Lua ({err = "CODE message"}): building one and
 * raising one. The bottom of scripting/: the conversions, the kill checks
 * and the redis library all use it. */
#include <string.h>

#include "script_internal.h"

void conv_push_error(lua_State *L, const char *s, size_t n)
{
    const char *code = "ERR", *msg = s;
    size_t codelen = 3, msglen = n;
    if (n && s[0] == '-') {
        const char *sp = memchr(s, ' ', n);
        if (sp) {
            code = s + 1;
            codelen = (size_t)(sp - s) - 1;
            msg = sp + 1;
            msglen = n - (size_t)(msg - s);
        } else {
            msg = s + 1;
            msglen = n - 1;
        }
    }
    /* A ready-made error text may end with its CRLF: the table never does. */
    while (msglen && (msg[0] == '\r' || msg[0] == '\n'))
        msg++, msglen--;
    while (msglen && (msg[msglen - 1] == '\r' || msg[msglen - 1] == '\n'))
        msglen--;
    lua_createtable(L, 0, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, codelen);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, msg, msglen);
    luaL_pushresult(&b);
    lua_setfield(L, -2, "err");
}

int script_raise(lua_State *L, const char *msg)
{
    conv_push_error(L, msg, strlen(msg));
    return lua_error(L);
}

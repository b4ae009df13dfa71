/* script_func — what the function files (script_func.c: the registry;
 * script_func_load.c: libraries in a Lua state, FCALL) share; not for the
 * core. */
#ifndef PERCORE_SCRIPT_FUNC_H
#define PERCORE_SCRIPT_FUNC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "resp.h"
#include "script.h"
#include "script_internal.h"

/* One function of a library: its name, description (NULL: none) and SF_*
 * flags (script_internal.h; SF_SHEBANG never set). */
typedef struct ffunc {
    char *name;
    char *desc;
    int flags;
} ffunc_t;

/* A library: its name, its whole code (first line included) and functions
 * in registration order; id is given by the registry (increasing). */
typedef struct flib {
    uint64_t id;
    char *name;
    char *code;
    size_t code_len;
    int nfuncs;
    ffunc_t *funcs;
} flib_t;

/* What each library and function counts against FUNC_MAX_BYTES besides
 * its code, names and description (script_func.c says why). */
#define FUNC_LIB_OVERHEAD 1024
#define FUNC_FN_OVERHEAD 256

void flib_free(flib_t *l);
/* What a library counts against FUNC_MAX_BYTES. */
size_t flib_bytes(const flib_t *l);

/* Add libraries to the registry at once, or none: policy FUNC_POLICY_APPEND
 * (a library name taken is "Library 'x' already exists"), _REPLACE (it
 * replaces that library) or _FLUSH (every library goes first). A function
 * name taken by another library, or the size bound, refuses the whole set.
 * 0 (the registry took every add[i], set to NULL), or -1 with the error. */
int func_registry_add(flib_t **add, int nadd, int policy, char *err, size_t errlen);
int func_registry_has_lib(const char *name);

/* What FCALL needs of a function, copied out under the lock. */
typedef struct func_ref {
    uint64_t lib_id;
    int flags;
    char *name;     /* a copy: the caller frees it */
} func_ref_t;

/* Find the function called name. 1 found, 0 not. */
int func_registry_lookup(sv_t name, func_ref_t *out);
int func_registry_has_id(uint64_t id);
/* Copy the code of library id into out; 0 when it is gone. */
int func_registry_code_of(uint64_t id, buf_t *out);
uint64_t func_registry_version(void);

/* The "running_script" value of FUNCTION STATS: a map of the running
 * function's name, command and duration, or null (script_func_load.c). */
void func_running_reply(reply_t *r);

#endif

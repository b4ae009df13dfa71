/* The function libraries' registry (Redis 7.0's FUNCTION LOAD/DELETE/FLUSH/
 * LIST/STATS), shared by every worker: the libraries in load order, an index
 * of their functions by name, and a version bumped by every change, under a
 * rwlock. Any thread.
 *
 * What a library is (its "#!lua name=<lib>" first line, the functions its
 * code registers) is worked out by script_func_load.c, in the calling
 * thread's Lua state; this file only stores and answers for the result.
 * Each worker compiles a library into its own state when it first calls one
 * of its functions (script_func_load.c says why).
 *
 * Bound: the libraries' code, names and descriptions, plus a fixed charge
 * per library and per function, may take at most FUNC_MAX_BYTES in all
 * (script.h); a LOAD past it is refused. The charges (1 KB a library, 256
 * bytes a function: more than their bookkeeping and compiled closures cost)
 * also cap how many there can be (16384 libraries), so the index rebuilt by
 * each LOAD stays small. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script.h"
#include "script_func.h"
#include "util.h"
#include "forksafe.h"

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
FORKSAFE_RWLOCK(reg_lock) /* a SCRIPT DEBUG YES child may take it */
static flib_t **libs; /* load order = increasing id */
static size_t nlibs, libs_cap;
static size_t nfuncs_total, bytes_total;
typedef struct fentry {
    const ffunc_t *f;
    const flib_t *lib;
} fentry_t;
static fentry_t *index_; /* every function, sorted by name (exact bytes) */
static uint64_t next_id = 1;
static _Atomic uint64_t reg_version = 1;

/* ---- libraries -------------------------------------------------------------- */

void flib_free(flib_t *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nfuncs; i++) {
        free(l->funcs[i].name);
        free(l->funcs[i].desc);
    }
    free(l->funcs);
    free(l->name);
    free(l->code);
    free(l);
}

size_t flib_bytes(const flib_t *l)
{
    size_t n = FUNC_LIB_OVERHEAD + l->code_len + strlen(l->name);
    for (int i = 0; i < l->nfuncs; i++)
        n += FUNC_FN_OVERHEAD + strlen(l->funcs[i].name) +
             (l->funcs[i].desc ? strlen(l->funcs[i].desc) : 0);
    return n;
}

static int fentry_cmp(const void *a, const void *b)
{
    return strcmp(((const fentry_t *)a)->f->name, ((const fentry_t *)b)->f->name);
}

/* Caller holds the write lock. */
static void index_rebuild(void)
{
    free(index_);
    index_ = NULL;
    nfuncs_total = 0;
    bytes_total = 0;
    for (size_t i = 0; i < nlibs; i++) {
        nfuncs_total += (size_t)libs[i]->nfuncs;
        bytes_total += flib_bytes(libs[i]);
    }
    if (nfuncs_total) {
        index_ = xmalloc(nfuncs_total * sizeof *index_);
        size_t k = 0;
        for (size_t i = 0; i < nlibs; i++)
            for (int j = 0; j < libs[i]->nfuncs; j++)
                index_[k++] = (fentry_t){&libs[i]->funcs[j], libs[i]};
        qsort(index_, nfuncs_total, sizeof *index_, fentry_cmp);
    }
    atomic_fetch_add(&reg_version, 1);
}

/* Caller holds a lock. */
static const fentry_t *find_exact(const char *name, size_t n)
{
    size_t lo = 0, hi = nfuncs_total;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *s = index_[mid].f->name;
        size_t sl = strlen(s);
        int c = memcmp(s, name, sl < n ? sl : n);
        if (c == 0)
            c = sl < n ? -1 : sl > n;
        if (c == 0)
            return &index_[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const fentry_t *find_func(const char *name, size_t n)
{
    const fentry_t *e = find_exact(name, n);
    if (e)
        return e;
    /* FCALL's name is matched regardless of case, as Redis 7.0 does, when
     * no function has exactly this name. */
    for (size_t i = 0; i < nfuncs_total; i++)
        if (strlen(index_[i].f->name) == n && strncasecmp(index_[i].f->name, name, n) == 0)
            return &index_[i];
    return NULL;
}

static ssize_t find_lib(const char *name)
{
    for (size_t i = 0; i < nlibs; i++)
        if (strcmp(libs[i]->name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static void libs_push(flib_t *l)
{
    if (nlibs == libs_cap) {
        libs_cap = libs_cap ? libs_cap * 2 : 16;
        libs = xrealloc(libs, libs_cap * sizeof *libs);
    }
    l->id = next_id++;
    libs[nlibs++] = l;
}

static void libs_remove(size_t i)
{
    flib_free(libs[i]);
    memmove(libs + i, libs + i + 1, (nlibs - i - 1) * sizeof *libs);
    nlibs--;
}

/* Would adding the libraries of add (replacing those of the same name when
 * replace) clash with a function of another library? Caller holds a lock.
 * 0, or -1 with Redis's error in err (FUNCTION RESTORE's wording: LOAD
 * checks its one library's name first, quoting it, script_func_load.c). */
static int check_clash(flib_t *const *add, int nadd, int replace, int flush, char *err,
                       size_t errlen)
{
    for (int a = 0; a < nadd; a++) {
        if (!flush && !replace && find_lib(add[a]->name) >= 0) {
            snprintf(err, errlen, "ERR Library %s already exists", add[a]->name);
            return -1;
        }
        for (int b = 0; b < a; b++)
            if (strcmp(add[a]->name, add[b]->name) == 0) {
                snprintf(err, errlen, "ERR Library %s already exists", add[a]->name);
                return -1;
            }
        for (int j = 0; j < add[a]->nfuncs; j++) {
            const char *fn = add[a]->funcs[j].name;
            for (int b = 0; b < a; b++)
                for (int k = 0; k < add[b]->nfuncs; k++)
                    if (strcmp(add[b]->funcs[k].name, fn) == 0) {
                        snprintf(err, errlen, "ERR Function %s already exists", fn);
                        return -1;
                    }
            if (flush)
                continue;
            const fentry_t *e = find_exact(fn, strlen(fn));
            if (e && !(replace && strcmp(e->lib->name, add[a]->name) == 0)) {
                snprintf(err, errlen, "ERR Function %s already exists", fn);
                return -1;
            }
        }
    }
    return 0;
}

int func_registry_add(flib_t **add, int nadd, int policy, char *err, size_t errlen)
{
    pthread_rwlock_wrlock(&reg_lock);
    int flush = policy == FUNC_POLICY_FLUSH, replace = policy == FUNC_POLICY_REPLACE;
    int rc = check_clash(add, nadd, replace, flush, err, errlen);
    if (rc == 0) {
        size_t bytes = flush ? 0 : bytes_total;
        for (int a = 0; a < nadd; a++) {
            bytes += flib_bytes(add[a]);
            ssize_t old = flush ? -1 : find_lib(add[a]->name);
            if (old >= 0)
                bytes -= flib_bytes(libs[old]);
        }
        if (bytes > FUNC_MAX_BYTES) {
            snprintf(err, errlen,
                     "ERR the function libraries would take %zu bytes, more than percore's "
                     "limit of %d bytes (FUNCTION DELETE or FLUSH some first)",
                     bytes, FUNC_MAX_BYTES);
            rc = -1;
        }
    }
    if (rc == 0) {
        if (flush)
            while (nlibs)
                libs_remove(nlibs - 1);
        for (int a = 0; a < nadd; a++) {
            ssize_t old = find_lib(add[a]->name);
            if (old >= 0)
                libs_remove((size_t)old);
            libs_push(add[a]);
            add[a] = NULL;
        }
        index_rebuild();
    }
    pthread_rwlock_unlock(&reg_lock);
    return rc;
}

int func_registry_has_lib(const char *name)
{
    pthread_rwlock_rdlock(&reg_lock);
    int found = find_lib(name) >= 0;
    pthread_rwlock_unlock(&reg_lock);
    return found;
}

int func_registry_lookup(sv_t name, func_ref_t *out)
{
    pthread_rwlock_rdlock(&reg_lock);
    const fentry_t *e = find_func(name.p, name.len);
    if (e) {
        out->lib_id = e->lib->id;
        out->flags = e->f->flags;
        out->name = xstrndup(e->f->name, strlen(e->f->name));
    }
    pthread_rwlock_unlock(&reg_lock);
    return e != NULL;
}

int function_declares_no_writes(sv_t name)
{
    func_ref_t ref;
    if (!func_registry_lookup(name, &ref))
        return 0;
    free(ref.name);
    return (ref.flags & SF_NO_WRITES) != 0;
}

int func_registry_has_id(uint64_t id)
{
    pthread_rwlock_rdlock(&reg_lock);
    size_t lo = 0, hi = nlibs;
    int found = 0;
    while (lo < hi && !found) {
        size_t mid = (lo + hi) / 2;
        if (libs[mid]->id == id)
            found = 1;
        else if (libs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    pthread_rwlock_unlock(&reg_lock);
    return found;
}

int func_registry_code_of(uint64_t id, buf_t *out)
{
    pthread_rwlock_rdlock(&reg_lock);
    int found = 0;
    for (size_t i = 0; i < nlibs && !found; i++)
        if (libs[i]->id == id) {
            out->len = 0;
            buf_append(out, libs[i]->code, libs[i]->code_len);
            found = 1;
        }
    pthread_rwlock_unlock(&reg_lock);
    return found;
}

uint64_t func_registry_version(void) { return atomic_load(&reg_version); }

/* ---- the commands --------------------------------------------------------------- */

int function_delete(sv_t name)
{
    pthread_rwlock_wrlock(&reg_lock);
    int found = 0;
    for (size_t i = 0; i < nlibs; i++)
        if (strlen(libs[i]->name) == name.len && memcmp(libs[i]->name, name.p, name.len) == 0) {
            libs_remove(i);
            index_rebuild();
            found = 1;
            break;
        }
    pthread_rwlock_unlock(&reg_lock);
    return found;
}

void function_flush(void)
{
    pthread_rwlock_wrlock(&reg_lock);
    while (nlibs)
        libs_remove(nlibs - 1);
    free(libs);
    libs = NULL;
    libs_cap = 0;
    index_rebuild();
    pthread_rwlock_unlock(&reg_lock);
}

static void reply_flags(reply_t *r, int flags)
{
    long n = 0;
    for (int f = flags; f; f &= f - 1)
        n += (f & -f) != SF_SHEBANG;
    reply_set(r, n);
    static const struct {
        int flag;
        const char *name;
    } names[] = {{SF_NO_WRITES, "no-writes"},
                 {SF_ALLOW_OOM, "allow-oom"},
                 {SF_ALLOW_STALE, "allow-stale"},
                 {SF_NO_CLUSTER, "no-cluster"},
                 {SF_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (flags & names[i].flag)
            reply_status(r, names[i].name); /* status strings, as Redis */
}

void function_list(reply_t *r, sv_t pattern, int has_pattern, int withcode)
{
    pthread_rwlock_rdlock(&reg_lock);
    size_t mark = reply_defer(r);
    long n = 0;
    for (size_t i = 0; i < nlibs; i++) {
        const flib_t *l = libs[i];
        if (has_pattern && !glob_match(pattern.p, pattern.len, l->name, strlen(l->name), 0))
            continue;
        n++;
        reply_map(r, withcode ? 4 : 3);
        reply_bulk_cstr(r, "library_name");
        reply_bulk_cstr(r, l->name);
        reply_bulk_cstr(r, "engine");
        reply_bulk_cstr(r, "LUA");
        reply_bulk_cstr(r, "functions");
        reply_array(r, l->nfuncs);
        for (int j = 0; j < l->nfuncs; j++) {
            reply_map(r, 3);
            reply_bulk_cstr(r, "name");
            reply_bulk_cstr(r, l->funcs[j].name);
            reply_bulk_cstr(r, "description");
            if (l->funcs[j].desc)
                reply_bulk_cstr(r, l->funcs[j].desc);
            else
                reply_null(r);
            reply_bulk_cstr(r, "flags");
            reply_flags(r, l->funcs[j].flags);
        }
        if (withcode) {
            reply_bulk_cstr(r, "library_code");
            reply_bulk(r, l->code, l->code_len);
        }
    }
    reply_defer_set(r, mark, '*', n);
    pthread_rwlock_unlock(&reg_lock);
}

void function_stats(reply_t *r)
{
    reply_map(r, 2);
    reply_bulk_cstr(r, "running_script");
    func_running_reply(r);
    reply_bulk_cstr(r, "engines");
    reply_map(r, 1);
    reply_bulk_cstr(r, "LUA");
    reply_map(r, 2);
    pthread_rwlock_rdlock(&reg_lock);
    reply_bulk_cstr(r, "libraries_count");
    reply_int(r, (long long)nlibs);
    reply_bulk_cstr(r, "functions_count");
    reply_int(r, (long long)nfuncs_total);
    pthread_rwlock_unlock(&reg_lock);
}

/* ---- for FUNCTION DUMP / RESTORE (script.h) ------------------------------------- */

int function_each_code(function_code_fn *fn, void *arg)
{
    pthread_rwlock_rdlock(&reg_lock);
    int rc = 0;
    for (size_t i = 0; i < nlibs && rc == 0; i++)
        rc = fn(arg, libs[i]->code, libs[i]->code_len);
    pthread_rwlock_unlock(&reg_lock);
    return rc;
}

void function_info_memory(buf_t *out)
{
    pthread_rwlock_rdlock(&reg_lock);
    buf_printf(out,
               "number_of_functions:%zu\r\nnumber_of_libraries:%zu\r\n"
               "used_memory_functions:%zu\r\n",
               nfuncs_total, nlibs, bytes_total);
    pthread_rwlock_unlock(&reg_lock);
}

/* persist_internal — what persist.c and persist_load.c share; not for
 * other modules. */
#ifndef PERCORE_PERSIST_INTERNAL_H
#define PERCORE_PERSIST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* dir/dbfilename and dir/temp-<pid>.rdb (takes config's string lock). */
void persist_paths(char *path, char *tmp, size_t n, int pid);
/* Load one file: 0 loaded, 1 no such file, -1 with err. */
int persist_load_path(const char *path, char *err, size_t errlen);
/* INFO's rdb_last_load_keys_loaded / _expired. */
void persist_loaded(uint64_t loaded, uint64_t expired);
/* The keyspace now equals the file: no changes since the last save. */
void persist_saved_now(void);

#endif

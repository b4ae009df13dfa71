/* persist — RDB snapshots of the whole keyspace, in the file format
 * redis-server 7.0 writes and reads ("REDIS0010", AUX fields, SELECTDB,
 * RESIZEDB, EXPIRETIME_MS, IDLE/FREQ, the key-value pairs of rdb.h's value
 * format, EOF and the CRC-64), so dump.rdb moves between the two servers.
 * SAVE / BGSAVE / LASTSAVE and DEBUG RELOAD (cmd_persist.c), the load at
 * startup (main.c) and INFO persistence use it. Commands layer: it walks the
 * store (store.h) and encodes values with rdb.h. */
#ifndef PERCORE_PERSIST_H
#define PERCORE_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Write dir/dbfilename now (through temp-<pid>.rdb, fsynced and renamed).
 * The caller holds every partition, or no worker runs. 0, or -1 with the
 * reason logged. */
int persist_save(void);

/* Fork a child that writes the file while the parent goes on. The caller
 * holds every partition, so the child's copy is a consistent snapshot.
 * 0 started; -1 the fork failed (logged); -2 a child already runs. */
int persist_bgsave(void);
/* Whether a background save runs now (any thread). */
int persist_bgsave_running(void);
/* BGSAVE SCHEDULE while a child runs: start one when it ends. */
void persist_schedule_bgsave(void);

/* Worker 0's cron: collect a finished child's result; say whether a save
 * point or a scheduled BGSAVE wants a background save now (the caller
 * starts it holding every partition). */
int persist_cron(uint64_t now_ms);

/* At startup, before loading dump.rdb or the AOF: LASTSAVE and
 * rdb_last_save_time read the start until a save (as Redis). */
void persist_started(void);

/* Load dir/dbfilename into the store (no worker runs yet). 0 loaded or no
 * file; -1 with the reason (and the offset of bad data) in err. */
int persist_load(char *err, size_t errlen);
/* DEBUG RELOAD (every partition held): save (unless !save), flush (unless
 * !flush), load. 0; -2 the save failed; -1 the load failed (err). */
int persist_reload(int save, int flush, char *err, size_t errlen);

/* SHUTDOWN's choice (-1: save when save points are set, as SIGTERM; 0
 * NOSAVE; 1 SAVE), and at exit, with no worker running: kill a running
 * child and save when so chosen. 0, or -1 when the save failed. */
void persist_set_shutdown_save(int mode);
/* Before SHUTDOWN without FORCE: -1 (logged) when the save mode asks for a
 * save and dir/temp-<pid>.rdb cannot be created (Redis then refuses with
 * "Errors trying to SHUTDOWN"). */
int persist_shutdown_check(int mode);
int persist_at_exit(void);

/* Writes refused with MISCONF: save points are set, stop-writes-on-bgsave-error
 * is on and the last background save failed (any thread). */
int persist_refuse_writes(void);
#define ERR_MISCONF                                                                          \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist " \
    "to disk. Commands that may modify the data set are disabled, because this instance is "  \
    "configured to report errors during writes if RDB snapshotting fails "                    \
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the " \
    "RDB error."

/* The AOF's base (aof.c): the whole RDB file to fd, "aof-base" 1, with the
 * FUNCTION2 records persist_gather_functions gathered before a fork (the
 * child takes no lock). 0 or an errno. */
int persist_write_aof_base(int fd, const buf_t *funcs);
void persist_gather_functions(buf_t *out);
/* Load one RDB file (an AOF's preamble): 0, 1 no such file, -1 with err. */
int persist_load_file(const char *path, char *err, size_t errlen);

uint64_t persist_lastsave(void); /* unix seconds of the last successful save */
/* INFO persistence's fields (the section header included) up to the AOF's
 * (info.c adds those, aof.h). */
void persist_info(buf_t *o, uint64_t start_s);

#endif

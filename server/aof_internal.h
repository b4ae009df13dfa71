/* aof_internal — what aof.c, aof_feed.c, aof_rewrite.c and aof_load.c
 * share; not for other modules. */
#ifndef PERCORE_AOF_INTERNAL_H
#define PERCORE_AOF_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

#define AOF_PATH_MAX 4400
#define AOF_NAME_MAX 300

/* The manifest: one base and the incr files after it, in order. */
typedef struct aof_file {
    char name[AOF_NAME_MAX];
    long long seq;
} aof_file_t;
typedef struct aof_manifest {
    aof_file_t base; /* name[0] == 0: none */
    aof_file_t *incr;
    int nincr, capincr;
} aof_manifest_t;

/* Lock order: aof_wr_mu, then aof_buf_mu. */
extern pthread_mutex_t aof_wr_mu;  /* fd, manifest, the unwritten tail */
extern pthread_mutex_t aof_buf_mu; /* the global buffer, its last SELECT */
extern aof_manifest_t aof_mf;      /* under aof_wr_mu */
extern int aof_fd;                 /* the incr file written now (-1: none), under aof_wr_mu */
extern _Atomic long long aof_cur_size, aof_base_size;
extern _Atomic int aof_write_errno; /* last write's errno, 0 when it succeeded */

/* dir/appenddirname and the manifest's path in it. */
void aof_dir_path(char *out, size_t n);
void aof_file_path(char *out, size_t n, const char *name);
const char *aof_basename(void); /* appendfilename (fixed after startup) */
/* Write the manifest (temp, fsync, rename, fsync dir); under aof_wr_mu. 0 or -1 logged. */
int aof_manifest_write(const aof_manifest_t *m);
void aof_manifest_add_incr(aof_manifest_t *m, const char *name, long long seq);
void aof_manifest_free(aof_manifest_t *m);
/* Open a new incr file named for seq (O_APPEND|O_CREAT), -1 logged. */
int aof_open_incr(long long seq, char *name, size_t n);
/* Write everything pending to aof_fd; under aof_wr_mu. */
void aof_write_pending_locked(void);
/* The next SELECT written to a new file (under aof_wr_mu). */
void aof_reset_db_locked(void);
/* Start the everysec fsync thread if it is not running. */
void aof_fsync_thread_start(void);
/* Logging on (after the load, or at a rewrite's fork for CONFIG SET). */
void aof_set_logging(int on);
/* aof_rewrite.c: INFO's fields about rewrites; exit. */
void aof_rewrite_info(buf_t *o, int part); /* 0: before aof_last_write_status, 1: after */
void aof_rewrite_kill(void);
/* One entry into the calling thread's buffer (aof_feed.c). */
void aof_tl_add(int db, int argc, const sv_t *argv);
/* Entries added outside command_call (blocking.c serving after a task,
 * active expiry) go to the global buffer now. */
void aof_tl_commit_outside(void);
/* CONFIG SET appendonly yes waits for the rewrite that creates the base. */
int aof_wants_enable(void);
void aof_enabled_now(void);
/* aof_load.c */
int aof_manifest_read(const char *path, aof_manifest_t *m, char *err, size_t errlen);
/* Appended RESP for a command to b. */
void aof_put_cmd(buf_t *b, int argc, const sv_t *argv);

#endif

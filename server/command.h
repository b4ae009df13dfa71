/* command — the command table and the context a handler runs in.
 * A command is one row: name, handler, arity, flags, key positions. The
 * dispatcher checks arity and that the client may run it, so handlers don't. */
#ifndef PERCORE_COMMAND_H
#define PERCORE_COMMAND_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "resp.h"
#include "util.h"

struct client;
struct command;
struct acl_user;

/* What a handler sees. It may touch exactly the partitions of its keys (or,
 * for CMD_ALLPARTS / part_fn commands, the partitions its task holds) and,
 * only when the command is CMD_HOME, the issuing client: everything else may
 * run on another worker than the client's. */
typedef struct cmd_ctx {
    int argc;
    sv_t *argv;
    reply_t *r;
    int db;             /* the client's selected database */
    uint64_t now_ms;    /* one clock reading per task: all keys agree on "now" */
    struct client *cl;  /* the issuing client (CMD_HOME commands only) */
    int *dbp;           /* where SELECT stores the caller's new database: the
                           client's, or the running script's (NULL: neither) */
    const struct command *cmd;
    int worker;         /* id of the executing worker */
    uint64_t dirty;     /* keys changed by this command (stats) */
    int failed;         /* the call failed though it added no new error reply (a
                           script's error counted where it was first replied):
                           command_call still counts a failed call */
    const int *parts;   /* the partitions the task holds (ascending) */
    int nparts;
    int pubsub_resp2;   /* the caller is a RESP2 client in subscribed mode (PING's reply) */
    int in_exec;        /* run by EXEC (BGSAVE then only schedules a save, as Redis) */
    int may_block;      /* a client's own command (not inside EXEC or a script): a
                           blocking command may block instead of replying null */
    struct block *blocked; /* set by a blocking command that blocked (blocking.h) */
    const char *peer;   /* the issuing client's address, for MONITOR (monitor.h);
                           NULL in a script's calls, shown as "lua" */
    struct client *origin; /* the issuing client, opaque here: only for naming it in
                              SLOWLOG (slowlog.h); NULL in a script's calls */
    int in_script;      /* a script's redis.call (SORT orders a set for it) */
    const struct acl_user *user; /* the issuing client's user snapshot (acl.h): ACL WHOAMI,
                                    the user a script's calls are checked as; NULL: none */
} cmd_ctx_t;

typedef void cmd_handler(cmd_ctx_t *c);
/* For commands whose partitions are not key positions (SCAN: from its cursor):
 * returns one partition id, or -1 when the command should just run its
 * handler with no partition (to reply with an error). */
typedef int cmd_part_fn(int argc, const sv_t *argv);
/* For commands with movable keys (EVAL's numkeys): sets the key range like
 * command_keys, after the row's lead keys if any. Returns 0, 1 when the command
 * must hold every partition, or -1 when the arguments are invalid (it then runs
 * with no partition and its handler replies the error). */
typedef int cmd_keys_fn(int argc, const sv_t *argv, int *first, int *last, int *step);
/* For container commands whose subcommands differ in flags (SCRIPT KILL is
 * allowed while a script is busy, SCRIPT LOAD is not): flags added to the
 * row's for this call. */
typedef uint32_t cmd_flags_fn(int argc, const sv_t *argv);

enum cmd_flags {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,    /* may grow memory: refused with OOM over maxmemory */
    CMD_ADMIN = 1 << 3,
    CMD_FAST = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_NOAUTH = 1 << 6,     /* allowed before AUTH (AUTH, HELLO, QUIT, RESET) */
    CMD_HOME = 1 << 7,       /* uses the issuing client (c->cl): runs on its home worker,
                                never from a script */
    CMD_ALLPARTS = 1 << 8,   /* holds every partition (FLUSHALL, KEYS, RANDOMKEY) */
    CMD_LOADING = 1 << 9,
    CMD_STALE = 1 << 10,
    CMD_NOMULTI = 1 << 11,   /* runs at once inside MULTI, never queued (WATCH, MULTI,
                                EXEC, QUIT...): percore's, not Redis's no_multi */
    CMD_MAY_REPLICATE = 1 << 12,
    CMD_SORT_FOR_SCRIPT = 1 << 13,
    CMD_BLOCKING = 1 << 14,
    CMD_PUBSUB = 1 << 15,
    CMD_MOVABLEKEYS = 1 << 16,
    CMD_TXN = 1 << 17,       /* transaction state (WATCH, EXEC): runs at home, holding its
                                partitions as a multi-partition task */
    CMD_EXEC = 1 << 18,      /* EXEC: its partitions are those of the queued commands */
    CMD_ALLOW_BUSY = 1 << 19, /* served while a script is busy (SCRIPT KILL, SHUTDOWN...) */
    CMD_NO_MANDATORY_KEYS = 1 << 20, /* may be called with no keys (EVAL ... 0) */
    CMD_SUBSCRIBED = 1 << 21, /* allowed in RESP2's subscribed mode: the (un)subscribes,
                                 PING, QUIT, RESET (client_pubsub.c) */
    CMD_SKIP_MONITOR = 1 << 22, /* MONITOR shows it before it runs (EVAL...: monitor.h) */
    /* Shown by COMMAND INFO as Redis 7.0 does; they change nothing here (no
     * slow log, no cluster, no async loading). */
    CMD_SKIP_SLOWLOG = 1 << 23,
    CMD_ASKING = 1 << 24,
    CMD_NO_ASYNC_LOADING = 1 << 25,
    CMD_REFUSED_IN_MULTI = 1 << 26, /* Redis's no_multi: refused inside MULTI, aborting the
                                       transaction (SHUTDOWN) */
    CMD_INFO_NO_FLAGS = 1 << 27, /* COMMAND INFO shows no flags: a container whose flags
                                    are its subcommands' in Redis (CLIENT CONFIG ...) */
};

/* Redis 7.0's key specifications (COMMAND INFO, COMMAND GETKEYSANDFLAGS). A
 * row declares them as one string, `.key_specs = "..."`, parsed once by
 * command_setup: specs separated by ';', each its flags (RO RW OW RM ACCESS
 * UPDATE INSERT DELETE NOT_KEY INCOMPLETE VARIABLE_FLAGS), then where the
 * keys begin (index:POS | keyword:WORD:STARTFROM | unknown), then how they
 * are found (range:LASTKEY,STEP,LIMIT | keynum:KEYNUMIDX,FIRSTKEY,STEP |
 * unknown), e.g. ZUNIONSTORE's
 *   "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 keynum:0,1,1".
 * They describe the arguments; the partitions a call holds still come from
 * first/last/step and keys_fn (command_keys). */
enum key_spec_flags {
    KS_RO = 1 << 0, KS_RW = 1 << 1, KS_OW = 1 << 2, KS_RM = 1 << 3,
    KS_ACCESS = 1 << 4, KS_UPDATE = 1 << 5, KS_INSERT = 1 << 6, KS_DELETE = 1 << 7,
    KS_NOT_KEY = 1 << 8, KS_INCOMPLETE = 1 << 9, KS_VARIABLE_FLAGS = 1 << 10,
};
enum { KS_BS_UNKNOWN = 0, KS_BS_INDEX, KS_BS_KEYWORD };
enum { KS_FK_UNKNOWN = 0, KS_FK_RANGE, KS_FK_KEYNUM };
typedef struct key_spec {
    unsigned flags;
    int bs_type, fk_type;
    int pos;               /* index: the position; keyword: startfrom */
    char keyword[24];      /* keyword */
    int a, b, c;           /* range: lastkey, step, limit; keynum: keynumidx, firstkey, step */
} key_spec_t;
/* The names COMMAND INFO prints for a key_spec_flags bit (i: the bit). */
const char *key_spec_flag_name(int i);

/* Per worker and command, single writer: relaxed atomics (see stat_add in util.h). */
typedef struct cmd_stats {
    _Atomic uint64_t calls, usec, rejected_calls, failed_calls;
} cmd_stats_t;

/* The command layer's counters, per worker (single writer, see stat_add in util.h),
 * summed by INFO. */
#define COMMAND_STATS(X)                                                                       \
    X(commands_processed, "commands executed")                                                \
    X(error_replies, "error replies sent")

typedef struct cmd_worker_stats {
#define X(name, desc) _Atomic uint64_t name;
    COMMAND_STATS(X)
#undef X
} cmd_worker_stats_t;

typedef struct command command_t;
struct command {
    const char *name;   /* lower case */
    cmd_handler *proc;
    int arity;          /* > 0 exact, < 0 at least -arity (the name counts) */
    uint32_t flags;
    int first_key, last_key, key_step; /* Redis's legacy key spec; last -1 = last arg */
    cmd_part_fn *part_fn;
    const char *acl_categories; /* space separated, e.g. "@write @string @slow" */
    const char *summary;        /* for COMMAND DOCS */
    const char *since;
    const char *group;          /* "string", "generic", "server", "connection" */
    int id;                     /* index in the table (stats) */
    cmd_keys_fn *keys_fn;       /* movable keys; overrides first/last/step */
    const char *const *subcommands; /* container commands: "client|list", ... NULL-ended */
    cmd_flags_fn *flags_fn;     /* per-call flags of a container command */
    const char *key_specs;      /* Redis's key specs, as key_spec_t above describes */
    const command_t *subcommand_rows; /* a container's subcommands described, {0}-ended
                                         (cmd_subcommands.c; COMMAND INFO) */
    command_t *sub;             /* ... copied with their key specs parsed (setup) */
    int nsub;
    const char *tips;           /* Redis's command tips, space separated, lower case
                                   ("nondeterministic_output request_policy:all_shards") */
    const key_spec_t *ks;       /* ... parsed by command_setup */
    int nks;
};

/* One row of a command table, every cmds_<group>[] alike. It expands to
 * designated initializers, so rows stay valid when command_t grows:
 *   CMD_ROW("get", get_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
 *           "@read @string @fast", "string", "1.0.0", "Get the value of a key"),
 * flags are enum cmd_flags; first/last/step are the key positions (0, 0, 0:
 * none). The optional fields follow as designators, e.g. `.keys_fn = lmpop_keys`,
 * `.part_fn = scan_part` or `.subcommands = client_subcommands`; whatever a
 * row leaves out is zero (id is set by command_setup). A row with none passes
 * nothing for `...`: C23 allows it, GCC and Clang accept it in C11 short of
 * -pedantic. */
#define CMD_ROW(name_, proc_, arity_, flags_, first_, last_, step_, acl_, group_, since_,       \
                summary_, ...)                                                                 \
    {.name = (name_), .proc = (proc_), .arity = (arity_), .flags = (flags_),                   \
     .first_key = (first_), .last_key = (last_), .key_step = (step_), .acl_categories = (acl_), \
     .group = (group_), .since = (since_), .summary = (summary_), __VA_ARGS__}

/* The full name of a container command's subcommand ("client|list"), or NULL. */
const char *command_subcommand_name(const command_t *cmd, sv_t sub);

/* Each cmd_<group>.c exports its rows as an array ended by a {0} row. The
 * groups of every layer are listed together by all_commands.c, which names
 * them all; these are the commands layer's (cmds_script: script.h). */
extern const command_t cmds_string[];
extern const command_t cmds_keys[];
extern const command_t cmds_ping[];
extern const command_t cmds_time[];
extern const command_t cmds_server[];
extern const command_t cmds_config[];
extern const command_t cmds_list[];
extern const command_t cmds_hash[];
extern const command_t cmds_set[];
extern const command_t cmds_zset[];
extern const command_t cmds_pubsub[]; /* PUBLISH SPUBLISH PUBSUB */
extern const command_t cmds_bitmap[];
extern const command_t cmds_object[];    /* OBJECT (cmd_object.c) */
extern const command_t cmds_keys_copy[]; /* COPY MOVE (cmd_keys_copy.c) */
extern const command_t cmds_lcs[];       /* LCS (cmd_lcs.c) */
extern const command_t cmds_geo[];       /* GEOADD GEOSEARCH ... (cmd_geo.c) */
extern const command_t cmds_hll[];       /* PFADD PFCOUNT PFMERGE ... (cmd_hll.c) */
extern const command_t cmds_dump[];      /* DUMP RESTORE (cmd_dump.c) */
extern const command_t cmds_persist[];   /* SAVE BGSAVE LASTSAVE (cmd_persist.c) */
extern const command_t cmds_ops[];       /* SLOWLOG LATENCY LOLWUT ROLE (cmd_ops.c) */
extern const command_t cmds_debug[];     /* DEBUG (cmd_debug.c) */
extern const command_t cmds_sort[];      /* SORT SORT_RO (cmd_sort.c) */
/* The containers' subcommand rows (cmd_subcommands.c), for .subcommand_rows. */
extern const command_t subcmds_client[], subcmds_command[], subcmds_config[], subcmds_memory[],
    subcmds_object[], subcmds_pubsub[], subcmds_script[], subcmds_xgroup[], subcmds_xinfo[],
    subcmds_function[], subcmds_slowlog[], subcmds_latency[], subcmds_acl[];
extern const command_t cmds_stream[];    /* XADD XRANGE XREAD ... (cmd_stream.c) */
extern const command_t cmds_stream_read[]; /* XREAD XREADGROUP (cmd_stream_read.c) */
extern const command_t cmds_stream_cg[]; /* XGROUP XACK XCLAIM ... (cmd_stream_cg.c) */
extern const command_t cmds_stream_info[]; /* XINFO (cmd_stream_info.c) */
extern const command_t cmds_acl[];       /* ACL (cmd_acl.c) */

/* Build the table from groups, a NULL-ended list of row arrays (the list in
 * all_commands.c): ids follow the list's order, then each array's. */
void command_setup(const command_t *const *groups);
/* Parse cmd->key_specs into cmd->ks (command_spec.c; a bad string is fatal). */
void command_specs_parse(command_t *cmd);
void command_teardown(void);

/* For COMMAND GETKEYSANDFLAGS: the key_spec_flags of argument `arg` of a
 * call (one command_keys named), from the first spec that finds it, else
 * the last spec's (a key only a keys_fn finds, as SORT's STORE). */
unsigned command_key_flags(const command_t *cmd, int argc, const sv_t *argv, int arg);
/* The same with VARIABLE_FLAGS resolved for this call (SET ... GET reads,
 * BITFIELD with only GETs only reads): GETKEYSANDFLAGS and ACL's key check. */
unsigned command_call_key_flags(const command_t *cmd, int argc, const sv_t *argv, int arg);

/* A subcommand's row by its full name ("config|get", case-insensitive), or NULL. */
const command_t *command_lookup_sub(sv_t fullname);

/* Look a command up by name (case-insensitive); NULL if unknown. */
const command_t *command_lookup(sv_t name);
int command_count(void);
const command_t *command_at(int i);

/* The key arguments of a call: the lead keys argv[lead_first..lead_last],
 * which only a movable-keys command has (its row's first..last: the
 * destination of ZUNIONSTORE, before numkeys), then argv[first],
 * argv[first+step], ... up to argv[last]. A 0 start means none. */
typedef struct cmd_keys {
    int lead_first, lead_last;
    int first, last, step;
} cmd_keys_t;

/* Fills k for one call whose argc has been checked against the arity.
 * Returns 0, or keys_fn's 1 (all partitions) / -1 (invalid: no keys). */
int command_keys(const command_t *cmd, int argc, const sv_t *argv, cmd_keys_t *k);

/* How many key arguments k names, and the argv index of the j-th. */
static inline int cmd_keys_count(const cmd_keys_t *k)
{
    return (k->lead_first ? k->lead_last - k->lead_first + 1 : 0) +
           (k->first ? (k->last - k->first) / k->step + 1 : 0);
}
static inline int cmd_keys_at(const cmd_keys_t *k, int j)
{
    int nlead = k->lead_first ? k->lead_last - k->lead_first + 1 : 0;
    return j < nlead ? k->lead_first + j : k->first + (j - nlead) * k->step;
}

/* ---- the one way a command runs ---------------------------------------------
 * Clients, MULTI/EXEC and scripts all run a command the same way: first
 * command_check (may it run, for this caller?), then command_call (run it and
 * count it). Nothing else calls a handler or touches the statistics. */

/* Who issues a call: what command_check holds it against. */
typedef struct cmd_caller {
    unsigned char noauth;    /* a client that has not authenticated */
    unsigned char script;    /* redis.call/pcall of a running script */
    unsigned char script_ro; /* ... of a read-only script (EVAL_RO, no-writes) */
    unsigned char busy;      /* a busy script is in the way (the scheduler said):
                                only CMD_ALLOW_BUSY calls pass */
    unsigned char oom;       /* check maxmemory now: the call holds its partitions */
    const int *parts;        /* what it holds (for a keyless call's OOM check) */
    int nparts;
    int worker;              /* the calling worker (its statistics) */
    const struct acl_user *user; /* held against its ACL rules (acl.h); NULL: not checked */
    unsigned char acl_ctx;   /* ACL LOG's context for a refusal (ACL_CTX_*) */
    void *origin;            /* the client, for ACL LOG's client-info (NULL: none) */
} cmd_caller_t;

/* May cmd (NULL: unknown) run with these arguments for this caller? Redis's
 * order: unknown command, arity, NOAUTH, not from scripts, ACL (NOPERM, logged),
 * read-only script,
 * OOM (who->oom), BUSY. Returns 0; or CHECK_REFUSED (CHECK_BUSY for BUSY)
 * with Redis's error text for this caller in err (cleared first; no leading
 * '-'), the refusal counted. */
enum { CHECK_REFUSED = -1, CHECK_BUSY = -2 };
int command_check(const cmd_caller_t *who, const command_t *cmd, int argc, const sv_t *argv,
                  buf_t *err);
/* maxmemory: 1 when the server is over its limit even after evicting per
 * policy (from these held partitions or any other; see store.h). */
int command_no_room(const int *parts, int nparts);
/* Count a refusal decided elsewhere (BUSY found at placement, a protocol
 * error): the command's rejected_calls (cmd may be NULL), an error reply,
 * errorstats by msg's code. On worker w. */
void command_refused(int w, const command_t *cmd, const char *msg);
/* The row's flags and, for a container command, its subcommand's. */
static inline uint32_t command_flags(const command_t *cmd, int argc, const sv_t *argv)
{
    return cmd->flags | (cmd->flags_fn ? cmd->flags_fn(argc, argv) : 0);
}

/* Run ctx->cmd (every field of ctx set but dirty) on ctx->worker: with
 * CALL_OOM the maxmemory check first (refused: -1, OOM error replied), then
 * the handler under the reply cap (a reply past proto-max-bulk-len or the
 * normal class's hard output limit is replaced by an error, see resp.h), its
 * time, and every counter: the command's calls/usec/failed_calls, commands
 * processed, error replies, errorstats. Returns 0 when the handler ran. */
enum { CALL_OOM = 1 };
int command_call(cmd_ctx_t *ctx, int flags);

/* Per-worker command statistics, summed by INFO commandstats. */
cmd_stats_t *command_stats(int worker);
/* Worker w's COMMAND_STATS counters. */
cmd_worker_stats_t *command_worker_stats(int worker);
/* 1 when worker has counters (0 <= worker < command_stats_setup's workers):
 * a script run outside the workers (unit tests) counts nothing. */
int command_stats_counted(int worker);
void command_stats_setup(int workers);
void command_stats_teardown(void);
/* Zero the commandstats, the errorstats counts and COMMAND_STATS, then call
 * the hook (CONFIG RESETSTAT: the counters of the layers above, which main.c
 * knows). */
void command_stats_reset(void);
void command_on_stats_reset(void (*fn)(void));
/* On worker w: count k error replies whose text is msg (its first word is
 * the code: "ERR", "WRONGTYPE", ...), for INFO errorstats. */
void command_errstat_add(int worker, const char *msg, size_t len, uint64_t k);
/* INFO errorstats lines, "errorstat_<CODE>:count=<n>", codes sorted. */
void command_errstats_info(buf_t *out);

/* Redis's error for a wrong argument count. */
void reply_wrong_arity(reply_t *r, const char *name);

/* The Redis version whose commands these are (HELLO, INFO). */
#define REDIS_API_VERSION "7.0.15"

/* Shared error texts, exactly as Redis 7.0 writes them. */
#define ERR_SYNTAX "ERR syntax error"
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_NO_KEY "ERR no such key"
#define ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."
#define ERR_STRING_TOO_LONG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define ERR_INVALID_EXPIRE "ERR invalid expire time in '%s' command"
#define ERR_NOAUTH "NOAUTH Authentication required."
#define ERR_BUSY                                                                               \
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

#endif

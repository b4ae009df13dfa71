/* acl — Redis 7.0's users and their permissions (ACL SETUSER's rules, AUTH,
 * the NOPERM checks, ACL LOG). Commands layer: it reads the command table.
 *
 * A user is published as an immutable snapshot (acl_user_t). Changing a user
 * builds a new snapshot, swaps it into the registry under the registry's
 * mutex and marks the old one stale; each client holds a reference to the
 * snapshot it authenticated with, and, seeing it stale at its next command,
 * trades it for the current one (client_precheck, client.c). A reader therefore never sees
 * a half-changed user, and a snapshot is freed when its last holder lets go.
 * The common case costs one load and one branch per command: `fast` is 1 only
 * in a current snapshot that may run every command on every key and channel. */
#ifndef PERCORE_ACL_H
#define PERCORE_ACL_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "command.h"

enum { ACL_PAT_R = 1, ACL_PAT_W = 2, ACL_PAT_RW = 3 };
typedef struct acl_pat {
    char *p;
    uint32_t len;
    uint8_t flags; /* ACL_PAT_*: keys; channels are always 0 */
    int cmd;       /* first-args (+select|0): the command's id */
} acl_pat_t;

enum { SEL_ALLKEYS = 1, SEL_ALLCHANNELS = 2, SEL_ALLCMDS = 4 /* +@all: future commands too */ };
typedef struct acl_sel {
    uint32_t flags;
    uint64_t *bits; /* acl_nbits(): one per command, then one per subcommand */
    acl_pat_t *keys;
    uint32_t nkeys, capkeys;
    acl_pat_t *chans;
    uint32_t nchans, capchans;
    acl_pat_t *fargs; /* first arguments allowed of commands otherwise refused */
    uint32_t nfargs, capfargs;
} acl_sel_t;

#define ACL_HASH_LEN 32
typedef struct acl_user {
    _Atomic int fast;   /* current and allowed everything: the one-branch path */
    _Atomic int stale;  /* replaced (or deleted): holders refresh at their next command */
    _Atomic long refs;
    int deleted;
    char *name;
    int on, nopass;
    int sanitize; /* 1 sanitize-payload, 2 skip-sanitize-payload: shown, not used (RESTORE
                     always checks its payload here) */
    unsigned char (*pw)[ACL_HASH_LEN];
    int npw, cappw;
    acl_sel_t *sels; /* sels[0] is the root; the rest are the (...) selectors */
    int nsels, capsels;
} acl_user_t;

/* Refusal reasons, ordered as Redis ranks them when several selectors fail. */
enum { ACL_OK = 0, ACL_DENIED_CMD = 1, ACL_DENIED_KEY = 2, ACL_DENIED_AUTH = 3,
       ACL_DENIED_CHANNEL = 4 };
enum { ACL_CTX_TOPLEVEL, ACL_CTX_MULTI, ACL_CTX_LUA };

void acl_setup(void);
void acl_teardown(void);

/* ---- snapshots ------------------------------------------------------------ */
static inline int acl_fast(const acl_user_t *u)
{
    return atomic_load_explicit(&((acl_user_t *)u)->fast, memory_order_acquire);
}
/* A new reference to the current snapshot of name (NULL: no such user). */
acl_user_t *acl_get(const char *name, size_t n);
acl_user_t *acl_default(void);
void acl_release(acl_user_t *u);

/* AUTH: a new reference to name's snapshot when it is on and pass is one of its
 * passwords (or nopass); NULL otherwise (the refusal is logged). info names
 * the client for the log. */
acl_user_t *acl_authenticate(sv_t name, sv_t pass, const char *info);
/* requirepass: the default user's passwords become {p} (nopass when empty). */
void acl_set_requirepass(const char *p);
/* The same from the requirepass config key (at setup and on CONFIG SET). */
void acl_apply_requirepass(void);
/* 1 while the default user is on and nopass: new clients start authenticated. */
int acl_default_nopass(void);
/* 1 while the default user has a password (no nopass flag, on or off):
 * protected mode then lets remote clients in, as Redis 7.0 does. */
int acl_default_has_password(void);

/* ---- checks --------------------------------------------------------------- */
/* May u run cmd with these arguments? ACL_OK, or the reason, with *errpos the
 * argv index of the refused key or channel (0 for the command). */
int acl_check(const acl_user_t *u, const command_t *cmd, int argc, const sv_t *argv,
              int *errpos);
/* 1 when a selector of u (NULL: no user) that allows this call reads every
 * key: SORT's BY and GET patterns need it, as in Redis 7.0. */
int acl_reads_all_keys(const acl_user_t *u, const command_t *cmd, int argc, const sv_t *argv);
/* Redis's NOPERM text for a refusal (no leading '-'), for a client or a script. */
void acl_error_text(buf_t *err, int reason, const command_t *cmd, int argc, const sv_t *argv,
                    int script);

/* ---- ACL LOG -------------------------------------------------------------- */
/* Log a refusal: reason ACL_DENIED_*, context ACL_CTX_*, object the command's
 * name, the key, the channel or "AUTH"; info the client's CLIENT INFO line. */
void acl_log(int reason, int context, const char *object, size_t olen, const char *user,
             const char *info);
/* Log cmd's refusal for a client: object from reason/errpos. */
void acl_log_refusal(const acl_user_t *u, int reason, int context, const command_t *cmd, int argc,
                     const sv_t *argv, int errpos, const char *info);
/* Describes a client for the log (its CLIENT INFO line): set by the layer
 * above that knows clients. */
void acl_set_describer(void (*fn)(void *origin, buf_t *out));
void acl_describe(void *origin, buf_t *out);
/* May u subscribe to / publish on channel name (literal: a PSUBSCRIBE pattern,
 * which must be one of the patterns itself)? */
int acl_channel_allowed(const acl_user_t *u, sv_t name, int literal);
/* Told the name of a user whose rules changed (ACL SETUSER, LOAD): the client
 * layer drops its subscribers whose subscriptions the new rules refuse. */
void acl_set_changed_hook(void (*fn)(const char *user));
/* Disconnects the clients of a deleted user: set by the client layer. */
void acl_set_killer(void (*fn)(const char *user));

/* ---- rules (acl_rules.c) -------------------------------------------------- */
int acl_nbits(void);
/* The bit of the call's command or subcommand. */
int acl_cmd_bit(const command_t *cmd, int argc, const sv_t *argv);
acl_user_t *acl_user_new(const char *name, size_t n);
acl_user_t *acl_user_dup(const acl_user_t *u);
void acl_user_free(acl_user_t *u);
void acl_sel_init(acl_sel_t *s);
void acl_sel_free(acl_sel_t *s);
/* First-args: may the selector run cmd (a plain command) with this argv[1]? */
int acl_sel_firstarg(const acl_sel_t *s, const command_t *cmd, int argc, const sv_t *argv);
/* Passwords (acl_pass.c): SHA-256 of p; a 64-digit lower-case hex hash parsed
 * (0, or -1 when malformed); a hash added to / removed from u (-1: absent). */
void acl_hash_password(const char *p, size_t n, unsigned char out[ACL_HASH_LEN]);
int acl_hex_hash(sv_t h, unsigned char out[ACL_HASH_LEN]);
void acl_pw_add(acl_user_t *u, const unsigned char h[ACL_HASH_LEN]);
int acl_pw_del(acl_user_t *u, const unsigned char h[ACL_HASH_LEN]);
/* Apply one SETUSER rule (a whole "(...)" selector included) to u. 0, or -1 with
 * the reason's text in err ("Syntax error", ...). */
int acl_apply_rule(acl_user_t *u, sv_t rule, buf_t *err);
/* Merge argv's "(" ... ")" arguments into whole selectors: out gets views (into
 * argv or into store). -1 with *bad the unmatched argument. */
int acl_merge_selectors(int argc, const sv_t *argv, argvec_t *out, buf_t *store, int *bad);
/* Describe for ACL LIST / GETUSER. */
void acl_describe_commands(const acl_sel_t *s, buf_t *out);
void acl_describe_keys(const acl_sel_t *s, buf_t *out);
void acl_describe_channels(const acl_sel_t *s, buf_t *out, int list);
void acl_describe_user(const acl_user_t *u, buf_t *out); /* "user NAME rules..." */
int acl_user_all(const acl_user_t *u);                   /* the fast test */
/* Categories. */
int acl_category_count(void);
const char *acl_category_name(int i);
int acl_category_find(sv_t name);
int acl_cmd_in_category(const command_t *cmd, int cat);
int acl_bit_in_category(int bit, int cat); /* a command's or subcommand's bit */

/* ---- registry (acl.c), for ACL's subcommands -------------------------------- */
/* Apply rules to name (created when missing): all or nothing. 0, or -1 with
 * Redis's full error text in err. */
int acl_setuser(sv_t name, int argc, const sv_t *argv, buf_t *err);
/* Delete: 1 if it existed, 0 if not, -1 for "default". */
int acl_deluser(sv_t name);
/* Every user, sorted by name: new references (release them); *n their count. */
acl_user_t **acl_users(int *n);
/* Replace every user by those parsed from text (ACL file format): all or
 * nothing; -1 with Redis's error text in err. */
int acl_load_text(const char *path, const char *text, size_t len, buf_t *err);
/* Load the aclfile config key's file (acl_load_text): 0; -2 when no file is
 * configured; -1 with the error in err. */
int acl_load_file(buf_t *err);
void acl_log_reply(reply_t *r, long count);
void acl_log_reset(void);

#endif

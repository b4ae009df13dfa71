/* Running a command: command_check (may this caller run it?) and
 * command_call (run it under the reply cap, time it, count it), the only path
 * from a client, a MULTI block or a script to a handler; and the statistics
 * they keep per worker (INFO commandstats and errorstats). */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "aof.h"
#include "blocking.h"
#include "command.h"
#include "config.h"
#include "latency.h"
#include "persist.h"
#include "monitor.h"
#include "script.h"
#include "slowlog.h"
#include "store.h"
#include "tracking.h"

static cmd_stats_t *stats;         /* [worker][command] */
static cmd_worker_stats_t *wstats; /* [worker] */
static int nworkers_stats;

/* INFO errorstats: per worker, the error codes (an error reply's first word)
 * seen and their counts. Only the worker adds codes; it publishes a new one
 * by storing n (release) after writing it, so INFO on any thread reads codes
 * [0, n) safely. Capped like Redis's table (128 codes). */
#define ERRSTAT_MAX 128
#define ERRCODE_MAX 32
typedef struct errstat_tab {
    char code[ERRSTAT_MAX][ERRCODE_MAX];
    _Atomic uint64_t count[ERRSTAT_MAX];
    _Atomic int n;
} errstat_tab_t;
static errstat_tab_t *errstats;

void command_stats_setup(int workers)
{
    nworkers_stats = workers;
    stats = xcalloc((size_t)workers * (size_t)command_count(), sizeof *stats);
    wstats = xcalloc((size_t)workers, sizeof *wstats);
    errstats = xcalloc((size_t)workers, sizeof *errstats);
}

void command_stats_teardown(void)
{
    free(errstats);
    free(stats);
    free(wstats);
    errstats = NULL;
    stats = NULL;
    wstats = NULL;
    nworkers_stats = 0;
}

void command_errstat_add(int worker, const char *msg, size_t len, uint64_t k)
{
    if (!errstats || worker < 0 || worker >= nworkers_stats || !k)
        return;
    if (len && msg[0] == '-')
        msg++, len--;
    size_t n = 0;
    while (n < len && msg[n] != ' ' && n < ERRCODE_MAX - 1)
        n++;
    if (n == 0) /* no code: Redis files it under ERR */
        msg = "ERR", n = 3;
    errstat_tab_t *t = &errstats[worker];
    int used = atomic_load_explicit(&t->n, memory_order_relaxed);
    for (int i = 0; i < used; i++) {
        if (strncmp(t->code[i], msg, n) == 0 && t->code[i][n] == '\0') {
            stat_add(&t->count[i], k);
            return;
        }
    }
    if (used == ERRSTAT_MAX)
        return;
    memcpy(t->code[used], msg, n);
    t->code[used][n] = '\0';
    atomic_store_explicit(&t->count[used], k, memory_order_relaxed);
    atomic_store_explicit(&t->n, used + 1, memory_order_release);
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void command_errstats_info(buf_t *out)
{
    int total = 0;
    for (int w = 0; w < nworkers_stats; w++)
        total += atomic_load_explicit(&errstats[w].n, memory_order_acquire);
    const char **codes = xcalloc((size_t)total + 1, sizeof *codes);
    int ncodes = 0;
    for (int w = 0; w < nworkers_stats; w++) {
        int n = atomic_load_explicit(&errstats[w].n, memory_order_acquire);
        for (int i = 0; i < n; i++)
            codes[ncodes++] = errstats[w].code[i];
    }
    qsort(codes, (size_t)ncodes, sizeof *codes, cmp_code);
    for (int i = 0; i < ncodes; i++) {
        if (i && strcmp(codes[i], codes[i - 1]) == 0)
            continue; /* the same code on another worker: summed below */
        uint64_t sum = 0;
        for (int w = 0; w < nworkers_stats; w++) {
            int n = atomic_load_explicit(&errstats[w].n, memory_order_acquire);
            for (int j = 0; j < n; j++)
                if (strcmp(errstats[w].code[j], codes[i]) == 0)
                    sum += stat_get(&errstats[w].count[j]);
        }
        if (sum)
            buf_printf(out, "errorstat_%s:count=%llu\r\n", codes[i], (unsigned long long)sum);
    }
    free(codes);
}

cmd_stats_t *command_stats(int worker) { return stats + (size_t)worker * (size_t)command_count(); }
cmd_worker_stats_t *command_worker_stats(int worker) { return &wstats[worker]; }
int command_stats_counted(int worker) { return worker >= 0 && worker < nworkers_stats; }

static void (*reset_hook)(void);
void command_on_stats_reset(void (*fn)(void)) { reset_hook = fn; }

void command_stats_reset(void)
{
    stat_zero(wstats, (size_t)nworkers_stats * sizeof *wstats);
    latency_hist_reset();
    stat_zero(stats, (size_t)nworkers_stats * (size_t)command_count() * sizeof *stats);
    /* Codes stay (only their worker may write them); zero counts are not shown. */
    for (int w = 0; w < nworkers_stats; w++) {
        int n = atomic_load_explicit(&errstats[w].n, memory_order_acquire);
        for (int i = 0; i < n; i++)
            atomic_store_explicit(&errstats[w].count[i], 0, memory_order_relaxed);
    }
    if (reset_hook)
        reset_hook();
}


/* ---- checks ----------------------------------------------------------------- */

int command_no_room(const int *parts, int nparts)
{
    /* The limit is the server's (store.h): one held partition to evict from
     * is as good as another. */
    return store_make_room(nparts ? parts[0] : -1) != 0;
}

/* maxmemory: make room starting from the partition of the call's first key;
 * a keyless call, from those the caller holds. 1 when there is no room. */
static int oom_refused(const cmd_caller_t *who, const command_t *cmd, int argc, const sv_t *argv)
{
    if (!config_get_u64(CFG_MAXMEMORY))
        return 0;
    cmd_keys_t k;
    command_keys(cmd, argc, argv, &k);
    if (cmd_keys_count(&k))
        return store_make_room(store_part_of_key(argv[cmd_keys_at(&k, 0)])) != 0;
    return command_no_room(who->parts, who->nparts);
}

/* Redis's text for an unknown command: its name and the start of its
 * arguments, each cut at 128 bytes, as Redis 7.0 writes it. */
static void unknown_text(buf_t *err, int argc, const sv_t *argv)
{
    buf_printf(err, "ERR unknown command '%.*s', with args beginning with: ",
               (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].p);
    for (int i = 1; i < argc && err->len < 128; i++)
        buf_printf(err, "'%.*s' ", (int)(argv[i].len > 128 ? 128 : argv[i].len), argv[i].p);
}

/* The ACL check past the fast path: 1 (err set, the refusal logged) when the
 * caller's user may not run this call. */
static int acl_refused(const cmd_caller_t *who, const command_t *cmd, int argc, const sv_t *argv,
                       buf_t *err)
{
    int pos;
    int rc = acl_check(who->user, cmd, argc, argv, &pos);
    if (rc == ACL_OK)
        return 0;
    buf_t info;
    buf_init(&info);
    acl_describe(who->origin, &info);
    acl_log_refusal(who->user, rc, who->script ? ACL_CTX_LUA : who->acl_ctx, cmd, argc, argv, pos,
                    buf_cstr(&info));
    buf_free(&info);
    acl_error_text(err, rc, cmd, argc, argv, who->script);
    return 1;
}

int command_check(const cmd_caller_t *who, const command_t *cmd, int argc, const sv_t *argv,
                  buf_t *err)
{
    err->len = 0;
    if (!cmd) {
        if (who->script)
            buf_printf(err, "ERR Unknown Redis command called from script");
        else
            unknown_text(err, argc, argv);
    } else if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        if (who->script)
            buf_printf(err, "ERR Wrong number of args calling Redis command from script");
        else
            buf_printf(err, "ERR wrong number of arguments for '%s' command", cmd->name);
    } else if (who->noauth && !(cmd->flags & CMD_NOAUTH)) {
        buf_printf(err, "%s", ERR_NOAUTH);
    } else if (who->script && (cmd->flags & (CMD_NOSCRIPT | CMD_HOME | CMD_TXN | CMD_EXEC))) {
        /* CMD_PUBSUB alone is allowed: PUBLISH and SPUBLISH run in scripts;
         * so is CMD_BLOCKING (BLMPOP, BZMPOP: never blocking there), as Redis. */
        buf_printf(err, "ERR This Redis command is not allowed from script");
    } else if (who->user && !acl_fast(who->user) && acl_refused(who, cmd, argc, argv, err)) {
        /* the text is set; counted below like the others */
    } else if (who->script_ro && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) {
        /* PUBLISH too (it may replicate), as Redis 7.0. */
        buf_printf(err, "ERR Write commands are not allowed from read-only scripts.");
    } else if (who->oom && (command_flags(cmd, argc, argv) & CMD_DENYOOM) &&
               oom_refused(who, cmd, argc, argv)) {
        buf_printf(err, "%s", ERR_OOM);
    } else if (who->busy && !(command_flags(cmd, argc, argv) & CMD_ALLOW_BUSY)) {
        buf_printf(err, "%s", script_busy_error());
        command_refused(who->worker, cmd, buf_cstr(err));
        return CHECK_BUSY;
    } else {
        return 0;
    }
    command_refused(who->worker, cmd, buf_cstr(err));
    return CHECK_REFUSED;
}

void command_refused(int w, const command_t *cmd, const char *msg)
{
    if (!command_stats_counted(w))
        return;
    if (cmd)
        stat_add(&command_stats(w)[cmd->id].rejected_calls, 1);
    stat_add(&wstats[w].error_replies, 1);
    command_errstat_add(w, msg, strlen(msg), 1);
}

/* ---- the call ----------------------------------------------------------------- */

int command_call(cmd_ctx_t *ctx, int flags)
{
    const command_t *cmd = ctx->cmd;
    reply_t *r = ctx->r;
    int w = ctx->worker;
    /* A failed background save with save points set and
     * stop-writes-on-bgsave-error: writes are refused (one relaxed load
     * while saves succeed). */
    if ((cmd->flags & CMD_WRITE) && persist_refuse_writes()) {
        reply_error(r, ERR_MISCONF);
        command_refused(w, cmd, ERR_MISCONF);
        return -1;
    }
    /* The AOF (aof.h): one relaxed load while appendonly is no. */
    int aof = atomic_load_explicit(&aof_logging, memory_order_relaxed);
    const char *aof_err;
    if (aof && (cmd->flags & CMD_WRITE) && (aof_err = aof_refuse_writes())) {
        reply_error(r, aof_err);
        command_refused(w, cmd, aof_err);
        return -1;
    }
    /* Over maxmemory every command evicts first, as Redis's; only those that
     * may grow memory are refused when that leaves no room. */
    if ((flags & CALL_OOM) && store_over_maxmemory()) {
        cmd_caller_t who = {.oom = 1, .parts = ctx->parts, .nparts = ctx->nparts, .worker = w};
        uint64_t e0 = mono_us();
        int no_room = oom_refused(&who, cmd, ctx->argc, ctx->argv);
        uint64_t ems = (mono_us() - e0) / 1000; /* LATENCY's eviction-cycle, as Redis's */
        if (latency_wanted(ems))
            latency_add("eviction-cycle", ems);
        if (no_room && (command_flags(cmd, ctx->argc, ctx->argv) & CMD_DENYOOM)) {
            reply_error(r, ERR_OOM);
            command_refused(w, cmd, ERR_OOM);
            return -1;
        }
    }
    /* One reply may not outgrow proto-max-bulk-len or the normal class's hard
     * output limit: past that it is refused rather than built (resp.h). */
    size_t start = r->out->len, saved_limit = r->limit;
    int saved_overflow = r->overflow;
    uint64_t cap = config_get_u64(CFG_PROTO_MAX_BULK_LEN);
    obl_t obl;
    config_obl_get(OBL_NORMAL, &obl);
    if (obl.hard && obl.hard < cap)
        cap = obl.hard;
    r->limit = saved_limit && saved_limit < start + cap ? saved_limit : start + cap;
    r->overflow = 0;
    uint64_t errors = r->errors;
    /* MONITOR (monitor.h): one relaxed load when nobody monitors. */
    int mon = atomic_load_explicit(&monitor_n, memory_order_relaxed) &&
              !(command_flags(cmd, ctx->argc, ctx->argv) & CMD_ADMIN);
    if (mon && (cmd->flags & CMD_SKIP_MONITOR))
        monitor_feed(ctx, ctx->db); /* EVAL...: before the calls of its script */
    uint64_t t0 = mono_us(), aof_d0 = 0;
    if (aof) {
        aof_call_begin();
        aof_d0 = store_parts_dirty(ctx->parts, ctx->nparts);
    }
    tracking_handler_start(); /* a thread-local store */
    cmd->proc(ctx);
    if (aof) /* before blocking_touched: a served BLPOP follows the LPUSH */
        aof_feed_call(ctx, aof_d0, start);
    tracking_remember(ctx); /* a tracking client's read: its keys (tracking.h) */
    if (mon && !(cmd->flags & CMD_SKIP_MONITOR))
        monitor_feed(ctx, ctx->dbp ? *ctx->dbp : ctx->db); /* SELECT's new database */
    if (!ctx->blocked)
        blocking_touched(ctx); /* a write may have given blocked clients a value */
    uint64_t us = mono_us() - t0;
    /* SLOWLOG and LATENCY: a relaxed load and compare each when nothing is
     * slow. EXEC is not logged, its commands are (Redis 7.0); a command that
     * blocked is not either (its wait is not its cost). */
    if (slowlog_wanted(us) && !ctx->blocked && !(cmd->flags & CMD_EXEC))
        slowlog_push(cmd, ctx->argc, ctx->argv, us, ctx->peer, ctx->origin);
    if (latency_wanted(us / 1000))
        latency_add(cmd->flags & CMD_FAST ? "fast-command" : "command", us / 1000);
    if (r->overflow) {
        r->out->len = start;
        r->overflow = 0;
        r->limit = 0;
        reply_errorf(r, "ERR reply of more than %llu bytes refused (client-output-buffer-limit "
                        "or proto-max-bulk-len)", (unsigned long long)cap);
    }
    r->limit = saved_limit;
    r->overflow = saved_overflow;
    if (aof)
        aof_call_end();
    if (!command_stats_counted(w))
        return 0; /* not on a worker (unit tests): nothing to count in */
    cmd_stats_t *cs = &command_stats(w)[cmd->id];
    stat_add(&cs->usec, us);
    stat_add(&cs->calls, 1);
    if (r->errors != errors) {
        stat_add(&cs->failed_calls, 1);
        stat_add(&wstats[w].error_replies, 1);
        command_errstat_add(w, r->err, strlen(r->err), 1);
    } else if (ctx->failed) {
        stat_add(&cs->failed_calls, 1);
    }
    stat_add(&wstats[w].commands_processed, 1);
    if (!ctx->blocked && config_get(latency_tracking))
        latency_hist_record(w, latency_slot(cmd, ctx->argc, ctx->argv), us);
    return 0;
}

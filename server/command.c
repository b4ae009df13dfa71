/* The command table: the groups' rows gathered into one lookup table, key
 * positions, per-worker statistics, and the COMMAND command. */
#include "command.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "script.h"

/* Each group is an array ended by a row with no name. */
extern const command_t cmds_list[], cmds_hash[], cmds_set[], cmds_zset[]; /* types.h */
static const command_t *const group_rows[] = {cmds_string, cmds_keys, cmds_server, cmds_config,
                                              cmds_multi, cmds_list, cmds_hash, cmds_set,
                                              cmds_zset, cmds_script};

static command_t *table;     /* every command, ids in order */
static int ncommands;
static int *slots;           /* open addressing: index into table, -1 empty */
static unsigned slot_mask;
static cmd_stats_t *stats;   /* [worker][command] */
static cmd_worker_stats_t *wstats; /* [worker] */
static int nworkers_stats;

static unsigned hash_name(const char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)tolower((unsigned char)p[i])) * 16777619u;
    return h;
}

void command_setup(void)
{
    ncommands = 0;
    for (size_t g = 0; g < sizeof group_rows / sizeof *group_rows; g++)
        for (const command_t *c = group_rows[g]; c->name; c++)
            ncommands++;
    table = xcalloc((size_t)ncommands, sizeof *table);
    int i = 0;
    for (size_t g = 0; g < sizeof group_rows / sizeof *group_rows; g++)
        for (const command_t *c = group_rows[g]; c->name; c++) {
            table[i] = *c;
            table[i].id = i;
            i++;
        }
    unsigned size = 16;
    while (size < (unsigned)ncommands * 4)
        size *= 2;
    slot_mask = size - 1;
    slots = xmalloc(size * sizeof *slots);
    for (unsigned s = 0; s < size; s++)
        slots[s] = -1;
    for (i = 0; i < ncommands; i++) {
        unsigned s = hash_name(table[i].name, strlen(table[i].name)) & slot_mask;
        while (slots[s] != -1)
            s = (s + 1) & slot_mask;
        slots[s] = i;
    }
}

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

void command_teardown(void)
{
    free(errstats);
    errstats = NULL;
    free(table);
    free(slots);
    free(stats);
    free(wstats);
    table = NULL;
    slots = NULL;
    stats = NULL;
    wstats = NULL;
    nworkers_stats = 0;
}

const command_t *command_lookup(sv_t name)
{
    if (!table || name.len == 0 || name.len > 64)
        return NULL;
    unsigned s = hash_name(name.p, name.len) & slot_mask;
    while (slots[s] != -1) {
        const command_t *c = &table[slots[s]];
        if (strlen(c->name) == name.len && strncasecmp(c->name, name.p, name.len) == 0)
            return c;
        s = (s + 1) & slot_mask;
    }
    return NULL;
}

int command_count(void) { return ncommands; }
const command_t *command_at(int i) { return &table[i]; }

int command_keys(const command_t *cmd, int argc, const sv_t *argv, cmd_keys_t *k)
{
    *k = (cmd_keys_t){.step = 1};
    if (cmd->keys_fn) {
        int rc = cmd->keys_fn(argc, argv, &k->first, &k->last, &k->step);
        if (rc != 0 || k->first == 0 || k->first > k->last || k->step < 1)
            k->first = k->last = 0, k->step = 1;
        if (rc == 0 && cmd->first_key > 0 && cmd->last_key >= cmd->first_key &&
            cmd->last_key < argc) {
            k->lead_first = cmd->first_key;
            k->lead_last = cmd->last_key;
        }
        return rc;
    }
    k->step = cmd->key_step > 0 ? cmd->key_step : 1;
    if (cmd->first_key <= 0 || cmd->first_key >= argc)
        return 0;
    int l = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    k->first = cmd->first_key;
    k->last = l >= argc ? argc - 1 : l;
    if (k->last < k->first)
        k->first = k->last = 0;
    return 0;
}

void command_stats_setup(int workers)
{
    nworkers_stats = workers;
    stats = xcalloc((size_t)workers * (size_t)ncommands, sizeof *stats);
    wstats = xcalloc((size_t)workers, sizeof *wstats);
    errstats = xcalloc((size_t)workers, sizeof *errstats);
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

cmd_stats_t *command_stats(int worker) { return stats + (size_t)worker * (size_t)ncommands; }
cmd_worker_stats_t *command_worker_stats(int worker) { return &wstats[worker]; }
int command_stats_counted(int worker) { return worker >= 0 && worker < nworkers_stats; }

void command_stats_reset(void)
{
    stat_zero(wstats, (size_t)nworkers_stats * sizeof *wstats);
    for (int w = 0; w < nworkers_stats; w++)
        for (int i = 0; i < ncommands; i++) {
            cmd_stats_t *s = &command_stats(w)[i];
            atomic_store_explicit(&s->calls, 0, memory_order_relaxed);
            atomic_store_explicit(&s->usec, 0, memory_order_relaxed);
            atomic_store_explicit(&s->rejected_calls, 0, memory_order_relaxed);
            atomic_store_explicit(&s->failed_calls, 0, memory_order_relaxed);
        }
    /* Codes stay (only their worker may write them); zero counts are not shown. */
    for (int w = 0; w < nworkers_stats; w++) {
        int n = atomic_load_explicit(&errstats[w].n, memory_order_acquire);
        for (int i = 0; i < n; i++)
            atomic_store_explicit(&errstats[w].count[i], 0, memory_order_relaxed);
    }
}

void reply_wrong_arity(reply_t *r, const char *name)
{
    reply_errorf(r, "ERR wrong number of arguments for '%s' command", name);
}

const char *command_subcommand_name(const command_t *cmd, sv_t sub)
{
    if (!cmd->subcommands)
        return NULL;
    for (const char *const *n = cmd->subcommands; *n; n++) {
        const char *bar = strchr(*n, '|');
        if (bar && strlen(bar + 1) == sub.len && strncasecmp(bar + 1, sub.p, sub.len) == 0)
            return *n;
    }
    return NULL;
}

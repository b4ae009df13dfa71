/* The command table: the groups' rows gathered into one lookup table, key
 * positions, per-worker statistics, and the COMMAND command. */
#include "command.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "script.h"
#include "worker.h"

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

void command_teardown(void)
{
    free(table);
    free(slots);
    free(stats);
    table = NULL;
    slots = NULL;
    stats = NULL;
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

int command_key_range(const command_t *cmd, int argc, const sv_t *argv, int *first, int *last,
                      int *step)
{
    if (cmd->keys_fn) {
        int rc = cmd->keys_fn(argc, argv, first, last, step);
        if (rc != 0 || *first == 0 || *first > *last)
            *first = *last = 0;
        return rc;
    }
    *first = cmd->first_key;
    *step = cmd->key_step > 0 ? cmd->key_step : 1;
    if (!*first || *first >= argc) {
        *first = *last = 0;
        return 0;
    }
    int l = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    if (l >= argc)
        l = argc - 1;
    *last = l;
    return 0;
}

void command_stats_setup(int workers)
{
    nworkers_stats = workers;
    stats = xcalloc((size_t)workers * (size_t)ncommands, sizeof *stats);
}

cmd_stats_t *command_stats(int worker) { return stats + (size_t)worker * (size_t)ncommands; }

void command_stats_reset(void)
{
    for (int w = 0; w < nworkers_stats; w++)
        for (int i = 0; i < ncommands; i++) {
            cmd_stats_t *s = &command_stats(w)[i];
            atomic_store_explicit(&s->calls, 0, memory_order_relaxed);
            atomic_store_explicit(&s->usec, 0, memory_order_relaxed);
            atomic_store_explicit(&s->rejected_calls, 0, memory_order_relaxed);
            atomic_store_explicit(&s->failed_calls, 0, memory_order_relaxed);
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

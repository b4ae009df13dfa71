/* The command table: the rows of the groups that command_setup is given
 * (all_commands.c lists them) gathered into one lookup table, and key positions.
 * Commands layer; names no group itself. Running a command and its
 * statistics: command_call.c. */
#include "command.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>


static command_t *table;     /* every command, ids in order */
static int ncommands;
static int *slots;           /* open addressing: index into table, -1 empty */
static unsigned slot_mask;

static unsigned hash_name(const char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)tolower((unsigned char)p[i])) * 16777619u;
    return h;
}

static void setup_subcommands(command_t *cmd)
{
    cmd->sub = NULL;
    cmd->nsub = 0;
    if (!cmd->subcommand_rows)
        return;
    while (cmd->subcommand_rows[cmd->nsub].name)
        cmd->nsub++;
    cmd->sub = xcalloc((size_t)cmd->nsub, sizeof *cmd->sub);
    for (int j = 0; j < cmd->nsub; j++) {
        cmd->sub[j] = cmd->subcommand_rows[j];
        command_specs_parse(&cmd->sub[j]);
    }
}

void command_setup(const command_t *const *groups)
{
    ncommands = 0;
    for (size_t g = 0; groups[g]; g++)
        for (const command_t *c = groups[g]; c->name; c++)
            ncommands++;
    table = xcalloc((size_t)ncommands, sizeof *table);
    int i = 0;
    for (size_t g = 0; groups[g]; g++)
        for (const command_t *c = groups[g]; c->name; c++) {
            table[i] = *c;
            table[i].id = i;
            command_specs_parse(&table[i]);
            setup_subcommands(&table[i]);
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
    for (int i = 0; table && i < ncommands; i++) {
        free((void *)table[i].ks);
        for (int j = 0; j < table[i].nsub; j++)
            free((void *)table[i].sub[j].ks);
        free(table[i].sub);
    }
    free(table);
    free(slots);
    table = NULL;
    slots = NULL;
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

const command_t *command_lookup_sub(sv_t full)
{
    const char *bar = memchr(full.p, '|', full.len);
    if (!bar)
        return NULL;
    const command_t *c = command_lookup((sv_t){full.p, (size_t)(bar - full.p)});
    for (int j = 0; c && j < c->nsub; j++)
        if (strlen(c->sub[j].name) == full.len &&
            strncasecmp(c->sub[j].name, full.p, full.len) == 0)
            return &c->sub[j];
    return NULL;
}

int command_count(void) { return ncommands; }
const command_t *command_at(int i) { return &table[i]; }

int command_keys(const command_t *cmd, int argc, const sv_t *argv, cmd_keys_t *k)
{
    *k = (cmd_keys_t){.step = 1};
    if (cmd->keys_fn) {
        int rc = cmd->keys_fn(argc, argv, &k->first, &k->last, &k->step);
        if (rc < 0 || k->first == 0 || k->first > k->last || k->step < 1)
            k->first = k->last = 0, k->step = 1;
        /* 1 (every partition) still names the keys it knows (SORT's) */
        if (rc >= 0 && cmd->first_key > 0 && cmd->last_key >= cmd->first_key &&
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

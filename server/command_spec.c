/* command_spec — Redis 7.0's key specifications of a command row: the
 * `.key_specs` string (command.h describes it) parsed once at setup, and
 * their evaluation on a call's arguments for COMMAND GETKEYSANDFLAGS.
 * Commands layer, beside command.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "log.h"

static const char *const ks_flag_names[] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
    "not_key", "incomplete", "variable_flags",
};
#define KS_NFLAGS ((int)(sizeof ks_flag_names / sizeof *ks_flag_names))

const char *key_spec_flag_name(int i) { return i >= 0 && i < KS_NFLAGS ? ks_flag_names[i] : NULL; }

static int parse_one(const char *tok, size_t n, key_spec_t *ks, int *stage)
{
    char t[64];
    if (n >= sizeof t)
        return -1;
    memcpy(t, tok, n);
    t[n] = 0;
    for (int i = 0; i < KS_NFLAGS; i++)
        if (*stage == 0 && strcasecmp(t, ks_flag_names[i]) == 0) {
            ks->flags |= 1u << i;
            return 0;
        }
    if (*stage == 0) { /* where the keys begin */
        *stage = 1;
        if (strcmp(t, "unknown") == 0)
            return 0;
        if (sscanf(t, "index:%d", &ks->pos) == 1) {
            ks->bs_type = KS_BS_INDEX;
            return 0;
        }
        char *c1 = strchr(t, ':'), *c2 = c1 ? strrchr(t, ':') : NULL;
        if (strncmp(t, "keyword:", 8) == 0 && c2 > c1 && (size_t)(c2 - c1 - 1) < sizeof ks->keyword) {
            memcpy(ks->keyword, c1 + 1, (size_t)(c2 - c1 - 1));
            ks->pos = atoi(c2 + 1);
            ks->bs_type = KS_BS_KEYWORD;
            return 0;
        }
        return -1;
    }
    if (*stage == 1) { /* how they are found */
        *stage = 2;
        if (strcmp(t, "unknown") == 0)
            return 0;
        if (sscanf(t, "range:%d,%d,%d", &ks->a, &ks->b, &ks->c) == 3) {
            ks->fk_type = KS_FK_RANGE;
            return 0;
        }
        if (sscanf(t, "keynum:%d,%d,%d", &ks->a, &ks->b, &ks->c) == 3) {
            ks->fk_type = KS_FK_KEYNUM;
            return 0;
        }
    }
    return -1;
}

void command_specs_parse(command_t *cmd)
{
    cmd->ks = NULL;
    cmd->nks = 0;
    if (!cmd->key_specs || !*cmd->key_specs)
        return;
    int n = 1;
    for (const char *p = cmd->key_specs; *p; p++)
        n += *p == ';';
    key_spec_t *ks = xcalloc((size_t)n, sizeof *ks);
    int i = 0, stage = 0;
    for (const char *p = cmd->key_specs;;) {
        while (*p == ' ')
            p++;
        if (!*p || *p == ';') {
            if (stage != 2) {
                log_fatal("command %s: bad key spec string \"%s\"", cmd->name, cmd->key_specs);
            }
            i++;
            stage = 0;
            if (!*p++)
                break;
            continue;
        }
        const char *e = p;
        while (*e && *e != ' ' && *e != ';')
            e++;
        if (parse_one(p, (size_t)(e - p), &ks[i], &stage) != 0) {
            log_fatal("command %s: bad key spec token \"%.*s\"", cmd->name, (int)(e - p), p);
        }
        p = e;
    }
    cmd->ks = ks;
    cmd->nks = i;
}

/* The argument range a spec finds in a call: 1 with [*first, *last] by *step. */
static int spec_range(const key_spec_t *ks, int argc, const sv_t *argv, int *first, int *last,
                      int *step)
{
    int start;
    if (ks->bs_type == KS_BS_INDEX) {
        start = ks->pos;
    } else if (ks->bs_type == KS_BS_KEYWORD) {
        int from = ks->pos >= 0 ? ks->pos : argc + ks->pos, dir = ks->pos >= 0 ? 1 : -1;
        start = 0;
        for (int i = from; i > 0 && i < argc; i += dir)
            if (sv_eq_ci(argv[i], ks->keyword)) {
                start = i + 1;
                break;
            }
        if (!start)
            return 0;
    } else {
        return 0;
    }
    if (start >= argc)
        return 0;
    if (ks->fk_type == KS_FK_RANGE) {
        int l = ks->a >= 0 ? start + ks->a : argc + ks->a;
        if (ks->a < 0 && ks->c > 0) /* a 1/limit part of the rest (XREAD's STREAMS) */
            l = start + (argc - start) / ks->c + ks->a;
        *first = start;
        *last = l < argc ? l : argc - 1;
        *step = ks->b > 0 ? ks->b : 1;
        return *last >= *first;
    }
    if (ks->fk_type == KS_FK_KEYNUM) {
        long long n;
        int at = start + ks->a;
        if (at >= argc || str_to_ll(argv[at].p, argv[at].len, &n) != 0 || n <= 0 || n > argc)
            return 0;
        *first = start + ks->b, *step = ks->c > 0 ? ks->c : 1;
        *last = *first + (int)(n - 1) * *step;
        if (*last >= argc)
            *last = argc - 1;
        return *last >= *first;
    }
    return 0;
}

unsigned command_key_flags(const command_t *cmd, int argc, const sv_t *argv, int arg)
{
    for (int i = 0; i < cmd->nks; i++) {
        int f, l, s;
        if (spec_range(&cmd->ks[i], argc, argv, &f, &l, &s) && arg >= f && arg <= l &&
            (arg - f) % s == 0)
            return cmd->ks[i].flags;
    }
    return cmd->nks ? cmd->ks[cmd->nks - 1].flags : 0;
}

/* SET and BITFIELD declare VARIABLE_FLAGS; a call's own flags are Redis
 * 7.0's: SET without GET overwrites, BITFIELD with only GETs reads. */
static unsigned variable_key_flags(const command_t *cmd, int argc, const sv_t *argv,
                                   unsigned flags)
{
    if (strcmp(cmd->name, "set") == 0) {
        for (int j = 3; j < argc; j++)
            if (sv_eq_ci(argv[j], "get"))
                return KS_RW | KS_ACCESS | KS_UPDATE;
        return KS_OW | KS_UPDATE;
    }
    if (strcmp(cmd->name, "bitfield") == 0) {
        for (int j = 2; j < argc; j++)
            if (sv_eq_ci(argv[j], "set") || sv_eq_ci(argv[j], "incrby"))
                return KS_RW | KS_ACCESS | KS_UPDATE;
        return KS_RO | KS_ACCESS;
    }
    return flags & ~(unsigned)KS_VARIABLE_FLAGS;
}

unsigned command_call_key_flags(const command_t *cmd, int argc, const sv_t *argv, int arg)
{
    unsigned f = command_key_flags(cmd, argc, argv, arg);
    return f & KS_VARIABLE_FLAGS ? variable_key_flags(cmd, argc, argv, f) : f;
}

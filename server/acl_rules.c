/* ACL SETUSER's rules on a user being built (never on a published snapshot,
 * see acl.h), and their description for ACL LIST / GETUSER, as Redis 7.0. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"

/* Redis 7.0's categories, in ACL CAT's order. */
static const char *const cat_names[] = {
    "keyspace", "read",   "write",    "set",      "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",   "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking", "dangerous", "connection", "transaction", "scripting",
};
#define NCATS ((int)(sizeof cat_names / sizeof cat_names[0]))

static int ncmds, nbits;
static int *sub_base;       /* [command id]: its first subcommand's bit */
static int *sub_count;      /* [command id] */
static uint32_t *cmd_cats;  /* [bit]: a bit per category, commands and subcommands */

int acl_nbits(void) { return nbits; }
int acl_category_count(void) { return NCATS; }
const char *acl_category_name(int i) { return cat_names[i]; }

int acl_category_find(sv_t name)
{
    for (int i = 0; i < NCATS; i++)
        if (strlen(cat_names[i]) == name.len && strncasecmp(cat_names[i], name.p, name.len) == 0)
            return i;
    return -1;
}

int acl_cmd_in_category(const command_t *cmd, int cat) { return (cmd_cats[cmd->id] >> cat) & 1; }
int acl_bit_in_category(int bit, int cat) { return (cmd_cats[bit] >> cat) & 1; }

static uint32_t parse_cats(const char *p)
{
    uint32_t m = 0;
    if (!p)
        return 0;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (*p == '@') {
            int k = acl_category_find((sv_t){p + 1, (size_t)(e - p - 1)});
            if (k >= 0)
                m |= 1u << k;
        }
        p = e;
    }
    return m;
}

void acl_rules_setup(void);
void acl_rules_setup(void)
{
    ncmds = command_count();
    sub_base = xcalloc((size_t)ncmds, sizeof *sub_base);
    sub_count = xcalloc((size_t)ncmds, sizeof *sub_count);
    nbits = ncmds;
    for (int i = 0; i < ncmds; i++) {
        const command_t *c = command_at(i);
        sub_base[i] = nbits;
        for (const char *const *s = c->subcommands; s && *s; s++)
            sub_count[i]++;
        nbits += sub_count[i];
    }
    /* A command's categories are its row's; a container is only @slow, as
     * in Redis 7.0, and each subcommand has its own (its row in cmd_subcommands.c), or its
     * container row's where Redis has none. */
    cmd_cats = xcalloc((size_t)nbits, sizeof *cmd_cats);
    int slow = acl_category_find(SV_LIT("slow"));
    for (int i = 0; i < ncmds; i++) {
        const command_t *c = command_at(i);
        uint32_t row = parse_cats(c->acl_categories);
        cmd_cats[i] = sub_count[i] ? 1u << slow : row;
        for (int j = 0; j < sub_count[i]; j++) {
            const char *n = c->subcommands[j];
            const command_t *sub = command_lookup_sub((sv_t){n, strlen(n)});
            cmd_cats[sub_base[i] + j] =
                sub && sub->acl_categories ? parse_cats(sub->acl_categories) : row;
        }
    }
}

void acl_rules_teardown(void);
void acl_rules_teardown(void)
{
    free(sub_base);
    free(sub_count);
    free(cmd_cats);
    sub_base = sub_count = NULL;
    cmd_cats = NULL;
}

static int sub_index(const command_t *cmd, sv_t sub)
{
    int i = 0;
    for (const char *const *n = cmd->subcommands; n && *n; n++, i++) {
        const char *bar = strchr(*n, '|');
        if (bar && strlen(bar + 1) == sub.len && strncasecmp(bar + 1, sub.p, sub.len) == 0)
            return i;
    }
    return -1;
}

int acl_cmd_bit(const command_t *cmd, int argc, const sv_t *argv)
{
    if (cmd->subcommands && argc >= 2) {
        int i = sub_index(cmd, argv[1]);
        if (i >= 0)
            return sub_base[cmd->id] + i;
    }
    return cmd->id;
}

/* ---- users ------------------------------------------------------------------ */

static inline void bit_set(uint64_t *b, int i, int on)
{
    if (on)
        b[i / 64] |= 1ull << (i % 64);
    else
        b[i / 64] &= ~(1ull << (i % 64));
}
static inline int bit_get(const uint64_t *b, int i) { return (int)((b[i / 64] >> (i % 64)) & 1); }
static size_t bits_bytes(void) { return (size_t)(nbits + 63) / 64 * sizeof(uint64_t); }

void acl_sel_init(acl_sel_t *s)
{
    memset(s, 0, sizeof *s);
    s->bits = xcalloc(1, bits_bytes());
}

static void pats_free(acl_pat_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(p[i].p);
    free(p);
}

void acl_sel_free(acl_sel_t *s)
{
    free(s->bits);
    pats_free(s->fargs, s->nfargs);
    pats_free(s->keys, s->nkeys);
    pats_free(s->chans, s->nchans);
}

static acl_pat_t *pats_dup(const acl_pat_t *p, uint32_t n)
{
    if (!n)
        return NULL;
    acl_pat_t *d = xmalloc(n * sizeof *d);
    for (uint32_t i = 0; i < n; i++) {
        d[i] = p[i];
        d[i].p = xstrndup(p[i].p, p[i].len);
    }
    return d;
}

static void sel_copy(acl_sel_t *d, const acl_sel_t *s)
{
    *d = *s;
    d->bits = xmalloc(bits_bytes());
    memcpy(d->bits, s->bits, bits_bytes());
    d->keys = pats_dup(s->keys, s->nkeys);
    d->capkeys = s->nkeys;
    d->chans = pats_dup(s->chans, s->nchans);
    d->capchans = s->nchans;
    d->fargs = pats_dup(s->fargs, s->nfargs);
    d->capfargs = s->nfargs;
}

acl_user_t *acl_user_new(const char *name, size_t n)
{
    acl_user_t *u = xcalloc(1, sizeof *u);
    u->name = xstrndup(name, n);
    u->capsels = 1;
    u->sels = xcalloc(1, sizeof *u->sels);
    u->nsels = 1;
    acl_sel_init(&u->sels[0]);
    atomic_init(&u->refs, 1);
    return u;
}

acl_user_t *acl_user_dup(const acl_user_t *u)
{
    acl_user_t *d = xcalloc(1, sizeof *d);
    d->name = xstrndup(u->name, strlen(u->name));
    d->on = u->on;
    d->nopass = u->nopass;
    d->sanitize = u->sanitize;
    d->npw = d->cappw = u->npw;
    if (u->npw) {
        d->pw = xmalloc((size_t)u->npw * sizeof *d->pw);
        memcpy(d->pw, u->pw, (size_t)u->npw * sizeof *d->pw);
    }
    d->nsels = d->capsels = u->nsels;
    d->sels = xcalloc((size_t)u->nsels, sizeof *d->sels);
    for (int i = 0; i < u->nsels; i++)
        sel_copy(&d->sels[i], &u->sels[i]);
    atomic_init(&d->refs, 1);
    return d;
}

void acl_user_free(acl_user_t *u)
{
    if (!u)
        return;
    for (int i = 0; i < u->nsels; i++)
        acl_sel_free(&u->sels[i]);
    free(u->sels);
    free(u->pw);
    free(u->name);
    free(u);
}

static int sel_all(const acl_sel_t *s)
{
    if ((s->flags & (SEL_ALLKEYS | SEL_ALLCHANNELS)) != (SEL_ALLKEYS | SEL_ALLCHANNELS))
        return 0;
    for (int i = 0; i < nbits; i++)
        if (!bit_get(s->bits, i))
            return 0;
    return 1;
}

int acl_user_all(const acl_user_t *u)
{
    for (int i = 0; i < u->nsels; i++)
        if (sel_all(&u->sels[i]))
            return 1;
    return 0;
}

/* ---- commands ---------------------------------------------------------------- */

static void fargs_drop(acl_sel_t *s, int cmd)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->nfargs; i++) {
        if (s->fargs[i].cmd == cmd)
            free(s->fargs[i].p);
        else
            s->fargs[k++] = s->fargs[i];
    }
    s->nfargs = k;
}

int acl_sel_firstarg(const acl_sel_t *s, const command_t *cmd, int argc, const sv_t *argv)
{
    if (argc < 2)
        return 0;
    for (uint32_t i = 0; i < s->nfargs; i++)
        if (s->fargs[i].cmd == cmd->id && s->fargs[i].len == argv[1].len &&
            strncasecmp(s->fargs[i].p, argv[1].p, argv[1].len) == 0)
            return 1;
    return 0;
}

/* A whole command: its bit and its subcommands'. */
static void set_cmd(acl_sel_t *s, const command_t *c, int on)
{
    if (s->nfargs)
        fargs_drop(s, c->id);
    bit_set(s->bits, c->id, on);
    for (int i = 0; i < sub_count[c->id]; i++)
        bit_set(s->bits, sub_base[c->id] + i, on);
}

/* As Redis: a command of the category with its subcommands, then each
 * subcommand of the category. */
static void set_category(acl_sel_t *s, int cat, int on)
{
    for (int i = 0; i < ncmds; i++)
        if ((cmd_cats[i] >> cat) & 1)
            set_cmd(s, command_at(i), on);
    for (int b = ncmds; b < nbits; b++)
        if ((cmd_cats[b] >> cat) & 1)
            bit_set(s->bits, b, on);
}

static void set_all(acl_sel_t *s, int on)
{
    pats_free(s->fargs, s->nfargs);
    s->fargs = NULL;
    s->nfargs = s->capfargs = 0;
    memset(s->bits, on ? 0xff : 0, bits_bytes());
    if (on)
        s->flags |= SEL_ALLCMDS;
    else
        s->flags &= ~(uint32_t)SEL_ALLCMDS;
}

static void pat_add(acl_pat_t **v, uint32_t *n, uint32_t *cap, const char *p, size_t len,
                    uint8_t flags);

/* +cmd -cmd +cmd|sub -cmd|sub +@cat -@cat */
static int command_rule(acl_sel_t *s, sv_t r, buf_t *err)
{
    int on = r.p[0] == '+';
    sv_t name = {r.p + 1, r.len - 1};
    if (name.len && name.p[0] == '@') {
        sv_t cat = {name.p + 1, name.len - 1};
        if (sv_eq_ci(cat, "all")) {
            set_all(s, on);
            return 0;
        }
        int k = acl_category_find(cat);
        if (k < 0)
            goto unknown;
        set_category(s, k, on);
        return 0;
    }
    const char *bar = memchr(name.p, '|', name.len);
    if (!bar) {
        const command_t *c = command_lookup(name);
        if (!c)
            goto unknown;
        set_cmd(s, c, on);
        return 0;
    }
    const command_t *c = command_lookup((sv_t){name.p, (size_t)(bar - name.p)});
    if (!c)
        goto unknown;
    sv_t rest = {bar + 1, name.len - (size_t)(bar - name.p) - 1};
    const char *bar2 = memchr(rest.p, '|', rest.len);
    if (!c->subcommands) {
        /* Redis 7.0's first-arg rules (+select|0): allowed, only added. */
        if (bar2 || !rest.len)
            goto unknown;
        if (!on) {
            buf_printf(err, "Syntax error");
            return -1;
        }
        if (!bit_get(s->bits, c->id)) {
            pat_add(&s->fargs, &s->nfargs, &s->capfargs, rest.p, rest.len, 0);
            s->fargs[s->nfargs - 1].cmd = c->id;
        }
        return 0;
    }
    int i = sub_index(c, bar2 ? (sv_t){rest.p, (size_t)(bar2 - rest.p)} : rest);
    if (i < 0)
        goto unknown;
    if (bar2) {
        buf_printf(err, "Allowing first-arg of a subcommand is not supported");
        return -1;
    }
    bit_set(s->bits, sub_base[c->id] + i, on);
    return 0;
unknown:
    buf_printf(err, "Unknown command or category name in ACL");
    return -1;
}

/* ---- patterns ---------------------------------------------------------------- */

static int has_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == ' ' || p[i] == '\0')
            return 1;
    return 0;
}

static void pat_add(acl_pat_t **v, uint32_t *n, uint32_t *cap, const char *p, size_t len,
                    uint8_t flags)
{
    /* Keys: one entry per pattern (looked for among the first ones only, so
     * a user of many patterns is not quadratic to build). */
    for (uint32_t i = 0; i < *n && i < 1024 && flags; i++)
        if ((*v)[i].len == len && memcmp((*v)[i].p, p, len) == 0) {
            (*v)[i].flags |= flags;
            return;
        }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[*n] = (acl_pat_t){xstrndup(p, len), (uint32_t)len, flags, 0};
    (*n)++;
}

static void reset_keys(acl_sel_t *s)
{
    pats_free(s->keys, s->nkeys);
    s->keys = NULL;
    s->nkeys = s->capkeys = 0;
    s->flags &= ~(uint32_t)SEL_ALLKEYS;
}

static void reset_channels(acl_sel_t *s)
{
    pats_free(s->chans, s->nchans);
    s->chans = NULL;
    s->nchans = s->capchans = 0;
    s->flags &= ~(uint32_t)SEL_ALLCHANNELS;
}

static const char ERR_KEYS_ALL[] =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
static const char ERR_CHANS_ALL[] =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";

/* ~pat %R~pat %W~pat %RW~pat */
static int key_rule(acl_sel_t *s, sv_t r, buf_t *err)
{
    uint8_t flags = 0;
    size_t off;
    if (r.p[0] == '~') {
        flags = ACL_PAT_RW;
        off = 1;
    } else {
        for (off = 1; off < r.len && r.p[off] != '~'; off++) {
            if (r.p[off] == 'R' || r.p[off] == 'r')
                flags |= ACL_PAT_R;
            else if (r.p[off] == 'W' || r.p[off] == 'w')
                flags |= ACL_PAT_W;
            else
                goto syntax;
        }
        if (off == r.len && flags)
            return 0; /* "%RW" alone: no key, as Redis 7.0 accepts it */
        if (off == r.len || !flags)
            goto syntax;
        off++;
    }
    if (has_space(r.p + off, r.len - off))
        goto syntax;
    if (r.len - off == 1 && r.p[off] == '*' && flags == ACL_PAT_RW) {
        reset_keys(s);
        s->flags |= SEL_ALLKEYS;
        return 0;
    }
    if (s->flags & SEL_ALLKEYS) {
        buf_printf(err, "%s", ERR_KEYS_ALL);
        return -1;
    }
    pat_add(&s->keys, &s->nkeys, &s->capkeys, r.p + off, r.len - off, flags);
    return 0;
syntax:
    buf_printf(err, "Syntax error");
    return -1;
}

static int channel_rule(acl_sel_t *s, sv_t r, buf_t *err)
{
    if (has_space(r.p + 1, r.len - 1)) {
        buf_printf(err, "Syntax error");
        return -1;
    }
    if (r.len == 2 && r.p[1] == '*') {
        reset_channels(s);
        s->flags |= SEL_ALLCHANNELS;
        return 0;
    }
    if (s->flags & SEL_ALLCHANNELS) {
        buf_printf(err, "%s", ERR_CHANS_ALL);
        return -1;
    }
    pat_add(&s->chans, &s->nchans, &s->capchans, r.p + 1, r.len - 1, 0);
    return 0;
}

/* The rules a selector takes: keys, channels, commands. 1 when r is none. */
static int selector_rule(acl_sel_t *s, sv_t r, buf_t *err)
{
    if (sv_eq_ci(r, "allkeys"))
        r = SV_LIT("~*");
    else if (sv_eq_ci(r, "allchannels"))
        r = SV_LIT("&*");
    else if (sv_eq_ci(r, "allcommands"))
        r = SV_LIT("+@all");
    else if (sv_eq_ci(r, "nocommands"))
        r = SV_LIT("-@all");
    if (sv_eq_ci(r, "resetkeys")) {
        reset_keys(s);
        return 0;
    }
    if (sv_eq_ci(r, "resetchannels")) {
        reset_channels(s);
        return 0;
    }
    if (r.len == 0)
        return 1;
    if (r.p[0] == '~' || r.p[0] == '%')
        return key_rule(s, r, err);
    if (r.p[0] == '&')
        return channel_rule(s, r, err);
    if ((r.p[0] == '+' || r.p[0] == '-') && r.len > 1)
        return command_rule(s, r, err);
    return 1;
}

/* ---- one rule ---------------------------------------------------------------- */

int acl_apply_rule(acl_user_t *u, sv_t r, buf_t *err)
{
    unsigned char h[ACL_HASH_LEN];
    if (r.len >= 2 && r.p[0] == '(' && r.p[r.len - 1] == ')') {
        acl_sel_t s;
        acl_sel_init(&s);
        /* The selector's rules, space separated inside the parentheses. */
        const char *p = r.p + 1, *end = r.p + r.len - 1;
        while (p < end) {
            while (p < end && *p == ' ')
                p++;
            const char *e = p;
            while (e < end && *e != ' ')
                e++;
            if (e > p && selector_rule(&s, (sv_t){p, (size_t)(e - p)}, err) != 0) {
                if (!err->len)
                    buf_printf(err, "Syntax error");
                acl_sel_free(&s);
                return -1;
            }
            p = e;
        }
        if (u->nsels == u->capsels) {
            u->capsels *= 2;
            u->sels = xrealloc(u->sels, (size_t)u->capsels * sizeof *u->sels);
        }
        u->sels[u->nsels++] = s;
        return 0;
    }
    if (sv_eq_ci(r, "on")) {
        u->on = 1;
    } else if (sv_eq_ci(r, "off")) {
        u->on = 0;
    } else if (sv_eq_ci(r, "skip-sanitize-payload")) {
        u->sanitize = 2;
    } else if (sv_eq_ci(r, "sanitize-payload")) {
        u->sanitize = 1;
    } else if (sv_eq_ci(r, "nopass")) {
        u->nopass = 1;
        u->npw = 0;
    } else if (sv_eq_ci(r, "resetpass")) {
        u->nopass = 0;
        u->npw = 0;
    } else if (sv_eq_ci(r, "clearselectors")) {
        for (int i = 1; i < u->nsels; i++)
            acl_sel_free(&u->sels[i]);
        u->nsels = 1;
    } else if (sv_eq_ci(r, "reset")) {
        u->nopass = 0;
        u->npw = 0;
        u->on = 0;
        u->sanitize = 1;
        for (int i = 1; i < u->nsels; i++)
            acl_sel_free(&u->sels[i]);
        u->nsels = 1;
        reset_keys(&u->sels[0]);
        reset_channels(&u->sels[0]);
        set_all(&u->sels[0], 0);
    } else if (r.len && (r.p[0] == '>' || r.p[0] == '<')) {
        acl_hash_password(r.p + 1, r.len - 1, h);
        if (r.p[0] == '>') {
            acl_pw_add(u, h);
        } else if (acl_pw_del(u, h) != 0) {
            buf_printf(err, "The password you are trying to remove from the user does not exist");
            return -1;
        }
    } else if (r.len && (r.p[0] == '#' || r.p[0] == '!')) {
        if (acl_hex_hash((sv_t){r.p + 1, r.len - 1}, h) != 0) {
            buf_printf(err, "The password hash must be exactly 64 characters and contain only "
                            "lowercase hexadecimal characters");
            return -1;
        }
        if (r.p[0] == '#') {
            acl_pw_add(u, h);
        } else if (acl_pw_del(u, h) != 0) {
            buf_printf(err, "The password you are trying to remove from the user does not exist");
            return -1;
        }
    } else {
        int rc = selector_rule(&u->sels[0], r, err);
        if (rc == 1) {
            buf_printf(err, "Syntax error");
            return -1;
        }
        return rc;
    }
    return 0;
}

int acl_merge_selectors(int argc, const sv_t *argv, argvec_t *out, buf_t *store, int *bad)
{
    /* Offsets first: store may move while it grows. */
    size_t *offs = xcalloc((size_t)argc + 1, sizeof *offs);
    size_t *lens = xcalloc((size_t)argc + 1, sizeof *lens);
    int *from = xcalloc((size_t)argc + 1, sizeof *from);
    int n = 0, rc = 0;
    store->len = 0;
    for (int i = 0; i < argc; i++) {
        sv_t a = argv[i];
        if (a.len && a.p[0] == '(' && !(a.len >= 2 && a.p[a.len - 1] == ')')) {
            size_t start = store->len;
            int j = i;
            for (; j < argc; j++) {
                if (j > i)
                    buf_putc(store, ' ');
                buf_append(store, argv[j].p, argv[j].len);
                if (argv[j].len && argv[j].p[argv[j].len - 1] == ')')
                    break;
            }
            if (j == argc) {
                *bad = i;
                rc = -1;
                break;
            }
            offs[n] = start;
            lens[n] = store->len - start;
            from[n++] = -1;
            i = j;
        } else {
            from[n++] = i;
        }
    }
    for (int k = 0; rc == 0 && k < n; k++)
        argvec_push(out, from[k] >= 0 ? argv[from[k]]
                                      : (sv_t){store->data + offs[k], lens[k]});
    free(offs);
    free(lens);
    free(from);
    return rc;
}

/* ---- description -------------------------------------------------------------- */

/* What applying +@cat (additive) or -@cat to fake would gain: the commands it
 * makes right minus those it makes wrong. */
static int category_gain(const acl_sel_t *s, const acl_sel_t *fake, int cat, int additive)
{
    int gain = 0;
    for (int i = 0; i < ncmds; i++) {
        if (!((cmd_cats[i] >> cat) & 1) || bit_get(fake->bits, i) == additive)
            continue;
        gain += bit_get(s->bits, i) == additive ? 1 : -1;
    }
    return gain;
}

void acl_describe_commands(const acl_sel_t *s, buf_t *out)
{
    acl_sel_t fake;
    acl_sel_init(&fake);
    int additive = !(s->flags & SEL_ALLCMDS);
    set_all(&fake, !additive);
    buf_printf(out, additive ? "-@all" : "+@all");
    /* Categories that fit best first, then single commands, then subcommands,
     * until the rules give exactly this bitmap (Redis 7.0's approach). */
    for (;;) {
        /* The category that fixes most commands (net of those it would
         * wrongly change) next; ties in ACL CAT's order. */
        int best = -1, best_gain = 0;
        for (int k = 0; k < NCATS; k++) {
            int gain = category_gain(s, &fake, k, additive);
            if (gain > best_gain) {
                best = k;
                best_gain = gain;
            }
        }
        if (best < 0)
            break;
        set_category(&fake, best, additive);
        buf_printf(out, " %c@%s", additive ? '+' : '-', cat_names[best]);
    }
    for (int i = 0; i < ncmds; i++) {
        const command_t *c = command_at(i);
        int ub = bit_get(s->bits, i);
        if (ub != bit_get(fake.bits, i)) {
            set_cmd(&fake, c, ub);
            buf_printf(out, " %c%s", ub ? '+' : '-', c->name);
        }
        for (uint32_t f = 0; f < s->nfargs; f++)
            if (s->fargs[f].cmd == i && !bit_get(s->bits, i))
                buf_printf(out, " +%s|%.*s", c->name, (int)s->fargs[f].len, s->fargs[f].p);
        for (int j = 0; j < sub_count[i]; j++) {
            int b = sub_base[i] + j;
            int sb = bit_get(s->bits, b);
            if (sb != bit_get(fake.bits, b)) {
                bit_set(fake.bits, b, sb);
                buf_printf(out, " %c%s", sb ? '+' : '-', c->subcommands[j]);
            }
        }
    }
    acl_sel_free(&fake);
}

void acl_describe_keys(const acl_sel_t *s, buf_t *out)
{
    if (s->flags & SEL_ALLKEYS) {
        buf_printf(out, "~*");
        return;
    }
    for (uint32_t i = 0; i < s->nkeys; i++) {
        const acl_pat_t *p = &s->keys[i];
        if (i)
            buf_putc(out, ' ');
        buf_printf(out, "%s~%.*s",
                   p->flags == ACL_PAT_RW ? "" : p->flags == ACL_PAT_R ? "%R" : "%W",
                   (int)p->len, p->p);
    }
}

void acl_describe_channels(const acl_sel_t *s, buf_t *out, int list)
{
    if (s->flags & SEL_ALLCHANNELS) {
        buf_printf(out, "&*");
        return;
    }
    if (list)
        buf_printf(out, "resetchannels");
    for (uint32_t i = 0; i < s->nchans; i++)
        buf_printf(out, "%s&%.*s", (i || list) ? " " : "", (int)s->chans[i].len, s->chans[i].p);
}

static void describe_sel(const acl_sel_t *s, buf_t *out)
{
    size_t l0 = out->len;
    acl_describe_keys(s, out);
    if (out->len > l0)
        buf_putc(out, ' ');
    acl_describe_channels(s, out, 1);
    buf_putc(out, ' ');
    acl_describe_commands(s, out);
}

void acl_describe_user(const acl_user_t *u, buf_t *out)
{
    buf_printf(out, "user %s %s", u->name, u->on ? "on" : "off");
    if (u->nopass)
        buf_printf(out, " nopass");
    if (u->sanitize)
        buf_printf(out, u->sanitize == 1 ? " sanitize-payload" : " skip-sanitize-payload");
    for (int i = 0; i < u->npw; i++) {
        buf_printf(out, " #");
        for (int j = 0; j < ACL_HASH_LEN; j++)
            buf_printf(out, "%02x", u->pw[i][j]);
    }
    buf_putc(out, ' ');
    describe_sel(&u->sels[0], out);
    for (int i = 1; i < u->nsels; i++) {
        buf_printf(out, " (");
        describe_sel(&u->sels[i], out);
        buf_putc(out, ')');
    }
}

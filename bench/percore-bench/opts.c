/* opts — percore-bench's options: one table, the parser and --help. */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* X(name, argument or NULL, help) */
/* clang-format off */
#define OPTS_TABLE(X)                                                                              \
    X("host", "HOST", "server address [127.0.0.1]")                                                \
    X("protocol", "P", "redis (RESP) or memcache (memcached text get/set) [redis]")               \
    X("port", "PORT", "server port [6379]")                                                        \
    X("threads", "T", "generator threads, one libev loop each [1]")                               \
    X("cpus", "LIST", "pin thread i to the i-th CPU of LIST, e.g. 1 or 2-5,8 [not pinned]")        \
    X("connections", "C", "connections, spread round-robin over the threads [50]")                \
    X("pipeline", "D", "requests in flight per connection at most [1]")                           \
    X("rate", "R", "open loop: requests per second overall, k/M suffixes [10000]")                \
    X("fixed", NULL, "fixed intervals instead of Poisson arrivals")                                \
    X("closed", NULL, "closed loop: each connection keeps D requests in flight; no --rate")        \
    X("duration", "SEC", "measured seconds [10]")                                                  \
    X("warmup", "SEC", "seconds of load before measuring [2]")                                     \
    X("drain", "SEC", "after the run, wait this long at most for late replies [10]")              \
    X("keys", "N", "key space size, k/M suffixes [100000]")                                        \
    X("dist", "D", "key distribution: uniform or zipf:THETA [uniform]")                           \
    X("ratio", "SET:GET", "SETs to GETs among cheap requests [1:10]")                              \
    X("value-size", "BYTES", "SET value size [32]")                                                \
    X("elephants", "K:SHARE[:DEPTH]", "K connections carry SHARE of the requests, at pipeline DEPTH [none]") \
    X("heavy", "FRACTION:CMD", "costly requests, CMD = LRANGE, BIGVALUE or LUA; repeatable [none]") \
    X("txn", "FRACTION:KEYS:multi|lua[:THETA]", "multi-key transfers over Zipf(THETA, 0.99) keys [none]") \
    X("burst", "FACTOR:PERIOD_MS:LEN_MS", "rate times FACTOR for LEN_MS of every PERIOD_MS [none]") \
    X("preload", NULL, "SET every key (and txn accounts) before the run")                          \
    X("preload-only", NULL, "--preload and the --heavy lists / big values, then exit")             \
    X("no-heavy-preload", NULL, "don't rebuild the --heavy lists / big values (already there)")    \
    X("json", "FILE", "write the results as JSON to FILE (- for stdout)")                          \
    X("seed", "N", "random seed [1]")                                                              \
    X("big-size", "BYTES", "BIGVALUE value size [131072]")                                         \
    X("heavy-keys", "N", "lists / big values preloaded for --heavy [100]")                         \
    X("list-len", "N", "elements per list; LRANGE reads them all [1000]")                          \
    X("lua-loops", "N", "iterations of the LUA heavy script [100000]")                             \
    X("quiet", NULL, "no human summary")                                                           \
    X("check", NULL, "check the options (and that --protocol can express them), then exit")      \
    X("version", NULL, "print the version and exit")                                               \
    X("help", NULL, "this help")
/* clang-format on */

#define X(name, arg, help) {name, (arg) ? required_argument : no_argument, NULL, 0},
static const struct option long_opts[] = {OPTS_TABLE(X){NULL, 0, NULL, 0}};
#undef X

struct opt_doc {
    const char *name, *arg, *help;
};
#define X(name, arg, help) {name, arg, help},
static const struct opt_doc docs[] = {OPTS_TABLE(X)};
#undef X

static void usage(FILE *f)
{
    fprintf(f, "usage: percore-bench [OPTION]...\n"
               "Open-loop (or --closed) load generator for Redis-protocol servers.\n"
               "Latency is measured from each request's intended send time.\n\n");
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", docs[i].name, docs[i].arg ? " " : "",
                 docs[i].arg ? docs[i].arg : "");
        if (strlen(left) > 24)
            fprintf(f, "  %s\n  %-24s  %s\n", left, "", docs[i].help);
        else
            fprintf(f, "  %-24s  %s\n", left, docs[i].help);
    }
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "percore-bench: --%s %s: %s\n", opt, val ? val : "", why);
    return -1;
}

/* A finite number with an optional k / M / G suffix. */
static int num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v))
        return -1;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'M')
        v *= 1e6, end++;
    else if (*end == 'G')
        v *= 1e9, end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int integer(const char *s, double lo, double hi, double *out)
{
    double v;
    if (num(s, &v) || v != floor(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int opts_parse_cpus(const char *s, int *cpus, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0 || a > 4095)
            return -1;
        b = a;
        if (*end == '-') {
            s = end + 1;
            b = strtol(s, &end, 10);
            if (end == s || b < a || b > 4095)
                return -1;
        }
        for (long c = a; c <= b; c++) {
            if (n == max)
                return -1;
            cpus[n++] = (int)c;
        }
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return n ? n : -1;
}

const char *opts_heavy_name(enum heavy_kind k)
{
    switch (k) {
    case HEAVY_LRANGE:
        return "LRANGE";
    case HEAVY_BIGVALUE:
        return "BIGVALUE";
    case HEAVY_LUA:
        return "LUA";
    }
    return "?";
}

void opts_defaults(struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 6379;
    o->threads = 1;
    o->connections = 50;
    o->pipeline = 1;
    o->rate = 10000;
    o->duration = 10;
    o->warmup = 2;
    o->drain = 10;
    o->keys = 100000;
    o->ratio_set = 1;
    o->ratio_get = 10;
    o->value_size = 32;
    o->txn_theta = 0.99;
    o->burst_factor = 1;
    o->seed = 1;
    o->big_size = 131072;
    o->heavy_keys = 100;
    o->list_len = 1000;
    o->lua_loops = 100000;
}

static void record_cmdline(struct opts *o, int argc, char **argv)
{
    size_t len = 0;
    o->cmdline[0] = 0;
    for (int i = 0; i < argc && len < sizeof o->cmdline; i++) {
        const char *a = i ? argv[i] : "percore-bench";
        int quote = !*a || strpbrk(a, " \t'\"$`\\*?") != NULL;
        int w = snprintf(o->cmdline + len, sizeof o->cmdline - len, quote ? "%s'%s'" : "%s%s",
                         i ? " " : "", a);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static int parse_one(struct opts *o, const char *name, const char *v)
{
    double d;
#define IS(s) (strcmp(name, s) == 0)
    if (IS("host")) {
        o->host = v;
    } else if (IS("protocol")) {
        if (strcmp(v, "redis") && strcmp(v, "memcache"))
            return bad(name, v, "want redis or memcache");
        o->memcache = v[0] == 'm';
    } else if (IS("port")) {
        if (integer(v, 1, 65535, &d))
            return bad(name, v, "want a port number");
        o->port = (int)d;
    } else if (IS("threads")) {
        if (integer(v, 1, 256, &d))
            return bad(name, v, "want 1..256");
        o->threads = (int)d;
    } else if (IS("cpus")) {
        o->ncpus = opts_parse_cpus(v, o->cpus, OPTS_MAX_CPUS);
        if (o->ncpus < 0)
            return bad(name, v, "want a CPU list like 1 or 0-3,8");
    } else if (IS("connections")) {
        if (integer(v, 1, 100000, &d))
            return bad(name, v, "want 1..100000");
        o->connections = (int)d;
    } else if (IS("pipeline")) {
        if (integer(v, 1, 65536, &d))
            return bad(name, v, "want 1..65536");
        o->pipeline = (int)d;
    } else if (IS("rate")) {
        if (num(v, &d) || !(d > 0))
            return bad(name, v, "want a positive rate");
        o->rate = d;
    } else if (IS("fixed")) {
        o->fixed = 1;
    } else if (IS("closed")) {
        o->closed = 1;
    } else if (IS("duration") || IS("warmup") || IS("drain")) {
        if (num(v, &d) || d < 0 || d > 86400 || (IS("duration") && d <= 0))
            return bad(name, v, "want seconds");
        *(IS("duration") ? &o->duration : IS("warmup") ? &o->warmup : &o->drain) = d;
    } else if (IS("keys")) {
        if (integer(v, 1, 1e12, &d))
            return bad(name, v, "want a key count");
        o->keys = (uint64_t)d;
    } else if (IS("dist")) {
        if (strcmp(v, "uniform") == 0) {
            o->theta = 0;
        } else if (strncmp(v, "zipf:", 5) == 0 && !num(v + 5, &d) && d > 0 && d <= 10) {
            o->theta = d;
        } else {
            return bad(name, v, "want uniform or zipf:THETA (0 < THETA <= 10)");
        }
    } else if (IS("ratio")) {
        unsigned s, g;
        char c;
        if (sscanf(v, "%u:%u%c", &s, &g, &c) != 2 || s + g == 0)
            return bad(name, v, "want SET:GET, e.g. 1:10");
        o->ratio_set = s, o->ratio_get = g;
    } else if (IS("value-size") || IS("big-size")) {
        if (integer(v, 1, 512e6, &d))
            return bad(name, v, "want 1..512M bytes");
        *(IS("value-size") ? &o->value_size : &o->big_size) = (size_t)d;
    } else if (IS("elephants")) {
        int k, depth = 0, n;
        double share;
        if ((n = sscanf(v, "%d:%lf:%d", &k, &share, &depth)) < 2 || k < 1 || !(share > 0) ||
            share > 1 || (n == 3 && (depth < 1 || depth > 65536)))
            return bad(name, v, "want K:SHARE[:DEPTH], K >= 1, 0 < SHARE <= 1");
        o->elephants = k, o->elephant_share = share, o->elephant_depth = n == 3 ? depth : 0;
    } else if (IS("heavy")) {
        const char *colon = strchr(v, ':');
        if (o->nheavy == OPTS_MAX_HEAVY)
            return bad(name, v, "at most 4 --heavy options");
        struct heavy_opt *h = &o->heavy[o->nheavy];
        char fr[64];
        if (!colon || (size_t)(colon - v) >= sizeof fr)
            return bad(name, v, "want FRACTION:CMD");
        memcpy(fr, v, (size_t)(colon - v));
        fr[colon - v] = 0;
        if (num(fr, &h->frac) || !(h->frac > 0) || h->frac > 1)
            return bad(name, v, "FRACTION must be in (0, 1]");
        if (strcasecmp(colon + 1, "LRANGE") == 0)
            h->kind = HEAVY_LRANGE;
        else if (strcasecmp(colon + 1, "BIGVALUE") == 0)
            h->kind = HEAVY_BIGVALUE;
        else if (strcasecmp(colon + 1, "LUA") == 0)
            h->kind = HEAVY_LUA;
        else
            return bad(name, v, "CMD must be LRANGE, BIGVALUE or LUA");
        o->nheavy++;
    } else if (IS("txn")) {
        double frac, theta = 0.99;
        int keys;
        char mode[8], c;
        int n = sscanf(v, "%lf:%d:%7[a-z]:%lf%c", &frac, &keys, mode, &theta, &c);
        if (n < 3 || n > 4 || !(frac > 0) || frac > 1 || keys < 2 || keys > 64 || !(theta > 0) ||
            (strcmp(mode, "multi") && strcmp(mode, "lua")))
            return bad(name, v, "want FRACTION:KEYS:multi|lua[:THETA], 2 <= KEYS <= 64");
        o->txn_frac = frac, o->txn_keys = keys, o->txn_lua = mode[0] == 'l', o->txn_theta = theta;
    } else if (IS("burst")) {
        double f, p, l;
        char c;
        if (sscanf(v, "%lf:%lf:%lf%c", &f, &p, &l, &c) != 3 || !(f >= 1) || !(l > 0) || p < l)
            return bad(name, v,
                       "want FACTOR:PERIOD_MS:LEN_MS, FACTOR >= 1, 0 < LEN_MS <= PERIOD_MS");
        o->burst_factor = f, o->burst_period_ms = p, o->burst_len_ms = l;
    } else if (IS("preload")) {
        o->preload = 1;
    } else if (IS("preload-only")) {
        o->preload = o->preload_only = 1;
    } else if (IS("no-heavy-preload")) {
        o->no_heavy_preload = 1;
    } else if (IS("json")) {
        o->json = v;
    } else if (IS("seed")) {
        if (integer(v, 0, 9e15, &d))
            return bad(name, v, "want an integer");
        o->seed = (uint64_t)d;
    } else if (IS("heavy-keys") || IS("list-len") || IS("lua-loops")) {
        if (integer(v, 1, 1e9, &d))
            return bad(name, v, "want a positive integer");
        *(IS("heavy-keys") ? &o->heavy_keys
          : IS("list-len") ? &o->list_len
                           : &o->lua_loops) = (unsigned)d;
    } else if (IS("quiet")) {
        o->quiet = 1;
    } else if (IS("check")) {
        o->check_only = 1;
    }
#undef IS
    return 0;
}

static int check(struct opts *o)
{
    double mixed = o->txn_frac;
    for (int i = 0; i < o->nheavy; i++)
        mixed += o->heavy[i].frac;
    if (mixed > 1 + 1e-9)
        return bad("heavy", "", "the --heavy and --txn fractions add up to more than 1");
    if (o->connections < o->threads)
        return bad("connections", "", "fewer connections than threads");
    if (o->elephants) {
        if (o->elephants > o->connections)
            return bad("elephants", "", "more elephants than connections");
        if (o->elephants == o->connections && o->elephant_share < 1)
            return bad("elephants", "", "every connection is an elephant: SHARE must be 1");
    }
    if (o->txn_frac > 0 && (uint64_t)o->txn_keys > o->keys)
        return bad("txn", "", "more keys per transaction than --keys");
    if (o->closed && o->burst_factor > 1)
        return bad("burst", "", "bursts need the open loop (not --closed)");
    if (o->fixed && o->closed)
        return bad("fixed", "", "--fixed is an open-loop schedule; drop --closed");
    /* memcached has no lists, no transactions and no scripts: get/set (and the
     * BIGVALUE get/set) are the whole of what the text protocol can run here. */
    for (int i = 0; o->memcache && i < o->nheavy; i++)
        if (o->heavy[i].kind != HEAVY_BIGVALUE)
            return bad("protocol", "memcache",
                       o->heavy[i].kind == HEAVY_LRANGE
                           ? "memcached has no lists: --heavy LRANGE cannot run over it"
                           : "memcached has no scripts: --heavy LUA cannot run over it");
    if (o->memcache && o->txn_frac > 0)
        return bad("protocol", "memcache",
                   "memcached has no MULTI/EXEC or scripts: --txn cannot run over it");
    return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    record_cmdline(o, argc, argv);
    optind = 1;
    opterr = 1;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, "h", long_opts, &idx);
        if (c == -1)
            break;
        if (c == 'h' || (idx >= 0 && strcmp(long_opts[idx].name, "help") == 0)) {
            usage(stdout);
            return 1;
        }
        if (idx >= 0 && strcmp(long_opts[idx].name, "version") == 0) {
            printf("percore-bench %s\n", PERCORE_VERSION);
            return 1;
        }
        if (c == '?' || idx < 0) {
            fprintf(stderr, "percore-bench: try --help\n");
            return -1;
        }
        if (parse_one(o, long_opts[idx].name, optarg) != 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "percore-bench: unexpected argument '%s' (try --help)\n", argv[optind]);
        return -1;
    }
    return check(o);
}

/* opts — percore-bench's command line. Every option is a row of OPTS_TABLE
 * (long name, argument, description); --help and the parser both come from it. */
#ifndef PB_OPTS_H
#define PB_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define OPTS_MAX_CPUS 256
#define OPTS_MAX_HEAVY 4

enum heavy_kind { HEAVY_LRANGE, HEAVY_BIGVALUE, HEAVY_LUA };

struct heavy_opt {
    double frac;
    enum heavy_kind kind;
};

struct opts {
    const char *host;
    int port;
    int threads;
    int cpus[OPTS_MAX_CPUS];
    int ncpus; /* 0: threads are not pinned */
    int connections;
    int pipeline;
    double rate; /* requests per second overall (the base rate under --burst) */
    int fixed;   /* fixed intervals instead of Poisson */
    int closed;  /* closed loop: each connection keeps `pipeline` requests in flight */
    double duration, warmup, drain; /* seconds */
    uint64_t keys;
    double theta; /* Zipf exponent; 0 = uniform */
    unsigned ratio_set, ratio_get;
    size_t value_size;
    int elephants;
    double elephant_share;
    int elephant_depth;
    struct heavy_opt heavy[OPTS_MAX_HEAVY];
    int nheavy;
    double txn_frac;
    int txn_keys;
    int txn_lua;
    double txn_theta;
    double burst_factor, burst_period_ms, burst_len_ms;
    int preload;
    int preload_only;     /* preload (keys and --heavy data), then exit */
    int no_heavy_preload; /* leave the --heavy lists / big values as they are */
    const char *json;
    uint64_t seed;
    size_t big_size;
    unsigned heavy_keys, list_len, lua_loops;
    int quiet;
    int memcache; /* --protocol memcache: memcached's text protocol (get/set) */
    int check_only;
    char cmdline[2048];
};

void opts_defaults(struct opts *o);
/* 0: run; 1: --help was printed (exit 0); -1: error, already reported on stderr. */
int opts_parse(struct opts *o, int argc, char **argv);
/* "1", "0-3", "1,3,5-7" into cpus; the count, or -1. */
int opts_parse_cpus(const char *s, int *cpus, int max);
const char *opts_heavy_name(enum heavy_kind k);

#endif

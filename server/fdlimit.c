/* fdlimit — RLIMIT_NOFILE fitted to maxclients. See fdlimit.h. */
#include "fdlimit.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"

static _Atomic int reserve = FDLIMIT_MIN_RESERVE;

void fdlimit_set_reserve(int n)
{
    atomic_store(&reserve, n < FDLIMIT_MIN_RESERVE ? FDLIMIT_MIN_RESERVE : n);
}

int fdlimit_reserve(void) { return atomic_load(&reserve); }

static unsigned long long as_ull(rlim_t v)
{
    return v == RLIM_INFINITY ? ULLONG_MAX : (unsigned long long)v;
}

/* Clients a soft limit of `limit` descriptors leaves room for. */
static long long clients_for(unsigned long long limit, unsigned long long res)
{
    if (limit <= res)
        return (long long)limit - (long long)res; /* both small here */
    unsigned long long n = limit - res;
    return n > LLONG_MAX ? LLONG_MAX : (long long)n;
}

long long fdlimit_fit(long long maxclients, fdlimit_report_t *r)
{
    fdlimit_report_t local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    unsigned long long res = (unsigned long long)fdlimit_reserve();
    r->want = (unsigned long long)(maxclients < 0 ? 0 : maxclients) + res;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        /* As Redis: assume the common default of 1024. */
        r->err = errno;
        r->before = r->after = 1024;
        return clients_for(1024, res);
    }
    r->before = r->after = as_ull(rl.rlim_cur);
    if (r->after >= r->want)
        return clients_for(r->after, res);
    /* All that is needed, with the hard limit raised too when it is lower
     * (allowed with CAP_SYS_RESOURCE, up to fs.nr_open). */
    struct rlimit want = {(rlim_t)r->want, rl.rlim_max};
    if (as_ull(rl.rlim_max) < r->want)
        want.rlim_max = (rlim_t)r->want;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
        r->after = r->want;
        return clients_for(r->after, res);
    }
    r->err = errno;
    /* Otherwise as much as an unprivileged process may: the hard limit. */
    if (rl.rlim_max != rl.rlim_cur) {
        struct rlimit hard = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
            r->after = as_ull(rl.rlim_max);
    }
    return clients_for(r->after, res);
}

int fdlimit_setup(int n, int maxclients)
{
    fdlimit_set_reserve(n);
    fdlimit_report_t r;
    long long fit = fdlimit_fit(maxclients, &r);
    if (fit >= maxclients) {
        if (r.after != r.before)
            log_notice("increased the open file limit (ulimit -n) to %llu (it was %llu)", r.after,
                       r.before);
        return maxclients;
    }
    if (fit < 1)
        log_fatal("the open file limit (ulimit -n) of %llu is not enough to start: the server "
                  "needs %d descriptors besides its clients; raise it to at least %llu",
                  r.after, fdlimit_reserve(), (unsigned long long)fdlimit_reserve() + 1);
    log_warn("maxclients %d needs %llu open files (%d more for the server), but the limit "
             "(ulimit -n) is %llu and could not be raised to it (%s): maxclients reduced to "
             "%lld; raise the limit (e.g. LimitNOFILE=) for more",
             maxclients, r.want, fdlimit_reserve(), r.after,
             r.err ? strerror(r.err) : "no error", fit);
    return (int)fit;
}

/* fdlimit — the process's open-file limit (RLIMIT_NOFILE) fitted to
 * maxclients. Every client holds one descriptor and the server a reserve
 * besides (listeners, each worker's event loop, the log, short-lived files).
 * As Redis does, startup raises the limit to what maxclients needs; when even
 * the hard limit is too low, maxclients is lowered to fit and a warning names
 * both numbers. CONFIG SET maxclients raises the limit again, or is refused.
 * Calls are never concurrent: main at startup, then config.c under its
 * CONFIG SET lock. */
#ifndef PERCORE_FDLIMIT_H
#define PERCORE_FDLIMIT_H

/* The least reserve: Redis's CONFIG_MIN_RESERVED_FDS, for stdio, the log, the
 * pidfile and files opened for a moment. */
#define FDLIMIT_MIN_RESERVE 32

typedef struct fdlimit_report {
    unsigned long long want;   /* maxclients + the reserve */
    unsigned long long before; /* the soft limit found */
    unsigned long long after;  /* the soft limit now */
    int err;                   /* errno of a raise that failed; 0 if none did */
} fdlimit_report_t;

/* Descriptors the server needs besides its clients' (FDLIMIT_MIN_RESERVE
 * until set). */
void fdlimit_set_reserve(int reserve);
int fdlimit_reserve(void);

/* Raise RLIMIT_NOFILE so that maxclients clients and the reserve fit: the soft
 * limit to what they need, and the hard one too when the process may; failing
 * that, the soft limit up to the hard one. Never lowers either. Returns how
 * many clients the limit allows now: >= maxclients when they fit, < 1 when
 * not even the reserve does. r (may be NULL) gets the numbers for a message. */
long long fdlimit_fit(long long maxclients, fdlimit_report_t *r);

/* At startup, with the log set up: set the reserve, fit maxclients (logging
 * the raise, or a warning naming the requested maxclients, the descriptors it
 * needs, the limit and the maxclients that fits) and return the maxclients to
 * use. Exits when not even one client fits, as Redis does. */
int fdlimit_setup(int reserve, int maxclients);

#endif

/* percore-bench — an open-loop load generator for Redis-protocol servers.
 * main wires the modules: options, workload, preload, engine, report. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "opts.h"
#include "preload.h"
#include "report.h"
#include "workload.h"

static void on_signal(int sig)
{
    (void)sig;
    engine_interrupt();
}

int main(int argc, char **argv)
{
    static struct opts o;
    opts_defaults(&o);
    int rc = opts_parse(&o, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (o.check_only)
        return 0;

    struct workload w;
    if (wl_init(&w, &o)) {
        fprintf(stderr, "percore-bench: could not set up the workload (out of memory?)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[256] = "";
    if (preload_run(&o, &w, err, sizeof err)) {
        fprintf(stderr, "percore-bench: %s\n", err);
        wl_free(&w);
        return 2;
    }
    if (o.preload_only) {
        wl_free(&w);
        return 0;
    }
    /* From here Ctrl-C ends the run within 100 ms (as a failure, no report). */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct run_stats *st = malloc(sizeof *st);
    if (!st) {
        fprintf(stderr, "percore-bench: out of memory\n");
        return 2;
    }
    stats_init(st);
    rc = engine_run(&o, &w, st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "percore-bench: %s\n", err);
    } else {
        if (!o.quiet)
            report_print(stdout, &o, st);
        if (o.json && report_json(o.json, &o, st))
            rc = 2;
    }
    free(st);
    wl_free(&w);
    return rc ? 2 : 0;
}

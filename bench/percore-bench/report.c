/* report — human summary and JSON. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static double us(uint64_t ns)
{
    return (double)ns / 1e3;
}

static double rps(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0;
}

static void describe_dist(char *buf, size_t len, const struct opts *o)
{
    if (o->theta > 0)
        snprintf(buf, len, "zipf:%g", o->theta);
    else
        snprintf(buf, len, "uniform");
}

static void row(FILE *f, const char *name, const struct class_stats *c, double s)
{
    const struct hist *h = &c->lat;
    fprintf(f, "%-6s %11.1f %11.1f %9.1f %9.1f %9.1f %9.1f %10.1f %8llu\n", name,
            rps(c->offered, s), rps(c->completed, s), us(hist_quantile(h, 0.5)),
            us(hist_quantile(h, 0.9)), us(hist_quantile(h, 0.99)), us(hist_quantile(h, 0.999)),
            us(hist_quantile(h, 1.0)), (unsigned long long)c->errors);
}

void report_print(FILE *f, const struct opts *o, const struct run_stats *st)
{
    struct class_stats all;
    char dist[32];
    double s = st->window_s;
    stats_total(st, &all);
    describe_dist(dist, sizeof dist, o);
    fprintf(f, "%s\n", o->cmdline);
    if (o->closed)
        fprintf(f, "closed loop, %d in flight per connection", o->pipeline);
    else
        fprintf(f, "open loop, %s arrivals at %.0f req/s%s",
                o->fixed ? "fixed-interval" : "Poisson", o->rate,
                o->burst_factor > 1 ? " (base; bursts below)" : "");
    fprintf(f, ", %.1f s measured after %.1f s warmup\n", o->duration, o->warmup);
    fprintf(f,
            "%s%d connections over %d thread(s), pipeline %d; %llu keys %s, SET:GET %u:%u, %zu B "
            "values\n",
            o->memcache ? "memcached text protocol; " : "", o->connections, o->threads, o->pipeline, (unsigned long long)o->keys, dist,
            o->ratio_set, o->ratio_get, o->value_size);
    if (o->elephants)
        fprintf(f, "elephants: %d connection(s) carry %.0f%% of requests at pipeline %d\n",
                o->elephants, o->elephant_share * 100,
                o->elephant_depth ? o->elephant_depth : o->pipeline);
    for (int i = 0; i < o->nheavy; i++)
        fprintf(f, "heavy: %g of requests are %s\n", o->heavy[i].frac,
                opts_heavy_name(o->heavy[i].kind));
    if (o->txn_frac > 0)
        fprintf(f, "txn: %g of requests are %s over %d Zipf(%g) keys\n", o->txn_frac,
                o->txn_lua ? "EVAL transfers" : "MULTI/EXEC transfers", o->txn_keys, o->txn_theta);
    if (o->burst_factor > 1)
        fprintf(f, "bursts: x%g for %g ms of every %g ms\n", o->burst_factor, o->burst_len_ms,
                o->burst_period_ms);
    fprintf(f, "\n%-6s %11s %11s %9s %9s %9s %9s %10s %8s\n", "class", "offered/s", "achieved/s",
            "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "errors");
    for (int i = 0; i < NCLASS; i++)
        if (st->cls[i].offered || st->cls[i].completed)
            row(f, wl_class_name[i], &st->cls[i], s);
    row(f, "all", &all, s);
    if (!o->closed)
        fprintf(f,
                "\ngenerator: timer lag p50 %.1f us, p99 %.1f us, max %.1f us; "
                "at most %llu due requests waiting for a window slot\n",
                us(hist_quantile(&st->lag, 0.5)), us(hist_quantile(&st->lag, 0.99)),
                us(hist_quantile(&st->lag, 1.0)), (unsigned long long)st->max_backlog);
    if (all.errors)
        fprintf(f, "errors: %llu, e.g. \"%s\"\n", (unsigned long long)all.errors, st->first_error);
    if (all.unfinished)
        fprintf(f,
                "warning: %llu requests due in the window got no reply by the end of the drain "
                "(counted in the latencies with their age then)\n",
                (unsigned long long)all.unfinished);
    if (!o->closed && all.offered && rps(all.completed, s) < 0.99 * rps(all.offered, s))
        fprintf(f, "note: achieved %.1f%% of the offered load: the server did not keep up\n",
                100.0 * (double)all.completed / (double)all.offered);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_class(FILE *f, const struct class_stats *c, double s, const char *indent)
{
    const struct hist *h = &c->lat;
    fprintf(
        f,
        "%s\"offered_rps\": %.2f,\n%s\"achieved_rps\": %.2f,\n%s\"requests\": %llu,\n"
        "%s\"p50_us\": %.2f,\n%s\"p90_us\": %.2f,\n%s\"p99_us\": %.2f,\n%s\"p999_us\": %.2f,\n"
        "%s\"max_us\": %.2f,\n%s\"mean_us\": %.2f,\n%s\"errors\": %llu,\n%s\"unfinished\": %llu",
        indent, rps(c->offered, s), indent, rps(c->completed, s), indent,
        (unsigned long long)c->offered, indent, us(hist_quantile(h, 0.5)), indent,
        us(hist_quantile(h, 0.9)), indent, us(hist_quantile(h, 0.99)), indent,
        us(hist_quantile(h, 0.999)), indent, us(hist_quantile(h, 1.0)), indent, hist_mean(h) / 1e3,
        indent, (unsigned long long)c->errors, indent, (unsigned long long)c->unfinished);
}

int report_json(const char *path, const struct opts *o, const struct run_stats *st)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "percore-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct class_stats all;
    char dist[32];
    double s = st->window_s;
    stats_total(st, &all);
    describe_dist(dist, sizeof dist, o);
    fprintf(f, "{\n  \"command\": ");
    json_str(f, o->cmdline);
    fprintf(f, ",\n  \"protocol\": \"%s\"", o->memcache ? "memcache" : "redis");
    fprintf(f, ",\n  \"mode\": \"%s\",\n  \"schedule\": \"%s\",\n  \"rate\": %.2f,\n",
            o->closed ? "closed" : "open",
            o->closed  ? "none"
            : o->fixed ? "fixed"
                       : "poisson",
            o->closed ? 0.0 : o->rate);
    fprintf(
        f,
        "  \"duration_s\": %g,\n  \"warmup_s\": %g,\n  \"threads\": %d,\n  \"connections\": %d,\n"
        "  \"pipeline\": %d,\n  \"keys\": %llu,\n  \"dist\": \"%s\",\n  \"ratio\": \"%u:%u\",\n"
        "  \"value_size\": %zu,\n",
        o->duration, o->warmup, o->threads, o->connections, o->pipeline,
        (unsigned long long)o->keys, dist, o->ratio_set, o->ratio_get, o->value_size);
    json_class(f, &all, s, "  ");
    fprintf(f, ",\n  \"answered_total\": %llu,\n  \"classes\": {",
            (unsigned long long)st->answered);
    for (int i = 0; i < NCLASS; i++) {
        fprintf(f, "%s\n    \"%s\": {\n", i ? "," : "", wl_class_name[i]);
        json_class(f, &st->cls[i], s, "      ");
        fprintf(f, "\n    }");
    }
    fprintf(f, "\n  },\n  \"first_error\": ");
    json_str(f, st->first_error);
    fprintf(f,
            ",\n  \"generator\": {\n    \"timer_lag_p50_us\": %.2f,\n"
            "    \"timer_lag_p99_us\": %.2f,\n    \"timer_lag_max_us\": %.2f,\n"
            "    \"max_backlog\": %llu\n  }\n}\n",
            us(hist_quantile(&st->lag, 0.5)), us(hist_quantile(&st->lag, 0.99)),
            us(hist_quantile(&st->lag, 1.0)), (unsigned long long)st->max_backlog);
    if (f == stdout)
        return fflush(f) == 0 ? 0 : -1;
    if (fclose(f) != 0) {
        fprintf(stderr, "percore-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

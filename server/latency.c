/* LATENCY's event monitor and the per-command histograms (see latency.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "util.h"
#include "forksafe.h"

/* ---- the monitor ------------------------------------------------------------ */

#define LATENCY_EVENTS 16
#define EVENT_NAME_MAX 32

typedef struct lat_event {
    char name[EVENT_NAME_MAX];
    struct {
        int32_t time;
        uint32_t ms;
    } s[LATENCY_HISTORY];
    int idx;     /* next slot */
    uint32_t max; /* all time */
} lat_event_t;

static pthread_mutex_t mon_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(mon_lock) /* a SCRIPT DEBUG YES child may take it */
static lat_event_t *events[LATENCY_EVENTS];

static lat_event_t *find_locked(const char *p, size_t len)
{
    for (int i = 0; i < LATENCY_EVENTS; i++)
        if (events[i] && strlen(events[i]->name) == len && memcmp(events[i]->name, p, len) == 0)
            return events[i];
    return NULL;
}

void latency_add(const char *event, uint64_t ms)
{
    int32_t now = (int32_t)(now_us() / 1000000);
    uint32_t v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    pthread_mutex_lock(&mon_lock);
    lat_event_t *e = find_locked(event, strlen(event));
    for (int i = 0; !e && i < LATENCY_EVENTS; i++)
        if (!events[i]) { /* the names are the server's own: a handful */
            e = events[i] = xcalloc(1, sizeof *e);
            snprintf(e->name, sizeof e->name, "%s", event);
        }
    if (e) {
        if (v > e->max)
            e->max = v;
        int prev = (e->idx + LATENCY_HISTORY - 1) % LATENCY_HISTORY;
        if (e->s[prev].time == now) { /* one sample a second: its worst */
            if (v > e->s[prev].ms)
                e->s[prev].ms = v;
        } else {
            e->s[e->idx].time = now;
            e->s[e->idx].ms = v;
            e->idx = (e->idx + 1) % LATENCY_HISTORY;
        }
    }
    pthread_mutex_unlock(&mon_lock);
}

/* LATENCY LATEST: [event, time, latest ms, max ms] per event. */
void latency_reply_latest(reply_t *r)
{
    pthread_mutex_lock(&mon_lock);
    int k = 0;
    for (int i = 0; i < LATENCY_EVENTS; i++)
        k += events[i] != NULL;
    reply_array(r, k);
    for (int i = 0; i < LATENCY_EVENTS; i++) {
        lat_event_t *e = events[i];
        if (!e)
            continue;
        int last = (e->idx + LATENCY_HISTORY - 1) % LATENCY_HISTORY;
        reply_array(r, 4);
        reply_bulk_cstr(r, e->name);
        reply_int(r, e->s[last].time);
        reply_int(r, e->s[last].ms);
        reply_int(r, e->max);
    }
    pthread_mutex_unlock(&mon_lock);
}

/* LATENCY HISTORY event: [time, ms] oldest first; empty for an unknown event. */
void latency_reply_history(reply_t *r, sv_t event)
{
    pthread_mutex_lock(&mon_lock);
    lat_event_t *e = find_locked(event.p, event.len);
    int k = 0;
    for (int j = 0; e && j < LATENCY_HISTORY; j++)
        k += e->s[j].time != 0;
    reply_array(r, k);
    for (int j = 0; e && j < LATENCY_HISTORY; j++) {
        int i = (e->idx + j) % LATENCY_HISTORY;
        if (!e->s[i].time)
            continue;
        reply_array(r, 2);
        reply_int(r, e->s[i].time);
        reply_int(r, e->s[i].ms);
    }
    pthread_mutex_unlock(&mon_lock);
}

int latency_reset(int n, const sv_t *names)
{
    int k = 0;
    pthread_mutex_lock(&mon_lock);
    for (int i = 0; i < LATENCY_EVENTS; i++) {
        if (!events[i])
            continue;
        int hit = n == 0;
        for (int j = 0; j < n && !hit; j++)
            hit = strlen(events[i]->name) == names[j].len &&
                  memcmp(events[i]->name, names[j].p, names[j].len) == 0;
        if (hit) {
            free(events[i]);
            events[i] = NULL;
            k++;
        }
    }
    pthread_mutex_unlock(&mon_lock);
    return k;
}

/* GRAPH: a bar per sample (oldest left), 4 rows high, scaled between the
 * lowest and highest sample, then each sample's age in two rows, as Redis's
 * layout (header, ruler, bars, labels); the drawing itself is ours. */
int latency_graph(sv_t event, buf_t *out)
{
    pthread_mutex_lock(&mon_lock);
    lat_event_t *e = find_locked(event.p, event.len);
    uint32_t ms[LATENCY_HISTORY];
    int32_t t[LATENCY_HISTORY];
    int k = 0;
    uint32_t lo = UINT32_MAX, hi = 0, max = e ? e->max : 0;
    for (int j = 0; e && j < LATENCY_HISTORY; j++) {
        int i = (e->idx + j) % LATENCY_HISTORY;
        if (!e->s[i].time)
            continue;
        ms[k] = e->s[i].ms, t[k] = e->s[i].time;
        lo = ms[k] < lo ? ms[k] : lo;
        hi = ms[k] > hi ? ms[k] : hi;
        k++;
    }
    char name[EVENT_NAME_MAX];
    snprintf(name, sizeof name, "%s", e ? e->name : "");
    pthread_mutex_unlock(&mon_lock);
    if (!k)
        return -1;
    int32_t now = (int32_t)(now_us() / 1000000);
    buf_printf(out, "%s - high %u ms, low %u ms (all time high %u ms)\n", name, hi, lo, max);
    for (int c = 0; c < 80; c++)
        buf_printf(out, "-");
    buf_printf(out, "\n");
    for (int row = 4; row >= 1; row--) {
        for (int j = 0; j < k; j++) {
            uint32_t h = hi == lo ? 4 : 1 + (uint32_t)((uint64_t)(ms[j] - lo) * 3 / (hi - lo));
            buf_printf(out, "%c", h >= (uint32_t)row ? (h == (uint32_t)row ? '_' : '|') : ' ');
        }
        buf_printf(out, "\n");
    }
    buf_printf(out, "\n");
    char age[LATENCY_HISTORY][16];
    for (int j = 0; j < k; j++) {
        long a = (long)(now - t[j]);
        char u = 's';
        if (a >= 3600 * 24)
            a /= 3600 * 24, u = 'd';
        else if (a >= 3600)
            a /= 3600, u = 'h';
        else if (a >= 60)
            a /= 60, u = 'm';
        snprintf(age[j], sizeof age[j], "%02ld%c", a > 99 ? 99 : a, u);
    }
    for (int row = 0; row < 3; row++) {
        for (int j = 0; j < k; j++)
            buf_printf(out, "%c", age[j][row]);
        buf_printf(out, "\n");
    }
    return 0;
}

void latency_doctor(buf_t *out)
{
    long long th = config_get(latency_monitor_threshold);
    pthread_mutex_lock(&mon_lock);
    int k = 0;
    for (int i = 0; i < LATENCY_EVENTS; i++)
        k += events[i] != NULL;
    if (!th) {
        buf_printf(out, "Dave, the latency monitor is disabled: set latency-monitor-threshold "
                        "(CONFIG SET latency-monitor-threshold <ms>) to record events.\n");
    } else if (!k) {
        buf_printf(out, "Dave, no latency spike was observed during the lifetime of this "
                        "server instance, not even %lld ms or more.\n", th);
    } else {
        buf_printf(out, "Dave, I have observed latency spikes in this server. Events:\n\n");
        int n = 1;
        for (int i = 0; i < LATENCY_EVENTS; i++) {
            lat_event_t *e = events[i];
            if (!e)
                continue;
            uint64_t sum = 0;
            int m = 0;
            for (int j = 0; j < LATENCY_HISTORY; j++)
                if (e->s[j].time)
                    sum += e->s[j].ms, m++;
            buf_printf(out, "%d. %s: %d latency spikes (average %llums, worst %ums).\n", n++,
                       e->name, m, (unsigned long long)(m ? sum / (uint64_t)m : 0), e->max);
        }
        buf_printf(out, "\nAdvice: \"command\" and \"fast-command\" spikes come from slow "
                        "commands (see SLOWLOG GET); a worker running one delays only the "
                        "clients it serves.\n");
    }
    pthread_mutex_unlock(&mon_lock);
}

/* ---- histograms --------------------------------------------------------------- */

typedef struct hist {
    _Atomic uint64_t b[LATENCY_BUCKETS];
} hist_t;

static hist_t *hists; /* [worker][slot] */
static int *slot_base; /* [command id]: its slot; its subcommand j's is base + 1 + j */
static int nslots, nworkers_h;

void latency_hist_setup(int workers, int commands)
{
    slot_base = xcalloc((size_t)commands + 1, sizeof *slot_base);
    int s = 0;
    for (int i = 0; i < commands; i++) {
        slot_base[i] = s++;
        const command_t *c = command_at(i);
        for (int j = 0; c->subcommands && c->subcommands[j]; j++)
            s++;
    }
    slot_base[commands] = s;
    nslots = s;
    nworkers_h = workers;
    hists = xcalloc((size_t)workers * (size_t)s, sizeof *hists);
}

void latency_hist_teardown(void)
{
    free(hists);
    free(slot_base);
    hists = NULL, slot_base = NULL, nslots = nworkers_h = 0;
}

/* The first b with us * 1000 <= 1024 << b: ceil(log2(ns)) - 10. */
static int bucket_of(uint64_t us)
{
    uint64_t ns = us * 1000;
    if (ns <= 1024)
        return 0;
    int b = 64 - __builtin_clzll(ns - 1) - 10;
    return b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1;
}

void latency_hist_record(int w, int slot, uint64_t us)
{
    if (!hists || w < 0 || w >= nworkers_h || slot < 0 || slot >= nslots)
        return;
    stat_add(&hists[(size_t)w * (size_t)nslots + (size_t)slot].b[bucket_of(us)], 1);
}

void latency_hist_reset(void)
{
    if (hists)
        stat_zero(hists, (size_t)nworkers_h * (size_t)nslots * sizeof *hists);
}

int latency_slot(const command_t *cmd, int argc, const sv_t *argv)
{
    if (!slot_base)
        return -1;
    if (!cmd->subcommands || argc < 2)
        return slot_base[cmd->id];
    size_t nl = strlen(cmd->name);
    for (int j = 0; cmd->subcommands[j]; j++) {
        const char *sub = cmd->subcommands[j] + nl + 1;
        if (strlen(sub) == argv[1].len && sv_eq_ci(argv[1], sub))
            return slot_base[cmd->id] + 1 + j;
    }
    return -1; /* an unknown subcommand was refused */
}

int latency_slot_count(void) { return nslots; }

const char *latency_slot_name(int slot)
{
    int lo = 0, hi = command_count() - 1; /* the command whose base is <= slot */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (slot_base[mid] <= slot)
            lo = mid;
        else
            hi = mid - 1;
    }
    const command_t *c = command_at(lo);
    return slot == slot_base[lo] ? c->name : c->subcommands[slot - slot_base[lo] - 1];
}

/* The slot's buckets summed over workers; its call count. */
static uint64_t sum_slot(int slot, uint64_t *b)
{
    uint64_t calls = 0;
    memset(b, 0, LATENCY_BUCKETS * sizeof *b);
    for (int w = 0; w < nworkers_h; w++)
        for (int i = 0; i < LATENCY_BUCKETS; i++) {
            uint64_t v = stat_get(&hists[(size_t)w * (size_t)nslots + (size_t)slot].b[i]);
            b[i] += v, calls += v;
        }
    return calls;
}

uint64_t latency_slot_calls(int slot)
{
    uint64_t b[LATENCY_BUCKETS];
    return sum_slot(slot, b);
}

/* {"calls": n, "histogram_usec": {bucket usec: cumulative count}}, the
 * buckets where the count grows, as Redis 7.0 reports them. */
void latency_hist_reply(reply_t *r, int slot)
{
    uint64_t b[LATENCY_BUCKETS];
    uint64_t calls = sum_slot(slot, b);
    reply_map(r, 2);
    reply_bulk_cstr(r, "calls");
    reply_int(r, (long long)calls);
    reply_bulk_cstr(r, "histogram_usec");
    int k = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++)
        k += b[i] != 0;
    reply_map(r, k);
    uint64_t cum = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        if (!b[i])
            continue;
        cum += b[i];
        reply_int(r, (long long)((1024ull << i) / 1000));
        reply_int(r, (long long)cum);
    }
}

void latency_hist_info(buf_t *out, int slot, const char *pcts)
{
    uint64_t b[LATENCY_BUCKETS];
    uint64_t calls = sum_slot(slot, b);
    if (!calls)
        return;
    buf_printf(out, "latency_percentiles_usec_%s:", latency_slot_name(slot));
    const char *p = pcts;
    int first = 1;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        double pct = strtod(p, &end);
        /* the smallest bucket holding at least pct% of the calls */
        uint64_t want = (uint64_t)((double)calls * pct / 100.0 + 0.999999), cum = 0;
        if (want == 0)
            want = 1;
        int i = 0;
        for (; i < LATENCY_BUCKETS - 1; i++) {
            cum += b[i];
            if (cum >= want)
                break;
        }
        buf_printf(out, "%sp%.*s=%.3f", first ? "" : ",", (int)(end - p), p,
                   (double)(1024ull << i) / 1000.0);
        first = 0;
        p = end;
    }
    buf_printf(out, "\r\n");
}

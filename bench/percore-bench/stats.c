/* stats — initialising and adding up run statistics. */
#include "stats.h"

#include <string.h>

static void class_init(struct class_stats *c)
{
    memset(c, 0, sizeof *c);
    hist_init(&c->lat);
}

static void class_merge(struct class_stats *dst, const struct class_stats *src)
{
    dst->offered += src->offered;
    dst->completed += src->completed;
    dst->errors += src->errors;
    dst->unfinished += src->unfinished;
    hist_merge(&dst->lat, &src->lat);
}

void stats_init(struct run_stats *st)
{
    st->window_s = 0;
    st->max_backlog = 0;
    st->answered = 0;
    st->first_error[0] = 0;
    for (int i = 0; i < NCLASS; i++)
        class_init(&st->cls[i]);
    hist_init(&st->lag);
}

void stats_merge(struct run_stats *dst, const struct run_stats *src)
{
    for (int i = 0; i < NCLASS; i++)
        class_merge(&dst->cls[i], &src->cls[i]);
    hist_merge(&dst->lag, &src->lag);
    if (src->max_backlog > dst->max_backlog)
        dst->max_backlog = src->max_backlog;
    dst->answered += src->answered;
    if (!dst->first_error[0])
        memcpy(dst->first_error, src->first_error, sizeof dst->first_error);
}

void stats_total(const struct run_stats *st, struct class_stats *all)
{
    class_init(all);
    for (int i = 0; i < NCLASS; i++)
        class_merge(all, &st->cls[i]);
}

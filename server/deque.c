#include "deque.h"

#include <stdlib.h>

int deque_init(deque_t *d, size_t capacity)
{
    if (capacity < 2 || (capacity & (capacity - 1)))
        return -1;
    d->slots = calloc(capacity, sizeof *d->slots);
    if (!d->slots)
        return -1;
    d->mask = (int64_t)capacity - 1;
    atomic_init(&d->top, 0);
    atomic_init(&d->bottom, 0);
    return 0;
}

void deque_destroy(deque_t *d)
{
    free(d->slots);
    d->slots = NULL;
}

int deque_push(deque_t *d, void *item)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    if (b - t > d->mask)
        return -1;
    atomic_store_explicit(&d->slots[b & d->mask], item, memory_order_relaxed);
    /* Release: a thief that sees the new bottom sees the item. */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
    return 0;
}

void *deque_take(deque_t *d)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
    /* seq_cst store then seq_cst load: the owner's claim on slot b is ordered
     * against a thief's increment of top (the fence of Lê et al.). */
    atomic_store_explicit(&d->bottom, b, memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
    if (t > b) {
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
        return NULL; /* empty */
    }
    void *item = atomic_load_explicit(&d->slots[b & d->mask], memory_order_relaxed);
    if (t == b) {
        /* The last item: race the thieves for it. */
        if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                     memory_order_relaxed))
            item = NULL;
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    }
    return item;
}

void *deque_steal(deque_t *d)
{
    int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
    if (t >= b)
        return NULL;
    void *item = atomic_load_explicit(&d->slots[t & d->mask], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return NULL; /* lost to the owner or another thief */
    return item;
}

size_t deque_size(deque_t *d)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    return b > t ? (size_t)(b - t) : 0;
}

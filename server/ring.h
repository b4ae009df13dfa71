/* ring — single-producer single-consumer rings of pointers between two workers.
 * One ring per ordered pair of workers, so neither side ever contends.
 * Written with C11 acquire/release atomics rather than ck_ring: ck's fences are
 * inline assembly or volatile accesses that ThreadSanitizer cannot see, and this
 * code must be provably race-free under TSan. */
#ifndef PERCORE_RING_H
#define PERCORE_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

#include "util.h"

typedef struct ring {
    alignas(64) _Atomic size_t head; /* next slot to read; written by the consumer */
    alignas(64) _Atomic size_t tail; /* next slot to write; written by the producer */
    alignas(64) size_t mask;
    void **slots;
} ring_t;

/* size: a power of two >= 2; the ring holds size entries. Returns 0 or -1. */
int ring_init(ring_t *r, size_t size);
void ring_destroy(ring_t *r);

/* Producer side only. 0 on success, -1 when full (the caller keeps the item). */
static inline int ring_push(ring_t *r, void *item)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail - head > r->mask)
        return -1;
    r->slots[tail & r->mask] = item;
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 0;
}

/* Consumer side only. The item, or NULL when empty. */
static inline void *ring_pop(ring_t *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head == tail)
        return NULL;
    void *item = r->slots[head & r->mask];
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return item;
}

/* Entries queued (approximate when called from a third thread). */
static inline size_t ring_depth(ring_t *r)
{
    return atomic_load_explicit(&r->tail, memory_order_relaxed) -
           atomic_load_explicit(&r->head, memory_order_relaxed);
}

#endif

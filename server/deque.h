/* deque — Chase–Lev work-stealing deques of pointers (fixed capacity).
 * The owner pushes and takes at the bottom; thieves steal from the top.
 * Memory orders follow Lê, Pop, Cohen, Zappa Nardelli (PPoPP 2013), except
 * that their two seq_cst fences are folded into seq_cst accesses of top and
 * bottom: ThreadSanitizer does not model standalone fences, and this code
 * must be checked by it. */
#ifndef PERCORE_DEQUE_H
#define PERCORE_DEQUE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct deque {
    alignas(64) _Atomic int64_t top;    /* thieves' end */
    alignas(64) _Atomic int64_t bottom; /* owner's end */
    alignas(64) int64_t mask;
    _Atomic(void *) *slots;
} deque_t;

/* capacity: a power of two. 0 or -1. */
int deque_init(deque_t *d, size_t capacity);
void deque_destroy(deque_t *d);

/* Owner only. 0, or -1 when full (the owner then runs the item itself). */
int deque_push(deque_t *d, void *item);
/* Owner only: the most recently pushed item, or NULL. */
void *deque_take(deque_t *d);
/* Any thread: the oldest item, or NULL when empty or when another thief won. */
void *deque_steal(deque_t *d);
/* Approximate number of items (any thread). */
size_t deque_size(deque_t *d);

#endif

#include "ring.h"

#include <stdlib.h>

int ring_init(ring_t *r, size_t size)
{
    if (size < 2 || (size & (size - 1)))
        return -1;
    r->slots = calloc(size, sizeof *r->slots);
    if (!r->slots)
        return -1;
    r->mask = size - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_destroy(ring_t *r)
{
    free(r->slots);
    r->slots = NULL;
}

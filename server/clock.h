/* clock — the wall and monotonic clocks every layer reads (defined in
 * store.c). Declared apart from store.h so that modules below or beside the
 * store, such as the event loop, need not include it. */
#ifndef PERCORE_CLOCK_H
#define PERCORE_CLOCK_H

#include <stdint.h>

/* Milliseconds / microseconds since the epoch, wall clock. */
uint64_t now_ms(void);
uint64_t now_us(void);
/* Microseconds of the monotonic clock (durations). */
uint64_t mono_us(void);

#endif

/* t_common — the helpers the aggregate data structures share (declared in
 * t_common.h): the per-thread random generator, random index picks for the
 * small array encodings, and the length-prefixed item buffer. Any thread. */
#include "t_common.h"

#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/* ---- random numbers -------------------------------------------------------- */

/* xorshift64*, per thread: random picks need spread, not secrecy, and a
 * thread-local state needs no lock. */
uint64_t t_rand(void)
{
    static _Thread_local uint64_t state;

    if (state == 0) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(&state, sizeof state, 1, f) != 1)
            state = (uint64_t)(uintptr_t)&state * 0x9E3779B97F4A7C15ull;
        if (f)
            fclose(f);
        state |= 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}

size_t rand_distinct_indexes(size_t n, size_t *out, size_t count)
{
    size_t got = 0, left = n;

    for (size_t i = 0; i < n && got < count; i++, left--)
        if (t_rand() % left < count - got)
            out[got++] = i;
    return got;
}

/* ---- item buffers ---------------------------------------------------------- */

void scan_push(buf_t *items, const char *p, size_t n)
{
    buf_append(items, &n, sizeof n);
    buf_append(items, p, n);
}

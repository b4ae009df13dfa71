/* slot — Redis Cluster key slots: CRC16(key) mod 16384 with {hash tag} rules. */
#ifndef PERCORE_SLOT_H
#define PERCORE_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384

uint16_t slot_crc16(const char *p, size_t n);
/* The slot of a key: only the part between the first '{' and the next '}' is
 * hashed when that part is non-empty, exactly as Redis Cluster does. */
unsigned slot_of(const char *key, size_t n);

#endif

/* cmd_bitmap — what cmd_bitfield.c gives cmd_bitmap.c (never the other
 * way): the bit offset parser, and the BITFIELD handlers its table holds.
 * The commands layer: only those two files include it. */
#ifndef PERCORE_CMD_BITMAP_H
#define PERCORE_CMD_BITMAP_H

#include <stdint.h>

#include "command.h"

#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"

/* A bit offset: N, or with bits > 0 also "#N" (N fields of that width, as
 * BITFIELD takes it); below proto-max-bulk-len bytes. 0, or -1 when not. */
int bit_offset_parse(sv_t arg, int bits, uint64_t *out);

cmd_handler bitfield_command, bitfield_ro_command;

#endif

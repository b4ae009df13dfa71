/* fuzz_rdb — the DUMP payload reader RESTORE runs on bytes from the network
 * (server/rdb.h: rdb_restore_object and everything under it: lengths,
 * strings, LZF, the listpack / ziplist / intset / zipmap walkers, every
 * type's reader). The first input byte picks the mode: odd, the rest is a
 * value body that gets a valid frame (version and CRC-64) here, so mutations
 * reach the parsers instead of the checksum; even, the rest is a whole
 * payload as a client sends it. Whatever is accepted must DUMP and RESTORE
 * again to a value of the same type and size. Seeds: corpus/rdb (DUMP
 * outputs of redis-server 7.0.15, every encoding it writes for strings,
 * lists, sets, sorted sets and hashes, plus older encodings by hand). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

static size_t obj_count(const obj_t *o)
{
    switch (o->type) {
    case OBJ_LIST: return list_len(o->v.ptr);
    case OBJ_SET: return set_len(o->v.ptr);
    case OBJ_ZSET: return zset_len(o->v.ptr);
    case OBJ_HASH: return hash_len(o->v.ptr);
    default: return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    buf_t in;
    buf_init(&in);
    buf_append(&in, data + 1, size - 1);
    if (data[0] & 1)
        rdb_put_frame(&in);
    obj_t o;
    if (rdb_restore_object(in.data, in.len, &o) == 0) {
        buf_t out;
        buf_init(&out);
        if (rdb_dump_object(&out, &o) != 0)
            abort();
        obj_t again;
        if (rdb_restore_object(out.data, out.len, &again) != 0 || again.type != o.type ||
            obj_count(&again) != obj_count(&o))
            abort();
        obj_free(&again);
        obj_free(&o);
        buf_free(&out);
    }
    buf_free(&in);
    return 0;
}

/* t_hll — HyperLogLog sketches in Redis 7.0's string representation (t_hll.c).
 *
 * A HyperLogLog is a string value (object.h) whose bytes are:
 *   "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes, an 8-byte cached
 *   cardinality (little endian; the top bit of its last byte set = stale),
 *   then the registers: 16384 registers of 6 bits.
 * Dense: the registers packed least-significant-bit first, 12288 bytes.
 * Sparse: runs of opcodes, ZERO (00xxxxxx: 1..64 zero registers), XZERO
 * (01xxxxxx yyyyyyyy: 1..16384 zero registers) and VAL (1vvvvvxx: 1..4
 * registers of value 1..32), covering exactly the 16384 registers.
 * An element selects register hash & 16383 of its 64-bit MurmurHash64A
 * (seed 0xadc83b19) and offers it 1 + the trailing zeros of the other 50
 * bits; the estimate is Ertl's improved raw estimator (hll_estimate).
 *
 * The data-structure layer: system headers only. The functions work on
 * byte buffers; the commands (cmd_hll.c) read and write the string values. */
#ifndef PERCORE_T_HLL_H
#define PERCORE_T_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_REG_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_SPARSE_VAL_MAX 32
/* The longest sparse value: one VAL opcode per register. */
#define HLL_SPARSE_MAX_SIZE (HLL_HDR_SIZE + HLL_REGISTERS)
/* A fresh sparse HLL: the header and two XZERO bytes covering everything. */
#define HLL_EMPTY_SIZE (HLL_HDR_SIZE + 2)

enum { HLL_DENSE = 0, HLL_SPARSE = 1 };

/* MurmurHash64A of p[0..len) (8-byte blocks read little endian). */
uint64_t hll_hash(const void *p, size_t len, uint64_t seed);
/* The register an element selects (*idx) and the value it offers (1..51). */
int hll_pattern(const void *p, size_t len, int *idx);

/* 0 when p[0..len) has a HyperLogLog header, a known encoding and, dense,
 * the dense length; -1 otherwise (Redis's WRONGTYPE). The sparse opcodes are
 * checked where they are read (hll_load and hll_merge return -1). */
int hll_check(const unsigned char *p, size_t len);
static inline int hll_encoding(const unsigned char *p)
{
    return p[4];
}

/* Cached cardinality: valid unless the top bit of byte 15 is set. */
int hll_cache_valid(const unsigned char *p);
uint64_t hll_cache_get(const unsigned char *p);
void hll_cache_set(unsigned char *p, uint64_t card);
void hll_cache_invalidate(unsigned char *p);

/* Dense register access, regs being the bytes after the header. */
unsigned hll_dense_get(const unsigned char *regs, int i);
void hll_dense_set(unsigned char *regs, int i, unsigned v);

/* regs[i] = max(regs[i], register i of the checked value p[0..len)).
 * -1 when sparse opcodes are corrupt (runs past the registers or short of
 * them): nothing past regs[HLL_REGISTERS) is ever touched. */
int hll_merge(const unsigned char *p, size_t len, uint8_t regs[HLL_REGISTERS]);
/* The registers of a checked value (hll_merge into zeros). */
int hll_load(const unsigned char *p, size_t len, uint8_t regs[HLL_REGISTERS]);

/* Write a value holding regs into out with hdr's cardinality bytes (hdr may
 * be NULL: zeros), cache marked stale. hll_write_sparse needs
 * HLL_SPARSE_MAX_SIZE bytes and returns the length, or 0 when a register is
 * over HLL_SPARSE_VAL_MAX; hll_write_dense writes HLL_DENSE_SIZE bytes. */
size_t hll_write_sparse(const uint8_t regs[HLL_REGISTERS], const unsigned char *hdr,
                        unsigned char *out);
void hll_write_dense(const uint8_t regs[HLL_REGISTERS], const unsigned char *hdr,
                     unsigned char *out);
/* PFADD's empty value: sparse, all registers zero, cache valid (0). */
void hll_write_empty(unsigned char out[HLL_EMPTY_SIZE]);

/* The cardinality estimate of a register set. */
uint64_t hll_estimate(const uint8_t regs[HLL_REGISTERS]);

/* PFDEBUG DECODE's text of a sparse value ("z:n" ZERO, "Z:n" XZERO, "v:value,run"
 * separated by spaces) into out (cap bytes, NUL-ended; a 16384-register
 * value needs at most 16384 * 8). Returns its length, or -1 when corrupt. */
long hll_decode_text(const unsigned char *p, size_t len, char *out, size_t cap);

/* PFSELFTEST: the dense bit packing, sparse/dense agreement and the estimate's
 * error from 1 to 1,000,000 elements. 0, or -1 with a message in err. */
int hll_selftest(char *err, size_t errlen);

#endif

// SPDX-License-Identifier: MIT
/*
 * Small, real PNG files with no compression library: 8-bit RGB, one IDAT whose zlib stream
 * holds "stored" (uncompressed) deflate blocks of at most 65535 bytes each. The size is thus a
 * pure function of the side, and the picture a pure function of the index: concentric rings
 * around a centre and in two colours that the index picks, over a diagonal gradient.
 *
 *	file  = signature IHDR IDAT IEND
 *	chunk = length (BE32) type data CRC32(type data)
 *	IDAT  = 78 01, { final? len ~len raw[len] }..., Adler-32(raw) (BE32)
 *	raw   = per row: filter byte 0, then side x RGB
 */
#include "png.h"

#include <string.h>

#define STORED_BLOCK_MAX	65535u
#define STORED_BLOCK_HEAD	5u	/* BFINAL/BTYPE byte, LEN, NLEN */
#define ZLIB_HEAD		2u
#define ZLIB_TAIL		4u	/* Adler-32 */
#define CHUNK_OVERHEAD		12u	/* length, type, CRC */
#define IHDR_LEN		13u
#define ADLER_MOD		65521u
#define RING_WIDTH_DIV		10u	/* rings are side/10 pixels wide */

static const uint8_t png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static size_t raw_size(unsigned side)
{
	return (size_t)side * (1 + 3 * (size_t)side);
}

size_t png_image_size(unsigned side)
{
	size_t raw = raw_size(side);
	size_t blocks = (raw + STORED_BLOCK_MAX - 1) / STORED_BLOCK_MAX;
	size_t idat = ZLIB_HEAD + blocks * STORED_BLOCK_HEAD + raw + ZLIB_TAIL;

	return sizeof(png_signature) + CHUNK_OVERHEAD + IHDR_LEN + CHUNK_OVERHEAD + idat +
	       CHUNK_OVERHEAD;
}

/* Bitwise CRC-32 (the PNG/zlib polynomial): no table, so no shared state to initialise. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

/* Writes the chunk header for `len` data bytes; the caller writes the data, then chunk_end(). */
static uint8_t *chunk_begin(uint8_t *p, const char type[4], size_t len)
{
	p = put32(p, (uint32_t)len);
	memcpy(p, type, 4);
	return p + 4;
}

static uint8_t *chunk_end(uint8_t *type, uint8_t *end)
{
	return put32(end, crc32_update(0, type, (size_t)(end - type)));
}

/* Integer square root, for the rings. */
static unsigned isqrt(unsigned v)
{
	unsigned r = 0, bit = 1u << 30;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* A well-mixed 32-bit value from the index (the colours and the centre). */
static uint32_t mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static void pixel(uint8_t rgb[3], unsigned index, unsigned side, unsigned x, unsigned y)
{
	uint32_t h = mix(index + 1);
	unsigned cx = h % side, cy = (h >> 12) % side;
	int dx = (int)x - (int)cx, dy = (int)y - (int)cy;
	unsigned ring = isqrt((unsigned)(dx * dx + dy * dy)) / (side / RING_WIDTH_DIV + 1);
	uint32_t colour = ring & 1 ? mix(h) : mix(~h);
	unsigned shade = (x + y) * 255 / (2 * side);

	for (int c = 0; c < 3; c++)
		rgb[c] = (uint8_t)((((colour >> (8 * c)) & 0xff) + shade) / 2);
}

void png_image_render(uint8_t *out, unsigned index, unsigned side)
{
	size_t raw = raw_size(side), left = raw, row_len = 1 + 3 * (size_t)side;
	size_t blocks = (raw + STORED_BLOCK_MAX - 1) / STORED_BLOCK_MAX;
	uint32_t a = 1, b = 0;
	uint8_t *p = out, *type;
	size_t i = 0;

	memcpy(p, png_signature, sizeof(png_signature));
	p += sizeof(png_signature);

	type = p + 4;
	p = chunk_begin(p, "IHDR", IHDR_LEN);
	p = put32(p, side);
	p = put32(p, side);
	*p++ = 8;	/* bit depth */
	*p++ = 2;	/* colour type: RGB */
	*p++ = 0;	/* compression: deflate */
	*p++ = 0;	/* filter method */
	*p++ = 0;	/* no interlace */
	p = chunk_end(type, p);

	type = p + 4;
	p = chunk_begin(p, "IDAT", ZLIB_HEAD + blocks * STORED_BLOCK_HEAD + raw + ZLIB_TAIL);
	*p++ = 0x78;	/* deflate, 32 KiB window */
	*p++ = 0x01;	/* no dictionary; (0x78 << 8 | 0x01) % 31 == 0 */
	while (left) {
		uint16_t len = left > STORED_BLOCK_MAX ? STORED_BLOCK_MAX : (uint16_t)left;

		left -= len;
		*p++ = left ? 0 : 1;	/* BFINAL on the last block, BTYPE 00: stored */
		*p++ = len & 0xff;
		*p++ = len >> 8;
		*p++ = ~len & 0xff;
		*p++ = (uint16_t)~len >> 8;
		for (uint16_t k = 0; k < len; k++, i++) {
			size_t col = i % row_len;
			uint8_t v;

			if (col == 0) {
				v = 0;	/* filter: none */
			} else {
				uint8_t rgb[3];

				pixel(rgb, index, side, (unsigned)((col - 1) / 3),
				      (unsigned)(i / row_len));
				v = rgb[(col - 1) % 3];
			}
			*p++ = v;
			a = (a + v) % ADLER_MOD;
			b = (b + a) % ADLER_MOD;
		}
	}
	p = put32(p, b << 16 | a);
	p = chunk_end(type, p);

	type = p + 4;
	p = chunk_begin(p, "IEND", 0);
	chunk_end(type, p);
}

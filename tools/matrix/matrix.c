// SPDX-License-Identifier: MIT
/*
 * The matrix kernel, allocation, filling and verification. See matrix.h for the blocking and
 * why every mode's result equals the sequential one exactly.
 */
#include "matrix.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* Sample points for the naive check of the sequential result, and its relative tolerance. */
#define MM_SPOT_CHECKS	64u
#define MM_SPOT_TOL	1e-12

double *mm_alloc(unsigned n, bool shared)
{
	size_t size = (size_t)n * n * sizeof(double);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;	/* anonymous mappings are zero-filled */
}

void mm_free(double *p, unsigned n)
{
	if (p)
		munmap(p, (size_t)n * n * sizeof(double));
}

/* Values in [-1, 1) from a xorshift generator: reproducible, no libc state. */
void mm_fill(double *m, unsigned n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < (size_t)n * n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		m[i] = (double)x / 2147483648.0 - 1.0;
	}
}

static unsigned mm_min(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

void mm_tile(const struct mm *m, unsigned block, unsigned tile)
{
	unsigned n = m->n;
	unsigned i_end = mm_min(n, (block + 1) * MM_BLOCK_ROWS);
	unsigned k_end = mm_min(n, (tile + 1) * MM_TILE_K);

	for (unsigned i = block * MM_BLOCK_ROWS; i < i_end; i++) {
		double *restrict c = m->c + (size_t)i * n;
		const double *a = m->a + (size_t)i * n;

		for (unsigned k = tile * MM_TILE_K; k < k_end; k++) {
			const double *restrict b = m->b + (size_t)k * n;
			double aik = a[k];

			for (unsigned j = 0; j < n; j++)
				c[j] += aik * b[j];
		}
	}
}

void mm_block(const struct mm *m, unsigned block)
{
	for (unsigned t = 0; t < mm_tiles(m->n); t++)
		mm_tile(m, block, t);
}

bool mm_equal(const double *x, const double *y, unsigned n)
{
	return memcmp(x, y, (size_t)n * n * sizeof(double)) == 0;
}

bool mm_spot_check(const struct mm *m)
{
	unsigned n = m->n;

	for (unsigned s = 0; s < MM_SPOT_CHECKS; s++) {
		/* a spread of (i, j), corners included */
		unsigned i = (unsigned)((unsigned long)s * 7919 % n);
		unsigned j = (unsigned)((unsigned long)s * 104729 % n);
		double want = 0, scale = 0;

		if (s == 1)
			i = j = n - 1;
		for (unsigned k = 0; k < n; k++) {
			want += m->a[(size_t)i * n + k] * m->b[(size_t)k * n + j];
			scale += fabs(m->a[(size_t)i * n + k] * m->b[(size_t)k * n + j]);
		}
		if (fabs(m->c[(size_t)i * n + j] - want) > MM_SPOT_TOL * (scale + 1))
			return false;
	}
	return true;
}

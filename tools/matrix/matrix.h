/* SPDX-License-Identifier: MIT */
/*
 * The matrix workload's kernel: C = A × B for dense N×N doubles, row-major.
 *
 * Work is cut into row blocks of MM_BLOCK_ROWS rows; a worker claims whole blocks from a shared
 * atomic counter (threads and processes alike: lock-free atomics work in MAP_SHARED memory), so
 * a slow worker on a busy machine simply takes fewer blocks. Inside a block the loop order is
 * i-k-j over tiles of MM_TILE_K values of k: the innermost loop runs along a row of B and a row
 * of C (unit stride, vectorised by the compiler), and the tile's rows of B stay in cache while
 * the block's rows use them.
 *
 * Each C[i][j] is accumulated in the same order (k ascending) whoever computes it, so every mode
 * produces a result bit-for-bit equal to the sequential one: verification is an exact compare.
 * The sequential result itself is checked against naive dot products at sample points.
 */
#ifndef KSYNC_TOOLS_MATRIX_H
#define KSYNC_TOOLS_MATRIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* 16 rows × 64 k: a tile of B (64 rows) plus the block's rows of C fit in L2 up to N ≈ 2000. */
#define MM_BLOCK_ROWS	16u
#define MM_TILE_K	64u

struct mm {
	unsigned n;
	const double *a;
	const double *b;
	double *c;
};

/* n*n doubles, zeroed; MAP_SHARED when shared is true (the processes mode's result). */
double *mm_alloc(unsigned n, bool shared);
void mm_free(double *p, unsigned n);
void mm_fill(double *m, unsigned n, unsigned seed);

static inline unsigned mm_blocks(unsigned n)
{
	return (n + MM_BLOCK_ROWS - 1) / MM_BLOCK_ROWS;
}

static inline unsigned mm_tiles(unsigned n)
{
	return (n + MM_TILE_K - 1) / MM_TILE_K;
}

/* Adds tile `tile` (a range of k) of block `block`'s product into C. */
void mm_tile(const struct mm *m, unsigned block, unsigned tile);
/* All of a block's tiles, in order. */
void mm_block(const struct mm *m, unsigned block);

/* Claims the next block from a shared counter; false when none is left. */
static inline bool mm_claim(_Atomic unsigned *next, unsigned n, unsigned *block)
{
	/* relaxed: the counter only splits the work; results are published by join/waitpid */
	*block = atomic_fetch_add_explicit(next, 1, memory_order_relaxed);
	return *block < mm_blocks(n);
}

bool mm_equal(const double *x, const double *y, unsigned n);
bool mm_spot_check(const struct mm *m);

static inline double mm_flops(unsigned n)
{
	return 2.0 * n * n * n;
}

#endif /* KSYNC_TOOLS_MATRIX_H */

// SPDX-License-Identifier: MIT
/*
 * ring.c — the bounded-queue harness, compiled once per shim in shim/ring/.
 *
 *	RING_NAME, RING_ORIGIN, RING_BASELINE (ksync shims only)
 *	RING_TYPE; RING_INIT(r, capacity)
 *	RING_PUT(r, item)	blocks (or waits) while the queue is full
 *	RING_GET(r)		blocks (or waits) while it is empty; returns the item
 *	RING_SPSC		optional: one producer and one consumer only
 *
 * ring/transfer/<name>, 2 threads (one producer, one consumer) and, unless RING_SPSC, 4 (two of
 * each): even threads put items, odd threads get them, through a queue of KB_RING_SLOTS slots —
 * the same size as cond/buffer's monitor. ns_per_round is the time per item each producer puts.
 * Consumers check that every item is one a producer put (non-zero, in range).
 */
#include <stdint.h>

#include "kbench.h"
#include "rounds.h"
#include "window.h"

#define KB_RING_SLOTS	16

#include SHIM

#ifdef RING_BASELINE
#define RING_LABEL	RING_ORIGIN " vs " RING_BASELINE
#else
#define RING_LABEL	RING_ORIGIN
#endif

/* kb_batch() never hands out more than this many iterations at once (kbench.cc's KB_BATCH). */
#define KB_MAX_ITEM	1000u

static RING_TYPE ring __attribute__((aligned(KB_CACHELINE)));
static _Atomic uint64_t bad_items;

static void bm_transfer(struct kb_state *st)
{
	bool producer = kb_thread_index(st) % 2 == 0;
	struct kb_rounds r;

	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st)) {
		for (uint64_t i = 1; i <= n; i++) {
			uintptr_t item;

			if (producer) {
				RING_PUT(&ring, (void *)(uintptr_t)i);
				continue;
			}
			item = (uintptr_t)RING_GET(&ring);
			/* before this thread's last kb_batch(), so thread 0 sees it below */
			if (item == 0 || item > KB_MAX_ITEM)
				atomic_fetch_add_explicit(&bad_items, 1, memory_order_relaxed);
		}
	}
	kb_rounds_end(&r, st);
	if (kb_thread_index(st) == 0 &&
	    atomic_exchange_explicit(&bad_items, 0, memory_order_relaxed))
		kb_error(st, "a consumer got an item no producer put");
	kb_label(st, RING_LABEL);
}

static void register_ring(void)
{
	struct kb_bench *b;

	RING_INIT(&ring, KB_RING_SLOTS);
	b = kb_register("ring/transfer/" RING_NAME, bm_transfer, NULL);
	kb_threads(b, 2);
#ifndef RING_SPSC
	kb_threads(b, 4);
#endif
}
KB_REGISTER(register_ring)

// SPDX-License-Identifier: MIT
/*
 * barrier.c — the barrier harness, compiled once per shim in shim/barrier/.
 *
 *	BARRIER_NAME, BARRIER_ORIGIN, BARRIER_BASELINE (ksync shims only)
 *	BARRIER_TYPE; BARRIER_INIT(b, parties)
 *	BARRIER_SELF_TYPE	optional: per-thread state kept across rounds (ck's sense)
 *	BARRIER_WAIT(b, self, parties)
 *
 * barrier/rounds/<name> at 2, 4 and 8 threads: every iteration is one barrier episode, with no
 * work between; ns_per_round is the time of one episode. Each thread count has its own barrier
 * object, initialised once for that many parties, and per-thread state that persists between
 * runs (a centralized sense-reversing barrier breaks if a thread forgets its sense).
 */
#include "kbench.h"
#include "rounds.h"
#include "window.h"

#include SHIM

#ifdef BARRIER_BASELINE
#define BARRIER_LABEL	BARRIER_ORIGIN " vs " BARRIER_BASELINE
#else
#define BARRIER_LABEL	BARRIER_ORIGIN
#endif

#ifndef BARRIER_SELF_TYPE
#define BARRIER_SELF_TYPE char
#endif

static const int party_counts[] = { 2, 4, 8 };
#define KB_MAX_PARTIES	8

static BARRIER_TYPE barrier[KB_MAX_PARTIES + 1] __attribute__((aligned(KB_CACHELINE)));
static BARRIER_SELF_TYPE self_state[KB_MAX_PARTIES + 1][KB_MAX_PARTIES];

static void bm_rounds(struct kb_state *st)
{
	unsigned parties = (unsigned)kb_nthreads(st);
	BARRIER_TYPE *b = &barrier[parties];
	BARRIER_SELF_TYPE *self = &self_state[parties][kb_thread_index(st)];
	struct kb_rounds r;

	(void)self;
	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st))
		while (n--)
			BARRIER_WAIT(b, self, parties);
	kb_rounds_end(&r, st);
	kb_label(st, BARRIER_LABEL);
}

static void register_barrier(void)
{
	struct kb_bench *b = kb_register("barrier/rounds/" BARRIER_NAME, bm_rounds, NULL);

	for (unsigned i = 0; i < sizeof(party_counts) / sizeof(party_counts[0]); i++) {
		BARRIER_INIT(&barrier[party_counts[i]], (unsigned)party_counts[i]);
		kb_threads(b, party_counts[i]);
	}
}
KB_REGISTER(register_barrier)

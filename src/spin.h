/* SPDX-License-Identifier: MIT */
/*
 * Bounded spinning before sleeping.
 *
 * A futex sleep and wake-up costs several microseconds of latency at each end; a waiter that
 * spins briefly on the word sees a release by a running thread within a cache-line transfer. The
 * spin is bounded so that an oversubscribed machine (more threads than CPUs, where the thread
 * we wait for may not be running at all) loses little before the waiter goes to sleep.
 */
#ifndef KSYNC_SRC_SPIN_H
#define KSYNC_SRC_SPIN_H

#include <stdatomic.h>
#include <stdint.h>

#include <ksync/common.h>

/*
 * Iterations of the pause loop. One iteration is one load and one `pause` (about 40 ns on
 * current x86 parts, whose pause takes ~140 cycles), so 100 is a few microseconds: about one
 * futex wake-up's latency. Chosen with bench/handoff (see docs/spinning.md).
 */
#ifndef KS_SPIN_LIMIT
#define KS_SPIN_LIMIT 100
#endif

/* Spins while *word == val, at most `limit` times; returns the last value read (acquire). */
static inline uint32_t ks_spin_while_eq(_Atomic uint32_t *word, uint32_t val, unsigned limit)
{
	uint32_t cur = atomic_load_explicit(word, memory_order_acquire);

	while (cur == val && limit--) {
		ks_cpu_relax();
		cur = atomic_load_explicit(word, memory_order_acquire);
	}
	return cur;
}

#endif /* KSYNC_SRC_SPIN_H */

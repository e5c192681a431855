/* SPDX-License-Identifier: MIT */
/*
 * Bounded, adaptive spinning before sleeping.
 *
 * A futex sleep and wake-up costs several microseconds of latency at each end; a waiter that
 * spins briefly on the word sees a release by a running thread within a cache-line transfer.
 * But when threads outnumber CPUs, the thread we wait for may not be running at all, and our
 * spin then only keeps it off the CPU it needs. So each thread adapts: a spin that ends without
 * seeing the change halves that thread's next spins (down to 1/16), and a spin that sees it
 * doubles them again (up to the full limit). An oversubscribed thread soon spins a few hundred
 * nanoseconds at most; two threads on idle CPUs keep the full spin. The state is one byte of TLS:
 * no shared cache line is written to learn it. See docs/spinning.md.
 */
#ifndef KSYNC_SRC_SPIN_H
#define KSYNC_SRC_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sched.h>
#include <stdint.h>

#include <ksync/common.h>

/*
 * Iterations of the pause loop at full budget. One iteration is one load and one `pause`
 * (26 ns on the AMD EPYC development machine, ~40 ns on recent Intel parts), so 1000 is 26–40 µs:
 * longer than a futex sleep-and-wake on a VM (10–20 µs). That is the point: a spin shorter than
 * the partner's wake-up latency never catches a partner that was asleep, so a ping-pong that
 * once fell asleep stays asleep (sem round trip 9.7 µs at 100 iterations, 46 ns at 1000, same
 * run; docs/spinning.md). The adaptive budget below keeps the long spin from costing much when
 * threads outnumber CPUs. CPPFLAGS=-DKS_SPIN_LIMIT=n reproduces the comparison.
 */
#ifndef KS_SPIN_LIMIT
#define KS_SPIN_LIMIT 1000
#endif

/* At most this many halvings of the budget after failed spins: 1000 >> 4 = 62 iterations. */
#ifndef KS_SPIN_SHIFT_MAX
#define KS_SPIN_SHIFT_MAX 4
#endif

extern __thread unsigned char ks__spin_shift __attribute__((tls_model("initial-exec")));

/* How many iterations the calling thread may spin now, at a site whose full budget is `limit`. */
static inline unsigned ks_spin_budget(unsigned limit)
{
	return limit >> ks__spin_shift;
}

/* How a spin ended: `seen` if the change it waited for came while it spun. */
static inline void ks_spin_feedback(bool seen)
{
	unsigned char shift = ks__spin_shift;

	if (seen && shift)
		ks__spin_shift = shift - 1;
	else if (!seen && shift < KS_SPIN_SHIFT_MAX)
		ks__spin_shift = shift + 1;
}

/*
 * Spins while *word == val, at most the thread's budget out of `limit` (0: not at all); returns
 * the last value read (acquire).
 */
static inline uint32_t ks_spin_while_eq(_Atomic uint32_t *word, uint32_t val, unsigned limit)
{
	uint32_t cur = atomic_load_explicit(word, memory_order_acquire);
	unsigned left = ks_spin_budget(limit);

	if (cur != val || !left)
		return cur;
	while (cur == val && left--) {
		ks_cpu_relax();
		cur = atomic_load_explicit(word, memory_order_acquire);
	}
	ks_spin_feedback(cur != val);
	return cur;
}

/*
 * sched_yield() calls a waiter may make before sleeping when more threads must run than there
 * are CPUs (a barrier with more parties than CPUs): the thread we wait for is then likely
 * runnable on our own CPU, and a yield hands it the CPU in about a microsecond, where a futex
 * sleep and wake-up costs ten or more. Bounded, so a waiter on a long round still sleeps.
 */
#define KS_YIELD_LIMIT 16

/* Yields while *word == val, at most `limit` times; returns the last value read (acquire). */
static inline uint32_t ks_yield_while_eq(_Atomic uint32_t *word, uint32_t val, unsigned limit)
{
	uint32_t cur = atomic_load_explicit(word, memory_order_acquire);

	while (cur == val && limit--) {
		sched_yield();
		cur = atomic_load_explicit(word, memory_order_acquire);
	}
	return cur;
}

#endif /* KSYNC_SRC_SPIN_H */

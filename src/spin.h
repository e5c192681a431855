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
#include <stdint.h>

#include <ksync/common.h>

/*
 * Iterations of the pause loop at full budget. One iteration is one load and one `pause`
 * (26 ns on the AMD EPYC development machine, ~40 ns on recent Intel parts), so 100 is 2.5–4 µs:
 * about one futex wake-up's latency. Measured in docs/spinning.md; a build with
 * CPPFLAGS=-DKS_SPIN_LIMIT=n reproduces the comparison.
 */
#ifndef KS_SPIN_LIMIT
#define KS_SPIN_LIMIT 100
#endif

/* At most this many halvings of the budget after failed spins: 100 >> 4 = 6 iterations. */
#define KS_SPIN_SHIFT_MAX 4

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

#endif /* KSYNC_SRC_SPIN_H */

/* SPDX-License-Identifier: MIT */
/*
 * struct ks_barrier — Python's threading.Barrier: a cyclic barrier for `parties` threads, with
 * an action run by the last to arrive, abort(), reset() and timeouts that break it.
 *
 * An internal ks_mutex guards the arrival count and the configuration; waiters sleep on one
 * futex word, `seq`, which the lock holder changes to release or break them:
 *
 *	bit 0		BROKEN: waiters of this generation get -EPIPE; so do arrivals, until reset
 *	bit 1		RESETTING: reset() waits for the broken generation's waiters to leave
 *	bit 2		SLEEPERS: someone may sleep in futex_wait, so a change must FUTEX_WAKE
 *	bits 3..31	the generation, +8 per release (it wraps; only equality is ever asked)
 *
 * A waiter that sees the generation move past its own has passed, whatever else the word says.
 * Every change but setting SLEEPERS is made under the lock. See docs/barrier.md.
 */
#ifndef KSYNC_BARRIER_H
#define KSYNC_BARRIER_H

#include <ksync/common.h>
#include <ksync/mutex.h>

KS_BEGIN_DECLS

/*
 * What the waits use: everything but the action, 28 bytes, so that POSIX's 32-byte
 * pthread_barrier_t holds one (the interposer's barriers, preload/, have no action).
 */
struct ks_barrier_core {
	KS_ATOMIC(uint32_t) seq;	/* the futex word, encoded as above */
	struct ks_mutex lock;
	KS_ATOMIC(unsigned) count;	/* arrivals in this generation; written under lock */
	unsigned parties;
	unsigned spin;			/* pause iterations before sleeping (0: never spin) */
	uint32_t flags;			/* KS_SHARED */
};

struct ks_barrier {
	struct ks_barrier_core core;
	int (*action)(void *);
	void *arg;
};

#define KS_BARRIER_BROKEN	0x1u
#define KS_BARRIER_RESETTING	0x2u
#define KS_BARRIER_SLEEPERS	0x4u
#define KS_BARRIER_GEN_ONE	0x8u
#define KS_BARRIER_GEN_MASK	(~(KS_BARRIER_GEN_ONE - 1))

/* 0; -EINVAL if parties is 0 or above INT_MAX. action (may be NULL) runs in the last arrival. */
int ks_barrier_init(struct ks_barrier *b, unsigned parties, int (*action)(void *), void *arg,
		    unsigned flags);

/* 0 … parties-1, distinct within a generation; -EPIPE if broken; -ETIMEDOUT (and broken). */
int ks_barrier_wait(struct ks_barrier *b);
int ks_barrier_wait_timeout(struct ks_barrier *b, int64_t timeout_ns);

void ks_barrier_abort(struct ks_barrier *b);
void ks_barrier_reset(struct ks_barrier *b);

static inline unsigned ks_barrier_parties(const struct ks_barrier *b)
{
	return b->core.parties;
}

/* Python's broken: true once broken, until a reset begins. */
static inline bool ks_barrier_broken(const struct ks_barrier *b)
{
	uint32_t s = atomic_load_explicit(&b->core.seq, memory_order_relaxed);

	return (s & (KS_BARRIER_BROKEN | KS_BARRIER_RESETTING)) == KS_BARRIER_BROKEN;
}

/* Threads waiting in the generation that is filling; 0 while broken or resetting. */
static inline unsigned ks_barrier_n_waiting(const struct ks_barrier *b)
{
	if (atomic_load_explicit(&b->core.seq, memory_order_relaxed) & KS_BARRIER_BROKEN)
		return 0;
	return atomic_load_explicit(&b->core.count, memory_order_relaxed);
}

KS_END_DECLS

#endif /* KSYNC_BARRIER_H */

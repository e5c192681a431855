/* SPDX-License-Identifier: MIT */
/*
 * struct ks_sem — Python's threading.Semaphore and BoundedSemaphore on one 64-bit word whose
 * low half is the futex word (glibc's "new" semaphore has the same shape on 64-bit targets):
 *
 *	bits  0..31	value		tokens available, 0 … KS_SEM_VALUE_MAX (INT32_MAX)
 *	bits 32..63	nwaiters	threads registered to sleep (maybe asleep in futex_wait)
 *
 * down: CAS value → value - 1 (inline). Otherwise the slow path spins briefly while value is 0,
 * then registers (nwaiters + 1), and sleeps in futex_wait(value half, 0) until it can take a
 * token with a CAS that also unregisters it. up(n): one CAS value → value + n (inline) that
 * refuses, changing nothing, to pass the bound; the same CAS returns nwaiters as it was, and
 * only if that is non-zero does up make a FUTEX_WAKE of min(n, nwaiters).
 *
 * Why one word and not two: with value and nwaiters in separate words, up must read nwaiters
 * after its increment of value (the Dekker pairing in docs/sem.md), but by then a waiter may
 * have taken the token and freed the semaphore. One CAS learns both at once, so up touches the
 * semaphore only through the futex address after the store that releases a waiter.
 * nwaiters cannot overflow: a thread registers at most once and Linux has fewer than 2^22
 * (PID_MAX_LIMIT) threads. See docs/sem.md.
 */
#ifndef KSYNC_SEM_H
#define KSYNC_SEM_H

#include <ksync/common.h>

KS_BEGIN_DECLS

#define KS_SEM_VALUE_MAX	((unsigned)INT32_MAX)

struct ks_sem {
	KS_ATOMIC(uint64_t) word;	/* value | (uint64_t)nwaiters << KS_SEM_WAITER_SHIFT */
	uint32_t bound;			/* up() never passes it: the initial value or the maximum */
	uint32_t flags;			/* KS_BOUNDED, KS_SHARED */
};

#define KS_SEM_VALUE_MASK	0xffffffffull
#define KS_SEM_WAITER_SHIFT	32
#define KS_SEM_ONE_WAITER	(1ull << KS_SEM_WAITER_SHIFT)

#define KS_SEM_INIT(v)		{ (uint32_t)(v), KS_SEM_VALUE_MAX, 0 }
#define KS_BOUNDED_SEM_INIT(v)	{ (uint32_t)(v), (uint32_t)(v), KS_BOUNDED }

/* 0; -EINVAL if value > KS_SEM_VALUE_MAX or flags has bits other than KS_BOUNDED|KS_SHARED. */
int ks_sem_init(struct ks_sem *s, unsigned value, unsigned flags);
void ks__sem_down_slow(struct ks_sem *s);
int ks__sem_down_timeout_slow(struct ks_sem *s, int64_t timeout_ns);
void ks__sem_wake(KS_ATOMIC(uint32_t) *futex, uint32_t n, unsigned flags);

/* The futex word: the value half of `word`, whichever end of it that is in memory. */
static inline KS_ATOMIC(uint32_t) *ks__sem_futex(struct ks_sem *s)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (KS_ATOMIC(uint32_t) *)&s->word + 1;
#else
	return (KS_ATOMIC(uint32_t) *)&s->word;
#endif
}

static inline bool ks_sem_trydown(struct ks_sem *s)
{
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);

	while (w & KS_SEM_VALUE_MASK) {
		/* acquire: pairs with the release in ks_sem_up_n() that made the token */
		if (atomic_compare_exchange_weak_explicit(&s->word, &w, w - 1,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

static inline void ks_sem_down(struct ks_sem *s)
{
	if (ks_unlikely(!ks_sem_trydown(s)))
		ks__sem_down_slow(s);
}

/* 0, or -ETIMEDOUT; -EINVAL for a negative timeout; 0 ns tries once. */
static inline int ks_sem_down_timeout(struct ks_sem *s, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_sem_trydown(s)))
		return 0;
	return ks__sem_down_timeout_slow(s, timeout_ns);
}

/*
 * Adds n tokens: 0, or -EOVERFLOW (and the value unchanged) if it would pass the bound (a
 * bounded semaphore's initial value, else KS_SEM_VALUE_MAX); -EINVAL for n == 0, as Python's
 * release(n) refuses n < 1.
 */
static inline int ks_sem_up_n(struct ks_sem *s, unsigned n)
{
	KS_ATOMIC(uint32_t) *futex = ks__sem_futex(s);
	unsigned flags = s->flags;	/* read before the CAS: after it, s may be freed */
	uint32_t bound = s->bound;
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
	uint32_t nwaiters;

	if (ks_unlikely(!n))
		return -EINVAL;
	do {
		if (n > bound - (uint32_t)(w & KS_SEM_VALUE_MASK))
			return -EOVERFLOW;
		/* release: pairs with the acquire of the down that takes these tokens */
	} while (!atomic_compare_exchange_weak_explicit(&s->word, &w, w + n, memory_order_release,
							memory_order_relaxed));
	nwaiters = (uint32_t)(w >> KS_SEM_WAITER_SHIFT);
	if (ks_unlikely(nwaiters))
		ks__sem_wake(futex, n < nwaiters ? n : nwaiters, flags);
	return 0;
}

static inline int ks_sem_up(struct ks_sem *s)
{
	return ks_sem_up_n(s, 1);
}

static inline unsigned ks_sem_value(const struct ks_sem *s)
{
	return (unsigned)(atomic_load_explicit(&s->word, memory_order_relaxed) & KS_SEM_VALUE_MASK);
}

KS_END_DECLS

#endif /* KSYNC_SEM_H */

// SPDX-License-Identifier: MIT
/*
 * ks_sem slow paths. The word's encoding is in include/ksync/sem.h and docs/sem.md; in short:
 *
 *  - A thread may sleep only while it is counted in nwaiters, and only while value is 0: it
 *    registers with an atomic add on the word, then futex_wait(value half, 0), which the kernel
 *    refuses (-EAGAIN) if the value half is no longer 0 when it looks, under its bucket lock.
 *  - up(n) changes value and learns nwaiters in one CAS on the same word. All RMWs on one word
 *    are totally ordered, so either the registration came first (up sees nwaiters > 0 and
 *    wakes) or the up came first (the registration's add returns value > 0, or the kernel sees
 *    it): a wake-up cannot be lost, with no seq_cst fence at all.
 *  - A waiter takes its token and unregisters in the same CAS, so nwaiters never lists a thread
 *    that no longer needs a wake; a woken thread that finds the value 0 (another took the token
 *    first) sleeps again. A thread that times out still takes a token that is there.
 *  - The spin comes before registering: a spinner is invisible to up(), which then makes no
 *    system call. That is what makes a ping-pong fast: while both sides run, neither sleeps.
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"
#include "until.h"

#include <pthread.h>

#include <ksync/sem.h>

/*
 * User space updates the whole word with 64-bit atomics while the kernel reads its value half:
 * the atomics must be single instructions on the word itself, not a lock kept beside it.
 */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "ks_sem needs lock-free 64-bit atomics");

int ks_sem_init(struct ks_sem *s, unsigned value, unsigned flags)
{
	if (value > KS_SEM_VALUE_MAX || (flags & ~(KS_BOUNDED | KS_SHARED)))
		return -EINVAL;
	atomic_init(&s->word, value);
	s->bound = (flags & KS_BOUNDED) ? value : KS_SEM_VALUE_MAX;
	s->flags = flags;
	return 0;
}

/* Only the address: the semaphore may be freed already (see ks_sem_up_n()). */
void ks__sem_wake(_Atomic uint32_t *futex, uint32_t n, unsigned flags)
{
	ks_futex_wake(futex, (int)n, flags);
}

/* Spins while no token is there; returns the last word read. */
static uint64_t ks_sem_spin(struct ks_sem *s)
{
	uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
	unsigned limit = ks_spin_budget(KS_SPIN_LIMIT);

	if ((w & KS_SEM_VALUE_MASK) || !limit)
		return w;
	while (!(w & KS_SEM_VALUE_MASK) && limit--) {
		ks_cpu_relax();
		w = atomic_load_explicit(&s->word, memory_order_relaxed);
	}
	ks_spin_feedback(w & KS_SEM_VALUE_MASK);
	return w;
}

/*
 * Registered as a waiter (w is the word after that): sleep, then take a token and unregister in
 * one CAS; or, once the deadline passed or a signal handler interrupted a KS_WAIT_INTR wait,
 * unregister without a token (a token that is there is still taken).
 */
static int ks_sem_sleep(struct ks_sem *s, const struct ks_deadline *d, uint64_t w)
{
	_Atomic uint32_t *futex = ks__sem_futex(s);
	int give_up = 0;
	int r;

	for (;;) {
		if (w & KS_SEM_VALUE_MASK) {
			/* acquire: pairs with the release in ks_sem_up_n() */
			if (atomic_compare_exchange_weak_explicit(&s->word, &w,
								  w - KS_SEM_ONE_WAITER - 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return 0;
			continue;
		}
		if (give_up) {
			if (atomic_compare_exchange_weak_explicit(&s->word, &w,
								  w - KS_SEM_ONE_WAITER,
								  memory_order_relaxed,
								  memory_order_relaxed))
				return give_up;
			continue;
		}
		r = ks_futex_wait_until(futex, 0, d, s->flags);

		/* 0 (woken), -EAGAIN (a token came), -EINTR: look again, same deadline */
		if (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d)))
			give_up = -ETIMEDOUT;
		else if (r == -EINTR && (d->wait & KS_WAIT_INTR))
			give_up = -EINTR;
		w = atomic_load_explicit(&s->word, memory_order_relaxed);
	}
}

/*
 * A waiter cancelled in its sleep leaves the waiters. The wake-up it was sleeping for may have
 * come just before: if tokens remain and others wait, it passes one wake on (POSIX: a cancelled
 * waiter must not consume what another could have taken).
 */
static void ks_sem_cancelled(void *arg)
{
	struct ks_sem *s = arg;
	uint64_t w = atomic_fetch_sub_explicit(&s->word, KS_SEM_ONE_WAITER, memory_order_relaxed) -
		     KS_SEM_ONE_WAITER;

	if ((w & KS_SEM_VALUE_MASK) && (w >> KS_SEM_WAITER_SHIFT))
		ks__sem_wake(ks__sem_futex(s), 1, s->flags);
}

/* Register, sleep, take a token and unregister: 0, or -ETIMEDOUT once the deadline passed. */
static int ks_sem_down_contended(struct ks_sem *s, const struct ks_deadline *d)
{
	uint64_t w;
	int r;

	if ((ks_sem_spin(s) & KS_SEM_VALUE_MASK) && ks_sem_trydown(s))
		return 0;
	/* relaxed: ordered against up()'s CAS by the word's modification order alone */
	w = atomic_fetch_add_explicit(&s->word, KS_SEM_ONE_WAITER, memory_order_relaxed) +
	    KS_SEM_ONE_WAITER;
	if (!(d->wait & KS_WAIT_CANCEL))
		return ks_sem_sleep(s, d, w);
	pthread_cleanup_push(ks_sem_cancelled, s);
	r = ks_sem_sleep(s, d, w);
	pthread_cleanup_pop(0);
	return r;
}

int ks__sem_down_until(struct ks_sem *s, const struct ks_deadline *d)
{
	if (ks_sem_trydown(s))
		return 0;
	if (d->now)
		return -ETIMEDOUT;
	return ks_sem_down_contended(s, d);
}

void ks__sem_down_slow(struct ks_sem *s)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	ks_sem_down_contended(s, &forever);
}

int ks__sem_down_timeout_slow(struct ks_sem *s, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	if (r)
		return r;
	if (d.now)
		return ks_sem_trydown(s) ? 0 : -ETIMEDOUT;
	return ks_sem_down_contended(s, &d);
}

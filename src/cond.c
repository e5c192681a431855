// SPDX-License-Identifier: MIT
/*
 * ks_cond: the wait and the notify. The state is described in include/ksync/cond.h, the design
 * and its traps in docs/cond.md.
 *
 * Invariants (every field but `word` and `futex` changes under the internal lock only):
 *  1. A waiter joins G2 (generation g1_gen + 1) and is counted in `word` before it releases the
 *     user's lock; so a notifier that holds that lock, or took it since, sees it.
 *  2. A notify signals only waiters counted when it took the internal lock: G1's unsignaled ones
 *     first; if G1 has none, G2 becomes G1 (g1_gen + 1), so every waiter it signals was waiting
 *     before it. A waiter that joins afterwards lands in the new G2 and cannot take the signal.
 *  3. G1 waiters = g1_unsignaled + g1_signals. A waiter ends its wait with 0 only by consuming
 *     one of g1_signals, or because its group is closed (its generation < g1_gen: every member
 *     was signaled, and the unconsumed signals were theirs). So notify(n) ends at most n waits.
 *  4. A thread asleep in the kernel on futex[s] belongs to the group in slot s, and G1 has at
 *     most g1_unsignaled of them: a waiter sleeps only after seeing no signal for it, futex_wait
 *     refuses it if a notify bumped futex[s] since, and each notify of m picks up to m
 *     sleepers to wake in the same atomic step as it releases the lock (FUTEX_WAKE_OP). So
 *     when G1 closes, none of its members is in the kernel, and a later wake on that slot (for
 *     the group that takes it over) cannot be spent on one of them.
 *  5. A timed-out waiter decides under the lock: a signal there for it means it was notified
 *     (0); otherwise it leaves its group without taking anyone's signal (-ETIMEDOUT). A signal
 *     can be neither lost nor doubled by a deadline.
 *  6. Nothing touches the condition after releasing the internal lock (only the address, for
 *     FUTEX_WAKE of the lock's own sleepers): a waiter can return, and free it, only after
 *     taking that lock itself.
 * futex[] is 32 bits and compared with ==: a waiter could sleep through a notify only if exactly
 * 2^32 notifies of its slot came between its last look and its entry into the kernel.
 */
#include <limits.h>
#include <pthread.h>

#include "deadline.h"
#include "futex.h"
#include "inject.h"
#include "spin.h"

#include <ksync/cond.h>

/* pthread_cond_t is 48 bytes; an embedder (the interposer) keeps its clock id in the rest. */
_Static_assert(sizeof(struct ks_cond) <= 40, "ks_cond must leave room in a pthread_cond_t");

/*
 * Pause iterations a thread spins on the internal lock before sleeping on it. It is held for a
 * few dozen instructions, or one FUTEX_WAKE (a few microseconds on a VM); a holder that was
 * preempted is better waited for asleep.
 */
#define KS_COND_LOCK_SPIN	200

#define KS_COND_LOCK_BITS	(KS_COND_LOCKED | KS_COND_CONTENDED)

static unsigned ks_cond_futex_flags(uint32_t w)
{
	return (w & KS_COND_SHARED) ? KS_SHARED : 0;
}

void ks_cond_init(struct ks_cond *c, unsigned flags)
{
	atomic_init(&c->word, (flags & KS_SHARED) ? KS_COND_SHARED : 0);
	atomic_init(&c->futex[0], 0);
	atomic_init(&c->futex[1], 0);
	c->sleepers[0] = c->sleepers[1] = 0;
	c->g1_unsignaled = c->g1_signals = c->g2_size = 0;
	c->g1_gen = 0;
}

/* ---- the internal lock: Drepper's mutex2, in the low bits of `word` ------------------------- */

static uint32_t ks_cond_lock_slow(struct ks_cond *c)
{
	uint32_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
	unsigned spins = KS_COND_LOCK_SPIN;
	uint32_t take = KS_COND_LOCKED;

	for (;;) {
		if (!(w & KS_COND_LOCKED)) {
			/* acquire: pairs with the release in ks_cond_unlock() */
			if (atomic_compare_exchange_weak_explicit(&c->word, &w, w | take,
								  memory_order_acquire,
								  memory_order_relaxed))
				return w | take;
			continue;
		}
		if (spins) {
			spins--;
			ks_cpu_relax();
			w = atomic_load_explicit(&c->word, memory_order_relaxed);
			continue;
		}
		if (!(w & KS_COND_CONTENDED) &&
		    !atomic_compare_exchange_weak_explicit(&c->word, &w, w | KS_COND_CONTENDED,
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		ks_futex_wait(&c->word, w | KS_COND_CONTENDED, NULL, ks_cond_futex_flags(w));
		/* having slept, take it as contended: others may sleep behind us */
		take = KS_COND_LOCKED | KS_COND_CONTENDED;
		w = atomic_load_explicit(&c->word, memory_order_relaxed);
	}
}

/* Takes the internal lock; returns the word as it now is. */
static inline uint32_t ks_cond_lock(struct ks_cond *c)
{
	uint32_t w = atomic_load_explicit(&c->word, memory_order_relaxed);

	/* acquire: pairs with the release in ks_cond_unlock() */
	if (ks_likely(!(w & KS_COND_LOCKED)) &&
	    atomic_compare_exchange_weak_explicit(&c->word, &w, w | KS_COND_LOCKED,
						  memory_order_acquire, memory_order_relaxed))
		return w | KS_COND_LOCKED;
	return ks_cond_lock_slow(c);
}

/*
 * Releases the internal lock, adding `delta` to the count of waiters not yet signaled. The
 * caller's last access to the condition: a waiter may return and free it right after.
 */
static inline void ks_cond_unlock(struct ks_cond *c, int32_t delta)
{
	uint32_t w = atomic_load_explicit(&c->word, memory_order_relaxed), nw;

	do {
		nw = (w & ~KS_COND_LOCK_BITS) + (uint32_t)delta * KS_COND_WAITER_ONE;
		/* release: pairs with the acquire in ks_cond_lock() */
	} while (!atomic_compare_exchange_weak_explicit(&c->word, &w, nw, memory_order_release,
							memory_order_relaxed));
	if (ks_unlikely(w & KS_COND_CONTENDED)) {
		ks_inject("cond.unlock.wake");
		ks_futex_wake(&c->word, 1, ks_cond_futex_flags(w));	/* the address only */
	}
}

/* ---- the groups (all under the internal lock) ---------------------------------------------- */

/*
 * Signals up to n waiters, G1's first, turning G2 into G1 when G1 has none left. Returns the
 * number signaled, and in wake[] how many sleepers of each slot to wake for them.
 */
static uint32_t ks_cond_post(struct ks_cond *c, uint32_t n, uint32_t wake[2])
{
	uint32_t given = 0;

	wake[0] = wake[1] = 0;
	while (n) {
		uint32_t m;
		unsigned s;

		if (!c->g1_unsignaled) {
			if (!c->g2_size)
				break;
			/* G1 is closed: its members left or were signaled; G2 waited before us */
			c->g1_gen++;
			c->g1_unsignaled = c->g2_size;
			c->g1_signals = 0;
			c->g2_size = 0;
		}
		m = n < c->g1_unsignaled ? n : c->g1_unsignaled;
		c->g1_unsignaled -= m;
		c->g1_signals += m;
		n -= m;
		given += m;
		s = c->g1_gen & 1;
		/* relaxed: the waiters decide under the lock; this only stops them sleeping */
		atomic_store_explicit(&c->futex[s],
				      atomic_load_explicit(&c->futex[s], memory_order_relaxed) + 1,
				      memory_order_relaxed);
		wake[s] = m > UINT32_MAX - wake[s] ? UINT32_MAX : wake[s] + m;
	}
	for (unsigned s = 0; s < 2; s++)
		if (wake[s] > c->sleepers[s])
			wake[s] = c->sleepers[s];
	return given;
}

static int ks_cond_wake_count(uint32_t n)
{
	return n > INT_MAX ? INT_MAX : (int)n;
}

/*
 * Releases the internal lock after a post, waking the sleepers it asked for. The last slot's
 * wake-up and the release are one FUTEX_WAKE_OP: the kernel picks the threads to wake on that
 * futex word in the same step as it clears LOCKED, so (invariant 4) they are members of the
 * group the post signaled, and they find the lock free when they run instead of running into
 * the notifier still holding it.
 */
static void ks_cond_unlock_wake(struct ks_cond *c, uint32_t word, int32_t delta,
				const uint32_t wake[2])
{
	unsigned fflags = ks_cond_futex_flags(word), s = wake[1] ? 1 : 0;

	if (!wake[0] && !wake[1]) {
		ks_cond_unlock(c, delta);
		return;
	}
	/* release: the kernel's clearing of LOCKED below is not a C11 store; this RMW is the
	 * release the next acquire of the internal lock pairs with */
	atomic_fetch_add_explicit(&c->word, (uint32_t)delta * KS_COND_WAITER_ONE,
				  memory_order_release);
	if (wake[0] && wake[1])
		ks_futex_wake(&c->futex[0], ks_cond_wake_count(wake[0]), fflags);
	ks_inject("cond.notify.wake");
	/* old word & ~(LOCKED|CONTENDED); the old word has LOCKED, so "!= 0" always wakes one
	 * sleeper of the internal lock, if there is one, as an unlock of CONTENDED must */
	if (ks_likely(ks_futex_wake_op(&c->futex[s], ks_cond_wake_count(wake[s]), &c->word, 1,
				       FUTEX_OP(FUTEX_OP_ANDN, KS_COND_LOCK_BITS,
						FUTEX_OP_CMP_NE, 0),
				       fflags) >= 0))
		return;
	/* refused (a seccomp filter, say): nothing was done; wake first, then release */
	ks_futex_wake(&c->futex[s], ks_cond_wake_count(wake[s]), fflags);
	ks_cond_unlock(c, 0);
}

/* If the waiter of generation `gen` was signaled, consumes its signal and returns true. */
static bool ks_cond_take(struct ks_cond *c, uint64_t gen)
{
	if (gen < c->g1_gen)
		return true;		/* its group was closed: all its members were signaled */
	if (gen == c->g1_gen && c->g1_signals) {
		c->g1_signals--;
		return true;
	}
	return false;
}

/* The unsignaled waiter of generation `gen` leaves its group. */
static void ks_cond_leave(struct ks_cond *c, uint64_t gen)
{
	if (gen == c->g1_gen)
		c->g1_unsignaled--;
	else
		c->g2_size--;
}

void ks__cond_notify(struct ks_cond *c, uint32_t n)
{
	uint32_t word = ks_cond_lock(c), wake[2];
	uint32_t given = ks_cond_post(c, n, wake);

	ks_cond_unlock_wake(c, word, -(int32_t)given, wake);
}

/* ---- the wait ------------------------------------------------------------------------------- */

struct ks_cond_waiter {
	struct ks_cond *c;
	void *lock;
	const struct ks_cond_lock_ops *ops;
	uint64_t saved;		/* what ops->release() saved for ops->reacquire() */
	uint64_t gen;		/* the group it joined */
	bool asleep;		/* counted in c->sleepers[gen & 1] */
};

/* Under the lock: no longer a possible sleeper. */
static void ks_cond_awake(struct ks_cond_waiter *w)
{
	if (w->asleep) {
		w->c->sleepers[w->gen & 1]--;
		w->asleep = false;
	}
}

/*
 * The waiter stops waiting without having been woken for it (its release failed, or it is being
 * cancelled): it leaves its group, and a signal it had already been given goes to another
 * waiter, as POSIX asks of a cancelled waiter.
 */
static void ks_cond_abandon(struct ks_cond_waiter *w)
{
	struct ks_cond *c = w->c;
	uint32_t word = ks_cond_lock(c);

	ks_cond_awake(w);
	if (ks_cond_take(c, w->gen)) {
		uint32_t wake[2], given = ks_cond_post(c, 1, wake);

		ks_cond_unlock_wake(c, word, -(int32_t)given, wake);
	} else {
		ks_cond_leave(c, w->gen);
		ks_cond_unlock(c, -1);
	}
}

/* Cancellation cleanup: runs before the thread's own handlers, which expect the lock held. */
static void ks_cond_cancel_cleanup(void *arg)
{
	struct ks_cond_waiter *w = arg;

	ks_cond_abandon(w);
	w->ops->reacquire(w->lock, w->saved);
}

/*
 * The futex sleep as a cancellation point: asynchronous cancellation is enabled around the
 * system call only, where the waiter holds no lock and its state is "registered, possibly
 * asleep": whatever instant a cancellation strikes, ks_cond_cancel_cleanup() finds that state.
 */
static int ks_cond_sleep_cancelable(struct ks_cond_waiter *w, _Atomic uint32_t *futex,
				    uint32_t val, const struct ks_deadline *d, unsigned fflags)
{
	int old, r;

	pthread_cleanup_push(ks_cond_cancel_cleanup, w);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	r = ks_futex_wait_clock(futex, val, ks_deadline_ts(d), fflags, d->clock);
	pthread_setcanceltype(old, NULL);
	pthread_cleanup_pop(0);
	return r;
}

static int ks_cond_wait_common(struct ks_cond_waiter *w, const struct ks_deadline *d,
			       bool cancel)
{
	struct ks_cond *c = w->c;
	bool expired = d->now;
	_Atomic uint32_t *futex;
	uint32_t word, val;
	int err, r;

	if (cancel)
		pthread_testcancel();	/* a pending cancel acts here, the lock still held */

	/* join G2, counted, before the user's lock is released (invariant 1) */
	word = ks_cond_lock(c);
	w->gen = c->g1_gen + 1;
	w->asleep = false;
	c->g2_size++;
	futex = &c->futex[w->gen & 1];
	val = atomic_load_explicit(futex, memory_order_relaxed);
	ks_cond_unlock(c, 1);

	err = w->ops->release(w->lock, &w->saved);
	if (ks_unlikely(err)) {
		ks_cond_abandon(w);
		return err;
	}
	ks_inject("cond.wait.released");

	/* in a hand-off the notify usually comes within microseconds: catch it on the CPU */
	if (!expired)
		ks_spin_while_eq(futex, val, KS_SPIN_LIMIT);
	for (;;) {
		word = ks_cond_lock(c);
		ks_cond_awake(w);
		if (ks_cond_take(c, w->gen)) {
			ks_cond_unlock(c, 0);
			r = 0;		/* notified, even if the deadline passed meanwhile */
			break;
		}
		if (expired) {
			ks_cond_leave(c, w->gen);
			ks_cond_unlock(c, -1);
			r = -ETIMEDOUT;
			break;
		}
		c->sleepers[w->gen & 1]++;
		w->asleep = true;
		val = atomic_load_explicit(futex, memory_order_relaxed);
		ks_cond_unlock(c, 0);
		ks_inject("cond.wait.sleep");
		if (cancel)
			r = ks_cond_sleep_cancelable(w, futex, val, d, ks_cond_futex_flags(word));
		else
			r = ks_futex_wait_clock(futex, val, ks_deadline_ts(d),
						ks_cond_futex_flags(word), d->clock);
		/* 0, -EAGAIN (a notify came), -EINTR: look again under the lock, same deadline */
		if (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d)))
			expired = true;
	}
	ks_inject("cond.wait.relock");
	err = w->ops->reacquire(w->lock, w->saved);
	return err ? err : r;
}

int ks_cond_wait_lock(struct ks_cond *c, void *lock, const struct ks_cond_lock_ops *ops,
		      clockid_t clock, const struct timespec *abstime, unsigned flags)
{
	struct ks_cond_waiter w = { .c = c, .lock = lock, .ops = ops };
	struct ks_deadline d;
	int err = ks_deadline_init_abs(&d, clock, abstime);

	if (err || (flags & ~KS_COND_CANCELPOINT))
		return err ? err : -EINVAL;
	return ks_cond_wait_common(&w, &d, flags & KS_COND_CANCELPOINT);
}

/* ---- the two lock types of the _Generic front ----------------------------------------------- */

static int ks_cond_mutex_release(void *lock, uint64_t *saved)
{
	struct ks_mutex *m = lock;

	(void)saved;
	if (!ks_mutex_is_locked(m))
		return -EPERM;
	ks_mutex_unlock(m);
	return 0;
}

static int ks_cond_mutex_reacquire(void *lock, uint64_t saved)
{
	(void)saved;
	ks_mutex_lock(lock);
	return 0;
}

const struct ks_cond_lock_ops ks_cond_mutex_ops = {
	.release = ks_cond_mutex_release,
	.reacquire = ks_cond_mutex_reacquire,
};

/* Every level at once; the owner's stores are published by the inner mutex's unlock. */
static int ks_cond_rmutex_release(void *lock, uint64_t *saved)
{
	struct ks_rmutex *r = lock;

	if (!ks__rmutex_owned_by(r, ks_self_tid()))
		return -EPERM;
	*saved = r->depth;
	r->depth = 1;
	ks_rmutex_unlock(r);
	return 0;
}

static int ks_cond_rmutex_reacquire(void *lock, uint64_t saved)
{
	struct ks_rmutex *r = lock;

	ks_mutex_lock(&r->lock);
	ks__rmutex_take(r, ks_self_tid());
	r->depth = (uint32_t)saved;
	return 0;
}

const struct ks_cond_lock_ops ks_cond_rmutex_ops = {
	.release = ks_cond_rmutex_release,
	.reacquire = ks_cond_rmutex_reacquire,
};

static int ks_cond_wait_deadline(struct ks_cond *c, void *lock,
				 const struct ks_cond_lock_ops *ops, const struct ks_deadline *d)
{
	struct ks_cond_waiter w = { .c = c, .lock = lock, .ops = ops };

	return ks_cond_wait_common(&w, d, false);
}

int ks_cond_wait_mutex(struct ks_cond *c, struct ks_mutex *m)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_cond_wait_deadline(c, m, &ks_cond_mutex_ops, &forever);
}

int ks_cond_wait_rmutex(struct ks_cond *c, struct ks_rmutex *r)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_cond_wait_deadline(c, r, &ks_cond_rmutex_ops, &forever);
}

int ks_cond_wait_timeout_mutex(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int err = ks_deadline_init(&d, timeout_ns);

	return err ? err : ks_cond_wait_deadline(c, m, &ks_cond_mutex_ops, &d);
}

int ks_cond_wait_timeout_rmutex(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns)
{
	struct ks_deadline d;
	int err = ks_deadline_init(&d, timeout_ns);

	return err ? err : ks_cond_wait_deadline(c, r, &ks_cond_rmutex_ops, &d);
}

int ks_cond_wait_until_mutex(struct ks_cond *c, struct ks_mutex *m, clockid_t clock,
			     const struct timespec *abstime)
{
	return ks_cond_wait_lock(c, m, &ks_cond_mutex_ops, clock, abstime, 0);
}

int ks_cond_wait_until_rmutex(struct ks_cond *c, struct ks_rmutex *r, clockid_t clock,
			      const struct timespec *abstime)
{
	return ks_cond_wait_lock(c, r, &ks_cond_rmutex_ops, clock, abstime, 0);
}

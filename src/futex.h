/* SPDX-License-Identifier: MIT */
/*
 * The only place that calls futex(2).
 *
 * Every wait is FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline (or none): the
 * deadline is fixed once by the caller, so a retry after a signal or a spurious return never
 * stretches the wait, and changing the wall clock changes nothing. (The one exception is a
 * caller's own absolute CLOCK_REALTIME deadline, ks_futex_wait_clock().) Objects made with KS_SHARED
 * use the shared futex ops (keyed by the physical page); all others the cheaper private ones.
 *
 * Returns are kernel style: 0, -EAGAIN (the word no longer held the expected value), -ETIMEDOUT,
 * -EINTR. Callers loop on -EINTR and never pass it on.
 */
#ifndef KSYNC_SRC_FUTEX_H
#define KSYNC_SRC_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ksync/common.h>

#include "deadline.h"

extern __thread unsigned long ks__futex_calls __attribute__((tls_model("initial-exec")));

static inline int ks_futex_op(unsigned flags, int op)
{
	return (flags & KS_SHARED) ? op : (op | FUTEX_PRIVATE_FLAG);
}

/*
 * Sleep while *word == expected, as a waiter of the classes in `bits` (see
 * ks_futex_wake_bits()), until woken or until the absolute CLOCK_MONOTONIC deadline (NULL: no
 * deadline).
 */
static inline int ks_futex_wait_bits(_Atomic uint32_t *word, uint32_t expected,
				     const struct timespec *deadline, unsigned flags, uint32_t bits)
{
	ks__futex_calls++;
	if (syscall(SYS_futex, word, ks_futex_op(flags, FUTEX_WAIT_BITSET), expected, deadline,
		    NULL, bits) == 0)
		return 0;
	return -errno;
}

/*
 * As ks_futex_wait(), with the absolute deadline on `clock`: CLOCK_MONOTONIC, or CLOCK_REALTIME
 * (FUTEX_CLOCK_REALTIME: the kernel re-reads the wall clock, so setting it moves the wake-up).
 */
static inline int ks_futex_wait_clock(_Atomic uint32_t *word, uint32_t expected,
				      const struct timespec *deadline, unsigned flags,
				      clockid_t clock)
{
	int op = ks_futex_op(flags, FUTEX_WAIT_BITSET);

	if (clock == CLOCK_REALTIME)
		op |= FUTEX_CLOCK_REALTIME;
	ks__futex_calls++;
	if (syscall(SYS_futex, word, op, expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY) == 0)
		return 0;
	return -errno;
}

int ks__futex_wait_cancelable(_Atomic uint32_t *word, int op, uint32_t expected,
			       const struct timespec *deadline, uint32_t bits);

/*
 * ks_futex_wait_bits() to a struct ks_deadline: on its clock (FUTEX_CLOCK_REALTIME for a
 * CLOCK_REALTIME one, as ks_futex_wait_clock()), and, if it says KS_WAIT_CANCEL, as a pthread
 * cancellation point: a cancellation acts while the thread sleeps here (or at once if one is
 * pending), and never anywhere else in the caller. The caller that asks for it has pushed a
 * cleanup handler that undoes its registration as a waiter.
 */
static inline int ks_futex_wait_until_bits(_Atomic uint32_t *word, uint32_t expected,
					   const struct ks_deadline *d, unsigned flags,
					   uint32_t bits)
{
	int op = ks_futex_op(flags, FUTEX_WAIT_BITSET);

	if (d->clock == CLOCK_REALTIME)
		op |= FUTEX_CLOCK_REALTIME;
	if (d->wait & KS_WAIT_CANCEL)
		return ks__futex_wait_cancelable(word, op, expected, ks_deadline_ts(d), bits);
	ks__futex_calls++;
	if (syscall(SYS_futex, word, op, expected, ks_deadline_ts(d), NULL, bits) == 0)
		return 0;
	return -errno;
}

static inline int ks_futex_wait_until(_Atomic uint32_t *word, uint32_t expected,
				      const struct ks_deadline *d, unsigned flags)
{
	return ks_futex_wait_until_bits(word, expected, d, flags, FUTEX_BITSET_MATCH_ANY);
}

/* Sleep while *word == expected, until woken or until the deadline (NULL: none). */
static inline int ks_futex_wait(_Atomic uint32_t *word, uint32_t expected,
				const struct timespec *deadline, unsigned flags)
{
	return ks_futex_wait_bits(word, expected, deadline, flags, FUTEX_BITSET_MATCH_ANY);
}

/*
 * Wake up to n of the waiters on `word` whose classes meet `bits`: two kinds of waiter can sleep
 * on one word and be woken separately (a rwlock's readers and writers). Address only, as below.
 */
static inline int ks_futex_wake_bits(_Atomic uint32_t *word, int n, unsigned flags,
				     uint32_t bits)
{
	long r;

	ks__futex_calls++;
	r = syscall(SYS_futex, word, ks_futex_op(flags, FUTEX_WAKE_BITSET), n, NULL, NULL, bits);
	return r < 0 ? -errno : (int)r;
}

/*
 * Wake up to n waiters (INT_MAX: all). Only the address is used: the word may already be
 * freed or reused by the time the kernel looks (a spurious wake-up for whoever waits there
 * next, which every waiter tolerates). Returns the number woken.
 */
static inline int ks_futex_wake(_Atomic uint32_t *word, int n, unsigned flags)
{
	long r;

	ks__futex_calls++;
	r = syscall(SYS_futex, word, ks_futex_op(flags, FUTEX_WAKE), n, NULL, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

/*
 * FUTEX_WAKE_OP: in one system call, and atomically for any thread that waits on either word,
 * apply `op` (FUTEX_OP(...)) to *word2, wake up to n1 waiters on word1, and, if op's comparison
 * with the old value of *word2 holds, up to n2 waiters on word2. The kernel picks the waiters
 * under the hash-bucket locks of both words, so no thread can start waiting on word1 between
 * the change of *word2 and the choice of whom to wake. Returns the number woken.
 */
static inline int ks_futex_wake_op(_Atomic uint32_t *word1, int n1, _Atomic uint32_t *word2,
				   int n2, uint32_t op, unsigned flags)
{
	long r;

	ks__futex_calls++;
	r = syscall(SYS_futex, word1, ks_futex_op(flags, FUTEX_WAKE_OP), n1, (long)n2, word2, op);
	return r < 0 ? -errno : (int)r;
}

/*
 * Priority-inheriting futexes: the word holds the owner's kernel tid (and FUTEX_WAITERS, which
 * the kernel sets), and the kernel queues the waiters by priority and lends the highest one's
 * priority to the owner. lock_pi sleeps until the kernel has made the caller the owner (0), or
 * the deadline passed (-ETIMEDOUT); the kernel restarts it after a signal. With a deadline it
 * is FUTEX_LOCK_PI2 (Linux 5.14), whose deadline is on CLOCK_MONOTONIC; `realtime` asks for
 * FUTEX_LOCK_PI instead, whose deadline is on CLOCK_REALTIME (older kernels).
 */
static inline int ks_futex_lock_pi(_Atomic uint32_t *word, const struct timespec *deadline,
				   bool realtime, unsigned flags)
{
	int op = deadline && !realtime ? FUTEX_LOCK_PI2 : FUTEX_LOCK_PI;

	ks__futex_calls++;
	if (syscall(SYS_futex, word, ks_futex_op(flags, op), 0, deadline, NULL, 0) == 0)
		return 0;
	return -errno;
}

/* Takes a PI futex that user space may not CAS (free, but marked by the kernel): 0, -EAGAIN. */
static inline int ks_futex_trylock_pi(_Atomic uint32_t *word, unsigned flags)
{
	ks__futex_calls++;
	if (syscall(SYS_futex, word, ks_futex_op(flags, FUTEX_TRYLOCK_PI), 0, NULL, NULL, 0) == 0)
		return 0;
	return -errno;
}

/* The owner hands a PI futex with waiters to the highest-priority one. 0, or -EPERM. */
static inline int ks_futex_unlock_pi(_Atomic uint32_t *word, unsigned flags)
{
	ks__futex_calls++;
	if (syscall(SYS_futex, word, ks_futex_op(flags, FUTEX_UNLOCK_PI), 0, NULL, NULL, 0) == 0)
		return 0;
	return -errno;
}

#endif /* KSYNC_SRC_FUTEX_H */

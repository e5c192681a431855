/* SPDX-License-Identifier: MIT */
/*
 * The wait paths to a struct ks_deadline, for callers inside the project that need more than a
 * relative CLOCK_MONOTONIC timeout: POSIX's timed and clock calls (an absolute time on
 * CLOCK_REALTIME or CLOCK_MONOTONIC), sem_wait's -EINTR, and cancellation points (see
 * deadline.h). The interposer in preload/ is their user. Each is its primitive's own slow path,
 * defined in its src/<prim>.c; the returns are the public calls' (0, -ETIMEDOUT, …) plus -EINTR
 * where the deadline says KS_WAIT_INTR. (The condition's is public: ks_cond_wait_lock().)
 */
#ifndef KSYNC_SRC_UNTIL_H
#define KSYNC_SRC_UNTIL_H

#include "deadline.h"

#include <ksync/barrier.h>
#include <ksync/mutex.h>
#include <ksync/rmutex.h>
#include <ksync/rwlock.h>
#include <ksync/sem.h>

/* 0 or -ETIMEDOUT. */
int ks__mutex_lock_until(struct ks_mutex *m, const struct ks_deadline *d);
/* 0, -ETIMEDOUT, or -EAGAIN (depth). */
int ks__rmutex_lock_until(struct ks_rmutex *r, const struct ks_deadline *d);

/*
 * 0, -ETIMEDOUT, -EAGAIN (reader count). With `prefer_readers`, a reader waits only while a
 * writer holds the lock, not while one waits for it (glibc's default kind: a thread that holds a
 * read lock may take another while a writer waits).
 */
int ks__rwlock_read_lock_until(struct ks_rwlock *rw, const struct ks_deadline *d,
			       bool prefer_readers);
bool ks__rwlock_read_trylock_prefer_readers(struct ks_rwlock *rw);
int ks__rwlock_write_lock_until(struct ks_rwlock *rw, const struct ks_deadline *d);

/* 0, -ETIMEDOUT, -EINTR (KS_WAIT_INTR). A cancelled waiter leaves the waiters first. */
int ks__sem_down_until(struct ks_sem *s, const struct ks_deadline *d);

/*
 * ks_once's algorithm on a bare, process-private 32-bit word (KS_ONCE_* states; 0 is
 * KS_ONCE_INCOMPLETE): pthread_once_t has room for no more. Without the owner field, fn calling
 * it on the same word waits for itself, as POSIX allows. 0, or -EINVAL (a word in no valid state).
 */
int ks__once_word(_Atomic uint32_t *state, void (*fn)(void));

/*
 * ks_barrier's algorithm on its core alone (no action): what fits POSIX's 32-byte
 * pthread_barrier_t. Init: 0, or -EINVAL (parties 0 or above INT_MAX). Wait: the arrival index,
 * parties - 1 for the last to arrive (the one that releases the others).
 */
int ks__barrier_core_init(struct ks_barrier_core *b, unsigned parties, unsigned flags);
int ks__barrier_core_wait(struct ks_barrier_core *b);

#endif /* KSYNC_SRC_UNTIL_H */

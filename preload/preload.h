/* SPDX-License-Identifier: MIT */
/*
 * libksync-preload.so: pthread's mutexes, conditions, rwlocks, barriers, spinlocks and once, and
 * POSIX semaphores, on ksync, for programs that were never built against it (ksync-run).
 *
 * Each ksync object lives in place inside the pthread object the program allocated, at the
 * offsets where glibc's static initializers leave their zeros, so that PTHREAD_*_INITIALIZER
 * objects need no initialization call; the attributes go where glibc keeps them when there is
 * room (a mutex's kind at offset 16, a rwlock's kind at 48), so a statically initialized object,
 * and an idle one that glibc initialized, read the same to us.
 * The interposer keeps no table beside the objects and no copy of an algorithm: every wait and
 * wake is the primitive's own (src/), reached through the entry points of src/until.h where
 * POSIX needs a deadline on a clock, an -EINTR or a cancellation point, and ks_cond_wait_lock()
 * for conditions. See docs/preload.md.
 *
 * Whose an object is, decided on each call from the object alone:
 *  - ksync's: initialized by our *_init (tagged with KSP_TAG), or static/zeroed (untagged but
 *    in a state a static initializer gives).
 *  - glibc's, every call forwarded to glibc: robust, priority-inheritance and priority-protect
 *    mutexes (their init is glibc's), process-shared objects that glibc initialized (untagged:
 *    another program, not under ksync-run, may be using them with glibc's algorithm), and
 *    everything in --passthrough mode.
 *  - invalid: anything else (destroyed, never initialized, overwritten): EINVAL.
 */
#ifndef KSYNC_PRELOAD_H
#define KSYNC_PRELOAD_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "deadline.h"
#include "until.h"

#include <ksync/barrier.h>
#include <ksync/cond.h>
#include <ksync/mutex.h>
#include <ksync/once.h>
#include <ksync/rmutex.h>
#include <ksync/rwlock.h>
#include <ksync/sem.h>
#include <ksync/spinlock.h>

#define KSP_EXPORT	__attribute__((visibility("default")))

/*
 * glibc also exports some calls as __pthread_* (GLIBC_2.2.5), which some libraries call
 * directly: the same function under that name, so that they too reach ksync.
 */
#ifdef __clang__
#define KSP_ALIAS(other, name, ret, args)					\
	KSP_EXPORT ret other args __attribute__((alias(#name)))
#else	/* gcc wants the alias to declare the target's attributes (nonnull, nothrow, …) */
#define KSP_ALIAS(other, name, ret, args)					\
	KSP_EXPORT ret other args __attribute__((alias(#name), copy(name)))
#endif

/* Written by our *_init functions beside the attributes ("ksyn"); cleared by *_destroy. */
#define KSP_TAG		0x6e79736bu

/* ---- whose calls: ksync, or glibc for everything (--passthrough) ---------------------------- */

enum ksp_mode { KSP_UNDECIDED, KSP_KSYNC, KSP_PASSTHROUGH };

extern _Atomic int ksp__mode;
int ksp__mode_slow(void);

/* True when every call goes to glibc (ksync-run --passthrough). One load on the fast path. */
static inline bool ksp_passthrough(void)
{
	int mode = atomic_load_explicit(&ksp__mode, memory_order_relaxed);

	if (ks_likely(mode == KSP_KSYNC))
		return false;
	return (mode == KSP_UNDECIDED ? ksp__mode_slow() : mode) == KSP_PASSTHROUGH;
}

/* ---- glibc's own functions, found without malloc or dlsym (glibc.c) ------------------------- */

#define KSP_GLIBC_FUNCS(X)							\
	X(pthread_mutex_init, int, (pthread_mutex_t *, const pthread_mutexattr_t *))	\
	X(pthread_mutex_destroy, int, (pthread_mutex_t *))			\
	X(pthread_mutex_lock, int, (pthread_mutex_t *))				\
	X(pthread_mutex_trylock, int, (pthread_mutex_t *))			\
	X(pthread_mutex_timedlock, int, (pthread_mutex_t *, const struct timespec *))	\
	X(pthread_mutex_clocklock, int, (pthread_mutex_t *, clockid_t, const struct timespec *)) \
	X(pthread_mutex_unlock, int, (pthread_mutex_t *))			\
	X(pthread_mutex_consistent, int, (pthread_mutex_t *))			\
	X(pthread_mutex_getprioceiling, int, (const pthread_mutex_t *, int *))	\
	X(pthread_mutex_setprioceiling, int, (pthread_mutex_t *, int, int *))	\
	X(pthread_cond_init, int, (pthread_cond_t *, const pthread_condattr_t *))	\
	X(pthread_cond_destroy, int, (pthread_cond_t *))			\
	X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *))	\
	X(pthread_cond_timedwait, int, (pthread_cond_t *, pthread_mutex_t *,	\
					const struct timespec *))		\
	X(pthread_cond_clockwait, int, (pthread_cond_t *, pthread_mutex_t *, clockid_t, \
					const struct timespec *))		\
	X(pthread_cond_signal, int, (pthread_cond_t *))				\
	X(pthread_cond_broadcast, int, (pthread_cond_t *))			\
	X(pthread_rwlock_init, int, (pthread_rwlock_t *, const pthread_rwlockattr_t *))	\
	X(pthread_rwlock_destroy, int, (pthread_rwlock_t *))			\
	X(pthread_rwlock_rdlock, int, (pthread_rwlock_t *))			\
	X(pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *))			\
	X(pthread_rwlock_timedrdlock, int, (pthread_rwlock_t *, const struct timespec *))	\
	X(pthread_rwlock_clockrdlock, int, (pthread_rwlock_t *, clockid_t,	\
					    const struct timespec *))		\
	X(pthread_rwlock_wrlock, int, (pthread_rwlock_t *))			\
	X(pthread_rwlock_trywrlock, int, (pthread_rwlock_t *))			\
	X(pthread_rwlock_timedwrlock, int, (pthread_rwlock_t *, const struct timespec *))	\
	X(pthread_rwlock_clockwrlock, int, (pthread_rwlock_t *, clockid_t,	\
					    const struct timespec *))		\
	X(pthread_rwlock_unlock, int, (pthread_rwlock_t *))			\
	X(pthread_barrier_init, int, (pthread_barrier_t *, const pthread_barrierattr_t *,	\
				      unsigned))				\
	X(pthread_barrier_destroy, int, (pthread_barrier_t *))			\
	X(pthread_barrier_wait, int, (pthread_barrier_t *))			\
	X(pthread_spin_init, int, (pthread_spinlock_t *, int))			\
	X(pthread_spin_destroy, int, (pthread_spinlock_t *))			\
	X(pthread_spin_lock, int, (pthread_spinlock_t *))			\
	X(pthread_spin_trylock, int, (pthread_spinlock_t *))			\
	X(pthread_spin_unlock, int, (pthread_spinlock_t *))			\
	X(pthread_once, int, (pthread_once_t *, void (*)(void)))		\
	X(sem_init, int, (sem_t *, int, unsigned))				\
	X(sem_destroy, int, (sem_t *))						\
	X(sem_wait, int, (sem_t *))						\
	X(sem_trywait, int, (sem_t *))						\
	X(sem_timedwait, int, (sem_t *, const struct timespec *))		\
	X(sem_clockwait, int, (sem_t *, clockid_t, const struct timespec *))	\
	X(sem_post, int, (sem_t *))						\
	X(sem_getvalue, int, (sem_t *, int *))					\
	X(sem_open, sem_t *, (const char *, int, ...))				\
	X(sem_close, int, (sem_t *))						\
	X(sem_unlink, int, (const char *))

/* The condition calls' old version (GLIBC_2.2.5): the object holds a pointer to the real one. */
#define KSP_GLIBC_OLD_COND_FUNCS(X)						\
	X(pthread_cond_init, int, (pthread_cond_t *, const pthread_condattr_t *))	\
	X(pthread_cond_destroy, int, (pthread_cond_t *))			\
	X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *))	\
	X(pthread_cond_timedwait, int, (pthread_cond_t *, pthread_mutex_t *,	\
					const struct timespec *))		\
	X(pthread_cond_signal, int, (pthread_cond_t *))				\
	X(pthread_cond_broadcast, int, (pthread_cond_t *))

struct ksp_glibc {
#define KSP_GLIBC_MEMBER(name, ret, args) ret (*name) args;
	KSP_GLIBC_FUNCS(KSP_GLIBC_MEMBER)
	struct {
		KSP_GLIBC_OLD_COND_FUNCS(KSP_GLIBC_MEMBER)
	} old;
#undef KSP_GLIBC_MEMBER
};

/*
 * glibc's implementation of every call above, found once by reading libc.so.6's dynamic symbol
 * table (no dlsym: it may allocate, and the allocator may lock a mutex we are resolving). A
 * missing one aborts with a message: it would be a glibc without the call the program made.
 */
const struct ksp_glibc *ksp_glibc(void);

/* Calls glibc's version of the function named `name` (a member of struct ksp_glibc). */
#define KSP_GLIBC(name)	(ksp_glibc()->name)

/* ---- the objects' layouts ------------------------------------------------------------------- */

/* glibc's mutex kind bits (offset 16), as its static initializers and pthread_mutex_init write. */
#define KSP_MUTEX_TYPE_MASK	0x3
#define KSP_MUTEX_ROBUST	0x10
#define KSP_MUTEX_PRIO_INHERIT	0x20
#define KSP_MUTEX_PRIO_PROTECT	0x40
#define KSP_MUTEX_PSHARED	0x80
#define KSP_MUTEX_ELISION	0x300	/* lock elision hints: meaningless here, ignored */
#define KSP_MUTEX_GLIBC_ONLY	(KSP_MUTEX_ROBUST | KSP_MUTEX_PRIO_INHERIT | KSP_MUTEX_PRIO_PROTECT)

struct ksp_mutex {
	union {
		struct ks_mutex m;	/* NORMAL, DEFAULT, ADAPTIVE */
		struct ks_rmutex r;	/* RECURSIVE, ERRORCHECK (the owner is ks_rmutex's) */
	} u;
	_Atomic int kind;	/* glibc's __kind: PTHREAD_MUTEX_* | KSP_MUTEX_* bits */
	_Atomic uint32_t tag;	/* KSP_TAG */
	uint64_t unused[2];
};

enum ksp_mutex_class { KSP_M_NORMAL, KSP_M_RECURSIVE, KSP_M_ERRORCHECK, KSP_M_GLIBC, KSP_M_BAD };

enum ksp_mutex_class ksp_mutex_classify(const struct ksp_mutex *m);

/*
 * Condition: ks_cond (40 bytes), then our attributes and the tag in what glibc calls
 * __g_signals. An untagged condition glibc initialized as process-shared has bit 0 of its
 * __wrefs (offset 36) set: that is how one is recognised (KSP_GLIBC_COND_WREFS).
 */
#define KSP_COND_PSHARED	0x1u
#define KSP_COND_MONOTONIC	0x2u
#define KSP_GLIBC_COND_WREFS	36

struct ksp_cond {
	struct ks_cond c;
	_Atomic uint32_t attr;	/* KSP_COND_* */
	_Atomic uint32_t tag;
};

/* Rwlock: glibc's __cur_writer (24), __shared (28) and __flags (kind, 48). */
struct ksp_rwlock {
	struct ks_rwlock rw;
	uint32_t unused1[4];
	_Atomic int writer;	/* tid of the write-lock holder: EDEADLK, and which unlock */
	_Atomic int shared;	/* 1: process-shared */
	_Atomic uint32_t tag;
	uint32_t unused2[3];
	_Atomic unsigned kind;	/* PTHREAD_RWLOCK_PREFER_*_NP */
	uint32_t unused3;
};

/* sem_t: ks_sem, then the tag; glibc's layout has `private` (0 or 128) at 8 and zeros after. */
struct ksp_sem {
	struct ks_sem s;
	_Atomic uint32_t tag;
	uint32_t unused[3];
};

_Static_assert(sizeof(struct ksp_mutex) == sizeof(pthread_mutex_t), "pthread_mutex_t size");
_Static_assert(offsetof(struct ksp_mutex, kind) == offsetof(pthread_mutex_t, __data.__kind),
	       "the static initializers' kind");
_Static_assert(sizeof(struct ks_rmutex) <= offsetof(struct ksp_mutex, kind), "rmutex fits");
_Static_assert(sizeof(struct ksp_cond) == sizeof(pthread_cond_t), "pthread_cond_t size");
_Static_assert(KSP_GLIBC_COND_WREFS == offsetof(pthread_cond_t, __data.__wrefs),
	       "glibc's condition attributes");
_Static_assert(_Alignof(struct ksp_cond) <= _Alignof(pthread_cond_t), "pthread_cond_t alignment");
_Static_assert(sizeof(struct ksp_rwlock) == sizeof(pthread_rwlock_t), "pthread_rwlock_t size");
_Static_assert(offsetof(struct ksp_rwlock, kind) == offsetof(pthread_rwlock_t, __data.__flags),
	       "the rwlock initializers' kind");
_Static_assert(offsetof(struct ksp_rwlock, shared) == offsetof(pthread_rwlock_t, __data.__shared),
	       "rwlock pshared");
_Static_assert(sizeof(struct ksp_sem) == sizeof(sem_t), "sem_t size");
_Static_assert(_Alignof(struct ksp_sem) <= _Alignof(sem_t), "sem_t alignment");

/* ---- POSIX's conventions ---------------------------------------------------------------------- */

/* A ksync return (0 or -errno) as pthread's (0 or errno). */
static inline int ksp_err(int r)
{
	return -r;
}

/* A ksync return as the sem_* calls': 0, or -1 with errno set. */
static inline int ksp_errno(int r)
{
	if (ks_likely(r == 0))
		return 0;
	errno = -r;
	return -1;
}

/*
 * The condition-wait side of a mutex (mutex.c), for cond.c: ks_cond_wait_lock() with the mutex's
 * own kind. 0, ETIMEDOUT, EPERM (not held), EINVAL, EOWNERDEAD.
 */
int ksp_cond_wait_mutex(struct ks_cond *c, pthread_mutex_t *pm, clockid_t clock,
			const struct timespec *abs);

#endif /* KSYNC_PRELOAD_H */

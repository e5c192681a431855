// SPDX-License-Identifier: MIT
/*
 * pthread_mutex_* on ks_mutex (NORMAL, DEFAULT, ADAPTIVE) and ks_rmutex (RECURSIVE, and
 * ERRORCHECK, whose owner check is the rmutex's owner field).
 *
 *	offset  0	struct ks_mutex, or struct ks_rmutex (16 bytes: state, flags, owner, depth)
 *	offset 16	kind: glibc's encoding, where PTHREAD_*_MUTEX_INITIALIZER_NP put the type
 *	offset 20	KSP_TAG once our pthread_mutex_init ran
 *
 * A zeroed mutex is an unlocked NORMAL ks_mutex and an unowned ks_rmutex alike, so the static
 * initializers need nothing more. The fast path of lock and unlock is one load of the kind, one
 * of the mode, and the inline ks_mutex fast path. Robust and priority-protocol mutexes are
 * glibc's (initialized by glibc, recognised by their kind bits), and so are process-shared ones
 * that glibc initialized; every call on them, a condition wait included, goes to glibc.
 */
#include <string.h>

#include "preload.h"

static inline struct ksp_mutex *ksp_mutex(pthread_mutex_t *pm)
{
	return (struct ksp_mutex *)(void *)pm;
}

static inline int ksp_mutex_kind(const struct ksp_mutex *m)
{
	return atomic_load_explicit(&((struct ksp_mutex *)m)->kind, memory_order_relaxed);
}

enum ksp_mutex_class ksp_mutex_classify(const struct ksp_mutex *m)
{
	int kind = ksp_mutex_kind(m);

	if (kind & ~(KSP_MUTEX_TYPE_MASK | KSP_MUTEX_GLIBC_ONLY | KSP_MUTEX_PSHARED |
		     KSP_MUTEX_ELISION))
		return KSP_M_BAD;	/* destroyed (-1), never initialized, overwritten */
	if (kind & KSP_MUTEX_GLIBC_ONLY)
		return KSP_M_GLIBC;
	if ((kind & KSP_MUTEX_PSHARED) &&
	    atomic_load_explicit(&((struct ksp_mutex *)m)->tag, memory_order_relaxed) != KSP_TAG)
		return KSP_M_GLIBC;
	switch (kind & KSP_MUTEX_TYPE_MASK) {
	case PTHREAD_MUTEX_RECURSIVE:
		return KSP_M_RECURSIVE;
	case PTHREAD_MUTEX_ERRORCHECK:
		return KSP_M_ERRORCHECK;
	default:
		return KSP_M_NORMAL;	/* NORMAL (DEFAULT) and ADAPTIVE */
	}
}

/* The ks_mutex inside holds a state no ks_mutex can have: never sleep on it. */
static bool ksp_mutex_corrupt(const struct ks_mutex *m)
{
	return atomic_load_explicit(&((struct ks_mutex *)m)->state, memory_order_relaxed) >
	       KS_MUTEX_CONTENDED || (m->flags & ~KS_SHARED);
}

KSP_EXPORT int pthread_mutex_init(pthread_mutex_t *pm, const pthread_mutexattr_t *attr)
{
	struct ksp_mutex *m = ksp_mutex(pm);
	int type = PTHREAD_MUTEX_DEFAULT, pshared = PTHREAD_PROCESS_PRIVATE;
	int robust = PTHREAD_MUTEX_STALLED, protocol = PTHREAD_PRIO_NONE;
	unsigned flags;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_init)(pm, attr);
	if (attr) {
		pthread_mutexattr_gettype(attr, &type);
		pthread_mutexattr_getpshared(attr, &pshared);
		pthread_mutexattr_getrobust(attr, &robust);
		pthread_mutexattr_getprotocol(attr, &protocol);
	}
	if (robust != PTHREAD_MUTEX_STALLED || protocol != PTHREAD_PRIO_NONE)
		return KSP_GLIBC(pthread_mutex_init)(pm, attr);
	if (type < 0 || type > PTHREAD_MUTEX_ADAPTIVE_NP)
		return EINVAL;
	flags = pshared == PTHREAD_PROCESS_SHARED ? KS_SHARED : 0;
	memset(m, 0, sizeof(*m));
	if (type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK)
		ks_rmutex_init(&m->u.r, flags);
	else
		ks_mutex_init(&m->u.m, flags);
	atomic_store_explicit(&m->tag, KSP_TAG, memory_order_relaxed);
	atomic_store_explicit(&m->kind, type | (flags ? KSP_MUTEX_PSHARED : 0),
			      memory_order_relaxed);
	return 0;
}

KSP_EXPORT int pthread_mutex_destroy(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_destroy)(pm);
	switch (ksp_mutex_classify(m)) {
	case KSP_M_GLIBC:
		return KSP_GLIBC(pthread_mutex_destroy)(pm);
	case KSP_M_BAD:
		return EINVAL;
	default:
		if (ks_mutex_is_locked(&m->u.m))
			return EBUSY;
		/* as glibc: a destroyed mutex is invalid (EINVAL) until initialized again */
		atomic_store_explicit(&m->tag, 0, memory_order_relaxed);
		atomic_store_explicit(&m->kind, -1, memory_order_relaxed);
		return 0;
	}
}

/*
 * Lock a ksync mutex of class `cls`: until the deadline (NULL: none); 0 or an errno. The
 * non-blocking cases (a recursive re-entry, an error-check self-deadlock) come before the
 * deadline is looked at, as POSIX says of an invalid abstime.
 */
static int ksp_mutex_acquire(struct ksp_mutex *m, enum ksp_mutex_class cls, clockid_t clock,
			     const struct timespec *abs)
{
	struct ks_deadline d;
	int r;

	switch (cls) {
	case KSP_M_NORMAL:
		if (ks_mutex_trylock(&m->u.m))
			return 0;
		if (ksp_mutex_corrupt(&m->u.m))
			return EINVAL;
		if (!abs) {
			ks_mutex_lock(&m->u.m);
			return 0;
		}
		r = ks_deadline_init_abs(&d, clock, abs);
		return ksp_err(r ? r : ks__mutex_lock_until(&m->u.m, &d));
	case KSP_M_ERRORCHECK:
		if (ks_rmutex_is_owned(&m->u.r))
			return EDEADLK;
		/* fall through */
	case KSP_M_RECURSIVE:
		if (ks_rmutex_is_owned(&m->u.r))
			return ksp_err(ks_rmutex_lock(&m->u.r));	/* -EAGAIN at the limit */
		if (ks_rmutex_trylock(&m->u.r))
			return 0;
		if (ksp_mutex_corrupt(&m->u.r.lock))
			return EINVAL;
		if (!abs)
			return ksp_err(ks_rmutex_lock(&m->u.r));
		r = ks_deadline_init_abs(&d, clock, abs);
		return ksp_err(r ? r : ks__rmutex_lock_until(&m->u.r, &d));
	default:
		return EINVAL;
	}
}

static int ksp_mutex_lock_slow(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);
	enum ksp_mutex_class cls;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_lock)(pm);
	cls = ksp_mutex_classify(m);
	if (cls == KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_lock)(pm);
	return ksp_mutex_acquire(m, cls, CLOCK_REALTIME, NULL);
}

KSP_EXPORT int pthread_mutex_lock(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	if (ks_likely(ksp_mutex_kind(m) == PTHREAD_MUTEX_NORMAL && !ksp_passthrough() &&
		      ks_mutex_trylock(&m->u.m)))
		return 0;
	return ksp_mutex_lock_slow(pm);
}

KSP_EXPORT int pthread_mutex_trylock(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_trylock)(pm);
	switch (ksp_mutex_classify(m)) {
	case KSP_M_NORMAL:
		return ks_mutex_trylock(&m->u.m) ? 0 : EBUSY;
	case KSP_M_RECURSIVE:
		if (ks_rmutex_is_owned(&m->u.r))
			return ksp_err(ks_rmutex_lock(&m->u.r));	/* -EAGAIN at the limit */
		return ks_rmutex_trylock(&m->u.r) ? 0 : EBUSY;
	case KSP_M_ERRORCHECK:
		if (ks_rmutex_is_owned(&m->u.r))
			return EBUSY;
		return ks_rmutex_trylock(&m->u.r) ? 0 : EBUSY;
	case KSP_M_GLIBC:
		return KSP_GLIBC(pthread_mutex_trylock)(pm);
	default:
		return EINVAL;
	}
}

KSP_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *pm, clockid_t clock,
				       const struct timespec *abs)
{
	struct ksp_mutex *m = ksp_mutex(pm);
	enum ksp_mutex_class cls;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_clocklock)(pm, clock, abs);
	cls = ksp_mutex_classify(m);
	if (cls == KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_clocklock)(pm, clock, abs);
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return ksp_mutex_acquire(m, cls, clock, abs);
}

KSP_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *pm, const struct timespec *abs)
{
	struct ksp_mutex *m = ksp_mutex(pm);
	enum ksp_mutex_class cls;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_timedlock)(pm, abs);
	cls = ksp_mutex_classify(m);
	if (cls == KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_timedlock)(pm, abs);
	return ksp_mutex_acquire(m, cls, CLOCK_REALTIME, abs);
}

static int ksp_mutex_unlock_slow(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_mutex_unlock)(pm);
	switch (ksp_mutex_classify(m)) {
	case KSP_M_NORMAL:
		return ksp_err(ks_mutex_unlock(&m->u.m));	/* EPERM if it was unlocked */
	case KSP_M_RECURSIVE:
	case KSP_M_ERRORCHECK:
		return ksp_err(ks_rmutex_unlock(&m->u.r));	/* EPERM if not the owner */
	case KSP_M_GLIBC:
		return KSP_GLIBC(pthread_mutex_unlock)(pm);
	default:
		return EINVAL;
	}
}

KSP_EXPORT int pthread_mutex_unlock(pthread_mutex_t *pm)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	if (ks_likely(ksp_mutex_kind(m) == PTHREAD_MUTEX_NORMAL && !ksp_passthrough()))
		return ksp_err(ks_mutex_unlock(&m->u.m));
	return ksp_mutex_unlock_slow(pm);
}

KSP_EXPORT int pthread_mutex_consistent(pthread_mutex_t *pm)
{
	if (ksp_passthrough() || ksp_mutex_classify(ksp_mutex(pm)) == KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_consistent)(pm);
	return EINVAL;		/* not a robust mutex */
}

KSP_EXPORT int pthread_mutex_getprioceiling(const pthread_mutex_t *pm, int *ceiling)
{
	if (ksp_passthrough() || ksp_mutex_classify((const struct ksp_mutex *)(const void *)pm) ==
				     KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_getprioceiling)(pm, ceiling);
	return EINVAL;		/* not a PRIO_PROTECT mutex */
}

KSP_EXPORT int pthread_mutex_setprioceiling(pthread_mutex_t *pm, int ceiling, int *old)
{
	if (ksp_passthrough() || ksp_mutex_classify(ksp_mutex(pm)) == KSP_M_GLIBC)
		return KSP_GLIBC(pthread_mutex_setprioceiling)(pm, ceiling, old);
	return EINVAL;
}

KSP_ALIAS(__pthread_mutex_init, pthread_mutex_init, int,
	  (pthread_mutex_t *, const pthread_mutexattr_t *));
KSP_ALIAS(__pthread_mutex_destroy, pthread_mutex_destroy, int, (pthread_mutex_t *));
KSP_ALIAS(__pthread_mutex_lock, pthread_mutex_lock, int, (pthread_mutex_t *));
KSP_ALIAS(__pthread_mutex_trylock, pthread_mutex_trylock, int, (pthread_mutex_t *));
KSP_ALIAS(__pthread_mutex_unlock, pthread_mutex_unlock, int, (pthread_mutex_t *));

/* ---- the mutex side of a condition wait ------------------------------------------------------ */

/* A mutex glibc implements: released and taken back by glibc, the wait itself is ks_cond's. */
static int ksp_glibc_release(void *pm, uint64_t *saved)
{
	(void)saved;
	return -KSP_GLIBC(pthread_mutex_unlock)(pm);
}

static int ksp_glibc_reacquire(void *pm, uint64_t saved)
{
	(void)saved;
	return -KSP_GLIBC(pthread_mutex_lock)(pm);	/* -EOWNERDEAD: held, its owner died */
}

static const struct ks_cond_lock_ops ksp_glibc_mutex_ops = {
	.release = ksp_glibc_release,
	.reacquire = ksp_glibc_reacquire,
};

int ksp_cond_wait_mutex(struct ks_cond *c, pthread_mutex_t *pm, clockid_t clock,
			const struct timespec *abs)
{
	struct ksp_mutex *m = ksp_mutex(pm);

	switch (ksp_mutex_classify(m)) {
	case KSP_M_NORMAL:
		return ksp_err(ks_cond_wait_lock(c, &m->u.m, &ks_cond_mutex_ops, clock, abs,
						 KS_COND_CANCELPOINT));
	case KSP_M_RECURSIVE:
	case KSP_M_ERRORCHECK:
		return ksp_err(ks_cond_wait_lock(c, &m->u.r, &ks_cond_rmutex_ops, clock, abs,
						 KS_COND_CANCELPOINT));
	case KSP_M_GLIBC:
		return ksp_err(ks_cond_wait_lock(c, pm, &ksp_glibc_mutex_ops, clock, abs,
						 KS_COND_CANCELPOINT));
	default:
		return EINVAL;
	}
}

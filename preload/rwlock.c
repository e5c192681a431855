// SPDX-License-Identifier: MIT
/*
 * pthread_rwlock_* on ks_rwlock.
 *
 *	offset  0	struct ks_rwlock (state, flags)
 *	offset 24	the write-lock holder's tid (glibc's __cur_writer): EDEADLK, and whether an
 *			unlock releases a write or a read hold
 *	offset 28	1 if process-shared (glibc's __shared)
 *	offset 32	KSP_TAG once our pthread_rwlock_init ran
 *	offset 48	the kind (glibc's __flags, where PTHREAD_RWLOCK_*INITIALIZER* put it)
 *
 * glibc's default kind, PTHREAD_RWLOCK_PREFER_READER_NP (and PREFER_WRITER_NP, which glibc
 * treats alike), lets a reader in whenever no writer holds the lock: a thread holding a read lock
 * may take another while a writer waits, and programs rely on it. We keep that (ks_rwlock's
 * prefer_readers slow path); PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP gets ks_rwlock's own
 * writer preference.
 */
#include <string.h>

#include "preload.h"

enum ksp_rwlock_class { KSP_RW_KSYNC, KSP_RW_GLIBC, KSP_RW_BAD };

static inline struct ksp_rwlock *ksp_rwlock(pthread_rwlock_t *prw)
{
	return (struct ksp_rwlock *)(void *)prw;
}

static enum ksp_rwlock_class ksp_rwlock_classify(struct ksp_rwlock *rw)
{
	int shared;

	if (ks_likely(atomic_load_explicit(&rw->tag, memory_order_relaxed) == KSP_TAG))
		return KSP_RW_KSYNC;
	shared = atomic_load_explicit(&rw->shared, memory_order_relaxed);
	if (atomic_load_explicit(&rw->kind, memory_order_relaxed) >
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP || (shared != 0 && shared != 1))
		return KSP_RW_BAD;	/* destroyed, never initialized, overwritten */
	if (shared)
		return KSP_RW_GLIBC;	/* a process-shared rwlock glibc initialized */
	return KSP_RW_KSYNC;		/* a static initializer, or glibc's init of an idle one */
}

static bool ksp_rwlock_prefer_readers(struct ksp_rwlock *rw)
{
	return atomic_load_explicit(&rw->kind, memory_order_relaxed) !=
	       PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

static bool ksp_rwlock_corrupt(struct ksp_rwlock *rw)
{
	return rw->rw.flags & ~KS_SHARED;
}

KSP_EXPORT int pthread_rwlock_init(pthread_rwlock_t *prw, const pthread_rwlockattr_t *attr)
{
	struct ksp_rwlock *rw = ksp_rwlock(prw);
	int kind = PTHREAD_RWLOCK_DEFAULT_NP, pshared = PTHREAD_PROCESS_PRIVATE;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_rwlock_init)(prw, attr);
	if (attr) {
		pthread_rwlockattr_getkind_np(attr, &kind);
		pthread_rwlockattr_getpshared(attr, &pshared);
	}
	memset(rw, 0, sizeof(*rw));
	ks_rwlock_init(&rw->rw, pshared == PTHREAD_PROCESS_SHARED ? KS_SHARED : 0);
	atomic_store_explicit(&rw->shared, pshared == PTHREAD_PROCESS_SHARED, memory_order_relaxed);
	atomic_store_explicit(&rw->kind, (unsigned)kind, memory_order_relaxed);
	atomic_store_explicit(&rw->tag, KSP_TAG, memory_order_relaxed);
	return 0;
}

KSP_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *prw)
{
	struct ksp_rwlock *rw = ksp_rwlock(prw);

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_rwlock_destroy)(prw);
	switch (ksp_rwlock_classify(rw)) {
	case KSP_RW_GLIBC:
		return KSP_GLIBC(pthread_rwlock_destroy)(prw);
	case KSP_RW_BAD:
		return EINVAL;
	default:
		if (atomic_load_explicit(&rw->rw.state, memory_order_relaxed) & KS_RWLOCK_MASK)
			return EBUSY;
		atomic_store_explicit(&rw->tag, 0, memory_order_relaxed);
		atomic_store_explicit(&rw->kind, ~0u, memory_order_relaxed);
		return 0;
	}
}

/* A read lock until `abs` on `clock` (NULL: no deadline; `try`: never block). */
static int ksp_rwlock_read(struct ksp_rwlock *rw, bool try, clockid_t clock,
			   const struct timespec *abs)
{
	bool prefer_readers = ksp_rwlock_prefer_readers(rw);
	struct ks_deadline d;
	int r;

	if (ksp_rwlock_corrupt(rw))
		return EINVAL;
	if (!try && atomic_load_explicit(&rw->writer, memory_order_relaxed) == ks_self_tid())
		return EDEADLK;		/* a try just fails, as with glibc */
	if (try) {
		if (prefer_readers ? ks__rwlock_read_trylock_prefer_readers(&rw->rw) :
				     ks_rwlock_read_trylock(&rw->rw))
			return 0;
		return ks_rwlock_readers(&rw->rw) == KS_RWLOCK_MAX_READERS ? EAGAIN : EBUSY;
	}
	if (!abs)
		ks_deadline_forever(&d);
	else if ((r = ks_deadline_init_abs(&d, clock, abs)))
		return ksp_err(r);
	return ksp_err(ks__rwlock_read_lock_until(&rw->rw, &d, prefer_readers));
}

static int ksp_rwlock_write(struct ksp_rwlock *rw, bool try, clockid_t clock,
			    const struct timespec *abs)
{
	int self = ks_self_tid();
	struct ks_deadline d;
	int r;

	if (ksp_rwlock_corrupt(rw))
		return EINVAL;
	if (!try && atomic_load_explicit(&rw->writer, memory_order_relaxed) == self)
		return EDEADLK;
	if (try) {
		r = ks_rwlock_write_trylock(&rw->rw) ? 0 : -EBUSY;
	} else {
		if (!abs)
			ks_deadline_forever(&d);
		else if ((r = ks_deadline_init_abs(&d, clock, abs)))
			return ksp_err(r);
		r = ks__rwlock_write_lock_until(&rw->rw, &d);
	}
	if (!r)
		atomic_store_explicit(&rw->writer, self, memory_order_relaxed);
	return ksp_err(r);
}

/* The entry points: passthrough and glibc's objects to glibc, the rest as above. */
#define KSP_RWLOCK_CALL(prw, glibc_call, ksync_call)				\
	({									\
		struct ksp_rwlock *ksp__rw = ksp_rwlock(prw);			\
		int ksp__r;							\
		if (ksp_passthrough())						\
			ksp__r = glibc_call;					\
		else switch (ksp_rwlock_classify(ksp__rw)) {			\
		case KSP_RW_KSYNC:						\
			ksp__r = ksync_call;					\
			break;							\
		case KSP_RW_GLIBC:						\
			ksp__r = glibc_call;					\
			break;							\
		default:							\
			ksp__r = EINVAL;					\
		}								\
		ksp__r;								\
	})

KSP_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *prw)
{
	struct ksp_rwlock *rw = ksp_rwlock(prw);

	/* the fast path: a ksync rwlock's inline read lock */
	if (ks_likely(!ksp_passthrough() && ksp_rwlock_classify(rw) == KSP_RW_KSYNC &&
		      atomic_load_explicit(&rw->writer, memory_order_relaxed) == 0 &&
		      !ksp_rwlock_corrupt(rw) && ks__rwlock_read_trylock_once(&rw->rw)))
		return 0;
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_rdlock)(prw),
			       ksp_rwlock_read(rw, false, CLOCK_REALTIME, NULL));
}

KSP_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *prw)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_tryrdlock)(prw),
			       ksp_rwlock_read(ksp__rw, true, CLOCK_REALTIME, NULL));
}

KSP_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *prw, const struct timespec *abs)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_timedrdlock)(prw, abs),
			       ksp_rwlock_read(ksp__rw, false, CLOCK_REALTIME, abs));
}

KSP_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *prw, clockid_t clock,
					  const struct timespec *abs)
{
	if (!ksp_passthrough() && clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_clockrdlock)(prw, clock, abs),
			       ksp_rwlock_read(ksp__rw, false, clock, abs));
}

KSP_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *prw)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_wrlock)(prw),
			       ksp_rwlock_write(ksp__rw, false, CLOCK_REALTIME, NULL));
}

KSP_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *prw)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_trywrlock)(prw),
			       ksp_rwlock_write(ksp__rw, true, CLOCK_REALTIME, NULL));
}

KSP_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *prw, const struct timespec *abs)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_timedwrlock)(prw, abs),
			       ksp_rwlock_write(ksp__rw, false, CLOCK_REALTIME, abs));
}

KSP_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *prw, clockid_t clock,
					  const struct timespec *abs)
{
	if (!ksp_passthrough() && clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_clockwrlock)(prw, clock, abs),
			       ksp_rwlock_write(ksp__rw, false, clock, abs));
}

/* Releases the caller's write lock if it holds it, else one read hold; EPERM if neither. */
static int ksp_rwlock_unlock(struct ksp_rwlock *rw)
{
	if (atomic_load_explicit(&rw->writer, memory_order_relaxed) == ks_self_tid()) {
		atomic_store_explicit(&rw->writer, 0, memory_order_relaxed);
		return ksp_err(ks_rwlock_write_unlock(&rw->rw));
	}
	return ksp_err(ks_rwlock_read_unlock(&rw->rw));
}

KSP_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *prw)
{
	return KSP_RWLOCK_CALL(prw, KSP_GLIBC(pthread_rwlock_unlock)(prw), ksp_rwlock_unlock(ksp__rw));
}

KSP_ALIAS(__pthread_rwlock_init, pthread_rwlock_init, int,
	  (pthread_rwlock_t *, const pthread_rwlockattr_t *));
KSP_ALIAS(__pthread_rwlock_destroy, pthread_rwlock_destroy, int, (pthread_rwlock_t *));
KSP_ALIAS(__pthread_rwlock_rdlock, pthread_rwlock_rdlock, int, (pthread_rwlock_t *));
KSP_ALIAS(__pthread_rwlock_tryrdlock, pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *));
KSP_ALIAS(__pthread_rwlock_wrlock, pthread_rwlock_wrlock, int, (pthread_rwlock_t *));
KSP_ALIAS(__pthread_rwlock_trywrlock, pthread_rwlock_trywrlock, int, (pthread_rwlock_t *));
KSP_ALIAS(__pthread_rwlock_unlock, pthread_rwlock_unlock, int, (pthread_rwlock_t *));

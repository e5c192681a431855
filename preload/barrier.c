// SPDX-License-Identifier: MIT
/*
 * pthread_barrier_* on ks_barrier's algorithm, its core in the 32-byte pthread_barrier_t:
 *
 *	offset  0	struct ks_barrier_core (seq, lock, count, parties, spin, flags: 28 bytes)
 *	offset 28	KSP_TAG once our pthread_barrier_init ran
 *
 * There is no static initializer: an untagged barrier was initialized by glibc and goes to glibc.
 * The last thread to arrive gets PTHREAD_BARRIER_SERIAL_THREAD, the others 0.
 */
#include <string.h>

#include "preload.h"

struct ksp_barrier {
	struct ks_barrier_core b;
	_Atomic uint32_t tag;
};

_Static_assert(sizeof(struct ksp_barrier) == sizeof(pthread_barrier_t), "pthread_barrier_t size");
_Static_assert(_Alignof(struct ksp_barrier) <= _Alignof(pthread_barrier_t), "alignment");

static inline struct ksp_barrier *ksp_barrier(pthread_barrier_t *pb)
{
	return (struct ksp_barrier *)(void *)pb;
}

static bool ksp_barrier_ours(struct ksp_barrier *b)
{
	return !ksp_passthrough() && atomic_load_explicit(&b->tag, memory_order_relaxed) == KSP_TAG;
}

KSP_EXPORT int pthread_barrier_init(pthread_barrier_t *pb, const pthread_barrierattr_t *attr,
				    unsigned count)
{
	struct ksp_barrier *b = ksp_barrier(pb);
	int pshared = PTHREAD_PROCESS_PRIVATE, r;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_barrier_init)(pb, attr, count);
	if (attr)
		pthread_barrierattr_getpshared(attr, &pshared);
	memset(b, 0, sizeof(*b));
	r = ks__barrier_core_init(&b->b, count, pshared == PTHREAD_PROCESS_SHARED ? KS_SHARED : 0);
	if (r)
		return ksp_err(r);	/* EINVAL: count 0, or above INT_MAX */
	atomic_store_explicit(&b->tag, KSP_TAG, memory_order_relaxed);
	return 0;
}

KSP_EXPORT int pthread_barrier_wait(pthread_barrier_t *pb)
{
	struct ksp_barrier *b = ksp_barrier(pb);
	unsigned last;
	int r;

	if (!ksp_barrier_ours(b))
		return KSP_GLIBC(pthread_barrier_wait)(pb);
	last = b->b.parties - 1;	/* read now: once released, others may destroy it */
	r = ks__barrier_core_wait(&b->b);
	if (r < 0)
		return ksp_err(r);	/* only an abort could break it, and POSIX has none */
	return (unsigned)r == last ? PTHREAD_BARRIER_SERIAL_THREAD : 0;
}

KSP_EXPORT int pthread_barrier_destroy(pthread_barrier_t *pb)
{
	struct ksp_barrier *b = ksp_barrier(pb);

	if (!ksp_barrier_ours(b))
		return KSP_GLIBC(pthread_barrier_destroy)(pb);
	if (atomic_load_explicit(&b->b.count, memory_order_relaxed))
		return EBUSY;		/* threads wait in it */
	atomic_store_explicit(&b->tag, 0, memory_order_relaxed);
	return 0;
}

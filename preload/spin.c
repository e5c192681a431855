// SPDX-License-Identifier: MIT
/*
 * pthread_spin_* on ks_spinlock, a FIFO ticket lock in the 4-byte pthread_spinlock_t (zero is
 * unlocked, as with glibc). glibc's spinlock is a test-and-set lock: unfair, but a waiter can
 * take it as soon as it is free. A ticket lock hands it to the next in line only, so when threads
 * outnumber CPUs and that thread is not running, everyone behind it waits for the scheduler (see
 * docs/spinlock.md): the benchmark table shows what this costs the programs that spin.
 */
#include "preload.h"

_Static_assert(sizeof(struct ks_spinlock) == sizeof(pthread_spinlock_t), "pthread_spinlock_t");

static inline struct ks_spinlock *ksp_spin(pthread_spinlock_t *s)
{
	return (struct ks_spinlock *)(void *)s;
}

KSP_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_spin_init)(s, pshared);
	ks_spinlock_init(ksp_spin(s), pshared == PTHREAD_PROCESS_SHARED ? KS_SHARED : 0);
	return 0;
}

KSP_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_spin_destroy)(s);
	return ks_spinlock_is_locked(ksp_spin(s)) ? EBUSY : 0;
}

KSP_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	if (ks_unlikely(ksp_passthrough()))
		return KSP_GLIBC(pthread_spin_lock)(s);
	ks_spinlock_lock(ksp_spin(s));
	return 0;
}

KSP_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	if (ks_unlikely(ksp_passthrough()))
		return KSP_GLIBC(pthread_spin_trylock)(s);
	return ks_spinlock_trylock(ksp_spin(s)) ? 0 : EBUSY;
}

KSP_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	if (ks_unlikely(ksp_passthrough()))
		return KSP_GLIBC(pthread_spin_unlock)(s);
	return ksp_err(ks_spinlock_unlock(ksp_spin(s)));	/* EPERM if it was not locked */
}

// SPDX-License-Identifier: MIT
/*
 * pthread_cond_* on ks_cond, in both of glibc's symbol versions.
 *
 *	offset  0	struct ks_cond (40 bytes)
 *	offset 40	attributes: bit 0 process-shared, bit 1 CLOCK_MONOTONIC (else REALTIME)
 *	offset 44	KSP_TAG once our pthread_cond_init ran
 *
 * PTHREAD_COND_INITIALIZER is all zeros: a ks_cond with no waiters, on CLOCK_REALTIME. The wait
 * is ks_cond_wait_lock(), with the mutex's own kind (ks_mutex, ks_rmutex, or glibc's lock and
 * unlock for a mutex glibc implements), to an absolute deadline on the condition's clock, and
 * as a cancellation point (KS_COND_CANCELPOINT): a waiter cancelled while it sleeps holds the
 * mutex again before its cleanup handlers run, and a signal it had been given goes to another.
 *
 * GLIBC_2.3.2 is the version every program built since 2003 uses. GLIBC_2.2.5 is the older ABI,
 * whose object is only guaranteed to hold a pointer: glibc allocates the real condition on first
 * use and keeps its address there, and so do we (with calloc: those calls may allocate).
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

enum ksp_cond_class { KSP_C_KSYNC, KSP_C_GLIBC, KSP_C_BAD };

static inline struct ksp_cond *ksp_cond(pthread_cond_t *pc)
{
	return (struct ksp_cond *)(void *)pc;
}

/*
 * Untagged: a static initializer (zeros), a condition glibc initialized, or garbage. glibc's
 * __wrefs (offset 36, the high half of ks_cond's group generation, 0 in our use for 2^32
 * generations) tells: process-shared bit set, glibc's; anything else there, not ours to touch.
 */
static enum ksp_cond_class ksp_cond_classify(struct ksp_cond *c)
{
	uint32_t wrefs, attr;

	if (ks_likely(atomic_load_explicit(&c->tag, memory_order_relaxed) == KSP_TAG))
		return KSP_C_KSYNC;
	memcpy(&wrefs, (const char *)c + KSP_GLIBC_COND_WREFS, sizeof(wrefs));
	attr = atomic_load_explicit(&c->attr, memory_order_relaxed);
	if ((wrefs & KSP_COND_PSHARED) && !(wrefs & 4) && attr == 0)
		return KSP_C_GLIBC;	/* a process-shared condition glibc initialized */
	if (wrefs || attr)
		return KSP_C_BAD;	/* destroyed, never initialized, glibc's private one */
	return KSP_C_KSYNC;		/* PTHREAD_COND_INITIALIZER */
}

static int ksp_cond_init(pthread_cond_t *pc, const pthread_condattr_t *cattr)
{
	struct ksp_cond *c = ksp_cond(pc);
	clockid_t clock = CLOCK_REALTIME;
	int pshared = PTHREAD_PROCESS_PRIVATE;
	uint32_t attr;

	if (cattr) {
		pthread_condattr_getclock(cattr, &clock);
		pthread_condattr_getpshared(cattr, &pshared);
	}
	attr = (clock == CLOCK_MONOTONIC ? KSP_COND_MONOTONIC : 0) |
	       (pshared == PTHREAD_PROCESS_SHARED ? KSP_COND_PSHARED : 0);
	memset(c, 0, sizeof(*c));
	ks_cond_init(&c->c, pshared == PTHREAD_PROCESS_SHARED ? KS_SHARED : 0);
	atomic_store_explicit(&c->attr, attr, memory_order_relaxed);
	atomic_store_explicit(&c->tag, KSP_TAG, memory_order_relaxed);
	return 0;
}

/*
 * POSIX lets a condition be destroyed as soon as no thread is blocked on it, for instance right
 * after a broadcast, while the woken waiters are still on their way out of ks_cond's wait, where
 * they take its internal lock once more. glibc counts such waiters (__wrefs) and its destroy
 * waits for them; ks_cond keeps no such count, so we wait for what it shows: no waiter left
 * unsignaled, none that may still sleep, no signal left to consume, the internal lock free. A
 * waiter that is really blocked never leaves, which is the caller's bug: after a grace period,
 * EBUSY (POSIX's error for it) and no change.
 */
#define KSP_COND_DESTROY_YIELDS	10000

static bool ksp_cond_busy(struct ks_cond *c, bool *blocked)
{
	uint32_t word = atomic_load_explicit(&c->word, memory_order_acquire);

	*blocked = word >= KS_COND_WAITER_ONE;
	return *blocked || (word & KS_COND_LOCKED) ||
	       __atomic_load_n(&c->sleepers[0], __ATOMIC_RELAXED) ||
	       __atomic_load_n(&c->sleepers[1], __ATOMIC_RELAXED) ||
	       __atomic_load_n(&c->g1_signals, __ATOMIC_RELAXED);
}

static int ksp_cond_destroy(pthread_cond_t *pc)
{
	struct ksp_cond *c = ksp_cond(pc);
	bool blocked;

	for (int i = 0; ksp_cond_busy(&c->c, &blocked); i++) {
		if (i >= KSP_COND_DESTROY_YIELDS && blocked)
			return EBUSY;
		sched_yield();
	}
	atomic_store_explicit(&c->tag, 0, memory_order_relaxed);
	atomic_store_explicit(&c->attr, ~0u, memory_order_relaxed);	/* EINVAL from now on */
	return 0;
}

/*
 * The wait: `abs` NULL waits without a deadline; `clock` -1 means the condition's own clock.
 * The mutex must be ksync's unless the condition is glibc's too (glibc's wait would otherwise
 * release a ksync mutex with glibc's code): that mix is EINVAL.
 */
static int ksp_cond_wait(pthread_cond_t *pc, pthread_mutex_t *pm, clockid_t clock,
			 const struct timespec *abs)
{
	struct ksp_cond *c = ksp_cond(pc);

	switch (ksp_cond_classify(c)) {
	case KSP_C_GLIBC:
		if (ksp_mutex_classify((struct ksp_mutex *)(void *)pm) != KSP_M_GLIBC)
			return EINVAL;
		if (!abs)
			return KSP_GLIBC(pthread_cond_wait)(pc, pm);
		if (clock == (clockid_t)-1)
			return KSP_GLIBC(pthread_cond_timedwait)(pc, pm, abs);
		return KSP_GLIBC(pthread_cond_clockwait)(pc, pm, clock, abs);
	case KSP_C_BAD:
		return EINVAL;
	default:
		break;
	}
	if (clock == (clockid_t)-1)
		clock = atomic_load_explicit(&c->attr, memory_order_relaxed) & KSP_COND_MONOTONIC ?
			CLOCK_MONOTONIC : CLOCK_REALTIME;
	return ksp_cond_wait_mutex(&c->c, pm, clock, abs);
}

static int ksp_cond_signal(pthread_cond_t *pc, bool all)
{
	struct ksp_cond *c = ksp_cond(pc);

	switch (ksp_cond_classify(c)) {
	case KSP_C_KSYNC:
		if (all)
			ks_cond_broadcast(&c->c);
		else
			ks_cond_signal(&c->c);
		return 0;
	case KSP_C_GLIBC:
		return all ? KSP_GLIBC(pthread_cond_broadcast)(pc) :
			     KSP_GLIBC(pthread_cond_signal)(pc);
	default:
		return EINVAL;
	}
}

/* ---- GLIBC_2.3.2: the current ABI ------------------------------------------------------------ */

#define KSP_SYMVER(impl, name, version)	__asm__(".symver " #impl "," #name version)

KSP_SYMVER(ksp_cond_init_232, pthread_cond_init, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_init_232(pthread_cond_t *pc, const pthread_condattr_t *attr)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_init)(pc, attr);
	return ksp_cond_init(pc, attr);
}

KSP_SYMVER(ksp_cond_destroy_232, pthread_cond_destroy, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_destroy_232(pthread_cond_t *pc)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_destroy)(pc);
	switch (ksp_cond_classify(ksp_cond(pc))) {
	case KSP_C_KSYNC:
		return ksp_cond_destroy(pc);
	case KSP_C_GLIBC:
		return KSP_GLIBC(pthread_cond_destroy)(pc);
	default:
		return EINVAL;
	}
}

KSP_SYMVER(ksp_cond_wait_232, pthread_cond_wait, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_wait_232(pthread_cond_t *pc, pthread_mutex_t *pm)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_wait)(pc, pm);
	return ksp_cond_wait(pc, pm, -1, NULL);
}

KSP_SYMVER(ksp_cond_timedwait_232, pthread_cond_timedwait, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_timedwait_232(pthread_cond_t *pc, pthread_mutex_t *pm,
				      const struct timespec *abs)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_timedwait)(pc, pm, abs);
	return ksp_cond_wait(pc, pm, -1, abs);
}

KSP_SYMVER(ksp_cond_signal_232, pthread_cond_signal, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_signal_232(pthread_cond_t *pc)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_signal)(pc);
	return ksp_cond_signal(pc, false);
}

KSP_SYMVER(ksp_cond_broadcast_232, pthread_cond_broadcast, "@@GLIBC_2.3.2");
KSP_EXPORT int ksp_cond_broadcast_232(pthread_cond_t *pc)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_broadcast)(pc);
	return ksp_cond_signal(pc, true);
}

/* Only one version (GLIBC_2.30). */
KSP_EXPORT int pthread_cond_clockwait(pthread_cond_t *pc, pthread_mutex_t *pm, clockid_t clock,
				      const struct timespec *abs)
{
	if (ksp_passthrough())
		return KSP_GLIBC(pthread_cond_clockwait)(pc, pm, clock, abs);
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return ksp_cond_wait(pc, pm, clock, abs);
}

/* ---- GLIBC_2.2.5: the object is a pointer to the condition ------------------------------------ */

/* The condition an old-ABI object points to, allocated on first use (ENOMEM: NULL). */
static pthread_cond_t *ksp_old_cond(pthread_cond_t *old)
{
	pthread_cond_t *_Atomic *slot = (pthread_cond_t *_Atomic *)(void *)old;
	pthread_cond_t *c = atomic_load_explicit(slot, memory_order_acquire);
	pthread_cond_t *expected = NULL;

	if (ks_likely(c))
		return c;
	c = calloc(1, sizeof(*c));	/* zeros: PTHREAD_COND_INITIALIZER */
	if (!c)
		return NULL;
	/* acq_rel: publishes the zeroed condition; on failure, sees the winner's */
	if (!atomic_compare_exchange_strong_explicit(slot, &expected, c, memory_order_acq_rel,
						     memory_order_acquire)) {
		free(c);
		c = expected;
	}
	return c;
}

KSP_SYMVER(ksp_cond_init_225, pthread_cond_init, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_init_225(pthread_cond_t *old, const pthread_condattr_t *attr)
{
	pthread_cond_t *c;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_init)(old, attr);
	c = malloc(sizeof(*c));
	if (!c)
		return ENOMEM;
	ksp_cond_init(c, attr);
	*(pthread_cond_t **)(void *)old = c;
	return 0;
}

KSP_SYMVER(ksp_cond_destroy_225, pthread_cond_destroy, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_destroy_225(pthread_cond_t *old)
{
	pthread_cond_t *c;
	int r;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_destroy)(old);
	c = *(pthread_cond_t **)(void *)old;
	if (!c)
		return 0;
	r = ksp_cond_destroy(c);
	if (!r)
		free(c);
	return r;
}

KSP_SYMVER(ksp_cond_wait_225, pthread_cond_wait, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_wait_225(pthread_cond_t *old, pthread_mutex_t *pm)
{
	pthread_cond_t *c;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_wait)(old, pm);
	c = ksp_old_cond(old);
	return c ? ksp_cond_wait(c, pm, -1, NULL) : ENOMEM;
}

KSP_SYMVER(ksp_cond_timedwait_225, pthread_cond_timedwait, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_timedwait_225(pthread_cond_t *old, pthread_mutex_t *pm,
				      const struct timespec *abs)
{
	pthread_cond_t *c;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_timedwait)(old, pm, abs);
	c = ksp_old_cond(old);
	return c ? ksp_cond_wait(c, pm, -1, abs) : ENOMEM;
}

KSP_SYMVER(ksp_cond_signal_225, pthread_cond_signal, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_signal_225(pthread_cond_t *old)
{
	pthread_cond_t *c;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_signal)(old);
	c = ksp_old_cond(old);
	return c ? ksp_cond_signal(c, false) : ENOMEM;
}

KSP_SYMVER(ksp_cond_broadcast_225, pthread_cond_broadcast, "@GLIBC_2.2.5");
KSP_EXPORT int ksp_cond_broadcast_225(pthread_cond_t *old)
{
	pthread_cond_t *c;

	if (ksp_passthrough())
		return KSP_GLIBC(old.pthread_cond_broadcast)(old);
	c = ksp_old_cond(old);
	return c ? ksp_cond_signal(c, true) : ENOMEM;
}

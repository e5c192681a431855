// SPDX-License-Identifier: MIT
/*
 * pthread_once on ks_once's algorithm, on the 4-byte pthread_once_t itself (PTHREAD_ONCE_INIT is
 * KS_ONCE_INCOMPLETE, 0). An init routine that is cancelled or exits leaves the once as if never
 * called, and a waiter runs it (POSIX); the waits are ks_once's futex waits.
 */
#include "preload.h"

_Static_assert(sizeof(pthread_once_t) == sizeof(uint32_t), "pthread_once_t is one word");
_Static_assert(KS_ONCE_INCOMPLETE == 0, "PTHREAD_ONCE_INIT");

KSP_EXPORT int pthread_once(pthread_once_t *once, void (*fn)(void))
{
	_Atomic uint32_t *state = (_Atomic uint32_t *)(void *)once;

	if (ksp_passthrough())
		return KSP_GLIBC(pthread_once)(once, fn);
	/* acquire: pairs with the release that published DONE, and with it fn's writes */
	if (ks_likely(atomic_load_explicit(state, memory_order_acquire) == KS_ONCE_DONE))
		return 0;
	return ksp_err(ks__once_word(state, fn));
}

KSP_ALIAS(__pthread_once, pthread_once, int, (pthread_once_t *, void (*)(void)));

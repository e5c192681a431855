// SPDX-License-Identifier: MIT
/*
 * C11 <threads.h> (mtx_*, cnd_*, call_once), onto the interposer's pthread calls. glibc
 * implements them with internal calls that no interposer can see: without these, C11 objects
 * would stay glibc's. (glibc's exported __pthread_* aliases are defined beside their calls.)
 */
#include <threads.h>

#include "preload.h"

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread_cond_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is a pthread_once_t");

/* pthread's errors as C11's results, as glibc maps them. */
static int ksp_thrd(int err)
{
	switch (err) {
	case 0:
		return thrd_success;
	case EBUSY:
		return thrd_busy;
	case ETIMEDOUT:
		return thrd_timedout;
	case ENOMEM:
		return thrd_nomem;
	default:
		return thrd_error;
	}
}

KSP_EXPORT int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t attr;
	int r;

	if (type != mtx_plain && type != mtx_timed && type != (mtx_plain | mtx_recursive) &&
	    type != (mtx_timed | mtx_recursive))
		return thrd_error;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, type & mtx_recursive ? PTHREAD_MUTEX_RECURSIVE :
								PTHREAD_MUTEX_NORMAL);
	r = pthread_mutex_init((pthread_mutex_t *)(void *)m, &attr);
	pthread_mutexattr_destroy(&attr);
	return ksp_thrd(r);
}

KSP_EXPORT void mtx_destroy(mtx_t *m)
{
	pthread_mutex_destroy((pthread_mutex_t *)(void *)m);
}

KSP_EXPORT int mtx_lock(mtx_t *m)
{
	return ksp_thrd(pthread_mutex_lock((pthread_mutex_t *)(void *)m));
}

KSP_EXPORT int mtx_trylock(mtx_t *m)
{
	return ksp_thrd(pthread_mutex_trylock((pthread_mutex_t *)(void *)m));
}

KSP_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abs)
{
	return ksp_thrd(pthread_mutex_timedlock((pthread_mutex_t *)(void *)m, abs));
}

KSP_EXPORT int mtx_unlock(mtx_t *m)
{
	return ksp_thrd(pthread_mutex_unlock((pthread_mutex_t *)(void *)m));
}

KSP_EXPORT int cnd_init(cnd_t *c)
{
	return ksp_thrd(pthread_cond_init((pthread_cond_t *)(void *)c, NULL));
}

KSP_EXPORT void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)(void *)c);
}

KSP_EXPORT int cnd_signal(cnd_t *c)
{
	return ksp_thrd(pthread_cond_signal((pthread_cond_t *)(void *)c));
}

KSP_EXPORT int cnd_broadcast(cnd_t *c)
{
	return ksp_thrd(pthread_cond_broadcast((pthread_cond_t *)(void *)c));
}

KSP_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return ksp_thrd(pthread_cond_wait((pthread_cond_t *)(void *)c, (pthread_mutex_t *)(void *)m));
}

KSP_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
			     const struct timespec *restrict abs)
{
	return ksp_thrd(pthread_cond_timedwait((pthread_cond_t *)(void *)c,
					       (pthread_mutex_t *)(void *)m, abs));
}

KSP_EXPORT void call_once(once_flag *flag, void (*fn)(void))
{
	pthread_once((pthread_once_t *)(void *)flag, fn);
}

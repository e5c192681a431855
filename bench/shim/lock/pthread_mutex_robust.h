/* SPDX-License-Identifier: MIT */
/* pthread_mutex_robust: glibc's robust mutex (PTHREAD_MUTEX_ROBUST, otherwise the default). */
#include <pthread.h>

static inline void robust_init(pthread_mutex_t *l)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(l, &a);
	pthread_mutexattr_destroy(&a);
}

#define LOCK_NAME	"pthread_mutex_robust"
#define LOCK_ORIGIN	"glibc"
#define LOCK_WAITS	"sleeps"
#define LOCK_TYPE	pthread_mutex_t
#define LOCK_INIT(l)	robust_init(l)
#define LOCK(l, node)	pthread_mutex_lock(l)
#define UNLOCK(l, node)	pthread_mutex_unlock(l)

/* SPDX-License-Identifier: MIT */
/* pthread_mutex_adaptive: glibc's PTHREAD_MUTEX_ADAPTIVE_NP, which spins before sleeping. */
#include <pthread.h>

static inline void adaptive_init(pthread_mutex_t *l)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(l, &a);
	pthread_mutexattr_destroy(&a);
}

#define LOCK_NAME	"pthread_mutex_adaptive"
#define LOCK_ORIGIN	"glibc"
#define LOCK_WAITS	"sleeps"
#define LOCK_TYPE	pthread_mutex_t
#define LOCK_INIT(l)	adaptive_init(l)
#define LOCK(l, node)	pthread_mutex_lock(l)
#define UNLOCK(l, node)	pthread_mutex_unlock(l)

/* SPDX-License-Identifier: MIT */
/* pthread_mutex_pi: glibc's PTHREAD_PRIO_INHERIT mutex, ks_pi_mutex's counterpart. */
#include <pthread.h>

static inline void pi_init(pthread_mutex_t *l)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(l, &a);
	pthread_mutexattr_destroy(&a);
}

#define LOCK_NAME	"pthread_mutex_pi"
#define LOCK_ORIGIN	"glibc"
#define LOCK_WAITS	"sleeps"
#define LOCK_TYPE	pthread_mutex_t
#define LOCK_INIT(l)	pi_init(l)
#define LOCK(l, node)	pthread_mutex_lock(l)
#define UNLOCK(l, node)	pthread_mutex_unlock(l)

/* SPDX-License-Identifier: MIT */
/* pthread_cond: glibc's condition variable with its default mutex. */
#include <pthread.h>

#define COND_NAME		"pthread_cond"
#define COND_ORIGIN		"glibc"
#define COND_MUTEX_TYPE		pthread_mutex_t
#define COND_TYPE		pthread_cond_t
#define COND_INIT(c, m)		(pthread_mutex_init((m), NULL), pthread_cond_init((c), NULL))
#define COND_LOCK(m)		pthread_mutex_lock(m)
#define COND_UNLOCK(m)		pthread_mutex_unlock(m)
#define COND_WAIT(c, m)		pthread_cond_wait((c), (m))
#define COND_SIGNAL(c)		pthread_cond_signal(c)

/* SPDX-License-Identifier: MIT */
/* pthread_mutex: glibc's default (PTHREAD_MUTEX_NORMAL) mutex. */
#include <pthread.h>

#define LOCK_NAME	"pthread_mutex"
#define LOCK_ORIGIN	"glibc"
#define LOCK_WAITS	"sleeps"
#define LOCK_TYPE	pthread_mutex_t
#define LOCK_INIT(l)	pthread_mutex_init((l), NULL)
#define LOCK(l, node)	pthread_mutex_lock(l)
#define UNLOCK(l, node)	pthread_mutex_unlock(l)

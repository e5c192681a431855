/* SPDX-License-Identifier: MIT */
/* pthread_spin: glibc's test-and-test-and-set spinlock; it never sleeps. */
#include <pthread.h>

#define LOCK_NAME	"pthread_spin"
#define LOCK_ORIGIN	"glibc"
#define LOCK_WAITS	"spins"
#define LOCK_TYPE	pthread_spinlock_t
#define LOCK_INIT(l)	pthread_spin_init((l), PTHREAD_PROCESS_PRIVATE)
#define LOCK(l, node)	pthread_spin_lock(l)
#define UNLOCK(l, node)	pthread_spin_unlock(l)

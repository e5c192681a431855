/* SPDX-License-Identifier: MIT */
/* ks_pi_mutex: ksync's priority-inheriting lock (tid in the word, FUTEX_LOCK_PI when contended). */
#include <ksync/pi_mutex.h>

#define LOCK_NAME	"ks_pi_mutex"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"sleeps"
#define LOCK_BASELINE	"pthread_mutex_pi"
#define LOCK_TYPE	struct ks_pi_mutex
#define LOCK_INIT(l)	ks_pi_mutex_init((l), 0)
#define LOCK(l, node)	ks_pi_mutex_lock(l)
#define UNLOCK(l, node)	ks_pi_mutex_unlock(l)

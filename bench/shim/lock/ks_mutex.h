/* SPDX-License-Identifier: MIT */
/* ks_mutex: ksync's Lock (three-state futex word). */
#include <ksync/mutex.h>

#define LOCK_NAME	"ks_mutex"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"sleeps"
#define LOCK_BASELINE	"pthread_mutex"
#define LOCK_TYPE	struct ks_mutex
#define LOCK_INIT(l)	ks_mutex_init((l), 0)
#define LOCK(l, node)	ks_mutex_lock(l)
#define UNLOCK(l, node)	ks_mutex_unlock(l)

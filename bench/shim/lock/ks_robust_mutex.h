/* SPDX-License-Identifier: MIT */
/* ks_robust_mutex: ksync's robust lock (robust futex word, linked into glibc's robust list). */
#include <ksync/robust_mutex.h>

#define LOCK_NAME	"ks_robust_mutex"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"sleeps"
#define LOCK_BASELINE	"pthread_mutex_robust"
#define LOCK_TYPE	struct ks_robust_mutex
#define LOCK_INIT(l)	ks_robust_mutex_init((l), 0)
#define LOCK(l, node)	ks_robust_mutex_lock(l)
#define UNLOCK(l, node)	ks_robust_mutex_unlock(l)

/* SPDX-License-Identifier: MIT */
/* ks_cond: ksync's Condition with a ks_mutex. */
#include <ksync/cond.h>

#define COND_NAME		"ks_cond"
#define COND_ORIGIN		"ksync"
#define COND_BASELINE		"pthread_cond"
#define COND_MUTEX_TYPE		struct ks_mutex
#define COND_TYPE		struct ks_cond
#define COND_INIT(c, m)		(ks_mutex_init((m), 0), ks_cond_init((c), 0))
#define COND_LOCK(m)		ks_mutex_lock(m)
#define COND_UNLOCK(m)		ks_mutex_unlock(m)
#define COND_WAIT(c, m)		ks_cond_wait((c), (m))
#define COND_SIGNAL(c)		ks_cond_signal(c)

/* SPDX-License-Identifier: MIT */
/* ks_rmutex: ksync's RLock, taken once (no recursion): the cost of the owner bookkeeping. */
#include <ksync/rmutex.h>

#define LOCK_NAME	"ks_rmutex"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"sleeps"
#define LOCK_BASELINE	"pthread_mutex_recursive"
#define LOCK_TYPE	struct ks_rmutex
#define LOCK_INIT(l)	ks_rmutex_init((l), 0)
#define LOCK(l, node)	ks_rmutex_lock(l)
#define UNLOCK(l, node)	ks_rmutex_unlock(l)

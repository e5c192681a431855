/* SPDX-License-Identifier: MIT */
/* ks_spinlock: ksync's fair ticket spinlock; it never sleeps. */
#include <ksync/spinlock.h>

#define LOCK_NAME	"ks_spinlock"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"spins"
#define LOCK_BASELINE	"pthread_spin"
#define LOCK_TYPE	struct ks_spinlock
#define LOCK_INIT(l)	ks_spinlock_init((l), 0)
#define LOCK(l, node)	ks_spinlock_lock(l)
#define UNLOCK(l, node)	ks_spinlock_unlock(l)

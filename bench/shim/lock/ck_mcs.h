/* SPDX-License-Identifier: MIT */
/* ck_mcs: Concurrency Kit's MCS queue spinlock (FIFO, each waiter spins on its own node). */
#include <ck_spinlock.h>

#define LOCK_NAME	"ck_mcs"
#define LOCK_ORIGIN	"ck"
#define LOCK_WAITS	"spins"
#define LOCK_TYPE	ck_spinlock_mcs_t
#define LOCK_NODE_TYPE	struct ck_spinlock_mcs
#define LOCK_INIT(l)	ck_spinlock_mcs_init(l)
#define LOCK(l, node)	ck_spinlock_mcs_lock((l), (node))
#define UNLOCK(l, node)	ck_spinlock_mcs_unlock((l), (node))

/* SPDX-License-Identifier: MIT */
/* ks_mcs: ksync's MCS queued spinlock (FIFO; each waiter spins on its own node). */
#include <ksync/mcs.h>

#define LOCK_NAME	"ks_mcs"
#define LOCK_ORIGIN	"ksync"
#define LOCK_WAITS	"spins"
#define LOCK_BASELINE	"pthread_spin"
#define LOCK_TYPE	struct ks_mcs
#define LOCK_NODE_TYPE	struct ks_mcs_node
#define LOCK_INIT(l)	ks_mcs_init((l), 0)
#define LOCK(l, node)	ks_mcs_lock((l), (node))
#define UNLOCK(l, node)	ks_mcs_unlock((l), (node))

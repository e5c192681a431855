// SPDX-License-Identifier: MIT
/* Every scenario ksync-torture knows, in the order --list shows them. */
#include "torture.h"

extern const struct scenario torture_mutex, torture_rmutex, torture_spinlock, torture_mcs,
	torture_rwlock, torture_seqlock, torture_sem, torture_bounded_sem, torture_event,
	torture_cond, torture_cond_rmutex, torture_barrier, torture_thread, torture_once,
	torture_llist, torture_ring_mpmc, torture_ring_spsc, torture_workqueue, torture_lifetime;

extern const struct scenario torture_busted_lock, torture_busted_rwlock, torture_busted_seqlock,
	torture_busted_sem, torture_busted_event, torture_busted_cond, torture_busted_barrier,
	torture_busted_thread, torture_busted_once, torture_busted_llist, torture_busted_ring,
	torture_busted_workqueue, torture_busted_lifetime;

const struct scenario *const torture_scenarios[] = {
	&torture_mutex, &torture_rmutex, &torture_spinlock, &torture_mcs, &torture_rwlock,
	&torture_seqlock, &torture_sem, &torture_bounded_sem, &torture_event, &torture_cond,
	&torture_cond_rmutex, &torture_barrier, &torture_thread, &torture_once, &torture_llist,
	&torture_ring_mpmc, &torture_ring_spsc, &torture_workqueue, &torture_lifetime,
	/* negative controls: broken on purpose, run only when named, must fail */
	&torture_busted_lock, &torture_busted_rwlock, &torture_busted_seqlock, &torture_busted_sem,
	&torture_busted_event, &torture_busted_cond, &torture_busted_barrier,
	&torture_busted_thread, &torture_busted_once, &torture_busted_llist, &torture_busted_ring,
	&torture_busted_workqueue, &torture_busted_lifetime,
	NULL,
};

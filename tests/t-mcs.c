// SPDX-License-Identifier: MIT
/*
 * struct ks_mcs: the queue lock's semantics, -EPERM for a node that does not hold it, FIFO
 * hand-off, zero futex calls even under contention, use across fork() with the lock and the
 * nodes in MAP_SHARED memory, and a wall-clock stress (few threads: see t-spinlock.c).
 */
#include <sched.h>

#include <ksync/mcs.h>

#include "tap.h"
#include "harness/exclusion.h"
#include "ops/mcs.h"

static void test_basics(void)
{
	struct ks_mcs l = KS_MCS_INIT, d;
	struct ks_mcs_node n = KS_MCS_NODE_INIT, other = KS_MCS_NODE_INIT;

	tap_phase("basics");
	ok(!ks_mcs_is_locked(&l), "KS_MCS_INIT is unlocked");
	is(ks_mcs_unlock(&l, &n), -EPERM, "unlocking a free lock with a fresh node: -EPERM");
	ks_mcs_lock(&l, &n);
	ok(ks_mcs_is_locked(&l), "locked after lock");
	ok(!ks_mcs_trylock(&l, &other), "trylock fails while locked");
	is(ks_mcs_unlock(&l, &other), -EPERM, "unlock with a node that does not hold it: -EPERM");
	ok(ks_mcs_is_locked(&l), "... and it stays locked");
	is(ks_mcs_unlock(&l, &n), 0, "unlock returns 0");
	ok(!ks_mcs_is_locked(&l), "unlocked after unlock");
	is(ks_mcs_unlock(&l, &n), -EPERM, "a second unlock: -EPERM");
	ok(ks_mcs_trylock(&l, &other), "trylock succeeds when free");
	ok(ks_mcs_is_locked(&l), "trylock locked it");
	is(ks_mcs_unlock(&l, &other), 0, "unlock after trylock");
	ok(!ks_mcs_is_locked(&l), "free again");

	ks_mcs_init(&d, KS_SHARED);
	ok(!ks_mcs_is_locked(&d), "ks_mcs_init(KS_SHARED): unlocked");
	ks_mcs_lock(&d, &n);
	ok(ks_mcs_is_locked(&d) && ks_mcs_unlock(&d, &n) == 0, "and it locks and unlocks");
}

struct fifo {
	struct ks_mcs l;
	struct ks_mcs_node nodes[2];
	atomic_int order[2];
	atomic_int pos;
};

struct fifo_arg {
	struct fifo *f;
	int id;
};

static void *fifo_main(void *arg)
{
	struct fifo_arg *a = arg;
	struct ks_mcs_node *n = &a->f->nodes[a->id];

	ks_mcs_lock(&a->f->l, n);
	atomic_store(&a->f->order[atomic_fetch_add(&a->f->pos, 1)], a->id);
	ks_mcs_unlock(&a->f->l, n);
	return NULL;
}

static void test_fifo(void)
{
	static struct fifo f = { .l = KS_MCS_INIT };
	struct fifo_arg a[2] = { { &f, 0 }, { &f, 1 } };
	struct ks_mcs_node mine = KS_MCS_NODE_INIT;
	pthread_t t[2];

	tap_phase("FIFO hand-off");
	ks_mcs_lock(&f.l, &mine);
	for (int i = 0; i < 2; i++) {
		t[i] = tap_thread(fifo_main, &a[i]);
		while (atomic_load(&f.l.tail) != &f.nodes[i])	/* it has queued */
			sched_yield();
	}
	ok(atomic_load(&f.pos) == 0, "two waiters queue behind the holder");
	ks_mcs_unlock(&f.l, &mine);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&f.order[0]) == 0 && atomic_load(&f.order[1]) == 1,
	   "the lock went to the waiters in queue order");
	ok(!ks_mcs_is_locked(&f.l), "unlocked at the end");
}

/* Threads, then processes with their nodes in the shared mapping: the harness over ops/mcs.h. */
static void test_stress(void)
{
	tap_phase("mcs stress");
	excl_stress(&ops_mcs, 3);
}

static void test_process_shared(void)
{
	tap_phase("process-shared");
	excl_processes(&ops_mcs, 2, 20000);
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_fifo();
	test_stress();
	test_process_shared();
	return tap_done();
}

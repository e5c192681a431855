// SPDX-License-Identifier: MIT
/*
 * struct ks_mcs: the queue lock's semantics, -EPERM for a node that does not hold it, FIFO
 * hand-off, zero futex calls even under contention, use across fork() with the lock and the
 * nodes in MAP_SHARED memory, and a wall-clock stress (few threads: see t-spinlock.c).
 */
#include <sched.h>

#include <ksync/mcs.h>

#include "tap.h"

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

struct stress {
	struct ks_mcs l;
	long a, b;		/* kept equal under the lock */
	atomic_int inside;
	atomic_int overlaps;
	atomic_long ops;
	atomic_ulong futex_calls;
	int64_t end;
};

static void *stress_main(void *arg)
{
	struct stress *s = arg;
	struct ks_mcs_node node = KS_MCS_NODE_INIT;
	unsigned long calls = ks_futex_calls();
	unsigned seed = (unsigned)ks_self_tid();
	long ops = 0;

	while (tap_before(s->end)) {
		if (rand_r(&seed) % 4 == 0) {
			if (!ks_mcs_trylock(&s->l, &node))
				continue;
		} else {
			ks_mcs_lock(&s->l, &node);
		}
		if (atomic_fetch_add_explicit(&s->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&s->overlaps, 1);
		s->a++;
		s->b++;
		atomic_fetch_sub_explicit(&s->inside, 1, memory_order_relaxed);
		ks_mcs_unlock(&s->l, &node);
		ops++;
	}
	atomic_fetch_add(&s->ops, ops);
	atomic_fetch_add(&s->futex_calls, ks_futex_calls() - calls);
	return NULL;
}

static void test_stress(void)
{
	static struct stress s = { .l = KS_MCS_INIT };
	enum { THREADS = 3 };
	pthread_t t[THREADS];

	tap_phase("mcs stress");
	s.end = tap_deadline_in_ms(tap_stress_ms());
	for (int i = 0; i < THREADS; i++)
		t[i] = tap_thread(stress_main, &s);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&s.ops) > 0, "stress: %ld critical sections by %d threads",
	   atomic_load(&s.ops), THREADS);
	is(s.a, atomic_load(&s.ops), "stress: every critical section counted");
	is(s.a, s.b, "stress: the protected pair stayed consistent");
	is(atomic_load(&s.overlaps), 0, "stress: mutual exclusion held");
	is(atomic_load(&s.futex_calls), 0, "stress: not one futex call, even contended");
	ok(!ks_mcs_is_locked(&s.l), "stress: unlocked at the end");
}

enum { CHILDREN = 2, ROUNDS = 20000 };

struct shared_counter {
	struct ks_mcs l;
	struct ks_mcs_node nodes[CHILDREN + 1];	/* one per process, in the shared mapping */
	long counter;
	int inside;
	int overlaps;
};

static void test_process_shared(void)
{
	struct shared_counter *s = tap_shared_alloc(sizeof(*s));
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	ks_mcs_init(&s->l, KS_SHARED);
	ks_mcs_lock(&s->l, &s->nodes[CHILDREN]);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				ks_mcs_lock(&s->l, &s->nodes[i]);
				if (s->inside++)
					s->overlaps++;
				s->counter++;
				s->inside--;
				ks_mcs_unlock(&s->l, &s->nodes[i]);
			}
			_exit(0);
		}
	}
	tap_sleep_ms(20);
	is(s->counter, 0, "children spin on a lock the parent holds");
	ks_mcs_unlock(&s->l, &s->nodes[CHILDREN]);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "all children exited cleanly");
	is(s->counter, (long)CHILDREN * ROUNDS, "%d processes x %d increments, none lost", CHILDREN,
	   ROUNDS);
	is(s->overlaps, 0, "mutual exclusion across processes");
	munmap(s, sizeof(*s));
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

// SPDX-License-Identifier: MIT
/*
 * ks_rmutex: Python's RLock semantics (CPython lock_tests.py RLockTests), the depth limit,
 * ownership across threads and processes (and after fork(), when the child's tid changes),
 * waits under signals and spurious wake-ups, zero futex calls, and a recursive stress.
 */
#include <ksync/rmutex.h>

#include "tap.h"

struct locker {
	struct ks_rmutex *r;
	int64_t timeout_ns;	/* < 0: lock() */
	int result;
	int unlock_result;
	bool owned_inside;
	atomic_int tid;
	atomic_bool done;
};

static void *locker_main(void *arg)
{
	struct locker *l = arg;

	atomic_store(&l->tid, ks_self_tid());
	l->result = l->timeout_ns < 0 ? ks_rmutex_lock(l->r) :
					ks_rmutex_lock_timeout(l->r, l->timeout_ns);
	atomic_store(&l->done, true);
	if (l->result == 0) {
		l->owned_inside = ks_rmutex_is_owned(l->r);
		l->unlock_result = ks_rmutex_unlock(l->r);
	}
	return NULL;
}

static pthread_t start_locker(struct locker *l, struct ks_rmutex *r, int64_t timeout_ns)
{
	memset(l, 0, sizeof(*l));
	l->r = r;
	l->timeout_ns = timeout_ns;
	return tap_thread(locker_main, l);
}

struct probe {
	struct ks_rmutex *r;
	bool owned, trylock;
	int unlock;
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	p->owned = ks_rmutex_is_owned(p->r);
	p->unlock = ks_rmutex_unlock(p->r);
	p->trylock = ks_rmutex_trylock(p->r);
	if (p->trylock)
		ks_rmutex_unlock(p->r);
	return NULL;
}

static void probe_from_other_thread(struct ks_rmutex *r, struct probe *p)
{
	pthread_t t;

	p->r = r;
	t = tap_thread(probe_main, p);
	pthread_join(t, NULL);
}

static void test_basics(void)
{
	struct ks_rmutex r = KS_RMUTEX_INIT, d;
	struct probe p;

	tap_phase("rmutex basics");
	ok(!ks_rmutex_is_owned(&r), "KS_RMUTEX_INIT: not owned");
	is(ks_rmutex_unlock(&r), -EPERM, "unlock of an unowned rmutex: -EPERM");
	is(ks_rmutex_lock(&r), 0, "lock");
	is(ks_rmutex_lock(&r), 0, "lock again (re-entrant)");
	ok(ks_rmutex_trylock(&r), "trylock by the owner succeeds");
	is(ks_rmutex_lock_timeout(&r, 0), 0, "lock_timeout(0) by the owner succeeds");
	is(ks_rmutex_lock_timeout(&r, KS_NSEC_PER_SEC), 0, "lock_timeout by the owner succeeds");
	is(r.depth, 5, "depth counts every acquisition");
	ok(ks_rmutex_is_owned(&r), "is_owned in the owner");

	probe_from_other_thread(&r, &p);
	ok(!p.owned, "is_owned is false in another thread");
	is(p.unlock, -EPERM, "another thread's unlock: -EPERM");
	ok(!p.trylock, "another thread's trylock fails");
	is(r.depth, 5, "the failed foreign unlock left the depth alone");

	for (int i = 5; i > 1; i--)
		is(ks_rmutex_unlock(&r), 0, "unlock at depth %d", i);
	ok(ks_rmutex_is_owned(&r), "still owned at depth 1");
	probe_from_other_thread(&r, &p);
	ok(!p.trylock, "others still cannot take it at depth 1");
	is(ks_rmutex_unlock(&r), 0, "last unlock");
	ok(!ks_rmutex_is_owned(&r), "not owned after the last unlock");
	is(ks_rmutex_unlock(&r), -EPERM, "one unlock too many: -EPERM");
	probe_from_other_thread(&r, &p);
	ok(p.trylock, "another thread can take it once fully released");

	is(ks_rmutex_lock_timeout(&r, -1), -EINVAL, "negative timeout: -EINVAL");
	ok(!ks_rmutex_is_owned(&r), "... and not taken");
	ks_rmutex_lock(&r);
	is(ks_rmutex_lock_timeout(&r, -5), -EINVAL, "negative timeout by the owner: -EINVAL");
	is(r.depth, 1, "... and the depth is unchanged");
	ks_rmutex_unlock(&r);

	ks_rmutex_init(&d, 0);
	ok(!ks_rmutex_is_owned(&d) && ks_rmutex_trylock(&d), "ks_rmutex_init: usable");
	ks_rmutex_unlock(&d);
}

static void test_depth_limit(void)
{
	struct ks_rmutex r = KS_RMUTEX_INIT;

	tap_phase("rmutex depth limit");
	ks_rmutex_lock(&r);
	r.depth = KS_RMUTEX_DEPTH_MAX - 1;	/* rather than 4 billion calls */
	is(ks_rmutex_lock(&r), 0, "lock up to the maximum depth");
	is(r.depth, KS_RMUTEX_DEPTH_MAX, "at KS_RMUTEX_DEPTH_MAX");
	is(ks_rmutex_lock(&r), -EAGAIN, "one more lock: -EAGAIN");
	ok(!ks_rmutex_trylock(&r), "one more trylock: false");
	is(ks_rmutex_lock_timeout(&r, KS_NSEC_PER_MSEC), -EAGAIN, "one more lock_timeout: -EAGAIN");
	is(r.depth, KS_RMUTEX_DEPTH_MAX, "the depth did not wrap");
	ok(ks_rmutex_is_owned(&r), "still owned");
	is(ks_rmutex_unlock(&r), 0, "unlock from the maximum");
	is(r.depth, KS_RMUTEX_DEPTH_MAX - 1, "depth went down by one");
	r.depth = 1;
	is(ks_rmutex_unlock(&r), 0, "and out");
	ok(!ks_rmutex_is_owned(&r) && !ks_mutex_is_locked(&r.lock), "fully released");
}

static void test_contention(void)
{
	struct ks_rmutex r = KS_RMUTEX_INIT;
	struct tap_storm storm;
	struct locker l;
	pthread_t t;

	tap_phase("rmutex contention");
	ks_rmutex_lock(&r);
	ks_rmutex_lock(&r);
	t = start_locker(&l, &r, -1);
	while (!atomic_load(&l.tid))
		tap_sleep_ms(1);
	ok(tap_wait_asleep(atomic_load(&l.tid), 5000), "a second thread sleeps on the owned rmutex");
	ks_rmutex_unlock(&r);
	tap_sleep_ms(20);
	ok(!atomic_load(&l.done), "one unlock of two does not release it");
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(100);
	tap_storm_stop(&storm);
	ok(!atomic_load(&l.done), "signals do not make the waiter return");
	for (int i = 0; i < 50; i++)
		tap_futex_poke(&r.lock.state);
	tap_sleep_ms(20);
	ok(!atomic_load(&l.done), "spurious futex wakes do not make the waiter return");
	ks_rmutex_unlock(&r);
	pthread_join(t, NULL);
	is(l.result, 0, "the waiter gets it after the last unlock");
	ok(l.owned_inside, "and owns it");
	is(l.unlock_result, 0, "and releases it");

	ks_rmutex_lock(&r);
	t = start_locker(&l, &r, 100 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(l.result, -ETIMEDOUT, "lock_timeout by a non-owner under signals: -ETIMEDOUT");
	ok(ks_rmutex_is_owned(&r) && r.depth == 1, "the owner is undisturbed");
	ks_rmutex_unlock(&r);
}

static void test_no_syscalls(void)
{
	struct ks_rmutex r = KS_RMUTEX_INIT;
	unsigned long before;

	tap_phase("rmutex no syscalls");
	ks_rmutex_lock(&r);		/* the first call may fill the tid cache */
	ks_rmutex_unlock(&r);
	before = ks_futex_calls();
	for (int i = 0; i < 1000; i++) {
		ks_rmutex_lock(&r);
		ks_rmutex_lock(&r);
		ks_rmutex_trylock(&r);
		ks_rmutex_unlock(&r);
		ks_rmutex_unlock(&r);
		ks_rmutex_unlock(&r);
	}
	is(ks_futex_calls() - before, 0, "uncontended recursive lock/unlock: 0 futex calls");
}

struct shared_rm {
	struct ks_rmutex r;
	long counter;
	int overlaps, inside;
};

static int child_probe(struct ks_rmutex *r)
{
	if (ks_rmutex_is_owned(r))
		return 1;
	if (ks_rmutex_unlock(r) != -EPERM)
		return 2;
	if (ks_rmutex_trylock(r))
		return 3;
	return 0;
}

static void test_process_shared(void)
{
	struct shared_rm *s = tap_shared_alloc(sizeof(*s));
	struct ks_rmutex priv = KS_RMUTEX_INIT;
	enum { CHILDREN = 3, ROUNDS = 10000 };
	pid_t pid[CHILDREN];
	bool all_ok = true;

	tap_phase("rmutex process-shared");
	ks_rmutex_init(&s->r, KS_SHARED);
	ks_rmutex_lock(&s->r);
	ks_rmutex_lock(&s->r);
	pid[0] = fork();
	if (pid[0] == 0)
		_exit(child_probe(&s->r));
	ok(tap_wait_child(pid[0]), "a child does not own the parent's rmutex and cannot unlock it");

	/* fork() copies the owner field and the tid cache: the child must see a new tid */
	ks_rmutex_lock(&priv);
	pid[0] = fork();
	if (pid[0] == 0)
		_exit(ks_rmutex_is_owned(&priv) ? 1 : ks_self_tid() == getpid() ? 0 : 2);
	ok(tap_wait_child(pid[0]), "after fork() the child has its own tid and owns nothing");
	ks_rmutex_unlock(&priv);

	for (int i = 0; i < CHILDREN; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				ks_rmutex_lock(&s->r);
				ks_rmutex_lock(&s->r);
				if (s->inside++)
					s->overlaps++;
				s->counter++;
				s->inside--;
				ks_rmutex_unlock(&s->r);
				ks_rmutex_unlock(&s->r);
			}
			_exit(0);
		}
	}
	tap_sleep_ms(30);
	is(s->counter, 0, "children wait while the parent owns it");
	ks_rmutex_unlock(&s->r);
	ks_rmutex_unlock(&s->r);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pid[i]);
	ok(all_ok, "children exited cleanly");
	is(s->counter, (long)CHILDREN * ROUNDS, "every recursive increment across processes counted");
	is(s->overlaps, 0, "mutual exclusion across processes");
	munmap(s, sizeof(*s));
}

struct rstress {
	struct ks_rmutex r;
	long a, b;
	atomic_int overlaps;
	atomic_int inside;
	atomic_long ops;
	int64_t end;
};

static void *rstress_main(void *arg)
{
	struct rstress *s = arg;
	unsigned seed = (unsigned)ks_self_tid();
	long ops = 0;

	while (tap_before(s->end)) {
		int depth = 1 + rand_r(&seed) % 4;
		int got = 0;

		for (int i = 0; i < depth; i++) {
			if (rand_r(&seed) % 2 ? ks_rmutex_lock(&s->r) == 0 :
			    ks_rmutex_lock_timeout(&s->r, 100 * KS_NSEC_PER_USEC) == 0)
				got++;
			else if (!got)
				break;
		}
		if (!got)
			continue;
		if (atomic_fetch_add_explicit(&s->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&s->overlaps, 1);
		s->a++;
		s->b++;
		atomic_fetch_sub_explicit(&s->inside, 1, memory_order_relaxed);
		while (got--)
			ks_rmutex_unlock(&s->r);
		ops++;
	}
	atomic_fetch_add(&s->ops, ops);
	return NULL;
}

static void test_stress(void)
{
	static struct rstress s = { .r = KS_RMUTEX_INIT };
	pthread_t t[6];

	tap_phase("rmutex stress");
	s.end = tap_deadline_in_ms(tap_stress_ms());
	for (int i = 0; i < 6; i++)
		t[i] = tap_thread(rstress_main, &s);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&s.ops) > 0, "rmutex stress: %ld recursive critical sections",
	   atomic_load(&s.ops));
	ok(s.a == s.b && s.a == atomic_load(&s.ops), "rmutex stress: counts consistent");
	is(atomic_load(&s.overlaps), 0, "rmutex stress: mutual exclusion");
	ok(atomic_load(&s.r.owner) == 0 && !ks_mutex_is_locked(&s.r.lock),
	   "rmutex stress: unowned at the end");
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_depth_limit();
	test_contention();
	test_no_syscalls();
	test_process_shared();
	test_stress();
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * ks_robust_mutex: the death of an owner (a SIGKILLed child, a child that _exits or execs, a
 * thread that returns) is noticed at once and reported as -EOWNERDEAD; consistent() and the
 * -ENOTRECOVERABLE state; the robust list shared with glibc's own robust mutexes (the same
 * thread taking both, in any order, and dying holding both); a head of ksync's own where
 * the C library registered none, across fork() too; 1000 rounds of kill-while-holding among
 * contending processes; and the usual: timeouts, signals and spurious wake-ups during the wait,
 * many waiters, zero futex calls uncontended, freed right after the last unlock.
 */
#include <ksync/cond.h>
#include <ksync/robust_mutex.h>
#include <sys/syscall.h>

#include "tap.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* The suite runs twice: for the futex kind (0), then for the PI kind (KS_PRIO_INHERIT). */
static unsigned kind;

static struct ks__robust_head *robust_head(void)
{
	struct ks__robust_head *h = NULL;
	size_t len;

	syscall(SYS_get_robust_list, 0, &h, &len);
	return h;
}

/*
 * The calling thread's robust list as the kernel will walk it: up to `max` entries into
 * `out`; -1 if it is not a well-formed circle (on 64-bit, `prev` links checked too).
 */
static int robust_walk(uintptr_t *out, int max)
{
	struct ks__robust_head *h = robust_head();
	uintptr_t prev = (uintptr_t)h, cur;
	int n = 0;

	if (!h)
		return -1;
	while ((cur = atomic_load(ks__robust_next_of(prev)) & ~KS__ROBUST_PI) != (uintptr_t)h) {
#if KS__ROBUST_DOUBLY_LINKED
		if (atomic_load((_Atomic uintptr_t *)(cur - sizeof(uintptr_t))) != prev)
			return -1;
#endif
		if (n == max)
			return -1;
		out[n++] = cur;
		prev = cur;
	}
#if KS__ROBUST_DOUBLY_LINKED
	if (atomic_load((_Atomic uintptr_t *)((uintptr_t)h - sizeof(uintptr_t))) != prev)
		return -1;
#endif
	return n;
}

static bool listed(const uintptr_t *list, int n, const void *entry)
{
	for (int i = 0; i < n; i++)
		if (list[i] == (uintptr_t)entry)
			return true;
	return false;
}

static int lock_call(void *m, int64_t timeout_ns)
{
	if (timeout_ns >= 0)
		return ks_robust_mutex_lock_timeout(m, timeout_ns);
	return ks_robust_mutex_lock(m);
}

/* The same, then repairs (if it must) and releases: what a well-behaved user does. */
static int lock_unlock_call(void *m, int64_t timeout_ns)
{
	int r = lock_call(m, timeout_ns);

	if (r == -EOWNERDEAD)
		ks_robust_mutex_consistent(m);
	if (r == 0 || r == -EOWNERDEAD)
		ks_robust_mutex_unlock(m);
	return r;
}

/* Takes the lock and returns (the thread exits holding it). */
static void *take_and_exit(void *m)
{
	return (void *)(intptr_t)ks_robust_mutex_lock(m);
}

static pid_t child_holding(struct ks_robust_mutex *m, atomic_int *ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (ks_robust_mutex_lock(m) != 0)
			_exit(1);
		atomic_store(ready, 1);
		for (;;)
			pause();
	}
	while (!atomic_load(ready))
		tap_sleep_ms(1);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- the contract --------------------------------------------------------------------------- */

static void test_basics(void)
{
	struct ks_robust_mutex m = KS_ROBUST_MUTEX_INIT, d;
	uintptr_t list[8];
	int n;

	tap_phase("basics");
	if (kind)
		ks_robust_mutex_init(&m, kind);
	is(ks_robust_mutex_lock(&m), 0, kind ? "KS_PRIO_INHERIT: lock" : "KS_ROBUST_MUTEX_INIT: lock");
	is(m.owner, ks_self_tid(), "the word holds the owner's tid");
	n = robust_walk(list, 8);
	ok(n >= 1 && listed(list, n, &m.entry.next), "held: linked into the thread's robust list");
	ok(robust_head() == ks__robust_self && robust_head()->pending == 0,
	   "ksync joined the list glibc registered; nothing left pending");
	is(ks_robust_mutex_trylock(&m), -EBUSY, "trylock on one's own lock: -EBUSY");
	is(ks_robust_mutex_lock(&m), -EDEADLK, "lock on one's own lock: -EDEADLK, not a hang");
	is(ks_robust_mutex_lock_timeout(&m, 0), -EDEADLK, "lock_timeout(0) on one's own: -EDEADLK");
	is(ks_robust_mutex_consistent(&m), -EINVAL, "consistent on a consistent lock: -EINVAL");
	is(ks_robust_mutex_lock_timeout(&m, -1), -EINVAL, "negative timeout: -EINVAL");
	is(ks_robust_mutex_unlock(&m), 0, "unlock");
	is(m.owner, 0, "the word is 0 again");
	n = robust_walk(list, 8);
	ok(n >= 0 && !listed(list, n, &m.entry.next), "released: out of the list, list well formed");
	is(ks_robust_mutex_unlock(&m), -EPERM, "unlock of a free lock: -EPERM");
	is(ks_robust_mutex_consistent(&m), -EPERM, "consistent on a lock one does not hold: -EPERM");
	is(ks_robust_mutex_trylock(&m), 0, "trylock on a free lock");
	is(ks_robust_mutex_unlock(&m), 0, "unlock after trylock");
	is(ks_robust_mutex_lock_timeout(&m, 0), 0, "lock_timeout(0) on a free lock");
	is(ks_robust_mutex_unlock(&m), 0, "unlock after lock_timeout(0)");
	is(ks_robust_mutex_lock_timeout(&m, INT64_MAX), 0, "an enormous timeout is accepted");
	is(ks_robust_mutex_unlock(&m), 0, "unlock after it");

	is(ks_robust_mutex_init(&d, 0x80), -EINVAL, "init with an unknown flag: -EINVAL");
	is(ks_robust_mutex_init(&d, KS_SHARED), 0, "init KS_SHARED");
	is(ks_robust_mutex_lock(&d), 0, "and lock it");
	is(ks_robust_mutex_unlock(&d), 0, "and unlock it");
}

static void *unlock_other(void *m)
{
	return (void *)(intptr_t)ks_robust_mutex_unlock(m);
}

static void test_threads(void)
{
	struct ks_robust_mutex m;
	struct tap_waiter w;
	pthread_t t;
	void *ret;

	tap_phase("other threads");
	ks_robust_mutex_init(&m, kind);
	ks_robust_mutex_lock(&m);
	t = tap_thread(unlock_other, &m);
	pthread_join(t, &ret);
	is((intptr_t)ret, -EPERM, "another thread may not unlock it: -EPERM");
	is(m.owner, ks_self_tid(), "... and the owner still holds it");
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	ok(tap_waiter_asleep(&w), "a waiter sleeps in the kernel");
	ok(m.owner & KS_FUTEX_WAITERS, "... with WAITERS set in the word");
	ks_robust_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "the waiter got it after the release, and released it");
	is(m.owner, 0, "free again, WAITERS cleared");

	tap_phase("timeouts");
	ks_robust_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_call, &m, 100 * KS_NSEC_PER_MSEC);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "lock_timeout(100 ms) on a held lock: -ETIMEDOUT");
	tap_timeout_ok(w.took_ns, 100 * KS_NSEC_PER_MSEC, "lock_timeout");
	is(ks_robust_mutex_trylock(&m), -EBUSY, "still held by the owner after the timeout");
	t = tap_waiter_start(&w, lock_call, &m, 0);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "lock_timeout(0) on another's lock: -ETIMEDOUT at once");
	t = tap_waiter_start(&w, lock_unlock_call, &m, 5 * KS_NSEC_PER_SEC);
	tap_sleep_ms(30);
	ks_robust_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "a timed waiter gets it when it is released before the deadline");
	ok(w.took_ns < 5 * KS_NSEC_PER_SEC, "... well before its deadline");
}

static void test_signals(void)
{
	struct ks_robust_mutex m;
	struct tap_storm storm;
	struct tap_waiter w;
	unsigned long before;
	pthread_t t;

	tap_phase("signals during lock");
	ks_robust_mutex_init(&m, kind);
	ks_robust_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	tap_waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(!atomic_load(&w.done), "signals do not make lock() return while the lock is held");
	ks_robust_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "lock() acquired after the signals and the release");
	/* counted after the join: ThreadSanitizer runs handlers once a sleep is over */
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);

	tap_phase("signals during lock_timeout");
	ks_robust_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_call, &m, 200 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "lock_timeout under a signal storm: -ETIMEDOUT, never -EINTR");
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "lock_timeout under signals");

	tap_phase("spurious wake-ups");
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&m.owner);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "spurious futex wakes do not hand out a held lock");
	ks_robust_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "the waiter acquires after the real release");

	ks_robust_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_call, &m, 150 * KS_NSEC_PER_MSEC);
	while (!atomic_load(&w.tid))
		tap_sleep_ms(1);
	for (int i = 0; i < 50; i++) {
		tap_futex_poke(&m.owner);
		tap_sleep_ms(2);
	}
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "a timed waiter poked spuriously still times out");
	tap_timeout_ok(w.took_ns, 150 * KS_NSEC_PER_MSEC, "lock_timeout with spurious wakes");
	ks_robust_mutex_unlock(&m);
}

/* ---- owners that die -------------------------------------------------------------------- */

static void test_thread_exit(void)
{
	struct ks_robust_mutex m;
	struct tap_waiter w;
	pthread_t t;
	void *ret;

	tap_phase("a thread exits holding it");
	ks_robust_mutex_init(&m, kind);
	t = tap_thread(take_and_exit, &m);
	pthread_join(t, &ret);
	is((intptr_t)ret, 0, "a thread took the lock and returned holding it");
	ok(m.owner & KS_FUTEX_OWNER_DIED, "the kernel marked the word OWNER_DIED at its exit");
	is(ks_robust_mutex_lock(&m), -EOWNERDEAD, "the next lock: -EOWNERDEAD, and held");
	is(m.owner & KS_FUTEX_TID_MASK, ks_self_tid(), "... by the caller");
	is(ks_robust_mutex_consistent(&m), 0, "consistent");
	is(ks_robust_mutex_consistent(&m), -EINVAL, "consistent twice: -EINVAL");
	is(ks_robust_mutex_unlock(&m), 0, "unlock after consistent");
	is(ks_robust_mutex_lock(&m), 0, "then normal use: lock");
	is(ks_robust_mutex_unlock(&m), 0, "... and unlock");

	tap_phase("an inconsistent owner dies too");
	t = tap_thread(take_and_exit, &m);
	pthread_join(t, NULL);
	t = tap_waiter_start(&w, lock_call, &m, -1);	/* takes it inconsistent, then exits */
	pthread_join(t, NULL);
	is(w.result, -EOWNERDEAD, "a second thread took it with -EOWNERDEAD and exited");
	is(ks_robust_mutex_lock(&m), -EOWNERDEAD, "the next locker is told again: -EOWNERDEAD");
	ks_robust_mutex_consistent(&m);
	ks_robust_mutex_unlock(&m);
}

/* A thread that takes the lock, says so, and returns holding it once told to. */
struct holder {
	struct ks_robust_mutex *m;
	atomic_int taken, go;
};

static void *hold_then_exit(void *arg)
{
	struct holder *h = arg;

	if (ks_robust_mutex_lock(h->m) == 0)
		atomic_store(&h->taken, 1);
	while (!atomic_load(&h->go))
		tap_sleep_ms(1);
	return NULL;
}

/*
 * Waiters asleep when the owner thread exits. The lock is process-private: the kernel wakes a
 * waiter with a shared FUTEX_WAKE when the owner dies, so one asleep on a private futex would
 * sleep on (until its timeout).
 */
static void test_waiters_at_death(void)
{
	struct ks_robust_mutex m;
	struct holder h = { .m = &m };
	struct tap_waiter w[3];
	pthread_t t, tw[3];
	int dead = 0, zero = 0;
	int64_t slowest = 0;

	tap_phase("waiters asleep when the owner thread exits");
	ks_robust_mutex_init(&m, kind);
	t = tap_thread(hold_then_exit, &h);
	while (!atomic_load(&h.taken))
		tap_sleep_ms(1);
	for (int i = 0; i < 3; i++) {
		tw[i] = tap_waiter_start(&w[i], lock_unlock_call, &m, 10 * KS_NSEC_PER_SEC);
		tap_waiter_asleep(&w[i]);
	}
	atomic_store(&h.go, 1);		/* the owner thread returns, holding the lock */
	pthread_join(t, NULL);
	for (int i = 0; i < 3; i++) {
		pthread_join(tw[i], NULL);
		dead += w[i].result == -EOWNERDEAD;
		zero += w[i].result == 0;
		slowest = w[i].took_ns > slowest ? w[i].took_ns : slowest;
	}
	is(dead, 1, "exactly one waiter was told -EOWNERDEAD (it repaired and released)");
	is(zero, 2, "the others got the lock in turn with 0");
	ok(slowest < 5 * KS_NSEC_PER_SEC, "none waited for its timeout (a private futex would)");
	is(m.owner, 0, "free at the end");
}

/* A thread blocked in lock() that notes when it returned (the tap_waiter notes how long). */
struct timed_locker {
	struct ks_robust_mutex *m;
	atomic_int tid;
	int result;
	int64_t returned_ns;
};

static void *timed_locker_main(void *arg)
{
	struct timed_locker *l = arg;

	atomic_store(&l->tid, (int)syscall(SYS_gettid));
	l->result = ks_robust_mutex_lock(l->m);
	l->returned_ns = tap_now_ns();
	return NULL;
}

static void test_process_death(void)
{
	struct shared {
		struct ks_robust_mutex m;
		atomic_int ready;
	} *s = tap_shared_alloc(sizeof(*s));
	struct timed_locker l = { .m = &s->m };
	int64_t killed;
	pthread_t t;
	pid_t pid;

	tap_phase("a child is SIGKILLed holding it");
	ks_robust_mutex_init(&s->m, KS_SHARED | kind);
	pid = child_holding(&s->m, &s->ready);
	is(s->m.owner, pid, "the child holds it (its tid in the word)");
	t = tap_thread(timed_locker_main, &l);
	while (!atomic_load(&l.tid))
		tap_sleep_ms(1);
	ok(tap_wait_asleep(atomic_load(&l.tid), 5000), "the parent's lock() sleeps behind it");
	killed = tap_now_ns();
	kill(pid, SIGKILL);
	pthread_join(t, NULL);
	waitpid(pid, NULL, 0);
	is(l.result, -EOWNERDEAD, "the parent's lock() returns -EOWNERDEAD");
	ok(l.returned_ns - killed < 100 * KS_NSEC_PER_MSEC, "... within 100 ms of the kill "
	   "(%.3f ms)", (l.returned_ns - killed) / 1e6);
	is(ks_robust_mutex_unlock(&s->m), -EPERM, "(the waiter thread holds it, not main)");
	/* the waiter thread exited holding it inconsistent: the next locker is told again */
	is(ks_robust_mutex_lock(&s->m), -EOWNERDEAD, "and its thread's exit is noticed as well");
	is(ks_robust_mutex_consistent(&s->m), 0, "consistent");
	is(ks_robust_mutex_unlock(&s->m), 0, "unlock");

	tap_phase("a child _exits holding it");
	pid = fork();
	if (pid == 0) {
		ks_robust_mutex_lock(&s->m);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	is(ks_robust_mutex_trylock(&s->m), -EOWNERDEAD, "trylock after the child's _exit: "
	   "-EOWNERDEAD");
	is(ks_robust_mutex_consistent(&s->m), 0, "consistent");
	is(ks_robust_mutex_unlock(&s->m), 0, "unlock");

	tap_phase("a child execs holding it");
	s->ready = 0;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)"sleep", (char *)"30", NULL };

		ks_robust_mutex_lock(&s->m);
		atomic_store(&s->ready, 1);
		execvp("sleep", argv);
		_exit(127);
	}
	while (!atomic_load(&s->ready))
		tap_sleep_ms(1);
	/* exec drops the old image's robust list: the lock is marked before the new image runs */
	is(ks_robust_mutex_lock_timeout(&s->m, 5 * KS_NSEC_PER_SEC), -EOWNERDEAD,
	   "a child that execs while holding it counts as dead: -EOWNERDEAD");
	kill_and_reap(pid);
	ks_robust_mutex_consistent(&s->m);
	ks_robust_mutex_unlock(&s->m);
	munmap(s, sizeof(*s));
}

/*
 * One lock seen at two addresses, as by unrelated processes that map one shared memory object:
 * the owner's list links hold its own addresses, which nobody else follows.
 */
static void test_two_mappings(void)
{
	int fd = memfd_create("ks-robust", 0);
	struct ks_robust_mutex *a, *b;
	struct tap_waiter w;
	pthread_t t;

	tap_phase("one lock at two addresses");
	if (fd < 0 || ftruncate(fd, 4096)) {
		tap_skip(3, "memfd_create is not available");
		return;
	}
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ks_robust_mutex_init(a, KS_SHARED | kind);
	t = tap_thread(take_and_exit, b);	/* takes it through b, exits holding it */
	pthread_join(t, NULL);
	is(ks_robust_mutex_lock(a), -EOWNERDEAD, "taken and left by a dead thread at one address, "
	   "told -EOWNERDEAD at the other");
	ks_robust_mutex_consistent(a);
	t = tap_waiter_start(&w, lock_unlock_call, b, 5 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w);
	is(ks_robust_mutex_unlock(a), 0, "unlock at one address");
	pthread_join(t, NULL);
	is(w.result, 0, "wakes the waiter at the other");
	munmap(a, 4096);
	munmap(b, 4096);
}

static void test_not_recoverable(void)
{
	struct shared {
		struct ks_robust_mutex m;
		atomic_int ready;
	} *s = tap_shared_alloc(sizeof(*s));
	struct tap_waiter w[2];
	pthread_t t[2];
	pid_t pid;

	tap_phase("not recoverable");
	ks_robust_mutex_init(&s->m, KS_SHARED | kind);
	pid = child_holding(&s->m, &s->ready);
	kill_and_reap(pid);
	is(ks_robust_mutex_lock(&s->m), -EOWNERDEAD, "the dead child's lock: -EOWNERDEAD");
	for (int i = 0; i < 2; i++) {
		t[i] = tap_waiter_start(&w[i], lock_call, &s->m, 10 * KS_NSEC_PER_SEC);
		tap_waiter_asleep(&w[i]);
	}
	is(ks_robust_mutex_unlock(&s->m), 0, "unlock without consistent");
	if (kind)
		is(s->m.lost, 1, "`lost` is set (the kernel hands the lock on to each waiter)");
	else
		is(s->m.owner, KS_ROBUST_NOTRECOVERABLE, "the word is NOTRECOVERABLE");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		is(w[i].result, -ENOTRECOVERABLE, "a waiter asleep then: -ENOTRECOVERABLE");
	}
	is(ks_robust_mutex_lock(&s->m), -ENOTRECOVERABLE, "lock: -ENOTRECOVERABLE");
	is(ks_robust_mutex_trylock(&s->m), -ENOTRECOVERABLE, "trylock: -ENOTRECOVERABLE");
	is(ks_robust_mutex_lock_timeout(&s->m, KS_NSEC_PER_MSEC), -ENOTRECOVERABLE,
	   "lock_timeout: -ENOTRECOVERABLE");
	is(ks_robust_mutex_unlock(&s->m), -EPERM, "unlock: -EPERM (nobody holds it)");
	is(ks_robust_mutex_consistent(&s->m), -EPERM, "consistent: -EPERM");
	pid = fork();
	if (pid == 0)
		_exit(ks_robust_mutex_lock(&s->m) == -ENOTRECOVERABLE ? 0 : 1);
	ok(tap_wait_child(pid), "another process: -ENOTRECOVERABLE too");
	ks_robust_mutex_init(&s->m, KS_SHARED | kind);
	is(ks_robust_mutex_lock(&s->m), 0, "init again makes it usable");
	ks_robust_mutex_unlock(&s->m);
	munmap(s, sizeof(*s));
}

/* ---- condition waits ---------------------------------------------------------------------- */

struct cond_case {
	struct ks_robust_mutex m;
	struct ks_cond c;
	int go;				/* under m */
	atomic_int waiting;
	int result;			/* of the wait */
	int held_after;			/* unlock's result after the wait: 0 if it was held */
	bool event;			/* wait with ks_cond_wait_event() */
};

static void *cond_waiter(void *arg)
{
	struct cond_case *k = arg;
	int r = ks_robust_mutex_lock(&k->m);

	if (r == -EOWNERDEAD)
		ks_robust_mutex_consistent(&k->m);
	atomic_store(&k->waiting, 1);
	if (k->event)
		k->result = ks_cond_wait_event(&k->c, &k->m, k->go);
	else
		while (!k->go && !k->result)
			k->result = ks_cond_wait(&k->c, &k->m);
	if (k->result == -EOWNERDEAD)
		ks_robust_mutex_consistent(&k->m);
	k->held_after = ks_robust_mutex_unlock(&k->m);
	return NULL;
}

/* Takes the lock, sets go, signals, and returns without unlocking (or unlocks if `unlock`). */
static void *cond_signaller(void *arg)
{
	struct cond_case *k = arg;
	int r = ks_robust_mutex_lock(&k->m);

	k->go = 1;
	ks_cond_signal(&k->c);
	if (r == -EOWNERDEAD)		/* released inconsistent: made not recoverable */
		ks_robust_mutex_unlock(&k->m);
	return NULL;
}

static pthread_t cond_start(struct cond_case *k, bool event)
{
	pthread_t t;

	memset(k, 0, sizeof(*k));
	ks_robust_mutex_init(&k->m, kind);
	ks_cond_init(&k->c, 0);
	k->event = event;
	t = tap_thread(cond_waiter, k);
	while (!atomic_load(&k->waiting))
		tap_sleep_ms(1);
	ks_robust_mutex_lock(&k->m);	/* the waiter is inside the wait once we get it */
	ks_robust_mutex_unlock(&k->m);
	return t;
}

static void test_cond(void)
{
	struct cond_case k;
	struct timespec past = { 0, 0 };
	pthread_t t, s;

	tap_phase("condition waits");
	t = cond_start(&k, false);
	ks_robust_mutex_lock(&k.m);
	k.go = 1;
	ks_cond_signal(&k.c);
	ks_robust_mutex_unlock(&k.m);
	pthread_join(t, NULL);
	ok(k.result == 0 && k.held_after == 0, "ks_cond_wait() with a robust mutex: 0, held after");

	ks_robust_mutex_lock(&k.m);
	is(ks_cond_wait_timeout(&k.c, &k.m, 30 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "ks_cond_wait_timeout(): -ETIMEDOUT");
	is(ks_cond_wait_until(&k.c, &k.m, CLOCK_REALTIME, &past), -ETIMEDOUT,
	   "ks_cond_wait_until(CLOCK_REALTIME, in the past): -ETIMEDOUT");
	is(ks_cond_wait_timeout(&k.c, &k.m, -1), -EINVAL, "a negative timeout: -EINVAL");
	is(ks_robust_mutex_unlock(&k.m), 0, "... the mutex held again after each");
	is(ks_cond_wait(&k.c, &k.m), -EPERM, "a wait without the mutex: -EPERM");

	t = cond_start(&k, false);
	s = tap_thread(cond_signaller, &k);	/* signals, then exits holding the mutex */
	pthread_join(s, NULL);
	pthread_join(t, NULL);
	is(k.result, -EOWNERDEAD, "the signaller died holding the mutex: the wait returns "
	   "-EOWNERDEAD");
	is(k.held_after, 0, "... with the mutex held");

	t = cond_start(&k, true);
	s = tap_thread(cond_signaller, &k);
	pthread_join(s, NULL);
	pthread_join(t, NULL);
	ok(k.result == -EOWNERDEAD && k.held_after == 0,
	   "ks_cond_wait_event() stops at -EOWNERDEAD, the mutex held");

	/* the signaller takes it from a dead owner and unlocks it inconsistent */
	t = cond_start(&k, false);
	s = tap_thread(take_and_exit, &k.m);
	pthread_join(s, NULL);
	s = tap_thread(cond_signaller, &k);
	pthread_join(s, NULL);
	pthread_join(t, NULL);
	is(k.result, -ENOTRECOVERABLE, "made not recoverable meanwhile: -ENOTRECOVERABLE");
	is(k.held_after, -EPERM, "... and the mutex is not held");
}

static void test_cond_processes(void)
{
	struct cond_case *k = tap_shared_alloc(sizeof(*k));
	pthread_t t;
	pid_t pid;

	tap_phase("condition waits between processes");
	memset(k, 0, sizeof(*k));
	ks_robust_mutex_init(&k->m, KS_SHARED | kind);
	ks_cond_init(&k->c, KS_SHARED);
	t = tap_thread(cond_waiter, k);
	while (!atomic_load(&k->waiting))
		tap_sleep_ms(1);
	pid = fork();
	if (pid == 0) {
		ks_robust_mutex_lock(&k->m);
		k->go = 1;
		ks_cond_signal(&k->c);
		_exit(0);		/* holding the mutex */
	}
	waitpid(pid, NULL, 0);
	pthread_join(t, NULL);
	ok(k->result == -EOWNERDEAD && k->held_after == 0, "a process signals and dies holding "
	   "the mutex: the waiter in another returns -EOWNERDEAD, the mutex held");
	munmap(k, sizeof(*k));
}

/* ---- living beside glibc's robust mutexes ------------------------------------------------ */

#define MIXED 4

struct mixed {
	pthread_mutex_t g[MIXED];		/* glibc's robust mutexes */
	struct ks_robust_mutex k[MIXED];
	bool held_g[MIXED], held_k[MIXED];
	unsigned seed;
	int bad;
};

/* One random lock or unlock of either kind, then the kernel's view of the list checked. */
static void mixed_step(struct mixed *x)
{
	int i = rand_r(&x->seed) % MIXED;
	uintptr_t list[2 * MIXED + 8];
	int n, want = 0;

	if (rand_r(&x->seed) % 2) {
		/* glibc's mutexes in index order (ThreadSanitizer reports any other order) */
		for (int j = MIXED - 1; j > i && !x->held_g[i]; j--)
			if (x->held_g[j])
				i = j;
		if (x->held_g[i])
			x->bad += pthread_mutex_unlock(&x->g[i]) != 0;
		else
			x->bad += pthread_mutex_lock(&x->g[i]) != 0;
		x->held_g[i] = !x->held_g[i];
	} else {
		if (x->held_k[i])
			x->bad += ks_robust_mutex_unlock(&x->k[i]) != 0;
		else
			x->bad += ks_robust_mutex_lock(&x->k[i]) != 0;
		x->held_k[i] = !x->held_k[i];
	}
	n = robust_walk(list, 2 * MIXED + 8);
	for (int j = 0; j < MIXED; j++) {
		want += x->held_g[j] + x->held_k[j];
#ifdef __GLIBC__
		x->bad += x->held_g[j] != listed(list, n, &x->g[j].__data.__list.__next);
#endif
		x->bad += x->held_k[j] != listed(list, n, &x->k[j].entry.next);
	}
	x->bad += n != want;
}

static void *mixed_then_exit(void *arg)
{
	struct mixed *x = arg;

	for (int i = 0; i < 200; i++)
		mixed_step(x);
	return NULL;
}

static void test_beside_glibc(void)
{
	static struct mixed x;
	pthread_mutexattr_t a;
	int ok_g = 0, ok_k = 0;
	pthread_t t;

	tap_phase("beside glibc's robust mutexes");
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	for (int i = 0; i < MIXED; i++) {
		pthread_mutex_init(&x.g[i], &a);
		ks_robust_mutex_init(&x.k[i], i % 2 ? kind : 0);
	}
	x.seed = 12345;
	for (int i = 0; i < 2000; i++)
		mixed_step(&x);
	for (int i = 0; i < MIXED; i++) {
		if (x.held_g[i])
			pthread_mutex_unlock(&x.g[i]);
		if (x.held_k[i])
			ks_robust_mutex_unlock(&x.k[i]);
		x.held_g[i] = x.held_k[i] = false;
	}
	is(x.bad, 0, "2000 random locks and unlocks of both kinds in one thread: the kernel's "
	   "list held exactly the locks held, links intact");

	for (int round = 0; round < 20; round++) {
		t = tap_thread(mixed_then_exit, &x);
		pthread_join(t, NULL);
		for (int i = 0; i < MIXED; i++) {
			int rg = pthread_mutex_trylock(&x.g[i]);
			int rk = ks_robust_mutex_trylock(&x.k[i]);

			ok_g += x.held_g[i] ? rg == EOWNERDEAD : rg == 0;
			ok_k += x.held_k[i] ? rk == -EOWNERDEAD : rk == 0;
			if (rg == EOWNERDEAD)
				pthread_mutex_consistent(&x.g[i]);
			if (rk == -EOWNERDEAD)
				ks_robust_mutex_consistent(&x.k[i]);
			pthread_mutex_unlock(&x.g[i]);
			ks_robust_mutex_unlock(&x.k[i]);
			x.held_g[i] = x.held_k[i] = false;
		}
	}
	is(x.bad, 0, "20 threads did 200 random steps each, the list intact after each");
	is(ok_g, 20 * MIXED, "each glibc mutex held at the thread's exit: EOWNERDEAD, others 0");
	is(ok_k, 20 * MIXED, "each ksync mutex held at the thread's exit: -EOWNERDEAD, others 0");
	pthread_mutexattr_destroy(&a);
}

/* A thread whose head was removed gets ksync's own; its fork()ed child registers it again. */
static void *own_head_main(void *arg)
{
	struct ks_robust_mutex *m = arg;
	int r[4] = { 0 };
	pid_t pid;

	syscall(SYS_set_robust_list, NULL, sizeof(struct ks__robust_head));
	r[0] = robust_head() == NULL;
	r[1] = ks_robust_mutex_lock(&m[0]) == 0 && robust_head() == ks__robust_self &&
	       robust_head() != NULL;
	pid = fork();
	if (pid == 0) {
		/* the child's kernel forgot every head: ksync's atfork handler set ours again */
		_exit(robust_head() == ks__robust_self && ks_robust_mutex_lock(&m[1]) == 0 ? 0 : 1);
	}
	r[2] = tap_wait_child(pid);
	r[3] = ks_robust_mutex_unlock(&m[0]) == 0 && ks_robust_mutex_lock(&m[2]) == 0;
	return (void *)(intptr_t)(r[0] && r[1] && r[2] && r[3]);	/* exits holding m[2] */
}

static void test_own_head(void)
{
	struct ks_robust_mutex *m = tap_shared_alloc(3 * sizeof(*m));
	pthread_t t;
	void *ret;

	tap_phase("a thread without a robust list");
	for (int i = 0; i < 3; i++)
		ks_robust_mutex_init(&m[i], KS_SHARED);
	t = tap_thread(own_head_main, m);
	pthread_join(t, &ret);
	ok((intptr_t)ret, "a thread with no head gets ksync's own, and its child after fork()");
	is(ks_robust_mutex_trylock(&m[1]), -EOWNERDEAD, "the child's death was noticed");
	is(ks_robust_mutex_trylock(&m[2]), -EOWNERDEAD, "the thread's exit was noticed");
	is(ks_robust_mutex_trylock(&m[0]), 0, "the lock it released is free");
	for (int i = 0; i < 3; i++) {
		ks_robust_mutex_consistent(&m[i]);
		ks_robust_mutex_unlock(&m[i]);	/* never free a lock still listed */
	}
	munmap(m, 3 * sizeof(*m));
}

static void test_fork(void)
{
	struct ks_robust_mutex *m = tap_shared_alloc(2 * sizeof(*m));
	pid_t pid;

	tap_phase("fork while holding");
	ks_robust_mutex_init(&m[0], KS_SHARED);
	ks_robust_mutex_init(&m[1], KS_SHARED);
	ks_robust_mutex_lock(&m[0]);
	pid = fork();
	if (pid == 0) {
		bool good = ks_robust_mutex_trylock(&m[0]) == -EBUSY &&
			    ks_robust_mutex_unlock(&m[0]) == -EPERM &&
			    ks_robust_mutex_lock(&m[1]) == 0;

		_exit(good ? 0 : 1);	/* dies holding m[1] */
	}
	ok(tap_wait_child(pid), "the child does not own its parent's lock (-EBUSY, -EPERM) and "
	   "takes its own");
	is(ks_robust_mutex_trylock(&m[1]), -EOWNERDEAD, "the child's death holding it is noticed");
	is(ks_robust_mutex_unlock(&m[0]), 0, "the parent still holds and releases its own");
	ks_robust_mutex_consistent(&m[1]);
	ks_robust_mutex_unlock(&m[1]);
	munmap(m, 2 * sizeof(*m));
}

/* ---- many, shared, free, syscalls ----------------------------------------------------------- */

#define MANY 100
#define MANY_ROUNDS 100

struct many {
	struct ks_robust_mutex m;
	long counter;
	atomic_int inside, overlaps, errors;
};

static void *many_main(void *arg)
{
	struct many *s = arg;

	for (int i = 0; i < MANY_ROUNDS; i++) {
		if (ks_robust_mutex_lock(&s->m)) {
			atomic_fetch_add(&s->errors, 1);
			continue;
		}
		if (atomic_fetch_add_explicit(&s->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&s->overlaps, 1);
		s->counter++;
		atomic_fetch_sub_explicit(&s->inside, 1, memory_order_relaxed);
		ks_robust_mutex_unlock(&s->m);
	}
	return NULL;
}

static void test_many_waiters(void)
{
	static struct many s;
	pthread_t t[MANY];

	tap_phase("many waiters");
	memset(&s, 0, sizeof(s));
	ks_robust_mutex_init(&s.m, kind);
	ks_robust_mutex_lock(&s.m);
	for (int i = 0; i < MANY; i++)
		t[i] = tap_thread(many_main, &s);
	tap_sleep_ms(50);
	is(s.counter, 0, "%d threads wait behind the held lock", MANY);
	ks_robust_mutex_unlock(&s.m);
	for (int i = 0; i < MANY; i++)
		pthread_join(t[i], NULL);
	is(s.counter, (long)MANY * MANY_ROUNDS, "every increment of %d threads counted", MANY);
	is(atomic_load(&s.overlaps) + atomic_load(&s.errors), 0, "never two inside, no error");
	is(s.m.owner, 0, "free at the end, WAITERS cleared");
}

static void test_no_syscalls(void)
{
	struct ks_robust_mutex m;
	unsigned long before;

	tap_phase("no syscalls");
	ks_robust_mutex_init(&m, kind);
	ks_robust_mutex_lock(&m);	/* the first lock of a thread looks its head up */
	ks_robust_mutex_unlock(&m);
	before = ks_futex_calls();
	for (int i = 0; i < 1000; i++) {
		ks_robust_mutex_lock(&m);
		ks_robust_mutex_unlock(&m);
		ks_robust_mutex_trylock(&m);
		ks_robust_mutex_trylock(&m);	/* -EBUSY */
		ks_robust_mutex_unlock(&m);
		ks_robust_mutex_lock_timeout(&m, KS_NSEC_PER_SEC);
		ks_robust_mutex_unlock(&m);
		ks_robust_mutex_unlock(&m);	/* -EPERM */
	}
	is(ks_futex_calls() - before, 0, "uncontended lock/trylock/timeout/unlock: 0 futex calls");
}

static void test_process_shared(void)
{
	struct shared {
		struct ks_robust_mutex m;
		long counter;
		int inside, overlaps, errors;
	} *s = tap_shared_alloc(sizeof(*s));
	enum { CHILDREN = 4, ROUNDS = 10000 };
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	ks_robust_mutex_init(&s->m, KS_SHARED | kind);
	ks_robust_mutex_lock(&s->m);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				if (ks_robust_mutex_lock(&s->m)) {
					s->errors++;	/* under no lock: makes counter wrong too */
					continue;
				}
				if (s->inside++)
					s->overlaps++;
				s->counter++;
				s->inside--;
				ks_robust_mutex_unlock(&s->m);
			}
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	is(s->counter, 0, "children block on a lock the parent holds");
	ks_robust_mutex_unlock(&s->m);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "all children exited cleanly");
	is(s->counter, (long)CHILDREN * ROUNDS, "%d processes x %d increments, none lost",
	   CHILDREN, ROUNDS);
	is(s->overlaps + s->errors, 0, "mutual exclusion across processes, no error");
	munmap(s, sizeof(*s));
}

/* glibc bug 13690: nothing touches the lock after the release that lets the next owner in. */
struct uaf {
	struct ks_robust_mutex m;
	long payload[8];
};

struct uaf_slot {
	struct uaf *_Atomic obj;
	atomic_bool stop;
	atomic_long rounds;
};

static void *uaf_freer(void *arg)
{
	struct uaf_slot *slot = arg;

	while (!atomic_load(&slot->stop)) {
		struct uaf *o = atomic_load(&slot->obj);

		if (!o)
			continue;
		ks_robust_mutex_lock(&o->m);	/* blocks until the main thread's unlock */
		ks_robust_mutex_unlock(&o->m);
		atomic_store(&slot->obj, NULL);
		free(o);
		atomic_fetch_add(&slot->rounds, 1);
	}
	return NULL;
}

static void test_free_after_unlock(void)
{
	struct uaf_slot slot = { .obj = NULL };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	pthread_t t;

	tap_phase("free after unlock (glibc 13690)");
	t = tap_thread(uaf_freer, &slot);
	while (tap_before(end)) {
		struct uaf *o = calloc(1, sizeof(*o));

		ks_robust_mutex_init(&o->m, kind);
		ks_robust_mutex_lock(&o->m);
		atomic_store(&slot.obj, o);
		for (int spin = 0; spin < 200; spin++)
			ks_cpu_relax();		/* let the freer reach the contended path */
		ks_robust_mutex_unlock(&o->m);
		while (atomic_load(&slot.obj))
			;
	}
	atomic_store(&slot.stop, true);
	pthread_join(t, NULL);
	ok(atomic_load(&slot.rounds) > 0, "%ld locks freed by the next owner right after unlock",
	   atomic_load(&slot.rounds));
}

/* ---- kill while holding, many times ------------------------------------------------------- */

/*
 * Worker processes contend for the lock; the parent SIGKILLs whichever holds it (the tid in the
 * word), at random moments, and starts a new worker in its slot. The critical section moves
 * `seq` one step ahead of `copy` and then copies it back, so a holder killed in between leaves
 * them one apart: a locker told -EOWNERDEAD must find them equal or one apart, and repairs them;
 * any other locker must find them equal. Anything else means two holders at once, or a death
 * that went unnoticed. A worker raises its slot's `holding` flag once it holds the lock and
 * lowers it before it unlocks, so a kill that finds the flag up surely killed a holder.
 */
enum { STORM_WORKERS = 3 };

struct storm {
	struct ks_robust_mutex m;
	uint64_t seq, copy, recoveries, torn;	/* under the lock */
	atomic_int holding[STORM_WORKERS];
	atomic_uint violations, errors;
	atomic_int stop;
};

static void storm_worker(struct storm *s, int slot)
{
	unsigned seed = (unsigned)getpid();

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		int r = rand_r(&seed) % 4 ? ks_robust_mutex_lock(&s->m) :
			ks_robust_mutex_lock_timeout(&s->m, (rand_r(&seed) % 200) *
						     KS_NSEC_PER_USEC);

		if (r == -ETIMEDOUT)
			continue;
		if (r == -EOWNERDEAD) {
			if (s->seq != s->copy && s->seq != s->copy + 1)
				atomic_fetch_add(&s->violations, 1);
			s->torn += s->seq != s->copy;
			s->copy = s->seq;
			s->recoveries++;
			ks_robust_mutex_consistent(&s->m);
		} else if (r) {
			atomic_fetch_add(&s->errors, 1);
			_exit(1);
		} else if (s->seq != s->copy) {
			atomic_fetch_add(&s->violations, 1);
		}
		atomic_store(&s->holding[slot], 1);
		s->seq++;
		for (int i = rand_r(&seed) % 2000; i > 0; i--)
			ks_cpu_relax();
		s->copy = s->seq;
		atomic_store(&s->holding[slot], 0);
		ks_robust_mutex_unlock(&s->m);
	}
	_exit(0);
}

static pid_t storm_spawn(struct storm *s, int slot)
{
	pid_t pid = fork();

	if (pid == 0)
		storm_worker(s, slot);
	return pid;
}

static void test_kill_storm(void)
{
	struct storm *s = tap_shared_alloc(sizeof(*s));
	const char *env = getenv("KS_ROBUST_KILLS");
	long want = env && atol(env) > 0 ? atol(env) : 1000, kills = 0, holding = 0;
	int64_t t0 = tap_now_ns(), end = tap_deadline_in_ms(env ? 24 * 3600 * 1000LL :
							    5 * tap_stress_ms());
	unsigned seed = 42;
	pid_t pids[STORM_WORKERS];
	int r, stuck = 0;

	tap_phase("kill while holding, many rounds");
	ks_robust_mutex_init(&s->m, KS_SHARED | kind);
	for (int i = 0; i < STORM_WORKERS; i++)
		pids[i] = storm_spawn(s, i);
	while (holding < want && tap_before(end)) {
		uint32_t owner = atomic_load(&s->m.owner) & KS_FUTEX_TID_MASK;

		for (int i = 0; i < STORM_WORKERS; i++) {
			if (pids[i] != (pid_t)owner)
				continue;
			kill_and_reap(pids[i]);
			kills++;
			holding += atomic_load(&s->holding[i]);
			atomic_store(&s->holding[i], 0);
			pids[i] = storm_spawn(s, i);
		}
		if (rand_r(&seed) % 2)
			tap_sleep_ns((rand_r(&seed) % 500) * KS_NSEC_PER_USEC);
	}
	atomic_store(&s->stop, 1);
	end = tap_deadline_in_ms(5000);		/* a worker stuck on a lost death: fail, not hang */
	for (int left = STORM_WORKERS; left && tap_before(end); tap_sleep_ms(1)) {
		left = 0;
		for (int i = 0; i < STORM_WORKERS; i++) {
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i])
				pids[i] = 0;
			left += pids[i] > 0;
		}
	}
	for (int i = 0; i < STORM_WORKERS; i++) {
		if (pids[i] > 0) {
			stuck++;
			kill_and_reap(pids[i]);
		}
	}
	is(stuck, 0, "every worker saw the stop and left");
	r = ks_robust_mutex_lock_timeout(&s->m, 2 * KS_NSEC_PER_SEC);
	ok(r == 0 || r == -EOWNERDEAD, "the parent takes the lock at the end (%d)", r);
	if (r == -EOWNERDEAD) {
		s->torn += s->seq != s->copy;
		s->copy = s->seq;
		s->recoveries++;
		ks_robust_mutex_consistent(&s->m);
	}
	diag("%ld kills (%ld surely of a holder) in %.1f s, %" PRIu64 " recoveries, %" PRIu64
	     " of them mid-update, %" PRIu64 " critical sections", kills, holding,
	     (tap_now_ns() - t0) / 1e9, s->recoveries, s->torn, s->seq);
	ok(holding == want || !env, "%ld of %ld kills of a holder%s", holding, want,
	   holding < want ? " (bounded by wall-clock time; KS_ROBUST_KILLS=n runs n)" : "");
	ok(holding > 0 && s->recoveries >= (uint64_t)holding,
	   "every kill of a holder was noticed and recovered");
	is(atomic_load(&s->violations), 0, "the protected pair was never seen torn but right after "
	   "a death (mutual exclusion and recovery held)");
	is(atomic_load(&s->errors), 0, "no locker got an unexpected error");
	is(s->seq, s->copy, "consistent at the end");
	ks_robust_mutex_unlock(&s->m);
	munmap(s, sizeof(*s));
}

int main(void)
{
	tap_start(300);
	for (int k = 0; k < 2; k++) {
		kind = k ? KS_PRIO_INHERIT : 0;
		diag("---- %s ----", kind ? "KS_PRIO_INHERIT: the word is a PI futex" :
			"the futex kind (waiters sleep in FUTEX_WAIT)");
		test_basics();
		test_threads();
		test_signals();
		test_thread_exit();
		test_waiters_at_death();
		test_process_death();
		test_two_mappings();
		test_not_recoverable();
		test_cond();
		test_cond_processes();
		test_beside_glibc();
		test_many_waiters();
		test_no_syscalls();
		test_process_shared();
		test_free_after_unlock();
		test_kill_storm();
	}
	test_own_head();
	test_fork();
	return tap_done();
}

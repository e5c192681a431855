// SPDX-License-Identifier: MIT
/*
 * ks_pi_mutex: the contract; the kernel's hand-off to a queued waiter; timeouts (and the
 * FUTEX_LOCK_PI fallback of kernels without FUTEX_LOCK_PI2, provoked with a seccomp filter);
 * signals and spurious wake-ups during the wait; many waiters; use between processes; an owner
 * that dies holding it (-ENOTRECOVERABLE, not a hang); zero futex calls uncontended; freed right
 * after the last unlock; and priority inversion under SCHED_FIFO, with ks_mutex as the control
 * that shows the inversion the PI locks prevent — ks_pi_mutex and a ks_robust_mutex made with
 * KS_PRIO_INHERIT (skipped where real-time scheduling is refused).
 */
#include <ksync/cond.h>
#include <ksync/mutex.h>
#include <ksync/pi_mutex.h>
#include <ksync/robust_mutex.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "tap.h"

static int lock_call(void *m, int64_t timeout_ns)
{
	if (timeout_ns >= 0)
		return ks_pi_mutex_lock_timeout(m, timeout_ns);
	return ks_pi_mutex_lock(m);
}

static int lock_unlock_call(void *m, int64_t timeout_ns)
{
	int r = lock_call(m, timeout_ns);

	if (!r)
		r = ks_pi_mutex_unlock(m);
	return r;
}

static void *unlock_other(void *m)
{
	return (void *)(intptr_t)ks_pi_mutex_unlock(m);
}

static void test_basics(void)
{
	struct ks_pi_mutex m = KS_PI_MUTEX_INIT, d;
	pthread_t t;
	void *ret;

	tap_phase("basics");
	ok(!ks_pi_mutex_is_locked(&m), "KS_PI_MUTEX_INIT is free");
	is(ks_pi_mutex_lock(&m), 0, "lock");
	is(m.owner, ks_self_tid(), "the word holds the owner's kernel tid");
	ok(ks_pi_mutex_is_locked(&m), "is_locked");
	ok(!ks_pi_mutex_trylock(&m), "trylock on a held lock fails");
	is(ks_pi_mutex_lock(&m), -EDEADLK, "lock by the owner: -EDEADLK, not a hang");
	is(ks_pi_mutex_lock_timeout(&m, KS_NSEC_PER_SEC), -EDEADLK, "lock_timeout by the owner too");
	is(ks_pi_mutex_lock_timeout(&m, 0), -EDEADLK, "and lock_timeout(0)");
	is(ks_pi_mutex_lock_timeout(&m, -1), -EINVAL, "negative timeout: -EINVAL");
	t = tap_thread(unlock_other, &m);
	pthread_join(t, &ret);
	is((intptr_t)ret, -EPERM, "another thread may not unlock it: -EPERM");
	is(ks_pi_mutex_unlock(&m), 0, "unlock");
	is(m.owner, 0, "the word is 0 again");
	is(ks_pi_mutex_unlock(&m), -EPERM, "unlock of a free lock: -EPERM");
	ok(ks_pi_mutex_trylock(&m), "trylock on a free lock");
	is(ks_pi_mutex_unlock(&m), 0, "unlock after trylock");
	is(ks_pi_mutex_lock_timeout(&m, 0), 0, "lock_timeout(0) on a free lock");
	is(ks_pi_mutex_unlock(&m), 0, "unlock after it");
	is(ks_pi_mutex_lock_timeout(&m, INT64_MAX), 0, "an enormous timeout is accepted");
	is(ks_pi_mutex_unlock(&m), 0, "unlock after it");
	is(ks_pi_mutex_init(&d, 0x80), -EINVAL, "init with an unknown flag: -EINVAL");
	is(ks_pi_mutex_init(&d, KS_SHARED), 0, "init KS_SHARED");
	ok(ks_pi_mutex_trylock(&d) && ks_pi_mutex_unlock(&d) == 0, "and use it");
}

static void test_handoff(void)
{
	struct ks_pi_mutex m = KS_PI_MUTEX_INIT;
	struct tap_waiter w;
	pthread_t t;

	tap_phase("hand-off");
	ks_pi_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	ok(tap_waiter_asleep(&w), "a waiter sleeps in the kernel");
	is(m.owner, ks_self_tid() | KS_FUTEX_WAITERS, "the kernel set WAITERS beside our tid");
	is(ks_pi_mutex_unlock(&m), 0, "unlock with a waiter queued (FUTEX_UNLOCK_PI)");
	pthread_join(t, NULL);
	is(w.result, 0, "the waiter was handed the lock, and released it");
	is(m.owner, 0, "free at the end");

	tap_phase("timeouts");
	ks_pi_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_call, &m, 100 * KS_NSEC_PER_MSEC);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "lock_timeout(100 ms) on a held lock: -ETIMEDOUT");
	tap_timeout_ok(w.took_ns, 100 * KS_NSEC_PER_MSEC, "lock_timeout");
	is(m.owner & KS_FUTEX_TID_MASK, ks_self_tid(), "the owner still holds it");
	t = tap_waiter_start(&w, lock_call, &m, 0);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "lock_timeout(0) on a held lock: -ETIMEDOUT at once");
	t = tap_waiter_start(&w, lock_unlock_call, &m, 5 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w);
	ks_pi_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "a timed waiter gets it when it is released before the deadline");
	ok(w.took_ns < 5 * KS_NSEC_PER_SEC, "... well before its deadline");
}

static void test_signals(void)
{
	struct ks_pi_mutex m = KS_PI_MUTEX_INIT;
	struct tap_storm storm;
	struct tap_waiter w;
	unsigned long before;
	pthread_t t;

	tap_phase("signals during lock");
	ks_pi_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	tap_waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(!atomic_load(&w.done), "signals do not make lock() return while the lock is held");
	ks_pi_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "lock() acquired after the signals and the release");
	/* counted after the join: ThreadSanitizer runs handlers once the sleep is over */
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);

	tap_phase("signals during lock_timeout");
	ks_pi_mutex_lock(&m);
	t = tap_waiter_start(&w, lock_call, &m, 200 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "lock_timeout under a signal storm: -ETIMEDOUT, never -EINTR");
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "lock_timeout under signals");

	tap_phase("spurious wake-ups");
	t = tap_waiter_start(&w, lock_unlock_call, &m, -1);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 100; i++)
		tap_futex_poke(&m.owner);	/* the kernel refuses FUTEX_WAKE on a PI futex */
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "FUTEX_WAKEs on the word do not hand out a held lock");
	ks_pi_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "the waiter acquires after the real release");
}

#define MANY 100
#define MANY_ROUNDS 100

struct many {
	struct ks_pi_mutex m;
	long counter;
	atomic_int inside, overlaps, errors;
};

static void *many_main(void *arg)
{
	struct many *s = arg;

	for (int i = 0; i < MANY_ROUNDS; i++) {
		if (ks_pi_mutex_lock(&s->m)) {
			atomic_fetch_add(&s->errors, 1);
			continue;
		}
		if (atomic_fetch_add_explicit(&s->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&s->overlaps, 1);
		s->counter++;
		atomic_fetch_sub_explicit(&s->inside, 1, memory_order_relaxed);
		if (ks_pi_mutex_unlock(&s->m))
			atomic_fetch_add(&s->errors, 1);
	}
	return NULL;
}

static void test_many_waiters(void)
{
	static struct many s = { KS_PI_MUTEX_INIT, 0, 0, 0, 0 };
	pthread_t t[MANY];

	tap_phase("many waiters");
	ks_pi_mutex_lock(&s.m);
	for (int i = 0; i < MANY; i++)
		t[i] = tap_thread(many_main, &s);
	tap_sleep_ms(50);
	is(s.counter, 0, "%d threads wait behind the held lock", MANY);
	ks_pi_mutex_unlock(&s.m);
	for (int i = 0; i < MANY; i++)
		pthread_join(t[i], NULL);
	is(s.counter, (long)MANY * MANY_ROUNDS, "every increment of %d threads counted", MANY);
	is(atomic_load(&s.overlaps) + atomic_load(&s.errors), 0, "never two inside, no error");
	is(s.m.owner, 0, "free at the end");
}

static void test_no_syscalls(void)
{
	struct ks_pi_mutex m = KS_PI_MUTEX_INIT;
	unsigned long before = ks_futex_calls();

	tap_phase("no syscalls");
	for (int i = 0; i < 1000; i++) {
		ks_pi_mutex_lock(&m);
		ks_pi_mutex_unlock(&m);
		ks_pi_mutex_trylock(&m);
		ks_pi_mutex_trylock(&m);
		ks_pi_mutex_unlock(&m);
		ks_pi_mutex_lock_timeout(&m, KS_NSEC_PER_SEC);
		ks_pi_mutex_lock(&m);		/* -EDEADLK, seen in user space */
		ks_pi_mutex_unlock(&m);
		ks_pi_mutex_unlock(&m);		/* -EPERM */
	}
	is(ks_futex_calls() - before, 0, "uncontended lock/trylock/timeout/unlock: 0 futex calls");
}

struct shared {
	struct ks_pi_mutex m;
	long counter;
	int inside, overlaps, errors;
	atomic_int ready;
};

/* A child that takes the lock and sleeps holding it, until it is killed. */
static pid_t child_holding(struct shared *s)
{
	pid_t pid;

	atomic_store(&s->ready, 0);
	pid = fork();
	if (pid == 0) {
		ks_pi_mutex_lock(&s->m);
		atomic_store(&s->ready, 1);
		for (;;)
			pause();
	}
	while (!atomic_load(&s->ready))
		tap_sleep_ms(1);
	return pid;
}

static void test_processes(void)
{
	struct shared *s = tap_shared_alloc(sizeof(*s));
	enum { CHILDREN = 4, ROUNDS = 5000 };
	pid_t pids[CHILDREN], pid;
	bool all_ok = true;
	struct tap_waiter w;
	pthread_t t;

	tap_phase("process-shared");
	ks_pi_mutex_init(&s->m, KS_SHARED);
	ks_pi_mutex_lock(&s->m);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				if (ks_pi_mutex_lock(&s->m)) {
					s->errors++;
					continue;
				}
				if (s->inside++)
					s->overlaps++;
				s->counter++;
				s->inside--;
				if (ks_pi_mutex_unlock(&s->m))
					s->errors++;
			}
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	is(s->counter, 0, "children block on a lock the parent holds");
	ks_pi_mutex_unlock(&s->m);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "all children exited cleanly");
	is(s->counter, (long)CHILDREN * ROUNDS, "%d processes x %d increments, none lost",
	   CHILDREN, ROUNDS);
	is(s->overlaps + s->errors, 0, "mutual exclusion across processes, no error");

	tap_phase("an owner dies holding it");
	pid = child_holding(s);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is(ks_pi_mutex_lock(&s->m), -ENOTRECOVERABLE,
	   "its owner was killed, nobody waiting: lock says -ENOTRECOVERABLE, not a hang");
	is(ks_pi_mutex_lock_timeout(&s->m, 10 * KS_NSEC_PER_SEC), -ENOTRECOVERABLE,
	   "lock_timeout too, at once");
	ok(!ks_pi_mutex_trylock(&s->m), "trylock fails");

	ks_pi_mutex_init(&s->m, KS_SHARED);
	pid = child_holding(s);
	t = tap_waiter_start(&w, lock_unlock_call, &s->m, 10 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pthread_join(t, NULL);
	is(w.result, 0, "with a waiter queued when the owner dies, the kernel hands it the lock");
	is(s->m.owner, 0, "which it released");
	munmap(s, sizeof(*s));
}

/* ---- condition waits ---------------------------------------------------------------------- */

struct cond_case {
	struct ks_pi_mutex m;
	struct ks_cond c;
	int go;				/* under m */
	atomic_int waiting;
	int result, held_after;
};

static void *cond_waiter(void *arg)
{
	struct cond_case *k = arg;

	ks_pi_mutex_lock(&k->m);
	atomic_store(&k->waiting, 1);
	while (!k->go && !k->result)
		k->result = ks_cond_wait(&k->c, &k->m);
	k->held_after = ks_pi_mutex_unlock(&k->m);
	return NULL;
}

static void test_cond(void)
{
	struct cond_case k;
	pthread_t t;

	tap_phase("condition waits");
	memset(&k, 0, sizeof(k));
	ks_pi_mutex_init(&k.m, 0);
	ks_cond_init(&k.c, 0);
	t = tap_thread(cond_waiter, &k);
	while (!atomic_load(&k.waiting))
		tap_sleep_ms(1);
	ks_pi_mutex_lock(&k.m);		/* the waiter is inside the wait once we get it */
	k.go = 1;
	ks_cond_signal(&k.c);
	ks_pi_mutex_unlock(&k.m);
	pthread_join(t, NULL);
	ok(k.result == 0 && k.held_after == 0, "ks_cond_wait() with a PI mutex: 0, held after");
	ks_pi_mutex_lock(&k.m);
	is(ks_cond_wait_timeout(&k.c, &k.m, 30 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "ks_cond_wait_timeout(): -ETIMEDOUT");
	is(ks_cond_wait_event_timeout(&k.c, &k.m, k.go == 2, 10 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "ks_cond_wait_event_timeout(): -ETIMEDOUT");
	is(ks_pi_mutex_unlock(&k.m), 0, "... the mutex held again after each");
	is(ks_cond_wait(&k.c, &k.m), -EPERM, "a wait without the mutex: -EPERM");
}

/* ---- kernels without FUTEX_LOCK_PI2 ---------------------------------------------------------- */

/* Makes FUTEX_LOCK_PI2 fail with ENOSYS in this process, as on a kernel older than 5.14. */
static bool forbid_lock_pi2(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, FUTEX_CMD_MASK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_LOCK_PI2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
	return false;
#endif
}

static void test_old_kernel(void)
{
	struct shared *s = tap_shared_alloc(sizeof(*s));
	pid_t pid;
	int st;

	tap_phase("a kernel without FUTEX_LOCK_PI2");
	ks_pi_mutex_init(&s->m, KS_SHARED);
	ks_pi_mutex_lock(&s->m);
	pid = fork();
	if (pid == 0) {
		uint32_t word = 0;
		int64_t t0;
		int code = 0;

		if (!forbid_lock_pi2())
			_exit(77);
		if (syscall(SYS_futex, &word, FUTEX_LOCK_PI2, 0, NULL, NULL, 0) == 0 ||
		    errno != ENOSYS)
			_exit(78);
		t0 = tap_now_ns();
		if (ks_pi_mutex_lock_timeout(&s->m, 100 * KS_NSEC_PER_MSEC) != -ETIMEDOUT)
			code |= 1;
		if (tap_now_ns() - t0 < 100 * KS_NSEC_PER_MSEC)
			code |= 2;
		atomic_store(&s->ready, 1);
		if (ks_pi_mutex_lock_timeout(&s->m, 10 * KS_NSEC_PER_SEC) != 0)
			code |= 4;
		if (ks_pi_mutex_unlock(&s->m) != 0)
			code |= 8;
		_exit(code);
	}
	while (!atomic_load(&s->ready))
		tap_sleep_ms(1);
	tap_sleep_ms(20);
	ks_pi_mutex_unlock(&s->m);
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) >= 77) {
		tap_skip(2, "no seccomp filter here to hide FUTEX_LOCK_PI2");
	} else {
		ok(WIFEXITED(st) && !(WEXITSTATUS(st) & 3),
		   "without FUTEX_LOCK_PI2 (seccomp: ENOSYS), lock_timeout times out, not early");
		ok(WIFEXITED(st) && !(WEXITSTATUS(st) & 12),
		   "... and a timed lock still gets the lock once released (status %d)", st);
	}
	munmap(s, sizeof(*s));
}

/* glibc bug 13690: nothing touches the lock after the release that lets the next owner in. */
struct uaf {
	struct ks_pi_mutex m;
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
		ks_pi_mutex_lock(&o->m);
		ks_pi_mutex_unlock(&o->m);
		atomic_store(&slot->obj, NULL);
		free(o);
		atomic_fetch_add(&slot->rounds, 1);
	}
	return NULL;
}

static void test_free_after_unlock(void)
{
	struct uaf_slot slot = { NULL, false, 0 };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	pthread_t t;

	tap_phase("free after unlock (glibc 13690)");
	t = tap_thread(uaf_freer, &slot);
	while (tap_before(end)) {
		struct uaf *o = calloc(1, sizeof(*o));

		ks_pi_mutex_init(&o->m, 0);
		ks_pi_mutex_lock(&o->m);
		atomic_store(&slot.obj, o);
		for (int spin = 0; spin < 200; spin++)
			ks_cpu_relax();
		ks_pi_mutex_unlock(&o->m);
		while (atomic_load(&slot.obj))
			;
	}
	atomic_store(&slot.stop, true);
	pthread_join(t, NULL);
	ok(atomic_load(&slot.rounds) > 0, "%ld locks freed by the next owner right after unlock",
	   atomic_load(&slot.rounds));
}

/* ---- priority inversion ---------------------------------------------------------------------- */

/*
 * Three SCHED_FIFO threads on one CPU. Low takes the lock and needs 30 ms of CPU to finish its
 * critical section; Medium, which wants no lock, spins for 300 ms; High then wants the lock.
 * Without priority inheritance, Medium outranks Low, so Low cannot finish and High waits for
 * Medium to end: the classic inversion (Mars Pathfinder, 1997). With it, Low runs at High's
 * priority while High waits, finishes, and High gets the lock while Medium still spins.
 */
enum inv_lock { INV_MUTEX, INV_PI, INV_ROBUST_PI };

struct inversion {
	struct ks_mutex plain;
	struct ks_pi_mutex pi;
	struct ks_robust_mutex robust;
	enum inv_lock which;
	atomic_int low_holds, medium_done, high_first, errors;
};

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * KS_NSEC_PER_SEC + ts.tv_nsec;
}

static void inv_lock(struct inversion *v)
{
	if (v->which == INV_PI)
		atomic_fetch_add(&v->errors, ks_pi_mutex_lock(&v->pi) != 0);
	else if (v->which == INV_ROBUST_PI)
		atomic_fetch_add(&v->errors, ks_robust_mutex_lock(&v->robust) != 0);
	else
		ks_mutex_lock(&v->plain);
}

static void inv_unlock(struct inversion *v)
{
	if (v->which == INV_PI)
		atomic_fetch_add(&v->errors, ks_pi_mutex_unlock(&v->pi) != 0);
	else if (v->which == INV_ROBUST_PI)
		atomic_fetch_add(&v->errors, ks_robust_mutex_unlock(&v->robust) != 0);
	else
		ks_mutex_unlock(&v->plain);
}

static void *inv_low(void *arg)
{
	struct inversion *v = arg;
	int64_t end;

	inv_lock(v);
	atomic_store(&v->low_holds, 1);
	end = thread_cpu_ns() + 30 * KS_NSEC_PER_MSEC;	/* its own CPU time: preemption waits */
	while (thread_cpu_ns() < end)
		ks_cpu_relax();
	inv_unlock(v);
	return NULL;
}

static void *inv_medium(void *arg)
{
	struct inversion *v = arg;
	int64_t end = tap_now_ns() + 300 * KS_NSEC_PER_MSEC;

	while (tap_now_ns() < end)
		ks_cpu_relax();
	atomic_store(&v->medium_done, 1);
	return NULL;
}

static void *inv_high(void *arg)
{
	struct inversion *v = arg;

	inv_lock(v);
	atomic_store(&v->high_first, !atomic_load(&v->medium_done));
	inv_unlock(v);
	return NULL;
}

static int inv_thread(pthread_t *t, void *(*fn)(void *), void *arg, int prio, cpu_set_t *cpu)
{
	struct sched_param sp = { .sched_priority = prio };
	pthread_attr_t a;
	int r;

	pthread_attr_init(&a);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	pthread_attr_setschedparam(&a, &sp);
	pthread_attr_setaffinity_np(&a, sizeof(*cpu), cpu);
	r = pthread_create(t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return r;
}

/* One run; true if High got the lock before Medium finished. -1: real-time refused. */
static int inv_run(enum inv_lock which, cpu_set_t *cpu)
{
	struct inversion v;
	pthread_t low, medium, high;

	memset(&v, 0, sizeof(v));
	ks_mutex_init(&v.plain, 0);
	ks_pi_mutex_init(&v.pi, 0);
	ks_robust_mutex_init(&v.robust, KS_PRIO_INHERIT);
	v.which = which;
	if (inv_thread(&low, inv_low, &v, 10, cpu))
		return -1;
	while (!atomic_load(&v.low_holds))
		tap_sleep_ms(1);
	if (inv_thread(&medium, inv_medium, &v, 20, cpu)) {
		pthread_join(low, NULL);
		return -1;
	}
	tap_sleep_ms(10);			/* Medium now runs, Low waits for the CPU */
	if (inv_thread(&high, inv_high, &v, 30, cpu)) {
		pthread_join(medium, NULL);
		pthread_join(low, NULL);
		return -1;
	}
	pthread_join(high, NULL);
	pthread_join(medium, NULL);
	pthread_join(low, NULL);
	if (atomic_load(&v.errors))
		return 0;
	return atomic_load(&v.high_first);
}

static void test_priority_inversion(void)
{
	struct sched_param main_sp = { .sched_priority = 40 }, old_sp;
	cpu_set_t old_cpus, cpu;
	int old_policy, cpu_id = 0, plain, pi, robust;

	tap_phase("priority inversion under SCHED_FIFO");
	sched_getaffinity(0, sizeof(old_cpus), &old_cpus);
	while (cpu_id < CPU_SETSIZE && !CPU_ISSET(cpu_id, &old_cpus))
		cpu_id++;
	CPU_ZERO(&cpu);
	CPU_SET(cpu_id, &cpu);
	pthread_getschedparam(pthread_self(), &old_policy, &old_sp);
	/* the main thread outranks the three, on their CPU: its short sleeps end on time */
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &main_sp) ||
	    pthread_setaffinity_np(pthread_self(), sizeof(cpu), &cpu)) {
		pthread_setschedparam(pthread_self(), old_policy, &old_sp);
		tap_skip(3, "SCHED_FIFO is not permitted here (needs CAP_SYS_NICE or RLIMIT_RTPRIO)");
		return;
	}
	plain = inv_run(INV_MUTEX, &cpu);
	pi = inv_run(INV_PI, &cpu);
	robust = inv_run(INV_ROBUST_PI, &cpu);
	pthread_setschedparam(pthread_self(), old_policy, &old_sp);
	pthread_setaffinity_np(pthread_self(), sizeof(old_cpus), &old_cpus);
	if (plain < 0 || pi < 0 || robust < 0) {
		tap_skip(3, "SCHED_FIFO threads are not permitted here");
		return;
	}
	ok(plain == 0, "control: with ks_mutex, High waits until Medium has finished (inversion)");
	ok(pi == 1, "with ks_pi_mutex, Low inherits High's priority: High gets the lock while "
	   "Medium still runs");
	ok(robust == 1, "and with ks_robust_mutex made with KS_PRIO_INHERIT");
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_handoff();
	test_signals();
	test_many_waiters();
	test_no_syscalls();
	test_processes();
	test_cond();
	test_old_kernel();
	test_free_after_unlock();
	test_priority_inversion();
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * ks_rwlock: shared and exclusive modes, the -EPERM/-EINVAL cases, downgrade, writer preference
 * (a waiting writer holds back new readers, and a stream of readers cannot starve it), the
 * timeouts of both modes (and a writer's timeout letting the readers it held back in), signals
 * and spurious wake-ups during both waits, many waiters, zero futex calls without contention
 * (even with readers overlapping), MAP_SHARED use across fork(), and a wall-clock stress.
 */
#include <sched.h>

#include <ksync/rwlock.h>

#include "tap.h"

enum mode { READ, WRITE };

struct waiter {
	struct ks_rwlock *rw;
	enum mode mode;
	int64_t timeout_ns;	/* < 0: the untimed call */
	bool unlock_after;
	atomic_int tid;
	atomic_bool done;
	int result;
	int64_t took_ns;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	int64_t t0;

	atomic_store(&w->tid, ks_self_tid());
	t0 = tap_now_ns();
	if (w->mode == READ) {
		w->result = w->timeout_ns < 0 ? ks_rwlock_read_lock(w->rw) :
			    ks_rwlock_read_lock_timeout(w->rw, w->timeout_ns);
	} else if (w->timeout_ns < 0) {
		ks_rwlock_write_lock(w->rw);
		w->result = 0;
	} else {
		w->result = ks_rwlock_write_lock_timeout(w->rw, w->timeout_ns);
	}
	w->took_ns = tap_now_ns() - t0;
	atomic_store(&w->done, true);
	if (w->unlock_after && w->result == 0) {
		if (w->mode == READ)
			ks_rwlock_read_unlock(w->rw);
		else
			ks_rwlock_write_unlock(w->rw);
	}
	return NULL;
}

static pthread_t start_waiter(struct waiter *w, struct ks_rwlock *rw, enum mode mode,
			      int64_t timeout_ns, bool unlock_after)
{
	memset(w, 0, sizeof(*w));
	w->rw = rw;
	w->mode = mode;
	w->timeout_ns = timeout_ns;
	w->unlock_after = unlock_after;
	return tap_thread(waiter_main, w);
}

/* Until the waiter sleeps in the kernel (or 5 s pass). */
static bool waiter_asleep(struct waiter *w)
{
	while (!atomic_load(&w->tid))
		tap_sleep_ms(1);
	return tap_wait_asleep(atomic_load(&w->tid), 5000);
}

static void test_basics(void)
{
	struct ks_rwlock rw = KS_RWLOCK_INIT, d;

	tap_phase("basics");
	ok(!ks_rwlock_is_write_locked(&rw) && ks_rwlock_readers(&rw) == 0, "KS_RWLOCK_INIT: free");
	is(ks_rwlock_read_lock(&rw), 0, "read_lock");
	is(ks_rwlock_read_lock(&rw), 0, "a second read_lock while read-locked");
	ok(ks_rwlock_read_trylock(&rw), "read_trylock while read-locked");
	is(ks_rwlock_read_lock_timeout(&rw, 0), 0, "read_lock_timeout(0) while read-locked");
	is(ks_rwlock_readers(&rw), 4, "four readers");
	ok(!ks_rwlock_write_trylock(&rw), "write_trylock fails while read-locked");
	is(ks_rwlock_write_lock_timeout(&rw, 0), -ETIMEDOUT, "write_lock_timeout(0): -ETIMEDOUT");
	is(ks_rwlock_write_unlock(&rw), -EPERM, "write_unlock of a read-locked lock: -EPERM");
	is(ks_rwlock_downgrade(&rw), -EPERM, "downgrade of a read-locked lock: -EPERM");
	is(ks_rwlock_readers(&rw), 4, "... and nothing changed");
	for (int i = 0; i < 4; i++)
		is(ks_rwlock_read_unlock(&rw), 0, "read_unlock %d", i);
	is(ks_rwlock_read_unlock(&rw), -EPERM, "read_unlock of a free lock: -EPERM");
	is(ks_rwlock_write_unlock(&rw), -EPERM, "write_unlock of a free lock: -EPERM");
	is(ks_rwlock_downgrade(&rw), -EPERM, "downgrade of a free lock: -EPERM");
	is(atomic_load(&rw.state), 0, "state word still 0");

	ks_rwlock_write_lock(&rw);
	ok(ks_rwlock_is_write_locked(&rw), "write_lock");
	ok(!ks_rwlock_write_trylock(&rw), "write_trylock fails while write-locked");
	ok(!ks_rwlock_read_trylock(&rw), "read_trylock fails while write-locked");
	is(ks_rwlock_read_lock_timeout(&rw, 0), -ETIMEDOUT, "read_lock_timeout(0): -ETIMEDOUT");
	is(ks_rwlock_read_unlock(&rw), -EPERM, "read_unlock of a write-locked lock: -EPERM");
	ok(ks_rwlock_is_write_locked(&rw), "... and it stays write-locked");
	is(ks_rwlock_downgrade(&rw), 0, "downgrade");
	ok(!ks_rwlock_is_write_locked(&rw) && ks_rwlock_readers(&rw) == 1, "now one reader");
	ok(ks_rwlock_read_trylock(&rw), "other readers join after a downgrade");
	ok(!ks_rwlock_write_trylock(&rw), "writers do not");
	ks_rwlock_read_unlock(&rw);
	is(ks_rwlock_read_unlock(&rw), 0, "the downgraded hold is released with read_unlock");
	ok(ks_rwlock_write_trylock(&rw), "write_trylock on a free lock");
	is(ks_rwlock_write_unlock(&rw), 0, "write_unlock");
	is(ks_rwlock_write_lock_timeout(&rw, INT64_MAX), 0, "an enormous timeout is accepted");
	is(ks_rwlock_write_unlock(&rw), 0, "write_unlock after it");

	is(ks_rwlock_read_lock_timeout(&rw, -1), -EINVAL, "read_lock_timeout(-1): -EINVAL");
	is(ks_rwlock_write_lock_timeout(&rw, -1), -EINVAL, "write_lock_timeout(-1): -EINVAL");
	ks_rwlock_write_lock(&rw);
	is(ks_rwlock_read_lock_timeout(&rw, -5), -EINVAL, "-EINVAL on a held lock too");
	ks_rwlock_write_unlock(&rw);
	is(atomic_load(&rw.state), 0, "state word back to 0");

	ks_rwlock_init(&d, KS_SHARED);
	ok(ks_rwlock_read_trylock(&d) && ks_rwlock_read_unlock(&d) == 0 &&
	   ks_rwlock_write_trylock(&d) && ks_rwlock_write_unlock(&d) == 0,
	   "ks_rwlock_init(KS_SHARED): both modes work");

	tap_phase("reader count limit");
	atomic_store(&rw.state, KS_RWLOCK_MAX_READERS);
	ok(!ks_rwlock_read_trylock(&rw), "read_trylock at the reader limit fails");
	is(ks_rwlock_read_lock(&rw), -EAGAIN, "read_lock at the reader limit: -EAGAIN");
	is(ks_rwlock_read_unlock(&rw), 0, "one reader leaves");
	is(ks_rwlock_read_lock(&rw), 0, "and one more gets in");
	atomic_store(&rw.state, 0);
}

static void test_preference(void)
{
	struct ks_rwlock rw = KS_RWLOCK_INIT;
	struct waiter w, r;
	pthread_t tw, tr;

	tap_phase("writer preference");
	ks_rwlock_read_lock(&rw);
	tw = start_waiter(&w, &rw, WRITE, -1, false);
	ok(waiter_asleep(&w), "a writer sleeps behind a reader");
	ok(!ks_rwlock_read_trylock(&rw), "a waiting writer stops read_trylock");
	is(ks_rwlock_read_lock_timeout(&rw, 20 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "... and read_lock_timeout");
	tr = start_waiter(&r, &rw, READ, -1, false);
	ok(waiter_asleep(&r), "a new reader sleeps behind the waiting writer");
	ks_rwlock_read_unlock(&rw);
	pthread_join(tw, NULL);
	ok(w.result == 0 && ks_rwlock_is_write_locked(&rw),
	   "the last reader's unlock let the writer in");
	tap_sleep_ms(20);
	ok(!atomic_load(&r.done), "the reader still waits while the writer holds the lock");
	is(ks_rwlock_write_unlock(&rw), 0, "the writer unlocks");
	pthread_join(tr, NULL);
	ok(r.result == 0 && ks_rwlock_readers(&rw) == 1, "the waiting reader got in");
	ks_rwlock_read_unlock(&rw);

	tap_phase("downgrade with waiters");
	ks_rwlock_write_lock(&rw);
	tr = start_waiter(&r, &rw, READ, -1, false);
	ok(waiter_asleep(&r), "a reader sleeps behind a writer");
	is(ks_rwlock_downgrade(&rw), 0, "the writer downgrades");
	pthread_join(tr, NULL);
	ok(r.result == 0 && ks_rwlock_readers(&rw) == 2,
	   "the sleeping reader joined the downgraded one");
	ks_rwlock_read_unlock(&rw);
	ks_rwlock_read_unlock(&rw);
	is(atomic_load(&rw.state), 0, "state word back to 0");

	ks_rwlock_write_lock(&rw);
	tw = start_waiter(&w, &rw, WRITE, -1, true);
	waiter_asleep(&w);
	tr = start_waiter(&r, &rw, READ, -1, true);
	ok(waiter_asleep(&r), "a writer and then a reader sleep behind a writer");
	is(ks_rwlock_downgrade(&rw), 0, "the writer downgrades");
	tap_sleep_ms(20);
	ok(!atomic_load(&r.done) && !atomic_load(&w.done),
	   "with a writer waiting, the downgrade lets no reader in");
	ks_rwlock_read_unlock(&rw);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	ok(w.result == 0 && r.result == 0, "both got in after the downgraded hold was released");
	is(atomic_load(&rw.state), 0, "state word back to 0");
}

static void test_timeouts(void)
{
	struct ks_rwlock rw = KS_RWLOCK_INIT;
	struct waiter w, r;
	pthread_t tw, tr;

	tap_phase("timeouts");
	ks_rwlock_write_lock(&rw);
	tr = start_waiter(&r, &rw, READ, 100 * KS_NSEC_PER_MSEC, false);
	pthread_join(tr, NULL);
	is(r.result, -ETIMEDOUT, "read_lock_timeout(100 ms) on a write-locked lock: -ETIMEDOUT");
	tap_timeout_ok(r.took_ns, 100 * KS_NSEC_PER_MSEC, "read_lock_timeout");
	ok(ks_rwlock_is_write_locked(&rw), "the writer still holds it");
	ks_rwlock_write_unlock(&rw);
	ok(ks_rwlock_read_trylock(&rw), "lockable after the timed-out reader left");

	tw = start_waiter(&w, &rw, WRITE, 100 * KS_NSEC_PER_MSEC, false);
	pthread_join(tw, NULL);
	is(w.result, -ETIMEDOUT, "write_lock_timeout(100 ms) on a read-locked lock: -ETIMEDOUT");
	tap_timeout_ok(w.took_ns, 100 * KS_NSEC_PER_MSEC, "write_lock_timeout");
	ok(ks_rwlock_read_trylock(&rw), "a timed-out writer no longer holds readers back");
	ks_rwlock_read_unlock(&rw);

	tw = start_waiter(&w, &rw, WRITE, 150 * KS_NSEC_PER_MSEC, false);
	waiter_asleep(&w);
	tr = start_waiter(&r, &rw, READ, -1, true);
	ok(waiter_asleep(&r), "a reader sleeps behind a timed writer");
	pthread_join(tw, NULL);
	is(w.result, -ETIMEDOUT, "the writer times out");
	pthread_join(tr, NULL);
	ok(r.result == 0, "its timeout woke the reader it held back, while a reader still holds");
	is(ks_rwlock_read_unlock(&rw), 0, "the first reader unlocks");
	is(atomic_load(&rw.state) & KS_RWLOCK_MASK, 0, "free");

	ks_rwlock_write_lock(&rw);
	tw = start_waiter(&w, &rw, WRITE, 5 * KS_NSEC_PER_SEC, true);
	tr = start_waiter(&r, &rw, READ, 5 * KS_NSEC_PER_SEC, true);
	tap_sleep_ms(30);
	ks_rwlock_write_unlock(&rw);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	ok(w.result == 0 && r.result == 0,
	   "timed waiters of both kinds get in before their deadline");
	is(atomic_load(&rw.state), 0, "state word back to 0");
}

/* A waiter of `mode` under signals and spurious wake-ups, the lock held the other way. */
static void test_interruptions(enum mode mode)
{
	struct ks_rwlock rw = KS_RWLOCK_INIT;
	struct tap_storm storm;
	struct waiter w;
	unsigned long before;
	const char *name = mode == READ ? "reader" : "writer";
	pthread_t t;

	tap_phase(mode == READ ? "signals: reader" : "signals: writer");
	if (mode == READ)
		ks_rwlock_write_lock(&rw);
	else
		ks_rwlock_read_lock(&rw);
	t = start_waiter(&w, &rw, mode, -1, true);
	waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(150);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "%s: received signals (%lu)", name,
	   tap_signals_seen() - before);
	ok(!atomic_load(&w.done), "%s: signals do not end the wait", name);

	tap_phase(mode == READ ? "spurious: reader" : "spurious: writer");
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&rw.state);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "%s: spurious wakes do not end the wait", name);
	if (mode == READ)
		ks_rwlock_write_unlock(&rw);
	else
		ks_rwlock_read_unlock(&rw);
	pthread_join(t, NULL);
	ok(w.result == 0, "%s: acquires after the real release", name);

	tap_phase(mode == READ ? "timed signals: reader" : "timed signals: writer");
	if (mode == READ)
		ks_rwlock_write_lock(&rw);
	else
		ks_rwlock_read_lock(&rw);
	t = start_waiter(&w, &rw, mode, 200 * KS_NSEC_PER_MSEC, true);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	for (int i = 0; i < 50; i++) {
		tap_futex_poke(&rw.state);
		tap_sleep_ms(2);
	}
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "%s: timed wait under signals and pokes: -ETIMEDOUT, not -EINTR",
	   name);
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, name);
	if (mode == READ)
		ks_rwlock_write_unlock(&rw);
	else
		ks_rwlock_read_unlock(&rw);
	is(atomic_load(&rw.state) & KS_RWLOCK_MASK, 0, "%s: free at the end", name);
}

/* ---- many waiters, and the stress: shared state checked under the lock ---------------------- */

struct shared {
	struct ks_rwlock rw;
	long a, b;			/* written under the write lock, kept equal */
	atomic_int readers_in, writers_in;
	atomic_long overlaps, torn, reads, writes, timeouts;
	int64_t end;
};

static void check_read(struct shared *s)
{
	atomic_fetch_add_explicit(&s->readers_in, 1, memory_order_relaxed);
	if (atomic_load_explicit(&s->writers_in, memory_order_relaxed))
		atomic_fetch_add(&s->overlaps, 1);
	if (s->a != s->b)
		atomic_fetch_add(&s->torn, 1);
	atomic_fetch_sub_explicit(&s->readers_in, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
}

static void do_write(struct shared *s, bool yield)
{
	if (atomic_fetch_add_explicit(&s->writers_in, 1, memory_order_relaxed) ||
	    atomic_load_explicit(&s->readers_in, memory_order_relaxed))
		atomic_fetch_add(&s->overlaps, 1);
	s->a++;
	if (yield)
		sched_yield();	/* get preempted inside now and then */
	s->b++;
	atomic_fetch_sub_explicit(&s->writers_in, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
}

#define MANY_READERS 60
#define MANY_WRITERS 20

static void *many_reader(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < 50; i++) {
		ks_rwlock_read_lock(&s->rw);
		check_read(s);
		ks_rwlock_read_unlock(&s->rw);
	}
	return NULL;
}

static void *many_writer(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < 50; i++) {
		ks_rwlock_write_lock(&s->rw);
		do_write(s, false);
		ks_rwlock_write_unlock(&s->rw);
	}
	return NULL;
}

static void test_many_waiters(void)
{
	static struct shared s = { .rw = KS_RWLOCK_INIT };
	pthread_t t[MANY_READERS + MANY_WRITERS];

	tap_phase("many waiters");
	ks_rwlock_write_lock(&s.rw);
	for (int i = 0; i < MANY_READERS + MANY_WRITERS; i++)
		t[i] = tap_thread(i % 4 == 3 ? many_writer : many_reader, &s);
	tap_sleep_ms(50);
	is(atomic_load(&s.reads) + atomic_load(&s.writes), 0,
	   "%d readers and %d writers wait behind a writer", MANY_READERS, MANY_WRITERS);
	ks_rwlock_write_unlock(&s.rw);
	for (int i = 0; i < MANY_READERS + MANY_WRITERS; i++)
		pthread_join(t[i], NULL);
	is(atomic_load(&s.reads), MANY_READERS * 50L, "every read done");
	is(s.a, MANY_WRITERS * 50L, "every write done");
	is(s.a, s.b, "the protected pair is consistent");
	is(atomic_load(&s.overlaps) + atomic_load(&s.torn), 0, "no overlap, no torn read");
	is(atomic_load(&s.rw.state), 0, "state word back to 0");
}

static void *stress_main(void *arg)
{
	struct shared *s = arg;
	unsigned seed = (unsigned)ks_self_tid();

	while (tap_before(s->end)) {
		unsigned how = rand_r(&seed) % 100;
		int64_t timeout = (rand_r(&seed) % 100) * KS_NSEC_PER_USEC;

		if (how < 80) {			/* reads: plain, try, timed */
			if (how < 60)
				ks_rwlock_read_lock(&s->rw);
			else if (how < 70 && !ks_rwlock_read_trylock(&s->rw))
				continue;
			else if (how >= 70 && ks_rwlock_read_lock_timeout(&s->rw, timeout)) {
				atomic_fetch_add(&s->timeouts, 1);
				continue;
			}
			check_read(s);
			ks_rwlock_read_unlock(&s->rw);
		} else {			/* writes: plain, try, timed, downgraded */
			if (how < 88)
				ks_rwlock_write_lock(&s->rw);
			else if (how < 92 && !ks_rwlock_write_trylock(&s->rw))
				continue;
			else if (how >= 92 && ks_rwlock_write_lock_timeout(&s->rw, timeout)) {
				atomic_fetch_add(&s->timeouts, 1);
				continue;
			}
			do_write(s, how % 16 == 0);
			if (how % 2) {
				ks_rwlock_downgrade(&s->rw);
				check_read(s);
				ks_rwlock_read_unlock(&s->rw);
			} else {
				ks_rwlock_write_unlock(&s->rw);
			}
		}
	}
	return NULL;
}

static void test_stress(void)
{
	static struct shared s = { .rw = KS_RWLOCK_INIT };
	enum { THREADS = 8 };
	pthread_t t[THREADS];

	tap_phase("rwlock stress");
	s.end = tap_deadline_in_ms(tap_stress_ms());
	for (int i = 0; i < THREADS; i++)
		t[i] = tap_thread(stress_main, &s);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&s.reads) > 0 && atomic_load(&s.writes) > 0,
	   "stress: %ld reads, %ld writes, %ld timeouts", atomic_load(&s.reads),
	   atomic_load(&s.writes), atomic_load(&s.timeouts));
	is(s.a, atomic_load(&s.writes), "stress: every write counted");
	is(s.a, s.b, "stress: the protected pair stayed consistent");
	is(atomic_load(&s.overlaps), 0, "stress: a writer was always alone");
	is(atomic_load(&s.torn), 0, "stress: no reader saw a half-done write");
	is(atomic_load(&s.rw.state), 0, "stress: state word back to 0 (no lost wake-up)");
}

/* ---- writers are not starved by a stream of overlapping readers ----------------------------- */

struct stream {
	struct ks_rwlock rw;
	atomic_bool stop;
	atomic_long reads;
};

static void *stream_reader(void *arg)
{
	struct stream *s = arg;

	while (!atomic_load(&s->stop)) {
		ks_rwlock_read_lock(&s->rw);
		atomic_fetch_add(&s->reads, 1);
		sched_yield();		/* hold it a while: the readers overlap */
		ks_rwlock_read_unlock(&s->rw);
	}
	return NULL;
}

static void test_no_writer_starvation(void)
{
	static struct stream s = { .rw = KS_RWLOCK_INIT };
	enum { READERS = 4 };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	pthread_t t[READERS];
	long writes = 0, failed = 0;

	tap_phase("writer vs a stream of readers");
	for (int i = 0; i < READERS; i++)
		t[i] = tap_thread(stream_reader, &s);
	while (atomic_load(&s.reads) < 100)
		sched_yield();
	while (tap_before(end)) {
		if (ks_rwlock_write_lock_timeout(&s.rw, 5 * KS_NSEC_PER_SEC)) {
			failed++;
			continue;
		}
		writes++;
		ks_rwlock_write_unlock(&s.rw);
		tap_sleep_ms(1);
	}
	atomic_store(&s.stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	ok(writes > 0 && failed == 0, "a writer got in %ld times through %d readers (%ld reads)",
	   writes, READERS, atomic_load(&s.reads));
}

/* ---- no system call without contention ------------------------------------------------------ */

struct quiet {
	struct ks_rwlock *rw;
	atomic_int *ready;
	unsigned long calls;
};

static void *quiet_reader(void *arg)
{
	struct quiet *q = arg;
	unsigned long before = ks_futex_calls();

	atomic_fetch_add(q->ready, 1);
	while (atomic_load(q->ready) < 2)
		;
	for (int i = 0; i < 100000; i++) {
		ks_rwlock_read_lock(q->rw);
		ks_rwlock_read_unlock(q->rw);
	}
	q->calls = ks_futex_calls() - before;
	return NULL;
}

static void test_no_syscalls(void)
{
	struct ks_rwlock rw = KS_RWLOCK_INIT;
	unsigned long before = ks_futex_calls();
	atomic_int ready = 0;
	struct quiet q[2] = { { &rw, &ready, 0 }, { &rw, &ready, 0 } };
	pthread_t t[2];

	tap_phase("no syscalls");
	for (int i = 0; i < 1000; i++) {
		ks_rwlock_read_lock(&rw);
		ks_rwlock_read_trylock(&rw);
		ks_rwlock_read_lock_timeout(&rw, KS_NSEC_PER_SEC);
		ks_rwlock_read_unlock(&rw);
		ks_rwlock_read_unlock(&rw);
		ks_rwlock_read_unlock(&rw);
		ks_rwlock_read_unlock(&rw);	/* -EPERM */
		ks_rwlock_write_lock(&rw);
		ks_rwlock_write_unlock(&rw);
		ks_rwlock_write_trylock(&rw);
		ks_rwlock_downgrade(&rw);
		ks_rwlock_read_unlock(&rw);
		ks_rwlock_write_lock_timeout(&rw, KS_NSEC_PER_SEC);
		ks_rwlock_write_unlock(&rw);
		ks_rwlock_write_unlock(&rw);	/* -EPERM */
	}
	is(ks_futex_calls() - before, 0, "uncontended calls of every kind: 0 futex calls");
	for (int i = 0; i < 2; i++)
		t[i] = tap_thread(quiet_reader, &q[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	is(q[0].calls + q[1].calls, 0, "two readers overlapping, no writer: 0 futex calls");
}

/* ---- processes ------------------------------------------------------------------------------ */

static void test_process_shared(void)
{
	struct shared *s = tap_shared_alloc(sizeof(*s));
	enum { CHILDREN = 4, ROUNDS = 5000 };
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	ks_rwlock_init(&s->rw, KS_SHARED);
	ks_rwlock_write_lock(&s->rw);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				if (k % 4 == i % 4) {
					ks_rwlock_write_lock(&s->rw);
					do_write(s, false);
					ks_rwlock_write_unlock(&s->rw);
				} else {
					ks_rwlock_read_lock(&s->rw);
					check_read(s);
					ks_rwlock_read_unlock(&s->rw);
				}
			}
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	is(atomic_load(&s->reads) + atomic_load(&s->writes), 0,
	   "children wait on a lock the parent holds");
	ks_rwlock_write_unlock(&s->rw);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "all children exited cleanly");
	is(s->a, (long)CHILDREN * ROUNDS / 4, "every write across processes counted");
	is(s->a, s->b, "the pair stayed consistent");
	is(atomic_load(&s->overlaps) + atomic_load(&s->torn), 0, "exclusion held across processes");

	ks_rwlock_read_lock(&s->rw);
	pids[0] = fork();
	if (pids[0] == 0)
		_exit(ks_rwlock_write_lock_timeout(&s->rw, 50 * KS_NSEC_PER_MSEC) == -ETIMEDOUT &&
		      ks_rwlock_read_lock_timeout(&s->rw, 0) == 0 ? 0 : 1);
	ok(tap_wait_child(pids[0]), "a child's write_lock_timeout times out; then it can read");
	ks_rwlock_read_unlock(&s->rw);
	ks_rwlock_read_unlock(&s->rw);	/* the child's */
	is(atomic_load(&s->rw.state), 0, "state word back to 0");
	munmap(s, sizeof(*s));
}

/*
 * glibc bug 13690's pattern: the last reader's unlock hands the lock to a sleeping writer, which
 * takes it, releases it and unmaps its page at once. An unlock that touched the lock after its
 * releasing CAS would fault here (or be caught by ASan).
 */
struct unmap_slot {
	struct ks_rwlock *_Atomic rw;
	atomic_bool stop;
	atomic_long rounds;
};

static void *unmap_writer(void *arg)
{
	struct unmap_slot *slot = arg;

	while (!atomic_load(&slot->stop)) {
		struct ks_rwlock *rw = atomic_load(&slot->rw);

		if (!rw)
			continue;
		ks_rwlock_write_lock(rw);	/* sleeps until the reader's unlock */
		ks_rwlock_write_unlock(rw);
		atomic_store(&slot->rw, NULL);
		munmap(rw, 4096);
		atomic_fetch_add(&slot->rounds, 1);
	}
	return NULL;
}

static void test_unmap_after_unlock(void)
{
	struct unmap_slot slot = { .rw = NULL };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	pthread_t t;

	tap_phase("unmapped after unlock (glibc 13690)");
	t = tap_thread(unmap_writer, &slot);
	while (tap_before(end)) {
		struct ks_rwlock *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (rw == MAP_FAILED)
			break;
		ks_rwlock_init(rw, 0);
		ks_rwlock_read_lock(rw);
		atomic_store(&slot.rw, rw);
		/* until the writer has registered (it may spin a little before) */
		while (!(atomic_load(&rw->state) & KS_RWLOCK_WRITERS_WAITING))
			ks_cpu_relax();
		ks_rwlock_read_unlock(rw);	/* wakes the writer, which unmaps the page */
		while (atomic_load(&slot.rw))
			;
	}
	atomic_store(&slot.stop, true);
	pthread_join(t, NULL);
	ok(atomic_load(&slot.rounds) > 0, "%ld rwlocks unmapped by the next owner right after the "
	   "last reader's unlock", atomic_load(&slot.rounds));
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_preference();
	test_timeouts();
	test_interruptions(READ);
	test_interruptions(WRITE);
	test_many_waiters();
	test_no_syscalls();
	test_process_shared();
	test_no_writer_starvation();
	test_unmap_after_unlock();
	test_stress();
	return tap_done();
}

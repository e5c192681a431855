// SPDX-License-Identifier: MIT
/*
 * ks_seqlock and ks_seqcount: the sequence protocol, its 32-bit wrap-around, readers waiting out
 * an open write section, -EPERM, writers serialized (signals, spurious wakes, many writers),
 * zero futex calls without contention, MAP_SHARED use across fork(), and a wall-clock stress in
 * which writers keep a multi-word record mutually consistent while readers check it. The
 * readers see the lock and the data through a read-only mapping of the same memory, so a reader
 * that wrote to shared memory would crash the test.
 */
#include <sched.h>
#include <sys/mman.h>

#include <ksync/seqlock.h>

#include "tap.h"

#define WORDS 8

/* Consistent when w[i] == w[0] * (i + 1) for every i. */
struct record {
	unsigned long w[WORDS];
};

static void record_fill(struct record *r, unsigned long v)
{
	for (int i = 0; i < WORDS; i++)
		r->w[i] = v * (i + 1);
}

static bool record_consistent(const struct record *r)
{
	for (int i = 1; i < WORDS; i++)
		if (r->w[i] != r->w[0] * (i + 1))
			return false;
	return true;
}

/* Starts the counter of a seqcount near 2^32 (an even value, no writer inside). */
#define NEAR_WRAP (UINT32_MAX - 99)

static void test_basics(void)
{
	struct ks_seqlock sl = KS_SEQLOCK_INIT, d;
	struct ks_seqcount sc = KS_SEQCOUNT_INIT;
	struct record r, copy;
	uint32_t start;
	unsigned long calls = ks_futex_calls();

	tap_phase("basics");
	start = ks_seqlock_read_begin(&sl);
	is(start, 0, "KS_SEQLOCK_INIT: sequence 0");
	ok(!ks_seqlock_read_retry(&sl, start), "no write: no retry");
	ks_seqlock_write_lock(&sl);
	is(atomic_load(&sl.seqcount.sequence), 1, "odd inside a write section");
	ok(!ks_seqlock_write_trylock(&sl), "write_trylock fails while a writer is inside");
	ok(ks_seqlock_read_retry(&sl, start), "a reader that overlapped an open write retries");
	is(ks_seqlock_write_unlock(&sl), 0, "write_unlock");
	ok(ks_seqlock_read_retry(&sl, start), "a reader that overlapped a whole write retries");
	is(ks_seqlock_read_begin(&sl), 2, "even again after the write");
	is(ks_seqlock_write_unlock(&sl), -EPERM, "write_unlock without a write section: -EPERM");
	is(atomic_load(&sl.seqcount.sequence), 2, "... and nothing changed");
	ok(!ks_mutex_is_locked(&sl.lock), "... the writers' mutex is free");
	ok(ks_seqlock_write_trylock(&sl), "write_trylock on a free seqlock");
	is(ks_seqlock_write_unlock(&sl), 0, "write_unlock after it");

	record_fill(&r, 7);
	ks_seqlock_write(&sl, &copy, &r, sizeof(r));
	memset(&r, 0, sizeof(r));
	ks_seqlock_read(&sl, &r, &copy, sizeof(r));
	ok(record_consistent(&r) && r.w[0] == 7, "ks_seqlock_write/ks_seqlock_read copy a record");
	{
		char in[13] = "unaligned ok", out[13];

		ks_seqlock_write(&sl, out, in, sizeof(in));
		ks_seqlock_read(&sl, in, out, sizeof(out));
		ok(!strcmp(in, "unaligned ok"), "odd-sized copies go byte by byte");
	}
	is(ks_futex_calls() - calls, 0, "uncontended reads and writes: 0 futex calls");

	ks_seqlock_init(&d, KS_SHARED);
	ok(ks_seqlock_read_begin(&d) == 0 && ks_seqlock_write_trylock(&d) &&
	   ks_seqlock_write_unlock(&d) == 0, "ks_seqlock_init(KS_SHARED) works");
	ks_seqcount_init(&sc, 0);
	ks_seqcount_write(&sc, &copy, &r, sizeof(r));
	is(atomic_load(&sc.sequence), 2, "ks_seqcount_write: one write, two steps");

	tap_phase("wrap-around");
	atomic_store(&sc.sequence, UINT32_MAX - 1);
	start = ks_seqcount_read_begin(&sc);
	is(start, UINT32_MAX - 1, "read_begin just below 2^32");
	ks_seqcount_write_begin(&sc);
	is(atomic_load(&sc.sequence), UINT32_MAX, "write_begin: odd at UINT32_MAX");
	ok(ks_seqcount_read_retry(&sc, start), "retry sees the open write");
	ks_seqcount_write_end(&sc);
	is(atomic_load(&sc.sequence), 0, "write_end wraps to 0 (even)");
	ok(ks_seqcount_read_retry(&sc, start), "retry sees the write across the wrap");
	start = ks_seqcount_read_begin(&sc);
	ok(start == 0 && !ks_seqcount_read_retry(&sc, start), "reading after the wrap works");
}

/* ---- blocking: a reader waits out a write section; writers wait for each other -------------- */

struct waiter {
	struct ks_seqlock *sl;
	bool writer;
	atomic_int tid;
	atomic_bool done;
	uint32_t seq;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->tid, ks_self_tid());
	if (w->writer) {
		ks_seqlock_write_lock(w->sl);
		ks_seqlock_write_unlock(w->sl);
	} else {
		w->seq = ks_seqlock_read_begin(w->sl);
	}
	atomic_store(&w->done, true);
	return NULL;
}

#define MANY 20
#define MANY_ROUNDS 100

struct many {
	struct ks_seqlock sl;
	struct record rec;
	atomic_long bad;
};

static void *many_main(void *arg)
{
	struct many *m = arg;
	struct record r;

	for (int i = 0; i < MANY_ROUNDS; i++) {
		ks_seqlock_write_lock(&m->sl);
		ks_seq_copy_out(&r, &m->rec, sizeof(r));	/* writers read it too */
		if (!record_consistent(&r))
			atomic_fetch_add(&m->bad, 1);
		record_fill(&r, r.w[0] + 1);
		ks_seq_copy_in(&m->rec, &r, sizeof(r));
		ks_seqlock_write_unlock(&m->sl);
	}
	return NULL;
}

static void test_blocking(void)
{
	static struct ks_seqlock sl = KS_SEQLOCK_INIT;
	static struct many m = { .sl = KS_SEQLOCK_INIT };
	struct waiter r = { .sl = &sl }, w = { .sl = &sl, .writer = true };
	struct tap_storm storm;
	unsigned long before;
	pthread_t tr, tw, t[MANY];

	tap_phase("a reader waits out a write");
	ks_seqlock_write_lock(&sl);
	tr = tap_thread(waiter_main, &r);
	tap_sleep_ms(30);
	ok(!atomic_load(&r.done), "read_begin waits while a writer is inside");

	tap_phase("a writer waits: signals");
	tw = tap_thread(waiter_main, &w);
	while (!atomic_load(&w.tid))
		tap_sleep_ms(1);
	ok(tap_wait_asleep(atomic_load(&w.tid), 5000), "a second writer sleeps in the kernel");
	before = tap_signals_seen();
	tap_storm_start(&storm, tw, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(150);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "it received signals (%lu)", tap_signals_seen() - before);
	for (int i = 0; i < 100; i++)
		tap_futex_poke(&sl.lock.state);
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "signals and spurious wakes do not let it in");
	ok(!atomic_load(&r.done), "the reader still waits");
	ks_seqlock_write_unlock(&sl);
	pthread_join(tr, NULL);
	pthread_join(tw, NULL);
	ok(atomic_load(&r.done) && r.seq % 2 == 0, "the reader got an even sequence (%u)", r.seq);
	ok(atomic_load(&w.done), "the writer got in after the first one left");
	is(atomic_load(&sl.seqcount.sequence), 4, "two write sections, four steps");

	tap_phase("many writers");
	atomic_store(&m.sl.seqcount.sequence, NEAR_WRAP);
	ks_seqlock_write_lock(&m.sl);
	for (int i = 0; i < MANY; i++)
		t[i] = tap_thread(many_main, &m);
	tap_sleep_ms(30);
	ks_seqlock_write_unlock(&m.sl);
	for (int i = 0; i < MANY; i++)
		pthread_join(t[i], NULL);
	is(m.rec.w[0], MANY * MANY_ROUNDS, "%d writers x %d updates, none lost", MANY, MANY_ROUNDS);
	is(atomic_load(&m.bad), 0, "each writer found the record consistent");
	is(atomic_load(&m.sl.seqcount.sequence), (uint32_t)(NEAR_WRAP + 2 + 2 * MANY * MANY_ROUNDS),
	   "the sequence counted every write, across the wrap");
}

/* ---- stress: readers on a read-only view ---------------------------------------------------- */

struct area {
	struct ks_seqlock sl;		/* protects a, written by two writers */
	struct record a;
	struct ks_seqcount sc;		/* protects b, written by one writer */
	struct record b;
};

struct stress {
	struct area *rw;		/* the writers' view */
	const struct area *ro;		/* the readers' view: PROT_READ */
	int64_t end;
	atomic_long writes_a, writes_b, reads, retries, torn, values;
};

struct writer_arg {
	struct stress *s;
	unsigned id;
};

static void *writer_a(void *arg)
{
	struct writer_arg *wa = arg;
	struct stress *s = wa->s;
	unsigned long v = wa->id;

	while (tap_before(s->end)) {
		ks_seqlock_write_lock(&s->rw->sl);
		for (int i = 0; i < WORDS; i++)
			KS_SEQ_STORE(s->rw->a.w[i], v * (i + 1));
		if (v % 32 < 2)
			sched_yield();		/* readers meet an open write section */
		ks_seqlock_write_unlock(&s->rw->sl);
		v += 2;
		atomic_fetch_add_explicit(&s->writes_a, 1, memory_order_relaxed);
	}
	return NULL;
}

/* Pauses between two writes of the seqcount writer: without them it starves the readers. */
#define WRITER_B_PAUSE 256

static void *writer_b(void *arg)
{
	struct stress *s = arg;
	struct record r;

	for (unsigned long v = 1; tap_before(s->end); v++) {
		record_fill(&r, v);
		ks_seqcount_write(&s->rw->sc, &s->rw->b, &r, sizeof(r));
		atomic_fetch_add_explicit(&s->writes_b, 1, memory_order_relaxed);
		for (int i = 0; i < WRITER_B_PAUSE; i++)
			ks_cpu_relax();		/* read-mostly: let the readers through */
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct stress *s = arg;
	unsigned long last = 0, values = 0;
	long reads = 0, retries = 0, torn = 0;

	while (tap_before(s->end)) {
		struct record r;
		uint32_t start;

		switch (reads % 3) {
		case 0:		/* by hand: begin, relaxed loads, retry */
			for (;;) {
				start = ks_seqlock_read_begin(&s->ro->sl);
				for (int i = 0; i < WORDS; i++)
					r.w[i] = KS_SEQ_LOAD(s->ro->a.w[i]);
				if (!ks_seqlock_read_retry(&s->ro->sl, start))
					break;
				retries++;
			}
			break;
		case 1:
			ks_seqlock_read(&s->ro->sl, &r, &s->ro->a, sizeof(r));
			break;
		default:
			ks_seqcount_read(&s->ro->sc, &r, &s->ro->b, sizeof(r));
			break;
		}
		torn += !record_consistent(&r);
		values += r.w[0] != last;
		last = r.w[0];
		reads++;
	}
	atomic_fetch_add(&s->reads, reads);
	atomic_fetch_add(&s->retries, retries);
	atomic_fetch_add(&s->torn, torn);
	atomic_fetch_add(&s->values, values);
	return NULL;
}

static void test_stress(void)
{
	static struct stress s;
	enum { READERS = 3 };
	size_t size = (sizeof(struct area) + 4095) & ~(size_t)4095;
	int fd = memfd_create("ks-seqlock", 0);
	struct writer_arg wa[2] = { { &s, 0 }, { &s, 1 } };
	pthread_t w[3], r[READERS];

	tap_phase("seqlock stress");
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		printf("Bail out! memfd: %s\n", strerror(errno));
		exit(1);
	}
	s.rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	s.ro = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (s.rw == MAP_FAILED || s.ro == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	ks_seqlock_init(&s.rw->sl, 0);
	ks_seqcount_init(&s.rw->sc, 0);
	atomic_store(&s.rw->sl.seqcount.sequence, NEAR_WRAP);
	atomic_store(&s.rw->sc.sequence, NEAR_WRAP);
	s.end = tap_deadline_in_ms(tap_stress_ms());
	w[0] = tap_thread(writer_a, &wa[0]);
	w[1] = tap_thread(writer_a, &wa[1]);
	w[2] = tap_thread(writer_b, &s);
	for (int i = 0; i < READERS; i++)
		r[i] = tap_thread(reader, &s);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	ok(atomic_load(&s.reads) > 0 && atomic_load(&s.values) > 0,
	   "stress: %ld reads (%ld retries by hand) saw %ld changes; %ld + %ld writes",
	   atomic_load(&s.reads), atomic_load(&s.retries), atomic_load(&s.values),
	   atomic_load(&s.writes_a), atomic_load(&s.writes_b));
	is(atomic_load(&s.torn), 0, "stress: no reader ever accepted a torn record");
	ok(record_consistent(&s.rw->a) && record_consistent(&s.rw->b), "the final records agree");
	is(atomic_load(&s.rw->sl.seqcount.sequence),
	   (uint32_t)(NEAR_WRAP + 2 * atomic_load(&s.writes_a)), "seqlock: every write counted");
	is(atomic_load(&s.rw->sc.sequence), (uint32_t)(NEAR_WRAP + 2 * atomic_load(&s.writes_b)),
	   "seqcount: every write counted");
	ok(atomic_load(&s.writes_a) > 50 && atomic_load(&s.writes_b) > 50,
	   "both counters wrapped around 2^32 during the stress");
	munmap(s.rw, size);
	munmap((void *)s.ro, size);
}

/* ---- processes ------------------------------------------------------------------------------ */

static void test_process_shared(void)
{
	struct many *m = tap_shared_alloc(sizeof(*m));
	enum { CHILDREN = 2, ROUNDS = 5000 };
	pid_t pids[CHILDREN];
	bool all_ok = true;
	long reads = 0, torn = 0;

	tap_phase("process-shared");
	ks_seqlock_init(&m->sl, KS_SHARED);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS / MANY_ROUNDS; k++)
				many_main(m);
			_exit(0);
		}
	}
	while (KS_SEQ_LOAD(m->rec.w[0]) < (unsigned long)CHILDREN * ROUNDS && reads < 10000000) {
		struct record r;

		ks_seqlock_read(&m->sl, &r, &m->rec, sizeof(r));
		torn += !record_consistent(&r);
		reads++;
	}
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "writer children exited cleanly");
	is(m->rec.w[0], CHILDREN * ROUNDS, "%d processes x %d writes, none lost", CHILDREN, ROUNDS);
	is(torn + atomic_load(&m->bad), 0,
	   "the parent's %ld reads and the writers saw no torn record", reads);
	munmap(m, sizeof(*m));
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_blocking();
	test_process_shared();
	test_stress();
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * The locks: mutual exclusion (mutex, rmutex, spinlock, mcs), readers and writers (rwlock:
 * writers alone, readers never with a writer, no writer starved), and the seqlock (no reader
 * accepts a torn record). Each over its table; the negative controls run the same code over a
 * broken table.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../ops/busted.h"
#include "../ops/mcs.h"
#include "../ops/mutex.h"
#include "../ops/rmutex.h"
#include "../ops/rwlock.h"
#include "../ops/seqlock.h"
#include "../ops/spinlock.h"
#include "torture.h"

static const char *acquire_name(int64_t timeout_ns)
{
	return timeout_ns == OPS_BLOCK ? "acquire" : timeout_ns == OPS_TRY ? "acquire(try)" :
	       "acquire(timed)";
}

/* ---- mutual exclusion ------------------------------------------------------------------------ */

struct excl {
	alignas(64) unsigned char lock[128];
	alignas(64) unsigned char parent_node[64];	/* the parent's, around fork() */
	atomic_int inside;
	long a, b;				/* plain data, kept equal under the lock */
};

static const struct ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void excl_setup(struct scene *s)
{
	struct excl *x = torture_state(s);

	ops_of(s)->init(x->lock, 0, torture_flags(s));
}

/* Inside the lock: nobody else is, and the pair is whole. */
static void excl_inside(struct scene *s, struct excl *x, struct worker *w)
{
	int others = atomic_fetch_add_explicit(&x->inside, 1, memory_order_relaxed);

	if (others)
		torture_fail(s, "mutual exclusion: %d other holder(s) inside with worker %u",
			     others, w->id);
	if (x->a != x->b)
		torture_fail(s, "mutual exclusion: the protected pair is torn (%ld, %ld)", x->a,
			     x->b);
	x->a++;
	if (ops_of(s)->caps & OPS_SLEEPS)
		torture_pause(w);
	else	/* a spinning lock's holder that sleeps makes every waiter spin a time slice */
		for (unsigned i = torture_below(w, 64); i; i--)
			ks_cpu_relax();
	x->b++;
	atomic_fetch_sub_explicit(&x->inside, 1, memory_order_relaxed);
}

static void excl_work(struct scene *s, struct worker *w)
{
	const struct ops *ops = ops_of(s);
	struct excl *x = torture_state(s);

	while (!torture_stopping(s)) {
		int64_t t = torture_timeout(w, ops->caps);
		unsigned depth = 1;
		int r;

		torture_enter(w, acquire_name(t), t);
		r = torture_leave(w, ops->acquire(x->lock, w->node, t), t);
		if (r == -ETIMEDOUT)
			continue;
		if (r) {
			torture_fail(s, "%s returned %d", acquire_name(t), r);
			return;
		}
		/* the owner re-enters at once, by any form, timeout 0 included */
		if (ops->caps & OPS_RECURSIVE)
			for (unsigned extra = torture_below(w, 3); extra; extra--, depth++) {
				t = torture_timeout(w, ops->caps);
				r = ops->acquire(x->lock, w->node, t);
				if (r)
					torture_fail(s, "the owner's re-entry by %s returned %d",
						     acquire_name(t), r);
			}
		excl_inside(s, x, w);
		while (depth--) {
			r = ops->release(x->lock, w->node);
			if (r)
				torture_fail(s, "release by the holder returned %d", r);
		}
		if ((ops->caps & OPS_RECURSIVE) && !torture_below(w, 16) &&
		    (r = ops->release(x->lock, w->node)) != -EPERM)
			torture_fail(s, "release by a thread that does not own it returned %d, not "
				     "-EPERM", r);
		torture_pause(w);
	}
}

/*
 * The parent holds the lock while it forks the workers: a child must not believe it owns what
 * its parent's thread holds (a thread id cached across fork() or _Fork() would say so).
 */
static void excl_before_fork(struct scene *s)
{
	struct excl *x = torture_state(s);

	ops_of(s)->acquire(x->lock, x->parent_node, OPS_BLOCK);
	atomic_fetch_add(&x->inside, 1);
}

static void excl_after_fork(struct scene *s)
{
	struct excl *x = torture_state(s);

	nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	atomic_fetch_sub(&x->inside, 1);
	ops_of(s)->release(x->lock, x->parent_node);
}

static void excl_check(struct scene *s)
{
	struct excl *x = torture_state(s);

	if (x->a != x->b || atomic_load(&x->inside))
		torture_fail(s, "at the end: pair (%ld, %ld), %d inside", x->a, x->b,
			     atomic_load(&x->inside));
	if (ops_of(s)->busy(x->lock))
		torture_fail(s, "at the end: still held (a lost release or wake-up)");
}

static void *excl_word(struct scene *s)
{
	struct excl *x = torture_state(s);

	return ops_of(s)->futex_word ? ops_of(s)->futex_word(x->lock) : NULL;
}

#define EXCL_SCENARIO(ident, table, busted, nworkers, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.workers = nworkers,							\
		.state_size = sizeof(struct excl),					\
		.ops = &(table),							\
		.setup = excl_setup,							\
		.work = excl_work,							\
		.check = excl_check,							\
		.before_fork = excl_before_fork,					\
		.after_fork = excl_after_fork,						\
		.futex_word = excl_word,						\
	}

EXCL_SCENARIO(torture_mutex, ops_mutex, 0, 0,
	      "mutual exclusion; lock, trylock, lock_timeout (0, tiny, long), no early timeout");
EXCL_SCENARIO(torture_rmutex, ops_rmutex, 0, 0,
	      "mutual exclusion, re-entry by the owner only, -EPERM for others, no owner "
	      "inherited across fork()/_Fork()");
/* spinning locks: as many workers as a small machine has CPUs (more only measure convoys) */
EXCL_SCENARIO(torture_spinlock, ops_spinlock, 0, 2, "mutual exclusion; lock, trylock");
EXCL_SCENARIO(torture_mcs, ops_mcs, 0, 2,
	      "mutual exclusion; lock, trylock, queue nodes in shared memory");
EXCL_SCENARIO(torture_busted_lock, ops_busted_lock, SC_BUSTED, 0,
	      "a lock that tests, then sets: the mutual exclusion check must fire");

/* ---- readers and writers --------------------------------------------------------------------- */

/*
 * Writers are alone; readers never overlap a writer. And writer preference, as the contract
 * states it: once a writer waits, no later reader (blocking or try) gets in before that writer
 * has had its turn. A writer is surely waiting RW_GRACE_NS after its call began (it spins for
 * microseconds before it registers), unless it could not run meanwhile: a reader whose call
 * began later than that and that gets in while the writer is still in its call, its deadline
 * not yet near, breaks the contract, unless the writer's own time on a run queue (schedstat)
 * excuses it. Worker 0 writes with long timeouts; in "stream" rounds workers 1 and 2 read
 * back to back, holding 0.2 to 2 ms, which is where a writer starves if readers can overtake.
 */
#define RW_GRACE_NS	(10 * KS_NSEC_PER_MSEC)
#define RW_LONG_NS	(300 * KS_NSEC_PER_MSEC)	/* worker 0's timeout */

struct rw_writer {
	_Atomic int64_t since_ns;	/* 0: not in a call that waits long */
	_Atomic int64_t deadline_ns;
	_Atomic int64_t run_delay_ns;	/* its schedstat wait when the call began */
};

struct rw {
	alignas(64) unsigned char lock[128];
	bool stream;
	atomic_int readers, writers;
	long a, b;					/* written by writers only */
	struct rw_writer writer[TORTURE_MAX_WORKERS];
};

static void rw_setup(struct scene *s)
{
	struct rw *x = torture_state(s);

	ops_of(s)->init(x->lock, 0, torture_flags(s));
	x->stream = s->started_ns / 1000 % 2;
	s->variant = x->stream ? "a stream of readers" : "mixed";
}

/* Another thread's (or process's) time on a run queue, or -1. */
static int64_t rw_run_delay_of(const struct worker *w)
{
	char path[64], buf[96];
	FILE *f;
	long long on_cpu, waiting;
	bool got;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", atomic_load(&w->pid),
		 atomic_load(&w->tid));
	f = fopen(path, "r");
	if (!f)
		return -1;
	got = fgets(buf, sizeof(buf), f) && sscanf(buf, "%lld %lld", &on_cpu, &waiting) == 2;
	fclose(f);
	return got ? waiting : -1;
}

/* A reader whose call began at `began` just got in: did it overtake a waiting writer? */
static void rw_check_overtaking(struct scene *s, struct rw *x, int64_t began)
{
	int64_t now = ks_now_ns();

	for (unsigned i = 0; i < s->nworkers; i++) {
		struct rw_writer *wr = &x->writer[i];
		int64_t since = atomic_load(&wr->since_ns);
		int64_t delay0 = atomic_load(&wr->run_delay_ns), delay;

		if (!since || began - since < RW_GRACE_NS ||
		    now > atomic_load(&wr->deadline_ns) - RW_GRACE_NS)
			continue;
		delay = rw_run_delay_of(&s->w[i]);
		if (delay < 0 || delay0 < 0 || delay - delay0 >= RW_GRACE_NS / 2 ||
		    since != atomic_load(&wr->since_ns))
			continue;
		torture_fail(s, "writer preference: a reader that came %.1f ms after a writer "
			     "began to wait got in before it", (began - since) / 1e6);
	}
}

static void rw_read(struct scene *s, struct rw *x, struct worker *w, int64_t t)
{
	const struct ops *ops = ops_of(s);
	int64_t began = ks_now_ns();
	int r;

	torture_enter(w, t == OPS_BLOCK ? "read lock" : t == OPS_TRY ? "read trylock" :
		      "read lock(timed)", t);
	r = torture_leave(w, ops->acquire_shared(x->lock, t), t);
	if (r == -ETIMEDOUT)
		return;
	if (r) {
		torture_fail(s, "read lock returned %d", r);
		return;
	}
	atomic_fetch_add(&x->readers, 1);
	if (atomic_load(&x->writers))
		torture_fail(s, "a reader got in while a writer held the lock");
	if (x->a != x->b)
		torture_fail(s, "a reader saw a writer's half-done update (%ld, %ld)", x->a, x->b);
	rw_check_overtaking(s, x, began);
	if (x->stream && w->id <= 2)
		nanosleep(&(struct timespec){ .tv_nsec = (200 + torture_below(w, 1800)) * 1000 },
			  NULL);
	else
		torture_pause(w);
	atomic_fetch_sub(&x->readers, 1);
	r = ops->release_shared(x->lock);
	if (r)
		torture_fail(s, "read unlock returned %d", r);
}

static void rw_write(struct scene *s, struct rw *x, struct worker *w, int64_t t)
{
	const struct ops *ops = ops_of(s);
	struct rw_writer *wr = &x->writer[w->id];
	bool waits_long = t == OPS_BLOCK || t >= 2 * RW_GRACE_NS;
	int r;

	if (waits_long) {
		int64_t now = ks_now_ns();

		atomic_store(&wr->run_delay_ns, torture_run_delay_ns());
		atomic_store(&wr->deadline_ns, t == OPS_BLOCK ? INT64_MAX : now + t);
		atomic_store(&wr->since_ns, now);
	}
	torture_enter(w, acquire_name(t), t);
	r = ops->acquire(x->lock, w->node, t);
	/* cleared before the unlock that lets a reader in, which then sees it cleared */
	atomic_store(&wr->since_ns, 0);
	r = torture_leave(w, r, t);
	if (r == -ETIMEDOUT)
		return;
	if (r) {
		torture_fail(s, "write lock returned %d", r);
		return;
	}
	if (atomic_fetch_add(&x->writers, 1) || atomic_load(&x->readers))
		torture_fail(s, "a writer got in with %d reader(s) and %d other writer(s)",
			     atomic_load(&x->readers), atomic_load(&x->writers) - 1);
	x->a++;
	torture_pause(w);
	x->b++;
	if (ops->downgrade && !torture_below(w, 4)) {
		/* now a reader: count it as one before the others may come in */
		atomic_fetch_add(&x->readers, 1);
		atomic_fetch_sub(&x->writers, 1);
		r = ops->downgrade(x->lock);
		if (r)
			torture_fail(s, "downgrade returned %d", r);
		torture_pause(w);
		atomic_fetch_sub(&x->readers, 1);
		r = ops->release_shared(x->lock);
	} else {
		atomic_fetch_sub(&x->writers, 1);
		r = ops->release(x->lock, w->node);
	}
	if (r)
		torture_fail(s, "unlock returned %d", r);
}

static void rw_work(struct scene *s, struct worker *w)
{
	const struct ops *ops = ops_of(s);
	struct rw *x = torture_state(s);

	while (!torture_stopping(s)) {
		if (w->id == 0) {
			rw_write(s, x, w, RW_LONG_NS);
			nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
		} else if ((x->stream && w->id <= 2) || torture_below(w, 8)) {
			rw_read(s, x, w, x->stream && w->id <= 2 ? OPS_BLOCK :
				torture_timeout(w, ops->caps));
		} else {
			rw_write(s, x, w, torture_timeout(w, ops->caps));
		}
	}
}

static void rw_check(struct scene *s)
{
	struct rw *x = torture_state(s);

	if (atomic_load(&x->readers) || atomic_load(&x->writers) || x->a != x->b)
		torture_fail(s, "at the end: %d readers, %d writers, pair (%ld, %ld)",
			     atomic_load(&x->readers), atomic_load(&x->writers), x->a, x->b);
	if (ops_of(s)->busy(x->lock) ||
	    ops_of(s)->acquire(x->lock, NULL, OPS_TRY) || ops_of(s)->release(x->lock, NULL))
		torture_fail(s, "at the end: the lock cannot be taken (a lost release or wake-up)");
}

static void *rw_word(struct scene *s)
{
	struct rw *x = torture_state(s);

	return ops_of(s)->futex_word ? ops_of(s)->futex_word(x->lock) : NULL;
}

#define RW_SCENARIO(ident, table, busted, what)						\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.workers = 5,								\
		.state_size = sizeof(struct rw),					\
		.ops = &(table),							\
		.setup = rw_setup,							\
		.work = rw_work,							\
		.check = rw_check,							\
		.futex_word = rw_word,							\
	}

RW_SCENARIO(torture_rwlock, ops_rwlock, 0,
	    "writers alone, readers never with a writer, downgrade, writer preference: no reader "
	    "that comes after a writer waits gets in before it");
RW_SCENARIO(torture_busted_rwlock, ops_busted_rwlock, SC_BUSTED,
	    "readers that ignore a waiting writer: the writer-preference check must fire");

/* ---- the seqlock: a reader that does not retry has a whole record ------------------------- */

#define SEQ_WORDS 4

struct seq {
	alignas(64) unsigned char lock[128];
	atomic_int writers;
	unsigned long data[SEQ_WORDS];	/* every word equal, between writes */
	unsigned long next;		/* the writers' counter, under the lock */
};

static void seq_setup(struct scene *s)
{
	struct seq *x = torture_state(s);

	ops_of(s)->init(x->lock, 0, torture_flags(s));
}

static void seq_write(struct scene *s, struct seq *x, struct worker *w)
{
	const struct ops *ops = ops_of(s);
	int64_t t = torture_timeout(w, ops->caps);
	unsigned long v;
	int r;

	torture_enter(w, acquire_name(t), t);
	r = torture_leave(w, ops->acquire(x->lock, w->node, t), t);
	if (r == -ETIMEDOUT)
		return;
	if (r || atomic_fetch_add(&x->writers, 1))
		torture_fail(s, "a writer got in (%d) with another writer inside", r);
	v = ++x->next;
	for (unsigned i = 0; i < SEQ_WORDS; i++) {
		ks_seq_copy_in(&x->data[i], &v, sizeof(v));
		torture_pause(w);
	}
	atomic_fetch_sub(&x->writers, 1);
	r = ops->release(x->lock, w->node);
	if (r)
		torture_fail(s, "write unlock returned %d", r);
}

static void seq_read(struct scene *s, struct seq *x, struct worker *w)
{
	const struct ops *ops = ops_of(s);
	unsigned long copy[SEQ_WORDS];
	uint32_t start;

	do {
		start = ops->read_begin(x->lock);
		for (unsigned i = 0; i < SEQ_WORDS; i++) {
			ks_seq_copy_out(&copy[i], &x->data[i], sizeof(copy[i]));
			if (!torture_below(w, 64))
				torture_pause(w);
		}
	} while (ops->read_retry(x->lock, start) && !torture_stopping(s));
	for (unsigned i = 1; i < SEQ_WORDS; i++)
		if (copy[i] != copy[0] && !torture_stopping(s)) {
			torture_fail(s, "a reader accepted a torn record (%lu, %lu)", copy[0],
				     copy[i]);
			return;
		}
	torture_count_op(w);
}

static void seq_work(struct scene *s, struct worker *w)
{
	struct seq *x = torture_state(s);

	while (!torture_stopping(s)) {
		if (torture_below(w, 4))
			seq_read(s, x, w);
		else
			seq_write(s, x, w);
	}
}

#define SEQ_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct seq),					\
		.ops = &(table),							\
		.setup = seq_setup,							\
		.work = seq_work,							\
	}

SEQ_SCENARIO(torture_seqlock, ops_seqlock, 0,
	     "writers alone; no reader accepts a record a writer was changing");
SEQ_SCENARIO(torture_busted_seqlock, ops_busted_seqlock, SC_BUSTED,
	     "a writer that leaves the sequence even: the torn-read check must fire");

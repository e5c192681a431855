// SPDX-License-Identifier: MIT
/*
 * lock.c — the lock harness: compiled once per shim in shim/lock/ (the build passes
 * -DSHIM='"shim/lock/<name>.h"'), so every lock runs exactly the same code.
 *
 * A lock shim is a handful of macros, as in Concurrency Kit's regressions/:
 *
 *	LOCK_NAME	"ks_mutex": the benchmark names' third part
 *	LOCK_ORIGIN	"ksync", "glibc", "ck", "absl", "tbb"
 *	LOCK_BASELINE	ksync shims only: the glibc lock its ratios are taken against
 *	LOCK_WAITS	how a waiter waits: "sleeps" (in the kernel, at once or after a spin),
 *			"yields" (spins, then sched_yield()s) or "spins" (never lets its CPU go)
 *	LOCK_TYPE	the lock's type;  LOCK_INIT(l) initialises *l
 *	LOCK_NODE_TYPE	optional: per-thread queue node (MCS); default none
 *	LOCK(l, node), UNLOCK(l, node)
 *
 * Benchmarks:
 *	lock/uncontended/<name>			one thread, lock+unlock, ns per pair, in a process
 *						with threads (kb_main() started one)
 *	lock/single_threaded/<name>		the same loop in a process that never had a thread
 *						(process.c): glibc's single-threaded fast path
 * Both measure for KB_UNCONTENDED_SHARE of the window (0.08 s of make bench's 0.25: fifteen
 * million pairs at 5 ns).
 *	lock/contended/<name>/cs:C/work:W	1, 2, 4, 8 threads (up to the CPUs on a bigger
 *						machine: kb_thread_counts()), each in a fixed-time window:
 *		lock; C units of critical section writing protected data; unlock; W units of work
 * A unit is one turn of kb_spin()'s empty loop (about one cycle). The critical section also
 * increments each of KB_CS_WORDS protected words (two cache lines), so that data moves with the
 * lock as in real code; the units themselves touch no memory, because the speed of a loop of
 * read-modify-writes depends on code and data alignment (up to 2x on Zen), which differs between
 * the shims' objects and would be mistaken for a difference between locks. At the end the
 * harness checks that the protected count equals the operations counted: a lock that breaks
 * mutual exclusion fails its run instead of winning it.
 */
#include <stdint.h>

#include "kbench.h"
#include "window.h"

#include SHIM

#ifndef LOCK_NODE_TYPE
#define LOCK_NODE_TYPE char	/* most locks need no per-thread node */
#endif

#ifndef LOCK_WAITS
#error "a lock shim says how its waiters wait: LOCK_WAITS \"sleeps\", \"yields\" or \"spins\""
#endif

#ifdef LOCK_BASELINE
#define LOCK_LABEL	LOCK_ORIGIN " vs " LOCK_BASELINE ", " LOCK_WAITS
#else
#define LOCK_LABEL	LOCK_ORIGIN ", " LOCK_WAITS
#endif

#define KB_CS_WORDS	16
#define KB_UNCONTENDED_SHARE	(1.0 / 3)

/* The figures: short, medium, long critical sections, 50 units of work between. */
static const int64_t cs_units[] = { 20, 200, 2000 };
static const int64_t work_units = 50;

static LOCK_TYPE lock __attribute__((aligned(KB_CACHELINE)));

static struct {
	uint64_t count;
	uint64_t word[KB_CS_WORDS];
} data __attribute__((aligned(KB_CACHELINE)));

static struct kb_window win;

static void critical_section(unsigned units)
{
	data.count++;
	for (unsigned i = 0; i < KB_CS_WORDS; i++)
		data.word[i]++;
	kb_spin(units);
}

/* The uncontended loop, the same in both kinds of process. */
static void lock_unlock(uint64_t n)
{
	LOCK_NODE_TYPE node;

	(void)node;
	while (n--) {
		LOCK(&lock, &node);
		UNLOCK(&lock, &node);
	}
}

static void bm_uncontended(struct kb_state *st)
{
	int64_t cpu0 = kb_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t ops = 0;

	for (uint64_t n; (n = kb_batch(st)); ops += n)
		lock_unlock(n);
	if (kb_single_threaded()) {
		kb_error(st, "the process has never had a thread: this is the single-threaded case");
		return;
	}
	kb_counter(st, "cpu_ns_per_op",
		   (double)(kb_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / (double)ops, 0);
	kb_label(st, LOCK_LABEL);
}

static void bm_contended(struct kb_state *st)
{
	unsigned cs = (unsigned)kb_arg(st, 0), work = (unsigned)kb_arg(st, 1);
	LOCK_NODE_TYPE node;

	(void)node;
	while (kb_batch(st)) {
		struct kb_worker *w = kb_window_enter(&win, st);

		while (kb_window_running(&win, w)) {
			uint64_t t0 = kb_sample_begin(w);

			LOCK(&lock, &node);
			kb_sample_end(&win, w, t0);
			critical_section(cs);
			UNLOCK(&lock, &node);
			w->ops++;
			kb_spin(work);
		}
		kb_window_leave(w);
	}
	if (kb_thread_index(st) == 0) {
		if (kb_window_report(&win, st) != data.count)
			kb_error(st, "mutual exclusion violated: protected count != operations");
		data.count = 0;
		kb_label(st, LOCK_LABEL);
	}
}

static void register_lock(void)
{
	static const char *const arg_names[] = { "cs", "work" };
	struct kb_bench *b;

	LOCK_INIT(&lock);
	kb_min_time(kb_register("lock/uncontended/" LOCK_NAME, bm_uncontended, NULL),
		    kb_window_s() * KB_UNCONTENDED_SHARE);
	kb_register_process("lock/single_threaded/" LOCK_NAME, lock_unlock, LOCK_LABEL,
			    kb_window_s() * KB_UNCONTENDED_SHARE);

	b = kb_register("lock/contended/" LOCK_NAME, bm_contended, NULL);
	kb_arg_names(b, arg_names, 2);
	for (unsigned i = 0; i < sizeof(cs_units) / sizeof(cs_units[0]); i++)
		kb_args(b, (const int64_t[]){ cs_units[i], work_units }, 2);
	kb_thread_counts(b, 8);
	kb_iterations(b, 1);
}
KB_REGISTER(register_lock)

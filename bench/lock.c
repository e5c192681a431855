// SPDX-License-Identifier: MIT
/*
 * lock.c — the lock harness: compiled once per shim in shim/lock/ (the build passes
 * -DSHIM='"shim/lock/<name>.h"'), so every lock runs exactly the same code.
 *
 * A lock shim is a handful of macros, as in Concurrency Kit's regressions/:
 *
 *	LOCK_NAME	"ks_mutex": the benchmark names' third part
 *	LOCK_ORIGIN	"ksync", "glibc" or "ck"
 *	LOCK_BASELINE	ksync shims only: the glibc lock its ratios are taken against
 *	LOCK_TYPE	the lock's type;  LOCK_INIT(l) initialises *l
 *	LOCK_NODE_TYPE	optional: per-thread queue node (MCS); default none
 *	LOCK(l, node), UNLOCK(l, node)
 *
 * Benchmarks:
 *	lock/uncontended/<name>			one thread, lock+unlock, ns per pair
 *	lock/contended/<name>/cs:C/work:W	1, 2, 4, 8 threads, each in a fixed-time window:
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

#ifdef LOCK_BASELINE
#define LOCK_LABEL	LOCK_ORIGIN " vs " LOCK_BASELINE
#else
#define LOCK_LABEL	LOCK_ORIGIN
#endif

#define KB_CS_WORDS	16

/* The figures: short, medium, long critical sections, 50 units of work between. */
static const int64_t cs_units[] = { 20, 200, 2000 };
static const int64_t work_units = 50;
static const int thread_counts[] = { 1, 2, 4, 8 };

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

static void bm_uncontended(struct kb_state *st)
{
	LOCK_NODE_TYPE node;

	(void)node;
	for (uint64_t n; (n = kb_batch(st));) {
		while (n--) {
			LOCK(&lock, &node);
			UNLOCK(&lock, &node);
		}
	}
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
	kb_register("lock/uncontended/" LOCK_NAME, bm_uncontended, NULL);

	b = kb_register("lock/contended/" LOCK_NAME, bm_contended, NULL);
	kb_arg_names(b, arg_names, 2);
	for (unsigned i = 0; i < sizeof(cs_units) / sizeof(cs_units[0]); i++)
		kb_args(b, (const int64_t[]){ cs_units[i], work_units }, 2);
	for (unsigned i = 0; i < sizeof(thread_counts) / sizeof(thread_counts[0]); i++)
		kb_threads(b, thread_counts[i]);
	kb_iterations(b, 1);
}
KB_REGISTER(register_lock)

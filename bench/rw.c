// SPDX-License-Identifier: MIT
/*
 * rw.c — the read-mostly harness, compiled once per shim in shim/rw/.
 *
 * Protected data is KB_RW_WORDS words that a writer increments together, so every consistent
 * read sees them all equal; a reader that sees them differ counts a torn read and fails the run.
 * The words are atomics read with acquire and written with release: a seqlock's optimistic
 * reader races with the writer by design and needs exactly that (include/ksync/seqlock.h); on
 * x86 both are plain moves, so the lock-based shims pay nothing for it.
 *
 * A shim provides (as static inline functions or macros):
 *	RW_NAME, RW_ORIGIN, RW_BASELINE (ksync shims only)
 *	RW_TYPE; RW_INIT(l, data)		data: the initial copy
 *	RW_READ_BEGIN(l, &token)	-> const struct rw_data *	(token: a seqlock's sequence)
 *	RW_READ_RETRY(l, token)		ends the read side: true if it must be redone
 *	RW_WRITE_BEGIN(l)		-> struct rw_data * to update in place
 *	RW_WRITE_END(l, data)
 *	RW_THREAD_ONLINE(), RW_THREAD_OFFLINE()	optional: per-thread registration (RCU)
 *
 * rw/read_mostly/<name>/write_pct:P at 1, 2 and 4 threads (up to the CPUs on a bigger machine),
 * in fixed-time windows (window.h):
 * every thread does one write per 100/P operations and reads otherwise, with KB_RW_WORK units
 * of work between operations. p50/p99/p99.9 are the latency of whole sampled operations.
 */
#include <stdint.h>

#include "kbench.h"
#include "window.h"

#define KB_RW_WORDS	8
#define KB_RW_WORK	50

struct rw_data {
	_Atomic uint64_t word[KB_RW_WORDS];
};

#include SHIM

#ifdef RW_BASELINE
#define RW_LABEL	RW_ORIGIN " vs " RW_BASELINE
#else
#define RW_LABEL	RW_ORIGIN
#endif

#ifndef RW_THREAD_ONLINE
#define RW_THREAD_ONLINE()	do { } while (0)
#define RW_THREAD_OFFLINE()	do { } while (0)
#endif

static const int64_t write_pcts[] = { 1, 10 };

static RW_TYPE rw __attribute__((aligned(KB_CACHELINE)));
static struct rw_data initial __attribute__((aligned(KB_CACHELINE)));
static struct kb_window win;
static _Atomic uint64_t torn_reads;

static void read_once(void)
{
	const struct rw_data *d;
	uint64_t first, differ;
	unsigned token;

	do {
		d = RW_READ_BEGIN(&rw, &token);
		first = atomic_load_explicit(&d->word[0], memory_order_acquire);
		differ = 0;
		for (unsigned i = 1; i < KB_RW_WORDS; i++)
			differ |= atomic_load_explicit(&d->word[i], memory_order_acquire) ^ first;
	} while (RW_READ_RETRY(&rw, token));
	if (differ)
		atomic_fetch_add_explicit(&torn_reads, 1, memory_order_relaxed);
}

static void write_once(void)
{
	struct rw_data *d = RW_WRITE_BEGIN(&rw);

	for (unsigned i = 0; i < KB_RW_WORDS; i++)
		atomic_store_explicit(&d->word[i],
				      atomic_load_explicit(&d->word[i], memory_order_relaxed) + 1,
				      memory_order_release);
	RW_WRITE_END(&rw, d);
}

static void bm_read_mostly(struct kb_state *st)
{
	uint64_t write_every = 100 / (uint64_t)kb_arg(st, 0);

	RW_THREAD_ONLINE();
	while (kb_batch(st)) {
		struct kb_worker *w = kb_window_enter(&win, st);

		while (kb_window_running(&win, w)) {
			uint64_t t0 = kb_sample_begin(w);

			if (w->ops % write_every == write_every - 1)
				write_once();
			else
				read_once();
			kb_sample_end(&win, w, t0);
			w->ops++;
			kb_spin(KB_RW_WORK);
		}
		kb_window_leave(w);
	}
	RW_THREAD_OFFLINE();
	if (kb_thread_index(st) == 0) {
		kb_window_report(&win, st);
		if (atomic_exchange_explicit(&torn_reads, 0, memory_order_relaxed))
			kb_error(st, "a reader saw a torn write");
		kb_label(st, RW_LABEL);
	}
}

static void register_rw(void)
{
	static const char *const arg_names[] = { "write_pct" };
	struct kb_bench *b;

	RW_INIT(&rw, &initial);
	b = kb_register("rw/read_mostly/" RW_NAME, bm_read_mostly, NULL);
	kb_arg_names(b, arg_names, 1);
	for (unsigned i = 0; i < sizeof(write_pcts) / sizeof(write_pcts[0]); i++)
		kb_args(b, &write_pcts[i], 1);
	kb_thread_counts(b, 4);
	kb_iterations(b, 1);
}
KB_REGISTER(register_rw)

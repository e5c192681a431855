/* SPDX-License-Identifier: MIT */
/*
 * window.h — the fixed-time measurement window shared by the contention harnesses.
 *
 * Google Benchmark runs a fixed number of iterations and reports their mean time. That hides
 * what a lock researcher asks first: does every thread get its share, and how long does an
 * acquisition wait in the tail? So a contended benchmark runs exactly one Google Benchmark
 * iteration, and inside it every thread loops for kb_window_s() seconds:
 *
 *	w = kb_window_enter(&win, st);
 *	while (kb_window_running(&win, w)) {
 *		t0 = kb_sample_begin(w);	(every KB_SAMPLE_ONE_IN-th op on average)
 *		acquire ...
 *		kb_sample_end(&win, w, t0);	(acquire latency into w's histogram)
 *		... release; w->ops++;
 *	}
 *	kb_window_leave(w);
 *	... after kb_batch() has returned 0 (every thread is done): thread 0 calls
 *	kb_window_report(&win, st), which sets the counters and clears the window for the next run.
 *
 * The first thread past its deadline raises the shared stop flag, so all threads stop together
 * — except a waiter queued in a FIFO spinlock, which stops only when its turn comes, and with
 * more threads than CPUs that tail can last seconds. So the window ends when the flag is raised:
 * throughput is operations over the span from the first start to the raise (a thread finishes
 * at most its current operation after it), the thread that raises the flag reads every worker's
 * CPU clock at that moment, and latency samples taken after it are dropped. Only wall-clock time
 * is lost in the tail, never accuracy. Per-thread counts give Jain's fairness index
 * (sum x)^2 / (n * sum x^2) — 1.0 is a perfectly even split, 1/n means one thread did all —
 * and min_share, the poorest thread's count over the mean (0 = a starved thread).
 *
 * Acquire latency is read with the TSC (x86: a few cycles, no fence, so it may be a few cycles
 * early; irrelevant against hundreds of ns) and converted with the TSC rate measured over the
 * window itself. Samples go to a log-linear histogram (KB_HIST_SUB sub-buckets per power of two:
 * percentiles within 1/KB_HIST_SUB/2 relative error, no allocation, no sorting). CPU time per op
 * is the workers' thread CPU time up to the stop flag, summed: a lock that wins by burning cores
 * shows it here. sleeps_per_kop counts voluntary context switches (the thread blocked, in
 * futex_wait) per 1000 operations.
 */
#ifndef KB_WINDOW_H
#define KB_WINDOW_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kbench.h"

#define KB_MAX_THREADS		16
#define KB_CACHELINE		64

/* Sample the acquire latency of one operation in 8 (chosen at random): costs two TSC reads. */
#define KB_SAMPLE_ONE_IN	8u
/* Read the clock once every 64 operations to see whether the window is over. */
#define KB_CLOCK_EVERY		64u

#define KB_HIST_SUB_BITS	4
#define KB_HIST_SUB		(1u << KB_HIST_SUB_BITS)
#define KB_HIST_LINEAR		(2u * KB_HIST_SUB)	/* values below this have their own bucket */
#define KB_HIST_BUCKETS		(KB_HIST_LINEAR + (64 - KB_HIST_SUB_BITS - 1) * KB_HIST_SUB)

/*
 * The thread counts of a contended benchmark: powers of two from 1 to `least` — on 2 CPUs that
 * goes past the CPUs, where spinning locks collapse and sleeping ones must not — and, on a
 * machine with more CPUs, on to their number (at most KB_MAX_THREADS): the scaling curve of a
 * many-core machine, 1 to 16 threads on 16 cores.
 */
static inline void kb_thread_counts(struct kb_bench *b, int least)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int most = cpus > least ? (int)cpus : least, t;

	if (most > KB_MAX_THREADS)
		most = KB_MAX_THREADS;
	for (t = 1; t <= most; t *= 2)
		kb_threads(b, t);
	if (t / 2 != most)
		kb_threads(b, most);
}

static inline uint64_t kb_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static inline int64_t kb_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* n iterations of nothing the compiler may remove: the "work" and "critical section" unit. */
static inline void kb_spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		__asm__ __volatile__("" ::: "memory");
}

static inline unsigned kb_hist_bucket(uint64_t v)
{
	unsigned e;

	if (v < KB_HIST_LINEAR)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* e >= KB_HIST_SUB_BITS + 1 */
	return KB_HIST_LINEAR + (e - KB_HIST_SUB_BITS - 1) * KB_HIST_SUB +
	       (unsigned)((v >> (e - KB_HIST_SUB_BITS)) & (KB_HIST_SUB - 1));
}

/* The middle of bucket b's range of values. */
static inline double kb_hist_value(unsigned b)
{
	unsigned e, m;

	if (b < KB_HIST_LINEAR)
		return b;
	e = (b - KB_HIST_LINEAR) / KB_HIST_SUB + KB_HIST_SUB_BITS + 1;
	m = (b - KB_HIST_LINEAR) % KB_HIST_SUB;
	return ldexp(KB_HIST_SUB + m + 0.5, (int)(e - KB_HIST_SUB_BITS));
}

struct kb_worker {
	uint64_t ops;
	uint32_t rng;
	int64_t start_ns, deadline_ns;	/* CLOCK_MONOTONIC */
	uint64_t start_tick, end_tick;
	int64_t end_ns;
	int64_t cpu_start_ns, cpu_end_ns;
	clockid_t cpu_clock;		/* this thread's CPU clock, for the thread that stops all */
	_Atomic bool entered;		/* release: the three fields above are set */
	int64_t cpu_stop_ns;		/* written by the thread that raised stop */
	_Atomic bool cpu_stop_valid;	/* release: cpu_stop_ns is set */
	long sleeps;
	uint64_t lat[KB_HIST_BUCKETS];	/* acquire latency in ticks */
} __attribute__((aligned(KB_CACHELINE)));

struct kb_window {
	_Atomic int stop __attribute__((aligned(KB_CACHELINE)));
	int64_t stop_ns;		/* when stop was raised; read after the end barrier */
	struct kb_worker w[KB_MAX_THREADS];
};

static inline struct kb_worker *kb_window_enter(struct kb_window *win, struct kb_state *st)
{
	struct kb_worker *w = &win->w[kb_thread_index(st)];
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	w->sleeps = -ru.ru_nvcsw;
	w->rng = 0x9e3779b9u * (unsigned)(kb_thread_index(st) + 1);
	pthread_getcpuclockid(pthread_self(), &w->cpu_clock);
	w->cpu_start_ns = kb_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w->start_tick = kb_ticks();
	w->start_ns = kb_clock_ns(CLOCK_MONOTONIC);
	w->deadline_ns = w->start_ns + (int64_t)(kb_window_s() * 1e9);
	/* release: pairs with the acquire in kb_window_raise_stop() */
	atomic_store_explicit(&w->entered, true, memory_order_release);
	return w;
}

/* Ends the window for everybody: the stop time and each worker's CPU time at that moment. */
static inline void kb_window_raise_stop(struct kb_window *win)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong_explicit(&win->stop, &expected, 1,
						     memory_order_relaxed, memory_order_relaxed))
		return;
	win->stop_ns = kb_clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < KB_MAX_THREADS; i++) {
		struct kb_worker *w = &win->w[i];

		/* acquire: pairs with the release in kb_window_enter() */
		if (!atomic_load_explicit(&w->entered, memory_order_acquire))
			continue;
		w->cpu_stop_ns = kb_clock_ns(w->cpu_clock);
		/* release: pairs with the acquire in kb_window_report() */
		atomic_store_explicit(&w->cpu_stop_valid, true, memory_order_release);
	}
}

static inline bool kb_window_running(struct kb_window *win, struct kb_worker *w)
{
	/* relaxed: only a flag; the results are read after Google Benchmark's barrier */
	if (atomic_load_explicit(&win->stop, memory_order_relaxed))
		return false;
	if (w->ops % KB_CLOCK_EVERY == 0 && kb_clock_ns(CLOCK_MONOTONIC) >= w->deadline_ns) {
		kb_window_raise_stop(win);
		return false;
	}
	return true;
}

static inline void kb_window_leave(struct kb_worker *w)
{
	struct rusage ru;

	w->end_ns = kb_clock_ns(CLOCK_MONOTONIC);
	w->end_tick = kb_ticks();
	w->cpu_end_ns = kb_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &ru);
	w->sleeps += ru.ru_nvcsw;
}

/* xorshift32: 0 when this operation is not sampled, else its start tick. */
static inline uint64_t kb_sample_begin(struct kb_worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 17;
	w->rng ^= w->rng << 5;
	return w->rng % KB_SAMPLE_ONE_IN ? 0 : kb_ticks();
}

/* Samples that end after the window (a queued waiter's last acquisition) are dropped. */
static inline void kb_sample_end(struct kb_window *win, struct kb_worker *w, uint64_t t0)
{
	if (t0 && !atomic_load_explicit(&win->stop, memory_order_relaxed))
		w->lat[kb_hist_bucket(kb_ticks() - t0)]++;
}

/* The value below which a fraction q of the samples lie (bucket middle), in ticks. */
static inline double kb_hist_quantile(const uint64_t *h, uint64_t total, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)total), seen = 0;

	for (unsigned b = 0; b < KB_HIST_BUCKETS; b++) {
		seen += h[b];
		if (seen >= rank && seen)
			return kb_hist_value(b);
	}
	return 0;
}

/*
 * Thread 0, after every thread left: sets the counters (ops_per_s, jain, min_share, p50_ns,
 * p99_ns, p999_ns, cpu_ns_per_op, sleeps_per_kop) and clears the window. Returns total ops.
 */
static inline uint64_t kb_window_report(struct kb_window *win, struct kb_state *st)
{
	static uint64_t lat[KB_HIST_BUCKETS];
	uint64_t total = 0, samples = 0, ticks = 0;
	int64_t first = INT64_MAX, cpu = 0, span_ns = 0;
	double sum2 = 0, min_ops = INFINITY, tick_ns;
	long sleeps = 0;
	int n = 0;

	memset(lat, 0, sizeof(lat));
	for (int i = 0; i < KB_MAX_THREADS; i++) {
		struct kb_worker *w = &win->w[i];

		if (!atomic_load_explicit(&w->entered, memory_order_relaxed))
			continue;
		n++;
		total += w->ops;
		sum2 += (double)w->ops * (double)w->ops;
		min_ops = fmin(min_ops, (double)w->ops);
		first = w->start_ns < first ? w->start_ns : first;
		ticks += w->end_tick - w->start_tick;
		span_ns += w->end_ns - w->start_ns;
		/* acquire: pairs with the release in kb_window_raise_stop() */
		if (atomic_load_explicit(&w->cpu_stop_valid, memory_order_acquire))
			cpu += w->cpu_stop_ns - w->cpu_start_ns;
		else
			cpu += w->cpu_end_ns - w->cpu_start_ns;
		sleeps += w->sleeps;
		for (unsigned b = 0; b < KB_HIST_BUCKETS; b++) {
			lat[b] += w->lat[b];
			samples += w->lat[b];
		}
	}
	if (n && total) {
		tick_ns = (double)span_ns / (double)ticks;
		kb_counter(st, "ops_per_s", (double)total / ((double)(win->stop_ns - first) * 1e-9),
			   0);
		kb_counter(st, "jain", (double)total * (double)total / (n * sum2), 0);
		kb_counter(st, "min_share", min_ops / ((double)total / n), 0);
		kb_counter(st, "p50_ns", kb_hist_quantile(lat, samples, 0.50) * tick_ns, 0);
		kb_counter(st, "p99_ns", kb_hist_quantile(lat, samples, 0.99) * tick_ns, 0);
		kb_counter(st, "p999_ns", kb_hist_quantile(lat, samples, 0.999) * tick_ns, 0);
		kb_counter(st, "cpu_ns_per_op", (double)cpu / (double)total, 0);
		kb_counter(st, "sleeps_per_kop", 1000.0 * (double)sleeps / (double)total, 0);
	}
	memset(win->w, 0, sizeof(win->w));
	atomic_store_explicit(&win->stop, 0, memory_order_relaxed);
	return total;
}

#endif /* KB_WINDOW_H */

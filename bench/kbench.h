/* SPDX-License-Identifier: MIT */
/*
 * kbench — a small C API over Google Benchmark (Debian's libbenchmark 1.7.1), implemented in
 * kbench.cc. The benchmarks themselves are C.
 *
 * A benchmark is a function void fn(struct kb_state *st). Its timed loop asks kb_batch() how many
 * iterations to run next and runs them in a plain C loop, so crossing into C++ costs one call per
 * batch, not one per iteration:
 *
 *	for (uint64_t n; (n = kb_batch(st));)
 *		while (n--)
 *			body();
 *
 * In a threaded benchmark every thread runs the same function with the same iteration count;
 * kb_thread_index() tells them apart. Google Benchmark starts and stops the timed region of all
 * the threads together (a barrier on each side), so code after the loop in thread 0 may read
 * what the other threads left behind.
 *
 * Registration happens in kb_main(), after its own flags are read: each benchmark file names one
 * registrar function with KB_REGISTER(), and kb_main() calls them in link order.
 * Every benchmark measures real (wall-clock) time: Google Benchmark 1.7.1 computes wrong rates
 * for threaded runs measured in CPU time, and one time base keeps all the ratios comparable.
 */
#ifndef KBENCH_H
#define KBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kb_state;	/* one thread's benchmark::State, opaque */
struct kb_bench;	/* one registered benchmark::internal::Benchmark, opaque */

typedef void kb_fn(struct kb_state *st);

/* ---- registration (inside a registrar) ---- */
struct kb_bench *kb_register(const char *name, kb_fn *fn, void *ctx);
void kb_args(struct kb_bench *b, const int64_t *args, unsigned n);	/* one tuple per call */
void kb_range(struct kb_bench *b, int64_t lo, int64_t hi);	/* lo, powers of 8 between, hi */
void kb_arg_names(struct kb_bench *b, const char *const *names, unsigned n);
void kb_threads(struct kb_bench *b, int threads);			/* one count per call */
void kb_iterations(struct kb_bench *b, uint64_t n);			/* fixed, e.g. 1 */
void kb_min_time(struct kb_bench *b, double seconds);

/* ---- inside a benchmark ---- */
uint64_t kb_batch(struct kb_state *st);		/* iterations to run now; 0 when done */
void *kb_ctx(const struct kb_state *st);	/* the ctx given to kb_register() */
int64_t kb_arg(const struct kb_state *st, unsigned i);
int kb_thread_index(const struct kb_state *st);
int kb_nthreads(const struct kb_state *st);
void kb_label(struct kb_state *st, const char *label);
void kb_items(struct kb_state *st, int64_t items);	/* adds items_per_second */
void kb_error(struct kb_state *st, const char *msg);	/* SkipWithError: the run is reported failed */

#define KB_RATE		0x1u	/* value / seconds of real time */
#define KB_AVG_THREADS	0x2u	/* value / number of threads */
#define KB_INVERT	0x4u	/* 1 / value (with KB_RATE: seconds per unit) */
/* Counters of all threads are summed (unless KB_AVG_THREADS); set them in one thread only. */
void kb_counter(struct kb_state *st, const char *name, double value, unsigned flags);

/* ---- a loop measured in a process of its own (process.c) ---- */
/*
 * kb_register_process(name, loop, label, seconds) registers a benchmark whose every run starts
 * this program again (/proc/self/exe --kb_process=NAME) and has the new process call loop(n) in
 * its main thread for that many seconds: a process that never created a thread, as glibc's
 * single-threaded fast paths require. The run reports ns_per_op and cpu_ns_per_op, and fails if
 * the process had a thread after all. The registrar that calls it runs in both processes.
 */
typedef void kb_loop_fn(uint64_t n);

struct kb_bench *kb_register_process(const char *name, kb_loop_fn *loop, const char *label,
				     double seconds);
/* In the started process (kb_main(), after the registrars): measures NAME; the exit status. */
int kb_process_run(const char *name);
/* Whether the process has only ever had one thread (glibc's __libc_single_threaded). */
bool kb_single_threaded(void);

/* ---- the machine (machine.c) ---- */
/*
 * kb_machine_describe() calls add(key, value) for what a reader needs to compare runs made on
 * different machines: the CPU, the measured cost of a pause and of an uncontended atomic, the
 * kernel, glibc, the C compiler; kb_machine_name() is the folder name of the machine's results.
 */
void kb_machine_describe(void (*add)(const char *key, const char *value));
const char *kb_machine_name(void);

/* ---- the driver ---- */
/* Length of one fixed-time measurement window (--kb_window=SECONDS, default 0.3). */
double kb_window_s(void);
void kb_add_registrar(void (*fn)(void));
int kb_main(int argc, char **argv);

#define KB_REGISTER(fn)								\
	static void __attribute__((constructor)) fn##_ctor(void)		\
	{									\
		kb_add_registrar(fn);						\
	}

#ifdef __cplusplus
}
#endif

#endif /* KBENCH_H */

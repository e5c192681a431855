// SPDX-License-Identifier: MIT
/*
 * kbench.cc — the C++ side of kbench.h: each C call maps onto one Google Benchmark call.
 *
 * kb_register() wraps the C function in a lambda that builds a kb_state (the State plus the
 * registration's ctx) on the thread's stack. kb_batch() hands out at most KB_BATCH iterations at
 * a time through State::KeepRunningBatch(), never more than are left, so the iteration count
 * Google Benchmark reports is exactly the one the C loop ran.
 *
 * kb_main() also records what a reader of the JSON needs to trust it: the machine (machine.c)
 * joins Google Benchmark's own context (cores, caches, frequency, load); the build adds the
 * library versions with --benchmark_context. The registrars run before Google Benchmark parses
 * its flags, so that a process started by process.c finds its benchmark without them.
 */
#include <benchmark/benchmark.h>

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kbench.h"

struct kb_state {
	benchmark::State *st;
	void *ctx;
};

// Iterations per call into C++: enough that the call's few nanoseconds vanish per iteration.
// kb_batch() never asks for more than are left, so Google Benchmark never overshoots.
static const benchmark::IterationCount KB_BATCH = 1000;

static const double KB_WINDOW_DEFAULT_S = 0.3;
static double kb_window = KB_WINDOW_DEFAULT_S;

static const int KB_MAX_REGISTRARS = 64;

// The compiler of this file and of the C++ peers' wrappers (machine.c records the C compiler).
#if defined(__clang__)
#define KB_CXX_COMPILER "clang++ " __clang_version__
#else
#define KB_CXX_COMPILER "g++ " __VERSION__
#endif
static void (*kb_registrars[KB_MAX_REGISTRARS])(void);
static int kb_nregistrars;

// struct kb_bench is never defined: C holds the Benchmark's address under an opaque name.
static benchmark::internal::Benchmark *B(struct kb_bench *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

extern "C" {

struct kb_bench *kb_register(const char *name, kb_fn *fn, void *ctx)
{
	auto *b = benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &st) {
		struct kb_state s = { &st, ctx };

		fn(&s);
	});
	b->UseRealTime();
	return reinterpret_cast<struct kb_bench *>(b);
}

void kb_args(struct kb_bench *b, const int64_t *args, unsigned n)
{
	B(b)->Args(std::vector<int64_t>(args, args + n));
}

void kb_range(struct kb_bench *b, int64_t lo, int64_t hi)
{
	B(b)->Range(lo, hi);
}

void kb_arg_names(struct kb_bench *b, const char *const *names, unsigned n)
{
	B(b)->ArgNames(std::vector<std::string>(names, names + n));
}

void kb_threads(struct kb_bench *b, int threads)
{
	B(b)->Threads(threads);
}

void kb_iterations(struct kb_bench *b, uint64_t n)
{
	B(b)->Iterations(static_cast<benchmark::IterationCount>(n));
}

void kb_min_time(struct kb_bench *b, double seconds)
{
	B(b)->MinTime(seconds);
}

uint64_t kb_batch(struct kb_state *s)
{
	benchmark::State &st = *s->st;
	benchmark::IterationCount left = st.max_iterations - st.iterations();
	benchmark::IterationCount n = std::max<benchmark::IterationCount>(1,
									  std::min(left, KB_BATCH));

	return st.KeepRunningBatch(n) ? static_cast<uint64_t>(n) : 0;
}

void *kb_ctx(const struct kb_state *s)
{
	return s->ctx;
}

int64_t kb_arg(const struct kb_state *s, unsigned i)
{
	return s->st->range(i);
}

int kb_thread_index(const struct kb_state *s)
{
	return s->st->thread_index();
}

int kb_nthreads(const struct kb_state *s)
{
	return s->st->threads();
}

void kb_label(struct kb_state *s, const char *label)
{
	s->st->SetLabel(label);
}

void kb_items(struct kb_state *s, int64_t items)
{
	s->st->SetItemsProcessed(items);
}

void kb_error(struct kb_state *s, const char *msg)
{
	s->st->SkipWithError(msg);
}

void kb_counter(struct kb_state *s, const char *name, double value, unsigned flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & KB_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & KB_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & KB_INVERT)
		f |= benchmark::Counter::kInvert;
	s->st->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

double kb_window_s(void)
{
	return kb_window;
}

void kb_add_registrar(void (*fn)(void))
{
	if (kb_nregistrars == KB_MAX_REGISTRARS) {
		fprintf(stderr, "kbench: more than %d benchmark files\n", KB_MAX_REGISTRARS);
		abort();
	}
	kb_registrars[kb_nregistrars++] = fn;
}

} // extern "C"

// Takes ksync-bench's own flags out of argv (Google Benchmark rejects flags it does not know):
// --kb_window=SECONDS, --kb_machine (print the machine's name and exit), --kb_process=NAME (be
// the process that measures NAME: see process.c).
static bool kb_print_machine;
static const char *kb_process_name;

static int take_own_flags(int argc, char **argv)
{
	static const char window_flag[] = "--kb_window=", process_flag[] = "--kb_process=";
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], window_flag, sizeof(window_flag) - 1) == 0) {
			kb_window = atof(argv[i] + sizeof(window_flag) - 1);
			if (kb_window <= 0)
				kb_window = KB_WINDOW_DEFAULT_S;
		} else if (strncmp(argv[i], process_flag, sizeof(process_flag) - 1) == 0) {
			kb_process_name = argv[i] + sizeof(process_flag) - 1;
		} else if (strcmp(argv[i], "--kb_machine") == 0) {
			kb_print_machine = true;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = nullptr;
	return out;
}

static void add_context(const char *key, const char *value)
{
	benchmark::AddCustomContext(key, value);
}

static void *no_op(void *arg)
{
	return arg;
}

extern "C" int kb_main(int argc, char **argv)
{
	pthread_t thread;

	argc = take_own_flags(argc, argv);
	if (kb_print_machine) {
		puts(kb_machine_name());
		return 0;
	}
	for (int i = 0; i < kb_nregistrars; i++)
		kb_registrars[i]();
	if (kb_process_name)
		return kb_process_run(kb_process_name);
	// Every benchmark of this process runs in a process with threads, whatever the filter:
	// glibc's single-threaded fast paths are measured by process.c, in processes of their own.
	if (pthread_create(&thread, nullptr, no_op, nullptr) != 0 ||
	    pthread_join(thread, nullptr) != 0) {
		fprintf(stderr, "ksync-bench: cannot start a thread\n");
		return 1;
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	kb_machine_describe(add_context);
	benchmark::AddCustomContext("cxx", KB_CXX_COMPILER);
	benchmark::AddCustomContext("kb_window_s", std::to_string(kb_window));
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

// The suite's program is nothing but its benchmark files and this driver.
int main(int argc, char **argv)
{
	return kb_main(argc, argv);
}

// SPDX-License-Identifier: MIT
/*
 * kbench.cc — the C++ side of kbench.h: each C call maps onto one Google Benchmark call.
 *
 * kb_register() wraps the C function in a lambda that builds a kb_state (the State plus the
 * registration's ctx) on the thread's stack. kb_batch() hands out at most KB_BATCH iterations at
 * a time through State::KeepRunningBatch(), never more than are left, so the iteration count
 * Google Benchmark reports is exactly the one the C loop ran.
 *
 * kb_main() also records what a reader of the JSON needs to trust it: the CPU model, the kernel
 * and the glibc version join Google Benchmark's own context (cores, caches, frequency, load);
 * the build adds the library versions with --benchmark_context.
 */
#include <benchmark/benchmark.h>

#include <gnu/libc-version.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

static std::string cpu_model()
{
	std::ifstream in("/proc/cpuinfo");
	std::string line;

	while (std::getline(in, line))
		if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
			return line.substr(line.find(':') + 2);
	return "unknown";
}

// Takes --kb_window=SECONDS out of argv; Google Benchmark rejects flags it does not know.
static int take_own_flags(int argc, char **argv)
{
	static const char window_flag[] = "--kb_window=";
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], window_flag, sizeof(window_flag) - 1) == 0) {
			kb_window = atof(argv[i] + sizeof(window_flag) - 1);
			if (kb_window <= 0)
				kb_window = KB_WINDOW_DEFAULT_S;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = nullptr;
	return out;
}

extern "C" int kb_main(int argc, char **argv)
{
	struct utsname u;

	argc = take_own_flags(argc, argv);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::AddCustomContext("cpu_model", cpu_model());
	if (uname(&u) == 0)
		benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release +
							      " " + u.machine);
	benchmark::AddCustomContext("glibc", gnu_get_libc_version());
	benchmark::AddCustomContext("kb_window_s", std::to_string(kb_window));
	for (int i = 0; i < kb_nregistrars; i++)
		kb_registrars[i]();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

// The suite's program is nothing but its benchmark files and this driver.
int main(int argc, char **argv)
{
	return kb_main(argc, argv);
}

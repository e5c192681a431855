// SPDX-License-Identifier: MIT
/*
 * process.c — loops measured in a process that never created a thread.
 *
 * glibc (since 2.34) skips the atomic read-modify-writes of a private mutex for as long as the
 * process has only ever had one thread (__libc_single_threaded), and so may a ksync primitive.
 * ksync-bench runs its benchmarks among threads, and kb_main() starts one thread before any
 * benchmark, so every figure it measures in its own process is a "process with threads" figure
 * whatever the filter. A figure for the single-threaded case needs a process of its own, and
 * fork() does not give one: the child of a threaded parent stays multi-threaded for glibc
 * (checked on 2.36). So each run of such a benchmark executes /proc/self/exe again with
 * --kb_process=NAME and reads one line back from its standard output.
 *
 * The new process runs the registrars (they initialise the objects and fill the table below),
 * then calls loop(KB_PROCESS_BATCH) for a tenth of the benchmark's time to warm up and for that
 * time to measure, reading the clock between batches, and prints
 *
 *	<operations> <ns> <cpu_ns> <single_threaded>
 *
 * The parent reports ns_per_op and cpu_ns_per_op (the process's CPU time) as counters; Google
 * Benchmark's own time for the run includes starting the process and means nothing here. A
 * process that had a thread after all fails the run instead of reporting the other case.
 */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kbench.h"

/* Iterations between two clock reads: the read (about 20 ns) vanishes against 10^4 operations. */
#define KB_PROCESS_BATCH	10000u
#define KB_MAX_PROCESSES	64

struct kb_process {
	const char *name;
	kb_loop_fn *loop;
	const char *label;
	double seconds;
};

static struct kb_process processes[KB_MAX_PROCESSES];
static unsigned nprocesses;

extern char **environ;

bool kb_single_threaded(void)
{
	return __libc_single_threaded;
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs loop from now until the window of window_ns is over; returns the operations. */
static uint64_t run_for(kb_loop_fn *loop, int64_t window_ns)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + window_ns;
	uint64_t ops = 0;

	do {
		loop(KB_PROCESS_BATCH);
		ops += KB_PROCESS_BATCH;
	} while (now_ns(CLOCK_MONOTONIC) < end);
	return ops;
}

int kb_process_run(const char *name)
{
	int64_t length_ns, t0, cpu0;
	uint64_t ops;

	for (unsigned i = 0; i < nprocesses; i++) {
		if (strcmp(processes[i].name, name) != 0)
			continue;
		length_ns = (int64_t)(processes[i].seconds * 1e9);
		run_for(processes[i].loop, length_ns / 10);
		cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		t0 = now_ns(CLOCK_MONOTONIC);
		ops = run_for(processes[i].loop, length_ns);
		printf("%" PRIu64 " %" PRId64 " %" PRId64 " %d\n", ops,
		       now_ns(CLOCK_MONOTONIC) - t0, now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
		       kb_single_threaded());
		return fflush(stdout) == 0 ? 0 : 1;
	}
	fprintf(stderr, "ksync-bench: --kb_process=%s: no such benchmark\n", name);
	return 1;
}

/* Starts this program measuring p and reads its line into out; 0, or a message for kb_error. */
static const char *spawn_child(const struct kb_process *p, char *out, size_t size)
{
	char flag[256], window[64];
	char *argv[] = { "/proc/self/exe", flag, window, NULL };
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int fd[2], status, err;
	ssize_t n;
	pid_t pid;

	snprintf(flag, sizeof(flag), "--kb_process=%s", p->name);
	snprintf(window, sizeof(window), "--kb_window=%.17g", kb_window_s());
	if (pipe(fd) != 0)
		return "pipe() failed";
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (err != 0) {
		close(fd[0]);
		return "posix_spawn(/proc/self/exe) failed";
	}
	while (len + 1 < size && ((n = read(fd[0], out + len, size - len - 1)) > 0 ||
				  (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	out[len] = '\0';
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return "the measuring process failed";
	return NULL;
}

static void bm_process(struct kb_state *st)
{
	const struct kb_process *p = kb_ctx(st);
	long long ns = 0, cpu_ns = 0;
	unsigned long long ops = 0;
	const char *err = NULL;
	int single = 0;
	char line[256];

	while (kb_batch(st)) {
		err = spawn_child(p, line, sizeof(line));
		if (!err && sscanf(line, "%llu %lld %lld %d", &ops, &ns, &cpu_ns, &single) != 4)
			err = "the measuring process printed no result";
	}
	if (!err && !single)
		err = "the measuring process was not single-threaded";
	if (err) {
		kb_error(st, err);
		return;
	}
	kb_counter(st, "ns_per_op", (double)ns / (double)ops, 0);
	kb_counter(st, "cpu_ns_per_op", (double)cpu_ns / (double)ops, 0);
	kb_label(st, p->label);
}

struct kb_bench *kb_register_process(const char *name, kb_loop_fn *loop, const char *label,
				     double seconds)
{
	struct kb_process *p;
	struct kb_bench *b;

	if (nprocesses == KB_MAX_PROCESSES) {
		fprintf(stderr, "ksync-bench: more than %d process benchmarks\n", KB_MAX_PROCESSES);
		abort();
	}
	p = &processes[nprocesses++];
	*p = (struct kb_process){ name, loop, label, seconds };
	b = kb_register(name, bm_process, p);
	kb_iterations(b, 1);
	return b;
}

// SPDX-License-Identifier: MIT
/*
 * ksync-matrix: the course's CPU-bound example. C = A × B (dense doubles) computed
 *
 *	seq		by one thread: the reference, and the time every speedup is measured against
 *	threads		by T ksync threads, started together by a ksync barrier
 *	processes	by T forked processes: C in MAP_SHARED memory, a KS_SHARED barrier
 *	gil		by T threads that must hold an emulated CPython GIL to compute (gil.h)
 *	gil-io		as gil, with an "I/O" call per block that releases the GIL around a sleep;
 *			measured with 1 thread and with T threads, the first being its reference
 *
 * Every mode's result is compared bit for bit with seq's (see matrix.h). Each mode's line gives
 * its time, GFLOP/s, speedup and parallel efficiency (speedup / workers). The lesson of the
 * seed: threads ≈ T× faster without a GIL (up to the core count), ≈ 1× under it; processes ≈
 * threads; and under the GIL, I/O still overlaps.
 *
 * Exit status: 0 if every result verified, 1 otherwise, 2 on bad usage.
 */
#include "gil.h"
#include "matrix.h"

#include <ksync/barrier.h>
#include <ksync/thread.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_N		1280u	/* about 3 s for all the modes on 2 cores */
#define MAX_WORKERS		256u
#define MAX_REPS		100u
/*
 * The reference is the faster of two runs: a first run slowed by a neighbour (or by the CPU
 * leaving a low-power state) would flatter every speedup measured against it.
 */
#define SEQ_MIN_REPS		2u
/* A 1-minute load average above this many per CPU is worth a warning next to the speedups. */
#define LOAD_NOTE_FRACTION	0.5

enum mode { SEQ, THREADS, PROCESSES, GIL, GIL_IO, NR_MODES };

static const char *const mode_names[NR_MODES] = {
	[SEQ] = "seq", [THREADS] = "threads", [PROCESSES] = "processes",
	[GIL] = "gil", [GIL_IO] = "gil-io",
};

/* One run's shared state; in MAP_SHARED memory so that forked workers see the same one. */
struct run {
	struct mm m;
	_Atomic unsigned next;		/* the next unclaimed row block */
	struct ks_barrier start;	/* the workers start together; its action starts the clock */
	struct gil gil;
	int64_t io_ns;			/* gil-io: the "I/O" before each block */
	int64_t t0;			/* when the last worker reached the start barrier */
	_Atomic int64_t t1;		/* when the last worker finished */
};

struct result {
	enum mode mode;
	unsigned workers;
	double secs;
	double *c;			/* the product, compared with seq's */
	bool ok;			/* the workers all exited cleanly and c verified */
	struct gil_stats gil;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "ksync-matrix: %s: %s\n", what, strerror(err));
	exit(1);
}

static void worker_compute(struct run *r)
{
	unsigned block;

	while (mm_claim(&r->next, r->m.n, &block))
		mm_block(&r->m, block);
}

/*
 * The clock is read by the workers themselves: started by the start barrier's action (in the
 * last worker to arrive, before any leaves) and stopped by the last worker to finish. A main
 * thread that the machine is slow to schedule cannot then shorten or stretch the measurement.
 */
static int start_clock(void *arg)
{
	struct run *r = arg;

	r->t0 = ks_now_ns();	/* the barrier orders this before the main thread's join */
	return 0;
}

static void stop_clock(struct run *r)
{
	int64_t now = ks_now_ns();
	int64_t last = atomic_load_explicit(&r->t1, memory_order_relaxed);

	/* relaxed: read after join() or waitpid(), which order it */
	while (now > last && !atomic_compare_exchange_weak_explicit(&r->t1, &last, now,
								     memory_order_relaxed,
								     memory_order_relaxed))
		;
}

static void start_line(struct run *r)
{
	int err = ks_barrier_wait(&r->start);

	if (err < 0)
		die("ks_barrier_wait", -err);
}

static void *thread_worker(void *arg)
{
	struct run *r = arg;

	start_line(r);
	worker_compute(r);
	stop_clock(r);
	return NULL;
}

/* An interpreter thread: it may only compute while it holds the GIL, one tile per tick. */
static void *gil_worker(void *arg)
{
	struct run *r = arg;
	struct gil_thread t;
	unsigned block;

	gil_thread_init(&t, &r->gil);
	start_line(r);
	gil_take(&t);
	while (mm_claim(&r->next, r->m.n, &block)) {
		if (r->io_ns)
			gil_sleep(&t, r->io_ns);
		for (unsigned tile = 0; tile < mm_tiles(r->m.n); tile++) {
			mm_tile(&r->m, block, tile);
			gil_tick(&t);
		}
	}
	gil_drop(&t);
	stop_clock(r);
	return NULL;
}

static void run_threads(struct run *r, unsigned workers, void *(*fn)(void *))
{
	struct ks_thread th[MAX_WORKERS];
	int err;

	for (unsigned i = 0; i < workers; i++) {
		err = ks_thread_start(&th[i], fn, r);
		if (err)
			die("ks_thread_start", -err);
	}
	for (unsigned i = 0; i < workers; i++) {
		err = ks_thread_join(&th[i], NULL);
		if (err)
			die("ks_thread_join", -err);
	}
}

static bool run_processes(struct run *r, unsigned workers)
{
	pid_t pids[MAX_WORKERS];
	bool ok = true;
	int status;

	fflush(NULL);	/* or a child's exit() could print the parent's buffered lines again */
	for (unsigned i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			int err = errno;

			ks_barrier_abort(&r->start);	/* the children started so far exit */
			die("fork", err);
		}
		if (pids[i] == 0) {
			thread_worker(r);
			_exit(0);
		}
	}
	for (unsigned i = 0; i < workers; i++) {
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR)
				die("waitpid", errno);
		}
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	return ok;
}

/* Runs one mode into a fresh C. */
static struct result run_mode(enum mode mode, const struct mm *in, unsigned workers,
			      int64_t interval_ns, int64_t io_ns)
{
	struct result res = { .mode = mode, .workers = workers, .ok = true };
	struct run *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int err;

	if (r == MAP_FAILED)
		die("mmap", errno);
	r->m = *in;
	r->m.c = mm_alloc(in->n, true);
	if (!r->m.c)
		die("mmap", errno);
	/* Fault every page in now, so that no mode's clock pays for the first touch. */
	memset(r->m.c, 0, (size_t)in->n * in->n * sizeof(double));
	atomic_init(&r->next, 0);
	gil_init(&r->gil, interval_ns);
	r->io_ns = mode == GIL_IO ? io_ns : 0;
	atomic_init(&r->t1, 0);
	/* seq never waits at it */
	err = ks_barrier_init(&r->start, workers, start_clock, r,
			      mode == PROCESSES ? KS_SHARED : 0);
	if (err)
		die("ks_barrier_init", -err);

	switch (mode) {
	case SEQ:
		start_clock(r);
		worker_compute(r);
		stop_clock(r);
		break;
	case THREADS:
		run_threads(r, workers, thread_worker);
		break;
	case PROCESSES:
		res.ok = run_processes(r, workers);
		break;
	case GIL:
	case GIL_IO:
		run_threads(r, workers, gil_worker);
		gil_stats(&r->gil, &res.gil);
		break;
	case NR_MODES:
		break;
	}
	res.secs = (double)(atomic_load_explicit(&r->t1, memory_order_relaxed) - r->t0) /
		   KS_NSEC_PER_SEC;
	res.c = r->m.c;
	munmap(r, sizeof(*r));
	return res;
}

/*
 * The fastest of `reps` runs: other work on the machine only ever slows a run down, so the
 * minimum is the best estimate of the mode's own speed. Every run's result must verify.
 */
static struct result best_of(unsigned reps, enum mode mode, const struct mm *in,
			     const double *want, unsigned workers, int64_t interval_ns,
			     int64_t io_ns)
{
	struct result best = { .c = NULL };
	bool ok = true;

	for (unsigned i = 0; i < reps; i++) {
		struct result res = run_mode(mode, in, workers, interval_ns, io_ns);

		res.ok &= !want || mm_equal(res.c, want, in->n);
		ok &= res.ok;
		if (i == 0 || res.secs < best.secs) {
			mm_free(best.c, in->n);
			best = res;
		} else {
			mm_free(res.c, in->n);
		}
	}
	best.ok = ok;
	return best;
}

static void print_row(const struct result *res, unsigned n, double ref_secs, const char *note)
{
	double speedup = ref_secs / res->secs;

	printf("%-10s %7u %8.3f s %8.2f %8.2fx %9.0f%%   %s%s\n", mode_names[res->mode],
	       res->workers, res->secs, mm_flops(n) / res->secs / 1e9, speedup,
	       100.0 * speedup / res->workers, res->ok ? "ok" : "WRONG", note);
}

static void print_gil(const struct result *res)
{
	const struct gil_stats *s = &res->gil;

	printf("           GIL: at most %u thread(s) computing at once", s->max_holders);
	if (s->io_calls)
		printf(", up to %u in I/O at once (%lu I/O calls)", s->max_in_io, s->io_calls);
	printf(";\n                %lu hand-overs, %lu drop requests, %lu forced switches\n",
	       s->switches, s->drop_requests, s->forced_switches);
}

/* Other programs on the CPUs take their share of any speedup: say so when they are there. */
static const char *load_note(long cpus)
{
	static char note[64];
	double load = 0;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = 0;
		fclose(f);
	}
	if (load < LOAD_NOTE_FRACTION * cpus)
		return "";
	snprintf(note, sizeof(note), "\n(load average %.1f: other work shares these CPUs)", load);
	return note;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ksync-matrix [-n N] [-t WORKERS] [-m MODES] [-r REPS] [-s SWITCH_US] [-i IO_US]\n"
		"  -n N          matrix size (default %u)\n"
		"  -t WORKERS    threads or processes (default: the online CPUs, at least 2)\n"
		"  -m MODES      comma list of seq,threads,processes,gil,gil-io or all (default)\n"
		"  -r REPS       time each mode REPS times and keep the fastest (default 1;\n"
		"                seq, the reference, at least %u)\n"
		"  -s SWITCH_US  the GIL's switch interval in microseconds (default %lld)\n"
		"  -i IO_US      gil-io: microseconds of I/O per block of %u rows\n"
		"                (default: all the I/O adds up to seq's compute time)\n",
		DEFAULT_N, SEQ_MIN_REPS, GIL_DEFAULT_INTERVAL_NS / KS_NSEC_PER_USEC,
		MM_BLOCK_ROWS);
}

static unsigned long parse_num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "ksync-matrix: bad number '%s' (1..%lu)\n", s, max);
		exit(2);
	}
	return v;
}

static unsigned parse_modes(char *list)
{
	unsigned set = 0;

	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		enum mode m;

		if (!strcmp(tok, "all")) {
			set |= (1u << NR_MODES) - 1;
			continue;
		}
		for (m = 0; m < NR_MODES && strcmp(tok, mode_names[m]); m++)
			;
		if (m == NR_MODES) {
			fprintf(stderr, "ksync-matrix: unknown mode '%s'\n", tok);
			exit(2);
		}
		set |= 1u << m;
	}
	return set;
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = DEFAULT_N, workers = cpus > 2 ? (unsigned)cpus : 2;
	unsigned modes = (1u << NR_MODES) - 1;
	int64_t interval_ns = GIL_DEFAULT_INTERVAL_NS, io_ns = 0;
	struct result seq, res, io_ref;
	struct mm in;
	double *a, *b;
	bool all_ok = true;
	unsigned reps = 1;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:m:r:s:i:h")) != -1) {
		switch (opt) {
		case 'n':
			n = parse_num(optarg, 1u << 15);
			break;
		case 't':
			workers = parse_num(optarg, MAX_WORKERS);
			break;
		case 'm':
			modes = parse_modes(optarg);
			break;
		case 'r':
			reps = parse_num(optarg, MAX_REPS);
			break;
		case 's':
			interval_ns = parse_num(optarg, 10 * 1000 * 1000) * KS_NSEC_PER_USEC;
			break;
		case 'i':
			io_ns = parse_num(optarg, 10 * 1000 * 1000) * KS_NSEC_PER_USEC;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	a = mm_alloc(n, false);
	b = mm_alloc(n, false);
	if (!a || !b)
		die("mmap", errno);
	mm_fill(a, n, 1);
	mm_fill(b, n, 2);
	in = (struct mm){ .n = n, .a = a, .b = b };

	printf("ksync-matrix: C = A x B, N = %u (%.2f GFLOP), %u workers, %ld CPUs online%s\n", n,
	       mm_flops(n) / 1e9, workers, cpus, load_note(cpus));
	printf("%-10s %7s %10s %8s %9s %10s   %s\n", "mode", "workers", "time", "GFLOP/s",
	       "speedup", "efficiency", "result");

	/* seq always runs: it is the reference for the speedups and for the results. */
	seq = best_of(reps > SEQ_MIN_REPS ? reps : SEQ_MIN_REPS, SEQ, &in, NULL, 1, interval_ns,
		      0);
	in.c = seq.c;
	seq.ok = mm_spot_check(&in);
	all_ok &= seq.ok;
	print_row(&seq, n, seq.secs, seq.ok ? " (spot-checked against naive dot products)" : "");
	if (!io_ns)
		io_ns = (int64_t)(seq.secs * KS_NSEC_PER_SEC) / mm_blocks(n);

	for (enum mode m = THREADS; m < NR_MODES; m++) {
		double ref = seq.secs;

		if (!(modes & (1u << m)))
			continue;
		if (m == GIL_IO) {
			printf("gil-io: %.2f ms of I/O (GIL released) before each of the %u "
			       "blocks\n", (double)io_ns / KS_NSEC_PER_MSEC, mm_blocks(n));
			io_ref = best_of(reps, GIL_IO, &in, seq.c, 1, interval_ns, io_ns);
			all_ok &= io_ref.ok;
			print_row(&io_ref, n, io_ref.secs, " (the reference for gil-io's speedup)");
			mm_free(io_ref.c, n);
			ref = io_ref.secs;
		}
		res = best_of(reps, m, &in, seq.c, workers, interval_ns, io_ns);
		all_ok &= res.ok;
		print_row(&res, n, ref, "");
		if (m == GIL || m == GIL_IO)
			print_gil(&res);
		mm_free(res.c, n);
	}
	return all_ok ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * A small TAP (version 13) producer for ksync's tests, plus the tools every blocking primitive's
 * test needs: a watchdog that turns a hang into a failure naming the phase, stress phases bounded
 * by wall-clock time (KS_STRESS_MS), a signal storm aimed at a waiting thread, raw futex wakes to
 * provoke spurious returns, timeout checks, and MAP_SHARED memory for tests across fork().
 *
 * Assertions may be made from any thread. Include it in exactly one file per test program.
 */
#ifndef KSYNC_TESTS_TAP_H
#define KSYNC_TESTS_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_uint tap__n;
static atomic_uint tap__failed;
static const char *_Atomic tap__phase = "start";

static inline int64_t tap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void tap_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void tap_sleep_ms(int64_t ms)
{
	tap_sleep_ns(ms * 1000000);
}

static void tap__vresult(bool pass, const char *fmt, va_list ap)
{
	unsigned n = atomic_fetch_add(&tap__n, 1) + 1;

	if (!pass)
		atomic_fetch_add(&tap__failed, 1);
	flockfile(stdout);
	printf("%sok %u - ", pass ? "" : "not ", n);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
}

/* ok(cond, "name %d", ...): one test point. Returns cond. */
__attribute__((format(printf, 2, 3)))
static inline bool ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap__vresult(pass, fmt, ap);
	va_end(ap);
	return pass;
}

/* Diagnostics: a "# " line. */
__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
	va_end(ap);
}

/* is(got, want, name): integers, with the values printed on failure. */
#define is(got, want, ...)							\
	({									\
		long long tap__g = (long long)(got), tap__w = (long long)(want); \
		bool tap__p = ok(tap__g == tap__w, __VA_ARGS__);		\
		if (!tap__p)							\
			diag("  got %lld, expected %lld", tap__g, tap__w);	\
		tap__p;								\
	})

static inline void tap_skip(unsigned n, const char *why)
{
	while (n--) {
		unsigned k = atomic_fetch_add(&tap__n, 1) + 1;

		printf("ok %u # skip %s\n", k, why);
	}
	fflush(stdout);
}

/* Names what the test is doing, for the watchdog's message. */
static inline void tap_phase(const char *name)
{
	atomic_store(&tap__phase, name);
}

static void *tap__watchdog(void *arg)
{
	int64_t seconds = (int64_t)(intptr_t)arg;

	tap_sleep_ns(seconds * 1000000000);
	printf("not ok %u - watchdog: '%s' still running after %" PRId64 " s (hang or lost wake-up)\n",
	       atomic_load(&tap__n) + 1, atomic_load(&tap__phase), seconds);
	printf("Bail out! %s hung\n", atomic_load(&tap__phase));
	fflush(stdout);
	_exit(3);
	return NULL;
}

/* Starts the test: the TAP header, and a watchdog that fails the whole program after `seconds`. */
static inline void tap_start(int64_t seconds)
{
	pthread_t t;
	pthread_attr_t a;
	const char *scale = getenv("KS_WATCHDOG_SCALE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (scale && atoi(scale) > 0)
		seconds *= atoi(scale);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &a, tap__watchdog, (void *)(intptr_t)seconds);
	pthread_attr_destroy(&a);
}

/* Ends the test: the plan line, and the exit status prove expects. */
static inline int tap_done(void)
{
	printf("1..%u\n", atomic_load(&tap__n));
	fflush(stdout);
	return atomic_load(&tap__failed) ? 1 : 0;
}

/* How long each stress phase runs, in ms: KS_STRESS_MS, default 1000. */
static inline int64_t tap_stress_ms(void)
{
	const char *s = getenv("KS_STRESS_MS");
	long v = s ? atol(s) : 0;

	return v > 0 ? v : 1000;
}

/* A wall-clock budget: tap_until(&end) is true until it passes. */
static inline int64_t tap_deadline_in_ms(int64_t ms)
{
	return tap_now_ns() + ms * 1000000;
}

static inline bool tap_before(int64_t end_ns)
{
	return tap_now_ns() < end_ns;
}

/*
 * A timed wait took `took_ns` for a requested `want_ns`: never early, never absurdly late. The
 * late bound is generous (sanitizers, a loaded 2-CPU machine): timing figures belong in the
 * benchmarks; this only catches a timeout ignored or cut short.
 */
#define TAP_LATE_SLACK_NS (1500LL * 1000000)
static inline bool tap_timeout_ok(int64_t took_ns, int64_t want_ns, const char *what)
{
	bool pass = took_ns >= want_ns && took_ns <= want_ns + TAP_LATE_SLACK_NS;

	ok(pass, "%s: timed out after %.1f ms for %.1f ms asked", what, took_ns / 1e6,
	   want_ns / 1e6);
	return pass;
}

/* ---- signals during waits ------------------------------------------------------------------ */

static atomic_ulong tap__signals_seen;

static void tap__on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&tap__signals_seen, 1, memory_order_relaxed);
}

/* SIGUSR1 interrupts system calls (no SA_RESTART), so an unhandled EINTR would show. */
static inline void tap_signal_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tap__on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
}

struct tap_storm {
	pthread_t target;
	pthread_t thread;
	atomic_bool stop;
	int64_t period_ns;
};

static void *tap__storm(void *arg)
{
	struct tap_storm *s = arg;

	while (!atomic_load(&s->stop)) {
		pthread_kill(s->target, SIGUSR1);
		tap_sleep_ns(s->period_ns);
	}
	return NULL;
}

/* Sends SIGUSR1 to `target` every period_ns until tap_storm_stop(). */
static inline void tap_storm_start(struct tap_storm *s, pthread_t target, int64_t period_ns)
{
	tap_signal_setup();
	s->target = target;
	s->period_ns = period_ns;
	atomic_store(&s->stop, false);
	pthread_create(&s->thread, NULL, tap__storm, s);
}

static inline void tap_storm_stop(struct tap_storm *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
}

static inline unsigned long tap_signals_seen(void)
{
	return atomic_load(&tap__signals_seen);
}

/* ---- spurious wake-ups ----------------------------------------------------------------------- */

/* FUTEX_WAKE on a word, private and shared, as though the kernel woke its waiters for nothing. */
static inline void tap_futex_poke(void *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX, NULL, NULL, 0);
	syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/*
 * Waits until the thread with kernel id `tid` is asleep in the kernel (state S in /proc), for
 * at most `ms`: how a test knows that a waiter really sleeps in futex_wait rather than spinning
 * or still on its way. True if it slept.
 */
static inline bool tap_wait_asleep(int tid, int64_t ms)
{
	int64_t end = tap_deadline_in_ms(ms);
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	do {
		FILE *f = fopen(path, "r");
		char *p = NULL;

		if (f) {
			p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
			fclose(f);
		}
		if (p && p[1] == ' ' && p[2] == 'S')
			return true;
		tap_sleep_ms(1);
	} while (tap_before(end));
	return false;
}

/* ---- processes ------------------------------------------------------------------------------- */

/* Zeroed MAP_SHARED memory that survives fork(). */
static inline void *tap_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

/* Waits for a child; true if it exited with status 0. */
static inline bool tap_wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Starts a plain pthread (test scaffolding; the library's own threads are tested in t-thread). */
static inline pthread_t tap_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg)) {
		printf("Bail out! pthread_create failed\n");
		exit(1);
	}
	return t;
}

/* ---- a thread blocked in one call --------------------------------------------------------- */

/*
 * The tests' waiter: a thread that makes one blocking call and records how it ended. `call`
 * gets the object and a timeout (negative: the form without a timeout) and returns the call's
 * result; the test reads `done` while it waits, then `result` and `took_ns`.
 */
typedef int tap_wait_fn(void *obj, int64_t timeout_ns);

struct tap_waiter {
	tap_wait_fn *call;
	void *obj;
	int64_t timeout_ns;
	atomic_int tid;
	atomic_bool done;
	int result;
	int64_t took_ns;
};

static void *tap__waiter_main(void *arg)
{
	struct tap_waiter *w = arg;
	int64_t t0;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	t0 = tap_now_ns();
	w->result = w->call(w->obj, w->timeout_ns);
	w->took_ns = tap_now_ns() - t0;
	atomic_store(&w->done, true);
	return NULL;
}

static inline pthread_t tap_waiter_start(struct tap_waiter *w, tap_wait_fn *call, void *obj,
					 int64_t timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->call = call;
	w->obj = obj;
	w->timeout_ns = timeout_ns;
	return tap_thread(tap__waiter_main, w);
}

/* Until the waiter has started and sleeps in the kernel (it may spin a little first). */
static inline bool tap_waiter_asleep(struct tap_waiter *w)
{
	while (!atomic_load(&w->tid))
		tap_sleep_ms(1);
	return tap_wait_asleep(atomic_load(&w->tid), 5000);
}

#endif /* KSYNC_TESTS_TAP_H */

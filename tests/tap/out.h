/* SPDX-License-Identifier: MIT */
/*
 * TAP version 13 output (prove on Debian bookworm rejects version 14): ok(), is(), diag(),
 * tap_skip(), and tap_done() for the plan line and the exit status. Assertions may be made from
 * any thread; tap_phase() names what the test is doing, for the watchdog's message.
 *
 * Include it in exactly one file per test program: the counters are the program's.
 */
#ifndef KSYNC_TESTS_TAP_OUT_H
#define KSYNC_TESTS_TAP_OUT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static atomic_uint tap__n;
static atomic_uint tap__failed;
static const char *_Atomic tap__phase = "start";

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

/* Ends the test: the plan line, and the exit status prove expects. */
static inline int tap_done(void)
{
	printf("1..%u\n", atomic_load(&tap__n));
	fflush(stdout);
	return atomic_load(&tap__failed) ? 1 : 0;
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

#endif /* KSYNC_TESTS_TAP_OUT_H */

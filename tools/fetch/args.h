/* SPDX-License-Identifier: MIT */
/*
 * Command-line values, shared by ksync-fetch and ksync-imgserver: counts, durations and sizes.
 * A value that cannot be represented exactly is refused, never wrapped, truncated or guessed:
 * the message names the program, the option, its value and what it takes, and the program
 * exits with status 2.
 *
 *	count		digits only, within the option's range
 *	duration	a finite number and a unit: "1.5" or "2s" (seconds), "300ms"; 0 or >= 1 ms
 *	size		digits and an optional k, M, G or T (KiB, MiB, GiB, TiB), within int64_t
 */
#ifndef KSYNC_FETCH_ARGS_H
#define KSYNC_FETCH_ARGS_H

#include <stdint.h>

#define EXIT_USAGE	2

/* "PROGRAM: message" and a pointer to --help on stderr, then exit(EXIT_USAGE). */
_Noreturn void args_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, for a bad value: "PROGRAM: OPTION 'VALUE': message" (the value escaped). */
_Noreturn void args_bad(const char *opt, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

unsigned long args_count(const char *opt, const char *s, unsigned long min, unsigned long max);
int64_t args_duration_ms(const char *opt, const char *s, int64_t max_ms);
int64_t args_size(const char *opt, const char *s, int64_t min);

#endif /* KSYNC_FETCH_ARGS_H */

/* SPDX-License-Identifier: MIT */
/*
 * Command-line values, shared by ksync-fetch and ksync-imgserver: counts, durations and sizes.
 * A value that cannot be represented is a usage error: the message names the program, the
 * option's value and what was expected, and the program exits with status 2.
 */
#ifndef KSYNC_FETCH_ARGS_H
#define KSYNC_FETCH_ARGS_H

#include <stdint.h>

#define EXIT_USAGE	2

/* Prints "PROGRAM: message" and a pointer to --help on stderr, and exits with EXIT_USAGE. */
_Noreturn void args_die(const char *fmt, const char *arg);

/* A count: a non-negative integer up to max. */
unsigned long args_count(const char *s, unsigned long max);

/* A duration in ms: "1.5" and "2s" are seconds, "300ms" milliseconds. */
int64_t args_ms(const char *s);

/* A size in bytes, with an optional k, M or G (powers of 1024). */
int64_t args_size(const char *s);

#endif /* KSYNC_FETCH_ARGS_H */

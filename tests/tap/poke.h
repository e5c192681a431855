/* SPDX-License-Identifier: MIT */
/*
 * The kernel side of a wait, seen from a test: raw FUTEX_WAKEs on a word, as though the kernel
 * woke its sleepers for nothing (spurious wake-ups), and /proc to tell when a thread really
 * sleeps in the kernel rather than spinning or still being on its way.
 */
#ifndef KSYNC_TESTS_TAP_POKE_H
#define KSYNC_TESTS_TAP_POKE_H

#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"

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

#endif /* KSYNC_TESTS_TAP_POKE_H */

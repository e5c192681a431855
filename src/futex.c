// SPDX-License-Identifier: MIT
/*
 * Per-thread state of the wait paths (the futex call counter, the adaptive spin budget), and the
 * clock every timeout is measured on.
 */
#include <time.h>

#include "futex.h"
#include "spin.h"

__thread unsigned long ks__futex_calls __attribute__((tls_model("initial-exec")));
__thread unsigned char ks__spin_shift __attribute__((tls_model("initial-exec")));

unsigned long ks_futex_calls(void)
{
	return ks__futex_calls;
}

int64_t ks_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * KS_NSEC_PER_SEC + ts.tv_nsec;
}

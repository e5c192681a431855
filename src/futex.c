// SPDX-License-Identifier: MIT
/* The per-thread futex call counter, and the clock every timeout is measured on. */
#include <time.h>

#include "futex.h"

__thread unsigned long ks__futex_calls __attribute__((tls_model("initial-exec")));

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

// SPDX-License-Identifier: MIT
/*
 * Per-thread state of the wait paths (the futex call counter, the adaptive spin budget), and the
 * clock every timeout is measured on.
 */
#include <pthread.h>
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

/*
 * The only window in which a ksync wait may be cancelled: asynchronous cancellation is enabled
 * for the system call alone, as glibc's own cancellation points do. A request that is already
 * pending acts inside pthread_setcanceltype(); one that comes during the sleep interrupts it
 * with SIGCANCEL, whose handler unwinds from here through the caller's cleanup handler. A
 * request that comes after the sleep ended acts before we return; the caller's handler then
 * also passes on a wake-up this thread may have consumed.
 */
int ks__futex_wait_cancelable(_Atomic uint32_t *word, int op, uint32_t expected,
			      const struct timespec *deadline, uint32_t bits)
{
	int oldtype, r;
	long ret;

	ks__futex_calls++;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &oldtype);
	ret = syscall(SYS_futex, word, op, expected, deadline, NULL, bits);
	r = ret == 0 ? 0 : -errno;
	pthread_setcanceltype(oldtype, NULL);
	return r;
}

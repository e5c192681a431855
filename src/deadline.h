/* SPDX-License-Identifier: MIT */
/*
 * Relative timeouts become one absolute CLOCK_MONOTONIC deadline, fixed when the call starts:
 * the waits that follow (after a spurious wake-up, a signal, a lost race) all aim at it.
 *
 *	timeout_ns <  0	-EINVAL
 *	timeout_ns == 0	try once, never sleep
 *	timeout_ns >  0	sleep until now + timeout_ns (saturating: a huge timeout waits forever)
 *
 * An absolute deadline (ks_deadline_init_abs()) may also be on CLOCK_REALTIME, for the callers
 * that take one (pthread_cond_timedwait's contract): the futex sleep then follows changes of the
 * wall clock instead of converting the deadline once.
 *
 * The same struct carries how a sleep on the way may end besides the deadline
 * (ks_deadline_wait_as()): interrupted by a signal handler (-EINTR, sem_wait's rule), or
 * cancelled (a pthread cancellation point); see ks_futex_wait_until() in futex.h.
 */
#ifndef KSYNC_SRC_DEADLINE_H
#define KSYNC_SRC_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <ksync/common.h>

struct ks_deadline {
	struct timespec ts;
	clockid_t clock;	/* CLOCK_MONOTONIC, or CLOCK_REALTIME (absolute deadlines only) */
	bool forever;		/* no deadline: ks_deadline_ts() is NULL */
	bool now;		/* timeout 0, or a deadline already past: try once */
	unsigned char wait;	/* KS_WAIT_INTR, KS_WAIT_CANCEL: see ks_deadline_wait_as() */
};

/* How a sleep may end early (ks_deadline_wait_as()); neither is the default. */
#define KS_WAIT_INTR	0x1u	/* a signal handler that ran ends the wait with -EINTR */
#define KS_WAIT_CANCEL	0x2u	/* the sleep is a pthread cancellation point */

/* 0, or -EINVAL for a negative timeout. */
static inline int ks_deadline_init(struct ks_deadline *d, int64_t timeout_ns)
{
	struct timespec now;
	int64_t sec;

	d->clock = CLOCK_MONOTONIC;
	d->forever = false;
	d->now = timeout_ns == 0;
	d->wait = 0;
	if (timeout_ns < 0)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = timeout_ns / KS_NSEC_PER_SEC;
	if (sec > INT32_MAX) {		/* ~68 years: as good as forever, and cannot overflow */
		d->forever = true;
		return 0;
	}
	d->ts.tv_sec = now.tv_sec + sec;
	d->ts.tv_nsec = now.tv_nsec + timeout_ns % KS_NSEC_PER_SEC;
	if (d->ts.tv_nsec >= KS_NSEC_PER_SEC) {
		d->ts.tv_sec++;
		d->ts.tv_nsec -= KS_NSEC_PER_SEC;
	}
	return 0;
}

static inline void ks_deadline_forever(struct ks_deadline *d)
{
	d->clock = CLOCK_MONOTONIC;
	d->forever = true;
	d->now = false;
	d->wait = 0;
}

/* What to hand to ks_futex_wait(). */
static inline const struct timespec *ks_deadline_ts(const struct ks_deadline *d)
{
	return d->forever ? NULL : &d->ts;
}

/* True once the deadline has passed (and at once for a timeout of 0). */
static inline bool ks_deadline_expired(const struct ks_deadline *d)
{
	struct timespec now;

	if (d->forever)
		return false;
	if (d->now)
		return true;
	clock_gettime(d->clock, &now);
	return now.tv_sec > d->ts.tv_sec ||
	       (now.tv_sec == d->ts.tv_sec && now.tv_nsec >= d->ts.tv_nsec);
}

/*
 * An absolute deadline `abs` on `clock` (NULL: none). 0, or -EINVAL for another clock or a
 * tv_nsec outside [0, 1 s). A deadline already past (a negative tv_sec included) tries once.
 */
static inline int ks_deadline_init_abs(struct ks_deadline *d, clockid_t clock,
				       const struct timespec *abs)
{
	if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME)
		return -EINVAL;
	if (!abs) {
		ks_deadline_forever(d);
		return 0;
	}
	if (abs->tv_nsec < 0 || abs->tv_nsec >= KS_NSEC_PER_SEC)
		return -EINVAL;
	d->clock = clock;
	d->forever = false;
	d->now = false;
	d->wait = 0;
	d->ts = *abs;
	d->now = abs->tv_sec < 0 || ks_deadline_expired(d);
	return 0;
}

/* Lets a signal handler (KS_WAIT_INTR) or a cancellation (KS_WAIT_CANCEL) end the sleeps. */
static inline void ks_deadline_wait_as(struct ks_deadline *d, unsigned wait)
{
	d->wait = (unsigned char)wait;
}

#endif /* KSYNC_SRC_DEADLINE_H */

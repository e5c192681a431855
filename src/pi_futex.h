/* SPDX-License-Identifier: MIT */
/*
 * FUTEX_LOCK_PI with a deadline, shared by the two locks whose word is a PI futex (ks_pi_mutex,
 * ks_robust_mutex with KS_PRIO_INHERIT): FUTEX_LOCK_PI2 on CLOCK_MONOTONIC, or FUTEX_LOCK_PI on
 * CLOCK_REALTIME where the kernel predates FUTEX_LOCK_PI2 (src/pi_mutex.c).
 */
#ifndef KSYNC_SRC_PI_FUTEX_H
#define KSYNC_SRC_PI_FUTEX_H

#include "deadline.h"

/* 0 once the kernel made the caller the owner; -ETIMEDOUT, -EAGAIN, -ESRCH, -EDEADLK, … */
int ks__pi_futex_lock(_Atomic uint32_t *word, const struct ks_deadline *d, unsigned flags);

#endif /* KSYNC_SRC_PI_FUTEX_H */

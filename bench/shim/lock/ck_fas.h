/* SPDX-License-Identifier: MIT */
/* ck_fas: Concurrency Kit's fetch-and-store (test-and-set) spinlock. */
#include <ck_spinlock.h>

#define LOCK_NAME	"ck_fas"
#define LOCK_ORIGIN	"ck"
#define LOCK_WAITS	"spins"
#define LOCK_TYPE	ck_spinlock_fas_t
#define LOCK_INIT(l)	ck_spinlock_fas_init(l)
#define LOCK(l, node)	ck_spinlock_fas_lock(l)
#define UNLOCK(l, node)	ck_spinlock_fas_unlock(l)

/* SPDX-License-Identifier: MIT */
/* ck_ticket: Concurrency Kit's ticket spinlock (FIFO). */
#include <ck_spinlock.h>

#define LOCK_NAME	"ck_ticket"
#define LOCK_ORIGIN	"ck"
#define LOCK_WAITS	"spins"
#define LOCK_TYPE	ck_spinlock_ticket_t
#define LOCK_INIT(l)	ck_spinlock_ticket_init(l)
#define LOCK(l, node)	ck_spinlock_ticket_lock(l)
#define UNLOCK(l, node)	ck_spinlock_ticket_unlock(l)

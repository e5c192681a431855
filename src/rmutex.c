// SPDX-License-Identifier: MIT
/* ks_rmutex: everything is inline in include/ksync/rmutex.h but the initializer. */
#include "until.h"

#include <ksync/rmutex.h>

void ks_rmutex_init(struct ks_rmutex *r, unsigned flags)
{
	ks_mutex_init(&r->lock, flags);
	atomic_init(&r->owner, 0);
	r->depth = 0;
}

int ks__rmutex_lock_until(struct ks_rmutex *r, const struct ks_deadline *d)
{
	int self = ks_self_tid();
	int err;

	if (ks__rmutex_owned_by(r, self))
		return ks__rmutex_reenter(r);
	err = ks__mutex_lock_until(&r->lock, d);
	if (!err)
		ks__rmutex_take(r, self);
	return err;
}

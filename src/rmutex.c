// SPDX-License-Identifier: MIT
/* ks_rmutex: everything is inline in include/ksync/rmutex.h but the initializer. */
#include <ksync/rmutex.h>

void ks_rmutex_init(struct ks_rmutex *r, unsigned flags)
{
	ks_mutex_init(&r->lock, flags);
	atomic_init(&r->owner, 0);
	r->depth = 0;
}

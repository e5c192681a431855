/* SPDX-License-Identifier: MIT */
/*
 * struct ks_rmutex — Python's threading.RLock: a ks_mutex plus an owner and a depth.
 *
 *	owner	kernel tid of the owning thread, 0 when unowned
 *	depth	how many times the owner holds it; touched by the owner alone
 *
 * Only the owner ever stores its own tid in `owner`, and it clears it before releasing the inner
 * mutex; so a relaxed load equals the caller's tid exactly when the caller owns the lock, and
 * the re-acquire path needs no atomic read-modify-write. Kernel tids are unique across
 * processes, so the same test works in MAP_SHARED memory. See docs/rmutex.md.
 */
#ifndef KSYNC_RMUTEX_H
#define KSYNC_RMUTEX_H

#include <ksync/common.h>
#include <ksync/mutex.h>

KS_BEGIN_DECLS

struct ks_rmutex {
	struct ks_mutex lock;
	KS_ATOMIC(int) owner;
	uint32_t depth;
};

#define KS_RMUTEX_DEPTH_MAX UINT32_MAX

#define KS_RMUTEX_INIT { KS_MUTEX_INIT, 0, 0 }

void ks_rmutex_init(struct ks_rmutex *r, unsigned flags);

static inline bool ks__rmutex_owned_by(const struct ks_rmutex *r, int self)
{
	return atomic_load_explicit(&r->owner, memory_order_relaxed) == self;
}

/* The caller owns r: one level deeper, or -EAGAIN at the limit. */
static inline int ks__rmutex_reenter(struct ks_rmutex *r)
{
	if (ks_unlikely(r->depth == KS_RMUTEX_DEPTH_MAX))
		return -EAGAIN;
	r->depth++;
	return 0;
}

/* The caller just locked the inner mutex. */
static inline void ks__rmutex_take(struct ks_rmutex *r, int self)
{
	atomic_store_explicit(&r->owner, self, memory_order_relaxed);
	r->depth = 1;
}

static inline bool ks_rmutex_trylock(struct ks_rmutex *r)
{
	int self = ks_self_tid();

	if (ks__rmutex_owned_by(r, self))
		return ks__rmutex_reenter(r) == 0;
	if (!ks_mutex_trylock(&r->lock))
		return false;
	ks__rmutex_take(r, self);
	return true;
}

/* 0, or -EAGAIN if the depth would overflow. */
static inline int ks_rmutex_lock(struct ks_rmutex *r)
{
	int self = ks_self_tid();

	if (ks__rmutex_owned_by(r, self))
		return ks__rmutex_reenter(r);
	ks_mutex_lock(&r->lock);
	ks__rmutex_take(r, self);
	return 0;
}

/* 0, -ETIMEDOUT, -EAGAIN (depth), or -EINVAL for a negative timeout. */
static inline int ks_rmutex_lock_timeout(struct ks_rmutex *r, int64_t timeout_ns)
{
	int self = ks_self_tid();
	int err;

	if (ks_unlikely(timeout_ns < 0))
		return -EINVAL;
	if (ks__rmutex_owned_by(r, self))
		return ks__rmutex_reenter(r);
	err = ks_mutex_lock_timeout(&r->lock, timeout_ns);
	if (!err)
		ks__rmutex_take(r, self);
	return err;
}

/* 0; -EPERM if the caller is not the owner. */
static inline int ks_rmutex_unlock(struct ks_rmutex *r)
{
	if (ks_unlikely(!ks__rmutex_owned_by(r, ks_self_tid())))
		return -EPERM;
	if (--r->depth)
		return 0;
	atomic_store_explicit(&r->owner, 0, memory_order_relaxed);
	return ks_mutex_unlock(&r->lock);	/* its release orders the two stores above */
}

static inline bool ks_rmutex_is_owned(const struct ks_rmutex *r)
{
	return ks__rmutex_owned_by(r, ks_self_tid());
}

KS_END_DECLS

#endif /* KSYNC_RMUTEX_H */

/* SPDX-License-Identifier: MIT */
/*
 * One description of each primitive's operations, shared by every harness that drives it: the
 * mutual-exclusion stress and the free-right-after-use harness in tests/harness/, the waiters of
 * the t-*.c tests, and ksync-torture. It is Concurrency Kit's idea (one small shim per lock feeds
 * the validation, the throughput and the latency tests) and the kernel's locktorture's
 * (struct lock_torture_ops): adding a primitive adds one small file here, and every harness
 * then knows how to drive it.
 *
 * struct ops covers the primitives one side waits on and another side lets through: locks
 * (acquire = lock, release = unlock), semaphores (down, up) and events (wait, set). Every call is
 * normalised to one convention:
 *
 *	acquire(obj, node, timeout_ns)
 *		timeout_ns = OPS_BLOCK: the untimed call (ks_mutex_lock)
 *		timeout_ns = OPS_TRY: the try call (ks_mutex_trylock)
 *		timeout_ns >= 0: the timed call (ks_mutex_lock_timeout)
 *		returns 0, or -ETIMEDOUT when not acquired in time, or the call's own error
 *	release(obj, node)
 *		returns 0 or the call's error (-EPERM, -EOVERFLOW)
 *
 * `node` is the calling thread's queue node for the locks that need one (MCS: node_size > 0);
 * it must live where every user of the lock can reach it (MAP_SHARED memory between processes).
 * Other primitives pass NULL. The primitives that fit no such shape (cond, barrier, thread,
 * once, llist, ring, workqueue) have a table of their own in their file, in the same spirit.
 *
 * Each primitive also has broken variants (ops/busted.h), negative controls in the manner of
 * locktorture's lock_busted_ops: a harness that cannot catch them cannot be trusted.
 */
#ifndef KSYNC_TESTS_OPS_H
#define KSYNC_TESTS_OPS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ksync/common.h>

#include "../tap/waiter.h"

#define OPS_BLOCK	(-1)	/* acquire's timeout: the untimed call */
#define OPS_TRY		(-2)	/* acquire's timeout: the try call */

/* What a table's primitive is and can do. */
enum {
	OPS_EXCLUSIVE	= 1u << 0,	/* a lock: one holder at a time, who releases it */
	OPS_TOKENS	= 1u << 1,	/* a semaphore: acquire takes a token, release adds */
	OPS_LATCH	= 1u << 2,	/* an event: release opens it for all, reset closes it */
	OPS_READERS	= 1u << 3,	/* a shared mode besides the exclusive one (rwlock) */
	OPS_RECURSIVE	= 1u << 4,	/* its holder may acquire it again (rmutex) */
	OPS_TIMED	= 1u << 5,	/* acquire takes timeouts >= 0 */
	OPS_SLEEPS	= 1u << 6,	/* waiters sleep on a futex; otherwise they only spin */
	OPS_SHARED	= 1u << 7,	/* KS_SHARED: across fork(), in MAP_SHARED memory */
	OPS_BOUNDED	= 1u << 8,	/* a release past the initial value is -EOVERFLOW */
	OPS_OPTIMISTIC	= 1u << 9,	/* readers read, then check (seqlock) */
	OPS_BUSTED	= 1u << 10,	/* broken on purpose: a negative control */
};

struct ops {
	const char *name;
	unsigned caps;
	size_t size;		/* of the object */
	size_t node_size;	/* of the per-thread node acquire and release take; 0: none */
	/* value: a semaphore's initial value (others ignore it); flags: 0 or KS_SHARED */
	int (*init)(void *obj, unsigned value, unsigned flags);
	int (*acquire)(void *obj, void *node, int64_t timeout_ns);
	int (*release)(void *obj, void *node);
	/* OPS_READERS: the shared mode, same conventions; downgrade turns a held exclusive
	 * mode into a shared one (may be NULL) */
	int (*acquire_shared)(void *obj, int64_t timeout_ns);
	int (*release_shared)(void *obj);
	int (*downgrade)(void *obj);
	/* OPS_OPTIMISTIC: a read section is begin, reads, and retry() false */
	uint32_t (*read_begin)(const void *obj);
	bool (*read_retry)(const void *obj, uint32_t start);
	/* OPS_LATCH: closes it again (ks_event_clear) */
	void (*reset)(void *obj);
	/* OPS_TOKENS: the tokens left */
	unsigned (*value)(const void *obj);
	/* held (a lock), no token left (a semaphore), not set (an event) */
	bool (*busy)(const void *obj);
	/* a waiter has registered, so that the next release takes the wake path */
	bool (*contended)(const void *obj);
	/* the futex word its waiters sleep on, for spurious pokes; NULL if they only spin */
	void *(*futex_word)(void *obj);
};

/* The name of the call acquire() makes for a timeout, for messages. */
static inline const char *ops_acquire_form(int64_t timeout_ns)
{
	return timeout_ns == OPS_BLOCK ? "untimed" : timeout_ns == OPS_TRY ? "try" : "timed";
}

/*
 * A call of a table as a tap_waiter's (tests/tap/waiter.h): acquire (OPS_CALL_READ:
 * acquire_shared), and with OPS_CALL_RELEASE the matching release once it has it.
 */
enum {
	OPS_CALL_READ		= 1u << 0,
	OPS_CALL_RELEASE	= 1u << 1,
};

struct ops_call {
	const struct ops *ops;
	void *obj;
	unsigned how;
};

static inline int ops_call(void *arg, int64_t timeout_ns)
{
	struct ops_call *c = arg;
	bool read = c->how & OPS_CALL_READ;
	int r;

	if (timeout_ns < 0)
		timeout_ns = OPS_BLOCK;
	r = read ? c->ops->acquire_shared(c->obj, timeout_ns) :
		   c->ops->acquire(c->obj, NULL, timeout_ns);
	if (!r && (c->how & OPS_CALL_RELEASE))
		read ? c->ops->release_shared(c->obj) : c->ops->release(c->obj, NULL);
	return r;
}

/* A waiter blocked in the table's acquire on obj: timeout < 0 the untimed call. */
static inline pthread_t ops_waiter_start(struct tap_waiter *w, const struct ops *ops, void *obj,
					 unsigned how, int64_t timeout_ns)
{
	struct ops_call c = { .ops = ops, .obj = obj, .how = how };

	return tap_waiter_start_ctx(w, ops_call, &c, sizeof(c), timeout_ns);
}

#endif /* KSYNC_TESTS_OPS_H */

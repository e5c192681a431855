/* SPDX-License-Identifier: MIT */
/*
 * struct ks_event — Python's threading.Event on one futex word:
 *
 *	bit  0		KS_EVENT_SET		the flag
 *	bit  1		KS_EVENT_WAITERS	some thread may sleep in futex_wait: set() must wake
 *	bits 2..31	generation		bumped (wrapping) by every set() that sets the flag
 *
 * set: one CAS clear → (generation + 1) | SET, which also clears WAITERS (inline); only if
 * WAITERS was there does it FUTEX_WAKE everyone. wait: return at once if SET; otherwise spin
 * briefly, then CAS in WAITERS and futex_wait on that exact word. A waiter returns 0 when it
 * sees SET *or* a generation other than the one it started with: so a waiter that was blocked
 * when set() ran returns 0 even if clear() ran before it woke. clear: drop SET, keep the rest.
 * See docs/event.md.
 */
#ifndef KSYNC_EVENT_H
#define KSYNC_EVENT_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_event {
	KS_ATOMIC(uint32_t) word;
	uint32_t flags;		/* KS_SHARED; read before set()'s CAS, never after */
};

#define KS_EVENT_SET		0x1u
#define KS_EVENT_WAITERS	0x2u
#define KS_EVENT_GEN_ONE	0x4u
#define KS_EVENT_GEN_MASK	(~(KS_EVENT_SET | KS_EVENT_WAITERS))

#define KS_EVENT_INIT { 0, 0 }

void ks_event_init(struct ks_event *e, unsigned flags);
void ks__event_wake(KS_ATOMIC(uint32_t) *word, unsigned flags);
void ks__event_wait_slow(struct ks_event *e);
int ks__event_wait_timeout_slow(struct ks_event *e, int64_t timeout_ns);

/*
 * Sets the flag and wakes every waiter. On an event already set it changes nothing but is still
 * a release, so a waiter that sees the flag also sees what the caller wrote before set().
 */
static inline void ks_event_set(struct ks_event *e)
{
	unsigned flags = e->flags;	/* read before the CAS: after it, e may be freed */
	uint32_t old = atomic_load_explicit(&e->word, memory_order_relaxed), set;

	do {
		set = (old & KS_EVENT_SET) ? old
					   : ((old & KS_EVENT_GEN_MASK) + KS_EVENT_GEN_ONE) |
						     KS_EVENT_SET;
		/* release: pairs with the acquire loads in ks_event_wait() and _is_set() */
	} while (!atomic_compare_exchange_weak_explicit(&e->word, &old, set, memory_order_release,
							memory_order_relaxed));
	if (ks_unlikely(old & KS_EVENT_WAITERS))
		ks__event_wake(&e->word, flags);
}

static inline void ks_event_clear(struct ks_event *e)
{
	/* relaxed: clear() publishes nothing; a later set() is ordered after it by the word */
	atomic_fetch_and_explicit(&e->word, ~KS_EVENT_SET, memory_order_relaxed);
}

static inline bool ks_event_is_set(const struct ks_event *e)
{
	/* acquire: pairs with the release in ks_event_set() */
	return atomic_load_explicit(&e->word, memory_order_acquire) & KS_EVENT_SET;
}

static inline void ks_event_wait(struct ks_event *e)
{
	if (ks_unlikely(!ks_event_is_set(e)))
		ks__event_wait_slow(e);
}

/* 0, or -ETIMEDOUT; -EINVAL for a negative timeout; 0 ns only looks. */
static inline int ks_event_wait_timeout(struct ks_event *e, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_event_is_set(e)))
		return 0;
	return ks__event_wait_timeout_slow(e, timeout_ns);
}

KS_END_DECLS

#endif /* KSYNC_EVENT_H */

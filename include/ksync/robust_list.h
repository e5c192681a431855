/* SPDX-License-Identifier: MIT */
/*
 * The kernel's robust futex list, shared with the C library: how a ksync robust lock tells the
 * kernel "this thread holds me", so that the kernel marks the lock FUTEX_OWNER_DIED and wakes a
 * waiter when the thread dies holding it (SIGKILL, _exit, a thread that returns, execve).
 *
 * The kernel knows one list head per thread (set_robust_list(2)), and glibc registered it for
 * every thread before main() runs: its own robust pthread mutexes live on that list. ksync does
 * not register a second list (the kernel would forget glibc's); it links its locks into glibc's
 * list, in the list's own format:
 *
 *	head->list	first entry, or the head's own address when empty; bit 0 of any pointer
 *			to an entry says "that entry is a PI futex"
 *	entry->next	the next entry (the kernel follows only these links)
 *	entry->prev	the previous entry's `next` (or the head): glibc's doubly linked list,
 *			one word below `next`, which glibc's own unlock rewrites in its neighbours
 *	futex word	at entry + head->futex_offset, the same offset for every entry: a ksync
 *			lock keeps its word where glibc's pthread_mutex_t keeps __lock
 *	list_op_pending	the entry being locked or unlocked right now: a thread that dies
 *			between taking the word and linking the entry (or unlinking it and
 *			releasing the word) is covered by this slot
 *
 * Only the owning thread ever changes its list, and the kernel reads it only when that thread
 * exits, in the thread's own context: so no atomic read-modify-write is needed, only program
 * order, which the compiler barriers below keep. The entries' words are relaxed atomics because
 * successive owners (on different threads) write them, ordered by the lock word.
 *
 * The first robust lock a thread takes looks its head up with get_robust_list(2) and caches it
 * in ks__robust_self (src/robust_list.c). See docs/robust_mutex.md for the design and the
 * alternatives that were rejected.
 */
#ifndef KSYNC_ROBUST_LIST_H
#define KSYNC_ROBUST_LIST_H

#include <ksync/common.h>

KS_BEGIN_DECLS

/* The futex word's bits, as the kernel reads and writes them (linux/futex.h). */
#define KS_FUTEX_WAITERS	0x80000000u	/* someone may sleep: wake one on release */
#define KS_FUTEX_OWNER_DIED	0x40000000u	/* the owner died holding it */
#define KS_FUTEX_TID_MASK	0x3fffffffu	/* the owner's kernel thread id, 0 when free */

/*
 * glibc's list is doubly linked where pointers have 64 bits (each entry's `prev` sits one word
 * below its `next`), singly linked on 32-bit targets. Ours follows suit, since glibc's own
 * unlock rewrites its neighbours' links, whichever library's entries they are.
 */
#if UINTPTR_MAX > UINT32_MAX
#define KS__ROBUST_DOUBLY_LINKED	1
#else
#define KS__ROBUST_DOUBLY_LINKED	0
#endif

/* The kernel's struct robust_list_head; on 64 bits the word below `list` is the list's `prev`. */
struct ks__robust_head {
	KS_ATOMIC(uintptr_t) list;
	long futex_offset;
	KS_ATOMIC(uintptr_t) pending;
};

/* An entry embedded in a lock, at -futex_offset bytes from its word (see the lock's struct). */
struct ks_robust_entry {
#if KS__ROBUST_DOUBLY_LINKED
	KS_ATOMIC(uintptr_t) prev;
#endif
	KS_ATOMIC(uintptr_t) next;
};

/* The calling thread's registered head, once its first robust lock has looked it up. */
extern __thread struct ks__robust_head *ks__robust_self __attribute__((tls_model("initial-exec")));

/* Looks the head up (or registers one); NULL if the kernel offers no robust list we can join. */
struct ks__robust_head *ks__robust_attach(void);

#define KS__ROBUST_PI	((uintptr_t)1)	/* bit 0 of a pointer to an entry: a PI futex */

/* The `next` word of the entry (or head) that `link` points to. */
static inline KS_ATOMIC(uintptr_t) *ks__robust_next_of(uintptr_t link)
{
	return (KS_ATOMIC(uintptr_t) *)(link & ~KS__ROBUST_PI);
}

/*
 * Announces the entry about to be locked or unlocked (`pi`: KS__ROBUST_PI or 0): if the thread
 * dies before ks__robust_settle(), the kernel looks at this lock too.
 */
static inline void ks__robust_pending(struct ks__robust_head *h, struct ks_robust_entry *e,
				      uintptr_t pi)
{
	atomic_store_explicit(&h->pending, (uintptr_t)&e->next | pi, memory_order_relaxed);
	/* before the lock word changes hands (the kernel reads in our own context: no CPU fence) */
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void ks__robust_settle(struct ks__robust_head *h)
{
	atomic_signal_fence(memory_order_seq_cst);	/* after the word and the list changed */
	atomic_store_explicit(&h->pending, 0, memory_order_relaxed);
}

#if KS__ROBUST_DOUBLY_LINKED
/* The `prev` word of the entry (or head) that `link` points to: one word below its `next`. */
static inline KS_ATOMIC(uintptr_t) *ks__robust_prev_of(uintptr_t link)
{
	return (KS_ATOMIC(uintptr_t) *)((link & ~KS__ROBUST_PI) - sizeof(uintptr_t));
}
#endif

/* Links a lock the caller just took at the front of its list (`pi`: KS__ROBUST_PI or 0). */
static inline void ks__robust_enqueue(struct ks__robust_head *h, struct ks_robust_entry *e,
				      uintptr_t pi)
{
	uintptr_t self = (uintptr_t)&e->next;
	uintptr_t first = atomic_load_explicit(&h->list, memory_order_relaxed);

	atomic_store_explicit(&e->next, first, memory_order_relaxed);
#if KS__ROBUST_DOUBLY_LINKED
	atomic_store_explicit(&e->prev, (uintptr_t)h, memory_order_relaxed);
	atomic_store_explicit(ks__robust_prev_of(first), self, memory_order_relaxed);
#endif
	atomic_signal_fence(memory_order_seq_cst);	/* whole before the kernel can reach it */
	atomic_store_explicit(&h->list, self | pi, memory_order_relaxed);
}

/* Unlinks a lock the caller holds (announced as pending first). */
static inline void ks__robust_dequeue(struct ks__robust_head *h, struct ks_robust_entry *e)
{
	uintptr_t next = atomic_load_explicit(&e->next, memory_order_relaxed);
#if KS__ROBUST_DOUBLY_LINKED
	uintptr_t prev = atomic_load_explicit(&e->prev, memory_order_relaxed);

	(void)h;
	atomic_store_explicit(ks__robust_prev_of(next), prev, memory_order_relaxed);
	atomic_store_explicit(ks__robust_next_of(prev), next, memory_order_relaxed);
#else
	/* singly linked: find the link that points to us, from the head (at most 2048 long) */
	KS_ATOMIC(uintptr_t) *link = &h->list;
	uintptr_t cur;

	while ((cur = atomic_load_explicit(link, memory_order_relaxed) & ~KS__ROBUST_PI) !=
	       (uintptr_t)h) {
		if (cur == (uintptr_t)&e->next) {
			atomic_store_explicit(link, next, memory_order_relaxed);
			break;
		}
		link = ks__robust_next_of(cur);
	}
#endif
	atomic_signal_fence(memory_order_seq_cst);	/* out of the list before the word is released */
}

KS_END_DECLS

#endif /* KSYNC_ROBUST_LIST_H */

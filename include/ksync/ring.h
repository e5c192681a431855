/* SPDX-License-Identifier: MIT */
/*
 * struct ks_ring — a bounded lock-free queue of `void *` items in caller-provided storage, with
 * optional blocking calls that sleep on a futex when the ring is empty or full.
 *
 * Positions are free-running counters (size_t): item number n lives in slot n & mask, the ring
 * holds tail - head items, and "full" (tail - head == capacity) and "empty" (tail == head) never
 * look alike, so all `capacity` slots are usable (the full/empty ambiguity of wrapped indices
 * does not arise).
 *
 * KS_RING_SPSC — one producer, one consumer (Lamport's ring, with cached indices):
 *	tail	written by the producer only (release), after the slot
 *	head	written by the consumer only (release), after reading the slot
 * Each side keeps a private copy of the other's index on its own cache line and reloads it
 * only when the copy says full (producer) or empty (consumer): in a steady stream each side
 * touches the other's line about once per lap, not once per item.
 *
 * KS_RING_MPMC (the default) — any number of producers and consumers: Dmitry Vyukov's bounded
 * queue. Each cell carries a sequence number saying whose turn it is:
 *	cell[i].seq == pos		free, for the producer of position pos (pos & mask == i)
 *	cell[i].seq == pos + 1		full, for the consumer of position pos
 *	cell[i].seq == pos + capacity	emptied by that consumer: free for pos + capacity
 * A producer claims position pos by CAS tail → pos + 1 once it sees seq == pos, writes the item,
 * and stores seq = pos + 1 (release). A consumer claims pos by CAS head once it sees
 * seq == pos + 1, reads the item, and stores seq = pos + capacity (release). The CAS on the
 * counters only distributes positions; the seq words carry the data's happens-before.
 *
 * Blocking (ks_ring_push/pop and their _timeout forms): a waiter registers in nwaiters, reads
 * the waitq's seq, issues a seq_cst fence, retries, and sleeps on seq. A blocking call that
 * succeeds issues a seq_cst fence and reads the other side's nwaiters: zero means nobody can be
 * asleep, so no system call. Either the waiter's retry sees the item (or the space), or the
 * waker sees the waiter registered, bumps seq and wakes one. The try_ calls are the bare
 * lock-free operations: they neither sleep nor wake, so a ring with sleepers on one side must be
 * fed through the blocking calls on the other (timeout 0 tries once and wakes). See
 * docs/ring.md.
 */
#ifndef KSYNC_RING_H
#define KSYNC_RING_H

#include <stddef.h>

#include <ksync/common.h>

KS_BEGIN_DECLS

/* Flags for ks_ring_init(), besides KS_SHARED. */
#define KS_RING_MPMC		0x0u	/* the default: many producers, many consumers */
#define KS_RING_SPSC		0x10u	/* one producer thread and one consumer thread */

/* Capacity: a power of two in [KS_RING_MIN_CAPACITY, KS_RING_MAX_CAPACITY]. */
#define KS_RING_MIN_CAPACITY	2u	/* Vyukov's cell states need two cells to differ */
#define KS_RING_MAX_CAPACITY	(1u << 31)

/*
 * Distance between the parts of the ring written by different sides: two 64-byte lines,
 * because x86's adjacent-line prefetcher pulls lines in pairs (the figure C++17 calls
 * hardware_destructive_interference_size on those parts, and Folly's and crossbeam's choice).
 */
#define KS_RING_SPACING		128

/* MPMC storage: one cell per slot. */
struct ks_ring_cell {
	KS_ATOMIC(size_t) seq;
	void *item;		/* written before seq's release store, read after its acquire */
};

/* Sleepers of one side: consumers wait for "not empty", producers for "not full". */
struct ks_ring_waitq {
	KS_ATOMIC(uint32_t) seq;	/* the futex word: bumped by every wake */
	KS_ATOMIC(uint32_t) nwaiters;	/* threads between registering and leaving a wait */
};

/*
 * Three parts, each padded to KS_RING_SPACING bytes by an explicit array (an anonymous struct in
 * a union would say it more briefly, but C++ has no anonymous structs).
 */
struct ks_ring {
	/* read-only after init */
	union {
		void **slots;			/* KS_RING_SPSC */
		struct ks_ring_cell *cells;	/* KS_RING_MPMC */
	};
	size_t mask;				/* capacity - 1 */
	uint32_t flags;
	char ks__pad_ro[KS_RING_SPACING - 2 * sizeof(size_t) - sizeof(uint32_t)];

	/* the producers' line */
	KS_ATOMIC(size_t) tail;			/* the next position to fill */
	size_t head_cache;			/* SPSC: the producer's last look at head */
	char ks__pad_prod[KS_RING_SPACING - 2 * sizeof(size_t)];

	/* the consumers' line */
	KS_ATOMIC(size_t) head;			/* the next position to empty */
	size_t tail_cache;			/* SPSC: the consumer's last look at tail */
	char ks__pad_cons[KS_RING_SPACING - 2 * sizeof(size_t)];

	struct ks_ring_waitq not_empty;		/* consumers sleep here */
	struct ks_ring_waitq not_full;		/* producers sleep here */
};

/* Bytes of storage a ring of `capacity` slots needs (a constant expression). */
#define KS_RING_STORAGE_SIZE(capacity, flags)						\
	((size_t)(capacity) * (((flags) & KS_RING_SPSC) ? sizeof(void *) :		\
						       sizeof(struct ks_ring_cell)))

static inline size_t ks_ring_storage_size(size_t capacity, unsigned flags)
{
	return KS_RING_STORAGE_SIZE(capacity, flags);
}

/*
 * An empty ring over `storage`: ks_ring_storage_size(capacity, flags) bytes aligned for a
 * pointer (malloc, mmap, or a `struct ks_ring_cell` array, which suits either kind). flags:
 * KS_RING_SPSC or KS_RING_MPMC, and KS_SHARED when ring and storage live in MAP_SHARED memory
 * mapped at the same address in every process (inherited across fork()). 0, or -EINVAL for a
 * capacity that is not a power of two in range, NULL storage or unknown flags.
 */
int ks_ring_init(struct ks_ring *r, void *storage, size_t capacity, unsigned flags);

void ks__ring_push_slow(struct ks_ring *r, void *item);
void *ks__ring_pop_slow(struct ks_ring *r);
int ks__ring_push_timeout_slow(struct ks_ring *r, void *item, int64_t timeout_ns);
int ks__ring_pop_timeout_slow(struct ks_ring *r, void **item, int64_t timeout_ns);
void ks__ring_wake_slow(struct ks_ring *r, struct ks_ring_waitq *q);

static inline size_t ks_ring_capacity(const struct ks_ring *r)
{
	return r->mask + 1;
}

/* How many items the ring holds: a snapshot, exact only while nobody pushes or pops. */
static inline size_t ks_ring_count(const struct ks_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t n = tail - head;

	return (ptrdiff_t)n < 0 ? 0 : n > r->mask + 1 ? r->mask + 1 : n;
}

/* ---- SPSC ------------------------------------------------------------------------------------ */

static inline bool ks_ring_spsc_try_push(struct ks_ring *r, void *item)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);	/* ours alone */

	if (ks_unlikely(tail - r->head_cache > r->mask)) {
		/* acquire: pairs with the consumer's release of head, issued after it read the slot
		 * we are about to overwrite */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail - r->head_cache > r->mask)
			return false;
	}
	r->slots[tail & r->mask] = item;
	/* release: publishes the slot; pairs with the acquire in ks_ring_spsc_try_pop() */
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

static inline bool ks_ring_spsc_try_pop(struct ks_ring *r, void **item)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);	/* ours alone */

	if (ks_unlikely(head == r->tail_cache)) {
		/* acquire: pairs with the producer's release of tail, issued after the slot */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head == r->tail_cache)
			return false;
	}
	*item = r->slots[head & r->mask];
	/* release: the slot is read; pairs with the acquire in ks_ring_spsc_try_push() */
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

/* ---- MPMC ------------------------------------------------------------------------------------ */

static inline bool ks_ring_mpmc_try_push(struct ks_ring *r, void *item)
{
	size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct ks_ring_cell *cell;

	for (;;) {
		ptrdiff_t dif;

		cell = &r->cells[pos & r->mask];
		/* acquire: pairs with the release by the consumer that emptied the cell */
		dif = (ptrdiff_t)(atomic_load_explicit(&cell->seq, memory_order_acquire) - pos);

		if (dif == 0) {
			/* relaxed: the CAS hands out positions; cell->seq orders the data */
			if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return false;	/* still holds the item of pos - capacity: full */
		} else {
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		}
	}
	cell->item = item;
	/* release: publishes the item; pairs with the acquire in ks_ring_mpmc_try_pop() */
	atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
	return true;
}

static inline bool ks_ring_mpmc_try_pop(struct ks_ring *r, void **item)
{
	size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct ks_ring_cell *cell;

	for (;;) {
		ptrdiff_t dif;

		cell = &r->cells[pos & r->mask];
		/* acquire: pairs with the release by the producer that filled the cell */
		dif = (ptrdiff_t)(atomic_load_explicit(&cell->seq, memory_order_acquire) - pos - 1);

		if (dif == 0) {
			/* relaxed: as in push */
			if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return false;	/* the producer of pos has not published yet: empty */
		} else {
			pos = atomic_load_explicit(&r->head, memory_order_relaxed);
		}
	}
	*item = cell->item;
	/* release: the item is read; pairs with the acquire in ks_ring_mpmc_try_push() */
	atomic_store_explicit(&cell->seq, pos + r->mask + 1, memory_order_release);
	return true;
}

/* ---- either kind: never block, never wake ---------------------------------------------------- */

/* Adds item at the tail; false if the ring is full. */
static inline bool ks_ring_try_push(struct ks_ring *r, void *item)
{
	return (r->flags & KS_RING_SPSC) ? ks_ring_spsc_try_push(r, item) :
					   ks_ring_mpmc_try_push(r, item);
}

/* Takes the item at the head into *item; false if the ring is empty. */
static inline bool ks_ring_try_pop(struct ks_ring *r, void **item)
{
	return (r->flags & KS_RING_SPSC) ? ks_ring_spsc_try_pop(r, item) :
					   ks_ring_mpmc_try_pop(r, item);
}

/* ---- blocking: sleep when full/empty, wake the other side ------------------------------------ */

/*
 * The full fence of the sleeping protocol. ThreadSanitizer does not model fences (GCC says so
 * under -fsanitize=thread, -Wtsan); these order atomics against atomics only (a waiter's
 * registration against a waker's check), never plain data, so nothing it checks relies on them.
 */
static inline void ks__ring_fence(void)
{
#ifdef __SANITIZE_THREAD__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
	atomic_thread_fence(memory_order_seq_cst);
#ifdef __SANITIZE_THREAD__
#pragma GCC diagnostic pop
#endif
}

/* After a successful push (q = not_empty) or pop (q = not_full): wakes one sleeper, if any. */
static inline void ks__ring_wake(struct ks_ring *r, struct ks_ring_waitq *q)
{
	/* seq_cst: pairs with the fence in the waiter (src/ring.c): either its retry sees what
	 * we just did, or this load sees it registered */
	ks__ring_fence();
	if (ks_unlikely(atomic_load_explicit(&q->nwaiters, memory_order_relaxed)))
		ks__ring_wake_slow(r, q);
}

/* Adds item, sleeping while the ring is full. */
static inline void ks_ring_push(struct ks_ring *r, void *item)
{
	if (ks_likely(ks_ring_try_push(r, item)))
		ks__ring_wake(r, &r->not_empty);
	else
		ks__ring_push_slow(r, item);
}

/* Takes the head item, sleeping while the ring is empty. */
static inline void *ks_ring_pop(struct ks_ring *r)
{
	void *item;

	if (ks_likely(ks_ring_try_pop(r, &item))) {
		ks__ring_wake(r, &r->not_full);
		return item;
	}
	return ks__ring_pop_slow(r);
}

/* 0, or -ETIMEDOUT if still full after timeout_ns (0: try once); -EINVAL if negative. */
static inline int ks_ring_push_timeout(struct ks_ring *r, void *item, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_ring_try_push(r, item))) {
		ks__ring_wake(r, &r->not_empty);
		return 0;
	}
	return ks__ring_push_timeout_slow(r, item, timeout_ns);
}

/* 0 and *item, or -ETIMEDOUT if still empty after timeout_ns (0: try once); -EINVAL. */
static inline int ks_ring_pop_timeout(struct ks_ring *r, void **item, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_ring_try_pop(r, item))) {
		ks__ring_wake(r, &r->not_full);
		return 0;
	}
	return ks__ring_pop_timeout_slow(r, item, timeout_ns);
}

KS_END_DECLS

#endif /* KSYNC_RING_H */

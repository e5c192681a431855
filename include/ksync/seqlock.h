/* SPDX-License-Identifier: MIT */
/*
 * struct ks_seqcount and struct ks_seqlock — the kernel's sequence counters, for data that is
 * read often, written rarely, and small enough to read again.
 *
 *	sequence even: no write in progress; odd: a writer is inside (it bumps it on entry and exit)
 *
 * A reader never writes shared memory: it samples an even sequence, reads the data, and retries
 * if the sequence changed meanwhile. A ks_seqcount trusts its caller to have one writer at a
 * time; a ks_seqlock adds a ks_mutex that serializes writers.
 *
 * The memory-model trap (H.-J. Boehm, "Can seqlocks get along with programming language memory
 * models?", MSPC 2012): the reader's data reads race with the writer's stores by design, so
 * (1) the protected data must be accessed atomically, and (2) the reads must be ordered before
 * the re-read of the sequence, which an acquire load of the sequence would not do (it orders
 * what follows it, not what precedes it). Boehm's answer is relaxed data accesses plus a fence
 * on each side; ksync makes each data load an acquire and each data store a release instead
 * (KS_SEQ_LOAD/KS_SEQ_STORE, ks_seq_copy_out/ks_seq_copy_in). The guarantee is the same: a
 * reader that reads any store of a writer synchronizes with it and so sees that writer's odd
 * sequence at read_retry. On x86 both forms compile to plain moves; unlike fences, per-access
 * orders are understood and checked by ThreadSanitizer. See docs/seqlock.md.
 */
#ifndef KSYNC_SEQLOCK_H
#define KSYNC_SEQLOCK_H

#include <sched.h>
#include <stddef.h>

#include <ksync/common.h>
#include <ksync/mutex.h>

KS_BEGIN_DECLS

struct ks_seqcount {
	KS_ATOMIC(uint32_t) sequence;
};

struct ks_seqlock {
	struct ks_seqcount seqcount;
	struct ks_mutex lock;		/* serializes writers; readers never touch it */
};

#define KS_SEQCOUNT_INIT { 0 }
#define KS_SEQLOCK_INIT { KS_SEQCOUNT_INIT, KS_MUTEX_INIT }

/*
 * Pauses a reader makes while a writer is inside before it yields the CPU instead (the writer
 * may be preempted); a write section is a few stores, so this is generous.
 */
#define KS_SEQ_SPIN_LIMIT 128

/*
 * Access to one protected scalar (of any size the compiler can access atomically). The load's
 * acquire keeps read_retry's load of the sequence after it; the store's release keeps the
 * writer's odd sequence before it. They pair with each other.
 */
#define KS_SEQ_LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define KS_SEQ_STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* ---- copying protected data: word by word when aligned, else byte by byte ------------------- */

static inline bool ks__seq_words(const void *a, const void *b, size_t n)
{
	return ((uintptr_t)a | (uintptr_t)b | n) % sizeof(unsigned long) == 0;
}

/* Reader side: copies protected `src` to private `dst` with KS_SEQ_LOAD()s. */
static inline void ks_seq_copy_out(void *dst, const void *src, size_t n)
{
	if (ks__seq_words(dst, src, n)) {
		unsigned long *d = (unsigned long *)dst;
		const unsigned long *s = (const unsigned long *)src;

		for (size_t i = 0; i < n / sizeof(*s); i++)
			d[i] = KS_SEQ_LOAD(s[i]);
	} else {
		unsigned char *d = (unsigned char *)dst;
		const unsigned char *s = (const unsigned char *)src;

		for (size_t i = 0; i < n; i++)
			d[i] = KS_SEQ_LOAD(s[i]);
	}
}

/* Writer side: copies private `src` to protected `dst` with KS_SEQ_STORE()s. */
static inline void ks_seq_copy_in(void *dst, const void *src, size_t n)
{
	if (ks__seq_words(dst, src, n)) {
		unsigned long *d = (unsigned long *)dst;
		const unsigned long *s = (const unsigned long *)src;

		for (size_t i = 0; i < n / sizeof(*s); i++)
			KS_SEQ_STORE(d[i], s[i]);
	} else {
		unsigned char *d = (unsigned char *)dst;
		const unsigned char *s = (const unsigned char *)src;

		for (size_t i = 0; i < n; i++)
			KS_SEQ_STORE(d[i], s[i]);
	}
}

/* ---- ks_seqcount: one writer at a time is the caller's business ----------------------------- */

/* KS_SHARED is accepted and changes nothing: a seqcount never calls the kernel. */
static inline void ks_seqcount_init(struct ks_seqcount *s, unsigned flags)
{
	(void)flags;
	atomic_init(&s->sequence, 0);
}

/* Waits (spinning, then yielding) until no write is in progress; returns the even sequence. */
static inline uint32_t ks_seqcount_read_begin(const struct ks_seqcount *s)
{
	const KS_ATOMIC(uint32_t) *seq = &s->sequence;
	unsigned spins = 0;
	uint32_t start;

	/* acquire: pairs with write_end's release; the data reads that follow see its stores */
	while ((start = atomic_load_explicit(seq, memory_order_acquire)) & 1) {
		if (++spins < KS_SEQ_SPIN_LIMIT) {
			ks_cpu_relax();
		} else {
			spins = 0;
			sched_yield();
		}
	}
	return start;
}

/* True if a write overlapped the reads since read_begin returned `start`: read again. */
static inline bool ks_seqcount_read_retry(const struct ks_seqcount *s, uint32_t start)
{
	/* relaxed: the acquire data loads above (KS_SEQ_LOAD) keep it after them */
	return atomic_load_explicit(&s->sequence, memory_order_relaxed) != start;
}

static inline void ks_seqcount_write_begin(struct ks_seqcount *s)
{
	uint32_t seq = atomic_load_explicit(&s->sequence, memory_order_relaxed);

	/* relaxed: the release data stores (KS_SEQ_STORE) that follow keep it before them */
	atomic_store_explicit(&s->sequence, seq + 1, memory_order_relaxed);
}

static inline void ks_seqcount_write_end(struct ks_seqcount *s)
{
	uint32_t seq = atomic_load_explicit(&s->sequence, memory_order_relaxed);

	/* release: the data stores are ordered before the even value; pairs with read_begin */
	atomic_store_explicit(&s->sequence, seq + 1, memory_order_release);
}

/* A consistent snapshot of n protected bytes at src, into private dst. */
static inline void ks_seqcount_read(const struct ks_seqcount *s, void *dst, const void *src,
				    size_t n)
{
	uint32_t start;

	do {
		start = ks_seqcount_read_begin(s);
		ks_seq_copy_out(dst, src, n);
	} while (ks_seqcount_read_retry(s, start));
}

/* Replaces n protected bytes at dst with private src (the caller is the only writer). */
static inline void ks_seqcount_write(struct ks_seqcount *s, void *dst, const void *src, size_t n)
{
	ks_seqcount_write_begin(s);
	ks_seq_copy_in(dst, src, n);
	ks_seqcount_write_end(s);
}

/* ---- ks_seqlock: a seqcount whose writers are serialized by a ks_mutex ----------------------- */

/* KS_SHARED: writers in several processes (the mutex uses shared futex operations). */
static inline void ks_seqlock_init(struct ks_seqlock *sl, unsigned flags)
{
	ks_seqcount_init(&sl->seqcount, flags);
	ks_mutex_init(&sl->lock, flags);
}

static inline uint32_t ks_seqlock_read_begin(const struct ks_seqlock *sl)
{
	return ks_seqcount_read_begin(&sl->seqcount);
}

static inline bool ks_seqlock_read_retry(const struct ks_seqlock *sl, uint32_t start)
{
	return ks_seqcount_read_retry(&sl->seqcount, start);
}

static inline void ks_seqlock_write_lock(struct ks_seqlock *sl)
{
	ks_mutex_lock(&sl->lock);
	ks_seqcount_write_begin(&sl->seqcount);
}

static inline bool ks_seqlock_write_trylock(struct ks_seqlock *sl)
{
	if (!ks_mutex_trylock(&sl->lock))
		return false;
	ks_seqcount_write_begin(&sl->seqcount);
	return true;
}

/* 0; -EPERM if no write section is open (nothing changes). */
static inline int ks_seqlock_write_unlock(struct ks_seqlock *sl)
{
	if (ks_unlikely(!(atomic_load_explicit(&sl->seqcount.sequence, memory_order_relaxed) & 1)))
		return -EPERM;
	ks_seqcount_write_end(&sl->seqcount);
	return ks_mutex_unlock(&sl->lock);
}

static inline void ks_seqlock_read(const struct ks_seqlock *sl, void *dst, const void *src,
				   size_t n)
{
	ks_seqcount_read(&sl->seqcount, dst, src, n);
}

static inline void ks_seqlock_write(struct ks_seqlock *sl, void *dst, const void *src, size_t n)
{
	ks_seqlock_write_lock(sl);
	ks_seq_copy_in(dst, src, n);
	ks_seqlock_write_unlock(sl);
}

KS_END_DECLS

#endif /* KSYNC_SEQLOCK_H */

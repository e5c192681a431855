/* SPDX-License-Identifier: MIT */
/*
 * The layout of every public struct, as one compiler and language see it: size and alignment of
 * each struct, offset and size of each member. tests/layout.c records the table as C sees it;
 * tests/t-cxx.cc computes it as C++ and compares the two, entry by entry, so that KS_ATOMIC(T)
 * and every header's #ifdef __cplusplus keep the layout the inline fast paths rely on.
 *
 * A new public struct or member goes in these lists (the test fails to compile when a listed
 * member disappears; tests/t-cxx.cc also checks that every struct in include/ is listed).
 */
#ifndef KSYNC_TESTS_LAYOUT_H
#define KSYNC_TESTS_LAYOUT_H

#include <ksync.h>

#define KS_LAYOUT_TYPES(X)							\
	X(ks_mutex) X(ks_rmutex) X(ks_cond) X(ks_cond_lock_ops) X(ks_sem)	\
	X(ks_event) X(ks_barrier) X(ks_barrier_core) X(ks_thread) X(ks_spinlock)	\
	X(ks_mcs) X(ks_mcs_node) X(ks_rwlock)					\
	X(ks_seqcount) X(ks_seqlock) X(ks_once) X(ks_llist_node) X(ks_llist_head)	\
	X(ks_ring_cell) X(ks_ring_waitq) X(ks_ring) X(ks_work)			\
	X(ks_robust_mutex) X(ks_robust_entry) X(ks__robust_head) X(ks_pi_mutex)

#define KS_LAYOUT_MEMBERS(X)							\
	X(ks_mutex, state) X(ks_mutex, flags)					\
	X(ks_rmutex, lock) X(ks_rmutex, owner) X(ks_rmutex, depth)		\
	X(ks_cond, word) X(ks_cond, futex) X(ks_cond, sleepers)			\
	X(ks_cond, g1_unsignaled) X(ks_cond, g1_signals) X(ks_cond, g2_size)	\
	X(ks_cond, g1_gen)							\
	X(ks_cond_lock_ops, release) X(ks_cond_lock_ops, reacquire)		\
	X(ks_sem, word) X(ks_sem, bound) X(ks_sem, flags)			\
	X(ks_event, word) X(ks_event, flags)					\
	X(ks_barrier_core, seq) X(ks_barrier_core, lock) X(ks_barrier_core, count)	\
	X(ks_barrier_core, parties) X(ks_barrier_core, spin) X(ks_barrier_core, flags)	\
	X(ks_barrier, core) X(ks_barrier, action) X(ks_barrier, arg)		\
	X(ks_thread, state) X(ks_thread, pid) X(ks_thread, fn) X(ks_thread, arg)	\
	X(ks_thread, ret)							\
	X(ks_spinlock, tickets)							\
	X(ks_mcs, tail) X(ks_mcs_node, next) X(ks_mcs_node, state)		\
	X(ks_rwlock, state) X(ks_rwlock, flags)					\
	X(ks_seqcount, sequence) X(ks_seqlock, seqcount) X(ks_seqlock, lock)	\
	X(ks_once, state) X(ks_once, owner) X(ks_once, flags)			\
	X(ks_llist_node, next) X(ks_llist_head, first)				\
	X(ks_ring_cell, seq) X(ks_ring_cell, item)				\
	X(ks_ring_waitq, seq) X(ks_ring_waitq, nwaiters)			\
	X(ks_ring, slots) X(ks_ring, cells) X(ks_ring, mask) X(ks_ring, flags)	\
	X(ks_ring, tail) X(ks_ring, head_cache) X(ks_ring, head)		\
	X(ks_ring, tail_cache) X(ks_ring, not_empty) X(ks_ring, not_full)	\
	X(ks_work, node) X(ks_work, pending) X(ks_work, ticket) X(ks_work, fn)	\
	X(ks_robust_mutex, owner) X(ks_robust_mutex, flags) X(ks_robust_mutex, lost)	\
	X(ks_robust_mutex, spare) X(ks_robust_mutex, entry) X(ks_robust_entry, next)	\
	X(ks__robust_head, list) X(ks__robust_head, futex_offset)		\
	X(ks__robust_head, pending) X(ks_pi_mutex, owner) X(ks_pi_mutex, flags)

/* A struct: its size and alignment. A member: its offset and size. */
struct ks_layout {
	const char *name;
	size_t a, b;
};

#ifdef __cplusplus
#define KS__LAYOUT_ALIGNOF(T)	alignof(T)
#else
#define KS__LAYOUT_ALIGNOF(T)	_Alignof(T)
#endif
#define KS__LAYOUT_TYPE(T)	{ "struct " #T, sizeof(struct T), KS__LAYOUT_ALIGNOF(struct T) },
#define KS__LAYOUT_MEMBER(T, m)							\
	{ #T "." #m, offsetof(struct T, m), sizeof(((struct T *)0)->m) },

#define KS_LAYOUT_TABLE { KS_LAYOUT_TYPES(KS__LAYOUT_TYPE) KS_LAYOUT_MEMBERS(KS__LAYOUT_MEMBER) }

#endif /* KSYNC_TESTS_LAYOUT_H */

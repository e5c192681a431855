/* SPDX-License-Identifier: MIT */
/*
 * struct ks_thread — Python's threading.Thread start/join/is_alive, with ksync's own join.
 *
 * The thread is created detached by pthread_create(); whether it has finished lives in one futex
 * word that ksync owns:
 *
 *	0 NEW		never started (a zeroed struct, KS_THREAD_INIT)
 *	1 RUNNING	started; no joiner sleeps
 *	2 WAITED	started; some joiner may sleep in futex_wait (so the finisher must wake)
 *	3 DONE		fn has returned and ret is stored; not joined yet
 *	4 JOINED	a join has taken ret; joining again is -EINVAL
 *
 * The finishing thread stores ret, then swaps in DONE with release order and wakes all joiners
 * only if the old value was WAITED. After that swap it uses *t only as a futex address: the
 * joiner may free t as soon as join returns (glibc bug 13690). A joiner claims the result with
 * one CAS DONE → JOINED, so of two concurrent joiners exactly one gets 0. is_alive() is two
 * loads. A forked child has none of its parent's threads: there, a parent's ks_thread is not
 * alive and joining it is -ESRCH (the pid recorded at start tells). See docs/thread.md.
 */
#ifndef KSYNC_THREAD_H
#define KSYNC_THREAD_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_thread {
	KS_ATOMIC(uint32_t) state;
	int pid;		/* the process it runs in: in a forked child it does not exist */
	void *(*fn)(void *);	/* written by start, read by the new thread */
	void *arg;
	void *ret;		/* written by the thread before DONE, read by the joiner after */
};

#define KS_THREAD_NEW		0u
#define KS_THREAD_RUNNING	1u
#define KS_THREAD_WAITED	2u
#define KS_THREAD_DONE		3u
#define KS_THREAD_JOINED	4u

#define KS_THREAD_INIT { KS_THREAD_NEW, 0, NULL, NULL, NULL }

/* This process's pid, set at load time and again in the child after fork(). */
extern KS_ATOMIC(int) ks__thread_pid;

/* 0, or a negative errno from thread creation (-EAGAIN: no more threads). */
int ks_thread_start(struct ks_thread *t, void *(*fn)(void *), void *arg);

/*
 * 0 and *ret (if ret is not NULL); -EDEADLK on itself; -EINVAL if never started or joined;
 * -ESRCH in a forked child for a thread of the parent that had not finished.
 */
int ks_thread_join(struct ks_thread *t, void **ret);

/* As ks_thread_join(), or -ETIMEDOUT while it still runs (it may be joined again later). */
int ks_thread_join_timeout(struct ks_thread *t, void **ret, int64_t timeout_ns);

/* True from start until fn has returned. No call, no system call. */
static inline bool ks_thread_is_alive(const struct ks_thread *t)
{
	/* acquire: a false answer comes after fn's writes, as after a join */
	uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);

	return (s == KS_THREAD_RUNNING || s == KS_THREAD_WAITED) &&
	       t->pid == atomic_load_explicit(&ks__thread_pid, memory_order_relaxed);
}

/* The calling thread's kernel thread id (cached; no system call after the first). */
static inline int ks_gettid(void)
{
	return ks_self_tid();
}

KS_END_DECLS

#endif /* KSYNC_THREAD_H */

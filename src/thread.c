// SPDX-License-Identifier: MIT
/*
 * ks_thread: start with pthread_create(), join on ksync's own futex word. The encoding is in
 * include/ksync/thread.h and docs/thread.md; the design points:
 *
 *  - The thread is created detached. Nobody ever calls pthread_join(), so a joinable thread
 *    would keep its stack and descriptor forever; detached, the C library reclaims them when
 *    the thread exits, whether or not anyone joins through ksync.
 *  - The finisher's release swap to DONE is its last access to *t; the wake-up that follows
 *    uses only the address. A joiner that returns may free t at once (glibc bug 13690: a
 *    finisher must not store to, or load from, the object after publishing "done").
 *  - Finishing runs as a cleanup handler, so a thread that leaves fn through pthread_exit()
 *    still reaches DONE (with ret NULL) and its joiners do not hang.
 *  - Self-join is recognised through a thread-local pointer to the running ks_thread, which is
 *    set only inside that thread and only while fn runs.
 *  - fork() copies the word but not the thread: the child would wait forever for a parent's
 *    thread to finish. Each ks_thread records the pid of the process that started it, and a
 *    cached pid, refreshed by an atfork handler, tells the child that the thread is not its.
 *  - ks_thread is not a process-shared object: its futex ops are private.
 */
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "deadline.h"
#include "futex.h"

#include <ksync/thread.h>

static __thread struct ks_thread *ks_thread_current;

_Atomic int ks__thread_pid;

/* relaxed: read and written by the process's own threads; fork() itself orders the child's */
static void ks_thread_learn_pid(void)
{
	atomic_store_explicit(&ks__thread_pid, getpid(), memory_order_relaxed);
}

__attribute__((constructor)) static void ks_thread_init(void)
{
	ks_thread_learn_pid();
	pthread_atfork(NULL, NULL, ks_thread_learn_pid);
}

/* Publishes DONE; from the swap on, t is an address only. */
static void ks_thread_finish(void *arg)
{
	struct ks_thread *t = arg;
	uint32_t old;

	ks_thread_current = NULL;
	/* release: ret and everything fn wrote, for the joiner's acquire on DONE */
	old = atomic_exchange_explicit(&t->state, KS_THREAD_DONE, memory_order_release);
	if (old == KS_THREAD_WAITED)
		ks_futex_wake(&t->state, INT_MAX, 0);
}

static void *ks_thread_trampoline(void *arg)
{
	struct ks_thread *t = arg;

	ks_thread_current = t;
	pthread_cleanup_push(ks_thread_finish, t);
	t->ret = t->fn(t->arg);
	pthread_cleanup_pop(1);
	return NULL;
}

int ks_thread_start(struct ks_thread *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t id;
	int err;

	if (!atomic_load_explicit(&ks__thread_pid, memory_order_relaxed))
		ks_thread_learn_pid();	/* called from a constructor that ran before ours */
	t->pid = atomic_load_explicit(&ks__thread_pid, memory_order_relaxed);
	t->fn = fn;
	t->arg = arg;
	t->ret = NULL;
	/* relaxed: pthread_create() orders these stores before the thread's first instruction */
	atomic_store_explicit(&t->state, KS_THREAD_RUNNING, memory_order_relaxed);

	err = pthread_attr_init(&attr);
	if (!err) {
		err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (!err)
			err = pthread_create(&id, &attr, ks_thread_trampoline, t);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		atomic_store_explicit(&t->state, KS_THREAD_NEW, memory_order_relaxed);
		return -err;
	}
	return 0;
}

/* Takes the result of a DONE thread; -EINVAL if another joiner took it first. */
static int ks_thread_claim(struct ks_thread *t, uint32_t s, void **ret)
{
	/* acquire: pairs with the finisher's release swap to DONE, so ret is complete */
	if (!atomic_compare_exchange_strong_explicit(&t->state, &s, KS_THREAD_JOINED,
						     memory_order_acquire, memory_order_relaxed))
		return -EINVAL;
	if (ret)
		*ret = t->ret;
	return 0;
}

static int ks_thread_join_deadline(struct ks_thread *t, const struct ks_deadline *d, void **ret)
{
	uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
	int r;

	for (;;) {
		switch (s) {
		case KS_THREAD_DONE:
			return ks_thread_claim(t, s, ret);
		case KS_THREAD_RUNNING:
		case KS_THREAD_WAITED:
			break;
		default:	/* NEW, JOINED, or not a ks_thread at all */
			return -EINVAL;
		}
		if (ks_thread_current == t)
			return -EDEADLK;
		if (t->pid != atomic_load_explicit(&ks__thread_pid, memory_order_relaxed))
			return -ESRCH;	/* the parent's thread, seen from a forked child */
		if (d->now)
			return -ETIMEDOUT;
		/* relaxed: only announces a sleeper; DONE is claimed with acquire */
		if (s == KS_THREAD_RUNNING &&
		    !atomic_compare_exchange_strong_explicit(&t->state, &s, KS_THREAD_WAITED,
							     memory_order_relaxed,
							     memory_order_relaxed))
			continue;	/* s holds the new value */
		r = ks_futex_wait(&t->state, KS_THREAD_WAITED, ks_deadline_ts(d), 0);

		s = atomic_load_explicit(&t->state, memory_order_acquire);
		if (s == KS_THREAD_WAITED &&
		    (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d))))
			return -ETIMEDOUT;
		/* woken, -EAGAIN, -EINTR, spurious: look at the word again */
	}
}

int ks_thread_join(struct ks_thread *t, void **ret)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_thread_join_deadline(t, &forever, ret);
}

int ks_thread_join_timeout(struct ks_thread *t, void **ret, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	return r ? r : ks_thread_join_deadline(t, &d, ret);
}

// SPDX-License-Identifier: MIT
/*
 * Finding the calling thread's robust list (include/ksync/robust_list.h).
 *
 * glibc registers a head for every thread it starts, and for the main thread before main():
 * get_robust_list(2) returns it, and ksync joins that list, provided the head's futex_offset is
 * the one ksync's locks are laid out for (glibc's; another runtime may register another, and
 * then ksync refuses with -ENOTSUP rather than corrupt its list). A thread with no head at all
 * (made by a raw clone(), or whose head was removed) gets one of ksync's own, in TLS.
 *
 * fork(): the child's kernel forgets every thread's head. glibc registers its head again in
 * the child, with an empty list (the child owns none of the parent's locks); for a head of
 * ksync's own, the atfork handler below does the same.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ksync/robust_mutex.h>

__thread struct ks__robust_head *ks__robust_self __attribute__((tls_model("initial-exec")));

/* The entries' word offset that the kernel must be told (or have been told, by glibc). */
#define KS_ROBUST_FUTEX_OFFSET	((long)offsetof(struct ks_robust_mutex, owner) -		\
				 (long)offsetof(struct ks_robust_mutex, entry.next))

#if defined(__GLIBC__) && defined(__LP64__)
#include <pthread.h>
_Static_assert(offsetof(struct ks_robust_mutex, entry.next) -
	       offsetof(struct ks_robust_mutex, owner) ==
	       offsetof(pthread_mutex_t, __data.__list.__next) -
	       offsetof(pthread_mutex_t, __data.__lock),
	       "a ks_robust_mutex's entry must sit where glibc's robust mutexes keep theirs");
#endif

/* A head of our own, with the list's `prev` word just below it as in glibc's thread struct. */
static __thread struct {
#if KS__ROBUST_DOUBLY_LINKED
	_Atomic uintptr_t prev;
#endif
	struct ks__robust_head head;
} ks_robust_own __attribute__((tls_model("initial-exec")));

static bool ks_robust_own_register(void)
{
	struct ks__robust_head *h = &ks_robust_own.head;

	atomic_store_explicit(&h->list, (uintptr_t)h, memory_order_relaxed);	/* empty */
#if KS__ROBUST_DOUBLY_LINKED
	atomic_store_explicit(&ks_robust_own.prev, (uintptr_t)h, memory_order_relaxed);
#endif
	h->futex_offset = KS_ROBUST_FUTEX_OFFSET;
	atomic_store_explicit(&h->pending, 0, memory_order_relaxed);
	return syscall(SYS_set_robust_list, h, sizeof(*h)) == 0;
}

struct ks__robust_head *ks__robust_attach(void)
{
	struct ks__robust_head *h = NULL;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, 0, &h, &len))
		return NULL;		/* no robust futexes in this kernel (or a seccomp filter) */
	if (!h) {
		if (!ks_robust_own_register())
			return NULL;
		h = &ks_robust_own.head;
	} else if (len != sizeof(*h) || h->futex_offset != KS_ROBUST_FUTEX_OFFSET) {
		return NULL;
	}
	ks__robust_self = h;
	return h;
}

/* In the child of fork(): a head of our own must be registered again, empty. */
static void ks_robust_after_fork(void)
{
	if (ks__robust_self == &ks_robust_own.head && !ks_robust_own_register())
		ks__robust_self = NULL;
}

__attribute__((constructor)) static void ks_robust_list_init(void)
{
	pthread_atfork(NULL, NULL, ks_robust_after_fork);
}

/* SPDX-License-Identifier: MIT */
/*
 * What every ksync header shares: flags, time units, branch hints, the CPU's pause, and the
 * calling thread's kernel id (cached, so that owner checks on a fast path make no system call).
 */
#ifndef KSYNC_COMMON_H
#define KSYNC_COMMON_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flags for the _init() functions. */
#define KS_SHARED	0x1u	/* the object lives in MAP_SHARED memory: shared futex ops */
#define KS_BOUNDED	0x2u	/* semaphores: up() may not raise the value past its initial one */

#define KS_NSEC_PER_USEC	1000LL
#define KS_NSEC_PER_MSEC	1000000LL
#define KS_NSEC_PER_SEC		1000000000LL

#define ks_likely(x)	__builtin_expect(!!(x), 1)
#define ks_unlikely(x)	__builtin_expect(!!(x), 0)

/* The structure that embeds `ptr` as its `member` (the kernel's container_of). */
#define ks_container_of(ptr, type, member)					\
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* One polite iteration of a busy-wait loop. */
static inline void ks_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/*
 * The calling thread's kernel tid, cached in thread-local storage. The cache is filled on first
 * use and cleared in the child after fork() (a pthread_atfork handler in src/tid.c).
 */
extern __thread int ks__tid __attribute__((tls_model("initial-exec")));
int ks__tid_slow(void);

static inline int ks_self_tid(void)
{
	int tid = ks__tid;

	return ks_likely(tid) ? tid : ks__tid_slow();
}

/*
 * The number of futex system calls the calling thread has made through ksync. Tests use it to
 * prove that uncontended operations make none; benchmarks report system calls per operation.
 */
unsigned long ks_futex_calls(void);

/* CLOCK_MONOTONIC now, in nanoseconds (vDSO: no system call). */
int64_t ks_now_ns(void);

#endif /* KSYNC_COMMON_H */

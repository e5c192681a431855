/* SPDX-License-Identifier: MIT */
/*
 * What every ksync header shares: flags, time units, branch hints, the CPU's pause, the calling
 * thread's kernel id (cached, so that owner checks on a fast path make no system call), and the
 * spelling that lets one header serve C and C++.
 *
 * How a public header is written. Every header compiles as C11, also in user code built with
 * -std=c11 -pedantic-errors -Wcast-qual -Wshadow -Wconversion, and as C++17, C++20 and C++23
 * with g++ and clang++ (the same warnings), and a struct has the same layout in both languages:
 * the inline fast paths build it into every application, and the library's slow paths were
 * compiled as C. tests/t-strict-c.c and tests/t-cxx.cc (built with every compiler and
 * standard) hold the headers to this:
 *
 *  - Declarations sit between KS_BEGIN_DECLS and KS_END_DECLS: extern "C" in C++, and default
 *    visibility, so that the library (built with -fvisibility=hidden) exports exactly what the
 *    public headers declare, the ks__* slow paths of the inline fast paths included. What only
 *    C++ needs (overloads, templates) follows KS_END_DECLS under #ifdef __cplusplus.
 *  - An atomic member or variable is KS_ATOMIC(T): _Atomic(T) in C, std::atomic<T> in C++
 *    (the same size and alignment: the layout test compares every struct member by member).
 *  - Atomic operations are the C11 generic functions with explicit orders, as in
 *    atomic_load_explicit(&m->state, memory_order_acquire). In C++, argument-dependent lookup
 *    finds std::atomic_load_explicit and its siblings for a std::atomic argument; the
 *    memory_order constants and the two fences, which take no atomic argument, are brought
 *    into the global namespace below, as C++23's <stdatomic.h> does.
 *  - Static initializers are positional braces naming every member in declaration order,
 *    { KS_MUTEX_UNLOCKED, 0 }: designated initializers are C++20 only, and a full list keeps
 *    -Wmissing-field-initializers quiet. In C++ they are constant initialization (constinit).
 *  - A macro that must evaluate the caller's expression repeatedly is a GNU statement
 *    expression behind __extension__ in C, and a lambda handed to an inline template in C++
 *    (ks_cond_wait_event()). A _Generic front has C++ overloads as its twin (ks_cond_wait()).
 *  - A getter takes a const pointer and loads through it; it never casts const away.
 *  - No implicit conversion from void *, no C++ keyword as a name (new, this, class, …), no
 *    function named like a struct (in C++ it hides the struct: ks_once_call() on struct
 *    ks_once), no anonymous struct (an anonymous union of plain members is fine in both
 *    languages), and __typeof__ only through ks__typeof_deref().
 *  - A new public struct goes in tests/layout.h (t-cxx fails until it is there); a new call,
 *    initializer or macro gets a line in tests/use-all.h.
 */
#ifndef KSYNC_COMMON_H
#define KSYNC_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#include <atomic>
#include <type_traits>

#define KS_BEGIN_DECLS	extern "C" { _Pragma("GCC visibility push(default)")
#define KS_END_DECLS	_Pragma("GCC visibility pop") }
#define KS_ATOMIC(T)	std::atomic<T>
/* The type `*(p)` has, without reference: ks_llist_for_each_entry() names it. */
#define ks__typeof_deref(p)	std::remove_reference<decltype(*(p))>::type

using std::memory_order;
using std::memory_order_relaxed;
using std::memory_order_consume;
using std::memory_order_acquire;
using std::memory_order_release;
using std::memory_order_acq_rel;
using std::memory_order_seq_cst;
using std::atomic_thread_fence;
using std::atomic_signal_fence;
#else
#include <stdatomic.h>

#define KS_BEGIN_DECLS	_Pragma("GCC visibility push(default)")
#define KS_END_DECLS	_Pragma("GCC visibility pop")
#define KS_ATOMIC(T)	_Atomic(T)
#define ks__typeof_deref(p)	__typeof__(*(p))
#endif

KS_BEGIN_DECLS

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

KS_END_DECLS

#endif /* KSYNC_COMMON_H */

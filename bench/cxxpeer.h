/* SPDX-License-Identifier: MIT */
/*
 * cxxpeer.h — what a C++ peer's shim (Abseil, TBB, the C++ library) needs to stay one file.
 *
 * The harnesses are C, and C cannot name a C++ class or call its members. So a C++ peer's shim
 * is compiled twice:
 *
 *   - as C++, on its own: bench/Kbuild finds `__cplusplus` in the shim and compiles it once more,
 *     into <family>/<shim>-cxx.o, where its `#ifdef __cplusplus` half defines a few wrappers
 *     (extern "C" functions around the C++ calls);
 *   - as C, inside its family's harness like every shim, where the other half defines the usual
 *     macros (LOCK, UNLOCK, ...) with those wrappers.
 *
 * The wrappers are declared once, above the #ifdef, with KB_CXX_API: extern "C" in C++, extern in
 * C. A C++ object lives in C storage, struct kb_cxx_storage, and is built in place by the init
 * wrapper: kb_cxx<T>() checks at compile time that T fits. Each operation costs one direct call
 * more than an inline one (the wrapper's; absl::Mutex::Lock and TBB's speculative lock are out
 * of line anyway): about a nanosecond, which the uncontended table shows and the contended
 * figures do not.
 */
#ifndef KB_CXXPEER_H
#define KB_CXXPEER_H

/* Room for every peer's object: tbb::speculative_spin_mutex is 128 bytes, 128-aligned. */
#define KB_CXX_STORAGE_SIZE	256
#define KB_CXX_STORAGE_ALIGN	128

struct kb_cxx_storage {
	unsigned char bytes[KB_CXX_STORAGE_SIZE] __attribute__((aligned(KB_CXX_STORAGE_ALIGN)));
};

#ifdef __cplusplus
#include <new>

#define KB_CXX_API	extern "C"

/* The T built in s by its init wrapper. */
template <typename T>
static inline T *kb_cxx(struct kb_cxx_storage *s)
{
	static_assert(sizeof(T) <= KB_CXX_STORAGE_SIZE, "struct kb_cxx_storage is too small");
	static_assert(alignof(T) <= KB_CXX_STORAGE_ALIGN, "struct kb_cxx_storage is misaligned");
	return std::launder(reinterpret_cast<T *>(s->bytes));
}

/* Builds a T in s (the objects live as long as the program: they are never destroyed). */
template <typename T>
static inline void kb_cxx_init(struct kb_cxx_storage *s)
{
	static_assert(sizeof(T) <= KB_CXX_STORAGE_SIZE, "struct kb_cxx_storage is too small");
	static_assert(alignof(T) <= KB_CXX_STORAGE_ALIGN, "struct kb_cxx_storage is misaligned");
	new (s->bytes) T();
}
#else
#define KB_CXX_API	extern
#endif

#endif /* KB_CXXPEER_H */

/* SPDX-License-Identifier: MIT */
/*
 * absl_mutex: Abseil's absl::Mutex (a word of state and a queue of waiters; a waiter spins
 * briefly, then sleeps on a futex). A C++ peer: see cxxpeer.h.
 *
 * Debian builds Abseil without NDEBUG, which leaves its deadlock detector on: every Lock()
 * then records the lock in a graph (48 ns instead of 8 per lock+unlock on the reference VM).
 * A production build (NDEBUG) has it off, and so does this shim.
 */
#include "cxxpeer.h"

KB_CXX_API void kb_absl_mutex_init(struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_mutex_lock(struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_mutex_unlock(struct kb_cxx_storage *m);

#ifdef __cplusplus
#include <absl/synchronization/mutex.h>

void kb_absl_mutex_init(struct kb_cxx_storage *m)
{
	absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
	kb_cxx_init<absl::Mutex>(m);
}

void kb_absl_mutex_lock(struct kb_cxx_storage *m)
{
	kb_cxx<absl::Mutex>(m)->Lock();
}

void kb_absl_mutex_unlock(struct kb_cxx_storage *m)
{
	kb_cxx<absl::Mutex>(m)->Unlock();
}
#else
#define LOCK_NAME	"absl_mutex"
#define LOCK_ORIGIN	"absl"
#define LOCK_WAITS	"sleeps"
#define LOCK_TYPE	struct kb_cxx_storage
#define LOCK_INIT(l)	kb_absl_mutex_init(l)
#define LOCK(l, node)	kb_absl_mutex_lock(l)
#define UNLOCK(l, node)	kb_absl_mutex_unlock(l)
#endif

/* SPDX-License-Identifier: MIT */
/*
 * absl_condvar: Abseil's absl::CondVar with an absl::Mutex. A C++ peer: see cxxpeer.h. Its
 * mutex's deadlock detector is off, as in a production build (shim/lock/absl_mutex.h says why).
 */
#include "cxxpeer.h"

KB_CXX_API void kb_absl_condvar_init(struct kb_cxx_storage *c, struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_condvar_lock(struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_condvar_unlock(struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_condvar_wait(struct kb_cxx_storage *c, struct kb_cxx_storage *m);
KB_CXX_API void kb_absl_condvar_signal(struct kb_cxx_storage *c);

#ifdef __cplusplus
#include <absl/synchronization/mutex.h>

void kb_absl_condvar_init(struct kb_cxx_storage *c, struct kb_cxx_storage *m)
{
	absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
	kb_cxx_init<absl::Mutex>(m);
	kb_cxx_init<absl::CondVar>(c);
}

void kb_absl_condvar_lock(struct kb_cxx_storage *m)
{
	kb_cxx<absl::Mutex>(m)->Lock();
}

void kb_absl_condvar_unlock(struct kb_cxx_storage *m)
{
	kb_cxx<absl::Mutex>(m)->Unlock();
}

void kb_absl_condvar_wait(struct kb_cxx_storage *c, struct kb_cxx_storage *m)
{
	kb_cxx<absl::CondVar>(c)->Wait(kb_cxx<absl::Mutex>(m));
}

void kb_absl_condvar_signal(struct kb_cxx_storage *c)
{
	kb_cxx<absl::CondVar>(c)->Signal();
}
#else
#define COND_NAME		"absl_condvar"
#define COND_ORIGIN		"absl"
#define COND_MUTEX_TYPE		struct kb_cxx_storage
#define COND_TYPE		struct kb_cxx_storage
#define COND_INIT(c, m)		kb_absl_condvar_init((c), (m))
#define COND_LOCK(m)		kb_absl_condvar_lock(m)
#define COND_UNLOCK(m)		kb_absl_condvar_unlock(m)
#define COND_WAIT(c, m)		kb_absl_condvar_wait((c), (m))
#define COND_SIGNAL(c)		kb_absl_condvar_signal(c)
#endif

/* SPDX-License-Identifier: MIT */
/*
 * tbb_spin_mutex: oneTBB's tbb::spin_mutex, a test-and-set byte; a waiter backs off with pause,
 * then calls sched_yield(). A C++ peer: see cxxpeer.h.
 */
#include "cxxpeer.h"

KB_CXX_API void kb_tbb_spin_mutex_init(struct kb_cxx_storage *m);
KB_CXX_API void kb_tbb_spin_mutex_lock(struct kb_cxx_storage *m);
KB_CXX_API void kb_tbb_spin_mutex_unlock(struct kb_cxx_storage *m);

#ifdef __cplusplus
#include <oneapi/tbb/spin_mutex.h>

void kb_tbb_spin_mutex_init(struct kb_cxx_storage *m)
{
	kb_cxx_init<tbb::spin_mutex>(m);
}

void kb_tbb_spin_mutex_lock(struct kb_cxx_storage *m)
{
	kb_cxx<tbb::spin_mutex>(m)->lock();
}

void kb_tbb_spin_mutex_unlock(struct kb_cxx_storage *m)
{
	kb_cxx<tbb::spin_mutex>(m)->unlock();
}
#else
#define LOCK_NAME	"tbb_spin_mutex"
#define LOCK_ORIGIN	"tbb"
#define LOCK_WAITS	"yields"
#define LOCK_TYPE	struct kb_cxx_storage
#define LOCK_INIT(l)	kb_tbb_spin_mutex_init(l)
#define LOCK(l, node)	kb_tbb_spin_mutex_lock(l)
#define UNLOCK(l, node)	kb_tbb_spin_mutex_unlock(l)
#endif

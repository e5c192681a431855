/* SPDX-License-Identifier: MIT */
/*
 * tbb_speculative_spin_mutex: oneTBB's tbb::speculative_spin_mutex. On a CPU with Intel TSX it
 * first runs the critical section as a hardware transaction; elsewhere (every AMD CPU, and Intel
 * ones with TSX off) it is a test-and-set lock, taken and released out of line in libtbb, whose
 * waiters pause, then sched_yield(). A C++ peer: see cxxpeer.h; the node is its scoped_lock.
 */
#include "cxxpeer.h"

KB_CXX_API void kb_tbb_speculative_init(struct kb_cxx_storage *m);
KB_CXX_API void kb_tbb_speculative_lock(struct kb_cxx_storage *m, struct kb_cxx_storage *node);
KB_CXX_API void kb_tbb_speculative_unlock(struct kb_cxx_storage *node);

#ifdef __cplusplus
#include <oneapi/tbb/spin_mutex.h>

using tbb_speculative_spin_mutex_node = tbb::speculative_spin_mutex::scoped_lock;

void kb_tbb_speculative_init(struct kb_cxx_storage *m)
{
	kb_cxx_init<tbb::speculative_spin_mutex>(m);
}

void kb_tbb_speculative_lock(struct kb_cxx_storage *m, struct kb_cxx_storage *node)
{
	static_assert(sizeof(tbb_speculative_spin_mutex_node) <= KB_CXX_STORAGE_SIZE, "node");
	new (node->bytes) tbb_speculative_spin_mutex_node(*kb_cxx<tbb::speculative_spin_mutex>(m));
}

void kb_tbb_speculative_unlock(struct kb_cxx_storage *node)
{
	kb_cxx<tbb_speculative_spin_mutex_node>(node)->~tbb_speculative_spin_mutex_node();
}
#else
#define LOCK_NAME	"tbb_speculative_spin_mutex"
#define LOCK_ORIGIN	"tbb"
#define LOCK_WAITS	"yields"
#define LOCK_TYPE	struct kb_cxx_storage
#define LOCK_NODE_TYPE	struct kb_cxx_storage
#define LOCK_INIT(l)	kb_tbb_speculative_init(l)
#define LOCK(l, node)	kb_tbb_speculative_lock((l), (node))
#define UNLOCK(l, node)	kb_tbb_speculative_unlock(node)
#endif

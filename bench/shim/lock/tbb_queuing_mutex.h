/* SPDX-License-Identifier: MIT */
/*
 * tbb_queuing_mutex: oneTBB's tbb::queuing_mutex, an MCS queue lock (FIFO): each waiter's node
 * is its scoped_lock, on which it spins with pause, then sched_yield(). A C++ peer: see
 * cxxpeer.h. The node is built by the lock wrapper and destroyed by the unlock wrapper.
 */
#include "cxxpeer.h"

KB_CXX_API void kb_tbb_queuing_mutex_init(struct kb_cxx_storage *m);
KB_CXX_API void kb_tbb_queuing_mutex_lock(struct kb_cxx_storage *m, struct kb_cxx_storage *node);
KB_CXX_API void kb_tbb_queuing_mutex_unlock(struct kb_cxx_storage *node);

#ifdef __cplusplus
#include <oneapi/tbb/queuing_mutex.h>

using tbb_queuing_mutex_node = tbb::queuing_mutex::scoped_lock;

void kb_tbb_queuing_mutex_init(struct kb_cxx_storage *m)
{
	kb_cxx_init<tbb::queuing_mutex>(m);
}

void kb_tbb_queuing_mutex_lock(struct kb_cxx_storage *m, struct kb_cxx_storage *node)
{
	static_assert(sizeof(tbb_queuing_mutex_node) <= KB_CXX_STORAGE_SIZE, "node");
	new (node->bytes) tbb_queuing_mutex_node(*kb_cxx<tbb::queuing_mutex>(m));
}

void kb_tbb_queuing_mutex_unlock(struct kb_cxx_storage *node)
{
	kb_cxx<tbb_queuing_mutex_node>(node)->~tbb_queuing_mutex_node();
}
#else
#define LOCK_NAME	"tbb_queuing_mutex"
#define LOCK_ORIGIN	"tbb"
#define LOCK_WAITS	"yields"
#define LOCK_TYPE	struct kb_cxx_storage
#define LOCK_NODE_TYPE	struct kb_cxx_storage
#define LOCK_INIT(l)	kb_tbb_queuing_mutex_init(l)
#define LOCK(l, node)	kb_tbb_queuing_mutex_lock((l), (node))
#define UNLOCK(l, node)	kb_tbb_queuing_mutex_unlock(node)
#endif

/* SPDX-License-Identifier: MIT */
/*
 * std_shared_mutex: the C++ standard library's std::shared_mutex (libstdc++ builds it on
 * pthread_rwlock_t, so it measures what a C++ program gets from the standard). A C++ peer: see
 * cxxpeer.h.
 */
#include "cxxpeer.h"

KB_CXX_API void kb_shared_mutex_init(struct kb_cxx_storage *l);
KB_CXX_API void kb_shared_mutex_lock_shared(struct kb_cxx_storage *l);
KB_CXX_API void kb_shared_mutex_unlock_shared(struct kb_cxx_storage *l);
KB_CXX_API void kb_shared_mutex_lock(struct kb_cxx_storage *l);
KB_CXX_API void kb_shared_mutex_unlock(struct kb_cxx_storage *l);

#ifdef __cplusplus
#include <shared_mutex>

void kb_shared_mutex_init(struct kb_cxx_storage *l)
{
	kb_cxx_init<std::shared_mutex>(l);
}

void kb_shared_mutex_lock_shared(struct kb_cxx_storage *l)
{
	kb_cxx<std::shared_mutex>(l)->lock_shared();
}

void kb_shared_mutex_unlock_shared(struct kb_cxx_storage *l)
{
	kb_cxx<std::shared_mutex>(l)->unlock_shared();
}

void kb_shared_mutex_lock(struct kb_cxx_storage *l)
{
	kb_cxx<std::shared_mutex>(l)->lock();
}

void kb_shared_mutex_unlock(struct kb_cxx_storage *l)
{
	kb_cxx<std::shared_mutex>(l)->unlock();
}
#else
struct std_rw {
	struct kb_cxx_storage lock;
	struct rw_data *data;
};

static inline const struct rw_data *std_rw_read_begin(struct std_rw *l, unsigned *token)
{
	(void)token;
	kb_shared_mutex_lock_shared(&l->lock);
	return l->data;
}

static inline bool std_rw_read_retry(struct std_rw *l, unsigned token)
{
	(void)token;
	kb_shared_mutex_unlock_shared(&l->lock);
	return false;
}

static inline struct rw_data *std_rw_write_begin(struct std_rw *l)
{
	kb_shared_mutex_lock(&l->lock);
	return l->data;
}

#define RW_NAME			"std_shared_mutex"
#define RW_ORIGIN		"libstdc++"
#define RW_TYPE			struct std_rw
#define RW_INIT(l, d)		(kb_shared_mutex_init(&(l)->lock), (l)->data = (d))
#define RW_READ_BEGIN(l, t)	std_rw_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	std_rw_read_retry((l), (t))
#define RW_WRITE_BEGIN(l)	std_rw_write_begin(l)
#define RW_WRITE_END(l, d)	kb_shared_mutex_unlock(&(l)->lock)
#endif

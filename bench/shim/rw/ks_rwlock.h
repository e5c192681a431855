/* SPDX-License-Identifier: MIT */
/* ks_rwlock: ksync's reader-writer lock on one futex word. */
#include <ksync/rwlock.h>

struct ks_rw {
	struct ks_rwlock lock;
	struct rw_data *data;
};

static inline const struct rw_data *ks_rw_read_begin(struct ks_rw *l, unsigned *token)
{
	(void)token;
	ks_rwlock_read_lock(&l->lock);
	return l->data;
}

static inline bool ks_rw_read_retry(struct ks_rw *l, unsigned token)
{
	(void)token;
	ks_rwlock_read_unlock(&l->lock);
	return false;
}

static inline struct rw_data *ks_rw_write_begin(struct ks_rw *l)
{
	ks_rwlock_write_lock(&l->lock);
	return l->data;
}

#define RW_NAME			"ks_rwlock"
#define RW_ORIGIN		"ksync"
#define RW_BASELINE		"pthread_rwlock"
#define RW_TYPE			struct ks_rw
#define RW_INIT(l, d)		(ks_rwlock_init(&(l)->lock, 0), (l)->data = (d))
#define RW_READ_BEGIN(l, t)	ks_rw_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	ks_rw_read_retry((l), (t))
#define RW_WRITE_BEGIN(l)	ks_rw_write_begin(l)
#define RW_WRITE_END(l, d)	ks_rwlock_write_unlock(&(l)->lock)

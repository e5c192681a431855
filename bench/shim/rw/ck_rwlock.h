/* SPDX-License-Identifier: MIT */
/* ck_rwlock: Concurrency Kit's spinning reader-writer lock (writers first); it never sleeps. */
#include <ck_rwlock.h>

struct ck_rw {
	ck_rwlock_t lock;
	struct rw_data *data;
};

static inline const struct rw_data *ck_rw_read_begin(struct ck_rw *l, unsigned *token)
{
	(void)token;
	ck_rwlock_read_lock(&l->lock);
	return l->data;
}

static inline bool ck_rw_read_retry(struct ck_rw *l, unsigned token)
{
	(void)token;
	ck_rwlock_read_unlock(&l->lock);
	return false;
}

static inline struct rw_data *ck_rw_write_begin(struct ck_rw *l)
{
	ck_rwlock_write_lock(&l->lock);
	return l->data;
}

#define RW_NAME			"ck_rwlock"
#define RW_ORIGIN		"ck"
#define RW_TYPE			struct ck_rw
#define RW_INIT(l, d)		(ck_rwlock_init(&(l)->lock), (l)->data = (d))
#define RW_READ_BEGIN(l, t)	ck_rw_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	ck_rw_read_retry((l), (t))
#define RW_WRITE_BEGIN(l)	ck_rw_write_begin(l)
#define RW_WRITE_END(l, d)	ck_rwlock_write_unlock(&(l)->lock)

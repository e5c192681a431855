/* SPDX-License-Identifier: MIT */
/* pthread_rwlock: glibc's reader-writer lock (default: prefers readers). */
#include <pthread.h>

struct pthread_rw {
	pthread_rwlock_t lock;
	struct rw_data *data;
};

static inline void pthread_rw_init(struct pthread_rw *l, struct rw_data *d)
{
	pthread_rwlock_init(&l->lock, NULL);
	l->data = d;
}

static inline const struct rw_data *pthread_rw_read_begin(struct pthread_rw *l, unsigned *token)
{
	(void)token;
	pthread_rwlock_rdlock(&l->lock);
	return l->data;
}

static inline bool pthread_rw_read_retry(struct pthread_rw *l, unsigned token)
{
	(void)token;
	pthread_rwlock_unlock(&l->lock);
	return false;
}

static inline struct rw_data *pthread_rw_write_begin(struct pthread_rw *l)
{
	pthread_rwlock_wrlock(&l->lock);
	return l->data;
}

#define RW_NAME			"pthread_rwlock"
#define RW_ORIGIN		"glibc"
#define RW_TYPE			struct pthread_rw
#define RW_INIT(l, d)		pthread_rw_init((l), (d))
#define RW_READ_BEGIN(l, t)	pthread_rw_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	pthread_rw_read_retry((l), (t))
#define RW_WRITE_BEGIN(l)	pthread_rw_write_begin(l)
#define RW_WRITE_END(l, d)	pthread_rwlock_unlock(&(l)->lock)

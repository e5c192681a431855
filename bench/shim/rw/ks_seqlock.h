/* SPDX-License-Identifier: MIT */
/*
 * ks_seqlock: ksync's sequence lock. Readers never write shared memory: they read optimistically
 * and retry if a writer was inside; writers serialize on the seqlock's mutex.
 */
#include <ksync/seqlock.h>

struct ks_seq {
	struct ks_seqlock lock;
	struct rw_data *data;
};

static inline const struct rw_data *ks_seq_read_begin(struct ks_seq *l, unsigned *token)
{
	*token = ks_seqlock_read_begin(&l->lock);
	return l->data;
}

static inline struct rw_data *ks_seq_write_begin(struct ks_seq *l)
{
	ks_seqlock_write_lock(&l->lock);
	return l->data;
}

#define RW_NAME			"ks_seqlock"
#define RW_ORIGIN		"ksync"
#define RW_BASELINE		"pthread_rwlock"
#define RW_TYPE			struct ks_seq
#define RW_INIT(l, d)		(ks_seqlock_init(&(l)->lock, 0), (l)->data = (d))
#define RW_READ_BEGIN(l, t)	ks_seq_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	ks_seqlock_read_retry(&(l)->lock, (t))
#define RW_WRITE_BEGIN(l)	ks_seq_write_begin(l)
#define RW_WRITE_END(l, d)	ks_seqlock_write_unlock(&(l)->lock)

/* SPDX-License-Identifier: MIT */
/*
 * urcu: liburcu's read-side critical section (the memb flavour, through its library calls;
 * its inline fast path is for LGPL code only). A writer copies the data, updates the copy,
 * publishes it with rcu_xchg_pointer() under a writer mutex, waits for a grace period with
 * synchronize_rcu() and frees the old copy: RCU's reads are nearly free, its writes are not.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

struct urcu_rw {
	pthread_mutex_t writer;
	struct rw_data *current;
};

static inline struct rw_data *urcu_rw_copy(const struct rw_data *d)
{
	struct rw_data *copy = malloc(sizeof(*copy));

	if (!copy)
		abort();
	for (unsigned i = 0; i < KB_RW_WORDS; i++)
		atomic_init(&copy->word[i], atomic_load_explicit(&d->word[i],
								 memory_order_relaxed));
	return copy;
}

static inline void urcu_rw_init(struct urcu_rw *l, const struct rw_data *d)
{
	pthread_mutex_init(&l->writer, NULL);
	l->current = urcu_rw_copy(d);
}

static inline const struct rw_data *urcu_rw_read_begin(struct urcu_rw *l, unsigned *token)
{
	(void)token;
	urcu_memb_read_lock();
	return rcu_dereference(l->current);
}

static inline bool urcu_rw_read_retry(struct urcu_rw *l, unsigned token)
{
	(void)l;
	(void)token;
	urcu_memb_read_unlock();
	return false;
}

static inline struct rw_data *urcu_rw_write_begin(struct urcu_rw *l)
{
	pthread_mutex_lock(&l->writer);
	return urcu_rw_copy(l->current);
}

static inline void urcu_rw_write_end(struct urcu_rw *l, struct rw_data *d)
{
	struct rw_data *old = rcu_xchg_pointer(&l->current, d);

	pthread_mutex_unlock(&l->writer);
	urcu_memb_synchronize_rcu();
	free(old);
}

#define RW_NAME			"urcu"
#define RW_ORIGIN		"urcu"
#define RW_TYPE			struct urcu_rw
#define RW_INIT(l, d)		urcu_rw_init((l), (d))
#define RW_READ_BEGIN(l, t)	urcu_rw_read_begin((l), (t))
#define RW_READ_RETRY(l, t)	urcu_rw_read_retry((l), (t))
#define RW_WRITE_BEGIN(l)	urcu_rw_write_begin(l)
#define RW_WRITE_END(l, d)	urcu_rw_write_end((l), (d))
#define RW_THREAD_ONLINE()	urcu_memb_register_thread()
#define RW_THREAD_OFFLINE()	urcu_memb_unregister_thread()

/* SPDX-License-Identifier: MIT */
/*
 * pthread_monitor: the bounded buffer glibc users write — a circular array under a
 * pthread_mutex, with not_full and not_empty pthread_conds.
 */
#include <pthread.h>

struct monitor {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	unsigned head, count;
	void *slot[KB_RING_SLOTS];
};

static inline void monitor_init(struct monitor *m)
{
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->not_full, NULL);
	pthread_cond_init(&m->not_empty, NULL);
}

static inline void monitor_put(struct monitor *m, void *item)
{
	pthread_mutex_lock(&m->lock);
	while (m->count == KB_RING_SLOTS)
		pthread_cond_wait(&m->not_full, &m->lock);
	m->slot[(m->head + m->count++) % KB_RING_SLOTS] = item;
	pthread_cond_signal(&m->not_empty);
	pthread_mutex_unlock(&m->lock);
}

static inline void *monitor_get(struct monitor *m)
{
	void *item;

	pthread_mutex_lock(&m->lock);
	while (m->count == 0)
		pthread_cond_wait(&m->not_empty, &m->lock);
	item = m->slot[m->head];
	m->head = (m->head + 1) % KB_RING_SLOTS;
	m->count--;
	pthread_cond_signal(&m->not_full);
	pthread_mutex_unlock(&m->lock);
	return item;
}

#define RING_NAME		"pthread_monitor"
#define RING_ORIGIN		"glibc"
#define RING_TYPE		struct monitor
#define RING_INIT(r, n)		monitor_init(r)
#define RING_PUT(r, item)	monitor_put((r), (item))
#define RING_GET(r)		monitor_get(r)

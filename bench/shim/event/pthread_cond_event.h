/* SPDX-License-Identifier: MIT */
/*
 * pthread_cond_event: glibc has no event, so this is the one everybody writes (and Python's
 * threading.Event is): a flag under a pthread_mutex, with a pthread_cond to wait on.
 */
#include <pthread.h>
#include <stdbool.h>

struct cond_event {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool set;
};

static inline void cond_event_init(struct cond_event *e)
{
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->changed, NULL);
	e->set = false;
}

static inline void cond_event_set(struct cond_event *e)
{
	pthread_mutex_lock(&e->lock);
	e->set = true;
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
}

static inline void cond_event_clear(struct cond_event *e)
{
	pthread_mutex_lock(&e->lock);
	e->set = false;
	pthread_mutex_unlock(&e->lock);
}

static inline void cond_event_wait(struct cond_event *e)
{
	pthread_mutex_lock(&e->lock);
	while (!e->set)
		pthread_cond_wait(&e->changed, &e->lock);
	pthread_mutex_unlock(&e->lock);
}

#define EVENT_NAME	"pthread_cond_event"
#define EVENT_ORIGIN	"glibc"
#define EVENT_TYPE	struct cond_event
#define EVENT_INIT(e)	cond_event_init(e)
#define EVENT_SET(e)	cond_event_set(e)
#define EVENT_CLEAR(e)	cond_event_clear(e)
#define EVENT_WAIT(e)	cond_event_wait(e)

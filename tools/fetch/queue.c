// SPDX-License-Identifier: MIT
/*
 * The bounded work queue (see queue.h). Invariant, under `lock`: the items are
 * ring[head], ring[(head + 1) % cap], … ring[(head + len - 1) % cap], oldest first, and
 * 0 <= len <= cap. Each push signals `items` once and each pop signals `room` once, after
 * dropping the lock (ks_cond allows it, and the woken thread does not then block at once on a
 * lock still held).
 */
#include "queue.h"

#include <stdlib.h>

int work_queue_init(struct work_queue *q, size_t cap)
{
	q->ring = calloc(cap ? cap : 1, sizeof(*q->ring));
	if (!q->ring)
		return -ENOMEM;
	ks_mutex_init(&q->lock, 0);
	ks_cond_init(&q->items, 0);
	ks_cond_init(&q->room, 0);
	q->cap = cap ? cap : 1;
	q->head = q->len = 0;
	q->closed = false;
	return 0;
}

void work_queue_free(struct work_queue *q)
{
	free(q->ring);
	q->ring = NULL;
}

int work_queue_push(struct work_queue *q, void *item)
{
	ks_mutex_lock(&q->lock);
	ks_cond_wait_event(&q->room, &q->lock, q->len < q->cap || q->closed);
	if (q->closed) {
		ks_mutex_unlock(&q->lock);
		return -EPIPE;
	}
	q->ring[(q->head + q->len++) % q->cap] = item;
	ks_mutex_unlock(&q->lock);
	ks_cond_signal(&q->items);
	return 0;
}

void *work_queue_pop(struct work_queue *q)
{
	void *item = NULL;

	ks_mutex_lock(&q->lock);
	ks_cond_wait_event(&q->items, &q->lock, q->len || q->closed);
	if (q->len) {
		item = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	ks_mutex_unlock(&q->lock);
	if (item)
		ks_cond_signal(&q->room);
	return item;
}

void work_queue_close(struct work_queue *q)
{
	ks_mutex_lock(&q->lock);
	q->closed = true;
	ks_mutex_unlock(&q->lock);
	ks_cond_broadcast(&q->items);
	ks_cond_broadcast(&q->room);
}

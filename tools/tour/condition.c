// SPDX-License-Identifier: MIT
/*
 * Condition: a producer and a consumer around a queue of QUEUE_SIZE slots. Under one lock, the
 * producer waits while the queue is full and the consumer while it is empty; each notifies the
 * other after changing the queue. ks_cond_wait_event() is Python's wait_for(): it re-checks
 * the predicate after every wake-up, so a spurious or stolen wake-up does no harm.
 *
 * The consumer is slower than the producer, so the producer keeps finding the queue full and
 * waits for room: the waits are counted and printed.
 */
#include "tour.h"

#define ITEMS		20
#define QUEUE_SIZE	4
#define CONSUME_MS	5

static struct ks_mutex lock = KS_MUTEX_INIT;
static struct ks_cond not_full = KS_COND_INIT;
static struct ks_cond not_empty = KS_COND_INIT;
static int queue[QUEUE_SIZE];
static unsigned head, count;
static unsigned producer_waits, consumer_waits;	/* under lock */

static void put(int item)
{
	ks_mutex_lock(&lock);
	if (count == QUEUE_SIZE)
		producer_waits++;
	ks_cond_wait_event(&not_full, &lock, count < QUEUE_SIZE);
	queue[(head + count++) % QUEUE_SIZE] = item;
	ks_cond_signal(&not_empty);
	ks_mutex_unlock(&lock);
}

static int get(void)
{
	int item;

	ks_mutex_lock(&lock);
	if (count == 0)
		consumer_waits++;
	ks_cond_wait_event(&not_empty, &lock, count > 0);
	item = queue[head];
	head = (head + 1) % QUEUE_SIZE;
	count--;
	ks_cond_signal(&not_full);
	ks_mutex_unlock(&lock);
	return item;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= ITEMS; i++)
		put(i);
	return NULL;
}

static void *consumer(void *arg)
{
	long sum = 0;

	(void)arg;
	for (int i = 1; i <= ITEMS; i++) {
		sum += get();
		tour_sleep_ms(CONSUME_MS);
	}
	return (void *)sum;
}

int main(void)
{
	const long expected = ITEMS * (ITEMS + 1) / 2;
	struct ks_thread prod, cons;
	long sum = 0;
	double t0;

	/* One thread can only alternate: fill the queue, then empty it. */
	t0 = tour_now();
	for (int i = 1; i <= ITEMS; i++) {
		put(i);
		if (count == QUEUE_SIZE || i == ITEMS)
			while (count) {
				sum += get();
				tour_sleep_ms(CONSUME_MS);
			}
	}
	printf("sequential: %d items through a queue of %d, sum %ld (expected %ld), %.2f s\n",
	       ITEMS, QUEUE_SIZE, sum, expected, tour_now() - t0);

	producer_waits = consumer_waits = 0;
	t0 = tour_now();
	tour_start(&cons, consumer, NULL);
	tour_start(&prod, producer, NULL);
	tour_join(&prod);
	sum = (long)tour_join(&cons);
	printf("threads:    consumed %d items, sum %ld (expected %ld), %.2f s; the producer "
	       "waited for room %u times, the consumer for an item %u times\n", ITEMS, sum,
	       expected, tour_now() - t0, producer_waits, consumer_waits);
	return sum == expected ? 0 : 1;
}

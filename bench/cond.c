// SPDX-License-Identifier: MIT
/*
 * cond.c — the condition-variable harness, compiled once per shim in shim/cond/.
 *
 *	COND_NAME, COND_ORIGIN, COND_BASELINE (ksync shims only)
 *	COND_MUTEX_TYPE, COND_TYPE; COND_INIT(c, m) initialises both
 *	COND_LOCK(m), COND_UNLOCK(m), COND_WAIT(c, m), COND_SIGNAL(c)
 *
 * cond/pingpong/<name>, 2 threads: a turn variable under the mutex; each thread waits for its
 * turn, passes it to the other and signals. One round trip is two wake-ups.
 *
 * cond/buffer/<name>, 2 threads (one producer, one consumer) and 4 (two of each): the classic
 * monitor bounded buffer of KB_BUFFER_SLOTS items, with not_full and not_empty conditions.
 * ns_per_round is the time per item each producer puts.
 */
#include "kbench.h"
#include "rounds.h"
#include "window.h"

#include SHIM

#ifdef COND_BASELINE
#define COND_LABEL	COND_ORIGIN " vs " COND_BASELINE
#else
#define COND_LABEL	COND_ORIGIN
#endif

#define KB_BUFFER_SLOTS	16

static struct {
	COND_MUTEX_TYPE lock;
	COND_TYPE turn_changed;
	int turn;
} pp __attribute__((aligned(KB_CACHELINE)));

static struct {
	COND_MUTEX_TYPE lock;
	COND_TYPE not_full, not_empty;
	unsigned head, count;
	uint64_t slot[KB_BUFFER_SLOTS];
} buf __attribute__((aligned(KB_CACHELINE)));

static void bm_pingpong(struct kb_state *st)
{
	int self = kb_thread_index(st), other = !self;
	struct kb_rounds r;

	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st)) {
		while (n--) {
			COND_LOCK(&pp.lock);
			while (pp.turn != self)
				COND_WAIT(&pp.turn_changed, &pp.lock);
			pp.turn = other;
			COND_SIGNAL(&pp.turn_changed);
			COND_UNLOCK(&pp.lock);
		}
	}
	kb_rounds_end(&r, st);
	kb_label(st, COND_LABEL);
}

static void put(uint64_t item)
{
	COND_LOCK(&buf.lock);
	while (buf.count == KB_BUFFER_SLOTS)
		COND_WAIT(&buf.not_full, &buf.lock);
	buf.slot[(buf.head + buf.count) % KB_BUFFER_SLOTS] = item;
	buf.count++;
	COND_SIGNAL(&buf.not_empty);
	COND_UNLOCK(&buf.lock);
}

static uint64_t get(void)
{
	uint64_t item;

	COND_LOCK(&buf.lock);
	while (buf.count == 0)
		COND_WAIT(&buf.not_empty, &buf.lock);
	item = buf.slot[buf.head];
	buf.head = (buf.head + 1) % KB_BUFFER_SLOTS;
	buf.count--;
	COND_SIGNAL(&buf.not_full);
	COND_UNLOCK(&buf.lock);
	return item;
}

static void bm_buffer(struct kb_state *st)
{
	bool producer = kb_thread_index(st) % 2 == 0;
	struct kb_rounds r;
	uint64_t sum = 0;

	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st)) {
		while (n--) {
			if (producer)
				put(n);
			else
				sum += get();
		}
	}
	kb_rounds_end(&r, st);
	__asm__ __volatile__("" : : "r"(sum));
	kb_label(st, COND_LABEL);
}

static void register_cond(void)
{
	struct kb_bench *b;

	COND_INIT(&pp.turn_changed, &pp.lock);
	COND_INIT(&buf.not_full, &buf.lock);
	COND_INIT(&buf.not_empty, &buf.lock);
	kb_threads(kb_register("cond/pingpong/" COND_NAME, bm_pingpong, NULL), 2);
	b = kb_register("cond/buffer/" COND_NAME, bm_buffer, NULL);
	kb_threads(b, 2);
	kb_threads(b, 4);
}
KB_REGISTER(register_cond)

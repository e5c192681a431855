// SPDX-License-Identifier: MIT
/*
 * event.c — the event harness, compiled once per shim in shim/event/.
 *
 *	EVENT_NAME, EVENT_ORIGIN, EVENT_BASELINE (ksync shims only)
 *	EVENT_TYPE; EVENT_INIT(e); EVENT_SET(e); EVENT_CLEAR(e); EVENT_WAIT(e)
 *
 * event/pingpong/<name>, 2 threads: thread 0 sets `ping` and waits for `pong`, thread 1 waits
 * for `ping` and sets `pong`; each clears the event it waited for before answering, so the
 * next set finds it clear. One round trip is two set→wake latencies.
 */
#include "kbench.h"
#include "rounds.h"
#include "window.h"

#include SHIM

#ifdef EVENT_BASELINE
#define EVENT_LABEL	EVENT_ORIGIN " vs " EVENT_BASELINE
#else
#define EVENT_LABEL	EVENT_ORIGIN
#endif

static EVENT_TYPE ping __attribute__((aligned(KB_CACHELINE)));
static EVENT_TYPE pong __attribute__((aligned(KB_CACHELINE)));

static void bm_pingpong(struct kb_state *st)
{
	bool first = kb_thread_index(st) == 0;
	struct kb_rounds r;

	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st)) {
		while (n--) {
			if (first) {
				EVENT_SET(&ping);
				EVENT_WAIT(&pong);
				EVENT_CLEAR(&pong);
			} else {
				EVENT_WAIT(&ping);
				EVENT_CLEAR(&ping);
				EVENT_SET(&pong);
			}
		}
	}
	kb_rounds_end(&r, st);
	kb_label(st, EVENT_LABEL);
}

static void register_event(void)
{
	EVENT_INIT(&ping);
	EVENT_INIT(&pong);
	kb_threads(kb_register("event/pingpong/" EVENT_NAME, bm_pingpong, NULL), 2);
}
KB_REGISTER(register_event)

// SPDX-License-Identifier: MIT
/*
 * sem.c — the semaphore harness, compiled once per shim in shim/sem/.
 *
 *	SEM_NAME, SEM_ORIGIN, SEM_BASELINE (ksync shims only)
 *	SEM_TYPE; SEM_INIT(s, value); SEM_DOWN(s); SEM_UP(s)
 *
 * sem/pingpong/<name>, 2 threads: thread 0 ups `ping` and downs `pong`, thread 1 the reverse.
 * One round trip is two hand-offs, each a wake-up of a thread that is (or is about to be)
 * asleep: what a semaphore costs when it is used to pass a baton.
 */
#include "kbench.h"
#include "rounds.h"
#include "window.h"

#include SHIM

#ifdef SEM_BASELINE
#define SEM_LABEL	SEM_ORIGIN " vs " SEM_BASELINE
#else
#define SEM_LABEL	SEM_ORIGIN
#endif

static SEM_TYPE ping __attribute__((aligned(KB_CACHELINE)));
static SEM_TYPE pong __attribute__((aligned(KB_CACHELINE)));

static void bm_pingpong(struct kb_state *st)
{
	bool first = kb_thread_index(st) == 0;
	struct kb_rounds r;

	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st)) {
		while (n--) {
			if (first) {
				SEM_UP(&ping);
				SEM_DOWN(&pong);
			} else {
				SEM_DOWN(&ping);
				SEM_UP(&pong);
			}
		}
	}
	kb_rounds_end(&r, st);
	kb_label(st, SEM_LABEL);
}

static void register_sem(void)
{
	SEM_INIT(&ping, 0);
	SEM_INIT(&pong, 0);
	kb_threads(kb_register("sem/pingpong/" SEM_NAME, bm_pingpong, NULL), 2);
}
KB_REGISTER(register_sem)

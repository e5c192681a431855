/* SPDX-License-Identifier: MIT */
/* The runner's side of ksync-torture: shared state, rounds, the watchdog, the storm. */
#ifndef KSYNC_TESTS_TORTURE_RUN_H
#define KSYNC_TESTS_TORTURE_RUN_H

#include "torture.h"

#define TORTURE_MAX_SCENARIOS	64
#define TORTURE_MAX_SCENES	8

enum { TORTURE_OK, TORTURE_FAILING, TORTURE_FAILED };

/* What every process of the run shares (MAP_SHARED). */
struct torture_shared {
	atomic_int failed;		/* TORTURE_*: the first violation wins */
	char msg[1024];
	int64_t when_ns;
	atomic_ulong signals_sent, signals_seen, pokes, forks, bare_forks;
};

extern struct torture_shared *torture_shared;

/* Per scenario over the whole run (parent only). */
struct torture_total {
	long rounds, process_rounds;
	long ops, timeouts, errors;
	int64_t late_max_ns;
	int64_t busy_ns;		/* wall time its scenes ran */
};

extern struct torture_total torture_totals[TORTURE_MAX_SCENARIOS];

/* Runs rounds of the given scenarios until the duration has passed or a violation. */
void torture_run(const struct scenario *const *list, unsigned n);

int64_t torture_started_ns(void);

#endif /* KSYNC_TESTS_TORTURE_RUN_H */

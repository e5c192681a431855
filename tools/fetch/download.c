// SPDX-License-Identifier: MIT
/*
 * One download, all or nothing:
 *  1. the name was checked, and the folder looked at, while preparing (prepare.c);
 *  2. each attempt writes into one temporary file (tmpfile.c) while holding one of its host's
 *     slots (not during a backoff): from its first byte, or, when the attempt before stopped
 *     partway and the server allows it, from where that one stopped (transfer.c);
 *  3. a transient failure waits (retry.c) on the abort event, so an interruption ends it;
 *  4. success gives the file its name, which never replaces anything; failure leaves nothing.
 */
#include "retry.h"
#include "tmpfile.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(struct fetch_result *res, const char *fmt, const char *arg)
{
	snprintf(res->reason, FETCH_REASON_MAX, fmt, arg);
}

/* The file under its name: true, or false and the reason. */
static bool commit(struct run *r, struct tmpfile *t, struct fetch_result *res)
{
	int err = tmp_commit(r->dirfd, t, res->name);

	if (err == -EEXIST)
		say(res, "%s already exists (not replaced)", res->name);
	else if (err)
		snprintf(res->reason, FETCH_REASON_MAX, "cannot save %s: %s", res->name,
			 strerror(-err));
	return !err;
}

/* Where the attempt after a (RETRY or RETRY_AFRESH) starts. */
static void next_start(const struct attempt *a, enum outcome out, struct resume *next)
{
	const char *v = attempt_validator(a);

	if (out == RETRY && a->body_started && a->size > 0 && v) {
		next->from = a->size;
		snprintf(next->validator, sizeof(next->validator), "%s", v);
	} else {
		next->from = 0;
	}
}

/* One attempt from *from, holding a slot of the host. */
static enum outcome attempt(struct worker *w, struct job *j, int fd, struct resume *from)
{
	struct attempt a = { .w = w, .fd = fd, .from = *from, .range_start = -1 };
	struct fetch_result *res = j->res;
	enum outcome out;
	CURLcode rc;

	if (ftruncate(fd, from->from)) {
		say(res, "cannot write: %s", strerror(errno));
		return FAIL;
	}
	res->attempts++;
	ks_sem_down(&j->host->slots);
	rc = transfer_perform(w, j->url, &a);
	ks_sem_up(&j->host->slots);
	out = attempt_outcome(w, rc, &a, res);
	if (out == DONE) {
		res->bytes = (uint64_t)a.size;
		res->resumed |= a.code == 206 && from->from > 0;
	} else {
		res->resumed |= a.code == 206 && from->from > 0 && a.size > from->from;
		next_start(&a, out, from);
	}
	return out;
}

/* Attempts until done, failed for good, out of retries or interrupted. */
static void attempts(struct worker *w, struct job *j, struct tmpfile *t)
{
	struct run *r = w->run;
	struct fetch_result *res = j->res;
	struct resume from = { .from = 0 };

	for (;;) {
		enum outcome out;
		int64_t wait;

		if (run_interrupted(r)) {
			say(res, "%s", "interrupted");
			return;
		}
		out = attempt(w, j, t->fd, &from);
		if (out == DONE) {
			if (commit(r, t, res))
				res->status = FETCH_SAVED;
			return;
		}
		if (out == FAIL || res->attempts > r->o->retries)
			return;
		wait = backoff_ms(w, res->attempts - 1, res);
		if (wait < 0)
			return;
		if (ks_event_wait_timeout(&r->abort, wait * KS_NSEC_PER_MSEC) == 0) {
			say(res, "%s", "interrupted");
			return;
		}
	}
}

void download(struct worker *w, struct job *j)
{
	struct run *r = w->run;
	struct fetch_result *res = j->res;
	struct tmpfile t;
	int err;

	if (run_interrupted(r)) {
		res->status = FETCH_NOT_STARTED;
		return;
	}
	err = tmp_open(r->dirfd, &t);
	if (err) {
		say(res, "cannot create a file: %s", strerror(-err));
		return;
	}
	attempts(w, j, &t);
	if (res->status != FETCH_SAVED && res->attempts > 1) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len, " (after %u attempts)",
			 res->attempts);
	}
	if (res->status == FETCH_SAVED)
		res->reason[0] = '\0';
	tmp_close(r->dirfd, &t);
}

// SPDX-License-Identifier: MIT
/*
 * One download, all or nothing:
 *  1. the name was checked while preparing (name.c); an existing entry of that name (file,
 *     symlink, anything) fails the download before the network is touched;
 *  2. each attempt writes the body into one temporary file (tmpfile.c), emptied first, while
 *     holding one of its host's slots (not during a backoff);
 *  3. a transient failure waits (retry.c) on the abort event, so an interruption ends it;
 *  4. success gives the file its name, which never replaces anything; failure leaves nothing.
 */
#include "retry.h"
#include "tmpfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* Attempts until done, failed for good, out of retries or interrupted. */
static void attempts(struct worker *w, struct job *j, struct tmpfile *t)
{
	struct run *r = w->run;
	struct fetch_result *res = j->res;

	for (;;) {
		struct sink s = { .w = w, .fd = t->fd };
		enum outcome out;
		CURLcode rc;
		int64_t wait;

		if (run_interrupted(r)) {
			say(res, "%s", "interrupted");
			return;
		}
		if (ftruncate(t->fd, 0) || lseek(t->fd, 0, SEEK_SET)) {
			say(res, "cannot write: %s", strerror(errno));
			return;
		}
		res->attempts++;
		ks_sem_down(&j->host->slots);
		rc = transfer_perform(w, j->url, &s);
		ks_sem_up(&j->host->slots);
		out = attempt_outcome(w, rc, &s, res);
		if (out == DONE) {
			res->ok = commit(r, t, res);
			res->bytes = s.bytes;
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
	struct stat st;
	int err;

	if (!j->host)
		return;		/* refused while preparing: res->reason is set */
	if (!fstatat(r->dirfd, res->name, &st, AT_SYMLINK_NOFOLLOW)) {
		say(res, "%s already exists (not replaced)", res->name);
		return;
	}
	err = tmp_open(r->dirfd, &t, &w->rng);
	if (err) {
		say(res, "cannot create a file: %s", strerror(-err));
		return;
	}
	attempts(w, j, &t);
	if (!res->ok && res->attempts > 1) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len, " (after %u attempts)",
			 res->attempts);
	}
	if (res->ok)
		res->reason[0] = '\0';
	tmp_close(r->dirfd, &t);
}

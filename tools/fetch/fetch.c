// SPDX-License-Identifier: MIT
/*
 * The downloader's engine.
 *
 * Threads. The calling thread prepares every URL (its file name and its host, before any
 * network traffic), then pushes the jobs into a bounded work queue (queue.c: a ks_mutex and two
 * ks_conds) and closes it. `jobs` worker ks_threads pop and download until the queue is closed
 * and empty. Each worker owns one libcurl easy handle for its whole life, so its connections are
 * reused from one file to the next; all handles hang on one libcurl share handle that shares
 * the DNS cache and the TLS session cache, and whose lock callbacks take one ks_mutex per
 * curl_lock_data. A monitor ks_thread draws the progress line and turns a signal into the
 * `abort` ks_event. In sequential mode the calling thread is the only worker, with the same code.
 *
 * Hosts. Each distinct scheme://host:port gets a ks_sem of `per_host` slots: a worker holds one
 * for the duration of a transfer attempt (not during backoff), so no host ever sees more than
 * `per_host` connections from us, whatever `jobs` is. A worker whose host is busy waits for it
 * (head-of-line blocking across hosts is accepted: the queue is FIFO).
 *
 * One download, all or nothing:
 *  1. the name is refused unless it is one safe component (name.c); an existing entry of that
 *     name (file, symlink, anything) fails the download before the network is touched;
 *  2. the body goes to an anonymous O_TMPFILE in the output folder (fallback: a fresh
 *     ".ksync-fetch.XXXXXXXX" made with O_CREAT|O_EXCL|O_NOFOLLOW), counted against max_size as
 *     it is written (libcurl 7.88 only enforces CURLOPT_MAXFILESIZE when the size is announced);
 *  3. success links the file in with linkat(), which never follows a link and never replaces
 *     an entry (EEXIST); failure closes it (O_TMPFILE: nothing ever had a name) or unlinks it.
 *
 * Retries. Transient failures (timeouts, connection refused or reset, truncated bodies, HTTP
 * 408, 429 and 5xx) are retried up to `retries` times after a backoff of retry_delay * 2^k
 * (capped at FETCH_BACKOFF_MAX_MS) with "equal jitter" (half fixed, half random), or after the
 * server's Retry-After when that is longer; a Retry-After beyond max_retry_after_s fails at
 * once rather than stall the run. Other failures (4xx, refused redirects, oversize, local I/O)
 * are final at once.
 *
 * TLS peer and host verification stay on (they are never turned off anywhere), and only http
 * and https are allowed, for the first request and for every redirect.
 */
#include "fetch.h"
#include "queue.h"

#include <ksync/event.h>
#include <ksync/mutex.h>
#include <ksync/sem.h>
#include <ksync/thread.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FETCH_USER_AGENT	"ksync-fetch/0.1"
#define FETCH_PROTOCOLS		"http,https"
#define FILE_MODE		0644	/* before the umask */
#define DIR_MODE		0755
#define TMP_NAME_TRIES		16
#define HOST_KEY_MAX		300
#define PROGRESS_TICK_MS	100	/* the progress line's refresh, and the signal poll */
#define QUEUE_PER_WORKER	2	/* the work queue holds this many jobs per worker */

atomic_int fetch_interrupted;

struct host {
	struct host *next;
	char key[HOST_KEY_MAX];		/* scheme://host:port */
	struct ks_sem slots;		/* per_host transfers at once */
};

struct job {
	const char *url;
	struct host *host;		/* NULL: refused before the network (res->reason says) */
	struct fetch_result *res;
};

struct run {
	const struct fetch_options *o;
	int dirfd;
	size_t njobs;
	struct job *jobs;
	struct host *hosts;
	CURLSH *share;
	struct ks_mutex share_locks[CURL_LOCK_DATA_LAST];
	struct work_queue queue;
	struct ks_event abort;		/* interrupted: transfers and backoffs stop */
	struct ks_event finished;	/* every job done: the monitor ends */
	struct ks_mutex out_lock;	/* the per-file lines and the progress line */
	_Atomic unsigned done;
	_Atomic unsigned failed;
	_Atomic uint64_t received;	/* every byte of every attempt: the progress rate */
	int64_t start_ns;
};

struct worker {
	struct run *run;
	CURL *curl;
	struct ks_thread thread;
	uint32_t rng;			/* xorshift32: backoff jitter, temporary names */
	char errbuf[CURL_ERROR_SIZE];
};

/* One attempt's output. */
struct sink {
	struct worker *w;
	int fd;
	uint64_t bytes;
	bool oversize;
	int io_errno;
};

struct tmpfile {
	int fd;
	char name[32];			/* "" for an O_TMPFILE, which has no name */
};

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static bool interrupted(struct run *r)
{
	/* relaxed: a flag written by a signal handler; curl polls it, nothing is published */
	if (atomic_load_explicit(&fetch_interrupted, memory_order_relaxed))
		ks_event_set(&r->abort);
	return ks_event_is_set(&r->abort);
}

/* ---- the share handle's locks ------------------------------------------------------------ */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct run *r = arg;

	(void)h;
	(void)access;	/* shared and exclusive alike: the critical sections are tiny */
	ks_mutex_lock(&r->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct run *r = arg;

	(void)h;
	ks_mutex_unlock(&r->share_locks[data]);
}

static int share_init(struct run *r)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		ks_mutex_init(&r->share_locks[i], 0);
	r->share = curl_share_init();
	if (!r->share ||
	    curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(r->share, CURLSHOPT_USERDATA, r) ||
	    curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))
		return -ENOMEM;
	return 0;
}

/* ---- the temporary file ------------------------------------------------------------------ */

static int tmp_open(int dirfd, struct tmpfile *t, uint32_t *rng)
{
	t->name[0] = '\0';
	t->fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, FILE_MODE);
	if (t->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (int i = 0; i < TMP_NAME_TRIES; i++) {
		snprintf(t->name, sizeof(t->name), ".ksync-fetch.%08x", xorshift32(rng));
		t->fd = openat(dirfd, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       FILE_MODE);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	t->name[0] = '\0';
	return -errno;
}

/* Gives the file its name: 0, or -EEXIST if anything has that name now (never replaced). */
static int tmp_commit(int dirfd, struct tmpfile *t, const char *name)
{
	char proc[64];

	if (t->name[0]) {
		if (!renameat2(dirfd, t->name, dirfd, name, RENAME_NOREPLACE))
			return 0;
		if (errno != EINVAL)	/* a file system without RENAME_NOREPLACE: link it */
			return -errno;
		return linkat(dirfd, t->name, dirfd, name, 0) ? -errno : 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (!linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* no /proc: the direct form, which needs CAP_DAC_READ_SEARCH */
	return linkat(t->fd, "", dirfd, name, AT_EMPTY_PATH) ? -errno : 0;
}

static void tmp_close(int dirfd, struct tmpfile *t)
{
	if (t->name[0])
		unlinkat(dirfd, t->name, 0);
	close(t->fd);
}

/* ---- libcurl callbacks ------------------------------------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	struct run *r = s->w->run;
	long code = 0;

	n *= size;
	/* relaxed: a statistic for the progress line */
	atomic_fetch_add_explicit(&r->received, n, memory_order_relaxed);
	curl_easy_getinfo(s->w->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return n;	/* an error page: not the file */
	if (s->bytes + n > (uint64_t)r->o->max_size) {
		s->oversize = true;
		return 0;	/* any other count than n aborts: CURLE_WRITE_ERROR */
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = write(s->fd, p + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			s->io_errno = k < 0 ? errno : ENOSPC;
			return 0;
		}
		off += (size_t)k;
	}
	s->bytes += n;
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct worker *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return interrupted(w->run);	/* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

static int worker_init(struct worker *w, struct run *r, uint32_t seed)
{
	const struct fetch_options *o = r->o;
	CURL *c = curl_easy_init();

	w->run = r;
	w->curl = c;
	w->rng = seed | 1;
	if (!c)
		return -ENOMEM;
	if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SHARE, r->share) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, FETCH_PROTOCOLS) ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, FETCH_PROTOCOLS) ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->errbuf) ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, FETCH_USER_AGENT)) {
		curl_easy_cleanup(c);
		w->curl = NULL;
		return -EINVAL;
	}
	return 0;
}

/* ---- one download ------------------------------------------------------------------------ */

static bool http_transient(long code)
{
	return code == 408 || code == 429 || (code >= 500 && code <= 599);
}

static bool curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

enum outcome { DONE, RETRY, FAIL };

/* Classifies one attempt; on RETRY or FAIL, res->reason says why. */
static enum outcome attempt_outcome(struct worker *w, CURLcode rc, const struct sink *s,
				    struct fetch_result *res)
{
	const struct fetch_options *o = w->run->o;
	const char *msg = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);
	long code = 0, redirects = 0;

	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(w->curl, CURLINFO_REDIRECT_COUNT, &redirects);
	if (s->oversize || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->reason, FETCH_REASON_MAX, "larger than the maximum size (%lld bytes)",
			 (long long)o->max_size);
		return FAIL;
	}
	if (s->io_errno) {
		snprintf(res->reason, FETCH_REASON_MAX, "cannot write: %s", strerror(s->io_errno));
		return FAIL;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(res->reason, FETCH_REASON_MAX, "interrupted");
		return FAIL;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects) {
		snprintf(res->reason, FETCH_REASON_MAX, "redirect refused (only http and https): %s",
			 msg);
		return FAIL;
	}
	if (rc != CURLE_OK) {
		snprintf(res->reason, FETCH_REASON_MAX, "%s", msg);
		return curl_transient(rc) ? RETRY : FAIL;
	}
	if (code < 200 || code > 299) {
		snprintf(res->reason, FETCH_REASON_MAX, "HTTP %ld", code);
		return http_transient(code) ? RETRY : FAIL;
	}
	return DONE;
}

/* The wait before retry k (0-based), in ms; -1 if the server asks for too long a wait. */
static int64_t backoff_ms(struct worker *w, unsigned k, struct fetch_result *res)
{
	const struct fetch_options *o = w->run->o;
	int64_t d = o->retry_delay_ms;
	curl_off_t retry_after = 0;

	for (unsigned i = 0; i < k && d < FETCH_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > FETCH_BACKOFF_MAX_MS)
		d = FETCH_BACKOFF_MAX_MS;
	d = d / 2 + xorshift32(&w->rng) % (uint32_t)(d / 2 + 1);
	curl_easy_getinfo(w->curl, CURLINFO_RETRY_AFTER, &retry_after);
	if (retry_after > o->max_retry_after_s) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len,
			 ", and Retry-After %lld s is over the limit", (long long)retry_after);
		return -1;
	}
	if (retry_after * 1000 > d)
		d = retry_after * 1000;
	return d;
}

static void download(struct worker *w, struct job *j)
{
	struct run *r = w->run;
	struct fetch_result *res = j->res;
	struct tmpfile t;
	struct stat st;
	int err;

	if (!j->host)
		return;		/* refused while preparing: res->reason is set */
	if (!fstatat(r->dirfd, res->name, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(res->reason, FETCH_REASON_MAX, "%s already exists (not replaced)",
			 res->name);
		return;
	}
	err = tmp_open(r->dirfd, &t, &w->rng);
	if (err) {
		snprintf(res->reason, FETCH_REASON_MAX, "cannot create a file: %s", strerror(-err));
		return;
	}
	for (;;) {
		struct sink s = { .w = w, .fd = t.fd };
		enum outcome out;
		CURLcode rc;
		int64_t wait;

		if (interrupted(r)) {
			snprintf(res->reason, FETCH_REASON_MAX, "interrupted");
			break;
		}
		if (ftruncate(t.fd, 0) || lseek(t.fd, 0, SEEK_SET)) {
			snprintf(res->reason, FETCH_REASON_MAX, "cannot write: %s", strerror(errno));
			break;
		}
		w->errbuf[0] = '\0';
		res->attempts++;
		curl_easy_setopt(w->curl, CURLOPT_URL, j->url);
		curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &s);
		ks_sem_down(&j->host->slots);
		rc = curl_easy_perform(w->curl);
		ks_sem_up(&j->host->slots);
		out = attempt_outcome(w, rc, &s, res);
		if (out == DONE) {
			err = tmp_commit(r->dirfd, &t, res->name);
			if (err == -EEXIST)
				snprintf(res->reason, FETCH_REASON_MAX,
					 "%s already exists (not replaced)", res->name);
			else if (err)
				snprintf(res->reason, FETCH_REASON_MAX, "cannot save %s: %s",
					 res->name, strerror(-err));
			res->ok = !err;
			res->bytes = s.bytes;
			break;
		}
		if (out == FAIL || res->attempts > r->o->retries)
			break;
		wait = backoff_ms(w, res->attempts - 1, res);
		if (wait < 0)
			break;
		if (ks_event_wait_timeout(&r->abort, wait * KS_NSEC_PER_MSEC) == 0) {
			snprintf(res->reason, FETCH_REASON_MAX, "interrupted");
			break;
		}
	}
	if (!res->ok && res->attempts > 1) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len, " (after %u attempts)",
			 res->attempts);
	}
	if (res->ok)
		res->reason[0] = '\0';
	tmp_close(r->dirfd, &t);
}

/* ---- output ------------------------------------------------------------------------------ */

/* Bytes as "512 B", "48.1 KiB", "1.5 MiB". */
static void human(char *buf, size_t len, double bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (bytes >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

void fetch_print_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void draw_progress(struct run *r, bool last)
{
	char got[32], rate[32];
	double secs = (double)(ks_now_ns() - r->start_ns) / KS_NSEC_PER_SEC;
	/* relaxed: statistics */
	uint64_t received = atomic_load_explicit(&r->received, memory_order_relaxed);
	unsigned done = atomic_load_explicit(&r->done, memory_order_relaxed);
	unsigned failed = atomic_load_explicit(&r->failed, memory_order_relaxed);

	human(got, sizeof(got), (double)received);
	human(rate, sizeof(rate), secs > 0 ? received / secs : 0);
	fprintf(stderr, "\r\033[K%u/%zu files, %s, %s/s", done, r->njobs, got, rate);
	if (failed)
		fprintf(stderr, ", %u failed", failed);
	fputs(last ? "\n" : "", stderr);
	fflush(stderr);
}

static void job_finished(struct run *r, struct job *j)
{
	const struct fetch_result *res = j->res;

	/* relaxed: counters for the progress line; the results are read after the joins */
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
	if (!res->ok)
		atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
	if (!r->o->lines)
		return;
	ks_mutex_lock(&r->out_lock);
	if (r->o->progress)
		fputs("\r\033[K", stderr);
	if (res->ok) {
		char size[32];

		human(size, sizeof(size), (double)res->bytes);
		printf("ok    %s  %s", res->name, size);
		if (res->attempts > 1)
			printf("  (%u attempts)", res->attempts);
	} else {
		printf("FAIL  ");
		fetch_print_escaped(stdout, j->url);
		printf(": %s", res->reason);
	}
	putchar('\n');
	fflush(stdout);
	ks_mutex_unlock(&r->out_lock);
}

/* ---- threads ----------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = work_queue_pop(&w->run->queue))) {
		download(w, j);
		job_finished(w->run, j);
	}
	return NULL;
}

static void *monitor_main(void *arg)
{
	struct run *r = arg;

	while (ks_event_wait_timeout(&r->finished, PROGRESS_TICK_MS * KS_NSEC_PER_MSEC)) {
		interrupted(r);		/* a signal becomes the abort event */
		if (r->o->progress) {
			ks_mutex_lock(&r->out_lock);
			draw_progress(r, false);
			ks_mutex_unlock(&r->out_lock);
		}
	}
	if (r->o->progress)
		draw_progress(r, true);
	return NULL;
}

/* Workers on a queue; or, with jobs == 0, the calling thread alone. */
static int run_jobs(struct run *r)
{
	unsigned n = r->o->jobs;
	struct worker *w;
	unsigned started = 0;
	int err = 0;

	if (n > r->njobs)
		n = (unsigned)r->njobs;
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (n == 0) {
		err = worker_init(&w[0], r, 1);
		for (size_t i = 0; !err && i < r->njobs; i++) {
			download(&w[0], &r->jobs[i]);
			job_finished(r, &r->jobs[i]);
		}
		if (!err)
			curl_easy_cleanup(w[0].curl);
		free(w);
		return err;
	}
	err = work_queue_init(&r->queue, (size_t)n * QUEUE_PER_WORKER);
	for (; !err && started < n; started++) {
		err = worker_init(&w[started], r, started + 1);
		if (!err)
			err = ks_thread_start(&w[started].thread, worker_main, &w[started]);
		if (err) {
			if (w[started].curl)
				curl_easy_cleanup(w[started].curl);
			break;
		}
	}
	for (size_t i = 0; !err && i < r->njobs; i++)
		work_queue_push(&r->queue, &r->jobs[i]);
	if (r->queue.ring)
		work_queue_close(&r->queue);
	for (unsigned i = 0; i < started; i++) {
		ks_thread_join(&w[i].thread, NULL);
		curl_easy_cleanup(w[i].curl);
	}
	work_queue_free(&r->queue);
	free(w);
	return err;
}

/* ---- preparing the jobs ------------------------------------------------------------------ */

static struct host *host_get(struct run *r, const char *key)
{
	struct host *h;

	for (h = r->hosts; h; h = h->next)
		if (!strcmp(h->key, key))
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	snprintf(h->key, sizeof(h->key), "%s", key);
	ks_sem_init(&h->slots, r->o->per_host, 0);
	h->next = r->hosts;
	r->hosts = h;
	return h;
}

/* Names the file and finds the host; a refusal is recorded in the result. -ENOMEM only. */
static int job_prepare(struct run *r, struct job *j)
{
	struct fetch_result *res = j->res;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char key[HOST_KEY_MAX];
	const char *why = NULL;
	CURLU *u = curl_url();
	int err = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, j->url, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0))
		why = "not a valid URL";
	else if (strcmp(scheme, "http") && strcmp(scheme, "https"))
		why = "only http and https URLs are fetched";
	else if (fetch_name_from_path(path, res->name, &why))
		res->name[0] = '\0';
	if (why) {
		snprintf(res->reason, FETCH_REASON_MAX, "%s", why);
	} else {
		snprintf(key, sizeof(key), "%s://%s:%s", scheme, host, port);
		j->host = host_get(r, key);
		if (!j->host)
			err = -ENOMEM;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return err;
}

static int open_outdir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && !mkdir(dir, DIR_MODE))
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
}

void fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

int fetch_run(const struct fetch_options *o, const char *const *urls, size_t n,
	      struct fetch_result *res, struct fetch_stats *st)
{
	struct run r = { .o = o, .njobs = n };
	struct ks_thread monitor = KS_THREAD_INIT;
	int err;

	if (o->per_host == 0 || o->max_size < 0 || o->timeout_ms < 0 || o->connect_timeout_ms < 0)
		return -EINVAL;
	memset(res, 0, n * sizeof(*res));
	memset(st, 0, sizeof(*st));
	r.dirfd = open_outdir(o->outdir);
	if (r.dirfd < 0)
		return r.dirfd;
	ks_event_init(&r.abort, 0);
	ks_event_init(&r.finished, 0);
	ks_mutex_init(&r.out_lock, 0);
	r.jobs = calloc(n ? n : 1, sizeof(*r.jobs));
	err = r.jobs ? share_init(&r) : -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		r.jobs[i].url = urls[i];
		r.jobs[i].res = &res[i];
		err = job_prepare(&r, &r.jobs[i]);
	}
	r.start_ns = ks_now_ns();
	if (!err)
		err = ks_thread_start(&monitor, monitor_main, &r);
	if (!err) {
		err = run_jobs(&r);
		ks_event_set(&r.finished);
		ks_thread_join(&monitor, NULL);
	}
	st->elapsed_ns = ks_now_ns() - r.start_ns;
	for (size_t i = 0; i < n; i++) {
		if (res[i].ok) {
			st->ok++;
			st->bytes += res[i].bytes;
		} else {
			st->failed++;
		}
	}
	while (r.hosts) {
		struct host *h = r.hosts;

		r.hosts = h->next;
		free(h);
	}
	if (r.share)
		curl_share_cleanup(r.share);
	free(r.jobs);
	close(r.dirfd);
	return err;
}

// SPDX-License-Identifier: MIT
/*
 * ksync-fetch, end to end: the real program (KSYNC_FETCH_BIN, spawned) against the loopback
 * image server running in this process, so the test can count the requests each URL got and
 * the most the server ever saw at once. Each robustness claim of docs/fetch.md has its case:
 * retries and Retry-After, timeouts, the size limit, resets, redirects, hostile names, no
 * clobbering, no following links, nothing left behind on failure, the exit status and the
 * failure summary. Outcomes only: the one timing check is a lower bound (Retry-After honoured).
 */
#include "tap.h"

#include "imgserver.h"
#include "name.h"
#include "png.h"

#include <ksync/common.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>

extern char **environ;

#define SIDE		32u
#define COUNT		64u
#define LATENCY_MS	10u
#define OUT_MAX		(64 * 1024)
#define ARGS_MAX	64

static struct imgsrv *srv;
static char root[] = "/tmp/t-fetch.XXXXXX";
static char out[OUT_MAX];
static int64_t took_ns;

/* ---- helpers ------------------------------------------------------------------------------- */

static const char *url(const char *fmt, ...)
{
	static char bufs[16][512];
	static unsigned next;
	char *b = bufs[next++ % 16];
	int k = snprintf(b, 512, "http://127.0.0.1:%u", imgsrv_port(srv));
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + k, 512 - (size_t)k, fmt, ap);
	va_end(ap);
	return b;
}

static const char *path_in(const char *dir, const char *name)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, 1024, "%s/%s/%s", root, dir, name);
	return b;
}

/* Runs ksync-fetch with args (NULL-terminated) and KSYNC_FETCH's stdout+stderr in `out`. */
static int fetch(const char *const *args)
{
	const char *argv[ARGS_MAX] = { KSYNC_FETCH_BIN };
	char log[512];
	posix_spawn_file_actions_t fa;
	int64_t t0 = tap_now_ns();
	ssize_t n;
	pid_t pid;
	int st, fd, i;

	for (i = 0; args[i] && i < ARGS_MAX - 2; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	snprintf(log, sizeof(log), "%s/log", root);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (posix_spawn(&pid, KSYNC_FETCH_BIN, &fa, NULL, (char **)argv, environ)) {
		printf("Bail out! cannot run %s\n", KSYNC_FETCH_BIN);
		exit(1);
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0)
		;
	took_ns = tap_now_ns() - t0;
	fd = open(log, O_RDONLY);
	n = fd >= 0 ? read(fd, out, OUT_MAX - 1) : 0;
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	if (!WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define FETCH(...) fetch((const char *const[]){ __VA_ARGS__, NULL })

static bool has(const char *text)
{
	bool yes = strstr(out, text) != NULL;

	if (!yes) {
		diag("output lacks '%s'; it was:", text);
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
			diag("  %s", line);
	}
	return yes;
}

/* The entries of root/dir (without . and ..); -1 if it cannot be read. */
static int entries(const char *dir)
{
	char p[1024];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", root, dir);
	d = opendir(p);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool same_as_image(const char *path, unsigned index)
{
	size_t size = png_image_size(SIDE);
	uint8_t *want = malloc(size), *got = malloc(size + 1);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, got, size + 1) : -1;
	bool same;

	png_image_render(want, index, SIDE);
	same = n == (ssize_t)size && !memcmp(want, got, size);
	if (fd >= 0)
		close(fd);
	free(want);
	free(got);
	return same;
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

static void mkdir_in(const char *dir)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, dir);
	mkdir(p, 0755);
}

static const char *dir_arg(const char *dir)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, 1024, "%s/%s", root, dir);
	return b;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

/* ---- the cases ----------------------------------------------------------------------------- */

static void test_names(void)
{
	static const struct { const char *path, *name; } good[] = {
		{ "/img/3.png", "3.png" },
		{ "/a/b/c%20d.png", "c d.png" },
		{ "/x.y", "x.y" },
		{ "/%41.png", "A.png" },
		{ "/weird..name", "weird..name" },
	};
	static const char *const bad[] = {
		"/img/..", "/img/.", "/img/%2e%2e", "/img/%2E", "/img/.bashrc", "/img/a%2Fb.png",
		"/img/a%2fb", "/img/a%5Cb.png", "/img/a\\b", "/img/x%0Ay.png", "/img/%00.png",
		"/img/%1b[31m.png", "/img/%7f", "/img/", "", "/img/%zz.png", "/img/%4",
	};
	char name[FETCH_NAME_MAX + 1], longpath[FETCH_NAME_MAX + 8];
	const char *why;

	tap_phase("names");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(!fetch_name_from_path(good[i].path, name, &why) && !strcmp(name, good[i].name),
		   "name: '%s' gives '%s'", good[i].path, good[i].name);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ok(fetch_name_from_path(bad[i], name, &why) == -EINVAL && why,
		   "name: '%s' refused (%s)", bad[i], why ? why : "-");
	}
	longpath[0] = '/';
	memset(longpath + 1, 'a', FETCH_NAME_MAX + 1);
	longpath[FETCH_NAME_MAX + 2] = '\0';
	ok(fetch_name_from_path(longpath, name, &why) == -EINVAL, "name: too long refused");
	longpath[FETCH_NAME_MAX + 1] = '\0';
	ok(!fetch_name_from_path(longpath, name, &why), "name: NAME_MAX bytes accepted");
}

static void test_png(void)
{
	size_t size = png_image_size(SIDE);
	uint8_t *a = malloc(size), *b = malloc(size);

	tap_phase("png");
	png_image_render(a, 5, SIDE);
	ok(!memcmp(a, "\x89PNG\r\n\x1a\n", 8), "png: the signature");
	ok(!memcmp(a + size - 8, "IEND", 4), "png: ends with IEND at the computed size");
	png_image_render(b, 5, SIDE);
	ok(!memcmp(a, b, size), "png: deterministic");
	png_image_render(b, 6, SIDE);
	ok(memcmp(a, b, size), "png: another index, another picture");
	free(a);
	free(b);
}

static void test_basic(void)
{
	const char *u[8];
	bool all = true;
	char list[1024];
	FILE *f;

	tap_phase("basic");
	for (unsigned i = 0; i < 8; i++)
		u[i] = url("/img/%u.png", i);
	is(FETCH("-j", "4", "-o", dir_arg("basic"), u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7]),
	   0, "8 URLs, -j 4: exit 0");
	ok(has("8 of 8 files"), "the summary counts them");
	for (unsigned i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%u.png", i);
		all &= same_as_image(path_in("basic", name), i);
	}
	ok(all, "every file is byte for byte the server's image");
	is(entries("basic"), 8, "and nothing else is in the folder (no temporary files)");

	snprintf(list, sizeof(list), "%s/list.txt", root);
	f = fopen(list, "w");
	fprintf(f, "# a comment\n\n  %s  \n%s\n", url("/img/10.png"), url("/img/11.png"));
	fclose(f);
	is(FETCH("-i", list, "-o", dir_arg("list")), 0, "-i FILE: exit 0");
	ok(same_as_image(path_in("list", "10.png"), 10) &&
	   same_as_image(path_in("list", "11.png"), 11), "-i FILE: both files (comments skipped)");

	is(FETCH("--sequential", "-o", dir_arg("seq"), u[0], u[1], u[2]), 0, "--sequential: exit 0");
	ok(same_as_image(path_in("seq", "2.png"), 2) && entries("seq") == 3, "--sequential: files");

	is(FETCH("--compare", "-j", "4", "-o", dir_arg("cmp"), u[0], u[1], u[2], u[3]), 0,
	   "--compare: exit 0");
	ok(has("speedup: ") && has("sequential: 4 of 4") && has("parallel (4 workers): 4 of 4"),
	   "--compare: both runs and the speedup");
	ok(entries("cmp/sequential") == 4 && entries("cmp/parallel") == 4,
	   "--compare: each run in its own folder");

	is(FETCH("--local", "3", "-o", dir_arg("local")), 0, "--local 3: exit 0");
	is(entries("local"), 3, "--local 3: three images");
}

static void test_per_host(void)
{
	const char *args[ARGS_MAX] = { "-j", "8", "--per-host", "2", "-o", dir_arg("perhost") };
	int n = 6;

	tap_phase("per-host semaphore");
	for (unsigned i = 0; i < 16; i++)
		args[n++] = url("/img/%u.png", 20 + i);
	imgsrv_reset_max_inflight(srv);
	is(fetch(args), 0, "-j 8 --per-host 2: exit 0");
	ok(imgsrv_max_inflight(srv) <= 2, "the server never saw more than 2 requests at once");
	diag("most at once with --per-host 2: %u", imgsrv_max_inflight(srv));
	args[3] = "8";
	args[5] = dir_arg("perhost8");
	imgsrv_reset_max_inflight(srv);
	is(fetch(args), 0, "-j 8 --per-host 8: exit 0");
	ok(imgsrv_max_inflight(srv) <= 8, "the server never saw more than 8 at once");
	diag("most at once with --per-host 8: %u", imgsrv_max_inflight(srv));
}

static void test_retries(void)
{
	const char *u;

	tap_phase("retries");
	u = url("/img/1.png?fail=2");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 0, "500 twice, then 200: exit 0");
	is(imgsrv_hits(srv, u + strlen(url(""))), 3, "three requests were made");
	ok(same_as_image(path_in("retry", "1.png"), 1) && has("(3 attempts)"),
	   "the file is whole, and the line says 3 attempts");

	u = url("/img/2.png?fail=1&status=503&retry-after=1");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 0, "503 + Retry-After: 1: exit 0");
	ok(took_ns >= KS_NSEC_PER_SEC, "Retry-After honoured: waited %.2f s (>= 1 s)",
	   took_ns / 1e9);

	u = url("/img/3.png?fail=1&status=429&retry-after=3600");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1,
	   "429 + Retry-After: 3600 over --max-retry-after: exit 1");
	ok(has("Retry-After 3600 s is over the limit"), "the reason says why");
	is(imgsrv_hits(srv, u + strlen(url(""))), 1, "and it did not retry");

	u = url("/img/4.png?fail=9");
	is(FETCH("--retries", "2", "--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1,
	   "500 forever, --retries 2: exit 1");
	is(imgsrv_hits(srv, u + strlen(url(""))), 3, "1 + 2 retries were made");
	ok(has("HTTP 500 (after 3 attempts)"), "the summary gives the status and attempts");

	u = url("/img/5.png?fail=1&status=404");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1, "404: exit 1");
	is(imgsrv_hits(srv, u + strlen(url(""))), 1, "a 404 is not retried");
	ok(!exists(path_in("retry", "4.png")) && !exists(path_in("retry", "5.png")),
	   "failed downloads left no file");
	is(entries("retry"), 2, "the folder holds exactly the two successes");
}

static void test_limits(void)
{
	const char *u;

	tap_phase("timeout");
	u = url("/slow/1.png?every=50");
	is(FETCH("--timeout", "300ms", "--retries", "1", "--retry-delay", "1ms", "-o",
		 dir_arg("limits"), u), 1, "drip-feed past --timeout: exit 1");
	ok(has("timed out") && has("after 2 attempts"), "reason: timed out, after 2 attempts");
	ok(took_ns < 5 * KS_NSEC_PER_SEC, "and it gave up (%.2f s)", took_ns / 1e9);

	tap_phase("max size");
	u = url("/big/1.png");
	is(FETCH("--max-size", "100k", "-o", dir_arg("limits"), u), 1,
	   "an endless body without Content-Length, --max-size 100k: exit 1");
	ok(has("larger than the maximum size (102400 bytes)"), "reason: the maximum size");
	u = url("/big/2.png?declare=1");
	is(FETCH("--max-size", "100k", "-o", dir_arg("limits"), u), 1,
	   "a 1 GiB Content-Length: exit 1");
	ok(has("larger than the maximum size"), "reason: the maximum size");

	tap_phase("reset");
	u = url("/reset/3.png");
	is(FETCH("--retries", "1", "--retry-delay", "1ms", "-o", dir_arg("limits"), u), 1,
	   "a connection reset mid-body: exit 1");
	is(imgsrv_hits(srv, u + strlen(url(""))), 2, "a reset is transient: retried once");
	is(entries("limits"), 0, "timeouts, oversize bodies and resets left nothing behind");
}

static void test_redirects(void)
{
	tap_phase("redirects");
	is(FETCH("-o", dir_arg("redir"), url("/redirect/3.png")), 0, "a redirect to http: exit 0");
	ok(same_as_image(path_in("redir", "3.png"), 3), "saved under the URL's name");

	is(FETCH("-o", dir_arg("redir"), url("/redirect-evil/4.png")), 1,
	   "a redirect to file:///etc/passwd: exit 1");
	ok(has("redirect refused"), "reason: redirect refused");
	is(FETCH("-o", dir_arg("redir"), url("/redirect-evil/5.png?to=ftp")), 1,
	   "a redirect to ftp://: exit 1");
	ok(has("redirect refused"), "reason: redirect refused");

	is(FETCH("-o", dir_arg("redir"), url("/redirect-evil/6.png?to=name")), 0,
	   "a redirect to '..%%2F..%%2F.bashrc': exit 0");
	ok(same_as_image(path_in("redir", "6.png"), 0),
	   "saved as 6.png (the name comes from the URL asked for)");
	ok(!exists(path_in("redir", ".bashrc")) && !exists(path_in(".", ".bashrc")) &&
	   !exists("/tmp/.bashrc.t-fetch"), "no .bashrc anywhere");

	is(FETCH("-o", dir_arg("redir"), url("/loop/7.png")), 1, "a redirect loop: exit 1");
	ok(has("redirects"), "reason: too many redirects");
	is(entries("redir"), 2, "only the two good files exist");
}

static void test_names_end_to_end(void)
{
	static const char *const hostile[] = {
		"/img/..", "/img/%2e%2e", "/img/.hidden.png", "/img/a%2Fb.png", "/img/x%0Ay.png",
		"/img/", "/img/%00.png",
	};
	const char *args[ARGS_MAX] = { "-o", dir_arg("names") };
	int n = 2;

	tap_phase("hostile names");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		args[n++] = url("%s", hostile[i]);
	args[n++] = "http://127.0.0.1:1/img/\x1b[2J.png";
	args[n++] = "ftp://127.0.0.1/img/1.png";
	is(fetch(args), 1, "hostile names: exit 1");
	ok(has("file name starts with a dot") && has("slash in the file name") &&
	   has("control character in the file name") && has("no file name in the URL") &&
	   has("only http and https"), "each refusal has its reason");
	ok(!strchr(out, '\x1b') && has("\\x1b"), "a control byte in a URL is printed escaped");
	is(imgsrv_hits(srv, "/img/.hidden.png") + imgsrv_hits(srv, "/img/a%2Fb.png"), 0,
	   "refused names never reach the network");
	is(entries("names"), 0, "and nothing was created");
	ok(!exists(path_in(".", "b.png")) && !exists(path_in(".", ".hidden.png")),
	   "nothing outside the folder either");
}

static void test_no_clobber(void)
{
	char victim[1024];
	int fd;

	tap_phase("no clobber");
	mkdir_in("clobber");
	fd = open(path_in("clobber", "3.png"), O_WRONLY | O_CREAT, 0644);
	ok(write(fd, "keep", 4) == 4, "an existing 3.png");
	close(fd);
	snprintf(victim, sizeof(victim), "%s/victim", root);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	ok(write(fd, "mine", 4) == 4, "a file outside the folder");
	close(fd);
	ok(!symlink(victim, path_in("clobber", "4.png")), "4.png: a symlink to it");
	ok(!symlink("/tmp/t-fetch-nowhere", path_in("clobber", "5.png")),
	   "5.png: a dangling symlink");

	is(FETCH("-o", dir_arg("clobber"), url("/img/3.png"), url("/img/4.png"), url("/img/5.png"),
		 url("/img/6.png"), url("/img/6.png")), 1, "exit 1");
	ok(has("3.png already exists (not replaced)") && has("4.png already exists") &&
	   has("5.png already exists"), "each refusal says the file exists");
	fd = open(path_in("clobber", "3.png"), O_RDONLY);
	ok(fd >= 0 && read(fd, victim + 900, 16) == 4 && !memcmp(victim + 900, "keep", 4),
	   "3.png kept its content");
	close(fd);
	fd = open(victim, O_RDONLY);
	ok(fd >= 0 && read(fd, victim + 900, 16) == 4 && !memcmp(victim + 900, "mine", 4),
	   "the symlink's target was not written through");
	close(fd);
	ok(!exists("/tmp/t-fetch-nowhere"), "the dangling symlink was not followed");
	ok(same_as_image(path_in("clobber", "6.png"), 6), "6.png asked twice: saved once");
	ok(has("6.png already exists"), "and the second is refused, not overwritten");
	is(entries("clobber"), 4, "no temporary files left");
}

static void test_exit_and_summary(void)
{
	tap_phase("exit status");
	is(FETCH("-o", dir_arg("mixed"), url("/img/40.png"), url("/img/41.png?fail=1&status=403")),
	   1, "one good, one bad: exit 1");
	ok(has("1 of 2 files") && has("1 failed:") && has("/img/41.png?fail=1&status=403: HTTP 403"),
	   "the summary lists the failure and its reason");
	ok(!strstr(strstr(out, "failed:") ? strstr(out, "failed:") : out, "/img/40.png"),
	   "and not the success");
	is(FETCH("-o", dir_arg("mixed")), 2, "no URL: exit 2");
	is(FETCH("-j", "x", url("/img/1.png")), 2, "a bad -j: exit 2");
	is(FETCH("--timeout", "soon", url("/img/1.png")), 2, "a bad duration: exit 2");
}

static void test_interrupt(void)
{
	const char *argv[] = { KSYNC_FETCH_BIN, "-o", dir_arg("intr"), "--timeout", "60s",
			       url("/slow/9.png?every=100"), NULL };
	int64_t t0 = tap_now_ns();
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	tap_phase("interrupt");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, KSYNC_FETCH_BIN, &fa, NULL, (char **)argv, environ)) {
		tap_skip(3, "cannot spawn");
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	/* the handler is installed before the first request: wait for it, then interrupt */
	for (int64_t end = tap_deadline_in_ms(20000); tap_before(end);) {
		if (imgsrv_hits(srv, "/slow/9.png?every=100"))
			break;
		tap_sleep_ms(5);
	}
	tap_sleep_ms(100);
	kill(pid, SIGINT);
	while (waitpid(pid, &st, 0) < 0)
		;
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "SIGINT mid-download: exit 1");
	ok(tap_now_ns() - t0 < 10 * KS_NSEC_PER_SEC, "promptly");
	is(entries("intr"), 0, "and the partial file is gone");
}

/* ksync-imgserver on its own: the URL on its first line, images served, SIGTERM ends it. */
static void test_standalone_server(void)
{
	const char *argv[] = { KSYNC_IMGSERVER_BIN, "-n", "4", "-s", "32", NULL };
	posix_spawn_file_actions_t fa;
	char base[128] = "", target[160];
	int pipefd[2], st;
	ssize_t n = 0;
	pid_t pid;

	tap_phase("standalone server");
	if (pipe(pipefd)) {
		tap_skip(4, "no pipe");
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, KSYNC_IMGSERVER_BIN, &fa, NULL, (char **)argv, environ)) {
		tap_skip(4, "cannot spawn ksync-imgserver");
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while ((size_t)n < sizeof(base) - 1 && !strchr(base, '\n')) {
		ssize_t k = read(pipefd[0], base + n, sizeof(base) - 1 - (size_t)n);

		if (k <= 0)
			break;
		n += k;
		base[n] = '\0';
	}
	close(pipefd[0]);
	*strchrnul(base, '\n') = '\0';
	ok(!strncmp(base, "http://127.0.0.1:", 17), "ksync-imgserver prints its URL: %s", base);
	snprintf(target, sizeof(target), "%simg/2.png", base);
	is(FETCH("-o", dir_arg("standalone"), target), 0, "and serves an image from it");
	ok(same_as_image(path_in("standalone", "2.png"), 2), "the right image");
	kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0)
		;
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM stops it cleanly");
}

int main(void)
{
	struct imgsrv_config cfg = { .count = COUNT, .side = SIDE, .latency_ms = LATENCY_MS };
	int err;

	tap_start(60);
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	err = imgsrv_start(&srv, &cfg);
	if (err) {
		printf("Bail out! imgsrv_start: %s\n", strerror(-err));
		return 1;
	}
	test_names();
	test_png();
	test_basic();
	test_per_host();
	test_retries();
	test_limits();
	test_redirects();
	test_names_end_to_end();
	test_no_clobber();
	test_exit_and_summary();
	test_interrupt();
	test_standalone_server();
	imgsrv_stop(srv);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * ksync-fetch's downloads, end to end: the real program (KSYNC_FETCH_BIN, spawned) against the
 * loopback image server running in this process (t-fetch.h). Each robustness claim of
 * docs/fetch.md has its case: the per-host bound, retries and Retry-After, timeouts and stalls,
 * every byte counted against the size limit, resets and resuming, redirects, hostile names, no
 * clobbering, duplicates, --skip-existing, nothing left behind on failure. Outcomes only: the
 * one timing check is a lower bound (Retry-After honoured); upper bounds only catch a hang.
 */
#include "tap.h"
#include "t-fetch.h"

static void test_basic(void)
{
	const char *u[8];
	bool all = true;
	char list[1024], line[1024];

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
	snprintf(line, sizeof(line), "# a comment\n\n  %s  \n%s\n", url("/img/10.png"),
		 url("/img/11.png"));
	write_file(list, line);
	is(FETCH("-i", list, "-o", dir_arg("list")), 0, "-i FILE: exit 0");
	ok(same_as_image(path_in("list", "10.png"), 10) &&
	   same_as_image(path_in("list", "11.png"), 11), "-i FILE: both files (comments skipped)");

	is(FETCH("--sequential", "-o", dir_arg("seq"), u[0], u[1], u[2]), 0,
	   "--sequential: exit 0");
	ok(same_as_image(path_in("seq", "2.png"), 2) && entries("seq") == 3, "--sequential: files");
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
	ok(has("2 workers (1 host, at most 2 each):"),
	   "the summary says 2 workers, and that the per-host limit is why");

	/* each request waits until 12 were in at once: only a per-host limit of 12 lets it be */
	args[0] = "-j";
	args[1] = "12";
	args[2] = "-o";
	args[3] = dir_arg("perhost12");
	n = 4;
	for (unsigned i = 0; i < 12; i++)
		args[n++] = url("/img/%u.png?gate=12", 40 + i);
	args[n] = NULL;
	imgsrv_reset_max_inflight(srv);
	is(fetch(args), 0, "-j 12, no --per-host: exit 0");
	is(imgsrv_max_inflight(srv), 12,
	   "12 transfers at once to one host: the per-host limit follows -j");
	ok(has("12 workers: 12 of 12 files"), "and the summary says 12 workers");
}

static void test_retries(void)
{
	const char *u;

	tap_phase("retries");
	u = url("/img/1.png?fail=2");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 0,
	   "500 twice, then 200: exit 0");
	is(imgsrv_hits(srv, target(u)), 3, "three requests were made");
	ok(same_as_image(path_in("retry", "1.png"), 1) && has("(3 attempts)"),
	   "the file is whole, and the line says 3 attempts");

	u = url("/img/2.png?fail=1&status=503&retry-after=1");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 0,
	   "503 + Retry-After: 1: exit 0");
	ok(took_ns >= KS_NSEC_PER_SEC, "Retry-After honoured: waited %.2f s (>= 1 s)",
	   took_ns / 1e9);

	u = url("/img/3.png?fail=1&status=429&retry-after=3600");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1,
	   "429 + Retry-After: 3600 over --max-retry-after: exit 1");
	ok(has("Retry-After 3600 s is over the limit (60000 ms)"), "the reason says why");
	is(imgsrv_hits(srv, target(u)), 1, "and it did not retry");

	u = url("/img/6.png?fail=1&status=503&retry-after=1");
	is(FETCH("--max-retry-after", "999ms", "--retry-delay", "1ms", "-o", dir_arg("retry"), u),
	   1, "Retry-After: 1 with --max-retry-after 999ms: exit 1");
	ok(has("Retry-After 1 s is over the limit (999 ms)"),
	   "the limit is kept to the millisecond, not truncated to 0 s");

	u = url("/img/4.png?fail=9");
	is(FETCH("--retries", "2", "--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1,
	   "500 forever, --retries 2: exit 1");
	is(imgsrv_hits(srv, target(u)), 3, "1 + 2 retries were made");
	ok(has("HTTP 500 (after 3 attempts)"), "the summary gives the status and attempts");

	u = url("/img/5.png?fail=1&status=404");
	is(FETCH("--retry-delay", "1ms", "-o", dir_arg("retry"), u), 1, "404: exit 1");
	is(imgsrv_hits(srv, target(u)), 1, "a 404 is not retried");
	ok(!exists(path_in("retry", "4.png")) && !exists(path_in("retry", "5.png")),
	   "failed downloads left no file");
	is(entries("retry"), 2, "the folder holds exactly the two successes");
}

static void test_timeouts(void)
{
	const char *u;

	tap_phase("timeout");
	u = url("/slow/1.png?every=50");
	is(FETCH("--timeout", "300ms", "--retries", "1", "--retry-delay", "1ms", "-o",
		 dir_arg("limits"), u), 1, "drip-feed past --timeout: exit 1");
	ok(has("timed out") && has("after 2 attempts"), "reason: timed out, after 2 attempts");
	ok(took_ns < 10 * KS_NSEC_PER_SEC, "and it gave up (%.2f s)", took_ns / 1e9);

	tap_phase("stall");
	u = url("/silent/2.png");
	is(FETCH("--speed-limit", "1k", "--speed-time", "1s", "--retries", "1", "--retry-delay",
		 "1ms", "-o", dir_arg("limits"), u), 1,
	   "a server that never answers, --speed-time 1s: exit 1");
	ok(has("too slow") && has("after 2 attempts"), "reason: too slow, after 2 attempts");
	ok(took_ns < 10 * KS_NSEC_PER_SEC, "and it gave up (%.2f s)", took_ns / 1e9);
	is(imgsrv_hits(srv, target(u)), 2, "a stall is transient: retried once");
}

/* Every byte an attempt receives counts against --max-size, not only the file's. */
static void test_sizes(void)
{
	static const struct { const char *path, *what; } endless[] = {
		{ "/error-endless/4.png", "a 500 with an endless body" },
		{ "/redirect-endless/5.png", "a 302 with an endless chunked body, left open" },
		{ "/header-flood/6.png", "header lines without end" },
	};
	const char *u;

	tap_phase("max size");
	u = url("/big/1.png");
	is(FETCH("--max-size", "100k", "-o", dir_arg("limits"), u), 1,
	   "an endless body without Content-Length, --max-size 100k: exit 1");
	ok(has("larger than the maximum size (102400 bytes)"), "reason: the maximum size");
	u = url("/big/2.png?declare=1");
	is(FETCH("--max-size", "100k", "-o", dir_arg("limits"), u), 1,
	   "a 1 GiB Content-Length: exit 1");
	ok(has("larger than the maximum size"), "reason: the maximum size");

	for (size_t i = 0; i < sizeof(endless) / sizeof(endless[0]); i++) {
		u = url("%s", endless[i].path);
		is(FETCH("--max-size", "100k", "--timeout", "30s", "--retries", "0", "-o",
			 dir_arg("limits"), u), 1, "%s, --max-size 100k: exit 1", endless[i].what);
		ok(has("more than the maximum size (102400 bytes) received besides the file"),
		   "reason: the maximum size, counted on what is not the file (%.2f s)",
		   took_ns / 1e9);
	}
}

static void test_resets(void)
{
	const char *u;

	tap_phase("reset");
	u = url("/reset/3.png");
	is(FETCH("--retries", "1", "--retry-delay", "1ms", "-o", dir_arg("limits"), u), 1,
	   "a connection reset mid-body, every time: exit 1");
	is(imgsrv_hits(srv, target(u)), 2, "a reset is transient: retried once");
	is(entries("limits"), 0, "timeouts, oversize bodies and resets left nothing behind");
}

/* An attempt cut short is resumed where the server allows it, and only then. */
static void test_resume(void)
{
	static const struct {
		const char *query, *what;
		unsigned hits, ranged;
		bool resumed;
	} c[] = {
		{ "cut=1", "ranges and an ETag: resumed", 2, 1, true },
		{ "cut=1&change=1", "the ETag changed: If-Range gets the whole file", 2, 1, false },
		{ "cut=1&skew=1", "a 206 at the wrong byte: started over", 3, 1, false },
		{ "overclaim=1", "all of it, then a reset: a 416, started over", 3, 1, false },
		{ "cut=1&etag=0", "no validator: not resumed", 2, 0, false },
		{ "cut=1&ranges=0", "no ranges: not resumed", 2, 0, false },
	};

	tap_phase("resume");
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *u = url("/img/%u.png?%s", 60 + i, c[i].query);
		char name[16];

		snprintf(name, sizeof(name), "%u.png", 60 + i);
		is(FETCH("--retry-delay", "1ms", "-v", "-o", dir_arg("resume"), u), 0,
		   "%s: exit 0", c[i].what);
		ok(same_as_image(path_in("resume", name), 60 + i), "%s: the file is whole",
		   c[i].what);
		is(imgsrv_hits(srv, target(u)), c[i].hits, "%s: %u requests", c[i].what,
		   c[i].hits);
		is(imgsrv_ranged(srv, target(u)), c[i].ranged, "%s: %u of them for a range",
		   c[i].what, c[i].ranged);
		ok(c[i].resumed ? has("resumed") : lacks("resumed"), "%s: the line says so",
		   c[i].what);
	}
	is(entries("resume"), 6, "no temporary files left");
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

static void test_hostile_names(void)
{
	static const char *const hostile[] = {
		"/img/..", "/img/%2e%2e", "/img/.hidden.png", "/img/a%2Fb.png", "/img/x%0Ay.png",
		"/img/", "/img/%00.png", "/img/%C2%9B31m.png", "/img/x%E2%80%AEgnp.exe",
		"/img/%E9t%E9.png",
	};
	const char *args[ARGS_MAX] = { "-o", dir_arg("names") };
	int n = 2;

	tap_phase("hostile names");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		args[n++] = url("%s", hostile[i]);
	args[n++] = "http://127.0.0.1:1/img/\x1b[2J.png";
	args[n++] = "http://127.0.0.1:1/img/\xc2\x9b" "2J/\xe2\x80\xae";
	args[n++] = "ftp://127.0.0.1/img/1.png";
	is(fetch(args), 1, "hostile names: exit 1");
	ok(has("file name starts with a dot") && has("slash in the file name") &&
	   has("control character in the file name") && has("no file name in the URL") &&
	   has("only http and https"), "each refusal has its reason");
	ok(occurrences("control character in the file name") == 3,
	   "C0 and C1 controls (%%0A, %%00, %%C2%%9B) are refused alike");
	ok(has("bidirectional-text control in the file name"),
	   "a right-to-left override (%%E2%%80%%AE) is refused");
	ok(has("file name is not valid UTF-8"), "so is a name that is not UTF-8 (%%E9)");
	ok(!strchr(out, '\x1b') && has("\\x1b"), "a control byte in a URL is printed escaped");
	ok(!strstr(out, "\xc2\x9b") && !strstr(out, "\xe2\x80\xae") && has("\\xc2\\x9b") &&
	   has("\\xe2\\x80\\xae"), "and so are a C1 control and a bidirectional control");
	is(imgsrv_hits(srv, "/img/.hidden.png") + imgsrv_hits(srv, "/img/a%2Fb.png") +
	   imgsrv_hits(srv, "/img/%C2%9B31m.png"), 0, "refused names never reach the network");
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
	ok(write_file(path_in("clobber", "3.png"), "keep"), "an existing 3.png");
	snprintf(victim, sizeof(victim), "%s/victim", root);
	ok(write_file(victim, "mine"), "a file outside the folder");
	ok(!symlink(victim, path_in("clobber", "4.png")), "4.png: a symlink to it");
	ok(!symlink("/tmp/t-fetch-nowhere", path_in("clobber", "5.png")),
	   "5.png: a dangling symlink");

	is(FETCH("-o", dir_arg("clobber"), url("/img/3.png?c"), url("/img/4.png?c"),
		 url("/img/5.png?c")), 1, "exit 1");
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
	is(imgsrv_hits(srv, "/img/3.png?c") + imgsrv_hits(srv, "/img/4.png?c") +
	   imgsrv_hits(srv, "/img/5.png?c"), 0, "none of them was requested");
	is(entries("clobber"), 3, "no temporary files left");
}

/*
 * Two URLs, one file name: the first in the list wins, in every mode, and the other is never
 * fetched. The first is slow (?delay=300) and the second is another picture, so that with
 * threads the second would finish first.
 */
static void test_duplicates(void)
{
	static const char *const modes[] = { "--jobs=2", "--sequential" };

	tap_phase("duplicates");
	for (unsigned i = 0; i < 2; i++) {
		char dir[32];
		const char *first = url("/img/13.png?delay=300&m=%u", i);
		const char *second = url("/hostile/m%u/13.png", i);

		snprintf(dir, sizeof(dir), "dup%u", i);
		is(FETCH(modes[i], "-o", dir_arg(dir), first, second), 1,
		   "%s: the same name twice: exit 1", modes[i]);
		ok(same_as_image(path_in(dir, "13.png"), 13), "%s: the first URL's file is kept",
		   modes[i]);
		is(imgsrv_hits(srv, target(second)), 0, "%s: the second was never requested",
		   modes[i]);
		ok(has("duplicate: URL #1 of the list is saved as 13.png too") &&
		   lacks("already exists"), "%s: it is reported as a duplicate", modes[i]);
		is(entries(dir), 1, "%s: one file", modes[i]);
	}
}

static void test_skip_existing(void)
{
	tap_phase("skip existing");
	mkdir_in("skip");
	ok(write_file(path_in("skip", "14.png"), "keep"), "an existing 14.png");
	ok(!symlink("14.png", path_in("skip", "15.png")), "15.png: a symlink");
	is(FETCH("--skip-existing", "-o", dir_arg("skip"), url("/img/14.png?s"),
		 url("/img/15.png?s"), url("/img/16.png")), 1,
	   "--skip-existing, a file and a symlink there: exit 1");
	ok(has("skip  14.png  (already there)") && has("1 of 3 files") &&
	   has("1 skipped (already there)"),
	   "the regular file is skipped, and the summary says so");
	ok(has("15.png already exists (not replaced)"), "a symlink is not skipped: it fails");
	is(imgsrv_hits(srv, "/img/14.png?s") + imgsrv_hits(srv, "/img/15.png?s"), 0,
	   "neither was requested");
	ok(same_as_image(path_in("skip", "16.png"), 16), "the missing file was fetched");
	is(FETCH("--skip-existing", "-o", dir_arg("skip"), url("/img/14.png"), url("/img/16.png")),
	   0, "a re-run where every file is there: exit 0");
	ok(has("0 of 2 files") && has("2 skipped"), "and both are skipped");
}

/* The server counted 1,024 distinct URLs, then failed every other one with a 500. */
static void test_many_urls(void)
{
	char list[1024];
	FILE *f;

	tap_phase("many URLs");
	snprintf(list, sizeof(list), "%s/many.txt", root);
	f = fopen(list, "w");
	for (unsigned i = 0; i < 1100; i++)
		fprintf(f, "%s\n", url("/img/%u.png?many", i));
	fclose(f);
	is(FETCH("-j", "16", "-q", "--retries", "0", "-i", list, "-o", dir_arg("many")), 0,
	   "1100 distinct URLs: exit 0");
	ok(has("1100 of 1100 files"), "every one saved");
	is(imgsrv_hits(srv, "/img/1099.png?many"), 1, "and the server counted the 1100th");
}

int main(void)
{
	tap_start(120);
	if (!harness_start())
		return 1;
	test_basic();
	test_per_host();
	test_retries();
	test_timeouts();
	test_sizes();
	test_resets();
	test_resume();
	test_redirects();
	test_hostile_names();
	test_no_clobber();
	test_duplicates();
	test_skip_existing();
	test_many_urls();
	harness_stop();
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * ksync-fetch's command line, end to end: values refused rather than wrapped, messages that
 * name what is wrong, list files and names, request headers, TLS with --cacert, the exit status
 * in every case (a run that cannot start, a summary that cannot be written), --compare, --local,
 * the quiet and the interrupted run, and ksync-imgserver on its own.
 */
#include "tap.h"
#include "t-fetch.h"

#include <signal.h>

/*
 * Until ks_thread_join() waits for the thread's end (issue 8, finding 2), a joined worker may
 * still run OpenSSL's thread-exit cleanup while main() calls curl_global_cleanup(): a race
 * ThreadSanitizer reports (and exits 66) in about one run of six. Under TSan the TLS case runs
 * on the main thread meanwhile; every other build runs it on worker threads.
 */
#ifdef __SANITIZE_THREAD__
#define TLS_MODE	"--sequential"
#else
#define TLS_MODE	"--jobs=2"
#endif

struct refusal {
	const char *args[6];
	const char *says;
};

/* Each refused with exit 2 and a message that names what is wrong. */
static void test_values(void)
{
	static const struct refusal bad[] = {
		{ { "--timeout", "nan" }, "--timeout 'nan': not a duration" },
		{ { "--timeout", "inf" }, "--timeout 'inf': not a duration" },
		{ { "--retry-delay", "0.0001" }, "shorter than 1 ms" },
		{ { "--speed-time", "1.5s" }, "whole seconds" },
		{ { "--max-size", "1099511627776G" }, "--max-size '1099511627776G': too large" },
		{ { "--max-size", "8589934592G" }, "too large" },
		{ { "--max-size", "0" }, "at least 1" },
		{ { "--max-size", "12X" }, "not a size" },
		{ { "-j", "99999" }, "-j '99999': at most 4096" },
		{ { "-j", "0" }, "-j '0': at least 1" },
		{ { "-j", "x" }, "-j 'x': not a whole number" },
		{ { "--retries", "-1" }, "not a whole number" },
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "-Z" }, "unknown option '-Z'" },
		{ { "--latency", "50ms" }, "--latency applies only with --local" },
		{ { "--side", "64" }, "--side applies only with --local" },
		{ { "-H", "NoColon" }, "not a header" },
		{ { "-H", "X-A: 1\r\nX-Injected: 2" }, "not a header" },
		{ { "--cacert", "/nonexistent/ca.pem" },
		  "--cacert '/nonexistent/ca.pem': cannot read" },
		{ { "--sequential", "--compare" }, "exclude each other" },
	};
	const char *u = url("/img/1.png");

	tap_phase("values");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[ARGS_MAX];
		int n = 0;

		for (int k = 0; bad[i].args[k]; k++)
			args[n++] = bad[i].args[k];
		args[n++] = "-o";
		args[n++] = dir_arg("values");
		args[n++] = u;
		args[n] = NULL;
		is(fetch(args), 2, "%s …: exit 2", bad[i].args[0]);
		ok(has(bad[i].says), "  and the message says '%s'", bad[i].says);
	}
	ok(lacks(KSYNC_FETCH_BIN) && lacks("usage:"),
	   "messages name the program, not its path, and do not dump the usage");
	is(FETCH("-o", dir_arg("values"), u, "-j"), 2, "-j without its value: exit 2");
	ok(has("-j needs a value"), "  and the message says so");
	is(FETCH("-o", dir_arg("values"), "-O", "x.png"), 2, "-O NAME without a URL: exit 2");
	ok(has("-O x.png must be followed by its URL"), "  and the message says so");
	is(entries("values"), -1, "nothing ran");
}

static void test_lists_and_names(void)
{
	char list[1024], text[2048];

	tap_phase("list files");
	snprintf(list, sizeof(list), "%s/names.txt", root);
	snprintf(text, sizeof(text),
		 "# a list\n"
		 "%s   # the first image\n"
		 "\t%s\tsecond name.png  # saved under a name of its own\n"
		 "\n"
		 "%s#fragment\n",
		 url("/img/1.png"), url("/img/2.png"), url("/img/3.png"));
	write_file(list, text);
	is(FETCH("-i", list, "-o", dir_arg("lists")), 0, "a list with comments after URLs: exit 0");
	ok(same_as_image(path_in("lists", "1.png"), 1) &&
	   same_as_image(path_in("lists", "second name.png"), 2) &&
	   same_as_image(path_in("lists", "3.png"), 3) && entries("lists") == 3,
	   "each line's URL, under the name the line gives if any ('#' in a URL is kept)");
	is(fetch_io(list, NULL, (const char *const[]){ "-i", "-", "-o", dir_arg("stdin"), NULL }),
	   0, "-i - reads the list from stdin");
	is(entries("stdin"), 3, "  all three files");

	is(FETCH("-i", "/etc", "-o", dir_arg("lists")), 2, "-i /etc: exit 2");
	ok(has("-i '/etc': cannot read it: Is a directory"), "  and the message says why");

	is(FETCH("-o", dir_arg("named"), "-O", "mine.png", url("/img/4.png"), url("/img/5.png")), 0,
	   "-O NAME URL: exit 0");
	ok(same_as_image(path_in("named", "mine.png"), 4) &&
	   same_as_image(path_in("named", "5.png"), 5), "-O names the URL after it, only that one");
	is(FETCH("-o", dir_arg("named"), "-O", "sub/up.png", url("/img/6.png"), "-O", "..",
		 url("/img/7.png")), 1, "-O with a path or a dot name: exit 1");
	ok(has("slash in the file name") && has("file name starts with a dot"),
	   "  refused by the same rules as a URL's name");
	ok(!exists(path_in(".", "up.png")) && entries("named") == 2, "  and nothing was written");
}

static void test_headers(void)
{
	const char *u = url("/img/8.png?header=X-Token:%%20s3cret");

	tap_phase("headers");
	is(FETCH("-o", dir_arg("headers"), u), 1, "a URL that needs a header, without it: exit 1");
	ok(has("HTTP 400"), "  the server refused it");
	is(FETCH("-H", "X-Token: s3cret", "-o", dir_arg("headers"), u), 0, "with -H: exit 0");
	ok(same_as_image(path_in("headers", "8.png"), 8), "  the file");
}

/* The exit status: 2 when the run cannot start, 1 when the summary is lost. */
static void test_exit_status(void)
{
	const char *u = url("/img/9.png");
	const char *ro = getuid() ? dir_arg("readonly") : "/sys";

	tap_phase("exit status");
	is(FETCH("-o", dir_arg("mixed"), url("/img/40.png"), url("/img/41.png?fail=1&status=403")),
	   1, "one good, one bad: exit 1");
	ok(has("1 of 2 files") && has("1 failed (above)"), "the summary counts the failure");
	is(occurrences("/img/41.png?fail=1&status=403: HTTP 403"), 1,
	   "which is printed once, not again in the summary");
	is(FETCH("-q", "-o", dir_arg("mixed2"), url("/img/40.png"),
		 url("/img/42.png?fail=1&status=403")), 1, "-q: exit 1");
	ok(has("1 failed:") && has("/img/42.png?fail=1&status=403: HTTP 403") && lacks("ok "),
	   "-q: no per-file lines, and the summary lists the failure");

	is(FETCH("-o", "/nonexistent/t-fetch/out", u), 2, "a folder that cannot be opened: exit 2");
	ok(has("cannot open the folder /nonexistent/t-fetch/out: No such file or directory"),
	   "  and the message says so");
	is(FETCH("--compare", "-o", "/nonexistent/t-fetch/out", u), 2, "  with --compare too");

	if (getuid()) {
		mkdir_in("readonly");
		chmod(ro, 0555);
	}
	is(FETCH("-o", ro, u, url("/img/10.png"), url("/img/11.png")), 2,
	   "a folder where nothing can be written (%s): exit 2", ro);
	ok(has("cannot write in the folder") && occurrences("cannot") == 1,
	   "  one message up front, not one per URL");

	is(fetch_io(NULL, "/dev/full", (const char *const[]){ "-o", dir_arg("full"), u, NULL }), 1,
	   "stdout on /dev/full: exit 1");
	ok(has("cannot write the summary"), "  and stderr says why");

	is(FETCH("-o", dir_arg("scheme"), "file:///etc/passwd"), 1, "file:///etc/passwd: exit 1");
	ok(has("only http and https URLs are fetched"), "  refused for its scheme");
	is(FETCH("-o", dir_arg("mixed")), 2, "no URL: exit 2");
}

static void test_compare(void)
{
	const char *u[4] = { url("/img/0.png"), url("/img/1.png"), url("/img/2.png"),
			     url("/img/3.png") };

	tap_phase("compare");
	is(FETCH("--compare", "-j", "4", "-o", dir_arg("cmp"), u[0], u[1], u[2], u[3]), 0,
	   "--compare: exit 0");
	ok(has("speedup: ") && has("sequential: 4 of 4") && has("parallel (4 workers): 4 of 4"),
	   "--compare: both runs and the speedup");
	ok(entries("cmp/sequential") == 4 && entries("cmp/parallel") == 4,
	   "--compare: each run in its own folder");

	is(FETCH("--compare", "-o", dir_arg("cmp404"), url("/missing/1.png"),
		 url("/missing/2.png")), 1, "--compare where every URL fails: exit 1");
	ok(lacks("speedup: ") && has("no speedup"), "  no speedup is claimed");
}

/* SIGINT once the server has seen the slow request; the run's exit status. */
static int interrupt_after(const char *slow_target, const char *const *args)
{
	pid_t pid = fetch_start(NULL, NULL, args);

	if (pid < 0)
		return -2;
	if (!await_request(slow_target))
		diag("the request for %s never came", slow_target);
	tap_sleep_ms(100);
	kill(pid, SIGINT);
	return fetch_wait(pid);
}

static void test_interrupt(void)
{
	const char *slow = url("/slow/9.png?every=100");
	const char *slow2 = url("/slow/10.png?every=100");
	const char *slow3 = url("/slow/11.png?every=100");
	int64_t t0 = tap_now_ns();

	tap_phase("interrupt");
	is(interrupt_after(target(slow), (const char *const[]){ "-o", dir_arg("intr"), slow,
								NULL }), 1,
	   "SIGINT mid-download: exit 1");
	ok(tap_now_ns() - t0 < 10 * KS_NSEC_PER_SEC, "promptly");
	is(entries("intr"), 0, "and the partial file is gone");

	is(interrupt_after(target(slow2), (const char *const[]){ "-j", "1", "-o", dir_arg("intr2"),
				slow2, url("/img/1.png"), url("/img/2.png"), url("/img/3.png"),
				NULL }), 1, "SIGINT with 3 URLs waiting: exit 1");
	ok(has("3 not started (interrupted)") && occurrences("interrupted") == 2,
	   "  the summary counts those not started instead of listing each");

	is(interrupt_after(target(slow3), (const char *const[]){ "--compare", "-o",
				dir_arg("intr3"), slow3, NULL }), 1,
	   "SIGINT in --compare's sequential half: exit 1");
	ok(has("the parallel run was not started") && lacks("parallel (") && lacks("speedup"),
	   "  the parallel half does not run, and no speedup is printed");
}

static void test_local(void)
{
	tap_phase("local");
	is(FETCH("--local", "3", "-o", dir_arg("local")), 0, "--local 3: exit 0");
	is(entries("local"), 3, "--local 3: three images");
	ok(has("loopback server on http://127.0.0.1:"), "  it says where its server is");
	is(FETCH("--local", "2", "-q"), 0, "--local 2 -q: exit 0");
	ok(lacks("loopback server") && lacks("were saved in") && has("2 of 2 files"),
	   "  -q leaves only the summary");
	is(FETCH("--local", "1100", "--side", "8", "-j", "16", "-q", "--retries", "0", "-o",
		 dir_arg("local1100")), 0, "--local 1100 (more than 1024 images): exit 0");
	ok(has("1100 of 1100 files"), "  every image saved");
}

static void test_tls(void)
{
	char cmd[4096], cert[1024], port_line[128] = "";
	const char *argv[] = { "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert,
			       "-key", NULL, "-WWW", "-naccept", "4", NULL };
	char key[1024], log[1024], page[1200];
	posix_spawn_file_actions_t fa;
	unsigned port = 0;
	pid_t pid;

	tap_phase("tls");
	snprintf(cert, sizeof(cert), "%s/tls/cert.pem", root);
	snprintf(key, sizeof(key), "%s/tls/key.pem", root);
	snprintf(log, sizeof(log), "%s/tls/server.log", root);
	mkdir_in("tls");
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 -addext "
		 "subjectAltName=IP:127.0.0.1 -days 1 -keyout %s -out %s >/dev/null 2>&1", key,
		 cert);
	if (system(cmd)) {
		tap_skip(5, "no openssl command to make a certificate and serve TLS");
		return;
	}
	argv[7] = key;
	write_file(path_in("tls", "page.png"), "a page over TLS\n");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addchdir_np(&fa, dir_arg("tls"));
	if (posix_spawnp(&pid, "openssl", &fa, NULL, (char **)argv, environ)) {
		tap_skip(5, "cannot start openssl s_server");
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	for (int64_t end = tap_deadline_in_ms(10000); !port && tap_before(end); tap_sleep_ms(20)) {
		FILE *f = fopen(log, "r");

		while (f && fgets(port_line, sizeof(port_line), f))
			if (sscanf(port_line, "ACCEPT 127.0.0.1:%u", &port) == 1)
				break;
		if (f)
			fclose(f);
	}
	snprintf(page, sizeof(page), "https://127.0.0.1:%u/page.png", port);
	is(FETCH(TLS_MODE, "-o", dir_arg("tls-out"), page), 1, "a self-signed server: exit 1");
	ok(has("certificate"), "  refused: peer verification is on");
	is(FETCH(TLS_MODE, "--cacert", cert, "-o", dir_arg("tls-out"), page), 0,
	   "with --cacert its certificate: exit 0");
	ok(has("1 of 1 files"), "  the page");
	ok(exists(path_in("tls-out", "page.png")), "  saved");
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ksync-imgserver on its own: the URL on its first line, images served, SIGTERM ends it. */
static void test_standalone_server(void)
{
	const char *argv[] = { KSYNC_IMGSERVER_BIN, "-n", "4", "-s", "32", "-l", "20ms", NULL };
	posix_spawn_file_actions_t fa;
	char base[128] = "", u[160];
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
	ok(!strncmp(base, "http://127.0.0.1:", 17),
	   "ksync-imgserver -l 20ms (a latency with its unit) prints its URL: %s", base);
	snprintf(u, sizeof(u), "%simg/2.png", base);
	is(FETCH("-o", dir_arg("standalone"), u), 0, "and serves an image from it");
	ok(same_as_image(path_in("standalone", "2.png"), 2), "the right image");
	kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0)
		;
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM stops it cleanly");
}

int main(void)
{
	tap_start(120);
	if (!harness_start())
		return 1;
	test_values();
	test_lists_and_names();
	test_headers();
	test_exit_status();
	test_compare();
	test_interrupt();
	test_local();
	test_tls();
	test_standalone_server();
	harness_stop();
	return tap_done();
}

/* SPDX-License-Identifier: MIT */
/*
 * What ksync-fetch's end-to-end tests share (t-fetch.c, t-fetch-cli.c): the loopback server in
 * the test process (so a test can count the requests each URL got and the most the server saw
 * at once), a scratch folder, and the real program (KSYNC_FETCH_BIN) spawned with its output
 * captured. Include it once per test program, after tap.h.
 */
#ifndef KSYNC_FETCH_T_FETCH_H
#define KSYNC_FETCH_T_FETCH_H

#include "imgserver.h"
#include "png.h"

#include <ksync/common.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>

extern char **environ;

#define SIDE		32u
#define COUNT		2048u	/* more than the 1,024 targets the server once counted */
#define LATENCY_MS	10u
#define OUT_MAX		(64 * 1024)
#define ARGS_MAX	64

static struct imgsrv *srv;
static char root[] = "/tmp/t-fetch.XXXXXX";
static char out[OUT_MAX];
static int64_t took_ns;

/* The scratch folder and the server; false (and a Bail out! line) if either fails. */
static inline bool harness_start(void)
{
	struct imgsrv_config cfg = { .count = COUNT, .side = SIDE, .latency_ms = LATENCY_MS };
	int err;

	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return false;
	}
	err = imgsrv_start(&srv, &cfg);
	if (err) {
		printf("Bail out! imgsrv_start: %s\n", strerror(-err));
		return false;
	}
	return true;
}

static inline int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static inline void harness_stop(void)
{
	imgsrv_stop(srv);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* http://127.0.0.1:PORT followed by the formatted path. */
static inline const char *url(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *url(const char *fmt, ...)
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

/* The target (path and query) of one of url()'s URLs, as the server counts it. */
static inline const char *target(const char *u)
{
	return strchr(u + strlen("http://"), '/');
}

static inline const char *path_in(const char *dir, const char *name)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, 1024, "%s/%s/%s", root, dir, name);
	return b;
}

static inline const char *dir_arg(const char *dir)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, 1024, "%s/%s", root, dir);
	return b;
}

static inline void mkdir_in(const char *dir)
{
	mkdir(dir_arg(dir), 0755);
}

/*
 * Starts ksync-fetch with args (NULL-terminated), stderr into root/log; stdin_path and
 * stdout_path redirect those (NULL: /dev/null; the log, with stderr). Its pid, or -1.
 */
static inline pid_t fetch_start(const char *stdin_path, const char *stdout_path,
				const char *const *args)
{
	const char *argv[ARGS_MAX] = { KSYNC_FETCH_BIN };
	posix_spawn_file_actions_t fa;
	char log[512];
	pid_t pid;
	int i;

	for (i = 0; args[i] && i < ARGS_MAX - 2; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	snprintf(log, sizeof(log), "%s/log", root);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (stdout_path)
		posix_spawn_file_actions_addopen(&fa, 1, stdout_path, O_WRONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY,
					 0);
	if (posix_spawn(&pid, KSYNC_FETCH_BIN, &fa, NULL, (char **)argv, environ))
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Waits for pid, reads root/log into `out`: the exit status, or -1 if killed. */
static inline int fetch_wait(pid_t pid)
{
	char log[512];
	ssize_t n;
	int st, fd;

	while (waitpid(pid, &st, 0) < 0)
		;
	snprintf(log, sizeof(log), "%s/log", root);
	fd = open(log, O_RDONLY);
	n = fd >= 0 ? read(fd, out, OUT_MAX - 1) : 0;
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs ksync-fetch (as fetch_start()): its exit status, its output in `out`, took_ns. */
static inline int fetch_io(const char *stdin_path, const char *stdout_path,
			   const char *const *args)
{
	int64_t t0 = tap_now_ns();
	pid_t pid = fetch_start(stdin_path, stdout_path, args);
	int status;

	if (pid < 0) {
		printf("Bail out! cannot run %s\n", KSYNC_FETCH_BIN);
		exit(1);
	}
	status = fetch_wait(pid);
	took_ns = tap_now_ns() - t0;
	return status;
}

static inline int fetch(const char *const *args)
{
	return fetch_io(NULL, NULL, args);
}

#define FETCH(...) fetch((const char *const[]){ __VA_ARGS__, NULL })

static inline void show_out(void)
{
	char copy[OUT_MAX];

	snprintf(copy, sizeof(copy), "%s", out);
	diag("the output was:");
	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
		diag("  %s", line);
}

/* The last run's output contains text (if not, it is shown). */
static inline bool has(const char *text)
{
	bool yes = strstr(out, text) != NULL;

	if (!yes) {
		diag("output lacks '%s'", text);
		show_out();
	}
	return yes;
}

/* The last run's output does not contain text (if it does, it is shown). */
static inline bool lacks(const char *text)
{
	bool no = strstr(out, text) == NULL;

	if (!no) {
		diag("output has '%s'", text);
		show_out();
	}
	return no;
}

/* How many times text occurs in the last run's output. */
static inline unsigned occurrences(const char *text)
{
	unsigned n = 0;

	for (const char *p = strstr(out, text); p; p = strstr(p + 1, text))
		n++;
	return n;
}

/* The entries of root/dir (without . and ..); -1 if it cannot be read. */
static inline int entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir_arg(dir));
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static inline bool same_as_image(const char *path, unsigned index)
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

static inline bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* A file holding text: true if it was written. */
static inline bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool done = f && fputs(text, f) >= 0;

	return f && !fclose(f) && done;
}

/* Until the server has had a request of target (20 s at most): false if it never came. */
static inline bool await_request(const char *target)
{
	for (int64_t end = tap_deadline_in_ms(20000); tap_before(end); tap_sleep_ms(5))
		if (imgsrv_hits(srv, target))
			return true;
	return false;
}

#endif /* KSYNC_FETCH_T_FETCH_H */

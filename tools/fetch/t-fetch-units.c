// SPDX-License-Identifier: MIT
/*
 * ksync-fetch's parts on their own: file names from URLs, text made safe to print, the
 * temporary file (its fallback without O_TMPFILE included, which no test folder here can
 * reach otherwise), the server's hit counts, and the test images.
 */
#include "tap.h"

#include "imgserver-int.h"
#include "name.h"
#include "png.h"
#include "text.h"
#include "tmpfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#define SIDE	32u

static char root[] = "/tmp/t-fetch-units.XXXXXX";

static void test_names(void)
{
	static const struct { const char *path, *name; } good[] = {
		{ "/img/3.png", "3.png" },
		{ "/a/b/c%20d.png", "c d.png" },
		{ "/x.y", "x.y" },
		{ "/%41.png", "A.png" },
		{ "/weird..name", "weird..name" },
		{ "/caf%C3%A9.png", "caf\xc3\xa9.png" },
		{ "/%E6%97%A5%E6%9C%AC.png", "\xe6\x97\xa5\xe6\x9c\xac.png" },
	};
	static const char *const bad[] = {
		"/img/..", "/img/.", "/img/%2e%2e", "/img/%2E", "/img/.bashrc", "/img/a%2Fb.png",
		"/img/a%2fb", "/img/a%5Cb.png", "/img/a\\b", "/img/x%0Ay.png", "/img/%00.png",
		"/img/%1b[31m.png", "/img/%7f", "/img/", "", "/img/%zz.png", "/img/%4",
		"/img/%C2%9B31m.png", "/img/%C2%85.png", "/img/x%E2%80%AEgnp.exe",
		"/img/%E2%80%8F.png", "/img/%E2%81%A6.png", "/img/%E2%80%A8.png", "/img/%D8%9C.png",
		"/img/%E9t%E9.png", "/img/%C0%AE.png", "/img/%ED%A0%80.png", "/img/%F4%90%80%80",
		"/img/%C3",
	};
	char name[FETCH_NAME_MAX + 1], longpath[FETCH_NAME_MAX + 8];
	const char *why;

	tap_phase("names");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(!fetch_name_from_path(good[i].path, name, &why) && !strcmp(name, good[i].name),
		   "name: '%s' accepted", good[i].path);
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

	ok(!fetch_name_check("my file.png", &why), "a given name: 'my file.png' accepted");
	ok(fetch_name_check("a/b.png", &why) == -EINVAL &&
	   fetch_name_check("..", &why) == -EINVAL && fetch_name_check("", &why) == -EINVAL &&
	   fetch_name_check("x\xc2\x9b", &why) == -EINVAL,
	   "a given name: a slash, '..', '' and a C1 control refused");
}

/* What text_print_escaped() writes for s. */
static const char *escaped(const char *s)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	text_print_escaped(f, s);
	fclose(f);
	return buf;
}

static void test_text(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain.png", "plain.png" },
		{ "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
		{ "\x1b[2J", "\\x1b[2J" },
		{ "a\\b", "a\\x5cb" },
		{ "\xc2\x9b" "31m", "\\xc2\\x9b31m" },
		{ "x\xe2\x80\xaegnp.exe", "x\\xe2\\x80\\xaegnp.exe" },
		{ "\xe2\x81\xa6", "\\xe2\\x81\\xa6" },
		{ "\x9b", "\\x9b" },
		{ "\xe9t\xe9", "\\xe9t\\xe9" },
		{ "\xc3", "\\xc3" },
		{ "\x7f", "\\x7f" },
	};

	tap_phase("text");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(!strcmp(escaped(cases[i].in), cases[i].out), "escaped: '%s'", cases[i].out);
}

/* How many temporary files are in dir. */
static unsigned tmp_files(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *e;
	unsigned n = 0;

	rewinddir(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX));
	closedir(d);
	return n;
}

/* The first temporary name a fresh process gets, through a pipe. */
static bool child_name(int dirfd, char *name)
{
	int p[2];
	pid_t pid;
	ssize_t n;

	if (pipe(p))
		return false;
	pid = fork();
	if (pid == 0) {
		struct tmpfile t;

		tmp_force_named = true;
		if (!tmp_open(dirfd, &t) && write(p[1], t.name, strlen(t.name) + 1) < 0)
			_exit(1);
		_exit(0);	/* the file stays, named: the parent removes it */
	}
	close(p[1]);
	n = read(p[0], name, 32);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return n > 0;
}

static void test_tmpfile(void)
{
	char dir[64], a[32] = "", b[32] = "", planted[16][32], old[32];
	struct tmpfile t;
	uint32_t x = 1;
	int dirfd, fd;

	tap_phase("tmpfile");
	snprintf(dir, sizeof(dir), "%s/tmp", root);
	mkdir(dir, 0755);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	ok(child_name(dirfd, a) && !unlinkat(dirfd, a, 0) && child_name(dirfd, b) && strcmp(a, b),
	   "two fresh processes get different temporary names (%s, %s)", a, b);
	unlinkat(dirfd, b, 0);

	/* the names a generator seeded per worker (xorshift32 from 1) used to give */
	for (int i = 0; i < 16; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		snprintf(planted[i], 32, TMP_PREFIX "%08x", x);
		close(openat(dirfd, planted[i], O_WRONLY | O_CREAT, 0644));
	}
	tmp_force_named = true;
	ok(!tmp_open(dirfd, &t) && t.name[0],
	   "16 planted names of the old scheme do not stop the named fallback");
	snprintf(old, sizeof(old), "%s", t.name);
	ok(!tmp_commit(dirfd, &t, "done.png"), "commit: renamed to done.png");
	fd = openat(dirfd, old, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ok(fd >= 0, "someone else now creates a file of the old temporary name");
	close(fd);
	tmp_close(dirfd, &t);
	ok(!faccessat(dirfd, old, F_OK, 0), "tmp_close() after a commit leaves that file alone");
	unlinkat(dirfd, old, 0);

	ok(!tmp_open(dirfd, &t), "named: another file");
	snprintf(old, sizeof(old), "%s", t.name);
	is(tmp_commit(dirfd, &t, "done.png"), -EEXIST, "commit onto an existing name: -EEXIST");
	tmp_close(dirfd, &t);
	ok(faccessat(dirfd, old, F_OK, 0) && errno == ENOENT,
	   "a failed commit's temporary name is removed at close");

	tmp_force_named = false;
	ok(!tmp_open(dirfd, &t), "O_TMPFILE (or its fallback) opens");
	is(tmp_commit(dirfd, &t, "done.png"), -EEXIST, "and does not replace done.png either");
	is(tmp_commit(dirfd, &t, "other.png"), 0, "but takes a free name");
	tmp_close(dirfd, &t);
	for (int i = 0; i < 16; i++)
		unlinkat(dirfd, planted[i], 0);
	is(tmp_files(dirfd), 0, "no temporary file is left in the folder");
	unlinkat(dirfd, "done.png", 0);
	unlinkat(dirfd, "other.png", 0);
	close(dirfd);
	rmdir(dir);
}

/* Distinct targets beyond any fixed table: each is counted, and counted right. */
static void test_hits(void)
{
	struct hits h;
	char target[64];
	bool right = true;

	tap_phase("hits");
	ok(!hits_init(&h), "hits: a table");
	for (unsigned round = 1; round <= 2; round++) {
		for (unsigned i = 0; i < 5000; i++) {
			snprintf(target, sizeof(target), "/img/%u.png?fail=0", i);
			right &= hits_bump(&h, target, false) == round;
		}
	}
	ok(right, "5000 distinct targets, twice each: every count right");
	hits_free(&h);
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

int main(void)
{
	tap_start(60);
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_names();
	test_text();
	test_tmpfile();
	test_hits();
	test_png();
	rmdir(root);
	return tap_done();
}

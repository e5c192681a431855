// SPDX-License-Identifier: MIT
/*
 * ksync-run [OPTIONS] [--] PROGRAM [ARGS...]
 *
 * Runs PROGRAM, and every program it executes, with libksync-preload.so in LD_PRELOAD: pthread
 * mutexes, conditions, rwlocks, barriers, spinlocks and once, and POSIX semaphores, become
 * ksync's. --passthrough loads the same interposer but forwards every call to glibc, so that the
 * cost of interposing alone can be measured. The interposer is looked for next to ksync-run,
 * then in ../lib/ from it (an installed layout), then in KSYNC_LIBDIR (the install directory).
 * The copy that make install installs is built with KSYNC_INSTALLED and looks in KSYNC_LIBDIR,
 * its own install's LIBDIR, first. See docs/preload.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KSYNC_LIBDIR
#define KSYNC_LIBDIR "/usr/local/lib"
#endif

#define PRELOAD_LIB "libksync-preload.so"

static void usage(FILE *f)
{
	fputs("usage: ksync-run [OPTIONS] [--] PROGRAM [ARGS...]\n"
	      "Runs PROGRAM with its pthread mutexes, conditions, rwlocks, barriers, spinlocks,\n"
	      "once and POSIX semaphores implemented by ksync (libksync-preload.so).\n"
	      "\n"
	      "  --passthrough   interpose, but forward every call to glibc (the cost of the\n"
	      "                  interposition alone)\n"
	      "  --lib=PATH      the interposer to load (default: found next to ksync-run)\n"
	      "  -h, --help      this text\n", f);
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* `dir`/libksync-preload.so into `out`, if it is there. */
static bool lib_in(char *out, size_t size, const char *dir)
{
	return (size_t)snprintf(out, size, "%s/%s", dir, PRELOAD_LIB) < size && readable(out);
}

/* The interposer's absolute path into `out`; false if none was found. */
static bool find_lib(char *out, size_t size)
{
	char dir[PATH_MAX], *slash;
	ssize_t n;

#ifdef KSYNC_INSTALLED
	if (lib_in(out, size, KSYNC_LIBDIR))
		return true;
#endif
	n = readlink("/proc/self/exe", dir, sizeof(dir) - sizeof("/../lib"));
	if (n > 0) {
		dir[n] = '\0';
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			if (lib_in(out, size, dir))
				return true;
			strcpy(slash, "/../lib");
			if (lib_in(out, size, dir))
				return true;
		}
	}
	return lib_in(out, size, KSYNC_LIBDIR);
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX], *preload;
	const char *mode = "ksync", *old;
	bool have_lib = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--passthrough")) {
			mode = "passthrough";
		} else if (!strncmp(argv[i], "--lib=", 6)) {
			if (!realpath(argv[i] + 6, lib)) {
				fprintf(stderr, "ksync-run: %s: %s\n", argv[i] + 6, strerror(errno));
				return 125;
			}
			have_lib = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "ksync-run: unknown option %s\n", argv[i]);
			usage(stderr);
			return 125;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 125;
	}
	if (!have_lib && !find_lib(lib, sizeof(lib))) {
		fprintf(stderr, "ksync-run: cannot find %s\n", PRELOAD_LIB);
		return 125;
	}
	/* ours first: an interposer the user preloads too comes after, and sees our symbols */
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		preload = malloc(strlen(lib) + strlen(old) + 2);
		if (!preload)
			return 125;
		sprintf(preload, "%s:%s", lib, old);
	} else {
		preload = lib;
	}
	if (setenv("LD_PRELOAD", preload, 1) || setenv("KSYNC_PRELOAD", mode, 1)) {
		perror("ksync-run: setenv");
		return 125;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "ksync-run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

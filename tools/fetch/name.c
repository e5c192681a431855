// SPDX-License-Identifier: MIT
/*
 * URL path → file name. The rules, checked on the decoded bytes (so "%2e%2e" is "..", "%2F" a
 * slash and "%0A" a newline):
 *
 *	empty				no name to save under ("/dir/" or "")
 *	starts with '.'			".", "..", and hidden files (".bashrc")
 *	contains '/' or '\\'		would name a path, not a file
 *	a control byte (< 0x20, 0x7f)	NUL truncates, newlines forge log lines, ESC drives terminals
 *	longer than NAME_MAX		the file system would refuse it anyway
 *	a malformed "%xx"		ambiguous: refused rather than guessed
 *
 * What is accepted is a single component that names a new entry in the output folder; the
 * caller still creates it without following links and without replacing anything (fetch.c).
 */
#include "name.h"

#include <errno.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

int fetch_name_from_path(const char *path, char *out, const char **why)
{
	const char *seg = strrchr(path, '/');
	size_t n = 0;

	seg = seg ? seg + 1 : path;
	for (const char *p = seg; *p; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (lo < 0)
				return refuse(why, "malformed %-escape in the file name");
			c = hi << 4 | lo;
			p += 2;
		}
		if (n == FETCH_NAME_MAX)
			return refuse(why, "file name too long");
		if (c < 0x20 || c == 0x7f)
			return refuse(why, "control character in the file name");
		if (c == '/' || c == '\\')
			return refuse(why, "slash in the file name");
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0)
		return refuse(why, "no file name in the URL");
	if (out[0] == '.')
		return refuse(why, "file name starts with a dot");
	return 0;
}

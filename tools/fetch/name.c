// SPDX-License-Identifier: MIT
/*
 * URL path → file name. The rules, checked on the decoded bytes (so "%2e%2e" is "..", "%2F" a
 * slash and "%0A" a newline):
 *
 *	empty				no name to save under ("/dir/" or "")
 *	starts with '.'			".", "..", and hidden files (".bashrc")
 *	contains '/' or '\\'		would name a path, not a file
 *	not valid UTF-8			cannot be shown faithfully; a lone 0x9b is CSI to some
 *					terminals
 *	a control character		C0 and C1 controls, DEL: NUL truncates, newlines forge log
 *					lines, ESC and CSI drive terminals
 *	a bidirectional control		U+202E and friends make "x<U+202E>gnp.exe" read "xexe.png"
 *	longer than NAME_MAX		the file system would refuse it anyway
 *	a malformed "%xx"		ambiguous: refused rather than guessed
 *
 * What is accepted is a single component that names a new entry in the output folder; the
 * caller still creates it without following links and without replacing anything (tmpfile.c).
 */
#include "name.h"
#include "text.h"

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

/* The rules on n decoded bytes. */
static int check(const char *name, size_t n, const char **why)
{
	const unsigned char *p = (const unsigned char *)name;

	if (n == 0)
		return refuse(why, "no file name in the URL");
	if (n > FETCH_NAME_MAX)
		return refuse(why, "file name too long");
	if (name[0] == '.')
		return refuse(why, "file name starts with a dot");
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = text_utf8(p + i, n - i, &cp);

		if (!len)
			return refuse(why, "file name is not valid UTF-8");
		if (cp == '/' || cp == '\\')
			return refuse(why, "slash in the file name");
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return refuse(why, "control character in the file name");
		if (text_is_control(cp))
			return refuse(why, "bidirectional-text control in the file name");
		i += len;
	}
	return 0;
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
		if (c == 0)
			return refuse(why, "control character in the file name");
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return check(out, n, why);
}

int fetch_name_check(const char *name, const char **why)
{
	if (!*name)
		return refuse(why, "empty file name");
	return check(name, strlen(name), why);
}

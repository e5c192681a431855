// SPDX-License-Identifier: MIT
/*
 * The temporary file (tmpfile.h).
 *
 * Where the file system has O_TMPFILE, the body goes to an anonymous file in the output folder,
 * so a failed download never had a name; success links it in with linkat() of
 * /proc/self/fd/N (or AT_EMPTY_PATH without /proc), which never follows a link and never
 * replaces an entry (EEXIST).
 *
 * Elsewhere, a ".ksync-fetch.XXXXXXXXXXXXXXXX" file: 64 random bits from getrandom(), so that
 * no other user of the folder can predict, pre-create and so block the names (a generator
 * seeded per worker once could be), made with O_CREAT|O_EXCL|O_NOFOLLOW; success renames it
 * with RENAME_NOREPLACE (or links it, then unlinks the temporary name, where the file system
 * lacks RENAME_NOREPLACE), and forgets the temporary name at once: by the time tmp_close()
 * runs, that name may already belong to someone else's file, which must not be unlinked.
 */
#include "tmpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#define FILE_MODE		0644	/* before the umask */
#define TMP_NAME_TRIES		16	/* collisions of 64 random bits: never, unless planted */

bool tmp_force_named;

static int random_name(char *name, size_t len)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -errno;
	snprintf(name, len, TMP_PREFIX "%016llx", (unsigned long long)r);
	return 0;
}

static int open_named(int dirfd, struct tmpfile *t)
{
	int err = -EEXIST;

	for (int i = 0; i < TMP_NAME_TRIES && err == -EEXIST; i++) {
		err = random_name(t->name, sizeof(t->name));
		if (err)
			break;
		t->fd = openat(dirfd, t->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       FILE_MODE);
		err = t->fd >= 0 ? 0 : -errno;
	}
	if (err)
		t->name[0] = '\0';
	return err;
}

int tmp_open(int dirfd, struct tmpfile *t)
{
	t->name[0] = '\0';
	if (!tmp_force_named) {
		t->fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, FILE_MODE);
		if (t->fd >= 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -errno;
	}
	return open_named(dirfd, t);
}

static int commit_named(int dirfd, struct tmpfile *t, const char *name)
{
	if (renameat2(dirfd, t->name, dirfd, name, RENAME_NOREPLACE)) {
		if (errno != EINVAL)	/* EINVAL: no RENAME_NOREPLACE here; link instead */
			return -errno;
		if (linkat(dirfd, t->name, dirfd, name, 0))
			return -errno;
		unlinkat(dirfd, t->name, 0);
	}
	t->name[0] = '\0';
	return 0;
}

int tmp_commit(int dirfd, struct tmpfile *t, const char *name)
{
	char proc[64];

	if (t->name[0])
		return commit_named(dirfd, t, name);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	if (!linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* no /proc: the direct form, which needs CAP_DAC_READ_SEARCH */
	return linkat(t->fd, "", dirfd, name, AT_EMPTY_PATH) ? -errno : 0;
}

void tmp_close(int dirfd, struct tmpfile *t)
{
	if (t->name[0])
		unlinkat(dirfd, t->name, 0);
	t->name[0] = '\0';
	close(t->fd);
}

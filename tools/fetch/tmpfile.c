// SPDX-License-Identifier: MIT
/*
 * The temporary file (tmpfile.h). The body goes to an anonymous O_TMPFILE in the output folder,
 * so a failed download never had a name; success links it in with linkat() of
 * /proc/self/fd/N, which never follows a link and never replaces an entry (EEXIST). On file
 * systems without O_TMPFILE: a ".ksync-fetch.XXXXXXXX" file made with
 * O_CREAT|O_EXCL|O_NOFOLLOW, renamed with RENAME_NOREPLACE on success, unlinked otherwise.
 */
#include "tmpfile.h"
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define FILE_MODE		0644	/* before the umask */
#define TMP_NAME_TRIES		16

int tmp_open(int dirfd, struct tmpfile *t, uint32_t *rng)
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

int tmp_commit(int dirfd, struct tmpfile *t, const char *name)
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

void tmp_close(int dirfd, struct tmpfile *t)
{
	if (t->name[0])
		unlinkat(dirfd, t->name, 0);
	close(t->fd);
}

/* SPDX-License-Identifier: MIT */
/*
 * A download's file name: the URL's last path segment, percent-decoded, or a name the user
 * gave; refused if it could escape the output folder, hide, or hold characters a terminal or a
 * shell would act on, or that would make it read as something it is not.
 */
#ifndef KSYNC_FETCH_NAME_H
#define KSYNC_FETCH_NAME_H

#include <stddef.h>

#define FETCH_NAME_MAX	255	/* NAME_MAX on Linux */

/*
 * From a URL's path as sent (not decoded, dot segments kept): 0 and the name in out (at least
 * FETCH_NAME_MAX + 1 bytes), or -EINVAL and *why set to a short reason.
 */
int fetch_name_from_path(const char *path, char *out, const char **why);

/* A name given as it is (not decoded): 0, or -EINVAL and *why, by the same rules. */
int fetch_name_check(const char *name, const char **why);

#endif /* KSYNC_FETCH_NAME_H */

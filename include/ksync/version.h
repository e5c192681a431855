/* SPDX-License-Identifier: MIT */
/*
 * The version of the ksync headers: the Makefile reads it from here (the shared library's
 * soname is libksync.so.KSYNC_VERSION_MAJOR), so there is one version in the tree.
 *
 *	#if KSYNC_VERSION >= KSYNC_VERSION_NUMBER(0, 2, 0)
 */
#ifndef KSYNC_VERSION_H
#define KSYNC_VERSION_H

#define KSYNC_VERSION_MAJOR	0
#define KSYNC_VERSION_MINOR	1
#define KSYNC_VERSION_PATCH	0

#define KSYNC_VERSION_NUMBER(major, minor, patch)	(((major) << 16) | ((minor) << 8) | (patch))
#define KSYNC_VERSION		KSYNC_VERSION_NUMBER(KSYNC_VERSION_MAJOR, KSYNC_VERSION_MINOR, \
						     KSYNC_VERSION_PATCH)

#define KS__STRINGIFY(x)	#x
#define KS__VERSION_STRING(major, minor, patch)	KS__STRINGIFY(major.minor.patch)
/* "0.1.0" */
#define KSYNC_VERSION_STRING	KS__VERSION_STRING(KSYNC_VERSION_MAJOR, KSYNC_VERSION_MINOR, \
						   KSYNC_VERSION_PATCH)

#endif /* KSYNC_VERSION_H */

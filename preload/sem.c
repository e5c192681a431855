// SPDX-License-Identifier: MIT
/*
 * POSIX semaphores on ks_sem: unnamed (sem_init) and named (sem_open), which are process-shared.
 *
 *	offset  0	struct ks_sem (value and waiters in one 64-bit word, bound, flags)
 *	offset 16	KSP_TAG once our sem_init or sem_open made it
 *
 * ks_sem's word has the shape of glibc's (value in the low half, waiters in the high half), but
 * the words after it differ, so an object is ours only if tagged. An untagged one that looks like
 * glibc's (its `private` at offset 8 is 0 or 128, the value a valid one) is glibc's: a named
 * semaphore that a program outside ksync-run created, for instance; glibc's calls serve it, and
 * so it keeps working with that program. Anything else is EINVAL.
 *
 * sem_wait, sem_timedwait and sem_clockwait are cancellation points and end with EINTR when a
 * signal handler interrupts them (POSIX; CPython's lock acquire relies on it to run its signal
 * handlers): ks_sem's wait, with KS_WAIT_INTR and KS_WAIT_CANCEL.
 *
 * sem_open creates /dev/shm/sem.NAME as glibc does (the initialized object is written to a
 * temporary file and linked into place, so nobody ever maps a half-made semaphore), and returns
 * the same address to every sem_open of one semaphore in a process until sem_close has been
 * called as many times: a small list of mappings under a ks_mutex, which fork() leaves usable.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload.h"

_Static_assert(SEM_VALUE_MAX == KS_SEM_VALUE_MAX, "the semaphores' maximum");

enum ksp_sem_class { KSP_S_KSYNC, KSP_S_GLIBC, KSP_S_BAD };

static inline struct ksp_sem *ksp_sem(sem_t *ps)
{
	return (struct ksp_sem *)(void *)ps;
}

static enum ksp_sem_class ksp_sem_classify(struct ksp_sem *s)
{
	const uint32_t *raw = (const uint32_t *)(const void *)s;

	if (ks_likely(atomic_load_explicit(&s->tag, memory_order_relaxed) == KSP_TAG))
		return KSP_S_KSYNC;
	/* glibc's struct new_sem: uint64_t data (value | nwaiters << 32), int private, int pad */
	if ((raw[2] == 0 || raw[2] == 128) && raw[0] <= SEM_VALUE_MAX)
		return KSP_S_GLIBC;
	return KSP_S_BAD;
}

static void ksp_sem_make(struct ksp_sem *s, unsigned value, bool shared)
{
	memset(s, 0, sizeof(*s));
	ks_sem_init(&s->s, value, shared ? KS_SHARED : 0);
	atomic_store_explicit(&s->tag, KSP_TAG, memory_order_relaxed);
}

KSP_EXPORT int sem_init(sem_t *ps, int pshared, unsigned value)
{
	if (ksp_passthrough())
		return KSP_GLIBC(sem_init)(ps, pshared, value);
	if (value > SEM_VALUE_MAX)
		return ksp_errno(-EINVAL);
	ksp_sem_make(ksp_sem(ps), value, pshared);
	return 0;
}

KSP_EXPORT int sem_destroy(sem_t *ps)
{
	struct ksp_sem *s = ksp_sem(ps);

	if (ksp_passthrough())
		return KSP_GLIBC(sem_destroy)(ps);
	switch (ksp_sem_classify(s)) {
	case KSP_S_KSYNC:
		atomic_store_explicit(&s->tag, 0, memory_order_relaxed);
		memset(&s->s, 0xff, sizeof(s->s));	/* EINVAL from now on */
		return 0;
	case KSP_S_GLIBC:
		return KSP_GLIBC(sem_destroy)(ps);
	default:
		return ksp_errno(-EINVAL);
	}
}

/* sem_wait and its timed forms: `abs` NULL waits without a deadline. */
static int ksp_sem_wait(struct ksp_sem *s, clockid_t clock, const struct timespec *abs)
{
	struct ks_deadline d;
	int r;

	pthread_testcancel();		/* a cancellation point even when it does not block */
	if (ks_sem_trydown(&s->s))
		return 0;
	if (!abs)
		ks_deadline_forever(&d);
	else if ((r = ks_deadline_init_abs(&d, clock, abs)))
		return ksp_errno(r);
	ks_deadline_wait_as(&d, KS_WAIT_INTR | KS_WAIT_CANCEL);
	return ksp_errno(ks__sem_down_until(&s->s, &d));
}

#define KSP_SEM_CALL(ps, glibc_call, ksync_call)				\
	({									\
		struct ksp_sem *ksp__s = ksp_sem(ps);				\
		int ksp__r;							\
		if (ksp_passthrough())						\
			ksp__r = glibc_call;					\
		else switch (ksp_sem_classify(ksp__s)) {			\
		case KSP_S_KSYNC:						\
			ksp__r = ksync_call;					\
			break;							\
		case KSP_S_GLIBC:						\
			ksp__r = glibc_call;					\
			break;							\
		default:							\
			ksp__r = ksp_errno(-EINVAL);				\
		}								\
		ksp__r;								\
	})

KSP_EXPORT int sem_wait(sem_t *ps)
{
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_wait)(ps),
			    ksp_sem_wait(ksp__s, CLOCK_REALTIME, NULL));
}

KSP_EXPORT int sem_timedwait(sem_t *ps, const struct timespec *abs)
{
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_timedwait)(ps, abs),
			    ksp_sem_wait(ksp__s, CLOCK_REALTIME, abs));
}

KSP_EXPORT int sem_clockwait(sem_t *ps, clockid_t clock, const struct timespec *abs)
{
	if (!ksp_passthrough() && clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return ksp_errno(-EINVAL);
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_clockwait)(ps, clock, abs),
			    ksp_sem_wait(ksp__s, clock, abs));
}

KSP_EXPORT int sem_trywait(sem_t *ps)
{
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_trywait)(ps),
			    ks_sem_trydown(&ksp__s->s) ? 0 : ksp_errno(-EAGAIN));
}

KSP_EXPORT int sem_post(sem_t *ps)
{
	struct ksp_sem *s = ksp_sem(ps);

	if (ks_likely(!ksp_passthrough() &&
		      atomic_load_explicit(&s->tag, memory_order_relaxed) == KSP_TAG))
		return ksp_errno(ks_sem_up(&s->s));	/* EOVERFLOW past SEM_VALUE_MAX */
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_post)(ps), ksp_errno(ks_sem_up(&ksp__s->s)));
}

KSP_EXPORT int sem_getvalue(sem_t *ps, int *value)
{
	return KSP_SEM_CALL(ps, KSP_GLIBC(sem_getvalue)(ps, value),
			    (*value = (int)ks_sem_value(&ksp__s->s), 0));
}

/* ---- named semaphores ------------------------------------------------------------------------ */

#define KSP_SHM_DIR	"/dev/shm/"
#define KSP_SEM_PREFIX	"sem."

struct ksp_named {
	struct ksp_named *next;
	dev_t dev;
	ino_t ino;
	sem_t *addr;
	unsigned long refs;
};

static struct ks_mutex ksp_named_lock = KS_MUTEX_INIT;
static struct ksp_named *ksp_named_list;

static void ksp_named_fork_prepare(void)
{
	ks_mutex_lock(&ksp_named_lock);
}

static void ksp_named_fork_parent(void)
{
	ks_mutex_unlock(&ksp_named_lock);
}

static void ksp_named_fork_child(void)
{
	ks_mutex_init(&ksp_named_lock, 0);	/* the child's only thread held it */
}

__attribute__((constructor)) static void ksp_named_init(void)
{
	pthread_atfork(ksp_named_fork_prepare, ksp_named_fork_parent, ksp_named_fork_child);
}

/* "/dev/shm/sem.NAME" for "/NAME" or "NAME", as glibc spells it; 0 or -errno. */
static int ksp_sem_path(const char *name, char *path, size_t size)
{
	size_t n;

	while (*name == '/')
		name++;
	n = strlen(name);
	if (n == 0 || strchr(name, '/'))
		return -EINVAL;
	if (n >= NAME_MAX - sizeof(KSP_SEM_PREFIX) + 1 ||
	    (size_t)snprintf(path, size, "%s%s%s", KSP_SHM_DIR, KSP_SEM_PREFIX, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* A new semaphore, whole, at `path` (not replacing one): 0, -EEXIST, or another -errno. */
static int ksp_sem_create(const char *path, mode_t mode, unsigned value)
{
	char tmp[] = KSP_SHM_DIR "ksync-sem.XXXXXX";
	struct ksp_sem s;
	int fd, r = 0;

	ksp_sem_make(&s, value, true);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) || write(fd, &s, sizeof(s)) != (ssize_t)sizeof(s) ||
	    link(tmp, path))
		r = -errno;
	unlink(tmp);
	close(fd);
	return r;
}

/* Opens `path`, creating it when asked; the fd, or -errno. */
static int ksp_sem_open_file(const char *path, int oflag, mode_t mode, unsigned value)
{
	for (;;) {
		int fd, r;

		if (!(oflag & O_EXCL)) {
			fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 || errno != ENOENT || !(oflag & O_CREAT))
				return fd >= 0 ? fd : -errno;
		}
		r = ksp_sem_create(path, mode, value);
		if (r == -EEXIST && !(oflag & O_EXCL))
			continue;	/* made by another process meanwhile: open that one */
		if (r)
			return r;
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		return fd >= 0 ? fd : -errno;
	}
}

static sem_t *ksp_sem_open(const char *name, int oflag, mode_t mode, unsigned value)
{
	char path[PATH_MAX];
	struct ksp_named *n;
	struct stat st;
	sem_t *addr;
	int fd, r;

	r = ksp_sem_path(name, path, sizeof(path));
	if (!r && (oflag & O_CREAT) && value > SEM_VALUE_MAX)
		r = -EINVAL;
	if (r)
		goto fail;
	fd = ksp_sem_open_file(path, oflag, mode, value);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(sem_t)) {
		r = fstat(fd, &st) ? -errno : -EINVAL;
		close(fd);
		goto fail;
	}
	ks_mutex_lock(&ksp_named_lock);
	for (n = ksp_named_list; n; n = n->next) {
		if (n->dev == st.st_dev && n->ino == st.st_ino) {
			n->refs++;
			ks_mutex_unlock(&ksp_named_lock);
			close(fd);
			return n->addr;
		}
	}
	addr = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	n = addr == MAP_FAILED ? NULL : malloc(sizeof(*n));
	r = addr == MAP_FAILED ? -errno : -ENOMEM;
	close(fd);
	if (!n) {
		if (addr != MAP_FAILED)
			munmap(addr, sizeof(sem_t));
		ks_mutex_unlock(&ksp_named_lock);
		goto fail;
	}
	*n = (struct ksp_named){ .next = ksp_named_list, .dev = st.st_dev, .ino = st.st_ino,
				 .addr = addr, .refs = 1 };
	ksp_named_list = n;
	ks_mutex_unlock(&ksp_named_lock);
	return addr;
fail:
	errno = -r;
	return SEM_FAILED;
}

KSP_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	unsigned value = 0;
	va_list ap;

	if (oflag & O_CREAT) {
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	if (ksp_passthrough())
		return KSP_GLIBC(sem_open)(name, oflag, mode, value);
	return ksp_sem_open(name, oflag, mode, value);
}

KSP_EXPORT int sem_close(sem_t *ps)
{
	struct ksp_named **p, *n;

	if (ksp_passthrough())
		return KSP_GLIBC(sem_close)(ps);
	ks_mutex_lock(&ksp_named_lock);
	for (p = &ksp_named_list; (n = *p); p = &n->next) {
		if (n->addr != ps)
			continue;
		if (--n->refs == 0) {
			*p = n->next;
			munmap(n->addr, sizeof(sem_t));
			free(n);
		}
		ks_mutex_unlock(&ksp_named_lock);
		return 0;
	}
	ks_mutex_unlock(&ksp_named_lock);
	return ksp_errno(-EINVAL);
}

KSP_EXPORT int sem_unlink(const char *name)
{
	char path[PATH_MAX];
	int r;

	if (ksp_passthrough())
		return KSP_GLIBC(sem_unlink)(name);
	r = ksp_sem_path(name, path, sizeof(path));
	if (r)
		return ksp_errno(r == -EINVAL ? -ENOENT : r);
	if (unlink(path))
		return ksp_errno(errno == EPERM ? -EACCES : -errno);
	return 0;
}

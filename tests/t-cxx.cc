// SPDX-License-Identifier: MIT
//
// The public headers in a C++ user's program: built as C++17, C++20 and C++23 with g++ and
// clang++ (see tests/Kbuild), with -pedantic-errors -Wall -Wextra -Wcast-qual -Wshadow
// -Wconversion -Werror. It uses every call, initializer and macro (tests/use-all.h, shared with
// the strict C test), then what only C++ has to get right:
//  - KS_ATOMIC(T) is std::atomic<T>, of the size and alignment of the _Atomic(T) that the
//    library was compiled with;
//  - every struct has the layout C gives it (tests/layout.c, compiled as C, is linked in);
//  - every static initializer is constant initialization (constinit, C++20 on);
//  - the C++ forms of ks_cond_wait() (overloads) and ks_cond_wait_event() (a lambda) work with
//    threads from the C++ library and a predicate that captures locals.

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "layout.h"
#include "use-all.h"

// ---- KS_ATOMIC(T) has T's size and alignment -----------------------------------------------

#define SAME_AS_PLAIN(T)							\
	static_assert(sizeof(KS_ATOMIC(T)) == sizeof(T) &&			\
		      alignof(KS_ATOMIC(T)) == alignof(T),			\
		      "std::atomic<" #T "> differs from " #T);			\
	static_assert(std::is_standard_layout<KS_ATOMIC(T)>::value,		\
		      "std::atomic<" #T "> is not standard-layout")
SAME_AS_PLAIN(uint32_t);
SAME_AS_PLAIN(uint64_t);
SAME_AS_PLAIN(int);
SAME_AS_PLAIN(unsigned);
SAME_AS_PLAIN(size_t);
SAME_AS_PLAIN(struct ks_llist_node *);
SAME_AS_PLAIN(struct ks_mcs_node *);

#define STANDARD_LAYOUT(T)							\
	static_assert(std::is_standard_layout<struct T>::value, #T " is not standard-layout");
KS_LAYOUT_TYPES(STANDARD_LAYOUT)

// ---- static initializers are constant initialization ----------------------------------------

static void cxx_work_fn(struct ks_work *) {}

#if __cplusplus >= 202002L
#define KS_CONSTINIT constinit
#else
#define KS_CONSTINIT
#endif

KS_CONSTINIT static struct ks_mutex ci_mutex = KS_MUTEX_INIT;
KS_CONSTINIT static struct ks_rmutex ci_rmutex = KS_RMUTEX_INIT;
KS_CONSTINIT static struct ks_cond ci_cond = KS_COND_INIT;
KS_CONSTINIT static struct ks_sem ci_sem = KS_SEM_INIT(1);
KS_CONSTINIT static struct ks_sem ci_bounded = KS_BOUNDED_SEM_INIT(1);
KS_CONSTINIT static struct ks_event ci_event = KS_EVENT_INIT;
KS_CONSTINIT static struct ks_thread ci_thread = KS_THREAD_INIT;
KS_CONSTINIT static struct ks_spinlock ci_spinlock = KS_SPINLOCK_INIT;
KS_CONSTINIT static struct ks_mcs ci_mcs = KS_MCS_INIT;
KS_CONSTINIT static struct ks_mcs_node ci_mcs_node = KS_MCS_NODE_INIT;
KS_CONSTINIT static struct ks_rwlock ci_rwlock = KS_RWLOCK_INIT;
KS_CONSTINIT static struct ks_seqcount ci_seqcount = KS_SEQCOUNT_INIT;
KS_CONSTINIT static struct ks_seqlock ci_seqlock = KS_SEQLOCK_INIT;
KS_CONSTINIT static struct ks_once ci_once = KS_ONCE_INIT;
KS_CONSTINIT static struct ks_llist_head ci_llist = KS_LLIST_HEAD_INIT;
KS_CONSTINIT static struct ks_work ci_work = KS_WORK_INIT(cxx_work_fn);

static void cxx_initializers(void)
{
	// each object is usable as initialized, before any dynamic initialization could run
	bool ok = !ks_mutex_is_locked(&ci_mutex) && !ks_rmutex_is_owned(&ci_rmutex) &&
		  ks_sem_value(&ci_sem) == 1 && ks_sem_up(&ci_bounded) == -EOVERFLOW &&
		  !ks_event_is_set(&ci_event) && !ks_thread_is_alive(&ci_thread) &&
		  !ks_spinlock_is_locked(&ci_spinlock) && !ks_mcs_is_locked(&ci_mcs) &&
		  ks_rwlock_readers(&ci_rwlock) == 0 && ks_seqcount_read_begin(&ci_seqcount) == 0 &&
		  ks_seqlock_read_begin(&ci_seqlock) == 0 && !ks_once_done(&ci_once) &&
		  ks_llist_empty(&ci_llist) && !ks_work_pending(&ci_work) &&
		  ci_work.fn == cxx_work_fn;

	use_ok(ok, "C++: every static initializer gives a usable object");
	ks_cond_signal(&ci_cond);
	ks_mcs_lock(&ci_mcs, &ci_mcs_node);
	use_is(ks_mcs_unlock(&ci_mcs, &ci_mcs_node), 0, "C++: KS_MCS_NODE_INIT");
}

// ---- the layout C sees ------------------------------------------------------------------------

extern "C" const struct ks_layout ks_layout_c[];
extern "C" const size_t ks_layout_c_n;

static void cxx_layout(void)
{
	static const struct ks_layout cxx[] = KS_LAYOUT_TABLE;
	const size_t n = sizeof(cxx) / sizeof(cxx[0]);
	std::string diff;

	use_is(ks_layout_c_n, n, "layout: C and C++ list the same entries");
	for (size_t i = 0; i < n && i < ks_layout_c_n; i++) {
		const struct ks_layout &c = ks_layout_c[i], &x = cxx[i];

		if (std::strcmp(c.name, x.name) || c.a != x.a || c.b != x.b)
			diff += std::string(" ") + x.name + "(C " + std::to_string(c.a) + "/" +
				std::to_string(c.b) + ", C++ " + std::to_string(x.a) + "/" +
				std::to_string(x.b) + ")";
	}
	use_ok(diff.empty(), "layout: every struct's size and alignment, every member's offset "
			     "and size are the same in C and C++");
	if (!diff.empty())
		printf("# differences:%s\n", diff.c_str());
}

// Every `struct ks_<name> {` in the public headers is in KS_LAYOUT_TYPES.
static void cxx_layout_complete(void)
{
	static const struct ks_layout cxx[] = KS_LAYOUT_TABLE;
	std::set<std::string> listed;
	std::string missing;
	bool read_all = true;

	for (const struct ks_layout &e : cxx)
		listed.insert(e.name);
	for (const auto &h : std::filesystem::directory_iterator(KSYNC_INCLUDE_DIR "/ksync")) {
		std::ifstream in(h.path());
		std::string line;

		read_all &= in.good();
		while (std::getline(in, line)) {
			if (line.compare(0, 10, "struct ks_") || line.back() != '{')
				continue;
			std::string name = line.substr(0, line.find(' ', 7));

			if (!listed.count(name))
				missing += " " + name;
		}
	}
	use_ok(read_all, "layout: the public headers are readable");
	use_ok(missing.empty(), "layout: tests/layout.h lists every public struct");
	if (!missing.empty())
		printf("# not in KS_LAYOUT_TYPES:%s\n", missing.c_str());
}

// ---- C++ threads, overloads, capturing predicates ------------------------------------------

static void cxx_threads(void)
{
	struct ks_mutex m = KS_MUTEX_INIT;
	struct ks_rmutex r = KS_RMUTEX_INIT;
	struct ks_cond c = KS_COND_INIT;
	int stage = 0, result = 1;

	std::thread mutex_waiter([&] {
		ks_mutex_lock(&m);
		result = ks_cond_wait_event_timeout(&c, &m, stage == 1, USE_LONG_NS);
		ks_mutex_unlock(&m);
	});
	ks_mutex_lock(&m);
	stage = 1;
	ks_cond_broadcast(&c);
	ks_mutex_unlock(&m);
	mutex_waiter.join();
	use_is(result, 0, "C++: wait_event_timeout in a std::thread, capturing locals");

	std::thread rmutex_waiter([&] {
		ks_rmutex_lock(&r);
		ks_rmutex_lock(&r);
		result = ks_cond_wait_event(&c, &r, stage == 2);
		ks_rmutex_unlock(&r);
		ks_rmutex_unlock(&r);
	});
	ks_rmutex_lock(&r);
	stage = 2;
	ks_cond_signal(&c);
	ks_rmutex_unlock(&r);
	rmutex_waiter.join();
	use_is(result, 0, "C++: wait_event with an rmutex held twice (the overload)");
}

int main()
{
	printf("TAP version 13\n");
	alarm(60);	// a hang is a failure: SIGALRM ends the program, prove sees no plan
	use_all();
	cxx_initializers();
	cxx_layout();
	cxx_layout_complete();
	cxx_threads();
	printf("1..%u\n", use_n);
	return use_failed != 0;
}

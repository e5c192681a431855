// SPDX-License-Identifier: MIT
/*
 * machine.c — the machine a run was made on, recorded with its results.
 *
 * A ratio measured on one machine says little about another: a spin budget that outlasts a
 * wake-up on one CPU may not on the next, and a `pause` costs 10 cycles on one core and 150 on
 * another. So every run records, next to Google Benchmark's own context (cores, caches, MHz,
 * load), the CPU (vendor, model name, family/model/stepping, whether under a hypervisor), what
 * the two costs that locks are made of measure here — a `pause` (pause_ns, the unit of every
 * spin loop) and an uncontended compare-and-swap (atomic_ns, the unit of every fast path) —
 * the kernel, glibc and the C compiler that built the harnesses.
 *
 * kb_machine_name() names the folder of the machine's results, bench/results/<name>/: the CPU
 * and the number of CPUs, never the host name, so that runs on the same kind of machine land in
 * the same folder and different machines sit side by side. "model name" alone is not enough
 * (virtual machines often say just "AMD EPYC"), so x86 adds the family and model numbers:
 * amd-epyc-family25-model1-2cpus.
 */
#include <ctype.h>
#include <gnu/libc-version.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kbench.h"

/* Each cost is the fastest of KB_COST_TRIALS timings of KB_COST_OPS operations: the minimum is
 * the estimate that other programs' load on the machine can only make worse, never better. */
#define KB_COST_TRIALS	20
#define KB_COST_OPS	2000

struct cpu_info {
	char vendor[64], model_name[128], family[16], model[16], stepping[16];
	int hypervisor;
};

static void cpuinfo_value(const char *line, const char *key, char *out, size_t size)
{
	size_t n = strlen(key);
	const char *colon;

	if (strncmp(line, key, n) != 0 || !(colon = strchr(line + n, ':')) || out[0])
		return;
	for (colon++; *colon == ' ' || *colon == '\t'; colon++)
		;
	snprintf(out, size, "%.*s", (int)strcspn(colon, "\n"), colon);
}

/* The first processor's description in /proc/cpuinfo (x86's keys; "CPU part" elsewhere). */
static const struct cpu_info *cpu_info(void)
{
	static struct cpu_info ci;
	static int done;
	char line[4096];
	FILE *f;

	if (done)
		return &ci;
	done = 1;
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '\n' && ci.model_name[0])
			break;	/* the end of the first processor */
		cpuinfo_value(line, "vendor_id", ci.vendor, sizeof(ci.vendor));
		cpuinfo_value(line, "model name", ci.model_name, sizeof(ci.model_name));
		cpuinfo_value(line, "cpu family", ci.family, sizeof(ci.family));
		cpuinfo_value(line, "model\t", ci.model, sizeof(ci.model));
		cpuinfo_value(line, "stepping", ci.stepping, sizeof(ci.stepping));
		cpuinfo_value(line, "CPU implementer", ci.vendor, sizeof(ci.vendor));
		cpuinfo_value(line, "CPU part", ci.model, sizeof(ci.model));
		if (strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor"))
			ci.hypervisor = 1;
	}
	if (f)
		fclose(f);
	if (!ci.model_name[0]) {
		struct utsname u;

		snprintf(ci.model_name, sizeof(ci.model_name), "%s cpu",
			 uname(&u) == 0 ? u.machine : "unknown");
	}
	return &ci;
}

/* Appends s to the name, lower case, runs of anything else than letters and digits as one '-'. */
static void name_append(char *name, size_t size, const char *s)
{
	size_t n = strlen(name);

	for (; *s && n + 1 < size; s++) {
		if (isalnum((unsigned char)*s))
			name[n++] = (char)tolower((unsigned char)*s);
		else if (n && name[n - 1] != '-')
			name[n++] = '-';
	}
	name[n] = '\0';
}

/* The model name without what names no CPU: "(R)", "(TM)", the words CPU and Processor, and
 * the clock after '@': "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz" is "Intel Xeon Gold 6148". */
static void model_words(const char *in, char *out, size_t size)
{
	static const char *const marks[] = { "(R)", "(r)", "(TM)", "(tm)" };
	static const char *const words[] = { "CPU", "Processor" };
	size_t n = 0;

	while (*in && *in != '@' && n + 1 < size) {
		size_t len = strcspn(in, " @"), skip = 0;

		for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			skip |= strlen(words[i]) == len && strncasecmp(in, words[i], len) == 0;
		for (size_t i = 0; i < len && !skip && n + 2 < size; i++) {
			for (unsigned m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
				if (strncmp(in + i, marks[m], strlen(marks[m])) == 0)
					i += strlen(marks[m]);
			}
			if (i < len)
				out[n++] = in[i];
		}
		if (!skip && n + 1 < size)
			out[n++] = ' ';
		in += len;
		in += *in == ' ';
	}
	out[n] = '\0';
}

const char *kb_machine_name(void)
{
	static char name[160];
	const struct cpu_info *ci = cpu_info();
	char model[128], part[160];

	if (name[0])
		return name;
	model_words(ci->model_name, model, sizeof(model));
	name_append(name, sizeof(name), model);
	if (ci->family[0]) {
		snprintf(part, sizeof(part), "family%s model%s", ci->family, ci->model);
		name_append(name, sizeof(name), part);
	} else if (ci->model[0]) {
		snprintf(part, sizeof(part), "part %s", ci->model);
		name_append(name, sizeof(name), part);
	}
	snprintf(part, sizeof(part), "-%ldcpus", sysconf(_SC_NPROCESSORS_ONLN));
	name_append(name, sizeof(name), part);
	return name;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("isb" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static double elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

static _Atomic uint64_t cost_word;

/* ns per operation of op: the fastest of KB_COST_TRIALS timings. */
static double cost_ns(void (*op)(void))
{
	double best = 1e30;

	for (int t = 0; t < KB_COST_TRIALS; t++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < KB_COST_OPS; i++)
			op();
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (elapsed_ns(&a, &b) < best)
			best = elapsed_ns(&a, &b);
	}
	return best / KB_COST_OPS;
}

static void op_pause(void)
{
	cpu_relax();
}

/* A successful compare-and-swap on a word no other thread touches: a lock's fast path. */
static void op_atomic(void)
{
	uint64_t v = atomic_load_explicit(&cost_word, memory_order_relaxed);

	/* acq_rel: a locked instruction on x86 whatever the order; what a lock acquire pays */
	atomic_compare_exchange_strong_explicit(&cost_word, &v, v + 1, memory_order_acq_rel,
						memory_order_relaxed);
}

static const char *compiler(void)
{
#if defined(__clang__)
	return "clang " __clang_version__;
#elif defined(__GNUC__)
	return "gcc " __VERSION__;
#else
	return "unknown";
#endif
}

void kb_machine_describe(void (*add)(const char *key, const char *value))
{
	const struct cpu_info *ci = cpu_info();
	char buf[256];
	struct utsname u;

	add("machine", kb_machine_name());
	add("cpu_model", ci->model_name);
	if (ci->vendor[0])
		add("cpu_vendor", ci->vendor);
	if (ci->family[0]) {
		snprintf(buf, sizeof(buf), "%s/%s/%s", ci->family, ci->model, ci->stepping);
		add("cpu_family_model_stepping", buf);
	} else if (ci->model[0]) {
		add("cpu_part", ci->model);
	}
	add("hypervisor", ci->hypervisor ? "yes" : "no");
	snprintf(buf, sizeof(buf), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	add("online_cpus", buf);
	snprintf(buf, sizeof(buf), "%.3g", cost_ns(op_pause));
	add("pause_ns", buf);
	snprintf(buf, sizeof(buf), "%.3g", cost_ns(op_atomic));
	add("atomic_ns", buf);
	if (uname(&u) == 0) {
		snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release, u.machine);
		add("kernel", buf);
	}
	add("glibc", gnu_get_libc_version());
	add("cc", compiler());
}

// SPDX-License-Identifier: MIT
/*
 * ksync-torture — the command line and the report. See torture.h for what it does and
 * docs/torture.md for how to read its output.
 *
 *	ksync-torture [-d DURATION] [-t WORKERS] [-k SCENES] [-s NAME,...] [-S SEED]
 *		      [--no-signals] [--no-pokes] [--no-fork] [--stuck TIME] [--slack TIME] [-l]
 *
 * Exit status: 0 no violation, 1 a violation (named on the FAIL line), 2 a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

struct torture_config torture_cfg = {
	.duration_ns = 10 * KS_NSEC_PER_SEC,
	.threads = 4,
	.concurrent = 3,
	.slack_ns = 5 * KS_NSEC_PER_SEC,
	.stuck_ns = 10 * KS_NSEC_PER_SEC,
	.long_ns = 100 * KS_NSEC_PER_MSEC,
	.signals = true,
	.pokes = true,
	.fork = true,
};

/* "10m", "20s", "500ms", "1h", or seconds; -1 if it is none of those. */
static int64_t parse_time(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return (int64_t)(v * KS_NSEC_PER_SEC);
	if (!strcmp(end, "ms"))
		return (int64_t)(v * KS_NSEC_PER_MSEC);
	if (!strcmp(end, "m"))
		return (int64_t)(v * 60 * KS_NSEC_PER_SEC);
	if (!strcmp(end, "h"))
		return (int64_t)(v * 3600 * KS_NSEC_PER_SEC);
	return -1;
}

static void usage(FILE *f)
{
	fputs("usage: ksync-torture [options]\n"
	      "  -d, --duration TIME   how long (10s, 2m, 1h; default 10s)\n"
	      "  -t, --threads N       workers per scene (default 4)\n"
	      "  -k, --concurrent N    scenes running at once (default 3)\n"
	      "  -s, --scenarios LIST  comma-separated names (default: all but the negative\n"
	      "                        controls); 'busted' names every negative control\n"
	      "  -S, --seed N          the run's seed (default: from the clock)\n"
	      "      --no-signals      no SIGUSR1 storm\n"
	      "      --no-pokes        no spurious futex wakes\n"
	      "      --no-fork         threads only (no KS_SHARED objects across fork)\n"
	      "      --stuck TIME      the deadline of an untimed call (default 10s)\n"
	      "      --slack TIME      the watchdog's grace past a deadline (default 5s: a\n"
	      "                        loaded machine can leave a woken thread waiting that long)\n"
	      "  -l, --list            the scenarios and what each checks\n"
	      "  -v, --verbose         a line per round\n"
	      "KS_WATCHDOG_SCALE multiplies --stuck and --slack (sanitizers, valgrind).\n", f);
}

static void list(void)
{
	for (unsigned i = 0; torture_scenarios[i]; i++) {
		const struct scenario *sc = torture_scenarios[i];

		printf("%-18s %s%s\n", sc->name, sc->flags & SC_BUSTED ? "[negative control] " : "",
		       sc->checks);
	}
}

static const struct scenario *find(const char *name)
{
	for (unsigned i = 0; torture_scenarios[i]; i++)
		if (!strcmp(torture_scenarios[i]->name, name))
			return torture_scenarios[i];
	return NULL;
}

/* The scenarios to run: the named ones, or every one that is not a negative control. */
static unsigned select_scenarios(char *names, const struct scenario **out)
{
	unsigned n = 0;

	if (!names) {
		for (unsigned i = 0; torture_scenarios[i]; i++)
			if (!(torture_scenarios[i]->flags & SC_BUSTED))
				out[n++] = torture_scenarios[i];
		return n;
	}
	for (char *save, *name = strtok_r(names, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		const struct scenario *sc = find(name);

		if (!strcmp(name, "busted")) {
			for (unsigned i = 0; torture_scenarios[i]; i++)
				if (torture_scenarios[i]->flags & SC_BUSTED)
					out[n++] = torture_scenarios[i];
			continue;
		}
		if (!sc) {
			fprintf(stderr, "ksync-torture: no scenario '%s' (-l lists them)\n", name);
			exit(2);
		}
		out[n++] = sc;
	}
	return n;
}

void torture_report(FILE *f)
{
	int64_t ran = ks_now_ns() - torture_started_ns();
	long ops = 0, timeouts = 0, errors = 0, rounds = 0, procs = 0;
	int64_t late = 0;

	fprintf(f, "%-18s %6s %5s %12s %11s %10s %8s %9s\n", "scenario", "rounds", "procs", "ops",
		"ops/s", "timeouts", "errors", "late(ms)");
	for (unsigned i = 0; torture_scenarios[i]; i++) {
		const struct torture_total *t = &torture_totals[i];

		if (!t->rounds)
			continue;
		fprintf(f, "%-18s %6ld %5ld %12ld %11.0f %10ld %8ld %9.1f\n",
			torture_scenarios[i]->name, t->rounds, t->process_rounds, t->ops,
			t->busy_ns ? t->ops / (t->busy_ns / 1e9) : 0.0, t->timeouts, t->errors,
			t->late_max_ns / 1e6);
		if (t->late_max_ns > late)
			late = t->late_max_ns;
		ops += t->ops;
		timeouts += t->timeouts;
		errors += t->errors;
		rounds += t->rounds;
		procs += t->process_rounds;
	}
	fprintf(f, "%-18s %6ld %5ld %12ld %11.0f %10ld %8ld %9.1f\n", "all", rounds, procs, ops,
		ran > 0 ? ops / (ran / 1e9) : 0.0, timeouts, errors, late / 1e6);
	fprintf(f, "signals: %lu sent, %lu handled; spurious futex wakes: %lu; forks: %lu, "
		"_Fork: %lu\n", atomic_load(&torture_shared->signals_sent),
		atomic_load(&torture_shared->signals_seen), atomic_load(&torture_shared->pokes),
		atomic_load(&torture_shared->forks), atomic_load(&torture_shared->bare_forks));
}

static int64_t watchdog_scale(void)
{
	const char *env = getenv("KS_WATCHDOG_SCALE");
	int64_t scale = 1;

#if defined(__SANITIZE_THREAD__)
	scale = 4;
#elif defined(__SANITIZE_ADDRESS__)
	scale = 2;
#endif
	if (env && atoi(env) > 0)
		scale *= atoi(env);
	return scale;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "concurrent", required_argument, NULL, 'k' },
		{ "scenarios", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-signals", no_argument, NULL, 1 },
		{ "no-pokes", no_argument, NULL, 2 },
		{ "no-fork", no_argument, NULL, 3 },
		{ "stuck", required_argument, NULL, 4 },
		{ "slack", required_argument, NULL, 5 },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct scenario *chosen[TORTURE_MAX_SCENARIOS];
	char *names = NULL;
	int64_t scale = watchdog_scale();
	unsigned n;
	int c;

	torture_cfg.seed = (uint64_t)ks_now_ns() ^ (uint64_t)getpid() << 32;
	while ((c = getopt_long(argc, argv, "d:t:k:s:S:lvh", longopts, NULL)) != -1) {
		int64_t t;

		switch (c) {
		case 'd':
		case 4:
		case 5:
			t = parse_time(optarg);
			if (t < 0) {
				fprintf(stderr, "ksync-torture: bad time '%s'\n", optarg);
				return 2;
			}
			*(c == 'd' ? &torture_cfg.duration_ns :
			  c == 4 ? &torture_cfg.stuck_ns : &torture_cfg.slack_ns) = t;
			break;
		case 't':
			torture_cfg.threads = (unsigned)atoi(optarg);
			break;
		case 'k':
			torture_cfg.concurrent = (unsigned)atoi(optarg);
			break;
		case 's':
			names = optarg;
			break;
		case 'S':
			torture_cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 1:
			torture_cfg.signals = false;
			break;
		case 2:
			torture_cfg.pokes = false;
			break;
		case 3:
			torture_cfg.fork = false;
			break;
		case 'l':
			list();
			return 0;
		case 'v':
			torture_cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || torture_cfg.threads < 2 || torture_cfg.threads > TORTURE_MAX_WORKERS ||
	    !torture_cfg.concurrent) {
		usage(stderr);
		return 2;
	}
	torture_cfg.stuck_ns *= scale;
	torture_cfg.slack_ns *= scale;
	n = select_scenarios(names, chosen);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ksync-torture: %.1f s, seed %#llx, %u workers a scene, %u scenes at once, "
	       "signals %s, spurious wakes %s, processes %s, %ld CPUs\n",
	       torture_cfg.duration_ns / 1e9, (unsigned long long)torture_cfg.seed,
	       torture_cfg.threads, torture_cfg.concurrent, torture_cfg.signals ? "on" : "off",
	       torture_cfg.pokes ? "on" : "off", torture_cfg.fork ? "on" : "off",
	       sysconf(_SC_NPROCESSORS_ONLN));
	torture_run(chosen, n);
	torture_report(stdout);
	printf("ksync-torture: PASS: no violation in %.1f s\n",
	       (ks_now_ns() - torture_started_ns()) / 1e9);
	return 0;
}

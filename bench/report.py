#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn ksync-bench's Google Benchmark JSON into the summary a reader wants.

    report.py --plots DIR bench.json > summary.md   Markdown summary, PNG plots into DIR
    report.py --targets bench.json                  the core issue's targets: target/measured/pass
    report.py --quick-filter                        the --benchmark_filter regex for bench-quick
    report.py --tap bench.json                      TAP: one test per run, failed if it erred

Every ksync figure is stated as a ratio to its counterpart measured in the same run. A ratio is
always "how many times better ksync is": baseline time / ksync time for times, ksync rate /
baseline rate for rates, so > 1 means ksync wins whatever the unit. With repetitions, each figure
is the median over them.

Benchmark names are family/bench/shim/params... (see bench/*.c); a shim's label says where it
comes from ("ksync vs pthread_mutex", "glibc", "ck", "urcu").
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import OrderedDict

# What each (family, bench) measures: the counter that decides, and whether higher is better.
METRICS = {
    ("lock", "uncontended"): ("real_time", False, "time per lock+unlock"),
    ("lock", "contended"): ("ops_per_s", True, "Mops/s"),
    ("sem", "pingpong"): ("ns_per_round", False, "time per round trip"),
    ("cond", "pingpong"): ("ns_per_round", False, "time per round trip"),
    ("cond", "buffer"): ("ns_per_round", False, "time per item"),
    ("event", "pingpong"): ("ns_per_round", False, "time per round trip (two set→wake)"),
    ("barrier", "rounds"): ("ns_per_round", False, "time per barrier episode"),
    ("ring", "transfer"): ("ns_per_round", False, "time per item"),
    ("rw", "read_mostly"): ("ops_per_s", True, "Mops/s"),
}

HANDOFFS = ("sem", "cond", "event", "barrier", "ring")

# A ksync figure within this fraction of a peer's is a tie: two CPUs shared with a desktop's
# worth of daemons do not resolve finer differences between runs.
NOISE = 0.05

# The core issue's figures: (what, ksync shim, glibc shim, family/bench, params, min ratio).
# Lock points use a 20-unit critical section and 50 units of work between acquisitions.
# "No slower" allows the 3% that separates two runs of the same code on this machine.
CS = ("cs:20", "work:50")
TARGETS = [
    ("uncontended lock+unlock", "ks_mutex", "pthread_mutex", "lock/uncontended", (), 0.97),
    ("2 threads contended throughput", "ks_mutex", "pthread_mutex", "lock/contended",
     CS + ("threads:2",), 2.0),
    ("8 threads oversubscribed throughput", "ks_mutex", "pthread_mutex", "lock/contended",
     CS + ("threads:8",), 1.3),
    ("semaphore ping-pong round trip", "ks_sem", "sem_t", "sem/pingpong", ("threads:2",), 2.0),
    ("condition ping-pong round trip", "ks_cond", "pthread_cond", "cond/pingpong",
     ("threads:2",), 2.0),
    ("barrier round, 2 threads", "ks_barrier", "pthread_barrier", "barrier/rounds",
     ("threads:2",), 3.0),
    ("barrier round, 4 threads", "ks_barrier", "pthread_barrier", "barrier/rounds",
     ("threads:4",), 3.0),
]
JAIN_MIN = 0.9		# 8-thread fairness target
STARVED_SHARE = 0.1	# a thread with less than 10% of the mean count counts as starved


class Run:
    """One benchmark point of one shim: its counters, label and error."""

    def __init__(self, b):
        parts = b["run_name"].split("/")
        self.family, self.bench, self.shim = parts[0], parts[1], parts[2]
        skip = re.compile(r"^(iterations|min_time|repeats):|^(real_time|process_time)$")
        self.params = tuple(p for p in parts[3:] if not skip.match(p))
        self.threads = 1
        for p in self.params:
            if p.startswith("threads:"):
                self.threads = int(p.split(":")[1])
        self.label = b.get("label", "")
        self.origin = self.label.split()[0] if self.label else "?"
        m = re.search(r" vs (\S+)", self.label)
        self.baseline = m.group(1) if m else None
        self.error = b.get("error_message") if b.get("error_occurred") else None
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        self.values = {k: v for k, v in b.items() if isinstance(v, (int, float))}
        self.values["real_time"] = b.get("real_time", 0) * scale

    @property
    def group(self):
        return (self.family, self.bench)

    def value(self, key):
        return self.values.get(key)


def load(path):
    """The runs to report: medians when the file has aggregates, else the single runs."""
    with open(path) as f:
        data = json.load(f)
    benches = data.get("benchmarks", [])
    medians = [b for b in benches if b.get("aggregate_name") == "median"]
    have_median = {b["run_name"] for b in medians}
    runs = [Run(b) for b in medians]
    runs += [Run(b) for b in benches if b.get("run_type", "iteration") == "iteration"
             and b["run_name"] not in have_median and "aggregate_name" not in b]
    reps = max([b.get("repetitions", 1) for b in benches] or [1])
    return data.get("context", {}), runs, reps


ORIGINS = ("ksync", "glibc", "ck", "urcu")


def param_key(params):
    """Sorts points numerically: cs:20 < cs:200 < cs:2000, then threads:1 < threads:2 < ..."""
    fixed = [p for p in params if not p.startswith("threads:")]
    threads = [p for p in params if p.startswith("threads:")]
    return [(p.split(":")[0], float(p.split(":")[1]) if ":" in p else 0) for p in fixed + threads]


def index(runs):
    """{(family, bench): {params: {shim: Run}}}, groups in METRICS order, points sorted by their
    parameters, shims ksync first, then glibc, ck, urcu, each by name — whatever order the runs
    came in (random interleaving shuffles the file)."""
    order = lambda r: (list(METRICS).index(r.group) if r.group in METRICS else len(METRICS),
                       param_key(r.params),
                       ORIGINS.index(r.origin) if r.origin in ORIGINS else len(ORIGINS), r.shim)
    out = OrderedDict()
    for r in sorted(runs, key=order):
        out.setdefault(r.group, OrderedDict()).setdefault(r.params, OrderedDict())[r.shim] = r
    return out


def speedup(group, ks, peer):
    """How many times better ks is than peer on the group's metric (None if unknown)."""
    key, higher, _ = METRICS[group]
    a, b = ks.value(key), peer.value(key)
    if not a or not b or ks.error or peer.error:
        return None
    return a / b if higher else b / a


def fmt(x, digits=3):
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_ns(x):
    """A duration in the unit that keeps it short: 812 ns, 27.6 µs, 55.3 ms."""
    if x is None:
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g} ns"


def fmt_metric(group, run):
    if run is None:
        return "—"
    if run.error:
        return "FAILED"
    key, _, unit = METRICS[group]
    v = run.value(key)
    return fmt(v / 1e6) if unit == "Mops/s" else fmt_ns(v)


def ratio_cell(r):
    if r is None:
        return "—"
    mark = "" if r >= 1 - NOISE else " ⚠"
    return f"×{r:.2f}{mark}"


def shims_of(points):
    """All shims of a group in index() order (ksync first), and their origins."""
    origin = OrderedDict()
    for by_shim in points.values():
        for shim, run in by_shim.items():
            origin.setdefault(shim, run.origin)
    rank = lambda s: (ORIGINS.index(origin[s]) if origin[s] in ORIGINS else len(ORIGINS), s)
    return sorted(origin, key=rank), origin


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def point_name(params):
    return " ".join(p.replace(":", "=") for p in params)


# ---- targets ---------------------------------------------------------------------------------

def quick_filter():
    alts = []
    for _, ks, base, fb, params, _ in TARGETS:
        rest = "/".join(p for p in params if not p.startswith("threads:"))
        threads = [p for p in params if p.startswith("threads:")]
        alts.append(f"{fb}/({ks}|{base})/" + (rest + "/" if rest else "") +
                    (".*" + threads[0] + "$" if threads else ""))
    return "^(" + "|".join(sorted(set(alts))) + ")"


def target_rows(idx):
    rows = []
    for what, ks, base, fb, params, need in TARGETS:
        group = tuple(fb.split("/"))
        by_shim = idx.get(group, {}).get(params, {})
        k, b = by_shim.get(ks), by_shim.get(base)
        target = f"≥ ×{need:.2f}" + (" (no slower)" if need < 1 else "")
        if k is None or b is None:
            missing = ks if k is None else base
            rows.append([what, f"{ks} vs {base}", target,
                         f"not measured (no {missing} result in this run)", "—"])
            continue
        r = speedup(group, k, b)
        ok = r is not None and r >= need
        measured = f"{ratio_cell(r)} ({fmt_metric(group, k)} vs {fmt_metric(group, b)} " \
                   f"{METRICS[group][2].replace('time per', 'per')})"
        if "threads:8" in params:
            jain, share = k.value("jain"), k.value("min_share")
            measured += f"; Jain {fmt(jain)}, min share {fmt(share)}"
            target += f", Jain ≥ {JAIN_MIN}, min share ≥ {STARVED_SHARE}"
            ok = ok and jain is not None and jain >= JAIN_MIN and share >= STARVED_SHARE
        rows.append([what, f"{ks} vs {base}", target, measured, "PASS" if ok else "FAIL"])
    return rows


# ---- the summary -----------------------------------------------------------------------------

def context_section(ctx, reps):
    keys = [("host_name", "host"), ("cpu_model", "CPU"), ("num_cpus", "CPUs"),
            ("mhz_per_cpu", "MHz"), ("kernel", "kernel"), ("glibc", "glibc"),
            ("ksync", "ksync"), ("libbenchmark-dev", "Google Benchmark"),
            ("libck-dev", "Concurrency Kit"), ("liburcu-dev", "liburcu"), ("cc", "gcc"),
            ("date", "date"), ("load_avg", "load average at start"),
            ("kb_window_s", "fixed-time window (s)")]
    rows = [[name, ctx[k] if not isinstance(ctx.get(k), list)
             else ", ".join(f"{x:.2f}" for x in ctx[k])] for k, name in keys if k in ctx]
    rows.append(["repetitions (figures are medians)", reps])
    return table(["", ""], rows)


def lock_tables(idx, group):
    points = idx.get(group)
    if not points:
        return ""
    shims, origin = shims_of(points)
    ks_shims = [s for s in shims if origin[s] == "ksync"]
    out = []
    by_cs = OrderedDict()
    for params in points:
        by_cs.setdefault(tuple(p for p in params if not p.startswith("threads:")), []).append(
            params)
    for cs, plist in by_cs.items():
        out.append(f"#### {point_name(cs)}: throughput (Mops/s; ratio = ksync vs its glibc "
                   "counterpart)\n")
        header = ["threads"] + shims + [f"{s} ratio" for s in ks_shims]
        rows = []
        for params in plist:
            by = points[params]
            row = [by[shims[0]].threads if shims[0] in by else "?"]
            row += [fmt_metric(group, by.get(s)) for s in shims]
            for s in ks_shims:
                k = by.get(s)
                b = by.get(k.baseline) if k else None
                row.append(ratio_cell(speedup(group, k, b)) if k and b else "—")
            rows.append(row)
        out.append(table(header, rows))
        for title, cells in [
            ("fairness: Jain's index / poorest thread's share of the mean",
             lambda r: f"{fmt(r.value('jain'))} / {fmt(r.value('min_share'))}"),
            ("latency p50 / p99 / p99.9" + (" (acquire)" if group[0] == "lock" else
                                           " (whole operation)"),
             lambda r: " / ".join(fmt_ns(r.value(k)) for k in ("p50_ns", "p99_ns", "p999_ns"))),
            ("CPU time per operation (ns, all threads) / sleeps per 1000 ops",
             lambda r: f"{fmt(r.value('cpu_ns_per_op'))} / {fmt(r.value('sleeps_per_kop'))}"),
        ]:
            out.append(f"\n{point_name(cs)}: {title}\n\n")
            rows = []
            for params in plist:
                by = points[params]
                rows.append([by[shims[0]].threads if shims[0] in by else "?"] +
                            [cells(by[s]) if s in by and not by[s].error else "—"
                             for s in shims])
            out.append(table(["threads"] + shims, rows))
        out.append("\n")
    return "".join(out)


def per_shim_table(idx, group):
    """A group with a single point: one row per shim, ksync's with their ratio."""
    rows = []
    for params, by in idx.get(group, {}).items():
        shims, origin = shims_of({params: by})
        for s in shims:
            k = by[s]
            b = by.get(k.baseline) if k.baseline else None
            rows.append([s, origin[s], fmt_metric(group, k),
                         f"{ratio_cell(speedup(group, k, b))} vs {b.shim}" if b else ""])
    return table(["primitive", "from", METRICS[group][2], "ksync vs glibc"], rows)


def simple_table(idx, groups):
    """One row per point: every shim's figure, then each ksync shim's ratio to its baseline."""
    rows = []
    for group in groups:
        for params, by in idx.get(group, {}).items():
            cells = []
            for origin in ("ksync", "glibc", "ck", "urcu"):
                cells.append(", ".join(f"{s} {fmt_metric(group, r)}" for s, r in by.items()
                                       if r.origin == origin) or "—")
            ratios = []
            for s, k in by.items():
                if k.origin == "ksync" and k.baseline in by:
                    ratios.append(f"{s} {ratio_cell(speedup(group, k, by[k.baseline]))}")
            rows.append([f"{group[0]}/{group[1]} {point_name(params)}", METRICS[group][2]] +
                        cells + [", ".join(ratios) or "—"])
    if not rows:
        return ""
    return table(["point", "unit", "ksync", "glibc", "ck", "urcu", "ksync vs glibc"], rows)


def spinners(idx, ncpus):
    """Shims that never slept, even with more threads than CPUs: they spin."""
    slept, seen = set(), set()
    for points in idx.values():
        for by in points.values():
            for s, r in by.items():
                if r.threads > ncpus and r.value("sleeps_per_kop") is not None:
                    seen.add(s)
                    if r.value("sleeps_per_kop") > 0:
                        slept.add(s)
    return seen - slept


def losses(idx, ncpus):
    """Where a ksync primitive is worse than a peer by more than NOISE: one note per pair, with
    the points and the reason the counters at the worst point give."""
    spin = spinners(idx, ncpus)
    pairs = OrderedDict()
    for group, points in idx.items():
        for params, by in points.items():
            for s, k in by.items():
                if k.origin != "ksync":
                    continue
                for p, peer in by.items():
                    r = speedup(group, k, peer) if peer.origin != "ksync" else None
                    if r is not None and r < 1 - NOISE:
                        pairs.setdefault((s, p, group), []).append((r, params, k, peer))
    notes = []
    for (s, p, group), lost in pairs.items():
        r, params, k, peer = min(lost, key=lambda x: x[0])
        where = ", ".join(f"{point_name(pp)} ×{rr:.2f}" for rr, pp, _, _ in lost)
        notes.append(f"- **{s} vs {p}** ({group[0]}/{group[1]}): {where}. "
                     f"At the worst point: {why(group, k, peer, ncpus, spin)}")
    return notes


def why(group, k, peer, ncpus, spin):
    """The measured reasons, in words: what the two did differently at this point."""
    v = lambda r, key: r.value(key) or 0
    if group == ("lock", "uncontended"):
        if peer.shim in spin and k.shim not in spin:
            return (f"{peer.shim} is a spinlock: it releases with a plain store, having no "
                    f"sleepers to wake, while {k.shim} must swap its word on release to learn "
                    "whether a sleeper needs a futex wake — one more atomic read-modify-write "
                    "per lock+unlock.")
        return ("one thread, no contention: the gap is in the fast path's atomic operations "
                "and instructions (see the primitive's header) or code alignment, not waiting.")
    if group[0] in ("lock", "rw") and k.threads == 1:
        return ("one thread, so nobody waits: the gap is the fast path itself — the atomic "
                "operations and instructions of one acquire and release (compare the "
                "uncontended table), plus the critical section's code, which is the same for "
                "every primitive.")
    if group[0] in ("lock", "rw"):
        said = []
        if k.shim in spin and k.threads > ncpus:
            said.append(f"{k.shim} spins and never sleeps; with {k.threads} threads on "
                        f"{ncpus} CPUs the thread it must hand over to is often preempted, "
                        "and everyone behind it spins until the scheduler runs it again "
                        f"({fmt_ns(v(k, 'cpu_ns_per_op'))} of CPU per operation, p99.9 "
                        f"acquire {fmt_ns(v(k, 'p999_ns'))})")
        elif peer.shim in spin and v(k, "sleeps_per_kop") > 0:
            said.append(f"{peer.shim} never sleeps: with {k.threads} thread(s) on {ncpus} "
                        "CPUs its waiters keep their CPUs and a hand-off is a cache-line "
                        f"transfer, while {k.shim} slept {fmt(v(k, 'sleeps_per_kop'))} times "
                        "per 1000 operations and each sleep costs a futex wait and wake")
        if v(peer, "cpu_ns_per_op") > 1.2 * v(k, "cpu_ns_per_op"):
            said.append(f"the peer paid for it in CPU: {fmt_ns(v(peer, 'cpu_ns_per_op'))} "
                        f"per operation against {fmt_ns(v(k, 'cpu_ns_per_op'))}")
        if v(k, "jain") > v(peer, "jain") + 0.05:
            said.append(f"{peer.shim} is less fair (Jain {fmt(v(peer, 'jain'))} against "
                        f"{fmt(v(k, 'jain'))}): a lock that lets a thread re-take it while "
                        "its cache is hot wins throughput by making the others wait")
        elif v(peer, "jain") > v(k, "jain") + 0.05:
            said.append(f"{peer.shim} is also fairer (Jain {fmt(v(peer, 'jain'))} against "
                        f"{fmt(v(k, 'jain'))})")
        if not said:
            said.append("the counters show no structural difference (similar CPU per "
                        "operation, sleeps and fairness); before reading anything into it, "
                        "rerun the point with --benchmark_repetitions=10")
        return "; ".join(said) + "."
    busy = lambda r: v(r, "cpu_ns_per_round") / max(v(r, "ns_per_round"), 1)
    if busy(peer) > 0.8 and busy(k) < busy(peer) - 0.1:
        return (f"{peer.shim}'s threads wait by spinning: thread 0 was on a CPU "
                f"{busy(peer):.0%} of the time against {busy(k):.0%} for {k.shim}. With a CPU "
                "per thread a spinning waiter sees the hand-off at once; a sleeping one pays a "
                "futex wake, but leaves its CPU to others.")
    return (f"{peer.shim} takes less time per round with a similar CPU use (thread 0 on a CPU "
            f"{busy(peer):.0%} of the time against {busy(k):.0%}): the difference is in the "
            "hand-off itself (how many atomic operations and wake-ups a round takes).")


def docs_link(results_dir):
    """docs/bench.md as seen from the folder the summary is written to."""
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "bench.md")
    return os.path.relpath(docs, os.path.abspath(results_dir or "."))


def summary(path, plots_dir, command):
    ctx, runs, reps = load(path)
    idx = index(runs)
    ncpus = ctx.get("num_cpus", 0)
    out = [f"# ksync contention benchmarks — {ctx.get('host_name', '?')}, "
           f"{ctx.get('date', '?')[:10]}\n\n",
           f"Produced by `{command}` (bench/Kbuild runs `ksync-bench` and then "
           "`bench/report.py`); raw figures in `bench.json` next to this file. How to read "
           f"them: [docs/bench.md]({docs_link(plots_dir)}). Every ratio is *how many times "
           "better ksync is* than the peer measured in the same run (> 1: ksync wins; ⚠: ksync loses by more than "
           f"{NOISE:.0%}, the noise band of this machine).\n\n",
           context_section(ctx, reps), "\n## Targets (core issue)\n\n",
           table(["figure", "compared", "target", "measured", "result"], target_rows(idx))]
    if ("lock", "uncontended") in idx:
        out.append("\n## Locks\n\n### Uncontended lock+unlock (one thread)\n\n")
        out.append(per_shim_table(idx, ("lock", "uncontended")))
    if ("lock", "contended") in idx:
        out.append("\n### Contended: fixed-time windows, 1–8 threads\n\n"
                   "Each thread loops lock → critical section (cs units writing protected "
                   "data) → unlock → work units, for the whole window.\n\n")
        out.append(lock_tables(idx, ("lock", "contended")))
    hand = [g for g in METRICS if g in idx and g[0] in HANDOFFS]
    if hand:
        out.append("\n## Hand-offs\n\n")
        out.append(simple_table(idx, hand))
    if ("rw", "read_mostly") in idx:
        out.append("\n## Read-mostly (Mops/s, all threads)\n\n")
        out.append(lock_tables(idx, ("rw", "read_mostly")))
    errors = [r for r in runs if r.error]
    if errors:
        out.append("\n## Failed runs\n\n" + "".join(
            f"- {r.family}/{r.bench}/{r.shim} {point_name(r.params)}: {r.error}\n"
            for r in errors))
    out.append("\n## Where ksync loses\n\n")
    notes = losses(idx, ncpus)
    out.append("\n".join(notes) + "\n" if notes else "Nowhere beyond the noise band.\n")
    if plots_dir:
        pngs = plots(idx, plots_dir)
        if pngs:
            out.append("\n## Plots\n\n" + "".join(f"![{p}]({p})\n\n" for p in pngs))
    return "".join(out)


# ---- plots -----------------------------------------------------------------------------------

def gnuplot(script):
    if not shutil.which("gnuplot"):
        return False
    return subprocess.run(["gnuplot"], input=script, text=True).returncode == 0


def terminal():
    ok = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"], capture_output=True)
    if ok.returncode == 0 and not ok.stderr:
        return "pngcairo noenhanced size 900,560 font ',10'"
    return "png noenhanced size 900,560"


def line_plot(path, title, xlabel, ylabel, series, logy):
    """series: {name: [(x, y)]}; x is a thread count (log2 axis)."""
    blocks, plots = [], []
    for i, (name, pts) in enumerate(series.items()):
        pts = sorted((x, y) for x, y in pts if y is not None and y > 0)
        if not pts:
            continue
        blocks.append(f"$d{i} << EOD\n" + "".join(f"{x} {y}\n" for x, y in pts) + "EOD\n")
        width = 3 if name.startswith("ks_") else 1.5	# ksync's lines stand out
        plots.append(f"$d{i} using 1:2 with linespoints lw {width} title '{name}'")
    if not plots:
        return False
    return gnuplot("".join(blocks) + f"""
set terminal {terminal()}
set output '{path}'
set title '{title}'
set xlabel '{xlabel}'
set ylabel '{ylabel}'
set logscale x 2
{'set logscale y' if logy else 'set yrange [0:1.05]'}
set key outside right
set grid
plot {', '.join(plots)}
""")


def bar_plot(path, title, ylabel, categories, series):
    """Clustered bars: one cluster per category, one bar per series; log y."""
    names = list(series)
    rows = "".join(f"\"{c}\" " + " ".join(
        str(series[n][i]) if series[n][i] else "NaN" for n in names) + "\n"
        for i, c in enumerate(categories))
    cols = ", ".join(f"$d using {j + 2}:xtic(1) title '{n}'" for j, n in enumerate(names))
    return gnuplot(f"$d << EOD\n{rows}EOD\n" + f"""
set terminal {terminal()}
set output '{path}'
set title '{title}'
set ylabel '{ylabel}'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key outside right
set grid ytics
plot {cols}
""")


def plots(idx, out_dir):
    made = []
    os.makedirs(out_dir, exist_ok=True)

    def add(name, ok):
        if ok:
            made.append(name)

    for group, metric, label in [(("lock", "contended"), "ops", "lock"),
                                 (("rw", "read_mostly"), "ops", "rw")]:
        points = idx.get(group, {})
        by_fixed = OrderedDict()
        for params, by in points.items():
            fixed = tuple(p for p in params if not p.startswith("threads:"))
            by_fixed.setdefault(fixed, []).append(by)
        for fixed, bys in by_fixed.items():
            tag = "-".join(p.replace(":", "") for p in fixed)
            shims, _ = shims_of(points)
            series = OrderedDict((s, []) for s in shims)
            fair = OrderedDict((s, []) for s in shims)
            for by in bys:
                for s, r in by.items():
                    series[s].append((r.threads, (r.value("ops_per_s") or 0) / 1e6))
                    fair[s].append((r.threads, r.value("jain")))
            name = f"{label}-throughput-{tag}.png"
            add(name, line_plot(os.path.join(out_dir, name), f"{label}: throughput, {tag}",
                                "threads", "Mops/s (log)", series, True))
            if label == "lock":
                name = f"lock-fairness-{tag}.png"
                add(name, line_plot(os.path.join(out_dir, name),
                                    f"lock: Jain fairness index, {tag}", "threads",
                                    "Jain index", fair, False))
                for by in bys:
                    r0 = next(iter(by.values()))
                    if r0.threads not in (2, 8):
                        continue
                    shims = list(by)
                    name = f"lock-latency-{tag}-t{r0.threads}.png"
                    add(name, bar_plot(os.path.join(out_dir, name),
                                       f"lock: acquire latency, {tag}, {r0.threads} threads",
                                       "ns (log)", shims, OrderedDict(
                                           (q, [by[s].value(k) for s in shims]) for q, k in
                                           [("p50", "p50_ns"), ("p99", "p99_ns"),
                                            ("p99.9", "p999_ns")])))
    points = idx.get(("barrier", "rounds"), {})
    if points:
        shims, _ = shims_of(points)
        series = OrderedDict((s, [(r.threads, r.value("ns_per_round"))
                                  for by in points.values() for s2, r in by.items() if s2 == s])
                             for s in shims)
        add("barrier-rounds.png", line_plot(os.path.join(out_dir, "barrier-rounds.png"),
                                            "barrier: time per episode", "threads",
                                            "ns (log)", series, True))
    cats, series = [], OrderedDict((o, []) for o in ("ksync", "glibc", "ck"))
    for group in [g for g in METRICS if g in idx and g[0] in HANDOFFS]:
        for params, by in idx[group].items():
            cats.append(f"{group[0]} {group[1]} " + point_name(params).replace("threads=", "t"))
            for o in series:
                vals = [r.value("ns_per_round") for r in by.values() if r.origin == o]
                series[o].append(min(vals) if vals else None)
    if cats:
        add("handoffs.png", bar_plot(os.path.join(out_dir, "handoffs.png"),
                                     "hand-offs: time per round (best of each origin)",
                                     "ns (log)", cats, series))
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    ap.add_argument("--command", default="make bench", help="the command, for the summary")
    ap.add_argument("--targets", action="store_true", help="print the targets table only")
    ap.add_argument("--quick-filter", action="store_true", help="print bench-quick's filter")
    ap.add_argument("--tap", action="store_true", help="TAP 13: every run ran without error")
    ap.add_argument("json", nargs="?")
    args = ap.parse_args()
    if args.quick_filter:
        print(quick_filter())
        return 0
    if not args.json:
        ap.error("a bench.json is needed")
    if args.tap:
        with open(args.json) as f:
            benches = json.load(f).get("benchmarks", [])
        print(f"TAP version 13\n1..{len(benches)}")
        for i, b in enumerate(benches, 1):
            ok = not b.get("error_occurred")
            print(f"{'ok' if ok else 'not ok'} {i} - {b['name']}" +
                  ("" if ok else f": {b.get('error_message')}"))
        return 0 if benches and all(not b.get("error_occurred") for b in benches) else 1
    if args.targets:
        ctx, runs, reps = load(args.json)
        rows = target_rows(index(runs))
        print(f"{ctx.get('host_name', '?')}: {ctx.get('cpu_model', '?')}, "
              f"{ctx.get('num_cpus', '?')} CPUs, {ctx.get('kernel', '?')}, "
              f"glibc {ctx.get('glibc', '?')}, load average at start "
              f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}\n")
        print(table(["figure", "compared", "target", "measured", "result"], rows))
        print(f"(medians of {reps} repetitions; ratio > 1: ksync better)")
        return 0
    sys.stdout.write(summary(args.json, args.plots, args.command))
    return 0


if __name__ == "__main__":
    sys.exit(main())

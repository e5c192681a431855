# SPDX-License-Identifier: MIT
"""summary.md: the context, the targets, every figure as a ratio, the losses, the plots."""
import os
from collections import OrderedDict

from . import fmt, losses, targets
from .runs import HANDOFFS, METRICS, cpu_per_op, fixed_params, index, load, ncpus, shims_of, \
    speedup

# The context rows: (key in the JSON context, name in the table).
CONTEXT = [
    ("machine", "machine (results folder)"), ("cpu_model", "CPU"),
    ("cpu_vendor", "vendor"), ("cpu_family_model_stepping", "family/model/stepping"),
    ("cpu_part", "CPU part"), ("hypervisor", "under a hypervisor"), ("num_cpus", "CPUs"),
    ("mhz_per_cpu", "MHz"), ("pause_ns", "cost of a pause (ns)"),
    ("atomic_ns", "cost of an uncontended compare-and-swap (ns)"), ("kernel", "kernel"),
    ("glibc", "glibc"), ("cc", "C compiler"), ("cxx", "C++ compiler"), ("ksync", "ksync"),
    ("libbenchmark-dev", "Google Benchmark"), ("libck-dev", "Concurrency Kit"),
    ("liburcu-dev", "liburcu"), ("libabsl-dev", "Abseil"), ("libtbb-dev", "oneTBB"),
    ("host_name", "host"), ("date", "date"), ("load_avg", "load average at start"),
    ("kb_window_s", "fixed-time window (s)"),
]

INTRO = (
    "Produced by `{command}` (bench/Kbuild runs `ksync-bench` and then `bench/report.py`); raw "
    "figures in `bench.json` next to this file. How to read them: [docs/bench.md]({docs}). "
    "Every ratio is *how many times better ksync is* than the peer measured in the same run "
    "(> 1: ksync wins; ⚠: ksync loses by more than {noise:.0%}, the noise band of a 2-CPU "
    "machine). CPU time is that of all the threads involved, per operation or per round: a "
    "figure bought by burning a core shows there.\n\n")

CONTENDED_INTRO = (
    "Each thread loops lock → critical section (cs units writing protected data) → unlock → "
    "work units, for the whole window; a unit is one turn of an empty loop, about a cycle. "
    "A ksync cell gives its ratio to its glibc counterpart.\n\n")


def context_section(ctx, reps):
    rows = [[name, fmt.load_avg(ctx) if key == "load_avg" else ctx[key]]
            for key, name in CONTEXT if key in ctx]
    rows.append(["repetitions (figures are medians)", reps])
    return fmt.table(["", ""], rows)


def targets_section(idx, cpus):
    return ("\n## Targets\n\n" +
            fmt.table(targets.TARGET_HEADER, targets.target_rows(idx, cpus)))


def ratio_to_baseline(group, run, by):
    base = by.get(run.baseline) if run and run.baseline else None
    return speedup(group, run, base) if base else None


def uncontended_section(idx):
    """One row per lock: both kinds of process, with CPU time and the ratio to glibc."""
    kinds = [("lock", "uncontended"), ("lock", "single_threaded")]
    points = {g: idx.get(g, {}).get((), {}) for g in kinds}
    if not any(points.values()):
        return ""
    shims, origin = shims_of({g: p for g, p in points.items()})
    rows = []
    for s in shims:
        row = [s, origin[s]]
        for g in kinds:
            r = points[g].get(s)
            row += [fmt.metric(g, r), fmt.ns(cpu_per_op(g, r)),
                    fmt.ratio(ratio_to_baseline(g, r, points[g])) if r and r.baseline else ""]
        rows.append(row)
    header = ["lock", "from", "process with threads", "CPU", "vs glibc",
              "single-threaded process", "CPU", "vs glibc"]
    return ("\n### Uncontended lock+unlock (one thread)\n\n"
            "In a process with threads, and in one that never had a thread (where glibc skips "
            "its atomic instructions).\n\n" + fmt.table(header, rows))


# The tables of a fixed-time window bench, one row per shim and one column per thread count:
# (title, cell function). Cells of ksync shims in the first table carry their ratio.
WINDOW_TABLES = [
    ("throughput (Mops/s, all threads)", None),
    ("fairness: Jain's index / poorest thread's share of the mean",
     lambda g, r: f"{fmt.num(r.value('jain'))} / {fmt.num(r.value('min_share'))}"),
    ("latency p50 / p99 / p99.9 ({latency})",
     lambda g, r: " / ".join(fmt.ns(r.value(k)) for k in ("p50_ns", "p99_ns", "p999_ns"))),
    ("CPU time per operation (all threads) / sleeps per 1000 operations",
     lambda g, r: f"{fmt.ns(r.value('cpu_ns_per_op'))} / {fmt.num(r.value('sleeps_per_kop'))}"),
]


def throughput_cell(group, run, by):
    text = fmt.metric(group, run)
    r = ratio_to_baseline(group, run, by)
    return f"{text} ({fmt.ratio(r)})" if r is not None else text


def window_tables(idx, group):
    points = idx.get(group)
    if not points:
        return ""
    shims, origin = shims_of(points)
    curves = OrderedDict()
    for params in points:
        curves.setdefault(fixed_params(params), []).append(params)
    latency = "acquire" if group[0] == "lock" else "whole operation"
    out = []
    for fixed, plist in curves.items():
        threads = [next(iter(points[p].values())).threads for p in plist]
        header = ["", "from"] + [f"{t} thr." for t in threads]
        for title, cell in WINDOW_TABLES:
            rows = []
            for s in shims:
                runs = [points[p].get(s) for p in plist]
                rows.append([s, origin[s]] + [
                    "—" if r is None or r.error else
                    throughput_cell(group, r, points[p]) if cell is None else cell(group, r)
                    for r, p in zip(runs, plist)])
            out.append(f"\n#### {fmt.point(fixed) or 'all points'}: "
                       f"{title.format(latency=latency)}\n\n" + fmt.table(header, rows))
    return "".join(out)


def handoff_section(idx):
    """One row per (point, shim): time per round, CPU per round, ratio to the baseline."""
    rows = []
    for group in [g for g in METRICS if g in idx and g[0] in HANDOFFS]:
        for params, by in idx[group].items():
            for s, r in by.items():
                ratio = ratio_to_baseline(group, r, by)
                rows.append([f"{group[0]}/{group[1]} {fmt.point(params)}", s, r.origin,
                             fmt.metric(group, r), fmt.ns(cpu_per_op(group, r)),
                             f"{fmt.ratio(ratio)} vs {r.baseline}" if ratio else ""])
    if not rows:
        return ""
    return ("\n## Hand-offs\n\nTime per round trip, barrier episode or item (see "
            "docs/bench.md), and the CPU time of all the threads per round.\n\n" +
            fmt.table(["point", "primitive", "from", "time", "CPU", "ksync vs glibc"], rows))


def failures_section(runs):
    errors = [r for r in runs if r.error]
    if not errors:
        return ""
    return "\n## Failed runs\n\n" + "".join(
        f"- {r.family}/{r.bench}/{r.shim} {fmt.point(r.params)}: {r.error}\n" for r in errors)


def losses_section(idx, cpus):
    notes = losses.notes(idx, cpus)
    return "\n## Where ksync loses\n\n" + ("\n".join(notes) + "\n" if notes else
                                          "Nowhere beyond the noise band.\n")


def plots_section(pngs):
    if not pngs:
        return ""
    return "\n## Plots\n\n" + "".join(f"![{title.replace(chr(10), ' — ')}]({name})\n\n"
                                      for name, title in pngs)


def docs_link(results_dir):
    """docs/bench.md as seen from the folder the summary is written to."""
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "bench.md")
    return os.path.relpath(docs, os.path.abspath(results_dir or "."))


def summary(path, plots_dir, command, make_plots):
    ctx, runs, reps = load(path)
    idx = index(runs)
    cpus = ncpus(ctx)
    out = [f"# ksync contention benchmarks — {ctx.get('machine', ctx.get('host_name', '?'))}, "
           f"{ctx.get('date', '?')[:10]}\n\n",
           INTRO.format(command=command, docs=docs_link(plots_dir), noise=fmt.NOISE),
           context_section(ctx, reps), targets_section(idx, cpus)]
    if ("lock", "uncontended") in idx or ("lock", "single_threaded") in idx:
        out.append("\n## Locks\n")
        out.append(uncontended_section(idx))
    if ("lock", "contended") in idx:
        most = max(r.threads for by in idx[("lock", "contended")].values() for r in by.values())
        out.append(f"\n### Contended: fixed-time windows, 1–{most} threads\n\n" +
                   CONTENDED_INTRO)
        out.append(window_tables(idx, ("lock", "contended")))
    out.append(handoff_section(idx))
    if ("rw", "read_mostly") in idx:
        out.append("\n## Read-mostly (fixed-time windows)\n")
        out.append(window_tables(idx, ("rw", "read_mostly")))
    out.append(failures_section(runs))
    out.append(losses_section(idx, cpus))
    if plots_dir:
        out.append(plots_section(make_plots(idx, ctx, plots_dir, reps)))
    return "".join(out)

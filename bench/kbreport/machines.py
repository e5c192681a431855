# SPDX-License-Identifier: MIT
"""Every machine under bench/results/: what it is, each figure's ratio there, and the range.

Each folder bench/results/<machine>/ holds one machine's committed run (bench.json). The page
this writes is what the README's performance section quotes: a ratio stated as a range over
every machine measured, and the machine of each run.
"""
import os

from . import fmt, targets
from .runs import index, load, ncpus

MACHINE_HEADER = ["folder", "CPU", "family/model/stepping", "CPUs", "hypervisor",
                  "pause", "compare-and-swap", "kernel", "glibc", "compiler", "ksync", "date",
                  "load at start"]

INTRO = (
    "# ksync on every machine measured\n\n"
    "Written by `python3 bench/report.py --machines {root}` (which `make bench` runs after each "
    "run) from the `bench.json` of every folder here: one folder per machine, named after its "
    "CPU. Each ratio is *how many times better ksync is*, measured side by side in one run on "
    "one machine; the range is the lowest and highest over the machines. ✓: the target is met "
    "there; ✗: it is not. How to read the figures: [docs/bench.md]({docs}).\n\n")


def runs_under(root):
    """[(folder, context, index)] for every folder of root that has a bench.json."""
    out = []
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder, "bench.json")
        if os.path.isfile(path):
            ctx, runs, _ = load(path)
            out.append((folder, ctx, index(runs)))
    return out


def machine_row(folder, ctx):
    g = ctx.get
    return [f"[{folder}]({folder}/summary.md)", g("cpu_model", "?"),
            g("cpu_family_model_stepping", "—"), g("num_cpus", "?"), g("hypervisor", "—"),
            f"{g('pause_ns')} ns" if g("pause_ns") else "—",
            f"{g('atomic_ns')} ns" if g("atomic_ns") else "—", g("kernel", "?"),
            g("glibc", "?"), g("cc", "?"), g("ksync", "?"), g("date", "?")[:10],
            fmt.load_avg(ctx)]


def cell(res):
    if res.ratio is None:
        return "—"
    mark = "" if res.fig.need is None else " ✓" if res.passed else " ✗"
    return fmt.times(res.ratio) + mark


def figure_row(fig, results):
    ratios = [r.ratio for r in results if r.ratio is not None]
    span = f"{fmt.times(min(ratios))} – {fmt.times(max(ratios))}" if ratios else "—"
    met = [r for r in results if r.ratio is not None and fig.need is not None]
    on = f"{sum(r.passed for r in met)} of {len(met)}" if met else ""
    return [fig.what.format(cpus="the machine's"), targets.compared(fig),
            targets.target_text(fig)] + \
        [cell(r) for r in results] + [span, on]


def machines_page(root, docs):
    found = runs_under(root)
    out = [INTRO.format(root=root, docs=docs), "## The machines\n\n",
           fmt.table(MACHINE_HEADER, [machine_row(f, ctx) for f, ctx, _ in found])]
    header = ["figure", "compared", "target"] + [f for f, _, _ in found] + \
        ["range", "target met on"]
    rows = []
    for fig in targets.FIGURES:
        results = [targets.Result(fig, idx, ncpus(ctx)) for _, ctx, idx in found]
        rows.append(figure_row(fig, results))
    out += ["\n## Figures\n\n", fmt.table(header, rows)]
    return "".join(out)

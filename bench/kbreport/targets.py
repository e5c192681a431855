# SPDX-License-Identifier: MIT
"""The targets, and the other figures the README quotes, as a table of data.

A figure compares one run of a ksync primitive (ours) with one run of a peer (theirs), measured
in the same run of ksync-bench, as "how many times better ours is" on ours' metric. A figure
with a `need` is a target: it passes when the ratio is at least `need` (and, where given, the
fairness of ours is at least `jain` and no thread had less than `min_share` of the mean).
The figures are the issue's targets on any 2-CPU machine: docs/bench.md says what each means.
"""
from collections import namedtuple

from . import fmt
from .runs import METRICS, cpu_per_op, speedup

# One side of a figure: the benchmark (family/bench), its parameters, the shim.
Side = namedtuple("Side", "bench params shim")
Figure = namedtuple("Figure", "what ours theirs need jain min_share")

LOCK_POINT = ("cs:20", "work:50")	# a short critical section, 50 units of work between
PAIR = ("threads:2",)


def figure(what, ours, theirs, need=None, jain=None, min_share=None):
    return Figure(what, Side(*ours), Side(*theirs), need, jain, min_share)


def lock_figure(what, threads, peer, need, **fairness):
    params = LOCK_POINT + (f"threads:{threads}",)
    return figure(what, ("lock/contended", params, "ks_mutex"),
                  ("lock/contended", params, peer), need, **fairness)


FIGURES = [
    figure("uncontended lock+unlock, single-threaded process",
           ("lock/single_threaded", (), "ks_mutex"),
           ("lock/single_threaded", (), "pthread_mutex"), 1.0),
    figure("uncontended lock+unlock, process with threads",
           ("lock/uncontended", (), "ks_mutex"), ("lock/uncontended", (), "pthread_mutex"), 1.0),
    lock_figure("mutex, 2 threads contended", 2, "pthread_mutex", 1.3),
    lock_figure("mutex, 2 threads contended, against Abseil", 2, "absl_mutex", 1.0),
    lock_figure("mutex, 2 threads contended, against TBB's queuing mutex", 2,
                "tbb_queuing_mutex", 1.0),
    lock_figure("mutex, 8 threads on {cpus} CPUs", 8, "pthread_mutex", 1.2, jain=0.9,
                min_share=0.1),
    figure("semaphore ping-pong round trip", ("sem/pingpong", PAIR, "ks_sem"),
           ("sem/pingpong", PAIR, "sem_t"), 10.0),
    figure("condition ping-pong round trip", ("cond/pingpong", PAIR, "ks_cond"),
           ("cond/pingpong", PAIR, "pthread_cond"), 10.0),
    figure("event set→wake, round trip", ("event/pingpong", PAIR, "ks_event"),
           ("event/pingpong", PAIR, "pthread_cond_event"), 10.0),
    figure("condition ping-pong within 2× of the semaphore's", ("cond/pingpong", PAIR, "ks_cond"),
           ("sem/pingpong", PAIR, "ks_sem"), 0.5),
    figure("barrier episode, 2 threads", ("barrier/rounds", PAIR, "ks_barrier"),
           ("barrier/rounds", PAIR, "pthread_barrier"), 4.0),
    figure("barrier episode, 4 threads", ("barrier/rounds", ("threads:4",), "ks_barrier"),
           ("barrier/rounds", ("threads:4",), "pthread_barrier"), 4.0),
    figure("rwlock read-mostly, 2 threads, 1% writes",
           ("rw/read_mostly", ("write_pct:1",) + PAIR, "ks_rwlock"),
           ("rw/read_mostly", ("write_pct:1",) + PAIR, "pthread_rwlock"), 1.5),
    figure("ring, 1 producer 1 consumer, against ck's MPMC ring",
           ("ring/transfer", PAIR, "ks_ring"), ("ring/transfer", PAIR, "ck_ring")),
    figure("ring, SPSC try calls, against ck's SPSC ring",
           ("ring/transfer", PAIR, "ks_ring_spsc_try"), ("ring/transfer", PAIR, "ck_ring_spsc")),
]
TARGETS = [f for f in FIGURES if f.need is not None]


def quick_filter():
    """The --benchmark_filter regex that runs every target's points and nothing else."""
    alts = set()
    for t in TARGETS:
        for side in (t.ours, t.theirs):
            fixed = "".join(p + "/" for p in side.params if not p.startswith("threads:"))
            threads = [p for p in side.params if p.startswith("threads:")]
            alts.add(f"{side.bench}/{side.shim}/{fixed}" +
                     (f".*{threads[0]}$" if threads else ""))
    return "^(" + "|".join(sorted(alts)) + ")"


class Result:
    """One figure evaluated on one run's index: the runs, the ratio, whether it passes."""

    def __init__(self, fig, idx, cpus):
        self.fig = fig
        self.what = fig.what.format(cpus=cpus or "?")
        self.ours, self.theirs = find(idx, fig.ours), find(idx, fig.theirs)
        self.group = tuple(fig.ours.bench.split("/"))
        self.ratio = None
        if self.ours and self.theirs:
            self.ratio = speedup(self.group, self.ours, self.theirs)

    @property
    def measured(self):
        return self.ours is not None and self.theirs is not None

    def fair(self):
        jain, share = (self.ours.value("jain"), self.ours.value("min_share"))
        return ((self.fig.jain is None or (jain or 0) >= self.fig.jain) and
                (self.fig.min_share is None or (share or 0) >= self.fig.min_share))

    @property
    def passed(self):
        return self.ratio is not None and self.ratio >= self.fig.need and self.fair()

    def target_text(self):
        return target_text(self.fig)

    def measured_text(self):
        unit = METRICS[self.group].unit.replace("time per", "per")
        text = (f"{fmt.times(self.ratio)} ({fmt.metric(self.group, self.ours)} vs "
                f"{fmt.metric(self.group, self.theirs)} {unit})")
        if self.fig.jain is not None or self.fig.min_share is not None:
            text += (f"; Jain {fmt.num(self.ours.value('jain'))}, "
                     f"min share {fmt.num(self.ours.value('min_share'))}")
        return text

    def cpu_text(self):
        a = cpu_per_op(self.group, self.ours)
        b = cpu_per_op(tuple(self.fig.theirs.bench.split("/")), self.theirs)
        return f"{fmt.ns(a)} vs {fmt.ns(b)}" if a is not None or b is not None else "—"

    def missing_text(self):
        missing = self.fig.ours.shim if self.ours is None else self.fig.theirs.shim
        return f"not measured (no {missing} result in this run)"


def target_text(fig):
    """"≥ ×1.20, Jain ≥ 0.9, min share ≥ 0.1", or "" for a figure without a target."""
    if fig.need is None:
        return ""
    text = f"≥ ×{fig.need:.2f}" + (" (no slower)" if fig.need == 1 else "")
    if fig.jain is not None:
        text += f", Jain ≥ {fig.jain}"
    if fig.min_share is not None:
        text += f", min share ≥ {fig.min_share}"
    return text


def find(idx, side):
    """The run of side in the index, or None."""
    return idx.get(tuple(side.bench.split("/")), {}).get(side.params, {}).get(side.shim)


def compared(fig):
    return f"{fig.ours.shim} vs {fig.theirs.shim}"


def target_rows(idx, cpus):
    """The targets table's rows: figure, compared, target, measured, CPU per op, result."""
    rows = []
    for fig in TARGETS:
        res = Result(fig, idx, cpus)
        if not res.measured:
            rows.append([res.what, compared(fig), res.target_text(), res.missing_text(), "—",
                         "—"])
            continue
        rows.append([res.what, compared(fig), res.target_text(), res.measured_text(),
                     res.cpu_text(), "PASS" if res.passed else "FAIL"])
    return rows


TARGET_HEADER = ["figure", "compared", "target", "measured", "CPU per op (ours vs theirs)",
                 "result"]

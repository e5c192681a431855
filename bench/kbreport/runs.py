# SPDX-License-Identifier: MIT
"""ksync-bench's Google Benchmark JSON as runs.

A benchmark's name is family/bench/shim/params... (bench/*.c); its label says where the shim
comes from, what its ratios are taken against and, for locks, how its waiters wait:
"ksync vs pthread_mutex, sleeps", "glibc, spins", "absl". Labels of older runs have no waits.
"""
import json
import re
import statistics
from collections import OrderedDict, namedtuple

# What each (family, bench) measures: the counter that decides, whether higher is better, its
# unit, and the counter of CPU time per operation beside it.
Metric = namedtuple("Metric", "key higher unit cpu_key")
METRICS = OrderedDict([
    (("lock", "single_threaded"), Metric("ns_per_op", False, "time per lock+unlock",
                                         "cpu_ns_per_op")),
    (("lock", "uncontended"), Metric("real_time", False, "time per lock+unlock",
                                     "cpu_ns_per_op")),
    (("lock", "contended"), Metric("ops_per_s", True, "Mops/s", "cpu_ns_per_op")),
    (("sem", "pingpong"), Metric("ns_per_round", False, "time per round trip",
                                 "cpu_ns_per_round")),
    (("cond", "pingpong"), Metric("ns_per_round", False, "time per round trip",
                                  "cpu_ns_per_round")),
    (("cond", "buffer"), Metric("ns_per_round", False, "time per item", "cpu_ns_per_round")),
    (("event", "pingpong"), Metric("ns_per_round", False, "time per round trip of two set→wake",
                                   "cpu_ns_per_round")),
    (("barrier", "rounds"), Metric("ns_per_round", False, "time per barrier episode",
                                   "cpu_ns_per_round")),
    (("ring", "transfer"), Metric("ns_per_round", False, "time per item", "cpu_ns_per_round")),
    (("rw", "read_mostly"), Metric("ops_per_s", True, "Mops/s", "cpu_ns_per_op")),
])

HANDOFFS = ("sem", "cond", "event", "barrier", "ring")
ORIGINS = ("ksync", "glibc", "ck", "urcu", "absl", "tbb", "libstdc++")

_SKIP_PARAM = re.compile(r"^(iterations|min_time|repeats):|^(real_time|process_time)$")
_TIME_SCALE = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}


class Run:
    """One benchmark point of one shim: the median of its repetitions (or its single run)."""

    def __init__(self, b, reps=()):
        parts = b["run_name"].split("/")
        self.family, self.bench, self.shim = parts[0], parts[1], parts[2]
        self.params = tuple(p for p in parts[3:] if not _SKIP_PARAM.match(p))
        self.threads = next((int(p.split(":")[1]) for p in self.params
                             if p.startswith("threads:")), 1)
        self.label = b.get("label", "")
        self.origin, self.baseline, self.waits = parse_label(self.label)
        self.error = b.get("error_message") if b.get("error_occurred") else None
        self.values = numbers(b)
        self.reps = [numbers(r) for r in reps] or [self.values]

    @property
    def group(self):
        return (self.family, self.bench)

    def value(self, key):
        return self.values.get(key)

    def spread(self, key):
        """The lowest and highest value of key over the repetitions."""
        vals = [r[key] for r in self.reps if r.get(key) is not None]
        return (min(vals), max(vals)) if vals else (None, None)


def parse_label(label):
    """(origin, baseline or None, waits or None) from "ksync vs pthread_mutex, sleeps"."""
    head, _, waits = label.partition(", ")
    origin, _, baseline = head.partition(" vs ")
    return origin or "?", baseline or None, waits or None


def numbers(b):
    """The numeric fields of one JSON entry, real_time in ns."""
    values = {k: v for k, v in b.items() if isinstance(v, (int, float))}
    values["real_time"] = b.get("real_time", 0) * _TIME_SCALE[b.get("time_unit", "ns")]
    return values


def load(path):
    """(context, runs, repetitions): medians when the file has aggregates, else single runs."""
    with open(path) as f:
        data = json.load(f)
    benches = data.get("benchmarks", [])
    iterations = OrderedDict()
    for b in benches:
        if b.get("run_type", "iteration") == "iteration" and "aggregate_name" not in b:
            iterations.setdefault(b["run_name"], []).append(b)
    medians = {b["run_name"]: b for b in benches if b.get("aggregate_name") == "median"}
    runs = []
    for name, reps in iterations.items():
        runs.append(Run(medians.get(name) or median_entry(reps), reps))
    reps = max([b.get("repetitions", 1) for b in benches] or [1])
    return data.get("context", {}), runs, reps


def median_entry(reps):
    """One entry whose numbers are the medians of the repetitions' (a run without aggregates,
    or one whose every repetition failed)."""
    entry = dict(reps[0])
    for key, value in reps[0].items():
        vals = [r.get(key) for r in reps if isinstance(r.get(key), (int, float))]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and vals:
            entry[key] = statistics.median(vals)
    if any(r.get("error_occurred") for r in reps):
        failed = next(r for r in reps if r.get("error_occurred"))
        entry["error_occurred"], entry["error_message"] = True, failed.get("error_message")
    return entry


def param_key(params):
    """Sorts points numerically: cs:20 < cs:200 < cs:2000, then threads:1 < threads:2 < ..."""
    fixed = [p for p in params if not p.startswith("threads:")]
    threads = [p for p in params if p.startswith("threads:")]
    return [(p.split(":")[0], float(p.split(":")[1]) if ":" in p else 0) for p in fixed + threads]


def origin_rank(origin):
    return ORIGINS.index(origin) if origin in ORIGINS else len(ORIGINS)


def index(runs):
    """{(family, bench): {params: {shim: Run}}}: groups in METRICS order, points sorted by their
    parameters, shims ksync first, then by origin and name — whatever order the runs came in
    (random interleaving shuffles the file)."""
    groups = list(METRICS)

    def order(r):
        return (groups.index(r.group) if r.group in groups else len(groups),
                param_key(r.params), origin_rank(r.origin), r.shim)
    out = OrderedDict()
    for r in sorted(runs, key=order):
        out.setdefault(r.group, OrderedDict()).setdefault(r.params, OrderedDict())[r.shim] = r
    return out


def shims_of(points):
    """All shims of a group's points in index() order (ksync first), and their runs' origins."""
    origin = OrderedDict()
    for by_shim in points.values():
        for shim, run in by_shim.items():
            origin.setdefault(shim, run.origin)
    return sorted(origin, key=lambda s: (origin_rank(origin[s]), s)), origin


def fixed_params(params):
    """A point's parameters without its thread count: the curve it belongs to."""
    return tuple(p for p in params if not p.startswith("threads:"))


def speedup(group, ours, theirs):
    """How many times better ours is than theirs on the group's metric (None if unknown)."""
    metric = METRICS[group]
    a, b = ours.value(metric.key), theirs.value(metric.key)
    if not a or not b or ours.error or theirs.error:
        return None
    return a / b if metric.higher else b / a


def cpu_per_op(group, run):
    """The CPU time one operation (or round) cost, all threads together, or None."""
    return run.value(METRICS[group].cpu_key) if run and not run.error else None


def ncpus(ctx):
    return int(ctx.get("online_cpus") or ctx.get("num_cpus") or 0)

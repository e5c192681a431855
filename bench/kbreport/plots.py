# SPDX-License-Identifier: MIT
"""The PNG figures of a run, drawn by gnuplot; plots() returns [(file, title)].

Every figure says in its title what is measured, in words, and which way is better; shows the
median of the repetitions with bars from the lowest to the highest; and, on a thread axis,
shades the counts where threads outnumber CPUs. Lock figures split the locks into two panels by
how their waiters wait (sleeping, or spinning/yielding), so that no panel has more than about
nine series; within a panel series differ by colour, marker and line (gnuplot.styles()) and are
shifted sideways a little, so that equal figures stay visible side by side.
"""
import math
import os
from collections import OrderedDict

from . import fmt
from . import gnuplot as gp
from .runs import HANDOFFS, METRICS, fixed_params, ncpus, origin_rank, shims_of

CS_WORDS = {"20": "a short critical section (20 units)",
            "200": "a medium critical section (200 units)",
            "2000": "a long critical section (2000 units)"}
HANDOFF_WORDS = {
    ("sem", "pingpong"): "semaphore ping-pong, per round trip",
    ("cond", "pingpong"): "condition ping-pong, per round trip",
    ("cond", "buffer"): "condition-variable buffer, per item",
    ("event", "pingpong"): "event ping-pong, per round trip",
    ("barrier", "rounds"): "barrier, per episode",
    ("ring", "transfer"): "bounded queue, per item",
}
# Lock panels by how waiters wait; labels of older runs say nothing (None): one panel.
WAIT_PANELS = [("locks whose waiters sleep", ("sleeps",)),
               ("locks whose waiters spin, or spin then yield", ("spins", "yields")),
               ("locks", (None,))]
ORIGIN_COLOURS = {"ksync": "#0072B2", "glibc": "#D55E00", "ck": "#009E73", "absl": "#CC79A7",
                  "tbb": "#E69F00", "urcu": "#8C564B", "libstdc++": "#555555"}
PERCENTILES = [("p50 (median)", "p50_ns", 7, "#0072B2"), ("p99", "p99_ns", 5, "#E69F00"),
               ("p99.9", "p999_ns", 9, "#D55E00")]
DODGE = 0.02	# octaves between two series' markers at the same thread count
SPREAD = "median of {reps} runs; bars from the lowest to the highest"


def mops(v):
    return f"{v:g}"


def curve_words(fixed):
    """"a short critical section (20 units), 50 units of work between" from (cs:20, work:50)."""
    p = dict(x.split(":") for x in fixed)
    words = []
    if "cs" in p:
        words.append(CS_WORDS.get(p["cs"], f"a critical section of {p['cs']} units"))
    if "work" in p:
        words.append(f"{p['work']} units of work between")
    if "write_pct" in p:
        words.append(f"{p['write_pct']}% writes")
    return ", ".join(words)


def series_points(runs, key, scale=1.0):
    """[(threads, median, lowest, highest)] of a shim's runs, key scaled."""
    pts = []
    for r in runs:
        v = r.value(key)
        if r.error or v is None or v <= 0:
            continue
        lo, hi = r.spread(key)
        pts.append((r.threads, v * scale, lo * scale, hi * scale))
    return sorted(pts)


def thread_chart(path, title, panels, ylabel, yaxis, cpus, height=None):
    """One PNG: panels stacked, each [(name, origin, [(threads, y, lo, hi)])], against a log2
    thread axis. yaxis: the axis lines (log_axis() or a linear range)."""
    panels = [(t, s) for t, s in panels if any(pts for _, _, pts in s)]
    if not panels:
        return False
    xs = sorted({p[0] for _, s in panels for _, _, pts in s for p in pts})
    script = [gp.terminal(path, gp.WIDTH, height or 330 + 300 * len(panels)),
              f"set multiplot layout {len(panels)},1 title {gp.string(title)} font ',12'\n",
              "set logscale x 2\n", gp.tics("x", xs, lambda v: f"{v:g}"),
              f"set xrange [{xs[0] / 1.3:g}:{xs[-1] * 1.3:g}]\n", "set xlabel 'threads'\n",
              f"set ylabel {gp.string(ylabel)}\n", yaxis, "set grid xtics ytics mytics\n",
              "set lmargin at screen 0.09\nset rmargin at screen 0.72\n",
              "set key outside right top vertical Left reverse spacing 1.3 samplen 3\n",
              gp.oversubscribed(cpus, xs[-1])]
    for n, (panel_title, series) in enumerate(panels):
        style = gp.styles([(name, origin) for name, origin, _ in series])
        plots = []
        for i, (name, origin, pts) in enumerate(series):
            if not pts:
                continue
            shift = 2 ** ((i - (len(series) - 1) / 2) * DODGE)
            script.append(gp.block(f"d{n}_{i}", [(x * shift, y, lo, hi) for x, y, lo, hi in pts]))
            plots.append(f"$d{n}_{i} using 1:2:3:4 with yerrorlines {style[name]} "
                         f"title '{name}'")
        script.append(f"set title {gp.string(panel_title)} font ',11'\n")
        script.append("plot " + ", ".join(plots) + "\n")
    script.append("unset multiplot\n")
    return gp.run("".join(script))


def lock_panels(points, shims, origin, key, scale=1.0):
    """The wait panels of one curve: [(title, [(shim, origin, points)])]."""
    waits = {}
    for by in points:
        for s, r in by.items():
            waits.setdefault(s, r.waits)
    panels = []
    for title, kinds in WAIT_PANELS:
        members = [s for s in shims if waits.get(s) in kinds]
        panels.append((title, [(s, origin[s], series_points(
            [by[s] for by in points if s in by], key, scale)) for s in members]))
    return [(t, s) for t, s in panels if s]


def curves(points):
    """{fixed params: [the {shim: run} of each thread count]}."""
    out = OrderedDict()
    for params, by in points.items():
        out.setdefault(fixed_params(params), []).append(by)
    return out


def lock_figures(idx, ctx, out_dir, reps):
    points = idx.get(("lock", "contended"), {})
    if not points:
        return []
    shims, origin = shims_of(points)
    made = []
    for fixed, bys in curves(points).items():
        tag = "-".join(p.replace(":", "") for p in fixed if not p.startswith("work"))
        words = curve_words(fixed)
        panels = lock_panels(bys, shims, origin, "ops_per_s", 1e-6)
        values = [v for _, s in panels for _, _, pts in s for p in pts for v in p[1:]]
        title = (f"Lock throughput as threads are added (higher is better)\n{words}; "
                 f"{SPREAD.format(reps=reps)}")
        name = f"lock-throughput-{tag}.png"
        if thread_chart(os.path.join(out_dir, name), title, panels,
                        "lock+unlock pairs per second, millions (all threads)",
                        gp.log_axis("y", values, mops, most=16), ncpus(ctx)):
            made.append((name, title))
        title = (f"Lock fairness: Jain's index of the threads' shares (1: an even split; "
                 f"1/threads: one thread did everything)\n{words}; {SPREAD.format(reps=reps)}")
        name = f"lock-fairness-{tag}.png"
        fair = lock_panels(bys, shims, origin, "jain")
        yaxis = ("set yrange [0:1.05]\nset ytics 0, 0.1, 1\nset mytics 1\n"
                 "set arrow 2 from graph 0, first 0.9 to graph 1, first 0.9 nohead dt 3 lw 1.5 "
                 "lc rgb '#555555'\nset label 2 'target 0.9' at graph 0.01, first 0.92 "
                 "font ',9'\n")
        if thread_chart(os.path.join(out_dir, name), title, fair, "Jain's fairness index",
                        yaxis, ncpus(ctx)):
            made.append((name, title))
        made += latency_figure(out_dir, tag, words, bys, shims, origin)
    return made


def latency_figure(out_dir, tag, words, bys, shims, origin):
    """Acquire latency percentiles, one row per lock; a panel at 2 threads and one at the most
    threads, stacked."""
    by_threads = {next(iter(by.values())).threads: by for by in bys}
    counts = sorted({t for t in (2, max(by_threads)) if t in by_threads})
    if not counts:
        return []
    rows = [s for s in shims if any(s in by_threads[t] for t in counts)]
    values = [by_threads[t][s].value(k) for t in counts for s in rows if s in by_threads[t]
              for _, k, _, _ in PERCENTILES]
    name = f"lock-latency-{tag}.png"
    title = ("Lock acquire latency: the time from calling lock to holding it (lower is better)"
             f"\n{words}; median, 99th and 99.9th percentile of the samples")
    script = [gp.terminal(os.path.join(out_dir, name), gp.WIDTH,
                          120 + len(counts) * (70 + 26 * len(rows))),
              f"set multiplot layout {len(counts)},1 title {gp.string(title)} font ',11'\n",
              gp.log_axis("x", values, fmt.ns), "set xtics font ',9'\nset grid xtics mxtics\n",
              f"set yrange [{len(rows) - 0.5}:-0.5]\n",
              gp.tics("y", range(len(rows)), lambda i: f"{rows[int(i)]} ({origin[rows[int(i)]]})"),
              "set lmargin at screen 0.25\nset rmargin at screen 0.97\n"
              "set key outside top right horizontal\n"]
    for n, t in enumerate(counts):
        by = by_threads[t]
        data = [(i,) + tuple(by[s].value(k) if s in by and not by[s].error else None
                             for _, k, _, _ in PERCENTILES) for i, s in enumerate(rows)]
        script.append(gp.block(f"lat{n}", data))
        if n == len(counts) - 1:
            script.append("set xlabel 'acquire latency (nothing is below about 10 ns: the cost "
                          "of the two clock reads)' font ',9'\n")
        script.append(f"set title '{t} threads' font ',11'\n" + ("unset key\n" if n else ""))
        script.append(f"plot $lat{n} using 2:1:($4-$2):(0) with vectors nohead lw 1.5 "
                      "lc rgb '#aaaaaa' notitle, " + ", ".join(
                          f"$lat{n} using {j + 2}:1 with points pt {pt} ps 1.4 lc rgb '{c}' "
                          f"title '{label}'" for j, (label, _, pt, c) in enumerate(PERCENTILES))
                      + "\n")
    script.append("unset multiplot\n")
    return [(name, title)] if gp.run("".join(script)) else []


def rw_figures(idx, ctx, out_dir, reps):
    points = idx.get(("rw", "read_mostly"), {})
    made = []
    shims, origin = shims_of(points)
    for fixed, bys in curves(points).items():
        tag = "-".join(p.replace(":", "").replace("write_pct", "writes") + "pct" for p in fixed)
        series = [(s, origin[s], series_points([by[s] for by in bys if s in by], "ops_per_s",
                                               1e-6)) for s in shims]
        values = [v for _, _, pts in series for p in pts for v in p[1:]]
        title = ("Read-mostly locks: operations per second as threads are added (higher is "
                 f"better)\n{curve_words(fixed)}, reads otherwise; {SPREAD.format(reps=reps)}")
        name = f"rw-throughput-{tag}.png"
        if thread_chart(os.path.join(out_dir, name), title, [("", series)],
                        "operations per second, millions (all threads)",
                        gp.log_axis("y", values, mops, most=16), ncpus(ctx), height=640):
            made.append((name, title))
    return made


def barrier_figure(idx, ctx, out_dir, reps):
    points = idx.get(("barrier", "rounds"), {})
    if not points:
        return []
    shims, origin = shims_of(points)
    series = [(s, origin[s], series_points([by[s] for by in points.values() if s in by],
                                           "ns_per_round")) for s in shims]
    values = [v for _, _, pts in series for p in pts for v in p[1:]]
    title = ("Barrier: time for all the threads to pass one barrier (lower is better)\n"
             f"{SPREAD.format(reps=reps)}")
    name = "barrier-rounds.png"
    ok = thread_chart(os.path.join(out_dir, name), title, [("", series)], "time per episode",
                      gp.log_axis("y", values, fmt.ns, most=16), ncpus(ctx), height=600)
    return [(name, title)] if ok else []


def handoff_figure(idx, ctx, out_dir, reps):
    """Every hand-off point: a heading row, then one row per primitive, coloured by origin."""
    rows = []	# (shim, origin, median, lowest, highest), or (heading,) for a point
    for group in [g for g in METRICS if g in idx and g[0] in HANDOFFS and g[0] != "barrier"]:
        for params, by in idx[group].items():
            threads = next(iter(by.values())).threads
            rows.append((HANDOFF_WORDS.get(group, "/".join(group)) + f" ({threads} threads)",))
            for s, r in sorted(by.items(), key=lambda sr: (origin_rank(sr[1].origin), sr[0])):
                v = r.value("ns_per_round")
                if v and not r.error:
                    rows.append((s, r.origin, v) + r.spread("ns_per_round"))
    if not rows:
        return []
    name = "handoffs.png"
    title = ("Hand-offs between threads: time per round trip or item (lower is better)\n"
             f"{SPREAD.format(reps=reps)}")
    values = [v for r in rows for v in r[2:]]
    script = [gp.terminal(os.path.join(out_dir, name), gp.WIDTH, 150 + 22 * len(rows)),
              f"set title {gp.string(title)} font ',11'\n",
              gp.log_axis("x", values, fmt.ns, most=11), "set grid xtics mxtics\n",
              f"set yrange [{len(rows) - 0.5}:-0.5]\n",
              "set ytics (" + ", ".join(f"{gp.string(r[0])} {i}" for i, r in enumerate(rows)
                                        if len(r) > 1) + ") font ',9'\n",
              "set lmargin at screen 0.36\nset rmargin at screen 0.97\n"
              "set key outside bottom center horizontal\n"]
    for i, r in enumerate(rows):
        if len(r) == 1:
            script.append(f"set label {gp.string(r[0])} at graph 0, first {i} right "
                          "offset -1, 0 font 'DejaVu Sans Bold,9'\n"
                          f"set arrow from graph 0, first {i} to graph 1, first {i} nohead "
                          "lc rgb '#cccccc'\n")
    plots = []
    for o, colour in ORIGIN_COLOURS.items():
        data = [(i, r[2], r[3], r[4]) for i, r in enumerate(rows) if len(r) > 1 and r[1] == o]
        if data:
            script.append(gp.block(f"o{len(plots)}", data))
            plots.append(f"$o{len(plots)} using 2:1:3:4 with xerrorbars pt 7 ps 1.3 "
                         f"lc rgb '{colour}' title '{o}'")
    script.append("plot " + ", ".join(plots) + "\n")
    return [(name, title)] if gp.run("".join(script)) else []


def plots(idx, ctx, out_dir, reps=1):
    if not gp.available():
        return []
    os.makedirs(out_dir, exist_ok=True)
    return (lock_figures(idx, ctx, out_dir, reps) + rw_figures(idx, ctx, out_dir, reps) +
            barrier_figure(idx, ctx, out_dir, reps) + handoff_figure(idx, ctx, out_dir, reps))

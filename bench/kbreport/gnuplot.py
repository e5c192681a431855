# SPDX-License-Identifier: MIT
"""What every plot shares: running gnuplot, the series' styles, 1-2-5 ticks, data blocks.

Styles: each series of a panel gets its own colour (PALETTE, in order) and its own marker
shape; its origin gives the line (ksync solid and thicker with filled markers, each peer
library its own dash pattern with open markers), so that a series is told apart by three
things and a library's series look alike across plots.
"""
import math
import shutil
import subprocess

# Colours that stay apart on white and for the common colour-vision deficiencies (Okabe-Ito,
# less its yellow, plus four darker ones).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#8C564B", "#7F7F7F", "#6A3D9A", "#B15928"]
FILLED_MARKERS = [7, 5, 9, 11, 13, 15]	# circle, square, triangles up and down, diamond, pentagon
OPEN_MARKERS = [6, 4, 8, 10, 12, 14]
# origin: (dash type, line width, filled markers)
ORIGIN_LINES = {"ksync": (1, 2.5, True), "glibc": (2, 1.5, False), "ck": (3, 1.5, False),
                "absl": (4, 1.5, False), "tbb": (5, 1.5, False), "urcu": (4, 1.5, False),
                "libstdc++": (5, 1.5, False)}
OTHER_LINE = (2, 1.5, False)
BACKGROUND_MARK = "#ececec"	# the oversubscribed region

WIDTH, HEIGHT = 1000, 620
CLEARANCE = 1.15	# a log axis ends at least this factor beyond the data


def available():
    return shutil.which("gnuplot") is not None


def run(script):
    """Runs one gnuplot script; True if it succeeded."""
    return subprocess.run(["gnuplot"], input=script, text=True).returncode == 0


def terminal(path, width=WIDTH, height=HEIGHT):
    ok = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"], capture_output=True)
    term = (f"pngcairo noenhanced size {width},{height} font 'DejaVu Sans,10'"
            if ok.returncode == 0 and not ok.stderr else
            f"png noenhanced size {width},{height}")
    return f"set encoding utf8\nset terminal {term}\nset output '{path}'\n"


def styles(series):
    """{name: gnuplot style} for [(name, origin)]: colour and marker by position, line by
    origin."""
    out = {}
    for i, (name, origin) in enumerate(series):
        dt, lw, filled = ORIGIN_LINES.get(origin, OTHER_LINE)
        markers = FILLED_MARKERS if filled else OPEN_MARKERS
        out[name] = (f"lc rgb '{PALETTE[i % len(PALETTE)]}' dt {dt} lw {lw} "
                     f"pt {markers[i % len(markers)]} ps 1.3")
    return out


def log_ticks(lo, hi, most=12):
    """Values that frame [lo, hi] on a log axis, labelled between powers of ten: 1, 2, 5 × 10^k,
    or 1, 3 × 10^k where that would make more than `most` labels (then powers of ten alone),
    from the one below lo to the one above hi — strictly, so that no point sits on the frame."""
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        steps = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1,
                                              math.ceil(math.log10(hi)) + 2) for m in mantissas]
        below = max([v for v in steps if v < lo / CLEARANCE] or [steps[0]])
        above = min([v for v in steps if v > hi * CLEARANCE] or [steps[-1]])
        ticks = [v for v in steps if below / 1.0001 <= v <= above * 1.0001]
        if len(ticks) <= most:
            break
    return ticks


def tics(axis, values, label):
    """set <axis>tics ("label" value, ...)."""
    return f"set {axis}tics (" + ", ".join(f"'{label(v)}' {v:g}" for v in values) + ")\n"


def log_axis(axis, values, label, most=12):
    """A log axis framing values, labelled between powers of ten (log_ticks())."""
    values = [v for v in values if v and v > 0]
    if not values:
        return ""
    t = log_ticks(min(values), max(values), most)
    return (f"set logscale {axis}\nset {axis}range [{t[0]:g}:{t[-1]:g}]\n" +
            tics(axis, t, label) + f"set m{axis}tics 10\n")


def block(name, rows):
    """A data block: rows of numbers (None as NaN)."""
    body = "".join(" ".join("NaN" if v is None else f"{v:g}" for v in row) + "\n"
                   for row in rows)
    return f"${name} << EOD\n{body}EOD\n"


def oversubscribed(cpus, xmax):
    """The region where threads outnumber CPUs, shaded and labelled, on a log2 thread axis."""
    if not cpus or xmax <= cpus:
        return ""
    start = cpus * math.sqrt(2)	# halfway (on the log axis) to the next thread count
    return (f"set object 1 rect from first {start:g}, graph 0 to graph 1, graph 1 "
            f"fc rgb '{BACKGROUND_MARK}' fs solid noborder behind\n"
            f"set label 1 'more threads than CPUs ({cpus})' at first {start * 1.04:g}, "
            "graph 0.97 left font ',9' tc rgb '#555555'\n")


def string(text):
    """text as a gnuplot string: double-quoted, so that a newline starts a second line."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


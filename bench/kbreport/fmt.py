# SPDX-License-Identifier: MIT
"""Numbers, durations, ratios and Markdown tables as text."""
from .runs import METRICS

# A ksync figure within this fraction of a peer's is a tie: two CPUs shared with a desktop's
# worth of daemons do not resolve finer differences between runs.
NOISE = 0.05


def num(x, digits=3):
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def ns(x):
    """A duration in the unit that keeps it short: 812 ns, 27.6 µs, 55.3 ms."""
    if x is None:
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g} ns"


def metric(group, run):
    """A run's deciding figure in its unit: "24.5" (Mops/s) or "4.36 ns"."""
    if run is None:
        return "—"
    if run.error:
        return "FAILED"
    m = METRICS[group]
    v = run.value(m.key)
    return num(v / 1e6) if m.unit == "Mops/s" else ns(v)


def times(r):
    """×2.38, or ×0.0041: two significant digits below 0.1, so that a collapse is not ×0.00."""
    if r is None:
        return "—"
    return f"×{r:.2f}" if r >= 0.1 else f"×{r:.2g}"


def ratio(r):
    """times(r), marked ⚠ when ksync loses beyond the noise band."""
    return times(r) + ("" if r is None or r >= 1 - NOISE else " ⚠")


def point(params):
    return " ".join(p.replace(":", "=") for p in params)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def load_avg(ctx):
    return ", ".join(f"{x:.2f}" for x in ctx.get("load_avg", [])) or "?"

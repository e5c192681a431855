# SPDX-License-Identifier: MIT
"""Where a ksync primitive is worse than a peer by more than the noise band, and why.

One note per (ksync shim, peer, bench): the points where it loses, and at the worst of them the
explanations of reasons.py whose situation the counters show.
"""
from collections import OrderedDict

from . import fmt
from .reasons import REASONS
from .runs import HANDOFFS, speedup

# A peer whose CPU time per operation is this many times ours "paid for it in CPU".
CPU_BURN = 1.2
# Jain indices further apart than this make one lock fairer than the other.
JAIN_GAP = 0.05
# A hand-off whose threads were on a CPU this share of the time waits by spinning.
BUSY_SPINNING = 0.8
BUSY_GAP = 0.1


def spinners(idx, cpus):
    """Shims whose waiters never sleep: the label says so (spins, yields), or, in runs from
    before labels did, they never slept even with more threads than CPUs."""
    said, slept, seen = set(), set(), set()
    for points in idx.values():
        for by in points.values():
            for s, r in by.items():
                if r.waits in ("spins", "yields"):
                    said.add(s)
                if r.waits is None and r.threads > cpus and \
                        r.value("sleeps_per_kop") is not None:
                    seen.add(s)
                    if r.value("sleeps_per_kop") > 0:
                        slept.add(s)
    return said | (seen - slept)


def find(idx):
    """{(ours, peer, group): [(ratio, params, ours_run, peer_run)]} for every loss."""
    pairs = OrderedDict()
    for group, points in idx.items():
        for params, by in points.items():
            for ours in by.values():
                if ours.origin != "ksync":
                    continue
                for peer in by.values():
                    r = speedup(group, ours, peer) if peer.origin != "ksync" else None
                    if r is not None and r < 1 - fmt.NOISE:
                        pairs.setdefault((ours.shim, peer.shim, group), []).append(
                            (r, params, ours, peer))
    return pairs


def notes(idx, cpus):
    """The "Where ksync loses" list, one Markdown item per pair."""
    spin = spinners(idx, cpus)
    out = []
    for (ours, peer, group), lost in find(idx).items():
        _, _, k, p = min(lost, key=lambda x: x[0])
        where = ", ".join(" ".join(filter(None, (fmt.point(pp), fmt.times(rr))))
                          for rr, pp, _, _ in lost)
        out.append(f"- **{ours} vs {peer}** ({group[0]}/{group[1]}): {where}. "
                   f"At the worst point: {explain(group, k, p, cpus, spin)}")
    return out


def explain(group, ours, peer, cpus, spin):
    keys = situations(group, ours, peer, cpus, spin)
    fields = counters(ours, peer, cpus)
    text = "; ".join(REASONS[k].format(**fields) for k in keys)
    return text if text.endswith(".") else text + "."


def situations(group, ours, peer, cpus, spin):
    """The keys of REASONS that the counters at this point show."""
    if group[0] == "lock" and group[1] != "contended":
        return ["uncontended_spinlock" if peer.shim in spin and ours.shim not in spin
                else "uncontended"]
    if group[0] in HANDOFFS:
        return ["handoff_peer_spins" if busy(peer) > BUSY_SPINNING and
                busy(ours) < busy(peer) - BUSY_GAP else "handoff_same_cpu"]
    if ours.threads == 1:
        return ["one_thread"]
    return contended_situations(ours, peer, cpus, spin) or ["no_difference"]


def contended_situations(ours, peer, cpus, spin):
    v = value
    keys = []
    if ours.shim in spin and ours.threads > cpus:
        keys.append("ours_spins_oversubscribed")
    elif peer.shim in spin and v(ours, "sleeps_per_kop") > 0:
        keys.append("peer_spins")
    if v(peer, "cpu_ns_per_op") > CPU_BURN * v(ours, "cpu_ns_per_op"):
        keys.append("peer_burns_cpu")
    if v(ours, "jain") > v(peer, "jain") + JAIN_GAP:
        keys.append("peer_less_fair")
    elif v(peer, "jain") > v(ours, "jain") + JAIN_GAP:
        keys.append("peer_fairer")
    return keys


def value(run, key):
    return run.value(key) or 0


def busy(run):
    """The share of the time a hand-off's threads were on a CPU (CPU time / wall time)."""
    return value(run, "cpu_ns_per_round") / max(value(run, "ns_per_round") * run.threads, 1)


def counters(ours, peer, cpus):
    v = value
    return {
        "ours": ours.shim, "peer": peer.shim, "threads": ours.threads, "cpus": cpus,
        "ours_cpu": fmt.ns(v(ours, "cpu_ns_per_op")), "peer_cpu": fmt.ns(v(peer, "cpu_ns_per_op")),
        "ours_p999": fmt.ns(v(ours, "p999_ns")), "ours_sleeps": fmt.num(v(ours, "sleeps_per_kop")),
        "ours_jain": fmt.num(v(ours, "jain")), "peer_jain": fmt.num(v(peer, "jain")),
        "ours_busy": f"{busy(ours):.0%}", "peer_busy": f"{busy(peer):.0%}",
    }

# SPDX-License-Identifier: MIT
"""Why ksync loses where it loses: the explanations, as data.

losses.py picks the situations that apply at the worst point of a loss (from the counters
measured there) and joins their sentences; the fields come from those counters:
{ours} {peer}: the two shims; {threads}, {cpus}; {ours_cpu} {peer_cpu}: CPU time per operation;
{ours_p999}: ours' p99.9 latency; {ours_sleeps}: ours' sleeps per 1000 operations; {ours_jain}
{peer_jain}: fairness; {ours_busy} {peer_busy}: the share of the time a hand-off's threads were
on a CPU.
"""

REASONS = {
    # one thread, lock+unlock in a loop
    "uncontended_spinlock":
        "{peer} is a spinlock: it releases with a plain store, having no sleepers to wake, "
        "while {ours} must swap its word on release to learn whether a sleeper needs a futex "
        "wake — one more atomic read-modify-write per lock+unlock.",
    "uncontended":
        "one thread, no contention: the gap is in the fast path's atomic operations and "
        "instructions (see the primitive's header) or code alignment, not waiting.",
    # contended locks and read-mostly locks
    "one_thread":
        "one thread, so nobody waits: the gap is the fast path itself — the atomic operations "
        "and instructions of one acquire and release (compare the uncontended table), plus the "
        "critical section's code, which is the same for every primitive.",
    "ours_spins_oversubscribed":
        "{ours} spins and never sleeps; with {threads} threads on {cpus} CPUs the thread it "
        "must hand over to is often preempted, and everyone behind it spins until the scheduler "
        "runs it again ({ours_cpu} of CPU per operation, p99.9 acquire {ours_p999})",
    "peer_spins":
        "{peer} never sleeps: with {threads} thread(s) on {cpus} CPUs its waiters keep their "
        "CPUs and a hand-off is a cache-line transfer, while {ours} slept {ours_sleeps} times "
        "per 1000 operations and each sleep costs a futex wait and wake",
    "peer_burns_cpu":
        "the peer paid for it in CPU: {peer_cpu} per operation against {ours_cpu}",
    "peer_less_fair":
        "{peer} is less fair (Jain {peer_jain} against {ours_jain}): a lock that lets a thread "
        "re-take it while its cache is hot wins throughput by making the others wait",
    "peer_fairer":
        "{peer} is also fairer (Jain {peer_jain} against {ours_jain})",
    "no_difference":
        "the counters show no structural difference (similar CPU per operation, sleeps and "
        "fairness); before reading anything into it, rerun the point with "
        "--benchmark_repetitions=10",
    # hand-offs
    "handoff_peer_spins":
        "{peer}'s threads wait by spinning: they were on a CPU {peer_busy} of the time against "
        "{ours_busy} for {ours}'s. With a CPU per thread a spinning waiter sees the hand-off at "
        "once; a sleeping one pays a futex wake, but leaves its CPU to others.",
    "handoff_same_cpu":
        "{peer} takes less time per round with a similar CPU use (its threads on a CPU "
        "{peer_busy} of the time against {ours_busy}): the difference is in the hand-off "
        "itself (how many atomic operations and wake-ups a round takes).",
}

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make check-python: CPython's own threading tests, without and with ksync-run.

Debian's python3.11 implements threading.Lock on sem_t and the GIL on a pthread mutex and
condition, so its test suite drives every path of the interposer that matters to it. The same
selection runs twice (glibc, then ksync), each case's outcome is read from regrtest's JUnit XML,
and the two lists must be equal: a case that passes under glibc and fails under ksync is a bug
of ours, and so is the reverse (a test that cannot fail under ksync proves nothing).

Some of these tests measure time, and a busy machine can fail one of them in either run. So the
cases that differ run again, alone, in both modes (RETRIES times): a difference that persists is
reported, one that goes away is listed as a timing flake and does not fail the check.

    check-python.py KSYNC_RUN [--python python3.11] [--out DIR] [--only GROUP]
"""
import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

# The suites the issue names, whole.
SUITES = ["test_threading", "test_thread", "test_threadsignals", "test_queue",
          "test_concurrent_futures"]
# A bounded part of test_multiprocessing_fork: the synchronization primitives between processes
# (named semaphores under the locks, process-shared conditions), not the whole 10-minute suite.
MP_SUITE = "test_multiprocessing_fork"
MP_MATCH = ["WithProcessesTestLock", "WithProcessesTestSemaphore", "WithProcessesTestCondition",
            "WithProcessesTestEvent", "WithProcessesTestBarrier", "WithProcessesTestQueue",
            "WithProcessesTestValue", "WithThreadsTestLock", "WithThreadsTestCondition",
            "WithThreadsTestSemaphore", "WithThreadsTestEvent", "WithThreadsTestBarrier",
            "WithThreadsTestQueue"]


def run(label, prefix, python, args, xml_path, log_path):
    cmd = prefix + [python, "-m", "test", "--timeout", "600", "--junit-xml", xml_path] + args
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT,
                             env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    took = time.monotonic() - t0
    outcomes = {}
    if os.path.exists(xml_path):
        for case in ET.parse(xml_path).getroot().iter("testcase"):
            name = case.get("name")
            if case.find("failure") is not None:
                outcome = "FAIL"
            elif case.find("error") is not None:
                outcome = "ERROR"
            elif case.find("skipped") is not None:
                outcome = "skip"
            else:
                outcome = "pass"
            outcomes[name] = outcome
    print(f"  {label:6} rc={rc} {len(outcomes)} cases in {took:.0f} s  ({log_path})", flush=True)
    return outcomes


RETRIES = 2


def retry(differing, prefix_ksync, opts, name):
    """Runs the differing cases again in both modes; returns those that still differ."""
    left = dict(differing)
    for attempt in range(RETRIES):
        if not left:
            break
        by_suite = {}
        for case in left:
            by_suite.setdefault(case.split(".")[1], []).append(case)
        for suite, cases in by_suite.items():
            args = [suite] + [a for c in cases for a in ("-m", c)]
            tag = f"{name}-retry{attempt + 1}-{suite}"
            base = run("glibc", [], opts.python, args, f"{opts.out}/{tag}-glibc.xml",
                       f"{opts.out}/{tag}-glibc.log")
            ks = run("ksync", prefix_ksync, opts.python, args, f"{opts.out}/{tag}-ksync.xml",
                     f"{opts.out}/{tag}-ksync.log")
            for case in cases:
                if case in base and base.get(case) == ks.get(case):
                    print(f"  timing flake, the same on retry: {case} "
                          f"(first run: glibc {left[case][0]}, ksync {left[case][1]})")
                    del left[case]
    return left


def tally(outcomes):
    counts = {}
    for o in outcomes.values():
        counts[o] = counts.get(o, 0) + 1
    return ", ".join(f"{counts[k]} {k}" for k in sorted(counts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ksync_run")
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--out", default="build/check-python")
    ap.add_argument("--only", choices=["threading", MP_SUITE], help="run one group")
    opts = ap.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    ksync = [os.path.abspath(opts.ksync_run), "--"]
    groups = [("threading", SUITES), (MP_SUITE, [MP_SUITE] + [a for m in MP_MATCH
                                                            for a in ("-m", m)])]
    same = True
    for name, args in groups:
        if opts.only and name != opts.only:
            continue
        print(f"{name}: {' '.join(args)}", flush=True)
        base = run("glibc", [], opts.python, args, f"{opts.out}/{name}-glibc.xml",
                   f"{opts.out}/{name}-glibc.log")
        ks = run("ksync", ksync, opts.python, args, f"{opts.out}/{name}-ksync.xml",
                 f"{opts.out}/{name}-ksync.log")
        print(f"  glibc: {tally(base)}\n  ksync: {tally(ks)}")
        if not base:
            print("  no case ran under glibc: nothing to compare")
            same = False
        differing = {case: (base.get(case, "absent"), ks.get(case, "absent"))
                     for case in sorted(set(base) | set(ks)) if base.get(case) != ks.get(case)}
        for case, (b, k) in sorted(retry(differing, ksync, opts, name).items()):
            same = False
            print(f"  DIFFERS {case}: glibc {b}, ksync {k} (and again on {RETRIES} retries)")
    print("check-python: " + ("the same outcomes, case by case" if same else "DIFFERENT"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

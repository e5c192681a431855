#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn ksync-bench's Google Benchmark JSON into what a reader wants.

    report.py --plots DIR bench.json > summary.md   Markdown summary, PNG plots into DIR
    report.py --targets bench.json                  the targets: target / measured / CPU / result
    report.py --quick-filter                        the --benchmark_filter regex for bench-quick
    report.py --machines bench/results              every machine's figures and their ranges
    report.py --tap bench.json                      TAP: one test per run, failed if it erred

Every ksync figure is a ratio to its counterpart measured in the same run: how many times better
ksync is (> 1: ksync wins), the median over the repetitions. The pieces are in kbreport/.
"""
import argparse
import json
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree

from kbreport import fmt, machines, plots, summary, targets	# noqa: E402
from kbreport.runs import index, load, ncpus	# noqa: E402


def print_targets(path):
    ctx, runs, reps = load(path)
    print(f"{ctx.get('machine', ctx.get('host_name', '?'))}: {ctx.get('cpu_model', '?')}, "
          f"{ctx.get('num_cpus', '?')} CPUs, pause {ctx.get('pause_ns', '?')} ns, "
          f"compare-and-swap {ctx.get('atomic_ns', '?')} ns, {ctx.get('kernel', '?')}, "
          f"glibc {ctx.get('glibc', '?')}, load average at start {fmt.load_avg(ctx)}\n")
    print(fmt.table(targets.TARGET_HEADER, targets.target_rows(index(runs), ncpus(ctx))))
    print(f"(medians of {reps} repetitions; ratio > 1: ksync better; CPU: all threads, per "
          "operation or round)")


def print_tap(path):
    with open(path) as f:
        benches = json.load(f).get("benchmarks", [])
    print(f"TAP version 13\n1..{len(benches)}")
    for i, b in enumerate(benches, 1):
        ok = not b.get("error_occurred")
        print(f"{'ok' if ok else 'not ok'} {i} - {b['name']}" +
              ("" if ok else f": {b.get('error_message')}"))
    return 0 if benches and all(not b.get("error_occurred") for b in benches) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    ap.add_argument("--command", default="make bench", help="the command, for the summary")
    ap.add_argument("--targets", action="store_true", help="print the targets table only")
    ap.add_argument("--quick-filter", action="store_true", help="print bench-quick's filter")
    ap.add_argument("--machines", metavar="ROOT", help="every machine's results under ROOT")
    ap.add_argument("--tap", action="store_true", help="TAP 13: every run ran without error")
    ap.add_argument("json", nargs="?")
    args = ap.parse_args()
    if args.quick_filter:
        print(targets.quick_filter())
        return 0
    if args.machines:
        sys.stdout.write(machines.machines_page(args.machines,
                                                summary.docs_link(args.machines)))
        return 0
    if not args.json:
        ap.error("a bench.json is needed")
    if args.tap:
        return print_tap(args.json)
    if args.targets:
        print_targets(args.json)
        return 0
    sys.stdout.write(summary.summary(args.json, args.plots, args.command, plots.plots))
    return 0


if __name__ == "__main__":
    sys.exit(main())

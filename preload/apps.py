#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Programs nobody here wrote, with and without ksync-run.

    apps.py check KSYNC_RUN BINDIR        each program under glibc and under ksync: outputs equal
    apps.py bench KSYNC_RUN BINDIR [-n 5] wall and CPU time under glibc, ksync and --passthrough

`check` (make check-apps) runs the fast ones and compares what each prints (or writes) that does
not depend on timing; `bench` (make bench-preload) times every one, alternating the three modes
run after run, and prints a Markdown table of medians. Nothing here reaches the network: the
data are generated locally and the compressors read and write files in a temporary folder.
"""
import argparse
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CPUS = os.cpu_count() or 1


def make_data(path, mb):
    """Compressible, deterministic text: what a compressor meets in practice."""
    words = [b"futex", b"mutex", b"condition", b"semaphore", b"barrier", b"rwlock",
             b"spin", b"wake", b"sleep", b"thread", b"ksync", b"glibc"]
    x = 12345
    with open(path, "wb") as f:
        written = 0
        while written < mb << 20:
            line = []
            for _ in range(12):
                x = (x * 1103515245 + 12345) & 0x7fffffff
                line.append(words[x % len(words)] + b"%d" % (x % 1000))
            chunk = b" ".join(line) + b"\n"
            f.write(chunk)
            written += len(chunk)


def digest(data):
    return hashlib.sha256(data).hexdigest()[:16]


def lines_matching(pattern):
    """The lines of stdout and stderr that match, their numbers and pids left out."""
    rx = re.compile(pattern)

    def keep(out):
        got = [re.sub(r"[\d.]+", "N", l)
               for l in out.decode(errors="replace").splitlines() if rx.search(l)]
        return "\n".join(got)
    return keep


def programs(bindir, tmp, data, quick):
    """(name, argv, what to compare, in check-apps) for each program."""
    py = "/usr/bin/python3.11"
    course = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")
    progs = [
        ("C++ std::mutex, condition_variable, shared_mutex",
         [os.path.join(bindir, "cxx-sync")], None, True),
        ("sqlite3, 9 threads (serialized mode, WAL)",
         [os.path.join(bindir, "sqlite-threads"), os.path.join(tmp, "t.db")], None, True),
        ("pigz -p %d" % max(CPUS, 2), ["pigz", "-p", str(max(CPUS, 2)), "-6", "-c", data],
         digest, True),
        ("zstd -T0", ["zstd", "-T0", "-3", "-q", "-c", data], digest, True),
        ("xz -T0", ["xz", "-T0", "-2", "-c", data], digest, True),
        ("sysbench threads (4 threads, 8 locks)",
         ["sysbench", "threads", "--threads=4", "--thread-locks=8", "--thread-yields=50",
          "--events=%d" % (2000 if quick else 20000), "--time=0", "run"],
         lines_matching(r"total number of events"), True),
        ("sysbench mutex (4 threads)",
         ["sysbench", "mutex", "--threads=4", "--mutex-num=256",
          "--mutex-locks=%d" % (20000 if quick else 200000), "--mutex-loops=50", "run"],
         lines_matching(r"total number of events"), True),
        # stress-ng's stressors run for a time, not a count: 3 s each, all at once
        ("stress-ng --mutex 2 --sem 2 --pthread 1, 3 s",
         ["stress-ng", "--mutex", "2", "--sem", "2", "--pthread", "1", "--pthread-max", "32",
          "--timeout", "3s"],
         lines_matching(r"successful run|fail|error"), True),
        ("python3.11: 4 CPU-bound threads under the GIL",
         [py, os.path.join(course, "gil.py"), "--quiet"], lines_matching(r"^result"), False),
        ("python3.11: producer/consumer on a Condition",
         [py, os.path.join(course, "producer_consumer.py"), "--quiet"],
         lines_matching(r"^result"), False),
    ]
    return progs


def run_once(prefix, argv):
    t0 = time.monotonic()
    p = subprocess.Popen(prefix + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    if argv[0] == "stress-ng":
        out = out + err		# it reports on stderr
    wall = time.monotonic() - t0
    # the children's CPU time, threads included, accumulates in RUSAGE_CHILDREN
    return p.returncode, out, err, wall


def cpu_children():
    r = os.times()
    return r.children_user + r.children_system


def check(opts, progs):
    ksync = [opts.ksync_run, "--"]
    failed = 0
    for name, argv, key, in_check in progs:
        if not in_check:
            continue
        if not shutil.which(argv[0]):
            print(f"  SKIP  {name}: {argv[0]} not installed")
            continue
        rc1, out1, err1, _ = run_once([], argv)
        rc2, out2, err2, _ = run_once(ksync, argv)
        k1 = key(out1) if key else out1.decode(errors="replace").strip()
        k2 = key(out2) if key else out2.decode(errors="replace").strip()
        same = rc1 == rc2 == 0 and k1 == k2 and k1 != ""
        failed += not same
        print(f"  {'ok  ' if same else 'FAIL'}  {name}: {k2.splitlines()[-1] if k2 else ''}")
        if not same:
            print(f"        glibc rc={rc1}: {k1!r}\n        ksync rc={rc2}: {k2!r}")
            print("        " + err2.decode(errors="replace")[-500:])
    print("check-apps: " + ("every output identical" if not failed else f"{failed} differ"))
    return 1 if failed else 0


def bench(opts, progs):
    modes = [("glibc", []), ("ksync", [opts.ksync_run, "--"]),
             ("passthrough", [opts.ksync_run, "--passthrough", "--"])]
    rows = []
    for name, argv, key, _ in progs:
        if not shutil.which(argv[0]):
            continue
        res = {m: ([], []) for m, _ in modes}
        outs = {}
        for i in range(opts.n):
            order = modes[i % 3:] + modes[:i % 3]	# alternate which mode goes first
            for m, prefix in order:
                c0 = cpu_children()
                rc, out, err, wall = run_once(prefix, argv)
                cpu = cpu_children() - c0
                if rc != 0:
                    print(f"{name} under {m}: exit {rc}: {err.decode()[-300:]}",
                          file=sys.stderr)
                res[m][0].append(wall)
                res[m][1].append(cpu)
                outs.setdefault(m, key(out) if key else out)
        med = {m: (statistics.median(w), statistics.median(c)) for m, (w, c) in res.items()}
        same = "yes" if outs["glibc"] == outs["ksync"] else "**no**"
        rows.append((name, med, same))
        print(f"  {name}: glibc {med['glibc'][0]:.3f}s ksync {med['ksync'][0]:.3f}s "
              f"passthrough {med['passthrough'][0]:.3f}s", file=sys.stderr, flush=True)
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"Machine: {cpu}, {CPUS} CPUs, Linux {platform.release()}, "
          f"glibc {platform.libc_ver()[1]}; load average at the end {' '.join(load)}. "
          f"Median of {opts.n} runs per mode, the modes alternating.\n")
    print("| program | wall glibc | wall ksync | ksync/glibc | CPU glibc | CPU ksync | "
          "ksync/glibc | wall passthrough | passthrough/glibc | same output |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, med, same in rows:
        g, k, p = med["glibc"], med["ksync"], med["passthrough"]
        print(f"| {name} | {g[0]:.3f} s | {k[0]:.3f} s | ×{k[0] / g[0]:.2f} | {g[1]:.3f} s | "
              f"{k[1]:.3f} s | ×{k[1] / g[1] if g[1] else float('nan'):.2f} | {p[0]:.3f} s | "
              f"×{p[0] / g[0]:.2f} | {same} |")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["check", "bench"])
    ap.add_argument("ksync_run")
    ap.add_argument("bindir")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--mb", type=int, default=0, help="size of the compressors' input")
    opts = ap.parse_args()
    opts.ksync_run = os.path.abspath(opts.ksync_run)
    with tempfile.TemporaryDirectory(prefix="ksync-apps-") as tmp:
        data = os.path.join(tmp, "data.txt")
        make_data(data, opts.mb or (8 if opts.mode == "check" else 32))
        progs = programs(os.path.abspath(opts.bindir), tmp, data, opts.mode == "check")
        return check(opts, progs) if opts.mode == "check" else bench(opts, progs)


if __name__ == "__main__":
    sys.exit(main())

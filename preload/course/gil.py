#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The slides' GIL lesson: CPU-bound threads do not run in parallel in CPython.

A pure-Python computation runs once in one thread, then split across 4 threads: under the GIL
the threads take turns, and the wall time does not improve. Then two figures about the GIL's
hand-off, which is a pthread mutex and condition in CPython 3.11 (so ksync-run changes who
implements it):
  - switches per second: how often the running thread changes while 4 threads compute;
  - time to take the GIL: a thread that slept 1 ms (its GIL released) asks for it back while
    the others compute; how long past its 1 ms it waits before it runs Python code again.
"""
import statistics
import sys
import threading
import time

from common import implementation, say, timed

N = 4
WORK = 1200000


def compute(n, lo=0):
    s = 0
    for i in range(lo, lo + n):
        s += i * i % 7
    return s


def threaded(total):
    results = [0] * N

    def part(k):
        results[k] = compute(total // N, k * (total // N))
    ts = [threading.Thread(target=part, args=(k,)) for k in range(N)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(results)


def switches_per_second(seconds=0.5):
    last = [None]
    switches = [0]
    stop = time.perf_counter() + seconds

    def spin(me):
        n = 0
        while True:
            n += 1
            if n % 200 == 0:
                if last[0] != me:
                    switches[0] += 1
                    last[0] = me
                if time.perf_counter() > stop:
                    return
    ts = [threading.Thread(target=spin, args=(k,)) for k in range(N)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return switches[0] / seconds


def time_to_take_gil(samples=60):
    stop = [False]

    def hog():
        while not stop[0]:
            compute(1000)
    hogs = [threading.Thread(target=hog) for _ in range(N - 1)]
    for t in hogs:
        t.start()
    late = []
    for _ in range(samples):
        t0 = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - t0 - 0.001)
    stop[0] = True
    for t in hogs:
        t.join()
    return statistics.median(late), max(late)


def main():
    say(f"== CPU-bound threads under the GIL (locks by {implementation()}) ==")
    t1, r1 = timed(compute, WORK)
    tn, rn = timed(threaded, WORK)
    say(f"1 thread:  {t1:.2f} s")
    say(f"{N} threads: {tn:.2f} s  (speedup x{t1 / tn:.2f}: the GIL lets one thread run at once)")
    sps = switches_per_second()
    med, worst = time_to_take_gil()
    say(f"GIL hand-offs: {sps:.0f} switches/s between {N} computing threads "
        f"(sys.getswitchinterval() = {sys.getswitchinterval() * 1000:.0f} ms)")
    say(f"time to take the GIL back after a 1 ms sleep, {N - 1} threads computing: "
        f"median {med * 1000:.2f} ms, worst {worst * 1000:.2f} ms")
    print(f"result: sums equal: {r1 == rn}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The slides' Barrier lesson: threads that must finish a round before any starts the next.

Each thread does its part of a round, then waits at the barrier; nobody starts round r+1 before
everyone finished round r (threading.Barrier, on a Condition, itself on a pthread mutex and
condition — ksync's under ksync-run).
"""
import threading

from common import implementation, say, timed

PARTIES = 4
ROUNDS = 200


def run():
    barrier = threading.Barrier(PARTIES)
    log = []
    lock = threading.Lock()
    serials = [0]

    def worker(k):
        for r in range(ROUNDS):
            with lock:
                log.append(r)
            if barrier.wait() == 0:
                serials[0] += 1
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(PARTIES)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return log, serials[0]


def main():
    say(f"== Barrier: rounds in lockstep (locks by {implementation()}) ==")
    took, (log, serials) = timed(run)
    lockstep = log == sorted(log)
    say(f"{PARTIES} threads, {ROUNDS} rounds in {took:.2f} s "
        f"({took / ROUNDS * 1e6:.0f} us a round); one thread chosen per round: {serials}")
    print(f"result: no thread ran ahead of a round: {lockstep}, rounds {serials}")


if __name__ == "__main__":
    main()

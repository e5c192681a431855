#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The slides' Condition lesson: a producer and consumers sharing a bounded buffer.

The consumers wait on a Condition until an item is there; the producer notifies. Every item is
consumed exactly once, and no consumer spins: it sleeps in the condition (a pthread condition
in CPython, ksync's under ksync-run).
"""
import collections
import threading

from common import implementation, say, timed

ITEMS = 20000
CONSUMERS = 3
CAPACITY = 8


def run():
    buf = collections.deque()
    cond = threading.Condition()
    done = [False]
    got = [[] for _ in range(CONSUMERS)]

    def producer():
        for i in range(ITEMS):
            with cond:
                cond.wait_for(lambda: len(buf) < CAPACITY)
                buf.append(i)
                cond.notify_all()
        with cond:
            done[0] = True
            cond.notify_all()

    def consumer(k):
        while True:
            with cond:
                cond.wait_for(lambda: buf or done[0])
                if not buf:
                    return
                got[k].append(buf.popleft())
                cond.notify_all()

    ts = [threading.Thread(target=consumer, args=(k,)) for k in range(CONSUMERS)]
    ts.append(threading.Thread(target=producer))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return got


def main():
    say(f"== Producer / consumer on a Condition (locks by {implementation()}) ==")
    took, got = timed(run)
    items = sorted(x for g in got for x in g)
    say(f"{ITEMS} items through a buffer of {CAPACITY}, {CONSUMERS} consumers, {took:.2f} s: "
        f"shares {[len(g) for g in got]}")
    print(f"result: each item consumed exactly once: {items == list(range(ITEMS))}")


if __name__ == "__main__":
    main()

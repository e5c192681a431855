#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The slides' first lesson: downloading images with threads, from the local image server.

    download.py BASE_URL COUNT

The same COUNT images, one after the other, then by 8 threads: each request spends its time
waiting for the server (which answers after a set latency), and threads overlap their waits —
the GIL is released while a thread waits for the network. Nothing leaves 127.0.0.1.
"""
import hashlib
import sys
import threading
import urllib.request

from common import implementation, say, timed

THREADS = 8


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return hashlib.sha256(r.read()).hexdigest()


def sequential(urls):
    return [fetch(u) for u in urls]


def threaded(urls):
    out = [None] * len(urls)
    next_i = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(urls):
                return
            out[i] = fetch(urls[i])
    ts = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def main():
    base, count = sys.argv[1].rstrip("/"), int(sys.argv[2])
    urls = [f"{base}/img/{i}.png" for i in range(count)]
    say(f"== Downloading {count} images from {base} (locks by {implementation()}) ==")
    ts, a = timed(sequential, urls)
    tt, b = timed(threaded, urls)
    say(f"sequential: {ts:.2f} s;  {THREADS} threads: {tt:.2f} s  (speedup x{ts / tt:.1f}: "
        f"I/O-bound threads overlap their waits)")
    print(f"result: same images both ways: {a == b}")


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""What every course program shares: which implementation runs the locks, and timing."""
import ctypes
import sys
import time


def implementation():
    """'ksync' under ksync-run, 'glibc (passthrough)' under --passthrough, else 'glibc'."""
    try:
        mode = ctypes.CDLL(None).ksync_preload_mode
    except AttributeError:
        return "glibc"
    return "ksync" if mode() == 1 else "glibc (passthrough)"


QUIET = "--quiet" in sys.argv


def say(*args):
    if not QUIET:
        print(*args, flush=True)


def timed(fn, *args):
    t0 = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t0, r

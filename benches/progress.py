"""What progress reporting costs: rf.encode with progress off, a callback, and a tqdm bar.

Encodes the demo workload (``rec_fast.workloads.default_workload``) on one thread with each
setting, interleaved, best of ``--repeats``, and prints samples/s and the ratio to "off". The
bar's output goes to a buffer (its delay is one second, so it draws after that).

    python benches/progress.py --count 300000 --repeats 5
"""

from __future__ import annotations

import argparse
import io
import sys
import time

import rec_fast as rf
from rec_fast.workloads import default_workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--method", default="gprs-bb")
    arguments = parser.parse_args()
    Q, P = default_workload(arguments.count, 0)
    calls = []
    settings = {"off": False, "callback": lambda done, total: calls.append(done), "tqdm bar": True}
    best = {name: float("inf") for name in settings}
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        for _ in range(arguments.repeats):
            for name, progress in settings.items():
                start = time.perf_counter()
                rf.encode(Q, P, seed=1, method=arguments.method, threads=1, progress=progress)
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        sys.stderr = stderr
    print(f"| progress | samples/s ({arguments.method}, 1 thread, {arguments.count:,} targets) | ratio to off |")
    print("|---|---|---|")
    for name in settings:
        print(f"| {name} | {arguments.count / best[name]:,.0f} | {best['off'] / best[name]:.3f} |")
    print(f"\ncallback calls per encode: {len(calls) / arguments.repeats:.1f}")


if __name__ == "__main__":
    main()

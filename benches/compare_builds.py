"""Encode and decode throughput and bits of two builds of rec_fast, side by side in one run.

Each measurement runs in a fresh interpreter, alternating between the builds, best of
``--repeats``. The "before" build is any installed rec_fast, e.g. an older wheel installed
with ``pip install --target /tmp/before rec_fast-OLD.whl``:

    python benches/compare_builds.py --before /tmp/before
    python benches/compare_builds.py --before /tmp/before --workloads demo channel-8 --threads 1 2

Workloads: ``demo`` (the targets of ``python -m rec_fast demo``: Normal, KL spread around 4
bits, against N(0, 1)) and ``channel-I`` (the GPRS paper's Gaussian channel at mutual
information I bits: Y ~ N(0, s²), Q = N(Y, 1), P = N(0, 1 + s²); ``rec_fast.channel``).
Prints a Markdown table: samples/s of encode and decode for each build, their ratios, the
after build's encode time over its decode time, and the whole stream's bits per sample. Every
stream is decoded and compared with the encoder's samples.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

MEASURE = r'''
import sys, time, json
import numpy as np
import rec_fast as rf
try:
    from rec_fast.workloads import default_workload
except ImportError:  # builds from before the command moved the demo's workload
    from rec_fast.__main__ import default_workload
from rec_fast.channel import gaussian_channel
workload, method, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if workload == "demo":
    Q, P = default_workload(count, 0)
else:
    Q, P = gaussian_channel(float(workload.split("-")[1]), count, 0)
start = time.perf_counter(); enc = rf.encode(Q, P, seed=7, method=method, threads=threads)
encode = time.perf_counter() - start
data = enc.to_bytes()
start = time.perf_counter(); samples = rf.decode(data, P, threads=threads); decode = time.perf_counter() - start
if not np.array_equal(samples, enc.samples):
    raise SystemExit("decoded samples differ")
print(json.dumps([count / encode, count / decode, 8 * len(data) / count, float(enc.steps.mean())]))
'''

GLOBAL_METHODS = ("gprs", "pfr", "gprs-parallel")
DEFAULT_METHODS = ("gprs-bb", "gprs-dyadic", "astar-bb", "gprs")


def measure(workload: str, method: str, count: int, threads: int, path: str | None) -> list:
    environment = dict(os.environ)
    if path:
        environment["PYTHONPATH"] = path
    output = subprocess.run([sys.executable, "-c", MEASURE, workload, method, str(count), str(threads)],
                            capture_output=True, text=True, env=environment, check=True).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="a directory holding the other build's rec_fast package")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", nargs="+", default=["demo"], help="demo and/or channel-I (I in bits)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1])
    parser.add_argument("--count", type=int, default=300_000, help="targets (default 300,000)")
    parser.add_argument("--global-count", type=int, default=50_000,
                        help="targets for the global methods, which need 2^D∞ arrivals (default 50,000)")
    arguments = parser.parse_args()
    print("| workload | method | threads | targets | steps | encode before | encode after | after / before "
          "| decode before | decode after | after / before | encode / decode time after | bits before | bits after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for workload in arguments.workloads:
        for method in arguments.methods:
            count = arguments.global_count if method in GLOBAL_METHODS else arguments.count
            for threads in arguments.threads:
                best = {"before": [0.0, 0.0, 0.0, 0.0], "after": [0.0, 0.0, 0.0, 0.0]}
                for _ in range(arguments.repeats):
                    for name, path in (("before", arguments.before), ("after", None)):
                        encode, decode, bits, steps = measure(workload, method, count, threads, path)
                        best[name] = [max(best[name][0], encode), max(best[name][1], decode), bits, steps]
                b, a = best["before"], best["after"]
                print(f"| {workload} | {method} | {threads} | {count:,} | {a[3]:.2f} | {b[0]:,.0f} | {a[0]:,.0f} "
                      f"| {a[0] / b[0]:.2f} | {b[1]:,.0f} | {a[1]:,.0f} | {a[1] / b[1]:.2f} | {a[1] / a[0]:.1f} "
                      f"| {b[2]:.3f} | {a[2]:.3f} |", flush=True)


if __name__ == "__main__":
    main()

"""Encode and decode throughput and bits of two builds of rec_fast, side by side in one run.

Each measurement runs in a fresh interpreter, alternating between the builds, best of
``--repeats``; one thread; the demo workload (``python -m rec_fast demo``). The "before" build
is any installed rec_fast, e.g. an older wheel installed with
``pip install --target /tmp/before rec_fast-OLD.whl``:

    python benches/compare_builds.py --before /tmp/before

Prints a Markdown table: samples/s of encode and decode for each build, their ratios, and the
whole stream's bits per sample.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

MEASURE = r'''
import sys, time, json
import rec_fast as rf
from rec_fast.__main__ import default_workload
method, count = sys.argv[1], int(sys.argv[2])
Q, P = default_workload(count, 0)
start = time.perf_counter(); enc = rf.encode(Q, P, seed=7, method=method, threads=1)
encode = time.perf_counter() - start
data = enc.to_bytes()
start = time.perf_counter(); rf.decode(data, P, threads=1); decode = time.perf_counter() - start
print(json.dumps([count / encode, count / decode, 8 * len(data) / count]))
'''

CASES = [("gprs-bb", 300_000), ("gprs-dyadic", 300_000), ("astar-bb", 300_000),
         ("gprs", 50_000), ("pfr", 50_000), ("gprs-parallel", 50_000)]


def measure(method: str, count: int, path: str | None) -> list:
    environment = dict(os.environ)
    if path:
        environment["PYTHONPATH"] = path
    output = subprocess.run([sys.executable, "-c", MEASURE, method, str(count)], capture_output=True,
                            text=True, env=environment, check=True).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a directory holding the other build's rec_fast package")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    print("| method | targets | encode before | encode after | after / before | decode before | decode after "
          "| after / before | bits before | bits after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for method, count in CASES:
        best = {"before": [0.0, 0.0, 0.0], "after": [0.0, 0.0, 0.0]}
        for _ in range(arguments.repeats):
            for name, path in (("before", arguments.before), ("after", None)):
                encode, decode, bits = measure(method, count, path)
                best[name] = [max(best[name][0], encode), max(best[name][1], decode), bits]
        b, a = best["before"], best["after"]
        print(f"| {method} | {count:,} | {b[0]:,.0f} | {a[0]:,.0f} | {a[0] / b[0]:.2f} | {b[1]:,.0f} | {a[1]:,.0f} "
              f"| {a[1] / b[1]:.2f} | {b[2]:.3f} | {a[2]:.3f} |", flush=True)


if __name__ == "__main__":
    main()

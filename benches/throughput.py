"""Batch encode/decode throughput of the Python API on the default workload.

For each method and thread setting, encodes one sample from each of COUNT Gaussian targets
(KL spread around 4 bits, from ``rec_fast.__main__.default_workload``) against N(0, 1),
serializes, decodes, checks that the decoded samples equal ``enc.samples`` bit for bit, and
prints samples/second. Global "gprs" needs about 2^D∞ arrivals per element, so it runs on
``--gprs-count`` targets (default 100,000; never more than ``--count``).

    python benches/throughput.py                       # 1,000,000 targets
    python benches/throughput.py --count 200000 --methods gprs-bb

Exits 1 if any round trip is not bit-identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import rec_fast as rf
from rec_fast.__main__ import default_workload


def measure(method: str, threads: int | None, count: int, seed: int) -> tuple[dict, bool]:
    Q, P = default_workload(count, seed)
    kl = rf.kl_divergence(Q, P)
    start = time.perf_counter()
    enc = rf.encode(Q, P, seed=7, method=method, threads=threads)
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode(data, P, threads=threads)
    decode_seconds = time.perf_counter() - start
    samples = np.asarray(enc.samples, dtype=np.float64)
    decoded = np.asarray(decoded, dtype=np.float64)
    identical = decoded.shape == samples.shape and bool(
        np.array_equal(decoded.view(np.uint64), samples.view(np.uint64)))
    row = {
        "method": method,
        "threads": "all" if threads is None else str(threads),
        "count": count,
        "kl": float(np.mean(kl)),
        "bits": float(np.mean(enc.bits)),
        "steps": float(np.mean(enc.steps)),
        "encode": count / encode_seconds,
        "decode": count / decode_seconds,
        "identical": identical,
    }
    return row, identical


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000,
                        help="targets per run for gprs-bb (default 1,000,000)")
    parser.add_argument("--gprs-count", type=int, default=100_000,
                        help="targets per run for global gprs (default 100,000; capped at --count)")
    parser.add_argument("--methods", nargs="+", default=["gprs-bb", "gprs"],
                        help="methods to measure (default: gprs-bb gprs)")
    parser.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    arguments = parser.parse_args(argv)

    print(f"rec_fast {getattr(rf, '__version__', '?')}, {os.cpu_count()} logical CPUs; "
          f"threads=all means threads=None")
    header = (f"{'method':<8} {'threads':>7} {'count':>10} {'KL bits':>8} {'bits':>7} "
              f"{'steps':>9} {'encode/s':>12} {'decode/s':>12}  round trip")
    print(header)
    print("-" * len(header))
    ok = True
    for method in arguments.methods:
        count = min(arguments.gprs_count, arguments.count) if method == "gprs" else arguments.count
        for threads in (1, None):
            row, identical = measure(method, threads, count, arguments.seed)
            ok &= identical
            print(f"{row['method']:<8} {row['threads']:>7} {row['count']:>10,} {row['kl']:>8.3f} "
                  f"{row['bits']:>7.3f} {row['steps']:>9.2f} {row['encode']:>12,.0f} "
                  f"{row['decode']:>12,.0f}  {'bit-identical' if identical else 'MISMATCH'}",
                  flush=True)
    if not ok:
        print("error: decode did not reproduce enc.samples bit for bit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

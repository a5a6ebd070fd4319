"""Batch encode/decode throughput of the Python API, per method and workload.

For each workload, method and thread setting (1 and all cores), encodes one sample from each
of COUNT targets, serializes, decodes, checks that the decoded samples equal ``enc.samples``
bit for bit, and prints samples/second and the whole stream's bits per sample. The same
samples are also written as a format version 1 stream (untimed) and decoded in the same run,
so the two decoders are compared side by side. Workloads:

* ``normal``: the default workload of ``python -m rec_fast demo`` — Gaussian targets with KL
  spread around 4 bits (``rec_fast.workloads.default_workload``) against N(0, 1);
* ``laplace``: Laplace targets L(m, b), m ~ N(0, 0.7²), b log-uniform in [0.03, 0.12], against
  L(0, 1);
* ``uniform``: Uniform targets of width 0.005–0.05 inside U(−1, 1);
* ``uniform-on-normal``: Uniform targets of width 0.03–0.12 starting in [0.05, 2] against
  N(0, 1) (P's mode never inside, so every method applies).

The global methods ("gprs", "pfr", "gprs-parallel") need about 2^D∞ arrivals per element, so
they run on ``--global-count`` targets (default 100,000; never more than ``--count``).

    python benches/throughput.py                                  # every method, normal
    python benches/throughput.py --workloads normal uniform --methods gprs-bb gprs-dyadic
    python benches/throughput.py --count 200000 --workloads all

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

GLOBAL_METHODS = ("gprs", "pfr", "gprs-parallel")


def workload(name: str, count: int, seed: int):
    """(Q, P) of the named workload (see the module docstring)."""
    generator = np.random.default_rng(seed)
    if name == "normal":
        return default_workload(count, seed)
    if name == "laplace":
        scale = np.exp(generator.uniform(np.log(0.03), np.log(0.12), count))
        return rf.Laplace(generator.normal(0.0, 0.7, count), scale), rf.Laplace(0.0, 1.0)
    if name == "uniform":
        width = np.exp(generator.uniform(np.log(0.005), np.log(0.05), count))
        low = generator.uniform(-1.0, 1.0 - width)
        return rf.Uniform(low, low + width), rf.Uniform(-1.0, 1.0)
    if name == "uniform-on-normal":
        width = np.exp(generator.uniform(np.log(0.03), np.log(0.12), count))
        low = generator.uniform(0.05, 2.0, count)
        return rf.Uniform(low, low + width), rf.Normal(0.0, 1.0)
    raise ValueError(f"unknown workload {name!r}")


WORKLOADS = ("normal", "laplace", "uniform", "uniform-on-normal")


def measure(name: str, method: str, threads: int | None, count: int, seed: int) -> dict:
    Q, P = workload(name, count, seed)
    kl = rf.kl_divergence(Q, P)
    start = time.perf_counter()
    enc = rf.encode(Q, P, seed=7, method=method, threads=threads)
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode(data, P, threads=threads)
    decode_seconds = time.perf_counter() - start
    # The same samples in a version-1 stream (Elias delta codes), decoded in the same run.
    data_v1 = rf.encode(Q, P, seed=7, method=method, threads=threads, format_version=1).to_bytes()
    start = time.perf_counter()
    decoded_v1 = rf.decode(data_v1, P, threads=threads)
    decode_v1_seconds = time.perf_counter() - start
    identical = decoded.shape == enc.samples.shape and bool(
        np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64))) and bool(
        np.array_equal(decoded_v1.view(np.uint64), enc.samples.view(np.uint64)))
    return {
        "workload": name,
        "method": method,
        "threads": "all" if threads is None else str(threads),
        "count": count,
        "kl": float(np.mean(kl)),
        "bits": 8 * len(data) / count,
        "bits_v1": 8 * len(data_v1) / count,
        "steps": float(np.mean(enc.steps)),
        "encode": count / encode_seconds,
        "decode": count / decode_seconds,
        "decode_v1": count / decode_v1_seconds,
        "identical": identical,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000,
                        help="targets per run for the branch-and-bound methods (default 1,000,000)")
    parser.add_argument("--global-count", type=int, default=100_000,
                        help="targets per run for the global methods (default 100,000; capped at --count)")
    parser.add_argument("--methods", nargs="+", default=list(rf.METHODS),
                        help="methods to measure (default: all)")
    parser.add_argument("--workloads", nargs="+", default=["normal"], choices=(*WORKLOADS, "all"),
                        help="workloads to measure (default: normal; 'all' for every one)")
    parser.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    arguments = parser.parse_args(argv)
    workloads = WORKLOADS if "all" in arguments.workloads else arguments.workloads

    print(f"rec_fast {getattr(rf, '__version__', '?')}, {os.cpu_count()} logical CPUs; "
          f"threads=all means threads=None")
    header = (f"{'workload':<18} {'method':<13} {'threads':>7} {'count':>10} {'KL bits':>8} {'bits':>7} "
              f"{'bits v1':>7} {'steps':>9} {'encode/s':>12} {'decode/s':>12} {'v1 dec/s':>12} {'v2/v1':>6}  round trip")
    print(header)
    print("-" * len(header))
    ok = True
    for name in workloads:
        for method in arguments.methods:
            global_method = method in GLOBAL_METHODS
            count = min(arguments.global_count, arguments.count) if global_method else arguments.count
            for threads in (1, None):
                row = measure(name, method, threads, count, arguments.seed)
                ok &= row["identical"]
                print(f"{row['workload']:<18} {row['method']:<13} {row['threads']:>7} {row['count']:>10,} "
                      f"{row['kl']:>8.3f} {row['bits']:>7.3f} {row['bits_v1']:>7.3f} {row['steps']:>9.2f} "
                      f"{row['encode']:>12,.0f} {row['decode']:>12,.0f} {row['decode_v1']:>12,.0f} "
                      f"{row['decode'] / row['decode_v1']:>6.2f}  {'bit-identical' if row['identical'] else 'MISMATCH'}",
                      flush=True)
    if not ok:
        print("error: decode did not reproduce enc.samples bit for bit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scaling of rec_fast.dask.encode from one to more worker processes of a distributed cluster.

Encodes N elements of the demo workload (``rec_fast.workloads.default_workload``: Gaussian
targets of about 4 bits of KL against N(0, 1)) as dask arrays of ``--block`` elements per
block, on a ``distributed.LocalCluster`` of 1, then 2 (``--workers``) worker processes of one
thread each, and prints seconds, elements per second and the speed-up over one worker. Every
run must give the same bytes, which must equal ``rf.encode(..., chunk_size=block)``.

    python benches/dask_scaling.py                 # 2,000,000 elements, 1 and 2 workers
    python benches/dask_scaling.py --count 200000 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
import warnings
from typing import List


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    load = ", load average %.2f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs ({model or 'unknown CPU'}){load}"


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000_000, help="elements to encode (default 2,000,000)")
    parser.add_argument("--block", type=int, default=65_536, help="elements per dask block (default 65,536)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--method", default="gprs-bb")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="runs per worker count; the fastest is reported")
    args = parser.parse_args(argv)

    import dask.array as da
    # The workload's numpy arrays travel inside the task graph (distributed warns about its
    # size); real data would be loaded by the workers (da.from_zarr).
    warnings.filterwarnings("ignore", message="Sending large graph")
    import distributed

    import rec_fast as rf
    import rec_fast.dask as rfd
    from rec_fast.workloads import default_workload

    Q_numpy, P = default_workload(args.count, args.seed)
    Q = rfd.Normal(da.from_array(Q_numpy.loc, chunks=args.block), da.from_array(Q_numpy.scale, chunks=args.block))
    print(f"rec_fast.dask.encode: {args.count:,} elements of the demo workload, blocks of {args.block:,}, "
          f"method {args.method!r}, one thread per worker process")
    print(f"machine: {machine()}")

    start = time.perf_counter()
    reference = rf.encode(Q_numpy, P, seed=args.seed, method=args.method, threads=1, chunk_size=args.block)
    single_process = time.perf_counter() - start
    reference_bytes = reference.to_bytes()
    print(f"in-process rf.encode(threads=1): {single_process:.2f} s, {args.count / single_process:,.0f} elements/s, "
          f"{len(reference_bytes):,} bytes ({len(reference_bytes) / args.count:.3f} bytes/element)")
    print()
    print(f"{'workers':>7}  {'seconds':>8}  {'elements/s':>12}  {'speed-up':>8}  bytes identical")

    baseline = None
    all_identical = True
    for workers in args.workers:
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            best = float("inf")
            identical = True
            for _ in range(args.repeats):
                start = time.perf_counter()
                data = rfd.encode(Q, P, seed=args.seed, method=args.method, scheduler=client)
                best = min(best, time.perf_counter() - start)
                identical &= data == reference_bytes
        baseline = baseline or best
        all_identical &= identical
        print(f"{workers:>7}  {best:>8.2f}  {args.count / best:>12,.0f}  {baseline / best:>7.2f}×  "
              f"{'yes' if identical else 'NO'}")
    if not all_identical:
        print("error: the bytes differ between worker counts or from rf.encode", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

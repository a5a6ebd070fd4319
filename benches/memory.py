"""Peak resident memory of ``rf.encode`` and ``rf.decode`` per element, against the arrays
the caller passes in and gets back.

Each measurement runs in a fresh process (peak RSS, ``ru_maxrss``, only grows) on COUNT
elements of the demo workload (Normal targets, their ``loc`` and ``scale`` arrays, against the
scalar P = N(0, 1)). "Baseline" is the process after importing numpy and rec_fast; "user
arrays" are the arrays passed in and returned plus the stream:

* encode: Q's loc and scale (16 B/element) + samples, steps and bits (24 B/element) + stream;
* decode: the stream + the samples (8 B/element).

The ratio (peak − baseline) / user arrays is what the issue bounds by 2.

    python benches/memory.py                      # 10^7 elements, gprs-bb
    python benches/memory.py --count 1000000 --method astar-bb
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


def peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(job: str, count: int, method: str, path: str, threads: int | None) -> dict:
    import numpy as np

    import rec_fast as rf
    from rec_fast.workloads import default_workload

    baseline = current_bytes()
    P = rf.Normal(0.0, 1.0)
    if job == "encode":
        Q, P = default_workload(count, seed=0)
        start = time.perf_counter()
        enc = rf.encode(Q, P, seed=1, method=method, threads=threads)
        seconds = time.perf_counter() - start
        data = enc.to_bytes()
        with open(path, "wb") as out:
            out.write(data)
        user = Q.loc.nbytes + Q.scale.nbytes + enc.samples.nbytes + enc.steps.nbytes + enc.bits.nbytes + len(data)
        with open(path + ".sha256", "w") as out:
            out.write(hashlib.sha256(memoryview(enc.samples)).hexdigest())
    else:
        with open(path, "rb") as source:
            data = source.read()
        start = time.perf_counter()
        samples = rf.decode(data, P, threads=threads)
        seconds = time.perf_counter() - start
        with open(path + ".sha256") as digest:
            expected = digest.read()
        if hashlib.sha256(memoryview(np.ascontiguousarray(samples))).hexdigest() != expected:
            raise SystemExit("decoded samples differ from the encoder's")
        user = len(data) + samples.nbytes
    return {"job": job, "baseline": baseline, "peak": peak_bytes(), "user": user, "seconds": seconds,
            "stream": len(data)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--method", default="gprs-bb")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--child", nargs=2, metavar=("JOB", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.count, args.method, args.child[1], args.threads)))
        return 0
    import rec_fast as rf

    print(f"# peak resident memory, {args.count:,} elements, method {args.method}, "
          f"threads {args.threads or 'all'}, rec_fast {rf.__version__}, {os.cpu_count()} CPUs")
    print(f"{'job':<7} {'seconds':>8} {'baseline MiB':>13} {'peak MiB':>9} {'user MiB':>9} "
          f"{'B/elem above baseline':>22} {'user B/elem':>12} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stream.rec")
        for job in ("encode", "decode"):
            command = [sys.executable, __file__, "--count", str(args.count), "--method", args.method,
                       "--child", job, path]
            if args.threads:
                command += ["--threads", str(args.threads)]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            above = result["peak"] - result["baseline"]
            print(f"{job:<7} {result['seconds']:>8.2f} {result['baseline'] / MIB:>13.1f} "
                  f"{result['peak'] / MIB:>9.1f} {result['user'] / MIB:>9.1f} {above / args.count:>22.1f} "
                  f"{result['user'] / args.count:>12.1f} {above / result['user']:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

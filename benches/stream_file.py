"""A stream larger than memory: encode COUNT targets to a file piece by piece with
``rf.encode_stream``, read it back chunk by chunk with ``rf.read_stream``, and report time and
peak resident memory.

The targets are the demo workload (Normal targets, KL around 4 bits, against N(0, 1)),
generated piece by piece from per-piece seeds, so no array of COUNT elements ever exists. The
decoded samples are checked against the encoder's piece by piece (SHA-256 of each piece's
samples; chunks tile the pieces since PIECE is a multiple of the chunk size).

    python benches/stream_file.py                        # 10^8 elements, astar-bb
    python benches/stream_file.py --count 2000000 --method gprs-bb --threads 1
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time

import numpy as np

import rec_fast as rf

MIB = 1 << 20


def piece(index: int, length: int):
    generator = np.random.default_rng([7, index])
    scale = np.exp(generator.uniform(np.log(0.03), np.log(0.12), length))
    loc = generator.normal(0.0, 0.7, length)
    return rf.Normal(loc, scale)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000_000)
    parser.add_argument("--piece", type=int, default=1 << 20, help="elements per piece (default 2^20)")
    parser.add_argument("--method", default="astar-bb")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--directory", default=None, help="where the stream is written (default: a temporary folder)")
    args = parser.parse_args(argv)
    P = rf.Normal(0.0, 1.0)
    lengths = [min(args.piece, args.count - start) for start in range(0, args.count, args.piece)]
    digests = []

    def pieces():
        for index, length in enumerate(lengths):
            yield piece(index, length), P

    print(f"# {args.count:,} elements in pieces of {args.piece:,}, method {args.method}, "
          f"threads {args.threads or 'all'}, {os.cpu_count()} CPUs, rec_fast {rf.__version__}")
    with tempfile.TemporaryDirectory(dir=args.directory) as folder:
        path = os.path.join(folder, "stream.rec")
        start = time.perf_counter()
        with rf.StreamWriter(path, shape=args.count, seed=1, method=args.method, threads=args.threads) as writer:
            for Q, _ in pieces():
                digests.append(hashlib.sha256(memoryview(writer.write(Q, P).samples)).hexdigest())
        encode_seconds = time.perf_counter() - start
        encode_peak = peak_mib()
        size = os.path.getsize(path)
        start = time.perf_counter()
        position, buffer, checked = 0, [], 0
        with rf.read_stream(path, P, threads=args.threads) as reader:
            for chunk in reader:
                buffer.append(chunk.samples)
                position = chunk.stop
                if position == sum(lengths[:checked + 1]):
                    samples = np.concatenate(buffer)
                    if hashlib.sha256(memoryview(samples)).hexdigest() != digests[checked]:
                        print(f"piece {checked}: decoded samples differ from the encoder's")
                        return 1
                    buffer, checked = [], checked + 1
        decode_seconds = time.perf_counter() - start
        if checked != len(lengths):
            print(f"only {checked} of {len(lengths)} pieces were decoded")
            return 1
    print(f"{'step':<8} {'seconds':>9} {'elements/s':>12} {'peak RSS MiB':>13}")
    print(f"{'encode':<8} {encode_seconds:>9.1f} {args.count / encode_seconds:>12,.0f} {encode_peak:>13.1f}")
    print(f"{'decode':<8} {decode_seconds:>9.1f} {args.count / decode_seconds:>12,.0f} {peak_mib():>13.1f}")
    print(f"stream: {size:,} bytes, {8 * size / args.count:.3f} bits/element; every piece decoded bit-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())

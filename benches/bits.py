"""Bits per sample of every method, whole streams counted (header, models, checksums).

Two workloads, printed as Markdown tables:

* the GPRS paper's Gaussian channel (``rec_fast.channel``): Y ~ N(0, s²), Q = N(Y, 1),
  P = N(0, 1 + s²), I = ½·log₂(1 + s²) bits, ``--count`` targets per stream (default 4,000),
  against the mean D_CS + log₂(1 + e) of the targets and the paper's figures;
* the demo workload of ``python -m rec_fast demo`` (Gaussian targets with KL spread around
  4 bits against N(0, 1)), ``--demo-count`` targets (default 200,000; a tenth for the global
  methods), against KL and KL + log₂(KL + 1).

Both container versions are measured on the same encodings' targets.

    python benches/bits.py
    python benches/bits.py --count 4000 --demo-count 50000
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import rec_fast as rf
from rec_fast.workloads import default_workload
from rec_fast.channel import GLOBAL_METHODS, bits_table, format_bits_table


def demo_rows(count: int, seed: int):
    rows = []
    for method in rf.METHODS:
        n = count // 10 if method in GLOBAL_METHODS else count
        Q, P = default_workload(n, seed)
        kl = float(np.mean(rf.kl_divergence(Q, P)))
        row = {"method": method, "count": n, "kl": kl}
        for version in (2, 1):
            enc = rf.encode(Q, P, seed=1, method=method, format_version=version)
            data = enc.to_bytes()
            assert np.array_equal(rf.decode(data, P), enc.samples)
            row[version] = 8 * len(data) / n
            if version == 2:
                row["header"] = enc.header_bits / n
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="targets per channel stream")
    parser.add_argument("--demo-count", type=int, default=200_000, help="targets of the demo workload")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    print(f"Gaussian channel, {arguments.count:,} targets per stream, bits per sample of the whole stream "
          "(format version 2):\n")
    print(format_bits_table(bits_table(count=arguments.count, seed=arguments.seed)))
    print(f"\nThe same, format version 1 (Elias delta codes):\n")
    print(format_bits_table(bits_table(count=arguments.count, seed=arguments.seed, format_version=1)))

    print(f"\nDemo workload (rf.encode defaults), bits per sample of the whole stream:\n")
    print("| method | targets | mean KL | version 2 | − KL | of which header | version 1 | − KL | KL + log₂(KL + 1) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in demo_rows(arguments.demo_count, arguments.seed):
        kl = row["kl"]
        print(f"| {row['method']} | {row['count']:,} | {kl:.3f} | {row[2]:.3f} | +{row[2] - kl:.2f} | "
              f"{row['header']:.4f} | {row[1]:.3f} | +{row[1] - kl:.2f} | {kl + math.log2(kl + 1):.3f} |")


if __name__ == "__main__":
    main()

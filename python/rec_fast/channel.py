"""The Gaussian channel workload of the GPRS paper, and the bits every method spends on it.

Flamich (*Greedy Poisson Rejection Sampling*, NeurIPS 2023, Figure 2) codes the posterior of
a Gaussian channel: Y ~ N(0, s²), Q = N(Y, 1), P = N(0, 1 + s²), with mutual information
I = ½·log₂(1 + s²) bits, which is also the mean KL[Q‖P]. :func:`bits_table` runs every method
on that workload and reports the whole stream's bits per sample, ``8 * len(enc.to_bytes()) /
count`` (header, models and checksums included), next to KL, the mean channel simulation
divergence D_CS, the Goc–Flamich bound D_CS + log₂(1 + e) on the entropy of a GPRS index,
and the paper's published figures.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ._api import METHODS, Normal, channel_simulation_divergence, decode, encode, kl_divergence

#: log₂(1 + e): the Goc–Flamich gap between D_CS and the entropy of a GPRS index.
GPRS_INDEX_GAP = math.log2(1 + math.e)

#: The paper's codelengths in bits (data of its Figure 2) by I: the dyadic branch-and-bound
#: GPRS (the better of its branch-and-bound variants) and global GPRS.
PAPER_BRANCH_AND_BOUND: Dict[float, float] = {
    0.1: 4.22, 0.94: 4.65, 1.8: 5.83, 3.5: 8.08, 6.0: 11.11, 9.45: 15.08, 12.0: 17.95}
PAPER_GLOBAL: Dict[float, float] = {0.1: 3.37, 0.94: 4.45, 1.8: 5.36, 3.5: 7.08, 6.0: 9.43}

#: The mutual informations (bits) of the paper's figure.
INFORMATIONS: Tuple[float, ...] = tuple(PAPER_BRANCH_AND_BOUND)

#: Methods that need about 2^D∞ arrivals per sample: run only up to ``max_global_information``.
GLOBAL_METHODS = ("gprs", "pfr", "gprs-parallel")


def gaussian_channel(information: float, count: int, seed: int = 0) -> Tuple[Normal, Normal]:
    """``count`` posteriors Q = N(y, 1) of the channel with I = ``information`` bits, and P.

    y ~ N(0, s²) with s² = 2^(2I) − 1, drawn with ``numpy.random.default_rng(seed)``;
    P = N(0, 1 + s²), the channel's output marginal.
    """
    variance = 2.0 ** (2.0 * information) - 1.0
    y = np.random.default_rng(seed).normal(0.0, math.sqrt(variance), count)
    return Normal(y, 1.0), Normal(0.0, math.sqrt(1.0 + variance))


def bits_table(informations: Iterable[float] = INFORMATIONS, methods: Optional[Sequence[str]] = None,
               count: int = 4000, seed: int = 0, max_global_information: float = 6.5,
               format_version: int = 2) -> List[Dict[str, object]]:
    """One row per I: KL, D_CS and each method's bits per sample on the channel workload.

    Each method encodes the same ``count`` targets (encoder seed 1), and the stream is decoded
    and checked bit for bit. Row keys: ``information``, ``kl``, ``dcs`` (means, bits),
    ``bound`` (mean D_CS + log₂(1 + e)), ``paper_bb``, ``paper_global`` (NaN where the paper
    has no figure) and, per method, its bits per sample (NaN where skipped).
    """
    methods = list(METHODS if methods is None else methods)
    rows = []
    for information in informations:
        Q, P = gaussian_channel(information, count, seed)
        dcs = float(np.mean(channel_simulation_divergence(Q, P)))
        row: Dict[str, object] = {
            "information": information, "kl": float(np.mean(kl_divergence(Q, P))), "dcs": dcs,
            "bound": dcs + GPRS_INDEX_GAP,
            "paper_bb": PAPER_BRANCH_AND_BOUND.get(information, math.nan),
            "paper_global": PAPER_GLOBAL.get(information, math.nan)}
        for method in methods:
            if method in GLOBAL_METHODS and information > max_global_information:
                row[method] = math.nan
                continue
            enc = encode(Q, P, seed=1, method=method, format_version=format_version)
            data = enc.to_bytes()
            if not np.array_equal(decode(data, P).view(np.uint64), enc.samples.view(np.uint64)):
                raise AssertionError(f"{method} at I = {information}: the round trip is not bit-identical")
            row[method] = 8 * len(data) / count
        rows.append(row)
    return rows


def format_bits_table(rows: List[Dict[str, object]], methods: Optional[Sequence[str]] = None) -> str:
    """The rows of :func:`bits_table` as a Markdown table (bits per sample; "—" where skipped)."""
    methods = list(METHODS if methods is None else methods)

    def cell(value: object) -> str:
        return "—" if isinstance(value, float) and math.isnan(value) else f"{value:.2f}"

    header = ["I", "KL", "D_CS", "D_CS + log₂(1+e)", *methods, "paper B&B", "paper global"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{row['information']:g}", cell(row["kl"]), cell(row["dcs"]), cell(row["bound"]),
                 *(cell(row[m]) for m in methods), cell(row["paper_bb"]), cell(row["paper_global"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

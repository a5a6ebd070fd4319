"""Side-by-side comparison of the channel-simulation methods on one API and one bitstream.

:func:`compare` encodes ``count`` copies of each (Q, P) pair with each method, decodes the real
container, checks the round trip, and reports runtime (arrivals examined), codelength (bits in
the stream) and throughput next to KL, D∞ and D_CS. ``python -m rec_fast compare`` prints it.
"""

from __future__ import annotations

import numbers
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ._api import (METHODS, Distribution, Laplace, Normal, RecError, Uniform, channel_simulation_divergence,
                   decode, encode, kl_divergence, max_divergence)

#: Distribution classes by family name.
FAMILIES = {"Normal": Normal, "Laplace": Laplace, "Uniform": Uniform}

#: The built-in suite: (name, Q family, Q parameters, P family, P parameters). KL from 0.01 to
#: 20 bits, targets in P's tail, a plateau ratio, and a uniform target whose ratio has
#: two-interval superlevel sets (the branch-and-bound methods report that they do not apply).
BUILTIN_SUITE: Tuple[Tuple[str, str, Tuple[float, float], str, Tuple[float, float]], ...] = (
    ("near-identical", "Normal", (0.1, 0.97), "Normal", (0.0, 1.0)),
    ("talk example", "Normal", (1.0, 0.25), "Normal", (0.0, 1.0)),
    ("narrow, in tail", "Normal", (3.0, 0.1), "Normal", (0.0, 1.0)),
    ("very narrow", "Normal", (0.0, 0.00015), "Normal", (0.0, 1.0)),
    ("deep tail, 20 bits", "Normal", (9.5, 0.05), "Normal", (5.0, 1.0)),
    ("Laplace b = 1/2", "Laplace", (0.0, 0.5), "Laplace", (0.0, 1.0)),
    ("Laplace, offset", "Laplace", (1.5, 0.2), "Laplace", (0.0, 1.0)),
    ("Laplace, equal scales", "Laplace", (0.5, 1.0), "Laplace", (0.0, 1.0)),
    ("U in U, w = 1/4", "Uniform", (0.2, 0.45), "Uniform", (0.0, 1.0)),
    ("U on Normal", "Uniform", (0.5, 0.6), "Normal", (0.0, 1.0)),
    ("U on Laplace, tail", "Uniform", (-3.0, -2.9), "Laplace", (0.0, 1.0)),
    ("U around N's mode", "Uniform", (-1.0, 2.0), "Normal", (0.0, 1.0)),
)


def builtin_pairs() -> List[Tuple[str, Distribution, Distribution]]:
    """:data:`BUILTIN_SUITE` as (name, Q, P)."""
    return [(name, FAMILIES[q_family](*q), FAMILIES[p_family](*p))
            for name, q_family, q, p_family, p in BUILTIN_SUITE]

#: Methods whose runtime is about 2^D∞ arrivals; skipped above ``max_global_bits``.
GLOBAL_METHODS = ("gprs", "pfr", "gprs-parallel")


def compare(pairs: Optional[Iterable[Tuple[str, Distribution, Distribution]]] = None,
            methods: Optional[Sequence[str]] = None, count: int = 20_000, seed: int = 0,
            max_global_bits: float = 13.0) -> List[Dict[str, object]]:
    """Run every method on every pair; return one row (a dict) per (pair, method).

    ``pairs`` holds (name, Q, P) with scalar Q and P of a supported pair of families (default:
    :data:`BUILTIN_SUITE`).
    Methods that need about 2^D∞ arrivals are skipped (row with ``skipped`` set) when D∞
    exceeds ``max_global_bits``; a method that raises (a search bound, an unbounded ratio) gets a
    row with the error in ``skipped``, and D_CS is NaN where it cannot be computed. Rows hold: pair, method, kl, max_divergence, dcs (bits),
    mean_steps, median_steps, mean_bits (bits per element of the whole stream, header included),
    encode_per_second, decode_per_second, identical (decode == samples bit for bit).
    ``count`` must be ≥ 1 (:class:`RecError`).

    >>> import rec_fast as rf
    >>> rows = rf.compare([("narrow", rf.Normal(0.5, 0.2), rf.Normal(0.0, 1.0))], ["gprs-bb"], count=500)
    >>> rows[0]["method"], rows[0]["identical"], rows[0]["kl"] > 1
    ('gprs-bb', True, True)
    """
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise TypeError(f"count must be an int, got {type(count).__name__}")
    if count < 1:
        raise RecError(f"count = {count}; count must be ≥ 1")
    if pairs is None:
        pairs = builtin_pairs()
    methods = list(METHODS if methods is None else methods)
    for method in methods:
        if method not in METHODS:
            raise RecError(f"unknown method {method!r}; available methods are {', '.join(map(repr, METHODS))}")
    rows: List[Dict[str, object]] = []
    for name, Q, P in pairs:
        if Q.shape != () or P.shape != ():
            raise RecError(f"pair {name!r}: compare takes scalar distributions")
        kl, dmax = float(kl_divergence(Q, P)), float(max_divergence(Q, P))
        try:
            dcs = float(channel_simulation_divergence(Q, P))
        except RecError:
            dcs = float("nan")  # e.g. an unbounded ratio: the methods below will say why
        first, second = Q._parameters()
        batch = type(Q)(np.full(count, float(first)), float(second))
        for method in methods:
            row: Dict[str, object] = {"pair": name, "method": method, "kl": kl,
                                      "max_divergence": dmax, "dcs": dcs}
            # An unbounded ratio goes to the encoder, whose error says why.
            if method in GLOBAL_METHODS and max_global_bits < dmax < float("inf"):
                row["skipped"] = f"D∞ = {dmax:.1f} bits: about 2^D∞ arrivals per sample"
                rows.append(row)
                continue
            start = time.perf_counter()
            try:
                enc = encode(batch, P, seed=seed, method=method)
            except RecError as error:
                row["skipped"] = f"{type(error).__name__}: {error}"
                rows.append(row)
                continue
            encode_seconds = time.perf_counter() - start
            data = enc.to_bytes()
            start = time.perf_counter()
            decoded = decode(data, P)
            decode_seconds = time.perf_counter() - start
            row.update(
                mean_steps=float(enc.steps.mean()), median_steps=float(np.median(enc.steps)),
                mean_bits=8 * len(data) / count, encode_per_second=count / encode_seconds,
                decode_per_second=count / decode_seconds,
                identical=bool(np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64))))
            rows.append(row)
    return rows


def format_table(rows: List[Dict[str, object]]) -> str:
    """The rows as a fixed-width text table."""
    header = (f"{'pair':22s} {'method':13s} {'KL':>7s} {'D∞':>7s} {'D_CS':>7s} {'mean steps':>11s} "
              f"{'median':>7s} {'mean bits':>9s} {'encode/s':>11s} {'decode/s':>12s}")
    lines = [header, "-" * len(header)]
    for row in rows:
        prefix = (f"{row['pair']:22s} {row['method']:13s} {row['kl']:7.3f} {row['max_divergence']:7.3f} "
                  f"{row['dcs']:7.3f}")
        if "skipped" in row:
            # The first clause of the reason (the full message is in the row).
            reason = str(row["skipped"]).removeprefix("RecError: ").removeprefix("element 0: ")
            reason = reason.split(", but")[0].split(";")[0]
            lines.append(f"{prefix} skipped ({reason})")
        else:
            lines.append(f"{prefix} {row['mean_steps']:11.2f} {row['median_steps']:7.0f} {row['mean_bits']:9.3f} "
                         f"{row['encode_per_second']:11,.0f} {row['decode_per_second']:12,.0f}"
                         + ("" if row["identical"] else "  ROUND TRIP FAILED"))
    return "\n".join(lines)

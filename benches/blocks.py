"""Block coding (``rf.encode_blocks``): bits, steps, speed and memory, printed as Markdown tables.

Three parts, all measured side by side in one run of this script:

1. **Exact method** on the COMBINER-like profile (``rec_fast.workloads.combiner_profile``,
   ``--d`` dimensions, default 200,000) and on the VAE-latent profile (``vae_profile``,
   ``--vae-d``, default 65,536): the layout built by the encoder and stored in the stream
   (``layout=None``: the defaults, 10 bits per block, at most 12 dimensions), shared layouts
   ``BlockLayout.from_kl(kl, bits_per_block=B, max_block_size=M, seed=1)`` for (B, M) in
   (8, 16), (12, 16) (the default), (16, 16), (12, 18), and per-dimension coding (``rf.encode(Q, P,
   method="gprs-bb")``) for reference. Bits are whole streams (``8 * len(bytes)``, header and
   stored layout included) over the total KL. Every stream is decoded and compared with
   ``enc.samples`` bit for bit. A row whose encoding raises is printed as failed with the
   error; if any row fails and the profile has dimensions whose posterior scale is below
   ``--min-scale`` (too narrow for a branch-and-bound search's floating-point intervals), the
   failed rows are repeated on the profile without those dimensions.
2. **Budget method vs the numpy COMBINER reference** (``benches/combiner_reference.py``) on the
   same blocks: a shared layout ``from_kl(kl, bits_per_block=16, max_block_size=64, seed=1)``
   over ``combiner_profile(--budget-d)`` (sized so the numpy reference takes 10–20 s), coded
   by ``rf.encode_blocks(method="budget", bits_per_block=16, layout=...)`` with 1 thread and
   all cores, with and without ``effective_sample_size=True``, and by
   ``encode_blocks_numpy``. The stream's bits are compared with 16 × blocks (also at ``--d``,
   where the fixed header weighs less).
3. **Memory**: the exact method on ``combiner_profile(--memory-d)`` (default 10⁷; 10⁶ with
   ``--quick``) in a child interpreter, peak RSS (the child's ``ru_maxrss``) and bytes per
   dimension, plus the encode and decode times: the stored layout (full run only) and the shared
   layout B = 12, M = 16. Each configuration is first measured at 10⁶;
   one whose extrapolated encode time at ``--memory-d`` exceeds ``--memory-max-seconds``
   (default 600) is not run there, and its figures are extrapolated linearly instead (and
   marked so).

Timings: ``time.perf_counter``, best of 1, after a warm-up on a small workload. The exact
method and ``rf.encode`` use all cores (``threads=None``) unless a row says otherwise.
``OPENBLAS_NUM_THREADS`` is set to 1 before numpy is imported (multithreaded OpenBLAS is
pathologically slow for the reference's skinny products on small machines).

    python benches/blocks.py                 # about 13 minutes on 2 cores
    python benches/blocks.py --quick         # smoke test, under a minute
    python benches/blocks.py --d 100000 --memory-d 1000000
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy is imported, here and in the children

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

import rec_fast as rf
from rec_fast.workloads import Workload, combiner_profile, vae_profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from combiner_reference import encode_blocks_numpy, expected_ess  # noqa: E402

SHARED_LAYOUTS = [(8, 16), (12, 16), (16, 16), (12, 18)]
BUDGET_BITS = 16
BUDGET_MAX_BLOCK = 64
LAYOUT_SEED = 1


# ---------------------------------------------------------------- helpers

def identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equality of two float64 arrays."""
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.uint64), b.view(np.uint64)))


def without_narrow(w: Workload, min_scale: float) -> tuple[Workload, np.ndarray]:
    """The workload without the dimensions whose posterior scale is below ``min_scale``."""
    keep = w.q_scale >= min_scale
    return Workload(*(a[keep] for a in (w.q_loc, w.q_scale, w.p_loc, w.p_scale, w.kl_bits))), np.flatnonzero(~keep)


def short_error(error: BaseException, limit: int = 400) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def warm_up(seed: int) -> None:
    """One small call of every code path timed below (thread pools, page faults, caches)."""
    w = combiner_profile(2_000, seed + 1)
    Q, P = w.target(), w.prior()
    enc = rf.encode_blocks(Q, P, seed=seed)
    rf.decode_blocks(enc.to_bytes(), P)
    layout = rf.BlockLayout.from_kl(w.kl_bits, bits_per_block=8, max_block_size=16, seed=LAYOUT_SEED)
    enc = rf.encode_blocks(Q, P, seed=seed, layout=layout)
    rf.decode_blocks(enc.to_bytes(), P, layout)
    enc = rf.encode(Q, P, seed=seed, method="gprs-bb")
    rf.decode(enc.to_bytes(), P)


# ---------------------------------------------------------------- 1. exact method

def exact_row(label: str, w: Workload, seed: int, shared: tuple[int, int] | None) -> dict:
    """Encode (and decode) ``w`` by the exact method with a stored (None) or shared (B, M) layout."""
    Q, P = w.target(), w.prior()
    row = {"label": label, "d": w.d}
    layout = None
    if shared is not None:
        layout = rf.BlockLayout.from_kl(w.kl_bits, bits_per_block=shared[0], max_block_size=shared[1],
                                        seed=LAYOUT_SEED)
    start = time.perf_counter()
    try:
        enc = rf.encode_blocks(Q, P, seed=seed, layout=layout)
    except Exception as error:  # noqa: BLE001 - reported in the table
        row["error"] = short_error(error)
        row["seconds"] = time.perf_counter() - start
        return row
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode_blocks(data, P, layout)
    decode_seconds = time.perf_counter() - start
    steps = enc.block_steps
    blocks = enc.layout.num_blocks
    row.update(blocks=blocks, dims_per_block=w.d / blocks, kl_per_block=enc.kl_bits / blocks,
               ratio=8 * len(data) / w.total_kl_bits, header=enc.header_bits,
               steps_mean=float(steps.mean()), steps_p99=float(np.percentile(steps, 99)),
               steps_max=int(steps.max()), encode=w.d / encode_seconds, decode=w.d / decode_seconds,
               ok=identical(decoded, enc.samples))
    return row


def per_dimension_row(w: Workload, seed: int) -> dict:
    Q, P = w.target(), w.prior()
    row = {"label": 'per dimension, rf.encode(method="gprs-bb")', "d": w.d}
    start = time.perf_counter()
    try:
        enc = rf.encode(Q, P, seed=seed, method="gprs-bb")
    except Exception as error:  # noqa: BLE001
        row["error"] = short_error(error)
        row["seconds"] = time.perf_counter() - start
        return row
    encode_seconds = time.perf_counter() - start
    data = enc.to_bytes()
    start = time.perf_counter()
    decoded = rf.decode(data, P)
    decode_seconds = time.perf_counter() - start
    steps = np.asarray(enc.steps).ravel()
    row.update(blocks=w.d, dims_per_block=1.0, kl_per_block=w.total_kl_bits / w.d,
               ratio=8 * len(data) / w.total_kl_bits, header=enc.header_bits,
               steps_mean=float(steps.mean()), steps_p99=float(np.percentile(steps, 99)),
               steps_max=int(steps.max()), encode=w.d / encode_seconds, decode=w.d / decode_seconds,
               ok=identical(decoded, enc.samples))
    return row


EXACT_HEADER = ("| layout | blocks | dims/block | KL/block | bits / KL | header bits | steps mean | p99 | max "
                "| encode dims/s | decode dims/s | round trip |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def print_exact_table(title: str, w: Workload, seed: int, only: set[str] | None = None) -> list[dict]:
    print(f"\n{title}: d = {w.d:,}, total KL {w.total_kl_bits:,.1f} bits "
          f"({w.total_kl_bits / w.d:.3f} bits/dim, max {w.kl_bits.max():.1f}), seed {seed}\n", flush=True)
    print(EXACT_HEADER, flush=True)
    configs = [("stored (layout=None), B=10, M=12", None)]
    configs += [(f"shared from_kl, B={b}, M={m}", (b, m)) for b, m in SHARED_LAYOUTS]
    configs += [('per dimension, rf.encode(method="gprs-bb")', "gprs-bb")]
    rows, notes = [], []
    for label, shared in configs:
        if only is not None and label not in only:
            continue
        row = per_dimension_row(w, seed) if shared == "gprs-bb" else exact_row(label, w, seed, shared)
        rows.append(row)
        if "error" in row:
            notes.append(row["error"])
            print(f"| {row['label']} | FAILED after {row['seconds']:.1f} s (note {len(notes)}) "
                  "| | | | | | | | | | |", flush=True)
            continue
        print(f"| {row['label']} | {row['blocks']:,} | {row['dims_per_block']:.2f} | {row['kl_per_block']:.2f} "
              f"| {row['ratio']:.3f} | {row['header']:,} | {row['steps_mean']:,.1f} | {row['steps_p99']:,.0f} "
              f"| {row['steps_max']:,} | {fmt_rate(row['encode'])} | {fmt_rate(row['decode'])} "
              f"| {'bit-identical' if row['ok'] else 'MISMATCH'} |", flush=True)
    for i, note in enumerate(notes, 1):
        print(f"\nnote {i}: {note}")
    return rows


def exact_section(w: Workload, title: str, seed: int, min_scale: float) -> bool:
    rows = print_exact_table(title, w, seed)
    ok = all(row.get("ok", True) for row in rows)
    failed = {row["label"] for row in rows if "error" in row}
    trimmed, dropped = without_narrow(w, min_scale)
    if failed and dropped.size:
        print(f"\n{dropped.size} dimension(s) of this profile have a posterior scale below {min_scale:g} "
              "(a branch-and-bound search needs intervals wider than float64 resolution there):")
        for i in dropped[np.argsort(w.kl_bits[dropped])[::-1]][:10]:
            print(f"  dim {i}: KL {w.kl_bits[i]:.2f} bits, mu {w.q_loc[i]:+.3f}, s {w.q_scale[i]:.3e}")
        rows = print_exact_table(f"The failed row(s) again, without those {dropped.size} dimension(s)", trimmed, seed,
                                 only=failed)
        ok &= all(row.get("ok", True) for row in rows)
    return ok


# ---------------------------------------------------------------- 2. budget vs numpy

def budget_section(d: int, seed: int, full: Workload) -> bool:
    w = combiner_profile(d, seed)
    Q, P = w.target(), w.prior()
    layout = rf.BlockLayout.from_kl(w.kl_bits, bits_per_block=BUDGET_BITS, max_block_size=BUDGET_MAX_BLOCK,
                                    seed=LAYOUT_SEED)
    block_of = np.asarray(layout.block_of)
    blocks = layout.num_blocks
    block_kl = np.bincount(block_of, weights=w.kl_bits, minlength=blocks)
    print(f"\nCOMBINER-like profile, d = {w.d:,} (total KL {w.total_kl_bits:,.1f} bits), shared layout "
          f"from_kl(kl, bits_per_block={BUDGET_BITS}, max_block_size={BUDGET_MAX_BLOCK}, seed={LAYOUT_SEED}): "
          f"{blocks:,} blocks, {w.d / blocks:.1f} dims/block, KL/block mean {block_kl.mean():.2f}, "
          f"max {block_kl.max():.2f} bits; {int((block_kl > BUDGET_BITS).sum())} block(s) with KL > "
          f"{BUDGET_BITS} bits. Both coders get the same blocks (layout.block_of); {BUDGET_BITS} bits "
          f"= 2^{BUDGET_BITS} candidates per block; seed {seed}.\n", flush=True)

    # Warm-up: the first block of each coder (and one small Rust stream per thread setting).
    first = block_of == 0
    encode_blocks_numpy(w.q_loc[first], w.q_scale[first], w.p_loc[first], w.p_scale[first],
                        np.zeros(int(first.sum()), dtype=np.int64), BUDGET_BITS, seed)
    small = combiner_profile(1_000, seed + 1)
    small_layout = rf.BlockLayout.from_kl(small.kl_bits, bits_per_block=BUDGET_BITS,
                                          max_block_size=BUDGET_MAX_BLOCK, seed=LAYOUT_SEED)
    for threads in (1, None):
        rf.encode_blocks(small.target(), small.prior(), seed=seed, method="budget", bits_per_block=BUDGET_BITS,
                         layout=small_layout, threads=threads, effective_sample_size=True)

    start = time.perf_counter()
    _, numpy_samples, numpy_ess = encode_blocks_numpy(w.q_loc, w.q_scale, w.p_loc, w.p_scale, block_of,
                                                      BUDGET_BITS, seed)
    numpy_seconds = time.perf_counter() - start
    numpy_rate = w.d / numpy_seconds
    expected = np.array([expected_ess(w.q_loc[block_of == b], w.q_scale[block_of == b], 0.0, 1.0, BUDGET_BITS)
                         for b in range(blocks)])

    print("| coder | threads | ESS evaluated | seconds | dims/s | rust / numpy | stream bits | / (16 × blocks) "
          "| ESS mean | ESS median | ESS min | round trip |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| numpy reference (encode_blocks_numpy) | 1 | yes | {numpy_seconds:.2f} | {fmt_rate(numpy_rate)} | 1.00 "
          f"| {blocks * BUDGET_BITS:,} (indices) | — | {numpy_ess.mean():,.0f} | {np.median(numpy_ess):,.0f} "
          f"| {numpy_ess.min():,.2f} | — |", flush=True)
    ok = True
    ratios = []
    for ess in (False, True):
        for threads in (1, None):
            start = time.perf_counter()
            try:
                enc = rf.encode_blocks(Q, P, seed=seed, method="budget", bits_per_block=BUDGET_BITS, layout=layout,
                                       threads=threads, effective_sample_size=ess)
            except Exception as error:  # noqa: BLE001
                print(f"| rf.encode_blocks budget | {threads or 'all'} | {'yes' if ess else 'no'} "
                      f"| FAILED: {short_error(error)} | | | | | | | | |")
                continue
            seconds = time.perf_counter() - start
            data = enc.to_bytes()
            same = identical(rf.decode_blocks(data, P, layout, threads=threads), enc.samples)
            ok &= same
            ratio = 8 * len(data) / (BUDGET_BITS * blocks)
            ratios.append(ratio)
            if ess:
                e = enc.block_ess
                ess_cells = f"{e.mean():,.0f} | {np.median(e):,.0f} | {e.min():,.2f}"
            else:
                ess_cells = "— | — | —"
            print(f"| rf.encode_blocks budget | {threads or 'all'} | {'yes' if ess else 'no'} | {seconds:.2f} "
                  f"| {fmt_rate(w.d / seconds)} | {w.d / seconds / numpy_rate:.2f} | {8 * len(data):,} "
                  f"| {ratio:.4f} | {ess_cells} | {'bit-identical' if same else 'MISMATCH'} |", flush=True)
    print(f"\nN / E_P[r²] (the large-N ESS, closed form) per block: mean {expected.mean():,.1f}, median "
          f"{np.median(expected):,.3g}, min {expected.min():,.3g}. The two coders use different random numbers, "
          "so only the ESS distributions compare. numpy reference samples finite: "
          f"{bool(np.all(np.isfinite(numpy_samples)))}.")
    if ratios:
        worst = max(ratios)
        header_bits = int(round((worst - 1.0) * BUDGET_BITS * blocks))
        print(f"Stream bits / (16 × blocks) at d = {w.d:,}: {worst:.4f} ({header_bits} bits of header, chunk framing "
              f"and checksums on {BUDGET_BITS * blocks:,} payload bits) -> "
              f"{'within' if worst <= 1.03 else 'NOT within'} 3%.")

    # The same check where the fixed header weighs less: the whole --d profile, all cores, no ESS.
    big_layout = rf.BlockLayout.from_kl(full.kl_bits, bits_per_block=BUDGET_BITS, max_block_size=BUDGET_MAX_BLOCK,
                                        seed=LAYOUT_SEED)
    FQ, FP = full.target(), full.prior()
    start = time.perf_counter()
    try:
        enc = rf.encode_blocks(FQ, FP, seed=seed, method="budget", bits_per_block=BUDGET_BITS, layout=big_layout)
    except Exception as error:  # noqa: BLE001
        print(f"Budget method at d = {full.d:,}: FAILED: {short_error(error)}")
        return ok
    seconds = time.perf_counter() - start
    data = enc.to_bytes()
    same = identical(rf.decode_blocks(data, FP, big_layout), enc.samples)
    ok &= same
    ratio = 8 * len(data) / (BUDGET_BITS * big_layout.num_blocks)
    print(f"Budget method at d = {full.d:,} ({big_layout.num_blocks:,} blocks, all cores, no ESS): "
          f"{seconds:.2f} s = {fmt_rate(full.d / seconds)} dims/s; stream bits {8 * len(data):,} / "
          f"(16 × blocks) = {ratio:.4f} -> {'within' if ratio <= 1.03 else 'NOT within'} 3%; round trip "
          f"{'bit-identical' if same else 'MISMATCH'}.", flush=True)
    return ok


# ---------------------------------------------------------------- 3. memory

CHILD = r'''
import os, sys, time, json, resource
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np
import rec_fast as rf
from rec_fast.workloads import combiner_profile

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")

d, seed, config, min_scale = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
out = {"d": d, "config": config}
start = time.perf_counter()
w = combiner_profile(d, seed)
arrays = [w.q_loc, w.q_scale, w.p_loc, w.p_scale, w.kl_bits]
keep = w.q_scale >= (min_scale if len(sys.argv) > 5 and sys.argv[5] == "drop" else 0.0)
n = int(keep.sum())
out["dropped"] = d - n
if n < d:  # compact in place (no second copy of the workload)
    for i, a in enumerate(arrays):
        a[:n] = a[keep]
        arrays[i] = a[:n]
del keep, w
q_loc, q_scale, p_loc, p_scale, kl = arrays
out["kl_bits"] = float(kl.sum())
Q, P = rf.Normal(q_loc, q_scale), rf.Normal(p_loc, p_scale)
layout = None
if config != "stored":
    b, m = (int(x) for x in config.split(","))
    layout = rf.BlockLayout.from_kl(kl, bits_per_block=b, max_block_size=m, seed=1)
out["generate_seconds"] = time.perf_counter() - start
out["baseline_mib"] = rss_mib()
start = time.perf_counter()
try:
    enc = rf.encode_blocks(Q, P, seed=seed, layout=layout)
except Exception as error:
    out["error"] = f"{type(error).__name__}: {error}"[:400]
    out["encode_seconds"] = time.perf_counter() - start
    out["encode_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))
    sys.exit(0)
out["encode_seconds"] = time.perf_counter() - start
out["encode_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
data = enc.to_bytes()
out["bits"] = 8 * len(data)
out["blocks"] = enc.layout.num_blocks
out["steps_max"] = int(enc.block_steps.max())
start = time.perf_counter()
decoded = rf.decode_blocks(data, P, layout)
out["decode_seconds"] = time.perf_counter() - start
out["ok"] = bool(np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64)))
print(json.dumps(out))
'''


def run_child(d: int, seed: int, config: str, min_scale: float) -> dict:
    """CHILD on the profile as is and, if that raises, without the dimensions of scale < min_scale."""
    result = run_child_once(d, seed, config, min_scale, drop=False)
    if "error" in result and "SearchLimitError" in result["error"]:
        retry = run_child_once(d, seed, config, min_scale, drop=True)
        retry["first_error"] = result["error"]
        return retry
    return result


def run_child_once(d: int, seed: int, config: str, min_scale: float, drop: bool) -> dict:
    """Run CHILD in a fresh interpreter; its peak RSS from os.wait4 (that child's ru_maxrss)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(d), str(seed), config, repr(min_scale),
                                  "drop" if drop else "keep"],
                                 stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text, error_text = out.read(), err.read()
    if child.returncode != 0 or not text.strip():
        return {"d": d, "config": config, "error": f"child exited with {child.returncode}: {error_text.strip()[-400:]}",
                "peak_mib": usage.ru_maxrss / 1024.0, "wall": wall}
    result = json.loads(text.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024.0  # kilobytes on Linux
    result["wall"] = wall
    return result


def memory_section(memory_d: int, seed: int, min_scale: float, configs: list[str], max_seconds: float) -> bool:
    probe_d = min(memory_d, 1_000_000)
    names = {"stored": "stored (layout=None), B=10, M=12", "12,16": "shared from_kl, B=12, M=16"}
    print(f"\nExact method on combiner_profile(d, seed={seed}) in a child interpreter (all cores), the profile as "
          f"is (only if that raises SearchLimitError is it run again without the dimensions of posterior scale < "
          f"{min_scale:g}, counted as dropped). "
          "Peak RSS = the child's ru_maxrss (os.wait4, the per-child figure of RUSAGE_CHILDREN): "
          "interpreter, numpy, the workload's five float64 arrays (40 B/dim), the encoder and, for the "
          "whole-child figure, the decoder. Baseline = VmRSS just before encoding.\n")
    print("| layout | d | dims dropped | encode s | encode dims/s | decode s | peak RSS after encode MiB "
          "| B/dim | (peak − baseline) B/dim | whole child peak MiB | bits / KL | steps max | round trip |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    ok = True
    mib = 1024.0 * 1024.0

    def show(r: dict, label: str, estimated: bool = False) -> None:
        nonlocal ok
        if "error" in r:
            print(f"| {label} | {r['d']:,} | {r.get('dropped', '?')} | FAILED: {r['error']} | | | | | | "
                  f"{r['peak_mib']:.0f} | | | |", flush=True)
            return
        mark = "≈ " if estimated else ""
        ok &= bool(r.get("ok", True))
        d = r["d"]
        print(f"| {label} | {mark}{d:,} | {mark}{r['dropped']} | {mark}{r['encode_seconds']:.1f} "
              f"| {mark}{fmt_rate(d / r['encode_seconds'])} | {mark}{r['decode_seconds']:.2f} "
              f"| {mark}{r['encode_peak_mib']:,.0f} | {mark}{r['encode_peak_mib'] * mib / d:.0f} "
              f"| {mark}{(r['encode_peak_mib'] - r['baseline_mib']) * mib / d:.0f} | {mark}{r['peak_mib']:,.0f} "
              f"| {mark}{r['bits'] / r['kl_bits']:.3f} | {mark}{r['steps_max']:,} "
              f"| {'(estimated)' if estimated else ('bit-identical' if r['ok'] else 'MISMATCH')} |", flush=True)

    estimates, first_errors = [], []

    def measured(d: int, config: str) -> dict:
        r = run_child(d, seed, config, min_scale)
        if "first_error" in r:
            first_errors.append(f"{names.get(config, config)}, d = {d:,}, as is: {r['first_error']}")
        show(r, names.get(config, config))
        return r

    for config in configs:
        probe = measured(probe_d, config)
        if memory_d == probe_d or "error" in probe:
            continue
        factor = memory_d / probe_d
        predicted = probe["encode_seconds"] * factor
        if predicted <= max_seconds:
            measured(memory_d, config)
        else:
            guess = dict(probe)
            guess["d"] = memory_d
            for key in ("encode_seconds", "decode_seconds", "bits", "kl_bits"):
                guess[key] = probe[key] * factor
            guess["dropped"] = f"{probe['dropped'] * factor:.0f}"
            # RSS: the fixed part (interpreter, libraries) from the baseline minus the 40 B/dim workload.
            fixed = probe["baseline_mib"] - 40.0 * probe_d / mib
            for key in ("encode_peak_mib", "baseline_mib", "peak_mib"):
                guess[key] = fixed + (probe[key] - fixed) * factor
            show(guess, names.get(config, config), estimated=True)
            estimates.append(f"{names.get(config, config)}: d = {memory_d:,} not run: {probe['encode_seconds']:.1f} s "
                             f"at d = {probe_d:,} extrapolates to {predicted:.0f} s > {max_seconds:.0f} s; the row "
                             "marked ≈ scales the d = 10⁶ figures linearly (RSS above the interpreter's fixed part).")
    for text in estimates:
        print(f"\n{text}")
    for text in first_errors:
        print(f"\nFailed before dropping the narrow dimensions: {text}")
    return ok


# ---------------------------------------------------------------- machine

def _spin(_: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - start


def parallel_speedup() -> str:
    """How much faster os.cpu_count() busy processes finish their work than one (ideal: cpu_count)."""
    import multiprocessing

    count = os.cpu_count() or 1
    single = min(_spin(0) for _ in range(2))
    with multiprocessing.get_context("fork").Pool(count) as pool:
        pool.map(_spin, range(count))  # start-up
        start = time.perf_counter()
        pool.map(_spin, range(count))
        together = time.perf_counter() - start
    return f"{count * single / together:.2f}× of {count}"


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--d", type=int, default=None,
                        help="dimensions of the COMBINER-like profile (default 200,000; 20,000 with --quick)")
    parser.add_argument("--vae-d", type=int, default=None,
                        help="dimensions of the VAE profile (default 65,536; 8,192 with --quick)")
    parser.add_argument("--budget-d", type=int, default=None,
                        help="dimensions of the budget-vs-numpy comparison (default 12,000, about 15 s of numpy "
                             "reference on 2 cores; 1,500 with --quick)")
    parser.add_argument("--memory-d", type=int, default=None,
                        help="dimensions of the memory measurement (default 10,000,000; 1,000,000 with --quick)")
    parser.add_argument("--memory-max-seconds", type=float, default=600.0,
                        help="largest extrapolated encode time run at --memory-d (default 600)")
    parser.add_argument("--min-scale", type=float, default=1e-9,
                        help="posterior scale below which a dimension is dropped for the exact method when it fails "
                             "(default 1e-9)")
    parser.add_argument("--seed", type=int, default=0, help="workload and coding seed (default 0)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of under a minute")
    parser.add_argument("--skip", nargs="*", default=[], choices=("exact", "budget", "memory"),
                        help="parts to leave out")
    arguments = parser.parse_args(argv)
    quick = arguments.quick
    d = arguments.d or (20_000 if quick else 200_000)
    vae_d = arguments.vae_d or (8_192 if quick else 65_536)
    budget_d = arguments.budget_d or (1_500 if quick else 12_000)
    memory_d = arguments.memory_d or (1_000_000 if quick else 10_000_000)
    # --quick measures only the (faster) shared layout at 10^6; the full run both layouts.
    memory_configs = ["12,16"] if quick else ["stored", "12,16"]

    started = time.perf_counter()
    print(f"rec_fast {getattr(rf, '__version__', '?')}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} logical CPUs (os.cpu_count()); "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; {os.cpu_count()} busy processes run "
          f"{parallel_speedup()} as fast as one (a VM may not give every vCPU a core: 'all cores' figures vary).")
    print("All figures below are measured side by side in this one run: time.perf_counter, best of 1, after a warm-up "
          "on a small workload; threads = all cores unless stated. bits / KL counts the whole stream "
          "(8 * len(bytes): header, stored layout, chunk framing, models, checksums).", flush=True)
    warm_up(arguments.seed)
    ok = True
    full = combiner_profile(d, arguments.seed)
    if "exact" not in arguments.skip:
        print("\n## 1. Exact method (rf.encode_blocks, method=\"exact\")")
        ok &= exact_section(full, "COMBINER-like profile (combiner_profile)", arguments.seed, arguments.min_scale)
        ok &= exact_section(vae_profile(vae_d, arguments.seed), "VAE-latent profile (vae_profile)", arguments.seed,
                            arguments.min_scale)
        print(f"\n[part 1: {time.perf_counter() - started:.0f} s so far]", flush=True)
    if "budget" not in arguments.skip:
        print("\n## 2. Budget method vs the numpy COMBINER reference (truncated PFR, 2^16 candidates per block)")
        ok &= budget_section(budget_d, arguments.seed, full)
        print(f"\n[part 2: {time.perf_counter() - started:.0f} s so far]", flush=True)
    if "memory" not in arguments.skip:
        print("\n## 3. Memory of the exact method")
        ok &= memory_section(memory_d, arguments.seed, arguments.min_scale, memory_configs,
                             arguments.memory_max_seconds)
    print(f"\nTotal wall time: {time.perf_counter() - started:.0f} s; parallel speedup of busy processes now "
          f"{parallel_speedup()}.")
    if not ok:
        print("error: a decode did not reproduce enc.samples bit for bit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

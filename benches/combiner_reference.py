"""Vectorized numpy reference for COMBINER's block coder: truncated PFR with 2^bits candidates.

This is the baseline that rec_fast's "budget" block mode is measured against. It mirrors the
relative entropy coder of COMBINER (Z. Guo, G. Flamich, J. He, Z. Chen, J. M. Hernández-Lobato,
*Compression with Bayesian Implicit Neural Representations*, NeurIPS 2023): the d dimensions
of a diagonal Gaussian posterior Q are partitioned into blocks of roughly 16 bits of KL each,
and every block is coded on its own with the Poisson functional representation (PFR) truncated
at N = 2^bits candidates — also known as ordered random coding:

* draw N candidates x_1..x_N ~ P (the block's prior) and arrival times T_n = E_1 + … + E_n,
  E_k ~ Exp(1) (COMBINER's "ordered Gumbel" noise −log T_n);
* send n* = argmin_n (log T_n − log r(x_n)), r = dQ/dP, in exactly ``bits`` bits;
* the decoder regenerates x_{n*} from the shared randomness.

The decoded sample is distributed *approximately* as Q: the bias is small when bits exceeds
the block's KL by a few bits, and the effective sample size of the normalized weights
r(x_n)/Σ r, returned per block, is the usual diagnostic.

Differences from COMBINER's code, on purpose:

* independent randomness per block (``np.random.default_rng([seed, block])``), where COMBINER
  reuses one table of candidates and arrival times for all blocks;
* i.i.d. pseudo-random candidates, where COMBINER draws scrambled Sobol points mapped through
  the normal quantile function (and clamped to ±10).

Run it to time the coder on synthetic blocks and to sanity-check it:

    python benches/combiner_reference.py                       # 20 blocks × 16 dims, 16 bits
    python benches/combiner_reference.py --blocks 50 --dims 32 --block-kl 16 --bits 16

Needs only numpy (it does not import rec_fast).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

# Candidates are generated and scored in slices of at most this many bytes (and, once a
# block needs slicing, at most _MAX_SLICE_ROWS rows), so memory stays bounded for any bits.
_MAX_SLICE_BYTES = 64 << 20
_MAX_SLICE_ROWS = 1 << 14


def _slice_rows(n: int, dims: int, max_bytes: int) -> int:
    """Rows per slice: all N if N·dims float64s fit in max_bytes, else ≤ 2^14 rows that fit."""
    row_bytes = 8 * max(dims, 1)
    if n * row_bytes <= max_bytes:
        return n
    return max(1, min(_MAX_SLICE_ROWS, max_bytes // row_bytes))


def workspace_size(bits: int, dims: int, max_slice_bytes: int = _MAX_SLICE_BYTES) -> int:
    """float64 elements of candidate buffer that one block of ``dims`` dimensions needs."""
    return _slice_rows(1 << int(bits), dims, max_slice_bytes) * dims


def _candidate_buffer(rows: int, dims: int, workspace: np.ndarray | None) -> np.ndarray:
    if workspace is None:
        return np.empty((rows, dims))
    if workspace.dtype != np.float64 or workspace.size < rows * dims:
        raise ValueError("workspace must be a float64 array of at least workspace_size() elements")
    return workspace.reshape(-1)[:rows * dims].reshape(rows, dims)


def _block_params(q_loc, q_scale, p_loc, p_scale):
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (q_loc, q_scale, p_loc, p_scale)))
    if arrays[0].ndim != 1:
        raise ValueError("a block's parameters must be 1-D arrays (one entry per dimension)")
    return arrays


def _log_ratio_coefficients(q_loc, q_scale, p_loc, p_scale):
    """(c0, c1, c2) with log r(x) = c0 + Σ_i c1_i z_i + Σ_i c2_i z_i², for x = p_loc + p_scale·z.

    Closed form of Σ_i [log N(x_i; q_loc_i, q_scale_i²) − log N(x_i; p_loc_i, p_scale_i²)]:
    with a = (p_loc − q_loc)/q_scale and c = p_scale/q_scale, (x − q_loc)/q_scale = a + c·z, so
    log r = Σ log c − ½(a + c z)² + ½ z² = Σ (log c − ½a²) − Σ a c z + Σ ½(1 − c²) z².
    """
    a = (p_loc - q_loc) / q_scale
    c = p_scale / q_scale
    c0 = float(np.sum(np.log(c) - 0.5 * a * a))
    c1 = -a * c
    c2 = 0.5 * (1.0 - c) * (1.0 + c)
    return c0, c1, c2


def encode_block_numpy(q_loc, q_scale, p_loc, p_scale, bits: int, rng: np.random.Generator,
                       *, max_slice_bytes: int = _MAX_SLICE_BYTES, workspace: np.ndarray | None = None):
    """Code one block of a diagonal Gaussian Q against a diagonal Gaussian P by truncated PFR.

    Parameters are 1-D arrays over the block's dimensions (they broadcast together). Draws,
    from ``rng`` and in this order, N = 2^bits Exp(1) inter-arrival times, then the N × dims
    standard normals z of the candidates x_n = p_loc + p_scale·z_n (row by row, in slices of
    bounded size; slicing does not change the draws).

    Returns ``(index, sample, ess)``: the winning index n* = argmin_n (log T_n − log r(x_n))
    in [0, 2^bits), the sample x_{n*} (float64, shape (dims,)), and the effective sample size
    (Σ r)² / Σ r² of the N normalized importance weights.

    ``workspace``, if given, is a float64 buffer of at least ``workspace_size(bits, dims)``
    elements that holds the candidates (reusing it across blocks avoids fresh page faults).
    The sums over dimensions use ``np.einsum`` rather than BLAS: for these skinny products,
    multithreaded OpenBLAS is many times slower than einsum on small machines.
    """
    q_loc, q_scale, p_loc, p_scale = _block_params(q_loc, q_scale, p_loc, p_scale)
    dims = q_loc.shape[0]
    n = 1 << int(bits)
    log_t = np.log(np.cumsum(rng.standard_exponential(n)))
    c0, c1, c2 = _log_ratio_coefficients(q_loc, q_scale, p_loc, p_scale)

    rows = _slice_rows(n, dims, max_slice_bytes)
    z = _candidate_buffer(rows, dims, workspace)
    best_score, best_index, best_z = math.inf, -1, None
    # Streaming log-sum-exp of log r and 2·log r for the ESS, shifted by the running max.
    shift, sum_w, sum_w2 = -math.inf, 0.0, 0.0
    for lo in range(0, n, rows):
        k = min(rows, n - lo)
        zk = z[:k]
        rng.standard_normal(out=zk)
        log_r = np.einsum("ij,j->i", zk, c1)
        log_r += np.einsum("ij,ij,j->i", zk, zk, c2)
        log_r += c0
        score = log_t[lo:lo + k] - log_r
        j = int(np.argmin(score))
        if score[j] < best_score:
            best_score, best_index, best_z = float(score[j]), lo + j, zk[j].copy()
        top = float(log_r.max())
        if top > shift:
            sum_w *= math.exp(shift - top)
            sum_w2 *= math.exp(2.0 * (shift - top))
            shift = top
        w = np.exp(log_r - shift, out=log_r)
        sum_w += float(w.sum())
        sum_w2 += float(np.einsum("i,i->", w, w))
    ess = sum_w * sum_w / sum_w2
    return best_index, p_loc + p_scale * best_z, ess


def decode_block_numpy(index: int, p_loc, p_scale, dims: int, bits: int, rng: np.random.Generator,
                       *, max_slice_bytes: int = _MAX_SLICE_BYTES,
                       workspace: np.ndarray | None = None) -> np.ndarray:
    """The candidate ``index`` of a block, regenerated from the same randomness as the encoder."""
    n = 1 << int(bits)
    if not 0 <= index < n:
        raise ValueError(f"index {index} out of range for {bits} bits")
    p_loc, p_scale = np.broadcast_arrays(np.asarray(p_loc, dtype=np.float64),
                                         np.asarray(p_scale, dtype=np.float64))
    p_loc, p_scale = np.broadcast_to(p_loc, (dims,)), np.broadcast_to(p_scale, (dims,))
    rng.standard_exponential(n)  # the arrival times: drawn only to keep the stream in step
    rows = _slice_rows(n, dims, max_slice_bytes)
    z = _candidate_buffer(rows, dims, workspace)
    # Normals are drawn row after row, so stopping after row ``index`` reproduces it exactly.
    for lo in range(0, index + 1, rows):
        k = min(rows, index + 1 - lo)
        rng.standard_normal(out=z[:k])
    return p_loc + p_scale * z[k - 1]


def _blocks(block_of: np.ndarray):
    """(number of blocks, dimension indices sorted by block, start offset of each block)."""
    block_of = np.asarray(block_of)
    if block_of.ndim != 1 or (block_of.size and block_of.min() < 0):
        raise ValueError("block_of must be a 1-D array of block ids 0..B-1")
    n_blocks = int(block_of.max()) + 1 if block_of.size else 0
    order = np.argsort(block_of, kind="stable")
    starts = np.zeros(n_blocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(block_of, minlength=n_blocks), out=starts[1:])
    return n_blocks, order, starts


def _shared_workspace(bits: int, starts: np.ndarray) -> np.ndarray:
    """One candidate buffer big enough for every block (block sizes from ``starts``)."""
    sizes = np.unique(np.diff(starts))
    return np.empty(max((workspace_size(bits, int(c)) for c in sizes), default=0))


def encode_blocks_numpy(q_loc, q_scale, p_loc, p_scale, block_of, bits: int, seed: int):
    """Code every block of Q (dimension i in block ``block_of[i]``) with :func:`encode_block_numpy`.

    Block b uses its own generator ``np.random.default_rng([seed, b])``. Returns
    ``(indices (B,) int64, samples (d,) float64, ess (B,) float64)``.
    """
    block_of = np.asarray(block_of, dtype=np.int64)
    d = block_of.shape[0]
    q_loc, q_scale, p_loc, p_scale = (np.broadcast_to(np.asarray(a, dtype=np.float64), (d,))
                                      for a in (q_loc, q_scale, p_loc, p_scale))
    n_blocks, order, starts = _blocks(block_of)
    indices = np.empty(n_blocks, dtype=np.int64)
    ess = np.empty(n_blocks)
    samples = np.empty(d)
    workspace = _shared_workspace(bits, starts)
    for b in range(n_blocks):
        dims = order[starts[b]:starts[b + 1]]
        rng = np.random.default_rng([seed, b])
        indices[b], samples[dims], ess[b] = encode_block_numpy(
            q_loc[dims], q_scale[dims], p_loc[dims], p_scale[dims], bits, rng, workspace=workspace)
    return indices, samples, ess


def decode_blocks_numpy(indices, p_loc, p_scale, block_of, bits: int, seed: int) -> np.ndarray:
    """The samples of :func:`encode_blocks_numpy`, from its indices and P alone."""
    block_of = np.asarray(block_of, dtype=np.int64)
    d = block_of.shape[0]
    p_loc, p_scale = (np.broadcast_to(np.asarray(a, dtype=np.float64), (d,)) for a in (p_loc, p_scale))
    n_blocks, order, starts = _blocks(block_of)
    if len(indices) != n_blocks:
        raise ValueError(f"{len(indices)} indices for {n_blocks} blocks")
    samples = np.empty(d)
    workspace = _shared_workspace(bits, starts)
    for b in range(n_blocks):
        dims = order[starts[b]:starts[b + 1]]
        rng = np.random.default_rng([seed, b])
        samples[dims] = decode_block_numpy(int(indices[b]), p_loc[dims], p_scale[dims], dims.size,
                                           bits, rng, workspace=workspace)
    return samples


# ---------------------------------------------------------------- synthetic blocks (as in
# rec_fast.workloads, re-implemented here so this file needs only numpy)

def _scale_from_excess(b: np.ndarray) -> np.ndarray:
    """s ∈ (0, 1] with s² − 1 − ln s² = b, by Newton in u = −ln s² from u = b + 1 (above the root)."""
    u = b + 1.0
    for _ in range(100):
        step = (np.expm1(-u) + u - b) / np.maximum(-np.expm1(-u), 1e-300)
        u = np.maximum(u - step, 0.0)
        if np.all(np.abs(step) <= 1e-14 * np.maximum(u, 1e-300)):
            break
    return np.exp(-0.5 * u)


def synthetic_blocks(n_blocks: int, dims: int, block_kl_bits: float, seed: int = 0):
    """Q = N(q_loc, q_scale²) against P = N(0, 1) in n_blocks blocks of ``dims`` dimensions.

    Each block's KL is exactly ``block_kl_bits``, split across its dimensions with Dirichlet(1)
    weights; each dimension's KL is carried a fraction frac ~ U(0.2, 0.8) by the scale
    (½(s² − 1 − ln s²) = frac·nats) and the rest by the mean (μ = ±√(2(1 − frac)·nats)), as in
    ``rec_fast.workloads``. Returns ``(q_loc, q_scale, p_loc, p_scale, block_of)``.
    """
    rng = np.random.default_rng(seed)
    kl_bits = rng.dirichlet(np.ones(dims), size=n_blocks).ravel() * block_kl_bits
    d = kl_bits.size
    frac = rng.uniform(0.2, 0.8, size=d)
    nats = kl_bits * math.log(2.0)
    q_scale = _scale_from_excess(2.0 * frac * nats)
    q_loc = np.sqrt(2.0 * (1.0 - frac) * nats) * rng.choice([-1.0, 1.0], size=d)
    block_of = np.repeat(np.arange(n_blocks), dims)
    return q_loc, q_scale, np.zeros(d), np.ones(d), block_of


def gaussian_kl_bits(q_loc, q_scale, p_loc, p_scale) -> np.ndarray:
    """KL[N(q_loc, q_scale²) ‖ N(p_loc, p_scale²)] per dimension, in bits."""
    ratio = (q_scale / p_scale) ** 2
    return 0.5 * (ratio + ((q_loc - p_loc) / p_scale) ** 2 - 1.0 - np.log(ratio)) / math.log(2.0)


def expected_ess(q_loc, q_scale, p_loc, p_scale, bits: int) -> float:
    """N / E_P[r²], the large-N effective sample size, in closed form (inf-free: 0 if E_P[r²] = ∞).

    Per dimension, with μ = (q_loc − p_loc)/p_scale and s = q_scale/p_scale,
    E_P[r²] = exp(μ²/(2 − s²)) / (s·√(2 − s²)) if s² < 2, else ∞.
    """
    mu = (np.asarray(q_loc) - p_loc) / p_scale
    s2 = (np.asarray(q_scale) / p_scale) ** 2
    if np.any(s2 >= 2.0):
        return 0.0
    log_e_r2 = float(np.sum(mu * mu / (2.0 - s2) - 0.5 * np.log(s2 * (2.0 - s2))))
    return math.exp(int(bits) * math.log(2.0) - log_e_r2)


# ---------------------------------------------------------------- command line

def time_blocks(n_blocks: int, dims: int, block_kl: float, bits: int, seed: int, repeat: int):
    q_loc, q_scale, p_loc, p_scale, block_of = synthetic_blocks(n_blocks, dims, block_kl, seed)
    kl = np.bincount(block_of, weights=gaussian_kl_bits(q_loc, q_scale, p_loc, p_scale))
    w = slice(0, dims)  # warm-up on the first block
    encode_blocks_numpy(q_loc[w], q_scale[w], p_loc[w], p_scale[w], block_of[w], bits, seed)
    best = math.inf
    for r in range(repeat):
        start = time.perf_counter()
        indices, samples, ess = encode_blocks_numpy(q_loc, q_scale, p_loc, p_scale, block_of, bits,
                                                    seed + r)
        best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    decoded = decode_blocks_numpy(indices, p_loc, p_scale, block_of, bits, seed + repeat - 1)
    decode_seconds = time.perf_counter() - start
    print(f"encode: {n_blocks} blocks × {dims} dims, block KL {kl.mean():.2f} bits, {bits} bits "
          f"(2^{bits} candidates) per block; best of {repeat}: {best:.3f} s = "
          f"{n_blocks / best:,.1f} blocks/s = {n_blocks * dims / best:,.0f} dims/s")
    expected = np.mean([expected_ess(q_loc[block_of == b], q_scale[block_of == b], 0.0, 1.0, bits)
                        for b in range(n_blocks)])
    print(f"        mean ESS {ess.mean():,.1f} (min {ess.min():,.1f}) of {1 << bits:,} candidates; "
          f"N/E_P[r²] averages {expected:,.1f}")
    print(f"decode: {decode_seconds:.3f} s = {n_blocks / decode_seconds:,.1f} blocks/s; "
          f"round trip bit-identical: {bool(np.array_equal(decoded, samples))}")
    return bool(np.array_equal(decoded, samples))


def sanity_check(seed: int, copies: int = 200, dims: int = 16, block_kl: float = 8.0,
                 bits: int = 16) -> bool:
    """One block with KL ``block_kl`` coded ``copies`` times (as that many blocks, each with its
    own randomness): decoding must reproduce the samples, the mean ESS must be large (> 20),
    and the mean and standard deviation of the decoded samples must match Q's within sampling
    error."""
    q_loc, q_scale, p_loc, p_scale, _ = synthetic_blocks(1, dims, block_kl, seed)
    block_of = np.repeat(np.arange(copies), dims)
    tile = (lambda a: np.tile(a, copies))
    indices, samples, ess = encode_blocks_numpy(tile(q_loc), tile(q_scale), 0.0, 1.0, block_of,
                                                bits, seed)
    decoded = decode_blocks_numpy(indices, 0.0, 1.0, block_of, bits, seed).reshape(copies, dims)
    identical = bool(np.array_equal(decoded.ravel(), samples))
    z = (decoded.mean(axis=0) - q_loc) / (q_scale / math.sqrt(copies))
    std_ratio = decoded.std(axis=0, ddof=1) / q_scale
    # The thresholds are ~5 standard errors wide (the check is deterministic given the seed).
    ok = (identical and ess.mean() > 20.0 and float(np.abs(z).max()) < 4.5
          and 0.75 < float(std_ratio.min()) and float(std_ratio.max()) < 1.25)
    print(f"sanity: block KL {gaussian_kl_bits(q_loc, q_scale, p_loc, p_scale).sum():.2f} bits, "
          f"{bits} bits, {copies} independent codings of {dims} dims: mean ESS {ess.mean():,.1f} "
          f"(min {ess.min():,.1f}; N/E_P[r²] = {expected_ess(q_loc, q_scale, 0.0, 1.0, bits):,.1f}); "
          f"|mean − μ| / (s/√n) max {np.abs(z).max():.2f}, "
          f"RMS {math.sqrt(float(np.mean(z * z))):.2f}; sample sd / s in "
          f"[{std_ratio.min():.2f}, {std_ratio.max():.2f}]; decode identical: {identical} "
          f"-> {'OK' if ok else 'FAILED'}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--dims", type=int, default=16, help="dimensions per block")
    parser.add_argument("--block-kl", type=float, default=16.0, help="KL per block, bits")
    parser.add_argument("--bits", type=int, default=16, help="log2 of the candidates per block")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (the best is printed)")
    parser.add_argument("--no-check", action="store_true", help="skip the sanity check")
    args = parser.parse_args(argv)
    ok = time_blocks(args.blocks, args.dims, args.block_kl, args.bits, args.seed, args.repeat)
    if not args.no_check:
        ok = sanity_check(args.seed) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

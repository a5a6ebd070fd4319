"""Block coding of ONE sample of a product target: rf.encode_blocks, rf.decode_blocks,
rf.BlockLayout and the progressive rf.BlockEncoder.

Bit-exact round trips (both methods, both kinds of layout, broadcasting proposals, threads,
chunking, progressive coding with changing targets), layouts as deterministic partitions,
exactness of method="exact" on one joint sample of 600,000 dimensions (marginals, χ² of every
block, within-block and neighbouring-block correlations, with a power check showing the same
statistics reject 1–2% biased samplers), the budget method's bit count and effective sample
size, and bad input (clear errors naming the dimension or block; corrupt streams never decode).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

import rec_fast as rf
from rec_fast import blocks as rf_blocks
from rec_fast.workloads import combiner_profile

METHODS = ("exact", "budget")
KINDS = ("stored", "shared")  # layout built from the target and stored, or shared via from_kl
SHAPE = (3, 50)
P_UNIT = rf.Normal(0.0, 1.0)
SEED = 11


def same_bits(a, b) -> bool:
    """Same shape, float64, and the same numbers bit for bit."""
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype == np.float64
            and np.array_equal(a.view(np.uint64), b.view(np.uint64)))


def _small_target():
    generator = np.random.default_rng(2024)
    return rf.Normal(generator.normal(0.0, 0.6, SHAPE), generator.uniform(0.3, 0.9, SHAPE))


def _full_proposal():
    generator = np.random.default_rng(7)
    return rf.Normal(generator.normal(0.0, 0.3, SHAPE), generator.uniform(1.0, 3.0, SHAPE))


Q_SMALL = _small_target()
PROPOSALS = {"scalar": P_UNIT, "full": _full_proposal()}


def kl_bits(Q, P) -> np.ndarray:
    return np.asarray(rf.kl_divergence(Q, P), dtype=np.float64)


def shared_layout(Q, P, seed: int = 5) -> rf.BlockLayout:
    return rf.BlockLayout.from_kl(kl_bits(Q, P), bits_per_block=6.0, max_block_size=8, seed=seed)


def stored_layout(Q, P, method: str, seed: int = SEED) -> rf.BlockLayout:
    """The layout encode_blocks builds (and stores) when given none, with its default settings."""
    if method == "budget":
        return rf.BlockLayout.from_target(Q, P, bits_per_block=rf_blocks.DEFAULT_BUDGET_BITS,
                                          max_block_size=rf_blocks.MAX_BLOCK_SIZE, seed=seed)
    return rf.BlockLayout.from_target(Q, P, bits_per_block=rf_blocks.DEFAULT_BITS_PER_BLOCK,
                                      max_block_size=rf_blocks.DEFAULT_MAX_BLOCK_SIZE, seed=seed)


def layouts(Q, P, method: str, kind: str):
    """(the encoder's layout, the layout to pass to encode_blocks / decode_blocks)."""
    if kind == "shared":
        layout = shared_layout(Q, P)
        return layout, layout
    return stored_layout(Q, P, method), None


# ---------------------------------------------------------------------------------------------
# 1. Round trips
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("proposal", sorted(PROPOSALS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_round_trip_is_bit_exact(method, kind, proposal):
    Q, P = Q_SMALL, PROPOSALS[proposal]
    layout, given = layouts(Q, P, method, kind)

    def encode(**kwargs):
        options = dict(seed=SEED, method=method, layout=given)
        options.update(kwargs)
        return rf.encode_blocks(Q, P, **options)

    enc = encode()
    data = enc.to_bytes()
    assert enc.samples.shape == SHAPE and np.isfinite(enc.samples).all()
    assert enc.layout == layout and enc.layout.stored_in_stream == (kind == "stored")
    assert same_bits(rf.decode_blocks(data, P, layout=given), enc.samples)

    info = rf.block_stream_info(data)
    assert (info["method"], info["seed"], info["shape"]) == (method, SEED, SHAPE)
    assert (info["target_family"], info["proposal_family"]) == ("Normal", "Normal")
    assert info["layout_stored"] == (kind == "stored")
    assert info["layout_fingerprint"] == layout.fingerprint
    assert info["bits_per_block"] == (rf_blocks.DEFAULT_BUDGET_BITS if method == "budget" else 0)
    if kind == "stored":
        assert info["layout"] == layout

    # The figures add up and describe the layout's blocks.
    blocks = layout.num_blocks
    assert enc.block_bits.shape == enc.block_steps.shape == enc.block_kl.shape == enc.block_ess.shape == (blocks,)
    assert enc.total_bits == 8 * len(data) == enc.payload_bits + enc.header_bits
    per_dimension = kl_bits(Q, P)
    assert enc.kl_bits == pytest.approx(per_dimension.sum(), rel=1e-9)
    np.testing.assert_allclose(enc.block_kl, np.bincount(layout.block_of.ravel(), per_dimension.ravel(), blocks),
                               rtol=1e-9)
    assert np.isnan(enc.block_ess).all()  # not requested
    assert (enc.block_steps >= 1).all()

    # Same seed, same bytes; another seed, another sample.
    assert encode().to_bytes() == data
    assert not np.array_equal(encode(seed=SEED + 1).samples, enc.samples)
    # Thread counts change nothing, encoding or decoding.
    for threads in (1, 2):
        assert encode(threads=threads).to_bytes() == data
        assert same_bits(rf.decode_blocks(data, P, layout=given, threads=threads), enc.samples)
    # Small chunks: more framing, the same samples, and still independent of threads.
    chunked = encode(chunk_size=3, threads=1)
    assert chunked.to_bytes() == encode(chunk_size=3, threads=2).to_bytes()
    assert len(chunked.to_bytes()) > len(data)
    assert same_bits(chunked.samples, enc.samples)
    for threads in (1, 2):
        assert same_bits(rf.decode_blocks(chunked.to_bytes(), P, layout=given, threads=threads), enc.samples)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("Q, P", [
    (rf.Laplace(np.linspace(-0.5, 0.5, 24).reshape(4, 6), 0.4), rf.Laplace(0.0, 1.0)),
    (rf.Uniform(np.linspace(-1.0, 0.0, 24).reshape(4, 6), 0.5), rf.Uniform(-2.0, 2.0)),
    (rf.Uniform(np.linspace(-1.0, 0.0, 24).reshape(4, 6), 0.5), rf.Normal(0.0, 1.0)),
], ids=["laplace", "uniform-in-uniform", "uniform-on-normal"])
def test_round_trip_of_other_families(method, Q, P):
    if method == "exact" and isinstance(Q, rf.Uniform) and isinstance(P, rf.Normal):
        # P's mode 0 lies inside some targets' supports: those ratios dip there, which the box
        # bound cannot handle, and the exact method says so, naming the dimension.
        with pytest.raises(rf.RecError, match=r"dimension \d+: the exact block method needs a unimodal density ratio"):
            rf.encode_blocks(Q, P, seed=3, method=method)
        return
    enc = rf.encode_blocks(Q, P, seed=3, method=method)
    assert same_bits(rf.decode_blocks(enc.to_bytes(), P), enc.samples)
    assert rf.block_stream_info(enc.to_bytes())["target_family"] == Q.family
    if isinstance(Q, rf.Uniform):  # every sample lies in its target's support
        low, high = Q._parameters()
        assert ((enc.samples >= low) & (enc.samples <= high)).all()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(0,), (0, 3)])
def test_empty_target(method, shape):
    enc = rf.encode_blocks(rf.Normal(np.zeros(shape), 0.5), P_UNIT, method=method)
    assert enc.layout.num_blocks == 0 and enc.samples.shape == shape
    assert rf.decode_blocks(enc.to_bytes(), P_UNIT).shape == shape


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_progressive_coding_of_unchanged_targets_is_encode_blocks(method, kind):
    Q, P = Q_SMALL, PROPOSALS["full"]
    layout, given = layouts(Q, P, method, kind)
    whole = rf.encode_blocks(Q, P, seed=SEED, method=method, layout=given)
    assert whole.layout == layout

    encoder = rf.BlockEncoder(P, layout, seed=SEED, method=method)
    assert encoder.coded_blocks == 0 and not encoder.done and np.isnan(encoder.samples).all()
    while not encoder.done:
        block = encoder.coded_blocks
        dims, x = encoder.encode_next(Q)
        assert np.array_equal(dims, layout.block_dimensions(block))
        assert same_bits(x, whole.samples.ravel()[dims])
    assert encoder.to_bytes() == whole.to_bytes()
    finished = encoder.encoding()
    assert same_bits(finished.samples, whole.samples)
    assert np.array_equal(finished.block_bits, whole.block_bits)
    assert np.array_equal(finished.block_steps, whole.block_steps)
    assert np.array_equal(finished.block_kl, whole.block_kl)

    # A few blocks one at a time, then the rest at once: the same stream.
    mixed = rf.BlockEncoder(P, layout, seed=SEED, method=method)
    for _ in range(min(2, layout.num_blocks - 1)):
        mixed.encode_next(Q)
    mixed.encode_rest(Q)
    assert mixed.done and mixed.to_bytes() == whole.to_bytes()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_progressive_coding_with_changing_targets_round_trips(method, kind):
    """COMBINER-style: after each block the targets of the dimensions not yet coded move.
    The decoder, which sees only P and the stream, reconstructs what encode_next returned."""
    Q0, P = Q_SMALL, PROPOSALS["full"]
    layout, given = layouts(Q0, P, method, kind)
    loc, scale = (np.array(a, dtype=np.float64) for a in Q0._parameters())
    encoder = rf.BlockEncoder(P, layout, seed=SEED, method=method)
    coded = np.zeros(loc.size, dtype=bool)
    returned = []
    while not encoder.done:
        dims, x = encoder.encode_next(rf.Normal(loc, scale))
        returned.append((dims, x))
        coded[dims] = True
        # "Fine-tune" the rest: pull the means towards what was coded and narrow them.
        rest = ~coded.reshape(SHAPE)
        loc[rest] += 0.05 * float(np.mean(x)) + 0.02
        scale[rest] *= 0.995
        if len(returned) == layout.num_blocks // 2:
            assert np.array_equal(np.isnan(encoder.samples).ravel(), ~coded)
    data = encoder.to_bytes()
    decoded = rf.decode_blocks(data, P, layout=given)
    assert same_bits(decoded, encoder.samples)
    for dims, x in returned:
        assert same_bits(decoded.ravel()[dims], x)
    # The first block saw the original targets; later ones did not.
    whole = rf.encode_blocks(Q0, P, seed=SEED, method=method, layout=given)
    dims0, x0 = returned[0]
    assert same_bits(x0, whole.samples.ravel()[dims0])
    assert data != whole.to_bytes() and not np.array_equal(decoded, whole.samples)


# ---------------------------------------------------------------------------------------------
# 2. Layouts
# ---------------------------------------------------------------------------------------------


def _layout_kl():
    kl = np.random.default_rng(1).lognormal(math.log(0.5), 1.3, size=(4, 60))
    kl[1, 3], kl[2, 2], kl[3, 59] = 9.0, 6.5, 0.0
    return kl


def test_from_kl_is_a_deterministic_partition():
    kl = _layout_kl()
    bits, size = 6.0, 8
    layout = rf.BlockLayout.from_kl(kl, bits_per_block=bits, max_block_size=size, seed=7)
    again = rf.BlockLayout.from_kl(kl.copy(), bits_per_block=bits, max_block_size=size, seed=7)
    assert again == layout and hash(again) == hash(layout)
    assert again.fingerprint == layout.fingerprint and again.to_bytes() == layout.to_bytes()
    assert np.array_equal(again.block_of, layout.block_of)
    assert not layout.stored_in_stream and layout.shape == kl.shape

    block_of = layout.block_of
    count = layout.num_blocks
    assert block_of.shape == kl.shape and block_of.dtype == np.int64
    assert block_of.min() == 0 and block_of.max() == count - 1
    sizes = np.bincount(block_of.ravel(), minlength=count)
    assert np.array_equal(sizes, layout.block_sizes)
    assert (sizes >= 1).all() and (sizes <= size).all()
    listed = [layout.block_dimensions(b) for b in range(count)]
    assert np.array_equal(np.sort(np.concatenate(listed)), np.arange(kl.size))  # each dimension exactly once
    for b, dims in enumerate(listed):
        assert set(dims.tolist()) == set(np.flatnonzero(block_of.ravel() == b).tolist())
    block_kl = np.bincount(block_of.ravel(), kl.ravel(), minlength=count)
    assert (block_kl[sizes > 1] <= bits + 1e-9).all()
    for index in np.flatnonzero(kl.ravel() > bits):
        assert sizes[block_of.ravel()[index]] == 1  # a dimension above the fill target is alone
    np.testing.assert_allclose(layout.block_budgets, block_kl, rtol=1e-12, atol=1e-12)

    other = rf.BlockLayout.from_kl(kl, bits_per_block=bits, max_block_size=size, seed=8)
    assert other != layout and not np.array_equal(other.block_of, layout.block_of)


def test_layout_bytes_round_trip_and_validation():
    kl = _layout_kl()
    layout = rf.BlockLayout.from_kl(kl, bits_per_block=6.0, max_block_size=8, seed=7)
    data = layout.to_bytes()
    back = rf.BlockLayout.from_bytes(data, shape=kl.shape)
    assert back == layout and back.fingerprint == layout.fingerprint and back.to_bytes() == data
    assert np.array_equal(back.block_of, layout.block_of)
    np.testing.assert_array_equal(back.block_budgets, layout.block_budgets)
    flat = rf.BlockLayout.from_bytes(data)
    assert flat.shape == (kl.size,) and np.array_equal(flat.block_of, layout.block_of.ravel())
    with pytest.raises(rf.RecError, match=r"shape \(5, 60\) does not hold the layout's 240 dimensions"):
        rf.BlockLayout.from_bytes(data, shape=(5, 60))
    for cut in range(len(data)):
        with pytest.raises(rf.RecError):
            rf.BlockLayout.from_bytes(data[:cut])
    for position in range(len(data)):
        mutated = bytearray(data)
        mutated[position] ^= 0x10
        with pytest.raises(rf.RecError):
            rf.BlockLayout.from_bytes(bytes(mutated))
    with pytest.raises(TypeError):
        rf.BlockLayout.from_bytes("not bytes")


def test_fingerprint_changes_when_the_layout_changes():
    kl = _layout_kl()
    base = dict(bits_per_block=6.0, max_block_size=8, seed=7)
    nudged = kl.copy()
    nudged[0, 0] += 0.01
    variants = {
        "base": rf.BlockLayout.from_kl(kl, **base),
        "seed": rf.BlockLayout.from_kl(kl, **{**base, "seed": 8}),
        "bits": rf.BlockLayout.from_kl(kl, **{**base, "bits_per_block": 5.0}),
        "size": rf.BlockLayout.from_kl(kl, **{**base, "max_block_size": 7}),
        "kl scaled": rf.BlockLayout.from_kl(kl * 1.01, **base),
        "one kl nudged": rf.BlockLayout.from_kl(nudged, **base),
        "from_target": rf.BlockLayout.from_target(rf.Normal(np.zeros(kl.shape), 0.5), P_UNIT, seed=7),
    }
    fingerprints = {name: layout.fingerprint for name, layout in variants.items()}
    assert len(set(fingerprints.values())) == len(fingerprints), fingerprints
    assert all(0 <= f < 2**64 for f in fingerprints.values())


@pytest.mark.parametrize("method", METHODS)
def test_from_target_is_the_layout_encode_blocks_stores(method):
    Q, P = Q_SMALL, PROPOSALS["scalar"]
    enc = rf.encode_blocks(Q, P, seed=3, method=method)
    layout = stored_layout(Q, P, method, seed=3)
    assert layout.stored_in_stream
    assert enc.layout == layout == rf.block_stream_info(enc.to_bytes())["layout"]
    # The greedy fill visits the dimensions in an order fixed by the seed.
    assert stored_layout(Q, P, method, seed=4) != layout
    # Its stored form keeps the partition and the fingerprint.
    back = rf.BlockLayout.from_bytes(layout.to_bytes(), shape=SHAPE)
    assert back.fingerprint == layout.fingerprint and np.array_equal(back.block_of, layout.block_of)


# ---------------------------------------------------------------------------------------------
# 3. Exactness of method="exact"
# ---------------------------------------------------------------------------------------------

# One joint target: a pattern of 6 Normal dimensions (KL 0.1 to 2.9 bits, means of both signs,
# one against N(0.5, 2²)) repeated R times, coded in ONE call with a shared layout built from
# the true per-dimension KL. Under exactness the decoded sample is one draw of ∏ Qᵢ.
PATTERN_Q_LOC = np.array([0.3, -0.8, 1.5, -1.6, 0.0, 1.7])
PATTERN_Q_SCALE = np.array([0.85, 0.6, 0.4, 0.3, 0.5, 0.8])
PATTERN_P_LOC = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
PATTERN_P_SCALE = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 2.0])
K = PATTERN_Q_LOC.size
REPEATS = 100_000  # d = 600,000 dimensions, ~152,000 blocks; ~2 s to code on 2 cores
EXACT_SEED = 0     # seeds 0-4 all pass, with min p ≥ 0.01 and max |z| ≤ 2.7
# 8 KS tests at α = 1e-4 and 25 z-scores at |z| < 4.5 (two-sided p = 7e-6 each): the
# family-wise false-alarm rate is about 1e-3 for an exact sampler.
ALPHA = 1e-4
Z_MAX = 4.5


def _pattern(repeats: int):
    Q = rf.Normal(np.tile(PATTERN_Q_LOC, repeats), np.tile(PATTERN_Q_SCALE, repeats))
    P = rf.Normal(np.tile(PATTERN_P_LOC, repeats), np.tile(PATTERN_P_SCALE, repeats))
    return Q, P, kl_bits(Q, P)


def exactness_statistics(x: np.ndarray, layout: rf.BlockLayout) -> dict:
    """{name: ("p", p-value) or ("z", z-score)} of the tests that ∏ Qᵢ produced ``x``.

    Marginals: per pattern position a KS test of its R values against its Q, a pooled KS test
    of all standardised values z, and z-scores of Σz and Σ(z² − 1). Joint law within a block:
    Σ z² over the block's dimensions ~ χ²(block size), probability-integral-transformed and
    KS-tested against U(0, 1) over all blocks; independence within a block: Σ_{i<j} zᵢzⱼ has
    mean 0 and variance (number of pairs) (the products of distinct pairs are uncorrelated), so
    each block's T_b = Σ_{i<j} zᵢzⱼ / √pairs is a unit-variance zero-mean variable and Σ T_b/√B
    a z-score; the same per pair of pattern positions; and neighbouring blocks are independent:
    with u_b = Σ_{i∈b} zᵢ/√m_b, Σ u_b u_{b+1}/√(B − 1) is a z-score.
    """
    repeats = x.size // K
    loc, scale = np.tile(PATTERN_Q_LOC, repeats), np.tile(PATTERN_Q_SCALE, repeats)
    x = x.ravel()
    z = (x - loc) / scale
    d = z.size
    position = np.arange(d) % K
    out = {}
    for k in range(K):
        target = stats.norm(loc=PATTERN_Q_LOC[k], scale=PATTERN_Q_SCALE[k])
        out[f"KS marginal of position {k}"] = ("p", stats.kstest(x[position == k], target.cdf, method="asymp").pvalue)
    out["KS marginal pooled"] = ("p", stats.kstest(z, "norm", method="asymp").pvalue)
    out["mean of z"] = ("z", z.sum() / math.sqrt(d))
    out["mean of z^2 - 1"] = ("z", (z * z - 1.0).sum() / math.sqrt(2.0 * d))

    block = layout.block_of.ravel()
    count = layout.num_blocks
    m = np.bincount(block, minlength=count).astype(np.float64)
    s1 = np.bincount(block, z, minlength=count)
    s2 = np.bincount(block, z * z, minlength=count)
    out["chi2 of blocks (PIT KS)"] = ("p", stats.kstest(stats.chi2.cdf(s2, m), "uniform", method="asymp").pvalue)
    multi = m > 1
    pair_sums = (s1 * s1 - s2)[multi] / 2.0
    t = pair_sums / np.sqrt(m[multi] * (m[multi] - 1.0) / 2.0)
    out["within-block pairs"] = ("z", t.sum() / math.sqrt(t.size))

    cell = block * K + position
    a = np.bincount(cell, z, minlength=count * K).reshape(count, K)
    n = np.bincount(cell, minlength=count * K).reshape(count, K).astype(np.float64)
    c = np.bincount(cell, z * z, minlength=count * K).reshape(count, K)
    for i in range(K):
        for j in range(i, K):
            if i == j:
                total, pairs = ((a[:, i] ** 2 - c[:, i]) / 2.0).sum(), (n[:, i] * (n[:, i] - 1.0) / 2.0).sum()
            else:
                total, pairs = (a[:, i] * a[:, j]).sum(), (n[:, i] * n[:, j]).sum()
            out[f"within-block pairs of positions {i},{j}"] = ("z", total / math.sqrt(pairs))

    u = s1 / np.sqrt(m)
    out["neighbouring blocks"] = ("z", (u[1:] * u[:-1]).sum() / math.sqrt(count - 1))
    return out


def exactness_failures(x: np.ndarray, layout: rf.BlockLayout) -> dict:
    """The statistics of :func:`exactness_statistics` that reject exactness."""
    return {name: value for name, (kind, value) in exactness_statistics(x, layout).items()
            if (kind == "p" and not value > ALPHA) or (kind == "z" and not abs(value) < Z_MAX)}


@pytest.fixture(scope="module")
def exact_product():
    """(decoded sample, layout, encoding) of the repeated pattern, coded once for the module."""
    Q, P, kl = _pattern(REPEATS)
    layout = rf.BlockLayout.from_kl(kl, bits_per_block=6.0, max_block_size=8, seed=EXACT_SEED)
    enc = rf.encode_blocks(Q, P, seed=EXACT_SEED, layout=layout)
    decoded = rf.decode_blocks(enc.to_bytes(), P, layout=layout)
    return decoded, layout, enc


def test_exact_method_samples_the_product_target(exact_product):
    x, layout, enc = exact_product
    assert same_bits(x, enc.samples)
    assert layout.num_blocks > 100_000 and layout.block_sizes.max() == 8
    failures = exactness_failures(x, layout)
    assert failures == {}, failures
    # The codelength: about the KL plus a few bits per block.
    overhead = (enc.payload_bits - enc.kl_bits) / layout.num_blocks
    assert 0.0 < overhead < 6.0, overhead


def _with_block_leak(z, layout, epsilon):
    """Every coordinate of a block gets ``epsilon`` times the block's first coordinate."""
    first = np.array([layout.block_dimensions(b)[0] for b in range(layout.num_blocks)])
    lead = z[first]
    wrong = z + epsilon * lead[layout.block_of.ravel()]
    wrong[first] = lead
    return wrong


def _with_neighbour_leak(z, layout, epsilon):
    """The first coordinate of every block gets ``epsilon`` times the previous block's sum."""
    first = np.array([layout.block_dimensions(b)[0] for b in range(layout.num_blocks)])
    sums = np.bincount(layout.block_of.ravel(), z, minlength=layout.num_blocks)
    wrong = z.copy()
    wrong[first[1:]] += epsilon * sums[:-1]
    return wrong


WRONG_SAMPLERS = {
    # name: (transform of the standardised exact sample, statistic that must reject it)
    "mean shifted by 1.5% of the scale": (lambda z, layout: z + 0.015, "mean of z"),
    "scale inflated by 1%": (lambda z, layout: 1.01 * z, "mean of z^2 - 1"),
    "block coordinates correlated (z_j += 0.02 z_first)": (lambda z, layout: _with_block_leak(z, layout, 0.02),
                                                          "within-block pairs"),
    "neighbouring blocks correlated (3% of the previous block's sum)": (
        lambda z, layout: _with_neighbour_leak(z, layout, 0.03), "neighbouring blocks"),
}


@pytest.mark.parametrize("name", sorted(WRONG_SAMPLERS))
def test_the_exactness_statistics_reject_slightly_wrong_samplers(exact_product, name):
    """Power check: the same helper, on the exact sample distorted by 1-3%, rejects it (for seeds
    0-4 the named statistic reaches |z| ≥ 9)."""
    x, layout, _ = exact_product
    transform, statistic = WRONG_SAMPLERS[name]
    repeats = x.size // K
    loc, scale = np.tile(PATTERN_Q_LOC, repeats), np.tile(PATTERN_Q_SCALE, repeats)
    wrong = loc + scale * transform((x.ravel() - loc) / scale, layout)
    failures = exactness_failures(wrong.reshape(x.shape), layout)
    assert statistic in failures, (name, failures)


FAMILY_COUNT = 30_000
OTHER_FAMILIES = [
    # (name, Q, P, Q's CDF): ratios that are unimodal on the target's support
    ("laplace", rf.Laplace(np.full(FAMILY_COUNT, 0.4), 0.5), rf.Laplace(0.0, 1.0), stats.laplace(0.4, 0.5).cdf),
    ("laplace-narrow", rf.Laplace(np.full(FAMILY_COUNT, -1.4), 0.3), rf.Laplace(0.2, 2.0), stats.laplace(-1.4, 0.3).cdf),
    ("uniform-in-uniform", rf.Uniform(np.full(FAMILY_COUNT, -1.0), 0.5), rf.Uniform(-2.0, 2.0),
     stats.uniform(-1.0, 1.5).cdf),
    ("uniform-on-laplace", rf.Uniform(np.full(FAMILY_COUNT, 0.2), 0.7), rf.Laplace(0.0, 1.0), stats.uniform(0.2, 0.5).cdf),
    ("uniform-on-normal", rf.Uniform(np.full(FAMILY_COUNT, -0.9), -0.3), rf.Normal(0.0, 1.0),
     stats.uniform(-0.9, 0.6).cdf),
]


@pytest.mark.parametrize("name, Q, P, cdf", OTHER_FAMILIES, ids=[f[0] for f in OTHER_FAMILIES])
def test_exact_method_samples_other_families(name, Q, P, cdf):
    """KS of the marginal, and χ² of Σ Φ⁻¹(F(x))² over each block (seeds 0-4 pass, min p 2e-3)."""
    layout = rf.BlockLayout.from_kl(kl_bits(Q, P), bits_per_block=6.0, max_block_size=8, seed=EXACT_SEED)
    enc = rf.encode_blocks(Q, P, seed=EXACT_SEED, layout=layout)
    x = rf.decode_blocks(enc.to_bytes(), P, layout=layout)
    assert same_bits(x, enc.samples)
    assert stats.kstest(x, cdf).pvalue > ALPHA
    g = stats.norm.ppf(cdf(x))
    assert np.isfinite(g).all()
    s2 = np.bincount(layout.block_of, g * g, minlength=layout.num_blocks)
    assert stats.kstest(stats.chi2.cdf(s2, layout.block_sizes), "uniform").pvalue > ALPHA


@pytest.mark.parametrize("P", [rf.Laplace(-0.25, 1.0), rf.Normal(-0.25, 1.0)], ids=["laplace", "normal"])
def test_exact_method_on_a_ratio_that_dips_inside_the_target_refuses_or_is_exact(P):
    Q = rf.Uniform(np.full(FAMILY_COUNT, -1.0), 0.5)
    layout = rf.BlockLayout.from_kl(np.ones(FAMILY_COUNT), bits_per_block=0.5, max_block_size=1)
    with pytest.raises(rf.RecError, match=r"^block 0: dimension \d+: the exact block method needs a unimodal density ratio"):
        rf.encode_blocks(Q, P, seed=0, layout=layout)
    # The budget method handles any bounded ratio.
    rf.encode_blocks(Q, P, seed=0, layout=layout, method="budget", bits_per_block=4)


def test_the_exactness_statistics_reject_the_budget_method_near_its_budget():
    """A real approximate sampler: 2^6 candidates per block of ~6 bits of KL."""
    Q, P, kl = _pattern(20_000)
    layout = rf.BlockLayout.from_kl(kl, bits_per_block=6.0, max_block_size=8, seed=EXACT_SEED)
    enc = rf.encode_blocks(Q, P, seed=EXACT_SEED, method="budget", layout=layout, bits_per_block=6)
    failures = exactness_failures(enc.samples, layout)
    assert "chi2 of blocks (PIT KS)" in failures and "mean of z^2 - 1" in failures, failures


# ---------------------------------------------------------------------------------------------
# 4. The budget method
# ---------------------------------------------------------------------------------------------


def test_budget_stream_costs_bits_per_block_per_block():
    w = combiner_profile(d=20_000, seed=3)
    Q, P = w.target(), w.prior()
    layout = rf.BlockLayout.from_kl(w.kl_bits, bits_per_block=8.0, max_block_size=64, seed=3)
    bits = 12
    enc = rf.encode_blocks(Q, P, seed=3, method="budget", layout=layout, bits_per_block=bits)
    nominal = bits * layout.num_blocks
    assert abs((enc.total_bits - enc.header_bits) - nominal) <= 0.03 * nominal
    assert enc.total_bits <= 1.03 * nominal + 600, (enc.total_bits, nominal)
    assert (enc.block_bits >= bits).all() and (enc.block_bits <= bits + 0.1).all()
    assert (enc.block_steps == 2**bits).all()  # every candidate of every block
    assert rf.block_stream_info(enc.to_bytes())["bits_per_block"] == bits
    assert same_bits(rf.decode_blocks(enc.to_bytes(), P, layout=layout), enc.samples)


def _low_kl_budget_case():
    Q = rf.Normal(np.full(5000, 0.3), 0.85)  # 0.1 bits per dimension
    layout = rf.BlockLayout.from_kl(kl_bits(Q, P_UNIT), bits_per_block=2.0, max_block_size=16, seed=1)
    return Q, layout


def test_effective_sample_size_is_reported_without_changing_the_stream():
    Q, layout = _low_kl_budget_case()
    bits = 12
    plain = rf.encode_blocks(Q, P_UNIT, seed=3, method="budget", layout=layout, bits_per_block=bits)
    with_ess = rf.encode_blocks(Q, P_UNIT, seed=3, method="budget", layout=layout, bits_per_block=bits,
                                effective_sample_size=True)
    assert with_ess.to_bytes() == plain.to_bytes() and same_bits(with_ess.samples, plain.samples)
    assert np.isnan(plain.block_ess).all()
    ess = with_ess.block_ess
    assert ess.shape == (layout.num_blocks,)
    assert np.isfinite(ess).all() and (ess >= 1.0).all() and (ess <= 2.0**bits).all(), (ess.min(), ess.max())
    # Blocks of 1.6 bits of KL keep a good share of their 4096 candidates.
    assert np.median(ess) > 2.0**bits / 16


def test_effective_sample_size_falls_as_the_block_kl_rises():
    w = combiner_profile(d=3000, seed=5, median_kl_bits=0.5)
    layout = rf.BlockLayout.from_kl(w.kl_bits, bits_per_block=6.0, max_block_size=64, seed=5)
    enc = rf.encode_blocks(w.target(), w.prior(), seed=5, method="budget", layout=layout, bits_per_block=10,
                           effective_sample_size=True)
    finite = np.isfinite(enc.block_ess)
    assert finite.mean() > 0.95
    rho, p = stats.spearmanr(enc.block_kl[finite], enc.block_ess[finite])
    assert rho < -0.5 and p < 1e-4, (rho, p)


def test_budget_samples_are_about_right_when_the_budget_is_ample():
    Q, layout = _low_kl_budget_case()
    enc = rf.encode_blocks(Q, P_UNIT, seed=3, method="budget", layout=layout, bits_per_block=12)
    z = (enc.samples - 0.3) / 0.85
    assert abs(z.mean()) * math.sqrt(z.size) < Z_MAX
    assert abs((z * z - 1.0).sum()) / math.sqrt(2.0 * z.size) < Z_MAX
    assert stats.kstest(z, "norm").pvalue > ALPHA


# ---------------------------------------------------------------------------------------------
# 5. Bad input
# ---------------------------------------------------------------------------------------------


def test_mismatched_shapes():
    with pytest.raises(rf.RecError, match=r"shapes \(3, 50\), \(3, 49\) do not broadcast"):
        rf.encode_blocks(Q_SMALL, rf.Normal(np.zeros((3, 49)), 1.0))
    layout = shared_layout(Q_SMALL, P_UNIT)
    with pytest.raises(rf.RecError, match=r"P's shape \(3, 49\) does not broadcast to the layout's shape \(3, 50\)"):
        rf.BlockEncoder(rf.Normal(np.zeros((3, 49)), 1.0), layout)
    enc = rf.encode_blocks(Q_SMALL, P_UNIT, seed=1)
    with pytest.raises(rf.RecError, match=r"proposal shape \(4, 50\) does not broadcast to the stream's shape \(3, 50\)"):
        rf.decode_blocks(enc.to_bytes(), rf.Normal(np.zeros((4, 50)), 1.0))


def test_layout_of_the_wrong_shape():
    for shape in [(50, 3), (150,), (3, 51)]:
        wrong = rf.BlockLayout.from_kl(np.ones(shape))
        with pytest.raises(rf.RecError, match=rf"the layout's shape \({shape[0]},.*does not match the target's shape \(3, 50\)"):
            rf.encode_blocks(Q_SMALL, P_UNIT, layout=wrong)
    encoder = rf.BlockEncoder(P_UNIT, shared_layout(Q_SMALL, P_UNIT))
    with pytest.raises(rf.RecError, match=r"shape \(2, 50\) does not broadcast to the layout's shape \(3, 50\)"):
        encoder.encode_next(rf.Normal(np.zeros((2, 50)), 0.5))
    with pytest.raises(rf.RecError):
        encoder.encode_rest(rf.Normal(np.zeros((2, 50)), 0.5))
    assert encoder.coded_blocks == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_shared_layout_stream_decodes_only_with_its_layout(method):
    layout = shared_layout(Q_SMALL, P_UNIT)
    data = rf.encode_blocks(Q_SMALL, P_UNIT, seed=1, method=method, layout=layout).to_bytes()
    with pytest.raises(rf.RecError, match="the stream does not store its layout .*pass the layout it was coded with"):
        rf.decode_blocks(data, P_UNIT)
    others = [shared_layout(Q_SMALL, P_UNIT, seed=6),                                  # same shape, other blocks
              rf.BlockLayout.from_kl(np.ones(SHAPE), bits_per_block=6.0, max_block_size=8, seed=5),
              rf.BlockLayout.from_kl(np.ones((3, 51)))]                                # other dimension count
    for other in others:
        with pytest.raises(rf.RecError, match="the stream was coded with another layout") as caught:
            rf.decode_blocks(data, P_UNIT, layout=other)
        assert not isinstance(caught.value, rf.CorruptStreamError)
        assert f"{other.fingerprint:#018x}" in str(caught.value)
    with pytest.raises(TypeError):
        rf.decode_blocks(data, P_UNIT, layout=layout.to_bytes())


def test_a_stored_layout_stream_refuses_another_layout():
    data = rf.encode_blocks(Q_SMALL, P_UNIT, seed=1).to_bytes()
    with pytest.raises(rf.RecError):
        rf.decode_blocks(data, P_UNIT, layout=rf.BlockLayout.from_kl(np.ones(SHAPE)))


def _unbounded_case(kind_of_fault: str):
    loc, scale = (np.array(a, dtype=np.float64) for a in Q_SMALL._parameters())
    index = (1, 33)
    if kind_of_fault == "wider":
        scale[index] = 1.5
    else:  # equal scales and different means
        scale[index], loc[index] = 1.0, 0.5
    return rf.Normal(loc, scale), int(np.ravel_multi_index(index, SHAPE))


@pytest.mark.parametrize("fault, reason", [("wider", "target scale 1.5 > proposal scale 1"),
                                           ("shifted", "target scale 1 = proposal scale 1 makes dQ/dP unbounded because the means differ")])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_unbounded_ratio_names_the_flat_dimension(method, kind, fault, reason):
    Q, flat = _unbounded_case(fault)
    assert flat == 83
    layout = rf.BlockLayout.from_kl(np.ones(SHAPE), bits_per_block=6.0, max_block_size=8) if kind == "shared" else None
    pattern = rf"dimension {flat}: {reason}"
    with pytest.raises(rf.RecError, match=pattern):
        rf.encode_blocks(Q, P_UNIT, method=method, layout=layout)
    # Progressive: the block holding the dimension fails, the blocks before it are coded.
    layout = layout or rf.BlockLayout.from_kl(np.ones(SHAPE), bits_per_block=6.0, max_block_size=8)
    encoder = rf.BlockEncoder(P_UNIT, layout, method=method)
    target_block = int(layout.block_of.ravel()[flat])
    for _ in range(target_block):
        encoder.encode_next(Q)
    with pytest.raises(rf.RecError, match=pattern):
        encoder.encode_next(Q)
    assert encoder.coded_blocks == target_block


def test_normal_target_on_a_uniform_proposal_explains_the_unbounded_ratio():
    with pytest.raises(rf.RecError, match="^dimension 0: a Normal target has unbounded support"):
        rf.encode_blocks(rf.Normal(np.zeros(20), 0.5), rf.Uniform(-5.0, 5.0))


def test_unsupported_family_pairs_name_the_pair():
    with pytest.raises(rf.RecError, match="a Normal target with a Laplace coding distribution is not supported"):
        rf.encode_blocks(rf.Normal(np.zeros(5), 0.5), rf.Laplace(0.0, 1.0))
    with pytest.raises(rf.RecError, match="a Normal target with a Uniform proposal cannot be coded"):
        rf.encode_blocks(rf.Normal(np.zeros(5), 0.5), rf.Uniform(-5.0, 5.0), layout=rf.BlockLayout.from_kl(np.ones(5)))
    encoder = rf.BlockEncoder(P_UNIT, rf.BlockLayout.from_kl(np.ones(5)))
    with pytest.raises(rf.RecError, match="this encoder codes Normal targets, not Laplace"):
        encoder.encode_next(rf.Laplace(np.zeros(5), 0.5))


def test_bits_per_block_and_block_size_ranges():
    for bad in (0, -1, 33):
        with pytest.raises(rf.RecError, match=rf"bits_per_block = {bad}; bits_per_block must lie in \[1, 32\]"):
            rf.encode_blocks(Q_SMALL, P_UNIT, method="budget", bits_per_block=bad)
        with pytest.raises(rf.RecError, match=r"bits_per_block must lie in \[1, 32\]"):
            rf.BlockEncoder(P_UNIT, shared_layout(Q_SMALL, P_UNIT), method="budget", bits_per_block=bad)
    with pytest.raises(TypeError, match="bits_per_block must be an int"):
        rf.encode_blocks(Q_SMALL, P_UNIT, method="budget", bits_per_block=12.5)
    for bad in (0.0, -1.0, 64.5, math.inf, math.nan):
        with pytest.raises(rf.RecError, match=r"bits_per_block = .*; it must lie in \(0, 64\]"):
            rf.encode_blocks(Q_SMALL, P_UNIT, bits_per_block=bad)
        with pytest.raises(rf.RecError, match=r"bits_per_block = .*; it must lie in \(0, 64\]"):
            rf.BlockLayout.from_kl(np.ones(4), bits_per_block=bad)
    layout = shared_layout(Q_SMALL, P_UNIT)
    with pytest.raises(rf.RecError, match="the given layout already has one"):
        rf.encode_blocks(Q_SMALL, P_UNIT, layout=layout, bits_per_block=4.0)
    with pytest.raises(rf.RecError, match="bits_per_block applies to the budget method"):
        rf.BlockEncoder(P_UNIT, layout, bits_per_block=8)
    for bad in (0, 65):
        with pytest.raises(rf.RecError, match=rf"max_block_size = {bad}; max_block_size must lie in \[1, 64\]"):
            rf.encode_blocks(Q_SMALL, P_UNIT, max_block_size=bad)
        with pytest.raises(rf.RecError, match="max_block_size must lie"):
            rf.BlockLayout.from_kl(np.ones(4), max_block_size=bad)
    with pytest.raises(rf.RecError, match="max_block_size applies only when encode_blocks builds the layout"):
        rf.encode_blocks(Q_SMALL, P_UNIT, layout=layout, max_block_size=4)
    with pytest.raises(rf.RecError, match=r"dimension 1: expected KL -1 bits is not a finite number ≥ 0"):
        rf.BlockLayout.from_kl(np.array([1.0, -1.0]))
    with pytest.raises(rf.RecError, match=r"dimension 2: expected KL nan bits"):
        rf.BlockLayout.from_kl(np.array([1.0, 1.0, np.nan]))


def test_other_parameter_ranges():
    with pytest.raises(rf.RecError, match=r"chunk_size = 0; chunk_size must lie in"):
        rf.encode_blocks(Q_SMALL, P_UNIT, chunk_size=0)
    with pytest.raises(rf.RecError, match="threads = 0; threads must lie in"):
        rf.encode_blocks(Q_SMALL, P_UNIT, threads=0)
    with pytest.raises(rf.RecError, match="seed = -1 is out of range"):
        rf.encode_blocks(Q_SMALL, P_UNIT, seed=-1)
    with pytest.raises(rf.RecError, match="max_steps = 0; max_steps must be ≥ 1"):
        rf.encode_blocks(Q_SMALL, P_UNIT, max_steps=0)
    with pytest.raises(TypeError, match="layout must be a rf.BlockLayout or None"):
        rf.encode_blocks(Q_SMALL, P_UNIT, layout="auto")
    with pytest.raises(TypeError, match="layout must be a rf.BlockLayout, got str"):
        rf.BlockEncoder(P_UNIT, "auto")


def test_unknown_method():
    with pytest.raises(rf.RecError, match="unknown block method 'fast'; use 'exact' or 'budget'"):
        rf.encode_blocks(Q_SMALL, P_UNIT, method="fast")
    with pytest.raises(rf.RecError, match="unknown block method 'gprs-bb'"):
        rf.BlockEncoder(P_UNIT, shared_layout(Q_SMALL, P_UNIT), method="gprs-bb")
    with pytest.raises(TypeError, match="method must be a str"):
        rf.encode_blocks(Q_SMALL, P_UNIT, method=1)


@pytest.mark.parametrize("threads", [1, 2])
def test_step_bound_names_the_first_block_that_hits_it(threads):
    # One hard dimension (6.5 bits) alone in its block; every other dimension has Q = P,
    # whose block accepts its first node.
    loc, scale = np.zeros(60), np.ones(60)
    loc[37], scale[37] = 2.0, 0.05
    Q = rf.Normal(loc, scale)
    layout = rf.BlockLayout.from_kl(kl_bits(Q, P_UNIT), bits_per_block=4.0, max_block_size=8, seed=0)
    hard = int(layout.block_of[37])
    assert hard > 0 and layout.block_sizes[hard] == 1
    steps = rf.encode_blocks(Q, P_UNIT, layout=layout, threads=threads).block_steps
    assert steps[hard] > 1 and (np.delete(steps, hard) == 1).all()
    with pytest.raises(rf.SearchLimitError, match=rf"^block {hard}: A\* coding over boxes examined max_steps = 1 nodes "
                                                  r"of a block of 1 dimensions.*raise max_steps"):
        rf.encode_blocks(Q, P_UNIT, layout=layout, max_steps=1, threads=threads)
    # A big block built from the target: 12 dimensions (the default largest block) of 0.5 bits each.
    big = rf.Normal(np.full(32, 0.6), 0.7)
    with pytest.raises(rf.SearchLimitError, match=r"^block 0: .*max_steps = 1 nodes of a block of 12 dimensions"):
        rf.encode_blocks(big, P_UNIT, max_steps=1, threads=threads)
    encoder = rf.BlockEncoder(P_UNIT, layout, max_steps=1, threads=threads)
    for _ in range(hard):
        encoder.encode_next(Q)
    with pytest.raises(rf.SearchLimitError, match=rf"^block {hard}: "):
        encoder.encode_next(Q)


def test_encoder_state_errors():
    layout = shared_layout(Q_SMALL, P_UNIT)
    encoder = rf.BlockEncoder(P_UNIT, layout)
    encoder.encode_next(Q_SMALL)
    message = rf"1 of the layout's {layout.num_blocks} blocks are coded; code them all before writing the stream"
    with pytest.raises(rf.RecError, match=message):
        encoder.to_bytes()
    with pytest.raises(rf.RecError, match=message):
        encoder.encoding()
    encoder.encode_rest(Q_SMALL)
    with pytest.raises(rf.RecError, match=rf"all {layout.num_blocks} blocks are already coded"):
        encoder.encode_next(Q_SMALL)


def _small_streams():
    """(name, bytes, layout to decode with, samples): both methods × both layout kinds,
    several blocks in chunks of 2 so that chunk framing is exercised."""
    generator = np.random.default_rng(0)
    Q = rf.Normal(generator.normal(0.0, 0.5, (2, 6)), generator.uniform(0.3, 0.9, (2, 6)))
    layout = rf.BlockLayout.from_kl(kl_bits(Q, P_UNIT), bits_per_block=2.0, max_block_size=4, seed=3)
    streams = []
    for method in METHODS:
        bits = 6 if method == "budget" else None
        stored = rf.encode_blocks(Q, P_UNIT, seed=1, method=method, bits_per_block=bits, max_block_size=3, chunk_size=2)
        shared = rf.encode_blocks(Q, P_UNIT, seed=1, method=method, layout=layout, bits_per_block=bits, chunk_size=2)
        streams.append((f"{method}-stored", stored.to_bytes(), None, stored.samples))
        streams.append((f"{method}-shared", shared.to_bytes(), layout, shared.samples))
    return streams


@pytest.mark.parametrize("name, data, layout, samples", _small_streams(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_truncation_and_bit_flip_is_refused(name, data, layout, samples):
    assert rf.decode_blocks(data, P_UNIT, layout=layout).shape == samples.shape
    if layout is None:
        assert rf.block_stream_info(data)["layout"].num_blocks >= 2
    else:
        assert layout.num_blocks >= 3
    for cut in range(len(data)):
        with pytest.raises(rf.CorruptStreamError):
            rf.decode_blocks(data[:cut], P_UNIT, layout=layout)
    with pytest.raises(rf.CorruptStreamError):
        rf.decode_blocks(data + b"\x00", P_UNIT, layout=layout)
    refused = 0
    for position in range(len(data)):
        for bit in range(8):
            mutated = bytearray(data)
            mutated[position] ^= 1 << bit
            try:
                decoded = rf.decode_blocks(bytes(mutated), P_UNIT, layout=layout)
            except rf.RecError:
                refused += 1
            else:  # only acceptable if nothing that matters changed
                assert same_bits(decoded, samples), (name, position, bit)
    assert refused == 8 * len(data), (name, refused, 8 * len(data))
    # Random insertions, deletions and multi-bit flips.
    generator = random.Random(len(data))
    for _ in range(300):
        mutated = bytearray(data)
        kind = generator.randrange(3)
        if kind == 0:
            for _ in range(generator.randint(2, 4)):
                mutated[generator.randrange(len(mutated))] ^= 1 << generator.randrange(8)
        elif kind == 1:
            del mutated[generator.randrange(len(mutated))]
        else:
            mutated.insert(generator.randrange(len(mutated) + 1), generator.randrange(256))
        try:
            decoded = rf.decode_blocks(bytes(mutated), P_UNIT, layout=layout)
        except rf.RecError:
            continue
        assert same_bits(decoded, samples), name


def test_garbage_and_other_formats_are_corrupt_streams():
    block_data = rf.encode_blocks(Q_SMALL, P_UNIT, seed=1).to_bytes()
    plain_data = rf.encode(Q_SMALL, P_UNIT, seed=1).to_bytes()
    with pytest.raises(rf.CorruptStreamError, match='not a rec_fast block stream: the magic bytes are not "RECB"'):
        rf.decode_blocks(plain_data, P_UNIT)
    with pytest.raises(rf.CorruptStreamError, match="RECF"):
        rf.decode(block_data, P_UNIT)
    for garbage in (b"", b"RECB", b"RECB" + bytes(40), bytes(range(256))):
        with pytest.raises(rf.CorruptStreamError):
            rf.block_stream_info(garbage)
        with pytest.raises(rf.CorruptStreamError):
            rf.decode_blocks(garbage, P_UNIT)
    with pytest.raises(TypeError):
        rf.decode_blocks("not bytes", P_UNIT)


@pytest.mark.parametrize("method", METHODS)
def test_decoding_with_the_wrong_proposal_family(method):
    for given in (None, shared_layout(Q_SMALL, P_UNIT)):
        data = rf.encode_blocks(Q_SMALL, P_UNIT, seed=1, method=method, layout=given).to_bytes()
        for wrong in (rf.Laplace(0.0, 1.0), rf.Uniform(-5.0, 5.0)):
            with pytest.raises(rf.RecError, match=f"the stream was encoded against a Normal proposal, but P is {wrong.family}"):
                rf.decode_blocks(data, wrong, layout=given)


def test_effective_sample_size_is_finite_when_the_weights_underflow():
    enc = rf.encode_blocks(rf.Normal(np.array([4.0]), 0.01), P_UNIT, seed=1, method="budget", bits_per_block=12,
                           effective_sample_size=True)
    assert np.isfinite(enc.block_ess).all() and (enc.block_ess >= 1.0).all(), enc.block_ess


def test_the_blocks_command_codes_and_verifies_a_posterior(capsys):
    from rec_fast.cli import main

    for extra in ([], ["--stored"]):
        assert main(["blocks", "--d", "3000", "--seed", "2", *extra]) == 0
        out = capsys.readouterr().out
        assert "round trip bit-identical: True" in out and " x KL" in out


def test_narrow_one_dimension_blocks_escape_by_a_rule_of_q_and_p_and_stay_exact():
    """Targets around the resolution of P's tail coordinates (sd 1e-10 … 1e-6 of the prior):
    whether a block escapes is decided from (Q, P) before any draw, so the searched blocks are not
    selected by their randomness. A rule that escaped after a failed search biased the searched
    blocks' spread by 1–13 % at sd ≈ 1e-10."""
    n = 60_000
    rng = np.random.default_rng(11)
    sd = 10.0 ** rng.uniform(-10.5, -6.0, n)
    loc = rng.choice([0.0, 3.0], n)
    Q = rf.Normal(loc, sd)
    layout = rf.BlockLayout.from_kl(np.full(n, 100.0), bits_per_block=8, max_block_size=1)
    enc = rf.encode_blocks(Q, P_UNIT, seed=4, layout=layout)
    assert same_bits(rf.decode_blocks(enc.to_bytes(), P_UNIT, layout=layout), enc.samples)
    escaped = np.zeros(n, bool)
    escaped[np.concatenate([layout.block_dimensions(b) for b in np.flatnonzero(enc.block_steps == 0)])] = True
    assert 0.2 < escaped.mean() < 0.8, escaped.mean()
    z = (enc.samples - loc) / sd
    for part in (escaped, ~escaped):
        assert stats.kstest(z[part], "norm").pvalue > ALPHA
        assert abs(z[part].var() - 1.0) < 4.5 * np.sqrt(2.0 / part.sum())


def test_a_crafted_stored_layout_cannot_make_the_decoder_allocate_before_its_checksum():
    enc = rf.encode_blocks(rf.Normal(np.full(40, 0.3), 0.8), P_UNIT, seed=0)
    data = bytearray(enc.to_bytes())
    info = rf.block_stream_info(bytes(data))
    assert info["layout_stored"]
    # Declare 2**39 dimensions in the shape (one extent varint): rejected by the header
    # checksum before the layout is decoded or anything the shape implies is allocated.
    header = bytes(data[:12])
    crafted = bytes(data).replace(bytes([1, 40]), bytes([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), 1)
    assert crafted != bytes(data) and header[:4] == b"RECB"
    with pytest.raises(rf.CorruptStreamError):
        rf.block_stream_info(crafted)
    with pytest.raises(rf.CorruptStreamError):
        rf.decode_blocks(crafted, P_UNIT)


def test_effective_sample_size_of_bounded_support_targets_is_finite():
    enc = rf.encode_blocks(rf.Uniform(np.zeros(30), 0.5), P_UNIT, seed=1, method="budget", bits_per_block=8,
                           effective_sample_size=True)
    assert np.isfinite(enc.block_ess).all() and (enc.block_ess >= 1.0).all(), enc.block_ess


def test_encoder_families_are_checked_and_default_to_p():
    layout = rf.BlockLayout.from_kl(np.ones(10))
    encoder = rf.BlockEncoder(rf.Laplace(0.0, 1.0), layout)
    encoder.encode_rest(rf.Laplace(np.zeros(10), 0.5))
    assert encoder.done
    encoder = rf.BlockEncoder(P_UNIT, layout)
    with pytest.raises(rf.RecError, match="this encoder codes Normal targets, not Uniform"):
        encoder.encode_rest(rf.Uniform(np.zeros(10), 0.5))


def test_a_zero_dimensional_target_codes_progressively():
    layout = rf.BlockLayout.from_kl(np.float64(3.0))
    encoder = rf.BlockEncoder(P_UNIT, layout, seed=2)
    dims, x = encoder.encode_next(rf.Normal(0.5, 0.3))
    assert dims.tolist() == [0] and x.shape == (1,)
    whole = rf.encode_blocks(rf.Normal(0.5, 0.3), P_UNIT, seed=2, layout=layout)
    assert encoder.to_bytes() == whole.to_bytes()
    assert same_bits(rf.decode_blocks(whole.to_bytes(), P_UNIT, layout=layout), whole.samples)

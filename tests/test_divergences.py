"""KL, D∞ and D_CS: closed forms, orderings, and the entropy bounds of global GPRS's index."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rec_fast as rf
from conftest import GRID, grid_pair, repeated

LOG2_1_PLUS_E = math.log2(1 + math.e)


def test_channel_simulation_divergence_test_vectors():
    P = rf.Normal(0.0, 1.0)
    Q = rf.Normal([1.0, 1.0, 0.5, 0.0], [0.25, 0.5, 0.5, 0.5 ** 0.5])
    expected_nats = np.array([1.779750, 1.202182, 0.747345, 0.283267])
    assert np.allclose(rf.channel_simulation_divergence(Q, P) * math.log(2), expected_nats, atol=2e-6)


@pytest.mark.parametrize("P", [rf.Normal(-2.0, 0.3), rf.Laplace(1.5, 2.0), rf.Uniform(-3.0, 4.0)], ids=repr)
def test_identical_pair_has_zero_divergences(P):
    for divergence in (rf.kl_divergence, rf.max_divergence, rf.channel_simulation_divergence):
        value = float(divergence(P, P))
        # +0 exactly: no rounding residue, and not −0.
        assert value == 0.0 and math.copysign(1.0, value) == 1.0, (divergence.__name__, value)


# Laplace pairs beside the Normal grid: centred (the test-vector b = 1/2), offset, narrow in P's tail,
# and the equal-scale plateau pair.
LAPLACE_PAIRS = [(rf.Laplace(0.0, 0.5), rf.Laplace(0.0, 1.0)), (rf.Laplace(1.5, 0.2), rf.Laplace(0.0, 1.0)),
                 (rf.Laplace(-3.0, 0.05), rf.Laplace(0.0, 2.0)), (rf.Laplace(0.5, 1.0), rf.Laplace(0.0, 1.0))]
ORDERING_PAIRS = [pytest.param(*grid_pair(entry), id=entry[0]) for entry in GRID] + [
    pytest.param(Q, P, id=f"{Q!r}-{P!r}") for Q, P in LAPLACE_PAIRS]


@pytest.mark.parametrize("Q, P", ORDERING_PAIRS)
def test_divergence_ordering_on_the_grid(Q, P):
    kl = float(rf.kl_divergence(Q, P))
    dcs = float(rf.channel_simulation_divergence(Q, P))
    dmax = float(rf.max_divergence(Q, P))
    assert 0.0 < kl <= dcs <= kl + math.log2(kl + 1) + 1 + 1e-9
    assert dcs <= dmax + 1e-9


def test_unbounded_ratio_is_an_error():
    with pytest.raises(rf.RecError, match="unbounded"):
        rf.channel_simulation_divergence(rf.Normal(0.0, 2.0), rf.Normal(0.0, 1.0))


def _entropy_bits(values: np.ndarray) -> float:
    """Plug-in entropy with the Miller–Madow bias correction."""
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum() + (len(counts) - 1) / (2 * counts.sum() * math.log(2)))


ENTROPY_PAIRS = [
    (rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)),
    (rf.Normal(0.5, 0.5), rf.Normal(0.0, 1.0)),
    (rf.Normal(-1.5, 0.3), rf.Normal(0.0, 1.0)),
    (rf.Laplace(0.0, 0.5), rf.Laplace(0.0, 1.0)),
    (rf.Laplace(1.5, 0.2), rf.Laplace(0.0, 1.0)),
    (rf.Laplace(0.5, 1.0), rf.Laplace(0.0, 1.0)),
    (rf.Uniform(0.0, 3.0), rf.Normal(0.0, 1.0)),
]


@pytest.mark.parametrize("Q, P", ENTROPY_PAIRS, ids=repr)
def test_global_gprs_index_entropy_lies_between_dcs_and_dcs_plus_log2_1_plus_e(Q, P):
    """H[N] ≥ D_CS ≥ KL for every causal sampler, and H[N] ≤ D_CS + log₂(1 + e) for GPRS."""
    count = 200_000
    enc = rf.encode(repeated(Q, count), P, seed=31, method="gprs")
    entropy = _entropy_bits(enc.steps)
    kl = float(rf.kl_divergence(Q, P))
    dcs = float(rf.channel_simulation_divergence(Q, P))
    # 0.02 bits covers the estimator's error at 200,000 samples.
    assert kl - 0.02 <= dcs - 0.02 <= entropy <= dcs + LOG2_1_PLUS_E + 0.02, (kl, dcs, entropy)


@pytest.mark.parametrize("q_loc, q_scale", [(3.0, 1e-7), (0.3, 1e-8)])
def test_dcs_of_extremely_narrow_targets_converges(q_loc, q_scale):
    # Level sets ~1e-9 wide around a mode at 3: their ends would round (regression test).
    Q, P = rf.Normal(q_loc, q_scale), rf.Normal(0.0, 1.0)
    kl = float(rf.kl_divergence(Q, P))
    dcs = float(rf.channel_simulation_divergence(Q, P))
    assert kl <= dcs <= kl + math.log2(kl + 1) + 1

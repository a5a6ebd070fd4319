"""Laplace pairs through the Python API: round trips, exactness, divergences, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

import rec_fast as rf
from conftest import GLOBAL_MAX_DMAX_BITS, GLOBAL_METHODS

# (Q loc, Q scale, P loc, P scale): centred (the test-vector b = 1/2), offset, narrow in P's tail,
# two equal-scale pairs whose ratio has a plateau at r* (one on each side of P's location,
# KL 0.15 and 0.53 bits), and two narrow targets for the branch-and-bound methods (KL 13.3
# bits; 22.5 bits, 12 scales deep in P's tail).
PAIRS = [(0.0, 0.5, 0.0, 1.0), (1.5, 0.2, 0.0, 1.0), (-3.0, 0.05, 0.0, 2.0), (0.5, 1.0, 0.0, 1.0),
         (-2.0, 3.0, 1.0, 3.0), (4.0, 0.002, 0.0, 1.0), (12.0, 0.01, 0.0, 1.0)]


@pytest.mark.parametrize("method", rf.METHODS)
@pytest.mark.parametrize("pair", PAIRS)
def test_laplace_targets_are_exact_and_round_trip(method, pair):
    q_loc, q_scale, p_loc, p_scale = pair
    P = rf.Laplace(p_loc, p_scale)
    dmax = float(rf.max_divergence(rf.Laplace(q_loc, q_scale), P))
    if method in GLOBAL_METHODS and dmax > GLOBAL_MAX_DMAX_BITS:
        pytest.skip(f"D∞ = {dmax:.1f} bits: about 2^D∞ steps per sample")
    enc = rf.encode(rf.Laplace(np.full(20_000, q_loc), q_scale), P, seed=5, method=method)
    assert rf.stream_info(enc.to_bytes())["target_family"] == "Laplace"
    assert np.array_equal(rf.decode(enc.to_bytes(), P).view(np.uint64), enc.samples.view(np.uint64))
    assert stats.kstest(enc.samples, stats.laplace(loc=q_loc, scale=q_scale).cdf).pvalue > 1e-4
    Q = rf.Laplace(q_loc, q_scale)
    kl = float(rf.kl_divergence(Q, P))
    # The whole stream, header included: at most KL + log₂(KL + 1) + 3 bits per element.
    assert 8 * len(enc.to_bytes()) / enc.samples.size <= kl + math.log2(kl + 1) + 3
    if method == "gprs":
        r_max = 2.0 ** float(rf.max_divergence(Q, P))
        steps = enc.steps.astype(float)
        assert abs(steps.mean() - r_max) < 5 * steps.std(ddof=1) / math.sqrt(steps.size)


def test_the_laplace_exactness_test_has_power():
    """The test above, on 20,000 samples at α = 1e-4, catches a location off by 10% of the scale
    and a scale 20% too wide (its resolution: about 3% of the scale in location)."""
    enc = rf.encode(rf.Laplace(np.full(20_000, 1.5), 0.2), rf.Laplace(0.0, 1.0), seed=5, method="gprs-bb")
    assert stats.kstest(enc.samples, stats.laplace(loc=1.5, scale=0.2).cdf).pvalue > 1e-4
    assert stats.kstest(enc.samples, stats.laplace(loc=1.5 + 0.1 * 0.2, scale=0.2).cdf).pvalue < 1e-4
    assert stats.kstest(enc.samples, stats.laplace(loc=1.5, scale=1.2 * 0.2).cdf).pvalue < 1e-4


def test_laplace_divergences_match_closed_forms():
    P = rf.Laplace(0.0, 1.0)
    b = np.array([0.5, 0.25, 0.1])
    Q = rf.Laplace(0.0, b)
    # KL = b − ln b − 1 and D_CS = b + ψ(1/b) + γ − 1 nats (docs/test-vectors.md).
    assert np.allclose(rf.kl_divergence(Q, P) * math.log(2), b - np.log(b) - 1, rtol=1e-13)
    dcs = rf.channel_simulation_divergence(Q, P) * math.log(2)
    assert np.allclose(dcs, b + special.digamma(1 / b) + np.euler_gamma - 1, atol=1e-8)
    assert np.allclose(dcs[:2], [0.5, 13 / 12], atol=1e-8)
    assert np.allclose(rf.max_divergence(Q, P), -np.log2(b), rtol=1e-13)
    # σ⁻¹(t) = 2t/(2 + t) for b = 1/2.
    t = np.array([0.01, 1.0, 50.0])
    assert np.allclose(rf.stretch_inverse(rf.Laplace(0.0, 0.5), P, t), 2 * t / (2 + t), rtol=1e-10)


def test_laplace_bad_input():
    P = rf.Laplace(0.0, 1.0)
    with pytest.raises(rf.RecError, match="Laplace scale -1.0 is not allowed"):
        rf.Laplace(0.0, -1.0)
    with pytest.raises(rf.RecError, match="unbounded"):
        rf.encode(rf.Laplace(0.0, 2.0), P)
    with pytest.raises(rf.RecError, match="Laplace target with a Normal coding distribution"):
        rf.encode(rf.Laplace(0.0, 0.5), rf.Normal(0.0, 1.0))
    data = rf.encode(rf.Laplace(0.0, 0.5), P).to_bytes()
    with pytest.raises(rf.RecError, match="encoded against a Laplace proposal, but P is Normal"):
        rf.decode(data, rf.Normal(0.0, 1.0))
    # The equal-scale pair has D∞ = |c − a|/b nats.
    assert float(rf.max_divergence(rf.Laplace(0.5, 1.0), P)) == pytest.approx(0.5 / math.log(2))

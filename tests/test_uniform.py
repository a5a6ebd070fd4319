"""Uniform targets through the Python API: exactness and round trips of every method, the
closed forms of docs/test-vectors.md, σ and the divergences against independent scipy quadrature, and bad
input (the causal-sampler entropy bound is in test_divergences.py)."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest
from scipy import integrate, stats

import rec_fast as rf
from conftest import GLOBAL_MAX_DMAX_BITS, GLOBAL_METHODS, SAMPLES, repeated

BRANCH_METHODS = tuple(m for m in rf.METHODS if m not in GLOBAL_METHODS)

# (name, Q, P) with a unimodal ratio: every method applies.
UNIMODAL = [
    ("in-uniform", rf.Uniform(0.2, 0.45), rf.Uniform(0.0, 1.0)),
    ("narrow-in-uniform-11-bits", rf.Uniform(0.3, 0.3005), rf.Uniform(0.0, 1.0)),
    ("equal-uniforms", rf.Uniform(-3.0, 4.0), rf.Uniform(-3.0, 4.0)),
    ("on-normal", rf.Uniform(0.5, 0.6), rf.Normal(0.0, 1.0)),
    ("wide-on-normal", rf.Uniform(0.0, 3.0), rf.Normal(0.0, 1.0)),
    ("left-tail-of-normal-19-bits", rf.Uniform(-4.5, -4.4), rf.Normal(0.0, 1.0)),
    ("tiny-on-normal-20-bits", rf.Uniform(1.0, 1.0 + 1e-6), rf.Normal(0.0, 1.0)),
    ("on-laplace", rf.Uniform(-3.0, -2.9), rf.Laplace(0.0, 1.0)),
    ("touching-laplace-mode", rf.Uniform(0.2, 1.0), rf.Laplace(0.2, 0.5)),
]
# (name, Q, P) with P's mode strictly inside Q's support: two-interval superlevel sets.
TWO_INTERVAL = [
    ("straddling-normal-mode", rf.Uniform(-1.0, 2.0), rf.Normal(0.0, 1.0)),
    ("straddling-laplace-mode", rf.Uniform(-0.5, 1.0), rf.Laplace(0.2, 0.5)),
    ("symmetric-straddle", rf.Uniform(-1.5, 1.5), rf.Normal(0.0, 2.0)),
]
ALL_PAIRS = UNIMODAL + TWO_INTERVAL


def _cases():
    for name, Q, P in UNIMODAL:
        for method in rf.METHODS:
            yield pytest.param(Q, P, method, id=f"{name}-{method}")
    for name, Q, P in TWO_INTERVAL:
        for method in GLOBAL_METHODS:
            yield pytest.param(Q, P, method, id=f"{name}-{method}")


@pytest.mark.parametrize("Q, P, method", list(_cases()))
def test_uniform_targets_are_exact_and_round_trip(Q, P, method):
    dmax = float(rf.max_divergence(Q, P))
    if method in GLOBAL_METHODS and dmax > GLOBAL_MAX_DMAX_BITS:
        pytest.skip(f"D∞ = {dmax:.1f} bits: about 2^D∞ steps per sample")
    enc = rf.encode(repeated(Q, SAMPLES), P, seed=17, method=method)
    data = enc.to_bytes()
    assert rf.stream_info(data)["target_family"] == "Uniform"
    assert np.array_equal(rf.decode(data, P).view(np.uint64), enc.samples.view(np.uint64))
    low, high = float(Q.low), float(Q.high)
    assert ((enc.samples >= low) & (enc.samples <= high)).all()
    assert stats.kstest(enc.samples, stats.uniform(low, high - low).cdf).pvalue > 1e-4
    kl = float(rf.kl_divergence(Q, P))
    # The whole stream, header included: at most KL + log₂(KL + 1) + 3 bits per element.
    assert 8 * len(data) / enc.samples.size <= kl + math.log2(kl + 1) + 3
    if method == "gprs":
        steps = enc.steps.astype(float)
        assert abs(steps.mean() - 2.0 ** dmax) < 5 * steps.std(ddof=1) / math.sqrt(steps.size) + 1e-9


def test_ks_detects_a_one_percent_error_in_the_support():
    # Power check for the test above: samples of U(0.5, 0.6) judged against a support 1% wider.
    enc = rf.encode(repeated(rf.Uniform(0.5, 0.6), 200_000), rf.Normal(0.0, 1.0), seed=2, method="gprs-bb")
    assert stats.kstest(enc.samples, stats.uniform(0.5, 0.1).cdf).pvalue > 1e-4
    assert stats.kstest(enc.samples, stats.uniform(0.5, 0.101).cdf).pvalue < 1e-6


@pytest.mark.parametrize("method", BRANCH_METHODS)
@pytest.mark.parametrize("name, Q, P", TWO_INTERVAL)
def test_branch_and_bound_refuses_two_interval_ratios(name, Q, P, method):
    with pytest.raises(rf.RecError, match=r'needs a unimodal density ratio.*two intervals.*"gprs"'):
        rf.encode(Q, P, method=method)


def test_uniform_pair_design_vectors():
    # P = U(0, 1), Q = U(a, a + w): σ⁻¹(t) = (1 − e^{−wt})/w, N ~ Geometric(w),
    # KL = D∞ = D_CS = −log w (docs/test-vectors.md).
    P = rf.Uniform(0.0, 1.0)
    w = np.array([0.5, 0.25, 0.01])
    Q = rf.Uniform(0.2, 0.2 + w)
    for divergence in (rf.kl_divergence, rf.max_divergence, rf.channel_simulation_divergence):
        assert np.allclose(divergence(Q, P), -np.log2(w), rtol=1e-12)
    t = np.array([[1e-3], [0.5], [4.0], [60.0]])
    assert np.allclose(rf.stretch_inverse(Q, P, t), -np.expm1(-w * t) / w, rtol=1e-12)
    enc = rf.encode(rf.Uniform(np.full(100_000, 0.2), 0.45), P, seed=4, method="gprs")
    assert abs((enc.steps == 1).mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / 100_000)
    assert abs(enc.steps.mean() - 4.0) < 5 * math.sqrt(0.75 / 0.25**2 / 100_000)
    assert float(rf.channel_simulation_divergence(rf.Uniform(-3.0, 4.0), rf.Uniform(-3.0, 4.0))) == 0.0


def _densities(Q, P):
    width = float(Q.high) - float(Q.low)
    if isinstance(P, rf.Normal):
        p = stats.norm(float(P.loc), float(P.scale)).pdf
    elif isinstance(P, rf.Laplace):
        p = stats.laplace(float(P.loc), float(P.scale)).pdf
    else:
        p = stats.uniform(float(P.low), float(P.high) - float(P.low)).pdf
    return 1.0 / width, p


def _reference_gap(Q, P, height: float) -> float:
    """g(h) = ∫ (q − h·p)₊ over Q's support, by scipy quadrature between the roots of q = h·p."""
    q, p = _densities(Q, P)
    loc, scale = float(P.loc), float(P.scale)
    if isinstance(P, rf.Normal):
        argument = math.log(height / (q * scale * math.sqrt(2 * math.pi)))
        reach = scale * math.sqrt(2 * argument) if argument > 0 else None
    else:
        argument = math.log(height / (2 * scale * q))
        reach = scale * argument if argument > 0 else None
    low, high = float(Q.low), float(Q.high)
    roots = [] if reach is None else [x for x in (loc - reach, loc + reach) if low < x < high]
    edges = [low, *roots, high]
    return sum(integrate.quad(lambda x: max(q - height * p(x), 0.0), a, b, epsabs=0, epsrel=1e-13)[0]
               for a, b in zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("name, Q, P", [c for c in ALL_PAIRS if not isinstance(c[2], rf.Uniform)
                                         and "20-bits" not in c[0] and "19-bits" not in c[0]])
def test_stretch_and_kl_match_independent_quadrature(name, Q, P):
    q, p = _densities(Q, P)
    low, high = float(Q.low), float(Q.high)
    # KL = ∫ q ln(q/p) over the support.
    kl_nats = integrate.quad(lambda x: q * math.log(q / p(x)), low, high, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert float(rf.kl_divergence(Q, P)) * math.log(2) == pytest.approx(kl_nats, rel=1e-9)
    # D∞ = max over the support's ends of ln(q/p).
    dmax_nats = max(math.log(q / p(low)), math.log(q / p(high)))
    assert float(rf.max_divergence(Q, P)) * math.log(2) == pytest.approx(dmax_nats, rel=1e-12)
    # σ(h) = ∫₀^h dη/g(η), away from r*.
    r_max = math.exp(dmax_nats)
    for fraction in (0.4, 0.9):
        height = fraction * r_max
        # g is linear below the floor of r on the support (r at the point nearest P's mode).
        floor = q / p(min(max(float(P.loc), low), high))
        points = [floor] if floor < height else None
        reference = integrate.quad(lambda eta: 1.0 / _reference_gap(Q, P, eta), 0.0, height,
                                   epsabs=0, epsrel=1e-10, limit=200, points=points)[0]
        assert float(rf.stretch(Q, P, height)) == pytest.approx(reference, rel=1e-7)


@pytest.mark.parametrize("name, Q, P", ALL_PAIRS)
def test_channel_simulation_divergence_lies_between_its_bounds(name, Q, P):
    kl = float(rf.kl_divergence(Q, P))
    dcs = float(rf.channel_simulation_divergence(Q, P))
    assert kl - 1e-9 <= dcs <= kl + math.log2(kl + 1) + 1


def test_uniform_bad_input():
    for low, high in [(1.0, 1.0), (2.0, 1.0), (math.nan, 1.0), (0.0, math.inf), (-1e308, 1e308)]:
        with pytest.raises(rf.RecError, match="Uniform low"):
            rf.Uniform(low, high)
    with pytest.raises(rf.RecError, match=r"element \(1,\): Uniform low 1.0 and high 0.5"):
        rf.Uniform([0.0, 1.0], [1.0, 0.5])
    with pytest.raises(TypeError, match="low must be a float"):
        rf.Uniform("0", 1.0)
    with pytest.raises(rf.RecError, match="do not broadcast"):
        rf.Uniform([0.0, 1.0], [2.0, 3.0, 4.0])
    with pytest.raises(AttributeError, match="immutable"):
        rf.Uniform(0.0, 1.0).low = 3.0
    with pytest.raises(rf.RecError, match=r"element 1: target support \[-0.5, 0.5\] is not inside .* \[0, 1\]"):
        rf.encode(rf.Uniform([0.1, -0.5], [0.2, 0.5]), rf.Uniform(0.0, 1.0))
    with pytest.raises(rf.RecError, match="Normal target has unbounded support"):
        rf.encode(rf.Normal(0.0, 0.1), rf.Uniform(-1.0, 1.0))
    with pytest.raises(rf.RecError, match="a Normal target with a Laplace coding distribution is not supported"):
        rf.encode(rf.Normal(0.0, 0.5), rf.Laplace(0.0, 1.0))
    assert float(rf.kl_divergence(rf.Normal(0.0, 0.1), rf.Uniform(-1.0, 1.0))) == math.inf
    assert float(rf.kl_divergence(rf.Uniform(-2.0, 0.5), rf.Uniform(-1.0, 1.0))) == math.inf
    data = rf.encode(rf.Uniform(0.5, 0.6), rf.Normal(0.0, 1.0), format_version=1).to_bytes()
    with pytest.raises(rf.RecError, match="encoded against a Normal proposal, but P is Uniform"):
        rf.decode(data, rf.Uniform(0.0, 1.0))
    # A header naming a family pair that cannot have been encoded is corrupt, checksum or not.
    body = bytearray(data[:-4])
    body[6], body[7] = 3, 3  # Uniform/Uniform is codable: re-CRC'd it parses
    assert rf.stream_info(bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))))["proposal_family"] == "Uniform"
    body[6], body[7] = 1, 3  # Normal target on a Uniform proposal
    with pytest.raises(rf.CorruptStreamError, match="Normal target with a Uniform proposal cannot have been encoded"):
        rf.stream_info(bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))))

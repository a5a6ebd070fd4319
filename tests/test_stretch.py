"""σ⁻¹ against an independent high-precision reference (mpmath), and the design's test vectors."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

import rec_fast as rf

mp.mp.dps = 40


def reference_stretch(q_loc, q_scale, p_loc, p_scale, h):
    """σ(h) = ∫₀^h dη / (w_Q(η) − η w_P(η)) in 40-digit arithmetic (mpmath tanh-sinh)."""
    m = mp.mpf(q_loc - p_loc) / p_scale
    tau = mp.mpf(q_scale) / p_scale
    v = tau**2 / (1 - tau**2)
    mode = m / (1 - tau**2)
    log_r_max = -mp.log(tau) + m**2 / (2 * (1 - tau**2))

    def gap(eta):
        if eta <= 0:
            return mp.mpf(1)
        rho = mp.sqrt(2 * v * (log_r_max - mp.log(eta)))
        w_p = mp.ncdf(mode + rho) - mp.ncdf(mode - rho)
        w_q = mp.ncdf((mode + rho - m) / tau) - mp.ncdf((mode - rho - m) / tau)
        return w_q - eta * w_p

    h = mp.mpf(h)
    return mp.quad(lambda eta: 1 / gap(eta), [0, h / 4, h / 2, 3 * h / 4, h])


# (Q loc, Q scale, P loc, P scale): D∞ from 0.4 to 30 bits.
PAIRS = [
    (0.0, 0.7071067811865476, 0.0, 1.0),
    (1.0, 0.25, 0.0, 1.0),
    (2.5, 3.0, 1.0, 4.0),
    (3.0, 0.01, 0.0, 1.0),
    (0.0, 2.0 ** -30, 0.0, 1.0),
    (-4.0, 0.2, 0.0, 1.0),
]


@pytest.mark.parametrize("pair", PAIRS)
def test_stretch_inverse_relative_error_below_1e_9(pair):
    q_loc, q_scale, p_loc, p_scale = pair
    Q, P = rf.Normal(q_loc, q_scale), rf.Normal(p_loc, p_scale)
    r_max = 2.0 ** float(rf.max_divergence(Q, P))
    for t in [1e-3, 0.1, 1.0, 5.0, 0.5 * r_max, 2.0 * r_max]:
        h = float(rf.stretch_inverse(Q, P, t))
        assert 0 < h < r_max
        # The reference σ at our h must return t; the error in h is g(h)·|Δσ| ≤ |Δσ|·...
        sigma = reference_stretch(q_loc, q_scale, p_loc, p_scale, h)
        # dh = g(h) dσ and g ≤ 1 − h/r*, so |Δh|/h ≤ (1 − h/r*)|Δσ|/h.
        relative_h_error = float(abs(sigma - t) * (1 - h / r_max) / h)
        assert relative_h_error < 1e-9, (pair, t, h, float(sigma))


def test_design_stretched_ratio_vectors():
    # φ(x) = σ(r(x)) for Q = N(1, 1/16), P = N(0, 1) (docs/test-vectors.md).
    Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    for x, phi in [(0.412060, 0.288494), (0.814070, 9.96281), (1.417085, 4.42092), (2.0, 0.00993810)]:
        log_r = math.log(4) - (x - 1) ** 2 * 8 + x * x / 2
        assert float(rf.stretch(Q, P, math.exp(log_r))) == pytest.approx(phi, rel=2e-5)


def test_closed_form_uniform_limit_of_identity_pair():
    # Q = P: w_P = w_Q = 1 for h ≤ 1, σ(h) = −ln(1 − h), σ⁻¹(t) = 1 − e^{−t}.
    P = rf.Normal(0.3, 2.0)
    t = np.array([1e-6, 0.1, 1.0, 10.0])
    assert np.allclose(rf.stretch_inverse(P, P, t), -np.expm1(-t), rtol=1e-12, atol=0)


def test_stretch_inverse_is_increasing_and_bounded():
    Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    t = np.geomspace(1e-4, 1e6, 60)
    h = rf.stretch_inverse(Q, P, t)
    assert (np.diff(h) > 0).all()
    assert h[-1] < 2.0 ** float(rf.max_divergence(Q, P))


def test_extreme_times_and_heights():
    Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    r_max = 2.0 ** float(rf.max_divergence(Q, P))
    # σ(h) = h + O(h²) near 0, so σ⁻¹(t) = t for tiny t.
    assert float(rf.stretch_inverse(Q, P, 1e-200)) == pytest.approx(1e-200, rel=1e-12)
    assert float(rf.stretch_inverse(Q, P, 1e-30)) == pytest.approx(1e-30, rel=1e-12)
    # σ⁻¹ saturates at r* and σ(r*) = inf.
    assert float(rf.stretch_inverse(Q, P, 1e100)) == pytest.approx(r_max, rel=1e-15)
    assert float(rf.stretch(Q, P, r_max)) == math.inf
    with pytest.raises(rf.RecError, match="h must lie in"):
        rf.stretch(Q, P, 1.01 * r_max)
    with pytest.raises(rf.RecError, match="t must be ≥ 0"):
        rf.stretch_inverse(Q, P, -1.0)

"""CDF, survival function and quantiles of every family: scipy in the body, mpmath in the tails,
the support's ends, broadcasting and bad input."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import stats

import rec_fast as rf

FAMILIES = [
    (rf.Normal(1.0, 2.0), stats.norm(1.0, 2.0)),
    (rf.Laplace(-1.0, 0.5), stats.laplace(-1.0, 0.5)),
    (rf.Uniform(2.0, 5.0), stats.uniform(2.0, 3.0)),
]


@pytest.mark.parametrize("D, reference", FAMILIES, ids=["Normal", "Laplace", "Uniform"])
def test_distribution_functions_match_scipy(D, reference):
    x = np.concatenate([np.linspace(-25.0, 25.0, 2001), [-np.inf, np.inf]])
    assert np.allclose(D.cdf(x), reference.cdf(x), rtol=1e-12, atol=0)
    assert np.allclose(D.survival(x), reference.sf(x), rtol=1e-12, atol=0)
    p = np.linspace(0.0, 1.0, 1001)
    assert np.allclose(D.quantile(p), reference.ppf(p), rtol=1e-12, atol=1e-12)
    assert np.allclose(D.upper_quantile(p), reference.isf(p), rtol=1e-12, atol=1e-12)
    # Quantiles invert the CDF and the survival function on both sides of the median.
    inner = reference.ppf(np.linspace(0.001, 0.999, 999))
    assert np.allclose(D.quantile(D.cdf(inner)), inner, rtol=1e-12, atol=1e-12)
    assert np.allclose(D.upper_quantile(D.survival(inner)), inner, rtol=1e-12, atol=1e-12)


def test_normal_tails_keep_relative_precision():
    mpmath.mp.dps = 50
    N = rf.Normal(0.0, 1.0)
    z = np.array([5.0, 10.0, 20.0, 30.0, 37.5])
    exact = np.array([float(mpmath.ncdf(-value)) for value in z])
    assert np.allclose(N.cdf(-z), exact, rtol=1e-13, atol=0)
    assert np.allclose(N.survival(z), exact, rtol=1e-13, atol=0)
    # F(10) = 1 − 7.6e-24 rounds to 1, so 1 − F loses the tail the survival function kept above.
    assert float(N.cdf(10.0)) == 1.0
    # Quantiles of tail probabilities down to 1e-300, checked through mpmath's CDF.
    tails = np.array([1e-5, 1e-20, 1e-100, 1e-300])
    for tail, point in zip(tails, N.upper_quantile(tails)):
        assert float(mpmath.ncdf(-mpmath.mpf(float(point))) / mpmath.mpf(float(tail))) == pytest.approx(1.0, rel=5e-13)
    assert np.array_equal(N.quantile(tails), -N.upper_quantile(tails))


def test_laplace_and_uniform_tails_are_closed_form():
    L = rf.Laplace(2.0, 3.0)
    distance = np.array([1.0, 50.0, 700.0])
    assert np.allclose(L.survival(2.0 + 3.0 * distance), 0.5 * np.exp(-distance), rtol=1e-13, atol=0)
    assert np.allclose(L.cdf(2.0 - 3.0 * distance), 0.5 * np.exp(-distance), rtol=1e-13, atol=0)
    assert np.allclose(L.upper_quantile(0.5 * np.exp(-distance)), 2.0 + 3.0 * distance, rtol=1e-14)
    U = rf.Uniform(0.0, 1.0)
    # Each end is approached from its own side: a tail of 1e-300 keeps all its digits.
    assert float(U.quantile(1e-300)) == 1e-300 and float(U.cdf(1e-300)) == 1e-300
    assert float(U.survival(1.0 - 2.0 ** -40)) == 2.0 ** -40
    assert float(U.cdf(-3.0)) == 0.0 and float(U.survival(7.0)) == 0.0


@pytest.mark.parametrize("D", [rf.Normal(0.0, 1.0), rf.Laplace(0.0, 1.0), rf.Uniform(-1.0, 2.0)], ids=repr)
def test_probabilities_zero_and_one_give_the_support_ends(D):
    low, high = (-1.0, 2.0) if isinstance(D, rf.Uniform) else (-math.inf, math.inf)
    assert list(D.quantile([0.0, 1.0])) == [low, high]
    assert list(D.upper_quantile([0.0, 1.0])) == [high, low]
    assert list(D.cdf([-math.inf, math.inf])) == [0.0, 1.0]


def test_arguments_broadcast_against_the_parameters():
    N = rf.Normal(loc=[0.0, 1.0], scale=[1.0, 2.0])
    values = N.cdf([[0.0], [1.0]])
    assert values.shape == (2, 2)
    assert np.allclose(values, stats.norm([0.0, 1.0], [1.0, 2.0]).cdf([[0.0], [1.0]]), rtol=1e-14)
    # A scalar argument on scalar parameters gives a Python float: F(½) = 1 − e^{−½}/2.
    value = rf.Laplace(0.0, 1.0).cdf(0.5)
    assert isinstance(value, float) and value == pytest.approx(1 - 0.5 * math.exp(-0.5), rel=1e-15)


def test_bad_arguments_raise():
    N = rf.Normal(0.0, 1.0)
    with pytest.raises(rf.RecError, match="x = nan; x must be a float or ±inf, not nan"):
        N.cdf(math.nan)
    with pytest.raises(rf.RecError, match=r"element 1: p = 1.5; a probability must lie in \[0, 1\]"):
        N.quantile([0.5, 1.5])
    with pytest.raises(rf.RecError, match="q = -1e-300"):
        rf.Uniform(0.0, 1.0).upper_quantile(-1e-300)
    with pytest.raises(rf.RecError, match="p = nan"):
        rf.Laplace(0.0, 1.0).quantile(math.nan)
    with pytest.raises(TypeError, match="x must be a float"):
        N.survival("one")
    with pytest.raises(rf.RecError, match=r"Normal shape \(2,\) and x shape \(3,\) do not broadcast"):
        rf.Normal([0.0, 1.0], 1.0).cdf([1.0, 2.0, 3.0])

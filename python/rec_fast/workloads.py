"""Synthetic high-dimensional workloads: one sample of a diagonal Gaussian posterior.

Each profile returns a :class:`Workload`: a d-dimensional diagonal Gaussian target
Q = ∏ N(q_loc_i, q_scale_i²) and a prior P = ∏ N(p_loc_i, p_scale_i²) (here always N(0, 1)),
built so that the per-dimension KL[Q_i‖P_i] equals a prescribed value *exactly* (to ~1e-13
relative). Use them to benchmark coding ONE joint sample of Q against P, e.g.

>>> from rec_fast.workloads import combiner_profile
>>> w = combiner_profile(d=10_000, seed=1)
>>> round(w.total_kl_bits)
3461
>>> Q, P = w.target(), w.prior()                 # rec_fast.Normal objects

Construction shared by all profiles (from our research prototype), given the KL of each
dimension ``kl`` in bits: draw ``frac ~ U(0.2, 0.8)``, let ``nats = kl · ln 2``; the scale
``s ∈ (0, 1)`` carries ``frac · nats`` of it, solving ``½(s² − 1 − ln s²) = frac · nats``,
and the mean carries the rest, ``μ = ±√(2 (1 − frac) nats)`` with a uniformly random sign.
Then ``KL[N(μ, s²) ‖ N(0, 1)] = ½(s² + μ² − 1 − ln s²) = nats``. The scale equation is solved
for all dimensions at once by Newton's method in ``u = −ln s²`` (monotone, 3–5 steps),
in cache-sized chunks written in place, so d = 10⁷ takes about 1–2.5 s on 2 cores and the
memory is the five output arrays plus O(65,536).

This module imports only numpy; ``rec_fast.Normal`` is imported when ``target()`` or
``prior()`` is called.
"""

from __future__ import annotations

import math
from typing import Any
from dataclasses import dataclass

import numpy as np

__all__ = ["Workload", "combiner_profile", "default_workload", "vae_profile"]

_LN2 = math.log(2.0)

# Below this u = −ln s², e^{−u} − 1 + u is evaluated by its Taylor series: expm1(−u) + u
# loses about log10(4/u) digits to cancellation (9e-15 relative at u = 0.1).
_SERIES_BELOW = 0.1
# 1/(k+2)! for k = 0..13: e^{−u} − 1 + u = u² Σ_k (−u)^k / (k+2)!, truncation < 1e-19 rel.
_SERIES_COEF = [1.0 / math.factorial(k + 2) for k in range(14)]


def _excess(u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """e^{−u} − 1 + u (= s² − 1 − ln s² for s² = e^{−u}), accurate to ~1e-14 relative, u ≥ 0."""
    out = np.negative(u, out=out)
    np.expm1(out, out=out)
    out += u
    small = u < _SERIES_BELOW
    if small.any():
        us = u[small]
        acc = np.full_like(us, _SERIES_COEF[-1])
        for c in reversed(_SERIES_COEF[:-1]):
            acc *= -us
            acc += c
        acc *= us * us
        out[small] = acc
    return out


def _solve_log_var(b: np.ndarray, max_iter: int = 60) -> np.ndarray:
    """Solve e^{−u} − 1 + u = b for u ≥ 0, elementwise (so s = e^{−u/2} has s² − 1 − ln s² = b).

    φ(u) = e^{−u} − 1 + u is increasing and convex on u > 0, so Newton's method converges
    monotonically from above the root (and any start below it jumps above it after one step).
    Starting points: for y = √(2b) < 1 the series inversion u ≈ y + y²/6 + y³/36; otherwise
    u₀ = b + 1 − e^{−(b+1)}, one fixed-point step of u = b + 1 − e^{−u} from b + 1, which is
    above the root and already exact to ~e^{−2b} for large b (the asymptote s ≈ e^{−b/2 − ½}).
    Meant for chunks of ~_CHUNK elements: it allocates a few temporaries of b's size.
    """
    if not np.all(b >= 0) or not np.all(np.isfinite(b)):
        raise ValueError("the KL carried by the scale must be finite and >= 0")
    u = np.negative(b)
    u -= 1.0
    np.exp(u, out=u)
    np.subtract(b, u, out=u)
    u += 1.0  # b + 1 − e^{−(b+1)}
    small = b < 0.5  # y = √(2b) < 1
    if small.any():
        y = np.sqrt(2.0 * b[small])
        u[small] = y * (1.0 + y * (1.0 / 6.0 + y / 36.0))
    zero = b == 0.0  # root u = 0, where the derivative vanishes
    has_zero = bool(zero.any())
    step = np.empty_like(b)
    deriv = np.empty_like(b)
    for _ in range(max_iter):
        # Newton step for φ(u) − b, with φ'(u) = 1 − e^{−u} = −expm1(−u).
        _excess(u, out=step)
        step -= b
        np.negative(u, out=deriv)
        np.expm1(deriv, out=deriv)
        np.negative(deriv, out=deriv)
        if has_zero:
            deriv[zero] = 1.0
            step[zero] = 0.0
        step /= deriv
        u -= step
        # Quadratic convergence: once |step| <= 1e-13·u the error left is ~1e-26·u.
        np.abs(step, out=step)
        np.multiply(u, 1e-13, out=deriv)
        if not np.any(step > deriv):
            return u
    raise RuntimeError("Newton iteration for the posterior scale did not converge")


# Per-dimension work is done in chunks of this many elements, so temporaries stay in cache
# and the memory beyond the outputs is O(chunk). (Touching fresh memory is what dominates
# at d = 10^7, especially in VMs that back guest pages lazily.)
_CHUNK = 1 << 16

# Largest b = 2·frac·nats whose scale s = e^{−u/2} ≈ e^{−(b+1)/2} is still a normal float64.
_MAX_SCALE_EXCESS = 1400.0


def _posterior_from_kl(rng: np.random.Generator, kl_bits: np.ndarray):
    """(μ, s) with KL[N(μ, s²) ‖ N(0, 1)] = kl_bits per dimension (draws frac, then signs)."""
    d = kl_bits.shape[0]
    frac = rng.uniform(0.2, 0.8, size=d)
    # Same draws as rng.choice([-1, 1], size=d), but float64 so it can become μ in place.
    mu = rng.choice(np.array([-1.0, 1.0]), size=d)
    s = frac  # frac is overwritten by s, chunk by chunk
    for lo in range(0, d, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        f = frac[part]
        nats = kl_bits[part] * _LN2
        # Location part: μ²/2 = (1 − frac)·nats.
        rest = np.subtract(1.0, f)
        rest *= nats
        rest *= 2.0
        np.sqrt(rest, out=rest)
        mu[part] *= rest
        # Scale part: ½(s² − 1 − ln s²) = frac·nats ⇔ e^{−u} − 1 + u = 2·frac·nats, s = e^{−u/2}.
        b = nats
        b *= f
        b *= 2.0
        if b.size and b.max() > _MAX_SCALE_EXCESS:
            raise ValueError(
                "a dimension's KL is too large: its scale would underflow float64 "
                f"(KL carried by the scale > {_MAX_SCALE_EXCESS / 2:.0f} nats)"
            )
        u = _solve_log_var(b)
        u *= -0.5
        np.exp(u, out=f)
    return mu, s


def _max_kl_relative_error(mu, s, kl_bits) -> float:
    """max |½(s² + μ² − 1 − ln s²)/ln 2 − kl_bits| / kl_bits (stable form, chunked)."""
    worst = 0.0
    for lo in range(0, kl_bits.shape[0], _CHUNK):
        part = slice(lo, lo + _CHUNK)
        u = np.log(s[part])
        u *= -2.0  # u = −ln s²
        exact = _excess(u)
        m = mu[part]
        exact += m * m
        exact *= 0.5 / _LN2
        kl = kl_bits[part]
        exact -= kl
        np.abs(exact, out=exact)
        exact /= kl
        worst = max(worst, float(exact.max()))
    return worst


@dataclass(eq=False)
class Workload:
    """A diagonal Gaussian target Q = N(q_loc, diag q_scale²) and prior P = N(p_loc, diag p_scale²).

    All five fields are float64 arrays of shape (d,); ``kl_bits[i]`` is KL[Q_i‖P_i] in bits.
    """

    q_loc: np.ndarray
    q_scale: np.ndarray
    p_loc: np.ndarray
    p_scale: np.ndarray
    kl_bits: np.ndarray

    @property
    def d(self) -> int:
        """Number of dimensions."""
        return int(self.q_loc.shape[0])

    @property
    def total_kl_bits(self) -> float:
        """KL[Q‖P] in bits (the sum over dimensions)."""
        return float(self.kl_bits.sum(dtype=np.float64))

    def target(self):
        """Q as a ``rec_fast.Normal``."""
        from . import Normal

        return Normal(self.q_loc, self.q_scale)

    def prior(self):
        """P as a ``rec_fast.Normal``."""
        from . import Normal

        return Normal(self.p_loc, self.p_scale)

    def kl_relative_error(self) -> float:
        """Largest relative gap between ``kl_bits`` and the exact KL of (q_loc, q_scale) vs P.

        Only meaningful for P = N(0, 1), which every profile here uses.
        """
        if np.any(self.p_loc != 0.0) or np.any(self.p_scale != 1.0):
            raise ValueError("kl_relative_error assumes the prior N(0, 1)")
        return _max_kl_relative_error(self.q_loc, self.q_scale, self.kl_bits)

    def __repr__(self) -> str:
        kl = self.kl_bits
        if kl.size == 0:
            return "Workload(d=0)"
        return (
            f"Workload(d={self.d}, total_kl_bits={self.total_kl_bits:.6g}, "
            f"kl_bits per dim: median {np.median(kl):.3g}, mean {kl.mean():.3g}, "
            f"max {kl.max():.3g})"
        )


def _finish(rng: np.random.Generator, kl_bits: np.ndarray, check: bool) -> Workload:
    mu, s = _posterior_from_kl(rng, kl_bits)
    d = kl_bits.shape[0]
    w = Workload(mu, s, np.zeros(d), np.ones(d), kl_bits)
    if check:
        err = w.kl_relative_error()
        assert err <= 1e-9, f"workload self-check: KL relative error {err:.3g} > 1e-9"
    return w


def combiner_profile(
    d: int = 200_000,
    seed: int = 0,
    median_kl_bits: float = 0.15,
    log_sd: float = 1.3,
    *,
    check: bool = True,
) -> Workload:
    """Per-dimension KL as in COMBINER-style weight posteriors (Bayesian INR compression).

    The KL of each dimension, in bits, is log-normal: ``kl = exp(N(ln median_kl_bits,
    log_sd²))``. With the defaults (median 0.15 bits, log_sd 1.3) about 93% of the dimensions
    carry under 1 bit (P = Φ(ln(1/0.15)/1.3) ≈ 0.928), the mean is
    0.15·e^{1.3²/2} ≈ 0.35 bits per dimension, and a heavy right tail reaches tens of bits
    at d = 10⁷. The total KL is about 0.35·d bits (~70,000 bits at the default d).

    Exact construction (reproduce it bit for bit)::

        rng  = np.random.default_rng(seed)
        kl   = rng.lognormal(log(median_kl_bits), log_sd, size=d)   # bits per dimension
        frac = rng.uniform(0.2, 0.8, size=d)                        # share carried by the scale
        nats = kl * ln 2
        s    : ½(s² − 1 − ln s²) = frac · nats,  s ∈ (0, 1)
        mu   = sqrt(2 (1 − frac) nats) * rng.choice([-1, 1], size=d)
        P    = N(0, 1) in every dimension

    so that ½(s² + mu² − 1 − ln s²)/ln 2 == kl (checked to 1e-9 relative when ``check``;
    the solver itself is accurate to ~1e-13).
    """
    d = _check_d(d)
    if not (median_kl_bits > 0 and log_sd >= 0):
        raise ValueError("need median_kl_bits > 0 and log_sd >= 0")
    rng = np.random.default_rng(seed)
    kl = rng.lognormal(math.log(median_kl_bits), log_sd, size=d)
    return _finish(rng, kl, check)


def vae_profile(
    d: int = 65_536,
    seed: int = 0,
    active_fraction: float = 0.1,
    active_kl_bits: float = 3.0,
    *,
    collapsed_kl_bits: float = 0.01,
    log_sd: float = 0.5,
    check: bool = True,
) -> Workload:
    """A VAE-latent-like profile: most dimensions collapsed onto the prior, a few active.

    ``round(active_fraction · d)`` dimensions, chosen uniformly at random, are *active* with
    KL log-normal around ``active_kl_bits`` (median; log-sd ``log_sd``); the others are
    *collapsed* (posterior ≈ prior) with KL log-normal around ``collapsed_kl_bits`` (0.01 bits).
    With the defaults the total is about 6,554 · 3.0 · e^{0.125} + 58,982 · 0.0113 ≈ 23,000 bits,
    ~97% of it in the active dimensions.

    Construction::

        rng    = np.random.default_rng(seed)
        kl     = rng.lognormal(log(collapsed_kl_bits), log_sd, size=d)
        active = rng.permutation(d)[:round(active_fraction * d)]
        kl[active] = rng.lognormal(log(active_kl_bits), log_sd, size=len(active))

    then (mu, s) from ``kl`` exactly as in :func:`combiner_profile` (frac ~ U(0.2, 0.8), random
    signs), against P = N(0, 1).
    """
    d = _check_d(d)
    if not 0.0 <= active_fraction <= 1.0:
        raise ValueError("active_fraction must be in [0, 1]")
    if not (active_kl_bits > 0 and collapsed_kl_bits > 0 and log_sd >= 0):
        raise ValueError("need active_kl_bits > 0, collapsed_kl_bits > 0 and log_sd >= 0")
    rng = np.random.default_rng(seed)
    kl = rng.lognormal(math.log(collapsed_kl_bits), log_sd, size=d)
    n_active = round(active_fraction * d)
    active = rng.permutation(d)[:n_active]
    kl[active] = rng.lognormal(math.log(active_kl_bits), log_sd, size=n_active)
    del active
    return _finish(rng, kl, check)


def _check_d(d) -> int:
    d_int = int(d)
    if d_int != d or d_int < 0:
        raise ValueError(f"d must be a non-negative integer, got {d!r}")
    return d_int


def default_workload(count: int, seed: int = 0) -> "tuple[Any, Any]":
    """The demo's workload (``rec-fast demo``): ``count`` Gaussian targets against N(0, 1) with
    KL spread around 4 bits (scales log-uniform in [0.03, 0.12], means N(0, 0.7²)), as
    ``(rf.Normal targets, rf.Normal(0, 1))``.

    >>> Q, P = default_workload(3, seed=0)
    >>> Q.shape, P.shape
    ((3,), ())
    """
    import rec_fast as rf

    generator = np.random.default_rng(seed)
    scale = np.exp(generator.uniform(np.log(0.03), np.log(0.12), count))
    loc = generator.normal(0.0, 0.7, count)
    return rf.Normal(loc, scale), rf.Normal(0.0, 1.0)

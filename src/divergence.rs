//! Divergences of a pair, reported in **bits**.
//!
//! * KL[Q‖P] = E_Q[ln r] — the lower bound on the expected codelength;
//! * D∞[Q‖P] = ln r* — global GPRS needs E[N] = r* = 2^D∞ arrivals;
//! * D_CS[Q‖P] = −∫₀^∞ w_P(h)·ln w_P(h) dh — the channel simulation divergence: every causal
//!   rejection sampler's index has entropy ≥ D_CS, and GPRS's at most D_CS + log₂(1 + e) bits
//!   (Goc & Flamich 2024). KL ≤ D_CS ≤ KL + log₂(KL + 1) + 1 bits.

use crate::distribution::{Laplace, Normal, Uniform};
use crate::error::{RecError, Result};
use crate::math::{integrate_adaptive, x_minus_log1p};
use crate::ratio::{DensityRatio, SymmetricShape};
use std::f64::consts::LN_2;

/// KL[N(c, e²) ‖ N(a, b²)] in bits (finite for every pair of normals):
/// `m²/2 + (τ² − 1 − ln τ²)/2` nats with m = (c − a)/b, τ = e/b.
pub fn normal_kl_divergence(target: &Normal, proposal: &Normal) -> f64 {
    let m = (target.loc - proposal.loc) / proposal.scale;
    let tau = target.scale / proposal.scale;
    let tau2_minus_one = (tau - 1.0) * (tau + 1.0);
    // τ² − 1 − ln τ²: the series form near τ = 1, ln τ itself far from it (log1p(τ² − 1)
    // would lose digits as τ → 0).
    let shape_term = if tau2_minus_one.abs() < 0.5 {
        x_minus_log1p(tau2_minus_one)
    } else {
        tau2_minus_one - 2.0 * libm::log(tau)
    };
    (0.5 * m * m + 0.5 * shape_term) / LN_2
}

/// D∞[N(c, e²) ‖ N(a, b²)] in bits: `−ln τ + m²/(2(1 − τ²))` nats, +∞ when the ratio is unbounded.
pub fn normal_max_divergence(target: &Normal, proposal: &Normal) -> f64 {
    let m = (target.loc - proposal.loc) / proposal.scale;
    let tau = target.scale / proposal.scale;
    if tau == 1.0 && m == 0.0 {
        return 0.0;
    }
    if tau >= 1.0 {
        return f64::INFINITY;
    }
    let one_minus_tau2 = (1.0 - tau) * (1.0 + tau);
    (-libm::log(tau) + m * m / (2.0 * one_minus_tau2)) / LN_2
}

/// KL[L(c, e) ‖ L(a, b)] in bits: `ln(b/e) + |c − a|/b + (e/b)·e^{−|c − a|/e} − 1` nats
/// (finite for every pair of Laplace distributions).
pub fn laplace_kl_divergence(target: &Laplace, proposal: &Laplace) -> f64 {
    let distance = (target.loc - proposal.loc).abs();
    let ratio = target.scale / proposal.scale;
    let nats = -libm::log(ratio) + distance / proposal.scale + ratio * libm::exp(-distance / target.scale) - 1.0;
    nats.max(0.0) / LN_2
}

/// D∞[L(c, e) ‖ L(a, b)] in bits: `ln(b/e) + |c − a|/b` nats for e ≤ b, +∞ for e > b.
pub fn laplace_max_divergence(target: &Laplace, proposal: &Laplace) -> f64 {
    if target.scale > proposal.scale {
        f64::INFINITY
    } else if target == proposal {
        0.0
    } else {
        (libm::log(proposal.scale / target.scale) + (target.loc - proposal.loc).abs() / proposal.scale) / LN_2
    }
}

/// KL = D∞ of U(c, d) against U(a, b) in bits: `ln((b − a)/(d − c))` when [c, d] ⊆ [a, b],
/// +∞ otherwise.
pub fn uniform_kl_divergence(target: &Uniform, proposal: &Uniform) -> f64 {
    if target.low < proposal.low || target.high > proposal.high {
        return f64::INFINITY;
    }
    (libm::log(proposal.width()) - libm::log(target.width())).max(0.0) / LN_2
}

/// (KL, D∞) in bits of U(c, d) against a Normal or Laplace proposal with standard density
/// e^{−ψ(|z|)}/Z: with u, v the standardised ends and w = (d − c)/scale,
/// `KL = ln Z − ln w + E_U[ψ(|z|)]` and `D∞ = ln Z − ln w + ψ(max(|u|, |v|))` nats.
pub fn uniform_on_symmetric_divergences<S: SymmetricShape>(target: &Uniform, proposal: &S) -> (f64, f64) {
    let low = (target.low - proposal.loc()) / proposal.scale();
    let high = (target.high - proposal.loc()) / proposal.scale();
    let base = S::LN_NORMALIZER - libm::log(target.width() / proposal.scale());
    let kl = (base + S::mean_psi(low, high)).max(0.0);
    let max = base + S::psi(low.abs().max(high.abs()));
    (kl / LN_2, max / LN_2)
}

/// D_CS[Q‖P] in bits for any pair, by adaptive Gauss–Kronrod quadrature.
///
/// With h = r*·e^{−v²} (so dh = 2v·r*·e^{−v²} dv) the integrand is smooth at both ends; heights
/// below e^{−40} contribute less than 1e-17 and are left out. −w ln w is evaluated as
/// −(1 − c)·log1p(−c) from the outside mass c = 1 − w_P while w_P is near 1. Below the floor
/// of r on Q's support (if any), w_P is constant and that part is closed form:
/// −h_floor·w_P·ln w_P.
pub fn channel_simulation_divergence<R: DensityRatio + ?Sized>(ratio: &R) -> Result<f64> {
    let log_max_ratio = ratio.log_max_ratio();
    let max_ratio = libm::exp(log_max_ratio);
    let mut deficit_max = log_max_ratio + 40.0;
    let mut floor_nats = 0.0;
    if let Some(floor) = ratio.support_floor().filter(|floor| floor.deficit < deficit_max) {
        deficit_max = floor.deficit;
        // −h·w·ln w ≥ 0; adding +0 turns the −0 of Q = P (w = 1) into +0.
        floor_nats = -floor.height_mass * libm::log(floor.proposal_mass) + 0.0;
    }
    if deficit_max <= 0.0 {
        return Ok(floor_nats / LN_2);
    }
    let v_max = libm::sqrt(deficit_max);
    let integrand = |v: f64| {
        let deficit = v * v;
        let outside = ratio.proposal_mass_outside(deficit);
        let information = if outside < 0.5 {
            -(1.0 - outside) * libm::log1p(-outside)
        } else {
            let inside = ratio.superlevel_masses(deficit).proposal;
            if inside > 0.0 { -inside * libm::log(inside) } else { 0.0 }
        };
        2.0 * v * max_ratio * libm::exp(-deficit) * information
    };
    let breakpoints: Vec<f64> = (0..=16).map(|i| v_max * i as f64 / 16.0).collect();
    let nats = integrate_adaptive(integrand, &breakpoints, 1e-11, 2000).map_err(|panels| {
        RecError::SearchLimit(format!("the D_CS quadrature did not converge within {panels} panels"))
    })?;
    Ok((nats + floor_nats) / LN_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_test_vectors() {
        let p = Normal::new(0.0, 1.0).unwrap();
        let cases = [
            (1.0, 0.25, 1.417_544, 4f64.ln() + 8.0 / 15.0),
            (1.0, 0.5, 0.818_147, 1.359_814),
            (0.5, 0.5, 0.443_147, 0.859_814),
            (0.0, 0.5f64.sqrt(), 0.096_574, 0.346_574),
        ];
        for (loc, scale, kl_nats, dmax_nats) in cases {
            let q = Normal::new(loc, scale).unwrap();
            assert!((normal_kl_divergence(&q, &p) * LN_2 - kl_nats).abs() < 1e-6);
            assert!((normal_max_divergence(&q, &p) * LN_2 - dmax_nats).abs() < 1e-6);
        }
    }

    #[test]
    fn tiny_target_scale_keeps_precision() {
        // τ = 1e-5: KL = −ln τ + (τ² − 1)/2 nats = 11.012925465 − 0.49999999995.
        let p = Normal::new(0.0, 1.0).unwrap();
        let q = Normal::new(0.0, 1e-5).unwrap();
        let reference = (1e5f64.ln() + (1e-10 - 1.0) / 2.0) / LN_2;
        assert!((normal_kl_divergence(&q, &p) / reference - 1.0).abs() < 1e-14);
    }

    #[test]
    fn channel_simulation_divergence_test_vectors() {
        use crate::ratio::NormalRatio;
        // docs/test-vectors.md, in nats.
        let p = Normal::new(0.0, 1.0).unwrap();
        for (loc, scale, dcs_nats) in
            [(1.0, 0.25, 1.779_750), (1.0, 0.5, 1.202_182), (0.5, 0.5, 0.747_345), (0.0, 0.5f64.sqrt(), 0.283_267)]
        {
            let q = Normal::new(loc, scale).unwrap();
            let bits = channel_simulation_divergence(&NormalRatio::new(q, p).unwrap()).unwrap();
            assert!((bits * LN_2 - dcs_nats).abs() < 2e-6, "N({loc}, {scale}): {} nats", bits * LN_2);
            let kl = normal_kl_divergence(&q, &p);
            assert!(kl <= bits && bits <= kl + (kl + 1.0).log2() + 1.0);
        }
        let same = NormalRatio::new(p, p).unwrap();
        assert_eq!(channel_simulation_divergence(&same).unwrap(), 0.0);
    }

    #[test]
    fn identical_pair_is_free() {
        let p = Normal::new(2.0, 3.0).unwrap();
        assert_eq!(normal_kl_divergence(&p, &p), 0.0);
        assert_eq!(normal_max_divergence(&p, &p), 0.0);
    }
}

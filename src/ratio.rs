//! The density ratio r = dQ/dP of a (target, proposal) pair and its superlevel sets.
//!
//! Everything here is parametrised by the **deficit** `s = ln r* − ln r(x) ≥ 0` rather than
//! by the ratio value h = r*·e^{−s}: the superlevel set {r ≥ h} is {d(x) ≤ s}, and near the
//! mode (h → r*) the deficit keeps full relative precision where `r* − h` would cancel.
//!
//! For a superlevel height h the core needs (DESIGN §1):
//! * w_P(h) = P[r ≥ h] and w_Q(h) = Q[r ≥ h];
//! * the *gap* g(h) = w_Q(h) − h·w_P(h) = ∫_h^∞ w_P, the right-hand side of the stretch ODE.
//!   g is convex and decreasing with g(0) = 1, g′ = −w_P and g(r*) = 0.

use crate::distribution::laplace::{standard_laplace_mass, standard_laplace_tail};
use crate::distribution::{Laplace, Normal};
use crate::error::{RecError, Result};
use crate::math::{normal_cdf, normal_ln_pdf, normal_mass_around, normal_sf, symmetric_density_sum, LEGENDRE_8_NODES};

/// w_P, w_Q and the gap g at one superlevel height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SuperlevelMasses {
    /// w_P(h) = P[r ≥ h].
    pub proposal: f64,
    /// w_Q(h) = Q[r ≥ h].
    pub target: f64,
    /// g(h) = w_Q(h) − h·w_P(h) ≥ 0, computed without cancellation near h = r*.
    pub gap: f64,
}

impl SuperlevelMasses {
    /// Q = P: r ≡ 1, so every level set below 1 is the whole line and g(h) = 1 − h.
    pub fn identical(deficit: f64) -> SuperlevelMasses {
        SuperlevelMasses { proposal: 1.0, target: 1.0, gap: -libm::expm1(-deficit) }
    }
}

/// The interface every (target, proposal) pair offers to the stretch function and samplers.
pub trait DensityRatio: Sync {
    /// ln r*, the natural log of the essential supremum of r (D∞ in nats).
    fn log_max_ratio(&self) -> f64;
    /// The deficit d(x) = ln r* − ln r(x) ≥ 0.
    fn deficit(&self, x: f64) -> f64;
    /// w_P, w_Q and g at the height h = r*·e^{−deficit}.
    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses;
    /// 1 − w_P = P[r < h] at the height h = r*·e^{−deficit}, without cancellation as w_P → 1.
    fn proposal_mass_outside(&self, deficit: f64) -> f64;
    /// The exponent α > 1 with g(h) ∝ (r* − h)^α as h → r*; the stretch quadrature uses it to
    /// map the singularity of σ at r* onto a bounded, smooth integrand.
    fn gap_exponent(&self) -> f64;
    /// A mode of r: a point where r = r*, with r non-increasing away from it on both sides.
    fn mode(&self) -> f64;
}

/// The ratio of two normals Q = N(c, e²) over P = N(a, b²).
///
/// In P's standard coordinates z = (x − a)/b, Q = N(m, τ²) with m = (c − a)/b, τ = e/b, and
/// for τ < 1
///
/// ```text
/// ln r(z) = −ln τ − (z − m)²/(2τ²) + z²/2 = ln r* − (z − μ)²/(2v),
/// v = τ²/(1 − τ²),   μ = m/(1 − τ²),   ln r* = −ln τ + m²/(2(1 − τ²)),
/// ```
///
/// so {r ≥ r*e^{−s}} = [μ − ρ, μ + ρ] with ρ = √(2vs). τ = 1 with m = 0 is Q = P (r ≡ 1);
/// every other τ ≥ 1 makes r unbounded.
#[derive(Clone, Copy, Debug)]
pub struct NormalRatio {
    /// The target Q.
    pub target: Normal,
    /// The coding distribution P.
    pub proposal: Normal,
    standardized_target_loc: f64,
    standardized_target_scale: f64,
    /// v = τ²/(1 − τ²) (infinite for Q = P).
    curvature_variance: f64,
    /// μ in P-standard units.
    standardized_mode: f64,
    log_max_ratio: f64,
    identical: bool,
}

/// Pairs with ln r* beyond this are rejected: r* would overflow a double long before a
/// search could finish.
pub const MAX_LOG_RATIO: f64 = 600.0;

impl NormalRatio {
    /// Validates that dQ/dP is bounded and builds the ratio.
    pub fn new(target: Normal, proposal: Normal) -> Result<NormalRatio> {
        let m = (target.loc - proposal.loc) / proposal.scale;
        let tau = target.scale / proposal.scale;
        let identical = tau == 1.0 && m == 0.0;
        if tau >= 1.0 && !identical {
            return Err(RecError::UnboundedRatio(format!(
                "target scale {} {} proposal scale {} makes dQ/dP unbounded{}; GPRS needs a \
                 proposal wider than the target (or exactly equal to it)",
                target.scale,
                if tau == 1.0 { "=" } else { ">" },
                proposal.scale,
                if tau == 1.0 { " because the means differ" } else { "" },
            )));
        }
        let one_minus_tau2 = (1.0 - tau) * (1.0 + tau);
        let (curvature_variance, standardized_mode, log_max_ratio) = if identical {
            (f64::INFINITY, 0.0, 0.0)
        } else {
            let log_max = -libm::log(tau) + m * m / (2.0 * one_minus_tau2);
            (tau * tau / one_minus_tau2, m / one_minus_tau2, log_max)
        };
        if !(log_max_ratio <= MAX_LOG_RATIO) {
            return Err(RecError::InvalidParameter(format!(
                "target N({}, {}) against proposal N({}, {}) has D∞ = {:.1} nats, above the \
                 supported {MAX_LOG_RATIO} nats",
                target.loc, target.scale, proposal.loc, proposal.scale, log_max_ratio
            )));
        }
        Ok(NormalRatio {
            target,
            proposal,
            standardized_target_loc: m,
            standardized_target_scale: tau,
            curvature_variance,
            standardized_mode,
            log_max_ratio,
            identical,
        })
    }

    /// True for Q = P, where r ≡ 1.
    pub fn is_identity(&self) -> bool {
        self.identical
    }

    /// The superlevel set {r ≥ r*e^{−deficit}} as an interval of x.
    pub fn superlevel_interval(&self, deficit: f64) -> (f64, f64) {
        if self.identical {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit) * self.proposal.scale;
        let mode = self.mode();
        (mode - half_width, mode + half_width)
    }

    /// Masses of a narrow level set by 8-point Gauss–Legendre in z = μ + ρu, u ∈ [−1, 1]:
    /// w_P = ρ∫φ(μ+ρu)du and g = hρ∫φ(μ+ρu)·expm1(s(1 − u²))du, which keeps relative
    /// precision as s → 0 where w_Q − h·w_P cancels.
    fn narrow_masses(&self, deficit: f64, half_width: f64, height: f64) -> SuperlevelMasses {
        let mode = self.standardized_mode;
        let density_at_mode = libm::exp(normal_ln_pdf(mode));
        let proposal = half_width * density_at_mode * symmetric_density_sum(mode, half_width, |_| 1.0);
        let gap = height
            * half_width
            * density_at_mode
            * symmetric_density_sum(mode, half_width, |k| {
                let node = LEGENDRE_8_NODES[k];
                libm::expm1(deficit * (1.0 - node * node))
            });
        SuperlevelMasses { proposal, target: gap + height * proposal, gap }
    }
}

impl DensityRatio for NormalRatio {
    fn log_max_ratio(&self) -> f64 {
        self.log_max_ratio
    }

    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let offset = self.proposal.standardize(x) - self.standardized_mode;
        offset * offset / (2.0 * self.curvature_variance)
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        let height = libm::exp(self.log_max_ratio - deficit);
        if self.identical {
            return SuperlevelMasses::identical(deficit);
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit);
        let mode = self.standardized_mode;
        if deficit <= 0.25 && half_width <= 0.5 && (mode.abs() + half_width) * half_width <= 1.0 {
            return self.narrow_masses(deficit, half_width, height);
        }
        let proposal = normal_mass_around(mode, half_width);
        let (m, tau) = (self.standardized_target_loc, self.standardized_target_scale);
        let target = normal_mass_around((mode - m) / tau, half_width / tau);
        let gap = (target - height * proposal).max(f64::MIN_POSITIVE);
        SuperlevelMasses { proposal, target, gap }
    }

    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit);
        normal_cdf(self.standardized_mode - half_width) + normal_sf(self.standardized_mode + half_width)
    }

    fn gap_exponent(&self) -> f64 {
        1.5
    }

    fn mode(&self) -> f64 {
        self.proposal.loc + self.proposal.scale * self.standardized_mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::normal_mass;

    fn talk_pair() -> NormalRatio {
        NormalRatio::new(Normal::new(1.0, 0.25).unwrap(), Normal::new(0.0, 1.0).unwrap()).unwrap()
    }

    #[test]
    fn talk_example_mode_and_maximum() {
        let ratio = talk_pair();
        assert!((ratio.mode() - 16.0 / 15.0).abs() < 1e-15);
        assert!((ratio.log_max_ratio() - (4f64.ln() + 8.0 / 15.0)).abs() < 1e-14);
        assert!((ratio.log_max_ratio().exp() - 6.818_419_461).abs() < 1e-8);
    }

    #[test]
    fn unbounded_pairs_are_rejected() {
        let p = Normal::new(0.0, 1.0).unwrap();
        assert!(NormalRatio::new(Normal::new(0.1, 1.0).unwrap(), p).is_err());
        assert!(NormalRatio::new(Normal::new(0.0, 1.5).unwrap(), p).is_err());
        assert!(NormalRatio::new(Normal::new(0.0, 1.0).unwrap(), p).unwrap().is_identity());
    }

    #[test]
    fn narrow_and_wide_mass_formulas_agree_at_the_switch() {
        let ratio = talk_pair();
        // Just inside and just outside the narrow branch must agree to near rounding.
        let inside = ratio.superlevel_masses(0.2);
        let (low, high) = ratio.superlevel_interval(0.2);
        let proposal = normal_mass(low, high);
        assert!((inside.proposal / proposal - 1.0).abs() < 1e-13);
        let h = (ratio.log_max_ratio() - 0.2).exp();
        let target = normal_mass((low - 1.0) / 0.25, (high - 1.0) / 0.25);
        assert!((inside.gap / (target - h * proposal) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn gap_identity_holds() {
        // g(h) = ∫_h^{r*} w_P: check numerically with a fine trapezoid in h.
        let ratio = talk_pair();
        let r_max = ratio.log_max_ratio().exp();
        let h0 = 2.0;
        let n = 200_000;
        let step = (r_max - h0) / n as f64;
        let mut integral = 0.0;
        for i in 0..=n {
            let h = (h0 + i as f64 * step).min(r_max);
            let deficit = (r_max / h).ln().max(0.0);
            let w = ratio.superlevel_masses(deficit).proposal;
            integral += if i == 0 || i == n { 0.5 * w } else { w };
        }
        integral *= step;
        let gap = ratio.superlevel_masses((r_max / h0).ln()).gap;
        assert!((integral / gap - 1.0).abs() < 1e-6, "{integral} vs {gap}");
    }
}

/// The ratio of two Laplace distributions Q = L(c, e) over P = L(a, b) with e < b (or Q = P).
///
/// ```text
/// ln r(x) = ln(b/e) − |x − c|/e + |x − a|/b,   ln r* = ln(b/e) + |c − a|/b at the mode x = c,
/// d(x) = |x − c|/e − (|x − a| − |c − a|)/b,
/// ```
///
/// piecewise linear and increasing away from c on both sides (slopes 1/e ± 1/b > 0), so each
/// superlevel set is an interval [c − δ₋(s), c + δ₊(s)] found in closed form. The kink at the
/// mode makes w_P(h) ∝ r* − h and g ∝ (r* − h)², i.e. α = 2. Equal scales with different
/// locations give a bounded ratio with a plateau at r* (α = 1), which the stretch quadrature
/// does not handle yet: that pair is rejected with an explanation.
#[derive(Clone, Copy, Debug)]
pub struct LaplaceRatio {
    /// The target Q.
    pub target: Laplace,
    /// The coding distribution P.
    pub proposal: Laplace,
    log_max_ratio: f64,
    identical: bool,
}

impl LaplaceRatio {
    /// Validates that dQ/dP is bounded (and has no plateau) and builds the ratio.
    pub fn new(target: Laplace, proposal: Laplace) -> Result<LaplaceRatio> {
        let identical = target == proposal;
        if target.scale > proposal.scale {
            return Err(RecError::UnboundedRatio(format!(
                "target scale {} > proposal scale {} makes dQ/dP unbounded; GPRS needs a proposal \
                 wider than the target (or exactly equal to it)",
                target.scale, proposal.scale
            )));
        }
        if target.scale == proposal.scale && !identical {
            return Err(RecError::UnsupportedMethod(format!(
                "Laplace target and proposal with equal scales {} but locations {} and {}: the \
                 ratio is bounded but flat at its maximum on a half-line, which this version does \
                 not support; use a proposal with a larger scale",
                target.scale, target.loc, proposal.loc
            )));
        }
        let log_max_ratio = if identical {
            0.0
        } else {
            libm::log(proposal.scale / target.scale) + (target.loc - proposal.loc).abs() / proposal.scale
        };
        Ok(LaplaceRatio { target, proposal, log_max_ratio, identical })
    }

    /// The distance δ ≥ 0 from the mode where the deficit reaches `deficit` on the side where
    /// the proposal's location lies at signed distance `ahead` (positive: in that direction).
    fn reach(&self, deficit: f64, ahead: f64) -> f64 {
        let (steep, shallow) = (1.0 / self.target.scale + 1.0 / self.proposal.scale, 1.0 / self.target.scale - 1.0 / self.proposal.scale);
        if ahead <= 0.0 {
            return deficit / shallow;
        }
        // Towards P's location the deficit rises at 1/e + 1/b until it is passed.
        let at_location = ahead * steep;
        if deficit <= at_location {
            deficit / steep
        } else {
            (deficit - 2.0 * ahead / self.proposal.scale) / shallow
        }
    }

    /// The superlevel set as (distance below the mode, distance above it).
    fn reaches(&self, deficit: f64) -> (f64, f64) {
        let ahead = self.proposal.loc - self.target.loc;
        (self.reach(deficit, -ahead), self.reach(deficit, ahead))
    }

    /// The superlevel set {r ≥ r*e^{−deficit}} as an interval of x.
    pub fn superlevel_interval(&self, deficit: f64) -> (f64, f64) {
        if self.identical {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let (below, above) = self.reaches(deficit);
        (self.target.loc - below, self.target.loc + above)
    }

    /// The mass of [mode − below, mode + above] under `distribution`, from the widths.
    fn mass(distribution: &Laplace, mode: f64, below: f64, above: f64) -> f64 {
        let lo = (mode - below - distribution.loc) / distribution.scale;
        standard_laplace_mass(lo, (below + above) / distribution.scale)
    }
}

impl DensityRatio for LaplaceRatio {
    fn log_max_ratio(&self) -> f64 {
        self.log_max_ratio
    }

    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let (c, a) = (self.target.loc, self.proposal.loc);
        ((x - c).abs() / self.target.scale - ((x - a).abs() - (c - a).abs()) / self.proposal.scale).max(0.0)
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        let height = libm::exp(self.log_max_ratio - deficit);
        if self.identical {
            return SuperlevelMasses::identical(deficit);
        }
        let (below, above) = self.reaches(deficit);
        let mode = self.target.loc;
        let proposal = Self::mass(&self.proposal, mode, below, above);
        let target = Self::mass(&self.target, mode, below, above);
        let gap = (target - height * proposal).max(f64::MIN_POSITIVE);
        SuperlevelMasses { proposal, target, gap }
    }

    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let (low, high) = self.superlevel_interval(deficit);
        let (a, b) = (self.proposal.loc, self.proposal.scale);
        let lower = if low <= a { standard_laplace_tail((low - a) / b) } else { 1.0 - standard_laplace_tail((low - a) / b) };
        let upper = if high >= a { standard_laplace_tail((high - a) / b) } else { 1.0 - standard_laplace_tail((high - a) / b) };
        lower + upper
    }

    fn gap_exponent(&self) -> f64 {
        2.0
    }

    fn mode(&self) -> f64 {
        self.target.loc
    }
}

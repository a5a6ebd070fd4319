//! The density ratio r = dQ/dP of a (target, proposal) pair and its superlevel sets.
//!
//! Everything here is parametrised by the **deficit** `s = ln r* − ln r(x) ≥ 0` rather than
//! by the ratio value h = r*·e^{−s}: the superlevel set {r ≥ h} is {d(x) ≤ s}, and near the
//! mode (h → r*) the deficit keeps full relative precision where `r* − h` would cancel.
//!
//! For a superlevel height h the core needs (notation of docs/methods.md):
//! * w_P(h) = P[r ≥ h] and w_Q(h) = Q[r ≥ h];
//! * the *gap* g(h) = w_Q(h) − h·w_P(h) = ∫_h^∞ w_P, the right-hand side of the stretch ODE.
//!   g is convex and decreasing with g(0) = 1, g′ = −w_P and g(r*) = 0.
//!
//! One file per pair of families: [`NormalRatio`], [`LaplaceRatio`], [`UniformRatio`] (both
//! uniform) and [`UniformTargetRatio`] (a uniform target on a Normal or Laplace proposal).

use crate::distribution::TailInterval;

mod laplace;
mod normal;
mod uniform;

pub use laplace::LaplaceRatio;
pub use normal::NormalRatio;
pub use uniform::{SymmetricShape, UniformRatio, UniformTargetRatio};

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

/// Where r reaches its smallest value on the target's support (its *floor*): for every height
/// 0 < h ≤ h_floor = r*·e^{−deficit} the superlevel set holds all of Q's support, so w_Q = 1,
/// w_P = `proposal_mass` is constant and g(h) = 1 − h·`proposal_mass` exactly. The stretch
/// function is closed form there: σ(h) = −ln(1 − h·w_P)/w_P.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SupportFloor {
    /// The largest deficit on Q's support, ln(r*/h_floor).
    pub deficit: f64,
    /// P[support of Q] = w_P(h) for 0 < h ≤ h_floor.
    pub proposal_mass: f64,
    /// h_floor·`proposal_mass` ∈ (0, 1], the value of h·w_P at the floor (exactly 1 when r is
    /// constant on the support, as for a uniform pair, where σ(h_floor) = ∞).
    pub height_mass: f64,
}

impl SupportFloor {
    /// Q = P: r ≡ 1 everywhere.
    pub const IDENTICAL: SupportFloor = SupportFloor { deficit: 0.0, proposal_mass: 1.0, height_mass: 1.0 };
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
    /// The exponent α ≥ 1 with g(h) ∝ (r* − h)^α as h → r*; the stretch quadrature uses it to
    /// map the singularity of σ at r* onto a bounded, smooth integrand. α = 1 when r* is taken
    /// on a set of positive P-mass (a plateau), 3/2 at a smooth maximum, 2 at a kink.
    fn gap_exponent(&self) -> f64;
    /// A point where r = r*; for a unimodal ratio, r is non-increasing away from it on both sides.
    fn mode(&self) -> f64;
    /// The floor of r on Q's support, when r is bounded away from 0 there (Q has bounded
    /// support, or r is bounded below); `None` otherwise.
    fn support_floor(&self) -> Option<SupportFloor> {
        None
    }
    /// An interval of the proposal's tail coordinates outside which every point's location x
    /// has a computed [`deficit`](Self::deficit) above `deficit`, allowing for the rounding of
    /// the proposal's quantile and of the deficit; `None` where the pair offers none (the
    /// default). Searches reject the arrivals outside it before evaluating their quantile.
    fn deficit_window(&self, _deficit: f64) -> Option<TailInterval> {
        None
    }
    /// Why r is not unimodal (the branch-and-bound samplers need it to be), or `None` if it is.
    fn non_unimodal_reason(&self) -> Option<String> {
        None
    }
}

/// Pairs with ln r* beyond this are rejected: r* would overflow a double long before a
/// search could finish.
pub const MAX_LOG_RATIO: f64 = 600.0;

/// r(x) = dQ/dP(x) = r*·e^{−d(x)} (0 outside the target's support), for pictures and checks;
/// the samplers work with the deficit d(x) instead.
pub fn ratio_at<R: DensityRatio + ?Sized>(ratio: &R, x: f64) -> f64 {
    libm::exp(ratio.log_max_ratio() - ratio.deficit(x))
}

/// w_P(h) = P[r ≥ h], w_Q(h) = Q[r ≥ h] and g(h) at a height h given as a value rather than a
/// deficit: the whole line (w_P = w_Q = g = 1) for h ≤ 0, the empty set (all 0) above r*, and
/// [`DensityRatio::superlevel_masses`] at s = ln r* − ln h in between (h within a rounding
/// error above r* counts as r*). Errors on a NaN height.
pub fn superlevel_masses_at_height<R: DensityRatio + ?Sized>(ratio: &R, height: f64) -> crate::error::Result<SuperlevelMasses> {
    if height.is_nan() {
        return Err(crate::error::RecError::InvalidParameter("h = NaN; h must be a number".into()));
    }
    if height <= 0.0 {
        return Ok(SuperlevelMasses { proposal: 1.0, target: 1.0, gap: 1.0 });
    }
    let deficit = ratio.log_max_ratio() - libm::log(height);
    if deficit < -1e-12 * (1.0 + ratio.log_max_ratio().abs()) {
        return Ok(SuperlevelMasses { proposal: 0.0, target: 0.0, gap: 0.0 });
    }
    Ok(ratio.superlevel_masses(deficit.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Normal;

    /// N(1, 0.35²) against N(0, 1): r(x) from the densities, and w_P, w_Q at heights as values
    /// (1 at or below 0, 0 above r*, the deficit form in between).
    #[test]
    fn values_at_heights_and_points() {
        let (q, p) = (Normal::new(1.0, 0.35).unwrap(), Normal::new(0.0, 1.0).unwrap());
        let ratio = NormalRatio::new(q, p).unwrap();
        let density = |x: f64, loc: f64, scale: f64| (-0.5 * ((x - loc) / scale).powi(2)).exp() / scale;
        for x in [-2.0, 0.0, 0.7, 1.3, 3.0] {
            let expected = density(x, 1.0, 0.35) / density(x, 0.0, 1.0);
            assert!((ratio_at(&ratio, x) - expected).abs() <= 1e-12 * expected, "x = {x}");
        }
        let max_ratio = ratio.log_max_ratio().exp();
        assert_eq!(superlevel_masses_at_height(&ratio, 0.0).unwrap().proposal, 1.0);
        assert_eq!(superlevel_masses_at_height(&ratio, -1.0).unwrap().target, 1.0);
        assert_eq!(superlevel_masses_at_height(&ratio, 1.01 * max_ratio).unwrap().proposal, 0.0);
        assert!(superlevel_masses_at_height(&ratio, f64::NAN).is_err());
        let inside = superlevel_masses_at_height(&ratio, 1.0).unwrap();
        assert_eq!(inside, ratio.superlevel_masses(ratio.log_max_ratio()));
        assert!(inside.target > inside.proposal && inside.proposal > 0.0);
    }
}

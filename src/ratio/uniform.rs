//! Ratios with a uniform target: on a uniform proposal ([`UniformRatio`]) and on a Normal or
//! Laplace proposal ([`UniformTargetRatio`]).

use super::{DensityRatio, SuperlevelMasses, SupportFloor, MAX_LOG_RATIO};
use crate::distribution::laplace::{standard_laplace_mass, standard_laplace_tail};
use crate::distribution::{Laplace, Normal, Uniform};
use crate::error::{Number, RecError, Result};
use crate::math::{legendre_8, normal_mass_around, normal_sf, LN_SQRT_2PI};

/// The ratio of Q = U(c, d) over P = U(a, b) with [c, d] ⊆ [a, b].
///
/// r = (b − a)/(d − c) = r* on [c, d] and 0 elsewhere, so every superlevel set below r* is
/// [c, d] itself: w_P = w = (d − c)/(b − a), w_Q = 1 and g(h) = 1 − h·w. The stretch function
/// is closed form, σ⁻¹(t) = (1 − e^{−wt})/w, global GPRS accepts the first arrival inside
/// [c, d] (N ~ Geometric(w)), and KL = D∞ = D_CS = −ln w (docs/test-vectors.md).
#[derive(Clone, Copy, Debug)]
pub struct UniformRatio {
    /// The target Q.
    pub target: Uniform,
    /// The coding distribution P.
    pub proposal: Uniform,
    /// w = P([c, d]).
    support_mass: f64,
    log_max_ratio: f64,
}

impl UniformRatio {
    /// Validates that Q's support lies inside P's and builds the ratio.
    pub fn new(target: Uniform, proposal: Uniform) -> Result<UniformRatio> {
        if target.low < proposal.low || target.high > proposal.high {
            return Err(RecError::UnboundedRatio(format!(
                "target support [{}, {}] is not inside the proposal's support [{}, {}], so dQ/dP \
                 is unbounded (Q puts mass where P has none); the proposal must cover the target",
                Number(target.low),
                Number(target.high),
                Number(proposal.low),
                Number(proposal.high)
            )));
        }
        let log_max_ratio = libm::log(proposal.width()) - libm::log(target.width());
        if !(log_max_ratio <= MAX_LOG_RATIO) {
            return Err(RecError::InvalidParameter(format!(
                "target U({}, {}) against proposal U({}, {}) has D∞ = {:.1} nats, above the \
                 supported {MAX_LOG_RATIO} nats",
                Number(target.low),
                Number(target.high),
                Number(proposal.low),
                Number(proposal.high),
                log_max_ratio
            )));
        }
        let support_mass = target.width() / proposal.width();
        Ok(UniformRatio { target, proposal, support_mass, log_max_ratio })
    }
}

impl DensityRatio for UniformRatio {
    fn log_max_ratio(&self) -> f64 {
        self.log_max_ratio
    }

    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        if self.target.low <= x && x <= self.target.high {
            0.0
        } else {
            f64::INFINITY
        }
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        // h·w = r*e^{−s}·w = e^{−s}.
        SuperlevelMasses { proposal: self.support_mass, target: 1.0, gap: -libm::expm1(-deficit) }
    }

    fn proposal_mass_outside(&self, _deficit: f64) -> f64 {
        ((self.target.low - self.proposal.low) + (self.proposal.high - self.target.high)) / self.proposal.width()
    }

    fn gap_exponent(&self) -> f64 {
        1.0
    }

    fn mode(&self) -> f64 {
        self.target.midpoint()
    }

    fn support_floor(&self) -> Option<SupportFloor> {
        Some(SupportFloor { deficit: 0.0, proposal_mass: self.support_mass, height_mass: 1.0 })
    }
}

/// A symmetric unimodal proposal family in its standard coordinates z = (x − loc)/scale, with
/// standard density p(z) = e^{−ψ(|z|)}/Z and ψ increasing on [0, ∞), ψ(0) = 0.
pub trait SymmetricShape: Copy + Send + Sync {
    /// The family's name in messages.
    const NAME: &'static str;
    /// ln Z, the log normaliser of the standard density.
    const LN_NORMALIZER: f64;
    /// Location.
    fn loc(&self) -> f64;
    /// Scale.
    fn scale(&self) -> f64;
    /// ψ(z) for z ≥ 0.
    fn psi(z: f64) -> f64;
    /// ψ(end) − ψ(end − t) for 0 ≤ t ≤ end, without cancellation.
    fn drop_inwards(end: f64, t: f64) -> f64;
    /// The t ∈ [0, end] with ψ(end) − ψ(end − t) = `drop`, or `end` if ψ(end) ≤ `drop`.
    fn inward_distance(end: f64, drop: f64) -> f64;
    /// The standard P-mass of [start, start + width], without cancellation for narrow widths.
    fn mass(start: f64, width: f64) -> f64;
    /// P[Z > z] for z ≥ 0.
    fn upper_tail(z: f64) -> f64;
    /// E[ψ(|Z|)] for Z uniform on [low, high].
    fn mean_psi(low: f64, high: f64) -> f64;
}

impl SymmetricShape for Normal {
    const NAME: &'static str = "Normal";
    const LN_NORMALIZER: f64 = LN_SQRT_2PI;
    fn loc(&self) -> f64 {
        self.loc
    }
    fn scale(&self) -> f64 {
        self.scale
    }
    fn psi(z: f64) -> f64 {
        0.5 * z * z
    }
    fn drop_inwards(end: f64, t: f64) -> f64 {
        0.5 * t * (2.0 * end - t)
    }
    fn inward_distance(end: f64, drop: f64) -> f64 {
        // end − √(end² − 2·drop), written without the cancellation.
        let remaining = end * end - 2.0 * drop;
        if remaining <= 0.0 {
            end
        } else {
            (2.0 * drop / (end + libm::sqrt(remaining))).min(end)
        }
    }
    fn mass(start: f64, width: f64) -> f64 {
        normal_mass_around(start + 0.5 * width, 0.5 * width)
    }
    fn upper_tail(z: f64) -> f64 {
        normal_sf(z)
    }
    fn mean_psi(low: f64, high: f64) -> f64 {
        (low * low + low * high + high * high) / 6.0
    }
}

impl SymmetricShape for Laplace {
    const NAME: &'static str = "Laplace";
    const LN_NORMALIZER: f64 = std::f64::consts::LN_2;
    fn loc(&self) -> f64 {
        self.loc
    }
    fn scale(&self) -> f64 {
        self.scale
    }
    fn psi(z: f64) -> f64 {
        z
    }
    fn drop_inwards(_end: f64, t: f64) -> f64 {
        t
    }
    fn inward_distance(end: f64, drop: f64) -> f64 {
        drop.min(end)
    }
    fn mass(start: f64, width: f64) -> f64 {
        standard_laplace_mass(start, width)
    }
    fn upper_tail(z: f64) -> f64 {
        standard_laplace_tail(z)
    }
    fn mean_psi(low: f64, high: f64) -> f64 {
        if low >= 0.0 || high <= 0.0 {
            0.5 * (low + high).abs()
        } else {
            (low * low + high * high) / (2.0 * (high - low))
        }
    }
}

/// The deficit below which the gap is integrated directly (see [`UniformTargetRatio`]).
const NARROW_DEFICIT: f64 = 0.5;

/// The ratio of a uniform target Q = U(c, d) over a Normal or Laplace proposal P.
///
/// In P's standard coordinates z, mirrored if needed so that the far end M = max(|u|, |v|) of
/// the support [u, v] is at +M, Q = U(lo, M) and
///
/// ```text
/// ln r(z) = ln Z + ψ(|z|) − ln(M − lo)  on [lo, M] (0 outside),   d(z) = ψ(M) − ψ(|z|),
/// ```
///
/// so r grows with the distance from P's mode and is largest at the far end M. If P's mode
/// is outside (lo, M), r rises monotonically to M and is unimodal with mode M: its
/// superlevel sets are [M − δ(s), M]. If P's mode is inside the support, r dips there: the
/// superlevel sets are [lo, lo + δ′] ∪ [M − δ, M], two intervals, and only the global
/// samplers apply. Near r* the set grows linearly in s from an end where ψ′ > 0: α = 2.
///
/// The gap g = ∫_set (q − h·p) = (1/(M − lo))·∫_set −expm1(d(z) − s) dz is integrated piece
/// by piece with 8-point Gauss–Legendre while s ≤ ½, which keeps its relative precision
/// where w_Q − h·w_P would cancel; beyond that the difference is used. For s at or above the
/// deficit of the support's point nearest P's mode, the set is the whole support (the
/// [`SupportFloor`]).
#[derive(Clone, Copy, Debug)]
pub struct UniformTargetRatio<S: SymmetricShape> {
    /// The target Q.
    pub target: Uniform,
    /// The coding distribution P.
    pub proposal: S,
    /// Whether z is mirrored (the far end is the support's lower end).
    mirrored: bool,
    /// The near end lo of the (mirrored) standard support.
    near_end: f64,
    /// The far end M ≥ |lo| of the (mirrored) standard support.
    far_end: f64,
    /// M − lo, from the support's width directly.
    standard_width: f64,
    /// P[support].
    support_mass: f64,
    log_max_ratio: f64,
    floor: SupportFloor,
}

impl<S: SymmetricShape> UniformTargetRatio<S> {
    /// Builds the ratio (always bounded: P has positive density on the compact support).
    pub fn new(target: Uniform, proposal: S) -> Result<Self> {
        let (loc, scale) = (proposal.loc(), proposal.scale());
        let low = (target.low - loc) / scale;
        let high = (target.high - loc) / scale;
        let mirrored = low + high < 0.0;
        let (near_end, far_end) = if mirrored { (-high, -low) } else { (low, high) };
        let standard_width = target.width() / scale;
        let log_max_ratio = S::LN_NORMALIZER + S::psi(far_end) - libm::log(standard_width);
        if !(log_max_ratio <= MAX_LOG_RATIO) {
            return Err(RecError::InvalidParameter(format!(
                "target U({}, {}) against proposal {}({}, {}) has D∞ = {:.1} nats, above \
                 the supported {MAX_LOG_RATIO} nats",
                Number(target.low),
                Number(target.high),
                S::NAME,
                Number(loc),
                Number(scale),
                log_max_ratio
            )));
        }
        let support_mass = S::mass(near_end, standard_width);
        // The lowest ratio on the support is at the point nearest P's mode.
        let nearest = near_end.max(0.0);
        let floor_deficit = S::psi(far_end) - S::psi(nearest);
        let height_mass = libm::exp(log_max_ratio - floor_deficit + libm::log(support_mass)).min(1.0);
        let floor = SupportFloor { deficit: floor_deficit, proposal_mass: support_mass, height_mass };
        Ok(UniformTargetRatio {
            target,
            proposal,
            mirrored,
            near_end,
            far_end,
            standard_width,
            support_mass,
            log_max_ratio,
            floor,
        })
    }

    /// Whether P's mode lies strictly inside the support (two-interval superlevel sets).
    fn straddles_mode(&self) -> bool {
        self.near_end < 0.0
    }

    /// The superlevel set {d ≤ s} below the floor as (width from the far end inwards, width
    /// from the near end inwards); the second is 0 unless the mode is straddled.
    fn pieces(&self, deficit: f64) -> (f64, f64) {
        if !self.straddles_mode() {
            return (S::inward_distance(self.far_end, deficit).min(self.standard_width), 0.0);
        }
        let near = -self.near_end;
        let near_deficit = S::psi(self.far_end) - S::psi(near);
        let near_width = if deficit > near_deficit { S::inward_distance(near, deficit - near_deficit) } else { 0.0 };
        (S::inward_distance(self.far_end, deficit), near_width)
    }

    /// (1/(M − lo))·∫ −expm1(d(z) − s) dz over a piece of `width` reaching inwards from an
    /// end at |z| = `end` whose own deficit is `end_deficit`.
    fn narrow_gap(&self, end: f64, end_deficit: f64, width: f64, deficit: f64) -> f64 {
        if width <= 0.0 {
            return 0.0;
        }
        let integrand = |t: f64| -libm::expm1(end_deficit + S::drop_inwards(end, t) - deficit);
        legendre_8(integrand, 0.0, width) / self.standard_width
    }
}

impl<S: SymmetricShape> DensityRatio for UniformTargetRatio<S> {
    fn log_max_ratio(&self) -> f64 {
        self.log_max_ratio
    }

    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        if !(self.target.low <= x && x <= self.target.high) {
            return f64::INFINITY;
        }
        // ψ(M) − ψ(|z|) as the drop over t = M − |z| ≥ 0, exact near the far end.
        let z = ((x - self.proposal.loc()) / self.proposal.scale()).abs();
        S::drop_inwards(self.far_end, (self.far_end - z).max(0.0))
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        let height = libm::exp(self.log_max_ratio - deficit);
        if deficit >= self.floor.deficit {
            return SuperlevelMasses {
                proposal: self.support_mass,
                target: 1.0,
                gap: -libm::expm1(libm::log(self.floor.height_mass) + self.floor.deficit - deficit),
            };
        }
        let (far_width, near_width) = self.pieces(deficit);
        let proposal = S::mass(self.far_end - far_width, far_width) + S::mass(self.near_end, near_width);
        let target = (far_width + near_width) / self.standard_width;
        let gap = if deficit <= NARROW_DEFICIT {
            let near = -self.near_end;
            let near_deficit = S::psi(self.far_end) - S::psi(near.max(0.0));
            self.narrow_gap(self.far_end, 0.0, far_width, deficit)
                + self.narrow_gap(near, near_deficit, near_width, deficit)
        } else {
            (target - height * proposal).max(f64::MIN_POSITIVE)
        };
        SuperlevelMasses { proposal, target, gap }
    }

    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        let (lo, far) = (self.near_end, self.far_end);
        let below = if lo <= 0.0 { S::upper_tail(-lo) } else { 0.5 + S::mass(0.0, lo) };
        let outside_support = below + S::upper_tail(far);
        if deficit >= self.floor.deficit {
            return outside_support;
        }
        let (far_width, near_width) = self.pieces(deficit);
        let hole_start = lo + near_width;
        let hole_width = (far - far_width) - hole_start;
        outside_support + if hole_width > 0.0 { S::mass(hole_start, hole_width) } else { 0.0 }
    }

    fn gap_exponent(&self) -> f64 {
        2.0
    }

    fn mode(&self) -> f64 {
        if self.mirrored {
            self.target.low
        } else {
            self.target.high
        }
    }

    fn support_floor(&self) -> Option<SupportFloor> {
        Some(self.floor)
    }

    fn non_unimodal_reason(&self) -> Option<String> {
        self.straddles_mode().then(|| {
            format!(
                "the ratio of the Uniform({}, {}) target to the {}({}, {}) coding distribution dips \
                 at the proposal's mode {}, inside the target's support, so its superlevel sets are \
                 two intervals",
                Number(self.target.low),
                Number(self.target.high),
                S::NAME,
                Number(self.proposal.loc()),
                Number(self.proposal.scale()),
                Number(self.proposal.loc())
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// w_P, w_Q and g by brute-force midpoint sums over the support, for comparison.
    fn brute_force<S: SymmetricShape>(ratio: &UniformTargetRatio<S>, deficit: f64, density: impl Fn(f64) -> f64) -> (f64, f64, f64) {
        let n = 400_000;
        let (low, high) = (ratio.target.low, ratio.target.high);
        let step = (high - low) / n as f64;
        let height = (ratio.log_max_ratio() - deficit).exp();
        let (mut proposal, mut target, mut gap) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let x = low + (i as f64 + 0.5) * step;
            if ratio.deficit(x) <= deficit {
                let p = density(x) * step;
                let q = step / (high - low);
                proposal += p;
                target += q;
                gap += q - height * p;
            }
        }
        (proposal, target, gap)
    }

    fn normal_density(loc: f64, scale: f64) -> impl Fn(f64) -> f64 {
        move |x: f64| (-0.5 * ((x - loc) / scale).powi(2) - LN_SQRT_2PI).exp() / scale
    }

    #[test]
    fn masses_match_brute_force_on_one_and_two_interval_sets() {
        let p = Normal::new(0.3, 1.5).unwrap();
        for (low, high) in [(-1.0, 2.0), (1.0, 2.5), (-3.0, -0.5), (-2.0, 2.6)] {
            let ratio = UniformTargetRatio::new(Uniform::new(low, high).unwrap(), p).unwrap();
            for deficit in [0.01, 0.3, 0.7, 1.5, 4.0] {
                let masses = ratio.superlevel_masses(deficit);
                let (proposal, target, gap) = brute_force(&ratio, deficit, normal_density(0.3, 1.5));
                // The midpoint sums misplace each set boundary by up to one step (~1e-5); g
                // vanishes at the boundaries, so its sum is far more accurate.
                let context = format!("U({low}, {high}) s {deficit}: {masses:?} vs {proposal} {target} {gap}");
                assert!((masses.proposal - proposal).abs() < 3e-5, "{context}");
                assert!((masses.target - target).abs() < 3e-5, "{context}");
                assert!((masses.gap - gap).abs() < 1e-8, "{context}");
                let outside = ratio.proposal_mass_outside(deficit);
                assert!((outside + masses.proposal - 1.0).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn narrow_gap_agrees_with_the_difference_where_both_are_accurate() {
        let p = Laplace::new(0.0, 1.0).unwrap();
        let ratio = UniformTargetRatio::new(Uniform::new(0.5, 3.0).unwrap(), p).unwrap();
        // At s = ½ both forms apply; the difference loses at most a digit or two there.
        let masses = ratio.superlevel_masses(NARROW_DEFICIT);
        let height = (ratio.log_max_ratio() - NARROW_DEFICIT).exp();
        let difference = masses.target - height * masses.proposal;
        assert!((masses.gap / difference - 1.0).abs() < 1e-13);
        // Closed form on Laplace: the far piece has width s and g = (s + expm1(−s))/(M − lo),
        // by its series s²/2 − s³/6 + s⁴/24 at s = 1e-6.
        let s: f64 = 1e-6;
        let closed = (s * s / 2.0 - s * s * s / 6.0 + s.powi(4) / 24.0) / 2.5;
        assert!((ratio.superlevel_masses(s).gap / closed - 1.0).abs() < 1e-12);
    }

    #[test]
    fn unimodality_depends_on_where_the_proposal_mode_lies() {
        let p = Normal::new(0.0, 1.0).unwrap();
        let inside = UniformTargetRatio::new(Uniform::new(-1.0, 2.0).unwrap(), p).unwrap();
        assert!(inside.non_unimodal_reason().unwrap().contains("two intervals"));
        assert_eq!(inside.mode(), 2.0);
        let left = UniformTargetRatio::new(Uniform::new(-3.0, -1.0).unwrap(), p).unwrap();
        assert!(left.non_unimodal_reason().is_none());
        assert_eq!(left.mode(), -3.0);
        // ln r* = ln √(2π) + 9/2 − ln 2.
        assert!((left.log_max_ratio() - (LN_SQRT_2PI + 4.5 - 2f64.ln())).abs() < 1e-14);
        assert_eq!(left.deficit(-0.5), f64::INFINITY);
        assert!((left.deficit(-2.0) - 2.5).abs() < 1e-15);
    }

    #[test]
    fn uniform_pair_is_closed_form() {
        let ratio = UniformRatio::new(Uniform::new(0.2, 0.45).unwrap(), Uniform::new(0.0, 1.0).unwrap()).unwrap();
        assert!((ratio.log_max_ratio() - 4f64.ln()).abs() < 1e-15);
        assert_eq!(ratio.deficit(0.3), 0.0);
        assert_eq!(ratio.deficit(0.5), f64::INFINITY);
        assert!(UniformRatio::new(Uniform::new(-0.1, 0.5).unwrap(), Uniform::new(0.0, 1.0).unwrap()).is_err());
    }
}

//! The ratio of two Laplace distributions.

use super::{DensityRatio, SuperlevelMasses, SupportFloor};
use crate::distribution::laplace::{standard_laplace_mass, standard_laplace_tail};
use crate::distribution::Laplace;
use crate::error::{Number, RecError, Result};

/// The three shapes of a bounded Laplace/Laplace ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// e < b: a peak at the target's location.
    Peaked,
    /// e = b, c ≠ a: a plateau at r* on the half-line behind c (seen from a), a linear descent
    /// to a, and a floor beyond a. `direction` is the sign of a − c and `offset` = |c − a|/b.
    Shifted { direction: f64, offset: f64 },
    /// Q = P.
    Identical,
}

/// The ratio of two Laplace distributions Q = L(c, e) over P = L(a, b) with e ≤ b.
///
/// ```text
/// ln r(x) = ln(b/e) − |x − c|/e + |x − a|/b,   ln r* = ln(b/e) + |c − a|/b at the mode x = c,
/// d(x) = |x − c|/e − (|x − a| − |c − a|)/b,
/// ```
///
/// For e < b, d is piecewise linear and increasing away from c on both sides (slopes
/// 1/e ± 1/b > 0), so each superlevel set is an interval [c − δ₋(s), c + δ₊(s)] found in
/// closed form. The kink at the mode makes w_P(h) ∝ r* − h and g ∝ (r* − h)², i.e. α = 2.
///
/// Equal scales e = b with c ≠ a give a bounded ratio that is flat at r* = e^k, k = |c − a|/b,
/// on the half-line behind c, falls linearly in ln r between c and a, and is flat again at
/// e^{−k} beyond a. With t the distance from c towards a in units of b, d = 2·clamp(t, 0, k),
/// and for s < 2k (closed forms; no cancellation near r*):
///
/// ```text
/// w_P = ½e^{s/2 − k},   w_Q = 1 − ½e^{−s/2},   g = ½(1 − e^{−s}) + ½(1 − e^{−s/2})²,
/// ```
///
/// while for s ≥ 2k the set is the whole line and g = 1 − h (the [`SupportFloor`]). The
/// plateau has P-mass ½e^{−k} > 0, so g ∝ r* − h near r*: α = 1.
#[derive(Clone, Copy, Debug)]
pub struct LaplaceRatio {
    /// The target Q.
    pub target: Laplace,
    /// The coding distribution P.
    pub proposal: Laplace,
    log_max_ratio: f64,
    shape: Shape,
}

impl LaplaceRatio {
    /// Validates that dQ/dP is bounded and builds the ratio.
    pub fn new(target: Laplace, proposal: Laplace) -> Result<LaplaceRatio> {
        if target.scale > proposal.scale {
            return Err(RecError::UnboundedRatio(format!(
                "target scale {} > proposal scale {} makes dQ/dP unbounded; GPRS needs a proposal \
                 at least as wide as the target",
                Number(target.scale),
                Number(proposal.scale)
            )));
        }
        let offset = (target.loc - proposal.loc).abs() / proposal.scale;
        let shape = if target == proposal {
            Shape::Identical
        } else if target.scale == proposal.scale {
            let direction = if proposal.loc > target.loc { 1.0 } else { -1.0 };
            Shape::Shifted { direction, offset }
        } else {
            Shape::Peaked
        };
        let log_max_ratio = match shape {
            Shape::Identical => 0.0,
            Shape::Shifted { offset, .. } => offset,
            Shape::Peaked => libm::log(proposal.scale / target.scale) + offset,
        };
        if !(log_max_ratio <= super::MAX_LOG_RATIO) {
            return Err(RecError::InvalidParameter(format!(
                "target L({}, {}) against proposal L({}, {}) has D∞ = {:.1} nats, above the \
                 supported {} nats",
                Number(target.loc),
                Number(target.scale),
                Number(proposal.loc),
                Number(proposal.scale),
                log_max_ratio,
                super::MAX_LOG_RATIO
            )));
        }
        Ok(LaplaceRatio { target, proposal, log_max_ratio, shape })
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
        match self.shape {
            Shape::Identical => return (f64::NEG_INFINITY, f64::INFINITY),
            Shape::Shifted { direction, offset } => {
                if deficit >= 2.0 * offset {
                    return (f64::NEG_INFINITY, f64::INFINITY);
                }
                let end = self.target.loc + direction * 0.5 * deficit * self.proposal.scale;
                return if direction > 0.0 { (f64::NEG_INFINITY, end) } else { (end, f64::INFINITY) };
            }
            Shape::Peaked => {}
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
        match self.shape {
            Shape::Identical => return 0.0,
            Shape::Shifted { direction, offset } => {
                let towards_proposal = direction * (x - self.target.loc) / self.proposal.scale;
                return 2.0 * towards_proposal.clamp(0.0, offset);
            }
            Shape::Peaked => {}
        }
        // Both slopes are infinite at ±∞ (∞ − ∞); the deficit grows like |x|·(1/e − 1/b) > 0.
        if x.is_infinite() {
            return f64::INFINITY;
        }
        let (c, a) = (self.target.loc, self.proposal.loc);
        ((x - c).abs() / self.target.scale - ((x - a).abs() - (c - a).abs()) / self.proposal.scale).max(0.0)
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        let height = libm::exp(self.log_max_ratio - deficit);
        match self.shape {
            Shape::Identical => return SuperlevelMasses::identical(deficit),
            Shape::Shifted { offset, .. } => {
                if deficit >= 2.0 * offset {
                    return SuperlevelMasses { proposal: 1.0, target: 1.0, gap: -libm::expm1(offset - deficit) };
                }
                let half_drop = libm::expm1(-0.5 * deficit);
                return SuperlevelMasses {
                    proposal: 0.5 * libm::exp(0.5 * deficit - offset),
                    target: 1.0 - 0.5 * libm::exp(-0.5 * deficit),
                    gap: 0.5 * (-libm::expm1(-deficit) + half_drop * half_drop),
                };
            }
            Shape::Peaked => {}
        }
        let (below, above) = self.reaches(deficit);
        let mode = self.target.loc;
        let proposal = Self::mass(&self.proposal, mode, below, above);
        let target = Self::mass(&self.target, mode, below, above);
        let gap = (target - height * proposal).max(f64::MIN_POSITIVE);
        SuperlevelMasses { proposal, target, gap }
    }

    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        match self.shape {
            Shape::Identical => return 0.0,
            Shape::Shifted { offset, .. } => {
                return if deficit >= 2.0 * offset { 0.0 } else { 1.0 - 0.5 * libm::exp(0.5 * deficit - offset) };
            }
            Shape::Peaked => {}
        }
        let (low, high) = self.superlevel_interval(deficit);
        let (a, b) = (self.proposal.loc, self.proposal.scale);
        let lower = if low <= a { standard_laplace_tail((low - a) / b) } else { 1.0 - standard_laplace_tail((low - a) / b) };
        let upper = if high >= a { standard_laplace_tail((high - a) / b) } else { 1.0 - standard_laplace_tail((high - a) / b) };
        lower + upper
    }

    fn gap_exponent(&self) -> f64 {
        match self.shape {
            Shape::Peaked => 2.0,
            Shape::Shifted { .. } | Shape::Identical => 1.0,
        }
    }

    fn mode(&self) -> f64 {
        self.target.loc
    }

    fn support_floor(&self) -> Option<SupportFloor> {
        match self.shape {
            Shape::Peaked => None,
            Shape::Shifted { offset, .. } => {
                Some(SupportFloor { deficit: 2.0 * offset, proposal_mass: 1.0, height_mass: libm::exp(-offset) })
            }
            Shape::Identical => Some(SupportFloor::IDENTICAL),
        }
    }
}

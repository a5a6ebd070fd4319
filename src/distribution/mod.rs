//! Distributions on the real line and their *tail coordinates*.
//!
//! The branch-and-bound samplers work in the coding distribution's CDF coordinates
//! (docs/methods.md): an interval of the real line is a pair of probabilities, and drawing from P
//! restricted to the interval is drawing a uniform probability inside it and mapping it
//! back with the quantile. To keep relative precision deep in *either* tail, a point is
//! stored as the smaller of its two tail probabilities: F(x) left of the median, 1 − F(x)
//! right of it ([`TailPoint`]). Nothing ever forms `1 − p` for a tiny `p`.

pub mod laplace;
pub mod normal;
pub mod uniform;

pub use laplace::Laplace;
pub use normal::Normal;
pub use uniform::Uniform;

use crate::error::{RecError, Result};
use crate::random::UnitDraw;

/// Distribution families and their ids in the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Family {
    /// Normal(loc, scale).
    Normal,
    /// Laplace(loc, scale).
    Laplace,
    /// Uniform(low, high).
    Uniform,
}

impl Family {
    /// Every family, in id order.
    pub const ALL: [Family; 3] = [Family::Normal, Family::Laplace, Family::Uniform];

    /// The stored id.
    pub fn id(self) -> u8 {
        match self {
            Family::Normal => 1,
            Family::Laplace => 2,
            Family::Uniform => 3,
        }
    }

    /// Parses a stored id.
    pub fn from_id(id: u8) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.id() == id)
    }

    /// The user-facing name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Normal => "Normal",
            Family::Laplace => "Laplace",
            Family::Uniform => "Uniform",
        }
    }

    /// Parses a user-facing name.
    pub fn from_name(name: &str) -> Result<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            let known: Vec<_> = Family::ALL.iter().map(|f| f.name()).collect();
            RecError::UnsupportedMethod(format!(
                "unknown distribution family \"{name}\"; available: {}",
                known.join(", ")
            ))
        })
    }
}

/// Checks the parameters of a location-scale family: finite `loc`, finite `scale > 0`.
pub fn check_location_scale(family: Family, loc: f64, scale: f64) -> Result<()> {
    let name = family.name();
    if !loc.is_finite() {
        return Err(RecError::InvalidParameter(format!(
            "{name} loc {loc} is not finite; loc must be a finite float"
        )));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(RecError::InvalidParameter(format!(
            "{name} scale {scale} is not allowed; scale must be finite and > 0"
        )));
    }
    Ok(())
}

/// A point of the real line in tail coordinates of a distribution P.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TailPoint {
    /// Left of (or at) the median: the lower tail probability F(x) ∈ [0, 1/2].
    Lower(f64),
    /// Right of the median: the upper tail probability 1 − F(x) ∈ [0, 1/2].
    Upper(f64),
}

impl TailPoint {
    /// −∞.
    pub const MINUS_INFINITY: TailPoint = TailPoint::Lower(0.0);
    /// +∞.
    pub const PLUS_INFINITY: TailPoint = TailPoint::Upper(0.0);

    /// The tail probability itself (the coordinate's magnitude).
    pub fn tail(self) -> f64 {
        match self {
            TailPoint::Lower(p) | TailPoint::Upper(p) => p,
        }
    }

    /// The median has one representation, `Lower(1/2)`; rounding may produce `Upper(1/2)` or a
    /// lower tail a hair above 1/2.
    #[inline]
    fn normalized(self) -> TailPoint {
        match self {
            TailPoint::Lower(p) if p > 0.5 => TailPoint::Lower(0.5),
            TailPoint::Upper(q) if q >= 0.5 => TailPoint::Lower(0.5),
            other => other,
        }
    }

    /// Strict order along the real line.
    #[inline]
    pub fn is_left_of(self, other: TailPoint) -> bool {
        match (self, other) {
            (TailPoint::Lower(a), TailPoint::Lower(b)) => a < b,
            (TailPoint::Upper(a), TailPoint::Upper(b)) => a > b,
            (TailPoint::Lower(_), TailPoint::Upper(_)) => true,
            (TailPoint::Upper(_), TailPoint::Lower(_)) => false,
        }
    }
}

/// The smallest P-mass an interval may have relative to its largest endpoint tail
/// probability before draws inside it lose resolution (2⁻³⁰: a uniform draw still has about
/// 2²³ distinct representable positions inside the interval).
pub const MIN_RELATIVE_MASS: f64 = 1.0 / (1u64 << 30) as f64;

/// An open interval (left, right) of the real line in tail coordinates of P.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailInterval {
    /// Left end.
    pub left: TailPoint,
    /// Right end.
    pub right: TailPoint,
}

impl TailInterval {
    /// The whole line (−∞, ∞).
    pub const WHOLE_LINE: TailInterval =
        TailInterval { left: TailPoint::MINUS_INFINITY, right: TailPoint::PLUS_INFINITY };

    /// P(interval), computed without cancellation in either tail.
    #[inline]
    pub fn mass(&self) -> f64 {
        match (self.left, self.right) {
            (TailPoint::Lower(a), TailPoint::Lower(b)) => b - a,
            (TailPoint::Upper(a), TailPoint::Upper(b)) => a - b,
            (TailPoint::Lower(a), TailPoint::Upper(b)) => (0.5 - a) + (0.5 - b),
            (TailPoint::Upper(_), TailPoint::Lower(_)) => 0.0,
        }
    }

    /// The point a fraction u ∈ (0, 1) of the way through the interval's P-mass, given
    /// `mass = self.mass()` (passed in because every caller already has it). For u < 1/2 the
    /// offset u·mass is measured from the left end, otherwise (1 − u)·mass from the right end,
    /// so neither end is ever reached by rounding u.
    ///
    /// Errors with [`RecError::SearchLimit`] when the interval has become too narrow for the
    /// floating-point coordinates to resolve (mass below [`MIN_RELATIVE_MASS`] times its
    /// largest endpoint tail), so a draw can never land on or outside an end.
    #[inline]
    pub fn point_at(&self, draw: UnitDraw, mass: f64) -> Result<TailPoint> {
        let from_left = draw.is_lower_half();
        let fraction = if from_left { draw.value() } else { draw.complement() };
        self.place(from_left, fraction * mass, mass)
    }

    /// The point halving the interval's P-mass (`mass = self.mass()`), with the same
    /// resolution checks as [`point_at`](Self::point_at).
    pub fn midpoint(&self, mass: f64) -> Result<TailPoint> {
        self.place(true, 0.5 * mass, mass)
    }

    /// The point `offset` of P-mass from the left end (or from the right end).
    #[inline]
    fn place(&self, from_left: bool, offset: f64, mass: f64) -> Result<TailPoint> {
        let scale = self.left.tail().max(self.right.tail());
        if !(mass > MIN_RELATIVE_MASS * scale) {
            return Err(RecError::SearchLimit(format!(
                "the search interval has P-mass {mass:e} next to a tail probability of \
                 {scale:e}, below the relative resolution 2^-30 of its floating-point \
                 coordinates; the target is too narrow or too deep in the proposal's tail for \
                 branch-and-bound (try method=\"gprs\" or a proposal closer to the target)"
            )));
        }
        let point = match (self.left, self.right, from_left) {
            (TailPoint::Lower(a), TailPoint::Lower(_), true) => TailPoint::Lower(a + offset),
            (TailPoint::Lower(_), TailPoint::Lower(b), false) => TailPoint::Lower(b - offset),
            (TailPoint::Upper(a), TailPoint::Upper(_), true) => TailPoint::Upper(a - offset),
            (TailPoint::Upper(_), TailPoint::Upper(b), false) => TailPoint::Upper(b + offset),
            (TailPoint::Lower(a), TailPoint::Upper(_), true) => {
                let room_left_of_median = 0.5 - a;
                if offset <= room_left_of_median {
                    TailPoint::Lower(a + offset)
                } else {
                    TailPoint::Upper(0.5 - (offset - room_left_of_median))
                }
            }
            (TailPoint::Lower(_), TailPoint::Upper(b), false) => {
                let room_right_of_median = 0.5 - b;
                if offset <= room_right_of_median {
                    TailPoint::Upper(b + offset)
                } else {
                    TailPoint::Lower(0.5 - (offset - room_right_of_median))
                }
            }
            (TailPoint::Upper(_), TailPoint::Lower(_), _) => self.left,
        }
        .normalized();
        if self.left.is_left_of(point) && point.is_left_of(self.right) {
            Ok(point)
        } else {
            Err(RecError::SearchLimit(format!(
                "a draw inside the search interval rounded onto its end ({point:?}); the \
                 interval is below floating-point resolution"
            )))
        }
    }
}

/// A continuous distribution on the real line that can serve as the coding distribution.
///
/// The two required maps between points and tail coordinates are the tail-accurate core;
/// the CDF, survival function and quantiles of probabilities follow from them without ever
/// forming `1 − p` for a tiny tail `p`.
pub trait CodingDistribution {
    /// The point x with the given tail coordinate (tail-accurate quantile).
    fn quantile(&self, point: TailPoint) -> f64;

    /// The tail coordinate of x: `Lower(F(x))` at or left of the median, `Upper(1 − F(x))`
    /// right of it, each computed directly. ±∞ (and the ends of a bounded support, and
    /// beyond) map to `Lower(0)` and `Upper(0)`.
    fn tail_point(&self, x: f64) -> TailPoint;

    /// The ends of the support (±∞ for unbounded families).
    fn support(&self) -> (f64, f64);

    /// F(x) = P[X ≤ x], to about 1e-13 relative in the lower tail (never rounded to 0 early).
    fn cdf(&self, x: f64) -> f64 {
        match self.tail_point(x) {
            TailPoint::Lower(p) => p,
            TailPoint::Upper(q) => 1.0 - q,
        }
    }

    /// 1 − F(x) = P[X > x], to about 1e-13 relative in the upper tail (never rounded to 0 early).
    fn survival(&self, x: f64) -> f64 {
        match self.tail_point(x) {
            TailPoint::Lower(p) => 1.0 - p,
            TailPoint::Upper(q) => q,
        }
    }

    /// The x with F(x) = p for p ∈ [0, 1] (the support's ends at 0 and 1). For p > ½ the
    /// upper tail 1 − p is exact in floating point, so this is as accurate as the tail itself.
    fn lower_quantile(&self, p: f64) -> f64 {
        let (low, high) = self.support();
        if p <= 0.0 {
            low
        } else if p >= 1.0 {
            high
        } else if p <= 0.5 {
            self.quantile(TailPoint::Lower(p))
        } else {
            self.quantile(TailPoint::Upper(1.0 - p))
        }
    }

    /// The x with 1 − F(x) = q for q ∈ [0, 1]: the quantile of an upper-tail probability, with
    /// full relative precision in q (pass 1e-300, not 1 − 1e-300, for a point deep on the right).
    fn upper_quantile(&self, q: f64) -> f64 {
        let (low, high) = self.support();
        if q <= 0.0 {
            high
        } else if q >= 1.0 {
            low
        } else if q <= 0.5 {
            self.quantile(TailPoint::Upper(q))
        } else {
            self.quantile(TailPoint::Lower(1.0 - q))
        }
    }
}

/// The distribution functions offered to users, evaluated elementwise by the batch driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistributionFunction {
    /// F(x).
    Cdf,
    /// 1 − F(x).
    Survival,
    /// x with F(x) = p.
    Quantile,
    /// x with 1 − F(x) = q.
    UpperQuantile,
}

impl DistributionFunction {
    /// Every function, with the names the Python API uses.
    pub const ALL: [DistributionFunction; 4] = [
        DistributionFunction::Cdf,
        DistributionFunction::Survival,
        DistributionFunction::Quantile,
        DistributionFunction::UpperQuantile,
    ];

    /// The user-facing name.
    pub fn name(self) -> &'static str {
        match self {
            DistributionFunction::Cdf => "cdf",
            DistributionFunction::Survival => "survival",
            DistributionFunction::Quantile => "quantile",
            DistributionFunction::UpperQuantile => "upper_quantile",
        }
    }

    /// Parses a user-facing name.
    pub fn from_name(name: &str) -> Result<DistributionFunction> {
        DistributionFunction::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            let known: Vec<_> = DistributionFunction::ALL.iter().map(|f| f.name()).collect();
            RecError::InvalidParameter(format!("unknown distribution function \"{name}\"; available: {}", known.join(", ")))
        })
    }

    /// Evaluates the function at `argument`: a point x (any float but NaN; ±∞ allowed) for
    /// the CDF and survival function, a probability in [0, 1] for the quantiles.
    pub fn evaluate<D: CodingDistribution + ?Sized>(self, distribution: &D, argument: f64) -> Result<f64> {
        match self {
            DistributionFunction::Cdf | DistributionFunction::Survival if argument.is_nan() => {
                Err(RecError::InvalidParameter("x = nan; x must be a float or ±inf, not nan".into()))
            }
            DistributionFunction::Quantile | DistributionFunction::UpperQuantile
                if !(0.0..=1.0).contains(&argument) =>
            {
                let name = if self == DistributionFunction::Quantile { "p" } else { "q" };
                Err(RecError::InvalidParameter(format!(
                    "{name} = {}; a probability must lie in [0, 1]",
                    crate::error::Number(argument)
                )))
            }
            DistributionFunction::Cdf => Ok(distribution.cdf(argument)),
            DistributionFunction::Survival => Ok(distribution.survival(argument)),
            DistributionFunction::Quantile => Ok(distribution.lower_quantile(argument)),
            DistributionFunction::UpperQuantile => Ok(distribution.upper_quantile(argument)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_line_draws_are_exact_tail_coordinates() {
        let whole = TailInterval::WHOLE_LINE;
        assert_eq!(whole.mass(), 1.0);
        let quarter = UnitDraw::from_bits(1 << 62);
        assert_eq!(whole.point_at(quarter, 1.0).unwrap(), TailPoint::Lower(quarter.value()));
        let top = UnitDraw::from_bits(u64::MAX);
        assert_eq!(whole.point_at(top, 1.0).unwrap(), TailPoint::Upper(top.complement()));
    }

    #[test]
    fn deep_upper_tail_interval_keeps_precision() {
        let interval = TailInterval { left: TailPoint::Upper(1e-300), right: TailPoint::Upper(0.0) };
        let mass = interval.mass();
        assert_eq!(mass, 1e-300);
        match interval.point_at(UnitDraw::from_bits(1 << 62), mass).unwrap() {
            TailPoint::Upper(q) => assert!((q / 0.75e-300 - 1.0).abs() < 1e-15),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn too_narrow_interval_is_an_error_not_a_wrong_point() {
        let interval = TailInterval { left: TailPoint::Lower(0.3), right: TailPoint::Lower(0.3 + 1e-12) };
        let error = interval.point_at(UnitDraw::from_bits(1 << 63), interval.mass()).unwrap_err();
        assert!(matches!(error, RecError::SearchLimit(_)));
    }
}

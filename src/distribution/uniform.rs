//! The uniform distribution U(low, high): density 1/(high − low) on [low, high].

use super::{CodingDistribution, TailPoint};
use crate::error::{RecError, Result};

/// U(low, high), validated: finite `low < high` with a finite width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform {
    /// Lower end of the support.
    pub low: f64,
    /// Upper end of the support.
    pub high: f64,
}

impl Uniform {
    /// Validates the parameters.
    pub fn new(low: f64, high: f64) -> Result<Uniform> {
        if !(low.is_finite() && high.is_finite()) {
            return Err(RecError::InvalidParameter(format!(
                "Uniform low {low} / high {high} is not finite; both ends must be finite floats"
            )));
        }
        if !(low < high && (high - low).is_finite()) {
            return Err(RecError::InvalidParameter(format!(
                "Uniform low {low} and high {high} are not allowed; low must be < high and \
                 high − low finite"
            )));
        }
        Ok(Uniform { low, high })
    }

    /// high − low.
    #[inline]
    pub fn width(&self) -> f64 {
        self.high - self.low
    }

    /// The midpoint, without overflow.
    #[inline]
    pub fn midpoint(&self) -> f64 {
        self.low + 0.5 * self.width()
    }
}

impl CodingDistribution for Uniform {
    /// x = low + p·(high − low) for a lower tail p ≤ ½, high − q·(high − low) for an upper
    /// tail q: each end is approached from its own side, so a tiny tail keeps its digits.
    #[inline]
    fn quantile(&self, point: TailPoint) -> f64 {
        match point {
            TailPoint::Lower(p) => self.low + p * self.width(),
            TailPoint::Upper(q) => self.high - q * self.width(),
        }
    }

    /// (x − low)/(high − low) up to the midpoint, (high − x)/(high − low) beyond it, clamped
    /// to 0 outside the support.
    #[inline]
    fn tail_point(&self, x: f64) -> TailPoint {
        if x <= self.midpoint() {
            TailPoint::Lower(((x - self.low) / self.width()).max(0.0))
        } else {
            TailPoint::Upper(((self.high - x) / self.width()).max(0.0))
        }
    }

    fn support(&self) -> (f64, f64) {
        (self.low, self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_reaches_each_end_from_its_own_side() {
        let u = Uniform::new(1.0, 3.0).unwrap();
        assert_eq!(u.quantile(TailPoint::Lower(0.25)), 1.5);
        assert_eq!(u.quantile(TailPoint::Upper(0.25)), 2.5);
        assert_eq!(u.quantile(TailPoint::Lower(0.5)), 2.0);
        // A lower tail of 1e-300 next to 0 keeps all its digits.
        let unit = Uniform::new(0.0, 1.0).unwrap();
        assert_eq!(unit.quantile(TailPoint::Lower(1e-300)), 1e-300);
        assert_eq!(u.midpoint(), 2.0);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        for (low, high) in [(1.0, 1.0), (2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::INFINITY), (-1e308, 1e308)] {
            assert!(Uniform::new(low, high).is_err(), "({low}, {high})");
        }
    }
}

//! The normal distribution N(loc, scale²).

use super::{check_location_scale, CodingDistribution, Family, TailPoint};
use crate::error::Result;
use crate::math::{normal_cdf, normal_lower_quantile, normal_sf};

/// N(loc, scale²), validated: finite `loc`, finite `scale > 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal {
    /// Mean.
    pub loc: f64,
    /// Standard deviation.
    pub scale: f64,
}

impl Normal {
    /// Validates the parameters.
    pub fn new(loc: f64, scale: f64) -> Result<Normal> {
        check_location_scale(Family::Normal, loc, scale)?;
        Ok(Normal { loc, scale })
    }

    /// (x − loc) / scale.
    #[inline]
    pub fn standardize(&self, x: f64) -> f64 {
        (x - self.loc) / self.scale
    }
}

impl CodingDistribution for Normal {
    #[inline]
    fn quantile(&self, point: TailPoint) -> f64 {
        let z = match point {
            TailPoint::Lower(p) => normal_lower_quantile(p),
            TailPoint::Upper(q) => -normal_lower_quantile(q),
        };
        self.loc + self.scale * z
    }

    /// Φ(z) for z ≤ 0, else 1 − Φ(z), each from `erfc` (relative precision down to underflow).
    #[inline]
    fn tail_point(&self, x: f64) -> TailPoint {
        let z = self.standardize(x);
        if z <= 0.0 {
            TailPoint::Lower(normal_cdf(z))
        } else {
            TailPoint::Upper(normal_sf(z))
        }
    }

    fn support(&self) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_parameters() {
        assert!(Normal::new(0.0, 0.0).is_err());
        assert!(Normal::new(0.0, -1.0).is_err());
        assert!(Normal::new(f64::NAN, 1.0).is_err());
        assert!(Normal::new(0.0, f64::INFINITY).is_err());
        assert!(Normal::new(1.0, 2.0).is_ok());
    }

    #[test]
    fn quantile_is_symmetric_in_tail_coordinates() {
        let n = Normal::new(3.0, 2.0).unwrap();
        let left = n.quantile(TailPoint::Lower(1e-20));
        let right = n.quantile(TailPoint::Upper(1e-20));
        assert!((left - 3.0 + (right - 3.0)).abs() < 1e-12);
        assert_eq!(n.quantile(TailPoint::Lower(0.5)), 3.0);
    }
}

//! The Laplace distribution L(loc, scale): density e^{−|x − loc|/scale} / (2·scale).

use super::{check_location_scale, CodingDistribution, Family, TailPoint};
use crate::error::Result;

/// L(loc, scale), validated: finite `loc`, finite `scale > 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Laplace {
    /// Location (median and mode).
    pub loc: f64,
    /// Scale b (the standard deviation is b√2).
    pub scale: f64,
}

impl Laplace {
    /// Validates the parameters.
    pub fn new(loc: f64, scale: f64) -> Result<Laplace> {
        check_location_scale(Family::Laplace, loc, scale)?;
        Ok(Laplace { loc, scale })
    }
}

/// P-mass of [lo, lo + width] for the standard Laplace L(0, 1), without cancellation: the
/// width is passed separately so that a narrow interval far from 0 keeps its digits.
pub fn standard_laplace_mass(lo: f64, width: f64) -> f64 {
    let hi = lo + width;
    if lo >= 0.0 {
        0.5 * libm::exp(-lo) * -libm::expm1(-width)
    } else if hi <= 0.0 {
        0.5 * libm::exp(hi) * -libm::expm1(-width)
    } else {
        0.5 * -libm::expm1(lo) + 0.5 * -libm::expm1(-hi)
    }
}

/// The lower tail F(z) of L(0, 1) at z ≤ 0, or the upper tail 1 − F(z) at z ≥ 0: ½e^{−|z|}.
#[inline]
pub fn standard_laplace_tail(z: f64) -> f64 {
    0.5 * libm::exp(-z.abs())
}

impl CodingDistribution for Laplace {
    /// x = loc + scale·ln(2p) for a lower tail p ≤ ½, loc − scale·ln(2q) for an upper tail q.
    #[inline]
    fn quantile(&self, point: TailPoint) -> f64 {
        match point {
            TailPoint::Lower(p) => self.loc + self.scale * libm::log(2.0 * p),
            TailPoint::Upper(q) => self.loc - self.scale * libm::log(2.0 * q),
        }
    }

    /// ½e^{−|x − loc|/scale}, on the side of `loc` where x lies.
    #[inline]
    fn tail_point(&self, x: f64) -> TailPoint {
        let z = (x - self.loc) / self.scale;
        if z <= 0.0 {
            TailPoint::Lower(standard_laplace_tail(z))
        } else {
            TailPoint::Upper(standard_laplace_tail(z))
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
    fn quantile_inverts_the_tails() {
        let l = Laplace::new(1.0, 2.0).unwrap();
        for z in [-30.0, -2.0, -1e-3, 0.0] {
            let p = standard_laplace_tail(z);
            assert!((l.quantile(TailPoint::Lower(p)) - (1.0 + 2.0 * z)).abs() < 1e-12);
            assert!((l.quantile(TailPoint::Upper(p)) - (1.0 - 2.0 * z)).abs() < 1e-12);
        }
        assert!(Laplace::new(0.0, 0.0).is_err() && Laplace::new(f64::NAN, 1.0).is_err());
    }

    #[test]
    fn masses_are_accurate_for_narrow_and_wide_intervals() {
        // ∫_{-1}^{1} ½e^{−|z|} dz = 1 − e^{−1}.
        assert!((standard_laplace_mass(-1.0, 2.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-15);
        // A 1e-12-wide interval at z = 3: ≈ 1e-12·½e^{−3}.
        let narrow = standard_laplace_mass(3.0, 1e-12);
        assert!((narrow / (1e-12 * 0.5 * (-3.0f64).exp()) - 1.0).abs() < 1e-11);
    }
}

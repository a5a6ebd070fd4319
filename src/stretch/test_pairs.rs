//! Random (target, proposal) pairs of every family that has a stretch function, for the
//! property tests of the bounds and the searches.

use crate::distribution::{Laplace, Normal, Uniform};
use crate::random::{open_unit, splitmix64};
use crate::ratio::{DensityRatio, LaplaceRatio, NormalRatio, UniformTargetRatio};

/// Tolerance of the reference σ: far below the decisions' band of 1e-7 in the tests, and
/// reachable within the quadrature's panel budget down to deficits of 1e-4 (its variable y
/// grows like s^{1−α}).
pub(crate) const REFERENCE_TOLERANCE: f64 = 1e-10;

/// A reproducible stream of uniforms on (0, 1).
pub(crate) struct Draws(pub u64);

impl Draws {
    pub fn uniform(&mut self) -> f64 {
        self.0 = splitmix64(self.0);
        open_unit(self.0)
    }

    pub fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }

    fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + (high.ln() - low.ln()) * self.uniform()).exp()
    }
}

/// `per_family` pairs of each kind, named for failure messages: Normal on Normal, Laplace on
/// Laplace, Uniform on Normal and Uniform on Laplace, with D∞ from about 0.1 to 12 bits.
pub(crate) fn random_pairs(seed: u64, per_family: usize) -> Vec<(String, Box<dyn DensityRatio>)> {
    let mut draws = Draws(seed);
    let mut pairs: Vec<(String, Box<dyn DensityRatio>)> = Vec::new();
    for _ in 0..per_family {
        let (loc, scale) = (3.0 * (draws.uniform() - 0.5), draws.log_uniform(0.003, 0.95));
        let normal = NormalRatio::new(Normal::new(loc, scale).unwrap(), Normal::new(0.0, 1.0).unwrap()).unwrap();
        pairs.push((format!("N({loc}, {scale}) on N(0, 1)"), Box::new(normal)));

        let (loc, scale) = (3.0 * (draws.uniform() - 0.5), draws.log_uniform(0.003, 0.95));
        let laplace = LaplaceRatio::new(Laplace::new(loc, scale).unwrap(), Laplace::new(0.0, 1.0).unwrap()).unwrap();
        pairs.push((format!("L({loc}, {scale}) on L(0, 1)"), Box::new(laplace)));

        let (low, width) = (3.0 * (draws.uniform() - 0.5), draws.log_uniform(0.002, 2.0));
        let target = Uniform::new(low, low + width).unwrap();
        let on_normal = UniformTargetRatio::new(target, Normal::new(0.0, 1.0).unwrap()).unwrap();
        pairs.push((format!("U({low}, {}) on N(0, 1)", low + width), Box::new(on_normal)));
        let on_laplace = UniformTargetRatio::new(target, Laplace::new(0.0, 1.0).unwrap()).unwrap();
        pairs.push((format!("U({low}, {}) on L(0, 1)", low + width), Box::new(on_laplace)));
    }
    pairs
}

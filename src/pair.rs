//! A (target, proposal) pair of one of the supported families.
//!
//! [`Pair`] and [`Proposal`] dispatch to the concrete ratio and distribution so that the batch
//! driver and the samplers (generic over [`DensityRatio`] and [`CodingDistribution`]) handle every
//! family with one code path. Supported: Normal/Normal and Laplace/Laplace.

use crate::distribution::{CodingDistribution, Family, Laplace, Normal, TailPoint};
use crate::divergence::{laplace_kl_divergence, normal_kl_divergence, normal_max_divergence};
use crate::error::{RecError, Result};
use crate::ratio::{DensityRatio, LaplaceRatio, NormalRatio, SuperlevelMasses};

/// A coding distribution of one of the families.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Proposal {
    /// Normal(loc, scale).
    Normal(Normal),
    /// Laplace(loc, scale).
    Laplace(Laplace),
}

impl Proposal {
    /// Validates (loc, scale) for `family`.
    pub fn new(family: Family, loc: f64, scale: f64) -> Result<Proposal> {
        Ok(match family {
            Family::Normal => Proposal::Normal(Normal::new(loc, scale)?),
            Family::Laplace => Proposal::Laplace(Laplace::new(loc, scale)?),
        })
    }
}

impl CodingDistribution for Proposal {
    #[inline]
    fn quantile(&self, point: TailPoint) -> f64 {
        match self {
            Proposal::Normal(d) => d.quantile(point),
            Proposal::Laplace(d) => d.quantile(point),
        }
    }
}

/// Prefixes an invalid-parameter message with the distribution's role ("target", "proposal").
pub fn with_role(role: &str, error: RecError) -> RecError {
    match error {
        RecError::InvalidParameter(m) => RecError::InvalidParameter(format!("{role} {m}")),
        other => other,
    }
}

/// A validated pair with a bounded ratio.
#[derive(Clone, Copy, Debug)]
pub enum Pair {
    /// Normal target, Normal proposal.
    Normal(NormalRatio),
    /// Laplace target, Laplace proposal.
    Laplace(LaplaceRatio),
}

impl Pair {
    /// Validates both distributions of `family` and that their ratio is bounded.
    pub fn new(family: Family, target: (f64, f64), proposal: (f64, f64)) -> Result<Pair> {
        let target = Proposal::new(family, target.0, target.1).map_err(|e| with_role("target", e))?;
        let proposal = Proposal::new(family, proposal.0, proposal.1).map_err(|e| with_role("proposal", e))?;
        Ok(match (target, proposal) {
            (Proposal::Normal(q), Proposal::Normal(p)) => Pair::Normal(NormalRatio::new(q, p)?),
            (Proposal::Laplace(q), Proposal::Laplace(p)) => Pair::Laplace(LaplaceRatio::new(q, p)?),
            _ => unreachable!("both sides are built from the same family"),
        })
    }

    /// The coding distribution.
    pub fn proposal(&self) -> Proposal {
        match self {
            Pair::Normal(r) => Proposal::Normal(r.proposal),
            Pair::Laplace(r) => Proposal::Laplace(r.proposal),
        }
    }
}

/// KL and D∞ in bits of a pair of `family`, for any parameters (D∞ is +∞ for unbounded ratios).
pub fn divergences(family: Family, target: (f64, f64), proposal: (f64, f64)) -> Result<(f64, f64)> {
    Ok(match (Proposal::new(family, target.0, target.1)?, Proposal::new(family, proposal.0, proposal.1)?) {
        (Proposal::Normal(q), Proposal::Normal(p)) => (normal_kl_divergence(&q, &p), normal_max_divergence(&q, &p)),
        (Proposal::Laplace(q), Proposal::Laplace(p)) => {
            let max = if q.scale > p.scale {
                f64::INFINITY
            } else if q == p {
                0.0
            } else {
                (libm::log(p.scale / q.scale) + (q.loc - p.loc).abs() / p.scale) / std::f64::consts::LN_2
            };
            (laplace_kl_divergence(&q, &p), max)
        }
        _ => unreachable!("both sides are built from the same family"),
    })
}

macro_rules! delegate {
    ($self:ident, $ratio:ident => $call:expr) => {
        match $self {
            Pair::Normal($ratio) => $call,
            Pair::Laplace($ratio) => $call,
        }
    };
}

impl DensityRatio for Pair {
    fn log_max_ratio(&self) -> f64 {
        delegate!(self, r => r.log_max_ratio())
    }
    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        delegate!(self, r => r.deficit(x))
    }
    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        delegate!(self, r => r.superlevel_masses(deficit))
    }
    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        delegate!(self, r => r.proposal_mass_outside(deficit))
    }
    fn gap_exponent(&self) -> f64 {
        delegate!(self, r => r.gap_exponent())
    }
    fn mode(&self) -> f64 {
        delegate!(self, r => r.mode())
    }
}

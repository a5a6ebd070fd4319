//! A (target, proposal) pair of one of the supported family combinations.
//!
//! [`Pair`] and [`Proposal`] dispatch to the concrete ratio and distribution so that the batch
//! driver and the samplers (generic over [`DensityRatio`] and [`CodingDistribution`]) handle every
//! family with one code path. Supported (target/proposal): Normal/Normal, Laplace/Laplace,
//! Uniform/Uniform, Uniform/Normal and Uniform/Laplace. A Normal or Laplace target on a
//! Uniform proposal is a recognised combination whose ratio is always unbounded; Normal and
//! Laplace do not mix.

use crate::distribution::{CodingDistribution, Family, Laplace, Normal, TailInterval, TailPoint, Uniform};
use crate::divergence::{
    laplace_kl_divergence, laplace_max_divergence, normal_kl_divergence, normal_max_divergence,
    uniform_kl_divergence, uniform_on_symmetric_divergences,
};
use crate::error::{Number, RecError, Result};
use crate::ratio::{
    DensityRatio, LaplaceRatio, NormalRatio, SuperlevelMasses, SupportFloor, UniformRatio, UniformTargetRatio,
};

/// A coding distribution of one of the families.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Proposal {
    /// Normal(loc, scale).
    Normal(Normal),
    /// Laplace(loc, scale).
    Laplace(Laplace),
    /// Uniform(low, high).
    Uniform(Uniform),
}

impl Proposal {
    /// Validates the two parameters of `family`: (loc, scale), or (low, high) for Uniform.
    pub fn new(family: Family, first: f64, second: f64) -> Result<Proposal> {
        Ok(match family {
            Family::Normal => Proposal::Normal(Normal::new(first, second)?),
            Family::Laplace => Proposal::Laplace(Laplace::new(first, second)?),
            Family::Uniform => Proposal::Uniform(Uniform::new(first, second)?),
        })
    }

    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Proposal::Normal(_) => Family::Normal,
            Proposal::Laplace(_) => Family::Laplace,
            Proposal::Uniform(_) => Family::Uniform,
        }
    }
}

/// Whether a (target family, proposal family) combination is recognised: the five supported
/// pairs and the always-unbounded Normal or Laplace target on a Uniform proposal. Containers
/// naming any other combination are corrupt.
pub fn is_known_combination(target: Family, proposal: Family) -> bool {
    target == proposal || target == Family::Uniform || proposal == Family::Uniform
}

/// Whether pairs of these families can be encoded (some of their parameters give a bounded
/// ratio): the same family on both sides, or a Uniform target on a Normal or Laplace proposal.
pub fn is_codable_combination(target: Family, proposal: Family) -> bool {
    target == proposal || (target == Family::Uniform && proposal != Family::Uniform)
}

fn unsupported_combination(target: Family, proposal: Family) -> RecError {
    RecError::UnsupportedMethod(format!(
        "a {} target with a {} coding distribution is not supported; supported pairs \
         (target/proposal): Normal/Normal, Laplace/Laplace, Uniform/Uniform, Uniform/Normal, \
         Uniform/Laplace",
        target.name(),
        proposal.name()
    ))
}

impl CodingDistribution for Proposal {
    #[inline]
    fn quantile(&self, point: TailPoint) -> f64 {
        match self {
            Proposal::Normal(d) => d.quantile(point),
            Proposal::Laplace(d) => d.quantile(point),
            Proposal::Uniform(d) => d.quantile(point),
        }
    }

    #[inline]
    fn tail_point(&self, x: f64) -> TailPoint {
        match self {
            Proposal::Normal(d) => d.tail_point(x),
            Proposal::Laplace(d) => d.tail_point(x),
            Proposal::Uniform(d) => d.tail_point(x),
        }
    }

    fn support(&self) -> (f64, f64) {
        match self {
            Proposal::Normal(d) => d.support(),
            Proposal::Laplace(d) => d.support(),
            Proposal::Uniform(d) => d.support(),
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
    /// Uniform target, Uniform proposal.
    Uniform(UniformRatio),
    /// Uniform target, Normal proposal.
    UniformOnNormal(UniformTargetRatio<Normal>),
    /// Uniform target, Laplace proposal.
    UniformOnLaplace(UniformTargetRatio<Laplace>),
}

/// Validates both sides of a pair: (target, proposal).
fn validate(target: (Family, f64, f64), proposal: (Family, f64, f64)) -> Result<(Proposal, Proposal)> {
    if !is_known_combination(target.0, proposal.0) {
        return Err(unsupported_combination(target.0, proposal.0));
    }
    let q = Proposal::new(target.0, target.1, target.2).map_err(|e| with_role("target", e))?;
    let p = Proposal::new(proposal.0, proposal.1, proposal.2).map_err(|e| with_role("proposal", e))?;
    Ok((q, p))
}

impl Pair {
    /// Validates both distributions — each given as (family, first parameter, second
    /// parameter) — that the combination is supported and that the ratio is bounded.
    pub fn new(target: (Family, f64, f64), proposal: (Family, f64, f64)) -> Result<Pair> {
        Ok(match validate(target, proposal)? {
            (Proposal::Normal(q), Proposal::Normal(p)) => Pair::Normal(NormalRatio::new(q, p)?),
            (Proposal::Laplace(q), Proposal::Laplace(p)) => Pair::Laplace(LaplaceRatio::new(q, p)?),
            (Proposal::Uniform(q), Proposal::Uniform(p)) => Pair::Uniform(UniformRatio::new(q, p)?),
            (Proposal::Uniform(q), Proposal::Normal(p)) => Pair::UniformOnNormal(UniformTargetRatio::new(q, p)?),
            (Proposal::Uniform(q), Proposal::Laplace(p)) => Pair::UniformOnLaplace(UniformTargetRatio::new(q, p)?),
            (q, Proposal::Uniform(p)) => {
                return Err(RecError::UnboundedRatio(format!(
                    "a {} target has unbounded support but the Uniform({}, {}) coding distribution \
                     does not, so dQ/dP is unbounded; use a Normal or Laplace proposal",
                    q.family().name(),
                    Number(p.low),
                    Number(p.high)
                )))
            }
            (q, p) => return Err(unsupported_combination(q.family(), p.family())),
        })
    }

    /// The target, as a distribution of its family.
    pub fn target(&self) -> Proposal {
        match self {
            Pair::Normal(r) => Proposal::Normal(r.target),
            Pair::Laplace(r) => Proposal::Laplace(r.target),
            Pair::Uniform(r) => Proposal::Uniform(r.target),
            Pair::UniformOnNormal(r) => Proposal::Uniform(r.target),
            Pair::UniformOnLaplace(r) => Proposal::Uniform(r.target),
        }
    }

    /// The coding distribution.
    pub fn proposal(&self) -> Proposal {
        match self {
            Pair::Normal(r) => Proposal::Normal(r.proposal),
            Pair::Laplace(r) => Proposal::Laplace(r.proposal),
            Pair::Uniform(r) => Proposal::Uniform(r.proposal),
            Pair::UniformOnNormal(r) => Proposal::Normal(r.proposal),
            Pair::UniformOnLaplace(r) => Proposal::Laplace(r.proposal),
        }
    }
}

/// KL and D∞ in bits of a pair, for any parameters of a recognised combination (D∞ is +∞
/// for unbounded ratios, KL too when Q puts mass where P has none).
pub fn divergences(target: (Family, f64, f64), proposal: (Family, f64, f64)) -> Result<(f64, f64)> {
    Ok(match validate(target, proposal)? {
        (Proposal::Normal(q), Proposal::Normal(p)) => (normal_kl_divergence(&q, &p), normal_max_divergence(&q, &p)),
        (Proposal::Laplace(q), Proposal::Laplace(p)) => (laplace_kl_divergence(&q, &p), laplace_max_divergence(&q, &p)),
        (Proposal::Uniform(q), Proposal::Uniform(p)) => {
            let value = uniform_kl_divergence(&q, &p);
            (value, value)
        }
        (Proposal::Uniform(q), Proposal::Normal(p)) => uniform_on_symmetric_divergences(&q, &p),
        (Proposal::Uniform(q), Proposal::Laplace(p)) => uniform_on_symmetric_divergences(&q, &p),
        (_, Proposal::Uniform(_)) => (f64::INFINITY, f64::INFINITY),
        (q, p) => return Err(unsupported_combination(q.family(), p.family())),
    })
}

macro_rules! delegate {
    ($self:ident, $ratio:ident => $call:expr) => {
        match $self {
            Pair::Normal($ratio) => $call,
            Pair::Laplace($ratio) => $call,
            Pair::Uniform($ratio) => $call,
            Pair::UniformOnNormal($ratio) => $call,
            Pair::UniformOnLaplace($ratio) => $call,
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
    fn support_floor(&self) -> Option<SupportFloor> {
        delegate!(self, r => r.support_floor())
    }
    fn deficit_window(&self, deficit: f64) -> Option<TailInterval> {
        delegate!(self, r => r.deficit_window(deficit))
    }
    fn non_unimodal_reason(&self) -> Option<String> {
        delegate!(self, r => r.non_unimodal_reason())
    }
}

//! Channel-simulation samplers: one file per method.
//!
//! Every sampler is a pair of functions: an encoder that runs the search for one element on
//! its [`ElementStream`](crate::random::ElementStream) and returns the sample, the number of
//! arrivals it examined and the integer it sends; and a decoder that rebuilds the sample from
//! that integer and the same stream, without ever evaluating the target or σ.

pub mod astar_branch;
pub mod gprs;
pub mod gprs_branch;
pub mod gprs_dyadic;
pub mod gprs_parallel;
pub mod pfr;
pub mod tree;

use crate::error::{RecError, Result};
use crate::ratio::DensityRatio;

/// The channel-simulation methods, with the names the Python API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `"gprs"`: global greedy Poisson rejection sampling; sends the arrival index n.
    Gprs,
    /// `"gprs-bb"`: branch-and-bound GPRS splitting on the sample; sends the heap index H.
    GprsBranch,
    /// `"pfr"`: the Poisson functional representation (global A* coding); sends argmin index K.
    Pfr,
    /// `"gprs-parallel"`: J processes of rate 1/J; sends (process, arrival index).
    GprsParallel,
    /// `"gprs-dyadic"`: best-first branch-and-bound over P-median splits; sends the heap index.
    GprsDyadic,
    /// `"astar-bb"`: A* coding with branch-and-bound split on the sample; sends the heap index.
    AstarBranch,
}

impl Method {
    /// Every method, in stream-id order.
    pub const ALL: [Method; 6] = [
        Method::Gprs,
        Method::GprsBranch,
        Method::Pfr,
        Method::GprsParallel,
        Method::GprsDyadic,
        Method::AstarBranch,
    ];

    /// The user-facing name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Gprs => "gprs",
            Method::GprsBranch => "gprs-bb",
            Method::Pfr => "pfr",
            Method::GprsParallel => "gprs-parallel",
            Method::GprsDyadic => "gprs-dyadic",
            Method::AstarBranch => "astar-bb",
        }
    }

    /// The id stored in the container.
    pub fn id(self) -> u8 {
        match self {
            Method::Gprs => 1,
            Method::GprsBranch => 2,
            Method::Pfr => 3,
            Method::GprsParallel => 4,
            Method::GprsDyadic => 5,
            Method::AstarBranch => 6,
        }
    }

    /// Parses a user-facing name.
    pub fn from_name(name: &str) -> Result<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            let known: Vec<_> = Method::ALL.iter().map(|m| format!("\"{}\"", m.name())).collect();
            RecError::UnsupportedMethod(format!(
                "unknown method \"{name}\"; available methods are {}",
                known.join(", ")
            ))
        })
    }

    /// Parses a stream id.
    pub fn from_id(id: u8) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.id() == id)
    }

    /// The default step bound of one element's search.
    pub fn default_max_steps(self) -> u64 {
        match self {
            Method::Gprs | Method::Pfr | Method::GprsParallel => gprs::DEFAULT_MAX_STEPS,
            Method::GprsBranch => gprs_branch::MAX_DEPTH as u64,
            Method::GprsDyadic => gprs_dyadic::DEFAULT_MAX_STEPS,
            Method::AstarBranch => astar_branch::DEFAULT_MAX_STEPS,
        }
    }
}

/// What the encoder of one element produces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encoded {
    /// The sample the decoder will reconstruct, distributed exactly as Q.
    pub sample: f64,
    /// Arrivals examined by the search (the runtime measure).
    pub steps: u64,
    /// The integer sent: the arrival index n (global) or the heap index H (branch-and-bound).
    pub index: u128,
}

/// Fails with [`RecError::UnsupportedMethod`] unless the ratio is unimodal, which the
/// branch-and-bound samplers need to discard the far side of a rejected sample.
pub(crate) fn require_unimodal<R: DensityRatio + ?Sized>(ratio: &R, method: Method) -> Result<()> {
    match ratio.non_unimodal_reason() {
        None => Ok(()),
        Some(reason) => Err(RecError::UnsupportedMethod(format!(
            "method \"{}\" needs a unimodal density ratio, but {reason}; use method=\"gprs\" \
             (or \"pfr\", \"gprs-parallel\"), which handles any bounded ratio",
            method.name()
        ))),
    }
}

/// What to do when a global search (GPRS, PFR, parallel GPRS) hits `max_steps`: raise it, or
/// switch to branch-and-bound where the ratio allows it.
pub(crate) fn global_search_advice<R: DensityRatio + ?Sized>(ratio: &R) -> &'static str {
    if ratio.non_unimodal_reason().is_none() {
        "raise max_steps or use method=\"gprs-bb\""
    } else {
        "raise max_steps (the ratio is not unimodal, so the branch-and-bound methods do not apply)"
    }
}

//! Channel-simulation samplers: one file per method.
//!
//! Every sampler is a pair of functions: an encoder that runs the search for one element on
//! its [`ElementStream`](crate::random::ElementStream) and returns the sample, the number of
//! arrivals it examined and the [`Message`] it sends; and a decoder that rebuilds the sample
//! from that message and the same stream, without ever evaluating the target or σ. The
//! registry [`crate::method`] ties each method's pair to its message code.

pub mod astar_branch;
pub mod gprs;
pub mod gprs_branch;
pub mod gprs_dyadic;
pub mod gprs_parallel;
pub mod pfr;
pub mod trace;
pub mod tree;

use crate::error::{RecError, Result};
use crate::message::Message;
use crate::ratio::DensityRatio;

pub use crate::method::Method;

/// What the encoder of one element produces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encoded {
    /// The sample the decoder will reconstruct, distributed exactly as Q.
    pub sample: f64,
    /// Arrivals examined by the search (the runtime measure).
    pub steps: u64,
    /// What the element sends.
    pub message: Message,
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

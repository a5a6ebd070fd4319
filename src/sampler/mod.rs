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

use std::cmp::Ordering;

use crate::distribution::TailInterval;
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

/// A pending node of a tree search over intervals (dyadic GPRS, A* coding): the first arrival
/// of the process in `interval` after its parent's, at `time`, with x at the interval's ends
/// (±∞ at the ends of the line) for bounding the ratio inside it.
pub(crate) struct SearchNode {
    pub time: f64,
    pub heap_index: u128,
    pub interval: TailInterval,
    pub left_x: f64,
    pub right_x: f64,
}

impl SearchNode {
    /// The root: the whole line at the first arrival `time`.
    pub fn root(time: f64) -> Self {
        SearchNode {
            time,
            heap_index: 1,
            interval: TailInterval::WHOLE_LINE,
            left_x: f64::NEG_INFINITY,
            right_x: f64::INFINITY,
        }
    }

    /// The heap entry of this node with priority `key` (ties broken by heap index).
    pub fn queued(self, key: f64) -> Earliest<SearchNode> {
        Earliest { key, tie: self.heap_index, item: self }
    }
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

/// The smallest deficit of a unimodal ratio on (left_x, right_x): 0 when the interval holds the
/// mode, else the deficit at the end nearest to it (the largest ratio in the interval).
pub(crate) fn smallest_deficit<R: DensityRatio + ?Sized>(ratio: &R, left_x: f64, right_x: f64) -> f64 {
    let mode = ratio.mode();
    if left_x < mode && mode < right_x {
        0.0
    } else {
        ratio.deficit(left_x).min(ratio.deficit(right_x))
    }
}

/// An entry of a min-heap (`std::collections::BinaryHeap` is a max-heap): ordered so that the
/// smallest `key` pops first, ties broken by the smaller `tie` (a process or heap index), which
/// keeps the search order — and so the result — deterministic.
pub(crate) struct Earliest<T> {
    pub key: f64,
    pub tie: u128,
    pub item: T,
}

impl<T> PartialEq for Earliest<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Earliest<T> {}
impl<T> PartialOrd for Earliest<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Earliest<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.total_cmp(&self.key).then(other.tie.cmp(&self.tie))
    }
}

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

use std::cmp::Ordering;

use crate::distribution::TailInterval;
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

//! Branch-and-bound GPRS with dyadic splits (Flamich 2023, general branch-and-bound variant).
//!
//! A best-first search over a binary tree of intervals. Node H (heap index; the root is 1 and
//! the children of H are 2H, the lower P-half, and 2H + 1, the upper P-half) covers an interval
//! B_H obtained by halving the P-mass of its parent, so B_H is a function of H alone. Each node
//! carries the first arrival of the Poisson process in B_H after its parent's arrival:
//! T_H = T_parent + E_H / P(B_H) and X_H ~ P restricted to B_H. Popping nodes in time order
//! visits the arrivals of the process in time order; the first one under the stretched graph,
//! r(X) ≥ σ⁻¹(T), is accepted, so X is exactly Q-distributed. A child C is only pushed if the
//! largest ratio in it, sup_C r (r* when C contains the mode, else r at its end nearest the
//! mode), can still reach σ⁻¹(T_C): every arrival of C's subtree comes later and no higher.
//!
//! Each node draws from its own stream [`ElementStream::for_node`] (first u64: its time,
//! second: its location), so the decoder rebuilds B_H by halving and makes one draw: decoding
//! costs the depth of H in halvings plus one quantile. The code of H is its Elias delta code.

use std::collections::BinaryHeap;

use super::{require_unimodal, Method};
use super::{smallest_deficit, Encoded, SearchNode};
use crate::distribution::{CodingDistribution, TailInterval, TailPoint};
use crate::error::{RecError, Result};
use crate::poisson::NodeArrivals;
use crate::ratio::DensityRatio;
use crate::stretch::StretchSearch;

/// The deepest node: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = 127;
/// Default bound on the nodes one element's search may examine (2¹⁶).
pub const DEFAULT_MAX_STEPS: u64 = 1 << 16;

/// The location of an interval end (the ends of the line are ±∞).
fn end_location<D: CodingDistribution + ?Sized>(proposal: &D, point: TailPoint) -> f64 {
    match point {
        TailPoint::Lower(0.0) => f64::NEG_INFINITY,
        TailPoint::Upper(0.0) => f64::INFINITY,
        other => proposal.quantile(other),
    }
}

/// The interval of node `heap_index`: its root-to-node path of P-mass halvings.
pub fn node_interval(heap_index: u128) -> Result<TailInterval> {
    let depth = 128 - heap_index.leading_zeros();
    let mut interval = TailInterval::WHOLE_LINE;
    for level in (0..depth.saturating_sub(1)).rev() {
        let middle = interval.midpoint(interval.mass())?;
        if (heap_index >> level) & 1 == 1 {
            interval.left = middle;
        } else {
            interval.right = middle;
        }
    }
    Ok(interval)
}

/// Encodes one element; at most `max_steps` nodes are examined.
pub fn encode<R, D>(ratio: &R, proposal: &D, seed: u64, stream_index: u64, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    require_unimodal(ratio, Method::GprsDyadic)?;
    let mut search = StretchSearch::new(ratio);
    let arrivals = NodeArrivals::new(seed, stream_index);
    let mut queue = BinaryHeap::new();
    let root_time = arrivals.first_time(1, 0.0, &TailInterval::WHOLE_LINE);
    queue.push(SearchNode::root(root_time).queued(root_time));
    for step in 1..=max_steps {
        // The subtree holding the mode is never pruned (sup r = r* > σ⁻¹(t)), so the queue
        // cannot run empty before an acceptance.
        let node = queue.pop().ok_or_else(|| RecError::SearchLimit("the dyadic search ran out of nodes".into()))?.item;
        // A node below the deepest level is only an error once the search actually needs it.
        if node.heap_index >> MAX_DEPTH != 0 {
            return Err(RecError::SearchLimit(format!(
                "the dyadic search reached its depth bound of {MAX_DEPTH} levels"
            )));
        }
        let sample = proposal.quantile(arrivals.point_in(node.heap_index, &node.interval)?);
        if search.accepts(node.time, ratio.deficit(sample))? {
            return Ok(Encoded { sample, steps: step, index: node.heap_index });
        }
        let middle = node.interval.midpoint(node.interval.mass())?;
        let middle_x = end_location(proposal, middle);
        let children = [
            (TailInterval { left: node.interval.left, right: middle }, node.left_x, middle_x, 2 * node.heap_index),
            (TailInterval { left: middle, right: node.interval.right }, middle_x, node.right_x, 2 * node.heap_index + 1),
        ];
        for (interval, left_x, right_x, heap_index) in children {
            let best_deficit = smallest_deficit(ratio, left_x, right_x);
            let time = arrivals.first_time(heap_index, node.time, &interval);
            if !search.would_accept(time, best_deficit)? {
                continue;
            }
            queue.push(SearchNode { time, heap_index, interval, left_x, right_x }.queued(time));
        }
    }
    Err(RecError::SearchLimit(format!(
        "dyadic GPRS examined max_steps = {max_steps} nodes without accepting"
    )))
}

/// Decodes one element from its heap index H ≥ 1.
pub fn decode<D>(proposal: &D, seed: u64, stream_index: u64, heap_index: u128) -> Result<f64>
where
    D: CodingDistribution + ?Sized,
{
    if heap_index == 0 || heap_index >> MAX_DEPTH != 0 {
        return Err(RecError::CorruptStream(format!("heap index {heap_index} is out of range")));
    }
    let interval = node_interval(heap_index)?;
    Ok(proposal.quantile(NodeArrivals::new(seed, stream_index).point_in(heap_index, &interval)?))
}

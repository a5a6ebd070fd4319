//! A* coding with branch-and-bound, splitting on the sample (AS*; Flamich, Markou &
//! Hernández-Lobato 2022), for 1-D unimodal ratios.
//!
//! The same tree of arrivals as branch-and-bound GPRS: node H (root 1) carries the first
//! arrival of the Poisson process in its interval B_H after its parent's, T_H = T_parent +
//! E_H/P(B_H), X_H ~ P restricted to B_H; B_H is split at X_H into the children 2H (left part)
//! and 2H + 1 (right part). A* looks for the arrival with the smallest score T/r(X) — the
//! Poisson functional representation, so the winner is exactly Q-distributed — visiting nodes
//! in order of their lower bound T_H / sup_{B_H} r and stopping once that bound reaches the best
//! score found. Unlike GPRS it cannot stop at the first good arrival, so it examines more nodes.
//! Scores are compared in logs: ln T − ln r* + d(X); bounds use the smallest deficit in B_H.
//!
//! Each node draws from its own stream [`ElementStream::for_node`] (time, then location); the
//! decoder replays the split points along H's path, one draw per level.

use std::collections::BinaryHeap;

use super::{require_unimodal, Method};
use super::{gprs_branch, smallest_deficit, Earliest, Encoded, SearchNode};
use crate::distribution::{CodingDistribution, TailInterval};
use crate::error::{RecError, Result};
use crate::poisson::NodeArrivals;
use crate::random::UnitDraw;
use crate::ratio::DensityRatio;

/// The deepest node: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = 127;
/// Default bound on the nodes one element's search may examine (2¹⁶).
pub const DEFAULT_MAX_STEPS: u64 = 1 << 16;

/// Encodes one element; at most `max_steps` nodes are examined.
pub fn encode<R, D>(ratio: &R, proposal: &D, seed: u64, stream_index: u64, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    require_unimodal(ratio, Method::AstarBranch)?;
    let log_max_ratio = ratio.log_max_ratio();
    let arrivals = NodeArrivals::new(seed, stream_index);
    let mut queue = BinaryHeap::new();
    let root_time = arrivals.first_time(1, 0.0, &TailInterval::WHOLE_LINE);
    // Queue keys are lower bounds ln T − ln r* + inf_B d on the log score of every arrival in
    // the node's subtree.
    queue.push(SearchNode::root(root_time).queued(libm::log(root_time) - log_max_ratio));
    // (log score, sample, heap index) of the best arrival so far.
    let mut best: Option<(f64, f64, u128)> = None;
    let mut step = 0u64;
    while let Some(Earliest { key: bound, item: node, .. }) = queue.pop() {
        if let Some((score, sample, heap_index)) = best {
            if bound >= score {
                return Ok(Encoded { sample, steps: step, index: heap_index });
            }
        }
        // A node below the deepest level is only an error once the search actually needs it.
        if node.heap_index >> MAX_DEPTH != 0 {
            return Err(RecError::SearchLimit(format!("A* coding reached its depth bound of {MAX_DEPTH} levels")));
        }
        step += 1;
        if step > max_steps {
            return Err(RecError::SearchLimit(format!(
                "A* coding examined max_steps = {max_steps} nodes without proving its best arrival"
            )));
        }
        let point = arrivals.point_in(node.heap_index, &node.interval)?;
        let sample = proposal.quantile(point);
        let score = libm::log(node.time) - log_max_ratio + ratio.deficit(sample);
        if best.is_none_or(|(best_score, _, _)| score < best_score) {
            best = Some((score, sample, node.heap_index));
        }
        let best_score = best.expect("set above").0;
        let children = [
            (TailInterval { left: node.interval.left, right: point }, node.left_x, sample, 2 * node.heap_index),
            (TailInterval { left: point, right: node.interval.right }, sample, node.right_x, 2 * node.heap_index + 1),
        ];
        for (interval, left_x, right_x, heap_index) in children {
            let time = arrivals.first_time(heap_index, node.time, &interval);
            let bound = libm::log(time) - log_max_ratio + smallest_deficit(ratio, left_x, right_x);
            if bound >= best_score {
                continue;
            }
            queue.push(SearchNode { time, heap_index, interval, left_x, right_x }.queued(bound));
        }
    }
    let (_, sample, heap_index) = best.expect("the root is always examined");
    Ok(Encoded { sample, steps: step, index: heap_index })
}

/// The location draw of node `heap_index` (its second u64).
pub fn node_location(seed: u64, stream_index: u64, heap_index: u128) -> UnitDraw {
    NodeArrivals::new(seed, stream_index).location(heap_index)
}

/// Decodes one element from its heap index H ≥ 1 by replaying the split points along its path.
pub fn decode<D>(proposal: &D, seed: u64, stream_index: u64, heap_index: u128) -> Result<f64>
where
    D: CodingDistribution + ?Sized,
{
    if heap_index == 0 || heap_index >> MAX_DEPTH != 0 {
        return Err(RecError::CorruptStream(format!("heap index {heap_index} is out of range")));
    }
    let arrivals = NodeArrivals::new(seed, stream_index);
    let interval = gprs_branch::replay_path(heap_index, |ancestor| arrivals.location(ancestor))?;
    Ok(proposal.quantile(arrivals.point_in(heap_index, &interval)?))
}

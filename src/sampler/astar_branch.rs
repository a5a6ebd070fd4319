//! A* coding with branch-and-bound, splitting on the sample (AS*; Flamich, Markou &
//! Hernández-Lobato 2022), for 1-D unimodal ratios.
//!
//! The same tree of arrivals as branch-and-bound GPRS ([`tree`]): node H (root 1)
//! carries the first arrival of the Poisson process in its interval B_H after its parent's,
//! T_H = T_parent + E_H/P(B_H), X_H ~ P restricted to B_H; B_H is split at X_H into the children
//! 2H (left part) and 2H + 1 (right part). A* looks for the arrival with the smallest score
//! T/r(X) — the Poisson functional representation, so the winner is exactly Q-distributed —
//! visiting nodes in order of their lower bound T_H / sup_{B_H} r and stopping once that bound
//! reaches the best score found. Unlike GPRS it cannot stop at the first good arrival, so it
//! examines more nodes. Scores are compared in logs: ln T − ln r* + d(X); bounds use the
//! smallest deficit in B_H.
//!
//! Each node draws from its own stream [`ElementStream::for_node`](crate::random::ElementStream::for_node)
//! (time, then location); the decoder replays the split points along H's path, one draw per
//! level.

use crate::message::Message;
use super::tree::{self, best_first, replay_path, smallest_deficit, BestFirst, SearchNode, Visit};
use super::{require_unimodal, Method};
use super::Encoded;
use crate::distribution::CodingDistribution;
use crate::error::{RecError, Result};
use crate::poisson::NodeArrivals;
use crate::ratio::DensityRatio;

/// The deepest node: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = tree::MAX_DEPTH;
/// Default bound on the nodes one element's search may examine (2¹⁶).
pub const DEFAULT_MAX_STEPS: u64 = 1 << 16;

/// The A* search: keyed by a lower bound on the log score of every arrival in a node's
/// subtree, ln T_H − ln r* + inf_{B_H} d; it stops once that bound reaches the best score.
struct AStar<'a, R: DensityRatio + ?Sized, D: ?Sized> {
    ratio: &'a R,
    proposal: &'a D,
    log_max_ratio: f64,
    max_steps: u64,
    /// (log score, sample, heap index) of the best arrival so far.
    best: Option<(f64, f64, u128)>,
}

impl<R: DensityRatio + ?Sized, D: CodingDistribution + ?Sized> BestFirst for AStar<'_, R, D> {
    type Found = Encoded;

    #[inline]
    fn settle(&mut self, smallest_key: Option<f64>, examined: u64) -> Option<Result<Encoded>> {
        // No queued subtree can beat the best arrival (or none is left): it is the argmin.
        let (score, sample, index) = self.best?;
        smallest_key
            .is_none_or(|bound| bound >= score)
            .then_some(Ok(Encoded { sample, steps: examined, message: Message::Node(index) }))
    }

    #[inline]
    fn examine(&mut self, node: &SearchNode, arrivals: &NodeArrivals, step: u64) -> Result<Visit<Encoded>> {
        if step > self.max_steps {
            return Err(RecError::SearchLimit(format!(
                "A* coding examined max_steps = {} nodes without proving its best arrival",
                self.max_steps
            )));
        }
        let point = arrivals.point_in(node.heap_index, &node.interval)?;
        let sample = self.proposal.quantile(point);
        let score = libm::log(node.time) - self.log_max_ratio + self.ratio.deficit(sample);
        if self.best.is_none_or(|(best_score, _, _)| score < best_score) {
            self.best = Some((score, sample, node.heap_index));
        }
        // Split on the sample: its own x bounds the ratio at the children's shared end.
        Ok(Visit::Split(point, sample))
    }

    #[inline]
    fn priority(&mut self, child: &SearchNode) -> Result<Option<f64>> {
        let best_score = self.best.map_or(f64::INFINITY, |(score, _, _)| score);
        let bound =
            libm::log(child.time) - self.log_max_ratio + smallest_deficit(self.ratio, child.left_x, child.right_x);
        Ok(if bound >= best_score { None } else { Some(bound) })
    }

    fn too_deep(&self) -> RecError {
        RecError::SearchLimit(format!("A* coding reached its depth bound of {MAX_DEPTH} levels"))
    }
}

/// Encodes one element; at most `max_steps` nodes are examined.
pub fn encode<R, D>(ratio: &R, proposal: &D, seed: u64, stream_index: u64, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    require_unimodal(ratio, Method::AstarBranch)?;
    let mut astar = AStar { ratio, proposal, log_max_ratio: ratio.log_max_ratio(), max_steps, best: None };
    best_first(&mut astar, NodeArrivals::new(seed, stream_index))
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
    let interval = replay_path(heap_index, |ancestor| arrivals.location(ancestor))?;
    Ok(proposal.quantile(arrivals.point_in(heap_index, &interval)?))
}

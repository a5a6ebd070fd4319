//! Branch-and-bound GPRS with dyadic splits (Flamich 2023, general branch-and-bound variant).
//!
//! A best-first search over the binary tree of intervals of [`tree`]. Node H covers
//! an interval B_H obtained by halving the P-mass of its parent (2H the lower P-half, 2H + 1
//! the upper), so B_H is a function of H alone. Each node carries the first arrival of the
//! Poisson process in B_H after its parent's arrival: T_H = T_parent + E_H / P(B_H) and
//! X_H ~ P restricted to B_H. Popping nodes in time order visits the arrivals of the process in
//! time order; the first one under the stretched graph, r(X) ≥ σ⁻¹(T), is accepted, so X is
//! exactly Q-distributed. A child C is only queued if the largest ratio in it, sup_C r (r* when
//! C contains the mode, else r at its end nearest the mode), can still reach σ⁻¹(T_C): every
//! arrival of C's subtree comes later and no higher.
//!
//! Each node draws from its own stream [`ElementStream::for_node`](crate::random::ElementStream::for_node)
//! (first u64: its time, second: its location), so the decoder rebuilds B_H by halving and
//! makes one draw: decoding costs the depth of H in halvings plus one quantile. H is coded by
//! [`DyadicPathCode`](crate::code::message_code::DyadicPathCode): its depth, then the path bits.

use crate::message::Message;
use super::tree::{self, best_first, smallest_deficit, BestFirst, SearchNode, Visit};
use super::{require_unimodal, Method};
use super::Encoded;
use crate::distribution::{CodingDistribution, TailInterval, TailPoint};
use crate::error::{RecError, Result};
use crate::poisson::NodeArrivals;
use crate::ratio::DensityRatio;
use crate::stretch::StretchSearch;

/// The deepest node: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = tree::MAX_DEPTH;
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
    tree::descend(heap_index, |_, interval| interval.midpoint(interval.mass()))
}

/// The dyadic search: keyed by arrival time, it accepts the first arrival under the graph.
struct Dyadic<'a, R: DensityRatio + ?Sized, D: ?Sized> {
    ratio: &'a R,
    proposal: &'a D,
    search: StretchSearch<'a, R>,
    max_steps: u64,
}

impl<R: DensityRatio + ?Sized, D: CodingDistribution + ?Sized> BestFirst for Dyadic<'_, R, D> {
    type Found = Encoded;

    fn settle(&mut self, smallest_key: Option<f64>, examined: u64) -> Option<Result<Encoded>> {
        if examined == self.max_steps {
            return Some(Err(RecError::SearchLimit(format!(
                "dyadic GPRS examined max_steps = {} nodes without accepting",
                self.max_steps
            ))));
        }
        // The subtree holding the mode is never pruned (sup r = r* > σ⁻¹(t)), so the queue
        // cannot run empty before an acceptance.
        smallest_key.is_none().then(|| Err(RecError::SearchLimit("the dyadic search ran out of nodes".into())))
    }

    fn examine(&mut self, node: &SearchNode, arrivals: &NodeArrivals, step: u64) -> Result<Visit<Encoded>> {
        let sample = self.proposal.quantile(arrivals.point_in(node.heap_index, &node.interval)?);
        if self.search.accepts(node.time, self.ratio.deficit(sample))? {
            return Ok(Visit::Done(Encoded { sample, steps: step, message: Message::Node(node.heap_index) }));
        }
        let middle = node.interval.midpoint(node.interval.mass())?;
        Ok(Visit::Split(middle, end_location(self.proposal, middle)))
    }

    fn priority(&mut self, child: &SearchNode) -> Result<Option<f64>> {
        // Times only grow down the tree, so the child's own time bounds its whole subtree.
        let best_deficit = smallest_deficit(self.ratio, child.left_x, child.right_x);
        Ok(self.search.would_accept(child.time, best_deficit)?.then_some(child.time))
    }

    fn too_deep(&self) -> RecError {
        RecError::SearchLimit(format!("the dyadic search reached its depth bound of {MAX_DEPTH} levels"))
    }
}

/// Encodes one element; at most `max_steps` nodes are examined.
pub fn encode<R, D>(ratio: &R, proposal: &D, seed: u64, stream_index: u64, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    require_unimodal(ratio, Method::GprsDyadic)?;
    let mut dyadic = Dyadic { ratio, proposal, search: StretchSearch::new(ratio), max_steps };
    best_first(&mut dyadic, NodeArrivals::new(seed, stream_index))
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

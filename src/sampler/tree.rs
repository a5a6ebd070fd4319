//! The binary tree of intervals that the branch-and-bound samplers search.
//!
//! Node H (heap index; the root is 1, the children of H are 2H and 2H + 1) covers an interval
//! B_H of the line, in tail coordinates of P. A node is split at a point s of B_H into the left
//! child 2H, B_H ∩ (−∞, s), and the right child 2H + 1, B_H ∩ (s, ∞): at its P-median (dyadic
//! GPRS) or at its own sample (branch-and-bound GPRS and A* coding, Flamich 2023; Flamich,
//! Markou & Hernández-Lobato 2022). The bits of H after its leading 1 are the path from the
//! root, so H must fit in 127 bits ([`MAX_DEPTH`]).
//!
//! Node H carries the first arrival of the Poisson process in B_H after its parent's arrival,
//! T_H = T_parent + E_H / P(B_H) and X_H ~ P restricted to B_H, drawn from its own stream
//! ([`NodeArrivals`]). The best-first searches (`best_first`) pop nodes from a min-heap in
//! the order of a key, examine each node's arrival and queue the children that may still hold
//! the answer; GPRS keys by time, A* by a lower bound on the score.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::distribution::{TailInterval, TailPoint};
use crate::error::{RecError, Result};
use crate::poisson::NodeArrivals;
use crate::random::UnitDraw;
use crate::ratio::DensityRatio;

/// The deepest node: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = crate::message::MAX_NODE_DEPTH;

/// The interval of node `heap_index`: from the whole line, each ancestor A of H (root first)
/// splits the interval at `split(A, interval)`, and H's next bit keeps the right part (1) or
/// the left part (0). H = 0 has no path and gives the whole line.
pub(crate) fn descend<F>(heap_index: u128, mut split: F) -> Result<TailInterval>
where
    F: FnMut(u128, &TailInterval) -> Result<TailPoint>,
{
    let depth = 128 - heap_index.leading_zeros();
    let mut interval = TailInterval::WHOLE_LINE;
    for level in (0..depth.saturating_sub(1)).rev() {
        let point = split(heap_index >> (level + 1), &interval)?;
        if (heap_index >> level) & 1 == 1 {
            interval.left = point;
        } else {
            interval.right = point;
        }
    }
    Ok(interval)
}

/// The interval a split-on-sample search reaches at node H: from the root, each ancestor's
/// location draw (`draw_of(ancestor heap index)`, called root first) splits the interval and
/// H's next bit keeps the right part (1) or the left part (0). Shared by the decoders of
/// branch-and-bound GPRS and A* coding, which never evaluate a quantile on the way.
pub fn replay_path<F: FnMut(u128) -> UnitDraw>(heap_index: u128, mut draw_of: F) -> Result<TailInterval> {
    descend(heap_index, |ancestor, interval| interval.point_at(draw_of(ancestor), interval.mass()))
}

/// A pending node of a tree search: the first arrival of the process in `interval` after its
/// parent's, at `time`, with x at the interval's ends (±∞ at the ends of the line) for bounding
/// the ratio inside it.
pub(crate) struct SearchNode {
    pub time: f64,
    pub heap_index: u128,
    pub interval: TailInterval,
    pub left_x: f64,
    pub right_x: f64,
}

impl SearchNode {
    /// The root: the whole line, at the process's first arrival.
    pub fn root(arrivals: &NodeArrivals) -> Self {
        SearchNode {
            time: arrivals.first_time(1, 0.0, &TailInterval::WHOLE_LINE),
            heap_index: 1,
            interval: TailInterval::WHOLE_LINE,
            left_x: f64::NEG_INFINITY,
            right_x: f64::INFINITY,
        }
    }

    /// The children 2H (left of `split`) and 2H + 1 (right of it), `split_x` being x at
    /// `split`, each at its first arrival after this node's.
    #[inline(always)]
    pub fn children(&self, split: TailPoint, split_x: f64, arrivals: &NodeArrivals) -> [SearchNode; 2] {
        let child = |heap_index, interval, left_x, right_x| SearchNode {
            time: arrivals.first_time(heap_index, self.time, &interval),
            heap_index,
            interval,
            left_x,
            right_x,
        };
        let TailInterval { left, right } = self.interval;
        [
            child(2 * self.heap_index, TailInterval { left, right: split }, self.left_x, split_x),
            child(2 * self.heap_index + 1, TailInterval { left: split, right }, split_x, self.right_x),
        ]
    }

    /// The heap entry of this node with priority `key` (ties broken by heap index).
    #[inline(always)]
    pub fn queued(self, key: f64) -> Earliest<SearchNode> {
        Earliest { key, tie: self.heap_index, item: self }
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

/// What a search does with a node it has examined.
pub(crate) enum Visit<T> {
    /// Stop with this result.
    Done(T),
    /// Split the node at this point, at this x, and queue the children worth searching.
    Split(TailPoint, f64),
}

/// The rules of one best-first search over the tree; [`best_first`] runs them.
pub(crate) trait BestFirst {
    /// What the search returns.
    type Found;
    /// Called before each pop with the smallest queued key (`None`: the queue is empty, which
    /// must end the search) and the number of nodes examined so far; `Some` ends the search.
    fn settle(&mut self, smallest_key: Option<f64>, examined: u64) -> Option<Result<Self::Found>>;
    /// Examines node number `step` (its arrival's location: `arrivals.point_in`).
    fn examine(&mut self, node: &SearchNode, arrivals: &NodeArrivals, step: u64) -> Result<Visit<Self::Found>>;
    /// The queue key of a child, or `None` to prune it: no arrival in its subtree can matter.
    fn priority(&mut self, child: &SearchNode) -> Result<Option<f64>>;
    /// The error for a search that needs a node below [`MAX_DEPTH`].
    fn too_deep(&self) -> RecError;
}

/// Runs a best-first search over the tree whose node arrivals are `arrivals`: pop the node of
/// smallest key, examine it, queue its children that `priority` keeps.
#[inline(always)]
pub(crate) fn best_first<S: BestFirst>(search: &mut S, arrivals: NodeArrivals) -> Result<S::Found> {
    let mut queue = BinaryHeap::new();
    // The root is examined first whatever its key, and never pruned.
    queue.push(SearchNode::root(&arrivals).queued(f64::NEG_INFINITY));
    let mut examined = 0;
    loop {
        let next = queue.pop();
        if let Some(end) = search.settle(next.as_ref().map(|entry| entry.key), examined) {
            return end;
        }
        let node = next.expect("settle ends a search whose queue is empty").item;
        // A node below the deepest level is only an error once the search actually needs it.
        if node.heap_index >> MAX_DEPTH != 0 {
            return Err(search.too_deep());
        }
        examined += 1;
        let (split, split_x) = match search.examine(&node, &arrivals, examined)? {
            Visit::Done(found) => return Ok(found),
            Visit::Split(split, split_x) => (split, split_x),
        };
        for child in node.children(split, split_x, &arrivals) {
            if let Some(key) = search.priority(&child)? {
                queue.push(child.queued(key));
            }
        }
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

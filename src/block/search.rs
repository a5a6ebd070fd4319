//! Exact block coding: A* coding over axis-aligned boxes (Flamich, Markou & Hernández-Lobato
//! 2022, in d dimensions), for a product target ∏ᵢ Qᵢ against ∏ᵢ Pᵢ.
//!
//! The search tree is that of the 1-D branch-and-bound samplers with boxes for intervals.
//! Node H (root 1) covers a box B_H = ∏ᵢ (aᵢ, bᵢ) in tail coordinates of the Pᵢ and carries
//! the first arrival of the Poisson process with spatial distribution P restricted to B_H
//! after its parent's: T_H = T_parent + E_H / P(B_H) with P(B_H) = ∏ᵢ Pᵢ(aᵢ, bᵢ), and
//! X_H ~ P restricted to B_H, one coordinate per axis. B_H is split on one axis k at X_H,k
//! into the children 2H (below) and 2H + 1 (above).
//!
//! * **Axis rule** (replayed by the decoder): k = argmaxᵢ wᵢ · Pᵢ(aᵢ, bᵢ), the axis whose
//!   interval has the largest P-mass times its weight (ties to the lowest position). With
//!   weights = expected KLs this splits informative axes first; with equal weights it splits
//!   the widest axis in P-mass.
//! * **Score** (PFR): ln T − ln r(X), r = ∏ rᵢ; the winner, the arrival of smallest score, is
//!   exactly ∏ Qᵢ-distributed. In deficits dᵢ = ln rᵢ* − ln rᵢ ≥ 0 the score is
//!   ln T − ln r* + Σᵢ dᵢ(Xᵢ).
//! * **Bound**: every arrival in H's subtree scores at least ln T_H − ln r* + Σᵢ inf_{B_H} dᵢ
//!   (separable; each infimum is 0 when the interval holds the axis's mode, else the deficit at
//!   the nearer end, for unimodal rᵢ). A* pops nodes by this bound and stops once it reaches
//!   the best score.
//!
//! **Draws.** Node H of block b draws from `ElementStream::for_node_of_key(block_key(seed, b),
//! H)`: first the u64 of its Exp(1) time, then one location draw per axis in block order.
//! Axis i of X_H is placed at the fraction uᵢ of the P-mass of (aᵢ, bᵢ) by the tail-coordinate
//! placement of the 1-D samplers. The decoder replays the path from the split draws alone
//! (one placement per level, no quantile) and evaluates the d quantiles of the winner.

use std::collections::BinaryHeap;

use crate::code::message_code::{PathSplits, SplitGeometry};
use crate::code::universal::{read_delta, write_delta};
use crate::code::{BitReader, BitWriter};
use crate::distribution::{CodingDistribution, TailInterval, TailPoint};
use crate::error::{corrupt, RecError, Result};
use crate::message::{ElementContext, Message, MAX_NODE_DEPTH};
use crate::pair::{Pair, Proposal};
use crate::random::{element_key, splitmix64, ElementStream, UnitDraw};
use crate::ratio::DensityRatio;
use crate::sampler::tree::{smallest_deficit, Earliest};

use super::layout::BlockLayout;

/// The smallest box P-mass a search may reach (far below any box a block of ≤ 64 dimensions
/// and KL ≤ 64 bits per dimension visits).
const MIN_BOX_MASS: f64 = 1e-290;

/// Default bound on the nodes one block's search may examine (2¹⁶).
pub const DEFAULT_MAX_STEPS: u64 = 1 << 16;

/// The key of block `block`'s node streams: `splitmix64(element_key(seed, block) ^ 0x424c_4f43_4b00_0000)`.
pub fn block_key(seed: u64, block: u64) -> u64 {
    splitmix64(element_key(seed, block) ^ 0x424c_4f43_4b00_0000)
}

/// The location draw of axis `axis` of node `heap_index` (after its time draw).
#[inline]
fn axis_draw(key: u64, heap_index: u128, axis: usize) -> UnitDraw {
    let mut stream = ElementStream::for_node_of_key(key, heap_index);
    for _ in 0..=axis {
        stream.next_u64();
    }
    stream.next_unit()
}

/// The axis to split: argmaxᵢ wᵢ · Pᵢ(box axis i), the lowest position on ties.
#[inline]
fn split_axis(intervals: &[TailInterval], weights: &[f64]) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, (interval, &w)) in intervals.iter().zip(weights).enumerate() {
        let score = w * interval.mass();
        if score > best.1 {
            best = (i, score);
        }
    }
    best.0
}

/// One block's split draws along a path: replays the box level by level.
pub struct BoxSplits<'a> {
    key: u64,
    weights: &'a [f64],
    intervals: Vec<TailInterval>,
    axis: usize,
    point: TailPoint,
}

impl<'a> BoxSplits<'a> {
    /// The root box of a block with node-stream key `key` and axis weights `weights`.
    pub fn new(key: u64, weights: &'a [f64]) -> Self {
        BoxSplits {
            key,
            weights,
            intervals: vec![TailInterval::WHOLE_LINE; weights.len()],
            axis: 0,
            point: TailPoint::MINUS_INFINITY,
        }
    }

    /// The box of node `heap_index` (depth ≥ 1): replays its path from the root.
    pub fn replay(mut self, heap_index: u128) -> Result<Vec<TailInterval>> {
        let depth = 128 - heap_index.leading_zeros();
        for level in (0..depth.saturating_sub(1)).rev() {
            self.split_draw(heap_index >> (level + 1))?;
            self.descend((heap_index >> level) & 1 == 1)?;
        }
        Ok(self.intervals)
    }
}

impl PathSplits for BoxSplits<'_> {
    #[inline]
    fn split_draw(&mut self, prefix: u128) -> Result<UnitDraw> {
        self.axis = split_axis(&self.intervals, self.weights);
        let draw = axis_draw(self.key, prefix, self.axis);
        let interval = &self.intervals[self.axis];
        self.point = interval.point_at(draw, interval.mass())?;
        Ok(draw)
    }

    #[inline]
    fn descend(&mut self, bit: bool) -> Result<()> {
        let interval = &mut self.intervals[self.axis];
        if bit {
            interval.left = self.point;
        } else {
            interval.right = self.point;
        }
        Ok(())
    }
}

/// The split geometry of a block stream for the split-path code: element = block, with the
/// layout's axis weights and the block's budget K_b as model parameter; stop buckets count the
/// P-mass halvings relative to K_b: bucket = clamp(halvings + 24 − round(K_b), 0, 63).
pub struct BlockPaths<'a> {
    /// The layout of the stream.
    pub layout: &'a BlockLayout,
    /// The stream's seed.
    pub seed: u64,
}

/// Where a block's stop buckets start relative to its budget.
const BUCKET_OFFSET: i64 = 24;

impl<'a> SplitGeometry for BlockPaths<'a> {
    type Splits = BoxSplits<'a>;

    fn splits(&self, context: &ElementContext) -> Result<BoxSplits<'a>> {
        let block = context.stream_index;
        if block >= self.layout.num_blocks() as u64 {
            return Err(corrupt!("block {block} is not in the layout"));
        }
        Ok(BoxSplits::new(block_key(self.seed, block), self.layout.block_weights(block as usize)))
    }

    #[inline]
    fn bucket(&self, halvings: u32, context: &ElementContext) -> u32 {
        let budget = context.model_parameter.unwrap_or(0.0).round().clamp(0.0, 1e6) as i64;
        (halvings as i64 + BUCKET_OFFSET - budget).clamp(0, 63) as u32
    }

    /// Universal form: the Elias delta code of the depth, then the path bits raw.
    fn write_universal(&self, writer: &mut BitWriter, heap_index: u128, _: &ElementContext) {
        let depth = 128 - heap_index.leading_zeros();
        write_delta(writer, depth as u128);
        writer.write_bits(heap_index, depth - 1);
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, _: &ElementContext) -> Result<Message> {
        let depth = read_delta(reader, 7)? as u32;
        if depth > MAX_NODE_DEPTH {
            return Err(corrupt!("search depth {depth} exceeds {MAX_NODE_DEPTH}"));
        }
        let path = reader.read_bits(depth - 1).ok_or_else(|| corrupt!("the payload ends inside a search path"))?;
        Ok(Message::Node((1u128 << (depth - 1)) | path))
    }
}

/// What the exact encoder of one block produces.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockEncoded {
    /// The sample, one value per dimension of the block (in block order).
    pub samples: Vec<f64>,
    /// Nodes examined.
    pub steps: u64,
    /// The heap index of the winning node.
    pub message: Message,
}

/// One axis of a pending node's box.
#[derive(Clone, Copy)]
struct Axis {
    interval: TailInterval,
    left_x: f64,
    right_x: f64,
    /// inf over the interval of the axis's deficit.
    deficit: f64,
}

/// A pending node; its box is `boxes[start .. start + d]` of the search's arena.
struct Node {
    heap_index: u128,
    time: f64,
    log_time: f64,
    /// P(box), a product of fractions: it stays far above underflow for any box a search of
    /// at most 127 levels of splits at draws ≥ 2⁻⁵³ of the P-mass can reach in practice, and
    /// [`encode_block`] checks it.
    mass: f64,
    bound_deficit: f64,
    start: usize,
}

/// Encodes one block: `pairs`, `weights` and `dimensions` (their indices, which errors name)
/// per dimension in block order, node streams keyed by `key`; at most `max_steps` nodes are
/// examined.
pub fn encode_block(pairs: &[Pair], weights: &[f64], dimensions: &[u64], key: u64, max_steps: u64) -> Result<BlockEncoded> {
    let d = pairs.len();
    // The box bound needs each axis's ratio to fall away from one mode.
    for (i, pair) in pairs.iter().enumerate() {
        if let Some(reason) = pair.non_unimodal_reason() {
            return Err(RecError::UnsupportedMethod(format!(
                "dimension {}: the exact block method needs a unimodal density ratio, but {reason}; \
                 use method=\"budget\" or a proposal whose mode is outside the target's support",
                dimensions[i]
            )));
        }
    }
    let proposals: Vec<Proposal> = pairs.iter().map(Pair::proposal).collect();
    let log_max_ratio: f64 = pairs.iter().map(|p| p.log_max_ratio()).sum();
    let mut arena: Vec<Axis> = pairs
        .iter()
        .map(|_| Axis {
            interval: TailInterval::WHOLE_LINE,
            left_x: f64::NEG_INFINITY,
            right_x: f64::INFINITY,
            deficit: 0.0,
        })
        .collect();
    let root_time = ElementStream::for_node_of_key(key, 1).next_unit().exponential();
    let mut nodes = vec![Node {
        heap_index: 1,
        time: root_time,
        log_time: libm::log(root_time),
        mass: 1.0,
        bound_deficit: 0.0,
        start: 0,
    }];
    let mut heap = BinaryHeap::new();
    heap.push(Earliest { key: f64::NEG_INFINITY, tie: 1, item: 0usize });
    let mut best: Option<(f64, usize, Vec<f64>)> = None;
    let (mut points, mut xs) = (vec![TailPoint::MINUS_INFINITY; d], vec![0.0; d]);
    let mut draws = vec![UnitDraw::from_bits(0); d];
    let mut intervals = vec![TailInterval::WHOLE_LINE; d];
    let mut steps = 0u64;
    let mut free: Vec<usize> = Vec::new();
    while let Some(Earliest { key: bound, item: index, .. }) = heap.pop() {
        if best.as_ref().is_some_and(|(score, _, _)| bound >= *score) {
            break;
        }
        steps += 1;
        if steps > max_steps {
            return Err(RecError::SearchLimit(format!(
                "A* coding over boxes examined max_steps = {max_steps} nodes of a block of {d} dimensions \
                 without proving its best arrival; raise max_steps or use smaller blocks \
                 (a lower bits_per_block or max_block_size)"
            )));
        }
        let node = &nodes[index];
        let (heap_index, time, log_time, mass, bound_deficit, start) =
            (node.heap_index, node.time, node.log_time, node.mass, node.bound_deficit, node.start);
        // The node's arrival: one location draw per axis, after its time draw. The split axis
        // is placed first (the children need it); the others only while the arrival can still
        // beat the best: the partial score ln T − ln r* + Σ (dᵢ(xᵢ) for placed axes, inf dᵢ for
        // the others) never decreases as axes are placed.
        let mut stream = ElementStream::for_node_of_key(key, heap_index);
        stream.next_u64();
        for (i, draw) in draws.iter_mut().enumerate() {
            *draw = stream.next_unit();
            intervals[i] = arena[start + i].interval;
        }
        let k = split_axis(&intervals, weights);
        let best_score = best.as_ref().map_or(f64::INFINITY, |b| b.0);
        let mut score = log_time - log_max_ratio + bound_deficit;
        let mut complete = true;
        for i in std::iter::once(k).chain((0..d).filter(|&i| i != k)) {
            if i != k && !(score < best_score) {
                complete = false;
                break;
            }
            let axis = &arena[start + i];
            points[i] = axis.interval.point_at(draws[i], axis.interval.mass()).map_err(|e| e.at_dimension(dimensions[i]))?;
            xs[i] = proposals[i].quantile(points[i]);
            score += pairs[i].deficit(xs[i]) - axis.deficit;
        }
        if complete && score < best_score {
            best = Some((score, index, xs.clone()));
        }
        let best_score = best.as_ref().map_or(f64::INFINITY, |b| b.0);
        let parent = arena[start + k];
        let parent_mass = parent.interval.mass();
        for bit in [false, true] {
            let child_index = 2 * heap_index + bit as u128;
            let mut axis = parent;
            if bit {
                axis.interval.left = points[k];
                axis.left_x = xs[k];
            } else {
                axis.interval.right = points[k];
                axis.right_x = xs[k];
            }
            axis.deficit = smallest_deficit(&pairs[k], axis.left_x, axis.right_x);
            let child_mass = mass / parent_mass * axis.interval.mass();
            let exponential = ElementStream::for_node_of_key(key, child_index).next_unit().exponential();
            let child_time = time + exponential / child_mass;
            let child_log_time = libm::log(child_time);
            let child_deficit = bound_deficit - parent.deficit + axis.deficit;
            let child_bound = child_log_time - log_max_ratio + child_deficit;
            if !(child_bound < best_score) {
                continue;
            }
            // Only a child that may still hold the winner must be representable.
            if child_index >> MAX_NODE_DEPTH != 0 {
                return Err(RecError::SearchLimit(format!(
                    "A* coding over boxes reached its depth bound of {MAX_NODE_DEPTH} levels in a block of {d} dimensions"
                )));
            }
            if !(child_mass > MIN_BOX_MASS) {
                return Err(RecError::SearchLimit(format!(
                    "A* coding over boxes reached a box of P-mass {child_mass:e} in a block of {d} dimensions"
                )));
            }
            // Reuse a popped node's slot when one is free (its box is no longer needed).
            let child_start = match free.pop() {
                Some(slot) => {
                    arena.copy_within(start..start + d, slot);
                    slot
                }
                None => {
                    arena.extend_from_within(start..start + d);
                    arena.len() - d
                }
            };
            arena[child_start + k] = axis;
            nodes.push(Node {
                heap_index: child_index,
                time: child_time,
                log_time: child_log_time,
                mass: child_mass,
                bound_deficit: child_deficit,
                start: child_start,
            });
            heap.push(Earliest { key: child_bound, tie: child_index, item: nodes.len() - 1 });
        }
        // The popped node's box is no longer needed (its children hold copies).
        free.push(start);
    }
    let (_, index, samples) = best.expect("the root is always examined");
    Ok(BlockEncoded { samples, steps, message: Message::Node(nodes[index].heap_index) })
}

/// The P-mass of a one-dimension target's interquartile range relative to P's tail
/// coordinate there, below which the block escapes: 2⁻²⁴, eight halvings above the 2⁻³⁰ the
/// tail coordinates resolve (at 2⁻²⁸ no search of 200,000 failed; at 2⁻³¹, 5 %).
pub const ESCAPE_RESOLUTION: f64 = 1.0 / (1u64 << 24) as f64;

/// Whether a one-dimension block escapes instead of searching — decided from (Q, P) alone,
/// before any draw, so that the searched blocks are not selected by their randomness: when
/// P(IQR of Q) ≤ [`ESCAPE_RESOLUTION`] · (the larger tail coordinate of the IQR's ends), with
/// the IQR [F_Q⁻¹(1/4), F_Q⁻¹(3/4)] placed in P's tail coordinates.
pub fn escapes(pair: &Pair) -> bool {
    let target = pair.target();
    let proposal = pair.proposal();
    let interval = TailInterval {
        left: proposal.tail_point(target.lower_quantile(0.25)),
        right: proposal.tail_point(target.lower_quantile(0.75)),
    };
    let scale = interval.left.tail().max(interval.right.tail());
    !(interval.mass() > ESCAPE_RESOLUTION * scale)
}

/// The escape of a one-dimension block that [`escapes`] (a target far narrower than the
/// floating-point resolution of P's tail coordinates): an exact sample of Q itself, x = F_Q⁻¹(u) with u the location draw of node 0's stream (first its time u64, then
/// u), sent as its 64 IEEE bits ([`Message::Arrival`] carries them).
pub fn escape_block(pair: &Pair, key: u64) -> Result<BlockEncoded> {
    let mut stream = ElementStream::for_node_of_key(key, 0);
    stream.next_u64();
    let point = TailInterval::WHOLE_LINE.point_at(stream.next_unit(), 1.0)?;
    let sample = pair.target().quantile(point);
    Ok(BlockEncoded { samples: vec![sample], steps: 0, message: Message::Arrival(sample.to_bits()) })
}

/// Decodes one block's sample from its heap index: replays the box of node H and places
/// each axis's draw of H in it. `proposals` per dimension in block order.
pub fn decode_block(proposals: &[Proposal], weights: &[f64], key: u64, heap_index: u128, out: &mut [f64]) -> Result<()> {
    if heap_index == 0 || heap_index >> MAX_NODE_DEPTH != 0 {
        return Err(corrupt!("heap index {heap_index} is out of range"));
    }
    let intervals = BoxSplits::new(key, weights)
        .replay(heap_index)
        .map_err(|e| corrupt!("the coded path cannot be replayed: {}", e.message()))?;
    let mut stream = ElementStream::for_node_of_key(key, heap_index);
    stream.next_u64();
    for (i, interval) in intervals.iter().enumerate() {
        let point = interval
            .point_at(stream.next_unit(), interval.mass())
            .map_err(|e| corrupt!("the coded node cannot be sampled: {}", e.message()))?;
        out[i] = proposals[i].quantile(point);
    }
    Ok(())
}

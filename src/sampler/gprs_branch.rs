//! Branch-and-bound GPRS that splits on the sample (Flamich 2023), for 1-D unimodal ratios.
//!
//! Keep an interval B (initially the whole line), a time t = 0 and a heap index H = 1. Repeat:
//! t ← t + E/P(B); X ~ P restricted to B; accept X if r(X) ≥ σ⁻¹(t). Otherwise every later
//! arrival on the far side of X from the mode μ is above the graph (φ is unimodal and times
//! only grow), so keep the side that contains μ: if X ≤ μ, B ← B ∩ (X, ∞) and H ← 2H + 1,
//! else B ← B ∩ (−∞, X) and H ← 2H. The depth D (bit length of H) has E[D] = O(KL).
//!
//! B lives in the proposal's tail coordinates ([`TailInterval`]); the decoder replays the
//! path written in the bits of H after its leading 1 without evaluating any quantile until
//! the final draw. An interval too narrow for its floating-point coordinates raises
//! [`RecError::SearchLimit`] rather than return a sample outside B.

use crate::message::Message;
use super::tree;
use super::{require_unimodal, Method};
use super::trace::{NoObserver, SearchObserver};
use super::Encoded;
use crate::distribution::{CodingDistribution, TailInterval};
use crate::error::{RecError, Result};
use crate::poisson::{Arrival, PoissonProcess};
use crate::random::ElementStream;
use crate::ratio::DensityRatio;
use crate::stretch::StretchSearch;

/// The split-on-sample path replay, shared with A* coding's decoder.
pub use super::tree::replay_path;

/// The deepest search: H must fit in 127 bits.
pub const MAX_DEPTH: u32 = tree::MAX_DEPTH;

/// Encodes one element; at most `min(max_steps, 127)` arrivals.
#[inline]
pub fn encode<R, D>(ratio: &R, proposal: &D, stream: &mut ElementStream, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    encode_observed(ratio, proposal, stream, max_steps, &mut NoObserver)
}

/// [`encode`], telling `observer` every arrival with the interval B it was drawn in and its
/// decision (the same decisions: the observer only watches).
pub fn encode_observed<R, D, O>(
    ratio: &R,
    proposal: &D,
    stream: &mut ElementStream,
    max_steps: u64,
    observer: &mut O,
) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
    O: SearchObserver + ?Sized,
{
    require_unimodal(ratio, Method::GprsBranch)?;
    let limit = max_steps.min(MAX_DEPTH as u64);
    let mode = ratio.mode();
    let mut search = StretchSearch::new(ratio);
    let mut interval = TailInterval::WHOLE_LINE;
    let mut heap_index: u128 = 1;
    // One clock throughout: after a rejection the process restricted to the smaller B continues
    // from the rejected arrival's time (memorylessness).
    let mut process = PoissonProcess::new(stream);
    for step in 1..=limit {
        let arrival = process.next_arrival_in(&interval)?;
        let Arrival { time, point } = arrival;
        let sample = proposal.quantile(point);
        let accepted = search.accepts(time, ratio.deficit(sample))?;
        observer.arrival(step, &arrival, &interval, Some(sample), accepted);
        if accepted {
            return Ok(Encoded { sample, steps: step, message: Message::Node(heap_index) });
        }
        if sample <= mode {
            interval.left = point;
            heap_index = 2 * heap_index + 1;
        } else {
            interval.right = point;
            heap_index *= 2;
        }
    }
    Err(RecError::SearchLimit(format!(
        "branch-and-bound GPRS reached its depth bound of {limit} steps without accepting \
         (max_steps = {max_steps}, hard limit {MAX_DEPTH})"
    )))
}

/// Decodes one element from its heap index H ≥ 1.
pub fn decode<D>(proposal: &D, stream: &mut ElementStream, heap_index: u128) -> Result<f64>
where
    D: CodingDistribution + ?Sized,
{
    if heap_index == 0 || heap_index >> MAX_DEPTH != 0 {
        return Err(RecError::CorruptStream(format!("heap index {heap_index} is out of range")));
    }
    // The path's arrivals are the stream's first depth − 1; the sample is the next one.
    let mut process = PoissonProcess::new(stream);
    let interval = replay_path(heap_index, |_| process.next_location())?;
    Ok(proposal.quantile(process.next_location_in(&interval)?))
}

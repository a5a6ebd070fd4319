//! Global greedy Poisson rejection sampling (Flamich 2023, Algorithm "GPRS").
//!
//! Simulate the Poisson process (T_n, X_n) of [`poisson`](crate::poisson): T_n = T_{n−1} + E_n
//! with E_n ~ Exp(1) and X_n ~ P, and accept the first arrival under the stretched graph,
//! r(X_n) ≥ σ⁻¹(T_n).
//! The accepted X_N is distributed exactly as Q, E[N] = r* = 2^D∞ and the code of N costs
//! about KL + log₂(KL + 1) + O(1) bits. The decoder jumps to arrival N in O(log N).
//!
//! Most arrivals lie far below the graph: once the search knows that every arrival after t₀
//! with deficit above s₀ is rejected, the ratio's [`deficit_window`](DensityRatio::deficit_window)
//! turns that into an interval of P's tail coordinates, and arrivals outside it are rejected
//! without evaluating their quantile (the same decisions, for less work).

use crate::message::Message;
use super::trace::{NoObserver, SearchObserver};
use super::Encoded;
use crate::distribution::{CodingDistribution, TailInterval};
use crate::error::{RecError, Result};
use crate::poisson::PoissonProcess;
use crate::random::ElementStream;
use crate::ratio::DensityRatio;
use crate::stretch::StretchSearch;

/// Default bound on the arrivals one element may examine (2²⁴).
pub const DEFAULT_MAX_STEPS: u64 = 1 << 24;

/// Encodes one element: the first arrival under the graph.
#[inline]
pub fn encode<R, D>(ratio: &R, proposal: &D, stream: &mut ElementStream, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    encode_observed(ratio, proposal, stream, max_steps, &mut NoObserver)
}

/// [`encode`], telling `observer` every arrival examined and its decision (the same
/// decisions: the observer only watches). An arrival rejected by the window is reported
/// without its sample.
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
    let mut search = StretchSearch::new(ratio);
    let mut process = PoissonProcess::new(stream);
    // The search's rejection level (t₀, s₀) in P's tail coordinates: arrivals after t₀ outside
    // the window have deficits above s₀ and are rejected without their quantile.
    let mut window: Option<(f64, TailInterval)> = None;
    let mut window_level = f64::NAN;
    for step in 1..=max_steps {
        let arrival = process.next_arrival()?;
        if let Some((from, TailInterval { left, right })) = window {
            let inside = left.is_left_of(arrival.point) && arrival.point.is_left_of(right);
            if arrival.time >= from && !inside {
                observer.arrival(step, &arrival, &TailInterval::WHOLE_LINE, None, false);
                continue;
            }
        }
        let sample = proposal.quantile(arrival.point);
        let accepted = search.accepts(arrival.time, ratio.deficit(sample))?;
        observer.arrival(step, &arrival, &TailInterval::WHOLE_LINE, Some(sample), accepted);
        if accepted {
            return Ok(Encoded { sample, steps: step, message: Message::Arrival(step) });
        }
        let (from, level) = search.rejection_level();
        if level != window_level {
            window_level = level;
            window = ratio.deficit_window(level).map(|interval| (from, interval));
        }
    }
    Err(RecError::SearchLimit(format!(
        "global GPRS examined max_steps = {max_steps} arrivals without accepting; it needs \
         2^D∞ = {:.4e} on average; {}",
        libm::exp(ratio.log_max_ratio()),
        super::global_search_advice(ratio)
    )))
}

/// Decodes one element from its arrival index n ≥ 1.
pub fn decode<D>(proposal: &D, stream: &mut ElementStream, index: u128) -> Result<f64>
where
    D: CodingDistribution + ?Sized,
{
    if index == 0 || index > u64::MAX as u128 {
        return Err(RecError::CorruptStream(format!("arrival index {index} is out of range")));
    }
    let mut process = PoissonProcess::new(stream);
    process.skip_to(index as u64);
    Ok(proposal.quantile(process.next_location_in(&TailInterval::WHOLE_LINE)?))
}

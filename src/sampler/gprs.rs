//! Global greedy Poisson rejection sampling (Flamich 2023, Algorithm "GPRS").
//!
//! Simulate the Poisson process (T_n, X_n) of [`poisson`](crate::poisson): T_n = T_{n−1} + E_n
//! with E_n ~ Exp(1) and X_n ~ P, and accept the first arrival under the stretched graph,
//! r(X_n) ≥ σ⁻¹(T_n).
//! The accepted X_N is distributed exactly as Q, E[N] = r* = 2^D∞ and the code of N costs
//! about KL + log₂(KL + 1) + O(1) bits. The decoder jumps to arrival N in O(log N).

use crate::message::Message;
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
pub fn encode<R, D>(ratio: &R, proposal: &D, stream: &mut ElementStream, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    let mut search = StretchSearch::new(ratio);
    let mut process = PoissonProcess::new(stream);
    for step in 1..=max_steps {
        let arrival = process.next_arrival()?;
        let sample = proposal.quantile(arrival.point);
        if search.accepts(arrival.time, ratio.deficit(sample))? {
            return Ok(Encoded { sample, steps: step, message: Message::Arrival(step) });
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

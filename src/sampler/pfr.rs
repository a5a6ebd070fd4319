//! The Poisson functional representation (Li & El Gamal 2018), a.k.a. global A* coding
//! (Flamich, Markou & Hernández-Lobato 2022): the classic baseline.
//!
//! On the same Poisson process as global GPRS, K = argmin_n T_n / r(X_n); X_K is distributed
//! exactly as Q. Because r ≤ r* and times grow, every arrival after n scores more than
//! T_n / r*, so the search stops at the first n with T_n / r* at or above the best score. It sends K (Elias delta,
//! E[log₂ K] ≤ KL + O(1)); the decoder is global GPRS's jump-ahead decoder.
//! Scores are compared in logs: ln T_n − ln r(X_n) = ln T_n − ln r* + d(X_n).

use crate::message::Message;
use super::Encoded;
use crate::distribution::CodingDistribution;
use crate::error::{RecError, Result};
use crate::poisson::PoissonProcess;
use crate::random::ElementStream;
use crate::ratio::DensityRatio;

/// Encodes one element; at most `max_steps` arrivals.
pub fn encode<R, D>(ratio: &R, proposal: &D, stream: &mut ElementStream, max_steps: u64) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    let log_max_ratio = ratio.log_max_ratio();
    let mut process = PoissonProcess::new(stream);
    let mut best: Option<(f64, f64, u64)> = None; // (log score, sample, index)
    for step in 1..=max_steps {
        let arrival = process.next_arrival()?;
        let log_time = libm::log(arrival.time);
        let sample = proposal.quantile(arrival.point);
        let score = log_time - log_max_ratio + ratio.deficit(sample);
        let (best_score, best_sample, best_index) = match best {
            Some(current) if current.0 <= score => current,
            _ => (score, sample, step),
        };
        best = Some((best_score, best_sample, best_index));
        // Every later arrival scores more than ln T_n − ln r*: none can beat the best.
        if log_time - log_max_ratio >= best_score {
            return Ok(Encoded { sample: best_sample, steps: step, message: Message::Arrival(best_index) });
        }
    }
    Err(RecError::SearchLimit(format!(
        "PFR examined max_steps = {max_steps} arrivals without meeting its stopping rule; it \
         needs about 2^D∞ = {:.4e}; {}",
        libm::exp(log_max_ratio),
        super::global_search_advice(ratio)
    )))
}

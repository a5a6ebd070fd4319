//! Budget block coding: the Poisson functional representation truncated to 2^b candidates
//! (COMBINER's coder, Guo et al. 2023), an **approximate** sample in exactly b bits per block.
//!
//! Candidate n = 1 … N = 2^b of block b is the n-th arrival of a Poisson process with
//! spatial distribution P = ∏ᵢ Pᵢ: time Tₙ = E₁ + … + Eₙ, location Xₙ ~ P. The encoder sends
//! n − 1 in b bits for the candidate of smallest score ln Tₙ − ln r(Xₙ), r = dQ/dP. Without
//! truncation this is exact (PFR); truncated at N it is close to Q when N ≫ 2^KL and biased
//! otherwise — the effective sample size (Σ r)² / Σ r² of the candidates' weights measures how
//! close (about N·2^−D₂, where D₂ is the Rényi-2 divergence).
//!
//! **Draws.** Candidate n of block b draws from `ElementStream::for_node_of_key(key, n)` with
//! `key = splitmix64(element_key(seed, b) ^ 0x4255_4447_4554_0000)`: first the u64 of Eₙ, then
//! one u64 per dimension in block order, each placed on the whole line by the tail-coordinate
//! placement and mapped through Pᵢ's quantile. Unlike COMBINER (one candidate table and one
//! sequence of times shared by every block) every block has its own randomness.
//!
//! **Pruning.** Scores are ln Tₙ − ln r* + Σᵢ dᵢ(Xₙ,ᵢ) with deficits dᵢ ≥ 0, so a partial sum
//! bounds the score from below. The encoder first adds, axis by axis in block order (most
//! informative first in a layout built from expected KLs), a tabulated lower bound of each
//! deficit — the smallest deficit over the 1/256 of P's mass the draw falls in, no quantile —
//! and drops the candidate as soon as the bound reaches the best score so far (with a floor of
//! ln Tₙ refreshed every 64 candidates); only the candidates the bounds cannot rule out get exact
//! deficits. None of this changes which candidate wins (tested against full evaluation); when
//! the effective sample size is asked for, every weight is evaluated instead.

use crate::distribution::{CodingDistribution, TailInterval, TailPoint};
use crate::sampler::tree::smallest_deficit;
use crate::error::{RecError, Result};
use crate::pair::{Pair, Proposal};
use crate::random::{element_key, splitmix64, ElementStream};
use crate::ratio::DensityRatio;

/// The most candidate bits per block (2³² candidates).
pub const MAX_BUDGET_BITS: u32 = 32;

/// The key of block `block`'s candidate streams.
pub fn budget_key(seed: u64, block: u64) -> u64 {
    splitmix64(element_key(seed, block) ^ 0x4255_4447_4554_0000)
}

/// What the budget encoder of one block produces.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetEncoded {
    /// The winning candidate's index n − 1 ∈ [0, 2^b).
    pub index: u64,
    /// Its location, one value per dimension in block order.
    pub samples: Vec<f64>,
    /// The effective sample size of the candidates' weights, when asked for (else NaN).
    pub effective_sample_size: f64,
}

/// Checks the budget in bits.
pub fn check_budget_bits(bits: u32) -> Result<()> {
    if !(1..=MAX_BUDGET_BITS).contains(&bits) {
        return Err(RecError::InvalidParameter(format!(
            "bits_per_block = {bits}; the budget method needs an integer number of bits in [1, {MAX_BUDGET_BITS}]"
        )));
    }
    Ok(())
}

#[inline]
fn candidate_location(stream: &mut ElementStream, proposal: &Proposal) -> Result<f64> {
    let point = TailInterval::WHOLE_LINE.point_at(stream.next_unit(), 1.0)?;
    Ok(proposal.quantile(point))
}

/// Encodes one block with 2^`bits` candidates; `effective_sample_size` asks for the ESS
/// (every candidate is then evaluated in full).
pub fn encode_block(pairs: &[Pair], key: u64, bits: u32, effective_sample_size: bool) -> Result<BudgetEncoded> {
    check_budget_bits(bits)?;
    let d = pairs.len();
    let proposals: Vec<Proposal> = pairs.iter().map(Pair::proposal).collect();
    let log_max_ratio: f64 = pairs.iter().map(|p| p.log_max_ratio()).sum();
    let (mut time, mut best_score, mut best_index) = (0.0f64, f64::INFINITY, 0u64);
    // Σ r and Σ r² relative to the largest weight so far, exp(−smallest deficit sum), so that
    // no weight underflows: r/r_max = exp(smallest − deficits).
    let (mut smallest, mut weight_sum, mut weight_square_sum) = (f64::INFINITY, 0.0f64, 0.0f64);
    // ln Tₙ is needed exactly only for candidates that may win; the others are ruled out with
    // a floor ln T_m ≤ ln Tₙ (m ≤ n), refreshed every 64 candidates.
    let mut log_time_floor = f64::NEG_INFINITY;
    // Per axis and per 1/256 of the unit interval, a lower bound of the deficit of a candidate
    // whose draw falls there (its smallest deficit over the bin's x-interval, less a margin
    // against rounding); not needed when every weight is evaluated anyway.
    let bounds = (!effective_sample_size).then(|| deficit_bounds(pairs, &proposals));
    let mut uniforms = vec![0u64; d];
    for n in 0..1u64 << bits {
        let mut stream = ElementStream::for_node_of_key(key, n as u128 + 1);
        time += stream.next_unit().exponential();
        if effective_sample_size || n % 64 == 0 {
            log_time_floor = libm::log(time);
        }
        let floor = log_time_floor - log_max_ratio;
        if !effective_sample_size && floor >= best_score {
            // Times only grow: no later candidate can win either.
            break;
        }
        // Axes in block order, each drawn only when it is needed: first the table bounds (no
        // quantile), then, for a candidate they cannot rule out, the exact deficits.
        let mut raws = 0;
        let mut bounded = floor;
        if let Some(bounds) = &bounds {
            while raws < d {
                let raw = stream.next_u64();
                uniforms[raws] = raw;
                bounded += bounds[raws * BOUND_BINS + (raw >> (64 - BOUND_BIN_BITS)) as usize];
                raws += 1;
                if bounded >= best_score {
                    break;
                }
            }
        }
        let mut deficits = 0.0;
        let mut complete = effective_sample_size || bounded < best_score;
        if complete {
            for i in 0..d {
                let raw = if i < raws { uniforms[i] } else { stream.next_u64() };
                let point = TailInterval::WHOLE_LINE.point_at(crate::random::UnitDraw::from_bits(raw), 1.0)?;
                deficits += pairs[i].deficit(proposals[i].quantile(point));
                if !effective_sample_size && floor + deficits >= best_score {
                    complete = false;
                    break;
                }
            }
        }
        let base = if complete { libm::log(time) - log_max_ratio } else { floor };
        let score = base + deficits;
        if effective_sample_size && deficits.is_finite() {
            // A candidate outside Q's support has weight 0.
            if deficits < smallest {
                // Rescale the sums to the new largest weight.
                let factor = if smallest.is_finite() { libm::exp(deficits - smallest) } else { 0.0 };
                weight_sum *= factor;
                weight_square_sum *= factor * factor;
                smallest = deficits;
            }
            let weight = libm::exp(smallest - deficits);
            weight_sum += weight;
            weight_square_sum += weight * weight;
        }
        if complete && score < best_score {
            best_score = score;
            best_index = n;
        }
    }
    let mut stream = ElementStream::for_node_of_key(key, best_index as u128 + 1);
    stream.next_u64();
    let samples = proposals.iter().map(|p| candidate_location(&mut stream, p)).collect::<Result<Vec<f64>>>()?;
    let effective_sample_size =
        if effective_sample_size && weight_square_sum > 0.0 { weight_sum * weight_sum / weight_square_sum } else { f64::NAN };
    Ok(BudgetEncoded { index: best_index, samples, effective_sample_size })
}

/// Bins of the deficit bounds per axis (by the top bits of a draw's u64).
const BOUND_BIN_BITS: u32 = 8;
const BOUND_BINS: usize = 1 << BOUND_BIN_BITS;

/// For every axis and bin j (draws u ∈ (j/256, (j+1)/256)), a lower bound of the deficit at
/// the draw's point: the smallest deficit over [x_j, x_{j+1}] with x_j the point at u = j/256
/// (unimodal ratios: 0 if the mode is inside, else the nearer end), less a relative 1e-9 and an
/// absolute 1e-12 so that rounding of the quantile cannot make it exceed the true deficit.
fn deficit_bounds(pairs: &[Pair], proposals: &[Proposal]) -> Vec<f64> {
    let mut bounds = Vec::with_capacity(pairs.len() * BOUND_BINS);
    for (pair, proposal) in pairs.iter().zip(proposals) {
        let unimodal = pair.non_unimodal_reason().is_none();
        let edge = |j: usize| -> f64 {
            let u = j as f64 / BOUND_BINS as f64;
            if j == 0 {
                f64::NEG_INFINITY
            } else if j == BOUND_BINS {
                f64::INFINITY
            } else if u <= 0.5 {
                proposal.quantile(TailPoint::Lower(u))
            } else {
                proposal.quantile(TailPoint::Upper(1.0 - u))
            }
        };
        let mut left = edge(0);
        for j in 0..BOUND_BINS {
            let right = edge(j + 1);
            let smallest = if unimodal { smallest_deficit(pair, left, right) } else { 0.0 };
            bounds.push(if smallest.is_finite() { (smallest * (1.0 - 1e-9) - 1e-12).max(0.0) } else { smallest });
            left = right;
        }
    }
    bounds
}

/// Decodes one block's sample from its candidate index n − 1; `proposals` in block order.
pub fn decode_block(proposals: &[Proposal], key: u64, index: u64, out: &mut [f64]) -> Result<()> {
    let mut stream = ElementStream::for_node_of_key(key, index as u128 + 1);
    stream.next_u64();
    for (x, proposal) in out.iter_mut().zip(proposals) {
        *x = candidate_location(&mut stream, proposal)?;
    }
    Ok(())
}

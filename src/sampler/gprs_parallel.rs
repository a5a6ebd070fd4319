//! Parallel GPRS (Flamich 2023): J independent Poisson processes of rate 1/J each.
//!
//! Process j (0 ≤ j < J) of an element runs on its own stream
//! [`ElementStream::for_process`]: arrival n of process j comes at T_{j,n} = J·(E_1 + … + E_n)
//! with location X_{j,n} ~ P. The superposition of the J processes is a rate-1 Poisson process
//! with spatial distribution P, so accepting its first arrival under the stretched graph,
//! r(X) ≥ σ⁻¹(T), is global GPRS on it and X is distributed exactly as Q. Each process only
//! simulates its own arrivals (about 2^D∞/J of them), so J workers would finish J times
//! sooner; this implementation interleaves the processes in time order on one core, which
//! is what makes the winner — the earliest acceptance — deterministic. It sends (j, n_j)
//! ([`ProcessArrivalCode`](crate::code::message_code::ProcessArrivalCode)).

use std::collections::BinaryHeap;

use crate::message::Message;
use super::tree::Earliest;
use super::Encoded;
use crate::distribution::{CodingDistribution, TailInterval};
use crate::error::{RecError, Result};
use crate::poisson::PoissonProcess;
use crate::random::ElementStream;
use crate::ratio::DensityRatio;
use crate::stretch::StretchSearch;

/// The most processes a stream may declare.
pub const MAX_PROCESSES: u32 = 1 << 16;

/// Packs (process, arrival index within it) into the index an element sends.
#[inline]
pub fn pack_index(process: u32, arrival: u64) -> u128 {
    ((arrival as u128) << 32) | process as u128
}

/// Unpacks [`pack_index`].
#[inline]
pub fn unpack_index(index: u128) -> (u32, u64) {
    (index as u32, (index >> 32) as u64)
}

/// Encodes one element with `processes` = J processes; at most `max_steps` arrivals in total.
/// `steps` in the result counts the arrivals of all processes (global GPRS's work). Setting up
/// the J streams costs O(J) per element, so a large J only pays with J real workers.
pub fn encode<R, D>(
    ratio: &R,
    proposal: &D,
    seed: u64,
    stream_index: u64,
    processes: u32,
    max_steps: u64,
) -> Result<Encoded>
where
    R: DensityRatio + ?Sized,
    D: CodingDistribution + ?Sized,
{
    if !(1..=MAX_PROCESSES).contains(&processes) {
        return Err(RecError::InvalidParameter(format!(
            "processes = {processes}; processes must lie in [1, {MAX_PROCESSES}]"
        )));
    }
    let mut lanes: Vec<PoissonProcess> = (0..processes)
        .map(|j| PoissonProcess::superposed(ElementStream::for_process(seed, stream_index, j), processes))
        .collect();
    // Each process ("lane") is queued by the time of its next arrival; its location is drawn
    // only once that arrival is the earliest of all (still time, then location, per stream).
    let mut queue = BinaryHeap::with_capacity(processes as usize);
    for (j, lane) in lanes.iter_mut().enumerate() {
        // Item: (process, arrival index within it).
        queue.push(Earliest { key: lane.next_time(), tie: j as u128, item: (j as u32, 1u64) });
    }
    let mut search = StretchSearch::new(ratio);
    // Arrivals outside the search's rejection window skip their quantile (as in global GPRS).
    let mut window: Option<(f64, TailInterval)> = None;
    let mut window_level = f64::NAN;
    for step in 1..=max_steps {
        let Earliest { key: time, item: (j, arrival), .. } = queue.pop().expect("one pending arrival per process");
        let lane = &mut lanes[j as usize];
        let point = lane.next_point()?;
        let outside = window.is_some_and(|(from, TailInterval { left, right })| {
            time >= from && !(left.is_left_of(point) && point.is_left_of(right))
        });
        if !outside {
            let sample = proposal.quantile(point);
            if search.accepts(time, ratio.deficit(sample))? {
                return Ok(Encoded { sample, steps: step, message: Message::ProcessArrival { process: j, arrival } });
            }
            let (from, level) = search.rejection_level();
            if level != window_level {
                window_level = level;
                window = ratio.deficit_window(level).map(|interval| (from, interval));
            }
        }
        queue.push(Earliest { key: lane.next_time(), tie: j as u128, item: (j, arrival + 1) });
    }
    Err(RecError::SearchLimit(format!(
        "parallel GPRS examined max_steps = {max_steps} arrivals over {processes} processes \
         without accepting; it needs 2^D∞ = {:.4e} in total; {}",
        libm::exp(ratio.log_max_ratio()),
        super::global_search_advice(ratio)
    )))
}

/// Decodes one element from its packed (process, arrival) index.
pub fn decode<D>(proposal: &D, seed: u64, stream_index: u64, processes: u32, index: u128) -> Result<f64>
where
    D: CodingDistribution + ?Sized,
{
    let (process, arrival) = unpack_index(index);
    if process >= processes || arrival == 0 {
        return Err(RecError::CorruptStream(format!(
            "process {process} / arrival {arrival} is out of range for {processes} processes"
        )));
    }
    let mut lane = PoissonProcess::superposed(ElementStream::for_process(seed, stream_index, process), processes);
    lane.skip_to(arrival);
    Ok(proposal.quantile(lane.next_location_in(&TailInterval::WHOLE_LINE)?))
}

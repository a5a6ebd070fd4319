//! Watching a search: the arrivals an encoder examines and what it decided, for pictures.
//!
//! The global and branch-and-bound GPRS encoders take a [`SearchObserver`] that is told every
//! arrival (T_n, X_n) they examine, the interval B_n it was drawn in (the whole line for
//! global GPRS) and whether it was accepted. The observer only watches: the encoders make the
//! same decisions with it as without, and their ordinary entry points pass [`NoObserver`],
//! whose empty method the compiler removes, so encoding costs nothing extra.
//!
//! [`trace_element`] runs one element's search exactly as [`crate::batch`] does (stream
//! `ElementStream::new(seed, stream_index)`), records it, and then adds what a picture needs
//! and the encoder never computed: each arrival's location x (global GPRS rejects most
//! arrivals outside its deficit window without their quantile), r(x), the graph's height
//! σ⁻¹(T_n) at the arrival's time, and B_n mapped to the real line. [`process_arrivals`]
//! draws the first n arrivals of an element's global Poisson process from the same stream, so
//! the arrival global GPRS accepts is arrival `steps` among them.

use super::{gprs, gprs_branch, Encoded, Method};
use crate::distribution::{CodingDistribution, TailInterval, TailPoint};
use crate::error::{RecError, Result};
use crate::pair::Pair;
use crate::poisson::{Arrival, PoissonProcess};
use crate::random::ElementStream;
use crate::ratio::ratio_at;
use crate::stretch::Stretch;

/// Told every arrival a search examines, in order.
pub trait SearchObserver {
    /// Arrival number `step` ≥ 1, drawn in `interval` (tail coordinates of P); `sample` is its
    /// location x, or `None` when the search rejected it without computing x; `accepted` is
    /// the search's decision.
    #[inline(always)]
    fn arrival(&mut self, step: u64, arrival: &Arrival, interval: &TailInterval, sample: Option<f64>, accepted: bool) {
        let _ = (step, arrival, interval, sample, accepted);
    }
}

/// The observer of ordinary encoding: watches nothing, compiles to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl SearchObserver for NoObserver {}

/// The most arrivals one trace may record (each also costs an evaluation of σ⁻¹).
pub const MAX_TRACE_STEPS: u64 = 1 << 20;

/// One arrival of a traced search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracedArrival {
    /// Its number in the search, from 1.
    pub step: u64,
    /// T_n.
    pub time: f64,
    /// X_n on the real line (the proposal's quantile, computed by the tracer if the search
    /// skipped it).
    pub sample: f64,
    /// r(X_n) = dQ/dP(X_n).
    pub ratio: f64,
    /// σ⁻¹(T_n): the arrival is under the graph iff r(X_n) ≥ σ⁻¹(T_n). NaN for a skipped
    /// arrival (the search decided it without σ⁻¹, and so does the trace).
    pub graph_height: f64,
    /// B_n on the real line: the interval X_n was drawn in.
    pub interval: (f64, f64),
    /// The search's decision.
    pub accepted: bool,
    /// Rejected by global GPRS's deficit window before its quantile was computed.
    pub skipped: bool,
}

/// A traced search of one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The method searched.
    pub method: Method,
    /// What the encoder returned (the same as encoding without a trace).
    pub encoded: Encoded,
    /// Every arrival examined, in order; the last is the accepted one.
    pub arrivals: Vec<TracedArrival>,
}

/// What the recorder keeps during the search (the rest is computed afterwards, so the search
/// itself runs as in encoding).
struct Recorder<'a, D: ?Sized> {
    proposal: &'a D,
    arrivals: Vec<TracedArrival>,
}

impl<D: CodingDistribution + ?Sized> SearchObserver for Recorder<'_, D> {
    fn arrival(&mut self, step: u64, arrival: &Arrival, interval: &TailInterval, sample: Option<f64>, accepted: bool) {
        let p = self.proposal;
        self.arrivals.push(TracedArrival {
            step,
            time: arrival.time,
            sample: sample.unwrap_or_else(|| p.quantile(arrival.point)),
            ratio: f64::NAN,
            graph_height: f64::NAN,
            interval: (end_of(p, interval.left), end_of(p, interval.right)),
            accepted,
            skipped: sample.is_none(),
        });
    }
}

/// A point of the line from its tail coordinate; a zero tail is an end of P's support (the
/// quantiles are not defined there).
fn end_of<D: CodingDistribution + ?Sized>(proposal: &D, point: TailPoint) -> f64 {
    match point {
        TailPoint::Lower(0.0) => proposal.support().0,
        TailPoint::Upper(0.0) => proposal.support().1,
        point => proposal.quantile(point),
    }
}

/// Checks a trace's or a drawing's step bound.
fn check_steps(max_steps: u64, what: &str) -> Result<()> {
    if max_steps == 0 || max_steps > MAX_TRACE_STEPS {
        return Err(RecError::InvalidParameter(format!(
            "{what} = {max_steps}; it must lie in [1, {MAX_TRACE_STEPS}] (a trace records every arrival)"
        )));
    }
    Ok(())
}

/// Runs the search of element `stream_index` under `seed` with `method` ("gprs" or
/// "gprs-bb") and records it. The result's `encoded` equals what `rf.encode` computes for the
/// element; the search fails as encoding does when it reaches `max_steps` (≤ [`MAX_TRACE_STEPS`]).
pub fn trace_element(pair: &Pair, method: Method, seed: u64, stream_index: u64, max_steps: u64) -> Result<Trace> {
    check_steps(max_steps, "max_steps")?;
    let proposal = pair.proposal();
    let mut recorder = Recorder { proposal: &proposal, arrivals: Vec::new() };
    let mut stream = ElementStream::new(seed, stream_index);
    let encoded = match method {
        Method::Gprs => gprs::encode_observed(pair, &proposal, &mut stream, max_steps, &mut recorder)?,
        Method::GprsBranch => gprs_branch::encode_observed(pair, &proposal, &mut stream, max_steps, &mut recorder)?,
        other => {
            return Err(RecError::UnsupportedMethod(format!(
                "tracing supports methods \"gprs\" and \"gprs-bb\", not \"{}\"",
                other.name()
            )))
        }
    };
    let stretch = Stretch::new(pair);
    let mut arrivals = recorder.arrivals;
    for arrival in &mut arrivals {
        arrival.ratio = ratio_at(pair, arrival.sample);
        // σ⁻¹ costs a search; the window rejected a skipped arrival without it (NaN stays).
        if !arrival.skipped {
            arrival.graph_height = stretch.inverse(arrival.time)?;
        }
    }
    Ok(Trace { method, encoded, arrivals })
}

/// The first `count` arrivals (T_n, X_n) of element `stream_index`'s global Poisson process
/// under `seed`: the process global GPRS searches, from the same stream.
pub fn process_arrivals<D: CodingDistribution + ?Sized>(
    proposal: &D,
    seed: u64,
    stream_index: u64,
    count: u64,
) -> Result<Vec<(f64, f64)>> {
    check_steps(count, "count")?;
    let mut process = PoissonProcess::new(ElementStream::new(seed, stream_index));
    (0..count)
        .map(|_| {
            let arrival = process.next_arrival()?;
            Ok((arrival.time, proposal.quantile(arrival.point)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{encode_element, EncodeSettings};
    use crate::distribution::Family;
    use crate::ratio::DensityRatio;

    /// Every decision of `trace` agrees with r(X_n) ≥ σ⁻¹(T_n), except within `tolerance`.
    fn decisions_agree_with_graph(trace: &Trace, tolerance: f64) -> bool {
        trace.arrivals.iter().all(|a| {
            let near = (a.ratio - a.graph_height).abs() <= tolerance * a.graph_height.max(f64::MIN_POSITIVE);
            near || a.accepted == (a.ratio >= a.graph_height)
        })
    }

    fn pairs() -> Vec<Pair> {
        [
            ((Family::Normal, 1.0, 0.35), (Family::Normal, 0.0, 1.0)),
            ((Family::Normal, -2.0, 0.2), (Family::Normal, 0.5, 1.5)),
            ((Family::Laplace, 0.7, 0.3), (Family::Laplace, 0.0, 1.0)),
            ((Family::Uniform, 0.2, 0.5), (Family::Uniform, 0.0, 1.0)),
            ((Family::Uniform, 0.5, 1.5), (Family::Normal, 0.0, 1.0)),
            ((Family::Uniform, -1.0, -0.5), (Family::Laplace, 0.0, 1.0)),
        ]
        .into_iter()
        .map(|(q, p)| Pair::new(q, p).unwrap())
        .collect()
    }

    /// A trace's search is the encoder's: same sample bit for bit, same steps and message,
    /// one arrival per step, the last accepted and no other.
    #[test]
    fn traces_take_the_encoders_decisions() {
        for (k, pair) in pairs().iter().enumerate() {
            for method in [Method::Gprs, Method::GprsBranch] {
                if method == Method::GprsBranch && pair.non_unimodal_reason().is_some() {
                    continue;
                }
                for seed in 0..40u64 {
                    let mut settings = EncodeSettings::new(method, seed);
                    settings.index_offset = 3;
                    let encoded = encode_element(pair, &settings, 2).unwrap();
                    let trace = trace_element(pair, method, seed, 5, settings.max_steps.min(MAX_TRACE_STEPS)).unwrap();
                    let context = format!("pair {k}, {}, seed {seed}", method.name());
                    assert_eq!(trace.encoded.sample.to_bits(), encoded.sample.to_bits(), "{context}");
                    assert_eq!(trace.encoded.steps, encoded.steps, "{context}");
                    assert_eq!(trace.encoded.message, encoded.message, "{context}");
                    assert_eq!(trace.arrivals.len() as u64, encoded.steps, "{context}");
                    let last = trace.arrivals.last().unwrap();
                    assert!(last.accepted && last.sample.to_bits() == encoded.sample.to_bits(), "{context}");
                    assert!(trace.arrivals.iter().rev().skip(1).all(|a| !a.accepted), "{context}");
                    assert!(trace.arrivals.iter().enumerate().all(|(i, a)| a.step == i as u64 + 1), "{context}");
                    assert!(decisions_agree_with_graph(&trace, 1e-6), "{context}");
                    for a in &trace.arrivals {
                        assert!(a.interval.0 <= a.sample && a.sample <= a.interval.1, "{context}");
                    }
                }
            }
        }
    }

    /// Branch-and-bound intervals shrink towards the mode: each B_{n+1} is B_n cut at X_n.
    #[test]
    fn branch_and_bound_intervals_are_nested() {
        let pair = &pairs()[0];
        for seed in 0..30 {
            let trace = trace_element(pair, Method::GprsBranch, seed, 0, 127).unwrap();
            for w in trace.arrivals.windows(2) {
                let (before, after) = (w[0].interval, w[1].interval);
                assert!(after.0 == w[0].sample || after.1 == w[0].sample, "seed {seed}");
                assert!(before.0 <= after.0 && after.1 <= before.1, "seed {seed}");
            }
        }
    }

    /// Global GPRS's accepted arrival is arrival `steps` of the element's process, and every
    /// traced arrival (skipped ones included) is the process's arrival at its step.
    #[test]
    fn global_traces_lie_on_the_process() {
        for pair in pairs() {
            for seed in 0..20 {
                let trace = trace_element(&pair, Method::Gprs, seed, 9, 1 << 16).unwrap();
                let process = process_arrivals(&pair.proposal(), seed, 9, trace.encoded.steps).unwrap();
                for (a, &(time, x)) in trace.arrivals.iter().zip(&process) {
                    assert_eq!((a.time.to_bits(), a.sample.to_bits()), (time.to_bits(), x.to_bits()));
                }
            }
        }
    }

    #[test]
    fn bad_requests_are_errors() {
        let pair = &pairs()[0];
        assert!(matches!(trace_element(pair, Method::Pfr, 0, 0, 10), Err(RecError::UnsupportedMethod(_))));
        assert!(matches!(trace_element(pair, Method::Gprs, 0, 0, 0), Err(RecError::InvalidParameter(_))));
        assert!(process_arrivals(&pair.proposal(), 0, 0, MAX_TRACE_STEPS + 1).is_err());
        let hard = Pair::new((Family::Normal, 3.0, 0.05), (Family::Normal, 0.0, 1.0)).unwrap();
        assert!(matches!(trace_element(&hard, Method::Gprs, 0, 0, 3), Err(RecError::SearchLimit(_))));
    }
}

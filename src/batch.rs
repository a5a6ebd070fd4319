//! The batch driver: flat arrays in, flat arrays out, parallel over elements.
//!
//! Element i of a batch (row-major flattened index) is encoded on its own stream
//! `ElementStream::new(seed, index_offset + i)`, so every element's result depends only on
//! its own parameters, the seed and its stream index — never on the thread count, the work
//! split, or the other elements. Splitting a batch in two and encoding the second half with
//! `index_offset` equal to the first half's length reproduces the bits of the whole batch.
//! When several elements fail, the error reported is the one with the lowest index, and the
//! elements after it are skipped.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::code::container::{Header, SampleType};
use crate::distribution::{DistributionFunction, Family};
use crate::error::{RecError, Result};
use crate::pair::{self, Pair, Proposal};
use crate::message::Message;
use crate::method::{Method, SearchSettings};
use crate::sampler::{gprs_parallel, Encoded};

/// One side of a batch of pairs: a family and its two parameter arrays, (loc, scale) for
/// Normal and Laplace, (low, high) for Uniform. Each array holds one value per element or a
/// single value shared by every element (so a scalar coding distribution costs no memory per
/// element).
#[derive(Clone, Copy, Debug)]
pub struct Distributions<'a> {
    /// The family of every element.
    pub family: Family,
    /// loc, or low for Uniform.
    pub first: &'a [f64],
    /// scale, or high for Uniform.
    pub second: &'a [f64],
}

impl<'a> Distributions<'a> {
    /// Element `i` as (family, first parameter, second parameter).
    #[inline]
    pub fn at(&self, i: usize) -> (Family, f64, f64) {
        (self.family, self.first[shared_or(i, self.first.len())], self.second[shared_or(i, self.second.len())])
    }

    /// The elements `start .. start + count` (a shared value stays shared).
    pub fn slice(&self, start: usize, count: usize) -> Distributions<'a> {
        let part = |values: &'a [f64]| if values.len() == 1 { values } else { &values[start..start + count] };
        Distributions { family: self.family, first: part(self.first), second: part(self.second) }
    }

    /// Checks that both arrays hold `count` values or one shared value.
    pub fn check_length(&self, count: usize, role: &str) -> Result<()> {
        for values in [self.first, self.second] {
            if values.len() != count && values.len() != 1 {
                return Err(RecError::ShapeMismatch(format!(
                    "{role} parameter arrays have lengths {} and {}; each must hold one value or {count}",
                    self.first.len(),
                    self.second.len()
                )));
            }
        }
        Ok(())
    }
}

/// The index into a parameter array of `length` values of element `i`: 0 for a shared value.
#[inline]
fn shared_or(i: usize, length: usize) -> usize {
    if length == 1 {
        0
    } else {
        i
    }
}

/// Parameters of a batch of (target, proposal) pairs, already broadcast to a common length.
#[derive(Clone, Copy, Debug)]
pub struct Pairs<'a> {
    /// The targets Q.
    pub target: Distributions<'a>,
    /// The coding distributions P.
    pub proposal: Distributions<'a>,
}

impl<'a> Pairs<'a> {
    /// Number of elements, after checking that every array holds that many values or one
    /// shared value (four shared values are one element).
    pub fn len(&self) -> Result<usize> {
        let lengths = [self.target.first.len(), self.target.second.len(), self.proposal.first.len(), self.proposal.second.len()];
        let n = if lengths.contains(&0) { 0 } else { lengths.iter().copied().max().unwrap_or(0) };
        if lengths.iter().any(|&m| m != n && m != 1) {
            return Err(RecError::ShapeMismatch(format!(
                "parameter arrays have lengths {}, {}, {}, {}; each must hold one value or the batch's {n}",
                lengths[0], lengths[1], lengths[2], lengths[3]
            )));
        }
        Ok(n)
    }

    /// The elements `start .. start + count` (shared values stay shared).
    pub fn slice(&self, start: usize, count: usize) -> Pairs<'a> {
        Pairs { target: self.target.slice(start, count), proposal: self.proposal.slice(start, count) }
    }

    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.len() == Ok(0)
    }

    /// The validated pair of element `i` (errors name the element).
    pub fn pair(&self, i: usize) -> Result<Pair> {
        Pair::new(self.target.at(i), self.proposal.at(i)).map_err(|e| e.at_element(i))
    }
}

/// Default number of processes of `"gprs-parallel"`.
pub const DEFAULT_PROCESSES: u32 = 4;

/// How to encode a batch.
#[derive(Clone, Copy, Debug)]
pub struct EncodeSettings {
    /// The channel-simulation method.
    pub method: Method,
    /// The shared seed.
    pub seed: u64,
    /// Stream index of element 0.
    pub index_offset: u64,
    /// Bound on the arrivals one element's search may examine.
    pub max_steps: u64,
    /// Worker threads (`None`: rayon's global pool, one per core).
    pub threads: Option<usize>,
    /// Processes J of `"gprs-parallel"` (stored as the container's method parameter).
    pub processes: u32,
    /// The container format version written (1 or 2).
    pub format_version: u8,
    /// Elements per chunk of a version-2 stream.
    pub chunk_elements: u64,
    /// The type the samples are delivered in (recorded in a version-2 header).
    pub sample_type: SampleType,
}

impl EncodeSettings {
    /// Defaults for `method`: seed 0, offset 0, the method's default step bound, all cores.
    pub fn new(method: Method, seed: u64) -> Self {
        EncodeSettings {
            method,
            seed,
            index_offset: 0,
            max_steps: method.default_max_steps(),
            threads: None,
            processes: DEFAULT_PROCESSES,
            format_version: crate::code::container::FORMAT_VERSION,
            chunk_elements: crate::code::container::v2::DEFAULT_CHUNK_ELEMENTS,
            sample_type: SampleType::Float64,
        }
    }

    /// Checks the settings that every element's search uses.
    pub fn check(&self) -> Result<()> {
        if self.max_steps == 0 {
            return Err(RecError::InvalidParameter("max_steps = 0; max_steps must be ≥ 1".into()));
        }
        if !(1..=gprs_parallel::MAX_PROCESSES).contains(&self.processes) {
            return Err(RecError::InvalidParameter(format!(
                "processes = {}; processes must lie in [1, {}]",
                self.processes,
                gprs_parallel::MAX_PROCESSES
            )));
        }
        Ok(())
    }

    /// The method parameter stored in the stream: J for `"gprs-parallel"`, else 0.
    pub fn method_parameter(&self) -> u32 {
        if self.method.spec().parameter_range.is_some() {
            self.processes
        } else {
            0
        }
    }

    /// The container header of an encoding of an array of pairs of the given families and shape.
    pub fn header(&self, target_family: Family, proposal_family: Family, shape: Vec<u64>) -> Header {
        Header {
            method: self.method,
            target_family,
            proposal_family,
            seed: self.seed,
            index_offset: self.index_offset,
            method_parameter: self.method_parameter(),
            shape,
            sample_type: self.sample_type,
        }
    }
}

/// The per-element results of encoding a batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchEncoding {
    /// The samples the decoder reconstructs.
    pub samples: Vec<f64>,
    /// Arrivals examined per element.
    pub steps: Vec<u64>,
    /// The message each element sends.
    pub messages: Vec<Message>,
}

/// The most worker threads a call may ask for (pools are kept for the life of the process).
pub const MAX_THREADS: usize = 1024;

/// Idle rayon pools with their thread counts.
type PoolCache = Mutex<Vec<(usize, ThreadPool)>>;

/// Runs `run` on a rayon pool of `threads` workers (`None`: the global pool, one per core).
///
/// A call checks a pool of its size out of a cache and returns it afterwards, building one
/// when none is free: concurrent calls (several Python threads, a Dask worker's tasks) each
/// get their own pool instead of queueing on a shared one, and idle pools are kept for the
/// life of the process.
pub fn with_threads<T: Send, F: FnOnce() -> T + Send>(threads: Option<usize>, run: F) -> Result<T> {
    static POOLS: OnceLock<PoolCache> = OnceLock::new();
    let Some(count) = threads else {
        return Ok(run());
    };
    if count == 0 || count > MAX_THREADS {
        return Err(RecError::InvalidParameter(format!(
            "threads = {count}; threads must lie in [1, {MAX_THREADS}] or be None (all cores)"
        )));
    }
    let cache = POOLS.get_or_init(|| Mutex::new(Vec::new()));
    let free = {
        let mut pools = cache.lock().unwrap_or_else(|e| e.into_inner());
        pools.iter().position(|(n, _)| *n == count).map(|i| pools.swap_remove(i).1)
    };
    let pool = match free {
        Some(pool) => pool,
        None => ThreadPoolBuilder::new()
            .num_threads(count)
            .build()
            .map_err(|e| RecError::InvalidParameter(format!("cannot start {count} threads: {e}")))?,
    };
    let result = pool.install(run);
    cache.lock().unwrap_or_else(|e| e.into_inner()).push((count, pool));
    Ok(result)
}

/// What a caller on another thread may do to a running batch: stop it, and watch it progress.
///
/// The batch counts its finished elements in groups of [`PROGRESS_GROUP`], one atomic add per
/// group, so watching costs nothing measurable; a reader sees a count at most a group per
/// thread behind.
#[derive(Debug, Default)]
pub struct BatchControl {
    stop: AtomicBool,
    completed: AtomicU64,
}

/// Elements per progress update and per unit of work a thread takes, for element searches
/// (microseconds each); costly units such as blocks use [`map_units_until`] with groups of 1.
pub const PROGRESS_GROUP: usize = 64;

impl BatchControl {
    /// A control that is not stopped, with nothing completed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the batch to start no new element; the ones in flight finish.
    pub fn stop(&self) {
        self.stop.store(true, AtomicOrdering::Relaxed);
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(AtomicOrdering::Relaxed)
    }

    /// Elements (or blocks) finished so far, successfully or not.
    pub fn completed(&self) -> u64 {
        self.completed.load(AtomicOrdering::Relaxed)
    }

    /// Records `count` more finished elements.
    pub fn add_completed(&self, count: u64) {
        self.completed.fetch_add(count, AtomicOrdering::Relaxed);
    }
}

/// Runs `work(i)` for every element in parallel on the current pool; the lowest-index error wins.
/// Equivalent to [`map_elements_until`] with a control that is never stopped.
pub fn map_elements<T, F>(count: usize, work: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync + Send,
{
    map_elements_until(count, &BatchControl::new(), work)
}

/// Runs `work(i)` for every element in parallel on the current pool until `control` is
/// stopped, counting finished elements in `control`; the lowest-index error wins.
///
/// Once element j has failed, elements after j are skipped (a failing search may have spent
/// its whole step budget, and a batch should not pay that for every element), while elements
/// before j still run, since one of them may fail too. So the error returned is the one of the
/// lowest failing index whatever the thread count or scheduling. Once `control` is stopped
/// (from another thread), elements not yet started are skipped as well, and unless an error
/// comes first in index order the result is [`RecError::Interrupted`].
pub fn map_elements_until<T, F>(count: usize, control: &BatchControl, work: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync + Send,
{
    map_units_until(count, PROGRESS_GROUP, control, work)
}

/// [`map_elements_until`] with units of work of `group` elements: each is run by one thread
/// and counted in `control` when it finishes (1 for costly units such as blocks, so that even
/// a few of them spread over the threads).
pub fn map_units_until<T, F>(count: usize, group: usize, control: &BatchControl, work: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync + Send,
{
    let group_size = group.max(1);
    let first_failure = AtomicUsize::new(usize::MAX);
    let groups: Vec<Vec<Option<Result<T>>>> = (0..count.div_ceil(group_size))
        .into_par_iter()
        .map(|group| {
            let elements = group * group_size..count.min((group + 1) * group_size);
            let length = elements.len() as u64;
            let results = elements
                .map(|i| {
                    if i > first_failure.load(AtomicOrdering::Relaxed) || control.is_stopped() {
                        return None;
                    }
                    let result = work(i);
                    if result.is_err() {
                        first_failure.fetch_min(i, AtomicOrdering::Relaxed);
                    }
                    Some(result)
                })
                .collect();
            control.add_completed(length);
            results
        })
        .collect();
    // Every element before the lowest failure ran (unless stopped) and succeeded, and a failure
    // only skips later elements, so the first error in index order is the lowest one; a
    // skipped element met before any error was skipped by the stop.
    let mut values = Vec::with_capacity(count);
    for (i, result) in groups.into_iter().flatten().enumerate() {
        match result {
            Some(result) => values.push(result?),
            None => {
                return Err(RecError::Interrupted(format!(
                    "the batch was interrupted after {i} of {count} elements in index order"
                )))
            }
        }
    }
    Ok(values)
}

/// Encodes one element with an already validated ratio.
pub fn encode_element(ratio: &Pair, settings: &EncodeSettings, index: usize) -> Result<Encoded> {
    let search = SearchSettings {
        seed: settings.seed,
        stream_index: settings.index_offset.wrapping_add(index as u64),
        max_steps: settings.max_steps,
        method_parameter: settings.method_parameter(),
    };
    (settings.method.spec().encode)(ratio, &ratio.proposal(), &search)
}

/// Encodes a batch of pairs.
pub fn encode_pairs(pairs: &Pairs<'_>, settings: &EncodeSettings) -> Result<BatchEncoding> {
    encode_pairs_until(pairs, settings, &BatchControl::new())
}

/// Encodes a batch of pairs, stopping with [`RecError::Interrupted`] once `control` is
/// stopped: the searches in flight finish (each within its step bound) and no new one starts.
pub fn encode_pairs_until(pairs: &Pairs<'_>, settings: &EncodeSettings, control: &BatchControl) -> Result<BatchEncoding> {
    let count = pairs.len()?;
    settings.check()?;
    let encoded = with_threads(settings.threads, || {
        validate_pairs(pairs, 0)?;
        map_elements_until(count, control, |i| encode_validated(pairs, settings, i, i as u64))
    })??;
    Ok(BatchEncoding {
        samples: encoded.iter().map(|e| e.sample).collect(),
        steps: encoded.iter().map(|e| e.steps).collect(),
        messages: encoded.iter().map(|e| e.message).collect(),
    })
}

/// Element `i` of `pairs`, stream element `element` (errors name the latter), encoded after
/// [`validate_pairs`] accepted it: its pair is rebuilt rather than kept, which costs well under
/// 1% of a search and saves holding a pair per element.
pub fn encode_validated(pairs: &Pairs<'_>, settings: &EncodeSettings, i: usize, element: u64) -> Result<Encoded> {
    let at = |e: RecError| e.at_element(element as usize);
    let ratio = Pair::new(pairs.target.at(i), pairs.proposal.at(i)).map_err(at)?;
    encode_element(&ratio, settings, element as usize).map_err(at)
}

/// Elements validated per pass of [`validate_pairs`] (its results are held one pass at a time).
const VALIDATION_WINDOW: usize = 1 << 16;

/// Validates every pair before any search, so that a bad element fails fast and
/// deterministically (the lowest bad index is reported, counting the pairs from the stream's
/// element `first_element`), holding one window of results at a time.
pub fn validate_pairs(pairs: &Pairs<'_>, first_element: u64) -> Result<()> {
    let count = pairs.len()?;
    for start in (0..count).step_by(VALIDATION_WINDOW) {
        let window = VALIDATION_WINDOW.min(count - start);
        map_elements(window, |i| {
            let i = start + i;
            Pair::new(pairs.target.at(i), pairs.proposal.at(i)).map(drop).map_err(|e| e.at_element(first_element as usize + i))
        })?;
    }
    Ok(())
}

/// Checks that the proposals given to a decoder are of the stream's proposal family and cover
/// its `count` elements.
pub fn check_proposals(header: &Header, proposal: &Distributions<'_>, count: usize) -> Result<()> {
    if proposal.family != header.proposal_family {
        return Err(RecError::InvalidParameter(format!(
            "the stream was encoded against a {} proposal, but the proposal given is {}",
            header.proposal_family.name(),
            proposal.family.name()
        )));
    }
    if [proposal.first.len(), proposal.second.len()].iter().any(|&n| n != count && n != 1) {
        return Err(RecError::ShapeMismatch(format!(
            "the stream holds {count} elements but the proposal has {} and {} parameters \
             (each must hold one shared value or {count})",
            proposal.first.len(),
            proposal.second.len()
        )));
    }
    Ok(())
}

/// Decodes element `index` of a stream from its message, against the proposal of
/// `proposal.at(i)` (proposals already checked).
pub fn decode_element(header: &Header, proposal: &Distributions<'_>, i: usize, index: u64, message: &Message) -> Result<f64> {
    let (family, first, second) = proposal.at(i);
    let decode = header.method.spec().decode;
    let at = |e: RecError| e.at_element(index as usize);
    let proposal = Proposal::new(family, first, second).map_err(|e| at(pair::with_role("proposal", e)))?;
    decode(&proposal, &header.element_context(index), message)
        .map_err(|e| match e {
            RecError::SearchLimit(m) => RecError::CorruptStream(format!(
                "{m} while replaying the code; the stream is corrupt or the proposal differs from the encoder's"
            )),
            other => other,
        })
        .map_err(at)
}

/// Decodes a batch: the messages of a parsed container, the proposals (of the stream's proposal
/// family) broadcast to its length.
pub fn decode_pairs(
    header: &Header,
    messages: &[Message],
    proposal: &Distributions<'_>,
    threads: Option<usize>,
) -> Result<Vec<f64>> {
    check_proposals(header, proposal, messages.len())?;
    with_threads(threads, || map_elements(messages.len(), |i| decode_element(header, proposal, i, i as u64, &messages[i])))?
}

/// KL and D∞ (bits) of every pair; KL is finite for every pair, D∞ may be infinite.
pub fn divergences(pairs: &Pairs<'_>) -> Result<Vec<(f64, f64)>> {
    let count = pairs.len()?;
    map_elements(count, |i| pair::divergences(pairs.target.at(i), pairs.proposal.at(i)).map_err(|e| e.at_element(i)))
}

/// `function` (CDF, survival function or a quantile) of every distribution at the matching
/// element of `argument` (already broadcast to the same length).
pub fn distribution_values(
    distributions: &Distributions<'_>,
    argument: &[f64],
    function: DistributionFunction,
) -> Result<Vec<f64>> {
    let count = argument.len();
    if distributions.first.len() != count || distributions.second.len() != count {
        return Err(RecError::ShapeMismatch("argument and parameter arrays differ in length".into()));
    }
    map_elements(count, |i| {
        let (family, first, second) = distributions.at(i);
        Proposal::new(family, first, second)
            .and_then(|distribution| function.evaluate(&distribution, argument[i]))
            .map_err(|e| e.at_element(i))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_failing_element_wins_and_later_ones_are_skipped() {
        for threads in [1, 2, 8] {
            let calls = AtomicUsize::new(0);
            let result = with_threads(Some(threads), || {
                map_elements(10_000, |i| {
                    calls.fetch_add(1, AtomicOrdering::Relaxed);
                    if i == 100 || i == 700 || i == 5000 {
                        Err(RecError::SearchLimit(format!("element {i} failed")))
                    } else {
                        Ok(i)
                    }
                })
            })
            .unwrap();
            assert_eq!(result, Err(RecError::SearchLimit("element 100 failed".into())), "{threads} threads");
            // Single-threaded, nothing after the failure runs (with more threads, how much ran
            // before the failure was recorded depends on scheduling; the error does not).
            if threads == 1 {
                assert_eq!(calls.load(AtomicOrdering::Relaxed), 101);
            }
        }
        let all = with_threads(Some(2), || map_elements(1000, |i| Ok(2 * i))).unwrap().unwrap();
        assert_eq!(all, (0..1000).map(|i| 2 * i).collect::<Vec<_>>());
    }

    #[test]
    fn a_stop_flag_skips_the_elements_not_yet_started() {
        let control = BatchControl::new();
        let result = with_threads(Some(1), || {
            map_elements_until(1000, &control, |i| {
                if i == 10 {
                    control.stop();
                }
                Ok(i)
            })
        })
        .unwrap();
        let expected = "the batch was interrupted after 11 of 1000 elements in index order";
        assert_eq!(result, Err(RecError::Interrupted(expected.into())));
        // A stop raised after the last element leaves the results whole.
        let late = BatchControl::new();
        let whole = map_elements_until(5, &late, |i| {
            if i == 4 {
                late.stop();
            }
            Ok(i)
        });
        assert_eq!(whole, Ok(vec![0, 1, 2, 3, 4]));
    }

    #[test]
    fn the_control_counts_every_finished_element() {
        let control = BatchControl::new();
        let count = 3 * PROGRESS_GROUP + 5;
        let values = with_threads(Some(2), || map_elements_until(count, &control, |i| Ok(2 * i))).unwrap();
        assert_eq!(values, Ok((0..count).map(|i| 2 * i).collect::<Vec<_>>()));
        assert_eq!(control.completed(), count as u64);
    }

    #[test]
    fn units_of_one_spread_a_few_costly_units_over_the_threads() {
        let control = BatchControl::new();
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let values = with_threads(Some(2), || {
            map_units_until(8, 1, &control, |i| {
                threads.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_millis(20));
                Ok(i)
            })
        })
        .unwrap();
        assert_eq!(values, Ok((0..8).collect::<Vec<_>>()));
        assert_eq!(control.completed(), 8);
        assert_eq!(threads.lock().unwrap().len(), 2);
    }
}

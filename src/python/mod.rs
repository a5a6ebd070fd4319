//! The Python binding layer (`rec_fast._core`), compiled with the `python` feature.
//!
//! Each entry point only extracts flat float64 arrays (the Python package broadcasts and
//! validates types first), releases the GIL around the core call, maps [`CoreError`] onto the
//! exception hierarchy and converts results to numpy arrays.

use std::sync::mpsc;
use std::time::Duration;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::batch::{self, BatchControl, Distributions, EncodeSettings, Pairs};
use crate::distribution::{DistributionFunction, Family};
use crate::code::container::{self, SampleType};
use crate::codec;
use crate::divergence::channel_simulation_divergence;
use crate::error::RecError as CoreError;
use crate::method::Method;
use crate::stretch::Stretch;

mod blocks;
mod streaming;
mod trace;

create_exception!(rec_fast, RecError, PyValueError, "Base class of every rec_fast error (a ValueError).");
create_exception!(rec_fast, CorruptStreamError, RecError, "The bytes are not a valid rec_fast stream.");
create_exception!(rec_fast, SearchLimitError, RecError, "A search reached its documented bound before accepting.");

/// A float64 numpy vector.
type Floats<'py> = Bound<'py, PyArray1<f64>>;
/// (samples, steps as uint64, bits, container bytes).
type EncodeOutput<'py> = (Floats<'py>, Bound<'py, PyArray1<u64>>, Floats<'py>, Bound<'py, PyBytes>);

/// Batches from this many elements run interruptibly; the helper thread costs about 0.2 ms,
/// which smaller batches (a few milliseconds of work at most) would notice.
const INTERRUPTIBLE_ELEMENTS: usize = 4096;

/// How often the waiting thread checks for signals and reports progress.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Runs `work` without the GIL. For a batch of at least [`INTERRUPTIBLE_ELEMENTS`] elements it
/// runs on a helper thread while the calling thread waits, waking every 50 ms to check for a
/// pending Python signal (Ctrl-C) and, when `progress` is given, to call `progress(completed)`
/// with the count in `control`. On a signal, or an exception from `progress`, `control` is
/// stopped so the batch starts no new element, and that exception is raised once the
/// searches in flight have finished.
fn run_interruptible<T: Send>(
    py: Python<'_>,
    elements: usize,
    control: &BatchControl,
    progress: Option<&Py<PyAny>>,
    work: impl FnOnce() -> Result<T, CoreError> + Send,
) -> PyResult<T> {
    if elements < INTERRUPTIBLE_ELEMENTS {
        return py.detach(work).map_err(to_python_error);
    }
    let (result, signal) = py.detach(|| {
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel();
            scope.spawn(move || {
                // The receiver outlives this thread (the scope joins it first).
                let _ = sender.send(work());
            });
            let mut signal: Option<PyErr> = None;
            loop {
                match receiver.recv_timeout(POLL_INTERVAL) {
                    Ok(result) => return (Some(result), signal),
                    Err(mpsc::RecvTimeoutError::Timeout) if signal.is_none() => {
                        let checked = Python::attach(|py| {
                            py.check_signals()?;
                            match progress {
                                Some(callback) => callback.call1(py, (control.completed(),)).map(drop),
                                None => Ok(()),
                            }
                        });
                        if let Err(error) = checked {
                            control.stop();
                            signal = Some(error);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    // The worker panicked: the scope re-raises the panic when it joins.
                    Err(mpsc::RecvTimeoutError::Disconnected) => return (None, signal),
                }
            }
        })
    });
    if let Some(signal) = signal {
        return Err(signal);
    }
    match result {
        Some(result) => result.map_err(to_python_error),
        None => Err(RecError::new_err("the batch worker stopped without a result")),
    }
}

fn to_python_error(error: CoreError) -> PyErr {
    match error {
        CoreError::CorruptStream(m) => CorruptStreamError::new_err(m),
        CoreError::SearchLimit(m) => SearchLimitError::new_err(m),
        other => RecError::new_err(other.message().to_owned()),
    }
}

fn slice<'a>(array: &'a PyReadonlyArray1<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    array.as_slice().map_err(|_| RecError::new_err(format!("{name} must be a contiguous float64 array")))
}

/// One side of a batch as passed from Python: (family name, first parameters, second parameters).
type Side<'py> = (String, PyReadonlyArray1<'py, f64>, PyReadonlyArray1<'py, f64>);

/// Borrows one side's flat parameter arrays.
fn distributions_of<'a>(side: &'a Side<'_>, role: &str) -> PyResult<Distributions<'a>> {
    Ok(Distributions {
        family: Family::from_name(&side.0).map_err(to_python_error)?,
        first: slice(&side.1, &format!("{role} first parameter"))?,
        second: slice(&side.2, &format!("{role} second parameter"))?,
    })
}

/// Borrows the target's and the proposal's flat parameter arrays.
fn pairs_of<'a>(target: &'a Side<'_>, proposal: &'a Side<'_>) -> PyResult<Pairs<'a>> {
    Ok(Pairs { target: distributions_of(target, "target")?, proposal: distributions_of(proposal, "proposal")? })
}

/// The settings of an encoding, checked by the core.
#[allow(clippy::too_many_arguments)]
fn encode_settings(
    method: &str,
    seed: u64,
    index_offset: u64,
    max_steps: Option<u64>,
    threads: Option<usize>,
    processes: u32,
    format_version: u8,
    chunk_size: u64,
    sample_type: &str,
) -> PyResult<EncodeSettings> {
    let method = Method::from_name(method).map_err(to_python_error)?;
    let mut settings = EncodeSettings::new(method, seed);
    settings.index_offset = index_offset;
    settings.threads = threads;
    settings.processes = processes;
    settings.format_version = format_version;
    settings.chunk_elements = chunk_size;
    settings.sample_type = SampleType::from_name(sample_type).map_err(to_python_error)?;
    if let Some(steps) = max_steps {
        settings.max_steps = steps;
    }
    Ok(settings)
}

/// Encodes a flat batch of pairs; each side is (family, first parameters, second parameters).
/// Returns (samples, steps, bits, container bytes); `progress(completed)` is called about every
/// 50 ms of a long batch.
#[pyfunction]
#[pyo3(signature = (target, proposal, shape, method, seed, index_offset, max_steps, threads, processes, format_version, chunk_size, sample_type="float64", progress=None))]
#[allow(clippy::too_many_arguments)]
fn encode_pairs<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    shape: Vec<u64>,
    method: &str,
    seed: u64,
    index_offset: u64,
    max_steps: Option<u64>,
    threads: Option<usize>,
    processes: u32,
    format_version: u8,
    chunk_size: u64,
    sample_type: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<EncodeOutput<'py>> {
    let settings =
        encode_settings(method, seed, index_offset, max_steps, threads, processes, format_version, chunk_size, sample_type)?;
    let pairs = pairs_of(&target, &proposal)?;
    let control = BatchControl::new();
    let encoding = run_interruptible(py, pairs.len().map_err(to_python_error)?, &control, progress.as_ref(), || {
        codec::encode_to_bytes(&pairs, &settings, shape, &control)
    })?;
    let bytes = PyBytes::new(py, &encoding.bytes);
    drop(encoding.bytes);
    // Steps stay u64 (Python views them as int64: no step count reaches 2⁶³).
    Ok((encoding.samples.into_pyarray(py), encoding.steps.into_pyarray(py), encoding.bits.into_pyarray(py), bytes))
}

/// A stream header's fields as a dict.
fn header_dict<'py>(py: Python<'py>, version: u8, header: &container::Header) -> PyResult<Bound<'py, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("format_version", version)?;
    info.set_item("method", header.method.name())?;
    info.set_item("target_family", header.target_family.name())?;
    info.set_item("proposal_family", header.proposal_family.name())?;
    info.set_item("seed", header.seed)?;
    info.set_item("index_offset", header.index_offset)?;
    info.set_item("method_parameter", header.method_parameter)?;
    info.set_item("shape", header.shape.clone())?;
    info.set_item("sample_type", header.sample_type.name())?;
    Ok(info)
}

/// Validates a container's framing and checksums and returns its header and chunks as a dict.
#[pyfunction]
fn container_info<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let summary = container::summary(data).map_err(to_python_error)?;
    let info = header_dict(py, summary.version, &summary.header)?;
    info.set_item("payload_bits", summary.payload_bits())?;
    let chunks: Vec<_> = summary
        .chunks
        .iter()
        .map(|c| {
            let chunk = PyDict::new(py);
            chunk.set_item("first_element", c.first_element)?;
            chunk.set_item("element_count", c.element_count)?;
            chunk.set_item("coding", c.coding)?;
            chunk.set_item("model_bytes", c.model_bytes)?;
            chunk.set_item("payload_bits", c.payload_bits)?;
            chunk.set_item("byte_offset", c.byte_range.start)?;
            chunk.set_item("byte_length", c.byte_range.end - c.byte_range.start)?;
            Ok(chunk)
        })
        .collect::<PyResult<_>>()?;
    info.set_item("chunks", chunks)?;
    Ok(info)
}

/// Decodes a container against a flat proposal side (of the stream's proposal family).
#[pyfunction]
#[pyo3(signature = (data, proposal, threads))]
fn decode_pairs<'py>(
    py: Python<'py>,
    data: &[u8],
    proposal: Side<'py>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let proposal = distributions_of(&proposal, "proposal")?;
    let samples = py.detach(|| codec::decode_from_bytes(data, &proposal, threads)).map_err(to_python_error)?;
    Ok(samples.into_pyarray(py))
}

/// Elementwise KL[Q‖P] and D∞[Q‖P] in bits.
#[pyfunction]
fn divergences_pairs<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
) -> PyResult<(Floats<'py>, Floats<'py>)> {
    let pairs = pairs_of(&target, &proposal)?;
    let values = py
        .detach(|| batch::divergences(&pairs))
        .map_err(to_python_error)?;
    let (kl, max): (Vec<f64>, Vec<f64>) = values.into_iter().unzip();
    Ok((kl.into_pyarray(py), max.into_pyarray(py)))
}

/// Elementwise channel simulation divergence D_CS[Q‖P] in bits (bounded ratios only).
#[pyfunction]
fn channel_simulation_divergence_pairs<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
) -> PyResult<Floats<'py>> {
    let pairs = pairs_of(&target, &proposal)?;
    let values = py
        .detach(|| {
            let count = pairs.len()?;
            batch::map_elements(count, |i| {
                channel_simulation_divergence(&pairs.pair(i)?).map_err(|e| e.at_element(i))
            })
        })
        .map_err(to_python_error)?;
    Ok(values.into_pyarray(py))
}

/// Elementwise σ⁻¹(t) (`inverse = true`) or σ(h) (`inverse = false`) of bounded pairs.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn stretch_pairs<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    argument: PyReadonlyArray1<'py, f64>,
    inverse: bool,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let pairs = pairs_of(&target, &proposal)?;
    let argument = slice(&argument, if inverse { "t" } else { "h" })?;
    let values = py
        .detach(|| {
            let count = pairs.len()?;
            if argument.len() != count {
                return Err(CoreError::ShapeMismatch("argument and pair arrays differ in length".into()));
            }
            batch::map_elements(count, |i| {
                let ratio = pairs.pair(i)?;
                let stretch = Stretch::new(&ratio);
                let value = argument[i];
                let result = if inverse {
                    if !(value >= 0.0) {
                        return Err(CoreError::InvalidParameter(format!("t = {value}; t must be ≥ 0")));
                    }
                    stretch.inverse(value)
                } else {
                    // r* = 2^D∞ recomputed by the caller may exceed ours by a rounding error.
                    if !(value >= 0.0 && value <= stretch.max_ratio() * (1.0 + 1e-12)) {
                        return Err(CoreError::InvalidParameter(format!(
                            "h = {value}; h must lie in [0, r*] = [0, {}]",
                            stretch.max_ratio()
                        )));
                    }
                    stretch.stretch(value)
                };
                result.map_err(|e| e.at_element(i))
            })
        })
        .map_err(to_python_error)?;
    Ok(values.into_pyarray(py))
}

/// Elementwise CDF, survival function or quantile (`function` names it) of one side's
/// distributions at `argument`.
#[pyfunction]
fn distribution_values<'py>(
    py: Python<'py>,
    distribution: Side<'py>,
    argument: PyReadonlyArray1<'py, f64>,
    function: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let function = DistributionFunction::from_name(function).map_err(to_python_error)?;
    let distributions = distributions_of(&distribution, "distribution")?;
    let argument = slice(&argument, "argument")?;
    let values = py
        .detach(|| batch::distribution_values(&distributions, argument, function))
        .map_err(to_python_error)?;
    Ok(values.into_pyarray(py))
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RecError", py.get_type::<RecError>())?;
    m.add("CorruptStreamError", py.get_type::<CorruptStreamError>())?;
    m.add("SearchLimitError", py.get_type::<SearchLimitError>())?;
    m.add("FORMAT_VERSION", container::FORMAT_VERSION)?;
    m.add("FORMAT_VERSIONS", container::FORMAT_VERSIONS.iter().map(|&v| v as u32).collect::<Vec<u32>>())?;
    m.add("DEFAULT_CHUNK_SIZE", container::v2::DEFAULT_CHUNK_ELEMENTS)?;
    m.add("MAX_CHUNK_SIZE", container::v2::MAX_CHUNK_ELEMENTS)?;
    m.add("METHODS", crate::method::METHODS.iter().map(|spec| spec.name).collect::<Vec<_>>())?;
    m.add("DEFAULT_PROCESSES", batch::DEFAULT_PROCESSES)?;
    m.add("MAX_PROCESSES", crate::sampler::gprs_parallel::MAX_PROCESSES)?;
    m.add_function(wrap_pyfunction!(encode_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(container_info, m)?)?;
    m.add_function(wrap_pyfunction!(decode_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(divergences_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(stretch_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(channel_simulation_divergence_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(distribution_values, m)?)?;
    blocks::register(m)?;
    streaming::register(m)?;
    trace::register(m)?;
    Ok(())
}

//! Bindings of streams written piece by piece and read chunk by chunk: `stream_header`,
//! `encode_frames`, `decode_frames` and `StreamReader` (over a Python binary file).

use std::io::{BufReader, Read};
use std::sync::{Arc, Mutex};

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use super::{distributions_of, encode_settings, header_dict, pairs_of, run_interruptible, to_python_error, Floats, Side};
use crate::batch::{validate_pairs, with_threads, BatchControl};
use crate::code::container::v2;
use crate::codec::{decode_chunk_into, encode_frames as encode_frames_core};
use crate::distribution::Family;
use crate::error::RecError as CoreError;
use crate::streaming::{self, ChunkRead, StreamReader};

/// The header of a version-2 stream written piece by piece.
#[pyfunction]
#[pyo3(signature = (target_family, proposal_family, shape, method, seed, index_offset, processes, sample_type="float64"))]
fn stream_header<'py>(
    py: Python<'py>,
    target_family: &str,
    proposal_family: &str,
    shape: Vec<u64>,
    method: &str,
    seed: u64,
    index_offset: u64,
    processes: u32,
    sample_type: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let settings = encode_settings(method, seed, index_offset, None, None, processes, 2, 1, sample_type)?;
    let families = (Family::from_name(target_family), Family::from_name(proposal_family));
    let (Ok(target), Ok(proposal)) = families else {
        return Err(to_python_error(CoreError::InvalidParameter(format!(
            "unknown families {target_family:?}, {proposal_family:?}"
        ))));
    };
    let header = streaming::stream_header(&settings, target, proposal, shape).map_err(to_python_error)?;
    Ok(PyBytes::new(py, &header))
}

/// (samples, steps as uint64, bits, frame bytes, chunk frames written).
type FramesOutput<'py> = (Floats<'py>, Bound<'py, PyArray1<u64>>, Floats<'py>, Bound<'py, PyBytes>, usize);

/// Encodes a piece of a stream — its elements `first_element ..` — as chunk frames.
#[pyfunction]
#[pyo3(signature = (target, proposal, method, seed, index_offset, first_element, first_chunk, max_steps, threads, processes, chunk_size))]
#[allow(clippy::too_many_arguments)]
fn encode_frames<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    method: &str,
    seed: u64,
    index_offset: u64,
    first_element: u64,
    first_chunk: usize,
    max_steps: Option<u64>,
    threads: Option<usize>,
    processes: u32,
    chunk_size: u64,
) -> PyResult<FramesOutput<'py>> {
    let settings = encode_settings(method, seed, index_offset, max_steps, threads, processes, 2, chunk_size, "float64")?;
    let pairs = pairs_of(&target, &proposal)?;
    let count = pairs.len().map_err(to_python_error)?;
    let control = BatchControl::new();
    let mut frames = Vec::new();
    let results = run_interruptible(py, count, &control, None, || {
        with_threads(settings.threads, || {
            validate_pairs(&pairs, first_element)?;
            encode_frames_core(&mut frames, &pairs, &settings, first_element, first_chunk, &control)
        })?
    })?;
    let bytes = PyBytes::new(py, &frames);
    Ok((
        results.samples.into_pyarray(py),
        results.steps.into_pyarray(py),
        results.bits.into_pyarray(py),
        bytes,
        results.chunks,
    ))
}

/// Decodes the chunk frames of elements `first_element .. first_element + count` of a stream
/// with header `header` (its bytes) from `frames` (whole frames, the first being chunk number
/// `first_chunk`), against the proposals of those elements.
#[pyfunction]
#[pyo3(signature = (header, frames, first_element, count, first_chunk, proposal, threads))]
#[allow(clippy::too_many_arguments)]
fn decode_frames<'py>(
    py: Python<'py>,
    header: &[u8],
    frames: &[u8],
    first_element: u64,
    count: u64,
    first_chunk: usize,
    proposal: Side<'py>,
    threads: Option<usize>,
) -> PyResult<Floats<'py>> {
    let proposal = distributions_of(&proposal, "proposal")?;
    let samples = py
        .detach(|| {
            let header = v2::header_of(header)?;
            let end = first_element.checked_add(count).ok_or_else(|| CoreError::InvalidParameter("element range overflows".into()))?;
            let mut reader = StreamReader::frames_of(header.clone(), frames, first_element, end, first_chunk)?;
            let count = count as usize;
            proposal.check_length(count, "proposal")?;
            let mut samples = Vec::new();
            samples.try_reserve_exact(count).map_err(|_| {
                CoreError::InvalidParameter(format!("cannot allocate the {count} samples asked for"))
            })?;
            samples.resize(count, 0.0);
            with_threads(threads, || {
                while let Some(chunk) = reader.next_chunk()? {
                    let (owned, start) = match chunk {
                        ChunkRead::Frame(owned) => {
                            let start = (owned.first_element - first_element) as usize;
                            (owned, start)
                        }
                        ChunkRead::Corrupt { error, .. } => return Err(error),
                    };
                    let length = owned.element_count as usize;
                    decode_chunk_into(&header, &owned.frame()?, &proposal.slice(start, length), &mut samples[start..start + length])?;
                }
                Ok(samples)
            })?
        })
        .map_err(to_python_error)?;
    Ok(samples.into_pyarray(py))
}

/// A Python binary file read through its `read` method, for the core's reader. An exception
/// raised by `read` is kept and re-raised as it is (KeyboardInterrupt stays KeyboardInterrupt).
struct PythonFile {
    file: Py<PyAny>,
    error: ReadError,
}

/// Where a [`PythonFile`] leaves the exception of a failed read for the binding to raise.
type ReadError = Arc<Mutex<Option<PyErr>>>;

impl Read for PythonFile {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let result = Python::attach(|py| {
            let data = self.file.bind(py).call_method1("read", (buffer.len(),))?;
            // bytes as they are; bytearray, memoryview and other buffers through bytes().
            let data = match data.cast_into::<PyBytes>() {
                Ok(bytes) => bytes,
                Err(other) => py.get_type::<PyBytes>().call1((other.into_inner(),))?.cast_into::<PyBytes>()?,
            };
            let data = data.as_bytes();
            if data.len() > buffer.len() {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "file.read({}) returned {} bytes",
                    buffer.len(),
                    data.len()
                )));
            }
            buffer[..data.len()].copy_from_slice(data);
            Ok(data.len())
        });
        result.map_err(|error| {
            let message = error.to_string();
            *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
            std::io::Error::other(message)
        })
    }
}

/// The core's chunk-by-chunk reader over a Python binary file.
#[pyclass(name = "StreamReader", module = "rec_fast._core")]
pub struct PyStreamReader {
    reader: StreamReader<BufReader<PythonFile>>,
    read_error: ReadError,
}

/// The Python exception a read raised, if the core's error came from one.
fn raised(read_error: &ReadError, error: CoreError) -> PyErr {
    read_error.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(|| to_python_error(error))
}

#[pymethods]
impl PyStreamReader {
    /// Reads and validates the header of the stream in `file` (with a `read(n)` method).
    #[new]
    fn new(file: Py<PyAny>) -> PyResult<Self> {
        let read_error = ReadError::default();
        let source = BufReader::with_capacity(1 << 20, PythonFile { file, error: Arc::clone(&read_error) });
        let reader = StreamReader::new(source).map_err(|e| raised(&read_error, e))?;
        Ok(PyStreamReader { reader, read_error })
    }

    /// The header fields as a dict.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        header_dict(py, 2, self.reader.header())
    }

    /// The next chunk: None after the last; ("frame", number, first, count, samples) decoded
    /// against `proposal` (one shared value or one per element of the stream); or
    /// ("corrupt", number, first, count, message).
    fn next_chunk<'py>(&mut self, py: Python<'py>, proposal: Side<'py>, threads: Option<usize>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let proposal = distributions_of(&proposal, "proposal")?;
        let count = self.reader.header().element_count().map_err(to_python_error)? as usize;
        proposal.check_length(count, "proposal").map_err(to_python_error)?;
        // Reading calls back into Python (the file), so it runs with the GIL held.
        let Some(chunk) = self.reader.next_chunk().map_err(|e| raised(&self.read_error, e))? else {
            return Ok(None);
        };
        let header = self.reader.header();
        Ok(Some(match chunk {
            ChunkRead::Frame(owned) => {
                let (first, length) = (owned.first_element, owned.element_count as usize);
                let decoded = py.detach(|| {
                    let mut samples = vec![0.0; length];
                    let part = proposal.slice(first as usize, length);
                    with_threads(threads, || decode_chunk_into(header, &owned.frame()?, &part, &mut samples))??;
                    Ok::<_, CoreError>(samples)
                });
                match decoded {
                    Ok(samples) => ("frame", owned.number, first, length as u64, samples.into_pyarray(py)).into_pyobject(py)?,
                    Err(error @ CoreError::CorruptStream(_)) => {
                        ("corrupt", owned.number, first, length as u64, error.message().to_owned()).into_pyobject(py)?
                    }
                    Err(error) => return Err(to_python_error(error)),
                }
            }
            ChunkRead::Corrupt { number, first_element, element_count, error } => {
                ("corrupt", number, first_element, element_count, error.message().to_owned()).into_pyobject(py)?
            }
        }))
    }

    /// The elements the chunks read so far cover.
    fn elements_read(&self) -> u64 {
        self.reader.elements_read()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stream_header, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frames, m)?)?;
    m.add_function(wrap_pyfunction!(decode_frames, m)?)?;
    m.add_class::<PyStreamReader>()?;
    Ok(())
}

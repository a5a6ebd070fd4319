//! Bindings of block coding: `BlockLayout`, `BlockEncoder`, `decode_blocks`, `block_stream_info`.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::{distributions_of, pairs_of, run_interruptible, slice, to_python_error, Floats, Side};
use crate::batch::{self, BatchControl, Pairs};
use crate::block::layout::{BlockLayout, LayoutOrigin};
use crate::block::stream::{self, BlockEncoder, BlockHeader, BlockMethod, BlockSettings, LayoutReference};
use crate::code::container::SampleType;
use crate::distribution::Family;
use crate::pair::Pair;

type Ints<'py> = Bound<'py, PyArray1<i64>>;

fn ints(values: impl IntoIterator<Item = u64>) -> Vec<i64> {
    values.into_iter().map(|v| v as i64).collect()
}

/// Which dimensions of a product target are coded together (the core layout).
#[pyclass(name = "BlockLayout", module = "rec_fast._core", frozen)]
pub struct PyBlockLayout {
    pub inner: BlockLayout,
}

#[pymethods]
impl PyBlockLayout {
    /// The layout both sides build from the expected KL (bits) of every dimension.
    #[staticmethod]
    fn from_kl(py: Python<'_>, expected_kl: PyReadonlyArray1<'_, f64>, bits_per_block: f64, max_block_size: usize, seed: u64) -> PyResult<Self> {
        let kl = slice(&expected_kl, "expected_kl")?;
        let inner = py.detach(|| BlockLayout::from_kl(kl, bits_per_block, max_block_size, seed)).map_err(to_python_error)?;
        Ok(PyBlockLayout { inner })
    }

    /// The layout an encoder builds from the target's own KL and stores in the stream.
    #[staticmethod]
    fn from_target(py: Python<'_>, target: Side<'_>, proposal: Side<'_>, bits_per_block: f64, max_block_size: usize, seed: u64) -> PyResult<Self> {
        let pairs = pairs_of(&target, &proposal)?;
        let inner = py
            .detach(|| {
                // Every pair must be codable; an unbounded one has no finite KL to fill with.
                for i in 0..pairs.len()? {
                    Pair::new(pairs.target.at(i), pairs.proposal.at(i)).map_err(|e| e.at_dimension(i as u64))?;
                }
                let kl: Vec<f64> = batch::divergences(&pairs)?.into_iter().map(|(kl, _)| kl).collect();
                BlockLayout::runs(&kl, bits_per_block, max_block_size, seed)
            })
            .map_err(to_python_error)?;
        Ok(PyBlockLayout { inner })
    }

    /// Reads a layout written by `to_bytes`.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(PyBlockLayout { inner: BlockLayout::from_bytes(data).map_err(to_python_error)? })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    fn block_of<'py>(&self, py: Python<'py>) -> Ints<'py> {
        ints(self.inner.block_of()).into_pyarray(py)
    }

    fn block_dimensions<'py>(&self, py: Python<'py>, block: usize) -> PyResult<Ints<'py>> {
        if block >= self.inner.num_blocks() {
            return Err(super::RecError::new_err(format!("block {block} is not in a layout of {} blocks", self.inner.num_blocks())));
        }
        Ok(ints(self.inner.block_dimensions(block).iter().copied()).into_pyarray(py))
    }

    fn block_sizes<'py>(&self, py: Python<'py>) -> Ints<'py> {
        ints((0..self.inner.num_blocks()).map(|b| self.inner.block_positions(b).len() as u64)).into_pyarray(py)
    }

    fn budgets<'py>(&self, py: Python<'py>) -> Floats<'py> {
        self.inner.budgets().to_vec().into_pyarray(py)
    }

    #[getter]
    fn num_blocks(&self) -> usize {
        self.inner.num_blocks()
    }

    #[getter]
    fn dimensions(&self) -> u64 {
        self.inner.dimensions()
    }

    #[getter]
    fn fingerprint(&self) -> u64 {
        self.inner.fingerprint()
    }

    #[getter]
    fn stored_in_stream(&self) -> bool {
        matches!(self.inner.origin(), LayoutOrigin::Runs { .. })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

/// Codes the blocks of a product target, all at once or one after another.
#[pyclass(name = "BlockEncoder", module = "rec_fast._core")]
pub struct PyBlockEncoder {
    inner: BlockEncoder,
}

/// (dimensions, samples, steps, effective sample size, KL bits) of one coded block.
type CodedOutput<'py> = (Ints<'py>, Floats<'py>, u64, f64, f64);

#[pymethods]
impl PyBlockEncoder {
    #[new]
    #[pyo3(signature = (layout, shape, target_family, proposal_family, method, seed, budget_bits, max_steps, chunk_size, effective_sample_size, threads, sample_type="float64"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        layout: &PyBlockLayout,
        shape: Vec<u64>,
        target_family: &str,
        proposal_family: &str,
        method: &str,
        seed: u64,
        budget_bits: u32,
        max_steps: Option<u64>,
        chunk_size: u64,
        effective_sample_size: bool,
        threads: Option<usize>,
        sample_type: &str,
    ) -> PyResult<Self> {
        let method = BlockMethod::from_name(method).map_err(to_python_error)?;
        let families = (
            Family::from_name(target_family).map_err(to_python_error)?,
            Family::from_name(proposal_family).map_err(to_python_error)?,
        );
        let mut settings = BlockSettings::new(method, seed);
        if method == BlockMethod::Budget {
            settings.budget_bits = budget_bits;
        }
        if let Some(steps) = max_steps {
            settings.max_steps = steps;
        }
        settings.chunk_blocks = chunk_size;
        settings.effective_sample_size = effective_sample_size;
        settings.threads = threads;
        settings.sample_type = SampleType::from_name(sample_type).map_err(to_python_error)?;
        let inner = BlockEncoder::new(layout.inner.clone(), shape, families, settings).map_err(to_python_error)?;
        Ok(PyBlockEncoder { inner })
    }

    /// Codes every remaining block from flat targets and proposals indexed by dimension;
    /// `progress(completed blocks)` is called about every 50 ms, and Ctrl-C stops the coding
    /// (no block is added).
    #[pyo3(signature = (target, proposal, progress=None))]
    fn encode_rest(&mut self, py: Python<'_>, target: Side<'_>, proposal: Side<'_>, progress: Option<Py<PyAny>>) -> PyResult<()> {
        let pairs = pairs_of(&target, &proposal)?;
        let dimensions = pairs.len().map_err(to_python_error)?;
        let inner = &mut self.inner;
        let control = BatchControl::new();
        run_interruptible(py, dimensions, &control, progress.as_ref(), || inner.encode_rest_until(&pairs, &control))
    }

    /// Codes the next block from its targets and proposals in block order.
    fn encode_next<'py>(&mut self, py: Python<'py>, target: Side<'py>, proposal: Side<'py>) -> PyResult<CodedOutput<'py>> {
        let pairs: Pairs<'_> = pairs_of(&target, &proposal)?;
        let block = self.inner.blocks().len();
        let inner = &mut self.inner;
        let coded = py.detach(|| inner.encode_next_in_block_order(&pairs).cloned()).map_err(to_python_error)?;
        let dimensions = ints(self.inner.layout().block_dimensions(block).iter().copied());
        Ok((dimensions.into_pyarray(py), coded.samples.into_pyarray(py), coded.steps, coded.effective_sample_size, coded.kl_bits))
    }

    /// (stream bytes, each block's share of the payload bits), once every block is coded.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, Floats<'py>)> {
        let inner = &self.inner;
        let (bytes, bits) = py.detach(|| inner.finish()).map_err(to_python_error)?;
        Ok((PyBytes::new(py, &bytes), bits.into_pyarray(py)))
    }

    fn samples<'py>(&self, py: Python<'py>) -> Floats<'py> {
        self.inner.samples().into_pyarray(py)
    }

    fn block_steps<'py>(&self, py: Python<'py>) -> Ints<'py> {
        ints(self.inner.blocks().iter().map(|b| b.steps)).into_pyarray(py)
    }

    fn block_effective_sample_size<'py>(&self, py: Python<'py>) -> Floats<'py> {
        self.inner.blocks().iter().map(|b| b.effective_sample_size).collect::<Vec<_>>().into_pyarray(py)
    }

    fn block_kl<'py>(&self, py: Python<'py>) -> Floats<'py> {
        self.inner.blocks().iter().map(|b| b.kl_bits).collect::<Vec<_>>().into_pyarray(py)
    }

    fn header_bytes(&self) -> PyResult<usize> {
        self.inner.header_bytes().map_err(to_python_error)
    }

    #[getter]
    fn coded_blocks(&self) -> usize {
        self.inner.blocks().len()
    }

    fn layout(&self) -> PyBlockLayout {
        PyBlockLayout { inner: self.inner.layout().clone() }
    }
}

/// Decodes a block stream against flat proposal parameters in the stream's shape.
#[pyfunction]
#[pyo3(signature = (data, proposal, layout, threads))]
pub fn decode_blocks<'py>(
    py: Python<'py>,
    data: &[u8],
    proposal: Side<'py>,
    layout: Option<PyRef<'py, PyBlockLayout>>,
    threads: Option<usize>,
) -> PyResult<Floats<'py>> {
    let proposal = distributions_of(&proposal, "proposal")?;
    let layout = layout.as_ref().map(|l| &l.inner);
    let samples = py.detach(|| stream::decode_blocks(data, &proposal, layout, threads)).map_err(to_python_error)?;
    Ok(samples.into_pyarray(py))
}

/// The validated header of a block stream, as a dict (with the stored layout, if any).
#[pyfunction]
pub fn block_stream_info<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let header = BlockHeader::parse(data).map_err(to_python_error)?;
    let info = PyDict::new(py);
    info.set_item("method", header.method.name())?;
    info.set_item("target_family", header.target_family.name())?;
    info.set_item("proposal_family", header.proposal_family.name())?;
    info.set_item("seed", header.seed)?;
    info.set_item("bits_per_block", header.budget_bits)?;
    info.set_item("shape", header.shape.clone())?;
    info.set_item("sample_type", header.sample_type.name())?;
    match header.layout {
        LayoutReference::Shared(fingerprint) => {
            info.set_item("layout_stored", false)?;
            info.set_item("layout_fingerprint", fingerprint)?;
        }
        LayoutReference::Stored(layout) => {
            info.set_item("layout_stored", true)?;
            info.set_item("layout_fingerprint", layout.fingerprint())?;
            info.set_item("layout", Py::new(py, PyBlockLayout { inner: layout })?)?;
        }
    }
    Ok(info)
}

/// Adds the block bindings to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBlockLayout>()?;
    m.add_class::<PyBlockEncoder>()?;
    m.add_function(wrap_pyfunction!(decode_blocks, m)?)?;
    m.add_function(wrap_pyfunction!(block_stream_info, m)?)?;
    m.add("DEFAULT_BITS_PER_BLOCK", stream::DEFAULT_BITS_PER_BLOCK)?;
    m.add("DEFAULT_MAX_BLOCK_SIZE", stream::DEFAULT_MAX_BLOCK_SIZE)?;
    m.add("DEFAULT_BUDGET_BITS", stream::DEFAULT_BUDGET_BITS)?;
    m.add("MAX_BLOCK_SIZE", crate::block::layout::MAX_BLOCK_SIZE)?;
    m.add("DEFAULT_SHARED_BITS_PER_BLOCK", crate::block::layout::DEFAULT_SHARED_BITS_PER_BLOCK)?;
    m.add("DEFAULT_SHARED_MAX_BLOCK_SIZE", crate::block::layout::DEFAULT_SHARED_MAX_BLOCK_SIZE)?;
    m.add("DEFAULT_BLOCK_MAX_STEPS", crate::block::search::DEFAULT_MAX_STEPS)?;
    Ok(())
}

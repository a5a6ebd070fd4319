//! Bindings of the pictures' data: a traced search, the arrivals of an element's Poisson
//! process, r(x), and w_P and w_Q at given heights (`rec_fast.plot` draws them).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{distributions_of, pairs_of, slice, to_python_error, Floats, Side};
use crate::error::RecError as CoreError;
use crate::method::Method;
use crate::pair::{Pair, Proposal};
use crate::ratio::{ratio_at, superlevel_masses_at_height, DensityRatio};
use crate::sampler::trace;

/// The one pair of single-valued sides.
fn single_pair(target: &Side<'_>, proposal: &Side<'_>) -> PyResult<Pair> {
    let pairs = pairs_of(target, proposal)?;
    match pairs.len().map_err(to_python_error)? {
        1 => pairs.pair(0).map_err(to_python_error),
        n => Err(to_python_error(CoreError::ShapeMismatch(format!("expected one (target, proposal) pair, got {n}")))),
    }
}

/// Traces the search of one element: a dict of per-arrival arrays ("step", "time", "sample",
/// "ratio", "graph_height", "interval_left", "interval_right", "accepted", "skipped") and the
/// encoder's "encoded_sample" and "steps", with the ratio's "mode" and "log_max_ratio" (ln r*).
#[pyfunction]
#[pyo3(signature = (target, proposal, method, seed, stream_index, max_steps))]
fn trace_element<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    method: &str,
    seed: u64,
    stream_index: u64,
    max_steps: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let method = Method::from_name(method).map_err(to_python_error)?;
    let pair = single_pair(&target, &proposal)?;
    let traced = py
        .detach(|| trace::trace_element(&pair, method, seed, stream_index, max_steps))
        .map_err(to_python_error)?;
    let arrivals = &traced.arrivals;
    let column = |f: fn(&trace::TracedArrival) -> f64| arrivals.iter().map(f).collect::<Vec<f64>>();
    let flag = |f: fn(&trace::TracedArrival) -> bool| arrivals.iter().map(f).collect::<Vec<bool>>();
    let out = PyDict::new(py);
    out.set_item("method", method.name())?;
    out.set_item("mode", pair.mode())?;
    out.set_item("log_max_ratio", pair.log_max_ratio())?;
    out.set_item("step", arrivals.iter().map(|a| a.step).collect::<Vec<u64>>().into_pyarray(py))?;
    out.set_item("time", column(|a| a.time).into_pyarray(py))?;
    out.set_item("sample", column(|a| a.sample).into_pyarray(py))?;
    out.set_item("ratio", column(|a| a.ratio).into_pyarray(py))?;
    out.set_item("graph_height", column(|a| a.graph_height).into_pyarray(py))?;
    out.set_item("interval_left", column(|a| a.interval.0).into_pyarray(py))?;
    out.set_item("interval_right", column(|a| a.interval.1).into_pyarray(py))?;
    out.set_item("accepted", flag(|a| a.accepted).into_pyarray(py))?;
    out.set_item("skipped", flag(|a| a.skipped).into_pyarray(py))?;
    out.set_item("encoded_sample", traced.encoded.sample)?;
    out.set_item("steps", traced.encoded.steps)?;
    Ok(out)
}

/// The first `count` arrivals (times, locations) of an element's global Poisson process.
#[pyfunction]
#[pyo3(signature = (proposal, seed, stream_index, count))]
fn process_arrivals<'py>(
    py: Python<'py>,
    proposal: Side<'py>,
    seed: u64,
    stream_index: u64,
    count: u64,
) -> PyResult<(Floats<'py>, Floats<'py>)> {
    let side = distributions_of(&proposal, "proposal")?;
    if side.first.len() != 1 || side.second.len() != 1 {
        return Err(to_python_error(CoreError::ShapeMismatch("expected one coding distribution".into())));
    }
    let distribution = Proposal::new(side.family, side.first[0], side.second[0]).map_err(to_python_error)?;
    let arrivals = py
        .detach(|| trace::process_arrivals(&distribution, seed, stream_index, count))
        .map_err(to_python_error)?;
    let (times, samples): (Vec<f64>, Vec<f64>) = arrivals.into_iter().unzip();
    Ok((times.into_pyarray(py), samples.into_pyarray(py)))
}

/// r(x) = dQ/dP(x) of one pair at every x.
#[pyfunction]
fn density_ratio_values<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let pair = single_pair(&target, &proposal)?;
    let x = slice(&x, "x")?;
    let values: Vec<f64> = py.detach(|| x.iter().map(|&x| ratio_at(&pair, x)).collect());
    Ok(values.into_pyarray(py))
}

/// (w_P(h), w_Q(h)) = (P[dQ/dP ≥ h], Q[dQ/dP ≥ h]) of one pair at every height h.
#[pyfunction]
fn superlevel_mass_values<'py>(
    py: Python<'py>,
    target: Side<'py>,
    proposal: Side<'py>,
    h: PyReadonlyArray1<'py, f64>,
) -> PyResult<(Floats<'py>, Floats<'py>)> {
    let pair = single_pair(&target, &proposal)?;
    let h = slice(&h, "h")?;
    let masses = py
        .detach(|| h.iter().map(|&h| superlevel_masses_at_height(&pair, h)).collect::<Result<Vec<_>, _>>())
        .map_err(to_python_error)?;
    let proposal_mass = masses.iter().map(|m| m.proposal).collect::<Vec<f64>>();
    let target_mass = masses.iter().map(|m| m.target).collect::<Vec<f64>>();
    Ok((proposal_mass.into_pyarray(py), target_mass.into_pyarray(py)))
}

/// Adds the functions to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_TRACE_STEPS", trace::MAX_TRACE_STEPS)?;
    m.add_function(wrap_pyfunction!(trace_element, m)?)?;
    m.add_function(wrap_pyfunction!(process_arrivals, m)?)?;
    m.add_function(wrap_pyfunction!(density_ratio_values, m)?)?;
    m.add_function(wrap_pyfunction!(superlevel_mass_values, m)?)?;
    Ok(())
}

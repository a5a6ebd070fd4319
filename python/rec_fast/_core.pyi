"""Type stubs for the compiled core ``rec_fast._core`` (Rust, pyo3).

The public API lives in :mod:`rec_fast`; these functions take flat, contiguous float64
arrays that the Python layer has already broadcast.
"""

from typing import List, Optional, Tuple

import numpy as np
import numpy.typing as npt

FORMAT_VERSION: int
FORMAT_VERSIONS: List[int]
DEFAULT_CHUNK_SIZE: int
MAX_CHUNK_SIZE: int
METHODS: List[str]
DEFAULT_PROCESSES: int
MAX_PROCESSES: int

class RecError(ValueError):
    """Base class of every rec_fast error (a ValueError)."""

class CorruptStreamError(RecError):
    """The bytes are not a valid rec_fast stream."""

class SearchLimitError(RecError):
    """A search reached its documented bound before accepting."""

#: One side of a batch: (family name "Normal", "Laplace" or "Uniform", first parameters,
#: second parameters) — (loc, scale), or (low, high) for "Uniform" — as flat float64 arrays.
Side = Tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64]]

def encode_pairs(
    target: Side,
    proposal: Side,
    shape: List[int],
    method: str,
    seed: int,
    index_offset: int,
    max_steps: Optional[int],
    threads: Optional[int],
    processes: int,
    format_version: int,
    chunk_size: int,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64], bytes]:
    """Encode a flat batch of pairs; returns (samples, steps, bits, container bytes), where
    bits are each element's share of the payload bits.

    Runs without the GIL; from 4,096 elements on, Ctrl-C stops it after the searches in flight
    (KeyboardInterrupt)."""

def container_info(data: bytes) -> dict:
    """Validate a container's framing and checksums; return its header fields and chunks."""

def decode_pairs(data: bytes, proposal: Side, threads: Optional[int]) -> npt.NDArray[np.float64]:
    """Decode a container against a flat proposal side of the stream's element count."""

def divergences_pairs(target: Side, proposal: Side) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Elementwise KL[Q‖P] and D∞[Q‖P] in bits."""

def channel_simulation_divergence_pairs(target: Side, proposal: Side) -> npt.NDArray[np.float64]:
    """Elementwise D_CS[Q‖P] in bits."""

def stretch_pairs(
    target: Side,
    proposal: Side,
    argument: npt.NDArray[np.float64],
    inverse: bool,
) -> npt.NDArray[np.float64]:
    """Elementwise σ⁻¹(t) (inverse=True) or σ(h) (inverse=False)."""

def distribution_values(distribution: Side, argument: npt.NDArray[np.float64], function: str) -> npt.NDArray[np.float64]:
    """Elementwise ``function`` ("cdf", "survival", "quantile" or "upper_quantile") of the
    side's distributions at ``argument``."""

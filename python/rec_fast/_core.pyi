"""Type stubs for the compiled core ``rec_fast._core`` (Rust, pyo3).

The public API lives in :mod:`rec_fast`; these functions take flat, contiguous float64
arrays that the Python layer has already broadcast.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple, final

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
#: second parameters) — (loc, scale), or (low, high) for "Uniform" — as flat float64 arrays,
#: each of one value per element or of one value shared by every element.
_Side = Tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64]]

def encode_pairs(
    target: _Side,
    proposal: _Side,
    shape: List[int],
    method: str,
    seed: int,
    index_offset: int,
    max_steps: Optional[int],
    threads: Optional[int],
    processes: int,
    format_version: int,
    chunk_size: int,
    sample_type: str = "float64",
    progress: Optional[Callable[[int], Any]] = None,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.float64], bytes]:
    """Encode a flat batch of pairs; returns (samples, steps, bits, container bytes), where
    bits are each element's share of the payload bits. Version-2 streams are encoded chunk by
    chunk, holding one chunk's messages at a time. ``sample_type`` ("float64" or "float32")
    is recorded in the header (the samples returned are float64 either way); ``progress``,
    if given, is called with the number of finished elements about every 50 ms.

    Runs without the GIL; from 4,096 elements on, Ctrl-C stops it after the searches in flight
    (KeyboardInterrupt)."""

def container_info(data: bytes) -> dict:
    """Validate a container's framing and checksums; return its header fields and chunks."""

def decode_pairs(data: bytes, proposal: _Side, threads: Optional[int]) -> npt.NDArray[np.float64]:
    """Decode a container against a flat proposal side of the stream's element count."""

def divergences_pairs(target: _Side, proposal: _Side) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Elementwise KL[Q‖P] and D∞[Q‖P] in bits."""

def channel_simulation_divergence_pairs(target: _Side, proposal: _Side) -> npt.NDArray[np.float64]:
    """Elementwise D_CS[Q‖P] in bits."""

def stretch_pairs(
    target: _Side,
    proposal: _Side,
    argument: npt.NDArray[np.float64],
    inverse: bool,
) -> npt.NDArray[np.float64]:
    """Elementwise σ⁻¹(t) (inverse=True) or σ(h) (inverse=False)."""

def distribution_values(distribution: _Side, argument: npt.NDArray[np.float64], function: str) -> npt.NDArray[np.float64]:
    """Elementwise ``function`` ("cdf", "survival", "quantile" or "upper_quantile") of the
    side's distributions at ``argument``."""

DEFAULT_BITS_PER_BLOCK: float
DEFAULT_MAX_BLOCK_SIZE: int
DEFAULT_SHARED_BITS_PER_BLOCK: float
DEFAULT_SHARED_MAX_BLOCK_SIZE: int
DEFAULT_BUDGET_BITS: int
MAX_BLOCK_SIZE: int
DEFAULT_BLOCK_MAX_STEPS: int

@final
class BlockLayout:
    """Which dimensions of a product target are coded together (see :class:`rec_fast.BlockLayout`)."""

    @staticmethod
    def from_kl(expected_kl: npt.NDArray[np.float64], bits_per_block: float, max_block_size: int, seed: int) -> "BlockLayout":
        """Greedy fill of a seeded dimension order to ``bits_per_block`` bits of expected KL."""
    @staticmethod
    def from_target(target: _Side, proposal: _Side, bits_per_block: float, max_block_size: int, seed: int) -> "BlockLayout":
        """The same fill on the target's own KLs; streams store its block sizes."""
    @staticmethod
    def from_bytes(data: bytes) -> "BlockLayout":
        """Read and validate :meth:`to_bytes`."""
    def to_bytes(self) -> bytes: ...
    def block_of(self) -> npt.NDArray[np.int64]: ...
    def block_dimensions(self, block: int) -> npt.NDArray[np.int64]: ...
    def block_sizes(self) -> npt.NDArray[np.int64]: ...
    def budgets(self) -> npt.NDArray[np.float64]: ...
    @property
    def num_blocks(self) -> int: ...
    @property
    def dimensions(self) -> int: ...
    @property
    def fingerprint(self) -> int: ...
    @property
    def stored_in_stream(self) -> bool: ...

@final
class BlockEncoder:
    """Codes the blocks of a product target, all at once or one after another."""

    def __new__(
        cls,
        layout: BlockLayout,
        shape: List[int],
        target_family: str,
        proposal_family: str,
        method: str,
        seed: int,
        budget_bits: int,
        max_steps: Optional[int],
        chunk_size: int,
        effective_sample_size: bool,
        threads: Optional[int],
        sample_type: str = "float64",
    ) -> "BlockEncoder": ...
    def encode_rest(self, target: _Side, proposal: _Side, progress: Optional[Callable[[int], Any]] = None) -> None:
        """Code every remaining block (in parallel, without the GIL) from sides indexed by
        dimension; ``progress(completed blocks)`` is called about every 50 ms, and Ctrl-C stops
        the coding (no block is added)."""
    def encode_next(
        self, target: _Side, proposal: _Side
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int, float, float]:
        """Code the next block from sides in block order; returns (dimensions, samples, steps, ESS, KL bits)."""
    def finish(self) -> Tuple[bytes, npt.NDArray[np.float64]]:
        """(stream bytes, each block's share of the payload bits); every block must be coded."""
    def samples(self) -> npt.NDArray[np.float64]: ...
    def block_steps(self) -> npt.NDArray[np.int64]: ...
    def block_effective_sample_size(self) -> npt.NDArray[np.float64]: ...
    def block_kl(self) -> npt.NDArray[np.float64]: ...
    def header_bytes(self) -> int: ...
    @property
    def coded_blocks(self) -> int: ...
    def layout(self) -> BlockLayout: ...

def decode_blocks(data: bytes, proposal: _Side, layout: Optional[BlockLayout], threads: Optional[int]) -> npt.NDArray[np.float64]:
    """Decode a block stream against a flat proposal side of the stream's dimension count."""

def block_stream_info(data: bytes) -> dict:
    """Validate a block stream's header; return its fields (and its stored layout, if any)."""

def stream_header(target_family: str, proposal_family: str, shape: List[int], method: str, seed: int,
                  index_offset: int, processes: int, sample_type: str = "float64") -> bytes:
    """The header of a version-2 stream written piece by piece."""

def encode_frames(
    target: _Side,
    proposal: _Side,
    method: str,
    seed: int,
    index_offset: int,
    first_element: int,
    first_chunk: int,
    max_steps: Optional[int],
    threads: Optional[int],
    processes: int,
    chunk_size: int,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.float64], bytes, int]:
    """Encode a piece of a stream (its elements ``first_element ..``) as chunk frames of at most
    ``chunk_size`` elements; returns (samples, steps, bits, frame bytes, frames written)."""

def decode_frames(header: bytes, frames: bytes, first_element: int, count: int, first_chunk: int, proposal: _Side,
                  threads: Optional[int]) -> npt.NDArray[np.float64]:
    """Decode the frames of elements ``first_element .. first_element + count`` of the stream
    whose header bytes are ``header``: ``frames`` holds exactly the whole chunk frames that
    cover that range (it starts and ends on chunk boundaries), the first being the stream's
    chunk number ``first_chunk`` (which errors name)."""

@final
class StreamReader:
    """Reads a version-2 stream chunk by chunk from a binary file (anything with ``read(n)``)."""

    def __new__(cls, file: Any) -> "StreamReader": ...
    def header(self) -> Dict[str, Any]:
        """The header fields."""
    def next_chunk(self, proposal: _Side, threads: Optional[int]) -> Optional[Tuple[str, int, int, int, Any]]:
        """None after the last chunk; ("frame", number, first, count, samples) or
        ("corrupt", number, first, count, message)."""
    def elements_read(self) -> int:
        """Elements the chunks read so far cover."""

MAX_TRACE_STEPS: int

def trace_element(
    target: _Side, proposal: _Side, method: str, seed: int, stream_index: int, max_steps: int
) -> Dict[str, Any]:
    """Trace the search of one element (single-valued sides) with method "gprs" or "gprs-bb".

    Runs the encoder's own search on stream (seed, stream_index) and records every arrival it
    examines: a dict of per-arrival arrays "step" (uint64, from 1), "time" (T_n), "sample"
    (X_n, computed also for arrivals global GPRS rejected without it), "ratio" (r(X_n)),
    "graph_height" (σ⁻¹(T_n)), "interval_left" and "interval_right" (the interval B_n that
    X_n was drawn in), "accepted" and "skipped" (bool: rejected by the deficit window before
    its quantile), the encoder's "encoded_sample", "steps" and "method", and the ratio's
    "mode" and "log_max_ratio" (ln r*). Raises
    SearchLimitError when the search reaches ``max_steps`` (at most MAX_TRACE_STEPS)."""

def process_arrivals(
    proposal: _Side, seed: int, stream_index: int, count: int
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(times, locations) of the first ``count`` arrivals of an element's global Poisson process
    of P (single-valued side): the process "gprs" searches, on the same stream."""

def density_ratio_values(target: _Side, proposal: _Side, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """r(x) = dQ/dP(x) of one pair (single-valued sides) at every x."""

def superlevel_mass_values(
    target: _Side, proposal: _Side, h: npt.NDArray[np.float64]
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(w_P(h), w_Q(h)) = (P[dQ/dP ≥ h], Q[dQ/dP ≥ h]) of one pair at every height h (1 for
    h ≤ 0, 0 above r*)."""

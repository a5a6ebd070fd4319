"""Block coding: ONE sample of a many-dimensional product target ∏ᵢ Qᵢ, coded in blocks.

``rf.encode`` treats an array of targets as a batch of independent 1-D problems and pays the
one-shot overhead (a few bits) per element. The functions here treat the whole array as one
target, the product distribution (a diagonal Gaussian posterior, say), group its dimensions
into blocks (:class:`BlockLayout`) and send one message per block, so the overhead is paid per
block. ``docs/blocks.md`` describes the methods, the layout rules and the measured figures.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple

import numpy as np

from . import _core
from ._progress import Progress, check_progress, reporter
from ._api import (Bytes, RecError, _as_sample_type, _check_broadcasts_to, _check_distribution, _check_int,
                   _check_proposal_of_stream, _check_threads, _check_uint64, _float_array, _pair_arrays)

BLOCK_METHODS: Tuple[str, ...] = ("exact", "budget")
#: Defaults of a layout built by the encoder (``layout=None``) and of a shared one
#: (:meth:`BlockLayout.from_kl`), chosen by measurement (``benches/blocks.py``, ``docs/blocks.md``).
DEFAULT_BITS_PER_BLOCK: float = _core.DEFAULT_BITS_PER_BLOCK
DEFAULT_MAX_BLOCK_SIZE: int = _core.DEFAULT_MAX_BLOCK_SIZE
DEFAULT_SHARED_BITS_PER_BLOCK: float = _core.DEFAULT_SHARED_BITS_PER_BLOCK
DEFAULT_SHARED_MAX_BLOCK_SIZE: int = _core.DEFAULT_SHARED_MAX_BLOCK_SIZE
DEFAULT_BUDGET_BITS: int = _core.DEFAULT_BUDGET_BITS
MAX_BLOCK_SIZE: int = _core.MAX_BLOCK_SIZE

def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def _check_bytes(data: Any) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return bytes(data)


class BlockLayout:
    """Which dimensions of a product target are coded together.

    Build one with :meth:`from_kl` from side information both encoder and decoder have (the
    stream then carries only its 64-bit :attr:`fingerprint`), or let :func:`encode_blocks`
    build one from the target itself (:meth:`from_target`; the stream then stores its block
    sizes, and those bits count in every figure).

    Attributes
    ----------
    block_of : int64 ndarray, the target's shape
        The block (0 … num_blocks − 1) of each dimension.
    num_blocks : int
    shape : tuple
    fingerprint : int
        64-bit hash of everything the decoder uses; a stream coded with a shared layout stores it.
    stored_in_stream : bool
        True for a layout built from the target (:meth:`from_target`).

    >>> import numpy as np, rec_fast as rf
    >>> layout = rf.BlockLayout.from_kl(np.full(100, 0.5), seed=1)   # 0.5 bits per dimension
    >>> layout.shape, int(layout.block_of.max()) + 1 == layout.num_blocks
    ((100,), True)
    """

    __slots__ = ("_inner", "shape")

    def __init__(self, inner: Any, shape: Tuple[int, ...]) -> None:
        self._inner = inner
        self.shape = tuple(int(n) for n in shape)

    @classmethod
    def from_kl(cls, expected_kl_bits: Any, bits_per_block: float = DEFAULT_SHARED_BITS_PER_BLOCK,
                max_block_size: int = DEFAULT_SHARED_MAX_BLOCK_SIZE, seed: int = 0) -> "BlockLayout":
        """The layout both sides build from each dimension's expected KL in bits.

        Dimensions are visited in a random order fixed by ``seed`` and filled greedily into
        blocks of at most ``bits_per_block`` bits of expected KL and ``max_block_size``
        dimensions (a dimension above ``bits_per_block`` is a block of its own). Deterministic:
        the same inputs give the same layout on every machine. The expected KLs also weight the
        exact search's choice of axis and set each block's depth model, so the closer they are
        to the target's true KLs, the fewer bits and steps.
        """
        kl = _float_array(expected_kl_bits, "expected_kl_bits")
        inner = _core.BlockLayout.from_kl(np.ascontiguousarray(kl.ravel()), _check_real(bits_per_block, "bits_per_block"),
                                          _check_int(max_block_size, "max_block_size", 1, MAX_BLOCK_SIZE),
                                          _check_uint64(seed, "seed"))
        return cls(inner, kl.shape)

    @classmethod
    def from_target(cls, Q: Any, P: Any, bits_per_block: float = DEFAULT_BITS_PER_BLOCK,
                    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE, seed: int = 0) -> "BlockLayout":
        """The layout :func:`encode_blocks` builds when given none: the greedy fill of
        :meth:`from_kl` on the target's own KLs. The stream stores its block sizes (the
        decoder cannot know the KLs), so its axis weights are equal and every block's depth
        model uses ``bits_per_block``. ``seed`` must be the encoding seed."""
        shape, target, proposal, _ = _pair_arrays(Q, P)
        inner = _core.BlockLayout.from_target(target, proposal, _check_real(bits_per_block, "bits_per_block"),
                                              _check_int(max_block_size, "max_block_size", 1, MAX_BLOCK_SIZE),
                                              _check_uint64(seed, "seed"))
        return cls(inner, shape)

    @classmethod
    def from_bytes(cls, data: Bytes, shape: Optional[Tuple[int, ...]] = None) -> "BlockLayout":
        """Read a layout written by :meth:`to_bytes` (validated: each dimension exactly once)."""
        inner = _core.BlockLayout.from_bytes(_check_bytes(data))
        if shape is None:
            shape = (inner.dimensions,)
        else:
            shape = tuple(shape)
            if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in shape):
                raise RecError(f"shape {shape} must be a tuple of non-negative ints")
            if int(np.prod(shape, dtype=np.int64)) != inner.dimensions:
                raise RecError(f"shape {shape} does not hold the layout's {inner.dimensions} dimensions")
        return cls(inner, tuple(shape))

    def to_bytes(self) -> bytes:
        """The layout's stored form (``docs/format.md``): blocks, dimensions, weights, budgets, CRC."""
        return self._inner.to_bytes()

    @property
    def block_of(self) -> np.ndarray:
        return self._inner.block_of().reshape(self.shape)

    @property
    def num_blocks(self) -> int:
        return int(self._inner.num_blocks)

    @property
    def fingerprint(self) -> int:
        return int(self._inner.fingerprint)

    @property
    def stored_in_stream(self) -> bool:
        return bool(self._inner.stored_in_stream)

    @property
    def block_sizes(self) -> np.ndarray:
        """Dimensions per block."""
        return self._inner.block_sizes()

    @property
    def block_budgets(self) -> np.ndarray:
        """Each block's KL budget in bits (its depth model's parameter)."""
        return self._inner.budgets()

    def block_dimensions(self, block: int) -> np.ndarray:
        """Flat (row-major) indices of block ``block``'s dimensions, in the order its search sees them."""
        return self._inner.block_dimensions(_check_int(block, "block", 0, max(0, self.num_blocks - 1)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockLayout) and self.shape == other.shape and self._inner == other._inner

    def __hash__(self) -> int:
        return hash((self.shape, self.fingerprint))

    def __repr__(self) -> str:
        return (f"BlockLayout(shape={self.shape}, num_blocks={self.num_blocks}, "
                f"stored_in_stream={self.stored_in_stream})")


class BlockEncoding:
    """The result of :func:`encode_blocks` (or of a finished :class:`BlockEncoder`).

    Attributes
    ----------
    samples : ndarray, the target's shape, float64 (float32 for float32 targets)
        ONE sample of ∏ᵢ Qᵢ, reconstructed bit for bit by :func:`decode_blocks`; exactly
        distributed as the product for ``method="exact"``, approximately for ``"budget"``.
    block_bits : float64 ndarray
        Each block's share of the payload bits.
    block_steps : int64 ndarray
        Nodes examined per block (exact) or candidates per block (budget).
    block_kl : float64 ndarray
        KL of each block's targets in bits (its dimensions' KLs added).
    block_ess : float64 ndarray
        Budget method with ``effective_sample_size=True``: the effective sample size
        (Σ r)² / Σ r² of each block's 2^b candidate weights r = dQ/dP — the approximation is
        poor where it is small. NaN otherwise.
    layout : BlockLayout
    method, seed

    >>> import numpy as np, rec_fast as rf
    >>> enc = rf.encode_blocks(rf.Normal(np.linspace(-1.0, 1.0, 100), 0.3), rf.Normal(0.0, 1.0), seed=2)
    >>> enc.samples.shape, enc.block_steps.size == enc.layout.num_blocks, 8 * len(enc.to_bytes()) == enc.total_bits
    ((100,), True, True)
    """

    __slots__ = ("samples", "block_bits", "block_steps", "block_kl", "block_ess", "layout", "method", "seed", "_data")

    def __init__(self, samples, block_bits, block_steps, block_kl, block_ess, layout, method, seed, data) -> None:
        self.samples = samples
        self.block_bits = block_bits
        self.block_steps = block_steps
        self.block_kl = block_kl
        self.block_ess = block_ess
        self.layout = layout
        self.method = method
        self.seed = seed
        self._data = data

    def to_bytes(self) -> bytes:
        """The block stream: header (with the stored layout or the shared layout's fingerprint),
        then checksummed chunks of block messages (``docs/format.md``)."""
        return self._data

    @property
    def total_bits(self) -> int:
        """All bits of the stream, header and layout included: ``8 * len(to_bytes())``."""
        return 8 * len(self._data)

    @property
    def payload_bits(self) -> int:
        return int(round(float(self.block_bits.sum())))

    @property
    def header_bits(self) -> int:
        """Bits of the header (with a stored layout), chunk framing, models and checksums."""
        return self.total_bits - self.payload_bits

    @property
    def kl_bits(self) -> float:
        """Total KL[∏Q ‖ ∏P] in bits."""
        return float(self.block_kl.sum())

    def __repr__(self) -> str:
        return (f"BlockEncoding(method={self.method!r}, shape={self.samples.shape}, blocks={self.layout.num_blocks}, "
                f"bits={self.total_bits}, kl_bits={self.kl_bits:.1f})")


def _settings(method: Any, layout: Any, bits_per_block: Any, max_block_size: Any):
    """(method, budget bits, layout fill target, max block size) after validation."""
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    if method not in BLOCK_METHODS:
        raise RecError(f"unknown block method {method!r}; use 'exact' or 'budget'")
    if layout is not None and not isinstance(layout, BlockLayout):
        raise TypeError(f"layout must be a rf.BlockLayout or None, got {type(layout).__name__}")
    if layout is not None and max_block_size is not None:
        raise RecError("max_block_size applies only when encode_blocks builds the layout (layout=None)")
    if method == "budget":
        budget = DEFAULT_BUDGET_BITS if bits_per_block is None else _check_int(bits_per_block, "bits_per_block", 1, 32)
        size = MAX_BLOCK_SIZE if max_block_size is None else _check_int(max_block_size, "max_block_size", 1, MAX_BLOCK_SIZE)
        return method, budget, float(budget), size
    if layout is not None and bits_per_block is not None:
        raise RecError("bits_per_block of the exact method sets the layout's fill target; the given layout "
                       "already has one (pass bits_per_block to BlockLayout.from_kl instead)")
    fill = DEFAULT_BITS_PER_BLOCK if bits_per_block is None else _check_real(bits_per_block, "bits_per_block")
    size = DEFAULT_MAX_BLOCK_SIZE if max_block_size is None else _check_int(max_block_size, "max_block_size", 1, MAX_BLOCK_SIZE)
    return method, 0, fill, size


class BlockEncoder:
    """Codes the blocks of a product target one at a time (progressive coding).

    COMBINER-style training fine-tunes the posterior of the dimensions not yet coded after each
    block: code block k with :meth:`encode_next` given the *current* targets, update the rest,
    repeat; :meth:`to_bytes` then writes the same stream :func:`encode_blocks` would have
    written for targets that never changed. ``P``, the layout and the samples' ``dtype``
    (float64, or float32, which the stream records) are fixed up front.

    >>> import numpy as np, rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> loc, scale = np.linspace(-1.0, 1.0, 40), np.full(40, 0.3)
    >>> layout = rf.BlockLayout.from_kl(rf.kl_divergence(rf.Normal(loc, scale), P), seed=1)
    >>> enc = rf.BlockEncoder(P, layout, seed=0)
    >>> while not enc.done:
    ...     dims, x = enc.encode_next(rf.Normal(loc, scale))  # the current posterior (full shape)
    ...     loc[dims] = x                                      # "fine-tune" the coded dimensions
    >>> data = enc.to_bytes()
    >>> rf.decode_blocks(data, P, layout=layout).shape
    (40,)
    """

    def __init__(self, P: Any, layout: BlockLayout, seed: int = 0, method: str = "exact", *,
                 bits_per_block: Optional[int] = None, max_steps: Optional[int] = None,
                 threads: Optional[int] = None, chunk_size: Optional[int] = None,
                 effective_sample_size: bool = False, target_family: Optional[str] = None,
                 dtype: Any = np.float64) -> None:
        P = _check_distribution(P, "coding distribution P")
        if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {np.dtype(dtype)}")
        self._sample_type = np.dtype(dtype).name
        if not isinstance(layout, BlockLayout):
            raise TypeError(f"layout must be a rf.BlockLayout, got {type(layout).__name__}")
        method, budget, _, _ = _settings(method, layout, None if method == "exact" else bits_per_block, None)
        if method == "exact" and bits_per_block is not None:
            raise RecError("bits_per_block applies to the budget method; the exact method's layout sets its blocks")
        shape = layout.shape
        _check_broadcasts_to(P, shape, f"P's shape {P.shape} does not broadcast to the layout's shape {shape}")
        if max_steps is not None:
            max_steps = _check_uint64(max_steps, "max_steps")
            if max_steps < 1:
                raise RecError("max_steps = 0; max_steps must be ≥ 1")
        chunk = _core.DEFAULT_CHUNK_SIZE if chunk_size is None else _check_int(chunk_size, "chunk_size", 1, _core.MAX_CHUNK_SIZE)
        if target_family is None:
            target_family = P.family  # Uniform targets on a Normal or Laplace P pass "Uniform"
        elif target_family not in ("Normal", "Laplace", "Uniform"):
            raise RecError(f"target_family = {target_family!r}; use 'Normal', 'Laplace' or 'Uniform'")
        self._P = P
        self._layout = layout
        self._method = method
        self._seed = _check_uint64(seed, "seed")
        self._threads = _check_threads(threads)
        self._target_family = target_family
        self._inner = _core.BlockEncoder(layout._inner, list(shape), target_family, P.family, method, self._seed,
                                         budget, max_steps, chunk, bool(effective_sample_size), self._threads,
                                         self._sample_type)

    @property
    def layout(self) -> BlockLayout:
        return self._layout

    @property
    def coded_blocks(self) -> int:
        return int(self._inner.coded_blocks)

    @property
    def done(self) -> bool:
        return self.coded_blocks == self._layout.num_blocks

    def _block_sides(self, Q: Any, dims: np.ndarray):
        Q = _check_distribution(Q, "target Q")
        if Q.family != self._target_family:
            raise RecError(f"this encoder codes {self._target_family} targets, not {Q.family}")
        index = np.unravel_index(dims, self._layout.shape) if self._layout.shape else ()

        def side(distribution):
            first, second = distribution._parameters()
            try:
                first = np.atleast_1d(np.broadcast_to(first, self._layout.shape)[index])
                second = np.atleast_1d(np.broadcast_to(second, self._layout.shape)[index])
            except ValueError:
                raise RecError(f"shape {distribution.shape} does not broadcast to the layout's shape "
                               f"{self._layout.shape}") from None
            return (distribution.family, np.ascontiguousarray(first, dtype=np.float64),
                    np.ascontiguousarray(second, dtype=np.float64))
        return side(Q), side(self._P)

    def encode_next(self, Q: Any) -> Tuple[np.ndarray, np.ndarray]:
        """Code the next block from the current targets ``Q`` (the layout's shape; only the
        block's dimensions are read). Returns (flat indices of its dimensions, their samples)."""
        if self.done:
            raise RecError(f"all {self._layout.num_blocks} blocks are already coded")
        dims = self._layout.block_dimensions(self.coded_blocks)
        target, proposal = self._block_sides(Q, dims)
        dims, samples, _, _, _ = self._inner.encode_next(target, proposal)
        return dims, _as_sample_type(samples, self._sample_type)

    def encode_rest(self, Q: Any, *, progress: Progress = False) -> None:
        """Code every remaining block from ``Q`` at once (in parallel). ``progress`` as in
        :func:`encode_blocks` (counting blocks)."""
        Q = _check_distribution(Q, "target Q")
        if Q.family != self._target_family:
            raise RecError(f"this encoder codes {self._target_family} targets, not {Q.family}")
        shape, target, proposal, _ = _pair_arrays(Q, self._P)
        if shape != self._layout.shape:
            raise RecError(f"Q and P broadcast to {shape}, not to the layout's shape {self._layout.shape}")
        progress = check_progress(progress)
        with reporter(progress, self._layout.num_blocks - self.coded_blocks, "block") as report:
            self._inner.encode_rest(target, proposal, report)

    @property
    def samples(self) -> np.ndarray:
        """The samples coded so far, in the layout's shape (NaN where no block is coded yet), of
        the encoder's ``dtype``."""
        return _as_sample_type(self._inner.samples(), self._sample_type).reshape(self._layout.shape)

    def encoding(self) -> BlockEncoding:
        """The finished stream and its figures (every block must be coded)."""
        data, block_bits = self._inner.finish()
        return BlockEncoding(self.samples, block_bits, self._inner.block_steps(), self._inner.block_kl(),
                             self._inner.block_effective_sample_size(), self._layout, self._method, self._seed, data)

    def to_bytes(self) -> bytes:
        """The stream (every block must be coded)."""
        return self._inner.finish()[0]


def encode_blocks(Q: Any, P: Any, seed: int = 0, method: str = "exact", layout: Optional[BlockLayout] = None,
                  bits_per_block: Optional[float] = None, *, max_block_size: Optional[int] = None,
                  max_steps: Optional[int] = None, threads: Optional[int] = None,
                  chunk_size: Optional[int] = None, effective_sample_size: bool = False,
                  progress: Progress = False) -> BlockEncoding:
    """Code ONE sample of the product target ∏ᵢ Q[i] against ∏ᵢ P[i], block by block.

    Parameters
    ----------
    Q, P : rf.Normal, rf.Laplace or rf.Uniform
        Targets and coding distributions; their parameter arrays broadcast together (any
        shape: the whole array is one joint target). Every dimension's ratio dQ/dP must be
        bounded, as for :func:`rf.encode`.
    seed : int in [0, 2**64)
        Shared with the decoder. Every block draws from its own streams (derived from the seed
        and its block number), so results do not depend on ``threads``.
    method : {"exact", "budget"}
        ``"exact"`` (default): A* coding over axis-aligned boxes; the sample is exactly
        distributed as ∏ Qᵢ; bits ≈ block KL + a few bits per block. ``"budget"``: COMBINER's
        truncated PFR over 2^bits_per_block candidates: exactly ``bits_per_block`` bits per
        block and an *approximate* sample (biased where a block's KL nears its budget).
    layout : BlockLayout, optional
        Which dimensions are coded together. ``None``: built from Q's own per-dimension KL
        (:meth:`BlockLayout.from_target`) and stored in the stream. A shared layout
        (:meth:`BlockLayout.from_kl`) must be passed to :func:`decode_blocks` too; the stream
        then carries only its fingerprint.
    bits_per_block : float or int, optional
        ``"exact"``: the KL target of the layout built from Q (default 10 bits); ``"budget"``:
        the candidate bits per block (default 16), also the layout's fill target.
    max_block_size : int, optional
        The largest block of a layout built from Q (default 12 for "exact", 64 for "budget").
    max_steps : int, optional
        Bound on the nodes one block's exact search examines (default 2**16); reaching it
        raises :class:`SearchLimitError` naming the block.
    effective_sample_size : bool
        Budget method: evaluate every candidate's weight to report ``block_ess`` (slower:
        without it the encoder stops evaluating a candidate once it cannot win).
    progress : bool or callable, optional
        ``True`` shows a tqdm bar of coded blocks once the coding has run for a second (needs
        ``pip install rec_fast[progress]``); a function ``f(completed, total)`` is called about
        every 50 ms instead. Targets of 4,096 or more dimensions report.

    Returns
    -------
    BlockEncoding
        The sample (Q's shape; float32 when Q's parameters are, as for :func:`rf.encode`), the
        stream and per-block figures.

    Raises
    ------
    RecError
        Bad parameters, a layout that does not fit Q, or an unbounded ratio, naming the
        dimension (and block). :class:`SearchLimitError` when a block's search hits its bound.

    Examples
    --------
    >>> import numpy as np, rec_fast as rf
    >>> Q = rf.Normal(np.linspace(-1.0, 1.0, 200), 0.3)
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode_blocks(Q, P, seed=3)
    >>> bool((rf.decode_blocks(enc.to_bytes(), P) == enc.samples).all())
    True
    """
    method, budget, fill, size = _settings(method, layout, bits_per_block, max_block_size)
    seed = _check_uint64(seed, "seed")
    shape, target, proposal, _ = _pair_arrays(Q, P)
    if layout is None:
        layout = BlockLayout.from_target(Q, P, fill, size, seed)
    elif layout.shape != shape:
        raise RecError(f"the layout's shape {layout.shape} does not match the target's shape {shape}")
    encoder = BlockEncoder(P, layout, seed, method, bits_per_block=budget if method == "budget" else None,
                           max_steps=max_steps, threads=threads, chunk_size=chunk_size,
                           effective_sample_size=effective_sample_size, target_family=Q.family, dtype=Q.dtype)
    progress = check_progress(progress)
    with reporter(progress, layout.num_blocks, "block") as report:
        encoder._inner.encode_rest(target, proposal, report)
    return encoder.encoding()


def block_stream_info(data: Bytes) -> dict:
    """Validate a block stream's header and return its fields: ``method``, ``target_family``,
    ``proposal_family``, ``seed``, ``bits_per_block`` (budget method; 0 for exact), ``shape``,
    ``layout_stored``, ``layout_fingerprint`` and, if stored, ``layout`` (a BlockLayout).
    Raises :class:`CorruptStreamError` for bytes that are not a block stream's header.

    >>> import numpy as np, rec_fast as rf
    >>> enc = rf.encode_blocks(rf.Normal(np.zeros(50), 0.3), rf.Normal(0.0, 1.0), seed=3)
    >>> info = rf.block_stream_info(enc.to_bytes())
    >>> info["method"], info["shape"], info["layout_stored"]
    ('exact', (50,), True)
    """
    info = _core.block_stream_info(_check_bytes(data))
    info["shape"] = tuple(int(n) for n in info["shape"])
    if info["layout_stored"]:
        info["layout"] = BlockLayout(info["layout"], info["shape"])
    return info


def decode_blocks(data: Bytes, P: Any, layout: Optional[BlockLayout] = None, *,
                  threads: Optional[int] = None) -> np.ndarray:
    """Reconstruct the sample of a block stream from :func:`encode_blocks`.

    ``P`` must be the encoder's coding distribution (broadcasting to the stream's shape);
    ``layout`` is required iff the stream does not store its own, and must be the encoder's
    (a different one raises :class:`RecError` from the fingerprint check). Returns an array of
    the stream's shape and sample type (float64, or float32), bit-identical to ``BlockEncoding.samples``. Corrupt or
    truncated bytes raise :class:`CorruptStreamError`.

    >>> import numpy as np, rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode_blocks(rf.Normal(np.linspace(-1.0, 1.0, 30), 0.2), P, seed=5)
    >>> rf.decode_blocks(enc.to_bytes(), P)[:3].tolist() == enc.samples[:3].tolist()
    True
    """
    data = _check_bytes(data)
    info = block_stream_info(data)
    P = _check_proposal_of_stream(P, info)
    if layout is not None and not isinstance(layout, BlockLayout):
        raise TypeError(f"layout must be a rf.BlockLayout or None, got {type(layout).__name__}")
    shape = info["shape"]
    # The layout checks come before P is broadcast to the (declared) shape.
    if not info["layout_stored"] and layout is None:
        raise RecError(f"the stream does not store its layout (fingerprint {info['layout_fingerprint']:#018x}); "
                       "pass the layout it was coded with")
    dimensions = int(np.prod(shape, dtype=np.int64))
    if layout is not None and (layout.fingerprint != info["layout_fingerprint"]
                               or layout._inner.dimensions != dimensions):
        raise RecError(f"the stream was coded with another layout (fingerprint {info['layout_fingerprint']:#018x}, "
                       f"{dimensions} dimensions) than the one given (fingerprint {layout.fingerprint:#018x}, "
                       f"{layout._inner.dimensions} dimensions)")
    threads = _check_threads(threads)
    inner = None if layout is None else layout._inner
    try:
        side = P._side(shape)
    except MemoryError:
        raise RecError(f"cannot allocate the proposal for the {int(np.prod(shape, dtype=np.int64))} dimensions "
                       "the stream declares") from None
    samples = _core.decode_blocks(data, side, inner, threads)
    return _as_sample_type(samples, info["sample_type"], decoding=True).reshape(shape)


__all__ = ["BLOCK_METHODS", "BlockEncoder", "BlockEncoding", "BlockLayout", "block_stream_info", "decode_blocks",
           "encode_blocks"]

"""The Python face of rec_fast: distributions, encode/decode, divergences, the stretch function.

Everything numeric happens in the Rust core (``rec_fast._core``); this module only checks
types, broadcasts parameter arrays with numpy and reshapes results.
"""

from __future__ import annotations

import mmap
import numbers
from typing import Any, List, Literal, Optional, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from . import _core
from ._core import FORMAT_VERSION, CorruptStreamError, RecError, SearchLimitError
from ._progress import Progress, check_progress, reporter

#: The bytes types the decoders accept.
Bytes = Union[bytes, bytearray, memoryview]
#: A float64 or float32 array (float32 where the targets' parameters are float32).
FloatArray = npt.NDArray[np.floating[Any]]

METHODS: Tuple[str, ...] = tuple(_core.METHODS)
_UINT64_LIMIT = 1 << 64
_MAX_THREADS = 1024


def _float_array(value: Any, name: str) -> npt.NDArray[np.floating[Any]]:
    """``value`` (anything ``numpy.asarray`` takes: numbers, lists, arrays, CPU torch tensors,
    JAX arrays) as a new read-only array: float32 stays float32, other reals become float64."""
    if isinstance(value, np.ma.MaskedArray):
        # np.asarray would drop the mask and use the hidden values.
        raise TypeError(f"{name} must not be a masked array; fill or compress it first")
    array = np.asarray(value)
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a float or an array of floats, got {type(value).__name__} "
                        f"with dtype {array.dtype}")
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    if array.dtype == dtype and _immutable(array):
        return array  # nothing can change it (a read-only memmap, say): no copy of a large input
    # A copy, so that the caller changing their array cannot change a distribution.
    owned = np.array(array, dtype=dtype)
    owned.setflags(write=False)
    return owned


def _immutable(array: np.ndarray) -> bool:
    """Whether no writeable numpy array shares ``array``'s memory: it and every array it views
    are read-only (a memmap opened with mode "r" ends in a read-only mmap)."""
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, (bytes, mmap.mmap))


def _first_bad(mask: np.ndarray) -> Tuple[Tuple[int, ...], str]:
    """The first flagged index and the message prefix naming it (none for a scalar)."""
    where = tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()
    return where, f"element {where}: " if where else ""


class _Distribution:
    """A distribution family whose two parameter arrays broadcast like numpy arrays.

    Immutable: the parameters are the distribution's own read-only copies. Two distributions
    are equal when family, shapes and parameter values are; they are not hashable (their
    parameters are arrays).
    """

    __slots__ = ("shape", "dtype")
    family = ""
    shape: Tuple[int, ...]
    #: float32 when the parameters given as arrays are all float32 (Python numbers adapt, as
    #: in numpy): such targets give float32 samples. Otherwise float64.
    dtype: np.dtype

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.family} is immutable")

    def _parameters(self) -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _set_parameters(self, names: Tuple[str, str], given: Tuple[Any, Any],
                        arrays: Tuple[np.ndarray, np.ndarray], shape: Tuple[int, ...]) -> None:
        for name, array in zip(names, arrays):
            object.__setattr__(self, name, array)
        object.__setattr__(self, "shape", shape)
        typed = [array.dtype for value, array in zip(given, arrays) if type(value) not in (int, float)]
        single = bool(typed) and all(dtype == np.float32 for dtype in typed)
        object.__setattr__(self, "dtype", np.dtype(np.float32 if single else np.float64))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Distribution):
            return NotImplemented
        return (self.family == other.family and self.shape == other.shape and self.dtype == other.dtype
                and all(a.shape == b.shape and np.array_equal(a, b)
                        for a, b in zip(self._parameters(), other._parameters())))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickle and copy rebuild through the constructor (which checks the values) and keep the
        # dtype, which Python numbers among the parameters decided.
        return _rebuild_distribution, (type(self), *self._parameters(), self.dtype)

    def _side(self, shape: Tuple[int, ...]) -> Tuple[str, np.ndarray, np.ndarray]:
        """(family, first parameters, second parameters), broadcast to ``shape`` and flattened."""
        first, second = self._parameters()
        return (self.family,
                np.ascontiguousarray(np.broadcast_to(first, shape), dtype=np.float64).ravel(),
                np.ascontiguousarray(np.broadcast_to(second, shape), dtype=np.float64).ravel())

    def _compact_side(self, shape: Tuple[int, ...]) -> Tuple[str, np.ndarray, np.ndarray]:
        """Like :meth:`_side`, but a parameter holding one value for every element is passed as
        that one value, and one of the full shape as a flat view when it is contiguous float64:
        the core broadcasts length-1 arrays, so a scalar P costs no memory per element."""
        def flat(values: np.ndarray) -> np.ndarray:
            if values.size == 1:
                return np.ascontiguousarray(values, dtype=np.float64).reshape(1)
            # Aligned as well as contiguous: arrays unpickled from a message buffer may be neither.
            return np.require(np.broadcast_to(values, shape), np.float64, ["C", "A"]).reshape(-1)
        first, second = self._parameters()
        return self.family, flat(first), flat(second)

    def _evaluate(self, function: str, argument: ArrayLike, name: str) -> Any:
        values = _float_array(argument, name)
        try:
            shape = tuple(np.broadcast_shapes(self.shape, values.shape))
        except ValueError:
            raise RecError(f"{self.family} shape {self.shape} and {name} shape {values.shape} "
                           "do not broadcast") from None
        flat = np.ascontiguousarray(np.broadcast_to(values, shape), dtype=np.float64).ravel()
        return _core.distribution_values(self._side(shape), flat, function).reshape(shape)[()]

    def cdf(self, x: ArrayLike) -> Any:
        """F(x) = P[X ≤ x], elementwise (x broadcasts against the parameters).

        About 1e-13 relative precision in the lower tail, down to ~1e-300 (a Normal's Φ(z) from
        ``erfc``, a Laplace's ½e^{(x − loc)/scale}); in the upper tail use :meth:`survival`,
        which does not round 1 − F(x) to 0. ``x`` may be ±inf, not NaN.
        """
        return self._evaluate("cdf", x, "x")

    def survival(self, x: ArrayLike) -> Any:
        """1 − F(x) = P[X > x], elementwise, with about 1e-13 relative precision in the upper tail."""
        return self._evaluate("survival", x, "x")

    def quantile(self, p: ArrayLike) -> Any:
        """The x with F(x) = p, elementwise, for p in [0, 1] (the support's ends at 0 and 1).

        The same libm-based functions that map decoded draws to samples (Wichura's AS 241 for
        Normal), so results are bit-identical across platforms. For p > 1/2 the upper tail
        1 − p is exact; to reach further right than 1 − 2⁻⁵³ use :meth:`upper_quantile`.
        """
        return self._evaluate("quantile", p, "p")

    def upper_quantile(self, q: ArrayLike) -> Any:
        """The x with 1 − F(x) = q, elementwise, for q in [0, 1]: the quantile of an upper-tail
        probability, with full relative resolution in q (``upper_quantile(1e-300)`` lies about 37
        scales right of a Normal's mean)."""
        return self._evaluate("upper_quantile", q, "q")


def _rebuild_distribution(cls: Any, first: np.ndarray, second: np.ndarray, dtype: np.dtype) -> "_Distribution":
    distribution = cls(first, second)
    object.__setattr__(distribution, "dtype", dtype)
    return distribution  # type: ignore[no-any-return]


def _broadcast_parameters(name: str, first: np.ndarray, second: np.ndarray,
                          names: Tuple[str, str]) -> Tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(first.shape, second.shape))
    except ValueError:
        raise RecError(f"{name} {names[0]} shape {first.shape} and {names[1]} shape {second.shape} "
                       "do not broadcast") from None


class _LocationScale(_Distribution):
    """A location-scale family whose ``loc`` and ``scale`` broadcast like numpy arrays."""

    __slots__ = ("loc", "scale")

    def __init__(self, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> None:
        name = self.family
        loc_array = _float_array(loc, "loc")
        scale_array = _float_array(scale, "scale")
        shape = _broadcast_parameters(name, loc_array, scale_array, ("loc", "scale"))
        bad_loc = ~np.isfinite(loc_array)
        if bad_loc.any():
            where, prefix = _first_bad(bad_loc)
            raise RecError(f"{prefix}{name} loc {loc_array[where]} is not finite; "
                           "loc must be a finite float")
        bad_scale = ~(np.isfinite(scale_array) & (scale_array > 0))
        if bad_scale.any():
            where, prefix = _first_bad(bad_scale)
            raise RecError(f"{prefix}{name} scale {scale_array[where]} is not allowed; "
                           "scale must be finite and > 0")
        self._set_parameters(("loc", "scale"), (loc, scale), (loc_array, scale_array), shape)

    def __repr__(self) -> str:
        if self.shape == ():
            return f"{self.family}(loc={float(self.loc)!r}, scale={float(self.scale)!r})"
        return f"{self.family}(shape={self.shape})"

    def _parameters(self) -> Tuple[np.ndarray, np.ndarray]:
        return self.loc, self.scale


class Normal(_LocationScale):
    """The normal distribution N(loc, scale²); ``loc`` and ``scale`` broadcast like numpy arrays.

    Density ``exp(-(x - loc)² / (2 scale²)) / (scale √(2π))``. ``loc`` must be finite and
    ``scale`` finite and > 0; a violation raises :class:`RecError` naming the element.
    Parameters are anything ``numpy.asarray`` takes; the distribution keeps read-only copies.

    >>> import rec_fast as rf
    >>> Q = rf.Normal(loc=[0.0, 1.0], scale=0.5)
    >>> Q.shape, Q.dtype.name, round(float(rf.Normal(0.0, 1.0).quantile(0.975)), 4)
    ((2,), 'float64', 1.96)
    """

    __slots__ = ()
    family = "Normal"


class Laplace(_LocationScale):
    """The Laplace distribution L(loc, scale); ``loc`` and ``scale`` broadcast like numpy arrays.

    Density ``exp(-|x - loc| / scale) / (2 scale)``. Laplace targets pair with Laplace coding
    distributions of at least their scale (equal scales with different locations give a ratio
    with a plateau, which every method handles).

    >>> import rec_fast as rf
    >>> float(rf.Laplace(0.0, 1.0).cdf(0.0))
    0.5
    """

    __slots__ = ()
    family = "Laplace"


class Uniform(_Distribution):
    """The uniform distribution U(low, high); ``low`` and ``high`` broadcast like numpy arrays.

    Density ``1 / (high - low)`` on ``[low, high]``. Both ends must be finite with
    ``low < high`` and a finite width. As a target it pairs with a Uniform coding distribution
    whose support covers it, or with a Normal or Laplace coding distribution. When the
    proposal's mode lies strictly inside (low, high) the ratio dQ/dP is not unimodal and only
    the global methods ("gprs", "pfr", "gprs-parallel") apply.

    >>> import rec_fast as rf
    >>> enc = rf.encode(rf.Uniform(0.2, 0.3), rf.Uniform(0.0, 1.0), method="gprs")
    >>> bool(0.2 <= enc.samples <= 0.3)
    True
    """

    __slots__ = ("low", "high")
    family = "Uniform"

    def __init__(self, low: ArrayLike = 0.0, high: ArrayLike = 1.0) -> None:
        low_array = _float_array(low, "low")
        high_array = _float_array(high, "high")
        shape = _broadcast_parameters("Uniform", low_array, high_array, ("low", "high"))
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~(np.isfinite(low_array) & np.isfinite(high_array) & (low_array < high_array)
                    & np.isfinite(high_array - low_array))
        if bad.any():
            where, prefix = _first_bad(np.broadcast_to(bad, shape))
            lo = np.broadcast_to(low_array, shape)[where]
            hi = np.broadcast_to(high_array, shape)[where]
            raise RecError(f"{prefix}Uniform low {lo} and high {hi} are not allowed; both must be "
                           "finite with low < high and high - low finite")
        self._set_parameters(("low", "high"), (low, high), (low_array, high_array), shape)

    def __repr__(self) -> str:
        if self.shape == ():
            return f"Uniform(low={float(self.low)!r}, high={float(self.high)!r})"
        return f"Uniform(shape={self.shape})"

    def _parameters(self) -> Tuple[np.ndarray, np.ndarray]:
        return self.low, self.high


Distribution = Union[Normal, Laplace, Uniform]


def _check_distribution(value: Any, role: str) -> Distribution:
    if not isinstance(value, _Distribution):
        raise TypeError(f"{role} must be a rec_fast distribution (rf.Normal, rf.Laplace or rf.Uniform), "
                        f"got {type(value).__name__}")
    return value


def _pair_shape(target: Any, proposal: Any) -> Tuple[int, ...]:
    """The broadcast shape of a (target, proposal) pair, after checking their types."""
    return _pair_arrays(target, proposal, flatten=False)[0]


def _pair_arrays(target: Any, proposal: Any, *extra: np.ndarray, flatten: bool = True):
    """(shape, target side, proposal side, flat extras) of a pair broadcast with any extra arrays."""
    target = _check_distribution(target, "target Q")
    proposal = _check_distribution(proposal, "coding distribution P")
    try:
        shape = np.broadcast_shapes(target.shape, proposal.shape, *(e.shape for e in extra))
    except ValueError:
        shapes = ", ".join(str(s) for s in (target.shape, proposal.shape, *(e.shape for e in extra)))
        raise RecError(f"shapes {shapes} do not broadcast") from None
    shape = tuple(shape)
    if not flatten:
        return shape, None, None, ()
    flats = tuple(np.ascontiguousarray(np.broadcast_to(e, shape), dtype=np.float64).ravel() for e in extra)
    return shape, target._side(shape), proposal._side(shape), flats


def _check_uint64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value < _UINT64_LIMIT:
        raise RecError(f"{name} = {value} is out of range; it must lie in [0, 2**64)")
    return value


def _check_int(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high]: TypeError for another type, RecError out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise RecError(f"{name} = {value}; {name} must lie in [{low}, {high}]")
    return int(value)


def _check_threads(threads: Any) -> Optional[int]:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if not 1 <= threads <= _MAX_THREADS:
        raise RecError(f"threads = {threads}; threads must lie in [1, {_MAX_THREADS}] or be None (all cores)")
    return int(threads)


class Encoding:
    """The result of :func:`encode`: what Alice sends and what Bob will reconstruct.

    Immutable; its arrays are read-only. ``len(enc)`` is the number of elements and
    ``Encoding.from_bytes(data, P)`` rebuilds one from a stream (without the encoder-side
    ``steps`` and ``bits``).

    Attributes
    ----------
    samples : ndarray of the stream's shape, float64 (float32 for float32 targets)
        The samples the decoder reconstructs (bit for bit), each exactly distributed as Q.
    steps : int64 ndarray or None
        Arrivals examined per element (the runtime measure); None after :meth:`from_bytes`.
    bits : float64 ndarray or None
        Each element's share of the payload bits (they sum to :attr:`payload_bits`). In a
        range-coded chunk an element's share is its information content −log₂ p under the
        chunk's models, scaled so that the chunk's shares add up to its payload; in a chunk
        written with the universal codes (Elias delta; version 1) it is its code's exact length.
        None after :meth:`from_bytes`.
    header_bits : int
        The bits of the stream that belong to no element: header, chunk framing, the fitted
        models and the checksums. ``8 * len(to_bytes()) == payload_bits + header_bits``.
    method, seed, index_offset, shape, format_version, chunk_size
        The settings, as stored in the stream (``chunk_size`` is the first chunk's element
        count after :meth:`from_bytes`).

    Examples
    --------
    >>> import rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode(rf.Normal([0.5, -1.0], [0.2, 0.3]), P, seed=3)
    >>> again = rf.Encoding.from_bytes(enc.to_bytes(), P)
    >>> len(again), bool((again.samples == enc.samples).all())
    (2, True)
    """

    __slots__ = ("samples", "steps", "bits", "method", "seed", "index_offset", "shape", "format_version",
                 "chunk_size", "_data", "_payload_bits")

    samples: FloatArray
    steps: Optional[npt.NDArray[np.int64]]
    bits: Optional[npt.NDArray[np.float64]]
    method: str
    seed: int
    index_offset: int
    shape: Tuple[int, ...]
    format_version: int
    chunk_size: int

    def __init__(self, samples: FloatArray, steps: Optional[npt.NDArray[np.int64]],
                 bits: Optional[npt.NDArray[np.float64]], data: bytes, method: str, seed: int,
                 index_offset: int, shape: Tuple[int, ...], format_version: int, chunk_size: int,
                 payload_bits: Optional[int] = None) -> None:
        for array in (samples, steps, bits):
            if array is not None:
                array.setflags(write=False)
        if payload_bits is None:
            if bits is None:
                raise TypeError("an Encoding without bits needs payload_bits")
            payload_bits = int(round(float(bits.sum())))
        for name, value in (("samples", samples), ("steps", steps), ("bits", bits), ("_data", data),
                            ("method", method), ("seed", seed), ("index_offset", index_offset),
                            ("shape", shape), ("format_version", format_version),
                            ("chunk_size", chunk_size), ("_payload_bits", payload_bits)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Encoding is immutable")

    def __reduce__(self) -> Tuple[Any, ...]:
        return Encoding, (self.samples, self.steps, self.bits, self._data, self.method, self.seed, self.index_offset,
                          self.shape, self.format_version, self.chunk_size, self._payload_bits)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Encoding is immutable")

    @classmethod
    def from_bytes(cls, data: Bytes, P: "Distribution", *, threads: Optional[int] = None) -> "Encoding":
        """Rebuild an :class:`Encoding` from a stream written by :func:`encode`: its settings
        from the header, its samples decoded against ``P`` (as :func:`decode`, with the same
        errors). ``steps`` and ``bits`` are None: only the encoder knows them."""
        info = stream_info(data)
        samples = decode(data, P, threads=threads)
        chunks = info["chunks"]
        return cls(samples, None, None, bytes(data), info["method"], info["seed"], info["index_offset"],
                   info["shape"], info["format_version"], chunks[0]["element_count"] if chunks else 0,
                   payload_bits=info["payload_bits"])

    def to_bytes(self) -> bytes:
        """The self-describing container: header and chunks with their checksums (``docs/format.md``)."""
        return self._data

    @property
    def payload_bits(self) -> int:
        """Total payload bits of all chunks (``bits.sum()``, rounded), excluding the header."""
        return self._payload_bits

    @property
    def header_bits(self) -> int:
        """Bits of the header, chunk framing, fitted models and checksums."""
        return 8 * len(self._data) - self.payload_bits

    @property
    def bits_per_element(self) -> float:
        """The whole stream's bits (header included) per element: ``8 * len(to_bytes()) / n``."""
        return 8 * len(self._data) / max(1, self.samples.size)

    def __len__(self) -> int:
        return int(self.samples.size)

    def __repr__(self) -> str:
        mean_bits = self.payload_bits / self.samples.size if self.samples.size else 0.0
        return (f"Encoding(method={self.method!r}, shape={self.shape}, dtype={self.samples.dtype.name}, "
                f"mean_bits={mean_bits:.3f}, bytes={len(self._data)})")


def _sample_type(Q: "Distribution", format_version: int) -> str:
    """The stream's sample type for targets ``Q``: float32 exactly when Q's parameters are."""
    if Q.dtype != np.float32:
        return "float64"
    if format_version == 1:
        raise RecError("float32 targets give float32 samples, which only format version 2 records; "
                       "pass float64 parameters or format_version=2")
    return "float32"


def _as_sample_type(samples: npt.NDArray[np.float64], sample_type: str, decoding: bool = False,
                    first_element: int = 0) -> FloatArray:
    """Samples computed in float64, rounded once to nearest float32 for a float32 stream.

    A sample beyond float32's range has no float32 value: the encoder refuses it
    (:class:`RecError`) and a decoder, which never meets one in a stream rec_fast wrote, calls
    the stream corrupt."""
    if sample_type != "float32":
        return samples
    with np.errstate(over="ignore"):
        rounded = samples.astype(np.float32)
    overflow = np.isinf(rounded) & np.isfinite(samples)  # NaN marks what is not coded yet
    if overflow.any():
        where = int(np.flatnonzero(overflow)[0])
        message = (f"element {first_element + where}: sample {samples[where]!r} overflows float32 "
                   f"(|x| > {float(np.finfo(np.float32).max):.4g})")
        if decoding:
            raise CorruptStreamError(f"{message}; rec_fast writes no such float32 stream")
        raise RecError(f"{message}; pass float64 parameters for targets this far out")
    return rounded


def encode(Q: Distribution, P: Distribution, seed: int = 0, method: str = "gprs-bb", *,
           max_steps: Optional[int] = None, threads: Optional[int] = None,
           index_offset: int = 0, processes: Optional[int] = None,
           chunk_size: Optional[int] = None, format_version: int = FORMAT_VERSION,
           progress: Progress = False) -> Encoding:
    """Encode one exact sample of each target Q[i] against the coding distribution P[i].

    The samples are float32 when Q's parameters are float32 (computed in float64 and rounded
    once to the nearest float32, which the decoder repeats; the stream records it), else
    float64.

    Parameters
    ----------
    Q, P : Normal, Laplace or Uniform
        Targets and coding distributions; their parameter arrays broadcast together.
        Supported pairs (Q/P): Normal/Normal, Laplace/Laplace, Uniform/Uniform, Uniform/Normal
        and Uniform/Laplace. Each ratio dQ/dP must be bounded: a Normal or Laplace target
        narrower than its proposal (or equal to it; equal Laplace scales may differ in
        location), a Uniform target inside a Uniform proposal's support. The branch-and-bound
        methods also need a unimodal ratio, which a Uniform target on a Normal or Laplace
        proposal has only when the proposal's mode is not strictly inside the target's support.
    seed : int in [0, 2**64)
        The seed shared with the decoder.
    method : {"gprs-bb", "gprs", "pfr", "gprs-parallel", "gprs-dyadic", "astar-bb"}
        ``"gprs"``: global greedy Poisson rejection sampling, E[steps] = 2^D∞.
        ``"gprs-bb"``: branch-and-bound GPRS splitting on the sample, E[steps] = O(KL).
        ``"pfr"``: Poisson functional representation / global A* coding (Li & El Gamal 2018),
        the classic baseline; about 2^D∞ steps.
        ``"gprs-parallel"``: parallel GPRS with ``processes`` = J processes of rate 1/J
        (Flamich 2023); 2^D∞ arrivals in total, 2^D∞/J per process; sends (j, n_j).
        ``"gprs-dyadic"``: best-first branch-and-bound over P-median splits; depth ≈ KL.
        ``"astar-bb"``: A* coding with branch-and-bound split on the sample (Flamich, Markou &
        Hernández-Lobato 2022); more nodes than "gprs-bb", depth growing with D∞.
    max_steps : int, optional
        Bound on arrivals per element (default 2**24 for "gprs", "pfr" and "gprs-parallel",
        2**16 nodes for "gprs-dyadic" and "astar-bb"; "gprs-bb" is capped at 127).
        Reaching it raises :class:`SearchLimitError`.
    threads : int, optional
        Worker threads (default: all cores). Results do not depend on it.
    index_offset : int
        Stream index of element 0: encoding a batch in pieces with offsets equal to the
        pieces' start positions reproduces the whole batch's bits.
    processes : int, optional
        J for ``"gprs-parallel"`` (default 4, at most 65536; stored in the stream). Not
        accepted by the other methods.
    chunk_size : int, optional
        Elements per chunk of a version-2 stream (default 65536, at most 2**20). Each chunk is
        decodable on its own, carries its own fitted model and checksum, and is decoded in
        parallel with the others.
    format_version : {2, 1}
        The container version. Version 2 (default) entropy-codes the messages chunk by chunk;
        version 1 writes Elias delta codes in one payload (for readers of the old format).
    progress : bool or callable, optional
        ``True`` shows a tqdm progress bar on stderr once the encoding has run for a second
        (needs ``pip install rec_fast[progress]``); a function ``f(completed, total)`` is called
        about every 50 ms instead. Only batches of 4,096 or more elements report; off
        (default) costs nothing.

    Returns
    -------
    Encoding
        The samples, steps and bits per element, and the stream (:meth:`Encoding.to_bytes`).

    Raises
    ------
    RecError
        Bad parameters or an unsupported or unbounded pair, naming the lowest failing element
        (later elements are not searched). :class:`SearchLimitError` when a search reaches
        its bound.
    KeyboardInterrupt
        On Ctrl-C during a batch of 4,096 or more elements, once the searches in flight
        finish; no new element starts.

    Examples
    --------
    >>> import rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode(rf.Normal([1.0, -0.3], [0.25, 0.05]), P, seed=7)
    >>> enc.samples.shape, enc.steps.dtype.name, enc.to_bytes()[:4]
    ((2,), 'int64', b'RECF')
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    if method not in METHODS:
        raise RecError(f"unknown method {method!r}; available methods are {', '.join(map(repr, METHODS))}")
    seed = _check_uint64(seed, "seed")
    index_offset = _check_uint64(index_offset, "index_offset")
    threads = _check_threads(threads)
    if max_steps is not None:
        max_steps = _check_uint64(max_steps, "max_steps")
        if max_steps < 1:
            raise RecError("max_steps = 0; max_steps must be ≥ 1")
    if processes is None:
        processes = _core.DEFAULT_PROCESSES
    else:
        if isinstance(processes, bool) or not isinstance(processes, numbers.Integral):
            raise TypeError(f"processes must be an int, got {type(processes).__name__}")
        if method != "gprs-parallel":
            raise RecError(f"processes = {processes} only applies to method 'gprs-parallel', not {method!r}")
        if not 1 <= processes <= _core.MAX_PROCESSES:
            raise RecError(f"processes = {processes}; processes must lie in [1, {_core.MAX_PROCESSES}]")
        processes = int(processes)
    if isinstance(format_version, bool) or not isinstance(format_version, numbers.Integral):
        raise TypeError(f"format_version must be an int, got {type(format_version).__name__}")
    if int(format_version) not in tuple(_core.FORMAT_VERSIONS):
        raise RecError(f"format_version = {format_version}; this build writes versions "
                       f"{', '.join(map(str, _core.FORMAT_VERSIONS))}")
    if chunk_size is None:
        chunk_size = _core.DEFAULT_CHUNK_SIZE
    else:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if format_version == 1:
            raise RecError("chunk_size only applies to format_version 2 (version 1 has one payload)")
        if not 1 <= chunk_size <= _core.MAX_CHUNK_SIZE:
            raise RecError(f"chunk_size = {chunk_size}; chunk_size must lie in [1, {_core.MAX_CHUNK_SIZE}]")
        chunk_size = int(chunk_size)
    progress = check_progress(progress)
    shape = _pair_shape(Q, P)
    sample_type = _sample_type(Q, int(format_version))
    with reporter(progress, int(np.prod(shape)), "sample") as report:
        samples, steps, bits, data = _core.encode_pairs(
            Q._compact_side(shape), P._compact_side(shape), list(shape), method, seed, index_offset, max_steps,
            threads, processes, int(format_version), chunk_size, sample_type, report)
    return Encoding(_as_sample_type(samples, sample_type).reshape(shape), steps.view(np.int64).reshape(shape),
                    bits.reshape(shape), data, method, seed, index_offset, shape, int(format_version), chunk_size)


class ChunkInfo(TypedDict):
    """One chunk of a stream, as :func:`stream_info` reports it."""

    first_element: int
    element_count: int
    coding: Literal["range", "universal"]
    model_bytes: int
    payload_bits: int
    byte_offset: int
    byte_length: int


class StreamInfo(TypedDict):
    """A stream's header fields and chunks, as :func:`stream_info` reports them."""

    format_version: int
    method: str
    target_family: str
    proposal_family: str
    seed: int
    index_offset: int
    method_parameter: int
    shape: Tuple[int, ...]
    sample_type: Literal["float64", "float32"]
    payload_bits: int
    chunks: List[ChunkInfo]


def stream_info(data: Bytes) -> StreamInfo:
    """Validate a container's framing and checksums and return its header fields and chunks.

    Keys: ``format_version``, ``method``, ``target_family``, ``proposal_family``, ``seed``,
    ``index_offset``, ``method_parameter``, ``shape``, ``sample_type`` ("float64" or
    "float32"), ``payload_bits`` and ``chunks``, a list of dicts with ``first_element``,
    ``element_count``, ``coding`` ("range" or "universal"), ``model_bytes``, ``payload_bits``,
    and ``byte_offset`` and ``byte_length``, where the chunk's frame lies in ``data`` (a
    version-1 stream is one universal chunk, whose byte range is its payload's). The messages
    themselves are checked by :func:`decode`.

    Raises
    ------
    CorruptStreamError
        A framing or checksum fault, naming the chunk.

    Examples
    --------
    >>> import rec_fast as rf
    >>> data = rf.encode(rf.Normal([0.5, 0.1], 0.3), rf.Normal(0.0, 1.0), seed=1).to_bytes()
    >>> info = rf.stream_info(data)
    >>> info["method"], info["shape"], info["sample_type"], len(info["chunks"])
    ('gprs-bb', (2,), 'float64', 1)
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    info = _core.container_info(bytes(data))
    info["shape"] = tuple(int(n) for n in info["shape"])
    return info  # type: ignore[return-value]


def _check_broadcasts_to(P: Distribution, shape: Tuple[int, ...], message: str) -> None:
    """Raise RecError(message) unless P's parameters broadcast to exactly ``shape``."""
    try:
        if np.broadcast_shapes(P.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise RecError(message) from None


def _check_proposal_of_stream(P: Any, info: StreamInfo) -> Distribution:
    """P, checked against a stream's header fields: its family, and a shape that broadcasts
    to the stream's."""
    P = _check_distribution(P, "coding distribution P")
    if info["proposal_family"] != P.family:
        raise RecError(f"the stream was encoded against a {info['proposal_family']} proposal, "
                       f"but P is {P.family}")
    _check_broadcasts_to(P, info["shape"], f"proposal shape {P.shape} does not broadcast to the stream's shape "
                                           f"{info['shape']}")
    return P


def decode(data: Bytes, P: Distribution, *, threads: Optional[int] = None) -> FloatArray:
    """Reconstruct the samples of a container produced by :func:`encode`.

    Parameters
    ----------
    data : bytes-like
        The stream (:meth:`Encoding.to_bytes`). Format versions 1 and 2 (``docs/format.md``).
    P : Normal, Laplace or Uniform
        The encoder's coding distribution; its shape must broadcast to the stream's shape.
    threads : int, optional
        Worker threads (default: all cores); the chunks of a version-2 stream are decoded in
        parallel. Results do not depend on it.

    Returns
    -------
    ndarray of the stream's shape
        Bit-identical to ``Encoding.samples``: float64, or float32 for a stream of float32
        targets (``stream_info(data)["sample_type"]``).

    Raises
    ------
    CorruptStreamError
        Corrupt, truncated or foreign bytes, naming the chunk and its element range. The output
        has the stream's declared shape (an element can cost no bits), so check
        :func:`stream_info` first for untrusted input.
    RecError
        ``P`` of another family than the stream's, or of a shape that does not broadcast.

    Examples
    --------
    >>> import rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode(rf.Normal([0.5, -1.0], [0.2, 0.3]), P, seed=3)
    >>> bool((rf.decode(enc.to_bytes(), P) == enc.samples).all())
    True
    """
    info = stream_info(data)
    P = _check_proposal_of_stream(P, info)
    shape = info["shape"]
    samples = _core.decode_pairs(bytes(data), P._compact_side(shape), _check_threads(threads))
    return _as_sample_type(samples, info["sample_type"], decoding=True).reshape(shape)


#: A float for scalar arguments, else a float64 array of the broadcast shape.
Floats = Union[float, npt.NDArray[np.float64]]


def _divergences(Q: Distribution, P: Distribution) -> Tuple[Floats, Floats]:
    shape, target, proposal, _ = _pair_arrays(Q, P)
    kl, maximum = _core.divergences_pairs(target, proposal)
    return kl.reshape(shape)[()], maximum.reshape(shape)[()]


def kl_divergence(Q: Distribution, P: Distribution) -> Floats:
    """KL[Q‖P] = E_Q[log₂ dQ/dP] in bits, elementwise (the least achievable mean codelength).

    Closed form for every supported pair; Q and P broadcast; raises :class:`RecError` for an
    unsupported pair.

    Examples
    --------
    >>> import rec_fast as rf
    >>> round(float(rf.kl_divergence(rf.Normal(0.0, 0.5), rf.Normal(0.0, 1.0))), 6)  # (ln 2 - 3/8) / ln 2
    0.458989
    """
    return _divergences(Q, P)[0]


def max_divergence(Q: Distribution, P: Distribution) -> Floats:
    """D∞[Q‖P] = log₂ ess sup dQ/dP in bits, elementwise; +inf where the ratio is unbounded.

    Global GPRS examines 2^D∞ arrivals on average.

    Examples
    --------
    >>> import rec_fast as rf
    >>> float(rf.max_divergence(rf.Uniform(0.0, 0.25), rf.Uniform(0.0, 1.0)))
    2.0
    """
    return _divergences(Q, P)[1]


def channel_simulation_divergence(Q: Distribution, P: Distribution) -> Floats:
    """D_CS[Q‖P] = −∫₀^∞ w_P(h) log₂ w_P(h) dh in bits, elementwise, with w_P(h) = P[dQ/dP ≥ h].

    The entropy of the index of any causal rejection sampler is at least D_CS, and GPRS's is at
    most D_CS + log₂(1 + e); KL ≤ D_CS ≤ KL + log₂(KL + 1) + 1 (Goc & Flamich 2024). Needs a
    bounded ratio (raises :class:`RecError` otherwise); computed by adaptive quadrature.

    Examples
    --------
    >>> import rec_fast as rf
    >>> Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    >>> bool(rf.kl_divergence(Q, P) <= rf.channel_simulation_divergence(Q, P))
    True
    """
    shape, target, proposal, _ = _pair_arrays(Q, P)
    return _core.channel_simulation_divergence_pairs(target, proposal).reshape(shape)[()]


def stretch_inverse(Q: Distribution, P: Distribution, t: ArrayLike) -> Floats:
    """σ⁻¹(t): the ratio height the stretched graph reaches at time t, elementwise.

    σ(h) = ∫₀^h dη / (w_Q(η) − η w_P(η)) with w_P(h) = P[dQ/dP ≥ h], w_Q(h) = Q[dQ/dP ≥ h]
    (Flamich 2023). σ⁻¹ increases from 0 at t = 0 towards r* = 2^D∞. Accurate to about
    1e-12 relative. ``t`` (≥ 0, dimensionless time of the Poisson process) broadcasts
    against Q and P.

    Examples
    --------
    >>> import rec_fast as rf
    >>> Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    >>> h = rf.stretch_inverse(Q, P, 2.0)
    >>> round(float(rf.stretch(Q, P, h)), 9)
    2.0
    """
    shape, target, proposal, (t,) = _pair_arrays(Q, P, _float_array(t, "t"))
    return _core.stretch_pairs(target, proposal, t, True).reshape(shape)[()]


def stretch(Q: Distribution, P: Distribution, h: ArrayLike) -> Floats:
    """σ(h), the stretch function itself, for 0 ≤ h ≤ r* (σ(r*) = inf), elementwise.

    Examples
    --------
    >>> import rec_fast as rf
    >>> float(rf.stretch(rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0), 0.0))
    0.0
    """
    shape, target, proposal, (h,) = _pair_arrays(Q, P, _float_array(h, "h"))
    return _core.stretch_pairs(target, proposal, h, False).reshape(shape)[()]



"""Encode and decode with Dask: one stream from arrays larger than one machine.

:func:`encode` takes targets and coding distributions whose parameters are dask arrays,
encodes every dask block as one piece of a version-2 stream on whatever scheduler is active
(threads, processes or a ``distributed`` cluster) and returns the bytes of one stream: the
header, then the chunk frames of the blocks in row-major block order. :func:`decode` turns such
bytes (or any version-2 stream) back into a dask array, one task per block.

Blocks and chunks
-----------------
A block of an N-d dask array is contiguous in the row-major (flat) order of the stream only if
every axis after the first is a single chunk, so :func:`encode` rechunks the parameters to
``{1: -1, 2: -1, ...}``: blocks are runs of whole rows. Element i of the stream is the array's
flat element i, whatever the blocks, so the samples are those of :func:`rec_fast.encode` on the
computed arrays. With ``chunk_size=None`` every block becomes one container chunk (at most
2**20 elements) and the bytes equal ``rf.encode(Q, P, chunk_size=n)`` whenever every block but
the last has n elements; with an explicit ``chunk_size`` every block is cut into chunks of that
many elements and the bytes equal ``rf.encode(..., chunk_size=chunk_size)`` whenever every
block but the last holds a multiple of it. Either way the bytes do not depend on the scheduler,
the number of workers or the threads per task.

>>> import dask.array as da, numpy as np, rec_fast as rf, rec_fast.dask as rfd
>>> loc = da.linspace(-1.0, 1.0, 12, chunks=4)
>>> data = rfd.encode(rfd.Normal(loc, 0.1), rf.Normal(0.0, 1.0), seed=3, scheduler="threads")
>>> data == rf.encode(rf.Normal(np.linspace(-1.0, 1.0, 12), 0.1), rf.Normal(0.0, 1.0), seed=3,
...                   chunk_size=4).to_bytes()
True
>>> samples = rfd.decode(data, rf.Normal(0.0, 1.0))
>>> samples.chunks
((4, 4, 4),)
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import dask
import dask.array as da
import numpy as np

from . import _core
from ._api import (CorruptStreamError, RecError, _as_sample_type, _check_threads, _Distribution, _float_array,
                   _sample_type)
from ._api import Laplace as _NumpyLaplace
from ._api import Normal as _NumpyNormal
from ._api import Uniform as _NumpyUniform
from .streaming import _encode_piece, _header, _settings

Parameter = Union[da.Array, np.ndarray]
Bytes = Union[bytes, bytearray, memoryview]

_NUMPY_CLASSES = {"Normal": _NumpyNormal, "Laplace": _NumpyLaplace, "Uniform": _NumpyUniform}
_PARAMETER_NAMES = {"Normal": ("loc", "scale"), "Laplace": ("loc", "scale"), "Uniform": ("low", "high")}


def _parameter(value: Any, name: str) -> Parameter:
    """A dask array of a real dtype, kept lazy, or anything else as a float64 numpy array."""
    if isinstance(value, da.Array):
        if value.dtype == np.bool_ or value.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a dask array of floats, got dtype {value.dtype}")
        return value
    return _float_array(value, name)


def _broadcast_shape(shapes: Sequence[Tuple[Any, ...]], message: str) -> Tuple[int, ...]:
    if any(isinstance(n, float) and math.isnan(n) for shape in shapes for n in shape):
        raise RecError(f"{message}: a dask array has unknown chunk sizes (shapes {', '.join(map(str, shapes))}); "
                       "call .compute_chunk_sizes() on it first")
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise RecError(f"{message}: shapes {', '.join(map(str, shapes))} do not broadcast") from None


class DaskDistribution:
    """A distribution family whose two parameters may be dask arrays, held without computing them.

    The parameters broadcast like numpy arrays. Numpy parameters are checked at once (as
    :class:`rec_fast.Normal` checks them); dask parameters are checked block by block when a
    task uses them, and a bad value raises :class:`RecError` naming its index in the whole
    array.
    """

    family = ""
    __slots__ = ("_first", "_second", "shape", "dtype")

    def __init__(self, first: Any, second: Any) -> None:
        names = _PARAMETER_NAMES[self.family]
        self._first = _parameter(first, names[0])
        self._second = _parameter(second, names[1])
        # As rec_fast's distributions: float32 when the parameters given as arrays all are.
        typed = [p.dtype for value, p in zip((first, second), self._parameters()) if type(value) not in (int, float)]
        single = bool(typed) and all(dtype == np.float32 for dtype in typed)
        self.dtype = np.dtype(np.float32 if single else np.float64)
        self.shape: Tuple[int, ...] = _broadcast_shape((self._first.shape, self._second.shape),
                                                       f"{self.family} {names[0]} and {names[1]}")
        self._check_numpy_parameters()

    def _check_numpy_parameters(self) -> None:
        first_is_numpy = isinstance(self._first, np.ndarray)
        second_is_numpy = isinstance(self._second, np.ndarray)
        if first_is_numpy and second_is_numpy:
            _NUMPY_CLASSES[self.family](self._first, self._second)
        elif first_is_numpy or second_is_numpy:
            # Only the checks that concern one parameter alone can run before the other is computed.
            _check_block(self.family, self._first if first_is_numpy else None,
                         self._second if second_is_numpy else None, 0, None)

    def _parameters(self) -> Tuple[Parameter, Parameter]:
        return self._first, self._second

    @property
    def is_lazy(self) -> bool:
        """Whether a parameter is a dask array."""
        return any(isinstance(p, da.Array) for p in self._parameters())

    def compute(self, **compute_kwargs: Any) -> _Distribution:
        """The :mod:`rec_fast` distribution of the computed parameters (they must fit in memory)."""
        first, second = dask.compute(*self._parameters(), **compute_kwargs)
        return _NUMPY_CLASSES[self.family](first, second)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{name}={'dask' if isinstance(p, da.Array) else 'numpy'}"
                          for name, p in zip(_PARAMETER_NAMES[self.family], self._parameters()))
        return f"rec_fast.dask.{self.family}(shape={self.shape}, {kinds})"


class Normal(DaskDistribution):
    """N(loc, scale²) with ``loc`` and ``scale`` dask arrays, numpy arrays or floats (see
    :class:`rec_fast.Normal`)."""

    family = "Normal"
    __slots__ = ()

    def __init__(self, loc: Any = 0.0, scale: Any = 1.0) -> None:
        super().__init__(loc, scale)

    @property
    def loc(self) -> Parameter:
        return self._first

    @property
    def scale(self) -> Parameter:
        return self._second


class Laplace(DaskDistribution):
    """L(loc, scale) with ``loc`` and ``scale`` dask arrays, numpy arrays or floats (see
    :class:`rec_fast.Laplace`)."""

    family = "Laplace"
    __slots__ = ()

    def __init__(self, loc: Any = 0.0, scale: Any = 1.0) -> None:
        super().__init__(loc, scale)

    @property
    def loc(self) -> Parameter:
        return self._first

    @property
    def scale(self) -> Parameter:
        return self._second


class Uniform(DaskDistribution):
    """U(low, high) with ``low`` and ``high`` dask arrays, numpy arrays or floats (see
    :class:`rec_fast.Uniform`)."""

    family = "Uniform"
    __slots__ = ()

    def __init__(self, low: Any = 0.0, high: Any = 1.0) -> None:
        super().__init__(low, high)

    @property
    def low(self) -> Parameter:
        return self._first

    @property
    def high(self) -> Parameter:
        return self._second


_DASK_CLASSES = {"Normal": Normal, "Laplace": Laplace, "Uniform": Uniform}
AnyDistribution = Union[DaskDistribution, _Distribution]


def _as_dask_distribution(value: Any, role: str) -> DaskDistribution:
    """A rec_fast.dask distribution, or a rec_fast one wrapped (its numpy parameters kept)."""
    if isinstance(value, DaskDistribution):
        return value
    if isinstance(value, _Distribution):
        wrapped = _DASK_CLASSES[value.family](*value._parameters())
        wrapped.dtype = value.dtype  # its Python numbers are arrays by now: keep the dtype they gave
        return wrapped
    raise TypeError(f"{role} must be a rec_fast.dask distribution (rec_fast.dask.Normal, .Laplace or .Uniform) "
                    f"or a rec_fast one, got {type(value).__name__}")


# ----------------------------------------------------------------------------------------------
# Work done inside tasks: these see one block's numpy arrays and small settings only.

def _first_bad_index(bad: np.ndarray, first_element: int, stream_shape: Optional[Tuple[int, ...]]) -> Tuple[
        Tuple[int, ...], Tuple[int, ...]]:
    """(index in the block, index in the whole array) of the first flagged element."""
    local = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    if stream_shape is None:
        return local, local
    flat = first_element + (int(np.ravel_multi_index(local, bad.shape)) if bad.ndim else 0)
    whole = tuple(int(i) for i in np.unravel_index(flat, stream_shape)) if stream_shape else ()
    return local, whole


def _check_block(family: str, first: Optional[np.ndarray], second: Optional[np.ndarray], first_element: int,
                 stream_shape: Optional[Tuple[int, ...]]) -> None:
    """Raise RecError naming the first bad parameter value; either parameter may be None
    (unknown yet). ``first_element`` is the block's flat offset in an array of ``stream_shape``
    (None: indices are the block's own)."""
    names = _PARAMETER_NAMES[family]

    def fail(bad: np.ndarray, text: str) -> None:
        if bad.any():
            local, whole = _first_bad_index(bad, first_element, stream_shape)
            prefix = f"element {whole}: " if whole else ""
            raise RecError(prefix + text.format(*(np.broadcast_to(p, bad.shape)[local] for p in present)))

    with np.errstate(over="ignore", invalid="ignore"):
        if family == "Uniform":
            if first is not None and second is not None:
                present = (first, second)
                shape = np.broadcast_shapes(first.shape, second.shape)
                bad = ~(np.isfinite(first) & np.isfinite(second) & (first < second) & np.isfinite(second - first))
                fail(np.broadcast_to(bad, shape), "Uniform low {} and high {} are not allowed; both must be finite "
                                                  "with low < high and high - low finite")
            for value, name in ((first, names[0]), (second, names[1])):
                if value is not None:
                    present = (value,)
                    fail(~np.isfinite(value), f"Uniform {name} {{}} is not finite")
            return
        if first is not None:
            present = (first,)
            fail(~np.isfinite(first), f"{family} loc {{}} is not finite; loc must be a finite float")
        if second is not None:
            present = (second,)
            fail(~(np.isfinite(second) & (second > 0)),
                 f"{family} scale {{}} is not allowed; scale must be finite and > 0")


def _block_distribution(family: str, first: Any, second: Any, first_element: int,
                        stream_shape: Tuple[int, ...]) -> _Distribution:
    # Blocks deserialized by a distributed worker can be misaligned views of a message buffer,
    # which the core does not accept: copy those into aligned contiguous arrays.
    first = np.require(first, np.float64, ["C", "A"])
    second = np.require(second, np.float64, ["C", "A"])
    _check_block(family, first, second, first_element, stream_shape)
    return _NUMPY_CLASSES[family](first, second)


def _encode_block(target_family: str, proposal_family: str, q_first: Any, q_second: Any, p_first: Any,
                  p_second: Any, settings: dict, first_element: int, first_chunk: int,
                  stream_shape: Tuple[int, ...]) -> Tuple[bytes, int]:
    """One dask block's chunk frames and their number (the task :func:`encode` runs)."""
    Q = _block_distribution(target_family, q_first, q_second, first_element, stream_shape)
    P = _block_distribution(proposal_family, p_first, p_second, first_element, stream_shape)
    _, frames, chunks = _encode_piece(Q, P, settings, first_element, first_chunk)
    return frames, chunks


def _read_frames(frames: Union[bytes, Tuple[str, int, int]]) -> bytes:
    """The frames themselves, or read from (path, first byte, end byte) of a stream file."""
    if isinstance(frames, bytes):
        return frames
    path, start, stop = frames
    with open(path, "rb") as file:
        file.seek(start)
        data = file.read(stop - start)
    if len(data) != stop - start:
        raise CorruptStreamError(f"{path} holds {start + len(data)} bytes, fewer than the {stop} the stream's "
                                 "chunks needed when decode() read it; was it changed?")
    return data


def _decode_block(header: bytes, frames: Union[bytes, Tuple[str, int, int]], first_element: int, count: int,
                  first_chunk: int, family: str, p_first: Any, p_second: Any, block_shape: Tuple[int, ...],
                  stream_shape: Tuple[int, ...], threads: Optional[int], sample_type: str = "float64") -> np.ndarray:
    """One dask block of :func:`decode`: the samples of the frames of its elements (given, or
    read from the stream's file)."""
    P = _block_distribution(family, p_first, p_second, first_element, stream_shape)
    frames = _read_frames(frames)
    samples = _core.decode_frames(header, frames, first_element, count, first_chunk, P._compact_side(block_shape),
                                  threads)
    return _as_sample_type(samples, sample_type, decoding=True, first_element=first_element).reshape(block_shape)


# ----------------------------------------------------------------------------------------------
# The client side: plan the blocks, build the tasks, assemble the stream.

def _row_chunked(arrays: List[da.Array]) -> List[da.Array]:
    """The arrays with every axis after the first in one chunk, so that blocks are contiguous runs
    of the flat (row-major) order; all share the first axis' chunks."""
    if not arrays:
        return arrays
    arrays = list(da.broadcast_arrays(*arrays))
    ndim = arrays[0].ndim
    if ndim > 1:
        arrays = [a.rechunk({axis: -1 for axis in range(1, ndim)}) for a in arrays]
    return arrays


def _blocks_of(arrays: List[Optional[Parameter]], shape: Tuple[int, ...]) -> Tuple[List[list], List[int]]:
    """Per block, the block of every parameter (a delayed numpy block, or the size-1 numpy
    parameter itself), and the blocks' element counts. Parameters of more than one value are
    broadcast to ``shape`` and blocked alike."""
    row = int(np.prod(shape[1:], dtype=object)) if shape else 1
    spread = [i for i, a in enumerate(arrays) if not (isinstance(a, np.ndarray) and a.size == 1)]
    if not spread:
        # Every parameter is one value: broadcast the first so that there is a block to encode.
        spread = [0]
    lazy = [da.broadcast_to(da.asarray(arrays[i]), shape) if shape else da.asarray(arrays[i]).reshape(1)
            for i in spread]
    lazy = _row_chunked(lazy)
    row_counts = lazy[0].chunks[0]
    delayed = [a.to_delayed().reshape(-1) for a in lazy]
    blocks = []
    for number in range(len(row_counts)):
        block: list = [a.reshape(()) if i not in spread else None for i, a in enumerate(arrays)]
        for position, index in enumerate(spread):
            block[index] = delayed[position][number]
        blocks.append(block)
    return blocks, [int(n) * (row if shape else 1) for n in row_counts]


def encode(Q: AnyDistribution, P: AnyDistribution, seed: int = 0, method: str = "gprs-bb", *,
           max_steps: Optional[int] = None, threads: Optional[int] = 1, index_offset: int = 0,
           processes: Optional[int] = None, chunk_size: Optional[int] = None, scheduler: Any = None,
           return_samples: bool = False) -> Union[bytes, Tuple[bytes, da.Array]]:
    """Encode one exact sample of each target Q[i] against P[i], one task per dask block.

    Parameters
    ----------
    Q, P : rec_fast.dask.Normal, .Laplace, .Uniform, or rec_fast.Normal, .Laplace, .Uniform
        Targets and coding distributions; their parameters (dask arrays, numpy arrays or floats)
        broadcast together to the stream's shape. Parameters of one value (a scalar P) are sent
        to every task as is; the others are broadcast, rechunked so that every axis after the
        first is one chunk, and blocked alike (dask unifies their chunks). The supported pairs
        are those of :func:`rec_fast.encode`.
    seed, method, max_steps, index_offset, processes
        As in :func:`rec_fast.encode`.
    threads : int or None
        Threads of each task (default 1: the scheduler provides the parallelism; None uses all
        cores of the worker's machine). The bytes do not depend on it.
    chunk_size : int, optional
        None (default): each dask block is one container chunk, so a block may hold at most
        2**20 elements. An int: each block is cut into chunks of at most that many elements.
    scheduler : optional
        Passed to :func:`dask.compute` ("threads", "processes", a ``distributed.Client``);
        default: the active scheduler.
    return_samples : bool
        Also return the samples as a dask array chunked like the blocks. They are decoded lazily
        from the bytes (:func:`decode`), which reproduces the encoder's samples bit for bit;
        computing them costs a decode, not an encode.

    Returns
    -------
    bytes, or (bytes, dask array)
        One version-2 stream: the header, then each block's chunk frames in row-major block
        order. The client holds the whole stream (about 0.6–1 byte per element for targets of a
        few bits of KL).

    Raises
    ------
    RecError
        Bad settings, shapes that do not broadcast, a block of more than 2**20 elements with
        ``chunk_size=None``, a bad parameter value (naming its index in the whole array) or an
        unsupported or unbounded pair (naming the stream element). :class:`SearchLimitError`
        when a search reaches its bound.
    TypeError
        Q or P not a distribution, a parameter of a non-real dtype, a bad setting's type.

    Example
    -------
    >>> import dask.array as da, rec_fast as rf, rec_fast.dask as rfd
    >>> scale = da.full((6, 4), 0.2, chunks=(2, 4))
    >>> data = rfd.encode(rfd.Normal(0.5, scale), rf.Normal(0.0, 1.0), seed=1, scheduler="threads")
    >>> rf.stream_info(data)["shape"], len(rf.stream_info(data)["chunks"])
    ((6, 4), 3)
    """
    Q = _as_dask_distribution(Q, "target Q")
    P = _as_dask_distribution(P, "coding distribution P")
    if not isinstance(return_samples, bool):
        raise TypeError(f"return_samples must be a bool, got {type(return_samples).__name__}")
    one_chunk_per_block = chunk_size is None
    settings = _settings(method, seed, index_offset, max_steps, threads, processes,
                         _core.MAX_CHUNK_SIZE if one_chunk_per_block else chunk_size)
    shape = _broadcast_shape((Q.shape, P.shape), "target Q and coding distribution P")
    header = _header(settings, Q.family, P.family, shape, _sample_type(Q, 2))
    if int(np.prod(shape, dtype=object)) == 0:
        data = header
        return (data, decode(data, P)) if return_samples else data

    blocks, counts = _blocks_of([*Q._parameters(), *P._parameters()], shape)
    if one_chunk_per_block:
        too_large = [number for number, count in enumerate(counts) if count > _core.MAX_CHUNK_SIZE]
        if too_large:
            block = too_large[0]
            raise RecError(f"dask block {block} holds {counts[block]} elements, but with chunk_size=None each block "
                           f"is one container chunk of at most {_core.MAX_CHUNK_SIZE} (2**20) elements; rechunk "
                           "the parameters to smaller blocks along the first axis or pass chunk_size")
    tasks = []
    first_element = 0
    first_chunk = 0
    expected_chunks = []
    encode_task = dask.delayed(_encode_block, pure=True)
    for block, count in zip(blocks, counts):
        if count:
            tasks.append(encode_task(Q.family, P.family, *block, settings, first_element, first_chunk, shape))
            chunks = -(-count // settings["chunk_size"])
            expected_chunks.append(chunks)
            first_chunk += chunks
        first_element += count
    compute_kwargs = {} if scheduler is None else {"scheduler": scheduler}
    results = dask.compute(*tasks, **compute_kwargs)
    for (_, chunks), expected in zip(results, expected_chunks):
        if chunks != expected:
            raise RecError(f"a task encoded {chunks} chunks where {expected} were expected; the blocks changed "
                           "between planning and computing")
    data = header + b"".join(frames for frames, _ in results)
    if not return_samples:
        return data
    return data, _decode(data, P, [count for count in counts if count], threads)


def _check_elements_per_block(chunks: Any) -> int:
    if chunks is None:
        return 1
    if isinstance(chunks, bool) or not isinstance(chunks, numbers.Integral):
        raise TypeError(f"chunks must be an int (elements per dask block) or None, got {type(chunks).__name__}")
    if chunks < 1:
        raise RecError(f"chunks = {chunks}; chunks (elements per dask block) must be ≥ 1")
    return int(chunks)


def _group(counts: List[int], target: int, row: int) -> List[int]:
    """The element counts of blocks of consecutive whole chunks, each of at least ``target``
    elements (the last may hold fewer) and ending on a multiple of ``row``."""
    blocks = []
    elements = 0
    end = 0
    for count in counts:
        elements += count
        end += count
        if elements >= target and end % row == 0:
            blocks.append(elements)
            elements = 0
    if elements:
        blocks.append(elements)
    return blocks


def decode(data: Union[Bytes, str, "os.PathLike[str]"], P: AnyDistribution, *, chunks: Optional[int] = None,
           threads: Optional[int] = 1) -> da.Array:
    """The samples of a version-2 stream as a dask array, one task per block.

    The stream is checked on the client first (:func:`rec_fast.stream_info`: the framing and
    every checksum); then each block's task receives the header and the frames of its elements
    only (or where they lie in the stream's file), and the block of P's parameters.

    Parameters
    ----------
    data : bytes, or a path
        A stream of :func:`encode`, :func:`rec_fast.encode` or :class:`rec_fast.StreamWriter`.
        Given bytes, every task carries its frames in the task graph. Given the path of a stream
        file, the client reads it once to check it and every task reads only its frames' byte
        range: the graph stays small, but the file must be readable at that path by every worker
        (a shared file system) and must not change until the array is computed.
    P : rec_fast.dask distribution or rec_fast distribution
        The encoder's coding distribution; it must broadcast to the stream's shape (a scalar
        ``rf.Normal(0, 1)``, or dask parameters of the stream's shape).
    chunks : int, optional
        Elements per dask block: consecutive container chunks are grouped until a block holds
        at least this many (default: one block per container chunk). The blocks of an N-d
        stream are runs of whole rows (every axis after the first is one chunk), so a block
        also extends to the end of a row; if that makes a block much larger than asked (rows
        whose length is not a multiple of the chunks'), the samples are decoded as a flat array
        and reshaped by dask.
    threads : int or None
        Threads of each task (default 1; None: all cores).

    Returns
    -------
    dask.array.Array
        float64 samples of the stream's shape, bit-identical to the encoder's.

    Raises
    ------
    CorruptStreamError
        Corrupt, truncated or foreign bytes, naming the chunk and its elements (eagerly, on the
        client, for damage a checksum detects; when computing, for the rest).
    RecError
        A version-1 stream (decode it with :func:`rec_fast.decode`), a P of another family or a
        shape that does not broadcast to the stream's, bad ``chunks``; a bad parameter of a dask
        P when computing.
    TypeError
        ``data`` not bytes or a path, P not a distribution.

    Example
    -------
    >>> import numpy as np, rec_fast as rf, rec_fast.dask as rfd
    >>> enc = rf.encode(rf.Normal(np.zeros(10), 0.3), rf.Normal(0.0, 1.0), chunk_size=4)
    >>> samples = rfd.decode(enc.to_bytes(), rf.Normal(0.0, 1.0))
    >>> samples.chunks, bool((samples.compute(scheduler="threads") == enc.samples).all())
    (((4, 4, 2),), True)
    """
    target = _check_elements_per_block(chunks)
    threads = _check_threads(threads)
    path: Optional[str] = None
    if isinstance(data, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(data))
        with open(path, "rb") as file:
            data = file.read()
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes or the path of a stream file, got {type(data).__name__}")
    data = bytes(data)
    from ._api import stream_info
    info = stream_info(data)
    if info["format_version"] != 2:
        raise RecError(f"this is a version-{info['format_version']} stream, which has no chunks to decode "
                       "separately; decode it with rec_fast.decode")
    shape = info["shape"]
    counts = [c["element_count"] for c in info["chunks"]]
    row = int(np.prod(shape[1:], dtype=object)) if len(shape) > 1 else 1
    block_counts = _group(counts, target, row)
    if row > 1 and block_counts and max(block_counts) > 8 * max(target, max(counts)):
        # Rows and chunks rarely line up: blocks of whole chunks, decoded flat and reshaped by dask.
        block_counts = _group(counts, target, 1)
    return _decode(data, P, block_counts, threads, info, path)


def _decode(data: bytes, P: AnyDistribution, block_counts: List[int], threads: Optional[int],
            info: Optional[dict] = None, path: Optional[str] = None) -> da.Array:
    """The dask array of a stream's samples in blocks of ``block_counts`` elements (each a run of
    whole chunks; runs of whole rows, or the array is decoded flat and reshaped). With ``path``,
    the tasks read their frames from that file (which holds ``data``)."""
    if info is None:
        from ._api import stream_info
        info = stream_info(data)
    shape = info["shape"]
    P = _as_dask_distribution(P, "coding distribution P")
    if info["proposal_family"] != P.family:
        raise RecError(f"the stream was encoded against a {info['proposal_family']} proposal, but P is {P.family}")
    try:
        if tuple(np.broadcast_shapes(P.shape, shape)) != shape:
            raise ValueError
    except ValueError:
        raise RecError(f"proposal shape {P.shape} does not broadcast to the stream's shape {shape}") from None
    if not block_counts:
        return da.from_array(np.empty(shape, dtype=info["sample_type"]))
    chunk_counts = [c["element_count"] for c in info["chunks"]]
    frame_lengths = [c["byte_length"] for c in info["chunks"]]
    header_length = info["chunks"][0]["byte_offset"]
    header = data[:header_length]
    row = int(np.prod(shape[1:], dtype=object)) if len(shape) > 1 else 1
    by_rows = len(shape) > 1 and all(count % row == 0 for count in block_counts)
    layout_shape = shape if by_rows else (max(1, int(np.prod(shape, dtype=object))),)
    block_shapes = [((count // row,) + shape[1:]) if by_rows else (count,) for count in block_counts]

    parameters = []
    for parameter in P._parameters():
        if isinstance(parameter, np.ndarray) and parameter.size == 1:
            parameters.append([parameter.reshape(())] * len(block_counts))
            continue
        lazy = da.broadcast_to(da.asarray(parameter), shape).reshape(layout_shape) if shape else \
            da.asarray(parameter).reshape(1)
        lazy = lazy.rechunk((tuple(s[0] for s in block_shapes),) + tuple((n,) for n in layout_shape[1:]))
        parameters.append(list(lazy.to_delayed().reshape(-1)))

    decode_task = dask.delayed(_decode_block, pure=True)
    arrays = []
    chunk = 0
    element = 0
    byte = header_length
    for number, (count, block_shape) in enumerate(zip(block_counts, block_shapes)):
        first_chunk, first_element, first_byte = chunk, element, byte
        while element < first_element + count:
            element += chunk_counts[chunk]
            byte += frame_lengths[chunk]
            chunk += 1
        frames = data[first_byte:byte] if path is None else (path, first_byte, byte)
        task = decode_task(header, frames, first_element, count, first_chunk, P.family, parameters[0][number],
                           parameters[1][number], block_shape, shape, threads, info["sample_type"])
        arrays.append(da.from_delayed(task, shape=block_shape, dtype=np.dtype(info["sample_type"])))
    samples = da.concatenate(arrays, axis=0) if len(arrays) > 1 else arrays[0]
    if by_rows or len(shape) < 2:
        return samples.reshape(shape)
    return samples.reshape(shape).rechunk({axis: -1 for axis in range(1, len(shape))})


__all__ = ["DaskDistribution", "Laplace", "Normal", "Uniform", "decode", "encode"]

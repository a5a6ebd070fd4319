"""Streams of any length: write a version-2 stream piece by piece, read it back chunk by chunk.

Memory is bounded by a piece (the writer) or a chunk (the reader), never by the stream, so a
stream can be larger than memory. The bytes are the bytes of one :func:`rec_fast.encode` call
whenever the chunk boundaries are the same: the writer cuts every piece into chunks of
``chunk_size`` elements, so pieces whose lengths are multiples of ``chunk_size`` (the last may
be shorter) give exactly ``rf.encode(Q_all, P_all, chunk_size=chunk_size).to_bytes()``.

Elements are numbered across pieces in the order they are written (each piece's elements in
row-major order); element i is encoded on stream index ``index_offset + i``, as in
:func:`rec_fast.encode`. The normative byte layout is ``docs/format.md``.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from typing import IO, Any, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _core
from ._api import (CorruptStreamError, Distribution, RecError, _as_sample_type, _check_distribution,
                   _check_proposal_of_stream, _check_threads, _check_uint64, _pair_shape, _sample_type)

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]


class ChunkEncoding(NamedTuple):
    """What :meth:`StreamWriter.write` returns for one piece."""

    #: Index in the stream of the piece's first element.
    start: int
    #: The samples the decoder reconstructs, in the piece's shape.
    samples: np.ndarray
    #: Arrivals examined per element.
    steps: np.ndarray
    #: Each element's share of its chunk's payload bits.
    bits: np.ndarray


class DecodedChunk(NamedTuple):
    """One chunk read by :class:`StreamReader`: elements ``start .. stop`` of the stream."""

    number: int
    start: int
    stop: int
    samples: np.ndarray


class SkippedChunk(NamedTuple):
    """A corrupt chunk a reader with ``skip_corrupt=True`` left out."""

    number: int
    start: int
    stop: int
    error: str


class CorruptChunkWarning(UserWarning):
    """Issued when a reader with ``skip_corrupt=True`` skips a corrupt chunk."""


def _settings(method: str, seed: Any, index_offset: Any, max_steps: Any, threads: Any, processes: Any,
              chunk_size: Any) -> dict:
    """The encoding settings, checked as :func:`rec_fast.encode` checks them."""
    from ._api import METHODS
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    if method not in METHODS:
        raise RecError(f"unknown method {method!r}; available methods are {', '.join(map(repr, METHODS))}")
    if max_steps is not None:
        max_steps = _check_uint64(max_steps, "max_steps")
        if max_steps < 1:
            raise RecError("max_steps = 0; max_steps must be ≥ 1")
    if processes is None:
        processes = _core.DEFAULT_PROCESSES
    elif method != "gprs-parallel":
        raise RecError(f"processes = {processes} only applies to method 'gprs-parallel', not {method!r}")
    else:
        processes = _check_uint64(processes, "processes")
        if not 1 <= processes <= _core.MAX_PROCESSES:
            raise RecError(f"processes = {processes}; processes must lie in [1, {_core.MAX_PROCESSES}]")
    if chunk_size is None:
        chunk_size = _core.DEFAULT_CHUNK_SIZE
    else:
        chunk_size = _check_uint64(chunk_size, "chunk_size")
        if not 1 <= chunk_size <= _core.MAX_CHUNK_SIZE:
            raise RecError(f"chunk_size = {chunk_size}; chunk_size must lie in [1, {_core.MAX_CHUNK_SIZE}]")
    return {"method": method, "seed": _check_uint64(seed, "seed"),
            "index_offset": _check_uint64(index_offset, "index_offset"), "max_steps": max_steps,
            "threads": _check_threads(threads), "processes": processes, "chunk_size": chunk_size}


def _check_shape(shape: Any) -> Optional[Tuple[int, ...]]:
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(_check_uint64(n, "shape extent")) for n in shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    return shape


def _header(settings: dict, target_family: str, proposal_family: str, shape: Tuple[int, ...],
            sample_type: str = "float64") -> bytes:
    return _core.stream_header(target_family, proposal_family, list(shape), settings["method"], settings["seed"],
                               settings["index_offset"], settings["processes"], sample_type)


def _encode_piece(Q: Distribution, P: Distribution, settings: dict, first_element: int,
                  first_chunk: int) -> Tuple[ChunkEncoding, bytes, int]:
    """One piece's results, its chunk frames and how many there are (elements from
    ``first_element``, chunks numbered from ``first_chunk``)."""
    shape = _pair_shape(Q, P)
    samples, steps, bits, frames, chunks = _core.encode_frames(
        Q._compact_side(shape), P._compact_side(shape), settings["method"], settings["seed"],
        settings["index_offset"], first_element, first_chunk, settings["max_steps"], settings["threads"],
        settings["processes"], settings["chunk_size"])
    samples = _as_sample_type(samples, _sample_type(Q, 2), first_element=first_element)
    encoding = ChunkEncoding(first_element, samples.reshape(shape), steps.view(np.int64).reshape(shape),
                             bits.reshape(shape))
    return encoding, frames, chunks


def _open(file: PathOrFile, mode: str) -> Tuple[IO[bytes], bool]:
    """(binary file, whether we opened it and must close it)."""
    if isinstance(file, (str, os.PathLike)):
        return open(file, mode), True
    needed = "write" if "w" in mode else "read"
    if not callable(getattr(file, needed, None)):
        raise TypeError(f"file must be a path or a binary file with a {needed}() method, got {type(file).__name__}")
    return file, False


def _write_all(file: IO[bytes], data: bytes) -> None:
    """Write every byte: a raw (unbuffered) file may write fewer than asked, or none (None)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if written is None:
            continue
        if written <= 0:
            raise OSError(f"{type(file).__name__}.write wrote {written} of {len(view)} bytes")
        view = view[written:]


class StreamWriter:
    """Writes a version-2 stream piece by piece to a path or a binary file.

    ``shape`` is the whole stream's shape. When it is None the stream is one-dimensional and
    its length is whatever was written: the frames are spooled to a temporary file and the
    header, which records the length, is written before them on :meth:`close`. Every piece's
    targets must be of one family, and its proposals of one family.

    Use it as a context manager: on a clean exit the writer checks that the declared number of
    elements was written (raising :class:`RecError` otherwise); on an exception the stream is
    left incomplete (and a decoder rejects it as truncated).

    >>> import io, numpy as np, rec_fast as rf
    >>> out = io.BytesIO()
    >>> with rf.StreamWriter(out, shape=(6,), seed=1, chunk_size=4) as writer:
    ...     first = writer.write(rf.Normal(np.zeros(4), 0.1), rf.Normal(0.0, 1.0))
    ...     second = writer.write(rf.Normal(np.ones(2), 0.1), rf.Normal(0.0, 1.0))
    >>> Q = rf.Normal(np.r_[np.zeros(4), np.ones(2)], 0.1)
    >>> out.getvalue() == rf.encode(Q, rf.Normal(0.0, 1.0), seed=1, chunk_size=4).to_bytes()
    True
    """

    def __init__(self, file: PathOrFile, shape: Any = None, *, seed: int = 0, method: str = "gprs-bb",
                 max_steps: Optional[int] = None, threads: Optional[int] = None, index_offset: int = 0,
                 processes: Optional[int] = None, chunk_size: Optional[int] = None) -> None:
        self._settings = _settings(method, seed, index_offset, max_steps, threads, processes, chunk_size)
        self._shape = _check_shape(shape)
        self._declared = None if self._shape is None else int(np.prod(self._shape, dtype=object))
        self._file, self._owned = _open(file, "wb")
        self._spool: Optional[IO[bytes]] = None if self._shape is not None else tempfile.TemporaryFile()
        self._families: Optional[Tuple[str, str]] = None
        self._sample_type = "float64"
        self._written = 0
        self._chunks = 0
        self._bytes = 0
        self._closed = False

    @property
    def elements_written(self) -> int:
        """Elements written so far."""
        return self._written

    @property
    def bytes_written(self) -> int:
        """Stream bytes produced so far (the header included once it is written)."""
        return self._bytes

    def write(self, Q: Distribution, P: Distribution) -> ChunkEncoding:
        """Encode the next piece: one sample of each target Q[i] against P[i] (their shapes
        broadcast; the piece's elements follow the ones written before, in row-major order).
        Returns the piece's samples, steps and bits. Raises :class:`RecError` for a pair that
        cannot be coded (an unbounded ratio, say: naming the element's index in the stream), a
        family that differs from the first piece's, or more elements than the declared shape
        holds; a bad parameter value is rejected earlier, by the distribution's constructor,
        which names its index in the piece's arrays. A failed piece writes nothing."""
        if self._closed:
            raise RecError("the stream writer is closed")
        Q = _check_distribution(Q, "target Q")
        P = _check_distribution(P, "coding distribution P")
        count = int(np.prod(_pair_shape(Q, P), dtype=object))
        families = (Q.family, P.family)
        if self._families is not None and families != self._families:
            raise RecError(f"this piece pairs a {Q.family} target with a {P.family} proposal, but the stream "
                           f"holds {self._families[0]} targets and {self._families[1]} proposals")
        sample_type = _sample_type(Q, 2)
        if self._families is not None and sample_type != self._sample_type:
            raise RecError(f"this piece's targets have {sample_type} parameters, but the stream holds "
                           f"{self._sample_type} samples (from its first piece); convert the parameters")
        if self._declared is not None and self._written + count > self._declared:
            raise RecError(f"this piece's {count} elements would exceed the stream's declared shape "
                           f"{self._shape} ({self._declared} elements, {self._written} written)")
        # Nothing is written unless the whole piece encodes, so a failed piece can be retried.
        header = b"" if self._families is not None or self._shape is None else _header(
            self._settings, Q.family, P.family, self._shape, sample_type)
        encoding, frames, chunks = _encode_piece(Q, P, self._settings, self._written, self._chunks)
        if header:
            self._emit(header)
        self._families = families
        self._sample_type = sample_type
        _write_all(self._spool or self._file, frames)
        self._bytes += len(frames)
        self._written += count
        self._chunks += chunks
        return encoding

    def _emit(self, data: bytes) -> None:
        _write_all(self._file, data)
        self._bytes += len(data)

    def close(self) -> None:
        """Finish the stream: check the declared length (or write the header of a stream of
        unknown length and copy the spooled frames after it) and close a file opened by path."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._families is None:
                if self._written == 0 and (self._declared in (None, 0)):
                    raise RecError("no piece was written, so the stream's families are unknown; "
                                   "write at least one (possibly empty) piece")
            if self._declared is not None and self._written != self._declared:
                raise RecError(f"the stream declares shape {self._shape} ({self._declared} elements) but "
                               f"{self._written} were written")
            if self._spool is not None:
                assert self._families is not None
                header = _header(self._settings, *self._families, (self._written,), self._sample_type)
                self._emit(header)
                self._spool.seek(0)
                while True:
                    block = self._spool.read(1 << 20)
                    if not block:
                        break
                    _write_all(self._file, block)
        finally:
            if self._spool is not None:
                self._spool.close()
            if self._owned:
                self._file.close()
            elif hasattr(self._file, "flush"):
                self._file.flush()

    def _abandon(self) -> None:
        self._closed = True
        if self._spool is not None:
            self._spool.close()
        if self._owned:
            self._file.close()

    def __enter__(self) -> "StreamWriter":
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.close()
        else:
            self._abandon()

    def __repr__(self) -> str:
        return (f"StreamWriter(method={self._settings['method']!r}, shape={self._shape}, "
                f"elements_written={self._written}, bytes_written={self._bytes})")


def encode_stream(pieces: Iterable[Tuple[Distribution, Distribution]], file: PathOrFile, shape: Any = None, *,
                  seed: int = 0, method: str = "gprs-bb", max_steps: Optional[int] = None,
                  threads: Optional[int] = None, index_offset: int = 0, processes: Optional[int] = None,
                  chunk_size: Optional[int] = None) -> dict:
    """Encode an iterable of (Q, P) pieces into one stream at ``file`` (a path or a binary file)
    with a :class:`StreamWriter`; returns ``{"elements", "bytes", "chunks"}``. Only one piece's
    arrays are alive at a time, so a generator of pieces encodes a stream larger than memory.
    Errors as :meth:`StreamWriter.write`.

    >>> import io, numpy as np, rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> pieces = ((rf.Normal(np.full(100, k / 10), 0.1), P) for k in range(3))
    >>> out = io.BytesIO()
    >>> rf.encode_stream(pieces, out, seed=2)
    {'elements': 300, 'bytes': ..., 'chunks': 3}
    """
    with StreamWriter(file, shape, seed=seed, method=method, max_steps=max_steps, threads=threads,
                      index_offset=index_offset, processes=processes, chunk_size=chunk_size) as writer:
        for piece in pieces:
            try:
                Q, P = piece
            except (TypeError, ValueError):
                raise TypeError(f"each piece must be a (Q, P) pair, got {type(piece).__name__}") from None
            writer.write(Q, P)
    return {"elements": writer.elements_written, "bytes": writer.bytes_written, "chunks": writer._chunks}


class StreamReader:
    """Reads a version-2 stream from a path or a binary file chunk by chunk.

    Iterating yields :class:`DecodedChunk` tuples ``(number, start, stop, samples)`` in stream
    order; ``samples`` is a flat array (float64, or float32 for a stream of float32 targets) of
    elements ``start .. stop`` (row-major in the
    stream's shape). ``P`` must be the encoder's coding distribution and broadcast to the stream's
    shape; a scalar P, or one whose arrays have the stream's full shape (a ``numpy.memmap``
    works), is used without copying.

    Corrupt bytes raise :class:`CorruptStreamError` naming the chunk and its element range. With
    ``skip_corrupt=True`` a chunk whose contents are corrupt (a bad checksum, model or payload)
    is not yielded: it is recorded in :attr:`skipped` as a :class:`SkippedChunk`, a
    :class:`CorruptChunkWarning` is issued, and reading goes on with the next chunk. Damage that
    loses the chunk boundaries (a corrupt length field, a truncated file, a header) still raises.
    Version-1 streams have no chunks: decode them with :func:`rec_fast.decode`.

    >>> import io, numpy as np, rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> enc = rf.encode(rf.Normal(np.linspace(-1.0, 1.0, 10), 0.1), P, chunk_size=4)
    >>> with rf.StreamReader(io.BytesIO(enc.to_bytes()), P) as reader:
    ...     samples = reader.read_all()
    >>> bool((samples == enc.samples).all())
    True
    """

    def __init__(self, file: PathOrFile, P: Distribution, *, skip_corrupt: bool = False,
                 threads: Optional[int] = None) -> None:
        if not isinstance(skip_corrupt, bool):
            raise TypeError(f"skip_corrupt must be a bool, got {type(skip_corrupt).__name__}")
        self._threads = _check_threads(threads)
        self._skip = skip_corrupt
        self._file, self._owned = _open(file, "rb")
        try:
            self._reader = _core.StreamReader(self._file)
            info = self._reader.header()
            info["shape"] = tuple(int(n) for n in info["shape"])
            self.info: dict = info
            self._P = _check_proposal_of_stream(P, info)
            self._side = self._P._compact_side(info["shape"])
        except BaseException:
            self.close()
            raise
        self.skipped: List[SkippedChunk] = []

    @property
    def shape(self) -> Tuple[int, ...]:
        """The stream's declared shape."""
        return self.info["shape"]

    def __iter__(self) -> Iterator[DecodedChunk]:
        while True:
            chunk = self._reader.next_chunk(self._side, self._threads)
            if chunk is None:
                # A file opened by path is closed once the stream is read to its end.
                self.close()
                return
            kind, number, start, count, value = chunk
            if kind == "frame":
                try:
                    samples = _as_sample_type(value, self.info["sample_type"], decoding=True, first_element=start)
                except CorruptStreamError as error:
                    kind, value = "corrupt", f"chunk {number}: {error}"
                else:
                    yield DecodedChunk(number, start, start + count, samples)
                    continue
            if not self._skip:
                raise CorruptStreamError(value)
            skipped = SkippedChunk(number, start, start + count, value)
            self.skipped.append(skipped)
            warnings.warn(f"skipped corrupt chunk {number} (elements {start}..{start + count}): {value}",
                          CorruptChunkWarning, stacklevel=2)

    def read_all(self) -> np.ndarray:
        """Every remaining chunk's samples in the stream's shape (NaN for skipped chunks)."""
        count = int(np.prod(self.shape, dtype=object))
        samples = np.full(count, np.nan, dtype=self.info["sample_type"])
        for chunk in self:
            samples[chunk.start:chunk.stop] = chunk.samples
        return samples.reshape(self.shape)

    def close(self) -> None:
        """Close a file opened by path."""
        if self._owned:
            self._file.close()

    def __enter__(self) -> "StreamReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_stream(file: PathOrFile, P: Distribution, *, skip_corrupt: bool = False,
                threads: Optional[int] = None) -> StreamReader:
    """A :class:`StreamReader` of the stream at ``file`` (see there).

    >>> import io, numpy as np, rec_fast as rf
    >>> P = rf.Normal(0.0, 1.0)
    >>> data = rf.encode(rf.Normal(np.zeros(10), 0.1), P, chunk_size=4).to_bytes()
    >>> [(chunk.start, chunk.stop) for chunk in rf.read_stream(io.BytesIO(data), P)]
    [(0, 4), (4, 8), (8, 10)]
    """
    return StreamReader(file, P, skip_corrupt=skip_corrupt, threads=threads)


__all__ = ["ChunkEncoding", "CorruptChunkWarning", "DecodedChunk", "SkippedChunk", "StreamReader", "StreamWriter",
           "encode_stream", "read_stream"]

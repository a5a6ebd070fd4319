"""rec_fast: relative entropy coding (one-shot channel simulation) in Rust.

Alice holds a target Q, Bob knows only the coding distribution P, and both share a seed.
``encode`` produces a short byte string from which ``decode`` reconstructs a sample that is
exactly distributed as Q, using about KL[Q‖P] + log₂(KL + 1) + O(1) bits, with greedy Poisson
rejection sampling (G. Flamich, *Greedy Poisson Rejection Sampling*, NeurIPS 2023).

>>> import rec_fast as rf
>>> P = rf.Normal(0.0, 1.0)
>>> Q = rf.Normal(loc=[1.0, -0.5], scale=[0.25, 0.1])
>>> enc = rf.encode(Q, P, seed=7, method="gprs-bb")
>>> bool((rf.decode(enc.to_bytes(), P) == enc.samples).all())
True
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _package_version

from ._api import (
    METHODS,
    ChunkInfo,
    CorruptStreamError,
    Encoding,
    Laplace,
    Normal,
    RecError,
    SearchLimitError,
    StreamInfo,
    Uniform,
    channel_simulation_divergence,
    decode,
    encode,
    kl_divergence,
    max_divergence,
    stream_info,
    stretch,
    stretch_inverse,
)
from ._core import FORMAT_VERSION
from .blocks import BLOCK_METHODS, BlockEncoder, BlockEncoding, BlockLayout, block_stream_info, decode_blocks, encode_blocks
from .compare import compare
from .streaming import (ChunkEncoding, CorruptChunkWarning, DecodedChunk, SkippedChunk, StreamReader, StreamWriter,
                        encode_stream, read_stream)

try:
    __version__: str = _package_version("rec_fast")
except _PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "BLOCK_METHODS",
    "BlockEncoder",
    "BlockEncoding",
    "BlockLayout",
    "block_stream_info",
    "ChunkEncoding",
    "ChunkInfo",
    "StreamInfo",
    "CorruptChunkWarning",
    "DecodedChunk",
    "SkippedChunk",
    "StreamReader",
    "StreamWriter",
    "encode_stream",
    "read_stream",
    "decode_blocks",
    "encode_blocks",
    "FORMAT_VERSION",
    "METHODS",
    "CorruptStreamError",
    "Encoding",
    "Laplace",
    "Normal",
    "RecError",
    "SearchLimitError",
    "Uniform",
    "channel_simulation_divergence",
    "compare",
    "decode",
    "encode",
    "kl_divergence",
    "max_divergence",
    "stream_info",
    "stretch",
    "stretch_inverse",
]

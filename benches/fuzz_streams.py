"""Structure-aware mutation fuzzer for version-2 rec_fast streams.

Builds a corpus of valid v2 streams (every method; Normal/Normal, Laplace/Laplace,
Uniform/Normal and Uniform/Uniform pairs; 1 element, a few elements (universal chunks),
hundreds to thousands of elements (range-coded chunks), many chunks, multi-dimensional
shapes, per-element proposals, Q = P (constant tables, empty payloads), "gprs-parallel" with
4 and 3 processes), parses each stream with a small reference parser of the v2 framing and
of the chunk tables (class tables; stop-probability tables of "gprs-bb" and "astar-bb"),
mutates one part of it and **recomputes the CRCs**, so that only the semantic checks of the
model and payload parsers can catch the change. Mutation kinds (weighted so that payload and
model mutations dominate): payload bit flips; model bit flips; a valid but different table;
a byte overwritten anywhere in a checksummed region; the payload truncated, extended or its
bit length changed; the payload replaced by the universal codes of extreme messages (arrival
2^64 - 1, nodes of depth 127, the last process); the coding byte; element counts and first
elements; header fields (shape, seed, index offset, method parameter, method id, family ids,
flags, version, magic); bytes spliced between chunks; garbage or a random well-formed chunk
appended; a chunk dropped. Each mutant goes to ``rf.decode`` (P of the entry, or a scalar P
of the declared family when the shape or family changed) and must

* raise ``rf.CorruptStreamError`` (or another ``rf.RecError``), or
* decode to finite float64 values of the stream's declared shape (inside P's support for a
  Uniform P),

in agreement with a reference decoder written from docs/format.md (framing, checksums,
padding, chunk tables, and the messages themselves — the range decoder of section 6 and the
universal codes of section 5 — wherever no random draw is needed: every code but the
split-path range coding and arithmetic-coded paths of "gprs-bb" and "astar-bb"): a decode of a
stream the reference rejects fails, and so does a refusal of a stream the reference decodes
(a sampler's floating-point resolution error excepted),

with the same outcome (and bit-identical samples) when decoded again on one thread, within
``--time-limit-per-case`` seconds and ``--rss-limit-mb`` of peak-RSS growth. Anything else
is a FAILURE: a pyo3 ``PanicException`` or any other non-RecError exception, non-finite
values, a wrong shape, a disagreement with the reference, a thread-dependent outcome, a decoder process that dies (abort, segfault, allocation failure under the
``--address-space-mb`` limit) or hangs (``--hang-timeout``), a slow case, a huge allocation.
An error *message* that alone depends on the thread count (another of several corrupt chunks
named) is counted apart, and is a failure only with ``--strict-messages``.

The decodes run in a worker process (started with "spawn"), so that a crash or a hang is
recorded and the worker restarted instead of taking the fuzzer down.

    python benches/fuzz_streams.py                       # 100,000 mutations, seed 0
    python benches/fuzz_streams.py --mutations 5000 --seed 3 --failures-json /tmp/f.json

Deterministic given ``--seed`` (corpus and mutations; only timings vary). Exits 1 on any
failure, printing each with a reproducer (``rf.decode(bytes.fromhex(...), P)``).
``tests/test_fuzz.py`` imports this module (the one copy of the parser and the mutator).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

# ---------------------------------------------------------------------------------------------
# Format constants (src/code/container/{mod,v2}.rs, src/code/entropy.rs, src/method.rs)
# ---------------------------------------------------------------------------------------------

MAGIC = b"RECF"
METHOD_IDS = {"gprs": 1, "gprs-bb": 2, "pfr": 3, "gprs-parallel": 4, "gprs-dyadic": 5, "astar-bb": 6}
METHOD_NAMES = {v: k for k, v in METHOD_IDS.items()}
FAMILY_IDS = {"Normal": 1, "Laplace": 2, "Uniform": 3}
FAMILY_NAMES = {v: k for k, v in FAMILY_IDS.items()}
MAX_DIMENSIONS = 32
MAX_ELEMENTS = 1 << 40
MAX_CHUNK_ELEMENTS = 1 << 20
MAX_PROCESSES = 1 << 16
CLASS_RANGE = (-128, 127)
MAX_TABLE_PRECISION = 20
U64 = (1 << 64) - 1

CODING_UNIVERSAL = 0
CODING_RANGE = 1


class FormatError(Exception):
    """The reference parser rejects the bytes."""


# ---------------------------------------------------------------------------------------------
# Varints, CRC, bit I/O
# ---------------------------------------------------------------------------------------------

def varint(value: int) -> bytes:
    """Unsigned LEB128 of any non-negative int (values ≥ 2⁶⁴ give overflowing varints)."""
    if value < 0:
        raise ValueError("negative varint")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def crc32(data: bytes) -> bytes:
    """zlib's CRC-32, little-endian u32."""
    return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little")


class Reader:
    """Little-endian field reader mirroring ``Fields`` in container/mod.rs."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, size: int, what: str) -> bytes:
        if size > self.remaining():
            raise FormatError(f"truncated inside the {what} field")
        out = self.data[self.pos:self.pos + size]
        self.pos += size
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), "little")

    def varint(self, what: str) -> int:
        value = 0
        for group in range(10):
            byte = self.u8(what)
            bits = byte & 0x7F
            if group == 9 and bits > 1:
                raise FormatError(f"the {what} field overflows 64 bits")
            value |= bits << (7 * group)
            if byte & 0x80 == 0:
                if group > 0 and byte == 0:
                    raise FormatError(f"the {what} field is not in its shortest form")
                return value
        raise FormatError(f"the {what} field overflows 64 bits")


class BitReader:
    """MSB-first bits of ``bit_length`` bits of ``data``."""

    def __init__(self, data: bytes, bit_length: int) -> None:
        self.data = data
        self.bit_length = bit_length
        self.pos = 0

    def remaining(self) -> int:
        return self.bit_length - self.pos

    def read_bit(self) -> Optional[int]:
        if self.pos >= self.bit_length:
            return None
        bit = (self.data[self.pos // 8] >> (7 - self.pos % 8)) & 1
        self.pos += 1
        return bit

    def read_bits(self, count: int) -> Optional[int]:
        if count > self.remaining():
            self.pos = self.bit_length
            return None
        value = 0
        for _ in range(count):
            value = (value << 1) | self.read_bit()
        return value


class BitWriter:
    def __init__(self) -> None:
        self.bits: List[int] = []

    def write_bits(self, value: int, count: int) -> None:
        for shift in range(count - 1, -1, -1):
            self.bits.append((value >> shift) & 1)

    def to_bytes(self) -> bytes:
        out = bytearray((len(self.bits) + 7) // 8)
        for i, bit in enumerate(self.bits):
            if bit:
                out[i // 8] |= 0x80 >> (i % 8)
        return bytes(out)


def write_gamma(writer: BitWriter, value: int) -> None:
    digits = value.bit_length()
    writer.write_bits(0, digits - 1)
    writer.write_bits(value, digits)


def read_gamma(reader: BitReader, max_bits: int) -> int:
    zeros = 0
    while True:
        bit = reader.read_bit()
        if bit is None:
            raise FormatError("the data ends inside an Elias gamma code")
        if bit == 1:
            break
        zeros += 1
        if zeros >= max_bits:
            raise FormatError(f"an Elias gamma code exceeds {max_bits} binary digits")
    rest = reader.read_bits(zeros)
    if rest is None:
        raise FormatError("the data ends inside an Elias gamma code")
    return (1 << zeros) | rest


# ---------------------------------------------------------------------------------------------
# Class table (the model bytes of a range-coded chunk; ClassTable in entropy.rs)
# ---------------------------------------------------------------------------------------------

@dataclass
class ClassTable:
    first: int
    precision: int
    weights: List[int]

    def to_bytes(self) -> bytes:
        writer = BitWriter()
        writer.write_bits((self.first - CLASS_RANGE[0]) & 0xFF, 8)
        writer.write_bits((len(self.weights) - 1) & 0xFF, 8)
        if len(self.weights) > 1:
            writer.write_bits(self.precision & 0x1F, 5)
            for weight in self.weights:
                write_gamma(writer, weight)
        return writer.to_bytes()


def _check_padding(reader: BitReader) -> None:
    if reader.remaining() >= 8 or any(reader.read_bit() != 0 for _ in range(reader.remaining())):
        raise FormatError("the chunk's model has trailing bytes or nonzero padding")


def read_class_table(model: bytes) -> ClassTable:
    """Reads and validates a stored class table, including its trailing padding."""
    reader = BitReader(model, 8 * len(model))
    first = reader.read_bits(8)
    count = reader.read_bits(8)
    if first is None or count is None:
        raise FormatError("the class model ends early")
    first += CLASS_RANGE[0]
    count += 1
    if first + count - 1 > CLASS_RANGE[1]:
        raise FormatError("class model range exceeds 127")
    if count == 1:
        table = ClassTable(first, 0, [1])
    else:
        precision = reader.read_bits(5)
        if precision is None:
            raise FormatError("the class model ends early")
        if not 1 <= precision <= MAX_TABLE_PRECISION:
            raise FormatError(f"class model precision {precision}")
        weights = [read_gamma(reader, precision + 1) for _ in range(count)]
        if sum(weights) != 1 << precision:
            raise FormatError("class model weights do not sum to 2^K")
        table = ClassTable(first, precision, weights)
    _check_padding(reader)
    return table


def random_class_table(rng: random.Random, classes: Optional[Tuple[int, int]] = None) -> ClassTable:
    """A valid table over a random (or given) contiguous class range."""
    if classes is None:
        low = rng.choice([1, 1, 2, rng.randint(-10, 10), rng.randint(1, 64), rng.randint(-128, 127)])
        count = rng.choice([1, 2, 3, rng.randint(1, 12), rng.randint(1, 40)])
    else:
        low, count = classes
    count = max(1, min(count, CLASS_RANGE[1] - low + 1))
    if count == 1:
        return ClassTable(low, 0, [1])
    smallest = max(1, (count - 1).bit_length())
    precision = rng.randint(smallest, MAX_TABLE_PRECISION)
    weights = [1] * count
    for _ in range((1 << precision) - count if precision <= 8 else 0):
        weights[rng.randrange(count)] += 1
    if precision > 8:
        extra = (1 << precision) - count
        cuts = sorted(rng.randint(0, extra) for _ in range(count - 1))
        parts = [b - a for a, b in zip([0] + cuts, cuts + [extra])]
        weights = [w + p for w, p in zip(weights, parts)]
    return ClassTable(low, precision, weights)


def mutate_class_table(table: ClassTable, rng: random.Random) -> Tuple[ClassTable, str]:
    """A different but valid table: shifted classes, moved weight, a class added or removed,
    a new precision, a constant table."""
    count = len(table.weights)
    choice = rng.randrange(6)
    if choice == 0:
        shift = rng.choice([-1, 1, -2, 2, rng.randint(-130, 130)])
        first = max(CLASS_RANGE[0], min(CLASS_RANGE[1] - count + 1, table.first + shift))
        return ClassTable(first, table.precision, list(table.weights)), f"shift classes by {first - table.first}"
    if choice == 1 and count > 1:
        weights = list(table.weights)
        i, j = rng.randrange(count), rng.randrange(count)
        amount = rng.randint(0, weights[i] - 1) if weights[i] > 1 else 0
        weights[i] -= amount
        weights[j] += amount
        return ClassTable(table.first, table.precision, weights), f"move weight {amount} from class {i} to {j}"
    if choice == 2:
        return ClassTable(rng.choice([table.first, rng.randint(-128, 127)]), 0, [1]), "constant table"
    if choice == 3 and count > 1:
        # Remove the first or last class and give its weight to a neighbour.
        weights = list(table.weights)
        if rng.random() < 0.5:
            w = weights.pop(0)
            weights[0] += w
            first = table.first + 1
        else:
            w = weights.pop()
            weights[-1] += w
            first = table.first
        if len(weights) == 1:
            return ClassTable(first, 0, [1]), "remove a class (constant)"
        return ClassTable(first, table.precision, weights), "remove an end class"
    if choice == 4:
        low = table.first - 1 if rng.random() < 0.5 else table.first
        return random_class_table(rng, (max(CLASS_RANGE[0], low), min(count + 1, 256))), "add a class"
    return random_class_table(rng, (table.first, count)), "new weights and precision"


# ---------------------------------------------------------------------------------------------
# Stop-probability table (the model bytes of a range-coded split-path chunk, "gprs-bb" and
# "astar-bb"; HazardTable in entropy.rs)
# ---------------------------------------------------------------------------------------------

HAZARD_PRECISION = 12
HAZARD_MAX_BUCKETS = 64
SPLIT_PATH_METHOD_IDS = (METHOD_IDS["gprs-bb"], METHOD_IDS["astar-bb"])


@dataclass
class HazardTable:
    stops: List[int]

    def to_bytes(self) -> bytes:
        writer = BitWriter()
        writer.write_bits((len(self.stops) - 1) & 0x3F, 6)
        for stop in self.stops:
            writer.write_bits(stop & 0xFFF, HAZARD_PRECISION)
        return writer.to_bytes()


def read_hazard_table(model: bytes) -> HazardTable:
    reader = BitReader(model, 8 * len(model))
    count = reader.read_bits(6)
    if count is None:
        raise FormatError("the stop model ends early")
    stops = []
    for _ in range(count + 1):
        stop = reader.read_bits(HAZARD_PRECISION)
        if stop is None:
            raise FormatError("the stop model ends early")
        if stop == 0:
            raise FormatError("a stop probability of the model is 0")
        stops.append(stop)
    _check_padding(reader)
    return HazardTable(stops)


def random_hazard_table(rng: random.Random, count: Optional[int] = None) -> HazardTable:
    count = count or rng.choice([1, 2, rng.randint(1, 16), rng.randint(1, HAZARD_MAX_BUCKETS)])
    pick = lambda: rng.choice([1, 2, 4095, 4094, 2048, rng.randint(1, 4095), rng.randint(1, 64)])  # noqa: E731
    return HazardTable([pick() for _ in range(count)])


def mutate_hazard_table(table: HazardTable, rng: random.Random) -> Tuple[HazardTable, str]:
    stops = list(table.stops)
    choice = rng.randrange(5)
    if choice == 0:
        i = rng.randrange(len(stops))
        stops[i] = rng.choice([1, 4095, max(1, stops[i] - 1), min(4095, stops[i] + 1), rng.randint(1, 4095)])
        return HazardTable(stops), f"stop probability {i} changed"
    if choice == 1 and len(stops) < HAZARD_MAX_BUCKETS:
        stops.append(rng.choice([1, 4095, rng.randint(1, 4095)]))
        return HazardTable(stops), "a bucket added"
    if choice == 2 and len(stops) > 1:
        stops.pop(rng.randrange(len(stops)))
        return HazardTable(stops), "a bucket removed"
    if choice == 3:
        value = rng.choice([1, 4095])
        return HazardTable([value] * len(stops)), f"every stop probability {value}"
    return random_hazard_table(rng), "new table"


def read_chunk_table(method_id: int, model: bytes):
    """The chunk's stored table for the method's message code (validated), or FormatError."""
    if method_id in SPLIT_PATH_METHOD_IDS:
        return read_hazard_table(model)
    return read_class_table(model)


def random_chunk_table(method_id: int, rng: random.Random):
    return random_hazard_table(rng) if method_id in SPLIT_PATH_METHOD_IDS else random_class_table(rng)


# ---------------------------------------------------------------------------------------------
# The v2 framing: data model, serialisation, strict parser
# ---------------------------------------------------------------------------------------------

@dataclass
class Header:
    method_id: int
    target_id: int
    proposal_id: int
    seed: int
    index_offset: int
    method_parameter: int
    shape: List[int]
    version: int = 2
    flags: int = 0
    magic: bytes = MAGIC
    dimension_count: Optional[int] = None  # stored dimension byte, if not len(shape)

    def body(self) -> bytes:
        out = bytearray(self.magic)
        out += bytes([self.version & 0xFF, self.method_id & 0xFF, self.target_id & 0xFF,
                      self.proposal_id & 0xFF, self.flags & 0xFF])
        out += varint(self.seed) + varint(self.index_offset) + varint(self.method_parameter)
        out.append((len(self.shape) if self.dimension_count is None else self.dimension_count) & 0xFF)
        for extent in self.shape:
            out += varint(extent)
        return bytes(out)

    def clone(self) -> "Header":
        return Header(self.method_id, self.target_id, self.proposal_id, self.seed, self.index_offset,
                      self.method_parameter, list(self.shape), self.version, self.flags, self.magic,
                      self.dimension_count)

    def element_count(self) -> int:
        count = 1
        for extent in self.shape:
            count *= extent
        return count


@dataclass
class Chunk:
    first: int
    count: int
    coding: int
    model: bytes
    payload_bits: int
    payload: bytes

    def body(self) -> bytes:
        return (varint(self.first) + varint(self.count) + bytes([self.coding & 0xFF]) + varint(len(self.model))
                + self.model + varint(self.payload_bits) + self.payload)

    def clone(self) -> "Chunk":
        return Chunk(self.first, self.count, self.coding, self.model, self.payload_bits, self.payload)


@dataclass
class Stream:
    header: Header
    chunks: List[Chunk]
    trailer: bytes = b""

    def clone(self) -> "Stream":
        return Stream(self.header.clone(), [c.clone() for c in self.chunks], self.trailer)

    def to_bytes(self) -> bytes:
        """The stream with every CRC recomputed."""
        return self.serialise()[0]

    def serialise(self) -> Tuple[bytes, List[Tuple[str, int, int]]]:
        """The bytes (CRCs recomputed) and the checksummed regions: (name, start, end) with the
        region's CRC at end..end+4."""
        regions = []
        body = self.header.body()
        out = bytearray(body)
        regions.append(("header", 0, len(body)))
        out += crc32(body)
        for number, chunk in enumerate(self.chunks):
            body = chunk.body()
            start = len(out)
            out += body
            regions.append((f"chunk {number}", start, len(out)))
            out += crc32(body)
        out += self.trailer
        return bytes(out), regions

    def renumber(self) -> None:
        """Makes the chunks' first elements consecutive."""
        covered = 0
        for chunk in self.chunks:
            chunk.first = covered
            covered += chunk.count

    def covered(self) -> int:
        return sum(c.count for c in self.chunks)


def parse_header(reader: Reader) -> Header:
    """Reads the header fields (ids, flags, shape) without validating them."""
    magic = reader.take(4, "magic")
    version = reader.u8("version")
    method_id = reader.u8("method")
    target_id = reader.u8("target family")
    proposal_id = reader.u8("proposal family")
    flags = reader.u8("flags")
    seed = reader.varint("seed")
    index_offset = reader.varint("index offset")
    method_parameter = reader.varint("method parameter")
    dimensions = reader.u8("dimension count")
    if dimensions > MAX_DIMENSIONS:
        raise FormatError(f"{dimensions} dimensions exceed {MAX_DIMENSIONS}")
    shape = [reader.varint("shape") for _ in range(dimensions)]
    return Header(method_id, target_id, proposal_id, seed, index_offset, method_parameter, shape,
                  version, flags, magic)


def parse_header_lenient(data: bytes) -> Optional[Header]:
    """The header fields of possibly corrupt bytes, or None (no checksum or id checks)."""
    try:
        return parse_header(Reader(data))
    except FormatError:
        return None


def parameter_allowed(method_id: int, parameter: int) -> bool:
    if method_id == METHOD_IDS["gprs-parallel"]:
        return 1 <= parameter <= MAX_PROCESSES
    return parameter == 0


def codable_combination(target: int, proposal: int) -> bool:
    uniform = FAMILY_IDS["Uniform"]
    return target == proposal or (target == uniform and proposal != uniform)


def parse_stream(data: bytes) -> Stream:
    """Parses and validates a v2 stream's framing exactly as ``v2::frames`` does (header, ids,
    flags, varints, checksums, chunk coverage and counts, padding); raises FormatError."""
    reader = Reader(data)
    header = parse_header(reader)
    if header.magic != MAGIC:
        raise FormatError("bad magic")
    if header.version != 2:
        raise FormatError(f"version {header.version}")
    if header.method_id not in METHOD_NAMES:
        raise FormatError(f"unknown method id {header.method_id}")
    if header.target_id not in FAMILY_NAMES or header.proposal_id not in FAMILY_NAMES:
        raise FormatError("unknown family id")
    if not codable_combination(header.target_id, header.proposal_id):
        raise FormatError("uncodable family combination")
    if header.flags & ~1:
        raise FormatError("flags other than bit 0 (float32 samples)")
    if not parameter_allowed(header.method_id, header.method_parameter):
        raise FormatError(f"method parameter {header.method_parameter}")
    header_end = reader.pos
    if reader.u32("header checksum") != zlib.crc32(data[:header_end]):
        raise FormatError("header checksum mismatch")
    if any(extent > MAX_ELEMENTS for extent in header.shape) or header.element_count() > MAX_ELEMENTS:
        raise FormatError("too many elements")
    count = header.element_count()
    chunks: List[Chunk] = []
    covered = 0
    while reader.remaining() > 0:
        number = len(chunks)
        start = reader.pos
        first = reader.varint("chunk's first element")
        if first != covered:
            raise FormatError(f"chunk {number} starts at {first}, not {covered}")
        element_count = reader.varint("chunk's element count")
        if element_count == 0 or element_count > MAX_CHUNK_ELEMENTS or element_count > count - covered:
            raise FormatError(f"chunk {number} declares {element_count} elements")
        coding = reader.u8("chunk coding")
        if coding not in (CODING_UNIVERSAL, CODING_RANGE):
            raise FormatError(f"unknown coding id {coding}")
        model = reader.take(reader.varint("model length"), "model")
        payload_bits = reader.varint("payload length")
        payload = reader.take((payload_bits + 7) // 8, "payload")
        end = reader.pos
        if reader.u32("chunk checksum") != zlib.crc32(data[start:end]):
            raise FormatError(f"chunk {number} checksum mismatch")
        used = payload_bits % 8
        if used and payload[-1] & (0xFF >> used):
            raise FormatError(f"chunk {number}: nonzero padding bits")
        chunks.append(Chunk(first, element_count, coding, model, payload_bits, payload))
        covered += element_count
    if covered != count:
        raise FormatError(f"chunks cover {covered} of {count} elements")
    return Stream(header, chunks)


# ---------------------------------------------------------------------------------------------
# Reference message decoder (docs/format.md sections 5 and 6) for the codes that need no
# random draws: "gprs", "pfr", "gprs-dyadic", "gprs-parallel" in both codings, and the raw
# paths of "gprs-bb" / "astar-bb" in the universal coding. Split-path range coding and
# arithmetic-coded paths need the split draws (the PCG streams): their chunks are "unknown".
# ---------------------------------------------------------------------------------------------

class UnknownMessages(Exception):
    """The reference cannot decode this chunk's messages (it needs the random draws)."""


ONE24 = 1 << 24
MASK64 = (1 << 64) - 1


class RangeDecoder:
    """The range decoder of docs/format.md section 6 (constriction's, 32-bit words, 64-bit state)."""

    def __init__(self, payload: bytes) -> None:
        if payload.endswith(b"\0"):
            raise FormatError("a range-coded payload ends in a zero byte")
        padded = payload + bytes(-len(payload) % 4)
        self.words = [int.from_bytes(padded[i:i + 4], "big") for i in range(0, len(padded), 4)]
        self.position = 0
        self.lower = 0
        self.range = MASK64
        self.point = (self._word() << 32) | self._word()
        self.decoded = 0

    def _word(self) -> int:
        word = self.words[self.position] if self.position < len(self.words) else 0
        self.position += 1
        return word

    def decode(self, find: Callable[[int], Tuple[int, int, int]]) -> int:
        """``find(q)`` -> (symbol, C(symbol), p(symbol)) with C ≤ q < C + p."""
        scale = self.range >> 24
        q = ((self.point - self.lower) & MASK64) // scale
        if q >= ONE24:
            raise FormatError("the range-coded payload is invalid")
        symbol, cumulative, probability = find(q)
        self.lower = (self.lower + scale * cumulative) & MASK64
        self.range = scale * probability
        if self.range < 1 << 32:
            self.lower = (self.lower << 32) & MASK64
            self.range <<= 32
            self.point = ((self.point << 32) & MASK64) | self._word()
        self.decoded += 1
        return symbol

    def finished(self) -> bool:
        if self.decoded == 0:
            return not self.words  # no symbol coded: the payload must be empty
        return self.position >= len(self.words) and ((self.point - self.lower) & MASK64) < (1 << 33) - 1

    def raw_bits(self, count: int) -> int:
        value = 0
        while count > 0:
            take = min(count, 16)
            count -= take
            shift = 24 - take
            value = (value << take) | self.decode(lambda q, shift=shift: (q >> shift, (q >> shift) << shift, 1 << shift))
        return value

    def uniform(self, r: int) -> int:
        if r <= 1:
            return 0
        width = ONE24 // r

        def find(q: int) -> Tuple[int, int, int]:
            symbol = min(q // width, r - 1)
            cumulative = symbol * width
            return symbol, cumulative, (width if symbol < r - 1 else ONE24 - cumulative)
        return self.decode(find)


def _class_finder(table: ClassTable) -> Callable[[int], Tuple[int, int, int]]:
    import bisect

    shift = 24 - table.precision
    probabilities = [w << shift for w in table.weights]
    cumulative = [0]
    for p in probabilities:
        cumulative.append(cumulative[-1] + p)

    def find(q: int) -> Tuple[int, int, int]:
        i = bisect.bisect_right(cumulative, q) - 1
        return i, cumulative[i], probabilities[i]
    return find


def _read_delta(reader: BitReader, max_bits: int) -> int:
    zeros = 0
    while True:
        bit = reader.read_bit()
        if bit is None:
            raise FormatError("the payload ends inside an Elias delta code")
        if bit == 1:
            break
        zeros += 1
        if zeros > 7:
            raise FormatError("an Elias delta prefix has more than 7 zeros")
    rest = reader.read_bits(zeros)
    if rest is None:
        raise FormatError("the payload ends inside an Elias delta code")
    digits = (1 << zeros) | rest
    if digits > max_bits:
        raise FormatError(f"an index with {digits} binary digits exceeds {max_bits}")
    tail = reader.read_bits(digits - 1)
    if tail is None:
        raise FormatError("the payload ends inside an Elias delta code")
    return (1 << (digits - 1)) | tail


def reference_messages(header: Header, chunk: Chunk) -> list:
    """The chunk's messages per docs/format.md, FormatError if invalid, UnknownMessages if the
    reference would need the random draws."""
    method, J = header.method_id, header.method_parameter
    messages = []
    if chunk.coding == CODING_UNIVERSAL:
        if chunk.model:
            raise FormatError("a universal chunk with model bytes")
        reader = BitReader(chunk.payload, chunk.payload_bits)
        for _ in range(chunk.count):
            if method in (METHOD_IDS["gprs"], METHOD_IDS["pfr"]):
                messages.append(_read_delta(reader, 64))
            elif method == METHOD_IDS["gprs-dyadic"]:
                messages.append(_read_delta(reader, 127))
            elif method == METHOD_IDS["gprs-parallel"]:
                j = reader.read_bits((J - 1).bit_length())
                if j is None:
                    raise FormatError("the payload ends inside a process number")
                if j >= J:
                    raise FormatError(f"process {j} of only {J}")
                messages.append((j, _read_delta(reader, 64)))
            else:  # split path codes
                depth = _read_delta(reader, 7)
                if depth > 127:
                    raise FormatError("depth above 127")
                if depth == 1:
                    messages.append(1)
                    continue
                flag = reader.read_bit()
                if flag is None:
                    raise FormatError("the payload ends before a path-code flag")
                if flag == 1:
                    raise UnknownMessages("an arithmetic-coded path")
                path = reader.read_bits(depth - 1)
                if path is None:
                    raise FormatError("the payload ends inside a search path")
                messages.append((1 << (depth - 1)) | path)
        if reader.remaining():
            raise FormatError(f"{reader.remaining()} payload bits are left after the last code")
        return messages
    if chunk.payload_bits != 8 * len(chunk.payload):
        raise FormatError("a range-coded payload that is not whole bytes")
    table = read_chunk_table(method, chunk.model)
    if isinstance(table, HazardTable):
        decoder = RangeDecoder(chunk.payload)  # the zero-byte rule still applies
        raise UnknownMessages("split-path range coding needs the split draws")
    decoder = RangeDecoder(chunk.payload)
    find = _class_finder(table)
    constant = len(table.weights) == 1
    for _ in range(chunk.count):
        c = table.first if constant else table.first + decoder.decode(find)
        if not 1 <= c <= 127:
            raise FormatError(f"class {c} is outside 1..=127")
        if method == METHOD_IDS["gprs-dyadic"]:
            if c - 1 > 64:
                high = decoder.raw_bits(c - 65)
                path = (high << 64) | decoder.raw_bits(64)
            else:
                path = decoder.raw_bits(c - 1)
            messages.append((1 << (c - 1)) | path)
            continue
        if c > 64:
            raise FormatError(f"an arrival index with {c} binary digits exceeds 64")
        if method == METHOD_IDS["gprs-parallel"]:
            j = decoder.uniform(J)
            messages.append((j, (1 << (c - 1)) | decoder.raw_bits(c - 1)))
        else:
            messages.append((1 << (c - 1)) | decoder.raw_bits(c - 1))
    if not decoder.finished():
        raise FormatError("the range-coded payload has data after the last message")
    return messages


def reference_verdict(data: bytes, messages: bool = True) -> Tuple[str, Optional[str]]:
    """("valid" | "invalid" | "unknown", reason): the stream under docs/format.md — framing,
    chunk tables and, with ``messages``, every chunk's messages where the reference can decode
    them ("unknown" if some chunk needs the random draws and nothing else is invalid)."""
    try:
        stream = parse_stream(data)
    except FormatError as error:
        return "invalid", str(error)
    unknown = None
    for number, chunk in enumerate(stream.chunks):
        try:
            if messages:
                reference_messages(stream.header, chunk)
            else:
                _chunk_rules(stream.header, chunk)
        except FormatError as error:
            return "invalid", f"chunk {number}: {error}"
        except UnknownMessages as error:
            unknown = unknown or f"chunk {number}: {error}"
    return ("unknown", unknown) if unknown else ("valid", None)


def _chunk_rules(header: Header, chunk: Chunk) -> None:
    """The coding-level rules that need no message decoding."""
    if chunk.coding == CODING_UNIVERSAL:
        if chunk.model:
            raise FormatError("a universal chunk with model bytes")
    else:
        if chunk.payload_bits != 8 * len(chunk.payload):
            raise FormatError(f"a range payload of {chunk.payload_bits} bits")
        if chunk.payload.endswith(b"\0"):
            raise FormatError("a range payload ending in a zero byte")
        read_chunk_table(header.method_id, chunk.model)


def reference_rejection(data: bytes, messages: bool = True) -> Optional[str]:
    """Why docs/format.md rejects a stream the decoder accepted (None if it does not)."""
    verdict, reason = reference_verdict(data, messages)
    return reason if verdict == "invalid" else None


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------

@dataclass
class Proposal:
    """A coding distribution P as plain data (family, two parameter arrays), picklable."""
    family: str
    first: np.ndarray
    second: np.ndarray

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(np.broadcast_shapes(self.first.shape, self.second.shape))

    def scalar(self) -> "Proposal":
        return Proposal(self.family, np.asarray(self.first.flat[0], dtype=float),
                        np.asarray(self.second.flat[0], dtype=float))

    def build(self, rf):
        cls = {"Normal": rf.Normal, "Laplace": rf.Laplace, "Uniform": rf.Uniform}[self.family]
        return cls(self.first, self.second)

    @staticmethod
    def default(family: str) -> "Proposal":
        first, second = (-1.0, 1.0) if family == "Uniform" else (0.0, 1.0)
        return Proposal(family, np.asarray(first), np.asarray(second))


@dataclass
class CorpusEntry:
    name: str
    method: str
    data: bytes
    stream: Stream
    proposal: Proposal
    samples: np.ndarray
    encode_kwargs: dict = field(default_factory=dict)


def _pairs(rng: np.random.Generator, family: str, shape: Tuple[int, ...], per_element_p: bool):
    """(Q, P) parameter arrays with modest divergences (D∞ ≲ 6 bits, so global methods stay fast)."""
    if family in ("Normal", "Laplace"):
        if per_element_p:
            p_loc = rng.normal(0.0, 0.3, shape)
            p_scale = rng.uniform(0.8, 1.5, shape)
        else:
            p_loc, p_scale = np.asarray(0.0), np.asarray(1.0)
        q_scale = np.broadcast_to(p_scale, shape) * rng.uniform(0.1, 0.45, shape)
        q_loc = np.broadcast_to(p_loc, shape) + np.broadcast_to(p_scale, shape) * rng.uniform(-1.0, 1.0, shape)
        return (family, q_loc, q_scale), (family, p_loc, p_scale)
    if family == "Uniform/Normal":
        low = rng.uniform(0.05, 1.0, shape)
        width = rng.uniform(0.1, 0.3, shape)
        return ("Uniform", low, low + width), ("Normal", np.asarray(0.0), np.asarray(1.0))
    if family == "Uniform/Uniform":
        width = rng.uniform(0.15, 0.6, shape)
        low = rng.uniform(-1.0, 1.0, shape) * (1.0 - width / 2) - width / 2
        low = np.clip(low, -1.0, 1.0 - width)
        return ("Uniform", low, low + width), ("Uniform", np.asarray(-1.0), np.asarray(1.0))
    raise ValueError(family)


# (name, families, shape, chunk_size, per-element P, identity Q = P)
CORPUS_LAYOUT = [
    ("normal-scalar", "Normal", (), None, False, False),
    ("laplace-1", "Laplace", (1,), None, False, False),
    ("uniform-normal-1", "Uniform/Normal", (1,), None, False, False),
    ("normal-5", "Normal", (5,), None, False, False),
    ("laplace-3x2", "Laplace", (3, 2), None, True, False),
    ("normal-600-per-element-p", "Normal", (600,), None, True, False),
    ("normal-2500-3-chunks", "Normal", (2500,), 1000, False, False),
    ("laplace-40x30-chunks", "Laplace", (40, 30), 256, True, False),
    ("uniform-normal-3x4x5-tiny-chunks", "Uniform/Normal", (3, 4, 5), 7, False, False),
    ("uniform-normal-1500", "Uniform/Normal", (1500,), None, False, False),
    ("uniform-uniform-300", "Uniform/Uniform", (300,), None, False, False),
    ("laplace-7x150-odd-chunks", "Laplace", (7, 150), 100, False, False),
    ("identity-normal-500", "Normal", (500,), None, False, True),
]


def build_corpus(seed: int, rf=None, layout=CORPUS_LAYOUT, methods: Optional[Sequence[str]] = None
                 ) -> List[CorpusEntry]:
    """Valid v2 streams across every method and the layouts above (deterministic in seed)."""
    if rf is None:
        import rec_fast as rf
    rng = np.random.default_rng(seed)
    seeds = random.Random(seed)
    corpus = []
    for method in methods or rf.METHODS:
        variants = [None] if method != "gprs-parallel" else [4, 3]
        for processes in variants:
            for index, (name, family, shape, chunk_size, per_element_p, identity) in enumerate(layout):
                if processes == 3 and index % 2 == 1 and chunk_size is None:
                    continue  # processes=3: a subset of the layouts (all the chunked ones)
                (qf, q1, q2), (pf, p1, p2) = _pairs(rng, family, shape, per_element_p)
                proposal = Proposal(pf, np.asarray(p1, dtype=float), np.asarray(p2, dtype=float))
                P = proposal.build(rf)
                if identity:  # Q = P: every message is the cheapest one (constant class tables)
                    q1, q2 = np.broadcast_to(p1, shape), np.broadcast_to(p2, shape)
                Q = {"Normal": rf.Normal, "Laplace": rf.Laplace, "Uniform": rf.Uniform}[qf](q1, q2)
                kwargs = dict(seed=seeds.choice([seeds.randrange(1 << 16), seeds.randrange(1 << 64), U64]),
                              method=method)
                if index % 3 == 2:
                    kwargs["index_offset"] = seeds.choice([12345, seeds.randrange(1 << 64)])
                if chunk_size is not None:
                    kwargs["chunk_size"] = chunk_size
                if processes is not None:
                    kwargs["processes"] = processes
                encoding = rf.encode(Q, P, **kwargs)
                data = encoding.to_bytes()
                stream = parse_stream(data)
                if stream.to_bytes() != data:
                    raise AssertionError(f"{name}/{method}: the reference parser does not round-trip")
                decoded = np.asarray(rf.decode(data, P))
                if not np.array_equal(decoded.view(np.uint64), np.asarray(encoding.samples).view(np.uint64)):
                    raise AssertionError(f"{name}/{method}: the stream does not decode to its samples")
                label = f"{method}{'' if processes is None else f'(J={processes})'}/{name}"
                corpus.append(CorpusEntry(label, method, data, stream, proposal,
                                          np.asarray(encoding.samples), kwargs))
    return corpus


# ---------------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------------

@dataclass
class Mutant:
    data: bytes
    kind: str
    detail: str


def _pick_chunk(stream: Stream, rng: random.Random, predicate: Callable[[Chunk], bool] = lambda c: True
                ) -> Optional[int]:
    candidates = [i for i, c in enumerate(stream.chunks) if predicate(c)]
    return rng.choice(candidates) if candidates else None


def _flatten_shape(stream: Stream) -> None:
    """Makes the header describe exactly the chunks' elements (a 1-D shape)."""
    stream.header.shape = [stream.covered()]


def _zero_padding(payload: bytes, bits: int) -> bytes:
    used = bits % 8
    if used and payload:
        payload = payload[:-1] + bytes([payload[-1] & (0xFF << (8 - used)) & 0xFF])
    return payload


def _flip_bits(data: bytes, bit_limit: int, flips: int, rng: random.Random) -> Tuple[bytes, List[int]]:
    out = bytearray(data)
    positions = sorted({rng.randrange(bit_limit) for _ in range(flips)})
    for p in positions:
        out[p // 8] ^= 0x80 >> (p % 8)
    return bytes(out), positions


def _random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(n))


def _interesting_count(rng: random.Random, old: int) -> int:
    return rng.choice([0, 1, old - 1, old + 1, 2 * old, old // 2, MAX_CHUNK_ELEMENTS, MAX_CHUNK_ELEMENTS + 1,
                       rng.randint(1, 5000), U64, 1 << 64, 1 << 40])


def mutate_payload_bitflip(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng, lambda c: c.payload_bits > 0)
    if i is None:
        i = _pick_chunk(s, rng)
        c = s.chunks[i]
        c.payload = _random_bytes(rng, rng.randint(1, 4))
        c.payload_bits = 8 * len(c.payload)
        return f"chunk {i}: empty payload replaced by {len(c.payload)} random bytes"
    c = s.chunks[i]
    flips = rng.randint(1, 8)
    # Half the time flip near the start (the first elements' codes), else anywhere.
    limit = c.payload_bits if rng.random() < 0.5 else min(c.payload_bits, 64)
    c.payload, positions = _flip_bits(c.payload, limit, flips, rng)
    return f"chunk {i} ({'universal' if c.coding == 0 else 'range'}): flip payload bits {positions}"


def mutate_model_bitflip(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng, lambda c: len(c.model) > 0)
    if i is None:
        i = _pick_chunk(s, rng)
        c = s.chunks[i]
        c.model = _random_bytes(rng, rng.randint(1, 6))
        return f"chunk {i} (coding {c.coding}): {len(c.model)} random model bytes added"
    c = s.chunks[i]
    c.model, positions = _flip_bits(c.model, 8 * len(c.model), rng.randint(1, 8), rng)
    return f"chunk {i}: flip model bits {positions}"


def mutate_model_table(s: Stream, rng: random.Random, corpus) -> str:
    """A valid but different table (class table or stop probabilities, as the method uses)."""
    method = s.header.method_id
    i = _pick_chunk(s, rng, lambda c: c.coding == CODING_RANGE)
    if i is None:
        i = _pick_chunk(s, rng)
        c = s.chunks[i]
        table = random_chunk_table(method, rng)
        c.coding, c.model = CODING_RANGE, table.to_bytes()
        c.payload = _zero_padding(c.payload, c.payload_bits).rstrip(b"\0")
        c.payload_bits = 8 * len(c.payload)
        return f"chunk {i}: universal chunk made range-coded with table {table}"
    c = s.chunks[i]
    try:
        table = read_chunk_table(method, c.model)
    except FormatError:
        table = random_chunk_table(method, rng)
    if isinstance(table, HazardTable):
        new, what = mutate_hazard_table(table, rng)
    else:
        new, what = mutate_class_table(table, rng)
    c.model = new.to_bytes()
    return f"chunk {i}: table {what}: {table} -> {new}"


def mutate_overwrite_byte(s: Stream, rng: random.Random, corpus) -> Tuple[bytes, str]:
    """Overwrites one byte of a checksummed region and recomputes that region's CRC."""
    data, regions = s.serialise()
    name, start, end = rng.choice(regions)
    position = rng.randrange(start, end)
    old = data[position]
    new = rng.choice([0x00, 0xFF, 0x80, 0x7F, (old + 1) & 0xFF, (old - 1) & 0xFF, old ^ 0x80,
                      rng.randrange(256)])
    if new == old:
        new = old ^ 0x01
    out = bytearray(data)
    out[position] = new
    out[end:end + 4] = crc32(bytes(out[start:end]))
    return bytes(out), f"{name}: byte {position - start} of the region (offset {position}) {old:#04x} -> {new:#04x}"


def mutate_payload_resize(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng)
    c = s.chunks[i]
    choice = rng.randrange(6)
    if choice == 0 and c.payload:
        cut = rng.randint(1, min(len(c.payload), 8))
        c.payload = c.payload[:-cut]
        c.payload_bits = min(c.payload_bits, 8 * len(c.payload))
        c.payload = _zero_padding(c.payload, c.payload_bits)
        return f"chunk {i}: payload truncated by {cut} bytes to {c.payload_bits} bits"
    if choice == 1:
        extra = rng.choice([b"\0", _random_bytes(rng, rng.randint(1, 8)), b"\x01", b"\xff" * rng.randint(1, 4)])
        if c.payload_bits % 8:  # keep whole bytes: extend from the byte boundary
            c.payload_bits = 8 * len(c.payload)
        c.payload += extra
        c.payload_bits += 8 * len(extra)
        return f"chunk {i}: payload extended by {extra.hex()}"
    if choice == 2:
        delta = rng.choice([-7, -3, -2, -1, 1, 2, 3, 7, 8, -8])
        bits = max(0, c.payload_bits + delta)
        nbytes = (bits + 7) // 8
        payload = c.payload[:nbytes] + bytes(max(0, nbytes - len(c.payload)))
        c.payload_bits = bits
        c.payload = _zero_padding(payload, bits) if rng.random() < 0.7 else payload
        return f"chunk {i}: payload bit length {bits - delta} -> {bits}"
    if choice == 3:
        c.payload, c.payload_bits = b"", 0
        return f"chunk {i}: payload emptied"
    if choice == 4 and len(c.payload) > 1:
        # Truncate in the middle (the codes run out early).
        keep = rng.randrange(1, len(c.payload))
        c.payload = c.payload[:keep]
        if c.coding == CODING_RANGE:
            c.payload = c.payload.rstrip(b"\0") or b"\x01"
        c.payload_bits = 8 * len(c.payload)
        return f"chunk {i}: payload cut to {len(c.payload)} bytes"
    c.payload = c.payload + _random_bytes(rng, rng.randint(1, 64))
    c.payload_bits = 8 * len(c.payload)
    return f"chunk {i}: random bytes appended to the payload"


def mutate_coding_byte(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng)
    c = s.chunks[i]
    old = c.coding
    choice = rng.randrange(4)
    if choice == 0:
        c.coding = rng.choice([2, 3, 0x7F, 0x80, 0xFF])
        return f"chunk {i}: coding {old} -> {c.coding}"
    c.coding = 1 - old if old in (0, 1) else 0
    if choice == 2:
        if c.coding == CODING_UNIVERSAL:
            c.model = b""
        else:
            c.model = random_chunk_table(s.header.method_id, rng).to_bytes()
            c.payload = _zero_padding(c.payload, c.payload_bits).rstrip(b"\0")
            c.payload_bits = 8 * len(c.payload)
        return f"chunk {i}: coding {old} -> {c.coding} with the model and payload made plausible"
    return f"chunk {i}: coding {old} -> {c.coding}"


def mutate_chunk_counts(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng)
    c = s.chunks[i]
    choice = rng.randrange(5)
    if choice == 0:
        old, c.count = c.count, _interesting_count(rng, c.count)
        return f"chunk {i}: element count {old} -> {c.count}"
    if choice == 1:
        old, c.first = c.first, rng.choice([c.first + 1, max(0, c.first - 1), 0, rng.randint(0, 5000), U64, 1 << 64])
        return f"chunk {i}: first element {old} -> {c.first}"
    if choice == 2:
        # A consistent stream with a wrong count: the header follows, the chunk decoder must cope.
        old, c.count = c.count, max(1, min(MAX_CHUNK_ELEMENTS, rng.choice(
            [c.count - 1, c.count + 1, c.count + rng.randint(2, 64), max(1, c.count // 2), 2 * c.count,
             rng.randint(1, 4096)] * 8 + [MAX_CHUNK_ELEMENTS])))
        s.renumber()
        _flatten_shape(s)
        return f"chunk {i}: element count {old} -> {c.count}, later chunks renumbered, shape {s.header.shape}"
    if choice == 3 and len(s.chunks) > 1:
        j = rng.choice([k for k in range(len(s.chunks)) if k != i])
        s.chunks[i].count, s.chunks[j].count = s.chunks[j].count, s.chunks[i].count
        s.renumber()
        return f"chunks {i} and {j}: element counts swapped, renumbered"
    old = c.count
    c.count = max(1, min(MAX_CHUNK_ELEMENTS, c.count + rng.choice([-1, 1])))
    s.renumber()
    return f"chunk {i}: element count {old} -> {c.count}, renumbered, header shape kept {s.header.shape}"


def _mutate_shape(h: Header, rng: random.Random) -> str:
    old = list(h.shape)
    total = h.element_count()
    choice = rng.randrange(9)
    if choice == 0 and h.shape:
        k = rng.randrange(len(h.shape))
        h.shape[k] = rng.choice([0, 1, h.shape[k] + 1, max(0, h.shape[k] - 1), 2 * h.shape[k], rng.randint(0, 5000)])
    elif choice == 1:
        # Same element count, another shape: must decode to that shape.
        divisors = [d for d in range(1, min(total, 4096) + 1) if total % d == 0]
        d = rng.choice(divisors)
        h.shape = rng.choice([[total], [d, total // d], [total // d, 1, d], [1] * rng.randint(0, 3) + [total]])
    elif choice == 2:
        h.shape = h.shape + [rng.choice([1, 1, 2, 0, rng.randint(0, 100)])]
    elif choice == 3 and h.shape:
        del h.shape[rng.randrange(len(h.shape))]
    elif choice == 4:
        h.dimension_count = rng.choice([len(h.shape) + 1, max(0, len(h.shape) - 1), 33, 255, 0])
        return f"dimension count byte {len(h.shape)} -> {h.dimension_count}"
    elif choice == 5:
        h.shape = [1] * rng.choice([32, 33, 40]) if total == 1 else [total] + [1] * rng.choice([31, 32])
    elif choice == 6:
        h.shape = rng.choice([[1 << 40], [(1 << 40) + 1], [1 << 32, 1 << 32, 1 << 32], [U64], [1 << 20, 1 << 21],
                              [1 << 64], [U64, 0]])
    elif choice == 7:
        h.shape = [0]
    else:
        h.shape = [total, 0] if rng.random() < 0.5 else [total + 1]
    return f"shape {old} -> {h.shape}"


def mutate_header_field(s: Stream, rng: random.Random, corpus) -> str:
    h = s.header
    choice = rng.choice(["shape", "shape", "shape", "seed", "index_offset", "method_parameter", "method",
                         "method", "family", "family", "flags", "version", "magic"])
    if choice == "shape":
        return _mutate_shape(h, rng)
    if choice in ("seed", "index_offset"):
        old = getattr(h, choice)
        new = rng.choice([old ^ (1 << rng.randrange(64)), (old + 1) & U64, (old - 1) & U64, 0, U64, 1 << 64,
                          rng.randrange(1 << 64), (1 << 70) + 5])
        setattr(h, choice, new)
        return f"{choice} {old} -> {new}"
    if choice == "method_parameter":
        old = h.method_parameter
        h.method_parameter = rng.choice([0, 1, 2, 3, 4, 5, 7, 64, 65535, MAX_PROCESSES, MAX_PROCESSES + 1,
                                         (1 << 32) - 1, 1 << 32, 1 << 40, U64, old + 1, max(0, old - 1)])
        return f"method parameter {old} -> {h.method_parameter}"
    if choice == "method":
        old = h.method_id
        h.method_id = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 255])
        if rng.random() < 0.7:
            h.method_parameter = rng.choice([1, 2, 3, 4, 5, 1000, MAX_PROCESSES]) if h.method_id == 4 else 0
        return f"method id {old} -> {h.method_id}, parameter {h.method_parameter}"
    if choice == "family":
        old = (h.target_id, h.proposal_id)
        if rng.random() < 0.5:
            h.target_id = rng.choice([0, 1, 2, 3, 4, 255])
        else:
            h.proposal_id = rng.choice([0, 1, 2, 3, 4, 255])
            if rng.random() < 0.5:
                h.target_id = rng.choice([h.proposal_id, 3])
        return f"families (target, proposal) {old} -> {(h.target_id, h.proposal_id)}"
    if choice == "flags":
        h.flags = rng.choice([1, 2, 0x80, 0xFF])
        return f"flags 0 -> {h.flags:#04x}"
    if choice == "version":
        h.version = rng.choice([0, 1, 3, 255])
        return f"version 2 -> {h.version}"
    position = rng.randrange(4)
    magic = bytearray(h.magic)
    magic[position] ^= 1 << rng.randrange(8)
    h.magic = bytes(magic)
    return f"magic -> {h.magic!r}"


def s_method(s: Stream) -> str:
    return METHOD_NAMES.get(s.header.method_id, "?")


def mutate_splice(s: Stream, rng: random.Random, corpus) -> str:
    """Bytes moved between chunks (of this stream, or of another stream of the same method)."""
    i = _pick_chunk(s, rng)
    target = s.chunks[i]
    if len(s.chunks) > 1 and rng.random() < 0.6:
        j = rng.choice([k for k in range(len(s.chunks)) if k != i])
        source, where = s.chunks[j], f"chunk {j}"
    else:
        same = [e for e in corpus if e.method == s_method(s)] or corpus
        entry = rng.choice(same)
        j = rng.randrange(len(entry.stream.chunks))
        source, where = entry.stream.chunks[j], f"{entry.name} chunk {j}"
    choice = rng.randrange(5)
    if choice == 0:
        target.payload, target.payload_bits = source.payload, source.payload_bits
        return f"chunk {i}: payload replaced by the payload of {where}"
    if choice == 1:
        target.model = source.model
        return f"chunk {i}: model replaced by the model of {where}"
    if choice == 2:
        target.coding, target.model = source.coding, source.model
        target.payload, target.payload_bits = source.payload, source.payload_bits
        return f"chunk {i}: coding, model and payload replaced by those of {where} (count kept)"
    if choice == 3 and source.payload and target.payload:
        span = rng.randint(1, min(16, len(source.payload)))
        a = rng.randrange(len(source.payload) - span + 1)
        b = rng.randrange(len(target.payload))
        payload = bytearray(target.payload)
        payload[b:b + span] = source.payload[a:a + span]
        target.payload = bytes(payload)
        target.payload_bits = 8 * len(target.payload) if len(target.payload) * 8 < target.payload_bits or \
            b + span > (target.payload_bits + 7) // 8 else target.payload_bits
        target.payload = _zero_padding(target.payload, target.payload_bits)
        return f"chunk {i}: {span} payload bytes at {b} overwritten from {where} at {a}"
    # A duplicated chunk, renumbered, with the header following.
    copy = target.clone()
    s.chunks.insert(i + 1, copy)
    s.renumber()
    if rng.random() < 0.7:
        _flatten_shape(s)
    return f"chunk {i} duplicated, renumbered, shape {s.header.shape}"


def mutate_append_garbage(s: Stream, rng: random.Random, corpus) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        s.trailer = _random_bytes(rng, rng.choice([1, 2, 4, rng.randint(1, 64)]))
        return f"{len(s.trailer)} garbage bytes appended: {s.trailer.hex()}"
    coding = rng.choice([0, 1])
    count = rng.choice([1, 2, rng.randint(1, 300)])
    if coding == CODING_RANGE:
        model = random_chunk_table(s.header.method_id, rng).to_bytes()
        payload = _random_bytes(rng, rng.randint(0, 64)).rstrip(b"\0")
        bits = 8 * len(payload)
    else:
        model = b""
        bits = rng.randint(0, 512)
        payload = _zero_padding(_random_bytes(rng, (bits + 7) // 8), bits)
    s.chunks.append(Chunk(s.covered(), count, coding, model, bits, payload))
    if choice == 2:
        _flatten_shape(s)
        return f"a random well-formed chunk of {count} elements appended, shape {s.header.shape}"
    return f"a random well-formed chunk of {count} elements appended past the shape"


def mutate_drop_chunk(s: Stream, rng: random.Random, corpus) -> str:
    i = _pick_chunk(s, rng)
    del s.chunks[i]
    choice = rng.randrange(3)
    if choice == 0:
        return f"chunk {i} dropped"
    s.renumber()
    if choice == 1:
        return f"chunk {i} dropped, renumbered, shape kept"
    _flatten_shape(s)
    return f"chunk {i} dropped, renumbered, shape {s.header.shape}"


def write_delta(writer: BitWriter, value: int) -> None:
    """Elias delta code of value ≥ 1 (universal.rs)."""
    digits = value.bit_length()
    length_digits = digits.bit_length()
    writer.write_bits(0, length_digits - 1)
    writer.write_bits(digits, length_digits)
    writer.write_bits(value, digits - 1)


def _extreme_arrival(rng: random.Random) -> int:
    return rng.choice([1, 2, 3, (1 << 63) - 1, 1 << 63, U64, U64 - 1, 1 << rng.randrange(64),
                       rng.randrange(1, 1 << 64), rng.randrange(1, 1 << 20)])


def _extreme_node(rng: random.Random, max_depth: int = 127) -> int:
    depth = rng.choice([1, 2, 64, 65, 100, 126, 127, max_depth, rng.randint(1, max_depth)])
    depth = min(depth, max_depth)
    if depth == 1:
        return 1
    path = rng.choice([0, (1 << (depth - 1)) - 1, rng.randrange(1 << (depth - 1)),
                       int("01" * 64, 2) & ((1 << (depth - 1)) - 1)])
    return (1 << (depth - 1)) | path


def write_universal_message(writer: BitWriter, method_id: int, processes: int, rng: random.Random,
                            last: bool = True) -> str:
    """Appends the universal (version-1) code of an extreme message of the method's code."""
    if method_id in (METHOD_IDS["gprs"], METHOD_IDS["pfr"]):
        n = _extreme_arrival(rng)
        write_delta(writer, n)
        return f"n={n}"
    if method_id == METHOD_IDS["gprs-dyadic"]:
        h = _extreme_node(rng)
        write_delta(writer, h)
        return f"H=2^{h.bit_length() - 1}+{h - (1 << (h.bit_length() - 1))}"
    if method_id in SPLIT_PATH_METHOD_IDS:
        h = _extreme_node(rng)
        depth = h.bit_length()
        write_delta(writer, depth)
        if depth > 1:
            if not last or rng.random() < 0.7:
                writer.write_bits(0, 1)
                writer.write_bits(h, depth - 1)
            else:  # an arithmetic-coded path: random bits (their code length is the decoder's to find)
                writer.write_bits(1, 1)
                writer.write_bits(rng.getrandbits(depth + 2), depth + 2)
                return f"depth {depth}, arithmetic path"
        return f"depth {depth}, path {h - (1 << (depth - 1)) if depth > 1 else 0}"
    if method_id == METHOD_IDS["gprs-parallel"]:
        bits = max(0, processes - 1).bit_length()
        j = rng.choice([0, max(0, processes - 1), rng.randrange(max(1, processes))])
        n = _extreme_arrival(rng)
        writer.write_bits(j, bits)
        write_delta(writer, n)
        return f"(j={j}, n={n})"
    return "?"


def mutate_payload_synthetic(s: Stream, rng: random.Random, corpus) -> str:
    """A chunk's payload replaced by the universal codes of extreme messages (the largest
    arrival indices, the deepest nodes, the last process), the chunk made universal and
    short, the header following: every such stream is valid and must decode to finite values."""
    i = _pick_chunk(s, rng)
    c = s.chunks[i]
    count = min(c.count, rng.choice([1, 2, 5, 16, 64]))
    writer = BitWriter()
    what = [write_universal_message(writer, s.header.method_id, s.header.method_parameter, rng, k == count - 1)
            for k in range(count)]
    c.coding, c.model, c.count = CODING_UNIVERSAL, b"", count
    c.payload_bits = len(writer.bits)
    c.payload = writer.to_bytes()
    s.renumber()
    if s.covered() != s.header.element_count():
        _flatten_shape(s)
    return f"chunk {i}: {count} extreme messages {', '.join(what[:4])}{' ...' if count > 4 else ''}"


MUTATIONS: Dict[str, Tuple[int, Callable]] = {
    "payload-bitflip": (26, mutate_payload_bitflip),
    "model-bitflip": (12, mutate_model_bitflip),
    "model-table": (8, mutate_model_table),
    "overwrite-byte": (8, mutate_overwrite_byte),
    "payload-resize": (8, mutate_payload_resize),
    "payload-synthetic": (6, mutate_payload_synthetic),
    "coding-byte": (4, mutate_coding_byte),
    "chunk-counts": (6, mutate_chunk_counts),
    "header-field": (12, mutate_header_field),
    "splice": (6, mutate_splice),
    "append-garbage": (4, mutate_append_garbage),
    "drop-chunk": (4, mutate_drop_chunk),
}
KINDS = list(MUTATIONS)
_WEIGHTS = [MUTATIONS[k][0] for k in KINDS]


def mutate(entry: CorpusEntry, rng: random.Random, corpus: Sequence[CorpusEntry], kind: Optional[str] = None
           ) -> Mutant:
    """One mutant of a corpus stream, with every CRC recomputed."""
    kind = kind or rng.choices(KINDS, _WEIGHTS)[0]
    stream = entry.stream.clone()
    result = MUTATIONS[kind][1](stream, rng, corpus)
    if isinstance(result, tuple):  # a byte-level mutation: serialised, its region's CRC fixed
        return Mutant(result[0], kind, result[1])
    return Mutant(stream.to_bytes(), kind, result)


# ---------------------------------------------------------------------------------------------
# Decoding in a worker process
# ---------------------------------------------------------------------------------------------

OUTCOMES = ("corrupt", "rec_error", "decoded", "FAILURE")


def _vm_size_bytes() -> Optional[int]:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _decode_once(rf, data: bytes, P, threads: Optional[int]) -> Tuple[dict, Optional[np.ndarray]]:
    try:
        samples = np.asarray(rf.decode(data, P, threads=threads))
        return {"status": "decoded"}, samples
    except rf.CorruptStreamError as error:
        return {"status": "corrupt", "message": str(error)}, None
    except rf.RecError as error:
        return {"status": "rec_error", "message": f"{type(error).__name__}: {error}"}, None
    except BaseException as error:  # PanicException is a BaseException
        return {"status": "exception",
                "message": f"{type(error).__module__}.{type(error).__qualname__}: {error}"[:2000]}, None


def _worker_main(conn, address_space_mb: Optional[int], threads: Optional[int]) -> None:
    import resource

    import rec_fast as rf

    # Warm up (start the thread pool) before limiting the address space.
    P = rf.Normal(0.0, 1.0)
    warm = rf.encode(rf.Normal(np.zeros(3000), 0.5), P, chunk_size=500).to_bytes()
    rf.decode(warm, P, threads=threads)
    rf.decode(warm, P, threads=1)
    if address_space_mb:
        vm = _vm_size_bytes()
        if vm is not None:
            limit = vm + address_space_mb * (1 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    proposals = {}
    conn.send(("ready", os.getpid()))
    while True:
        message = conn.recv()
        if message is None:
            return
        if message[0] == "proposal":
            _, key, spec = message
            proposals[key] = spec.build(rf)
            continue
        _, data, key, expected_shape, uniform_bounds, repeat = message
        P = proposals[key]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result, samples = _decode_once(rf, data, P, threads)
        elapsed = time.perf_counter() - start
        if result["status"] == "decoded":
            result["shape"] = tuple(samples.shape)
            result["finite"] = bool(np.isfinite(samples).all())
            result["dtype"] = str(samples.dtype)
            if uniform_bounds is not None and samples.size and result["finite"]:
                low, high = (np.broadcast_to(np.asarray(b), samples.shape) for b in uniform_bounds)
                result["in_support"] = bool(((samples >= low) & (samples <= high)).all())
        if repeat:
            # The same bytes on one thread: the same samples bit for bit, or the same error.
            again, again_samples = _decode_once(rf, data, P, 1)
            both = (f"{threads or 'all'} threads: {result['status']} {result.get('message')!r}; "
                    f"1 thread: {again['status']} {again.get('message')!r}")[:2000]
            if again["status"] != result["status"]:
                result["repeat_mismatch"] = both
            elif samples is not None and (samples.dtype != again_samples.dtype or not np.array_equal(
                    samples.view(f"u{samples.itemsize}"), again_samples.view(f"u{again_samples.itemsize}"))):
                result["repeat_mismatch"] = "the samples differ between thread counts"
            elif again.get("message") != result.get("message"):
                result["message_mismatch"] = both
        result["time"] = elapsed
        result["rss_growth_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        conn.send(result)


class DecodeRunner:
    """Runs ``rf.decode`` in a spawned worker; restarts it after a crash or a hang. (The worker
    is started with "spawn", so a script using this needs the ``__main__`` guard.)"""

    def __init__(self, hang_timeout: float = 60.0, address_space_mb: Optional[int] = 8192,
                 threads: Optional[int] = None, repeat_single_thread: bool = True) -> None:
        self.hang_timeout = hang_timeout
        self.repeat = repeat_single_thread
        self.address_space_mb = address_space_mb
        self.threads = threads
        self.context = multiprocessing.get_context("spawn")
        self.process = None
        self.conn = None
        self.known: set = set()
        self.restarts = 0

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker_main, args=(child, self.address_space_mb, self.threads),
                                       daemon=True)
        process.start()
        child.close()
        if not parent.poll(300):
            process.kill()
            raise RuntimeError("the decode worker did not start")
        try:
            parent.recv()
        except EOFError:
            raise RuntimeError(f"the decode worker exited at start (exit code {process.exitcode}); a script "
                               "using DecodeRunner needs the `if __name__ == \"__main__\":` guard") from None
        self.process, self.conn, self.known = process, parent, set()

    def _stop(self, kill: bool) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process = None

    def close(self) -> None:
        self._stop(kill=False)

    def __enter__(self) -> "DecodeRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, data: bytes, key, proposal: Proposal, expected_shape: Optional[Tuple[int, ...]]) -> dict:
        if self.process is None:
            self._start()
        if key not in self.known:
            self.conn.send(("proposal", key, proposal))
            self.known.add(key)
        bounds = None
        if proposal.family == "Uniform":
            bounds = (proposal.first, proposal.second)
        start = time.perf_counter()
        self.conn.send(("decode", data, key, expected_shape, bounds, self.repeat))
        if not self.conn.poll(self.hang_timeout):
            self._stop(kill=True)
            self.restarts += 1
            return {"status": "hang", "time": time.perf_counter() - start, "rss_growth_kb": 0,
                    "message": f"no answer within {self.hang_timeout} s; worker killed"}
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(5)
            code = self.process.exitcode
            self._stop(kill=True)
            self.restarts += 1
            return {"status": "crash", "time": time.perf_counter() - start, "rss_growth_kb": 0,
                    "message": f"the decode worker died (exit code {code})"}


# ---------------------------------------------------------------------------------------------
# Classification and the campaign
# ---------------------------------------------------------------------------------------------

def proposal_for(entry: CorpusEntry, header: Optional[Header]) -> Tuple[object, Proposal]:
    """P for a mutant: the entry's P if its family and shape still fit the declared header,
    else a scalar P of the same family, or a default P of the declared proposal family."""
    P = entry.proposal
    if header is None:
        return (entry.name, "full"), P
    declared = FAMILY_NAMES.get(header.proposal_id)
    if declared is not None and declared != P.family:
        return ("default", declared), Proposal.default(declared)
    shape = tuple(header.shape)
    try:
        fits = tuple(np.broadcast_shapes(P.shape, shape)) == shape
    except ValueError:
        fits = False
    if fits:
        return (entry.name, "full"), P
    return (entry.name, "scalar"), P.scalar()


# Errors a valid stream may still raise: a replayed search that leaves the floating-point
# resolution of its interval (docs/format.md, section 7).
SAMPLER_ERRORS = ("relative resolution",)


def _declared_dtype(data: bytes) -> str:
    """The sample dtype a stream's header declares: float32 when a version-2 header's flags
    (byte 8) set bit 0."""
    return "float32" if len(data) > 8 and data[4] == 2 and data[8] & 1 else "float64"


def classify(result: dict, data: bytes, expected_shape: Optional[Tuple[int, ...]],
             rss_limit_kb: int, time_limit: float, strict_messages: bool = False
             ) -> Tuple[str, Optional[str], Optional[str]]:
    """(outcome, failure reason, reference verdict). Differential against docs/format.md: a
    decode of a stream the reference rejects fails, and so does a refusal of a stream the
    reference fully decodes (unless the error is a sampler's, ``SAMPLER_ERRORS``). A decode
    whose outcome or samples depend on the thread count fails; one whose error *message* alone
    does (another of several corrupt chunks named) fails only with ``strict_messages``."""
    status = result["status"]
    reason = None
    verdict = None
    if status in ("corrupt", "rec_error"):
        outcome = status
        verdict, _ = reference_verdict(data)
        if verdict == "valid" and not any(m in result["message"] for m in SAMPLER_ERRORS):
            reason = f"refused a stream that docs/format.md allows: {result['message']}"
    elif status == "decoded":
        outcome = "decoded"
        verdict, rejection = reference_verdict(data)
        if verdict == "invalid":
            reason = f"decoded a stream docs/format.md rejects ({rejection})"
        elif expected_shape is not None and result["shape"] != tuple(expected_shape):
            reason = f"decoded shape {result['shape']}, declared {tuple(expected_shape)}"
        elif not result["finite"]:
            reason = "decoded non-finite values"
        elif result.get("in_support") is False:
            reason = "decoded values outside the Uniform proposal's support"
        elif result["dtype"] != _declared_dtype(data):
            reason = f"decoded dtype {result['dtype']}, declared {_declared_dtype(data)}"
    else:
        outcome = "FAILURE"
        reason = f"{status}: {result.get('message')}"
    if reason is None and result.get("repeat_mismatch"):
        reason = f"thread-dependent result: {result['repeat_mismatch']}"
    if reason is None and strict_messages and result.get("message_mismatch"):
        reason = f"thread-dependent error message: {result['message_mismatch']}"
    if reason is None and result["time"] > time_limit:
        reason = f"slow: {1e3 * result['time']:.2f} ms (limit {1e3 * time_limit:g} ms)"
    if reason is None and result["rss_growth_kb"] > rss_limit_kb:
        reason = f"peak RSS grew by {result['rss_growth_kb'] / 1024:.0f} MB"
    if reason is not None:
        outcome = "FAILURE"
    return outcome, reason, verdict


@dataclass
class Report:
    counts: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    times: Dict[str, List[float]] = field(default_factory=lambda: defaultdict(list))
    failures: List[dict] = field(default_factory=list)
    slow: List[dict] = field(default_factory=list)
    message_mismatches: List[dict] = field(default_factory=list)
    verdicts: Counter = field(default_factory=Counter)  # (decoder outcome, reference verdict)
    max_rss_growth_kb: int = 0
    corrupt_messages: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    mutations: int = 0
    restarts: int = 0

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


def run_campaign(mutations: int, seed: int, corpus: Optional[List[CorpusEntry]] = None,
                 time_limit: float = 1.0, hang_timeout: float = 60.0, rss_limit_mb: int = 256,
                 address_space_mb: Optional[int] = 8192, threads: Optional[int] = None,
                 repeat_single_thread: bool = True, strict_messages: bool = False,
                 progress: Optional[Callable[[int, "Report"], None]] = None, max_failures_kept: int = 200) -> Report:
    """Mutates random corpus streams ``mutations`` times and decodes each mutant in a worker."""
    if corpus is None:
        corpus = build_corpus(seed)
    rng = random.Random(seed)
    report = Report(mutations=mutations)
    started = time.perf_counter()
    with DecodeRunner(hang_timeout, address_space_mb, threads, repeat_single_thread) as runner:
        # Sanity: every unmutated stream decodes in the worker too.
        for entry in corpus:
            key, P = proposal_for(entry, entry.stream.header)
            result = runner.run(entry.data, key, P, entry.samples.shape)
            if result["status"] != "decoded" or result["shape"] != entry.samples.shape:
                raise AssertionError(f"corpus stream {entry.name} does not decode: {result}")
        for case in range(mutations):
            entry = rng.choice(corpus)
            mutant = mutate(entry, rng, corpus)
            header = parse_header_lenient(mutant.data)
            key, P = proposal_for(entry, header)
            expected = tuple(header.shape) if header is not None else None
            result = runner.run(mutant.data, key, P, expected)
            outcome, reason, verdict = classify(result, mutant.data, expected, rss_limit_mb * 1024, time_limit,
                                                strict_messages)
            report.verdicts[(result["status"], verdict)] += 1
            if result.get("message_mismatch") and outcome != "FAILURE" and \
                    len(report.message_mismatches) < max_failures_kept:
                report.message_mismatches.append({
                    "case": case, "entry": entry.name, "method": entry.method, "kind": mutant.kind,
                    "detail": mutant.detail, "reason": result["message_mismatch"], "hex": mutant.data.hex(),
                    "proposal": (P.family, P.first.tolist(), P.second.tolist()), "bytes": len(mutant.data)})
            report.counts[mutant.kind][outcome] += 1
            report.times[mutant.kind].append(result["time"])
            report.max_rss_growth_kb = max(report.max_rss_growth_kb, result["rss_growth_kb"])
            if outcome == "corrupt":
                report.corrupt_messages[_message_class(result["message"])] += 1
            if result["time"] > time_limit:
                report.slow.append({"case": case, "time": result["time"], "kind": mutant.kind, "entry": entry.name})
            if outcome == "FAILURE" and len(report.failures) < max_failures_kept:
                report.failures.append({
                    "case": case, "entry": entry.name, "method": entry.method, "kind": mutant.kind,
                    "detail": mutant.detail, "reason": reason, "status": result["status"],
                    "message": result.get("message"), "proposal": (P.family, P.first.tolist(), P.second.tolist()),
                    "hex": mutant.data.hex(), "bytes": len(mutant.data),
                })
            if progress is not None:
                progress(case + 1, report)
        report.restarts = runner.restarts
    report.elapsed = time.perf_counter() - started
    return report


def _message_class(message: str) -> str:
    """A corrupt-stream message without its numbers (for the summary of what caught what)."""
    import re

    message = re.sub(r"^chunk \d+ \((elements|from element) [\d.]+\): ", "", message)
    message = re.sub(r"^element \d+: ", "", message)
    message = re.sub(r"0x[0-9a-f]+", "#", message)
    message = re.sub(r"-?\d+(\.\d+)?", "N", message)
    message = re.sub(r"\[[^\]]*\]", "[..]", message)
    message = re.sub(r"\"[^\"]*\"", "\"..\"", message)
    return message[:110]


def format_report(report: Report, show_messages: int = 25) -> str:
    lines = []
    width = max(len(k) for k in KINDS) + 2
    header = f"{'mutation kind':<{width}}{'count':>8}" + "".join(f"{o:>11}" for o in OUTCOMES) + \
        f"{'p99 ms':>9}{'max ms':>9}"
    lines.append(header)
    lines.append("-" * len(header))
    all_times: List[float] = []
    for kind in KINDS:
        counts = report.counts.get(kind, Counter())
        times = report.times.get(kind, [])
        all_times += times
        total = sum(counts.values())
        p99 = 1e3 * float(np.percentile(times, 99)) if times else 0.0
        mx = 1e3 * max(times) if times else 0.0
        lines.append(f"{kind:<{width}}{total:>8}" + "".join(f"{counts[o]:>11}" for o in OUTCOMES)
                     + f"{p99:>9.2f}{mx:>9.2f}")
    lines.append("-" * len(header))
    total = sum(sum(c.values()) for c in report.counts.values())
    p99 = 1e3 * float(np.percentile(all_times, 99)) if all_times else 0.0
    mx = 1e3 * max(all_times) if all_times else 0.0
    lines.append(f"{'total':<{width}}{total:>8}" + "".join(f"{report.total(o):>11}" for o in OUTCOMES)
                 + f"{p99:>9.2f}{mx:>9.2f}")
    lines.append("")
    mean = 1e3 * float(np.mean(all_times)) if all_times else 0.0
    lines.append(f"decode time per case: mean {mean:.3f} ms, p99 {p99:.3f} ms, max {mx:.3f} ms; "
                 f"max peak-RSS growth in one case {report.max_rss_growth_kb / 1024:.1f} MB; "
                 f"worker restarts {report.restarts}; wall time {report.elapsed:.1f} s")
    if report.verdicts:
        pairs = sorted(report.verdicts.items(), key=lambda item: (-item[1], str(item[0])))
        lines.append("decoder outcome vs docs/format.md reference verdict: " + ", ".join(
            f"{status}/{verdict}: {count}" for (status, verdict), count in pairs))
    if report.message_mismatches:
        lines.append(f"{len(report.message_mismatches)} mutants (not counted as failures) named a different corrupt "
                     f"chunk or element on 1 thread than on the default pool, e.g. case "
                     f"#{report.message_mismatches[0]['case']} ({report.message_mismatches[0]['entry']}, "
                     f"{report.message_mismatches[0]['kind']}): {report.message_mismatches[0]['reason'][:300]}")
    if report.slow:
        lines.append(f"{len(report.slow)} slow cases: " + ", ".join(
            f"#{s['case']} {s['kind']} {s['entry']} {s['time']:.3f}s" for s in report.slow[:10]))
    if show_messages and report.corrupt_messages:
        lines.append("")
        lines.append("most frequent CorruptStreamError messages (numbers elided):")
        for message, count in report.corrupt_messages.most_common(show_messages):
            lines.append(f"  {count:>7}  {message}")
    return "\n".join(lines)


def format_failure(failure: dict) -> str:
    family, first, second = failure["proposal"]
    hexdata = failure["hex"]
    shown = hexdata if len(hexdata) <= 4096 else hexdata[:4096] + "..."
    return (f"case {failure['case']}: {failure['entry']} [{failure['kind']}] {failure['detail']}\n"
            f"  reason: {failure['reason']}\n"
            f"  reproduce: rf.decode(bytes.fromhex('{shown}'), rf.{family}({first!r}, {second!r}))")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutations", type=int, default=100_000, help="number of mutants (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus and mutation seed (default 0)")
    parser.add_argument("--time-limit-per-case", type=float, default=1.0,
                        help="seconds; a slower decode is reported and counted as a failure (default 1.0)")
    parser.add_argument("--hang-timeout", type=float, default=60.0,
                        help="seconds after which the worker is killed and the case counted as a hang (default 60)")
    parser.add_argument("--rss-limit-mb", type=int, default=256,
                        help="peak-RSS growth of one decode counted as a huge allocation (default 256)")
    parser.add_argument("--address-space-mb", type=int, default=8192,
                        help="address space the worker may add after warm-up, 0 for no limit (default 8192)")
    parser.add_argument("--threads", type=int, default=None, help="decode threads (default: all cores)")
    parser.add_argument("--no-thread-check", action="store_true",
                        help="do not decode every mutant a second time on one thread to compare results")
    parser.add_argument("--strict-messages", action="store_true",
                        help="count an error message that depends on the thread count as a failure")
    parser.add_argument("--failures-json", default=None, help="write every kept failure to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    import rec_fast as rf

    t0 = time.perf_counter()
    corpus = build_corpus(args.seed, rf)
    print(f"corpus: {len(corpus)} valid v2 streams ({sum(len(e.data) for e in corpus)} bytes, "
          f"{sum(len(e.stream.chunks) for e in corpus)} chunks: "
          f"{sum(c.coding == CODING_RANGE for e in corpus for c in e.stream.chunks)} range-coded) "
          f"over methods {', '.join(rf.METHODS)}; built in {time.perf_counter() - t0:.1f} s", flush=True)

    last = [time.perf_counter()]

    def progress(done: int, report: Report) -> None:
        now = time.perf_counter()
        if args.quiet or (now - last[0] < 10 and done != args.mutations):
            return
        last[0] = now
        print(f"  {done}/{args.mutations} mutants: " + ", ".join(f"{o} {report.total(o)}" for o in OUTCOMES),
              file=sys.stderr, flush=True)

    report = run_campaign(args.mutations, args.seed, corpus, args.time_limit_per_case, args.hang_timeout,
                          args.rss_limit_mb, args.address_space_mb or None, args.threads,
                          not args.no_thread_check, args.strict_messages, progress)
    print()
    print(f"{args.mutations} mutations, seed {args.seed}, every CRC recomputed")
    print(format_report(report))
    failures = report.total("FAILURE")
    if args.failures_json:
        with open(args.failures_json, "w") as f:
            json.dump({"failures": report.failures, "message_mismatches": report.message_mismatches[:200]}, f,
                      indent=1)
    if failures:
        print(f"\n{failures} FAILURES (first {min(20, len(report.failures))} shown):")
        for failure in report.failures[:20]:
            print(format_failure(failure))
        return 1
    print("\nno failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())

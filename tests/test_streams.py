"""Container version 2 through the Python API: round trips of every method and family at every
size, chunking, the bits accounting, and the choice of coding per chunk."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest

import rec_fast as rf

# (name, Q, P): one pair of every supported family combination, with unimodal ratios so that
# every method applies.
FAMILY_PAIRS = [
    ("normal", lambda n, g: rf.Normal(g.normal(0, 0.7, n), np.exp(g.uniform(-3.5, -2.0, n))), rf.Normal(0.0, 1.0)),
    ("laplace", lambda n, g: rf.Laplace(g.normal(0, 0.7, n), np.exp(g.uniform(-3.5, -2.0, n))), rf.Laplace(0.0, 1.0)),
    ("uniform-in-uniform", lambda n, g: (lambda low: rf.Uniform(low, low + 0.05))(g.uniform(-1.0, 0.9, n)),
     rf.Uniform(-1.0, 1.0)),
    ("uniform-on-normal", lambda n, g: (lambda low: rf.Uniform(low, low + 0.05))(g.uniform(0.1, 2.0, n)),
     rf.Normal(0.0, 1.0)),
    ("uniform-on-laplace", lambda n, g: (lambda low: rf.Uniform(low, low + 0.05))(g.uniform(-2.0, -0.1, n)),
     rf.Laplace(0.0, 1.0)),
]


@pytest.mark.parametrize("method", rf.METHODS)
@pytest.mark.parametrize("name, make, P", FAMILY_PAIRS, ids=[p[0] for p in FAMILY_PAIRS])
@pytest.mark.parametrize("count, chunk_size", [(1, None), (5, None), (3000, None), (3000, 1000), (2500, 999)])
def test_round_trips_of_every_method_family_and_size(method, name, make, P, count, chunk_size):
    Q = make(count, np.random.default_rng(count))
    enc = rf.encode(Q, P, seed=3, method=method, chunk_size=chunk_size)
    data = enc.to_bytes()
    assert np.array_equal(rf.decode(data, P).view(np.uint64), enc.samples.view(np.uint64))
    # Version 1 carries the same samples.
    v1 = rf.encode(Q, P, seed=3, method=method, format_version=1)
    assert np.array_equal(v1.samples.view(np.uint64), enc.samples.view(np.uint64))
    assert np.array_equal(rf.decode(v1.to_bytes(), P), enc.samples)
    # Bits accounting: shares add up to the payload, the rest is header.
    info = rf.stream_info(data)
    assert info["format_version"] == 2
    assert abs(enc.bits.sum() - info["payload_bits"]) < 1e-6 * max(1, info["payload_bits"])
    assert enc.payload_bits + enc.header_bits == 8 * len(data)
    size = chunk_size or rf._core.DEFAULT_CHUNK_SIZE
    assert [(c["first_element"], c["element_count"]) for c in info["chunks"]] == [
        (start, min(size, count - start)) for start in range(0, count, size)]
    assert sum(c["payload_bits"] for c in info["chunks"]) == info["payload_bits"]


@pytest.mark.parametrize("method", rf.METHODS)
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4, 2)])
def test_empty_arrays(method, shape):
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(rf.Normal(np.zeros(shape), 0.1), P, method=method)
    assert enc.samples.shape == shape and enc.bits.shape == shape
    data = enc.to_bytes()
    assert rf.stream_info(data)["chunks"] == []
    assert rf.decode(data, P).shape == shape
    assert enc.payload_bits == 0 and enc.header_bits == 8 * len(data)


def test_a_one_element_stream_is_a_few_bytes():
    P = rf.Normal(0.0, 1.0)
    for method in rf.METHODS:
        # Header: 8 bytes of ids, the varints of seed, offset and method parameter, the shape
        # and a CRC; one universal chunk: 5 bytes of framing, the code and a CRC. Version 1
        # takes 49 bytes plus the code.
        for seed, offset, limit in [(7, 0, 28), (2**63 + 5, 2**40, 43)]:
            enc = rf.encode(rf.Normal(0.3, 0.1), P, seed=seed, method=method, index_offset=offset)
            assert len(enc.to_bytes()) <= limit, (method, seed, len(enc.to_bytes()))
            assert rf.stream_info(enc.to_bytes())["chunks"][0]["coding"] == "universal"
            assert rf.decode(enc.to_bytes(), P) == enc.samples


def test_two_million_elements_in_many_chunks():
    count = 2_000_000
    generator = np.random.default_rng(11)
    Q = rf.Normal(generator.normal(0, 0.7, count), np.exp(generator.uniform(np.log(0.03), np.log(0.12), count)))
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(Q, P, seed=5, method="astar-bb")
    data = enc.to_bytes()
    info = rf.stream_info(data)
    assert len(info["chunks"]) == math.ceil(count / rf._core.DEFAULT_CHUNK_SIZE)
    assert {c["coding"] for c in info["chunks"]} == {"range"}
    assert np.array_equal(rf.decode(data, P).view(np.uint64), enc.samples.view(np.uint64))
    kl = float(np.mean(rf.kl_divergence(Q, P)))
    assert 8 * len(data) / count < kl + 2.0


def test_chunks_decode_the_same_for_every_thread_count_and_split():
    generator = np.random.default_rng(4)
    Q = rf.Normal(generator.normal(0, 0.7, 5000), 0.05)
    P = rf.Normal(0.0, 1.0)
    reference = rf.encode(Q, P, seed=8, chunk_size=700, threads=1)
    for threads in (2, 5, None):
        other = rf.encode(Q, P, seed=8, chunk_size=700, threads=threads)
        assert other.to_bytes() == reference.to_bytes()
        assert np.array_equal(rf.decode(reference.to_bytes(), P, threads=threads), reference.samples)
    # The chunking changes the bytes (each chunk fits its own model), never the samples.
    assert rf.encode(Q, P, seed=8).to_bytes() != reference.to_bytes()
    assert np.array_equal(rf.encode(Q, P, seed=8).samples, reference.samples)


def test_stream_options_are_validated():
    Q, P = rf.Normal(0.0, 0.5), rf.Normal(0.0, 1.0)
    for bad in (0, 2**20 + 1, -3):
        with pytest.raises(rf.RecError, match=r"chunk_size = .*; chunk_size must lie in \[1, 1048576\]"):
            rf.encode(Q, P, chunk_size=bad)
    with pytest.raises(TypeError, match="chunk_size must be an int"):
        rf.encode(Q, P, chunk_size=10.0)
    with pytest.raises(rf.RecError, match="chunk_size only applies to format_version 2"):
        rf.encode(Q, P, chunk_size=10, format_version=1)
    with pytest.raises(rf.RecError, match="format_version = 3; this build writes versions 1, 2"):
        rf.encode(Q, P, format_version=3)
    for bad in (-1, 0, 256, 2**70):
        with pytest.raises(rf.RecError, match=f"format_version = {bad}; this build writes versions 1, 2"):
            rf.encode(Q, P, format_version=bad)
    with pytest.raises(TypeError, match="format_version must be an int"):
        rf.encode(Q, P, format_version="2")


def test_a_corrupt_chunk_is_named_with_its_element_range():
    generator = np.random.default_rng(2)
    Q = rf.Normal(generator.normal(0, 0.7, 3000), 0.05)
    P = rf.Normal(0.0, 1.0)
    data = bytearray(rf.encode(Q, P, seed=1, chunk_size=1000).to_bytes())
    info = rf.stream_info(bytes(data))
    # Flip a bit in the middle of the stream: it lands in chunk 1, whose CRC no longer matches.
    chunk_bytes = (len(data) - 20) // 3
    data[20 + chunk_bytes + chunk_bytes // 2] ^= 0x10
    with pytest.raises(rf.CorruptStreamError, match=r"chunk 1 \(elements 1000\.\.2000\): checksum mismatch"):
        rf.decode(bytes(data), P)
    assert len(info["chunks"]) == 3


def test_a_chunk_without_symbols_must_have_an_empty_payload():
    # Q = P: every search accepts its first arrival, and the one-class model codes nothing.
    P = rf.Normal(0.0, 1.0)
    data = rf.encode(rf.Normal(np.zeros(1000), 1.0), P, seed=1, method="gprs").to_bytes()
    chunk = rf.stream_info(data)["chunks"][0]
    assert (chunk["coding"], chunk["payload_bits"]) == ("range", 0)
    # Header: 9 bytes of magic, version, ids and flags; seed, offset, parameter (1 byte each),
    # one dimension, the extent 1000 (2 bytes), the CRC: 19 bytes. The chunk's last field before
    # its CRC is the payload length 0.
    chunk_start = 19
    assert data[chunk_start] == 0 and data[-5] == 0
    body = bytearray(data[:-5]) + bytes([32]) + b"\xde\xad\xbe\xef"
    mutated = bytes(body) + struct.pack("<I", zlib.crc32(bytes(body[chunk_start:])))
    with pytest.raises(rf.CorruptStreamError, match=r"chunk 0 \(elements 0\.\.1000\): .*data after the last"):
        rf.decode(mutated, P)

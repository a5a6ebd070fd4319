"""Mutated version-2 streams, with their CRCs recomputed, are refused or decode sanely.

The parser, the mutator and the decode worker live in ``benches/fuzz_streams.py`` (one copy;
``python benches/fuzz_streams.py`` runs the 100,000-mutation campaign). Here a fixed-seed
campaign of 2,000 mutants must produce no failure — no panic, no other non-RecError
exception, no crash or hang of the decoder, no non-finite values or wrong shape, no
disagreement with the reference decoder written from docs/format.md (a check removed from the
Rust decoder makes it accept what the reference rejects) — and every mutation kind must be
caught as CorruptStreamError at least sometimes.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import rec_fast as rf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "benches"))

import fuzz_streams as fz  # noqa: E402

SEED = 20_241
MUTATIONS = 2_000


@pytest.fixture(scope="module")
def corpus():
    return fz.build_corpus(SEED, rf)


def test_reference_parser_agrees_with_stream_info(corpus):
    methods = {entry.method for entry in corpus}
    assert methods == set(rf.METHODS)
    assert any(c.coding == fz.CODING_RANGE for e in corpus for c in e.stream.chunks)
    assert any(c.coding == fz.CODING_UNIVERSAL for e in corpus for c in e.stream.chunks)
    for entry in corpus:
        stream, info = entry.stream, rf.stream_info(entry.data)
        assert stream.to_bytes() == entry.data
        assert fz.reference_verdict(entry.data)[0] != "invalid", entry.name
        assert info["method"] == fz.METHOD_NAMES[stream.header.method_id]
        assert info["seed"] == stream.header.seed and info["index_offset"] == stream.header.index_offset
        assert info["method_parameter"] == stream.header.method_parameter
        assert info["shape"] == tuple(stream.header.shape)
        assert [(c["first_element"], c["element_count"], c["model_bytes"], c["payload_bits"]) for c in info["chunks"]] \
            == [(c.first, c.count, len(c.model), c.payload_bits) for c in stream.chunks]
        assert [c["coding"] for c in info["chunks"]] == \
            ["universal" if c.coding == fz.CODING_UNIVERSAL else "range" for c in stream.chunks]


def test_mutants_with_recomputed_crcs_are_refused_or_decode_sanely(corpus):
    report = fz.run_campaign(MUTATIONS, SEED, corpus, time_limit=10.0, hang_timeout=60.0, rss_limit_mb=512)
    failures = "\n".join(fz.format_failure(f) for f in report.failures[:5])
    assert report.total("FAILURE") == 0, f"{report.total('FAILURE')} failures:\n{failures}\n{fz.format_report(report)}"
    assert sum(report.total(o) for o in fz.OUTCOMES) == MUTATIONS
    for kind in fz.KINDS:
        assert report.counts[kind]["corrupt"] > 0, f"no {kind} mutant was caught:\n{fz.format_report(report)}"
    # Some mutants must get past every check (a seed change, a new shape of the same size, a
    # dropped chunk with the header following): the campaign exercises the decode path too,
    # and the reference decoder of docs/format.md agrees both ways.
    assert report.total("decoded") > 0
    assert report.verdicts[("decoded", "valid")] > 0 and report.verdicts[("corrupt", "invalid")] > 0


def test_a_corrupt_middle_chunk_is_named_with_its_element_range():
    P = rf.Normal(0.0, 1.0)
    Q = rf.Normal(np.linspace(-1.0, 1.0, 2500), 0.2)
    data = rf.encode(Q, P, seed=5, method="gprs-bb", chunk_size=1000).to_bytes()
    stream = fz.parse_stream(data)
    assert [(c.first, c.count) for c in stream.chunks] == [(0, 1000), (1000, 1000), (2000, 500)]
    _, regions = stream.serialise()
    name, start, end = regions[2]
    assert name == "chunk 1"
    chunk = stream.chunks[1]
    # The last payload byte of chunk 1 sits just before its CRC; change it, keep the CRC.
    corrupt = bytearray(data)
    corrupt[end - 1] ^= 0x10
    assert bytes(corrupt[end - len(chunk.payload):end]) != chunk.payload
    with pytest.raises(rf.CorruptStreamError) as caught:
        rf.decode(bytes(corrupt), P)
    message = str(caught.value)
    assert "chunk 1" in message and "elements 1000..2000" in message, message
    assert "checksum" in message
    # The same change with the CRC recomputed reaches the payload parser instead, or decodes.
    fixed = bytearray(corrupt)
    fixed[end:end + 4] = fz.crc32(bytes(fixed[start:end]))
    try:
        samples = rf.decode(bytes(fixed), P)
    except rf.CorruptStreamError as error:
        assert "chunk 1 (elements 1000..2000)" in str(error)
    else:
        assert samples.shape == (2500,) and np.isfinite(samples).all()

"""Streams of any length: StreamWriter / encode_stream / StreamReader against one-shot rf.encode."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import rec_fast as rf

P = rf.Normal(0.0, 1.0)


def targets(count: int, seed: int = 0):
    generator = np.random.default_rng(seed)
    return generator.normal(0.0, 0.7, count), np.exp(generator.uniform(np.log(0.03), np.log(0.3), count))


def pieces_of(loc, scale, lengths):
    start = 0
    for length in lengths:
        yield rf.Normal(loc[start:start + length], scale[start:start + length]), P
        start += length
    assert start == len(loc)


@pytest.mark.parametrize("lengths, chunk_size", [
    ([3000, 3000, 1000], 1000),        # multiples of the chunk size
    ([1000] * 7, 1000),
    ([7000], 1000),
    ([1, 1, 1, 1, 6996], 1),           # one-element chunks
    ([0, 2000, 0, 5000, 0], 500),      # empty pieces write nothing
])
def test_pieces_give_the_bytes_of_one_encode(lengths, chunk_size):
    loc, scale = targets(7000)
    whole = rf.encode(rf.Normal(loc, scale), P, seed=11, chunk_size=chunk_size)
    out = io.BytesIO()
    with rf.StreamWriter(out, shape=(7000,), seed=11, chunk_size=chunk_size) as writer:
        start = 0
        for Q, _ in pieces_of(loc, scale, lengths):
            piece = writer.write(Q, P)
            stop = start + Q.shape[0]
            assert piece.start == start
            np.testing.assert_array_equal(piece.samples, whole.samples[start:stop])
            np.testing.assert_array_equal(piece.steps, whole.steps[start:stop])
            start = stop
    assert out.getvalue() == whole.to_bytes()
    assert writer.bytes_written == len(whole.to_bytes())


def test_pieces_off_the_chunk_grid_still_decode_exactly(tmp_path):
    loc, scale = targets(5000, seed=1)
    path = tmp_path / "odd.rec"
    summary = rf.encode_stream(pieces_of(loc, scale, [333, 1, 2999, 1667]), path, shape=5000, seed=3,
                               chunk_size=1000)
    assert summary["elements"] == 5000 and summary["bytes"] == path.stat().st_size
    assert summary["chunks"] == 1 + 1 + 3 + 2
    whole = rf.encode(rf.Normal(loc, scale), P, seed=3)
    # Chunk boundaries differ from the one-shot stream's, the samples do not.
    np.testing.assert_array_equal(rf.decode(path.read_bytes(), P), whole.samples)
    info = rf.stream_info(path.read_bytes())
    assert [c["element_count"] for c in info["chunks"]] == [333, 1, 1000, 1000, 999, 1000, 667]


def test_unknown_length_writes_the_header_at_close(tmp_path):
    loc, scale = targets(4100, seed=2)
    path = tmp_path / "spooled.rec"
    summary = rf.encode_stream(pieces_of(loc, scale, [2048, 2048, 4]), str(path), seed=9, chunk_size=2048)
    whole = rf.encode(rf.Normal(loc, scale), P, seed=9, chunk_size=2048)
    assert path.read_bytes() == whole.to_bytes()
    assert summary == {"elements": 4100, "bytes": len(whole.to_bytes()), "chunks": 3}


def test_multidimensional_stream_and_index_offset():
    loc, scale = targets(6 * 50, seed=3)
    Q = rf.Normal(loc.reshape(6, 50), scale.reshape(6, 50))
    whole = rf.encode(Q, P, seed=4, index_offset=1000, chunk_size=100, method="astar-bb")
    out = io.BytesIO()
    with rf.StreamWriter(out, shape=(6, 50), seed=4, index_offset=1000, chunk_size=100, method="astar-bb") as w:
        w.write(rf.Normal(loc[:200].reshape(4, 50), scale[:200].reshape(4, 50)), P)
        w.write(rf.Normal(loc[200:].reshape(2, 50), scale[200:].reshape(2, 50)), P)
    assert out.getvalue() == whole.to_bytes()
    reader = rf.read_stream(io.BytesIO(out.getvalue()), P)
    assert reader.shape == (6, 50) and reader.info["index_offset"] == 1000
    np.testing.assert_array_equal(reader.read_all(), whole.samples)


@pytest.mark.parametrize("method", ["gprs-bb", "gprs-dyadic", "gprs-parallel", "pfr"])
def test_reader_yields_chunks_in_order(method):
    loc, scale = targets(3000, seed=4)
    scale = np.maximum(scale, 0.2) if method in ("gprs-parallel", "pfr") else scale
    whole = rf.encode(rf.Normal(loc, scale), P, seed=5, method=method, chunk_size=700)
    chunks = list(rf.read_stream(io.BytesIO(whole.to_bytes()), P))
    assert [(c.number, c.start, c.stop) for c in chunks] == [(i, 700 * i, min(3000, 700 * (i + 1))) for i in range(5)]
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), whole.samples)


def test_reader_takes_a_proposal_of_the_streams_shape_without_copying(tmp_path):
    loc, scale = targets(2000, seed=5)
    p_scale = np.full(2000, 1.5)
    P_array = rf.Normal(np.zeros(2000), p_scale)
    whole = rf.encode(rf.Normal(loc, scale), P_array, seed=6, chunk_size=256)
    path = tmp_path / "p.rec"
    path.write_bytes(whole.to_bytes())
    np.save(tmp_path / "scale.npy", p_scale)
    mapped = np.load(tmp_path / "scale.npy", mmap_mode="r")
    with rf.read_stream(path, rf.Normal(0.0, mapped)) as reader:
        np.testing.assert_array_equal(reader.read_all(), whole.samples)
    # The wrong proposal decodes to different samples, never to an error-free copy of these.
    with rf.read_stream(path, rf.Normal(0.0, 1.0)) as reader:
        assert not np.array_equal(reader.read_all(), whole.samples)


def corrupt_middle_chunk(data: bytes, chunk: int) -> bytes:
    """Flips a byte in the middle of chunk `chunk`'s payload (the frame ends with the payload
    and a 4-byte checksum)."""
    frame = rf.stream_info(data)["chunks"][chunk]
    payload = (frame["payload_bits"] + 7) // 8
    corrupted = bytearray(data)
    corrupted[frame["byte_offset"] + frame["byte_length"] - 4 - payload // 2 - 1] ^= 0x5A
    return bytes(corrupted)


def test_stream_info_locates_every_frame():
    loc, scale = targets(3000, seed=9)
    data = rf.encode(rf.Normal(loc, scale), P, seed=1, chunk_size=1000).to_bytes()
    chunks = rf.stream_info(data)["chunks"]
    header = data[:chunks[0]["byte_offset"]]
    assert header + b"".join(data[c["byte_offset"]:c["byte_offset"] + c["byte_length"]] for c in chunks) == data
    for c in chunks:
        frame = data[c["byte_offset"]:c["byte_offset"] + c["byte_length"]]
        # The frame decodes on its own given the header (this is what a cluster's task does).
        decoded = rf._core.decode_frames(header, frame, c["first_element"], c["element_count"], 0,
                                         P._compact_side((c["element_count"],)), 1)
        np.testing.assert_array_equal(decoded, rf.decode(data, P)[c["first_element"]:c["first_element"] + 1000])


def test_a_corrupt_chunk_is_named_and_can_be_skipped():
    loc, scale = targets(5000, seed=6)
    whole = rf.encode(rf.Normal(loc, scale), P, seed=7, chunk_size=1000)
    bad = corrupt_middle_chunk(whole.to_bytes(), 2)
    with pytest.raises(rf.CorruptStreamError, match=r"chunk 2 \(elements 2000\.\.3000\)"):
        rf.decode(bad, P)
    with pytest.raises(rf.CorruptStreamError, match=r"chunk 2 \(elements 2000\.\.3000\)"):
        list(rf.read_stream(io.BytesIO(bad), P))
    reader = rf.read_stream(io.BytesIO(bad), P, skip_corrupt=True)
    with pytest.warns(rf.CorruptChunkWarning, match="chunk 2"):
        chunks = list(reader)
    assert [(c.start, c.stop) for c in chunks] == [(0, 1000), (1000, 2000), (3000, 4000), (4000, 5000)]
    assert [(s.number, s.start, s.stop) for s in reader.skipped] == [(2, 2000, 3000)]
    for c in chunks:
        np.testing.assert_array_equal(c.samples, whole.samples[c.start:c.stop])


def test_every_truncation_raises_and_never_yields_garbage():
    loc, scale = targets(300, seed=7)
    data = rf.encode(rf.Normal(loc, scale), P, seed=8, chunk_size=100).to_bytes()
    whole = rf.decode(data, P)
    for cut in range(len(data)):
        with pytest.raises(rf.CorruptStreamError):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rf.CorruptChunkWarning)
                for chunk in rf.read_stream(io.BytesIO(data[:cut]), P, skip_corrupt=True):
                    np.testing.assert_array_equal(chunk.samples, whole[chunk.start:chunk.stop])
    with pytest.raises(rf.CorruptStreamError, match="trailing bytes"):
        list(rf.read_stream(io.BytesIO(data + b"\0"), P))


def test_every_single_byte_change_raises_or_is_reported_as_skipped():
    loc, scale = targets(200, seed=8)
    data = rf.encode(rf.Normal(loc, scale), P, seed=9, chunk_size=50).to_bytes()
    whole = rf.decode(data, P)
    for position in range(len(data)):
        bad = bytearray(data)
        bad[position] ^= 0x01
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rf.CorruptChunkWarning)
                stream = rf.read_stream(io.BytesIO(bytes(bad)), P, skip_corrupt=True)
                chunks = list(stream)
        except rf.CorruptStreamError:
            continue
        # Whatever is yielded is right, and what is missing was reported.
        assert stream.skipped, f"byte {position}: a change went unnoticed"
        for c in chunks:
            np.testing.assert_array_equal(c.samples, whole[c.start:c.stop])


def test_version_1_streams_are_refused_with_a_pointer_to_decode():
    data = rf.encode(rf.Normal(0.5, 0.1), P, format_version=1).to_bytes()
    with pytest.raises(rf.RecError, match="version 1 stream cannot be read chunk by chunk.*decode it whole") as error:
        rf.read_stream(io.BytesIO(data), P)
    assert not isinstance(error.value, rf.CorruptStreamError)


def test_a_damaged_count_field_costs_only_its_chunk():
    loc, scale = targets(1000, seed=10)
    data = rf.encode(rf.Normal(loc, scale), P, seed=2, chunk_size=100).to_bytes()
    whole = rf.decode(data, P)
    frame = rf.stream_info(data)["chunks"][3]
    bad = bytearray(data)
    bad[frame["byte_offset"] + 2] ^= 0x01  # chunk 3's count: first element 300 is a 2-byte varint
    reader = rf.read_stream(io.BytesIO(bytes(bad)), P, skip_corrupt=True)
    with pytest.warns(rf.CorruptChunkWarning):
        chunks = list(reader)
    assert [(s.number, s.start, s.stop) for s in reader.skipped] == [(3, 300, 400)]
    assert [c.start for c in chunks] == [0, 100, 200, 400, 500, 600, 700, 800, 900]
    for c in chunks:
        np.testing.assert_array_equal(c.samples, whole[c.start:c.stop])


def test_bytes_after_an_empty_stream_are_an_error():
    data = rf.encode(rf.Normal(np.zeros(0), 0.5), P).to_bytes()
    assert list(rf.read_stream(io.BytesIO(data), P)) == []
    with pytest.raises(rf.CorruptStreamError, match="trailing bytes"):
        rf.read_stream(io.BytesIO(data + b"\0junk"), P)


class Trickle(io.RawIOBase):
    """A raw file that reads and writes at most a few bytes per call, reads as bytearray, and
    can raise from read."""

    def __init__(self, data: bytes = b"", step: int = 3, fail_after: int | None = None):
        self.data, self.position, self.step, self.fail_after, self.calls = bytearray(data), 0, step, fail_after, 0
        self.written = bytearray()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytearray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt
        size = self.step if size < 0 else min(size, self.step)
        block = self.data[self.position:self.position + size]
        self.position += len(block)
        return block

    def write(self, data) -> int:
        count = min(len(data), self.step)
        self.written += bytes(data[:count])
        return count


def test_short_reads_short_writes_and_exceptions_of_raw_files():
    loc, scale = targets(500, seed=11)
    whole = rf.encode(rf.Normal(loc, scale), P, seed=4, chunk_size=128)
    raw = Trickle(step=7)
    with rf.StreamWriter(raw, shape=500, seed=4, chunk_size=128) as writer:
        writer.write(rf.Normal(loc, scale), P)
    assert bytes(raw.written) == whole.to_bytes()
    reader = rf.read_stream(Trickle(whole.to_bytes(), step=5), P)
    np.testing.assert_array_equal(reader.read_all(), whole.samples)
    with pytest.raises(KeyboardInterrupt):
        list(rf.read_stream(Trickle(whole.to_bytes(), step=5, fail_after=40), P))


def test_concurrent_calls_with_one_thread_each_give_the_same_results():
    import concurrent.futures

    loc, scale = targets(20000, seed=12)
    expected = rf.encode(rf.Normal(loc, scale), P, seed=5, threads=1).to_bytes()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: rf.encode(rf.Normal(loc, scale), P, seed=5, threads=1).to_bytes(), range(4)))
    assert results == [expected] * 4


def test_writer_errors_are_clear():
    loc, scale = targets(10)
    out = io.BytesIO()
    writer = rf.StreamWriter(out, shape=5)
    with pytest.raises(rf.RecError, match=r"would exceed the stream's declared shape \(5,\)"):
        writer.write(rf.Normal(loc, scale), P)
    writer.write(rf.Normal(loc[:3], scale[:3]), P)
    with pytest.raises(rf.RecError, match="Laplace target with a Laplace proposal"):
        writer.write(rf.Laplace(0.0, 0.5), rf.Laplace(0.0, 1.0))
    with pytest.raises(rf.RecError, match=r"declares shape \(5,\) \(5 elements\) but 3 were written"):
        writer.close()
    with pytest.raises(rf.RecError, match="closed"):
        writer.write(rf.Normal(loc[:2], scale[:2]), P)
    # Bad elements are named by their index in the stream.
    bad_scale = scale.copy()
    bad_scale[7] = 2.0
    out = io.BytesIO()
    with rf.StreamWriter(out, shape=10, chunk_size=5) as w:
        with pytest.raises(rf.RecError, match="element 7"):
            w.write(rf.Normal(loc, bad_scale), P)
        w.write(rf.Normal(loc[:5], scale[:5]), P)
        with pytest.raises(rf.RecError, match="element 7"):
            w.write(rf.Normal(loc[5:], bad_scale[5:]), P)
        w.write(rf.Normal(loc[5:], scale[5:]), P)
    # A failed piece writes nothing: the stream is the one-shot encoding of the good pieces.
    assert out.getvalue() == rf.encode(rf.Normal(loc, scale), P, chunk_size=5).to_bytes()
    with pytest.raises(TypeError, match="each piece must be a"):
        rf.encode_stream([rf.Normal(0.0, 0.1)], io.BytesIO())
    with pytest.raises(TypeError, match="file must be a path or a binary file"):
        rf.StreamWriter(42)
    with pytest.raises(rf.RecError, match="chunk_size = 0"):
        rf.StreamWriter(io.BytesIO(), chunk_size=0)
    with pytest.raises(rf.RecError, match="no piece was written"):
        rf.StreamWriter(io.BytesIO()).close()


def test_an_exception_inside_the_writer_leaves_a_stream_the_decoder_rejects(tmp_path):
    loc, scale = targets(100)
    path = tmp_path / "partial.rec"
    with pytest.raises(RuntimeError):
        with rf.StreamWriter(path, shape=100, chunk_size=10) as writer:
            writer.write(rf.Normal(loc[:50], scale[:50]), P)
            raise RuntimeError("the producer failed")
    with pytest.raises(rf.CorruptStreamError, match="truncated"):
        rf.decode(path.read_bytes(), P)


def test_empty_stream_round_trips():
    out = io.BytesIO()
    with rf.StreamWriter(out, shape=(0, 4)) as writer:
        writer.write(rf.Normal(np.zeros((0, 4)), 0.1), P)
    assert out.getvalue() == rf.encode(rf.Normal(np.zeros((0, 4)), 0.1), P).to_bytes()
    assert list(rf.read_stream(io.BytesIO(out.getvalue()), P)) == []

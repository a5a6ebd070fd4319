"""Python conventions: float32 in and out, distributions owning their parameters, an immutable
Encoding, progress reporting, the package metadata and the stubs checked against the module."""

from __future__ import annotations

import importlib.metadata
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rec_fast as rf
from rec_fast import _progress

ROOT = Path(__file__).resolve().parent.parent
P = rf.Normal(0.0, 1.0)


def float32_targets(n: int = 3000, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.7, n).astype(np.float32), rng.uniform(0.03, 0.2, n).astype(np.float32)


# --- float32 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["gprs-bb", "gprs", "astar-bb"])
def test_float32_targets_give_the_float64_samples_rounded_once(method):
    loc, scale = float32_targets()
    enc32 = rf.encode(rf.Normal(loc, scale), P, seed=5, method=method, chunk_size=1000)
    enc64 = rf.encode(rf.Normal(loc.astype(np.float64), scale.astype(np.float64)), P, seed=5, method=method,
                      chunk_size=1000)
    assert enc32.samples.dtype == np.float32 and enc64.samples.dtype == np.float64
    # The same search (float32 parameters are exact in float64), rounded once to nearest.
    assert enc32.samples.tobytes() == enc64.samples.astype(np.float32).tobytes()
    assert np.array_equal(enc32.steps, enc64.steps) and np.array_equal(enc32.bits, enc64.bits)
    data32, data64 = enc32.to_bytes(), enc64.to_bytes()
    assert len(data32) == len(data64) and data32[8] == 1 and data64[8] == 0  # the header's flags byte
    assert rf.stream_info(data32)["sample_type"] == "float32" and rf.stream_info(data64)["sample_type"] == "float64"
    decoded = rf.decode(data32, P)
    assert decoded.dtype == np.float32 and decoded.tobytes() == enc32.samples.tobytes()


def test_python_numbers_adapt_to_float32_arrays_as_in_numpy():
    loc, _ = float32_targets(10)
    assert rf.Normal(loc, 0.1).dtype == np.float32
    assert rf.Normal(0.5, 0.1).dtype == np.float64
    assert rf.Normal(loc, np.float64(0.1)).dtype == np.float64  # numpy scalars are typed (NEP 50)
    assert rf.Normal(loc, np.array(0.1)).dtype == np.float64    # an array is not
    assert rf.Uniform(np.float32([0.0, 0.2]), np.float32(0.5)).dtype == np.float32
    assert rf.Normal(loc.astype(np.float16), 0.1).dtype == np.float64
    assert rf.encode(rf.Normal(loc, 0.1), P).samples.dtype == np.float32


def test_float32_needs_format_version_2():
    loc, scale = float32_targets(10)
    with pytest.raises(rf.RecError, match="only format version 2 records"):
        rf.encode(rf.Normal(loc, scale), P, format_version=1)


def test_streams_and_writers_keep_the_sample_type():
    loc, scale = float32_targets(600)
    whole = rf.encode(rf.Normal(loc, scale), P, seed=2, chunk_size=100)
    out = io.BytesIO()
    with rf.StreamWriter(out, seed=2, chunk_size=100) as writer:
        first = writer.write(rf.Normal(loc[:300], scale[:300]), P)
        writer.write(rf.Normal(loc[300:], scale[300:]), P)
        with pytest.raises(rf.RecError, match="float64 parameters, but the stream holds float32 samples"):
            writer.write(rf.Normal(np.float64(0.0) + loc[:3].astype(np.float64), 0.1), P)
    assert first.samples.dtype == np.float32
    assert out.getvalue() == whole.to_bytes()
    chunks = list(rf.StreamReader(io.BytesIO(out.getvalue()), P))
    assert all(chunk.samples.dtype == np.float32 for chunk in chunks)
    assert rf.StreamReader(io.BytesIO(out.getvalue()), P).read_all().tobytes() == whole.samples.tobytes()


def test_a_flipped_sample_type_flag_changes_only_the_dtype():
    """The flag is part of the CRC-protected header: with its CRC recomputed, a float64 stream
    declared float32 decodes to the same samples rounded (and the CRC catches a plain flip)."""
    import zlib

    enc = rf.encode(rf.Normal(np.linspace(-1, 1, 50), 0.1), P, seed=4)
    data = bytearray(enc.to_bytes())
    data[8] = 1
    with pytest.raises(rf.CorruptStreamError, match="header checksum"):
        rf.decode(bytes(data), P)
    header_end = rf.stream_info(enc.to_bytes())["chunks"][0]["byte_offset"] - 4
    data[header_end:header_end + 4] = zlib.crc32(bytes(data[:header_end])).to_bytes(4, "little")
    assert rf.decode(bytes(data), P).tobytes() == enc.samples.astype(np.float32).tobytes()


# --- distributions own their parameters ------------------------------------------------------

def test_distributions_copy_their_parameters_into_read_only_arrays():
    loc = np.array([0.0, 1.0])
    scale = [0.1, 0.2]
    Q = rf.Normal(loc, scale)
    loc[0] = 99.0
    assert Q.loc[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        Q.loc[0] = 5.0
    with pytest.raises(AttributeError, match="immutable"):
        Q.loc = np.zeros(2)
    view = np.linspace(0, 1, 10)[::2]  # non-contiguous input
    assert rf.Uniform(view, view + 1).low.flags.c_contiguous


def test_distributions_compare_by_value_and_are_not_hashable():
    assert rf.Normal([0.0, 1.0], 0.5) == rf.Normal(np.array([0.0, 1.0]), 0.5)
    assert rf.Normal([0.0, 1.0], 0.5) != rf.Normal([0.0, 1.0], 0.25)
    assert rf.Normal(0.0, 1.0) != rf.Laplace(0.0, 1.0)
    assert rf.Normal([0.0, 0.0], 1.0) != rf.Normal(0.0, 1.0)  # shapes differ
    with pytest.raises(TypeError, match="unhashable"):
        hash(rf.Normal(0.0, 1.0))


def test_anything_numpy_asarray_accepts_is_a_parameter():
    class ArrayLikeThing:
        def __array__(self, dtype=None, copy=None):
            return np.array([0.25, 0.5])

    for loc in ([0.25, 0.5], (0.25, 0.5), np.array([0.25, 0.5]), ArrayLikeThing()):
        Q = rf.Normal(loc, 0.1)
        assert Q.shape == (2,) and Q.loc.tolist() == [0.25, 0.5]
    try:
        import torch
    except ImportError:
        return
    assert rf.Normal(torch.tensor([0.25, 0.5]), 0.1).dtype == np.float32


# --- Encoding --------------------------------------------------------------------------------

def test_encoding_is_immutable_and_rebuilds_from_bytes():
    enc = rf.encode(rf.Normal(np.linspace(-1, 1, 40).reshape(4, 10), 0.1), P, seed=8, method="gprs", chunk_size=16)
    for name in ("samples", "steps", "bits", "seed", "method"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(enc, name, None)
    for array in (enc.samples, enc.steps, enc.bits):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 0
    again = rf.Encoding.from_bytes(enc.to_bytes(), P)
    assert again.samples.tobytes() == enc.samples.tobytes() and again.shape == (4, 10)
    assert (again.method, again.seed, again.index_offset, again.format_version, again.chunk_size) == \
        ("gprs", 8, 0, 2, 16)
    assert again.steps is None and again.bits is None
    assert (again.payload_bits, again.header_bits, len(again)) == (enc.payload_bits, enc.header_bits, 40)
    assert repr(again) == repr(enc)
    with pytest.raises(rf.CorruptStreamError):
        rf.Encoding.from_bytes(enc.to_bytes()[:-1], P)


# --- progress --------------------------------------------------------------------------------

def test_a_progress_function_sees_counts_rise_to_the_total():
    Q = rf.Normal(np.linspace(-1, 1, 50_000), 0.05)
    seen = []
    enc = rf.encode(Q, P, seed=1, threads=1, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (50_000, 50_000)
    assert all(total == 50_000 for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert enc.to_bytes() == rf.encode(Q, P, seed=1).to_bytes()


def test_an_exception_in_the_progress_function_stops_the_batch():
    Q = rf.Normal(np.zeros(400_000), 0.001)  # a few seconds of work: the callback runs while it does

    def fail(done, total):
        raise RuntimeError(f"stop at {done}")

    with pytest.raises(RuntimeError, match="stop at"):
        rf.encode(Q, P, method="gprs-dyadic", threads=1, progress=fail)


def test_progress_true_draws_a_tqdm_bar(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(_progress, "BAR_DELAY", 0.0)
    rf.encode(rf.Normal(np.linspace(-1, 1, 20_000), 0.05), P, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err and "20.0k/20.0k" in err, err


def test_progress_without_tqdm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"pip install rec_fast\[progress\]"):
        rf.encode(rf.Normal(0.0, 0.5), P, progress=True)


def test_progress_rejects_other_values():
    with pytest.raises(TypeError, match="progress must be a bool or a function"):
        rf.encode(rf.Normal(0.0, 0.5), P, progress="yes")


def test_block_coding_reports_blocks():
    from rec_fast.workloads import combiner_profile

    w = combiner_profile(5000, seed=3)
    layout = rf.BlockLayout.from_kl(w.kl_bits, seed=1)
    seen = []
    enc = rf.encode_blocks(w.target(), w.prior(), seed=2, layout=layout, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (layout.num_blocks, layout.num_blocks)
    assert enc.to_bytes() == rf.encode_blocks(w.target(), w.prior(), seed=2, layout=layout).to_bytes()


# --- package metadata and stubs --------------------------------------------------------------

def test_version_comes_from_the_package_metadata_and_all_is_complete():
    assert rf.__version__ == importlib.metadata.version("rec_fast")
    assert len(set(rf.__all__)) == len(rf.__all__)
    for name in rf.__all__:
        assert hasattr(rf, name), name
    public = {name for name in dir(rf) if not name.startswith("_") and not isinstance(getattr(rf, name), type(rf))}
    assert public <= set(rf.__all__), public - set(rf.__all__)


def test_the_stubs_match_the_extension_module():
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy.stubtest", "rec_fast._core", "--allowlist",
                             str(ROOT / "scripts" / "stubtest-allowlist.txt")],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_examples_type_check_under_mypy_strict():
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "examples/"], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# --- review follow-ups -----------------------------------------------------------------------

def test_encodings_and_distributions_pickle_and_copy():
    import copy
    import pickle

    loc32 = np.float32([0.5, -0.25])
    Q = rf.Normal(loc32, 0.1)  # float32 through its array; the Python number adapts
    enc = rf.encode(Q, P, seed=3)
    for clone in (pickle.loads(pickle.dumps(enc)), copy.copy(enc), copy.deepcopy(enc)):
        assert clone.samples.tobytes() == enc.samples.tobytes() and clone.to_bytes() == enc.to_bytes()
        assert repr(clone) == repr(enc) and not clone.samples.flags.writeable
    for clone in (pickle.loads(pickle.dumps(Q)), copy.deepcopy(Q)):
        assert clone == Q and clone.dtype == np.float32


def test_read_only_memmaps_are_used_without_a_copy(tmp_path):
    values = np.linspace(0.05, 0.5, 1000)
    np.save(tmp_path / "scale.npy", values)
    mapped = np.load(tmp_path / "scale.npy", mmap_mode="r")
    Q = rf.Normal(0.0, mapped)
    assert np.shares_memory(Q.scale, mapped)
    writable = np.load(tmp_path / "scale.npy", mmap_mode="r+")
    assert not np.shares_memory(rf.Normal(0.0, writable).scale, writable)
    base = values.copy()
    view = base[:]
    view.setflags(write=False)  # read-only, but its base is not: copied
    assert not np.shares_memory(rf.Normal(0.0, view).scale, base)


def test_float32_samples_beyond_the_float32_range_are_refused():
    huge = np.float32(3.4e38)
    Q = rf.Normal(np.full(4, huge), np.float32(1e37))
    with pytest.raises(rf.RecError, match=r"element \d+: sample .* overflows float32"):
        rf.encode(Q, rf.Normal(huge, np.float32(2e37)))


def test_the_dask_encoder_keeps_the_targets_dtype():
    pytest.importorskip("dask")
    import rec_fast.dask as rfd

    loc32, _ = float32_targets(50)
    Q = rf.Normal(loc32, 0.1)
    data = rfd.encode(Q, P, seed=6, scheduler="sync")
    assert data == rf.encode(Q, P, seed=6, chunk_size=50).to_bytes()
    assert rfd.decode(data, P).compute(scheduler="sync").dtype == np.float32


def test_block_streams_record_float32_samples():
    loc, scale = float32_targets(300, seed=7)
    Q32 = rf.Normal(loc, scale)
    Q64 = rf.Normal(loc.astype(np.float64), scale.astype(np.float64))
    for layout in (None, rf.BlockLayout.from_kl(rf.kl_divergence(Q64, P), seed=1)):
        enc32 = rf.encode_blocks(Q32, P, seed=3, layout=layout)
        enc64 = rf.encode_blocks(Q64, P, seed=3, layout=layout)
        assert enc32.samples.dtype == np.float32
        assert enc32.samples.tobytes() == enc64.samples.astype(np.float32).tobytes()
        data32, data64 = enc32.to_bytes(), enc64.to_bytes()
        assert data32[8] == data64[8] | 0x80 and rf.block_stream_info(data32)["sample_type"] == "float32"
        decoded = rf.decode_blocks(data32, P, layout=layout)
        assert decoded.dtype == np.float32 and decoded.tobytes() == enc32.samples.tobytes()
        assert rf.decode_blocks(data64, P, layout=layout).dtype == np.float64
    layout = rf.BlockLayout.from_kl(rf.kl_divergence(Q64, P), seed=1)
    progressive = rf.BlockEncoder(P, layout, seed=3, dtype=np.float32)
    while not progressive.done:
        dims, x = progressive.encode_next(Q32)
        assert x.dtype == np.float32
    assert progressive.to_bytes() == rf.encode_blocks(Q32, P, seed=3, layout=layout).to_bytes()
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):
        rf.BlockEncoder(P, layout, dtype=np.int32)

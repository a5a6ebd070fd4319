"""rec_fast.dask: streams encoded block by block on Dask schedulers equal rf.encode's bytes and
samples; decoding gives dask arrays equal to rf.decode; errors name the offending value."""

from __future__ import annotations

import io
import logging
import os
import pickle
import signal
import threading
import time
import zlib

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import rec_fast as rf  # noqa: E402
import rec_fast.dask as rfd  # noqa: E402

P = rf.Normal(0.0, 1.0)


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, started once for the module."""
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


def workload(shape, seed=0):
    """Normal targets against N(0, 1) of a few bits of KL each, as numpy arrays."""
    generator = np.random.default_rng(seed)
    loc = generator.normal(0.0, 0.7, shape)
    scale = np.exp(generator.uniform(np.log(0.03), np.log(0.12), shape))
    return loc, scale


def same_floats(a, b):
    """Bit-for-bit equality of two float64 arrays (shape included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype == np.float64 and np.array_equal(a.view(np.uint64),
                                                                                      b.view(np.uint64))


def stream_of_pieces(loc, scale, rows_per_block, seed, chunk_size=None):
    """The reference stream of irregular blocks: one StreamWriter piece per block."""
    out = io.BytesIO()
    with rf.StreamWriter(out, shape=loc.shape, seed=seed, chunk_size=chunk_size or rf._core.MAX_CHUNK_SIZE) as w:
        start = 0
        for rows in rows_per_block:
            w.write(rf.Normal(loc[start:start + rows], scale[start:start + rows]), P)
            start += rows
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Encoding: bytes and samples equal to rf.encode of the computed arrays


def test_threads_one_chunk_per_block_equals_rf_encode():
    loc, scale = workload(20_000, seed=1)
    Q = rfd.Normal(da.from_array(loc, chunks=4096), da.from_array(scale, chunks=4096))
    data, samples = rfd.encode(Q, P, seed=11, scheduler="threads", return_samples=True)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=11, chunk_size=4096)
    assert data == reference.to_bytes()
    assert samples.chunks == ((4096,) * 4 + (20_000 - 4 * 4096,),)
    assert same_floats(samples.compute(scheduler="threads"), reference.samples)


def test_explicit_chunk_size_cuts_blocks():
    loc, scale = workload(9_000, seed=2)
    Q = rfd.Normal(da.from_array(loc, chunks=3000), scale)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=5, chunk_size=1000)
    assert rfd.encode(Q, P, seed=5, chunk_size=1000, scheduler="threads") == reference.to_bytes()
    # Blocks of 2,500 are cut 1000 + 1000 + 500: other chunks, same samples.
    Q = rfd.Normal(da.from_array(loc, chunks=2500), scale)
    data = rfd.encode(Q, P, seed=5, chunk_size=1000, scheduler="threads")
    counts = [c["element_count"] for c in rf.stream_info(data)["chunks"]]
    assert counts == [1000, 1000, 500] * 3 + [1000, 500]
    assert same_floats(rf.decode(data, P), reference.samples)


def test_processes_scheduler():
    loc, scale = workload(4_000, seed=3)
    Q = rfd.Normal(da.from_array(loc, chunks=1000), da.from_array(scale, chunks=1000))
    data = rfd.encode(Q, P, seed=3, method="gprs", scheduler="processes")
    assert data == rf.encode(rf.Normal(loc, scale), P, seed=3, method="gprs", chunk_size=1000).to_bytes()


def test_distributed_cluster_regular_blocks(client):
    loc, scale = workload(40_000, seed=4)
    Q = rfd.Normal(da.from_array(loc, chunks=5000), da.from_array(scale, chunks=5000))
    data, samples = rfd.encode(Q, P, seed=4, scheduler=client, return_samples=True)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=4, chunk_size=5000)
    assert data == reference.to_bytes()
    assert same_floats(samples.compute(scheduler=client), reference.samples)


def test_irregular_blocks_on_cluster_and_threads(client):
    loc, scale = workload(30_000, seed=5)
    rows = (5000, 12000, 3000, 1, 9999)
    Q = rfd.Normal(da.from_array(loc, chunks=(rows,)), da.from_array(scale, chunks=(rows,)))
    reference = stream_of_pieces(loc, scale, rows, seed=9)
    on_cluster = rfd.encode(Q, P, seed=9, scheduler=client)
    assert on_cluster == reference
    assert rfd.encode(Q, P, seed=9, scheduler="threads", threads=None) == reference
    assert [c["element_count"] for c in rf.stream_info(on_cluster)["chunks"]] == list(rows)
    # Element i is element i whatever the blocks: the samples are rf.encode's.
    assert same_floats(rf.decode(on_cluster, P), rf.encode(rf.Normal(loc, scale), P, seed=9).samples)


def test_parameters_with_different_chunks_are_unified():
    loc, scale = workload(6_000, seed=6)
    Q = rfd.Normal(da.from_array(loc, chunks=2000), da.from_array(scale, chunks=1500))
    data = rfd.encode(Q, P, seed=6, scheduler="threads")
    assert [c["element_count"] for c in rf.stream_info(data)["chunks"]] == [1500, 500, 1000, 1000, 500, 1500]
    assert same_floats(rf.decode(data, P), rf.encode(rf.Normal(loc, scale), P, seed=6).samples)


def test_two_dimensional_arrays_are_rechunked_to_whole_rows():
    loc, scale = workload((60, 50), seed=7)
    # Blocks of (7, 20) are not contiguous in row-major order; they become (7, 50).
    Q = rfd.Normal(da.from_array(loc, chunks=(7, 20)), da.from_array(scale, chunks=(7, 20)))
    data, samples = rfd.encode(Q, P, seed=7, scheduler="threads", return_samples=True)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=7, chunk_size=350)
    assert data == reference.to_bytes()
    assert rf.stream_info(data)["shape"] == (60, 50)
    assert samples.chunks == ((7,) * 8 + (4,), (50,))
    assert same_floats(samples.compute(scheduler="threads"), reference.samples)


def test_three_dimensional_with_broadcast_numpy_parameter(client):
    loc, _ = workload((10, 4, 5), seed=8)
    scale = np.linspace(0.05, 0.2, 5)
    Q = rfd.Normal(da.from_array(loc, chunks=(3, 2, 5)), scale)
    data = rfd.encode(Q, rf.Normal(0.5, 2.0), seed=8, scheduler=client)
    reference = rf.encode(rf.Normal(loc, scale), rf.Normal(0.5, 2.0), seed=8, chunk_size=60)
    assert data == reference.to_bytes()
    decoded = rfd.decode(data, rf.Normal(0.5, 2.0))
    assert decoded.chunks == ((3, 3, 3, 1), (4,), (5,))
    assert same_floats(decoded.compute(scheduler=client), reference.samples)


def test_scalar_stream():
    data = rfd.encode(rfd.Normal(0.3, 0.2), P, seed=1, scheduler="threads")
    reference = rf.encode(rf.Normal(0.3, 0.2), P, seed=1)
    assert data == reference.to_bytes()
    assert same_floats(rfd.decode(data, P).compute(scheduler="threads"), reference.samples)


def test_empty_stream():
    Q = rfd.Normal(da.zeros((0, 3), chunks=(5, 3)), 0.1)
    data = rfd.encode(Q, P, scheduler="threads")
    assert data == rf.encode(rf.Normal(np.zeros((0, 3)), 0.1), P).to_bytes()
    assert rfd.decode(data, P).shape == (0, 3)


def test_laplace_family():
    generator = np.random.default_rng(9)
    loc = generator.normal(0.0, 0.5, 8_000)
    scale = generator.uniform(0.05, 0.5, 8_000)
    Q = rfd.Laplace(da.from_array(loc, chunks=2000), da.from_array(scale, chunks=2000))
    Pl = rfd.Laplace(0.0, 1.0)
    data, samples = rfd.encode(Q, Pl, seed=2, scheduler="threads", return_samples=True)
    reference = rf.encode(rf.Laplace(loc, scale), rf.Laplace(0.0, 1.0), seed=2, chunk_size=2000)
    assert data == reference.to_bytes()
    assert same_floats(samples.compute(scheduler="threads"), reference.samples)


def test_uniform_family(client):
    generator = np.random.default_rng(10)
    low = generator.uniform(-2.0, 1.0, 6_000)
    high = low + generator.uniform(0.01, 0.5, 6_000)
    Q = rfd.Uniform(da.from_array(low, chunks=1500), da.from_array(high, chunks=1500))
    Pu = rf.Uniform(-3.0, 3.0)
    data = rfd.encode(Q, Pu, seed=3, scheduler=client)
    reference = rf.encode(rf.Uniform(low, high), Pu, seed=3, chunk_size=1500)
    assert data == reference.to_bytes()
    # A Uniform target on a Normal proposal (a dask proposal of the full shape), which needs a
    # global method: the proposal's mode may lie inside the target's support.
    low = generator.uniform(-1.0, 0.5, 6_000)
    high = low + generator.uniform(0.5, 1.5, 6_000)
    Q = rfd.Uniform(da.from_array(low, chunks=1500), da.from_array(high, chunks=1500))
    p_loc = generator.normal(0.0, 0.2, 6_000)
    Pn = rfd.Normal(da.from_array(p_loc, chunks=1000), 1.0)
    # Chunks of 1500 and 1000 unify to blocks of 1000 and 500, all cut into chunks of 500.
    data = rfd.encode(Q, Pn, seed=3, method="gprs", chunk_size=500, scheduler=client)
    reference = rf.encode(rf.Uniform(low, high), rf.Normal(p_loc, 1.0), seed=3, method="gprs", chunk_size=500)
    assert data == reference.to_bytes()
    assert same_floats(rfd.decode(data, Pn).compute(scheduler=client), reference.samples)
    assert same_floats(rfd.decode(data, rf.Normal(p_loc, 1.0)).compute(scheduler="threads"), reference.samples)


def test_same_bytes_on_every_scheduler_and_thread_count(client):
    loc, scale = workload(12_000, seed=12)
    Q = rfd.Normal(da.from_array(loc, chunks=3000), da.from_array(scale, chunks=3000))
    results = {rfd.encode(Q, P, seed=12, scheduler="threads", threads=1),
               rfd.encode(Q, P, seed=12, scheduler="threads", threads=None),
               rfd.encode(Q, P, seed=12, scheduler="sync"),
               rfd.encode(Q, P, seed=12, scheduler=client)}
    assert len(results) == 1
    assert results.pop() == rf.encode(rf.Normal(loc, scale), P, seed=12, chunk_size=3000).to_bytes()


def test_settings_are_stored_like_rf_encode():
    loc, scale = workload(3_000, seed=13)
    Q = rfd.Normal(da.from_array(loc, chunks=1000), scale)
    kwargs = dict(seed=2**64 - 1, method="gprs-parallel", processes=3, index_offset=123_456_789)
    data = rfd.encode(Q, P, scheduler="threads", **kwargs)
    assert data == rf.encode(rf.Normal(loc, scale), P, chunk_size=1000, **kwargs).to_bytes()


# ---------------------------------------------------------------------------------------------
# Decoding


def test_decode_one_block_per_chunk_and_grouped(client):
    loc, scale = workload(10_500, seed=14)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=14, chunk_size=1000)
    data = reference.to_bytes()
    per_chunk = rfd.decode(data, P)
    assert per_chunk.chunks == ((1000,) * 10 + (500,),)
    assert same_floats(per_chunk.compute(scheduler="threads"), reference.samples)
    grouped = rfd.decode(data, P, chunks=2500)
    assert grouped.chunks == ((3000, 3000, 3000, 1500),)
    assert same_floats(grouped.compute(scheduler=client), rf.decode(data, P))


def test_decode_with_dask_proposal_of_the_stream_shape():
    loc, scale = workload((30, 7), seed=15)
    p_loc = np.linspace(-0.2, 0.2, 30 * 7).reshape(30, 7)
    reference = rf.encode(rf.Normal(loc, scale), rf.Normal(p_loc, 1.5), seed=15, chunk_size=4)
    lazy_P = rfd.Normal(da.from_array(p_loc, chunks=(5, 3)), 1.5)
    decoded = rfd.decode(reference.to_bytes(), lazy_P, chunks=50)
    # Chunks of 4 meet row ends (7) every 28 elements: blocks of 56 = 8 rows, the last of 42.
    assert decoded.chunks == ((8, 8, 8, 6), (7,))
    assert same_floats(decoded.compute(scheduler="threads"), reference.samples)


def test_decode_rows_that_never_meet_chunk_ends():
    loc, scale = workload((10, 37), seed=16)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=16, chunk_size=8)
    decoded = rfd.decode(reference.to_bytes(), P)
    assert decoded.shape == (10, 37)
    assert all(len(c) == 1 for c in decoded.chunks[1:])
    assert same_floats(decoded.compute(scheduler="threads"), reference.samples)


def test_decode_from_a_file_reads_only_each_blocks_frames(client, tmp_path):
    loc, scale = workload((300, 20), seed=19)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=19, chunk_size=400)
    path = tmp_path / "stream.rec"
    path.write_bytes(reference.to_bytes())
    decoded = rfd.decode(path, P, chunks=1000)
    assert decoded.chunks == ((60,) * 5, (20,))
    # The graph holds byte ranges of the file, not the stream's bytes.
    by_bytes = rfd.decode(reference.to_bytes(), P, chunks=1000)
    graph_size = {name: len(pickle.dumps(dict(array.__dask_graph__())))
                  for name, array in (("path", decoded), ("bytes", by_bytes))}
    assert graph_size["bytes"] - graph_size["path"] > 0.9 * len(reference.to_bytes())
    assert same_floats(decoded.compute(scheduler=client), reference.samples)
    # A file cut short after decode() checked it fails when a task reads beyond its end.
    path.write_bytes(reference.to_bytes()[:-20])
    with pytest.raises(rf.CorruptStreamError, match="was it changed"):
        decoded.compute(scheduler="threads")


# ---------------------------------------------------------------------------------------------
# Errors


def test_type_errors():
    with pytest.raises(TypeError, match="target Q must be a rec_fast.dask distribution"):
        rfd.encode("Normal", P)
    with pytest.raises(TypeError, match="scale must be a dask array of floats, got dtype bool"):
        rfd.Normal(0.0, da.ones(4, dtype=bool, chunks=2))
    with pytest.raises(TypeError, match="loc must be a float or an array of floats"):
        rfd.Normal("zero", da.ones(4, chunks=2))
    with pytest.raises(TypeError, match="chunk_size must be an int, got str"):
        rfd.encode(rfd.Normal(da.zeros(4, chunks=2), 0.1), P, chunk_size="4")
    with pytest.raises(TypeError, match="data must be bytes or the path of a stream file, got list"):
        rfd.decode([b"RECF"], P)
    with pytest.raises(TypeError, match="chunks must be an int"):
        rfd.decode(rf.encode(rf.Normal(0.0, 0.5), P).to_bytes(), P, chunks=(3,))


def test_settings_and_shape_errors():
    Q = rfd.Normal(da.zeros(10, chunks=5), 0.1)
    with pytest.raises(rf.RecError, match="unknown method 'gprs-fast'"):
        rfd.encode(Q, P, method="gprs-fast")
    with pytest.raises(rf.RecError, match=r"chunk_size = 0"):
        rfd.encode(Q, P, chunk_size=0)
    with pytest.raises(rf.RecError, match=r"shapes \(10,\), \(3,\) do not broadcast"):
        rfd.encode(Q, rfd.Normal(np.zeros(3), 1.0))
    with pytest.raises(rf.RecError, match=r"scale -1\.0 is not allowed"):
        rfd.Normal(da.zeros(3, chunks=1), -1.0)
    with pytest.raises(rf.RecError, match="unknown chunk sizes"):
        x = da.zeros(10, chunks=5)
        rfd.encode(rfd.Normal(x[x > 1], 0.1), P)


def test_unsupported_pair():
    Q = rfd.Normal(da.zeros(10, chunks=5), 0.5)
    with pytest.raises(rf.RecError, match="a Normal target with a Laplace coding distribution is not supported"):
        rfd.encode(Q, rf.Laplace(0.0, 1.0), scheduler="threads")


def test_block_larger_than_a_chunk_is_refused_before_computing():
    big = rf._core.MAX_CHUNK_SIZE + 1
    Q = rfd.Normal(da.zeros(big, chunks=-1), 0.1)
    with pytest.raises(rf.RecError, match=r"dask block 0 holds 1048577 elements.*rechunk.*chunk_size"):
        rfd.encode(Q, P, scheduler="sync")


def test_bad_dask_parameter_names_its_index_in_the_whole_array(client):
    scale = np.full((40, 3), 0.1)
    scale[21, 2] = -0.5
    Q = rfd.Normal(0.0, da.from_array(scale, chunks=(10, 3)))
    for scheduler in ("threads", client):
        with pytest.raises(rf.RecError, match=r"element \(21, 2\): Normal scale -0\.5 is not allowed"):
            rfd.encode(Q, P, scheduler=scheduler)
    low = da.from_array(np.zeros(30), chunks=10)
    high = da.from_array(np.where(np.arange(30) == 17, 0.0, 1.0), chunks=10)
    with pytest.raises(rf.RecError, match=r"element \(17,\): Uniform low 0\.0 and high 0\.0 are not allowed"):
        rfd.encode(rfd.Uniform(low, high), rf.Uniform(-1.0, 2.0), scheduler="threads")


def test_unbounded_pair_names_the_stream_element(client):
    scale = np.full(5000, 0.1)
    scale[3777] = 2.0
    Q = rfd.Normal(0.0, da.from_array(scale, chunks=1000))
    with pytest.raises(rf.RecError, match=r"element 3777: target scale 2 > proposal scale 1"):
        rfd.encode(Q, P, scheduler=client)


def test_decode_errors():
    data = rf.encode(rf.Normal(np.zeros(10), 0.5), P, chunk_size=4).to_bytes()
    with pytest.raises(rf.RecError, match="encoded against a Normal proposal, but P is Laplace"):
        rfd.decode(data, rf.Laplace(0.0, 1.0))
    with pytest.raises(rf.RecError, match=r"proposal shape \(3,\) does not broadcast to the stream's shape \(10,\)"):
        rfd.decode(data, rfd.Normal(da.zeros(3, chunks=3), 1.0))
    old = rf.encode(rf.Normal(np.zeros(10), 0.5), P, format_version=1).to_bytes()
    with pytest.raises(rf.RecError, match="version-1 stream.*rec_fast.decode"):
        rfd.decode(old, P)
    bad_P = rfd.Normal(0.0, da.from_array(np.where(np.arange(10) == 6, np.inf, 1.0), chunks=5))
    with pytest.raises(rf.RecError, match=r"element \(6,\): Normal scale inf is not allowed"):
        rfd.decode(data, bad_P).compute(scheduler="threads")


def corrupt_chunk(data: bytes, number: int, fix_checksum: bool) -> bytes:
    """The stream with chunk ``number``'s last payload byte set to 0 (invalid for a range-coded
    chunk), and its CRC recomputed or not."""
    chunk = rf.stream_info(data)["chunks"][number]
    start, length = chunk["byte_offset"], chunk["byte_length"]
    frame = bytearray(data[start:start + length])
    frame[-5] = 0
    if fix_checksum:
        frame[-4:] = zlib.crc32(bytes(frame[:-4])).to_bytes(4, "little")
    return data[:start] + bytes(frame) + data[start + length:]


def test_corrupt_bytes_name_the_chunk():
    loc, scale = workload(5000, seed=17)
    data = rf.encode(rf.Normal(loc, scale), P, chunk_size=1000).to_bytes()
    # A checksum mismatch is found on the client, before any task exists.
    with pytest.raises(rf.CorruptStreamError, match=r"chunk 3 \(elements 3000..4000\): checksum mismatch"):
        rfd.decode(corrupt_chunk(data, 3, fix_checksum=False), P)
    # Damage behind a valid checksum is found by the block's task, which names the stream's chunk.
    decoded = rfd.decode(corrupt_chunk(data, 3, fix_checksum=True), P, chunks=2000)
    with pytest.raises(rf.CorruptStreamError, match=r"^chunk 3 \(elements 3000..4000\): .*zero byte"):
        decoded.compute(scheduler="threads")
    truncated = data[:-7]
    with pytest.raises(rf.CorruptStreamError):
        rfd.decode(truncated, P)


# ---------------------------------------------------------------------------------------------
# A worker dies mid-encode: the scheduler reruns its tasks and the bytes are the same.


def test_worker_killed_mid_encode_gives_the_same_bytes(client):
    loc, scale = workload(240_000, seed=18)
    reference = rf.encode(rf.Normal(loc, scale), P, seed=18, chunk_size=6000).to_bytes()
    Q = rfd.Normal(da.from_array(loc, chunks=6000), da.from_array(scale, chunks=6000))
    outcome = {}

    def run():
        try:
            outcome["data"] = rfd.encode(Q, P, seed=18, scheduler=client)
        except BaseException as error:  # reported by the assertion below
            outcome["error"] = error

    worker_pids = client.run(os.getpid)
    encoding = threading.Thread(target=run)
    encoding.start()
    deadline = time.monotonic() + 30
    victim = sorted(worker_pids)[0]
    # Kill the worker as soon as it runs an encoding task, so that the task is lost in flight.
    while not any("_encode_block" in str(key) for key in client.processing().get(victim, ())) \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    assert encoding.is_alive(), "the encode finished before a worker could be killed; make it longer"
    os.kill(worker_pids[victim], signal.SIGKILL)
    encoding.join(120)
    assert not encoding.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["data"] == reference
    client.wait_for_workers(2, timeout=60)
    assert worker_pids[victim] not in client.run(os.getpid).values()

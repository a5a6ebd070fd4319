"""Bad input raises clear exceptions; corrupt bytes raise CorruptStreamError; nothing panics."""

from __future__ import annotations

import random
import struct
import zlib

import numpy as np
import pytest

import rec_fast as rf

P = rf.Normal(0.0, 1.0)


def test_exception_hierarchy():
    assert issubclass(rf.RecError, ValueError)
    assert issubclass(rf.CorruptStreamError, rf.RecError)
    assert issubclass(rf.SearchLimitError, rf.RecError)


@pytest.mark.parametrize("loc, scale, fragment", [
    (0.0, 0.0, "scale 0.0"), (0.0, -1.0, "scale -1.0"), (0.0, np.inf, "scale inf"),
    (np.nan, 1.0, "loc nan"), (np.inf, 1.0, "loc inf"), ([0.0, 1.0, 2.0], [1.0, 1.0, -2.0], "element (2,)"),
])
def test_bad_parameters_name_the_value(loc, scale, fragment):
    with pytest.raises(rf.RecError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        rf.Normal(loc, scale)


def test_bad_parameter_types():
    with pytest.raises(TypeError):
        rf.Normal("zero", 1.0)
    with pytest.raises(TypeError):
        rf.Normal(True, 1.0)
    with pytest.raises(TypeError):
        rf.encode(P, "not a distribution")
    with pytest.raises(TypeError):
        rf.encode(P, P, seed=1.5)
    with pytest.raises(TypeError):
        rf.encode(P, P, method=3)
    with pytest.raises(TypeError):
        rf.decode("not bytes", P)


def test_masked_arrays_are_refused_rather_than_unmasked():
    with pytest.raises(TypeError, match="loc must not be a masked array"):
        rf.Normal(np.ma.masked_array([0.0, 1.0], mask=[False, True]), 1.0)
    with pytest.raises(TypeError, match="x must not be a masked array"):
        P.cdf(np.ma.masked_array([0.0]))


def test_shape_mismatches():
    with pytest.raises(rf.RecError, match="do not broadcast"):
        rf.Normal([0.0, 1.0], [1.0, 1.0, 1.0])
    with pytest.raises(rf.RecError, match="do not broadcast"):
        rf.encode(rf.Normal(np.zeros(3), 0.5), rf.Normal(np.zeros(4), 1.0))
    data = rf.encode(rf.Normal(np.zeros(3), 0.5), P).to_bytes()
    with pytest.raises(rf.RecError, match="does not broadcast to the stream's shape"):
        rf.decode(data, rf.Normal(np.zeros(4), 1.0))


def test_unknown_method_lists_the_alternatives():
    with pytest.raises(rf.RecError, match="unknown method 'gprs-fast'.*'gprs-bb'"):
        rf.encode(rf.Normal(0.0, 0.5), P, method="gprs-fast")


@pytest.mark.parametrize("q_loc, q_scale, reason", [
    (0.5, 1.0, "= proposal scale 1 makes dQ/dP unbounded because the means differ"),
    (0.0, 1.5, "> proposal scale 1 makes dQ/dP unbounded"),
])
def test_unbounded_ratio_names_the_element(q_loc, q_scale, reason):
    Q = rf.Normal(np.array([0.0, q_loc]), np.array([0.5, q_scale]))
    with pytest.raises(rf.RecError, match=r"element 1: target scale .*" + reason.split(" makes")[0][-10:]):
        rf.encode(Q, P)


def test_seed_and_threads_ranges():
    for seed in (-1, 2**64):
        with pytest.raises(rf.RecError, match="seed"):
            rf.encode(rf.Normal(0.0, 0.5), P, seed=seed)
    with pytest.raises(rf.RecError, match="threads"):
        rf.encode(rf.Normal(0.0, 0.5), P, threads=0)
    with pytest.raises(rf.RecError, match="max_steps"):
        rf.encode(rf.Normal(0.0, 0.5), P, max_steps=0)


def test_step_bounds_raise_search_limit_errors():
    Q = rf.Normal(3.0, 0.01)  # D∞ ≈ 13 bits
    with pytest.raises(rf.SearchLimitError, match="max_steps = 10 arrivals"):
        rf.encode(Q, P, method="gprs", max_steps=10)
    with pytest.raises(rf.SearchLimitError, match="depth bound of 1 steps"):
        rf.encode(rf.Normal(np.full(50, 3.0), 0.01), P, method="gprs-bb", max_steps=1)


def _valid_stream(format_version=1):
    Q = rf.Normal(np.array([[1.0, -0.5, 0.2], [2.0, 0.0, -3.0]]), 0.2)
    return rf.encode(Q, P, seed=5, method="gprs-bb", format_version=format_version).to_bytes()


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def test_truncation_at_every_length_and_trailing_bytes():
    data = _valid_stream()
    for cut in range(len(data)):
        with pytest.raises(rf.CorruptStreamError):
            rf.decode(data[:cut], P)
    with pytest.raises(rf.CorruptStreamError, match="trailing"):
        rf.decode(data + b"\x00", P)


def test_wrong_version_magic_and_method_even_with_a_valid_checksum():
    data = bytearray(_valid_stream()[:-4])
    for offset, value, fragment in [(4, 3, "unsupported format version 3"), (0, ord("X"), "magic"), (5, 99, "method id 99"),
                                    (7, 9, "proposal family id 9")]:
        mutated = bytearray(data)
        mutated[offset] = value
        with pytest.raises(rf.CorruptStreamError, match=fragment):
            rf.decode(_with_crc(bytes(mutated)), P)


def test_impossible_codes_with_valid_checksum():
    # A header for one "gprs-bb" element whose payload is an Elias delta code of a 128-digit index.
    header = b"RECF" + bytes([1, 2, 1, 1]) + struct.pack("<QQI", 0, 0, 0) + bytes([1]) + struct.pack("<Q", 1)
    header += struct.pack("<Q", 1)
    payload_bits = "0" * 7 + format(128, "08b") + "1" * 127
    bits = payload_bits + "0" * (-len(payload_bits) % 8)
    payload = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    body = header + struct.pack("<Q", len(payload_bits)) + payload
    with pytest.raises(rf.CorruptStreamError, match="exceeds"):
        rf.decode(_with_crc(body), P)


def test_thousands_of_random_mutations_never_decode_garbage():
    data = _valid_stream()
    reference = rf.decode(data, P)
    generator = random.Random(2024)
    outcomes = {"corrupt": 0, "decoded": 0}
    for _ in range(3000):
        mutated = bytearray(data)
        kind = generator.randrange(3)
        if kind == 0:
            for _ in range(generator.randint(1, 4)):
                mutated[generator.randrange(len(mutated))] ^= 1 << generator.randrange(8)
        elif kind == 1:
            del mutated[generator.randrange(len(mutated))]
        else:
            mutated.insert(generator.randrange(len(mutated) + 1), generator.randrange(256))
        try:
            decoded = rf.decode(bytes(mutated), P)
        except rf.CorruptStreamError:
            outcomes["corrupt"] += 1
        else:
            # Only possible if the CRC-32 happens to match: then it must still decode cleanly.
            assert decoded.shape == reference.shape
            outcomes["decoded"] += 1
    assert outcomes["corrupt"] >= 2990, outcomes


def test_huge_declared_shapes_are_rejected_before_allocation():
    # A valid checksum over a header that declares 2^40 elements and an empty payload.
    for shape in ([2**40], [2**20, 2**20], [0, 2**41]):
        count = 1
        for extent in shape:
            count *= extent
        body = b"RECF" + bytes([1, 2, 1, 1]) + struct.pack("<QQI", 0, 0, 0) + bytes([len(shape)])
        body += b"".join(struct.pack("<Q", e) for e in shape) + struct.pack("<Q", count) + struct.pack("<Q", 0)
        with pytest.raises(rf.CorruptStreamError):
            rf.stream_info(_with_crc(body))
        with pytest.raises(rf.CorruptStreamError):
            rf.decode(_with_crc(body), P)


def test_thread_count_is_bounded():
    with pytest.raises(rf.RecError, match=r"threads = 2000; threads must lie in \[1, 1024\]"):
        rf.encode(rf.Normal(0.0, 0.5), P, threads=2000)
    with pytest.raises(rf.RecError, match="threads must lie"):
        rf.decode(rf.encode(rf.Normal(0.0, 0.5), P).to_bytes(), P, threads=2**70)


def test_processes_validation():
    Q = rf.Normal(0.0, 0.5)
    with pytest.raises(rf.RecError, match="only applies to method 'gprs-parallel'"):
        rf.encode(Q, P, method="gprs", processes=4)
    for bad in (0, 2**16 + 1):
        with pytest.raises(rf.RecError, match="processes must lie in"):
            rf.encode(Q, P, method="gprs-parallel", processes=bad)
    with pytest.raises(TypeError):
        rf.encode(Q, P, method="gprs-parallel", processes=2.5)
    with pytest.raises(TypeError, match="processes must be an int"):
        rf.encode(Q, P, method="gprs", processes=2.0)
    with pytest.raises(rf.RecError, match=r"processes = -1; processes must lie in \[1, 65536\]"):
        rf.encode(Q, P, method="gprs-parallel", processes=-1)
    # A stream whose process count is zero is corrupt even with a valid checksum.
    data = bytearray(rf.encode(Q, P, method="gprs-parallel", processes=4, format_version=1).to_bytes()[:-4])
    data[24:28] = struct.pack("<I", 0)
    with pytest.raises(rf.CorruptStreamError, match="method parameter 0"):
        rf.decode(_with_crc(bytes(data)), P)


@pytest.mark.parametrize("method", ["gprs", "pfr", "gprs-parallel", "gprs-dyadic", "astar-bb"])
def test_every_search_reports_its_step_bound(method):
    # D∞ ≈ 13 bits: no method accepts within 3 arrivals or nodes on all 50 elements.
    Q = rf.Normal(np.full(50, 3.0), 0.01)
    with pytest.raises(rf.SearchLimitError, match="max_steps = 3"):
        rf.encode(Q, P, method=method, max_steps=3)


def test_messages_show_tiny_and_huge_values_compactly():
    with pytest.raises(rf.RecError, match=r"target L\(0, 1e-300\) against proposal L\(0, 1\) has D∞ = 690.8 nats"):
        rf.encode(rf.Laplace(0.0, 1e-300), rf.Laplace(0.0, 1.0))
    with pytest.raises(rf.RecError, match="target scale 2e20 > proposal scale 1e20"):
        rf.encode(rf.Normal(0.0, 2e20), rf.Normal(0.0, 1e20))


@pytest.mark.parametrize("method", ["gprs", "pfr", "gprs-parallel"])
def test_global_step_bound_advice_depends_on_the_ratio(method):
    # A unimodal ratio can switch to branch-and-bound; one that dips at P's mode cannot.
    with pytest.raises(rf.SearchLimitError, match='raise max_steps or use method="gprs-bb"'):
        rf.encode(rf.Normal(3.0, 0.01), P, method=method, max_steps=3)
    with pytest.raises(rf.SearchLimitError, match="raise max_steps \\(the ratio is not unimodal"):
        rf.encode(rf.Uniform(-30.0, 30.0), P, method=method, max_steps=3)

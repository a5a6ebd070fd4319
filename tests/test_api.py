"""API invariants (hypothesis) and round trips over shapes, methods and seeds."""

from __future__ import annotations

import importlib.metadata
import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rec_fast as rf


@pytest.mark.parametrize("method", rf.METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2**63 + 5])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 4), (2, 3, 5), (0,), (4, 0)])
def test_round_trip_is_bit_exact(method, seed, shape):
    generator = np.random.default_rng(20240)  # fixed: hash() of a str changes per process
    Q = rf.Normal(generator.normal(0, 1, shape), np.exp(generator.uniform(-4, -0.5, shape)))
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(Q, P, seed=seed, method=method)
    assert enc.samples.shape == shape and enc.steps.shape == shape and enc.bits.shape == shape
    assert enc.samples.dtype == np.float64 and enc.steps.dtype == np.int64 and enc.bits.dtype == np.float64
    decoded = rf.decode(enc.to_bytes(), P)
    assert decoded.shape == shape
    assert np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64))
    info = rf.stream_info(enc.to_bytes())
    assert info["shape"] == shape and info["method"] == method and info["seed"] == seed
    assert info["payload_bits"] == enc.payload_bits


finite = st.floats(-50, 50, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(p_loc=finite, p_scale=st.floats(0.05, 20), offset=st.floats(-4, 4),
       ratio=st.floats(1e-4, 0.999), seed=st.integers(0, 2**64 - 1), method=st.sampled_from(rf.METHODS))
def test_any_bounded_pair_round_trips(p_loc, p_scale, offset, ratio, seed, method):
    P = rf.Normal(p_loc, p_scale)
    Q = rf.Normal(p_loc + offset * p_scale, ratio * p_scale)
    assume(float(rf.max_divergence(Q, P)) < 600 / math.log(2))  # the supported range
    dmax = float(rf.max_divergence(Q, P))
    if method in ("gprs", "pfr", "gprs-parallel") and dmax > 12:
        method = "gprs-bb"  # about 2^D∞ steps
    if method == "astar-bb" and dmax > 90:
        method = "gprs-dyadic"  # A*'s depth grows with D∞ (127 levels at most)
    enc = rf.encode(Q, P, seed=seed, method=method)
    assert int(enc.steps) >= 1
    info = rf.stream_info(enc.to_bytes())
    # One chunk of one element, whose payload is that element's whole share.
    assert [(c["first_element"], c["element_count"], c["payload_bits"]) for c in info["chunks"]] == [
        (0, 1, info["payload_bits"])]
    assert info["payload_bits"] == enc.payload_bits == float(enc.bits)
    if method == "gprs":
        # A lone element takes the universal code (a fitted model costs more), which for global
        # GPRS is N = steps in Elias delta: ⌊log₂N⌋ + 2⌊log₂(⌊log₂N⌋ + 1)⌋ + 1 bits.
        assert info["chunks"][0]["coding"] == "universal"
        n = int(enc.steps).bit_length() - 1
        assert float(enc.bits) == n + 2 * ((n + 1).bit_length() - 1) + 1
    assert rf.decode(enc.to_bytes(), P).tobytes() == enc.samples.tobytes()
    assert float(rf.kl_divergence(Q, P)) <= float(rf.max_divergence(Q, P)) + 1e-12


def test_broadcasting_proposal_against_target_array():
    Q = rf.Normal(np.linspace(-1, 1, 6).reshape(2, 3), 0.1)
    P = rf.Normal(np.array([0.0, 0.5, -0.5]), 1.0)
    enc = rf.encode(Q, P, seed=3)
    assert enc.samples.shape == (2, 3)
    assert np.array_equal(rf.decode(enc.to_bytes(), P), enc.samples)


def test_divergences_in_bits_match_closed_form():
    P = rf.Normal(0.0, 1.0)
    Q = rf.Normal([1.0, 1.0, 0.5, 0.0], [0.25, 0.5, 0.5, 0.5 ** 0.5])
    kl_nats = np.array([1.417544, 0.818147, 0.443147, 0.096574])
    dmax_nats = np.array([np.log(4) + 8 / 15, 1.359814, 0.859814, 0.346574])
    assert np.allclose(rf.kl_divergence(Q, P) * np.log(2), kl_nats, atol=1e-6)
    assert np.allclose(rf.max_divergence(Q, P) * np.log(2), dmax_nats, atol=1e-6)
    assert rf.max_divergence(rf.Normal(0.0, 2.0), P) == np.inf
    # A scalar pair gives a Python float: KL[N(0, ¼)‖N(0, 1)] = (¼ − 1 + ln 4)/2 nats.
    kl = rf.kl_divergence(rf.Normal(0.0, 0.5), P)
    assert isinstance(kl, float) and kl == pytest.approx((0.25 - 1 + math.log(4)) / 2 / math.log(2), rel=1e-14)


def test_encoding_repr_and_metadata():
    enc = rf.encode(rf.Normal([0.0, 1.0], 0.3), rf.Normal(0.0, 1.0), seed=11, method="gprs")
    data = enc.to_bytes()
    # The attributes agree with what the stream itself says; the default writes version 2.
    info = rf.stream_info(data)
    assert (info["method"], info["seed"], info["shape"], info["format_version"], info["index_offset"]) == (
        enc.method, enc.seed, enc.shape, enc.format_version, enc.index_offset) == ("gprs", 11, (2,), 2, 0)
    assert rf.FORMAT_VERSION == info["format_version"]
    assert len(enc) == 2
    assert repr(enc).startswith("Encoding(method='gprs', shape=(2,), dtype=float64, mean_bits=") and repr(enc).endswith(f"bytes={len(data)})")
    assert rf.__version__ == importlib.metadata.version("rec_fast")


def test_pairs_beyond_the_supported_max_divergence_raise():
    # N(2, 0.999²) against N(0, 1): D∞ = 1000.5 nats, beyond the supported 600 nats.
    with pytest.raises(rf.RecError, match="above the supported 600 nats"):
        rf.encode(rf.Normal(2.0, 0.999), rf.Normal(0.0, 1.0), method="gprs-bb")


def test_ctrl_c_interrupts_a_long_encode():
    """SIGINT during a batch that would take minutes raises KeyboardInterrupt in the caller."""
    code = (
        "import signal, sys, numpy as np, rec_fast as rf\n"
        # A process started in the background by a shell inherits SIGINT ignored, and Python
        # then installs no handler: restore the interactive default the test is about.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "Q = rf.Normal(np.full(2_000_000, 3.0), 0.01)  # D∞ ≈ 13 bits: ~9,000 arrivals each\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    rf.encode(Q, rf.Normal(0.0, 1.0), method='gprs')\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(3)\n"
        "sys.exit(0)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.0)  # let the encode start
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=600)  # a hang guard, not a speed limit
    finally:
        process.kill()
    assert process.returncode == 3, stderr

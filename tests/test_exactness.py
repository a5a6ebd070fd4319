"""Decoded samples are exactly distributed as Q; runtime and codelength follow the theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import rec_fast as rf
from conftest import GRID, SAMPLES, applicable, grid_pair

# Fixed seeds make each test deterministic. With ~45 KS tests on the grid, α = 1e-4 keeps the
# family-wise false-alarm rate near 0.5%; the power checks below reject a 1% bias at this α.
ALPHA = 1e-4


def ks_p_value(samples, Q):
    return stats.kstest(samples, stats.norm(loc=float(Q.loc), scale=float(Q.scale)).cdf).pvalue


@pytest.mark.parametrize("method", rf.METHODS)
@pytest.mark.parametrize("entry", GRID, ids=[g[0] for g in GRID])
def test_kolmogorov_smirnov_against_target(grid_encodings, entry, method):
    if not applicable(entry, method):
        pytest.skip("a global search would need 2^D∞ > 2^13 steps per sample")
    Q, P, enc = grid_encodings[(entry[0], method)]
    assert enc.samples.shape == (SAMPLES,)
    p = ks_p_value(enc.samples, Q)
    assert p > ALPHA, f"{entry[0]} {method}: KS p-value {p:.2e}"
    # The decoded samples are the same numbers, bit for bit.
    decoded = rf.decode(enc.to_bytes(), P)
    assert np.array_equal(decoded.view(np.uint64), enc.samples.view(np.uint64))


@pytest.mark.parametrize("method", rf.METHODS)
def test_the_exactness_test_catches_a_one_percent_bias(method):
    """Power check: 400,000 samples pass against Q, but a 1%-of-σ shift is detected."""
    count = 400_000
    Q = rf.Normal(np.full(count, 1.0), 0.25)
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(Q, P, seed=77, method=method)
    assert ks_p_value(enc.samples, rf.Normal(1.0, 0.25)) > ALPHA
    wrong = rf.Normal(1.0 + 0.01 * 0.25, 0.25)
    assert ks_p_value(enc.samples, wrong) < ALPHA
    # A sampler that is wrong in its spread (2% too wide) is caught as well.
    assert ks_p_value(1.0 + 1.02 * (enc.samples - 1.0), rf.Normal(1.0, 0.25)) < ALPHA


@pytest.mark.parametrize("entry", GRID, ids=[g[0] for g in GRID])
def test_global_steps_match_two_to_the_max_divergence(grid_encodings, entry):
    if not applicable(entry, "gprs"):
        pytest.skip("too expensive for global GPRS")
    Q, P, enc = grid_encodings[(entry[0], "gprs")]
    expected = 2.0 ** float(rf.max_divergence(Q, P))
    steps = enc.steps.astype(float)
    standard_error = steps.std(ddof=1) / math.sqrt(steps.size)
    assert abs(steps.mean() - expected) < 5 * standard_error + 1e-9, (steps.mean(), expected)


def test_codelength_table_and_bounds(grid_encodings, capsys):
    """The whole stream, header included, costs at most KL + log₂(KL + 1) + 3 bits per element
    on every pair and method (printed as a table, with the payload's mean share).

    Global GPRS sends N, branch-and-bound its depth D and its path, range-coded in chunks with
    fitted models; the header and models are amortised over the 20,000 elements. The smallest
    margin on the grid is about 0.8 bits (parallel GPRS, which adds log₂ J = 2 bits for its
    process, on the near-identical pair).
    """
    rows = []
    for entry in GRID:
        Q, P = grid_pair(entry)
        kl = float(rf.kl_divergence(Q, P))
        bound = kl + math.log2(kl + 1) + 3
        for method in rf.METHODS:
            if (entry[0], method) not in grid_encodings:
                continue
            enc = grid_encodings[(entry[0], method)][2]
            rows.append((entry[0], method, kl, float(rf.max_divergence(Q, P)), float(enc.bits.mean()),
                         8 * len(enc.to_bytes()) / enc.samples.size, bound, float(enc.steps.mean())))
    with capsys.disabled():
        print("\npair                    method         KL bits  D∞ bits  payload  stream  bound   mean steps")
        for name, method, kl, dmax, payload, stream, bound, steps in rows:
            print(f"{name:23s} {method:13s} {kl:8.3f} {dmax:8.3f} {payload:8.3f} {stream:7.3f} {bound:6.3f} {steps:11.2f}")
    for name, method, _, _, _, stream, bound, _ in rows:
        assert stream <= bound, (name, method, stream, bound)


def test_branch_and_bound_depth_is_linear_in_kl():
    P = rf.Normal(0.0, 1.0)
    depths = []
    for kl_bits in (4.0, 8.0, 12.0, 16.0):
        # Q = N(0, τ): KL = (τ²/2 − ln τ − 1/2)/ln 2; solve for τ by bisection.
        low, high = 1e-12, 1.0
        for _ in range(200):
            middle = 0.5 * (low + high)
            kl = (0.5 * (middle * middle - 1) - math.log(middle)) / math.log(2)
            low, high = (middle, high) if kl > kl_bits else (low, middle)
        enc = rf.encode(rf.Normal(np.zeros(5000), low), P, seed=3, method="gprs-bb")
        depths.append(float(enc.steps.mean()))
    increments = np.diff(depths)
    assert (increments > 1.0).all(), depths
    assert increments.max() / increments.min() < 1.4, depths  # constant slope: linear growth


def _normal_pair_with(kl_bits: float, max_divergence_bits: float):
    """Q = N(m, τ²) against N(0, 1) with the given KL and D∞ (bits).

    D∞ = −ln τ + m²/(2(1 − τ²)) fixes m² for each τ; KL = m²/2 + (τ² − 1 − ln τ²)/2 then
    falls from D∞ − 1/2 (m = 0) to 0 (τ → 1), so bisect on τ.
    """
    dmax, target = max_divergence_bits * math.log(2), kl_bits * math.log(2)

    def kl_and_m2(tau):
        m2 = 2 * (1 - tau * tau) * (dmax + math.log(tau))
        return m2 / 2 + (tau * tau - 1) / 2 - math.log(tau), m2

    low, high = math.exp(-dmax), 1.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if kl_and_m2(middle)[0] > target else (low, middle)
    return math.sqrt(kl_and_m2(low)[1]), low


@pytest.mark.parametrize("method", ["gprs-bb", "gprs-dyadic"])
def test_branch_and_bound_depth_grows_with_kl_at_fixed_max_divergence(method):
    """At D∞ = 13 and 30 bits, KL from 1 to 11 bits: depth rises steadily with KL (0.5 to 1.1
    nodes per bit), and the two D∞ rows agree within 1.5 nodes while 2^D∞ grows 2^17-fold."""
    P = rf.Normal(0.0, 1.0)
    kls = (1.0, 3.0, 5.0, 7.0, 9.0, 11.0)
    rows = {}
    for dmax in (13.0, 30.0):
        row = []
        for kl in kls:
            m, tau = _normal_pair_with(kl, dmax)
            Q = rf.Normal(m, tau)
            assert float(rf.kl_divergence(Q, P)) == pytest.approx(kl, abs=1e-6)
            assert float(rf.max_divergence(Q, P)) == pytest.approx(dmax, abs=1e-6)
            row.append(float(rf.encode(rf.Normal(np.full(5000, m), tau), P, seed=3, method=method).steps.mean()))
        slopes = np.diff(row) / np.diff(kls)
        assert ((slopes > 0.5) & (slopes < 1.1)).all(), (dmax, row)
        rows[dmax] = np.array(row)
    assert (np.abs(rows[13.0] - rows[30.0]) < 1.5).all(), rows


def test_identical_pair_costs_only_the_process_number():
    P = rf.Normal(3.0, 2.0)
    for method in rf.METHODS:
        enc = rf.encode(rf.Normal(np.full(1000, 3.0), 2.0), P, seed=1, method=method)
        # Every search accepts its first arrival. Version 1 spends one bit on it (Elias delta
        # of 1); version 2's fitted model sees one class and spends nothing, except on the
        # winning process of parallel GPRS: log₂ J = 2 bits for its default J = 4.
        assert (enc.steps == 1).all()
        process_bits = 2 if method == "gprs-parallel" else 0
        assert abs(enc.payload_bits - 1000 * process_bits) <= 32, (method, enc.payload_bits)
        assert enc.header_bits <= 8 * 40
        v1 = rf.encode(rf.Normal(np.full(1000, 3.0), 2.0), P, seed=1, method=method, format_version=1)
        assert (v1.bits == 1 + process_bits).all()
        assert np.array_equal(v1.samples, enc.samples)
        assert stats.kstest(enc.samples, stats.norm(3.0, 2.0).cdf).pvalue > ALPHA


@pytest.mark.parametrize("processes", [1, 4, 16])
def test_parallel_gprs_splits_two_to_the_max_divergence_over_processes(processes):
    """J processes together examine 2^D∞ arrivals on average: 2^D∞/J per process."""
    Q, P = rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)
    count = 20_000
    enc = rf.encode(rf.Normal(np.full(count, 1.0), 0.25), P, seed=8, method="gprs-parallel",
                    processes=processes)
    assert rf.stream_info(enc.to_bytes())["method_parameter"] == processes
    expected_per_process = 2.0 ** float(rf.max_divergence(Q, P)) / processes
    per_process = enc.steps.astype(float) / processes
    standard_error = per_process.std(ddof=1) / math.sqrt(count)
    assert abs(per_process.mean() - expected_per_process) < 5 * standard_error, (per_process.mean(), expected_per_process)
    assert ks_p_value(enc.samples, Q) > ALPHA
    assert np.array_equal(rf.decode(enc.to_bytes(), P), enc.samples)


def test_parallel_gprs_with_one_process_is_global_gprs_on_another_stream():
    # Same law: the number of arrivals has the same distribution as global GPRS's.
    P = rf.Normal(0.0, 1.0)
    Q = rf.Normal(np.full(20_000, 0.5), 0.5)
    one = rf.encode(Q, P, seed=2, method="gprs-parallel", processes=1).steps
    glob = rf.encode(Q, P, seed=2, method="gprs").steps
    assert stats.ks_2samp(one, glob).pvalue > ALPHA

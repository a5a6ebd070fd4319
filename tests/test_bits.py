"""Codelengths against the theory: the GPRS paper's Gaussian channel table and the demo
workload, whole streams counted (header, models, checksums). ``pytest -s`` prints the table.

Asserted: bounds that are theorems, and bounds measured with margin at these fixed seeds
(``python benches/bits.py`` measures the full table)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rec_fast as rf
from rec_fast.workloads import default_workload
from rec_fast.channel import (GPRS_INDEX_GAP, PAPER_BRANCH_AND_BOUND, PAPER_GLOBAL, bits_table,
                              format_bits_table)

BRANCH_AND_BOUND = ("gprs-bb", "gprs-dyadic", "astar-bb")


@pytest.fixture(scope="module")
def channel_rows():
    rows = bits_table(informations=(0.1, 0.94, 1.8, 3.5, 6.0, 12.0), count=4000, seed=0)
    print("\n" + format_bits_table(rows))
    return rows


def test_every_method_is_within_the_one_shot_bound(channel_rows):
    # Li & El Gamal: KL + log₂(KL + 1) + O(1); here with O(1) = 3 bits.
    for row in channel_rows:
        kl = row["kl"]
        for method in rf.METHODS:
            if not math.isnan(row[method]):
                assert kl <= row[method] <= kl + math.log2(kl + 1) + 3, (row["information"], method, row[method])


def test_better_than_the_published_figures(channel_rows):
    for row in channel_rows:
        best_branch_and_bound = min(row[m] for m in BRANCH_AND_BOUND)
        assert best_branch_and_bound < PAPER_BRANCH_AND_BOUND[row["information"]] - 1.0, row
        if row["information"] in PAPER_GLOBAL:
            assert row["gprs"] < PAPER_GLOBAL[row["information"]] - 0.5, row


def test_at_most_the_gprs_index_entropy_bound(channel_rows):
    # Goc & Flamich: a GPRS index has entropy ≤ D_CS + log₂(1 + e); the entropy-coded streams
    # stay below the targets' mean of that bound (measured margin ≥ 0.1 bits at these seeds).
    # Parallel GPRS also names its process, log₂ J = 2 bits that no code of (j, n_j) avoids,
    # which puts it up to 0.35 bits above the bound at I ≤ 1.8.
    for row in channel_rows:
        assert row["dcs"] >= row["kl"] - 1e-9
        for method in rf.METHODS:
            if math.isnan(row[method]):
                continue
            slack = 0.4 if method == "gprs-parallel" else 0.0
            assert row[method] <= row["bound"] + slack, (row["information"], method, row[method], row["bound"])
    assert GPRS_INDEX_GAP == pytest.approx(1.8946, abs=1e-4)


@pytest.mark.parametrize("method", rf.METHODS)
def test_demo_workload_bits_over_kl(method):
    count = 20_000 if method in ("gprs", "pfr", "gprs-parallel") else 100_000
    Q, P = default_workload(count, 0)
    kl = float(np.mean(rf.kl_divergence(Q, P)))
    enc = rf.encode(Q, P, seed=1, method=method)
    bits = 8 * len(enc.to_bytes()) / count
    print(f"{method}: {bits:.3f} bits = KL {kl:.3f} + {bits - kl:.3f}")
    # Goals: every method within KL + 3, the default within KL + 2. Measured at these seeds:
    # +1.71 … +2.22, the default "gprs-bb" +1.88; asserted with margin at +2.5 and +2.0.
    assert bits <= kl + (2.0 if method == "gprs-bb" else 2.5)
    assert bits > kl


def test_version_2_is_shorter_than_version_1_for_every_method():
    Q, P = default_workload(20_000, 3)
    for method in rf.METHODS:
        v2 = rf.encode(Q, P, seed=2, method=method)
        v1 = rf.encode(Q, P, seed=2, method=method, format_version=1)
        assert len(v2.to_bytes()) < 0.95 * len(v1.to_bytes()), method

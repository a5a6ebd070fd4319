"""The comparison tool: rf.compare and `python -m rec_fast compare`."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import rec_fast as rf
from conftest import repeated
from rec_fast.compare import GLOBAL_METHODS

# A guard against a hung subprocess, not a speed limit: these commands take about a second.
HANG_GUARD = 600


def test_compare_rows_cover_every_method_and_respect_the_theory():
    pairs = [("talk", rf.Normal(1.0, 0.25), rf.Normal(0.0, 1.0)),
             ("wide D∞", rf.Normal(0.0, 2.0 ** -14), rf.Normal(0.0, 1.0))]
    count = 3000
    rows = rf.compare(pairs, count=count, seed=4)
    assert [(r["pair"], r["method"]) for r in rows] == [(p[0], m) for p in pairs for m in rf.METHODS]
    by_name = {name: (Q, P) for name, Q, P in pairs}
    for row in rows:
        Q, P = by_name[row["pair"]]
        assert (row["kl"], row["max_divergence"]) == (float(rf.kl_divergence(Q, P)), float(rf.max_divergence(Q, P)))
        assert row["dcs"] == float(rf.channel_simulation_divergence(Q, P))
        assert row["kl"] <= row["dcs"] <= row["max_divergence"] + 1e-9
        if row["pair"] == "wide D∞" and row["method"] in GLOBAL_METHODS:
            assert "skipped" in row  # D∞ ≈ 14.3 bits > 13
            continue
        assert "skipped" not in row and row["identical"] is True
        # The row reports the encoding itself: the same seed reproduces it exactly.
        enc = rf.encode(repeated(Q, count), P, seed=4, method=row["method"])
        assert (row["mean_steps"], row["median_steps"], row["mean_bits"]) == (
            float(enc.steps.mean()), float(np.median(enc.steps)), 8 * len(enc.to_bytes()) / count)
        kl = row["kl"]
        assert row["mean_bits"] <= kl + math.log2(kl + 1) + 3, row
    talk = {r["method"]: r for r in rows if r["pair"] == "talk"}
    # Global methods examine about 2^D∞ arrivals; branch-and-bound about O(KL).
    assert talk["gprs-bb"]["mean_steps"] < talk["gprs"]["mean_steps"]


def test_compare_rejects_unknown_methods_and_array_pairs():
    with pytest.raises(rf.RecError, match="unknown method"):
        rf.compare(methods=["nope"], count=10)
    with pytest.raises(rf.RecError, match="scalar"):
        rf.compare([("array", rf.Normal([0.0, 1.0], 0.5), rf.Normal(0.0, 1.0))], count=10)


def test_compare_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "rec_fast", "compare", "--count", "500", "--pair", "0.5", "0.2", "0", "1",
         "--methods", "gprs-bb", "pfr"],
        capture_output=True, text=True, check=False, timeout=HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert "given pair" in result.stdout and "gprs-bb" in result.stdout and "pfr" in result.stdout


def test_demo_command_line_runs_a_small_workload():
    result = subprocess.run([sys.executable, "-m", "rec_fast", "demo", "--count", "2000"],
                            capture_output=True, text=True, check=False, timeout=HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert "round trip bit-identical: True" in result.stdout


def test_compare_reports_failing_methods_instead_of_stopping():
    # N(0.3, 1e-9) is below branch-and-bound's floating-point resolution; A* fails on depth.
    rows = rf.compare([("tiny", rf.Normal(0.3, 1e-9), rf.Normal(0.0, 1.0))], count=50)
    assert {row["method"] for row in rows} == set(rf.METHODS)
    assert any("SearchLimitError" in str(row.get("skipped", "")) for row in rows)


def test_compare_validates_count_and_reports_unbounded_pairs():
    for bad in (0, -3):
        with pytest.raises(rf.RecError, match=f"count = {bad}; count must be ≥ 1"):
            rf.compare(count=bad)
    with pytest.raises(TypeError, match="count must be an int"):
        rf.compare(count=2.5)
    rows = rf.compare([("unbounded", rf.Normal(0.0, 2.0), rf.Normal(0.0, 1.0))], count=10)
    assert all("makes dQ/dP unbounded" in row["skipped"] for row in rows)


def test_command_line_errors_exit_with_status_2_and_a_message():
    for arguments in (["compare", "--count", "-3"], ["demo", "--count", "0"], ["demo", "--count", "10", "--method", "nope"]):
        result = subprocess.run([sys.executable, "-m", "rec_fast", *arguments],
                                capture_output=True, text=True, check=False, timeout=HANG_GUARD)
        assert result.returncode == 2, (arguments, result.stderr)
        assert "rec-fast" in result.stderr and "error:" in result.stderr and "Traceback" not in result.stderr

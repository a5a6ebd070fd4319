"""The ``rec-fast`` command: files in and out, inspect, exit statuses and one-line errors.

Most tests call ``rec_fast.cli.main`` in-process (fast); a few run the installed console
script itself, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import rec_fast as rf
from rec_fast.cli import main

HANG_GUARD = 300  # seconds; only a hang would reach it


def run(arguments, capsys):
    status = main(arguments)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def console_script() -> str:
    """The installed ``rec-fast`` executable (beside the interpreter's scripts)."""
    path = os.path.join(sysconfig.get_path("scripts"), "rec-fast")
    assert os.path.exists(path), f"the console script is not installed at {path}"
    return path


def test_the_console_script_is_installed_and_every_subcommand_has_help():
    script = console_script()
    for command in ([], ["demo"], ["encode"], ["decode"], ["inspect"], ["compare"], ["blocks"], ["plot"]):
        result = subprocess.run([script, *command, "--help"], capture_output=True, text=True, timeout=HANG_GUARD)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.startswith("usage: rec-fast"), result.stdout[:200]


def test_the_console_script_demo_verifies_and_exits_0():
    result = subprocess.run([console_script(), "demo", "--count", "5000", "--no-progress"], capture_output=True,
                            text=True, timeout=HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert "round trip bit-identical: True" in result.stdout


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_encode_and_decode_files_reproduce_rf_encode_bit_for_bit(tmp_path, capsys, dtype):
    rng = np.random.default_rng(4)
    loc = rng.normal(0.0, 0.7, (30, 20)).astype(dtype)
    scale = rng.uniform(0.03, 0.2, (30, 20)).astype(dtype)
    np.savez(tmp_path / "targets.npz", loc=loc, scale=scale)
    stream = tmp_path / "targets.rec"
    status, out, err = run(["encode", str(tmp_path / "targets.npz"), "--out", str(stream), "--seed", "9",
                            "--chunk-size", "128", "--no-progress"], capsys)
    assert status == 0, err
    assert "600 Normal targets, shape (30, 20)" in out and np.dtype(dtype).name in out
    expected = rf.encode(rf.Normal(loc, scale), rf.Normal(0.0, 1.0), seed=9, chunk_size=128)
    assert stream.read_bytes() == expected.to_bytes()

    status, out, err = run(["decode", str(stream), "--out", str(tmp_path / "samples.npy")], capsys)
    assert status == 0, err
    samples = np.load(tmp_path / "samples.npy")
    assert samples.dtype == dtype and samples.shape == (30, 20)
    assert samples.tobytes() == expected.samples.tobytes()


def test_families_and_proposals_from_the_file_a_spec_or_a_second_file(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 200
    np.savez(tmp_path / "laplace.npz", loc=rng.normal(0.0, 0.5, n), scale=0.2, family="Laplace")
    np.savez(tmp_path / "proposal.npz", loc=np.zeros(n), scale=np.linspace(1.0, 2.0, n), family="Laplace")
    stacked = np.stack([np.full(n, 0.25), np.full(n, 0.5)])
    np.save(tmp_path / "uniform.npy", stacked)
    cases = [
        (["laplace.npz", "--proposal", "Laplace:0,2"],
         rf.Laplace(np.load(tmp_path / "laplace.npz")["loc"], 0.2), rf.Laplace(0.0, 2.0)),
        (["laplace.npz", "--proposal", str(tmp_path / "proposal.npz")],
         rf.Laplace(np.load(tmp_path / "laplace.npz")["loc"], 0.2), rf.Laplace(0.0, np.linspace(1.0, 2.0, n))),
        (["uniform.npy", "--family", "Uniform", "--proposal", "Uniform:0,1", "--method", "gprs"],
         rf.Uniform(0.25, np.full(n, 0.5)), rf.Uniform(0.0, 1.0)),
    ]
    for arguments, Q, P in cases:
        arguments = [str(tmp_path / arguments[0]), *arguments[1:]]
        method = arguments[arguments.index("--method") + 1] if "--method" in arguments else "gprs-bb"
        status, _, err = run(["encode", *arguments, "--out", str(tmp_path / "s.rec"), "--quiet"], capsys)
        assert status == 0, (arguments, err)
        data = (tmp_path / "s.rec").read_bytes()
        assert data == rf.encode(Q, P, method=method).to_bytes(), arguments
        proposal = arguments[arguments.index("--proposal") + 1]
        status, _, err = run(["decode", str(tmp_path / "s.rec"), "--proposal", proposal, "--out",
                              str(tmp_path / "x.npy"), "--quiet"], capsys)
        assert status == 0, err
        assert np.load(tmp_path / "x.npy").tobytes() == rf.decode(data, P).tobytes()


def test_inspect_prints_the_header_bits_and_checksums(tmp_path, capsys):
    enc = rf.encode(rf.Normal(np.linspace(-1, 1, 3000), 0.1), rf.Normal(0.0, 1.0), seed=3, method="astar-bb",
                    chunk_size=1000)
    path = tmp_path / "s.rec"
    path.write_bytes(enc.to_bytes())
    status, out, err = run(["inspect", str(path)], capsys)
    assert status == 0, err
    for expected in ("method: astar-bb", "seed: 3", "shape: (3000,)", "chunk_count: 3", "checksums: ok",
                     f"bits_per_element: {enc.bits_per_element:.4f}", "sample_type: float64"):
        assert expected in out, (expected, out)
    status, out, _ = run(["inspect", str(path), "--json"], capsys)
    info = json.loads(out)
    assert status == 0 and info["shape"] == [3000] and len(info["chunks"]) == 3
    assert info["bytes"] == len(enc.to_bytes()) and info["method"] == "astar-bb"

    # A flipped payload bit breaks its chunk's CRC: exit status 1, and no traceback.
    data = bytearray(enc.to_bytes())
    chunk = rf.stream_info(bytes(data))["chunks"][1]
    data[chunk["byte_offset"] + chunk["byte_length"] // 2] ^= 0x10
    path.write_bytes(bytes(data))
    status, out, err = run(["inspect", str(path)], capsys)
    assert status == 1 and "checksums: FAILED" in out and "chunk 1" in out, out
    status, _, err = run(["decode", str(path), "--out", str(tmp_path / "x.npy")], capsys)
    assert status == 1 and err.startswith("rec-fast: error:") and "chunk 1" in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.npy").exists()


def test_inspect_reads_block_streams(tmp_path, capsys):
    enc = rf.encode_blocks(rf.Normal(np.linspace(-1, 1, 200), 0.3), rf.Normal(0.0, 1.0), seed=2)
    (tmp_path / "b.rec").write_bytes(enc.to_bytes())
    status, out, err = run(["inspect", str(tmp_path / "b.rec")], capsys)
    assert status == 0, err
    assert "kind: block stream" in out and "shape: (200,)" in out and f"layout_blocks: {enc.layout.num_blocks}" in out


@pytest.mark.parametrize("arguments, message", [
    (["encode", "{tmp}/missing.npz", "--out", "{tmp}/s.rec"], "missing.npz: no such file"),
    (["encode", "{tmp}/wrong.npz", "--out", "{tmp}/s.rec"], "a Normal needs arrays loc and scale; the file holds low, high"),
    (["encode", "{tmp}/ok.npz", "--out", "{tmp}/s.rec", "--proposal", "Normal:0"], "expected FAMILY:A,B"),
    (["encode", "{tmp}/ok.npz", "--out", "{tmp}/s.rec", "--proposal", "Cauchy:0,1"], "expected FAMILY:A,B"),
    (["encode", "{tmp}/ok.npz", "--out", "{tmp}/s.rec", "--proposal", "Normal:0,0.05"], "unbounded"),
    (["encode", "{tmp}/text.npz", "--out", "{tmp}/s.rec"], "not a readable numpy .npz or .npy file"),
    (["encode", "{tmp}/ok.npz", "--out", "{tmp}/no/such/dir/s.rec"], "No such file or directory"),
    (["decode", "{tmp}/ok.rec", "--out", "{tmp}/x.npy", "--proposal", "Laplace:0,1"], "Normal proposal, but P is Laplace"),
    (["decode", "{tmp}/missing.rec", "--out", "{tmp}/x.npy"], "missing.rec: No such file"),
    (["demo", "--count", "0"], "at least one target"),
    (["demo", "--method", "nope"], "invalid choice"),
    (["encode", "{tmp}/ok.npz"], "--out"),
    (["plot", "nonsense", "--out", "{tmp}/x.png"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path, capsys, arguments, message):
    np.savez(tmp_path / "ok.npz", loc=[0.0, 0.5], scale=[0.1, 0.2])
    np.savez(tmp_path / "wrong.npz", low=[0.0], high=[1.0])
    (tmp_path / "text.npz").write_text("not numpy")
    (tmp_path / "ok.rec").write_bytes(rf.encode(rf.Normal([0.0, 0.5], 0.1), rf.Normal(0.0, 1.0)).to_bytes())
    status, _, err = run([a.replace("{tmp}", str(tmp_path)) for a in arguments], capsys)
    assert status == 2, err
    assert message in err and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert "error:" in last and message in last, err


def test_a_truncated_stream_is_a_verification_failure(tmp_path, capsys):
    data = rf.encode(rf.Normal(np.linspace(-1, 1, 500), 0.1), rf.Normal(0.0, 1.0)).to_bytes()
    (tmp_path / "t.rec").write_bytes(data[:-7])
    status, _, err = run(["decode", str(tmp_path / "t.rec"), "--out", str(tmp_path / "x.npy")], capsys)
    assert status == 1 and err.startswith("rec-fast: error:") and "Traceback" not in err, err
    status, out, _ = run(["inspect", str(tmp_path / "t.rec")], capsys)
    assert status == 1 and "FAILED" in out


def test_the_demo_reports_a_mismatch_with_status_1(monkeypatch, capsys):
    """The demo's verification can fail: a decoder that perturbs one sample makes it exit 1."""
    real = rf.decode

    def corrupted(data, P, **kwargs):
        samples = real(data, P, **kwargs).copy()
        samples[0] = np.nextafter(samples[0], np.inf)
        return samples

    monkeypatch.setattr(rf, "decode", corrupted)
    status, out, _ = run(["demo", "--count", "2000", "--no-progress"], capsys)
    assert status == 1 and "round trip bit-identical: False" in out


def test_python_dash_m_runs_the_same_command():
    result = subprocess.run([sys.executable, "-m", "rec_fast", "inspect", "--help"], capture_output=True, text=True,
                            timeout=HANG_GUARD)
    assert result.returncode == 0 and "usage: rec-fast inspect" in result.stdout


def test_output_names_are_used_as_given_and_unreadable_inputs_are_input_errors(tmp_path, capsys):
    np.savez(tmp_path / "ok.npz", loc=[0.0, 0.5], scale=[0.1, 0.2])
    status, _, err = run(["encode", str(tmp_path / "ok.npz"), "-o", str(tmp_path / "s.rec"), "-q"], capsys)
    assert status == 0, err
    status, out, err = run(["decode", str(tmp_path / "s.rec"), "-o", str(tmp_path / "samples")], capsys)
    assert status == 0 and (tmp_path / "samples").exists() and not (tmp_path / "samples.npy").exists(), err
    assert np.load(tmp_path / "samples").shape == (2,)
    assert not list(tmp_path.glob(".rec-fast-*"))  # no temporary file left behind
    status, _, err = run(["decode", str(tmp_path / "s.rec"), "-o", str(tmp_path)], capsys)
    assert status == 2 and "is a directory" in err
    (tmp_path / "empty.npz").write_bytes(b"")
    whole = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    for name in ("empty.npz", "cut.npz"):
        status, _, err = run(["encode", str(tmp_path / name), "-o", str(tmp_path / "x.rec")], capsys)
        assert status == 2 and "not a readable numpy" in err and "Traceback" not in err, err


def test_inspect_reports_a_corrupt_block_stream(tmp_path, capsys):
    data = bytearray(rf.encode_blocks(rf.Normal(np.linspace(-1, 1, 50), 0.3), rf.Normal(0.0, 1.0)).to_bytes())
    data[6] ^= 0xFF
    (tmp_path / "b.rec").write_bytes(bytes(data))
    status, out, _ = run(["inspect", str(tmp_path / "b.rec"), "--json"], capsys)
    assert status == 1 and json.loads(out)["checksums"] == "failed"


def test_demo_plot_and_plot_kinds_write_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status, out, err = run(["demo", "--count", "5000", "--no-progress", "--plot", str(tmp_path / "demo.png")], capsys)
    assert status == 0, err
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, out, err = run(["plot", "gprs", "--out", str(tmp_path / "g.svg"), "-Q", "Laplace:0.7,0.3", "-P",
                            "laplace(0, 1)", "--seed", "2", "--index", "1"], capsys)
    assert status == 0, err
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    status, _, err = run(["plot", "stretch", "--out", str(tmp_path / "s.png"), "--seed", "1"], capsys)
    assert status == 2 and "takes the options" in err and "Traceback" not in err
    status, _, err = run(["plot", "gprs", "--out", str(tmp_path / "g.png"), "-Q", "Gamma(1, 2)"], capsys)
    assert status == 2 and "cannot read distribution 'Gamma(1, 2)'" in err


def test_the_plot_kinds_of_the_command_are_the_modules():
    pytest.importorskip("matplotlib")
    from rec_fast import cli, plot

    assert cli._plot_kinds() == list(plot.KINDS)


def test_plot_bounds_and_formats_are_checked_before_drawing(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status, _, err = run(["plot", "gprs", "--out", str(tmp_path / "far.png"), "-Q", "Normal(4, 0.01)",
                          "--max-steps", "1000"], capsys)
    assert status == 2 and "max_steps" in err
    status, _, err = run(["plot", "stretch", "--out", str(tmp_path / "a.xyz")], capsys)
    assert status == 2 and "cannot write 'xyz' files" in err and not (tmp_path / "a.xyz").exists()
    status, _, err = run(["plot", "branch-and-bound", "--out", str(tmp_path / "b"), "--method", "gprs"], capsys)
    assert status == 2 and "draws method 'gprs-bb'" in err
    status, _, err = run(["plot", "stretch", "--out", str(tmp_path / "noext")], capsys)
    assert status == 0 and (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG", err


def test_the_demo_shows_a_progress_bar_from_the_start(capsys):
    pytest.importorskip("tqdm")
    from rec_fast import _progress

    status, _, err = run(["demo", "--count", "5000"], capsys)
    assert status == 0 and "100%" in err and "5.00k/5.00k" in err, err
    assert _progress.BAR_DELAY == 1.0  # restored for everything else
    status, _, err = run(["demo", "--count", "5000", "--no-progress"], capsys)
    assert status == 0 and "100%" not in err

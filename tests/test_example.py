"""examples/bayesian_weights.py: the end-to-end weight-posterior example, run in --quick mode.

The example is imported from its path (examples/ is not a package) and its ``main`` run once
per module; the tests check what a user of the example relies on: the decoder reproduces the
encoder's sample bit for bit, the exact stream costs about the KL, the budget stream costs its
budget, and the decoded weights classify about as well as the posterior mean.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import rec_fast as rf

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "bayesian_weights.py"
BUDGET_BITS_PER_BLOCK = 16  # code_weights' default for method="budget"
MAX_HEADER_BITS = 8 * 64    # allowance for a budget stream's header when the encoding reports none


def load_example():
    spec = importlib.util.spec_from_file_location("bayesian_weights_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def results(example):
    return example.main(["--quick", "--seed", "0"])


def bits_of(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float64).view(np.uint64)


def test_training_gives_a_usable_bounded_posterior(results):
    posterior = results["posterior"]
    prior_scale = posterior.config.prior_scale
    assert posterior.mu.shape == posterior.s.shape == (650,)
    # dQ/dP bounded: every posterior scale strictly below the prior's.
    assert np.all(posterior.s > 0) and np.all(posterior.s < prior_scale)
    assert np.all(np.isfinite(posterior.dmax_bits))
    # A few hundred to a few thousand bits, as the example promises.
    assert 100.0 < results["total_kl_bits"] < 5000.0
    # Digits with logistic regression: far above chance (0.1) for the mean and a typical sample.
    assert results["accuracies"]["posterior mean"] > 0.85
    assert results["accuracies"]["numpy samples, mean of 50"] > 0.8


def test_numpy_kl_matches_the_coder(results):
    coding = results["coding"]
    posterior = results["posterior"]
    np.testing.assert_allclose(coding.kl_bits, posterior.kl_bits, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(coding.dmax_bits, posterior.dmax_bits, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("variant", ["exact", "side-info", "budget"])
def test_decoded_weights_equal_the_encoders_sample_bit_for_bit(results, variant):
    coded = results["coding"].variants[variant]
    decoded = np.asarray(coded.decoded)
    assert decoded.shape == (650,)
    assert np.array_equal(bits_of(decoded), bits_of(coded.encoding.samples))


@pytest.mark.parametrize("variant", ["exact", "side-info"])
def test_exact_stream_costs_about_the_kl(results, variant):
    # One-shot codes beat the KL only by chance (the KL bounds the *expected* length), and the
    # exact coder's overhead is about log2(KL_block + 1) + O(1) per block plus its header.
    coded = results["coding"].variants[variant]
    kl = results["total_kl_bits"]
    assert 0.5 * kl <= coded.bits <= 3.0 * kl + 64
    block_bits = np.asarray(coded.encoding.block_bits, dtype=np.float64)
    assert block_bits.shape == (coded.encoding.layout.num_blocks,)
    assert np.all(block_bits >= 0) and block_bits.sum() <= coded.bits


@pytest.mark.parametrize("variant", ["exact", "side-info"])
def test_decoded_sample_looks_exact(results, variant):
    # z = (w - mu) / s is N(0, 1) per weight when w ~ Q: check mean and variance over 650 weights
    # (about 4.5 standard errors of slack each).
    posterior = results["posterior"]
    z = (np.asarray(results["coding"].variants[variant].decoded) - posterior.mu) / posterior.s
    assert abs(z.mean()) < 4.0 / np.sqrt(z.size)
    assert 0.75 < z.var() < 1.25


def test_budget_stream_costs_its_budget(results):
    coded = results["coding"].variants["budget"]
    enc = coded.encoding
    nominal = BUDGET_BITS_PER_BLOCK * enc.layout.num_blocks
    header = getattr(enc, "header_bits", None)
    if header is not None:
        assert abs((coded.bits - header) - nominal) <= 0.03 * nominal
    else:
        assert nominal <= coded.bits <= 1.03 * nominal + MAX_HEADER_BITS
    assert abs(float(np.sum(enc.block_bits)) - nominal) <= 0.03 * nominal


def test_side_information_layout_is_rebuilt_by_the_decoder(results):
    # The side-info stream decodes with a layout Bob built himself from the per-weight KL.
    coding = results["coding"]
    coded = coding.variants["side-info"]
    assert coded.encoding.layout.num_blocks == coding.layout.num_blocks
    again = rf.BlockLayout.from_kl(coding.kl_bits, bits_per_block=8.0, max_block_size=16, seed=0)
    decoded = rf.decode_blocks(coded.data, coding.P, layout=again)
    assert np.array_equal(bits_of(decoded), bits_of(coded.encoding.samples))


def test_encoding_is_deterministic_in_the_seed(results):
    coding = results["coding"]
    again = rf.encode_blocks(coding.Q, coding.P, seed=0)
    assert again.to_bytes() == coding.variants["exact"].data


@pytest.mark.parametrize("variant", ["exact", "side-info", "budget"])
def test_decoded_weights_classify_like_the_posterior_mean(results, variant):
    accuracies = results["accuracies"]
    assert accuracies[f"decoded ({variant})"] >= accuracies["posterior mean"] - 0.1


def test_report_is_printed(example, capsys):
    # The table's rows as a user sees them (a second, cheap run: the posterior is small).
    example.main(["--quick", "--seed", "1"])
    out = capsys.readouterr().out
    for needle in ("total KL", "exact", "side-info", "budget", "posterior mean", "bits/KL"):
        assert needle in out


def test_synthetic_data_without_scikit_learn(example, monkeypatch):
    # The fallback keeps the example (and this test module) working where scikit-learn is missing.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    data = example.load_data(quick=True)
    assert data.name.startswith("synthetic")
    assert data.X_train.shape == (500, 64) and data.X_test.shape[1] == 64
    assert set(np.unique(data.y_train)) <= set(range(10))
    posterior = example.train_posterior(data, example.TrainConfig(steps=300), seed=0)
    assert posterior.model.accuracy(posterior.mu, data.X_test, data.y_test) > 0.5

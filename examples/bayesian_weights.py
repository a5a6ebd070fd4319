"""Compress a Bayesian model's weight posterior with relative entropy coding.

The pipeline, end to end:

1. Load scikit-learn's bundled 8x8 digits data set (1,797 images, 64 features, 10 classes),
   standardize the features and split it into train and test sets with a fixed seed. Without
   scikit-learn a synthetic 64-feature, 10-class data set stands in (the script says so).
2. Train a mean-field Gaussian variational posterior Q = prod_i N(mu_i, s_i^2) over the weights
   and biases of a multinomial logistic regression (64 x 10 + 10 = 650 parameters; ``--hidden H``
   gives a one-hidden-layer tanh MLP instead) against the prior P = N(0, prior_scale^2) per
   parameter. The objective is the beta-weighted ELBO

       E_Q[log p(y | x, w)] - beta * KL[Q || P],

   maximized with the reparameterization trick (w = mu + s * eps), hand-written gradients and
   Adam, in pure numpy. The scales are s_i = softplus(rho_i), kept below
   ``max_scale_ratio * prior_scale`` so that every ratio dQ/dP is bounded, as the coder needs.
   beta < 1 trades posterior width for accuracy and sets how many bits the weights cost.
3. Code ONE sample of Q with rec_fast's block coder, in three variants:
     * exact: ``rf.encode_blocks(Q, P)``; the block layout is built from Q and travels in the
       stream, and the decoded weights are an exact sample of Q;
     * side information: the layout comes from the per-weight KL, which a decoder sharing the
       training statistics can rebuild itself (``rf.BlockLayout.from_kl``), so the stream does
       not carry it;
     * budget: the approximate COMBINER-style mode, a fixed number of bits per block.
4. Print a table: total KL, stream size of each variant (bytes, bits, bits per weight, bits per
   bit of KL) and the test accuracy of the posterior mean, of each decoded sample and of
   samples drawn from Q directly with numpy.

Run: ``python examples/bayesian_weights.py [--quick] [--seed N] [--hidden H]``.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import rec_fast as rf

LOG2_E = 1.0 / math.log(2.0)
SPLIT_SEED = 0  # the train/test split is fixed whatever --seed says
NUM_CLASSES = 10


# ----------------------------------------------------------------------------------------------
# 1. Data
# ----------------------------------------------------------------------------------------------

@dataclass
class Dataset:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def num_features(self) -> int:
        return int(self.X_train.shape[1])


def _synthetic_digits(rng: np.random.Generator, n: int = 1797, d: int = 64) -> Tuple[np.ndarray, np.ndarray]:
    """A stand-in for digits when scikit-learn is missing: 10 overlapping Gaussian classes."""
    centres = rng.normal(0.0, 1.0, size=(NUM_CLASSES, d))
    y = rng.integers(0, NUM_CLASSES, size=n)
    X = centres[y] + rng.normal(0.0, 2.5, size=(n, d))
    return X, y


def load_data(quick: bool = False, test_fraction: float = 0.25, split_seed: int = SPLIT_SEED) -> Dataset:
    """Digits (or the synthetic stand-in), standardized with the training set's statistics.

    ``quick`` keeps the same test set but trains on only the first 500 training examples.
    """
    rng = np.random.default_rng(split_seed)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        X, y = _synthetic_digits(rng)
        name = "synthetic (scikit-learn not installed)"
    else:
        digits = load_digits()
        X, y = digits.data.astype(np.float64), digits.target.astype(np.int64)
        name = "sklearn digits"
    order = rng.permutation(len(y))
    num_test = int(round(test_fraction * len(y)))
    test, train = order[:num_test], order[num_test:]
    if quick:
        train = train[:500]
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std[std < 1e-8] = 1.0  # pixels that are constant in the training set (always 0 in digits)

    def standardize(A: np.ndarray) -> np.ndarray:
        return np.asarray((A - mean) / std)

    return Dataset(standardize(X[train]), y[train], standardize(X[test]), y[test], name)


# ----------------------------------------------------------------------------------------------
# 2. The model and its variational posterior
# ----------------------------------------------------------------------------------------------

class Model:
    """Multinomial logistic regression (hidden = 0) or a one-hidden-layer tanh MLP.

    All parameters live in one flat float64 vector; ``shapes`` says how it splits.
    """

    def __init__(self, num_features: int, hidden: int = 0) -> None:
        self.hidden = int(hidden)
        if self.hidden:
            self.shapes = [("W1", (num_features, hidden)), ("b1", (hidden,)),
                           ("W2", (hidden, NUM_CLASSES)), ("b2", (NUM_CLASSES,))]
        else:
            self.shapes = [("W", (num_features, NUM_CLASSES)), ("b", (NUM_CLASSES,))]
        self.size = sum(int(np.prod(shape)) for _, shape in self.shapes)

    def unpack(self, theta: np.ndarray) -> List[np.ndarray]:
        parts, start = [], 0
        for _, shape in self.shapes:
            count = int(np.prod(shape))
            parts.append(theta[start:start + count].reshape(shape))
            start += count
        return parts

    def logits(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        if self.hidden:
            W1, b1, W2, b2 = self.unpack(theta)
            return np.asarray(np.tanh(X @ W1 + b1) @ W2 + b2)
        W, b = self.unpack(theta)
        return np.asarray(X @ W + b)

    def loss_and_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> Tuple[float, np.ndarray]:
        """Mean cross-entropy (nats per example) and its gradient with respect to theta."""
        n = len(y)
        if self.hidden:
            W1, b1, W2, b2 = self.unpack(theta)
            H = np.tanh(X @ W1 + b1)
            Z = H @ W2 + b2
        else:
            W, b = self.unpack(theta)
            Z = X @ W + b
        Z = Z - Z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(Z).sum(axis=1))
        loss = float(np.mean(log_norm - Z[np.arange(n), y]))
        G = np.exp(Z - log_norm[:, None])  # softmax
        G[np.arange(n), y] -= 1.0
        G /= n  # d loss / d logits
        if self.hidden:
            GH = (G @ W2.T) * (1.0 - H * H)
            grads = [X.T @ GH, GH.sum(axis=0), H.T @ G, G.sum(axis=0)]
        else:
            grads = [X.T @ G, G.sum(axis=0)]
        return loss, np.concatenate([g.ravel() for g in grads])

    def accuracy(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.logits(theta, X).argmax(axis=1) == y))


def gaussian_divergences_bits(mu: np.ndarray, s: np.ndarray, prior_scale: float) -> Tuple[np.ndarray, np.ndarray]:
    """Per-parameter KL[Q_i || P] and D_inf[Q_i || P] in bits for Q_i = N(mu_i, s_i^2), P = N(0, p^2).

    KL = log(p/s) + (s^2 + mu^2) / (2 p^2) - 1/2;  D_inf = log(p/s) + mu^2 / (2 (p^2 - s^2)) for s < p.
    """
    p2 = prior_scale * prior_scale
    log_ratio = np.log(prior_scale / s)
    kl = log_ratio + (s * s + mu * mu) / (2.0 * p2) - 0.5
    dmax = log_ratio + mu * mu / (2.0 * (p2 - s * s))
    return kl * LOG2_E, dmax * LOG2_E


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.logaddexp(0.0, x))


def _softplus_inverse(y: float) -> float:
    return float(y + math.log(-math.expm1(-y)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass
class TrainConfig:
    hidden: int = 0
    prior_scale: float = 1.0
    beta: float = 0.1            # KL weight in the ELBO
    steps: int = 2000
    learning_rate: float = 0.02
    init_scale: float = 0.1      # initial s_i
    max_scale_ratio: float = 0.9  # s_i <= max_scale_ratio * prior_scale keeps dQ/dP bounded
    mc_samples: int = 1          # reparameterized samples per step


@dataclass
class Posterior:
    """The trained mean-field Gaussian posterior and what training reported."""

    model: Model
    mu: np.ndarray
    s: np.ndarray
    config: TrainConfig
    seconds: float
    kl_bits: np.ndarray = field(repr=False)
    dmax_bits: np.ndarray = field(repr=False)
    history: List[Tuple[int, float, float]] = field(default_factory=list, repr=False)

    @property
    def total_kl_bits(self) -> float:
        return float(self.kl_bits.sum())


def train_posterior(data: Dataset, config: Optional[TrainConfig] = None, seed: int = 0,
                    log_every: int = 0) -> Posterior:
    """Maximize the beta-ELBO over (mu, rho) with Adam; s = softplus(rho), clipped below the prior."""
    config = config or TrainConfig()
    rng = np.random.default_rng(seed)
    model = Model(data.num_features, config.hidden)
    n = len(data.y_train)
    p = config.prior_scale
    p2 = p * p
    rho_max = _softplus_inverse(config.max_scale_ratio * p)

    # Small random means break the hidden units' symmetry (harmless for the linear model).
    mu = rng.normal(0.0, 0.01, size=model.size)
    if config.hidden:
        mu[: data.num_features * config.hidden] = rng.normal(
            0.0, 1.0 / math.sqrt(data.num_features), size=data.num_features * config.hidden)
    rho = np.full(model.size, _softplus_inverse(config.init_scale))
    params = [mu, rho]
    m1 = [np.zeros_like(a) for a in params]
    m2 = [np.zeros_like(a) for a in params]
    b1, b2, eps_adam = 0.9, 0.999, 1e-8
    kl_weight = config.beta / n  # the objective is per training example
    history = []

    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        s = _softplus(rho)
        g_mu = np.zeros_like(mu)
        g_s = np.zeros_like(s)
        nll = 0.0
        for _ in range(config.mc_samples):
            eps = rng.standard_normal(model.size)
            loss, g_w = model.loss_and_grad(mu + s * eps, data.X_train, data.y_train)
            nll += loss / config.mc_samples
            g_mu += g_w / config.mc_samples
            g_s += g_w * eps / config.mc_samples
        # Analytic KL[N(mu, s^2) || N(0, p^2)] = sum log(p/s) + (s^2 + mu^2)/(2p^2) - 1/2.
        g_mu += kl_weight * mu / p2
        g_s += kl_weight * (s / p2 - 1.0 / s)
        grads = [g_mu, g_s * _sigmoid(rho)]
        for a, g, m, v in zip(params, grads, m1, m2):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            a -= config.learning_rate * (m / (1.0 - b1 ** step)) / (np.sqrt(v / (1.0 - b2 ** step)) + eps_adam)
        np.minimum(rho, rho_max, out=rho)
        if log_every and (step % log_every == 0 or step == config.steps):
            kl_bits = gaussian_divergences_bits(mu, _softplus(rho), p)[0].sum()
            history.append((step, nll, float(kl_bits)))
            print(f"  step {step:5d}  NLL {nll:.4f} nats/example (one-sample estimate)  KL {kl_bits:8.1f} bits")
    seconds = time.perf_counter() - start

    s = np.minimum(_softplus(rho), config.max_scale_ratio * p)
    kl_bits, dmax_bits = gaussian_divergences_bits(mu, s, p)
    return Posterior(model, mu.copy(), s, config, seconds, kl_bits, dmax_bits, history)


# ----------------------------------------------------------------------------------------------
# 3. Relative entropy coding of one posterior sample
# ----------------------------------------------------------------------------------------------

@dataclass
class CodedVariant:
    name: str
    encoding: rf.BlockEncoding  # what rf.encode_blocks returned
    data: bytes            # the stream
    decoded: np.ndarray    # what rf.decode_blocks returned
    encode_seconds: float
    decode_seconds: float

    @property
    def bits(self) -> int:
        return 8 * len(self.data)


@dataclass
class CodingResult:
    Q: object
    P: object
    kl_bits: np.ndarray     # per weight, as the coder computes it (or numpy's closed form)
    dmax_bits: np.ndarray
    variants: Dict[str, CodedVariant]
    layout: object          # the side-information layout


def divergences_bits(Q: rf.Normal, P: rf.Normal, posterior: Posterior) -> Tuple[np.ndarray, np.ndarray]:
    """Per-weight (KL, D_inf) in bits from rec_fast when it offers them, else numpy's closed form."""
    if hasattr(rf, "divergences"):
        kl, dmax = rf.divergences(Q, P)
        return np.asarray(kl, dtype=np.float64), np.asarray(dmax, dtype=np.float64)
    return posterior.kl_bits, posterior.dmax_bits


def code_weights(posterior: Posterior, seed: int = 0, bits_per_block: float = 8.0,
                 max_block_size: int = 16, budget_bits_per_block: int = 16) -> CodingResult:
    """Encode and decode one sample of the weight posterior with each block-coding variant."""
    Q = rf.Normal(posterior.mu, posterior.s)            # shape (num_weights,)
    P = rf.Normal(0.0, posterior.config.prior_scale)    # broadcasts
    kl_bits, dmax_bits = divergences_bits(Q, P, posterior)
    variants: Dict[str, CodedVariant] = {}

    def code_one(name: str, encode: Callable[[], rf.BlockEncoding], decode: Callable[[bytes], np.ndarray]) -> None:
        t0 = time.perf_counter()
        enc = encode()
        data = enc.to_bytes()
        t1 = time.perf_counter()
        decoded = decode(data)
        t2 = time.perf_counter()
        variants[name] = CodedVariant(name, enc, data, decoded, t1 - t0, t2 - t1)

    # (a) Exact: the layout is built from Q and stored in the stream.
    code_one("exact",
        lambda: rf.encode_blocks(Q, P, seed=seed),
        lambda data: rf.decode_blocks(data, P))

    # (b) Side information: Alice and Bob both derive the layout from the per-weight KL (a decoder
    # that shares the training statistics); Bob rebuilds it himself rather than reading it.
    expected_kl_bits = kl_bits
    layout = rf.BlockLayout.from_kl(expected_kl_bits, bits_per_block=bits_per_block,
                                    max_block_size=max_block_size, seed=seed)

    def decode_with_own_layout(data: bytes) -> np.ndarray:
        bob_layout = rf.BlockLayout.from_kl(expected_kl_bits, bits_per_block=bits_per_block,
                                            max_block_size=max_block_size, seed=seed)
        return rf.decode_blocks(data, P, layout=bob_layout)

    code_one("side-info",
        lambda: rf.encode_blocks(Q, P, seed=seed, layout=layout),
        decode_with_own_layout)

    # (c) Budget (approximate, COMBINER-compatible): a fixed number of bits per block.
    code_one("budget",
        lambda: rf.encode_blocks(Q, P, seed=seed, method="budget", bits_per_block=budget_bits_per_block),
        lambda data: rf.decode_blocks(data, P))

    return CodingResult(Q, P, kl_bits, dmax_bits, variants, layout)


# ----------------------------------------------------------------------------------------------
# 4. Report
# ----------------------------------------------------------------------------------------------

def default_config(quick: bool, hidden: int = 0) -> TrainConfig:
    if quick:
        return TrainConfig(hidden=hidden, steps=1000)
    return TrainConfig(hidden=hidden)


def run(quick: bool = False, seed: int = 0, hidden: int = 0, verbose: bool = True,
        config: Optional[TrainConfig] = None) -> Dict[str, Any]:
    """The whole pipeline; returns everything a test or a notebook wants to look at."""
    say = print if verbose else (lambda *a, **k: None)
    data = load_data(quick=quick)
    say(f"data: {data.name}; {len(data.y_train)} train / {len(data.y_test)} test examples, "
        f"{data.num_features} features")
    config = config or default_config(quick, hidden)
    posterior = train_posterior(data, config, seed=seed, log_every=(config.steps // 4) if verbose else 0)
    model = posterior.model
    say(f"trained {model.size} parameters ({'MLP, ' + str(config.hidden) + ' hidden' if config.hidden else 'logistic regression'}) "
        f"in {posterior.seconds:.2f} s: beta = {config.beta}, prior N(0, {config.prior_scale}^2), "
        f"s in [{posterior.s.min():.3f}, {posterior.s.max():.3f}]")

    coding = code_weights(posterior, seed=seed)
    total_kl = float(np.sum(coding.kl_bits))

    rng = np.random.default_rng(seed + 1)

    def acc(w: Any) -> float:
        return model.accuracy(np.asarray(w, dtype=np.float64).ravel(), data.X_test, data.y_test)

    numpy_samples = posterior.mu + posterior.s * rng.standard_normal((50, model.size))
    numpy_accuracies = np.array([acc(w) for w in numpy_samples])
    accuracies = {
        "posterior mean": acc(posterior.mu),
        "numpy sample of Q": float(numpy_accuracies[0]),
        "numpy samples, mean of 50": float(numpy_accuracies.mean()),
    }
    for name, variant in coding.variants.items():
        accuracies[f"decoded ({name})"] = acc(variant.decoded)

    results = dict(data=data, posterior=posterior, coding=coding, total_kl_bits=total_kl,
                   accuracies=accuracies, numpy_accuracies=numpy_accuracies)
    if verbose:
        print_report(results)
    return results


def print_report(results: Dict[str, Any]) -> None:
    posterior: Posterior = results["posterior"]
    coding: CodingResult = results["coding"]
    total_kl = results["total_kl_bits"]
    n = posterior.model.size
    print()
    print(f"weights: {n};  total KL[Q||P] = {total_kl:.1f} bits ({total_kl / n:.3f} bits/weight);  "
          f"D_inf per weight: mean {np.mean(coding.dmax_bits):.2f}, max {np.max(coding.dmax_bits):.2f} bits")
    print()
    header = (f"{'variant':<10} {'blocks':>6} {'bytes':>7} {'bits':>7} {'bits/weight':>11} "
              f"{'bits/KL':>7} {'steps':>9} {'enc s':>7} {'dec s':>7} {'test acc':>8}")
    print(header)
    print("-" * len(header))
    for name, v in coding.variants.items():
        enc = v.encoding
        steps = int(np.sum(enc.block_steps))
        print(f"{name:<10} {enc.layout.num_blocks:>6d} {len(v.data):>7d} {v.bits:>7d} {v.bits / n:>11.3f} "
              f"{v.bits / total_kl:>7.3f} {steps:>9d} {v.encode_seconds:>7.3f} {v.decode_seconds:>7.3f} "
              f"{results['accuracies'][f'decoded ({name})']:>8.4f}")
    print()
    print("test accuracy")
    for name, value in results["accuracies"].items():
        extra = ""
        if name == "numpy samples, mean of 50":
            extra = f"  (std {np.std(results['numpy_accuracies']):.4f})"
        print(f"  {name:<28} {value:.4f}{extra}")
    exact = coding.variants["exact"]
    same = np.array_equal(np.asarray(exact.decoded), np.asarray(exact.encoding.samples))
    print(f"\nexact: decoded weights identical to the encoder's sample: {same}")


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer training examples and steps (a few seconds)")
    parser.add_argument("--seed", type=int, default=0, help="training noise, coding seed and numpy sampling")
    parser.add_argument("--hidden", type=int, default=0,
                        help="hidden units of a tanh MLP; 0 (default) is multinomial logistic regression")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run(quick=args.quick, seed=args.seed, hidden=args.hidden)
    print(f"total time {time.perf_counter() - start:.2f} s")
    return results


if __name__ == "__main__":
    main()

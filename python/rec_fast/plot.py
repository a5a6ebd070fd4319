"""The figures of the REC talk, drawn from what the encoder actually does (needs matplotlib).

Install with ``pip install rec_fast[plot]``. Every function returns a
:class:`matplotlib.figure.Figure` built without pyplot (no global state, no GUI); save it with
``fig.savefig("file.png")`` or :func:`render`. The command line draws the same figures:
``rec-fast plot KIND --out FILE``. ``docs/plots.md`` shows each one.

The search pictures (:func:`poisson_process`, :func:`gprs`, :func:`branch_and_bound`) trace
the encoder's own search (``rec_fast._core.trace_element``): element ``index`` of
``rf.encode(Q, P, seed=seed, method=...)`` runs on the random stream (seed, index), and the
accepted point drawn is that element's sample bit for bit.

Figures
-------
poisson_process   the Poisson process of P, points (x, t), with the arrival GPRS accepts
gprs              the arrivals, the stretched graph φ(x) = σ(r(x)), the first point under it
branch_and_bound  the same search restricted to shrinking intervals B_k, one row per step
stretch_functions σ⁻¹(t), and w_P(h) = P[r ≥ h], w_Q(h) = Q[r ≥ h], of a pair
sweep             steps and bits against KL for Normal targets against N(0, 1), per method
run_summary       bits and steps against KL of one run (``rec-fast demo --plot FILE``)
block_bits        bits against KL of a many-dimensional posterior coded in blocks
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

try:
    import matplotlib
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover - exercised without matplotlib
    raise ImportError("rec_fast.plot needs matplotlib: pip install rec_fast[plot]") from None

from . import _core
from ._api import (METHODS, Normal, RecError, SearchLimitError, Uniform, _check_distribution, _check_int, _check_uint64,
                   _float_array, encode, kl_divergence, max_divergence, stretch, stretch_inverse)

__all__ = ["KINDS", "block_bits", "branch_and_bound", "gprs", "main", "normal_targets_for_kl", "parse_distribution",
           "poisson_process", "render", "run_summary", "stretch_functions", "sweep"]

#: Colours shared by the figures.
ACCEPTED = "#1a9850"
REJECTED = "#8c8c8c"
ARRIVAL = "#3b6fb6"
GRAPH = "#d95f02"
TARGET = "#7570b3"

#: The pair every search picture uses when none is given (KL ≈ 1.6 bits, D∞ ≈ 2.3 bits).
DEFAULT_TARGET = Normal(1.0, 0.35)
DEFAULT_PROPOSAL = Normal(0.0, 1.0)
#: The default bound on a traced search (each arrival also costs one evaluation of σ⁻¹).
DEFAULT_TRACE_STEPS = 1 << 16
_LN2 = float(np.log(2.0))


# ----------------------------------------------------------------------------- checks

def _element(Q: Any, P: Any, index: int):
    """The single (Q, P) pair of element ``index`` of a broadcast batch (any index for scalars,
    whose stream index is then ``index``, as with ``rf.encode(..., index_offset=index)``)."""
    Q = _check_distribution(Q, "target Q")
    P = _check_distribution(P, "coding distribution P")
    try:
        shape = tuple(np.broadcast_shapes(Q.shape, P.shape))
    except ValueError:
        raise RecError(f"shapes {Q.shape} and {P.shape} do not broadcast") from None
    if shape == ():
        return Q, P
    size = int(np.prod(shape))
    if index >= size:
        raise RecError(f"index = {index} is out of range for a batch of {size} elements of shape {shape}")

    def pick(d):
        first, second = (np.broadcast_to(a, shape).ravel()[index] for a in d._parameters())
        return type(d)(float(first), float(second))

    return pick(Q), pick(P)


def _sides(Q, P):
    return Q._side(()), P._side(())


def _trace(Q, P, method: str, seed: int, index: int, max_steps: int) -> Dict[str, Any]:
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    max_steps = _check_int(max_steps, "max_steps", 1, _core.MAX_TRACE_STEPS)
    target, proposal = _sides(Q, P)
    return _core.trace_element(target, proposal, method, seed, index, max_steps)


def _describe(d) -> str:
    first, second = (float(a) for a in d._parameters())
    if isinstance(d, Uniform):
        return f"U({first:g}, {second:g})"
    return f"{'N' if isinstance(d, Normal) else 'L'}({first:g}, {second:g})"


def _pair_title(Q, P) -> str:
    kl, dmax = float(kl_divergence(Q, P)), float(max_divergence(Q, P))
    return f"Q = {_describe(Q)}, P = {_describe(P)}: KL = {kl:.2f} bits, D∞ = {dmax:.2f} bits"


# ----------------------------------------------------------------------------- geometry

def _kl_references(ax: Any, kl: np.ndarray) -> None:
    """The lines every codelength plot is read against: KL and the bound KL + log₂(KL + 1)."""
    ax.plot(kl, kl, color="black", linewidth=1, label="KL")
    ax.plot(kl, kl + np.log2(kl + 1.0), color="black", linestyle="--", linewidth=1, label="KL + log₂(KL + 1)")


def _x_range(Q, P, samples: np.ndarray) -> Tuple[float, float]:
    """A window holding both distributions' bulk and every sample drawn."""
    points = [float(Q.quantile(1e-3)), float(Q.quantile(1 - 1e-3)),
              float(P.quantile(2e-3)), float(P.quantile(1 - 2e-3))]
    points += [float(samples.min()), float(samples.max())] if samples.size else []
    low, high = min(points), max(points)
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def _graph(Q, P, x: np.ndarray) -> np.ndarray:
    """φ(x) = σ(r(x)): an arrival (x, t) is accepted by GPRS iff t ≤ φ(x) (∞ where r = r*)."""
    target, proposal = _sides(Q, P)
    ratio = _core.density_ratio_values(target, proposal, np.ascontiguousarray(x, dtype=np.float64))
    return np.asarray(stretch(Q, P, ratio), dtype=np.float64)


def _grid(low: float, high: float, extra: Sequence[float] = ()) -> np.ndarray:
    """A fine grid of [low, high] with the points in ``extra`` (the mode: the graph's peak)."""
    points = np.concatenate([np.linspace(low, high, 1501), [e for e in extra if low < e < high]])
    return np.unique(points)


def _density(d, x: np.ndarray) -> np.ndarray:
    """The density of ``d`` on the grid ``x`` (differences of the CDF)."""
    return np.gradient(np.asarray(d.cdf(x), dtype=np.float64), x)


def _draw_graph(ax, Q, P, x: np.ndarray, top: float) -> None:
    phi = _graph(Q, P, x)
    shown = np.minimum(phi, 10.0 * top)
    ax.fill_between(x, 0.0, shown, color=GRAPH, alpha=0.10, linewidth=0, label="accepted region t ≤ φ(x)")
    ax.plot(x, shown, color=GRAPH, linewidth=2.0, label=r"$\varphi(x) = \sigma(r(x))$", gid="graph")


def _step_labels(ax, xs: np.ndarray, ts: np.ndarray, limit: int = 30) -> None:
    if len(xs) > limit:
        return
    for k, (x, t) in enumerate(zip(xs, ts), start=1):
        ax.annotate(str(k), (x, t), xytext=(4, 3), textcoords="offset points", fontsize=8, color="#444444")


def _time_top(times: np.ndarray) -> float:
    return float(max(times.max() * 1.2, 1.0))


# ----------------------------------------------------------------------------- search pictures

def poisson_process(Q: Any, P: Any, *, seed: int = 0, index: int = 0, arrivals: Optional[int] = None,
                    max_steps: int = DEFAULT_TRACE_STEPS) -> Figure:
    """The Poisson process of P that GPRS searches, points (Xₙ, Tₙ), with the accepted arrival.

    Tₙ − Tₙ₋₁ ~ Exp(1) and Xₙ ~ P, drawn from element ``index``'s stream under ``seed`` (the
    process ``rf.encode(Q, P, seed=seed, method="gprs")`` searches for that element); the
    star is the arrival global GPRS accepts, at x = its sample. ``arrivals``: how many points
    to draw (default: at least 25, and twice the accepted arrival's number). The lower strip
    shows the densities of P and Q.
    """
    seed, index = _check_uint64(seed, "seed"), _check_uint64(index, "index")
    Q, P = _element(Q, P, index)
    trace = _trace(Q, P, "gprs", seed, index, max_steps)
    steps = int(trace["steps"])
    if arrivals is None:
        arrivals = min(max(25, 2 * steps), _core.MAX_TRACE_STEPS)
    arrivals = _check_int(arrivals, "arrivals", 1, _core.MAX_TRACE_STEPS)
    times, xs = _core.process_arrivals(P._side(()), seed, index, max(arrivals, steps))
    times, xs = times[:arrivals], xs[:arrivals]
    accepted_t, accepted_x = float(trace["time"][-1]), float(trace["encoded_sample"])

    fig = Figure(figsize=(9.6, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[4, 1])
    ax = fig.add_subplot(grid[0])
    strip = fig.add_subplot(grid[1], sharex=ax)
    low, high = _x_range(Q, P, np.concatenate([xs, [accepted_x]]))
    ax.scatter(xs, times, s=22, color=ARRIVAL, zorder=3, label=f"arrivals $(X_n, T_n)$, n ≤ {arrivals}",
               gid="arrivals")
    ax.scatter([accepted_x], [accepted_t], s=220, marker="*", color=ACCEPTED, edgecolor="black", zorder=4,
               label=f"accepted by GPRS: n = {steps}", gid="accepted")
    _step_labels(ax, xs, times)
    ax.set_xlim(low, high)
    ax.set_ylim(0.0, _time_top(np.append(times, accepted_t)))
    ax.set_ylabel("time $t$")
    ax.set_title(f"The Poisson process of P (seed {seed}, element {index})\n{_pair_title(Q, P)}", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)
    x = _grid(low, high)
    strip.plot(x, _density(P, x), color=ARRIVAL, label="P")
    strip.plot(x, _density(Q, x), color=TARGET, label="Q")
    strip.axvline(accepted_x, color=ACCEPTED, linestyle=":")
    strip.set_xlabel("$x$")
    strip.set_ylabel("density")
    strip.legend(loc="upper right", fontsize=8)
    return fig


def gprs(Q: Any, P: Any, *, seed: int = 0, index: int = 0, max_steps: int = DEFAULT_TRACE_STEPS) -> Figure:
    """Global GPRS on one element: the arrivals it examines, the stretched graph
    φ(x) = σ(r(x)) with r = dQ/dP, and the first arrival under it (Tₙ ≤ φ(Xₙ)), which is
    ``rf.encode(Q, P, seed=seed, method="gprs").samples`` at ``index``.

    Rejected arrivals are grey (hollow: rejected by the search's deficit window without
    computing x); the accepted one is the green star; the faint dots are the arrivals after
    it, which the search never examines.
    """
    seed, index = _check_uint64(seed, "seed"), _check_uint64(index, "index")
    Q, P = _element(Q, P, index)
    trace = _trace(Q, P, "gprs", seed, index, max_steps)
    xs, ts, accepted = trace["sample"], trace["time"], trace["accepted"]
    fig = Figure(figsize=(9.6, 5.2), layout="constrained")
    ax = fig.add_subplot()
    low, high = _x_range(Q, P, xs)
    top = float(max(1.6 * ts.max(), 2.0))
    steps = len(ts)
    # The process goes on after the accepted arrival; GPRS never looks at those arrivals.
    times, later = _core.process_arrivals(P._side(()), seed, index,
                                          min(steps + int(2 * top) + 20, _core.MAX_TRACE_STEPS))
    shown = times[steps:] <= top
    ax.scatter(later[steps:][shown], times[steps:][shown], s=10, color=REJECTED, alpha=0.35, linewidths=0,
               zorder=2, label="later arrivals (never examined)", gid="later")
    _draw_graph(ax, Q, P, _grid(low, high, [trace["mode"]]), top)
    rejected = ~accepted
    skipped = trace["skipped"][rejected]
    faces = np.where(skipped[:, None], np.array([[1.0, 1.0, 1.0, 1.0]]), matplotlib.colors.to_rgba_array(REJECTED))
    ax.scatter(xs[rejected], ts[rejected], s=30, facecolors=faces, edgecolors=REJECTED, zorder=3,
               label=f"rejected: $T_n > \\varphi(X_n)$ ({int(rejected.sum())})", gid="rejected")
    ax.scatter(xs[accepted], ts[accepted], s=240, marker="*", color=ACCEPTED, edgecolor="black", zorder=4,
               label=f"accepted: n = {int(trace['steps'])}, x = {float(trace['encoded_sample']):.4g}", gid="accepted")
    _step_labels(ax, xs, ts)
    ax.set_xlim(low, high)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("$x$")
    ax.set_ylabel("time $t$")
    ax.set_title(f"Greedy Poisson rejection sampling (seed {seed}, element {index})\n{_pair_title(Q, P)}",
                 fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def branch_and_bound(Q: Any, P: Any, *, seed: int = 0, index: int = 0, method: str = "gprs-bb",
                     max_steps: int = 127) -> Figure:
    """Branch-and-bound GPRS on one element, step by step.

    Step k draws the first arrival after T_{k−1} of the process restricted to the interval
    B_k: T_k = T_{k−1} + E_k / P(B_k), X_k ~ P|B_k. It is accepted if T_k ≤ φ(X_k); otherwise
    the far side of X_k from the mode of r is discarded (φ is unimodal and time only grows).
    Top: the graph, the arrivals, and the region searched (B_k over (T_{k−1}, T_k]). Bottom:
    one row per step with B_k and X_k. The steps and the accepted x are those of
    ``rf.encode(Q, P, seed=seed, method=method)`` at ``index``.
    """
    seed, index = _check_uint64(seed, "seed"), _check_uint64(index, "index")
    if method != "gprs-bb":
        raise RecError(f"branch_and_bound draws method 'gprs-bb' (the search that splits its interval), not "
                       f"{method!r}; plot.gprs draws global GPRS")
    max_steps = _check_int(max_steps, "max_steps", 1, 127)  # gprs-bb's depth bound
    Q, P = _element(Q, P, index)
    trace = _trace(Q, P, method, seed, index, max_steps)
    xs, ts, accepted = trace["sample"], trace["time"], trace["accepted"]
    lefts, rights = trace["interval_left"], trace["interval_right"]
    steps = len(xs)
    mode = float(trace["mode"])
    fig = Figure(figsize=(9.6, 5.0 + 0.32 * steps), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.9 + 0.32 * steps])
    ax = fig.add_subplot(grid[0])
    rows = fig.add_subplot(grid[1], sharex=ax)
    low, high = _x_range(Q, P, xs)
    top = _time_top(ts)

    # The region searched: B_k over (T_{k−1}, T_k].
    starts = np.concatenate([[0.0], ts[:-1]])
    for k in range(steps):
        ax.fill_between([max(lefts[k], low), min(rights[k], high)], starts[k], ts[k], color=ARRIVAL,
                        alpha=0.10 + 0.05 * (k % 2), linewidth=0)
    _draw_graph(ax, Q, P, _grid(low, high, [mode]), top)
    ax.axvline(mode, color="black", linestyle=":", linewidth=1, label="mode of $r$")
    ax.scatter(xs[~accepted], ts[~accepted], s=40, marker="X", color=REJECTED, zorder=3,
               label="rejected: discard the far side", gid="rejected")
    ax.scatter(xs[accepted], ts[accepted], s=240, marker="*", color=ACCEPTED, edgecolor="black", zorder=4,
               label=f"accepted at step {steps}: x = {float(trace['encoded_sample']):.4g}", gid="accepted")
    _step_labels(ax, xs, ts)
    ax.set_xlim(low, high)
    ax.set_ylim(0.0, top)
    ax.set_ylabel("time $t$")
    ax.tick_params(labelbottom=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(f"Branch-and-bound GPRS ({method}; seed {seed}, element {index})\n{_pair_title(Q, P)}",
                 fontsize=10)

    # One row per step: the interval B_k (arrows at ends beyond the window) and X_k.
    k = np.arange(1, steps + 1)
    shown_left, shown_right = np.maximum(lefts, low), np.minimum(rights, high)
    rows.hlines(k, shown_left, shown_right, color=ARRIVAL, linewidth=5, alpha=0.6, gid="intervals",
                label="interval $B_k$")
    rows.scatter(shown_left[lefts < low], k[lefts < low], marker="<", color=ARRIVAL, s=30)
    rows.scatter(shown_right[rights > high], k[rights > high], marker=">", color=ARRIVAL, s=30)
    rows.scatter(xs[~accepted], k[~accepted], marker="X", color="#c0392b", s=50, zorder=3, gid="row-rejected")
    rows.scatter(xs[accepted], k[accepted], marker="*", color=ACCEPTED, edgecolor="black", s=180, zorder=3,
                 gid="row-accepted")
    rows.axvline(mode, color="black", linestyle=":", linewidth=1)
    for step, x, ok in zip(k, xs, accepted):
        note = "accept" if ok else f"reject: keep $x {'>' if x <= mode else '<'} X_{{{step}}}$"
        rows.annotate(note, (1.0, step), xycoords=("axes fraction", "data"), xytext=(6, 0),
                      textcoords="offset points", ha="left", va="center", fontsize=8, color="#333333",
                      annotation_clip=False)
    rows.set_ylim(steps + 0.7, 0.3)
    rows.set_yticks(k)
    rows.set_ylabel("step $k$")
    rows.set_xlabel("$x$")
    rows.grid(axis="x", alpha=0.3)
    return fig


def stretch_functions(Q: Any, P: Any) -> Figure:
    """The functions GPRS is built from, for one pair: left, σ⁻¹(t), the height of the
    stretched graph at time t (σ⁻¹ → r* = 2^D∞); right, w_P(h) = P[dQ/dP ≥ h] and
    w_Q(h) = Q[dQ/dP ≥ h], with σ(h) = ∫₀^h dη / (w_Q(η) − η w_P(η)).
    """
    Q, P = _single(Q, P)
    max_ratio = float(2.0 ** max_divergence(Q, P))
    t_end = float(stretch(Q, P, 0.9 * max_ratio))
    t = np.linspace(0.0, t_end, 400)
    heights = np.asarray(stretch_inverse(Q, P, t), dtype=np.float64)
    h = np.linspace(0.0, 1.04 * max_ratio, 800)
    w_p, w_q = _core.superlevel_mass_values(*_sides(Q, P), h)

    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(t, heights, color=GRAPH, linewidth=2, label=r"$\sigma^{-1}(t)$", gid="stretch-inverse")
    left.axhline(max_ratio, color="black", linestyle="--", linewidth=1, label=r"$r^* = 2^{D_\infty}$")
    left.set_xlabel("time $t$")
    left.set_ylabel(r"height $h = \sigma^{-1}(t)$")
    left.set_xlim(0.0, t_end)
    left.set_ylim(0.0, 1.08 * max_ratio)
    left.legend(loc="lower right", fontsize=9)
    left.grid(alpha=0.3)
    left.set_title(r"The inverse stretch function $\sigma^{-1}$", fontsize=10)
    right.plot(h, w_p, color=ARRIVAL, linewidth=2, label=r"$w_P(h) = P[dQ/dP \geq h]$", gid="w_P")
    right.plot(h, w_q, color=TARGET, linewidth=2, label=r"$w_Q(h) = Q[dQ/dP \geq h]$", gid="w_Q")
    right.axvline(max_ratio, color="black", linestyle="--", linewidth=1)
    right.set_xlabel("height $h$")
    right.set_ylabel("superlevel mass")
    right.set_xlim(0.0, 1.04 * max_ratio)
    right.set_ylim(-0.02, 1.15)
    right.legend(loc="best", fontsize=9)
    right.grid(alpha=0.3)
    right.set_title("Superlevel masses of $r = dQ/dP$", fontsize=10)
    fig.suptitle(_pair_title(Q, P), fontsize=10)
    return fig


def _single(Q: Any, P: Any):
    """Q and P as one pair (both must hold a single distribution)."""
    Q = _check_distribution(Q, "target Q")
    P = _check_distribution(P, "coding distribution P")
    if Q.shape != () or P.shape != ():
        raise RecError(f"expected single distributions Q and P (scalar parameters), got shapes {Q.shape} and "
                       f"{P.shape}; pick one element, e.g. rf.Normal(Q.loc[i], Q.scale[i])")
    return Q, P


# ----------------------------------------------------------------------------- statistics

def normal_targets_for_kl(kl_bits: Any) -> Tuple[np.ndarray, np.ndarray]:
    """(loc, scale) of Normal targets with KL[N(loc, scale²) ‖ N(0, 1)] = ``kl_bits``, half of
    it carried by the location (loc²/2 = KL/2) and half by the scale."""
    from .workloads import _solve_log_var

    kl = _float_array(kl_bits, "kl_bits").ravel()
    if kl.size == 0 or not np.all(np.isfinite(kl) & (kl > 0)):
        raise RecError("kl_bits must hold finite values > 0")
    nats = kl * _LN2
    loc = np.sqrt(nats)
    # ½(s² − 1 − ln s²) = nats/2  ⇔  e^{−u} − 1 + u = nats with s = e^{−u/2}.
    scale = np.exp(-0.5 * _solve_log_var(nats.copy()))
    return loc, scale


def sweep(kl_bits: Any = None, *, methods: Sequence[str] = ("gprs", "gprs-bb", "astar-bb"), samples: int = 40,
          seed: int = 0, max_steps: int = 1 << 20) -> Figure:
    """Runtime (steps) and bits against KL over a sweep of pairs, per method (after Figure 2 of
    Flamich 2023, *Greedy Poisson Rejection Sampling*).

    Normal targets against P = N(0, 1) with KL[Q‖P] = each value of ``kl_bits`` (default 0.5 to
    12 bits; :func:`normal_targets_for_kl`); each point is the mean over ``samples`` elements
    encoded with ``rf.encode(..., seed=seed, method=m, format_version=1)`` (version 1 codes each
    message on its own, with Elias delta, so an element's bits do not depend on the batch).
    A method whose search reaches ``max_steps`` at some KL has no point there.
    """
    if kl_bits is None:
        kl_bits = np.linspace(0.5, 12.0, 12)
    kl = np.sort(_float_array(kl_bits, "kl_bits").ravel())
    loc, scale = normal_targets_for_kl(kl)
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    for method in methods:
        if method not in METHODS:
            raise RecError(f"unknown method {method!r}; available methods are {', '.join(map(repr, METHODS))}")
    samples = _check_int(samples, "samples", 1, 1 << 20)
    seed = _check_uint64(seed, "seed")
    P = Normal(0.0, 1.0)
    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    markers = ["o", "s", "^", "D", "v", "P"]
    for m, method in enumerate(methods):
        steps, bits, at = [], [], []
        for kl_value, mu, s in zip(kl, loc, scale):
            Q = Normal(np.full(samples, mu), np.full(samples, s))
            try:
                enc = encode(Q, P, seed=seed, method=method, max_steps=max_steps, format_version=1)
            except SearchLimitError:
                continue
            at.append(kl_value)
            steps.append(enc.steps.mean())
            bits.append(enc.bits.mean())
        style = dict(marker=markers[m % len(markers)], label=method, gid=f"sweep-{method}")
        left.plot(at, steps, **style)
        right.plot(at, bits, **style)
    dmax = max_divergence(Normal(loc, scale), P)
    left.plot(kl, 2.0 ** dmax, color="black", linestyle="--", linewidth=1, label=r"$2^{D_\infty}$ (global GPRS)")
    left.set_yscale("log")
    left.set_xlabel("KL[Q‖P] (bits)")
    left.set_ylabel("mean steps (arrivals or nodes examined)")
    left.set_title("Runtime", fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")
    _kl_references(right, kl)
    right.set_xlabel("KL[Q‖P] (bits)")
    right.set_ylabel("mean bits per sample")
    right.set_title("Code length (format version 1, Elias delta)", fontsize=10)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.suptitle(f"Normal targets against N(0, 1): {samples} samples per point, seed {seed}", fontsize=10)
    return fig


def _summary_arrays(kl: Any, bits: Any, steps: Any):
    kl = _float_array(kl, "kl").ravel()
    bits = _float_array(bits, "bits").ravel()
    steps = _float_array(steps, "steps").ravel()
    if not kl.size == bits.size == steps.size:
        raise RecError(f"kl, bits and steps must hold as many values; got {kl.size}, {bits.size} and {steps.size}")
    if kl.size == 0:
        raise RecError("kl, bits and steps are empty; a summary needs at least one element")
    if not (np.all(np.isfinite(kl)) and np.all(np.isfinite(bits)) and np.all(np.isfinite(steps))):
        raise RecError("kl, bits and steps must be finite")
    return kl, bits, steps


def _binned_means(kl: np.ndarray, values: np.ndarray, bins: int = 20, log: bool = False):
    """Means of ``values`` in KL bins holding data (centres, means); ``log``: geometric bins of
    the positive KLs. Runs of 2,000 elements or more leave out bins of fewer than 10."""
    if log:
        keep = kl > 0
        kl, values = kl[keep], values[keep]
    if kl.size == 0 or kl.min() == kl.max():
        return kl[:1], values[:1]
    edges = np.geomspace(kl.min(), kl.max(), bins + 1) if log else np.linspace(kl.min(), kl.max(), bins + 1)
    which = np.clip(np.digitize(kl, edges) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    sums = np.bincount(which, weights=values, minlength=bins)
    # Bins of a handful of elements only add noise to a large run's curve.
    held = counts >= (10 if kl.size >= 2000 else 1)
    centres = np.sqrt(edges[:-1] * edges[1:]) if log else 0.5 * (edges[:-1] + edges[1:])
    return centres[held], sums[held] / counts[held]


def run_summary(kl: Any, bits: Any, steps: Any, *, method: Optional[str] = None) -> Figure:
    """Bits and steps against KL for one run: ``kl`` per element (``rf.kl_divergence``),
    ``bits`` = ``enc.bits`` and ``steps`` = ``enc.steps`` of the same elements.

    Left: each element's bits (dots; at most 20,000 drawn) with their mean per KL bin, KL and
    KL + log₂(KL + 1); right: steps, log scale, with the mean per bin.
    """
    kl, bits, steps = _summary_arrays(kl, bits, steps)
    if method is not None and not isinstance(method, str):
        raise TypeError(f"method must be a str or None, got {type(method).__name__}")
    shown = np.arange(kl.size)
    if kl.size > 20_000:
        # Which points are drawn only (a fixed choice, so the picture is reproducible).
        shown = np.random.default_rng(0).choice(kl.size, 20_000, replace=False)
    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.scatter(kl[shown], bits[shown], s=6, alpha=0.35, color=ARRIVAL, linewidths=0, label="elements",
                 gid="bits")
    centres, means = _binned_means(kl, bits)
    left.plot(centres, means, color=GRAPH, marker="o", markersize=3, label="mean per KL bin")
    line = np.linspace(0.0, kl.max(), 100)
    _kl_references(left, line)
    left.set_xlabel("KL[Q‖P] (bits)")
    left.set_ylabel("bits")
    left.set_title(f"Bits: mean {bits.mean():.3f} per element, KL {kl.mean():.3f}", fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.scatter(kl[shown], steps[shown], s=6, alpha=0.35, color=ARRIVAL, linewidths=0, label="elements",
                  gid="steps")
    centres, means = _binned_means(kl, steps)
    right.plot(centres, means, color=GRAPH, marker="o", markersize=3, label="mean per KL bin")
    right.set_yscale("log")
    right.set_xlabel("KL[Q‖P] (bits)")
    right.set_ylabel("steps")
    right.set_title(f"Steps: mean {steps.mean():.2f} per element", fontsize=10)
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    name = f"method {method!r}, " if method else ""
    fig.suptitle(f"{name}{kl.size:,} elements", fontsize=10)
    return fig


def block_bits(Q: Any = None, P: Any = None, *, seed: int = 0, method: str = "exact", d: int = 2000,
               bits_per_block: Optional[float] = None, elementwise: Optional[str] = "gprs-bb") -> Figure:
    """Bits of ONE sample of a many-dimensional posterior coded in blocks (``rf.encode_blocks``).

    Default posterior: ``rec_fast.workloads.combiner_profile(d, seed)`` (most dimensions
    carry well under a bit of KL) against N(0, 1). Left: each block's bits against its KL.
    Right: bits per dimension against KL per dimension, per block, next to coding every
    dimension on its own with ``rf.encode(..., method=elementwise)`` (None: left out), which
    pays the one-shot overhead per dimension instead of per block.
    """
    from .blocks import encode_blocks

    seed = _check_uint64(seed, "seed")
    if (Q is None) != (P is None):
        raise RecError("give both Q and P, or neither (the default posterior)")
    if Q is None:
        from .workloads import combiner_profile

        workload = combiner_profile(_check_int(d, "d", 1, 1 << 24), seed)
        Q, P = workload.target(), workload.prior()
    enc = encode_blocks(Q, P, seed=seed, method=method, bits_per_block=bits_per_block)
    sizes = np.asarray(enc.layout.block_sizes, dtype=np.float64)
    dims = int(sizes.sum())
    fig = Figure(figsize=(10.0, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.scatter(enc.block_kl, enc.block_bits, s=14, color=ARRIVAL, alpha=0.7, label="blocks", gid="blocks")
    line = np.linspace(0.0, float(enc.block_kl.max()), 100)
    _kl_references(left, line)
    left.set_xlabel("block KL (bits)")
    left.set_ylabel("block bits")
    left.set_title(f"{enc.layout.num_blocks} blocks: {enc.payload_bits:,} payload bits for KL {enc.kl_bits:,.0f}",
                   fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.scatter(enc.block_kl / sizes, enc.block_bits / sizes, s=14, color=ARRIVAL, alpha=0.7,
                  label=f"blocks ({method}): {enc.total_bits / dims:.3f} bits/dim in all", gid="block-dims")
    if elementwise is not None:
        single = encode(Q, P, seed=seed, method=elementwise)
        kl = np.asarray(kl_divergence(Q, P), dtype=np.float64).ravel()
        centres, means = _binned_means(kl, single.bits.ravel().astype(np.float64), log=True)
        right.plot(centres, means, color=REJECTED, marker="o", markersize=4,
                   label=f"each dimension alone ({elementwise}), mean per KL bin: "
                         f"{8 * len(single.to_bytes()) / dims:.3f} bits/dim in all", gid="elementwise")
    per_dim = enc.block_kl / sizes
    low, top = float(per_dim.min()), float(per_dim.max())
    if elementwise is not None:
        low, top = min(low, float(kl.min())), max(top, float(kl.max()))
    line = np.geomspace(max(low, 1e-4), max(top, 1.0), 100)
    right.plot(line, line, color="black", linewidth=1, label="KL")
    right.set_xscale("log")
    right.set_xlabel("KL per dimension (bits)")
    right.set_ylabel("bits per dimension")
    right.set_title("Overhead per block instead of per dimension", fontsize=10)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.suptitle(f"One sample of a {dims:,}-dimensional posterior coded in blocks (seed {seed})", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- registry

def _with_default_pair(function: Callable[..., Figure]) -> Callable[..., Figure]:
    def draw(Q: Any = None, P: Any = None, **options: Any) -> Figure:
        return function(DEFAULT_TARGET if Q is None else Q, DEFAULT_PROPOSAL if P is None else P, **options)

    draw.__name__ = function.__name__
    draw.__doc__ = function.__doc__
    return draw


#: The figures ``render`` and ``rec-fast plot KIND`` draw, by kind.
KINDS: Dict[str, Callable[..., Figure]] = {
    "poisson": poisson_process,
    "gprs": gprs,
    "branch-and-bound": branch_and_bound,
    "stretch": stretch_functions,
    "sweep": sweep,
    "blocks": block_bits,
}
#: The kinds that draw one pair (Q, P), with a default pair when none is given.
_PAIR_KINDS = ("poisson", "gprs", "branch-and-bound", "stretch")


def render(kind: str, path: Any = None, **options: Any) -> Figure:
    """Draws figure ``kind`` (a key of :data:`KINDS`) with ``options`` (its function's keyword
    arguments; the pair kinds default to Q = N(1, 0.35²), P = N(0, 1)) and saves it to
    ``path`` (any format matplotlib writes, by its extension; PNG without one, under exactly
    the name given) unless ``path`` is None. An unknown kind, option or file format is reported
    before anything is drawn.

    >>> from rec_fast import plot
    >>> fig = plot.render("stretch")
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['time $t$', 'height $h$']
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}")
    if kind not in KINDS:
        raise RecError(f"unknown plot kind {kind!r}; available kinds are {', '.join(map(repr, KINDS))}")
    file_format = None if path is None else _file_format(path)
    function = KINDS[kind]
    import inspect

    accepted = [name for name, p in inspect.signature(function).parameters.items()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"plot kind {kind!r} takes the options {', '.join(accepted)}; got {', '.join(unknown)}")
    if kind in _PAIR_KINDS:
        function = _with_default_pair(function)
    fig = function(**options)
    if path is not None:
        fig.savefig(path, dpi=150, format=file_format)
    return fig


def _file_format(path: Any) -> str:
    """The image format of ``path`` by its extension (PNG without one), checked against what
    matplotlib writes."""
    import os

    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    supported = Figure().canvas.get_supported_filetypes()
    if not extension:
        return "png"
    if extension not in supported:
        raise RecError(f"{os.fspath(path)}: matplotlib cannot write {extension!r} files; use one of "
                       f"{', '.join(sorted(supported))}")
    return extension


# ----------------------------------------------------------------------------- command line

def parse_distribution(text: str) -> Any:
    """``"Normal(1, 0.35)"``, ``"laplace(0, 1)"``, ``"Uniform:0.2,0.5"`` as a distribution (the
    command line's syntax, :func:`rec_fast.cli.parse_distribution_spec`)."""
    from .cli import parse_distribution_spec

    return parse_distribution_spec(text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m rec_fast.plot KIND --out FILE [options]``: the same as ``rec-fast plot``."""
    import sys

    from .cli import main as command

    return command(["plot", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

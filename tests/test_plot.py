"""rec_fast.plot: every figure is drawn from the encoder's own search, and says what it shows.

Each test renders a figure to PNG and then reads back what was drawn: the points of the
scatter collections (by their gid), the accepted point's coordinates against ``rf.encode``,
the number of branch-and-bound rows against the element's steps, and the axis labels.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import rec_fast as rf  # noqa: E402
from rec_fast import _core  # noqa: E402
from rec_fast import plot  # noqa: E402

PAIRS = {
    "normal": (rf.Normal(1.0, 0.35), rf.Normal(0.0, 1.0)),
    "laplace": (rf.Laplace(0.7, 0.3), rf.Laplace(0.0, 1.0)),
    "uniform": (rf.Uniform(0.2, 0.5), rf.Uniform(0.0, 1.0)),
    "uniform-normal": (rf.Uniform(0.5, 1.5), rf.Normal(0.0, 1.0)),
    "uniform-laplace": (rf.Uniform(-1.0, -0.5), rf.Laplace(0.0, 1.0)),
}


def collection(fig, gid):
    """The one artist drawn with ``gid`` in any of the figure's axes."""
    found = [c for ax in fig.axes for c in list(ax.collections) + list(ax.lines) if c.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def points(fig, gid):
    return np.asarray(collection(fig, gid).get_offsets(), dtype=np.float64)


def element_sample(Q, P, seed, method, index):
    """Element ``index`` of ``rf.encode`` on a batch of ``index + 1`` copies of the pair."""
    count = index + 1
    batch_q = type(Q)(*(np.full(count, float(a)) for a in Q._parameters()))
    enc = rf.encode(batch_q, P, seed=seed, method=method)
    return enc.samples[index], int(enc.steps[index])


def trace(Q, P, method, seed, index, max_steps=1 << 16):
    return _core.trace_element(Q._side(()), P._side(()), method, seed, index, max_steps)


def save(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("seed,index", [(7, 3)])
def test_gprs_draws_the_encoders_search(tmp_path, name, seed, index):
    Q, P = PAIRS[name]
    sample, steps = element_sample(Q, P, seed, "gprs", index)
    fig = plot.gprs(Q, P, seed=seed, index=index)
    if name == "uniform":
        save(fig, tmp_path, f"gprs-{name}")
    rejected, accepted = points(fig, "rejected"), points(fig, "accepted")
    assert len(rejected) + len(accepted) == steps
    assert len(accepted) == 1
    t = trace(Q, P, "gprs", seed, index)
    assert accepted[0, 0] == sample  # bit for bit
    assert accepted[0, 1] == t["time"][-1]
    np.testing.assert_array_equal(rejected[:, 0], t["sample"][:-1])
    np.testing.assert_array_equal(rejected[:, 1], t["time"][:-1])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$x$" and ax.get_ylabel() == "time $t$"
    # The examined rejected points lie above the graph and the accepted one under it; those the
    # window rejected carry no σ⁻¹ (NaN) and are drawn hollow.
    examined = ~t["skipped"][:-1]
    assert np.all(t["ratio"][:-1][examined] < t["graph_height"][:-1][examined])
    assert np.isnan(t["graph_height"][:-1][~examined]).all()
    assert t["ratio"][-1] >= t["graph_height"][-1]
    faces = collection(fig, "rejected").get_facecolors()
    if len(faces) == len(rejected):
        assert np.array_equal(np.all(faces == 1.0, axis=1), t["skipped"][:-1])
    graph = collection(fig, "graph")
    assert len(graph.get_xdata()) > 1000


@pytest.mark.parametrize("name", ["normal", "laplace", "uniform", "uniform-laplace"])
@pytest.mark.parametrize("seed,index", [(3, 2), (11, 5)])
def test_branch_and_bound_has_one_row_per_step(tmp_path, name, seed, index):
    Q, P = PAIRS[name]
    sample, steps = element_sample(Q, P, seed, "gprs-bb", index)
    fig = plot.branch_and_bound(Q, P, seed=seed, index=index)
    intervals = collection(fig, "intervals")
    assert len(intervals.get_segments()) == steps
    accepted = points(fig, "accepted")
    assert accepted.shape == (1, 2) and accepted[0, 0] == sample
    assert len(points(fig, "rejected")) == steps - 1
    rows = points(fig, "row-accepted")
    assert rows[0, 0] == sample and rows[0, 1] == steps
    top, bottom = fig.axes[:2]
    assert top.get_ylabel() == "time $t$"
    assert bottom.get_xlabel() == "$x$" and bottom.get_ylabel() == "step $k$"
    # Each interval is the previous one cut at the previous rejected sample, on the far side
    # from the mode, and the rows draw exactly these intervals (clipped to the window).
    t = trace(Q, P, "gprs-bb", seed, index, 127)
    for k in range(1, steps):
        cut = t["sample"][k - 1]
        if cut <= t["mode"]:
            assert t["interval_left"][k] == cut and t["interval_right"][k] == t["interval_right"][k - 1]
        else:
            assert t["interval_right"][k] == cut and t["interval_left"][k] == t["interval_left"][k - 1]
    low, high = top.get_xlim()
    drawn = np.array([[segment[0][0], segment[1][0]] for segment in intervals.get_segments()])
    np.testing.assert_array_equal(drawn[:, 0], np.maximum(t["interval_left"], low))
    np.testing.assert_array_equal(drawn[:, 1], np.minimum(t["interval_right"], high))


@pytest.mark.parametrize("name", ["normal", "laplace", "uniform"])
def test_poisson_process_marks_the_gprs_arrival(tmp_path, name):
    Q, P = PAIRS[name]
    seed, index = 5, 2
    sample, steps = element_sample(Q, P, seed, "gprs", index)
    count = max(40, steps)
    fig = plot.poisson_process(Q, P, seed=seed, index=index, arrivals=count)
    arrivals, accepted = points(fig, "arrivals"), points(fig, "accepted")
    assert len(arrivals) == count
    assert accepted[0, 0] == sample
    # The accepted point is arrival number `steps` of the process drawn.
    assert tuple(arrivals[steps - 1]) == tuple(accepted[0])
    times, xs = _core.process_arrivals(P._side(()), seed, index, count)
    np.testing.assert_array_equal(arrivals[:, 0], xs)
    np.testing.assert_array_equal(arrivals[:, 1], times)
    assert np.all(np.diff(arrivals[:, 1]) > 0)
    assert fig.axes[0].get_ylabel() == "time $t$" and fig.axes[1].get_xlabel() == "$x$"


def test_trace_agrees_with_encode_over_seeds():
    for name, (Q, P) in PAIRS.items():
        methods = ["gprs"] if name == "uniform-normal" else ["gprs", "gprs-bb"]
        for method in methods:
            enc = rf.encode(type(Q)(*(np.full(30, float(a)) for a in Q._parameters())), P, seed=9, method=method)
            for i in range(30):
                t = trace(Q, P, method, 9, i, 127 if method == "gprs-bb" else 1 << 16)
                assert t["encoded_sample"] == enc.samples[i] == t["sample"][-1]
                assert t["steps"] == enc.steps[i] == len(t["time"])
                assert t["accepted"][-1] and not t["accepted"][:-1].any()


def test_stretch_functions(tmp_path):
    for name in ["normal", "laplace", "uniform", "uniform-normal"]:
        Q, P = PAIRS[name]
        fig = plot.stretch_functions(Q, P)
        left, right = fig.axes
        assert left.get_xlabel() == "time $t$" and "sigma^{-1}" in left.get_ylabel()
        assert right.get_xlabel() == "height $h$"
        r_star = 2.0 ** rf.max_divergence(Q, P)
        inverse = collection(fig, "stretch-inverse")
        t, h = inverse.get_xdata(), inverse.get_ydata()
        np.testing.assert_allclose(h, rf.stretch_inverse(Q, P, t), rtol=1e-12)
        assert np.all(np.diff(h) >= 0) and h[-1] < r_star
        w_p, w_q = collection(fig, "w_P"), collection(fig, "w_Q")
        heights = w_p.get_xdata()
        assert w_p.get_ydata()[0] == 1.0 and w_q.get_ydata()[0] == 1.0
        above = heights > r_star * (1 + 1e-9)
        assert np.all(w_p.get_ydata()[above] == 0) and np.all(w_q.get_ydata()[above] == 0)
        # w_Q ≥ w_P on every superlevel set of r ≥ 1 and both decrease.
        assert np.all(np.diff(w_p.get_ydata()) <= 1e-15) and np.all(np.diff(w_q.get_ydata()) <= 1e-15)
        ones = (heights >= 1.0) & ~above
        assert np.all(w_q.get_ydata()[ones] >= w_p.get_ydata()[ones])


def test_superlevel_masses_match_a_reference():
    # N(1, 0.35²) against N(0, 1): {r ≥ h} is an interval around the mode; w_P(1) from scipy.
    stats = pytest.importorskip("scipy.stats")
    Q, P = PAIRS["normal"]
    q_loc, q_scale = 1.0, 0.35
    x = np.linspace(-3, 3, 60001)
    log_r = stats.norm.logpdf(x, q_loc, q_scale) - stats.norm.logpdf(x)
    inside = x[log_r >= 0.0]
    w_p, w_q = _core.superlevel_mass_values(Q._side(()), P._side(()), np.array([1.0]))
    expected_p = stats.norm.cdf(inside.max()) - stats.norm.cdf(inside.min())
    expected_q = stats.norm.cdf(inside.max(), q_loc, q_scale) - stats.norm.cdf(inside.min(), q_loc, q_scale)
    assert abs(w_p[0] - expected_p) < 1e-4 and abs(w_q[0] - expected_q) < 1e-4


def test_sweep(tmp_path):
    fig = plot.sweep([0.5, 3.0, 6.0], methods=("gprs", "gprs-bb"), samples=8, seed=1)
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_xlabel() == "KL[Q‖P] (bits)"
    assert right.get_ylabel() == "mean bits per sample"
    loc, scale = plot.normal_targets_for_kl([0.5, 3.0, 6.0])
    np.testing.assert_allclose(rf.kl_divergence(rf.Normal(loc, scale), rf.Normal(0, 1)), [0.5, 3.0, 6.0], rtol=1e-9)
    for method in ("gprs", "gprs-bb"):
        lines = [line for line in left.lines if line.get_gid() == f"sweep-{method}"]
        assert len(lines) == 1
        np.testing.assert_array_equal(lines[0].get_xdata(), [0.5, 3.0, 6.0])
        # The plotted means are those of rf.encode on the same targets and seed.
        enc = rf.encode(rf.Normal(np.full(8, loc[1]), np.full(8, scale[1])), rf.Normal(0, 1), seed=1,
                        method=method, format_version=1)
        assert lines[0].get_ydata()[1] == enc.steps.mean()


def test_run_summary(tmp_path):
    Q = rf.Normal(np.linspace(-1, 1, 500), np.linspace(0.05, 0.5, 500))
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(Q, P, seed=3, method="gprs-bb")
    kl = rf.kl_divergence(Q, P)
    fig = plot.run_summary(kl, enc.bits, enc.steps, method="gprs-bb")
    save(fig, tmp_path, "summary")
    bits, steps = points(fig, "bits"), points(fig, "steps")
    np.testing.assert_array_equal(bits, np.column_stack([kl, enc.bits]))
    np.testing.assert_array_equal(steps, np.column_stack([kl, enc.steps]))
    left, right = fig.axes
    assert left.get_xlabel() == right.get_xlabel() == "KL[Q‖P] (bits)"
    assert left.get_ylabel() == "bits" and right.get_ylabel() == "steps"
    assert "gprs-bb" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="as many values"):
        plot.run_summary(kl, enc.bits[:3], enc.steps)
    with pytest.raises(ValueError, match="empty"):
        plot.run_summary([], [], [])


def test_block_bits(tmp_path):
    fig = plot.block_bits(d=300, seed=2)
    from rec_fast.workloads import combiner_profile

    w = combiner_profile(300, 2)
    enc = rf.encode_blocks(w.target(), w.prior(), seed=2)
    blocks = points(fig, "blocks")
    np.testing.assert_array_equal(blocks, np.column_stack([enc.block_kl, enc.block_bits]))
    left, right = fig.axes
    assert left.get_xlabel() == "block KL (bits)" and left.get_ylabel() == "block bits"
    assert right.get_xlabel() == "KL per dimension (bits)" and right.get_ylabel() == "bits per dimension"


@pytest.mark.parametrize("kind", list(plot.KINDS))
def test_render_every_kind_with_defaults(tmp_path, kind):
    options = {"samples": 4, "kl_bits": [1.0, 4.0]} if kind == "sweep" else {"d": 200} if kind == "blocks" else {}
    path = tmp_path / f"{kind}.png"
    fig = plot.render(kind, path, **options)
    assert path.stat().st_size > 10_000
    assert all(ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes)


def test_render_defaults_to_the_talk_pair(tmp_path):
    fig = plot.render("gprs", None, seed=4)
    sample, _ = element_sample(rf.Normal(1.0, 0.35), rf.Normal(0.0, 1.0), 4, "gprs", 0)
    assert points(fig, "accepted")[0, 0] == sample


def test_bad_inputs():
    Q, P = PAIRS["normal"]
    with pytest.raises(ValueError, match="unknown plot kind 'nope'.*'poisson'.*'blocks'"):
        plot.render("nope", None)
    with pytest.raises(rf.RecError):
        plot.render("nope", None)
    with pytest.raises(TypeError):
        plot.render(3, None)
    with pytest.raises(TypeError, match="target Q"):
        plot.gprs(1.0, P)
    with pytest.raises(ValueError, match="out of range"):
        plot.gprs(rf.Normal([1.0, 2.0], 0.3), P, index=2)
    with pytest.raises(ValueError, match="seed"):
        plot.gprs(Q, P, seed=-1)
    with pytest.raises(TypeError, match="index"):
        plot.gprs(Q, P, index=1.5)
    with pytest.raises(ValueError, match="arrivals"):
        plot.poisson_process(Q, P, arrivals=0)
    with pytest.raises(ValueError, match="draws method 'gprs-bb'"):
        plot.branch_and_bound(Q, P, method="pfr")
    with pytest.raises(ValueError, match="max_steps"):
        plot.branch_and_bound(Q, P, max_steps=1 << 20)
    with pytest.raises(ValueError, match="tracing supports"):
        _core.trace_element(Q._side(()), P._side(()), "pfr", 0, 0, 10)
    with pytest.raises(ValueError, match="unimodal"):
        plot.branch_and_bound(rf.Uniform(-0.5, 1.5), rf.Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="single distributions"):
        plot.stretch_functions(rf.Normal([1.0, 2.0], 0.3), P)
    with pytest.raises(rf.SearchLimitError):
        plot.gprs(rf.Normal(3.0, 0.05), P, max_steps=3)
    with pytest.raises(ValueError, match="unknown method"):
        plot.sweep(methods=("fast",))


def test_array_pairs_pick_the_element():
    Q = rf.Normal([1.0, -0.5, 2.0], [0.3, 0.2, 0.4])
    P = rf.Normal(0.0, 1.0)
    enc = rf.encode(Q, P, seed=6, method="gprs-bb")
    for i in range(3):
        fig = plot.branch_and_bound(Q, P, seed=6, index=i)
        assert points(fig, "accepted")[0, 0] == enc.samples[i]
        assert len(collection(fig, "intervals").get_segments()) == enc.steps[i]


def test_importing_rec_fast_does_not_import_matplotlib():
    code = "import sys, rec_fast; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_without_matplotlib_says_how_to_install():
    # A meta-path hook that hides matplotlib, as if it were not installed.
    code = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == 'matplotlib' or name.startswith('matplotlib.'):
            raise ImportError('No module named ' + repr(name))
sys.meta_path.insert(0, Hide())
try:
    import rec_fast.plot
except ImportError as e:
    assert 'pip install rec_fast[plot]' in str(e), str(e)
else:
    raise SystemExit('imported without matplotlib')
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_render_names_the_options_of_a_kind():
    with pytest.raises(TypeError, match="plot kind 'stretch' takes the options Q, P; got seed"):
        plot.render("stretch", None, seed=3)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "bb.png"
    assert plot.main(["branch-and-bound", "--out", str(out), "-Q", "Laplace(0.7, 0.3)", "-P", "laplace(0, 1)",
                      "--seed", "3", "--index", "2"]) == 0
    assert out.stat().st_size > 10_000
    assert plot.parse_distribution(" Uniform( 0.2 ,0.5) ").high == 0.5
    with pytest.raises(ValueError, match="cannot read distribution"):
        plot.parse_distribution("Gamma(1, 2)")
    assert plot.main(["stretch", "--out", str(tmp_path / "s.png"), "--seed", "1"]) == 2
    assert "takes the options" in capsys.readouterr().err


def test_an_element_of_a_two_dimensional_batch_is_picked_in_row_major_order(tmp_path):
    loc = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    Q = rf.Normal(loc, 0.3)
    P = rf.Normal(np.array([[0.0], [0.2], [-0.2]]), np.array([[1.0], [1.5], [2.0]]))  # broadcast (3, 1)
    enc = rf.encode(Q, P, seed=4, method="gprs-bb")
    for index in (0, 5, 11):
        fig = plot.branch_and_bound(Q, P, seed=4, index=index)
        assert points(fig, "accepted")[0, 0] == enc.samples.flat[index]
        assert len(collection(fig, "intervals").get_segments()) == enc.steps.flat[index]

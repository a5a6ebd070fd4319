//! Uniform targets and plateau ratios in the Rust core: docs/test-vectors.md closed forms, the identities
//! every pair must satisfy, and the unimodality requirement of branch-and-bound.

use rec_fast::batch::{encode_pairs, Distributions, EncodeSettings, Pairs};
use rec_fast::distribution::Family;
use rec_fast::divergence::channel_simulation_divergence;
use rec_fast::error::RecError;
use rec_fast::math::integrate_adaptive;
use rec_fast::pair::{divergences, Pair};
use rec_fast::ratio::DensityRatio;
use rec_fast::sampler::Method;
use rec_fast::stretch::{Stretch, ACCURATE_TOLERANCE};
use std::f64::consts::LN_2;

/// A distribution as the batch driver takes it: (family, first parameter, second parameter).
type Side = (Family, f64, f64);

fn pair(target: Side, proposal: Side) -> Pair {
    Pair::new(target, proposal).unwrap()
}

/// One pair of each new kind: (target, proposal).
fn new_pairs() -> Vec<(Side, Side)> {
    use Family::{Laplace, Normal, Uniform};
    vec![
        ((Uniform, 0.2, 0.45), (Uniform, 0.0, 1.0)),
        ((Uniform, -3.0, 4.0), (Uniform, -3.0, 4.0)),
        ((Uniform, 0.5, 0.6), (Normal, 0.0, 1.0)),
        ((Uniform, -1.0, 2.0), (Normal, 0.0, 1.0)),
        ((Uniform, -2.0, 2.0), (Normal, 0.0, 1.5)),
        ((Uniform, 2.0, 5.0), (Normal, 1.0, 2.0)),
        ((Uniform, -3.0, -2.9), (Laplace, 0.0, 1.0)),
        ((Uniform, -0.5, 1.0), (Laplace, 0.2, 0.5)),
        ((Laplace, 0.5, 1.0), (Laplace, 0.0, 1.0)),
        ((Laplace, -2.0, 3.0), (Laplace, 1.0, 3.0)),
    ]
}

/// ∫₀^{r*} f(h)·w_P(h) dh by adaptive quadrature in the deficit, h = r*·e^{−s}.
fn integrate_over_heights<R: DensityRatio>(ratio: &R, f: impl Fn(f64) -> f64) -> f64 {
    let log_max = ratio.log_max_ratio();
    let mut breakpoints: Vec<f64> = (0..=64).map(|i| (log_max + 40.0) * (i as f64 / 64.0).powi(2)).collect();
    if let Some(floor) = ratio.support_floor() {
        breakpoints.push(floor.deficit);
        breakpoints.sort_by(f64::total_cmp);
    }
    let integrand = |s: f64| {
        let height = (log_max - s).exp();
        f(height) * ratio.superlevel_masses(s).proposal * height
    };
    integrate_adaptive(integrand, &breakpoints, 1e-12, 20_000).unwrap()
}

#[test]
fn superlevel_masses_satisfy_the_identities_of_design_section_7() {
    // ∫ w_P dh = E_P[r] = 1 and KL (nats) = 1 + ∫ w_P(h) ln h dh, against the closed-form KL.
    for (target, proposal) in new_pairs() {
        let ratio = pair(target, proposal);
        let total = integrate_over_heights(&ratio, |_| 1.0);
        assert!((total - 1.0).abs() < 1e-9, "{target:?} on {proposal:?}: ∫ w_P = {total}");
        let kl_nats = 1.0 + integrate_over_heights(&ratio, f64::ln);
        let (kl_bits, max_bits) = divergences(target, proposal).unwrap();
        assert!((kl_nats - kl_bits * LN_2).abs() < 1e-8, "{target:?} on {proposal:?}: {kl_nats} vs {kl_bits} bits");
        assert!((ratio.log_max_ratio() - max_bits * LN_2).abs() < 1e-12);
        // D_CS sits between KL and KL + log₂(KL + 1) + 1 bits.
        let dcs = channel_simulation_divergence(&ratio).unwrap();
        assert!(kl_bits - 1e-9 <= dcs && dcs <= kl_bits + (kl_bits + 1.0).log2() + 1.0, "{dcs} vs KL {kl_bits}");
        // The gap must equal g(h) = ∫_h^{r*} w_P, relative to its own size.
        for deficit in [1e-4, 0.05, 0.6, 2.5] {
            let gap = ratio.superlevel_masses(deficit).gap;
            let integral = integrate_gap(&ratio, deficit);
            assert!((gap / integral - 1.0).abs() < 1e-9, "{target:?} on {proposal:?} s {deficit}: {gap} vs {integral}");
        }
    }
}

/// g(h) = ∫_h^{r*} w_P(η) dη = ∫_0^s w_P(σ)·r*e^{−σ} dσ.
fn integrate_gap<R: DensityRatio>(ratio: &R, deficit: f64) -> f64 {
    let log_max = ratio.log_max_ratio();
    let breakpoints: Vec<f64> = (0..=16).map(|i| deficit * i as f64 / 16.0).collect();
    let integrand = |s: f64| ratio.superlevel_masses(s).proposal * (log_max - s).exp();
    integrate_adaptive(integrand, &breakpoints, 1e-13, 20_000).unwrap()
}

#[test]
fn uniform_pair_matches_design_vectors() {
    // P = U(0, 1), Q = U(a, a + w): σ⁻¹(t) = (1 − e^{−wt})/w, KL = D∞ = D_CS = −log w.
    for (a, w) in [(0.2, 0.25), (0.0, 0.5), (0.3, 1e-3)] {
        let (target, proposal) = ((Family::Uniform, a, a + w), (Family::Uniform, 0.0, 1.0));
        let ratio = pair(target, proposal);
        let stretch = Stretch::new(&ratio);
        for t in [1e-6, 0.1, 1.0, 10.0, 1e3] {
            let expected = -(-w * t).exp_m1() / w;
            assert!((stretch.inverse(t).unwrap() / expected - 1.0).abs() < 1e-12, "w {w} t {t}");
            // (Beyond w·t ≈ 36, σ⁻¹(t) rounds to r* itself, where σ = ∞.)
            if w * t < 30.0 {
                let back = stretch.stretch(expected).unwrap();
                assert!((back / t - 1.0).abs() < 1e-9, "w {w} t {t}: σ(σ⁻¹(t)) = {back}");
            }
        }
        let (kl, max) = divergences(target, proposal).unwrap();
        let bits = -w.log2();
        assert!((kl - bits).abs() < 1e-12 && (max - bits).abs() < 1e-12);
        assert!((channel_simulation_divergence(&ratio).unwrap() - bits).abs() < 1e-12);
    }
}

#[test]
fn global_gprs_on_a_uniform_pair_is_geometric() {
    // N ~ Geometric(w): P(N = 1) = w and E[N] = 1/w.
    let (count, w) = (40_000usize, 0.25);
    let (low, high) = (vec![0.2; count], vec![0.2 + w; count]);
    let (p_low, p_high) = (vec![0.0; count], vec![1.0; count]);
    let pairs = Pairs {
        target: Distributions { family: Family::Uniform, first: &low, second: &high },
        proposal: Distributions { family: Family::Uniform, first: &p_low, second: &p_high },
    };
    let encoding = encode_pairs(&pairs, &EncodeSettings::new(Method::Gprs, 11)).unwrap();
    let n = count as f64;
    let first = encoding.steps.iter().filter(|&&s| s == 1).count() as f64 / n;
    assert!((first - w).abs() < 5.0 * (w * (1.0 - w) / n).sqrt(), "P(N = 1) = {first}");
    let mean = encoding.steps.iter().sum::<u64>() as f64 / n;
    let standard_error = ((1.0 - w) / (w * w) / n).sqrt();
    assert!((mean - 1.0 / w).abs() < 5.0 * standard_error, "E[N] = {mean}");
    assert!(encoding.samples.iter().all(|&x| (0.2..=0.2 + w).contains(&x)));
}

#[test]
fn stretch_matches_direct_quadrature_of_one_over_the_gap() {
    // σ(h) = ∫₀^h dη/g(η) integrated directly in η (no substitution, no closed forms), away
    // from the singularity at r*, with the floor height and h/2 as breakpoints.
    for (target, proposal) in new_pairs() {
        let ratio = pair(target, proposal);
        let stretch = Stretch::new(&ratio);
        let (log_max, max_ratio) = (ratio.log_max_ratio(), ratio.log_max_ratio().exp());
        let one_over_gap = |eta: f64| 1.0 / ratio.superlevel_masses((log_max - eta.ln()).max(0.0)).gap;
        for fraction in [0.3, 0.7, 0.95] {
            let height = fraction * max_ratio;
            let mut breakpoints = vec![0.0, 0.5 * height, height];
            if let Some(floor) = ratio.support_floor() {
                let floor_height = (log_max - floor.deficit).exp();
                if floor_height < height {
                    breakpoints.push(floor_height);
                }
            }
            breakpoints.sort_by(f64::total_cmp);
            let direct = integrate_adaptive(one_over_gap, &breakpoints, 1e-13, 20_000).unwrap();
            let value = stretch.stretch(height).unwrap();
            assert!((value / direct - 1.0).abs() < 1e-9, "{target:?} on {proposal:?} h = {fraction} r*: {value} vs {direct}");
        }
    }
}

#[test]
fn plateau_stretch_inverts_accurately() {
    // α = 1 (equal-scale Laplace): the y = −ln s substitution must invert to full precision.
    let ratio = pair((Family::Laplace, -2.0, 3.0), (Family::Laplace, 1.0, 3.0));
    let stretch = Stretch::new(&ratio);
    for t in [1e-3, 0.3, 1.0, 3.0, 30.0, 300.0] {
        let deficit = stretch.inverse_deficit(t).unwrap();
        let back = stretch.increment(f64::INFINITY, deficit, ACCURATE_TOLERANCE).unwrap();
        assert!((back / t - 1.0).abs() < 1e-9, "t {t}: {back}");
    }
}

#[test]
fn branch_and_bound_refuses_two_interval_superlevel_sets() {
    let (low, high, loc, scale) = ([-1.0], [2.0], [0.0], [1.0]);
    let pairs = Pairs {
        target: Distributions { family: Family::Uniform, first: &low, second: &high },
        proposal: Distributions { family: Family::Normal, first: &loc, second: &scale },
    };
    for method in [Method::GprsBranch, Method::GprsDyadic, Method::AstarBranch] {
        let error = encode_pairs(&pairs, &EncodeSettings::new(method, 1)).unwrap_err();
        assert!(matches!(error, RecError::UnsupportedMethod(_)), "{error}");
        let message = error.to_string();
        assert!(message.contains("unimodal") && message.contains("\"gprs\"") && message.contains("Uniform(-1, 2)"), "{message}");
    }
    for method in [Method::Gprs, Method::Pfr, Method::GprsParallel] {
        let encoding = encode_pairs(&pairs, &EncodeSettings::new(method, 1)).unwrap();
        assert!((-1.0..=2.0).contains(&encoding.samples[0]));
    }
}

#[test]
fn unsupported_and_unbounded_combinations_name_the_pair() {
    use Family::{Laplace, Normal, Uniform};
    let message = |target, proposal| Pair::new(target, proposal).unwrap_err().to_string();
    assert!(message((Normal, 0.0, 0.5), (Laplace, 0.0, 1.0)).contains("a Normal target with a Laplace coding distribution is not supported"));
    assert!(message((Normal, 0.0, 0.5), (Uniform, -1.0, 1.0)).contains("Uniform(-1, 1)"));
    assert!(message((Uniform, -0.5, 1.5), (Uniform, 0.0, 1.0)).contains("not inside the proposal's support [0, 1]"));
    assert!(message((Uniform, 1.0, 1.0), (Normal, 0.0, 1.0)).contains("target Uniform low 1 and high 1"));
    let (kl, max) = divergences((Normal, 0.0, 0.5), (Uniform, -1.0, 1.0)).unwrap();
    assert_eq!((kl, max), (f64::INFINITY, f64::INFINITY));
}

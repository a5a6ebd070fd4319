//! Laplace pairs in the Rust core: closed forms from docs/test-vectors.md and exactness of every method.

use rec_fast::distribution::Laplace;
use rec_fast::divergence::{channel_simulation_divergence, laplace_kl_divergence};
use rec_fast::message::Message;
use rec_fast::random::ElementStream;
use rec_fast::ratio::{DensityRatio, LaplaceRatio};
use rec_fast::sampler::{astar_branch, gprs, gprs_branch, gprs_dyadic, gprs_parallel, pfr};
use rec_fast::stretch::Stretch;
use std::f64::consts::LN_2;

/// The integer the version-1 samplers' decoders take.
fn index(message: Message) -> u128 {
    match message {
        Message::Arrival(n) => n as u128,
        Message::Node(h) => h,
        Message::ProcessArrival { process, arrival } => gprs_parallel::pack_index(process, arrival),
    }
}

fn pair(q_loc: f64, q_scale: f64, p_loc: f64, p_scale: f64) -> LaplaceRatio {
    LaplaceRatio::new(Laplace::new(q_loc, q_scale).unwrap(), Laplace::new(p_loc, p_scale).unwrap()).unwrap()
}

/// The Laplace CDF.
fn laplace_cdf(x: f64, loc: f64, scale: f64) -> f64 {
    let z = (x - loc) / scale;
    if z < 0.0 { 0.5 * z.exp() } else { 1.0 - 0.5 * (-z).exp() }
}

/// Kolmogorov–Smirnov p-value against a Laplace CDF (asymptotic distribution).
fn ks_p_value(samples: &[f64], loc: f64, scale: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut statistic: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let cdf = laplace_cdf(x, loc, scale);
        statistic = statistic.max(cdf - i as f64 / n).max((i + 1) as f64 / n - cdf);
    }
    let x = statistic * (n.sqrt() + 0.12 + 0.11 / n.sqrt());
    let p: f64 = (1..100).map(|k| 2.0 * (if k % 2 == 1 { 1.0 } else { -1.0 }) * (-2.0 * (k * k) as f64 * x * x).exp()).sum();
    p.clamp(0.0, 1.0)
}

#[test]
fn channel_simulation_divergence_matches_the_closed_form() {
    // D_CS[L(0, b) ‖ L(0, 1)] = b + ψ(1/b) + γ − 1 nats (docs/test-vectors.md; 0.5 → 0.5, 0.25 → 13/12).
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    for b in [0.9, 0.5, 0.25, 0.1, 0.02] {
        let closed_form = b + statrs::function::gamma::digamma(1.0 / b) + EULER_GAMMA - 1.0;
        let quadrature = channel_simulation_divergence(&pair(0.0, b, 0.0, 1.0)).unwrap() * LN_2;
        assert!((quadrature - closed_form).abs() < 1e-8, "b {b}: {quadrature} vs {closed_form}");
        let kl = laplace_kl_divergence(&Laplace::new(0.0, b).unwrap(), &Laplace::new(0.0, 1.0).unwrap());
        assert!((kl * LN_2 - (b - b.ln() - 1.0)).abs() < 1e-14);
    }
    assert!((channel_simulation_divergence(&pair(0.0, 0.25, 0.0, 1.0)).unwrap() * LN_2 - 13.0 / 12.0).abs() < 1e-8);
}

#[test]
fn stretch_inverse_closed_form_at_half_scale() {
    // Q = L(0, 1/2), P = L(0, 1): σ⁻¹(t) = 2t/(2 + t) (docs/test-vectors.md).
    let ratio = pair(0.0, 0.5, 0.0, 1.0);
    let stretch = Stretch::new(&ratio);
    for t in [1e-4, 0.1, 1.0, 7.0, 100.0, 1e5] {
        let h = stretch.inverse(t).unwrap();
        assert!((h / (2.0 * t / (2.0 + t)) - 1.0).abs() < 1e-10, "t {t}: {h}");
    }
}

#[test]
fn unsupported_and_unbounded_pairs_are_rejected() {
    let p = Laplace::new(0.0, 1.0).unwrap();
    assert!(LaplaceRatio::new(Laplace::new(0.0, 2.0).unwrap(), p).is_err());
    // Equal scales with different locations: bounded, with a plateau at r* = e^{0.5} (α = 1).
    let shifted = LaplaceRatio::new(Laplace::new(0.5, 1.0).unwrap(), p).unwrap();
    assert!((shifted.log_max_ratio() - 0.5).abs() < 1e-15 && shifted.gap_exponent() == 1.0);
    // The plateau lies behind the target's location as seen from the proposal's.
    assert_eq!(shifted.deficit(9.0), 0.0);
    assert_eq!(shifted.deficit(-7.0), 1.0);
    assert!(LaplaceRatio::new(p, p).is_ok());
}

#[test]
fn every_method_samples_laplace_targets_exactly() {
    let count = 20_000u64;
    // (Q loc, Q scale, P loc, P scale): centred, offset, narrow and far in P's tail.
    for (q_loc, q_scale, p_loc, p_scale) in [(0.0, 0.5, 0.0, 1.0), (1.5, 0.2, 0.0, 1.0), (-3.0, 0.05, 0.0, 2.0), (2.0, 0.9, 1.0, 1.0), (0.5, 1.0, 0.0, 1.0), (-2.0, 3.0, 1.0, 3.0)] {
        let ratio = pair(q_loc, q_scale, p_loc, p_scale);
        let proposal = ratio.proposal;
        let global = ratio.log_max_ratio() / LN_2 < 13.0;
        let mut by_method: Vec<(String, Vec<f64>, f64)> = Vec::new();
        let mut run = |name: &str, encode: &dyn Fn(u64) -> (f64, u64, u128), decode: &dyn Fn(u64, u128) -> f64| {
            let mut samples = Vec::with_capacity(count as usize);
            let mut steps = 0u64;
            for i in 0..count {
                let (x, s, index) = encode(i);
                assert_eq!(decode(i, index).to_bits(), x.to_bits(), "{name} element {i}");
                samples.push(x);
                steps += s;
            }
            by_method.push((name.to_owned(), samples, steps as f64 / count as f64));
        };
        let seed = 77;
        if global {
            run("gprs", &|i| { let e = gprs::encode(&ratio, &proposal, &mut ElementStream::new(seed, i), 1 << 24).unwrap(); (e.sample, e.steps, index(e.message)) },
                &|i, n| gprs::decode(&proposal, &mut ElementStream::new(seed, i), n).unwrap());
            run("pfr", &|i| { let e = pfr::encode(&ratio, &proposal, &mut ElementStream::new(seed, i), 1 << 24).unwrap(); (e.sample, e.steps, index(e.message)) },
                &|i, n| gprs::decode(&proposal, &mut ElementStream::new(seed, i), n).unwrap());
            run("gprs-parallel", &|i| { let e = gprs_parallel::encode(&ratio, &proposal, seed, i, 4, 1 << 24).unwrap(); (e.sample, e.steps, index(e.message)) },
                &|i, n| gprs_parallel::decode(&proposal, seed, i, 4, n).unwrap());
        }
        run("gprs-bb", &|i| { let e = gprs_branch::encode(&ratio, &proposal, &mut ElementStream::new(seed, i), 127).unwrap(); (e.sample, e.steps, index(e.message)) },
            &|i, h| gprs_branch::decode(&proposal, &mut ElementStream::new(seed, i), h).unwrap());
        run("gprs-dyadic", &|i| { let e = gprs_dyadic::encode(&ratio, &proposal, seed, i, 1 << 16).unwrap(); (e.sample, e.steps, index(e.message)) },
            &|i, h| gprs_dyadic::decode(&proposal, seed, i, h).unwrap());
        run("astar-bb", &|i| { let e = astar_branch::encode(&ratio, &proposal, seed, i, 1 << 16).unwrap(); (e.sample, e.steps, index(e.message)) },
            &|i, h| astar_branch::decode(&proposal, seed, i, h).unwrap());
        for (name, samples, mean_steps) in &by_method {
            let p = ks_p_value(samples, q_loc, q_scale);
            assert!(p > 1e-4, "{name} L({q_loc}, {q_scale}) vs L({p_loc}, {p_scale}): KS p = {p:.2e}");
            if name == "gprs" {
                // E[N] = r* exactly (2 for the test-vector pair L(0, ½) vs L(0, 1)).
                let r_max = ratio.log_max_ratio().exp();
                assert!((mean_steps / r_max - 1.0).abs() < 0.05, "gprs steps {mean_steps} vs r* {r_max}");
            }
        }
    }
}

#[test]
fn deficits_at_the_ends_of_the_line_bound_the_tails() {
    use rec_fast::distribution::Family::{Laplace as L, Normal as N, Uniform as U};
    use rec_fast::pair::Pair;
    // The tree searches bound r on an interval reaching ±∞ by the deficit at ±∞: it must be
    // the limit of the tail (∞ for a peaked Laplace pair, whose two slopes give ∞ − ∞).
    for (target, proposal) in [
        ((L, 3.0, 0.5), (L, 0.0, 1.0)),
        ((L, -30.0, 0.2), (L, 1.0, 2.0)),
        ((L, 0.5, 1.0), (L, 0.0, 1.0)),
        ((N, 1.0, 0.25), (N, 0.0, 1.0)),
        ((U, 0.5, 0.6), (N, 0.0, 1.0)),
        ((U, -3.0, -2.9), (L, 0.0, 1.0)),
    ] {
        let ratio = Pair::new(target, proposal).unwrap();
        for (end, far) in [(f64::NEG_INFINITY, -1e6), (f64::INFINITY, 1e6)] {
            let at_end = ratio.deficit(end);
            assert!(at_end >= ratio.deficit(far), "{target:?} on {proposal:?}: deficit({end}) = {at_end}");
        }
    }
    assert_eq!(pair(3.0, 0.5, 0.0, 1.0).deficit(f64::NEG_INFINITY), f64::INFINITY);
    assert_eq!(pair(3.0, 0.5, 0.0, 1.0).deficit(f64::INFINITY), f64::INFINITY);
}

//! Statistical and determinism properties of the samplers, on the pure-Rust core.

mod common;

use common::{encode_copies, ks_p_value};
use rec_fast::distribution::Normal;
use rec_fast::divergence::{normal_kl_divergence, normal_max_divergence};
use rec_fast::sampler::Method;

const METHODS: [Method; 6] = Method::ALL;

#[test]
fn samples_are_exactly_distributed_as_the_target() {
    // (loc, scale) against N(0, 1): near-identical, moderate, narrow in the tail.
    for (loc, scale) in [(0.0, 0.9), (1.0, 0.25), (-2.5, 0.05), (0.3, 0.01), (1.177, 0.99), (1.1774, 0.999)] {
        for method in METHODS {
            if matches!(method, Method::Gprs | Method::Pfr | Method::GprsParallel) && scale > 0.98 {
                continue; // D∞ of 50 and 500 bits: global searches would need 2^D∞ steps.
            }
            if method == Method::AstarBranch && scale > 0.998 {
                continue; // AS*'s depth grows with D∞: 500 bits exceed its 127 levels (tested below).
            }
            let encoding = encode_copies(loc, scale, 20_000, method, 11, None);
            let p = ks_p_value(&encoding.samples, loc, scale);
            assert!(p > 1e-3, "{method:?} N({loc}, {scale}): KS p = {p}");
        }
    }
}

#[test]
fn the_exactness_test_has_power() {
    // The same samples tested against a target 3% of a standard deviation off must fail.
    let (loc, scale) = (1.0, 0.25);
    for method in METHODS {
        let encoding = encode_copies(loc, scale, 40_000, method, 3, None);
        assert!(ks_p_value(&encoding.samples, loc, scale) > 1e-3);
        let p_wrong = ks_p_value(&encoding.samples, loc + 0.03 * scale, scale);
        assert!(p_wrong < 1e-3, "{method:?}: a 3% shift went unnoticed (p = {p_wrong})");
    }
}

#[test]
fn global_gprs_needs_two_to_the_max_divergence_steps() {
    let p = Normal::new(0.0, 1.0).unwrap();
    for (loc, scale) in [(1.0, 0.25), (0.0, 0.5), (2.0, 0.3)] {
        let q = Normal::new(loc, scale).unwrap();
        let expected = normal_max_divergence(&q, &p).exp2();
        let encoding = encode_copies(loc, scale, 20_000, Method::Gprs, 5, None);
        let steps: Vec<f64> = encoding.steps.iter().map(|&s| s as f64).collect();
        let n = steps.len() as f64;
        let mean = steps.iter().sum::<f64>() / n;
        let variance = steps.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let standard_error = (variance / n).sqrt();
        assert!((mean - expected).abs() < 5.0 * standard_error, "N({loc},{scale}): mean {mean} vs r* {expected} ± {standard_error}");
    }
}

#[test]
fn talk_example_first_arrival_acceptance_probability() {
    // docs/test-vectors.md: P(N = 1) = 0.263027 for Q = N(1, 1/16), P = N(0, 1).
    let encoding = encode_copies(1.0, 0.25, 100_000, Method::Gprs, 9, None);
    let fraction = encoding.steps.iter().filter(|&&s| s == 1).count() as f64 / 100_000.0;
    let standard_error = (0.263027f64 * (1.0 - 0.263027) / 100_000.0).sqrt();
    assert!((fraction - 0.263027).abs() < 5.0 * standard_error, "P(N = 1) = {fraction}");
}

#[test]
fn branch_and_bound_depth_tracks_kl_not_max_divergence() {
    let p = Normal::new(0.0, 1.0).unwrap();
    let mean_depth = |loc: f64, scale: f64| {
        let encoding = encode_copies(loc, scale, 4000, Method::GprsBranch, 1, None);
        encoding.steps.iter().sum::<u64>() as f64 / 4000.0
    };
    // Talk example: mean depth ≈ 3.04 (docs/test-vectors.md).
    let talk = mean_depth(1.0, 0.25);
    assert!((talk - 3.04).abs() < 0.1, "talk example depth {talk}");
    // Fixed KL ≈ 1 bit while D∞ grows from 1.6 to ~30 bits: depth stays flat.
    let mut depths = Vec::new();
    for scale in [0.8f64, 0.95, 0.99, 0.999] {
        let kl_nats = 0.5 * scale * scale - scale.ln() - 0.5;
        let loc = (2.0 * (std::f64::consts::LN_2 - kl_nats)).max(0.0).sqrt() * 1.0;
        let q = Normal::new(loc, scale).unwrap();
        let (kl, dmax) = (normal_kl_divergence(&q, &p), normal_max_divergence(&q, &p));
        assert!((kl - 1.0).abs() < 1e-9);
        depths.push((dmax, mean_depth(loc, scale)));
    }
    // No growth with D∞ (it may even shrink as Q and P become near-identical in shape).
    let first = depths[0].1;
    assert!(depths[3].0 > 25.0 && depths.iter().all(|&(_, d)| d < first + 0.5), "depth vs D∞: {depths:?}");
    // Doubling KL roughly doubles the depth (linear growth).
    let kl_scale = |bits: f64| {
        let (mut lo, mut hi) = (1e-12f64, 1.0f64);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            let kl = (0.5 * (mid * mid - 1.0) - mid.ln()) / std::f64::consts::LN_2;
            if kl > bits { lo = mid } else { hi = mid }
        }
        lo
    };
    let d8 = mean_depth(0.0, kl_scale(8.0));
    let d16 = mean_depth(0.0, kl_scale(16.0));
    let d24 = mean_depth(0.0, kl_scale(24.0));
    let (step1, step2) = (d16 - d8, d24 - d16);
    assert!(step1 > 2.0 && step2 > 2.0 && (step1 / step2 - 1.0).abs() < 0.25, "depths {d8} {d16} {d24}");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    for method in METHODS {
        let reference = encode_copies(0.7, 0.1, 3000, method, 42, Some(1));
        for threads in [2, 8] {
            let other = encode_copies(0.7, 0.1, 3000, method, 42, Some(threads));
            assert_eq!(reference, other, "{method:?} with {threads} threads");
        }
    }
}

#[test]
fn dyadic_depth_tracks_kl_not_max_divergence() {
    let mean_depth_and_steps = |loc: f64, scale: f64| {
        let encoding = encode_copies(loc, scale, 4000, Method::GprsDyadic, 2, None);
        let depth = encoding.messages.iter().map(|m| m.depth() as f64).sum::<f64>() / 4000.0;
        let steps = encoding.steps.iter().sum::<u64>() as f64 / 4000.0;
        (depth, steps)
    };
    // Fixed KL = 1 bit while D∞ grows from 2.9 to ~500 bits: depth and steps stay flat.
    let mut flat = Vec::new();
    for scale in [0.8f64, 0.95, 0.99, 0.999] {
        let kl_nats = 0.5 * scale * scale - scale.ln() - 0.5;
        let loc = (2.0 * (std::f64::consts::LN_2 - kl_nats)).max(0.0).sqrt();
        flat.push(mean_depth_and_steps(loc, scale));
    }
    let (first_depth, first_steps) = flat[0];
    assert!(flat.iter().all(|&(d, s)| d < first_depth + 1.0 && s < first_steps + 1.0), "{flat:?}");
    // Centred targets with KL = 2.5, 6.5, 10.5, 14.5 bits: constant depth increments (linear).
    let depths: Vec<f64> = [0.1075f64, 0.0067, 0.00042, 0.000026].iter().map(|&s| mean_depth_and_steps(0.0, s).0).collect();
    let increments: Vec<f64> = depths.windows(2).map(|w| w[1] - w[0]).collect();
    let (low, high) = (increments.iter().cloned().fold(f64::INFINITY, f64::min), increments.iter().cloned().fold(0.0, f64::max));
    assert!(low > 2.0 && high / low < 1.3, "depths {depths:?}");
    eprintln!("dyadic mean depths at KL 2.5/6.5/10.5/14.5 bits: {depths:?}; D∞ sweep: {flat:?}");
}

#[test]
fn astar_depth_grows_with_max_divergence_until_its_bound() {
    // KL = 1 bit, D∞ ≈ 500 bits: A*'s lower bound T/r* cannot prune the mode's subtree before
    // depth ≈ D∞, so the search reports its depth bound instead of running away.
    let target_loc = [1.1774];
    let (target_scale, proposal_loc, proposal_scale) = ([0.999], [0.0], [1.0]);
    let pairs = rec_fast::batch::Pairs {
        target: rec_fast::batch::Distributions { family: rec_fast::distribution::Family::Normal, first: &target_loc, second: &target_scale },
        proposal: rec_fast::batch::Distributions { family: rec_fast::distribution::Family::Normal, first: &proposal_loc, second: &proposal_scale },
    };
    let settings = rec_fast::batch::EncodeSettings::new(Method::AstarBranch, 1);
    let error = rec_fast::batch::encode_pairs(&pairs, &settings).unwrap_err();
    assert!(matches!(error, rec_fast::error::RecError::SearchLimit(_)), "{error}");
    // Same pairs with moderate D∞: A* examines more nodes than branch-and-bound GPRS.
    for (loc, scale) in [(1.0, 0.25), (3.0, 0.1), (0.3, 0.01)] {
        let mean_steps = |method| {
            let encoding = encode_copies(loc, scale, 4000, method, 6, None);
            encoding.steps.iter().sum::<u64>() as f64 / 4000.0
        };
        let (astar, gprs) = (mean_steps(Method::AstarBranch), mean_steps(Method::GprsBranch));
        assert!(astar > gprs, "N({loc}, {scale}): A* {astar} vs GPRS {gprs} steps");
    }
}

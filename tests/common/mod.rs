//! Helpers shared by the Rust integration tests.
#![allow(dead_code)]

use rec_fast::batch::{encode_pairs, BatchEncoding, Distributions, EncodeSettings, Pairs};
use rec_fast::math::normal_cdf;
use rec_fast::sampler::Method;

/// Encodes `count` copies of Q = N(loc, scale) against P = N(0, 1).
pub fn encode_copies(loc: f64, scale: f64, count: usize, method: Method, seed: u64, threads: Option<usize>) -> BatchEncoding {
    let target_loc = vec![loc; count];
    let target_scale = vec![scale; count];
    let proposal_loc = vec![0.0; count];
    let proposal_scale = vec![1.0; count];
    let pairs = Pairs {
        target: Distributions { family: rec_fast::distribution::Family::Normal, first: &target_loc, second: &target_scale },
        proposal: Distributions { family: rec_fast::distribution::Family::Normal, first: &proposal_loc, second: &proposal_scale },
    };
    let mut settings = EncodeSettings::new(method, seed);
    settings.threads = threads;
    encode_pairs(&pairs, &settings).expect("encoding succeeds")
}

/// The Kolmogorov–Smirnov p-value of `samples` against N(loc, scale²)
/// (asymptotic Kolmogorov distribution, accurate for n ≥ 1000).
pub fn ks_p_value(samples: &[f64], loc: f64, scale: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut statistic: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let cdf = normal_cdf((x - loc) / scale);
        statistic = statistic.max(cdf - i as f64 / n).max((i + 1) as f64 / n - cdf);
    }
    let x = statistic * (n.sqrt() + 0.12 + 0.11 / n.sqrt());
    let mut p = 0.0;
    for k in 1..100 {
        let term = 2.0 * (-2.0 * (k * k) as f64 * x * x).exp();
        p += if k % 2 == 1 { term } else { -term };
    }
    p.clamp(0.0, 1.0)
}

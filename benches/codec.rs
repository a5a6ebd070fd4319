//! Criterion benchmarks of batch encode and decode, single-threaded, per method and KL.
//!
//! Workload: a batch of `BATCH` identical targets Q = N(0, s) against P = N(0, 1), with s < 1
//! chosen by bisection so that KL[Q‖P] = 2, 8 or 16 bits. For m = 0 the KL in nats is
//! `−ln s + (s² − 1)/2`, and D∞ = −log2 s bits, so global GPRS needs about 2^D∞ arrivals per
//! element: ≈ 2^2.7 at KL 2, ≈ 2^8.7 at KL 8 and ≈ 2^16.7 at KL 16 bits.
//!
//! * `encode/gprs/kl16bits` is skipped: ~10^5 arrivals per element makes one batch take
//!   seconds, which would dominate the whole run for no insight (it is exactly linear in 2^D∞).
//! * `decode/gprs/kl16bits` is kept: decoding replays the arrival process by index in
//!   O(log n), so it is cheap. Its indices are produced once during setup by an untimed encode
//!   on all cores (about one second on 2 cores).
//!
//! Both groups run with `threads = Some(1)` (a one-thread rayon pool, built once and cached by
//! the batch driver) and report `Throughput::Elements(BATCH)`.
//! Run with `cargo bench --bench codec` (add `-- --quick` or a filter such as `-- gprs-bb`);
//! `cargo test --benches` runs each benchmark once as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rec_fast::batch::{decode_pairs, encode_pairs, EncodeSettings, Pairs};
use rec_fast::code::container::Header;
use rec_fast::distribution::Normal;
use rec_fast::divergence::{normal_kl_divergence, normal_max_divergence};
use rec_fast::sampler::Method;

/// Elements per batch.
const BATCH: usize = 256;
/// Target KL divergences, in bits.
const KL_BITS: [f64; 3] = [2.0, 8.0, 16.0];
/// Shared seed of every encoding.
const SEED: u64 = 7;

/// The s in (0, 1) with KL[N(0, s²) ‖ N(0, 1)] = `kl_bits`, by bisection on the decreasing
/// function −ln s + (s² − 1)/2 (nats).
fn scale_for_kl(kl_bits: f64) -> f64 {
    let target = kl_bits * std::f64::consts::LN_2;
    let kl_nats = |s: f64| -s.ln() + 0.5 * (s * s - 1.0);
    let (mut lo, mut hi) = (1e-300_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if kl_nats(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One benchmark case: the batch parameters and a reference encoding for decode.
struct Case {
    method: Method,
    kl_bits: f64,
    target_loc: Vec<f64>,
    target_scale: Vec<f64>,
    proposal_loc: Vec<f64>,
    proposal_scale: Vec<f64>,
    header: Header,
    indices: Vec<u128>,
    samples: Vec<f64>,
}

impl Case {
    fn new(method: Method, kl_bits: f64) -> Case {
        let s = scale_for_kl(kl_bits);
        let (q, p) = (Normal::new(0.0, s).unwrap(), Normal::new(0.0, 1.0).unwrap());
        let kl = normal_kl_divergence(&q, &p);
        // Loose tolerance: the library's KL goes through log1p(τ² − 1), which loses ~1e-6 bits
        // of absolute accuracy when τ is as small as at 16 bits (τ ≈ 5e-6).
        assert!(
            (kl - kl_bits).abs() < 1e-3,
            "bisection gave KL {kl} bits, wanted {kl_bits}"
        );
        let mut case = Case {
            method,
            kl_bits,
            target_loc: vec![0.0; BATCH],
            target_scale: vec![s; BATCH],
            proposal_loc: vec![0.0; BATCH],
            proposal_scale: vec![1.0; BATCH],
            header: EncodeSettings::new(method, SEED).header(rec_fast::distribution::Family::Normal, vec![BATCH as u64]),
            indices: Vec::new(),
            samples: Vec::new(),
        };
        // Untimed reference encoding on all cores (supplies the indices for decode).
        let encoding =
            encode_pairs(&case.pairs(), &case.settings(None)).expect("reference encode");
        case.indices = encoding.indices;
        case.samples = encoding.samples;
        case
    }

    fn pairs(&self) -> Pairs<'_> {
        Pairs {
        family: rec_fast::distribution::Family::Normal,
            target_loc: &self.target_loc,
            target_scale: &self.target_scale,
            proposal_loc: &self.proposal_loc,
            proposal_scale: &self.proposal_scale,
        }
    }

    fn settings(&self, threads: Option<usize>) -> EncodeSettings {
        let mut settings = EncodeSettings::new(self.method, SEED);
        settings.threads = threads;
        settings
    }

    fn id(&self) -> BenchmarkId {
        BenchmarkId::new(self.method.name(), format!("kl{}bits", self.kl_bits))
    }

    /// D∞ in bits (for the setup summary).
    fn max_divergence(&self) -> f64 {
        let q = Normal::new(0.0, self.target_scale[0]).unwrap();
        normal_max_divergence(&q, &Normal::new(0.0, 1.0).unwrap())
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for method in [Method::Gprs, Method::GprsBranch] {
        for kl_bits in KL_BITS {
            cases.push(Case::new(method, kl_bits));
        }
    }
    cases
}

fn bench_codec(c: &mut Criterion) {
    let cases = cases();
    for case in &cases {
        eprintln!(
            "setup {:>7} KL {:>4} bits: D∞ {:.2} bits, s = {:.3e}",
            case.method.name(),
            case.kl_bits,
            case.max_divergence(),
            case.target_scale[0]
        );
    }

    let mut encode = c.benchmark_group("encode");
    encode
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(BATCH as u64));
    for case in &cases {
        // Global GPRS at KL 16 bits needs ~2^16.7 arrivals per element: skipped (see top).
        if case.method == Method::Gprs && case.kl_bits >= 16.0 {
            continue;
        }
        let settings = case.settings(Some(1));
        encode.bench_function(case.id(), |b| {
            b.iter(|| encode_pairs(black_box(&case.pairs()), black_box(&settings)).unwrap())
        });
    }
    encode.finish();

    let mut decode = c.benchmark_group("decode");
    decode
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(BATCH as u64));
    for case in &cases {
        // Sanity check outside the timed loop: decode reproduces the encoder's samples exactly.
        let decoded = decode_pairs(
            &case.header,
            &case.indices,
            &case.proposal_loc,
            &case.proposal_scale,
            Some(1),
        )
        .unwrap();
        assert!(
            decoded
                .iter()
                .zip(&case.samples)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{} KL {} bits: decode differs from encode",
            case.method.name(),
            case.kl_bits
        );
        decode.bench_function(case.id(), |b| {
            b.iter(|| {
                decode_pairs(
                    black_box(&case.header),
                    black_box(&case.indices),
                    black_box(&case.proposal_loc),
                    black_box(&case.proposal_scale),
                    Some(1),
                )
                .unwrap()
            })
        });
    }
    decode.finish();

}

criterion_group!(benches, bench_codec);
criterion_main!(benches);

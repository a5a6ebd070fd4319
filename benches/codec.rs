//! Criterion benchmarks of batch encode and decode, single-threaded, per method and workload.
//!
//! Workloads, each a batch of `BATCH` identical pairs:
//! * `klNbits`: Q = N(0, s) against P = N(0, 1), with s < 1 chosen by bisection so that
//!   KL[Q‖P] = 2, 8 or 16 bits. For m = 0 the KL in nats is `−ln s + (s² − 1)/2`, and
//!   D∞ = −log2 s bits, so the global methods need about 2^D∞ arrivals per element: ≈ 2^2.7
//!   at KL 2, ≈ 2^8.7 at KL 8 and ≈ 2^16.7 at KL 16 bits.
//! * `laplace`: Q = L(0.5, 0.2) against P = L(0, 1) (KL 1.6 bits, D∞ 3.0 bits).
//! * `uniform`: Q = U(0.3, 0.35) against P = U(0, 1) (KL = D∞ = 4.3 bits).
//! * `uniform-on-normal`: Q = U(0.5, 0.6) against P = N(0, 1) (KL 4.87 bits, D∞ 4.91 bits).
//!
//! Every method runs on every workload except the global methods (`gprs`, `pfr`,
//! `gprs-parallel` with J = 4) at KL 16 bits: ~10^5 arrivals per element makes one batch take
//! seconds, for no insight (their cost is exactly linear in 2^D∞). Decoding is cheap for all
//! methods, so decode keeps those cases, with messages from an untimed encode on all cores.
//!
//! Both groups run with `threads = Some(1)` (a one-thread rayon pool, built once and cached by
//! the batch driver) and report `Throughput::Elements(BATCH)`.
//! Run with `cargo bench --bench codec` (add `-- --quick` or a filter such as `-- gprs-bb`);
//! `cargo test --benches` runs each benchmark once as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rec_fast::batch::{decode_pairs, divergences, encode_pairs, Distributions, EncodeSettings, Pairs};
use rec_fast::code::container::Header;
use rec_fast::distribution::{Family, Normal};
use rec_fast::divergence::normal_kl_divergence;
use rec_fast::sampler::Method;

/// Elements per batch.
const BATCH: usize = 256;
/// Target KL divergences of the Normal workloads, in bits.
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

/// One side of a workload: a family and its two parameters, repeated `BATCH` times.
struct Side {
    family: Family,
    first: Vec<f64>,
    second: Vec<f64>,
}

impl Side {
    fn new(family: Family, first: f64, second: f64) -> Side {
        Side { family, first: vec![first; BATCH], second: vec![second; BATCH] }
    }

    fn view(&self) -> Distributions<'_> {
        Distributions { family: self.family, first: &self.first, second: &self.second }
    }
}

/// One benchmark case: the batch parameters and a reference encoding for decode.
struct Case {
    method: Method,
    workload: String,
    target: Side,
    proposal: Side,
    header: Header,
    messages: Vec<rec_fast::message::Message>,
    samples: Vec<f64>,
}

impl Case {
    fn new(method: Method, workload: String, target: Side, proposal: Side) -> Case {
        let header = EncodeSettings::new(method, SEED).header(target.family, proposal.family, vec![BATCH as u64]);
        let mut case =
            Case { method, workload, target, proposal, header, messages: Vec::new(), samples: Vec::new() };
        // Untimed reference encoding on all cores (supplies the indices for decode).
        let encoding = encode_pairs(&case.pairs(), &case.settings(None)).expect("reference encode");
        case.messages = encoding.messages;
        case.samples = encoding.samples;
        case
    }

    fn pairs(&self) -> Pairs<'_> {
        Pairs { target: self.target.view(), proposal: self.proposal.view() }
    }

    fn settings(&self, threads: Option<usize>) -> EncodeSettings {
        let mut settings = EncodeSettings::new(self.method, SEED);
        settings.threads = threads;
        settings
    }

    fn id(&self) -> BenchmarkId {
        BenchmarkId::new(self.method.name(), &self.workload)
    }

    /// Whether the encoder is too slow to time (a global method at D∞ ≈ 16.7 bits).
    fn skip_encode(&self) -> bool {
        let global = matches!(self.method, Method::Gprs | Method::Pfr | Method::GprsParallel);
        global && self.workload == "kl16bits"
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for method in Method::ALL {
        for kl_bits in KL_BITS {
            let s = scale_for_kl(kl_bits);
            let kl = normal_kl_divergence(&Normal::new(0.0, s).unwrap(), &Normal::new(0.0, 1.0).unwrap());
            assert!((kl - kl_bits).abs() < 1e-3, "bisection gave KL {kl} bits, wanted {kl_bits}");
            let (target, proposal) = (Side::new(Family::Normal, 0.0, s), Side::new(Family::Normal, 0.0, 1.0));
            cases.push(Case::new(method, format!("kl{kl_bits}bits"), target, proposal));
        }
        let families = [
            ("laplace", (Family::Laplace, 0.5, 0.2), (Family::Laplace, 0.0, 1.0)),
            ("uniform", (Family::Uniform, 0.3, 0.35), (Family::Uniform, 0.0, 1.0)),
            ("uniform-on-normal", (Family::Uniform, 0.5, 0.6), (Family::Normal, 0.0, 1.0)),
        ];
        for (workload, target, proposal) in families {
            let target = Side::new(target.0, target.1, target.2);
            let proposal = Side::new(proposal.0, proposal.1, proposal.2);
            cases.push(Case::new(method, workload.to_owned(), target, proposal));
        }
    }
    cases
}

fn bench_codec(c: &mut Criterion) {
    let cases = cases();
    for case in cases.iter().filter(|case| case.method == Method::Gprs) {
        let (kl, max) = divergences(&case.pairs()).unwrap()[0];
        eprintln!("setup {:>18}: KL {kl:.2} bits, D∞ {max:.2} bits", case.workload);
    }

    let mut encode = c.benchmark_group("encode");
    encode
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(BATCH as u64));
    for case in cases.iter().filter(|case| !case.skip_encode()) {
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
        let proposal = case.proposal.view();
        let decoded = decode_pairs(&case.header, &case.messages, &proposal, Some(1)).unwrap();
        assert!(
            decoded.iter().zip(&case.samples).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{} {}: decode differs from encode",
            case.method.name(),
            case.workload
        );
        decode.bench_function(case.id(), |b| {
            b.iter(|| decode_pairs(black_box(&case.header), black_box(&case.messages), black_box(&proposal), Some(1)).unwrap())
        });
    }
    decode.finish();
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);

//! Criterion benchmarks of block coding (one sample of a product target), single-threaded.
//!
//! Workload: `DIMENSIONS` Gaussian dimensions against N(0, 1) whose KLs follow a fixed
//! log-normal-like spread (median ≈ 0.15 bits, the COMBINER-like profile of
//! `rec_fast.workloads.combiner_profile` without its extreme tail), half of each KL from the
//! mean and half from the scale. Cases: the exact method with a shared layout (12 bits, ≤ 16
//! dimensions) and with a layout built from the target (10 bits, ≤ 12), and the budget method
//! with 12 candidate bits per block (blocks filled to 12 bits, ≤ 64 dimensions). Throughput is
//! in dimensions. `python benches/blocks.py` measures the full-size profiles and the numpy
//! reference side by side; `cargo test --benches` runs each case once as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rec_fast::batch::{Distributions, Pairs};
use rec_fast::block::layout::BlockLayout;
use rec_fast::block::stream::{decode_blocks, BlockEncoder, BlockMethod, BlockSettings};
use rec_fast::distribution::Family;

/// Dimensions of the product target.
const DIMENSIONS: usize = 4096;

/// (loc, scale, KL bits) of every dimension.
fn workload() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut loc, mut scale, mut kl) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..DIMENSIONS {
        // A deterministic spread: z over [−2.5, 2.5] in a scrambled order, KL = 0.15 · e^(1.3 z).
        let z = -2.5 + 5.0 * ((i * 2_654_435_761) % DIMENSIONS) as f64 / DIMENSIONS as f64;
        let bits = 0.15 * (1.3 * z).exp();
        let nats = bits * std::f64::consts::LN_2;
        let (mut low, mut high) = (1e-300f64, 1.0f64);
        for _ in 0..200 {
            let s = 0.5 * (low + high);
            if 0.5 * (s * s - 1.0 - (s * s).ln()) > 0.5 * nats {
                low = s;
            } else {
                high = s;
            }
        }
        scale.push(0.5 * (low + high));
        loc.push(if i % 2 == 0 { 1.0 } else { -1.0 } * nats.sqrt());
        kl.push(bits);
    }
    (loc, scale, kl)
}

fn bench_blocks(c: &mut Criterion) {
    let (loc, scale, kl) = workload();
    let (zeros, ones) = (vec![0.0; DIMENSIONS], vec![1.0; DIMENSIONS]);
    let pairs = Pairs {
        target: Distributions { family: Family::Normal, first: &loc, second: &scale },
        proposal: Distributions { family: Family::Normal, first: &zeros, second: &ones },
    };
    let cases = [
        ("exact-shared", BlockMethod::Exact, BlockLayout::from_kl(&kl, 12.0, 16, 1).unwrap(), true),
        ("exact-stored", BlockMethod::Exact, BlockLayout::runs(&kl, 10.0, 12, 7).unwrap(), false),
        ("budget-12", BlockMethod::Budget, BlockLayout::from_kl(&kl, 12.0, 64, 1).unwrap(), true),
    ];
    let mut group = c.benchmark_group("blocks");
    group.throughput(Throughput::Elements(DIMENSIONS as u64));
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, method, layout, shared) in cases {
        let mut settings = BlockSettings::new(method, 7);
        settings.threads = Some(1);
        if method == BlockMethod::Budget {
            settings.budget_bits = 12;
        }
        let encode = || {
            let mut encoder =
                BlockEncoder::new(layout.clone(), vec![DIMENSIONS as u64], (Family::Normal, Family::Normal), settings.clone())
                    .unwrap();
            encoder.encode_rest(&pairs).unwrap();
            encoder.finish().unwrap().0
        };
        let bytes = encode();
        group.bench_function(BenchmarkId::new("encode", name), |b| b.iter(|| black_box(encode())));
        let given = shared.then_some(&layout);
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| black_box(decode_blocks(&bytes, &pairs.proposal, given, Some(1)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_blocks);
criterion_main!(benches);

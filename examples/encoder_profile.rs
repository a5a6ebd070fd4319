//! Encoder against decoder throughput, per method and workload, on one thread.
//!
//! `cargo run --release --example encoder_profile [-- --scale F] [--methods a,b] [--workloads a,b]
//! [--encode-only SECONDS]` (the last: encode only, repeatedly, under a profiler)
//!
//! Workloads (targets drawn with a fixed SplitMix64 stream, so every run codes the same pairs):
//! * `demo`: N(μ, s²) against N(0, 1) with ln s ~ U(ln 0.03, ln 0.12) and μ ~ N(0, 0.7²), the
//!   demo workload of `python -m rec_fast demo` (KL ≈ 3.7 bits on average); 300,000 targets.
//! * `channelI`: the Gaussian channel of the GPRS paper, Y ~ N(0, s²), Q = N(Y, 1),
//!   P = N(0, 1 + s²) with I = ½·log₂(1 + s²) = 2, 4 or 8 bits; 20,000 targets.
//! * `laplace`: L(μ, b) against L(0, 1), μ ~ N(0, 0.5²), ln b ~ U(ln 0.05, ln 0.3).
//! * `unif-normal`: U(c − w/2, c + w/2) against N(0, 1), c ~ 0.3 + |N(0, 0.7²)|,
//!   ln w ~ U(ln 0.05, ln 0.5).
//!
//! Columns: encode and decode elements per second on a one-thread pool (each the best of the
//! runs that fit in about a second), their ratio, the encoder's mean steps (arrivals or nodes examined) per
//! element, the stretch searches' decisions, knot evaluations of g and w_P (0 before the
//! bracketing searches), quadratures and integrand evaluations per element
//! ([`rec_fast::stretch::take_counters`]), encode ns per step, encode elements per second on two
//! threads and its speed-up, and a checksum of the samples and messages (equal checksums:
//! bit-identical encodings).

use std::time::Instant;

use rec_fast::batch::{decode_pairs, encode_pairs, with_threads, Distributions, EncodeSettings, Pairs};
use rec_fast::distribution::Family;
use rec_fast::message::Message;
use rec_fast::sampler::Method;
use rec_fast::stretch::{take_counters, SearchCounters};

/// A reproducible stream of uniforms and normals (SplitMix64, Box–Muller).
struct Draws(u64);

impl Draws {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + (high.ln() - low.ln()) * self.uniform()).exp()
    }
}

/// A batch of pairs as parameter arrays.
struct Workload {
    name: String,
    target_family: Family,
    target: (Vec<f64>, Vec<f64>),
    proposal_family: Family,
    proposal: (Vec<f64>, Vec<f64>),
}

impl Workload {
    fn pairs(&self) -> Pairs<'_> {
        Pairs {
            target: Distributions { family: self.target_family, first: &self.target.0, second: &self.target.1 },
            proposal: self.proposal(),
        }
    }

    fn proposal(&self) -> Distributions<'_> {
        Distributions { family: self.proposal_family, first: &self.proposal.0, second: &self.proposal.1 }
    }

    fn len(&self) -> usize {
        self.target.0.len()
    }

    fn truncated(&self, count: usize) -> Workload {
        let cut = |v: &Vec<f64>| v[..count.min(v.len())].to_vec();
        Workload {
            name: self.name.clone(),
            target_family: self.target_family,
            target: (cut(&self.target.0), cut(&self.target.1)),
            proposal_family: self.proposal_family,
            proposal: (cut(&self.proposal.0), cut(&self.proposal.1)),
        }
    }
}

fn demo(count: usize) -> Workload {
    let mut draws = Draws(1);
    let scale: Vec<f64> = (0..count).map(|_| draws.log_uniform(0.03, 0.12)).collect();
    let loc: Vec<f64> = (0..count).map(|_| 0.7 * draws.normal()).collect();
    Workload {
        name: "demo".into(),
        target_family: Family::Normal,
        target: (loc, scale),
        proposal_family: Family::Normal,
        proposal: (vec![0.0; count], vec![1.0; count]),
    }
}

fn channel(information: f64, count: usize) -> Workload {
    let mut draws = Draws(2);
    let variance = 2f64.powf(2.0 * information) - 1.0;
    let y: Vec<f64> = (0..count).map(|_| variance.sqrt() * draws.normal()).collect();
    Workload {
        name: format!("channel{information}"),
        target_family: Family::Normal,
        target: (y, vec![1.0; count]),
        proposal_family: Family::Normal,
        proposal: (vec![0.0; count], vec![(1.0 + variance).sqrt(); count]),
    }
}

fn laplace(count: usize) -> Workload {
    let mut draws = Draws(3);
    let loc: Vec<f64> = (0..count).map(|_| 0.5 * draws.normal()).collect();
    let scale: Vec<f64> = (0..count).map(|_| draws.log_uniform(0.05, 0.3)).collect();
    Workload {
        name: "laplace".into(),
        target_family: Family::Laplace,
        target: (loc, scale),
        proposal_family: Family::Laplace,
        proposal: (vec![0.0; count], vec![1.0; count]),
    }
}

fn uniform_on_normal(count: usize) -> Workload {
    let mut draws = Draws(4);
    let (mut low, mut high) = (Vec::new(), Vec::new());
    for _ in 0..count {
        // Supports right of P's mode keep the ratio unimodal (the branch-and-bound methods need it).
        let (center, width) = (0.3 + (0.7 * draws.normal()).abs(), draws.log_uniform(0.05, 0.5));
        low.push(center - 0.5 * width);
        high.push(center + 0.5 * width);
    }
    Workload {
        name: "unif-normal".into(),
        target_family: Family::Uniform,
        target: (low, high),
        proposal_family: Family::Normal,
        proposal: (vec![0.0; count], vec![1.0; count]),
    }
}

/// FNV-1a over the samples' bits and the messages.
fn checksum(samples: &[f64], messages: &[Message]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |value: u128| {
        for byte in value.to_le_bytes() {
            hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (sample, message) in samples.iter().zip(messages) {
        eat(sample.to_bits() as u128);
        eat(match *message {
            Message::Arrival(n) => n as u128,
            Message::Node(h) => h,
            Message::ProcessArrival { process, arrival } => ((process as u128) << 64) | arrival as u128,
        });
    }
    hash
}

struct Row {
    encode_rate: f64,
    decode_rate: f64,
    steps: f64,
    counters: SearchCounters,
    encode_rate_two: f64,
    checksum: u64,
    elements: usize,
}

/// The shortest of the runs of `run` that fit in about a second (at least `least` runs): the
/// virtual machine's timing is noisy.
fn best_seconds(least: usize, mut run: impl FnMut()) -> f64 {
    let (mut best, mut spent, mut runs) = (f64::INFINITY, 0.0, 0);
    while runs < least || spent < 1.0 {
        let start = Instant::now();
        run();
        let seconds = start.elapsed().as_secs_f64();
        best = best.min(seconds);
        spent += seconds;
        runs += 1;
    }
    best
}

fn measure(method: Method, workload: &Workload) -> Row {
    let pairs = workload.pairs();
    let count = workload.len();
    let mut settings = EncodeSettings::new(method, 11);
    settings.threads = Some(1);
    with_threads(Some(1), take_counters).unwrap();
    let encoding = encode_pairs(&pairs, &settings).expect("encode");
    let counters = with_threads(Some(1), take_counters).unwrap();
    let encode_seconds = best_seconds(1, || {
        encode_pairs(&pairs, &settings).expect("encode");
    });

    let header = settings.header(workload.target_family, workload.proposal_family, vec![count as u64]);
    let proposal = workload.proposal();
    let decoded = decode_pairs(&header, &encoding.messages, &proposal, Some(1)).expect("decode");
    assert!(
        decoded.iter().zip(&encoding.samples).all(|(a, b)| a.to_bits() == b.to_bits()),
        "{} {}: decode differs from encode",
        method.name(),
        workload.name
    );
    let decode_seconds = best_seconds(3, || {
        decode_pairs(&header, &encoding.messages, &proposal, Some(1)).expect("decode");
    });

    let mut two_threads = settings;
    two_threads.threads = Some(2);
    let two = encode_pairs(&pairs, &two_threads).expect("encode on two threads");
    assert_eq!(two.samples, encoding.samples, "the thread count changed the samples");
    let two_seconds = best_seconds(1, || {
        encode_pairs(&pairs, &two_threads).expect("encode on two threads");
    });

    Row {
        encode_rate: count as f64 / encode_seconds,
        decode_rate: count as f64 / decode_seconds,
        steps: encoding.steps.iter().sum::<u64>() as f64 / count as f64,
        counters,
        encode_rate_two: count as f64 / two_seconds,
        checksum: checksum(&encoding.samples, &encoding.messages),
        elements: count,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let scale: f64 = option("--scale").map_or(1.0, |s| s.parse().expect("--scale F"));
    let methods: Vec<Method> = option("--methods").map_or_else(
        || vec![Method::GprsBranch, Method::GprsDyadic, Method::AstarBranch, Method::Gprs],
        |list| list.split(',').map(|name| Method::from_name(name).expect("method name")).collect(),
    );
    let selected = option("--workloads");
    // `--encode-only SECONDS`: only encode, repeatedly, for a profiler (perf, callgrind).
    let encode_only: Option<f64> = option("--encode-only").map(|s| s.parse().expect("--encode-only SECONDS"));
    let size = |n: f64| ((n * scale) as usize).max(100);
    let workloads = vec![
        demo(size(300_000.0)),
        channel(2.0, size(20_000.0)),
        channel(4.0, size(20_000.0)),
        channel(8.0, size(20_000.0)),
        laplace(size(50_000.0)),
        uniform_on_normal(size(50_000.0)),
    ];
    println!("encoder_profile: one-thread pool (two-thread column: a two-thread pool), {} CPUs visible", num_cpus());
    println!(
        "{:<12} {:<12} {:>8} {:>11} {:>11} {:>7} {:>8} {:>8} {:>7} {:>7} {:>8} {:>8} {:>11} {:>6}  {:<16}",
        "method", "workload", "elements", "encode/s", "decode/s", "ratio", "steps", "decide", "knots", "quads", "K-evals",
        "ns/step", "encode/s 2T", "2T×", "checksum"
    );
    for method in &methods {
        for workload in &workloads {
            if selected.as_ref().is_some_and(|list| !list.split(',').any(|w| w == workload.name)) {
                continue;
            }
            // Global GPRS needs ~r* arrivals per element: fewer elements keep its rows short.
            let workload = match (method, workload.name.as_str()) {
                (Method::Gprs, "channel8") => workload.truncated(size(1_000.0)),
                (Method::Gprs, _) => workload.truncated(size(20_000.0)),
                _ => workload.truncated(usize::MAX),
            };
            if let Some(seconds) = encode_only {
                let mut settings = EncodeSettings::new(*method, 11);
                settings.threads = Some(1);
                let (start, mut runs) = (Instant::now(), 0);
                while runs == 0 || start.elapsed().as_secs_f64() < seconds {
                    encode_pairs(&workload.pairs(), &settings).expect("encode");
                    runs += 1;
                }
                let rate = (runs * workload.len()) as f64 / start.elapsed().as_secs_f64();
                println!("{:<12} {:<12} encoded {runs} × {} elements, {rate:.0}/s", method.name(), workload.name, workload.len());
                continue;
            }
            let row = measure(*method, &workload);
            let per = |value: u64| value as f64 / row.elements as f64;
            println!(
                "{:<12} {:<12} {:>8} {:>11.0} {:>11.0} {:>7.2} {:>8.2} {:>8.2} {:>7.3} {:>7.3} {:>8.1} {:>8.1} {:>11.0} {:>6.2}  {:016x}",
                method.name(),
                workload.name,
                row.elements,
                row.encode_rate,
                row.decode_rate,
                row.decode_rate / row.encode_rate,
                row.steps,
                per(row.counters.decisions),
                per(row.counters.knot_evaluations),
                per(row.counters.quadratures),
                per(row.counters.integrand_evaluations),
                1e9 / (row.encode_rate * row.steps),
                row.encode_rate_two,
                row.encode_rate_two / row.encode_rate,
                row.checksum,
            );
        }
    }
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

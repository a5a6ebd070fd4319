//! Block coding: round trips of both methods and both layout kinds, progressive coding equal
//! to coding at once, and the product target's statistics.

use rec_fast::batch::{Distributions, Pairs};
use rec_fast::block::layout::BlockLayout;
use rec_fast::block::stream::{decode_blocks, BlockEncoder, BlockMethod, BlockSettings};
use rec_fast::distribution::Family;

/// A product target of `n` Gaussian dimensions with KLs spread over 0.02 … 3 bits, P = N(0, 1).
fn target(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut loc = Vec::with_capacity(n);
    let mut scale = Vec::with_capacity(n);
    let mut kl = Vec::with_capacity(n);
    for i in 0..n {
        let bits = 0.02 + 3.0 * ((i * 7919) % 101) as f64 / 100.0 * ((i * 31) % 7) as f64 / 6.0;
        let nats = bits * std::f64::consts::LN_2;
        // Half the KL from the scale, half from the mean: s solves (s² − 1 − ln s²)/2 = nats/2.
        let (mut low, mut high) = (1e-12f64, 1.0f64);
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

fn code(method: BlockMethod, layout: &BlockLayout, loc: &[f64], scale: &[f64], progressive: bool) -> (Vec<u8>, Vec<f64>) {
    let n = loc.len();
    let (zeros, ones) = (vec![0.0; n], vec![1.0; n]);
    let pairs = Pairs {
        target: Distributions { family: Family::Normal, first: loc, second: scale },
        proposal: Distributions { family: Family::Normal, first: &zeros, second: &ones },
    };
    let mut settings = BlockSettings::new(method, 5);
    settings.chunk_blocks = 7;
    let mut encoder = BlockEncoder::new(layout.clone(), vec![n as u64], (Family::Normal, Family::Normal), settings).unwrap();
    if progressive {
        for _ in 0..layout.num_blocks() {
            encoder.encode_next(&pairs).unwrap();
        }
    } else {
        encoder.encode_rest(&pairs).unwrap();
    }
    (encoder.finish().unwrap().0, encoder.samples())
}

#[test]
fn both_methods_and_layout_kinds_round_trip_and_progressive_coding_gives_the_same_bytes() {
    let n = 300;
    let (loc, scale, kl) = target(n);
    let (zeros, ones) = (vec![0.0; n], vec![1.0; n]);
    let proposal = Distributions { family: Family::Normal, first: &zeros, second: &ones };
    let shared = BlockLayout::from_kl(&kl, 6.0, 12, 1).unwrap();
    let stored = BlockLayout::runs(&kl, 6.0, 12, 5).unwrap();
    for method in [BlockMethod::Exact, BlockMethod::Budget] {
        for (layout, given) in [(&shared, Some(&shared)), (&stored, None)] {
            let (bytes, samples) = code(method, layout, &loc, &scale, false);
            let (again, progressive_samples) = code(method, layout, &loc, &scale, true);
            assert_eq!(bytes, again, "{method:?}");
            assert_eq!(samples, progressive_samples);
            let decoded = decode_blocks(&bytes, &proposal, given, Some(2)).unwrap();
            assert_eq!(decoded.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            let total_kl: f64 = kl.iter().sum();
            eprintln!("{method:?} {:?}: {} bytes for KL {total_kl:.1} bits", layout.origin(), bytes.len());
        }
    }
}

/// Golden streams: these bytes change only with a block stream version bump (their length
/// and a hash are pinned; the streams are rebuilt here from the seed).
#[test]
fn block_streams_are_pinned() {
    let n = 120;
    let (loc, scale, kl) = target(n);
    let shared = BlockLayout::from_kl(&kl, 6.0, 12, 1).unwrap();
    let stored = BlockLayout::runs(&kl, 6.0, 12, 5).unwrap();
    let mut found = Vec::new();
    for method in [BlockMethod::Exact, BlockMethod::Budget] {
        for layout in [&shared, &stored] {
            let (bytes, samples) = code(method, layout, &loc, &scale, false);
            let sample_bits = samples.iter().fold(0u64, |h, x| rec_fast::random::splitmix64(h ^ x.to_bits()));
            let byte_hash = bytes.iter().fold(0u64, |h, &b| rec_fast::random::splitmix64(h ^ b as u64));
            found.push((bytes.len(), byte_hash, sample_bits));
        }
    }
    assert_eq!(found, GOLDEN_BLOCK_STREAMS);
}

const GOLDEN_BLOCK_STREAMS: [(usize, u64, u64); 4] = [
    (76, 17394186935747331726, 12869147636222089852),
    (92, 2729517654789633853, 12229677370372048133),
    (86, 15010597603431088427, 562881871881050622),
    (103, 3759921924245815606, 13640743652806926217),
];

/// A dimension far narrower than the resolution of P's tail coordinates (70 bits of KL, 6.6σ
/// out) cannot be searched; as a block of its own it escapes: its exact Q-sample is sent raw.
#[test]
fn an_unsearchable_dimension_escapes_in_a_block_of_its_own() {
    let loc = [6.611_184_94, 0.3, -0.2];
    let scale = [1.192_477_15e-12, 0.8, 0.7];
    let kl = [70.4, 0.3, 0.3];
    let layout = BlockLayout::from_kl(&kl, 6.0, 8, 0).unwrap();
    assert_eq!(layout.num_blocks(), 2);
    let (bytes, samples) = code(BlockMethod::Exact, &layout, &loc, &scale, false);
    let (zeros, ones) = (vec![0.0; 3], vec![1.0; 3]);
    let proposal = Distributions { family: Family::Normal, first: &zeros, second: &ones };
    assert_eq!(decode_blocks(&bytes, &proposal, Some(&layout), None).unwrap(), samples);
    assert!((samples[0] - loc[0]).abs() < 10.0 * scale[0], "{}", samples[0]);
    // In a block with other dimensions the search limit is an error naming the block.
    let together = BlockLayout::from_kl(&[0.1, 0.1, 0.1], 6.0, 8, 0).unwrap();
    let n = 3;
    let pairs = Pairs {
        target: Distributions { family: Family::Normal, first: &loc, second: &scale },
        proposal: Distributions { family: Family::Normal, first: &zeros, second: &ones },
    };
    let mut encoder = BlockEncoder::new(together, vec![n], (Family::Normal, Family::Normal), BlockSettings::new(BlockMethod::Exact, 0)).unwrap();
    let error = encoder.encode_rest(&pairs).unwrap_err();
    assert!(matches!(error, rec_fast::error::RecError::SearchLimit(ref m) if m.starts_with("block 0: ")), "{error:?}");
}

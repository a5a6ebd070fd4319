//! Golden (seed → bytes) vectors: these change only with a format version bump.

use rec_fast::batch::{decode_pairs, encode_pairs, Distributions, EncodeSettings, Pairs};
use rec_fast::code::container::{v1, Container};
use rec_fast::sampler::Method;

fn golden(method: Method) -> (Vec<u8>, Vec<f64>) {
    let target_loc = [1.0, -0.5, 0.0, 2.0];
    let target_scale = [0.25, 0.1, 0.5, 0.05];
    let proposal_loc = [0.0, 0.0, 0.5, 1.0];
    let proposal_scale = [1.0, 1.0, 1.0, 2.0];
    let pairs = Pairs {
        target: Distributions { family: rec_fast::distribution::Family::Normal, first: &target_loc, second: &target_scale },
        proposal: Distributions { family: rec_fast::distribution::Family::Normal, first: &proposal_loc, second: &proposal_scale },
    };
    let settings = EncodeSettings::new(method, 2024);
    let encoding = encode_pairs(&pairs, &settings).unwrap();
    let (bytes, _) = v1::write(&settings.header(rec_fast::distribution::Family::Normal, rec_fast::distribution::Family::Normal, vec![2, 2]), &encoding.messages).unwrap();
    let parsed = Container::parse(&bytes).unwrap();
    let decoded = decode_pairs(&parsed.header, &parsed.messages, &pairs.proposal, None).unwrap();
    assert_eq!(decoded.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
               encoding.samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    (bytes, encoding.samples)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn golden_bytes_global() {
    let (bytes, samples) = golden(Method::Gprs);
    assert_eq!(hex(&bytes), GOLDEN_GPRS, "samples {samples:?}");
    assert_eq!(samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), GOLDEN_GPRS_SAMPLES);
}

#[test]
fn golden_bytes_branch_and_bound() {
    let (bytes, samples) = golden(Method::GprsBranch);
    assert_eq!(hex(&bytes), GOLDEN_BB, "samples {samples:?}");
    assert_eq!(samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), GOLDEN_BB_SAMPLES);
}

#[test]
fn golden_bytes_pfr() {
    let (bytes, samples) = golden(Method::Pfr);
    assert_eq!(hex(&bytes), GOLDEN_PFR, "samples {samples:?}");
    assert_eq!(samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), GOLDEN_PFR_SAMPLES);
}

#[test]
fn golden_bytes_parallel() {
    let (bytes, _) = golden(Method::GprsParallel);
    assert_eq!(hex(&bytes), GOLDEN_PARALLEL);
}

#[test]
fn golden_bytes_dyadic() {
    let (bytes, _) = golden(Method::GprsDyadic);
    assert_eq!(hex(&bytes), GOLDEN_DYADIC);
}

#[test]
fn golden_bytes_astar() {
    let (bytes, _) = golden(Method::AstarBranch);
    assert_eq!(hex(&bytes), GOLDEN_ASTAR);
}

const GOLDEN_ASTAR: &str = "5245434601060101e807000000000000000000000000000000000000020200000000000000020000000000000004000000000000001f00000000000000632124d807e8fcd4";
const GOLDEN_DYADIC: &str = "5245434601050101e80700000000000000000000000000000000000002020000000000000002000000000000000400000000000000140000000000000036f25068d34d47";
const GOLDEN_PARALLEL: &str = "5245434601040101e807000000000000000000000000000004000000020200000000000000020000000000000004000000000000001b0000000000000071294aa0aaf733de";
const GOLDEN_PFR: &str = "5245434601030101e807000000000000000000000000000000000000020200000000000000020000000000000004000000000000000c0000000000000095f0a90fc8ca";
// PFR and GPRS pick the same arrivals on this small case (both accept high-ratio early arrivals).
const GOLDEN_PFR_SAMPLES: [u64; 4] = [0x3ff4c96b81cfe4bc, 0xbfe0fdb705de5249, 0x3fd73604d0697324, 0x4000bb80127787d6];
const GOLDEN_GPRS: &str = "5245434601010101e807000000000000000000000000000000000000020200000000000000020000000000000004000000000000000c0000000000000095f08f10465f";
const GOLDEN_GPRS_SAMPLES: [u64; 4] = [0x3ff4c96b81cfe4bc, 0xbfe0fdb705de5249, 0x3fd73604d0697324, 0x4000bb80127787d6];
const GOLDEN_BB: &str = "5245434601020101e807000000000000000000000000000000000000020200000000000000020000000000000004000000000000000b00000000000000b2e042b9a1a5";
const GOLDEN_BB_SAMPLES: [u64; 4] = [0x3ff4c96b81cfe4bc, 0xbfd93647a99d9141, 0x3fd73604d0697324, 0x4000bb80127787d6];

/// A version-2 stream of 300 elements with every method, in two chunks (256 and 44 elements;
/// the first range-coded). Pinned by length and CRC-32 of the bytes and of the samples' bits.
fn golden_v2(method: Method) -> (usize, u32, u32, Vec<&'static str>) {
    use rec_fast::code::container::{crc32, summary};
    use rec_fast::codec::{decode_from_bytes, encode_to_bytes};
    let count = 300;
    let target_loc: Vec<f64> = (0..count).map(|i| (i as f64 * 0.7).sin() * 1.5).collect();
    let target_scale: Vec<f64> = (0..count).map(|i| 0.03 + 0.09 * ((i * 37) % 100) as f64 / 100.0).collect();
    let proposal_loc = vec![0.0; count];
    let proposal_scale = vec![1.0; count];
    let normal = rec_fast::distribution::Family::Normal;
    let pairs = Pairs {
        target: Distributions { family: normal, first: &target_loc, second: &target_scale },
        proposal: Distributions { family: normal, first: &proposal_loc, second: &proposal_scale },
    };
    let mut settings = EncodeSettings::new(method, 2024);
    settings.chunk_elements = 256;
    let control = rec_fast::batch::BatchControl::new();
    let encoding = encode_to_bytes(&pairs, &settings, vec![count as u64], &control).unwrap();
    let decoded = decode_from_bytes(&encoding.bytes, &pairs.proposal, None).unwrap();
    let bits: Vec<u8> = decoded.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect();
    assert_eq!(decoded.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
               encoding.samples.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    let codings = summary(&encoding.bytes).unwrap().chunks.iter().map(|c| c.coding).collect();
    (encoding.bytes.len(), crc32(&encoding.bytes), crc32(&bits), codings)
}

#[test]
fn golden_v2_streams_with_range_coded_chunks() {
    for (method, expected) in GOLDEN_V2 {
        let (length, bytes_crc, samples_crc, codings) = golden_v2(method);
        // The 44-element chunk may be cheaper in the universal coding.
        assert_eq!((codings.len(), codings[0]), (2, "range"), "{}", method.name());
        assert_eq!((length, bytes_crc, samples_crc), expected, "{}", method.name());
    }
}

/// (method, (stream length, CRC-32 of the stream, CRC-32 of the samples' bits)).
const GOLDEN_V2: [(Method, (usize, u32, u32)); 6] = [
    (Method::Gprs, (274, 0xef475193, 0x9a183e6b)),
    (Method::GprsBranch, (287, 0x3f43fed6, 0x26751505)),
    (Method::Pfr, (272, 0xb412bf90, 0x14319a71)),
    (Method::GprsParallel, (285, 0x6f7be890, 0x7b5f622e)),
    (Method::GprsDyadic, (268, 0xa949dc78, 0x766913d3)),
    (Method::AstarBranch, (282, 0xa3e37e71, 0x95977085)),
];

//! The determinism contract: how encoder and decoder draw the same random numbers.
//!
//! Encoder and decoder must consume identical numbers in identical order on every machine,
//! thread count and batch split. The rules, which are also the specification a third-party
//! decoder needs, are:
//!
//! 1. **One generator per element.** Element `i` (its index in the flattened batch plus the
//!    batch's `index_offset`) of a stream with user seed `s` gets its own `Pcg64`
//!    (PCG XSL-RR 128/64, `rand_pcg::Pcg64`). Its 64-bit key is
//!    `key = splitmix64(s ^ splitmix64(i))`, where `splitmix64(z)` is the SplitMix64
//!    finaliser of `z + 0x9e3779b97f4a7c15`. The 128-bit PCG state is
//!    `(splitmix64(key) << 64) | splitmix64(key ^ 0xd1b54a32d192ed03)` and the stream
//!    (increment selector) is the fixed PCG default `0xa02bdbf7bb3c0a7ac28fa16a64abf96`,
//!    i.e. `Pcg64::new(state, stream)`. Independence comes from the state, not from stream ids.
//! 2. **Two u64 draws per Poisson arrival**, in this order: the inter-arrival time, then the
//!    location. Every sampler consumes exactly two draws per arrival it examines, whether or
//!    not it uses both (the decoder of branch-and-bound skips the time draw but still consumes it).
//! 3. **u64 → uniform:** `u = (k + 0.5) · 2⁻⁵³` with `k = x >> 11`, a uniform on the open
//!    interval (0, 1), symmetric about 1/2. In f64, `k + 0.5` is exact only for `k < 2⁵²`
//!    (and the top `k` would round to 1.0), so the core never rounds `u` in the upper half:
//!    it uses the exact complement `1 − u = (2⁵³ − 1 − k + 0.5) · 2⁻⁵³` ([`UnitDraw`]). A
//!    location is placed a fraction `u` of the interval's P-mass from its left end when
//!    `k < 2⁵²`, else a fraction `1 − u` from its right end.
//! 4. **Exp(1) = −ln(u)**, evaluated as `−log(u)` for `k < 2⁵²` and `−log1p(−(1 − u))`
//!    otherwise (`libm`).
//! 5. **Jump-ahead:** global GPRS decodes arrival `n` by `advance(2(n − 1))` and two draws, so
//!    decoding costs O(log n), not O(n).
//! 6. **More streams per element:** parallel GPRS gives process j its own generator
//!    ([`ElementStream::for_process`]) and the tree searches give each node its own
//!    ([`ElementStream::for_node`]); both mix the element key once more and expand it as in rule 1.
//!
//! The samplers draw through [`poisson`](crate::poisson), which simulates the Poisson arrivals
//! on these streams in this order.

use rand_core::Rng;
use rand_pcg::Pcg64;

/// The fixed PCG stream constant (the PCG reference default).
pub const PCG_STREAM: u128 = 0x0a02_bdbf_7bb3_c0a7_ac28_fa16_a64a_bf96;

/// SplitMix64: add the golden-ratio increment, then the Stafford "mix13" finaliser.
#[inline]
pub fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 64-bit key of element `index` of a stream with user seed `seed`.
#[inline]
pub fn element_key(seed: u64, index: u64) -> u64 {
    splitmix64(seed ^ splitmix64(index))
}

/// 2⁻⁵³.
const EPSILON_53: f64 = 1.0 / 9_007_199_254_740_992.0;
/// 2⁵².
const HALF_RANGE: u64 = 1 << 52;

/// A uniform draw u = (k + 0.5)·2⁻⁵³ on (0, 1), kept as its integer k < 2⁵³ so that both u
/// and 1 − u are exact where they are small (rule 3 of the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitDraw(u64);

impl UnitDraw {
    /// The draw of a raw u64: k = bits >> 11.
    #[inline]
    pub fn from_bits(bits: u64) -> UnitDraw {
        UnitDraw(bits >> 11)
    }

    /// The integer k = x >> 11 < 2⁵³ behind the draw.
    #[inline]
    pub fn integer(self) -> u64 {
        self.0
    }

    /// True when u < 1/2, where `value()` is exact; otherwise `complement()` is.
    #[inline]
    pub fn is_lower_half(self) -> bool {
        self.0 < HALF_RANGE
    }

    /// u (exact in the lower half, rounded to the nearest double in the upper half).
    #[inline]
    pub fn value(self) -> f64 {
        (self.0 as f64 + 0.5) * EPSILON_53
    }

    /// 1 − u (exact in the upper half).
    #[inline]
    pub fn complement(self) -> f64 {
        ((2 * HALF_RANGE - 1 - self.0) as f64 + 0.5) * EPSILON_53
    }

    /// Exp(1) = −ln u without rounding u to 1.
    #[inline]
    pub fn exponential(self) -> f64 {
        if self.is_lower_half() {
            -libm::log(self.value())
        } else {
            -libm::log1p(-self.complement())
        }
    }
}

/// Maps a u64 draw to the open unit interval: `((x >> 11) + 0.5) · 2⁻⁵³` rounded to f64
/// (for tests and statistics; the samplers use [`UnitDraw`]).
#[inline]
pub fn open_unit(bits: u64) -> f64 {
    UnitDraw::from_bits(bits).value()
}

/// The random stream of one element, drawing Poisson arrivals two u64 at a time.
#[derive(Clone, Debug)]
pub struct ElementStream {
    generator: Pcg64,
}

impl ElementStream {
    /// The stream of element `index` under user seed `seed` (rule 1 of the module docs).
    pub fn new(seed: u64, index: u64) -> Self {
        Self::from_key(element_key(seed, index))
    }

    /// The stream of process `process` of element `index` (parallel GPRS): the element key
    /// mixed once more, `splitmix64(key ^ splitmix64(0x5041_5241_0000_0000 | process))`, then
    /// expanded to a PCG state exactly as in [`ElementStream::new`].
    pub fn for_process(seed: u64, index: u64, process: u32) -> Self {
        let key = splitmix64(element_key(seed, index) ^ splitmix64(0x5041_5241_0000_0000 | process as u64));
        Self::from_key(key)
    }

    /// The stream of node `heap_index` of element `index` (dyadic branch-and-bound): the element
    /// key mixed with both halves of H,
    /// `splitmix64(key ^ splitmix64(low64(H) ^ splitmix64(high64(H) ^ 0x4459_4144_4943_0000)))`,
    /// then expanded to a PCG state exactly as in [`ElementStream::new`].
    pub fn for_node(seed: u64, index: u64, heap_index: u128) -> Self {
        Self::for_node_of_key(element_key(seed, index), heap_index)
    }

    /// [`ElementStream::for_node`] from the element's key ([`element_key`]), for callers that
    /// visit many nodes of one element.
    #[inline]
    pub fn for_node_of_key(element_key: u64, heap_index: u128) -> Self {
        let high = splitmix64((heap_index >> 64) as u64 ^ 0x4459_4144_4943_0000);
        Self::from_key(splitmix64(element_key ^ splitmix64(heap_index as u64 ^ high)))
    }

    fn from_key(key: u64) -> Self {
        let high = splitmix64(key) as u128;
        let low = splitmix64(key ^ 0xd1b5_4a32_d192_ed03) as u128;
        ElementStream { generator: Pcg64::new((high << 64) | low, PCG_STREAM) }
    }

    /// The next raw u64.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.generator.next_u64()
    }

    /// The next uniform draw.
    #[inline]
    pub fn next_unit(&mut self) -> UnitDraw {
        UnitDraw::from_bits(self.next_u64())
    }

    /// The next arrival's draws: `(Exp(1) for its time, uniform for its location)`.
    /// The inter-arrival time of a process of total rate `mass` is `Exp(1) / mass`.
    #[inline]
    pub fn next_arrival(&mut self) -> (f64, UnitDraw) {
        let exponential = self.next_unit().exponential();
        (exponential, self.next_unit())
    }

    /// The location draw of the next arrival, consuming (and ignoring) its time draw.
    #[inline]
    pub fn next_location(&mut self) -> UnitDraw {
        self.next_u64();
        self.next_unit()
    }

    /// Skips `arrivals` whole arrivals (two draws each) in O(log arrivals) time.
    pub fn skip_arrivals(&mut self, arrivals: u64) {
        self.generator.advance(2 * arrivals as u128);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_draws_are_strictly_inside_and_symmetric() {
        let lowest = UnitDraw::from_bits(0);
        let highest = UnitDraw::from_bits(u64::MAX);
        assert_eq!(lowest.value(), 0.5 * EPSILON_53);
        assert_eq!(highest.complement(), 0.5 * EPSILON_53);
        assert!(lowest.is_lower_half() && !highest.is_lower_half());
        assert!(highest.exponential() > 0.0);
        assert_eq!(highest.exponential(), 0.5 * EPSILON_53);
        let middle = UnitDraw::from_bits(1 << 63);
        assert_eq!(middle.complement(), 0.5 - 0.5 * EPSILON_53);
    }

    #[test]
    fn skipping_matches_drawing() {
        let mut a = ElementStream::new(7, 3);
        let mut b = a.clone();
        for _ in 0..(2 * 1000) {
            a.next_u64();
        }
        b.skip_arrivals(1000);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn streams_differ_by_seed_and_index() {
        let first = |seed, index| ElementStream::new(seed, index).next_u64();
        assert_ne!(first(1, 2), first(2, 1));
        assert_ne!(first(0, 0), first(0, 1));
        assert_eq!(first(5, 9), first(5, 9));
    }

    #[test]
    fn splitmix_reference_value() {
        // SplitMix64 seeded with 0: the first output of the reference generator.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }
}

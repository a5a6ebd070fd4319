//! Entropy coding glue: the range coder of the `constriction` crate and the integer models the
//! message codes use.
//!
//! Every model is integer-exact — probabilities are integers in units of 2⁻²⁴ — so encoder and
//! decoder take identical decisions on every platform. The coder is constriction's
//! `DefaultRangeEncoder` / `DefaultRangeDecoder` (32-bit words, 64-bit state). A message code
//! only sees the narrow [`SymbolSink`] / [`SymbolSource`] interface:
//!
//! * `raw_bits(value, count)`: `count` fair bits (a uniform model over 2ᵗ, t ≤ 16 per symbol);
//! * `uniform(value, range)`: a uniform symbol in [0, range), range ≤ 2¹⁶;
//! * `binary(bit, zero_probability)`: one bit with P(0) = zero_probability · 2⁻²⁴.
//!
//! The class of each message (its bit length or depth) is coded with a [`ClassModel`] whose
//! parameters the encoder fits to the chunk and stores in it ([`ClassTable::fit`]); the stop
//! flags of a split-on-sample path with a [`StopTable`].
//!
//! Payload bytes: the coder's 32-bit words, each most significant byte first, with the
//! trailing zero bytes removed (the decoder reads zeros past the end of the payload anyway).
//!
//! Reference: constriction, R. Bamler, *Understanding Entropy Coding With Asymmetric Numeral
//! Systems (ANS): a Statistician's Perspective*, 2022 (the library's design).

use core::borrow::Borrow;
use core::num::NonZeroU32;

use constriction::stream::model::{
    DecoderModel, DefaultContiguousCategoricalEntropyModel, EncoderModel, EntropyModel, UniformModel,
};
use constriction::stream::queue::{DefaultRangeDecoder, DefaultRangeEncoder};
use constriction::stream::{Decode, Encode};

use super::universal::{read_gamma, write_gamma};
use super::{BitReader, BitWriter};
use crate::error::{corrupt, RecError, Result};

/// Bits of precision of every model: probabilities are integers in units of 2⁻²⁴.
pub const PRECISION: usize = 24;
const ONE: u32 = 1 << PRECISION;
/// The widest fair-bit symbol.
const RAW_BITS_PER_SYMBOL: u32 = 16;

/// A binary model with P(0) = zero · 2⁻²⁴, 0 < zero < 2²⁴.
#[derive(Clone, Copy, Debug)]
pub struct Binary {
    zero: u32,
}

impl Binary {
    /// The model with P(0) = zero · 2⁻²⁴, clamped into [1, 2²⁴ − 1].
    #[inline]
    pub fn new(zero: u32) -> Binary {
        Binary { zero: zero.clamp(1, ONE - 1) }
    }
}

impl EntropyModel<PRECISION> for Binary {
    type Symbol = bool;
    type Probability = u32;
}

impl EncoderModel<PRECISION> for Binary {
    #[inline]
    fn left_cumulative_and_probability(&self, symbol: impl Borrow<bool>) -> Option<(u32, NonZeroU32)> {
        if *symbol.borrow() {
            Some((self.zero, NonZeroU32::new(ONE - self.zero)?))
        } else {
            Some((0, NonZeroU32::new(self.zero)?))
        }
    }
}

impl DecoderModel<PRECISION> for Binary {
    #[inline]
    fn quantile_function(&self, quantile: u32) -> (bool, u32, NonZeroU32) {
        // Both probabilities are nonzero by construction (`Binary::new` clamps).
        if quantile < self.zero {
            (false, 0, NonZeroU32::new(self.zero).unwrap_or(NonZeroU32::MIN))
        } else {
            (true, self.zero, NonZeroU32::new(ONE - self.zero).unwrap_or(NonZeroU32::MIN))
        }
    }
}

/// The uniform model over 2ᵗ symbols (1 ≤ t ≤ 16): each has probability 2^(24−t), so coding
/// is shifts, not the divisions of a general uniform model (the distribution is the same).
#[derive(Clone, Copy, Debug)]
struct FairBits {
    shift: u32,
}

impl EntropyModel<PRECISION> for FairBits {
    type Symbol = u32;
    type Probability = u32;
}

impl EncoderModel<PRECISION> for FairBits {
    #[inline]
    fn left_cumulative_and_probability(&self, symbol: impl Borrow<u32>) -> Option<(u32, NonZeroU32)> {
        let symbol = *symbol.borrow();
        if symbol >= ONE >> self.shift {
            return None;
        }
        Some((symbol << self.shift, NonZeroU32::new(1 << self.shift)?))
    }
}

impl DecoderModel<PRECISION> for FairBits {
    #[inline]
    fn quantile_function(&self, quantile: u32) -> (u32, u32, NonZeroU32) {
        let symbol = quantile >> self.shift;
        (symbol, symbol << self.shift, NonZeroU32::new(1 << self.shift).unwrap_or(NonZeroU32::MIN))
    }
}

/// Where a message code writes its symbols.
pub trait SymbolSink {
    /// `count` ≤ 64 fair bits of `value`, most significant first.
    fn raw_bits(&mut self, value: u64, count: u32);
    /// A uniform symbol `value` < `range` ≤ 2¹⁶.
    fn uniform(&mut self, value: u32, range: u32);
    /// One bit with P(0) = zero_probability · 2⁻²⁴ (clamped into [1, 2²⁴ − 1]).
    fn binary(&mut self, bit: bool, zero_probability: u32);
}

/// Where a message code reads its symbols back.
pub trait SymbolSource {
    /// Reads what [`SymbolSink::raw_bits`] wrote.
    fn raw_bits(&mut self, count: u32) -> Result<u64>;
    /// Reads what [`SymbolSink::uniform`] wrote.
    fn uniform(&mut self, range: u32) -> Result<u32>;
    /// Reads what [`SymbolSink::binary`] wrote.
    fn binary(&mut self, zero_probability: u32) -> Result<bool>;
}

/// log₂ x for a positive normal f64, with IEEE arithmetic only (so the same on every platform
/// and several times cheaper than a correctly rounded logarithm): x = m·2ᵉ with m ∈ [1, 2),
/// log₂ m = (2/ln 2)·atanh(z) with z = (m − 1)/(m + 1) ≤ 1/3, summed to z¹⁹ (error < 1e-11).
fn log2_of_normal(x: f64) -> f64 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mantissa = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z2 = z * z;
    let mut sum = 0.0;
    for k in (0..10).rev() {
        sum = sum * z2 + 1.0 / (2 * k + 1) as f64;
    }
    exponent as f64 + 2.0 * std::f64::consts::LOG2_E * z * sum
}

/// A range encoder that also adds up each symbol's information content −log₂ p (in bits),
/// which the chunk coder uses to share the payload out among the elements. The probabilities
/// are multiplied up and their logarithm taken only when [`RangeSink::information`] is asked
/// for (or the product nears underflow), not once per symbol.
pub struct RangeSink {
    encoder: DefaultRangeEncoder,
    /// Information content settled so far, in bits.
    settled: f64,
    /// Product of the probabilities written since then.
    product: f64,
}

impl Default for RangeSink {
    fn default() -> Self {
        RangeSink { encoder: DefaultRangeEncoder::new(), settled: 0.0, product: 1.0 }
    }
}

impl RangeSink {
    /// Information content of everything written so far, in bits (to about 1e-12; it only
    /// shares the payload out among elements, the bytes never depend on it).
    pub fn information(&mut self) -> f64 {
        self.settled -= log2_of_normal(self.product);
        self.product = 1.0;
        self.settled
    }

    fn encode<M: EncoderModel<PRECISION, Probability = u32>>(&mut self, symbol: M::Symbol, model: M) {
        if let Some((_, probability)) = model.left_cumulative_and_probability(&symbol) {
            // Each factor is at least 2⁻²⁴, so the product stays far from underflow.
            self.product *= probability.get() as f64 * (1.0 / ONE as f64);
            if self.product < 1e-200 {
                self.information();
            }
        }
        // The message codes only write symbols their models support.
        self.encoder.encode_symbol(symbol, model).expect("a symbol of nonzero probability");
    }

    /// Writes a class with its model.
    pub fn class(&mut self, model: &ClassModel, class: i32) -> Result<()> {
        match model {
            ClassModel::Constant(only) if *only == class => Ok(()),
            ClassModel::Categorical { first, model } => {
                let index = class - first;
                let supported = usize::try_from(index).ok().and_then(|i| {
                    model.left_cumulative_and_probability(i).map(|_| i)
                });
                let index = supported.ok_or_else(|| {
                    RecError::InvalidParameter(format!("class {class} is outside the chunk's class model"))
                })?;
                self.encode(index, model);
                Ok(())
            }
            ClassModel::Constant(only) => Err(RecError::InvalidParameter(format!(
                "class {class} differs from the chunk's only class {only}"
            ))),
        }
    }

    /// The payload bytes: the words most significant byte first, trailing zero bytes removed.
    pub fn into_bytes(self) -> Vec<u8> {
        let words = self.encoder.into_compressed().unwrap_or_else(|never| match never {});
        let mut bytes: Vec<u8> = words.iter().flat_map(|word| word.to_be_bytes()).collect();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes
    }
}

impl SymbolSink for RangeSink {
    fn raw_bits(&mut self, value: u64, count: u32) {
        let mut remaining = count;
        while remaining > 0 {
            let take = remaining.min(RAW_BITS_PER_SYMBOL);
            remaining -= take;
            let piece = ((value >> remaining) & ((1u64 << take) - 1)) as u32;
            self.encode(piece, FairBits { shift: PRECISION as u32 - take });
        }
    }

    fn uniform(&mut self, value: u32, range: u32) {
        if range > 1 {
            self.encode(value as usize, UniformModel::<u32, PRECISION>::new(range as usize));
        }
    }

    fn binary(&mut self, bit: bool, zero_probability: u32) {
        self.encode(bit, Binary::new(zero_probability));
    }
}

/// A range decoder over a chunk's payload bytes.
pub struct RangeSource {
    decoder: DefaultRangeDecoder,
    /// Whether the payload is empty, and whether any symbol has been decoded.
    empty: bool,
    decoded: bool,
}

impl RangeSource {
    /// A decoder over payload bytes written by [`RangeSink::into_bytes`]. A payload that ends
    /// in a zero byte is not one the encoder writes, and is refused.
    pub fn new(bytes: &[u8]) -> Result<RangeSource> {
        if bytes.last() == Some(&0) {
            return Err(corrupt!("a range-coded payload ends in a zero byte"));
        }
        let words: Vec<u32> = bytes
            .chunks(4)
            .map(|piece| {
                let mut word = [0u8; 4];
                word[..piece.len()].copy_from_slice(piece);
                u32::from_be_bytes(word)
            })
            .collect();
        let decoder = DefaultRangeDecoder::from_compressed(words).unwrap_or_else(|never| match never {});
        Ok(RangeSource { decoder, empty: bytes.is_empty(), decoded: false })
    }

    fn decode<M: DecoderModel<PRECISION, Probability = u32>>(&mut self, model: M) -> Result<M::Symbol> {
        self.decoded = true;
        self.decoder
            .decode_symbol(model)
            .map_err(|_| corrupt!("the range-coded payload is invalid"))
    }

    /// Reads a class with its model.
    pub fn class(&mut self, model: &ClassModel) -> Result<i32> {
        match model {
            ClassModel::Constant(only) => Ok(*only),
            ClassModel::Categorical { first, model } => Ok(first + self.decode(model)? as i32),
        }
    }

    /// Whether the decoder has consumed the payload exactly as its encoder wrote it (a payload
    /// from which no symbol was decoded must be empty).
    pub fn finished(&self) -> bool {
        if self.decoded {
            self.decoder.maybe_exhausted()
        } else {
            self.empty
        }
    }
}

impl SymbolSource for RangeSource {
    fn raw_bits(&mut self, count: u32) -> Result<u64> {
        let mut value = 0u64;
        let mut remaining = count;
        while remaining > 0 {
            let take = remaining.min(RAW_BITS_PER_SYMBOL);
            remaining -= take;
            value = (value << take) | self.decode(FairBits { shift: PRECISION as u32 - take })? as u64;
        }
        Ok(value)
    }

    fn uniform(&mut self, range: u32) -> Result<u32> {
        if range <= 1 {
            return Ok(0);
        }
        Ok(self.decode(UniformModel::<u32, PRECISION>::new(range as usize))? as u32)
    }

    fn binary(&mut self, zero_probability: u32) -> Result<bool> {
        self.decode(Binary::new(zero_probability))
    }
}

/// The smallest and largest class a model may describe (classes are shifted by a per-element
/// model parameter of at most 127, so they may be negative).
pub const CLASS_RANGE: (i32, i32) = (-128, 127);
/// The largest table precision K of a stored class model.
const MAX_TABLE_PRECISION: u32 = 20;

/// The model of the classes of a chunk: one class, or a categorical distribution over a
/// contiguous range of classes with probabilities q_i · 2^−K.
#[derive(Debug)]
pub enum ClassModel {
    /// Every element has this class; it costs nothing.
    Constant(i32),
    /// Class `first + i` has the i-th probability.
    Categorical {
        /// The smallest class.
        first: i32,
        /// The probabilities.
        model: DefaultContiguousCategoricalEntropyModel,
    },
}

/// The stored form of a class model: smallest class, and the table q_i (sum 2^K) or one class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassTable {
    first: i32,
    precision: u32,
    weights: Vec<u32>,
}

impl ClassTable {
    /// Fits the table to a chunk's classes, choosing the table precision K that minimises
    /// the stored table's bits plus the classes' information content.
    pub fn fit(classes: &[i32]) -> ClassTable {
        let (Some(&first), Some(&last)) = (classes.iter().min(), classes.iter().max()) else {
            return ClassTable { first: 0, precision: 0, weights: vec![1] };
        };
        let mut counts = vec![0u64; (last - first + 1) as usize];
        for &class in classes {
            counts[(class - first) as usize] += 1;
        }
        if counts.len() == 1 {
            return ClassTable { first, precision: 0, weights: vec![1] };
        }
        let smallest = 32 - (counts.len() as u32 - 1).leading_zeros();
        let mut best: Option<(f64, ClassTable)> = None;
        for precision in smallest.max(2)..=MAX_TABLE_PRECISION {
            let table = ClassTable { first, precision, weights: quantize(&counts, precision) };
            let bits: f64 = counts
                .iter()
                .zip(&table.weights)
                .map(|(&count, &weight)| count as f64 * (precision as f64 - libm::log2(weight as f64)))
                .sum::<f64>()
                + table.stored_bits() as f64;
            if best.as_ref().is_none_or(|(best_bits, _)| bits < *best_bits) {
                best = Some((bits, table));
            }
        }
        best.expect("at least one precision").1
    }

    fn stored_bits(&self) -> u64 {
        let mut writer = BitWriter::new();
        self.write(&mut writer);
        writer.bit_length()
    }

    /// Appends the table: first + 128 (8 bits), count − 1 (8 bits); for count > 1 the
    /// precision K (5 bits) and each q_i ≥ 1 in Elias gamma.
    pub fn write(&self, writer: &mut BitWriter) {
        writer.write_bits((self.first - CLASS_RANGE.0) as u128, 8);
        writer.write_bits(self.weights.len() as u128 - 1, 8);
        if self.weights.len() > 1 {
            writer.write_bits(self.precision as u128, 5);
            for &weight in &self.weights {
                write_gamma(writer, weight as u128);
            }
        }
    }

    /// Reads and validates what [`ClassTable::write`] wrote.
    pub fn read(reader: &mut BitReader<'_>) -> Result<ClassTable> {
        let truncated = || corrupt!("the class model ends early");
        let first = reader.read_bits(8).ok_or_else(truncated)? as i32 + CLASS_RANGE.0;
        let count = reader.read_bits(8).ok_or_else(truncated)? as usize + 1;
        if first + count as i32 - 1 > CLASS_RANGE.1 {
            return Err(corrupt!("class model range {first}..{} exceeds {}", first + count as i32, CLASS_RANGE.1));
        }
        if count == 1 {
            return Ok(ClassTable { first, precision: 0, weights: vec![1] });
        }
        let precision = reader.read_bits(5).ok_or_else(truncated)? as u32;
        if !(1..=MAX_TABLE_PRECISION).contains(&precision) {
            return Err(corrupt!("class model precision {precision} is outside [1, {MAX_TABLE_PRECISION}]"));
        }
        let mut weights = Vec::with_capacity(count);
        let mut total = 0u64;
        for _ in 0..count {
            let weight = read_gamma(reader, precision + 1)?;
            total += weight as u64;
            weights.push(weight as u32);
        }
        if total != 1 << precision {
            return Err(corrupt!("class model weights sum to {total}, not 2^{precision}"));
        }
        Ok(ClassTable { first, precision, weights })
    }

    /// The entropy model of the table.
    pub fn model(&self) -> ClassModel {
        if self.weights.len() == 1 {
            return ClassModel::Constant(self.first);
        }
        let shift = PRECISION as u32 - self.precision;
        let model = DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(
            self.weights.iter().map(|&w| w << shift),
            false,
        )
        .expect("weights validated to be nonzero and to sum to 2^K");
        ClassModel::Categorical { first: self.first, model }
    }

    /// Information content of `class` under the table, in bits (infinite outside it).
    pub fn information(&self, class: i32) -> f64 {
        let index = class - self.first;
        match usize::try_from(index).ok().and_then(|i| self.weights.get(i)) {
            Some(_) if self.weights.len() == 1 => 0.0,
            Some(&weight) => self.precision as f64 - libm::log2(weight as f64),
            None => f64::INFINITY,
        }
    }
}

/// The stop probabilities of a split-on-sample path code, by how much P-mass the path has
/// discarded so far: bucket b holds the levels at which the kept interval's P-mass fraction,
/// tracked in fixed point by [`KeptMass`], has been halved b times. Each probability is
/// stored with 12 bits (1 … 4095 in units of 2⁻¹²); the last bucket serves every deeper one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopTable {
    stops: Vec<u32>,
}

impl StopTable {
    /// Bits of each stored probability.
    pub const PRECISION: u32 = 12;
    /// The most buckets a table may have.
    pub const MAX_BUCKETS: usize = 64;

    /// Fits the table to (bucket, stopped) observations: each bucket's share of stops,
    /// rounded to 12 bits and kept inside (0, 1).
    pub fn fit(observations: impl Iterator<Item = (u32, bool)>) -> StopTable {
        let mut counts: Vec<(u64, u64)> = Vec::new();
        for (bucket, stopped) in observations {
            let bucket = (bucket as usize).min(Self::MAX_BUCKETS - 1);
            if counts.len() <= bucket {
                counts.resize(bucket + 1, (0, 0));
            }
            if stopped {
                counts[bucket].0 += 1;
            } else {
                counts[bucket].1 += 1;
            }
        }
        let one = 1u64 << Self::PRECISION;
        let stops = counts
            .iter()
            .map(|&(stopped, continued)| {
                let visits = stopped + continued;
                match visits {
                    0 => (one / 2) as u32,
                    _ => ((stopped * one + visits / 2) / visits).clamp(1, one - 1) as u32,
                }
            })
            .collect::<Vec<_>>();
        StopTable { stops: if stops.is_empty() { vec![(one / 2) as u32] } else { stops } }
    }

    /// Appends the table: bucket count − 1 (6 bits), then each probability (12 bits).
    pub fn write(&self, writer: &mut BitWriter) {
        writer.write_bits(self.stops.len() as u128 - 1, 6);
        for &stop in &self.stops {
            writer.write_bits(stop as u128, Self::PRECISION);
        }
    }

    /// Reads and validates what [`StopTable::write`] wrote.
    pub fn read(reader: &mut BitReader<'_>) -> Result<StopTable> {
        let truncated = || corrupt!("the stop model ends early");
        let count = reader.read_bits(6).ok_or_else(truncated)? as usize + 1;
        let mut stops = Vec::with_capacity(count);
        for _ in 0..count {
            let stop = reader.read_bits(Self::PRECISION).ok_or_else(truncated)? as u32;
            if stop == 0 {
                return Err(corrupt!("a stop probability of the model is 0"));
            }
            stops.push(stop);
        }
        Ok(StopTable { stops })
    }

    /// P(stop) in bucket `bucket`, in units of 2⁻²⁴ (for [`SymbolSink::binary`]).
    #[inline]
    pub fn stop_probability(&self, bucket: u32) -> u32 {
        let index = (bucket as usize).min(self.stops.len() - 1);
        self.stops[index] << (PRECISION as u32 - Self::PRECISION)
    }
}

/// The P-mass fraction a split-on-sample path has kept, in integer fixed point: a mantissa
/// in [2³², 2³³) and the number of halvings, so both sides agree on every bit of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeptMass {
    mantissa: u64,
    halvings: u32,
}

impl Default for KeptMass {
    fn default() -> Self {
        KeptMass { mantissa: 1 << 32, halvings: 0 }
    }
}

impl KeptMass {
    /// Keeps the fraction `fraction` · 2⁻²⁴ (clamped into [1, 2²⁴ − 1] like [`Binary`]).
    #[inline]
    pub fn keep(&mut self, fraction: u32) {
        self.mantissa = (self.mantissa * fraction.clamp(1, ONE - 1) as u64) >> PRECISION;
        while self.mantissa < 1 << 32 {
            self.mantissa <<= 1;
            self.halvings += 1;
        }
    }

    /// ⌊−log₂ of the kept fraction⌋, up to the fixed-point rounding.
    #[inline]
    pub fn halvings(&self) -> u32 {
        self.halvings
    }
}

/// Quantizes counts to weights q_i ≥ 1 with Σ q_i = 2^precision (2^precision ≥ counts.len()):
/// rounded proportional shares, then the largest weights adjusted until the sum is exact.
fn quantize(counts: &[u64], precision: u32) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    let target = 1u64 << precision;
    let mut weights: Vec<u64> =
        counts.iter().map(|&count| ((count << precision) + total / 2).checked_div(total).unwrap_or(0).max(1)).collect();
    let mut sum: u64 = weights.iter().sum();
    while sum != target {
        // The largest weight (lowest index on ties) absorbs the difference, never below 1.
        let (index, _) = weights
            .iter()
            .enumerate()
            .filter(|(_, &w)| sum < target || w > 1)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .expect("a weight above 1 exists while the sum exceeds 2^K ≥ the count");
        if sum < target {
            let step = target - sum;
            weights[index] += step;
            sum += step;
        } else {
            let step = (sum - target).min(weights[index] - 1);
            weights[index] -= step;
            sum -= step;
        }
    }
    weights.into_iter().map(|w| w as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_and_information_adds_up() {
        let mut sink = RangeSink::default();
        let table = ClassTable::fit(&[1, 2, 2, 3, 3, 3, 7]);
        let model = table.model();
        let mut state = 17u64;
        let mut script = Vec::new();
        for i in 0..3000u32 {
            state = crate::random::splitmix64(state);
            let class = [1, 2, 3, 7][(state % 4) as usize];
            let bits = (state >> 8) & 0xffff_ffff_ffff;
            let probability = 1 + (state >> 40) as u32 % (ONE - 1);
            let bit = state & 1 == 1;
            let range = 1 + i % 70;
            sink.class(&model, class).unwrap();
            sink.raw_bits(bits, 48);
            sink.binary(bit, probability);
            sink.uniform(i % range, range);
            script.push((class, bits, bit, probability, range));
        }
        let information = sink.information();
        let bytes = sink.into_bytes();
        assert!((8.0 * bytes.len() as f64 - information).abs() < 40.0, "{} vs {information}", 8 * bytes.len());
        let mut source = RangeSource::new(&bytes).unwrap();
        for (i, (class, bits, bit, probability, range)) in script.into_iter().enumerate() {
            assert_eq!(source.class(&model).unwrap(), class);
            assert_eq!(source.raw_bits(48).unwrap(), bits);
            assert_eq!(source.binary(probability).unwrap(), bit);
            assert_eq!(source.uniform(range).unwrap(), i as u32 % range);
        }
        assert!(source.finished());
    }

    #[test]
    fn class_tables_round_trip_and_are_validated() {
        for classes in [vec![5], vec![1, 1, 2], (1..60).chain([3; 500]).collect::<Vec<_>>(), vec![-126, 127]] {
            let table = ClassTable::fit(&classes);
            let mut writer = BitWriter::new();
            table.write(&mut writer);
            let length = writer.bit_length();
            let bytes = writer.into_bytes();
            assert_eq!(ClassTable::read(&mut BitReader::new(&bytes, length)).unwrap(), table);
            let weights: u64 = table.weights.iter().map(|&w| w as u64).sum();
            assert_eq!(weights, 1 << table.precision);
            assert!(classes.iter().all(|&c| table.information(c).is_finite()));
        }
        // A table whose weights do not sum to 2^K is corrupt.
        let mut writer = BitWriter::new();
        writer.write_bits(130, 8);
        writer.write_bits(1, 8);
        writer.write_bits(3, 5);
        write_gamma(&mut writer, 3);
        write_gamma(&mut writer, 3);
        let length = writer.bit_length();
        let bytes = writer.into_bytes();
        assert!(ClassTable::read(&mut BitReader::new(&bytes, length)).is_err());
    }

    #[test]
    fn the_accounting_logarithm_is_accurate() {
        let mut state = 3u64;
        for _ in 0..10_000 {
            state = crate::random::splitmix64(state);
            let x = f64::from_bits(0x0010_0000_0000_0000 + state % 0x7fd0_0000_0000_0000);
            let exact = libm::log2(x);
            assert!((log2_of_normal(x) - exact).abs() <= 1e-11 * exact.abs().max(1.0), "{x:e}");
        }
        assert_eq!(log2_of_normal(1.0), 0.0);
        assert_eq!(log2_of_normal(0.25), -2.0);
    }

    #[test]
    fn stop_tables_round_trip_and_kept_mass_counts_halvings() {
        let table = StopTable::fit([(0, false), (0, true), (2, true), (2, true), (70, false)].into_iter());
        let mut writer = BitWriter::new();
        table.write(&mut writer);
        let length = writer.bit_length();
        let bytes = writer.into_bytes();
        let read = StopTable::read(&mut BitReader::new(&bytes, length)).unwrap();
        assert_eq!(read, table);
        assert_eq!(table.stop_probability(0), 2048 << 12);
        assert_eq!(table.stop_probability(1), 2048 << 12); // never visited: one half
        assert_eq!(table.stop_probability(2), 4095 << 12); // always stopped: just below one
        assert_eq!(table.stop_probability(63), 1 << 12); // the last bucket never stopped
        assert_eq!(table.stop_probability(1000), 1 << 12);
        let mut mass = KeptMass::default();
        mass.keep(1 << 23); // one half
        assert_eq!(mass.halvings(), 1);
        mass.keep(1 << 21); // one eighth
        assert_eq!(mass.halvings(), 4);
        mass.keep(3 << 22); // three quarters
        assert_eq!(mass.halvings(), 5);
    }

    #[test]
    fn quantized_weights_follow_the_counts() {
        assert_eq!(quantize(&[1, 1], 1), vec![1, 1]);
        assert_eq!(quantize(&[3, 1], 2), vec![3, 1]);
        assert_eq!(quantize(&[1000, 0, 0, 1], 4), vec![13, 1, 1, 1]);
        let weights = quantize(&[5, 0, 9, 1, 0, 0, 0, 300], 3);
        assert_eq!(weights.iter().sum::<u32>(), 8);
        assert!(weights.iter().all(|&w| w >= 1));
    }
}

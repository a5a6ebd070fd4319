//! Arithmetic coding of a branch-and-bound search path.
//!
//! Branch-and-bound GPRS reaches depth D ≈ 0.8–1.4·KL bits, but most of its path bits are
//! predictable: at step k the decoder already knows the location draw u_k, and the path keeps
//! the left part of the interval (bit 0) with P-mass fraction u_k or the right part (bit 1)
//! with fraction 1 − u_k. Coding bit k with probability P(0) = u_k costs in total
//! −log₂ P(B_D) bits, the P-mass of the final interval — about KL − 1 bits in practice — instead
//! of D − 1. The model needs neither P nor Q, only the element's random stream.
//!
//! The coder is the integer binary arithmetic coder of Witten, Neal and Cleary (CACM 1987)
//! with a 32-bit state and 31-bit probabilities P(0) = clamp(k >> 22, 2, 2³¹ − 2)·2⁻³¹ where
//! k is the 53-bit integer of the draw. Each path is terminated on its own: after the last
//! symbol the encoder writes two bits (plus pending ones) that identify a point inside the
//! final interval whatever bits follow, so the decoder can read ahead into the next element's
//! code, and both sides know the code length: two more than the number of renormalising shifts.

use super::{BitReader, BitWriter};
use crate::error::{corrupt, Result};
use crate::random::{ElementStream, UnitDraw};

const HALF: u64 = 1 << 31;
const QUARTER: u64 = 1 << 30;
const THREE_QUARTERS: u64 = 3 << 30;
const TOP: u64 = (1 << 32) - 1;
const PROBABILITY_SHIFT: u32 = 31;

/// P(bit 0) in units of 2⁻³¹ for a location draw with integer k: the kept left fraction u.
#[inline]
fn left_probability(draw_integer: u64) -> u64 {
    (draw_integer >> 22).clamp(2, (1 << PROBABILITY_SHIFT) - 2)
}

#[inline]
fn split_point(low: u64, high: u64, probability: u64) -> u64 {
    low + (((high - low + 1) * probability) >> PROBABILITY_SHIFT) - 1
}

/// Appends the arithmetic code of the D − 1 path bits of `heap_index` (D = its bit length),
/// drawing the probabilities from `stream` (a fresh stream of the element); returns its length
/// in bits (0 when D = 1).
pub fn write_path(writer: &mut BitWriter, heap_index: u128, stream: &mut ElementStream) -> u64 {
    write_path_with(writer, heap_index, |_| stream.next_location())
}

/// [`write_path`] with the location draw that splits level k (0 at the root) given by
/// `draw_at_level(k)`, called once per level in order.
pub fn write_path_with<F: FnMut(u32) -> UnitDraw>(writer: &mut BitWriter, heap_index: u128, mut draw_at_level: F) -> u64 {
    let depth = 128 - heap_index.leading_zeros();
    if depth <= 1 {
        return 0;
    }
    let start = writer.bit_length();
    let (mut low, mut high, mut pending) = (0u64, TOP, 0u64);
    let emit = |writer: &mut BitWriter, bit: u8, pending: &mut u64| {
        writer.write_bits(bit as u128, 1);
        for _ in 0..*pending {
            writer.write_bits((1 - bit) as u128, 1);
        }
        *pending = 0;
    };
    for level in (0..depth - 1).rev() {
        let bit = ((heap_index >> level) & 1) as u8;
        let draw = draw_at_level(depth - 2 - level);
        let split = split_point(low, high, left_probability(draw.integer()));
        if bit == 0 {
            high = split;
        } else {
            low = split + 1;
        }
        loop {
            if high < HALF {
                emit(writer, 0, &mut pending);
            } else if low >= HALF {
                emit(writer, 1, &mut pending);
                low -= HALF;
                high -= HALF;
            } else if low >= QUARTER && high < THREE_QUARTERS {
                pending += 1;
                low -= QUARTER;
                high -= QUARTER;
            } else {
                break;
            }
            low <<= 1;
            high = (high << 1) | 1;
        }
    }
    pending += 1;
    emit(writer, if low < QUARTER { 0 } else { 1 }, &mut pending);
    writer.bit_length() - start
}

/// Decodes the path of an element of depth `depth` whose arithmetic code starts at the
/// reader's position, advancing the reader past exactly that code; returns the heap index.
pub fn read_path(reader: &mut BitReader<'_>, depth: u32, stream: &mut ElementStream) -> Result<u128> {
    read_path_with(reader, depth, |_, _| stream.next_location())
}

/// [`read_path`] with the location draw of level k given by `draw_at_level(k, prefix)`, where
/// `prefix` is the heap index of the node at level k (the path decoded so far).
pub fn read_path_with<F: FnMut(u32, u128) -> UnitDraw>(
    reader: &mut BitReader<'_>,
    depth: u32,
    mut draw_at_level: F,
) -> Result<u128> {
    if depth <= 1 {
        return Ok(1);
    }
    let start = reader.position();
    // Read ahead with zeros past the payload: the termination makes any continuation valid.
    let mut cursor = start;
    let mut next_bit = |reader: &BitReader<'_>| {
        let bit = reader.bit_at(cursor).unwrap_or(0) as u64;
        cursor += 1;
        bit
    };
    let (mut low, mut high) = (0u64, TOP);
    let mut value = 0u64;
    for _ in 0..32 {
        value = (value << 1) | next_bit(reader);
    }
    let mut shifts = 0u64;
    let mut heap_index: u128 = 1;
    for level in 0..depth - 1 {
        let split = split_point(low, high, left_probability(draw_at_level(level, heap_index).integer()));
        let bit = if value <= split {
            high = split;
            0
        } else {
            low = split + 1;
            1
        };
        heap_index = (heap_index << 1) | bit;
        loop {
            if high < HALF {
            } else if low >= HALF {
                low -= HALF;
                high -= HALF;
                value -= HALF;
            } else if low >= QUARTER && high < THREE_QUARTERS {
                low -= QUARTER;
                high -= QUARTER;
                value -= QUARTER;
            } else {
                break;
            }
            low <<= 1;
            high = (high << 1) | 1;
            value = (value << 1) | next_bit(reader);
            shifts += 1;
        }
    }
    let length = shifts + 2;
    if length > reader.remaining() {
        return Err(corrupt!("the payload ends inside an arithmetic-coded search path"));
    }
    reader.skip(length);
    Ok(heap_index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(indices: &[u128], tail: &[u8]) -> Vec<u64> {
        let mut writer = BitWriter::new();
        let mut lengths = Vec::new();
        for (i, &h) in indices.iter().enumerate() {
            lengths.push(write_path(&mut writer, h, &mut ElementStream::new(3, i as u64)));
        }
        for &bit in tail {
            writer.write_bits(bit as u128, 1);
        }
        let bit_length = writer.bit_length();
        let bytes = writer.into_bytes();
        let mut reader = BitReader::new(&bytes, bit_length);
        for (i, &h) in indices.iter().enumerate() {
            let depth = 128 - h.leading_zeros();
            let before = reader.position();
            assert_eq!(read_path(&mut reader, depth, &mut ElementStream::new(3, i as u64)).unwrap(), h);
            assert_eq!(reader.position() - before, lengths[i]);
        }
        assert_eq!(reader.remaining(), tail.len() as u64);
        lengths
    }

    #[test]
    fn paths_round_trip_whatever_follows() {
        let mut state = 99u64;
        let mut indices = vec![1u128, 2, 3, (1 << 126) | 12345, (1u128 << 127) - 1, 1 << 126];
        for _ in 0..500 {
            state = crate::random::splitmix64(state);
            let depth = 1 + (state % 60) as u32;
            let bits = crate::random::splitmix64(state) as u128 & ((1u128 << (depth - 1)) - 1);
            indices.push((1u128 << (depth - 1)) | bits);
        }
        for tail in [&[][..], &[1u8; 40][..], &[0u8; 40][..], &[1, 0, 1, 1, 0][..]] {
            round_trip(&indices, tail);
        }
    }

    #[test]
    fn likely_paths_are_cheap() {
        // The most probable bit at every step costs well under one bit per step.
        let mut stream = ElementStream::new(5, 0);
        let mut heap_index: u128 = 1;
        for _ in 0..100 {
            let u = stream.next_location().value();
            heap_index = (heap_index << 1) | if u >= 0.5 { 0 } else { 1 };
        }
        let mut writer = BitWriter::new();
        let length = write_path(&mut writer, heap_index, &mut ElementStream::new(5, 0));
        assert!(length < 60, "{length} bits for 100 likely steps");
    }

    #[test]
    fn truncated_path_is_an_error() {
        let mut writer = BitWriter::new();
        let h = (1u128 << 40) | 0x5a5a5a5a5a;
        let length = write_path(&mut writer, h, &mut ElementStream::new(1, 1));
        let bytes = writer.into_bytes();
        let mut reader = BitReader::new(&bytes, length - 1);
        assert!(read_path(&mut reader, 41, &mut ElementStream::new(1, 1)).is_err());
    }
}

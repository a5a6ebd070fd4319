//! The Elias delta code of a positive integer.
//!
//! For x ≥ 1 with N = ⌊log₂ x⌋ + 1 binary digits and L = ⌊log₂ N⌋ + 1: write L − 1 zeros,
//! then N in L binary digits, then the N − 1 digits of x after its leading 1. Its length is
//! `N + 2⌊log₂ N⌋`, i.e. log₂ x + 2 log₂ log₂ x + O(1) bits. For a heap index H the N − 1
//! trailing digits are exactly the search path.
//!
//! Reference: P. Elias, *Universal codeword sets and representations of the integers*,
//! IEEE T-IT 21 (1975).

use super::{BitReader, BitWriter};
use crate::error::{corrupt, Result};

/// Bits in the binary expansion of x ≥ 1.
#[inline]
fn bit_length(value: u128) -> u32 {
    128 - value.leading_zeros()
}

/// The length in bits of the Elias delta code of `value` ≥ 1.
#[inline]
pub fn delta_length(value: u128) -> u32 {
    let digits = bit_length(value);
    digits + 2 * (bit_length(digits as u128) - 1)
}

/// Appends the Elias delta code of `value` ≥ 1.
pub fn write_delta(writer: &mut BitWriter, value: u128) {
    debug_assert!(value >= 1);
    let digits = bit_length(value);
    let length_digits = bit_length(digits as u128);
    writer.write_bits(0, length_digits - 1);
    writer.write_bits(digits as u128, length_digits);
    writer.write_bits(value, digits - 1);
}

/// Reads one Elias delta code whose value has at most `max_bits` binary digits.
pub fn read_delta(reader: &mut BitReader<'_>, max_bits: u32) -> Result<u128> {
    let mut zeros = 0u32;
    loop {
        match reader.read_bit() {
            Some(0) => {
                zeros += 1;
                // A value of ≤ 128 digits never needs more than 7 leading zeros.
                if zeros > 7 {
                    return Err(corrupt!("an Elias delta prefix has more than 7 zeros"));
                }
            }
            Some(_) => break,
            None => return Err(corrupt!("the payload ends inside an Elias delta code")),
        }
    }
    let rest = reader
        .read_bits(zeros)
        .ok_or_else(|| corrupt!("the payload ends inside an Elias delta code"))?;
    let digits = ((1u128 << zeros) | rest) as u32;
    if digits > max_bits {
        return Err(corrupt!("an index with {digits} binary digits exceeds the method's {max_bits}"));
    }
    let tail = reader
        .read_bits(digits - 1)
        .ok_or_else(|| corrupt!("the payload ends inside an Elias delta code"))?;
    Ok((1u128 << (digits - 1)) | tail)
}

/// Appends the Elias gamma code of `value` ≥ 1: N − 1 zeros, then its N binary digits.
pub fn write_gamma(writer: &mut BitWriter, value: u128) {
    debug_assert!(value >= 1);
    let digits = bit_length(value);
    writer.write_bits(0, digits - 1);
    writer.write_bits(value, digits);
}

/// Reads one Elias gamma code whose value has at most `max_bits` binary digits.
pub fn read_gamma(reader: &mut BitReader<'_>, max_bits: u32) -> Result<u128> {
    let mut zeros = 0u32;
    loop {
        match reader.read_bit() {
            Some(0) => {
                zeros += 1;
                if zeros >= max_bits {
                    return Err(corrupt!("an Elias gamma code exceeds {max_bits} binary digits"));
                }
            }
            Some(_) => break,
            None => return Err(corrupt!("the data ends inside an Elias gamma code")),
        }
    }
    let rest = reader.read_bits(zeros).ok_or_else(|| corrupt!("the data ends inside an Elias gamma code"))?;
    Ok((1u128 << zeros) | rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_codewords() {
        // 1 → "1", 2 → "0100", 17 → "001010001" (Elias 1975, Table).
        for (value, bits, length) in [(1u128, 0b1u128, 1u32), (2, 0b0100, 4), (17, 0b0_0101_0001, 9)] {
            let mut writer = BitWriter::new();
            write_delta(&mut writer, value);
            assert_eq!(writer.bit_length(), length as u64);
            assert_eq!(delta_length(value), length);
            let bytes = writer.into_bytes();
            let mut reader = BitReader::new(&bytes, length as u64);
            assert_eq!(reader.read_bits(length).unwrap(), bits);
        }
    }

    #[test]
    fn round_trip_many_values() {
        let values: Vec<u128> = (1..2000u128).chain([u64::MAX as u128, (1u128 << 126) + 12345]).collect();
        let mut writer = BitWriter::new();
        for &v in &values {
            write_delta(&mut writer, v);
        }
        let length = writer.bit_length();
        let bytes = writer.into_bytes();
        let mut reader = BitReader::new(&bytes, length);
        for &v in &values {
            assert_eq!(read_delta(&mut reader, 128).unwrap(), v);
        }
        assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn gamma_codes_round_trip() {
        let mut writer = BitWriter::new();
        for value in 1..300u128 {
            write_gamma(&mut writer, value);
        }
        let length = writer.bit_length();
        let bytes = writer.into_bytes();
        let mut reader = BitReader::new(&bytes, length);
        for value in 1..300u128 {
            assert_eq!(read_gamma(&mut reader, 9).unwrap(), value);
        }
        assert!(read_gamma(&mut BitReader::new(&[0, 1], 16), 8).is_err());
    }

    #[test]
    fn truncated_and_oversized_codes_are_errors() {
        let mut writer = BitWriter::new();
        write_delta(&mut writer, 1 << 70);
        let length = writer.bit_length();
        let bytes = writer.into_bytes();
        assert!(read_delta(&mut BitReader::new(&bytes, length - 1), 128).is_err());
        assert!(read_delta(&mut BitReader::new(&bytes, length), 64).is_err());
        assert!(read_delta(&mut BitReader::new(&[0u8; 4], 32), 128).is_err());
    }
}

//! Message codes and the container format.
//!
//! * [`message_code`]: how each kind of message becomes bits (a class plus the rest);
//! * [`entropy`]: the range coder (the `constriction` crate) and the integer models;
//! * [`chunk`]: a run of messages as one independently decodable unit, range-coded with a
//!   fitted class table or written with the universal codes, whichever is shorter;
//! * [`universal`]: Elias gamma and delta codes; [`path`]: the version-1 arithmetic path code;
//! * [`container`]: framing only — header, chunks, checksums (versions 1 and 2).

pub mod chunk;
pub mod container;
pub mod entropy;
pub mod message_code;
pub mod path;
pub mod universal;

/// Appends bits most-significant first.
#[derive(Default, Debug, Clone)]
pub struct BitWriter {
    bytes: Vec<u8>,
    bit_length: u64,
}

impl BitWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the low `count` bits of `value`, most significant first (`count` ≤ 128).
    pub fn write_bits(&mut self, value: u128, count: u32) {
        let mut remaining = count;
        while remaining > 0 {
            let offset = (self.bit_length % 8) as u32;
            if offset == 0 {
                self.bytes.push(0);
            }
            let free = 8 - offset;
            let take = free.min(remaining);
            let chunk = ((value >> (remaining - take)) as u8) & (0xff >> (8 - take));
            *self.bytes.last_mut().expect("pushed above") |= chunk << (free - take);
            self.bit_length += take as u64;
            remaining -= take;
        }
    }

    /// Appends every bit of another writer.
    pub fn append(&mut self, other: &BitWriter) {
        let mut reader = BitReader::new(&other.bytes, other.bit_length);
        while let Some(bit) = reader.read_bit() {
            self.write_bits(bit as u128, 1);
        }
    }

    /// Bits written so far.
    pub fn bit_length(&self) -> u64 {
        self.bit_length
    }

    /// The bytes, zero-padded to a whole byte.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads bits most-significant first from a byte slice holding `bit_length` meaningful bits.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    bit_length: u64,
    position: u64,
}

impl<'a> BitReader<'a> {
    /// A reader over the first `bit_length` bits of `bytes`.
    pub fn new(bytes: &'a [u8], bit_length: u64) -> Self {
        debug_assert!(bit_length <= 8 * bytes.len() as u64);
        BitReader { bytes, bit_length, position: 0 }
    }

    /// The next bit, or `None` past the end.
    #[inline]
    pub fn read_bit(&mut self) -> Option<u8> {
        if self.position >= self.bit_length {
            return None;
        }
        let byte = self.bytes[(self.position / 8) as usize];
        let bit = (byte >> (7 - (self.position % 8))) & 1;
        self.position += 1;
        Some(bit)
    }

    /// The next `count` bits as an integer (`count` ≤ 128), or `None` past the end.
    pub fn read_bits(&mut self, count: u32) -> Option<u128> {
        if count as u64 > self.remaining() {
            self.position = self.bit_length;
            return None;
        }
        let mut value = 0u128;
        let mut remaining = count;
        while remaining > 0 {
            let offset = (self.position % 8) as u32;
            let available = 8 - offset;
            let take = available.min(remaining);
            let byte = self.bytes[(self.position / 8) as usize];
            let chunk = (byte >> (available - take)) & (0xff >> (8 - take));
            value = (value << take) | chunk as u128;
            self.position += take as u64;
            remaining -= take;
        }
        Some(value)
    }

    /// The bit at an absolute position, or `None` past the end.
    #[inline]
    pub fn bit_at(&self, position: u64) -> Option<u8> {
        if position >= self.bit_length {
            return None;
        }
        Some((self.bytes[(position / 8) as usize] >> (7 - (position % 8))) & 1)
    }

    /// Skips `count` bits (at most `remaining()`).
    pub fn skip(&mut self, count: u64) {
        debug_assert!(count <= self.remaining());
        self.position += count;
    }

    /// Bits consumed so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Bits left.
    pub fn remaining(&self) -> u64 {
        self.bit_length - self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bits_match_single_bits() {
        let mut state = 7u64;
        let mut chunked = BitWriter::new();
        let mut single = BitWriter::new();
        let mut pieces = Vec::new();
        for _ in 0..2000 {
            state = crate::random::splitmix64(state);
            let count = (state % 129) as u32;
            let value = ((state as u128) << 64 | crate::random::splitmix64(state) as u128)
                & if count == 128 { u128::MAX } else { (1u128 << count) - 1 };
            chunked.write_bits(value, count);
            for shift in (0..count).rev() {
                single.write_bits((value >> shift) & 1, 1);
            }
            pieces.push((value, count));
        }
        assert_eq!(chunked.bit_length(), single.bit_length());
        let length = chunked.bit_length();
        let bytes = chunked.into_bytes();
        assert_eq!(bytes, single.into_bytes());
        let mut reader = BitReader::new(&bytes, length);
        for (value, count) in pieces {
            assert_eq!(reader.read_bits(count), Some(value));
        }
        assert_eq!(reader.read_bits(1), None);
    }
}

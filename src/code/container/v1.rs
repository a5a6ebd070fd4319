//! Format version 1: one payload of version-1 element codes and one CRC-32.
//!
//! All integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"RECF"` |
//! | 4 | 1 | format version = 1 |
//! | 5 | 1 | method id (1 `"gprs"`, 2 `"gprs-bb"`, 3 `"pfr"`, 4 `"gprs-parallel"`, 5 `"gprs-dyadic"`, 6 `"astar-bb"`) |
//! | 6 | 1 | target family id (1 = Normal, 2 = Laplace, 3 = Uniform) |
//! | 7 | 1 | proposal family id (1 = Normal, 2 = Laplace, 3 = Uniform); with the target's, one of the codable pairs of [`crate::pair`] |
//! | 8 | 8 | seed (u64) |
//! | 16 | 8 | index offset: element i uses stream index `offset + i` (u64) |
//! | 24 | 4 | method parameter (u32): the number of processes J of `"gprs-parallel"`, else 0 |
//! | 28 | 1 | number of dimensions d ≤ 32 |
//! | 29 | 8·d | shape (u64 each) |
//! | 29 + 8d | 8 | element count = product of the shape (u64) |
//! | 37 + 8d | 8 | payload length in bits (u64) |
//! | 45 + 8d | ⌈bits/8⌉ | payload: the elements' codes, concatenated MSB-first, zero-padded |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! Element codes (the universal codes of [`crate::code::message_code`]): `"gprs"` and `"pfr"` write the Elias delta code of the arrival index. `"gprs-bb"`
//! writes the Elias delta code of the depth D (the bit length of the heap index H, ≤ 127);
//! for D > 1 one flag bit follows, then the D − 1 path bits of H after its leading 1: raw
//! (flag 0) or arithmetic-coded with the element's own draws as probabilities (flag 1,
//! [`crate::code::path`]), whichever is shorter. `"gprs-parallel"` writes the winning process j in
//! ⌈log₂ J⌉ bits, then the Elias delta code of its arrival index n_j. `"gprs-dyadic"` writes
//! the Elias delta code of its heap index H (< 2¹²⁷; its path bits are fair coin flips).
//! `"astar-bb"` writes its heap index like `"gprs-bb"` (depth, flag, raw or arithmetic path),
//! with the split draw of level k taken from the stream of the path's node at level k.
//!
//! The proposal's parameters are not stored: the decoder is given them. [`parse`] validates
//! every field, the exact length, the padding and the checksum, and raises
//! [`RecError::CorruptStream`](crate::error::RecError::CorruptStream) on any mismatch.

use super::{check_padding, crc32, read_prologue, read_shape, ChunkSummary, Container, Fields, Header, SampleType, StreamSummary, MAGIC};
use crate::code::{BitReader, BitWriter};
use crate::error::{corrupt, RecError, Result};
use crate::message::Message;

/// Serialises a header and the messages into a version-1 container; returns the bytes and
/// the length in bits of each element's code.
pub fn write(header: &Header, messages: &[Message]) -> Result<(Vec<u8>, Vec<u32>)> {
    header.check_for_writing(messages.len())?;
    if header.sample_type != SampleType::Float64 {
        return Err(RecError::InvalidParameter(
            "format version 1 streams hold float64 samples only; write version 2 for float32 samples".into(),
        ));
    }
    let code = header.method.spec().code;
    let mut payload = BitWriter::new();
    let mut lengths = Vec::with_capacity(messages.len());
    for (element, message) in messages.iter().enumerate() {
        let context = header.element_context(element as u64);
        code.class(message, &context).map_err(|e| e.at_element(element))?;
        let start = payload.bit_length();
        code.write_universal(&mut payload, message, &context);
        lengths.push((payload.bit_length() - start) as u32);
    }
    let payload_bits = payload.bit_length();
    let mut out = Vec::with_capacity(49 + 8 * header.shape.len() + payload_bits as usize / 8);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[1, header.method.id(), header.target_family.id(), header.proposal_family.id()]);
    out.extend_from_slice(&header.seed.to_le_bytes());
    out.extend_from_slice(&header.index_offset.to_le_bytes());
    out.extend_from_slice(&header.method_parameter.to_le_bytes());
    out.push(header.shape.len() as u8);
    for &extent in &header.shape {
        out.extend_from_slice(&extent.to_le_bytes());
    }
    out.extend_from_slice(&(messages.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload_bits.to_le_bytes());
    out.extend_from_slice(&payload.into_bytes());
    let checksum = crc32(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    Ok((out, lengths))
}

/// Parses and validates a whole version-1 container, decoding every element's message.
pub fn parse(bytes: &[u8]) -> Result<Container> {
    let (header, payload, payload_bits) = parse_header(bytes)?;
    let count = header.element_count()?;
    let code = header.method.spec().code;
    let mut reader = BitReader::new(payload, payload_bits);
    let mut messages = Vec::with_capacity(count as usize);
    for element in 0..count {
        let message = code.read_universal(&mut reader, &header.element_context(element));
        messages.push(message.map_err(|e| e.at_element(element as usize))?);
    }
    if reader.remaining() != 0 {
        return Err(corrupt!("{} payload bits are left after the last of {count} codes", reader.remaining()));
    }
    Ok(Container { header, messages })
}

/// Validates a version-1 container's framing; its payload is one chunk.
pub fn summary(bytes: &[u8]) -> Result<StreamSummary> {
    let (header, payload, payload_bits) = parse_header(bytes)?;
    let element_count = header.element_count()?;
    let start = (payload.as_ptr() as usize - bytes.as_ptr() as usize) as u64;
    let byte_range = start..start + payload.len() as u64;
    let chunk = ChunkSummary { first_element: 0, element_count, coding: "universal", model_bytes: 0, payload_bits, byte_range };
    Ok(StreamSummary { version: 1, header, chunks: vec![chunk] })
}

/// Validates the framing (magic, version, ids, exact length, padding, checksum) and returns the
/// header, the payload bytes and the payload length in bits.
pub fn parse_header(bytes: &[u8]) -> Result<(Header, &[u8], u64)> {
    let mut fields = Fields::new(bytes);
    let (method, target_family, proposal_family) = read_prologue(&mut fields, 1)?;
    let seed = fields.u64("seed")?;
    let index_offset = fields.u64("index offset")?;
    let method_parameter = fields.u32("method parameter")?;
    if !method.parameter_allowed(method_parameter) {
        return Err(corrupt!("method parameter {method_parameter} is invalid for method \"{}\"", method.name()));
    }
    let shape = read_shape(&mut fields, |fields| fields.u64("shape"))?;
    let header = Header {
        method,
        target_family,
        proposal_family,
        seed,
        index_offset,
        method_parameter,
        shape,
        sample_type: SampleType::Float64,
    };
    let count = header.element_count()?;
    let stored_count = fields.u64("element count")?;
    if stored_count != count {
        return Err(corrupt!("element count {stored_count} does not match shape {:?}", header.shape));
    }
    let payload_bits = fields.u64("payload length")?;
    // Every code takes at least one bit: this bounds the count before anyone allocates for it.
    if count > payload_bits {
        return Err(corrupt!("{count} elements cannot fit in {payload_bits} payload bits"));
    }
    let payload_bytes = payload_bits.div_ceil(8);
    let expected_length = (fields.position() as u64).checked_add(payload_bytes).and_then(|n| n.checked_add(4));
    match expected_length {
        Some(expected) if expected == bytes.len() as u64 => {}
        Some(expected) if expected > bytes.len() as u64 => {
            return Err(corrupt!("truncated stream: {} bytes, the header announces {expected}", bytes.len()))
        }
        Some(expected) => {
            return Err(corrupt!(
                "{} bytes of trailing garbage after the {expected}-byte stream",
                bytes.len() as u64 - expected
            ))
        }
        None => return Err(corrupt!("payload length {payload_bits} bits is impossible")),
    }
    let payload = fields.take(payload_bytes as usize, "payload")?;
    let stored_checksum = fields.u32("checksum")?;
    let checksum = crc32(&bytes[..bytes.len() - 4]);
    if stored_checksum != checksum {
        return Err(corrupt!("checksum mismatch: stored {stored_checksum:#010x}, computed {checksum:#010x}"));
    }
    check_padding(payload, payload_bits)?;
    Ok((header, payload, payload_bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::Method;
    use crate::distribution::Family;

    fn sample_header() -> Header {
        Header {
            method: Method::GprsBranch,
            target_family: Family::Normal,
            proposal_family: Family::Normal,
            seed: 42,
            index_offset: 0,
            method_parameter: 0,
            shape: vec![2, 2],
            sample_type: SampleType::Float64,
        }
    }

    #[test]
    fn round_trip() {
        let indices: Vec<Message> = [1u128, 5, 1 << 100, 77].map(Message::Node).to_vec();
        let (bytes, lengths) = write(&sample_header(), &indices).unwrap();
        assert_eq!(lengths[0], 1);
        let container = parse(&bytes).unwrap();
        assert_eq!(container.header, sample_header());
        assert_eq!(container.messages, indices);
    }

    #[test]
    fn every_truncation_and_extension_is_rejected() {
        let (bytes, _) = write(&sample_header(), &[3u128, 9, 27, 81].map(Message::Node)).unwrap();
        for cut in 0..bytes.len() {
            assert!(matches!(parse(&bytes[..cut]), Err(RecError::CorruptStream(_))));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(parse(&longer), Err(RecError::CorruptStream(_))));
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let (bytes, _) = write(&sample_header(), &[3u128, 9, 27, 81].map(Message::Node)).unwrap();
        for bit in 0..8 * bytes.len() {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(parse(&flipped).is_err(), "bit {bit}");
        }
    }
}

//! The rec_fast container, format version 1 (DESIGN §6).
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
//! Element codes: `"gprs"` and `"pfr"` write the Elias delta code of the arrival index. `"gprs-bb"`
//! writes the Elias delta code of the depth D (the bit length of the heap index H, ≤ 127);
//! for D > 1 one flag bit follows, then the D − 1 path bits of H after its leading 1: raw
//! (flag 0) or arithmetic-coded with the element's own draws as probabilities (flag 1,
//! [`super::path`]), whichever is shorter. `"gprs-parallel"` writes the winning process j in
//! ⌈log₂ J⌉ bits, then the Elias delta code of its arrival index n_j. `"gprs-dyadic"` writes
//! the Elias delta code of its heap index H (< 2¹²⁷; its path bits are fair coin flips).
//! `"astar-bb"` writes its heap index like `"gprs-bb"` (depth, flag, raw or arithmetic path),
//! with the split draw of level k taken from the stream of the path's node at level k.
//!
//! The proposal's parameters are not stored: the decoder is given them. [`Container::parse`]
//! validates every field, the exact length, the padding and the checksum, and raises
//! [`RecError::CorruptStream`](crate::error::RecError::CorruptStream) on any mismatch.

use super::path::{read_path_with, write_path_with};
use super::universal::{read_delta, write_delta};
use super::{BitReader, BitWriter};
use crate::error::{corrupt, RecError, Result};
use crate::random::{ElementStream, UnitDraw};
use crate::sampler::{astar_branch, gprs_branch, gprs_dyadic, gprs_parallel, Method};

/// The magic bytes.
pub const MAGIC: [u8; 4] = *b"RECF";
/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// The most dimensions a shape may have.
pub const MAX_DIMENSIONS: usize = 32;
/// The largest element count a stream may declare (2⁴⁰).
pub const MAX_ELEMENTS: u64 = 1 << 40;

pub use crate::distribution::Family;

/// Everything in a container except the payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The method that produced the codes.
    pub method: Method,
    /// Family of the targets.
    pub target_family: Family,
    /// Family of the coding distribution.
    pub proposal_family: Family,
    /// The user seed.
    pub seed: u64,
    /// Stream index of element 0.
    pub index_offset: u64,
    /// Method parameter (0 for the version-1 methods).
    pub method_parameter: u32,
    /// Array shape of the batch.
    pub shape: Vec<u64>,
}

impl Header {
    /// The random stream of element `index` (the codes of branch-and-bound paths use it).
    pub fn element_stream(&self, index: u64) -> ElementStream {
        ElementStream::new(self.seed, self.index_offset.wrapping_add(index))
    }

    /// Product of the shape, checked against overflow and [`MAX_ELEMENTS`].
    pub fn element_count(&self) -> Result<u64> {
        let too_many = || corrupt!("shape {:?} has more than 2^40 elements or an extent of 2^40 or more", self.shape);
        let mut count: u64 = 1;
        for &extent in &self.shape {
            if extent > MAX_ELEMENTS {
                return Err(too_many());
            }
            count = count.checked_mul(extent).ok_or_else(too_many)?;
        }
        if count > MAX_ELEMENTS {
            return Err(too_many());
        }
        Ok(count)
    }
}

/// A parsed container: header plus the decoded integer of every element.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// The header fields.
    pub header: Header,
    /// One index per element: the arrival index (`"gprs"`, `"pfr"`), the heap index
    /// (`"gprs-bb"`, `"gprs-dyadic"`, `"astar-bb"`) or the packed (process, arrival) pair
    /// (`"gprs-parallel"`, [`gprs_parallel::pack_index`]).
    pub indices: Vec<u128>,
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE 802.3 polynomial, reflected, init and final xor 0xffffffff).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

/// Serialises a header and the indices into a container; returns the bytes and the length in
/// bits of each element's code.
pub fn write(header: &Header, indices: &[u128]) -> Result<(Vec<u8>, Vec<u32>)> {
    let count = header.element_count().map_err(|e| RecError::ShapeMismatch(e.message().to_owned()))?;
    if header.shape.len() > MAX_DIMENSIONS || count != indices.len() as u64 {
        return Err(RecError::ShapeMismatch(format!(
            "shape {:?} does not describe {} elements (at most {MAX_DIMENSIONS} dimensions)",
            header.shape,
            indices.len()
        )));
    }
    if !method_parameter_allowed(header.method, header.method_parameter) {
        return Err(RecError::InvalidParameter(format!(
            "method parameter {} is invalid for method \"{}\"",
            header.method_parameter,
            header.method.name()
        )));
    }
    let mut payload = BitWriter::new();
    let mut lengths = Vec::with_capacity(indices.len());
    for (element, &index) in indices.iter().enumerate() {
        let start = payload.bit_length();
        match header.method {
            Method::Gprs | Method::Pfr | Method::GprsDyadic => write_delta(&mut payload, index),
            Method::GprsParallel => {
                let (process, arrival) = gprs_parallel::unpack_index(index);
                payload.write_bits(process as u128, process_bits(header.method_parameter));
                write_delta(&mut payload, arrival as u128);
            }
            Method::GprsBranch => {
                let mut stream = header.element_stream(element as u64);
                write_search_path(&mut payload, index, |_| stream.next_location());
            }
            Method::AstarBranch => {
                let depth = 128 - index.leading_zeros();
                let stream_index = header.index_offset.wrapping_add(element as u64);
                write_search_path(&mut payload, index, |level| {
                    astar_branch::node_location(header.seed, stream_index, index >> (depth - 1 - level))
                });
            }
        }
        lengths.push((payload.bit_length() - start) as u32);
    }
    let payload_bits = payload.bit_length();
    let mut out = Vec::with_capacity(49 + 8 * header.shape.len() + payload_bits as usize / 8);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[FORMAT_VERSION, header.method.id(), header.target_family.id(), header.proposal_family.id()]);
    out.extend_from_slice(&header.seed.to_le_bytes());
    out.extend_from_slice(&header.index_offset.to_le_bytes());
    out.extend_from_slice(&header.method_parameter.to_le_bytes());
    out.push(header.shape.len() as u8);
    for &extent in &header.shape {
        out.extend_from_slice(&extent.to_le_bytes());
    }
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&payload_bits.to_le_bytes());
    out.extend_from_slice(&payload.into_bytes());
    let checksum = crc32(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    Ok((out, lengths))
}

/// Writes a split-on-sample search path: the Elias delta code of its depth D, then for D > 1
/// a flag and the D − 1 path bits, raw (flag 0) or arithmetic-coded with the split draws as
/// probabilities (flag 1), whichever is shorter.
fn write_search_path<F: FnMut(u32) -> UnitDraw>(payload: &mut BitWriter, heap_index: u128, draw_at_level: F) {
    let depth = 128 - heap_index.leading_zeros();
    write_delta(payload, depth as u128);
    if depth > 1 {
        let mut arithmetic = BitWriter::new();
        let length = write_path_with(&mut arithmetic, heap_index, draw_at_level);
        if length < (depth - 1) as u64 {
            payload.write_bits(1, 1);
            payload.append(&arithmetic);
        } else {
            payload.write_bits(0, 1);
            payload.write_bits(heap_index, depth - 1);
        }
    }
}

/// Reads what [`write_search_path`] wrote; `draw_at_level(k, prefix)` gives the split draw of
/// the node `prefix` at level k.
fn read_search_path<F: FnMut(u32, u128) -> UnitDraw>(reader: &mut BitReader<'_>, draw_at_level: F) -> Result<u128> {
    // gprs-bb and astar-bb share the 127-level bound.
    const _: () = assert!(gprs_branch::MAX_DEPTH == astar_branch::MAX_DEPTH);
    let depth = read_delta(reader, 7)? as u32;
    if depth > gprs_branch::MAX_DEPTH {
        return Err(corrupt!("search depth {depth} exceeds {}", gprs_branch::MAX_DEPTH));
    }
    if depth == 1 {
        return Ok(1);
    }
    match reader.read_bit() {
        Some(0) => reader
            .read_bits(depth - 1)
            .map(|path| (1u128 << (depth - 1)) | path)
            .ok_or_else(|| corrupt!("the payload ends inside a search path")),
        Some(_) => read_path_with(reader, depth, draw_at_level),
        None => Err(corrupt!("the payload ends before a path-code flag")),
    }
}

/// J ∈ [1, 2¹⁶] for `"gprs-parallel"`, 0 for every other method.
fn method_parameter_allowed(method: Method, parameter: u32) -> bool {
    match method {
        Method::GprsParallel => (1..=gprs_parallel::MAX_PROCESSES).contains(&parameter),
        _ => parameter == 0,
    }
}

/// Bits of the process number of `"gprs-parallel"`: ⌈log₂ J⌉.
fn process_bits(processes: u32) -> u32 {
    32 - processes.saturating_sub(1).leading_zeros()
}

/// Little-endian field reader with truncation errors.
struct Fields<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Fields<'a> {
    fn take(&mut self, size: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.position.checked_add(size).filter(|&end| end <= self.bytes.len()).ok_or_else(|| {
            corrupt!("truncated stream: {} bytes end inside the {what} field", self.bytes.len())
        })?;
        let field = &self.bytes[self.position..end];
        self.position = end;
        Ok(field)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
}

impl Container {
    /// Parses and validates a whole container, decoding every element's index.
    pub fn parse(bytes: &[u8]) -> Result<Container> {
        let (header, payload, payload_bits) = parse_header(bytes)?;
        let count = header.element_count()?;
        let mut reader = BitReader::new(payload, payload_bits);
        let mut indices = Vec::with_capacity(count as usize);
        for element in 0..count {
            let index = match header.method {
                Method::Gprs | Method::Pfr => read_delta(&mut reader, 64),
                Method::GprsDyadic => read_delta(&mut reader, gprs_dyadic::MAX_DEPTH),
                Method::GprsParallel => {
                    let processes = header.method_parameter;
                    match reader.read_bits(process_bits(processes)) {
                        Some(process) if process < processes as u128 => read_delta(&mut reader, 64)
                            .map(|arrival| gprs_parallel::pack_index(process as u32, arrival as u64)),
                        Some(process) => Err(corrupt!("process {process} of only {processes}")),
                        None => Err(corrupt!("the payload ends inside a process number")),
                    }
                }
                Method::GprsBranch => {
                    let mut stream = header.element_stream(element);
                    read_search_path(&mut reader, |_, _| stream.next_location())
                }
                Method::AstarBranch => {
                    let stream_index = header.index_offset.wrapping_add(element);
                    read_search_path(&mut reader, |_, prefix| {
                        astar_branch::node_location(header.seed, stream_index, prefix)
                    })
                }
            };
            indices.push(index.map_err(|e| e.at_element(element as usize))?);
        }
        if reader.remaining() != 0 {
            return Err(corrupt!(
                "{} payload bits are left after the last of {count} codes",
                reader.remaining()
            ));
        }
        Ok(Container { header, indices })
    }
}

/// Validates the framing (magic, version, ids, exact length, padding, checksum) and returns the
/// header, the payload bytes and the payload length in bits.
pub fn parse_header(bytes: &[u8]) -> Result<(Header, &[u8], u64)> {
    let mut fields = Fields { bytes, position: 0 };
    if fields.take(4, "magic")? != MAGIC {
        return Err(corrupt!("not a rec_fast stream: the magic bytes are not \"RECF\""));
    }
    let version = fields.u8("version")?;
    if version != FORMAT_VERSION {
        return Err(corrupt!(
            "unsupported format version {version}; this build reads version {FORMAT_VERSION}"
        ));
    }
    let method_id = fields.u8("method")?;
    let method = Method::from_id(method_id).ok_or_else(|| corrupt!("unknown method id {method_id}"))?;
    let target_id = fields.u8("target family")?;
    let target_family = Family::from_id(target_id).ok_or_else(|| corrupt!("unknown target family id {target_id}"))?;
    let proposal_id = fields.u8("proposal family")?;
    let proposal_family =
        Family::from_id(proposal_id).ok_or_else(|| corrupt!("unknown proposal family id {proposal_id}"))?;
    if !crate::pair::is_codable_combination(target_family, proposal_family) {
        return Err(corrupt!(
            "a {} target with a {} proposal cannot have been encoded",
            target_family.name(),
            proposal_family.name()
        ));
    }
    let seed = fields.u64("seed")?;
    let index_offset = fields.u64("index offset")?;
    let method_parameter = fields.u32("method parameter")?;
    if !method_parameter_allowed(method, method_parameter) {
        return Err(corrupt!("method parameter {method_parameter} is invalid for method \"{}\"", method.name()));
    }
    let dimensions = fields.u8("dimension count")? as usize;
    if dimensions > MAX_DIMENSIONS {
        return Err(corrupt!("{dimensions} dimensions exceed the maximum of {MAX_DIMENSIONS}"));
    }
    let mut shape = Vec::with_capacity(dimensions);
    for _ in 0..dimensions {
        shape.push(fields.u64("shape")?);
    }
    let header = Header { method, target_family, proposal_family, seed, index_offset, method_parameter, shape };
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
    let expected_length = (fields.position as u64).checked_add(payload_bytes).and_then(|n| n.checked_add(4));
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
    let used_bits_in_last_byte = (payload_bits % 8) as u32;
    if used_bits_in_last_byte != 0 {
        let padding_mask = 0xffu8 >> used_bits_in_last_byte;
        if payload[payload.len() - 1] & padding_mask != 0 {
            return Err(corrupt!("nonzero padding bits after the payload"));
        }
    }
    Ok((header, payload, payload_bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_header() -> Header {
        Header {
            method: Method::GprsBranch,
            target_family: Family::Normal,
            proposal_family: Family::Normal,
            seed: 42,
            index_offset: 0,
            method_parameter: 0,
            shape: vec![2, 2],
        }
    }

    #[test]
    fn crc32_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trip() {
        let indices = vec![1u128, 5, 1 << 100, 77];
        let (bytes, lengths) = write(&sample_header(), &indices).unwrap();
        assert_eq!(lengths[0], 1);
        let container = Container::parse(&bytes).unwrap();
        assert_eq!(container.header, sample_header());
        assert_eq!(container.indices, indices);
    }

    #[test]
    fn every_truncation_and_extension_is_rejected() {
        let (bytes, _) = write(&sample_header(), &[3, 9, 27, 81]).unwrap();
        for cut in 0..bytes.len() {
            assert!(matches!(Container::parse(&bytes[..cut]), Err(RecError::CorruptStream(_))));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(Container::parse(&longer), Err(RecError::CorruptStream(_))));
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let (bytes, _) = write(&sample_header(), &[3, 9, 27, 81]).unwrap();
        for bit in 0..8 * bytes.len() {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(Container::parse(&flipped).is_err(), "bit {bit}");
        }
    }
}

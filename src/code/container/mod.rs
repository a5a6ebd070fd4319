//! The rec_fast container: framing only — a header, the typed parameters, then the messages'
//! codes with checksums. The normative byte layout of both versions is `docs/format.md`.
//!
//! * [`v1`]: one payload of version-1 element codes and one CRC-32 (read forever, written on
//!   request).
//! * [`v2`]: a header with its own CRC-32, then independently decodable chunks, each with its
//!   element range, coding, model parameters, payload and CRC-32 (the default).
//!
//! Parsing validates every field, the exact length, the padding and every checksum, and
//! raises [`RecError::CorruptStream`] on any mismatch; a bad chunk is named by its number and
//! element range.

pub mod v1;
pub mod v2;

use crate::error::{corrupt, RecError, Result};
use crate::message::{ElementContext, Message};
use crate::method::Method;

pub use crate::distribution::Family;

/// The magic bytes.
pub const MAGIC: [u8; 4] = *b"RECF";
/// The version this build writes by default; it reads versions 1 and 2.
pub const FORMAT_VERSION: u8 = 2;
/// The versions this build reads and writes.
pub const FORMAT_VERSIONS: [u8; 2] = [1, 2];
/// The most dimensions a shape may have.
pub const MAX_DIMENSIONS: usize = 32;
/// The largest element count a stream may declare (2⁴⁰).
pub const MAX_ELEMENTS: u64 = 1 << 40;

/// The floating-point type a stream's samples are delivered in.
///
/// Samples are always computed in f64 and the core returns them so; a `Float32` stream's
/// samples are those rounded once to the nearest f32 (ties to even), which the consumer of
/// the core's output does on both sides (rec_fast's Python layer does). The type changes no
/// message and no bit of the search, only the header's flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SampleType {
    /// IEEE binary64 samples (flags bit 0 clear; every version-1 stream).
    #[default]
    Float64,
    /// IEEE binary32 samples (flags bit 0 set; version 2 only).
    Float32,
}

impl SampleType {
    /// "float64" or "float32", as numpy names the dtype.
    pub fn name(self) -> &'static str {
        match self {
            SampleType::Float64 => "float64",
            SampleType::Float32 => "float32",
        }
    }

    /// The type named `name` ("float64" or "float32").
    pub fn from_name(name: &str) -> Result<SampleType> {
        match name {
            "float64" => Ok(SampleType::Float64),
            "float32" => Ok(SampleType::Float32),
            other => Err(RecError::InvalidParameter(format!(
                "sample type {other:?} is not supported; use \"float64\" or \"float32\""
            ))),
        }
    }
}

/// Everything in a container except the messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The method that produced the messages.
    pub method: Method,
    /// Family of the targets.
    pub target_family: Family,
    /// Family of the coding distribution.
    pub proposal_family: Family,
    /// The user seed.
    pub seed: u64,
    /// Stream index of element 0.
    pub index_offset: u64,
    /// Method parameter (J of `"gprs-parallel"`, else 0).
    pub method_parameter: u32,
    /// Array shape of the batch.
    pub shape: Vec<u64>,
    /// The type the samples are delivered in.
    pub sample_type: SampleType,
}

impl Header {
    /// What the decoder knows of element `index` (no per-element model parameter).
    pub fn element_context(&self, index: u64) -> ElementContext {
        ElementContext {
            seed: self.seed,
            stream_index: self.index_offset.wrapping_add(index),
            method_parameter: self.method_parameter,
            model_parameter: None,
        }
    }

    /// Product of the shape, checked against overflow and [`MAX_ELEMENTS`].
    pub fn element_count(&self) -> Result<u64> {
        element_count_of(&self.shape)
    }

    /// Checks a header about to be written against `count` messages.
    pub fn check_for_writing(&self, count: usize) -> Result<()> {
        let declared = self.element_count().map_err(|e| RecError::ShapeMismatch(e.message().to_owned()))?;
        if self.shape.len() > MAX_DIMENSIONS || declared != count as u64 {
            return Err(RecError::ShapeMismatch(format!(
                "shape {:?} does not describe {count} elements (at most {MAX_DIMENSIONS} dimensions)",
                self.shape
            )));
        }
        if !self.method.parameter_allowed(self.method_parameter) {
            return Err(RecError::InvalidParameter(format!(
                "method parameter {} is invalid for method \"{}\"",
                self.method_parameter,
                self.method.name()
            )));
        }
        Ok(())
    }

    /// Checks the ids read from a stream.
    fn from_ids(method: u8, target: u8, proposal: u8) -> Result<(Method, Family, Family)> {
        let method_id = method;
        let method = Method::from_id(method_id).ok_or_else(|| corrupt!("unknown method id {method_id}"))?;
        let target_family = Family::from_id(target).ok_or_else(|| corrupt!("unknown target family id {target}"))?;
        let proposal_family =
            Family::from_id(proposal).ok_or_else(|| corrupt!("unknown proposal family id {proposal}"))?;
        if !crate::pair::is_codable_combination(target_family, proposal_family) {
            return Err(corrupt!(
                "a {} target with a {} proposal cannot have been encoded",
                target_family.name(),
                proposal_family.name()
            ));
        }
        Ok((method, target_family, proposal_family))
    }
}

/// Where a chunk sits in a stream and how it is coded (version 1 streams are one chunk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkSummary {
    /// Index of its first element.
    pub first_element: u64,
    /// Its number of elements.
    pub element_count: u64,
    /// Its coding ("universal" or "range").
    pub coding: &'static str,
    /// Bytes of model parameters.
    pub model_bytes: u64,
    /// Payload bits.
    pub payload_bits: u64,
    /// Where its bytes lie in the stream: a version-2 chunk's whole frame (first field to
    /// checksum), a version-1 stream's payload.
    pub byte_range: std::ops::Range<u64>,
}

/// A validated stream's framing: its version, header and chunks.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSummary {
    /// The format version.
    pub version: u8,
    /// The header.
    pub header: Header,
    /// The chunks, in element order.
    pub chunks: Vec<ChunkSummary>,
}

impl StreamSummary {
    /// Payload bits of all chunks.
    pub fn payload_bits(&self) -> u64 {
        self.chunks.iter().map(|c| c.payload_bits).sum()
    }
}

/// A parsed container: header plus every element's message.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// The header fields.
    pub header: Header,
    /// One message per element.
    pub messages: Vec<Message>,
}

impl Container {
    /// Parses and validates a whole container of either version, decoding every message.
    pub fn parse(bytes: &[u8]) -> Result<Container> {
        match version_of(bytes)? {
            1 => v1::parse(bytes),
            _ => v2::parse(bytes, None),
        }
    }
}

/// Validates the framing of a stream of either version (not the messages' codes).
pub fn summary(bytes: &[u8]) -> Result<StreamSummary> {
    match version_of(bytes)? {
        1 => v1::summary(bytes),
        _ => v2::summary(bytes),
    }
}

/// The format version of a stream, after checking its magic bytes.
pub fn version_of(bytes: &[u8]) -> Result<u8> {
    read_version(&mut Fields::new(bytes))
}

fn read_version(fields: &mut Fields<'_>) -> Result<u8> {
    if fields.take(4, "magic")? != MAGIC {
        return Err(corrupt!("not a rec_fast stream: the magic bytes are not \"RECF\""));
    }
    let version = fields.u8("version")?;
    if !FORMAT_VERSIONS.contains(&version) {
        return Err(corrupt!("unsupported format version {version}; this build reads versions 1 and 2"));
    }
    Ok(version)
}

/// Reads the prologue both versions share — magic, version (which must be `version`), method
/// and family ids — and validates the ids.
pub(crate) fn read_prologue(fields: &mut Fields<'_>, version: u8) -> Result<(Method, Family, Family)> {
    let found = read_version(fields)?;
    if found != version {
        return Err(corrupt!("format version {found} is not version {version}"));
    }
    Header::from_ids(fields.u8("method")?, fields.u8("target family")?, fields.u8("proposal family")?)
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

/// Product of a stream's declared shape, checked against overflow, each extent and the
/// product at most [`MAX_ELEMENTS`].
pub fn element_count_of(shape: &[u64]) -> Result<u64> {
    let too_many = || corrupt!("shape {shape:?} has more than 2^40 elements or an extent above 2^40");
    let mut count: u64 = 1;
    for &extent in shape {
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

/// CRC-32 (IEEE 802.3 polynomial, reflected, init and final xor 0xffffffff; zlib's `crc32`).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

/// Appends `value` as unsigned LEB128: 7 bits per byte, least significant group first, the
/// high bit set on every byte but the last.
pub fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads the number of dimensions (≤ [`MAX_DIMENSIONS`]) and that many extents with `extent`.
pub(crate) fn read_shape<'a>(
    fields: &mut Fields<'a>,
    mut extent: impl FnMut(&mut Fields<'a>) -> Result<u64>,
) -> Result<Vec<u64>> {
    let dimensions = fields.u8("dimension count")? as usize;
    if dimensions > MAX_DIMENSIONS {
        return Err(corrupt!("{dimensions} dimensions exceed the maximum of {MAX_DIMENSIONS}"));
    }
    (0..dimensions).map(|_| extent(fields)).collect()
}

/// Checks that the bits of the payload's last byte after its `payload_bits` are zero.
pub(crate) fn check_padding(payload: &[u8], payload_bits: u64) -> Result<()> {
    let used_bits_in_last_byte = (payload_bits % 8) as u32;
    if used_bits_in_last_byte != 0 && payload[payload.len() - 1] & (0xffu8 >> used_bits_in_last_byte) != 0 {
        return Err(corrupt!("nonzero padding bits after the payload"));
    }
    Ok(())
}

/// Little-endian field reader with truncation errors.
pub(crate) struct Fields<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Fields<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes, position: 0 }
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    pub fn take(&mut self, size: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.position.checked_add(size).filter(|&end| end <= self.bytes.len()).ok_or_else(|| {
            corrupt!("truncated stream: {} bytes end inside the {what} field", self.bytes.len())
        })?;
        let field = &self.bytes[self.position..end];
        self.position = end;
        Ok(field)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }

    /// An unsigned LEB128 value of at most 64 bits, in its shortest form.
    pub fn varint(&mut self, what: &str) -> Result<u64> {
        let mut value = 0u64;
        for group in 0..10 {
            let byte = self.u8(what)?;
            let bits = (byte & 0x7f) as u64;
            if group == 9 && bits > 1 {
                return Err(corrupt!("the {what} field overflows 64 bits"));
            }
            value |= bits << (7 * group);
            if byte & 0x80 == 0 {
                if group > 0 && byte == 0 {
                    return Err(corrupt!("the {what} field is not in its shortest form"));
                }
                return Ok(value);
            }
        }
        Err(corrupt!("the {what} field overflows 64 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn varints_round_trip_and_reject_overlong_forms() {
        for value in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            let mut fields = Fields::new(&out);
            assert_eq!(fields.varint("test").unwrap(), value);
            assert_eq!(fields.remaining(), 0);
        }
        assert!(Fields::new(&[0x80, 0x00]).varint("test").is_err());
        assert!(Fields::new(&[0xff; 10]).varint("test").is_err());
        assert!(Fields::new(&[0x80]).varint("test").is_err());
    }
}

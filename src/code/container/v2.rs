//! Format version 2: a checksummed header, then independently decodable chunks.
//!
//! Integers are unsigned LEB128 varints (shortest form) unless a width is given; the
//! normative description, with the determinism contract, is `docs/format.md`.
//!
//! ```text
//! header: "RECF" | version = 2 | method id | target family id | proposal family id
//!         | flags (u8: bit 0 float32 samples) | seed | index offset | method parameter | d (u8, ≤ 32)
//!         | d extents | CRC-32 of the header bytes before it (u32 LE)
//! chunk:  first element | element count (1 … 2²⁰) | coding (u8: 0 universal, 1 range)
//!         | model length in bytes | model | payload length in bits | payload
//!         | CRC-32 of the chunk's bytes before it (u32 LE)
//! ```
//!
//! Chunks follow each other to the end of the bytes and cover the elements 0 … count − 1 in
//! order (an empty stream has no chunk). Each chunk's messages are coded by
//! [`crate::code::chunk`] with the method's message code; the chunk number and its element
//! range prefix every error about it.

use rayon::prelude::*;

use super::{
    check_padding, crc32, read_prologue, read_shape, write_varint, ChunkSummary, Container, Fields, Header, SampleType, StreamSummary,
    MAGIC,
};
use crate::code::chunk::{decode_chunk, encode_chunk, CodedChunk, Coding};
use crate::error::{corrupt, RecError, Result};
use crate::code::message_code::MessageCode;
use crate::message::{ElementContext, Message};

/// The default number of elements per chunk.
pub const DEFAULT_CHUNK_ELEMENTS: u64 = 1 << 16;
/// Header flags bit 0: the samples are delivered as float32.
const FLAG_FLOAT32: u8 = 1;

/// The most elements a chunk may hold.
pub const MAX_CHUNK_ELEMENTS: u64 = 1 << 20;

/// The header bytes, with their CRC-32.
pub fn write_header(header: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 10 * header.shape.len());
    out.extend_from_slice(&MAGIC);
    let flags = match header.sample_type {
        SampleType::Float64 => 0,
        SampleType::Float32 => FLAG_FLOAT32,
    };
    out.extend_from_slice(&[2, header.method.id(), header.target_family.id(), header.proposal_family.id(), flags]);
    write_varint(&mut out, header.seed);
    write_varint(&mut out, header.index_offset);
    write_varint(&mut out, header.method_parameter as u64);
    out.push(header.shape.len() as u8);
    for &extent in &header.shape {
        write_varint(&mut out, extent);
    }
    let checksum = crc32(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// What the decoder knows of element `index`, with its model parameter if there are any.
fn context_of(header: &Header, model_parameters: Option<&[f64]>, index: u64) -> ElementContext {
    ElementContext {
        model_parameter: model_parameters.map(|parameters| parameters[index as usize]),
        ..header.element_context(index)
    }
}

/// Serialises a header and the messages into a version-2 stream of chunks of
/// `chunk_elements` elements (the last may be shorter), coding the chunks in parallel on the
/// current rayon pool; returns the bytes and each element's share of the payload bits.
/// `model_parameters`, if given, holds one per-element model parameter that the decoder must
/// be given too.
pub fn write(
    header: &Header,
    messages: &[Message],
    chunk_elements: u64,
    model_parameters: Option<&[f64]>,
) -> Result<(Vec<u8>, Vec<f64>)> {
    header.check_for_writing(messages.len())?;
    check_model_parameters(model_parameters, messages.len())?;
    let mut out = write_header(header);
    let element_bits = write_chunk_frames(&mut out, header.method.spec().code, messages, chunk_elements, |index| {
        context_of(header, model_parameters, index)
    })?;
    Ok((out, element_bits))
}

/// Codes `messages` in chunks of `chunk_elements` (in parallel on the current rayon pool, each
/// element coded with `context(its index)`) and appends the chunk frames to `out`; returns each
/// element's share of the payload bits. Shared by every stream kind that frames message chunks.
pub(crate) fn write_chunk_frames(
    out: &mut Vec<u8>,
    code: &dyn MessageCode,
    messages: &[Message],
    chunk_elements: u64,
    context: impl Fn(u64) -> ElementContext + Sync,
) -> Result<Vec<f64>> {
    check_chunk_elements(chunk_elements)?;
    let chunks: Vec<_> = messages
        .par_chunks(chunk_elements as usize)
        .enumerate()
        .map(|(number, chunk)| {
            let first = number as u64 * chunk_elements;
            encode_chunk(code, chunk, |i| context(first + i as u64))
                .map_err(|e| in_chunk(e, number, first, chunk.len() as u64))
        })
        .collect::<Result<_>>()?;
    let mut element_bits = Vec::with_capacity(messages.len());
    for (number, chunk) in chunks.into_iter().enumerate() {
        write_chunk_frame(out, number as u64 * chunk_elements, &chunk);
        element_bits.extend_from_slice(&chunk.element_bits);
    }
    Ok(element_bits)
}

/// Appends the frame of a coded chunk whose first element is `first_element` to `out`.
pub(crate) fn write_chunk_frame(out: &mut Vec<u8>, first_element: u64, chunk: &CodedChunk) {
    let start = out.len();
    write_varint(out, first_element);
    write_varint(out, chunk.element_bits.len() as u64);
    out.push(chunk.coding.id());
    write_varint(out, chunk.model.len() as u64);
    out.extend_from_slice(&chunk.model);
    write_varint(out, chunk.payload_bits);
    out.extend_from_slice(&chunk.payload);
    let checksum = crc32(&out[start..]);
    out.extend_from_slice(&checksum.to_le_bytes());
}

/// Checks a requested number of elements per chunk.
pub fn check_chunk_elements(chunk_elements: u64) -> Result<()> {
    if !(1..=MAX_CHUNK_ELEMENTS).contains(&chunk_elements) {
        return Err(RecError::InvalidParameter(format!(
            "chunk_size = {chunk_elements}; it must lie in [1, {MAX_CHUNK_ELEMENTS}]"
        )));
    }
    Ok(())
}

fn check_model_parameters(model_parameters: Option<&[f64]>, count: usize) -> Result<()> {
    match model_parameters {
        Some(parameters) if parameters.len() != count => Err(RecError::ShapeMismatch(format!(
            "{} model parameters for {count} elements",
            parameters.len()
        ))),
        Some(parameters) => match parameters.iter().position(|b| !b.is_finite()) {
            Some(i) => Err(RecError::InvalidParameter(format!(
                "element {i}: model parameter {} is not finite",
                parameters[i]
            ))),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

/// Prefixes an error with the chunk it concerns.
pub(crate) fn in_chunk(error: RecError, number: usize, first: u64, count: u64) -> RecError {
    let prefix = format!("chunk {number} (elements {first}..{})", first + count);
    match error {
        RecError::CorruptStream(m) => RecError::CorruptStream(format!("{prefix}: {m}")),
        other => other,
    }
}

/// One chunk's framing, validated (checksum included) but not decoded.
#[derive(Clone, Debug)]
pub struct ChunkFrame<'a> {
    /// Its position among the chunks.
    pub number: usize,
    /// Index of its first element.
    pub first_element: u64,
    /// Its number of elements.
    pub element_count: u64,
    /// Its coding.
    pub coding: Coding,
    /// Its model parameters.
    pub model: &'a [u8],
    /// Its payload bytes.
    pub payload: &'a [u8],
    /// Its payload length in bits.
    pub payload_bits: u64,
    /// Where its frame lies in the bytes it was read from (first field to checksum).
    pub byte_range: std::ops::Range<usize>,
}

impl ChunkFrame<'_> {
    /// Decodes the chunk's messages.
    pub fn decode(&self, header: &Header, model_parameters: Option<&[f64]>) -> Result<Vec<Message>> {
        self.decode_with(header.method.spec().code, |index| context_of(header, model_parameters, index))
    }

    /// Decodes the chunk's messages with `code`, element `index` (counted from the stream's
    /// first) with `context(index)`.
    pub fn decode_with(&self, code: &dyn MessageCode, context: impl Fn(u64) -> ElementContext) -> Result<Vec<Message>> {
        let first = self.first_element;
        decode_chunk(code, self.coding, self.model, self.payload, self.payload_bits, self.element_count as usize, |i| {
            context(first + i as u64)
        })
        .map_err(|e| in_chunk(e, self.number, first, self.element_count))
    }

    fn summary(&self) -> ChunkSummary {
        ChunkSummary {
            first_element: self.first_element,
            element_count: self.element_count,
            coding: self.coding.name(),
            model_bytes: self.model.len() as u64,
            payload_bits: self.payload_bits,
            byte_range: self.byte_range.start as u64..self.byte_range.end as u64,
        }
    }
}

/// Validates a version-2 stream's header and the framing and checksum of every chunk.
pub fn frames(bytes: &[u8]) -> Result<(Header, Vec<ChunkFrame<'_>>)> {
    let mut fields = Fields::new(bytes);
    let header = read_header(&mut fields, bytes)?;
    let count = header.element_count()?;
    let chunks = read_chunk_frames(&mut fields, bytes, count)?;
    Ok((header, chunks))
}

/// Parses bytes that hold exactly a version-2 header.
pub fn header_of(bytes: &[u8]) -> Result<Header> {
    let mut fields = Fields::new(bytes);
    let header = read_header(&mut fields, bytes)?;
    if fields.remaining() != 0 {
        return Err(corrupt!("{} bytes follow the header", fields.remaining()));
    }
    Ok(header)
}

/// Reads and validates a version-2 header (checksum included) from the start of `bytes`.
pub(crate) fn read_header(fields: &mut Fields<'_>, bytes: &[u8]) -> Result<Header> {
    let (method, target_family, proposal_family) = read_prologue(fields, 2)?;
    let flags = fields.u8("flags")?;
    if flags & !FLAG_FLOAT32 != 0 {
        return Err(corrupt!("header flags {flags:#04x} set bits other than 0x01 (float32 samples)"));
    }
    let sample_type = if flags & FLAG_FLOAT32 != 0 { SampleType::Float32 } else { SampleType::Float64 };
    let seed = fields.varint("seed")?;
    let index_offset = fields.varint("index offset")?;
    let method_parameter = fields.varint("method parameter")?;
    let method_parameter = u32::try_from(method_parameter)
        .ok()
        .filter(|&p| method.parameter_allowed(p))
        .ok_or_else(|| corrupt!("method parameter {method_parameter} is invalid for method \"{}\"", method.name()))?;
    let shape = read_shape(fields, |fields| fields.varint("shape"))?;
    let header_end = fields.position();
    let stored_checksum = fields.u32("header checksum")?;
    let checksum = crc32(&bytes[..header_end]);
    if stored_checksum != checksum {
        return Err(corrupt!("header checksum mismatch: stored {stored_checksum:#010x}, computed {checksum:#010x}"));
    }
    let header = Header { method, target_family, proposal_family, seed, index_offset, method_parameter, shape, sample_type };
    header.element_count()?;
    Ok(header)
}

/// Reads chunk frames to the end of `fields` and checks that they cover elements
/// 0 … `count` − 1 in order.
pub(crate) fn read_chunk_frames<'a>(fields: &mut Fields<'a>, bytes: &'a [u8], count: u64) -> Result<Vec<ChunkFrame<'a>>> {
    let mut chunks = Vec::new();
    let mut covered = 0u64;
    while fields.remaining() > 0 {
        let number = chunks.len();
        let frame = read_chunk(fields, bytes, number, covered, count)?;
        covered += frame.element_count;
        chunks.push(frame);
    }
    if covered != count {
        return Err(corrupt!("truncated stream: its chunks cover {covered} of the {count} elements"));
    }
    Ok(chunks)
}

pub(crate) fn read_chunk<'a>(
    fields: &mut Fields<'a>,
    bytes: &'a [u8],
    number: usize,
    covered: u64,
    count: u64,
) -> Result<ChunkFrame<'a>> {
    let start = fields.position();
    let located = |e: RecError| match e {
        RecError::CorruptStream(m) => RecError::CorruptStream(format!("chunk {number} (from element {covered}): {m}")),
        other => other,
    };
    let first_element = fields.varint("chunk's first element").map_err(located)?;
    if first_element != covered {
        return Err(corrupt!("chunk {number} starts at element {first_element}, but the chunks before it end at {covered}"));
    }
    let element_count = fields.varint("chunk's element count").map_err(located)?;
    if element_count == 0 || element_count > MAX_CHUNK_ELEMENTS || element_count > count - covered {
        return Err(corrupt!(
            "chunk {number} declares {element_count} elements; at most {} of the {count} remain (and at most {MAX_CHUNK_ELEMENTS} per chunk)",
            count - covered
        ));
    }
    let chunk_error = |e: RecError| in_chunk(e, number, first_element, element_count);
    let coding_id = fields.u8("chunk coding").map_err(chunk_error)?;
    let coding = Coding::from_id(coding_id).ok_or_else(|| chunk_error(corrupt!("unknown coding id {coding_id}")))?;
    let model_length = fields.varint("model length").map_err(chunk_error)?;
    let model = fields.take(usize::try_from(model_length).unwrap_or(usize::MAX), "model").map_err(chunk_error)?;
    let payload_bits = fields.varint("payload length").map_err(chunk_error)?;
    let payload = fields.take(usize::try_from(payload_bits.div_ceil(8)).unwrap_or(usize::MAX), "payload").map_err(chunk_error)?;
    let end = fields.position();
    let stored_checksum = fields.u32("chunk checksum").map_err(chunk_error)?;
    let checksum = crc32(&bytes[start..end]);
    if stored_checksum != checksum {
        return Err(chunk_error(corrupt!("checksum mismatch: stored {stored_checksum:#010x}, computed {checksum:#010x}")));
    }
    // Every universal code takes at least one bit: this bounds the count before allocation.
    if coding == Coding::Universal && element_count > payload_bits {
        return Err(chunk_error(corrupt!("{element_count} universal codes cannot fit in {payload_bits} payload bits")));
    }
    check_padding(payload, payload_bits).map_err(chunk_error)?;
    let byte_range = start..fields.position();
    Ok(ChunkFrame { number, first_element, element_count, coding, model, payload, payload_bits, byte_range })
}

/// Parses and validates a whole version-2 stream, decoding every message (the decoder of
/// [`crate::codec::decode_from_bytes`] decodes the chunks in parallel instead).
pub fn parse(bytes: &[u8], model_parameters: Option<&[f64]>) -> Result<Container> {
    let (header, chunks) = frames(bytes)?;
    let count = usize::try_from(header.element_count()?).map_err(|_| corrupt!("too many elements for this machine"))?;
    check_model_parameters(model_parameters, count)?;
    let mut messages = Vec::new();
    messages
        .try_reserve_exact(count)
        .map_err(|_| RecError::InvalidParameter(format!("cannot allocate the {count} messages the stream declares")))?;
    // Chunk by chunk, so that only one chunk's messages are held twice.
    for chunk in &chunks {
        messages.extend(chunk.decode(&header, model_parameters)?);
    }
    Ok(Container { header, messages })
}

/// Validates a version-2 stream's framing and checksums (not the messages' codes).
pub fn summary(bytes: &[u8]) -> Result<StreamSummary> {
    let (header, chunks) = frames(bytes)?;
    Ok(StreamSummary { version: 2, header, chunks: chunks.iter().map(ChunkFrame::summary).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Family;
    use crate::method::Method;

    fn header(sample_type: SampleType) -> Header {
        Header {
            method: Method::GprsBranch,
            target_family: Family::Normal,
            proposal_family: Family::Normal,
            seed: 7,
            index_offset: 3,
            method_parameter: 0,
            shape: vec![4],
            sample_type,
        }
    }

    #[test]
    fn the_sample_type_is_flags_bit_0_and_other_flags_are_corrupt() {
        for sample_type in [SampleType::Float64, SampleType::Float32] {
            let bytes = write_header(&header(sample_type));
            assert_eq!(bytes[8], (sample_type == SampleType::Float32) as u8);
            assert_eq!(header_of(&bytes).unwrap(), header(sample_type));
        }
        let mut bytes = write_header(&header(SampleType::Float64));
        bytes[8] = 0x02;
        let end = bytes.len() - 4;
        let checksum = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&checksum.to_le_bytes());
        let error = header_of(&bytes).unwrap_err();
        assert!(matches!(&error, RecError::CorruptStream(m) if m.contains("flags 0x02")), "{error:?}");
    }
}

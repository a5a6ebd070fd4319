//! Bytes in, bytes out: a batch of pairs to a container, and a container back to samples.
//!
//! [`encode_to_bytes`] runs the elements' searches ([`crate::batch`]) and codes their
//! messages into a container of the requested version, chunk by chunk; [`decode_from_bytes`]
//! validates a container of either version, decodes its chunks' messages in parallel and
//! replays the samples. Both run on the pool of the requested thread count and give the same
//! bytes and samples for every thread count.


use rayon::prelude::*;

use crate::batch::{
    check_proposals, decode_element, decode_pairs, encode_pairs_until, encode_validated, map_elements,
    map_elements_until, validate_pairs, with_threads, BatchControl, Distributions, EncodeSettings, Pairs,
};
use crate::code::chunk::{encode_chunk, CodedChunk};
use crate::sampler::Encoded;
use crate::code::container::v2::in_chunk;
use crate::code::container::v2::ChunkFrame;
use crate::code::container::{self, v1, v2, Container, Header};
use crate::error::{RecError, Result};

/// A batch encoded into a container.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEncoding {
    /// The samples the decoder reconstructs.
    pub samples: Vec<f64>,
    /// Steps each element's search examined.
    pub steps: Vec<u64>,
    /// Each element's share of the payload bits (they sum to the payload's length in bits).
    pub bits: Vec<f64>,
    /// The container.
    pub bytes: Vec<u8>,
}

impl StreamEncoding {
    /// Bits of the container that are not payload: header, chunk framing, models, checksums.
    pub fn header_bits(&self) -> f64 {
        8.0 * self.bytes.len() as f64 - self.bits.iter().sum::<f64>()
    }
}

/// Encodes a batch of pairs of the given shape into a container (`settings.format_version`
/// 1 or 2), stopping with [`RecError::Interrupted`] once `control` is stopped.
///
/// A version-2 stream is encoded chunk by chunk ([`encode_frames`]): beside the per-element
/// outputs and the bytes, only one chunk's messages are held at a time.
pub fn encode_to_bytes(
    pairs: &Pairs<'_>,
    settings: &EncodeSettings,
    shape: Vec<u64>,
    control: &BatchControl,
) -> Result<StreamEncoding> {
    if !container::FORMAT_VERSIONS.contains(&settings.format_version) {
        return Err(RecError::InvalidParameter(format!(
            "format_version = {}; this build writes versions 1 and 2",
            settings.format_version
        )));
    }
    settings.check()?;
    let header = settings.header(pairs.target.family, pairs.proposal.family, shape);
    if settings.format_version == 1 {
        let encoding = encode_pairs_until(pairs, settings, control)?;
        let (bytes, lengths) = v1::write(&header, &encoding.messages)?;
        let bits = lengths.into_iter().map(f64::from).collect();
        return Ok(StreamEncoding { samples: encoding.samples, steps: encoding.steps, bits, bytes });
    }
    header.check_for_writing(pairs.len()?)?;
    let mut bytes = v2::write_header(&header);
    let results = with_threads(settings.threads, || {
        validate_pairs(pairs, 0)?;
        encode_frames(&mut bytes, pairs, settings, 0, 0, control)
    })??;
    Ok(StreamEncoding { samples: results.samples, steps: results.steps, bits: results.bits, bytes })
}

/// The per-element results of encoding a run of elements.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElementResults {
    /// The samples the decoder reconstructs.
    pub samples: Vec<f64>,
    /// Steps each element's search examined.
    pub steps: Vec<u64>,
    /// Each element's share of its chunk's payload bits.
    pub bits: Vec<f64>,
    /// The number of chunk frames written.
    pub chunks: usize,
}

/// Encodes `pairs` — the stream's elements `first_element ..` — as version-2 chunk frames of
/// at most `settings.chunk_elements` elements, appended to `out`; the first is chunk number
/// `first_chunk` (for error messages). Every frame is exactly the one a whole-batch encoding
/// with the same chunk boundaries writes, so streams assembled from runs (a writer's pieces,
/// a cluster's blocks) equal one [`encode_to_bytes`] call. Chunks are searched one after
/// another, each one's elements in parallel on the current pool; the pairs must have been
/// validated ([`validate_pairs`]) and errors name the stream's element index.
pub fn encode_frames(
    out: &mut Vec<u8>,
    pairs: &Pairs<'_>,
    settings: &EncodeSettings,
    first_element: u64,
    first_chunk: usize,
    control: &BatchControl,
) -> Result<ElementResults> {
    let count = pairs.len()?;
    settings.check()?;
    v2::check_chunk_elements(settings.chunk_elements)?;
    let header = settings.header(pairs.target.family, pairs.proposal.family, Vec::new());
    let code = settings.method.spec().code;
    let mut results = ElementResults::default();
    let allocation_failed =
        |_| RecError::InvalidParameter(format!("cannot allocate the outputs of {count} elements"));
    results.samples.try_reserve_exact(count).map_err(allocation_failed)?;
    results.steps.try_reserve_exact(count).map_err(allocation_failed)?;
    results.bits.try_reserve_exact(count).map_err(allocation_failed)?;
    let chunk_elements = settings.chunk_elements as usize;
    // Chunk k's messages are coded (one thread) while chunk k + 1 is searched (the others), so
    // the serial coding does not cap the speed-up from more threads.
    let search = |start: usize| {
        let length = chunk_elements.min(count - start);
        let first = first_element + start as u64;
        let part = pairs.slice(start, length);
        map_elements_until(length, control, |i| encode_validated(&part, settings, i, first + i as u64)).map(|e| (start, e))
    };
    let code_chunk = |(start, encoded): (usize, Vec<Encoded>)| {
        let first = first_element + start as u64;
        let number = first_chunk + start / chunk_elements;
        let messages: Vec<_> = encoded.iter().map(|e| e.message).collect();
        encode_chunk(code, &messages, |i| header.element_context(first + i as u64))
            .map(|coded| (first, encoded, coded))
            .map_err(|e| in_chunk(e, number, first, messages.len() as u64))
    };
    let mut write = |(first, encoded, coded): (u64, Vec<Encoded>, CodedChunk)| {
        v2::write_chunk_frame(out, first, &coded);
        results.samples.extend(encoded.iter().map(|e| e.sample));
        results.steps.extend(encoded.iter().map(|e| e.steps));
        results.bits.extend_from_slice(&coded.element_bits);
        results.chunks += 1;
    };
    let mut pending = None;
    for start in (0..count).step_by(chunk_elements) {
        let (coded, searched) = rayon::join(|| pending.take().map(code_chunk), || search(start));
        // The earlier chunk's error comes first in element order.
        if let Some(coded) = coded {
            write(coded?);
        }
        pending = Some(searched?);
    }
    if let Some(last) = pending {
        write(code_chunk(last)?);
    }
    Ok(results)
}

/// Decodes a container of either version against the proposals (of the stream's proposal
/// family, broadcast to its element count).
///
/// A version-2 stream is decoded chunk by chunk, the chunks in parallel, each straight into
/// its part of the output, so that beside the output only the chunks in flight hold
/// messages. When several chunks are corrupt, the error is the lowest-numbered one's, for
/// every thread count.
pub fn decode_from_bytes(bytes: &[u8], proposal: &Distributions<'_>, threads: Option<usize>) -> Result<Vec<f64>> {
    if container::version_of(bytes)? == 1 {
        let parsed = with_threads(threads, || Container::parse(bytes))??;
        return decode_pairs(&parsed.header, &parsed.messages, proposal, threads);
    }
    let (header, chunks) = v2::frames(bytes)?;
    let count = usize::try_from(header.element_count()?)
        .map_err(|_| RecError::InvalidParameter("the stream has too many elements for this machine".into()))?;
    check_proposals(&header, proposal, count)?;
    let mut samples: Vec<f64> = Vec::new();
    samples.try_reserve_exact(count).map_err(|_| {
        RecError::InvalidParameter(format!("cannot allocate the {count} samples the stream declares"))
    })?;
    samples.resize(count, 0.0);
    let mut parts = Vec::with_capacity(chunks.len());
    let mut rest = samples.as_mut_slice();
    for chunk in &chunks {
        // The chunks cover the count exactly (validated by the framing).
        let (part, tail) = rest.split_at_mut(chunk.element_count as usize);
        parts.push(part);
        rest = tail;
    }
    let results: Vec<Result<()>> = with_threads(threads, || {
        chunks
            .par_iter()
            .zip(parts)
            .map(|(chunk, part)| {
                let proposal = proposal.slice(chunk.first_element as usize, part.len());
                decode_chunk_into(&header, chunk, &proposal, part)
            })
            .collect()
    })?;
    results.into_iter().collect::<Result<()>>()?;
    Ok(samples)
}

/// Decodes one validated chunk of a version-2 stream into `out` (its element count long),
/// against the proposals of its elements (`proposal.at(i)` for its element i: one shared
/// value or one per element), its elements in parallel on the current pool.
pub fn decode_chunk_into(header: &Header, chunk: &ChunkFrame<'_>, proposal: &Distributions<'_>, out: &mut [f64]) -> Result<()> {
    let count = chunk.element_count as usize;
    if out.len() != count {
        return Err(RecError::ShapeMismatch(format!("{} outputs for a chunk of {count} elements", out.len())));
    }
    proposal.check_length(count, "proposal")?;
    let messages = chunk.decode(header, None)?;
    let first = chunk.first_element;
    let decoded = map_elements(count, |i| decode_element(header, proposal, i, first + i as u64, &messages[i]))?;
    out.copy_from_slice(&decoded);
    Ok(())
}

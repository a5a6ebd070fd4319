//! Bytes in, bytes out: a batch of pairs to a container, and a container back to samples.
//!
//! [`encode_to_bytes`] runs every element's search ([`crate::batch`]), then codes the
//! messages chunk by chunk into a container of the requested version; [`decode_from_bytes`]
//! validates a container of either version, decodes its chunks' messages in parallel and
//! replays the samples. Both run on the pool of the requested thread count and give the same
//! bytes and samples for every thread count.

use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

use crate::batch::{
    check_proposals, decode_element, decode_pairs, encode_pairs_until, map_elements, with_threads, Distributions,
    EncodeSettings, Pairs,
};
use crate::code::container::{self, v1, v2, Container};
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
/// 1 or 2), stopping with [`RecError::Interrupted`] once `stop` is set.
pub fn encode_to_bytes(
    pairs: &Pairs<'_>,
    settings: &EncodeSettings,
    shape: Vec<u64>,
    stop: &AtomicBool,
) -> Result<StreamEncoding> {
    if !container::FORMAT_VERSIONS.contains(&settings.format_version) {
        return Err(RecError::InvalidParameter(format!(
            "format_version = {}; this build writes versions 1 and 2",
            settings.format_version
        )));
    }
    let header = settings.header(pairs.target.family, pairs.proposal.family, shape);
    let encoding = encode_pairs_until(pairs, settings, stop)?;
    let (bytes, bits) = match settings.format_version {
        1 => {
            let (bytes, lengths) = v1::write(&header, &encoding.messages)?;
            (bytes, lengths.into_iter().map(f64::from).collect())
        }
        _ => with_threads(settings.threads, || v2::write(&header, &encoding.messages, settings.chunk_elements, None))??,
    };
    Ok(StreamEncoding { samples: encoding.samples, steps: encoding.steps, bits, bytes })
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
                let messages = chunk.decode(&header, None)?;
                let first = chunk.first_element as usize;
                let decoded = map_elements(part.len(), |i| decode_element(&header, proposal, first + i, &messages[i]))?;
                part.copy_from_slice(&decoded);
                Ok(())
            })
            .collect()
    })?;
    results.into_iter().collect::<Result<()>>()?;
    Ok(samples)
}

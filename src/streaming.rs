//! Streams of any length: version-2 streams written piece by piece and read chunk by chunk,
//! with memory bounded by a chunk rather than the stream.
//!
//! Writing needs no state beyond the stream's settings: [`stream_header`] gives the header
//! bytes and [`crate::codec::encode_frames`] the frames of each piece of targets, which are
//! the frames a whole-batch encoding with the same chunk boundaries writes. [`StreamReader`]
//! reads a stream from any [`Read`]: the header first, then one chunk frame per call, each
//! validated (bounds, checksum) before it is decoded with [`crate::codec::decode_chunk_into`].
//!
//! A chunk whose checksum or fields fail is returned as [`ChunkRead::Corrupt`] with its number
//! and element range, and reading can go on with the next chunk: its frame's length fields
//! located it. A stream whose length fields are corrupt (a frame longer than its bound, the
//! bytes ending inside a frame, a chunk not starting where the one before it ended) cannot be
//! resynchronised, and the reader raises.

use std::io::{ErrorKind, Read};

use crate::batch::EncodeSettings;
use crate::code::container::v2::{self, ChunkFrame, MAX_CHUNK_ELEMENTS};
use crate::code::container::{Fields, Header, MAGIC, MAX_DIMENSIONS};
use crate::distribution::Family;
use crate::error::{corrupt, RecError, Result};

/// The longest model a chunk frame may declare (fitted tables take a few hundred bytes).
pub const MAX_MODEL_BYTES: u64 = 1 << 20;
/// The most payload bytes per element a chunk frame may declare (the longest universal code,
/// a 127-bit heap index, takes 19 bytes).
pub const MAX_PAYLOAD_BYTES_PER_ELEMENT: u64 = 64;

/// The header of a version-2 stream of `shape` encoded with `settings`, for streams written
/// piece by piece; checks the shape and the method parameter.
pub fn stream_header(settings: &EncodeSettings, target_family: Family, proposal_family: Family, shape: Vec<u64>) -> Result<Vec<u8>> {
    let header = settings.header(target_family, proposal_family, shape);
    let count = header.element_count().map_err(|e| RecError::ShapeMismatch(e.message().to_owned()))?;
    let count = usize::try_from(count).map_err(|_| RecError::ShapeMismatch("too many elements for this machine".into()))?;
    header.check_for_writing(count)?;
    Ok(v2::write_header(&header))
}

/// One chunk as read from a stream: its validated frame bytes, or why it is corrupt.
#[derive(Debug)]
pub enum ChunkRead {
    /// A chunk whose framing and checksum hold.
    Frame(OwnedFrame),
    /// A chunk located by its length fields whose contents fail validation.
    Corrupt {
        /// Its position among the chunks.
        number: usize,
        /// The first element it should hold (where the chunk before it ended).
        first_element: u64,
        /// The element count it declares (clamped to the elements that remain).
        element_count: u64,
        /// What failed.
        error: RecError,
    },
}

/// A chunk frame's bytes, validated; [`frame`](Self::frame) parses it for decoding.
#[derive(Clone, Debug)]
pub struct OwnedFrame {
    /// Its position among the chunks.
    pub number: usize,
    /// Index of its first element.
    pub first_element: u64,
    /// Its number of elements.
    pub element_count: u64,
    bytes: Vec<u8>,
    remaining: u64,
}

impl OwnedFrame {
    /// The parsed frame.
    pub fn frame(&self) -> Result<ChunkFrame<'_>> {
        let mut fields = Fields::new(&self.bytes);
        v2::read_chunk(&mut fields, &self.bytes, self.number, self.first_element, self.first_element + self.remaining)
    }

    /// The frame's bytes, exactly as stored in the stream.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A frame's bytes as read, before validation.
#[derive(Debug)]
struct RawFrame {
    bytes: Vec<u8>,
    stored_first: u64,
    declared: u64,
}

/// Reads a version-2 stream chunk by chunk from `R`.
pub struct StreamReader<R: Read> {
    source: R,
    header: Header,
    count: u64,
    covered: u64,
    chunks: usize,
    finished: bool,
    /// A frame read ahead to find where a corrupt chunk ends.
    pending: Option<RawFrame>,
}

impl<R: Read> StreamReader<R> {
    /// Reads and validates the header. Version-1 streams, which have one payload, are refused
    /// (decode them whole).
    pub fn new(mut source: R) -> Result<Self> {
        let mut bytes = Vec::with_capacity(64);
        read_exact_into(&mut source, &mut bytes, 5, "header")?;
        if bytes[..4] != MAGIC {
            return Err(corrupt!("not a rec_fast stream (magic bytes {:02x?})", &bytes[..4]));
        }
        if bytes[4] == 1 {
            return Err(RecError::InvalidParameter(
                "a format version 1 stream cannot be read chunk by chunk (only version 2 has chunks); decode it whole".into(),
            ));
        }
        if bytes[4] != 2 {
            return Err(corrupt!("unsupported format version {}; this build reads versions 1 and 2", bytes[4]));
        }
        // method, families, flags; seed, index offset, method parameter; dimensions; extents.
        read_exact_into(&mut source, &mut bytes, 4, "header")?;
        for what in ["seed", "index offset", "method parameter"] {
            read_varint_into(&mut source, &mut bytes, what)?;
        }
        read_exact_into(&mut source, &mut bytes, 1, "dimension count")?;
        let dimensions = bytes[bytes.len() - 1] as usize;
        if dimensions > MAX_DIMENSIONS {
            return Err(corrupt!("{dimensions} dimensions exceed the maximum of {MAX_DIMENSIONS}"));
        }
        for _ in 0..dimensions {
            read_varint_into(&mut source, &mut bytes, "shape")?;
        }
        read_exact_into(&mut source, &mut bytes, 4, "header checksum")?;
        let header = v2::read_header(&mut Fields::new(&bytes), &bytes)?;
        let count = header.element_count()?;
        let mut reader = StreamReader { source, header, count, covered: 0, chunks: 0, finished: count == 0, pending: None };
        if reader.finished {
            reader.check_end()?;
        }
        Ok(reader)
    }

    /// A reader of the chunk frames that follow element `first_element` of a stream with
    /// `header`, ending after element `end_element` − 1, the first being chunk number
    /// `first_chunk` of the stream (for decoding part of a stream, such as one block of a
    /// cluster's array, from its frames alone).
    pub fn frames_of(header: Header, source: R, first_element: u64, end_element: u64, first_chunk: usize) -> Result<Self> {
        let count = header.element_count()?;
        if !(first_element <= end_element && end_element <= count) {
            return Err(RecError::InvalidParameter(format!(
                "elements {first_element}..{end_element} are not within the stream's {count}"
            )));
        }
        Ok(StreamReader {
            source,
            header,
            count: end_element,
            covered: first_element,
            chunks: first_chunk,
            finished: first_element == end_element,
            pending: None,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The elements the chunks read so far cover.
    pub fn elements_read(&self) -> u64 {
        self.covered
    }

    /// The source the stream is read from.
    pub fn source_mut(&mut self) -> &mut R {
        &mut self.source
    }

    /// The next chunk, or `None` after the last one. Errors end the stream: bytes after the
    /// declared elements, bytes ending before them, or a frame that cannot be located.
    ///
    /// A corrupt chunk's element count is not trusted: its range ends where the next frame,
    /// read ahead, says it starts when that frame's checksum holds (else at the count it
    /// declares, clamped to the elements left), so a damaged count field costs only its chunk.
    pub fn next_chunk(&mut self) -> Result<Option<ChunkRead>> {
        if self.finished {
            return Ok(None);
        }
        let number = self.chunks;
        let (first, remaining) = (self.covered, self.count - self.covered);
        let raw = match self.pending.take() {
            Some(raw) => raw,
            None => self.read_raw_frame()?.ok_or_else(|| {
                corrupt!("truncated stream: its chunks cover {first} of the {} elements", self.count)
            })?,
        };
        let owned = OwnedFrame {
            number,
            first_element: first,
            element_count: raw.declared.min(remaining),
            bytes: raw.bytes,
            remaining,
        };
        let chunk = match owned.frame() {
            Ok(_) => ChunkRead::Frame(owned),
            // A frame whose checksum holds is as its writer wrote it: if it still fails (it
            // starts elsewhere, say), the stream is not one rec_fast wrote or it lost frames.
            Err(error) if checksum_holds(&owned.bytes) => return Err(error),
            Err(error) => {
                let next = self.read_raw_frame()?;
                let end = match &next {
                    None => self.count,
                    Some(next) if checksum_holds(&next.bytes) && next.stored_first > first && next.stored_first <= self.count => {
                        next.stored_first
                    }
                    Some(_) => first + owned.element_count,
                };
                self.pending = next;
                ChunkRead::Corrupt { number, first_element: first, element_count: end - first, error }
            }
        };
        let element_count = match &chunk {
            ChunkRead::Frame(owned) => owned.element_count,
            ChunkRead::Corrupt { element_count, .. } => *element_count,
        };
        self.chunks += 1;
        self.covered += element_count;
        if self.covered == self.count {
            self.finished = true;
            if self.pending.is_some() {
                return Err(self.trailing_bytes());
            }
            self.check_end()?;
        }
        Ok(Some(chunk))
    }

    /// The next frame's bytes with its stored first element and declared count, `None` when
    /// the bytes end before it; every length is bounded before what it declares is read.
    fn read_raw_frame(&mut self) -> Result<Option<RawFrame>> {
        let (number, first) = (self.chunks + usize::from(self.pending.is_some()), self.covered);
        let located = |e: RecError| match e {
            RecError::CorruptStream(m) => RecError::CorruptStream(format!("chunk {number} (from element {first}): {m}")),
            other => other,
        };
        let mut bytes = Vec::new();
        let mut probe = [0u8; 1];
        loop {
            match self.source.read(&mut probe) {
                Ok(0) => return Ok(None),
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            }
        }
        let mut source = probe.chain(&mut self.source);
        let stored_first = read_varint_into(&mut source, &mut bytes, "chunk's first element").map_err(located)?;
        let declared = read_varint_into(&mut source, &mut bytes, "chunk's element count").map_err(located)?;
        if declared == 0 || declared > MAX_CHUNK_ELEMENTS {
            return Err(located(corrupt!("the chunk declares {declared} elements (1 … {MAX_CHUNK_ELEMENTS} allowed)")));
        }
        read_exact_into(&mut source, &mut bytes, 1, "chunk coding").map_err(located)?;
        let model_length = read_varint_into(&mut source, &mut bytes, "model length").map_err(located)?;
        if model_length > MAX_MODEL_BYTES {
            return Err(located(corrupt!("the chunk declares a {model_length}-byte model (at most {MAX_MODEL_BYTES})")));
        }
        read_exact_into(&mut source, &mut bytes, model_length as usize, "model").map_err(located)?;
        let payload_bits = read_varint_into(&mut source, &mut bytes, "payload length").map_err(located)?;
        let payload_bytes = payload_bits.div_ceil(8);
        if payload_bytes > declared * MAX_PAYLOAD_BYTES_PER_ELEMENT + 64 {
            return Err(located(corrupt!(
                "the chunk declares {payload_bytes} payload bytes for {declared} elements \
                 (at most {MAX_PAYLOAD_BYTES_PER_ELEMENT} per element)"
            )));
        }
        read_exact_into(&mut source, &mut bytes, payload_bytes as usize, "payload").map_err(located)?;
        read_exact_into(&mut source, &mut bytes, 4, "chunk checksum").map_err(located)?;
        Ok(Some(RawFrame { bytes, stored_first, declared }))
    }

    fn trailing_bytes(&self) -> RecError {
        corrupt!("trailing bytes after the last chunk: the chunks already cover all {} elements", self.count)
    }

    /// After the last declared element, the bytes must end.
    fn check_end(&mut self) -> Result<()> {
        let mut extra = [0u8; 1];
        loop {
            match self.source.read(&mut extra) {
                Ok(0) => return Ok(()),
                Ok(_) => return Err(self.trailing_bytes()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e)),
            }
        }
    }
}

fn checksum_holds(frame: &[u8]) -> bool {
    let (body, stored) = frame.split_at(frame.len() - 4);
    crate::code::container::crc32(body).to_le_bytes() == stored
}

fn read_error(error: std::io::Error) -> RecError {
    RecError::InvalidParameter(format!("reading the stream failed: {error}"))
}

/// Appends exactly `count` bytes of `source` to `out`; the source ending first is a truncated
/// stream. Reads through `take`, so a corrupt length costs no allocation beyond the bytes there are.
fn read_exact_into<R: Read>(source: &mut R, out: &mut Vec<u8>, count: usize, what: &str) -> Result<()> {
    let start = out.len();
    source.by_ref().take(count as u64).read_to_end(out).map_err(read_error)?;
    if out.len() - start != count {
        return Err(corrupt!("truncated stream: the bytes end inside the {what} field"));
    }
    Ok(())
}

/// Reads an unsigned LEB128 varint byte by byte, appending its bytes to `out`; the value is
/// checked (shortest form, 64 bits) by the frame's parser afterwards.
fn read_varint_into<R: Read>(source: &mut R, out: &mut Vec<u8>, what: &str) -> Result<u64> {
    let start = out.len();
    for _ in 0..10 {
        read_exact_into(source, out, 1, what)?;
        if out[out.len() - 1] & 0x80 == 0 {
            return Fields::new(&out[start..]).varint(what);
        }
    }
    Err(corrupt!("the {what} field overflows 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{validate_pairs, BatchControl, Distributions, Pairs};
    use crate::codec::{decode_chunk_into, encode_frames, encode_to_bytes};
    use crate::method::Method;

    fn stream(count: usize, chunk_elements: u64) -> (Vec<f64>, Vec<u8>, Vec<f64>) {
        let loc: Vec<f64> = (0..count).map(|i| ((i * 37) % 101) as f64 / 60.0 - 0.8).collect();
        let scale: Vec<f64> = (0..count).map(|i| 0.05 + ((i * 13) % 7) as f64 / 40.0).collect();
        let pairs = Pairs {
            target: Distributions { family: Family::Normal, first: &loc, second: &scale },
            proposal: Distributions { family: Family::Normal, first: &[0.0], second: &[1.0] },
        };
        let mut settings = EncodeSettings::new(Method::GprsBranch, 3);
        settings.chunk_elements = chunk_elements;
        let whole = encode_to_bytes(&pairs, &settings, vec![count as u64], &BatchControl::new()).unwrap();
        // The same stream from a header and pieces of uneven lengths (each a multiple of the chunk size).
        let mut pieces = stream_header(&settings, Family::Normal, Family::Normal, vec![count as u64]).unwrap();
        let mut start = 0;
        let mut chunks = 0;
        for length in [2 * chunk_elements as usize, chunk_elements as usize, count] {
            let length = length.min(count - start);
            let part = pairs.slice(start, length);
            validate_pairs(&part, start as u64).unwrap();
            let results = encode_frames(&mut pieces, &part, &settings, start as u64, chunks, &BatchControl::new()).unwrap();
            assert_eq!(results.samples, whole.samples[start..start + length]);
            chunks += results.chunks;
            start += length;
        }
        assert_eq!(pieces, whole.bytes);
        (whole.samples, whole.bytes, vec![0.0, 1.0])
    }

    fn read_all(bytes: &[u8]) -> Result<(Vec<f64>, Vec<(usize, u64, u64)>)> {
        let mut reader = StreamReader::new(bytes)?;
        let header = reader.header().clone();
        let proposal = Distributions { family: Family::Normal, first: &[0.0], second: &[1.0] };
        let (mut samples, mut skipped) = (Vec::new(), Vec::new());
        while let Some(chunk) = reader.next_chunk()? {
            match chunk {
                ChunkRead::Frame(owned) => {
                    let mut part = vec![0.0; owned.element_count as usize];
                    decode_chunk_into(&header, &owned.frame()?, &proposal, &mut part)?;
                    samples.extend(part);
                }
                ChunkRead::Corrupt { number, first_element, element_count, .. } => {
                    skipped.push((number, first_element, element_count));
                    samples.extend(std::iter::repeat_n(f64::NAN, element_count as usize));
                }
            }
        }
        Ok((samples, skipped))
    }

    #[test]
    fn pieces_make_the_whole_stream_and_the_reader_decodes_it() {
        let (samples, bytes, _) = stream(1000, 64);
        let (decoded, skipped) = read_all(&bytes).unwrap();
        assert_eq!(decoded, samples);
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_corrupt_payload_is_reported_and_the_next_chunk_read() {
        let (samples, mut bytes, _) = stream(640, 64);
        // A byte near the end of chunk 4's payload (chunks are about equally long).
        let (header, frames) = v2::frames(&bytes).unwrap();
        assert_eq!(header.element_count().unwrap(), 640);
        let offset = frames[4].payload.as_ptr() as usize - bytes.as_ptr() as usize + 3;
        bytes[offset] ^= 0x10;
        let (decoded, skipped) = read_all(&bytes).unwrap();
        assert_eq!(skipped, vec![(4, 256, 64)]);
        for (i, (a, b)) in decoded.iter().zip(&samples).enumerate() {
            if (256..320).contains(&i) {
                assert!(a.is_nan());
            } else {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn truncations_and_trailing_bytes_are_errors() {
        let (_, bytes, _) = stream(200, 64);
        for cut in [0, 3, 10, bytes.len() / 2, bytes.len() - 1] {
            let error = read_all(&bytes[..cut]).unwrap_err();
            assert!(matches!(error, RecError::CorruptStream(_)), "cut {cut}: {error:?}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_all(&longer).unwrap_err().message().contains("trailing bytes"));
    }
}

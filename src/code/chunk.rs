//! The chunk coder: a run of consecutive elements' messages as one independently decodable
//! unit, with the cheaper of two codings.
//!
//! * **Range-coded** (coding 1): the message code's table fitted to the chunk and stored in
//!   it ([`ChunkTable`](super::message_code::ChunkTable): a class table, or stop probabilities), then every message coded with
//!   it in one range coder stream ([`super::entropy`]).
//! * **Universal** (coding 0): the message code's version-1 bit-level codes, no model — the
//!   choice for chunks so small that a table and the range coder's final word would dominate.
//!
//! For chunks of at most [`UNIVERSAL_CANDIDATES`] elements the encoder writes both and keeps
//! the shorter (model bytes plus payload bytes; the universal coding on a tie); longer chunks
//! are range-coded. So a one-element stream costs a few bytes and a long one sits at the
//! information content of its messages under the fitted model.

use super::entropy::{RangeSink, RangeSource};
use super::message_code::MessageCode;
use super::{BitReader, BitWriter};
use crate::error::{corrupt, Result};
use crate::message::{ElementContext, Message};

/// How a chunk's messages are coded (its stored id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// The version-1 element codes, concatenated MSB first (id 0).
    Universal,
    /// A fitted class table and one range coder stream (id 1).
    Range,
}

impl Coding {
    /// The stored id.
    pub fn id(self) -> u8 {
        match self {
            Coding::Universal => 0,
            Coding::Range => 1,
        }
    }

    /// Parses a stored id.
    pub fn from_id(id: u8) -> Option<Coding> {
        match id {
            0 => Some(Coding::Universal),
            1 => Some(Coding::Range),
            _ => None,
        }
    }

    /// The name used in stream summaries.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Universal => "universal",
            Coding::Range => "range",
        }
    }
}

/// A coded chunk, before framing.
#[derive(Clone, Debug, PartialEq)]
pub struct CodedChunk {
    /// The coding chosen.
    pub coding: Coding,
    /// The stored model parameters (empty for the universal coding).
    pub model: Vec<u8>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The payload length in bits (8 × bytes for the range coding).
    pub payload_bits: u64,
    /// Each element's share of the payload bits (they sum to `payload_bits`).
    pub element_bits: Vec<f64>,
}

impl CodedChunk {
    fn stored_bytes(&self) -> usize {
        self.model.len() + self.payload.len()
    }
}

/// Chunks of at most this many elements are also written with the universal codes, and the
/// shorter coding is kept; longer chunks are always range-coded (a table costs a few dozen
/// bytes, which a longer chunk's savings of 1–3 bits per element repay many times).
pub const UNIVERSAL_CANDIDATES: usize = 256;

/// Codes a chunk of messages; `context(i)` is what the decoder will know of element i.
pub fn encode_chunk<F>(code: &dyn MessageCode, messages: &[Message], context: F) -> Result<CodedChunk>
where
    F: Fn(usize) -> ElementContext,
{
    // The range coding validates every message first.
    let range = encode_range(code, messages, &context)?;
    if messages.len() > UNIVERSAL_CANDIDATES {
        return Ok(range);
    }
    let universal = encode_universal(code, messages, &context);
    Ok(if range.stored_bytes() < universal.stored_bytes() { range } else { universal })
}

fn encode_universal<F: Fn(usize) -> ElementContext>(code: &dyn MessageCode, messages: &[Message], context: &F) -> CodedChunk {
    let mut writer = BitWriter::new();
    let mut element_bits = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let start = writer.bit_length();
        code.write_universal(&mut writer, message, &context(i));
        element_bits.push((writer.bit_length() - start) as f64);
    }
    let payload_bits = writer.bit_length();
    CodedChunk { coding: Coding::Universal, model: Vec::new(), payload: writer.into_bytes(), payload_bits, element_bits }
}

fn encode_range<F: Fn(usize) -> ElementContext>(code: &dyn MessageCode, messages: &[Message], context: &F) -> Result<CodedChunk> {
    let contexts: Vec<ElementContext> = (0..messages.len()).map(context).collect();
    let mut sink = RangeSink::default();
    let (table, information) = code.write_chunk(&mut sink, messages, &contexts)?;
    let mut model_writer = BitWriter::new();
    table.write(&mut model_writer);
    let payload = sink.into_bytes();
    let payload_bits = 8 * payload.len() as u64;
    let total: f64 = information.iter().sum();
    let element_bits = if total > 0.0 {
        let scale = payload_bits as f64 / total;
        information.iter().map(|bits| bits * scale).collect()
    } else {
        vec![payload_bits as f64 / messages.len().max(1) as f64; messages.len()]
    };
    Ok(CodedChunk { coding: Coding::Range, model: model_writer.into_bytes(), payload, payload_bits, element_bits })
}

/// Decodes the `count` messages of a chunk.
pub fn decode_chunk<F>(
    code: &dyn MessageCode,
    coding: Coding,
    model: &[u8],
    payload: &[u8],
    payload_bits: u64,
    count: usize,
    context: F,
) -> Result<Vec<Message>>
where
    F: Fn(usize) -> ElementContext,
{
    let mut messages = Vec::with_capacity(count);
    match coding {
        Coding::Universal => {
            if !model.is_empty() {
                return Err(corrupt!("a universal-coded chunk carries {} model bytes", model.len()));
            }
            let mut reader = BitReader::new(payload, payload_bits);
            for i in 0..count {
                messages.push(code.read_universal(&mut reader, &context(i)).map_err(|e| e.at_element(i))?);
            }
            if reader.remaining() != 0 {
                return Err(corrupt!("{} payload bits are left after the last of {count} codes", reader.remaining()));
            }
        }
        Coding::Range => {
            if payload_bits != 8 * payload.len() as u64 {
                return Err(corrupt!("a range-coded payload of {payload_bits} bits is not whole bytes"));
            }
            let mut model_reader = BitReader::new(model, 8 * model.len() as u64);
            let table = code.read_table(&mut model_reader)?;
            if model_reader.remaining() >= 8 || (0..model_reader.remaining()).any(|_| model_reader.read_bit() != Some(0)) {
                return Err(corrupt!("the chunk's model has trailing bytes or nonzero padding"));
            }
            let model = table.model();
            let mut source = RangeSource::new(payload)?;
            for i in 0..count {
                messages.push(code.read(&mut source, &model, &context(i)).map_err(|e| e.at_element(i))?);
            }
            if !source.finished() {
                return Err(corrupt!("the range-coded payload has data after the last of {count} messages"));
            }
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::message_code::{ArrivalCode, DyadicPathCode, ProcessArrivalCode, SplitPathCode};
    use crate::message::SplitDraws;

    fn context(i: usize) -> ElementContext {
        ElementContext { seed: 3, stream_index: i as u64, method_parameter: 5, model_parameter: None }
    }

    fn round_trip(code: &dyn MessageCode, messages: &[Message]) {
        let range = encode_range(code, messages, &context).unwrap();
        let universal = encode_universal(code, messages, &context);
        for chunk in [&range, &universal] {
            let shares: f64 = chunk.element_bits.iter().sum();
            assert!((shares - chunk.payload_bits as f64).abs() < 1e-6 * (1.0 + shares));
            let decoded = decode_chunk(
                code, chunk.coding, &chunk.model, &chunk.payload, chunk.payload_bits, messages.len(), context,
            )
            .unwrap();
            assert!(decoded == messages, "{:?} chunk of {} messages", chunk.coding, messages.len());
        }
        let chosen = encode_chunk(code, messages, context).unwrap();
        if messages.len() <= UNIVERSAL_CANDIDATES {
            assert_eq!(chosen.stored_bytes(), range.stored_bytes().min(universal.stored_bytes()));
        } else {
            assert_eq!(chosen, range);
        }
    }

    fn pseudo_random(count: usize, seed: u64) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = crate::random::splitmix64(state);
                state
            })
            .collect()
    }

    #[test]
    fn every_code_round_trips_in_both_codings() {
        let draws = pseudo_random(3000, 1);
        let arrivals: Vec<Message> = draws.iter().map(|d| Message::Arrival(1 + (d >> (40 + d % 24)))).collect();
        let nodes: Vec<Message> = draws.iter().map(|d| Message::Node(1u128 << (d % 30) | (*d as u128 & 0xff))).collect();
        let parallel: Vec<Message> =
            draws.iter().map(|d| Message::ProcessArrival { process: (d % 5) as u32, arrival: 1 + (d >> 50) }).collect();
        for (code, messages) in [
            (&ArrivalCode as &dyn MessageCode, &arrivals),
            (&DyadicPathCode, &nodes),
            (&SplitPathCode(SplitDraws::ElementStream), &nodes),
            (&SplitPathCode(SplitDraws::NodeStreams), &nodes),
            (&ProcessArrivalCode, &parallel),
        ] {
            round_trip(code, messages);
            round_trip(code, &messages[..1]);
            // One element: the universal code is shorter than a table and a range coder word.
            assert_eq!(encode_chunk(code, &messages[..1], context).unwrap().coding, Coding::Universal);
        }
        // Many short arrival indices: the fitted table pays for itself.
        assert_eq!(encode_chunk(&ArrivalCode, &arrivals, context).unwrap().coding, Coding::Range);
        // One class only: the class costs nothing and a chunk of roots is empty.
        let roots = vec![Message::Node(1); 1000];
        let chunk = encode_chunk(&DyadicPathCode, &roots, context).unwrap();
        assert_eq!(chunk.payload_bits, 0);
        round_trip(&DyadicPathCode, &roots);
        round_trip(&DyadicPathCode, &[]);
    }

    #[test]
    fn messages_a_code_cannot_carry_are_errors() {
        assert!(encode_chunk(&ArrivalCode, &[Message::Node(3)], context).is_err());
        assert!(encode_chunk(&ArrivalCode, &[Message::Arrival(0)], context).is_err());
        assert!(encode_chunk(&DyadicPathCode, &[Message::Node(0)], context).is_err());
        let outside = Message::ProcessArrival { process: 5, arrival: 1 };
        assert!(encode_chunk(&ProcessArrivalCode, &[outside], context).is_err());
    }

    #[test]
    fn a_model_parameter_shifts_the_classes() {
        // Arrival indices whose bit length tracks a per-element budget need one class when
        // the budget is known to both sides.
        let budgets: Vec<f64> = (0..2000).map(|i| (i % 40) as f64).collect();
        let messages: Vec<Message> = budgets.iter().map(|&b| Message::Arrival(1u64 << (b as u32 + 1))).collect();
        let with = |i: usize| ElementContext { model_parameter: Some(budgets[i]), ..context(i) };
        let shifted = encode_chunk(&ArrivalCode, &messages, with).unwrap();
        let plain = encode_chunk(&ArrivalCode, &messages, context).unwrap();
        assert!(shifted.payload_bits + 5 * 2000 < plain.payload_bits, "{} vs {}", shifted.payload_bits, plain.payload_bits);
        let decoded =
            decode_chunk(&ArrivalCode, shifted.coding, &shifted.model, &shifted.payload, shifted.payload_bits, 2000, with)
                .unwrap();
        assert_eq!(decoded, messages);
    }
}

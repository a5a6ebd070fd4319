//! Message codes: how each kind of [`Message`] becomes bits.
//!
//! Each code fits a small table to a chunk's messages ([`ChunkTable`], stored in the chunk)
//! and codes every message with it. Most messages split into a **class** — the bit length of
//! an arrival index, or the depth of a node — coded with a fitted [`ClassTable`], and the
//! **rest**, coded with models that need no parameters:
//!
//! | code | messages | table | rest |
//! |---|---|---|---|
//! | [`ArrivalCode`] | n ≥ 1 (`"gprs"`, `"pfr"`) | classes: bit length of n | its bits after the leading 1, fair |
//! | [`DyadicPathCode`] | heap index H (`"gprs-dyadic"`) | classes: depth = bit length of H | the path bits, fair (each halves the P-mass) |
//! | [`ProcessArrivalCode`] | (j, n_j) (`"gprs-parallel"`) | classes: bit length of n_j | j uniform in [0, J), then n_j's bits after the leading 1 |
//! | [`SplitPathCode`] | heap index H (`"gprs-bb"`, `"astar-bb"`) | stop probabilities | level by level: stop or go on (P(stop) from the table, by the P-mass the path has discarded), then the path bit with P(0) = the left part's P-mass fraction, from the split draw of the level |
//!
//! With a per-element model parameter b (both sides know it, e.g. an expected KL in bits) the
//! coded class is the class minus round(b) clamped to [0, 127], so one class table serves
//! elements of different sizes.
//!
//! Each code also has a **universal** bit-level form that needs no model — the element codes
//! of format version 1 (Elias delta; a raw or arithmetic-coded path) — used for version-1
//! streams and for chunks too small to pay for a model.

use super::entropy::{ClassModel, ClassTable, StopTable, KeptMass, RangeSink, RangeSource, SymbolSink, SymbolSource, PRECISION};
use super::path::{read_path_with, write_path_with};
use super::universal::{read_delta, write_delta};
use super::{BitReader, BitWriter};
use crate::error::{corrupt, Result};
use crate::message::{ElementContext, Message, SplitDrawReader, SplitDraws};
use crate::random::UnitDraw;

use crate::message::MAX_NODE_DEPTH as MAX_DEPTH;

/// The table a chunk stores for its message code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkTable {
    /// A class table (arrival, dyadic and process-arrival codes).
    Classes(ClassTable),
    /// Stop probabilities (split path codes).
    Stops(StopTable),
}

impl ChunkTable {
    /// Appends the table's stored form.
    pub fn write(&self, writer: &mut BitWriter) {
        match self {
            ChunkTable::Classes(table) => table.write(writer),
            ChunkTable::Stops(table) => table.write(writer),
        }
    }

    /// The ready-to-code model of the table.
    pub fn model(&self) -> ChunkModel {
        match self {
            ChunkTable::Classes(table) => ChunkModel::Classes(table.model()),
            ChunkTable::Stops(table) => ChunkModel::Stops(table.clone()),
        }
    }
}

/// A chunk's table, ready to code with.
#[derive(Debug)]
pub enum ChunkModel {
    /// A class model.
    Classes(ClassModel),
    /// Stop probabilities.
    Stops(StopTable),
}

/// How a kind of message becomes bits and back.
pub trait MessageCode: Sync {
    /// The message's class (≥ 1), which a class table codes; an error for a message this
    /// code cannot carry.
    fn class(&self, message: &Message, context: &ElementContext) -> Result<u32>;

    /// Fits the chunk's table to its messages (validating each).
    fn fit(&self, messages: &[Message], contexts: &[ElementContext]) -> Result<ChunkTable> {
        let classes = messages
            .iter()
            .zip(contexts)
            .enumerate()
            .map(|(i, (message, context))| {
                Ok(coded_class(self.class(message, context).map_err(|e| e.at_element(i))?, context))
            })
            .collect::<Result<Vec<i32>>>()?;
        Ok(ChunkTable::Classes(ClassTable::fit(&classes)))
    }

    /// Reads the chunk's stored table.
    fn read_table(&self, reader: &mut BitReader<'_>) -> Result<ChunkTable> {
        Ok(ChunkTable::Classes(ClassTable::read(reader)?))
    }

    /// Fits the chunk's table and writes every message with it; returns the table and each
    /// message's information content in bits. Codes whose fitting and writing visit the same
    /// data may override this to visit it once.
    fn write_chunk(
        &self,
        sink: &mut RangeSink,
        messages: &[Message],
        contexts: &[ElementContext],
    ) -> Result<(ChunkTable, Vec<f64>)> {
        let table = self.fit(messages, contexts)?;
        let model = table.model();
        let mut information = Vec::with_capacity(messages.len());
        let mut before = sink.information();
        for (i, (message, context)) in messages.iter().zip(contexts).enumerate() {
            self.write(sink, &model, message, context).map_err(|e| e.at_element(i))?;
            let after = sink.information();
            information.push(after - before);
            before = after;
        }
        Ok((table, information))
    }

    /// Writes a whole message with the chunk's model: its class, then the rest.
    fn write(&self, sink: &mut RangeSink, model: &ChunkModel, message: &Message, context: &ElementContext) -> Result<()> {
        let ChunkModel::Classes(classes) = model else {
            return Err(crate::error::RecError::InvalidParameter("a class code needs a class model".into()));
        };
        sink.class(classes, coded_class(self.class(message, context)?, context))?;
        self.write_rest(sink, message, context);
        Ok(())
    }

    /// Reads a whole message with the chunk's model.
    fn read(&self, source: &mut RangeSource, model: &ChunkModel, context: &ElementContext) -> Result<Message> {
        let ChunkModel::Classes(classes) = model else {
            return Err(corrupt!("a class code needs a class model"));
        };
        let class = class_of_coded(source.class(classes)?, context)?;
        self.read_rest(source, class, context)
    }
    /// Writes the rest of the message after its class (codes that override [`Self::write`]
    /// and [`Self::read`] without a class model need not implement it).
    fn write_rest(&self, _sink: &mut dyn SymbolSink, _message: &Message, _context: &ElementContext) {}
    /// Reads the rest of a message of class `class` (validated to lie in 1..=127).
    fn read_rest(&self, _source: &mut dyn SymbolSource, _class: u32, _context: &ElementContext) -> Result<Message> {
        Err(corrupt!("this message code has no class-and-rest form"))
    }
    /// Appends the universal (version 1) code of the message.
    fn write_universal(&self, writer: &mut BitWriter, message: &Message, context: &ElementContext);
    /// Reads one universal code.
    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message>;
}

/// The class actually coded: the class shifted by the element's model parameter.
pub fn coded_class(class: u32, context: &ElementContext) -> i32 {
    class as i32 - class_shift(context)
}

/// The class of a coded class, validated to lie in 1..=127.
pub fn class_of_coded(coded: i32, context: &ElementContext) -> Result<u32> {
    let class = coded + class_shift(context);
    if !(1..=MAX_DEPTH as i32).contains(&class) {
        return Err(corrupt!("class {class} is outside 1..=127"));
    }
    Ok(class as u32)
}

fn class_shift(context: &ElementContext) -> i32 {
    match context.model_parameter {
        Some(b) if b.is_finite() => b.round().clamp(0.0, MAX_DEPTH as f64) as i32,
        _ => 0,
    }
}

fn bit_length(value: u128) -> u32 {
    128 - value.leading_zeros()
}

fn wrong(message: &Message, code: &str) -> crate::error::RecError {
    crate::error::RecError::InvalidParameter(format!("message {message:?} cannot be written by the {code}"))
}

/// Writes up to 126 fair bits (two pieces of at most 64).
fn write_wide_bits(sink: &mut dyn SymbolSink, value: u128, count: u32) {
    if count > 64 {
        sink.raw_bits((value >> 64) as u64, count - 64);
        sink.raw_bits(value as u64, 64);
    } else {
        sink.raw_bits(value as u64, count);
    }
}

fn read_wide_bits(source: &mut dyn SymbolSource, count: u32) -> Result<u128> {
    if count > 64 {
        let high = source.raw_bits(count - 64)? as u128;
        Ok((high << 64) | source.raw_bits(64)? as u128)
    } else {
        Ok(source.raw_bits(count)? as u128)
    }
}

/// The arrival index n of global GPRS and PFR.
pub struct ArrivalCode;

impl ArrivalCode {
    fn index(message: &Message) -> Option<u64> {
        match *message {
            Message::Arrival(n) if n >= 1 => Some(n),
            _ => None,
        }
    }
}

impl MessageCode for ArrivalCode {
    fn class(&self, message: &Message, _: &ElementContext) -> Result<u32> {
        Self::index(message).map(|n| bit_length(n as u128)).ok_or_else(|| wrong(message, "arrival code"))
    }

    fn write_rest(&self, sink: &mut dyn SymbolSink, message: &Message, _: &ElementContext) {
        let n = Self::index(message).unwrap_or(1);
        sink.raw_bits(n, bit_length(n as u128) - 1);
    }

    fn read_rest(&self, source: &mut dyn SymbolSource, class: u32, _: &ElementContext) -> Result<Message> {
        if class > 64 {
            return Err(corrupt!("an arrival index with {class} binary digits exceeds 64"));
        }
        Ok(Message::Arrival((1u64 << (class - 1)) | source.raw_bits(class - 1)?))
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, _: &ElementContext) {
        write_delta(writer, Self::index(message).unwrap_or(1) as u128);
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, _: &ElementContext) -> Result<Message> {
        Ok(Message::Arrival(read_delta(reader, 64)? as u64))
    }
}

fn node_index(message: &Message) -> Option<u128> {
    match *message {
        Message::Node(h) if h >= 1 && h >> MAX_DEPTH == 0 => Some(h),
        _ => None,
    }
}

/// The heap index of dyadic GPRS: its depth, then its path bits raw.
pub struct DyadicPathCode;

impl MessageCode for DyadicPathCode {
    fn class(&self, message: &Message, _: &ElementContext) -> Result<u32> {
        node_index(message).map(bit_length).ok_or_else(|| wrong(message, "dyadic path code"))
    }

    fn write_rest(&self, sink: &mut dyn SymbolSink, message: &Message, _: &ElementContext) {
        let h = node_index(message).unwrap_or(1);
        write_wide_bits(sink, h, bit_length(h) - 1);
    }

    fn read_rest(&self, source: &mut dyn SymbolSource, class: u32, _: &ElementContext) -> Result<Message> {
        Ok(Message::Node((1u128 << (class - 1)) | read_wide_bits(source, class - 1)?))
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, _: &ElementContext) {
        write_delta(writer, node_index(message).unwrap_or(1));
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, _: &ElementContext) -> Result<Message> {
        Ok(Message::Node(read_delta(reader, MAX_DEPTH)?))
    }
}

/// The draws that split one element's split-on-sample path, level by level, root first.
pub trait PathSplits {
    /// The draw that splits node `prefix` of the path (asked for in level order).
    fn split_draw(&mut self, prefix: u128) -> Result<UnitDraw>;
    /// Follows the path into child `bit` of the node split last (for geometries whose next
    /// split depends on the part kept).
    fn descend(&mut self, _bit: bool) -> Result<()> {
        Ok(())
    }
}

impl PathSplits for SplitDrawReader {
    #[inline]
    fn split_draw(&mut self, prefix: u128) -> Result<UnitDraw> {
        Ok(self.draw(prefix))
    }
}

/// What a [`SplitPathCode`] needs to know of one kind of split-on-sample search: where each
/// element's split draws come from, how its stop buckets are indexed, and its universal form.
pub trait SplitGeometry: Sync {
    /// The split draws of one element.
    type Splits: PathSplits;
    /// The split draws of the element with this context.
    fn splits(&self, context: &ElementContext) -> Result<Self::Splits>;
    /// The stop bucket of a level at which the path has halved its P-mass `halvings` times.
    fn bucket(&self, halvings: u32, _context: &ElementContext) -> u32 {
        halvings
    }
    /// Appends the universal (version 1) code of heap index `heap_index` (1 ≤ H < 2¹²⁷).
    fn write_universal(&self, writer: &mut BitWriter, heap_index: u128, context: &ElementContext);
    /// Reads one universal code.
    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message>;
}

/// The heap index of a split-on-sample search (`"gprs-bb"`, `"astar-bb"`, and the box search
/// of block coding): its depth, then each path bit with the P-mass fraction of the part it
/// keeps, read from the split draws.
///
/// At level k the decoder knows the location draw u_k that split the node: the left part
/// (bit 0) keeps the fraction u_k of its P-mass, the right part (bit 1) 1 − u_k. Coding the
/// bit with P(0) = u_k costs −log₂ P(final node) in total — the information the path
/// carries about the sample — instead of one bit per level. Whether the path stops at a level
/// is coded with a per-chunk [`StopTable`] indexed by the P-mass halvings so far
/// ([`SplitGeometry::bucket`]).
pub struct SplitPathCode<G = SplitDraws>(pub G);

/// P(0) of a split draw with 53-bit integer k: k · 2⁻⁵³ in units of 2⁻²⁴.
#[inline]
fn left_fraction(draw_integer: u64) -> u32 {
    (draw_integer >> (53 - PRECISION)) as u32
}

/// One level of a path: (stop bucket, stopped here, path bit, left fraction in 2⁻²⁴).
type Level = (u32, bool, bool, u32);

impl<G: SplitGeometry> SplitPathCode<G> {
    /// Walks the path of `heap_index` (depth ≥ 1), calling `visit` at every level: whether
    /// the path stops there, else its bit and the left part's P-mass fraction. At depth 127
    /// the stop is implied.
    fn walk<F: FnMut(Level)>(&self, heap_index: u128, context: &ElementContext, mut visit: F) -> Result<()> {
        let depth = bit_length(heap_index);
        let mut splits = self.0.splits(context)?;
        let mut mass = KeptMass::default();
        for level in 0..depth {
            let bucket = self.0.bucket(mass.halvings(), context);
            if level + 1 == depth {
                visit((bucket, true, false, 0));
                break;
            }
            let bit = (heap_index >> (depth - 2 - level)) & 1 == 1;
            let left = left_fraction(splits.split_draw(heap_index >> (depth - 1 - level))?.integer());
            visit((bucket, false, bit, left));
            mass.keep(if bit { (1 << PRECISION) - left } else { left });
            splits.descend(bit)?;
        }
        Ok(())
    }

    /// Every level of every message, element after element, with where each element's levels
    /// end and whether it is at the deepest level (whose stop is implied, not coded).
    fn levels(&self, messages: &[Message], contexts: &[ElementContext]) -> Result<(Vec<Level>, Vec<(usize, bool)>)> {
        let mut levels = Vec::new();
        let mut ends = Vec::with_capacity(messages.len());
        for (i, (message, context)) in messages.iter().zip(contexts).enumerate() {
            let h = node_index(message).ok_or_else(|| wrong(message, "split path code").at_element(i))?;
            self.walk(h, context, |level| levels.push(level)).map_err(|e| e.at_element(i))?;
            ends.push((levels.len(), bit_length(h) == MAX_DEPTH));
        }
        Ok((levels, ends))
    }
}

/// The stop observations of recorded levels.
fn stop_observations<'a>(levels: &'a [Level], ends: &'a [(usize, bool)]) -> impl Iterator<Item = (u32, bool)> + 'a {
    let mut start = 0;
    ends.iter().flat_map(move |&(end, deepest)| {
        let element = &levels[start..end];
        start = end;
        // At depth 127 the last stop is implied, not observed.
        element[..element.len() - deepest as usize].iter().map(|&(bucket, stopped, _, _)| (bucket, stopped))
    })
}

/// Writes one element's recorded levels: stop-or-go flags ("0" is stop; implied at depth 127)
/// and path bits.
fn write_levels(sink: &mut RangeSink, stops: &StopTable, levels: &[Level], deepest: bool) {
    for (k, &(bucket, stopped, bit, left)) in levels.iter().enumerate() {
        if !(deepest && k + 1 == levels.len()) {
            sink.binary(!stopped, stops.stop_probability(bucket));
        }
        if !stopped {
            sink.binary(bit, left);
        }
    }
}

impl<G: SplitGeometry> MessageCode for SplitPathCode<G> {
    fn class(&self, message: &Message, _: &ElementContext) -> Result<u32> {
        node_index(message).map(bit_length).ok_or_else(|| wrong(message, "split path code"))
    }

    fn fit(&self, messages: &[Message], contexts: &[ElementContext]) -> Result<ChunkTable> {
        let (levels, ends) = self.levels(messages, contexts)?;
        Ok(ChunkTable::Stops(StopTable::fit(stop_observations(&levels, &ends))))
    }

    fn read_table(&self, reader: &mut BitReader<'_>) -> Result<ChunkTable> {
        Ok(ChunkTable::Stops(StopTable::read(reader)?))
    }

    /// Walks every path once (the split draws are the costly part), fitting the stop table
    /// to the recorded levels and then writing them.
    fn write_chunk(
        &self,
        sink: &mut RangeSink,
        messages: &[Message],
        contexts: &[ElementContext],
    ) -> Result<(ChunkTable, Vec<f64>)> {
        let (levels, ends) = self.levels(messages, contexts)?;
        let table = StopTable::fit(stop_observations(&levels, &ends));
        let mut information = Vec::with_capacity(messages.len());
        let mut start = 0;
        let mut before = sink.information();
        for &(end, deepest) in &ends {
            write_levels(sink, &table, &levels[start..end], deepest);
            start = end;
            let after = sink.information();
            information.push(after - before);
            before = after;
        }
        Ok((ChunkTable::Stops(table), information))
    }

    fn write(&self, sink: &mut RangeSink, model: &ChunkModel, message: &Message, context: &ElementContext) -> Result<()> {
        let ChunkModel::Stops(stops) = model else {
            return Err(crate::error::RecError::InvalidParameter("a split path code needs a stop model".into()));
        };
        let h = node_index(message).ok_or_else(|| wrong(message, "split path code"))?;
        let mut levels = Vec::with_capacity(bit_length(h) as usize);
        self.walk(h, context, |level| levels.push(level))?;
        write_levels(sink, stops, &levels, bit_length(h) == MAX_DEPTH);
        Ok(())
    }

    fn read(&self, source: &mut RangeSource, model: &ChunkModel, context: &ElementContext) -> Result<Message> {
        let ChunkModel::Stops(stops) = model else {
            return Err(corrupt!("a split path code needs a stop model"));
        };
        let mut splits = self.0.splits(context).map_err(as_corrupt)?;
        let mut mass = KeptMass::default();
        let mut h: u128 = 1;
        while bit_length(h) < MAX_DEPTH
            && source.binary(stops.stop_probability(self.0.bucket(mass.halvings(), context)))?
        {
            let left = left_fraction(splits.split_draw(h).map_err(as_corrupt)?.integer());
            let bit = source.binary(left)?;
            mass.keep(if bit { (1 << PRECISION) - left } else { left });
            splits.descend(bit).map_err(as_corrupt)?;
            h = (h << 1) | bit as u128;
        }
        Ok(Message::Node(h))
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, context: &ElementContext) {
        self.0.write_universal(writer, node_index(message).unwrap_or(1), context);
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message> {
        self.0.read_universal(reader, context)
    }
}

/// A decoder's search error: the path the stream describes cannot be replayed.
fn as_corrupt(error: crate::error::RecError) -> crate::error::RecError {
    match error {
        crate::error::RecError::SearchLimit(m) => corrupt!("the coded path cannot be replayed: {m}"),
        other => other,
    }
}

impl SplitGeometry for SplitDraws {
    type Splits = SplitDrawReader;

    fn splits(&self, context: &ElementContext) -> Result<SplitDrawReader> {
        Ok(context.split_draws(*self))
    }

    /// The version-1 code: the Elias delta code of the depth D; for D > 1 a flag bit and the
    /// D − 1 path bits, raw (flag 0) or arithmetic-coded with the split draws (flag 1,
    /// [`super::path`]), whichever is shorter.
    fn write_universal(&self, writer: &mut BitWriter, h: u128, context: &ElementContext) {
        let depth = bit_length(h);
        write_delta(writer, depth as u128);
        if depth > 1 {
            let mut draws = context.split_draws(*self);
            let mut arithmetic = BitWriter::new();
            let length = write_path_with(&mut arithmetic, h, |level| draws.draw(h >> (depth - 1 - level)));
            if length < (depth - 1) as u64 {
                writer.write_bits(1, 1);
                writer.append(&arithmetic);
            } else {
                writer.write_bits(0, 1);
                writer.write_bits(h, depth - 1);
            }
        }
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message> {
        let depth = read_delta(reader, 7)? as u32;
        if depth > MAX_DEPTH {
            return Err(corrupt!("search depth {depth} exceeds {MAX_DEPTH}"));
        }
        if depth == 1 {
            return Ok(Message::Node(1));
        }
        let h = match reader.read_bit() {
            Some(0) => reader
                .read_bits(depth - 1)
                .map(|path| (1u128 << (depth - 1)) | path)
                .ok_or_else(|| corrupt!("the payload ends inside a search path"))?,
            Some(_) => {
                let mut draws = context.split_draws(*self);
                read_path_with(reader, depth, |_, prefix| draws.draw(prefix))?
            }
            None => return Err(corrupt!("the payload ends before a path-code flag")),
        };
        Ok(Message::Node(h))
    }
}

/// (process j, arrival n_j) of parallel GPRS, with J the stream's method parameter.
pub struct ProcessArrivalCode;

impl ProcessArrivalCode {
    fn parts(message: &Message, context: &ElementContext) -> Option<(u32, u64)> {
        match *message {
            Message::ProcessArrival { process, arrival } if process < context.method_parameter && arrival >= 1 => {
                Some((process, arrival))
            }
            _ => None,
        }
    }
}

/// Bits of the version-1 process number: ⌈log₂ J⌉.
fn process_bits(processes: u32) -> u32 {
    32 - processes.saturating_sub(1).leading_zeros()
}

impl MessageCode for ProcessArrivalCode {
    fn class(&self, message: &Message, context: &ElementContext) -> Result<u32> {
        Self::parts(message, context)
            .map(|(_, arrival)| bit_length(arrival as u128))
            .ok_or_else(|| wrong(message, "process-arrival code"))
    }

    fn write_rest(&self, sink: &mut dyn SymbolSink, message: &Message, context: &ElementContext) {
        let (process, arrival) = Self::parts(message, context).unwrap_or((0, 1));
        sink.uniform(process, context.method_parameter);
        sink.raw_bits(arrival, bit_length(arrival as u128) - 1);
    }

    fn read_rest(&self, source: &mut dyn SymbolSource, class: u32, context: &ElementContext) -> Result<Message> {
        if class > 64 {
            return Err(corrupt!("an arrival index with {class} binary digits exceeds 64"));
        }
        let process = source.uniform(context.method_parameter)?;
        let arrival = (1u64 << (class - 1)) | source.raw_bits(class - 1)?;
        Ok(Message::ProcessArrival { process, arrival })
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, context: &ElementContext) {
        let (process, arrival) = Self::parts(message, context).unwrap_or((0, 1));
        writer.write_bits(process as u128, process_bits(context.method_parameter));
        write_delta(writer, arrival as u128);
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message> {
        let processes = context.method_parameter;
        let process = reader
            .read_bits(process_bits(processes))
            .ok_or_else(|| corrupt!("the payload ends inside a process number"))?;
        if process >= processes as u128 {
            return Err(corrupt!("process {process} of only {processes}"));
        }
        let arrival = read_delta(reader, 64)? as u64;
        Ok(Message::ProcessArrival { process: process as u32, arrival })
    }
}

//! Block streams: one message per block, framed in checksummed chunks, and the drivers that
//! code a whole product target (in parallel over blocks) or block after block.
//!
//! ```text
//! header: "RECB" | version = 1 | method (u8: 0 exact, 1 budget) | target family id
//!         | proposal family id | layout kind (u8: 0 shared, 1 stored) | seed | budget bits
//!         | d (u8, ≤ 32) | d extents | layout: its fingerprint (u64 LE) if shared, its block
//!         sizes (BlockLayout::write_runs) if stored | CRC-32 of the header bytes before it
//! chunks: as in format version 2, element = block
//! ```
//!
//! The exact method's messages are heap indices coded by the split-path code with the box
//! geometry ([`BlockPaths`]); the budget method's are candidate indices of exactly `budget
//! bits` bits. Block b's model parameter is the layout's budget K_b. The normative
//! description is `docs/format.md`.

use rayon::prelude::*;

use super::budget::{self, budget_key, check_budget_bits};
use super::layout::{BlockLayout, LayoutOrigin};
use super::search::{self, block_key, BlockPaths};
use crate::batch::{map_units_until, with_threads, BatchControl, Distributions, Pairs};
use crate::code::container::v2::{read_chunk_frames, write_chunk_frames, DEFAULT_CHUNK_ELEMENTS};
use crate::code::container::{crc32, element_count_of, read_shape, write_varint, Fields, SampleType, MAX_DIMENSIONS};
use crate::code::entropy::{ClassTable, RangeSink, RangeSource, SymbolSink, SymbolSource};
use crate::code::message_code::{ChunkModel, ChunkTable, MessageCode, SplitPathCode};
use crate::code::{BitReader, BitWriter};
use crate::distribution::Family;
use crate::error::{corrupt, RecError, Result};
use crate::message::{ElementContext, Message};
use crate::pair::{self, Pair, Proposal};

/// Magic bytes of a block stream.
pub const BLOCK_MAGIC: [u8; 4] = *b"RECB";
/// The block stream version this build writes and reads.
pub const BLOCK_FORMAT_VERSION: u8 = 1;
/// Default KL target of a layout built by the encoder, in bits (chosen by measurement,
/// `benches/blocks.py`: with equal axis weights larger blocks cost steps faster than they save bits).
pub const DEFAULT_BITS_PER_BLOCK: f64 = 10.0;
/// Default largest block of a layout built by the encoder.
pub const DEFAULT_MAX_BLOCK_SIZE: usize = 12;
/// Default candidate bits per block of the budget method (COMBINER's 16).
pub const DEFAULT_BUDGET_BITS: u32 = 16;

/// How blocks are coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockMethod {
    /// A* coding over boxes: an exact sample of the product of the block's targets.
    Exact,
    /// Truncated PFR over 2^b candidates: an approximate sample in exactly b bits.
    Budget,
}

impl BlockMethod {
    /// The method's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            BlockMethod::Exact => "exact",
            BlockMethod::Budget => "budget",
        }
    }

    /// Parses an API name.
    pub fn from_name(name: &str) -> Result<BlockMethod> {
        match name {
            "exact" => Ok(BlockMethod::Exact),
            "budget" => Ok(BlockMethod::Budget),
            other => Err(RecError::UnsupportedMethod(format!(
                "unknown block method \"{other}\"; use \"exact\" or \"budget\""
            ))),
        }
    }

    fn id(self) -> u8 {
        self as u8
    }

    fn from_id(id: u8) -> Option<BlockMethod> {
        [BlockMethod::Exact, BlockMethod::Budget].into_iter().find(|m| m.id() == id)
    }
}

/// How to code a product target.
#[derive(Clone, Debug)]
pub struct BlockSettings {
    /// The method.
    pub method: BlockMethod,
    /// The user seed.
    pub seed: u64,
    /// Candidate bits per block (budget method only).
    pub budget_bits: u32,
    /// Bound on the nodes of one block's search (exact method).
    pub max_steps: u64,
    /// Blocks per chunk.
    pub chunk_blocks: u64,
    /// Whether the budget method computes every candidate's weight for the effective sample size.
    pub effective_sample_size: bool,
    /// Worker threads (`None`: rayon's default).
    pub threads: Option<usize>,
    /// The type the sample is delivered in (recorded in the header).
    pub sample_type: SampleType,
}

impl BlockSettings {
    /// Defaults for `method` and `seed`.
    pub fn new(method: BlockMethod, seed: u64) -> Self {
        BlockSettings {
            method,
            seed,
            budget_bits: if method == BlockMethod::Budget { DEFAULT_BUDGET_BITS } else { 0 },
            max_steps: search::DEFAULT_MAX_STEPS,
            chunk_blocks: DEFAULT_CHUNK_ELEMENTS,
            effective_sample_size: false,
            threads: None,
            sample_type: SampleType::Float64,
        }
    }
}

/// The header of a block stream.
#[derive(Clone, Debug)]
pub struct BlockHeader {
    /// The method.
    pub method: BlockMethod,
    /// Family of the targets.
    pub target_family: Family,
    /// Family of the coding distribution.
    pub proposal_family: Family,
    /// The user seed.
    pub seed: u64,
    /// Candidate bits per block (0 for the exact method).
    pub budget_bits: u32,
    /// Array shape of the product target.
    pub shape: Vec<u64>,
    /// The layout's fingerprint, or the layout itself when the stream stores it.
    pub layout: LayoutReference,
    /// The type the sample is delivered in (bit 7 of the layout-kind byte).
    pub sample_type: SampleType,
}

/// Bit 7 of the layout-kind byte: the sample is delivered as float32.
const KIND_FLOAT32: u8 = 0x80;

/// How a stream refers to its layout.
#[derive(Clone, Debug)]
pub enum LayoutReference {
    /// The decoder must be given the layout; this is its fingerprint.
    Shared(u64),
    /// The stream stores the layout.
    Stored(BlockLayout),
}

impl BlockHeader {
    /// The number of dimensions.
    pub fn dimensions(&self) -> Result<u64> {
        element_count_of(&self.shape)
    }

    fn write(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&BLOCK_MAGIC);
        let stored = matches!(self.layout, LayoutReference::Stored(_));
        out.extend_from_slice(&[
            BLOCK_FORMAT_VERSION,
            self.method.id(),
            self.target_family.id(),
            self.proposal_family.id(),
            stored as u8 | if self.sample_type == SampleType::Float32 { KIND_FLOAT32 } else { 0 },
        ]);
        write_varint(&mut out, self.seed);
        write_varint(&mut out, self.budget_bits as u64);
        if self.shape.len() > MAX_DIMENSIONS {
            return Err(RecError::ShapeMismatch(format!("{} array dimensions exceed {MAX_DIMENSIONS}", self.shape.len())));
        }
        out.push(self.shape.len() as u8);
        for &extent in &self.shape {
            write_varint(&mut out, extent);
        }
        match &self.layout {
            LayoutReference::Shared(fingerprint) => out.extend_from_slice(&fingerprint.to_le_bytes()),
            LayoutReference::Stored(layout) => layout.write_runs(&mut out)?,
        }
        let checksum = crc32(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        Ok(out)
    }

    /// Reads and validates a block stream's header.
    pub fn parse(bytes: &[u8]) -> Result<BlockHeader> {
        Ok(Self::read(bytes)?.0)
    }

    /// Reads and validates a block stream's header; the fields after it hold the chunks.
    pub(crate) fn read<'a>(bytes: &'a [u8]) -> Result<(BlockHeader, Fields<'a>)> {
        let mut fields = Fields::new(bytes);
        if fields.take(4, "magic")? != BLOCK_MAGIC {
            return Err(corrupt!("not a rec_fast block stream: the magic bytes are not \"RECB\""));
        }
        let version = fields.u8("version")?;
        if version != BLOCK_FORMAT_VERSION {
            return Err(corrupt!("unsupported block stream version {version}; this build reads version 1"));
        }
        let method_id = fields.u8("method")?;
        let method = BlockMethod::from_id(method_id).ok_or_else(|| corrupt!("unknown block method id {method_id}"))?;
        let target = fields.u8("target family")?;
        let target_family = Family::from_id(target).ok_or_else(|| corrupt!("unknown target family id {target}"))?;
        let proposal = fields.u8("proposal family")?;
        let proposal_family = Family::from_id(proposal).ok_or_else(|| corrupt!("unknown proposal family id {proposal}"))?;
        if !pair::is_codable_combination(target_family, proposal_family) {
            return Err(corrupt!(
                "a {} target with a {} proposal cannot have been encoded",
                target_family.name(),
                proposal_family.name()
            ));
        }
        let kind_byte = fields.u8("layout kind")?;
        let (kind, sample_type) = if kind_byte & KIND_FLOAT32 != 0 {
            (kind_byte & !KIND_FLOAT32, SampleType::Float32)
        } else {
            (kind_byte, SampleType::Float64)
        };
        let seed = fields.varint("seed")?;
        let budget_bits = fields.varint("budget bits")?;
        let budget_bits = match method {
            BlockMethod::Exact if budget_bits == 0 => 0,
            BlockMethod::Budget if (1..=budget::MAX_BUDGET_BITS as u64).contains(&budget_bits) => budget_bits as u32,
            _ => return Err(corrupt!("budget bits {budget_bits} are invalid for the {} method", method.name())),
        };
        let shape = read_shape(&mut fields, |fields| fields.varint("shape"))?;
        let mut header = BlockHeader {
            method,
            target_family,
            proposal_family,
            seed,
            budget_bits,
            shape,
            layout: LayoutReference::Shared(0),
            sample_type,
        };
        let dimensions = header.dimensions()?;
        let (fingerprint, runs) = match kind {
            0 => (fields.u64("layout fingerprint")?, None),
            1 => (0, Some(BlockLayout::read_runs_fields(&mut fields, dimensions)?)),
            other => return Err(corrupt!("unknown layout kind {other}")),
        };
        let header_end = fields.position();
        let stored_checksum = fields.u32("header checksum")?;
        let checksum = crc32(&bytes[..header_end]);
        if stored_checksum != checksum {
            return Err(corrupt!("header checksum mismatch: stored {stored_checksum:#010x}, computed {checksum:#010x}"));
        }
        // Decoded (and its dimension order allocated) only once the checksum has passed.
        header.layout = match runs {
            None => LayoutReference::Shared(fingerprint),
            Some(runs) => LayoutReference::Stored(BlockLayout::from_stored_runs(&runs, dimensions, seed)?),
        };
        Ok((header, fields))
    }
}

/// The candidate index of the budget method: exactly `budget bits` fair bits.
struct CandidateIndexCode;

impl CandidateIndexCode {
    fn index(message: &Message, context: &ElementContext) -> Result<u64> {
        match *message {
            Message::Arrival(n) if n >= 1 && (n - 1) >> context.method_parameter == 0 => Ok(n - 1),
            _ => Err(RecError::InvalidParameter(format!(
                "message {message:?} is not a candidate index of {} bits",
                context.method_parameter
            ))),
        }
    }
}

impl MessageCode for CandidateIndexCode {
    fn class(&self, message: &Message, context: &ElementContext) -> Result<u32> {
        Self::index(message, context).map(|_| 1)
    }

    fn fit(&self, messages: &[Message], contexts: &[ElementContext]) -> Result<ChunkTable> {
        for (i, (message, context)) in messages.iter().zip(contexts).enumerate() {
            Self::index(message, context).map_err(|e| e.at_block(i as u64))?;
        }
        Ok(ChunkTable::Classes(ClassTable::fit(&[1])))
    }

    fn write(&self, sink: &mut RangeSink, _: &ChunkModel, message: &Message, context: &ElementContext) -> Result<()> {
        sink.raw_bits(Self::index(message, context)?, context.method_parameter);
        Ok(())
    }

    fn read(&self, source: &mut RangeSource, _: &ChunkModel, context: &ElementContext) -> Result<Message> {
        Ok(Message::Arrival(source.raw_bits(context.method_parameter)? + 1))
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, context: &ElementContext) {
        writer.write_bits(Self::index(message, context).unwrap_or(0) as u128, context.method_parameter);
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message> {
        let index = reader
            .read_bits(context.method_parameter)
            .ok_or_else(|| corrupt!("the payload ends inside a candidate index"))?;
        Ok(Message::Arrival(index as u64 + 1))
    }
}

/// The exact method's message code: an escape flag (binary, P(escape) = 2⁻¹² · 2⁻²⁴ units
/// [`ESCAPE_PROBABILITY`]), then the heap index by the split-path code with the box geometry,
/// or, for an escaped block, its sample's 64 IEEE bits raw.
struct ExactBlockCode<'a>(SplitPathCode<BlockPaths<'a>>);

/// P(escape) in units of 2⁻²⁴: an escape flag costs a non-escaped block 0.00035 bits.
const ESCAPE_PROBABILITY: u32 = 1 << 12;

fn is_escape(message: &Message) -> bool {
    matches!(message, Message::Arrival(_))
}

impl MessageCode for ExactBlockCode<'_> {
    fn class(&self, message: &Message, context: &ElementContext) -> Result<u32> {
        if is_escape(message) {
            Ok(1)
        } else {
            self.0.class(message, context)
        }
    }

    fn fit(&self, messages: &[Message], contexts: &[ElementContext]) -> Result<ChunkTable> {
        let (kept, kept_contexts): (Vec<Message>, Vec<ElementContext>) =
            messages.iter().zip(contexts).filter(|(m, _)| !is_escape(m)).map(|(m, c)| (*m, *c)).unzip();
        self.0.fit(&kept, &kept_contexts)
    }

    fn read_table(&self, reader: &mut BitReader<'_>) -> Result<ChunkTable> {
        self.0.read_table(reader)
    }

    fn write(&self, sink: &mut RangeSink, model: &ChunkModel, message: &Message, context: &ElementContext) -> Result<()> {
        // "0" (probability 1 − P(escape)) is a searched block.
        sink.binary(is_escape(message), (1 << crate::code::entropy::PRECISION) - ESCAPE_PROBABILITY);
        match *message {
            Message::Arrival(bits) => {
                sink.raw_bits(bits, 64);
                Ok(())
            }
            _ => self.0.write(sink, model, message, context),
        }
    }

    fn read(&self, source: &mut RangeSource, model: &ChunkModel, context: &ElementContext) -> Result<Message> {
        if source.binary((1 << crate::code::entropy::PRECISION) - ESCAPE_PROBABILITY)? {
            Ok(Message::Arrival(source.raw_bits(64)?))
        } else {
            self.0.read(source, model, context)
        }
    }

    fn write_universal(&self, writer: &mut BitWriter, message: &Message, context: &ElementContext) {
        match *message {
            Message::Arrival(bits) => {
                writer.write_bits(1, 1);
                writer.write_bits(bits as u128, 64);
            }
            _ => {
                writer.write_bits(0, 1);
                self.0.write_universal(writer, message, context);
            }
        }
    }

    fn read_universal(&self, reader: &mut BitReader<'_>, context: &ElementContext) -> Result<Message> {
        match reader.read_bit() {
            Some(1) => reader
                .read_bits(64)
                .map(|bits| Message::Arrival(bits as u64))
                .ok_or_else(|| corrupt!("the payload ends inside an escaped sample")),
            Some(_) => self.0.read_universal(reader, context),
            None => Err(corrupt!("the payload ends before an escape flag")),
        }
    }
}

/// What decoder and encoder know of block `block`.
fn block_context(header: &BlockHeader, layout: &BlockLayout, block: u64) -> ElementContext {
    ElementContext {
        seed: header.seed,
        stream_index: block,
        method_parameter: header.budget_bits,
        model_parameter: Some(layout.budgets()[block as usize]),
    }
}

/// Runs `work` with the stream's message code.
fn with_code<T>(header: &BlockHeader, layout: &BlockLayout, work: impl FnOnce(&dyn MessageCode) -> T) -> T {
    match header.method {
        BlockMethod::Exact => work(&ExactBlockCode(SplitPathCode(BlockPaths { layout, seed: header.seed }))),
        BlockMethod::Budget => work(&CandidateIndexCode),
    }
}

/// One coded block.
#[derive(Clone, Debug)]
pub struct CodedBlock {
    /// Its message.
    pub message: Message,
    /// Its sample, in block order.
    pub samples: Vec<f64>,
    /// Nodes (exact) or candidates (budget) examined.
    pub steps: u64,
    /// The budget method's effective sample size (NaN otherwise or when not asked for).
    pub effective_sample_size: f64,
    /// KL of the block's targets in bits.
    pub kl_bits: f64,
}

/// Codes one block whose targets and proposals are given per dimension in block order, with
/// `kl_bits` the KL of its targets and `dimensions` their indices (for errors).
fn code_block(
    pairs: &[Pair],
    kl_bits: f64,
    weights: &[f64],
    dimensions: &[u64],
    block: u64,
    settings: &BlockSettings,
) -> Result<CodedBlock> {
    match settings.method {
        BlockMethod::Exact => {
            let key = block_key(settings.seed, block);
            let encoded = if pairs.len() == 1 && search::escapes(&pairs[0]) {
                search::escape_block(&pairs[0], key)?
            } else {
                search::encode_block(pairs, weights, dimensions, key, settings.max_steps)?
            };
            Ok(CodedBlock { message: encoded.message, samples: encoded.samples, steps: encoded.steps, effective_sample_size: f64::NAN, kl_bits })
        }
        BlockMethod::Budget => {
            let encoded = budget::encode_block(pairs, budget_key(settings.seed, block), settings.budget_bits, settings.effective_sample_size)?;
            Ok(CodedBlock {
                message: Message::Arrival(encoded.index + 1),
                samples: encoded.samples,
                steps: 1 << settings.budget_bits,
                effective_sample_size: encoded.effective_sample_size,
                kl_bits,
            })
        }
    }
}

/// The validated pair of every dimension of `dimensions` (errors name the first bad one) and
/// their total KL in bits; `pairs` is indexed by dimension, or by position in the block if
/// `in_block_order`.
fn block_pairs(pairs: &Pairs<'_>, dimensions: &[u64], in_block_order: bool) -> Result<(Vec<Pair>, f64)> {
    let mut kl_bits = 0.0;
    let mut block = Vec::with_capacity(dimensions.len());
    for (j, &d) in dimensions.iter().enumerate() {
        let i = if in_block_order { j } else { d as usize };
        if i >= pairs.target.first.len() || i >= pairs.proposal.first.len() {
            return Err(RecError::ShapeMismatch(format!("dimension {d} is outside the {} targets given", pairs.target.first.len())));
        }
        block.push(Pair::new(pairs.target.at(i), pairs.proposal.at(i)).map_err(|e| e.at_dimension(d))?);
        kl_bits += pair::divergences(pairs.target.at(i), pairs.proposal.at(i))?.0;
    }
    Ok((block, kl_bits))
}

/// Codes the blocks one at a time and assembles the stream; [`encode_blocks`] codes them all
/// at once (in parallel) with the same result.
#[derive(Debug)]
pub struct BlockEncoder {
    header: BlockHeader,
    layout: BlockLayout,
    settings: BlockSettings,
    blocks: Vec<CodedBlock>,
}

impl BlockEncoder {
    /// An encoder of a product target of shape `shape` with `layout`; the stream stores the
    /// layout iff it was built by the encoder ([`LayoutOrigin::Runs`]).
    pub fn new(layout: BlockLayout, shape: Vec<u64>, families: (Family, Family), settings: BlockSettings) -> Result<BlockEncoder> {
        if settings.method == BlockMethod::Budget {
            check_budget_bits(settings.budget_bits)?;
        }
        if settings.max_steps == 0 {
            return Err(RecError::InvalidParameter("max_steps = 0; it must be at least 1".into()));
        }
        if !pair::is_codable_combination(families.0, families.1) {
            return Err(RecError::UnsupportedMethod(format!(
                "a {} target with a {} proposal cannot be coded",
                families.0.name(),
                families.1.name()
            )));
        }
        let header = BlockHeader {
            method: settings.method,
            target_family: families.0,
            proposal_family: families.1,
            seed: settings.seed,
            budget_bits: if settings.method == BlockMethod::Budget { settings.budget_bits } else { 0 },
            shape,
            layout: match layout.origin() {
                LayoutOrigin::Runs { seed, .. } if *seed == settings.seed => LayoutReference::Stored(layout.clone()),
                LayoutOrigin::Runs { .. } => {
                    return Err(RecError::InvalidParameter(
                        "a layout built from the target is stored in the stream and must use the stream's seed".into(),
                    ))
                }
                LayoutOrigin::Shared => LayoutReference::Shared(layout.fingerprint()),
            },
            sample_type: settings.sample_type,
        };
        layout.check_fits(header.dimensions().map_err(|e| RecError::ShapeMismatch(e.message().to_owned()))?)?;
        Ok(BlockEncoder { header, layout, settings, blocks: Vec::new() })
    }

    /// The layout.
    pub fn layout(&self) -> &BlockLayout {
        &self.layout
    }

    /// The blocks coded so far.
    pub fn blocks(&self) -> &[CodedBlock] {
        &self.blocks
    }

    /// Codes the next block, `pairs` holding the current targets and proposals of (at least)
    /// its dimensions, indexed by dimension; returns the coded block.
    pub fn encode_next(&mut self, pairs: &Pairs<'_>) -> Result<&CodedBlock> {
        self.push_next(pairs, false)
    }

    /// Codes the next block from `pairs` given in the block's own order (one per dimension of
    /// [`BlockLayout::block_dimensions`]); returns the coded block.
    pub fn encode_next_in_block_order(&mut self, pairs: &Pairs<'_>) -> Result<&CodedBlock> {
        self.push_next(pairs, true)
    }

    fn push_next(&mut self, pairs: &Pairs<'_>, in_block_order: bool) -> Result<&CodedBlock> {
        let block = self.blocks.len();
        if block >= self.layout.num_blocks() {
            return Err(RecError::InvalidParameter(format!("all {block} blocks are already coded")));
        }
        self.check_families(pairs)?;
        let dimensions = self.layout.block_dimensions(block).len();
        if in_block_order && pairs.len()? != dimensions {
            return Err(RecError::ShapeMismatch(format!(
                "block {block} has {dimensions} dimensions but {} targets were given",
                pairs.len()?
            )));
        }
        let coded = self.code(pairs, block, in_block_order)?;
        self.blocks.push(coded);
        Ok(&self.blocks[block])
    }

    /// Checks that `pairs` has the stream's families.
    fn check_families(&self, pairs: &Pairs<'_>) -> Result<()> {
        let given = (pairs.target.family, pairs.proposal.family);
        let expected = (self.header.target_family, self.header.proposal_family);
        if given != expected {
            return Err(RecError::InvalidParameter(format!(
                "this encoder codes {} targets against a {} proposal, not {} against {}",
                expected.0.name(),
                expected.1.name(),
                given.0.name(),
                given.1.name()
            )));
        }
        Ok(())
    }

    fn code(&self, pairs: &Pairs<'_>, block: usize, in_block_order: bool) -> Result<CodedBlock> {
        let dimensions = self.layout.block_dimensions(block);
        let (block_pairs, kl_bits) = block_pairs(pairs, dimensions, in_block_order)?;
        code_block(&block_pairs, kl_bits, self.layout.block_weights(block), dimensions, block as u64, &self.settings)
            .map_err(|e| e.at_block(block as u64))
    }

    /// Codes every remaining block in parallel.
    pub fn encode_rest(&mut self, pairs: &Pairs<'_>) -> Result<()> {
        self.encode_rest_until(pairs, &BatchControl::new())
    }

    /// Codes every remaining block in parallel until `control` is stopped (then
    /// [`RecError::Interrupted`], no block added), counting finished blocks in `control`; of
    /// several failing blocks the lowest is reported.
    pub fn encode_rest_until(&mut self, pairs: &Pairs<'_>, control: &BatchControl) -> Result<()> {
        self.check_families(pairs)?;
        let first = self.blocks.len();
        let count = self.layout.num_blocks();
        if pairs.len()? as u64 != self.layout.dimensions() {
            return Err(RecError::ShapeMismatch(format!(
                "{} targets for a layout of {} dimensions",
                pairs.len()?,
                self.layout.dimensions()
            )));
        }
        let this = &*self;
        let coded: Vec<CodedBlock> = with_threads(self.settings.threads, || {
            map_units_until(count - first, 1, control, |i| this.code(pairs, first + i, false))
        })??;
        if control.is_stopped() {
            // Stopped after the last block started: the caller was told no block is added.
            return Err(RecError::Interrupted(format!("block coding was interrupted; {first} of {count} blocks stay coded")));
        }
        self.blocks.extend(coded);
        Ok(())
    }

    /// The stream's bytes and each block's share of the payload bits, once every block is coded.
    pub fn finish(&self) -> Result<(Vec<u8>, Vec<f64>)> {
        if self.blocks.len() != self.layout.num_blocks() {
            return Err(RecError::InvalidParameter(format!(
                "{} of the layout's {} blocks are coded; code them all before writing the stream",
                self.blocks.len(),
                self.layout.num_blocks()
            )));
        }
        let mut out = self.header.write()?;
        let messages: Vec<Message> = self.blocks.iter().map(|b| b.message).collect();
        let (header, layout) = (&self.header, &self.layout);
        let block_bits = with_threads(self.settings.threads, || {
            with_code(header, layout, |code| {
                write_chunk_frames(&mut out, code, &messages, self.settings.chunk_blocks, |block| block_context(header, layout, block))
            })
        })??;
        Ok((out, block_bits))
    }

    /// The header's length in bytes.
    pub fn header_bytes(&self) -> Result<usize> {
        Ok(self.header.write()?.len())
    }

    /// Every coded sample scattered to its dimension (NaN where no block is coded yet).
    pub fn samples(&self) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.layout.dimensions() as usize];
        for (block, coded) in self.blocks.iter().enumerate() {
            for (&d, &x) in self.layout.block_dimensions(block).iter().zip(&coded.samples) {
                out[d as usize] = x;
            }
        }
        out
    }
}

/// Decodes a block stream: `proposal` holds one coding distribution per dimension (flat, in
/// the stream's shape); `layout` must be given iff the stream does not store its own.
pub fn decode_blocks(bytes: &[u8], proposal: &Distributions<'_>, layout: Option<&BlockLayout>, threads: Option<usize>) -> Result<Vec<f64>> {
    let (header, mut fields) = BlockHeader::read(bytes)?;
    let dimensions = header.dimensions()?;
    let layout = match (&header.layout, layout) {
        (LayoutReference::Stored(stored), given) => {
            if let Some(given) = given.filter(|g| g.fingerprint() != stored.fingerprint() || g.dimensions() != dimensions) {
                return Err(RecError::ShapeMismatch(format!(
                    "the stream stores its own layout (fingerprint {:#018x}), which differs from the one given \
                     (fingerprint {:#018x}); decode without a layout",
                    stored.fingerprint(),
                    given.fingerprint()
                )));
            }
            stored
        }
        (LayoutReference::Shared(fingerprint), Some(given)) => {
            if given.dimensions() != dimensions || given.fingerprint() != *fingerprint {
                return Err(RecError::ShapeMismatch(format!(
                    "the stream was coded with another layout (fingerprint {fingerprint:#018x}, {dimensions} dimensions) \
                     than the one given (fingerprint {:#018x}, {} dimensions)",
                    given.fingerprint(),
                    given.dimensions()
                )));
            }
            given
        }
        (LayoutReference::Shared(fingerprint), None) => {
            return Err(RecError::InvalidParameter(format!(
                "the stream does not store its layout (fingerprint {fingerprint:#018x}); pass the layout it was coded with"
            )))
        }
    };
    if proposal.family != header.proposal_family {
        return Err(RecError::ShapeMismatch(format!(
            "the stream was coded against a {} proposal, not a {} one",
            header.proposal_family.name(),
            proposal.family.name()
        )));
    }
    if proposal.first.len() as u64 != dimensions || proposal.second.len() as u64 != dimensions {
        return Err(RecError::ShapeMismatch(format!(
            "the proposal has {} parameters but the stream has {dimensions} dimensions (shape {:?})",
            proposal.first.len(),
            header.shape
        )));
    }
    let frames = read_chunk_frames(&mut fields, bytes, layout.num_blocks() as u64)?;
    let allocate = || -> Result<Vec<f64>> {
        let mut values = Vec::new();
        values.try_reserve_exact(dimensions as usize).map_err(|_| {
            RecError::InvalidParameter(format!("cannot allocate the {dimensions} samples the stream declares"))
        })?;
        values.resize(dimensions as usize, 0.0);
        Ok(values)
    };
    let mut in_layout_order = allocate()?;
    // Each chunk decodes into its own slice of the samples in layout order.
    let mut slices = Vec::with_capacity(frames.len());
    let mut rest = in_layout_order.as_mut_slice();
    for frame in &frames {
        let first = frame.first_element as usize;
        let end = first + frame.element_count as usize;
        let length = layout.block_positions(end - 1).end - layout.block_positions(first).start;
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(length);
        slices.push((frame, head));
        rest = tail;
    }
    with_threads(threads, || {
        slices.into_par_iter().try_for_each(|(frame, out)| -> Result<()> {
            let messages = with_code(&header, layout, |code| frame.decode_with(code, |block| block_context(&header, layout, block)))?;
            let offset = layout.block_positions(frame.first_element as usize).start;
            let mut proposals = Vec::new();
            for (i, message) in messages.iter().enumerate() {
                let block = frame.first_element as usize + i;
                let positions = layout.block_positions(block);
                proposals.clear();
                for &d in layout.block_dimensions(block) {
                    proposals.push(Proposal::new(proposal.family, proposal.first[d as usize], proposal.second[d as usize]).map_err(|e| pair::with_role("proposal", e).at_dimension(d))?);
                }
                let target = &mut out[positions.start - offset..positions.end - offset];
                let decoded = match (header.method, *message) {
                    (BlockMethod::Exact, Message::Node(h)) => {
                        search::decode_block(&proposals, layout.block_weights(block), block_key(header.seed, block as u64), h, target)
                    }
                    (BlockMethod::Exact, Message::Arrival(bits)) => {
                        let x = f64::from_bits(bits);
                        if target.len() != 1 || !x.is_finite() {
                            Err(corrupt!("an escaped block must have one dimension and a finite sample"))
                        } else {
                            target[0] = x;
                            Ok(())
                        }
                    }
                    (BlockMethod::Budget, Message::Arrival(n)) => budget::decode_block(&proposals, budget_key(header.seed, block as u64), n - 1, target),
                    _ => Err(corrupt!("a message of the wrong kind")),
                };
                decoded.map_err(|e| e.at_block(block as u64))?;
            }
            Ok(())
        })
    })??;
    let mut out = allocate()?;
    for (&d, &x) in layout.order().iter().zip(&in_layout_order) {
        out[d as usize] = x;
    }
    Ok(out)
}

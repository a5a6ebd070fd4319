//! Block layouts: which dimensions of a product target are coded together.
//!
//! A layout partitions the dimensions 0 … n − 1 of a product target ∏ᵢ Qᵢ into blocks. It
//! holds, position after position, the dimensions of block 0, then of block 1, …; for each
//! position the **axis weight** wᵢ that the box search uses to pick the axis it splits (see
//! [`super::search`]); and for each block its **KL budget** K_b in bits, the model parameter
//! of the block's depth code. Encoder and decoder must hold the same layout: either both
//! build it from side information ([`BlockLayout::from_kl`], deterministic in its inputs) and
//! the stream carries only its [`fingerprint`](BlockLayout::fingerprint), or the encoder
//! builds it from the target itself ([`BlockLayout::runs`]) and stores it in the stream in a
//! compact form ([`BlockLayout::write_runs`]).
//!
//! Both builders visit the dimensions in a seeded random order ([`seeded_order`]) and fill
//! blocks greedily: a block is closed before a dimension that would take its KL above the
//! target or its size above the maximum, so a dimension whose KL alone exceeds the target is
//! a block of its own (and is coded by the same box search in one dimension).

use crate::code::container::{crc32, write_varint};
use crate::code::entropy::{ClassTable, RangeSink, RangeSource};
use crate::code::{BitReader, BitWriter};
use crate::error::{corrupt, Number, RecError, Result};
use crate::random::{splitmix64, ElementStream};

/// Default KL target of a shared layout ([`BlockLayout::from_kl`]), in bits (chosen by
/// measurement, `benches/blocks.py`).
pub const DEFAULT_SHARED_BITS_PER_BLOCK: f64 = 12.0;
/// Default largest block of a shared layout.
pub const DEFAULT_SHARED_MAX_BLOCK_SIZE: usize = 16;

/// The most dimensions one block may have.
pub const MAX_BLOCK_SIZE: usize = 64;
/// The most dimensions a layout may have.
pub const MAX_LAYOUT_DIMENSIONS: u64 = 1 << 40;
/// Added to a dimension's expected KL (bits) to give its axis weight: a dimension with no
/// expected information is still split now and then.
pub const AXIS_WEIGHT_FLOOR: f64 = 0.05;

/// Magic bytes of a layout's stored form ([`BlockLayout::to_bytes`]).
const LAYOUT_MAGIC: [u8; 4] = *b"RECL";

/// The fields of a stored layout, not yet decoded.
pub(crate) struct StoredRuns<'a> {
    bits_per_block: f64,
    max_block_size: usize,
    blocks: u64,
    table: &'a [u8],
    payload: &'a [u8],
}

/// How a layout was built, which decides how a stream refers to it.
#[derive(Clone, Debug, PartialEq)]
pub enum LayoutOrigin {
    /// From expected KLs both sides know ([`BlockLayout::from_kl`]) or from bytes: streams
    /// carry its fingerprint.
    Shared,
    /// Built by the encoder from the target's own KL ([`BlockLayout::runs`]): streams carry
    /// its block sizes.
    Runs {
        /// The seed of the dimension order.
        seed: u64,
        /// The KL target of the greedy fill, in bits (also every block's budget).
        bits_per_block: f64,
        /// The largest block.
        max_block_size: usize,
    },
}

/// A partition of the dimensions of a product target into blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockLayout {
    dimensions: u64,
    order: Vec<u64>,
    starts: Vec<usize>,
    weights: Vec<f64>,
    budgets: Vec<f64>,
    origin: LayoutOrigin,
}

/// The dimensions 0 … n − 1 in a random order determined by `seed`: a Fisher–Yates shuffle
/// (for i = n − 1 down to 1, swap position i with a uniform j ≤ i) driven by the stream
/// `ElementStream::new(splitmix64(seed ^ 0x4c41_594f_5554_0000), 0)`; j is drawn by Lemire's
/// multiply-and-reject method from the stream's u64 draws (a draw x gives j = ⌊x·(i + 1)/2⁶⁴⌋
/// unless its low product part is below 2⁶⁴ mod (i + 1), in which case it is redrawn).
pub fn seeded_order(dimensions: u64, seed: u64) -> Result<Vec<u64>> {
    let mut order: Vec<u64> = Vec::new();
    order.try_reserve_exact(dimensions as usize).map_err(|_| {
        RecError::InvalidParameter(format!("cannot allocate the dimension order of {dimensions} dimensions"))
    })?;
    order.extend(0..dimensions);
    let mut stream = ElementStream::new(splitmix64(seed ^ 0x4c41_594f_5554_0000), 0);
    for i in (1..order.len()).rev() {
        let range = i as u64 + 1;
        let threshold = range.wrapping_neg() % range;
        let j = loop {
            let product = stream.next_u64() as u128 * range as u128;
            if (product as u64) >= threshold {
                break (product >> 64) as usize;
            }
        };
        order.swap(i, j);
    }
    Ok(order)
}

fn check_fill_parameters(bits_per_block: f64, max_block_size: usize) -> Result<()> {
    if !(bits_per_block.is_finite() && bits_per_block > 0.0 && bits_per_block <= 64.0) {
        return Err(RecError::InvalidParameter(format!(
            "bits_per_block = {}; it must lie in (0, 64]",
            Number(bits_per_block)
        )));
    }
    if !(1..=MAX_BLOCK_SIZE).contains(&max_block_size) {
        return Err(RecError::InvalidParameter(format!(
            "max_block_size = {max_block_size}; it must lie in [1, {MAX_BLOCK_SIZE}]"
        )));
    }
    Ok(())
}

fn check_kl(kl: &[f64]) -> Result<()> {
    if kl.len() as u64 > MAX_LAYOUT_DIMENSIONS {
        return Err(RecError::ShapeMismatch(format!("{} dimensions exceed the maximum of 2^40", kl.len())));
    }
    match kl.iter().position(|&k| !(k.is_finite() && k >= 0.0)) {
        Some(i) => Err(RecError::InvalidParameter(format!(
            "dimension {i}: expected KL {} bits is not a finite number ≥ 0",
            Number(kl[i])
        ))),
        None => Ok(()),
    }
}

/// Greedy fill of `order` by `kl`: block sizes.
fn greedy_sizes(order: &[u64], kl: &[f64], bits_per_block: f64, max_block_size: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let (mut size, mut total) = (0usize, 0.0f64);
    for &dimension in order {
        let k = kl[dimension as usize];
        if size > 0 && (total + k > bits_per_block || size == max_block_size) {
            sizes.push(size);
            (size, total) = (0, 0.0);
        }
        size += 1;
        total += k;
    }
    if size > 0 {
        sizes.push(size);
    }
    sizes
}

fn starts_of(sizes: &[usize]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(sizes.len() + 1);
    starts.push(0);
    let mut end = 0;
    for &size in sizes {
        end += size;
        starts.push(end);
    }
    starts
}

impl BlockLayout {
    /// The layout both sides build from side information: the expected KL (bits) of every
    /// dimension. Dimensions are visited in [`seeded_order`]`(n, seed)` and filled greedily to
    /// `bits_per_block` bits with at most `max_block_size` dimensions per block, each block's
    /// dimensions then sorted by decreasing expected KL (ties by index); a dimension's
    /// axis weight is its expected KL + [`AXIS_WEIGHT_FLOOR`], a block's budget the sum of its
    /// expected KLs.
    pub fn from_kl(expected_kl: &[f64], bits_per_block: f64, max_block_size: usize, seed: u64) -> Result<BlockLayout> {
        check_fill_parameters(bits_per_block, max_block_size)?;
        check_kl(expected_kl)?;
        let mut order = seeded_order(expected_kl.len() as u64, seed)?;
        let sizes = greedy_sizes(&order, expected_kl, bits_per_block, max_block_size);
        let starts = starts_of(&sizes);
        // Within a block, the most informative dimensions first: the budget search evaluates
        // (and draws) axes in block order and drops a candidate as soon as it cannot win.
        for w in starts.windows(2) {
            order[w[0]..w[1]].sort_by(|&a, &b| expected_kl[b as usize].total_cmp(&expected_kl[a as usize]).then(a.cmp(&b)));
        }
        let weights = order.iter().map(|&d| expected_kl[d as usize] + AXIS_WEIGHT_FLOOR).collect();
        let budgets = starts.windows(2).map(|w| order[w[0]..w[1]].iter().map(|&d| expected_kl[d as usize]).sum()).collect();
        Ok(BlockLayout { dimensions: expected_kl.len() as u64, order, starts, weights, budgets, origin: LayoutOrigin::Shared })
    }

    /// The layout an encoder builds from the target's own per-dimension KL (bits) and stores
    /// in the stream: the same seeded order and greedy fill as [`from_kl`](Self::from_kl), but
    /// the decoder learns only the block sizes, so every axis weight is 1 and every budget is
    /// `bits_per_block`.
    pub fn runs(kl: &[f64], bits_per_block: f64, max_block_size: usize, seed: u64) -> Result<BlockLayout> {
        check_fill_parameters(bits_per_block, max_block_size)?;
        check_kl(kl)?;
        let order = seeded_order(kl.len() as u64, seed)?;
        let sizes = greedy_sizes(&order, kl, bits_per_block, max_block_size);
        Ok(Self::from_runs(kl.len() as u64, order, &sizes, seed, bits_per_block, max_block_size))
    }

    fn from_runs(dimensions: u64, order: Vec<u64>, sizes: &[usize], seed: u64, bits_per_block: f64, max_block_size: usize) -> BlockLayout {
        let starts = starts_of(sizes);
        BlockLayout {
            dimensions,
            weights: vec![1.0; order.len()],
            budgets: vec![bits_per_block; sizes.len()],
            order,
            starts,
            origin: LayoutOrigin::Runs { seed, bits_per_block, max_block_size },
        }
    }

    /// Number of dimensions.
    pub fn dimensions(&self) -> u64 {
        self.dimensions
    }

    /// Number of blocks.
    pub fn num_blocks(&self) -> usize {
        self.starts.len() - 1
    }

    /// How the layout was built.
    pub fn origin(&self) -> &LayoutOrigin {
        &self.origin
    }

    /// The dimensions of block `block`, in the order the block's search sees them.
    pub fn block_dimensions(&self, block: usize) -> &[u64] {
        &self.order[self.starts[block]..self.starts[block + 1]]
    }

    /// The axis weights of block `block`'s dimensions.
    pub fn block_weights(&self, block: usize) -> &[f64] {
        &self.weights[self.starts[block]..self.starts[block + 1]]
    }

    /// The positions `start..end` of block `block` in the layout order.
    pub fn block_positions(&self, block: usize) -> std::ops::Range<usize> {
        self.starts[block]..self.starts[block + 1]
    }

    /// Every dimension, block after block.
    pub fn order(&self) -> &[u64] {
        &self.order
    }

    /// Each block's KL budget in bits.
    pub fn budgets(&self) -> &[f64] {
        &self.budgets
    }

    /// The block of every dimension.
    pub fn block_of(&self) -> Vec<u64> {
        let mut block_of = vec![0u64; self.dimensions as usize];
        for block in 0..self.num_blocks() {
            for &d in self.block_dimensions(block) {
                block_of[d as usize] = block as u64;
            }
        }
        block_of
    }

    /// A 64-bit fingerprint of everything the decoder uses: the dimension count, the blocks
    /// and their dimensions in order, the axis weights and the budgets (their IEEE bits),
    /// folded word by word with `h = splitmix64(h ^ word)` from `h = 0x5245_434c_4159_4f55`.
    pub fn fingerprint(&self) -> u64 {
        let mut h = 0x5245_434c_4159_4f55u64;
        let mut fold = |word: u64| h = splitmix64(h ^ word);
        fold(self.dimensions);
        fold(self.num_blocks() as u64);
        for &start in &self.starts {
            fold(start as u64);
        }
        for (&d, &w) in self.order.iter().zip(&self.weights) {
            fold(d);
            fold(w.to_bits());
        }
        for &b in &self.budgets {
            fold(b.to_bits());
        }
        h
    }

    /// The layout's stored form: `"RECL"` | version 1 | n (varint) | block count B (varint) |
    /// B block sizes (varints) | n dimensions in layout order (varints) | n axis weights
    /// (f64 LE) | B budgets (f64 LE) | CRC-32 of the bytes before it (u32 LE).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 18 * self.order.len());
        out.extend_from_slice(&LAYOUT_MAGIC);
        out.push(1);
        write_varint(&mut out, self.dimensions);
        write_varint(&mut out, self.num_blocks() as u64);
        for w in self.starts.windows(2) {
            write_varint(&mut out, (w[1] - w[0]) as u64);
        }
        for &d in &self.order {
            write_varint(&mut out, d);
        }
        for &w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for &b in &self.budgets {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let checksum = crc32(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        out
    }

    /// Reads and validates [`to_bytes`](Self::to_bytes): every dimension exactly once, block
    /// sizes in 1 ..= [`MAX_BLOCK_SIZE`], finite positive weights, finite budgets.
    pub fn from_bytes(bytes: &[u8]) -> Result<BlockLayout> {
        use crate::code::container::Fields;
        if bytes.len() < 9 || bytes[..4] != LAYOUT_MAGIC {
            return Err(corrupt!("not a rec_fast block layout: the magic bytes are not \"RECL\""));
        }
        let body = &bytes[..bytes.len() - 4];
        let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4 bytes"));
        if crc32(body) != stored {
            return Err(corrupt!("layout checksum mismatch: stored {stored:#010x}, computed {:#010x}", crc32(body)));
        }
        let mut fields = Fields::new(body);
        fields.take(4, "magic")?;
        let version = fields.u8("layout version")?;
        if version != 1 {
            return Err(corrupt!("unsupported layout version {version}"));
        }
        let dimensions = fields.varint("dimension count")?;
        let blocks = fields.varint("block count")?;
        // Each dimension takes at least 9 bytes (varint + weight): bound before allocating.
        if dimensions > MAX_LAYOUT_DIMENSIONS || dimensions > fields.remaining() as u64 || blocks > dimensions {
            return Err(corrupt!("{dimensions} dimensions in {blocks} blocks cannot fit in {} bytes", bytes.len()));
        }
        let mut sizes = Vec::with_capacity(blocks as usize);
        for block in 0..blocks {
            let size = fields.varint("block size")?;
            if !(1..=MAX_BLOCK_SIZE as u64).contains(&size) {
                return Err(corrupt!("block {block} has {size} dimensions; blocks have 1 … {MAX_BLOCK_SIZE}"));
            }
            sizes.push(size as usize);
        }
        if sizes.iter().sum::<usize>() as u64 != dimensions {
            return Err(corrupt!("the block sizes add up to {}, not {dimensions}", sizes.iter().sum::<usize>()));
        }
        let mut seen = vec![false; dimensions as usize];
        let mut order = Vec::with_capacity(dimensions as usize);
        for _ in 0..dimensions {
            let d = fields.varint("dimension")?;
            if d >= dimensions || std::mem::replace(&mut seen[d as usize], true) {
                return Err(corrupt!("dimension {d} is out of range or appears twice"));
            }
            order.push(d);
        }
        let mut weights = Vec::with_capacity(dimensions as usize);
        for position in 0..dimensions {
            let w = f64::from_bits(fields.u64("axis weight")?);
            if !(w.is_finite() && w > 0.0) {
                return Err(corrupt!("axis weight {} at position {position} is not finite and positive", Number(w)));
            }
            weights.push(w);
        }
        let mut budgets = Vec::with_capacity(blocks as usize);
        for block in 0..blocks {
            let b = f64::from_bits(fields.u64("budget")?);
            if !b.is_finite() {
                return Err(corrupt!("block {block}: budget {} is not finite", Number(b)));
            }
            budgets.push(b);
        }
        if fields.remaining() != 0 {
            return Err(corrupt!("{} bytes follow the layout", fields.remaining()));
        }
        Ok(BlockLayout { dimensions, order, starts: starts_of(&sizes), weights, budgets, origin: LayoutOrigin::Shared })
    }

    /// The compact form a stream stores for a [`runs`](Self::runs) layout: bits_per_block
    /// (f64 LE) | max_block_size (u8) | block count (varint) | the block sizes, range-coded
    /// with a fitted class table (table bytes length varint, table, payload length varint,
    /// payload). The dimension order follows from the stream's seed.
    pub fn write_runs(&self, out: &mut Vec<u8>) -> Result<()> {
        let LayoutOrigin::Runs { bits_per_block, max_block_size, .. } = self.origin else {
            return Err(RecError::InvalidParameter("only a layout built from the target is stored in streams".into()));
        };
        out.extend_from_slice(&bits_per_block.to_le_bytes());
        out.push(max_block_size as u8);
        write_varint(out, self.num_blocks() as u64);
        let sizes: Vec<i32> = self.starts.windows(2).map(|w| (w[1] - w[0]) as i32).collect();
        let table = ClassTable::fit(&sizes);
        let mut writer = BitWriter::new();
        table.write(&mut writer);
        let table_bytes = writer.into_bytes();
        let model = table.model();
        let mut sink = RangeSink::default();
        for &size in &sizes {
            sink.class(&model, size)?;
        }
        let payload = sink.into_bytes();
        write_varint(out, table_bytes.len() as u64);
        out.extend_from_slice(&table_bytes);
        write_varint(out, payload.len() as u64);
        out.extend_from_slice(&payload);
        Ok(())
    }

    /// Reads [`write_runs`](Self::write_runs) for a stream of `dimensions` dimensions: only
    /// the fields, without decoding or allocating (the caller checks the header's CRC first).
    pub(crate) fn read_runs_fields<'a>(fields: &mut crate::code::container::Fields<'a>, dimensions: u64) -> Result<StoredRuns<'a>> {
        let bits_per_block = f64::from_bits(fields.u64("layout bits per block")?);
        let max_block_size = fields.u8("layout max block size")? as usize;
        check_fill_parameters(bits_per_block, max_block_size).map_err(|e| corrupt!("stored layout: {}", e.message()))?;
        let blocks = fields.varint("layout block count")?;
        if blocks > dimensions || (dimensions > 0 && blocks == 0) || blocks.saturating_mul(max_block_size as u64) < dimensions {
            return Err(corrupt!("the stored layout has {blocks} blocks of at most {max_block_size} for {dimensions} dimensions"));
        }
        let table_length = fields.varint("layout table length")?;
        let table = fields.take(usize::try_from(table_length).unwrap_or(usize::MAX), "layout table")?;
        let payload_length = fields.varint("layout payload length")?;
        let payload = fields.take(usize::try_from(payload_length).unwrap_or(usize::MAX), "layout payload")?;
        Ok(StoredRuns { bits_per_block, max_block_size, blocks, table, payload })
    }

    /// Decodes stored block sizes (read by [`read_runs_fields`](Self::read_runs_fields)) for a
    /// stream of `dimensions` dimensions and seed `seed`.
    pub(crate) fn from_stored_runs(runs: &StoredRuns<'_>, dimensions: u64, seed: u64) -> Result<BlockLayout> {
        let table = ClassTable::read(&mut BitReader::new(runs.table, 8 * runs.table.len() as u64))?;
        let model = table.model();
        let mut source = RangeSource::new(runs.payload)?;
        let mut sizes = Vec::new();
        let mut total = 0u64;
        for block in 0..runs.blocks {
            let size = source.class(&model)?;
            if !(1..=runs.max_block_size as i32).contains(&size) {
                return Err(corrupt!(
                    "stored layout: block {block} has {size} dimensions, outside 1 … {}",
                    runs.max_block_size
                ));
            }
            total += size as u64;
            if total > dimensions {
                return Err(corrupt!("stored layout: the blocks hold more than the stream's {dimensions} dimensions"));
            }
            sizes.push(size as usize);
        }
        if total != dimensions || !source.finished() {
            return Err(corrupt!("stored layout: the block sizes add up to {total}, not {dimensions}, or data follows them"));
        }
        let order = seeded_order(dimensions, seed)?;
        Ok(Self::from_runs(dimensions, order, &sizes, seed, runs.bits_per_block, runs.max_block_size))
    }

    /// Reads [`write_runs`](Self::write_runs) for a stream of `dimensions` dimensions and seed `seed`.
    #[cfg(test)]
    fn read_runs(fields: &mut crate::code::container::Fields<'_>, dimensions: u64, seed: u64) -> Result<BlockLayout> {
        Self::from_stored_runs(&Self::read_runs_fields(fields, dimensions)?, dimensions, seed)
    }

    /// Checks that the layout fits a product target of `dimensions` dimensions.
    pub fn check_fits(&self, dimensions: u64) -> Result<()> {
        if self.dimensions != dimensions {
            return Err(RecError::ShapeMismatch(format!(
                "the layout has {} dimensions but the target has {dimensions}",
                self.dimensions
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_order_is_a_permutation_and_depends_on_the_seed() {
        let a = seeded_order(1000, 7).unwrap();
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_eq!(a, seeded_order(1000, 7).unwrap());
        assert_ne!(a, seeded_order(1000, 8).unwrap());
    }

    #[test]
    fn greedy_fill_closes_blocks_at_the_target_and_isolates_large_dimensions() {
        let kl = [1.0, 1.0, 1.0, 20.0, 1.0, 1.0];
        let order: Vec<u64> = (0..6).collect();
        assert_eq!(greedy_sizes(&order, &kl, 2.5, 16), vec![2, 1, 1, 2]);
        assert_eq!(greedy_sizes(&order, &kl, 100.0, 4), vec![4, 2]);
    }

    #[test]
    fn layouts_round_trip_through_bytes_and_runs() {
        let kl: Vec<f64> = (0..500).map(|i| (i % 7) as f64 * 0.3).collect();
        let layout = BlockLayout::from_kl(&kl, 6.0, 12, 3).unwrap();
        let back = BlockLayout::from_bytes(&layout.to_bytes()).unwrap();
        assert_eq!(back, layout);
        assert_eq!(back.fingerprint(), layout.fingerprint());
        let runs = BlockLayout::runs(&kl, 6.0, 12, 3).unwrap();
        let mut out = Vec::new();
        runs.write_runs(&mut out).unwrap();
        let read = BlockLayout::read_runs(&mut crate::code::container::Fields::new(&out), 500, 3).unwrap();
        assert_eq!(read, runs);
        assert_eq!(runs.block_dimensions(0).len(), layout.block_dimensions(0).len());
    }

    #[test]
    fn corrupt_layout_bytes_are_errors() {
        let layout = BlockLayout::from_kl(&[0.5; 40], 4.0, 8, 0).unwrap();
        let bytes = layout.to_bytes();
        for cut in [0, 5, bytes.len() - 1] {
            assert!(BlockLayout::from_bytes(&bytes[..cut]).is_err());
        }
        let mut flipped = bytes.clone();
        flipped[10] ^= 1;
        assert!(matches!(BlockLayout::from_bytes(&flipped), Err(RecError::CorruptStream(_))));
    }
}

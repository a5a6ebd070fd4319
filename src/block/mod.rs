//! Block coding of many-dimensional targets: one sample of a product distribution ∏ᵢ Qᵢ
//! against ∏ᵢ Pᵢ, coded in blocks of dimensions so that the one-shot overhead (a few bits per
//! message) is paid once per block instead of once per dimension.
//!
//! * [`layout`] — which dimensions form a block ([`layout::BlockLayout`]): built by both sides
//!   from expected KLs, or by the encoder from the target and stored in the stream.
//! * [`search`] — the exact method: A* coding over axis-aligned boxes, split on the sample
//!   along a decoder-replayable axis rule, with the separable box bound of the log-ratio.
//! * [`budget`] — the approximate method of COMBINER: truncated PFR over 2^b candidates, b
//!   bits per block, with independent randomness per block.
//! * [`stream`] — the block stream (header, layout reference, chunks of block messages) and
//!   the drivers: all blocks in parallel, or block after block.

pub mod budget;
pub mod layout;
pub mod search;
pub mod stream;

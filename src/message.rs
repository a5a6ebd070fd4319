//! Typed messages: what a sampler sends, before any code turns it into bits.
//!
//! Every method's encoder produces one [`Message`] per element and its decoder consumes it;
//! the message codes of [`crate::code`] turn a chunk of messages into bits and back. What a
//! code may know on the decoder's side besides the bits is an [`ElementContext`]: the
//! element's seed and stream index, the stream's method parameter, an optional per-element
//! model parameter that both sides know, and the split draws of a split-on-sample path
//! ([`SplitDraws`]) — never the target.

use crate::random::{element_key, ElementStream, UnitDraw};

/// The deepest node of any tree search: a heap index fits in 127 bits.
pub const MAX_NODE_DEPTH: u32 = 127;

/// What one element sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// The index n ≥ 1 of an arrival of the element's global Poisson process (`"gprs"`, `"pfr"`).
    Arrival(u64),
    /// The heap index H ≥ 1 of a node of a binary search tree (root 1, children 2H and 2H + 1):
    /// its bit length is the depth, the bits after the leading 1 the path from the root.
    Node(u128),
    /// Arrival `arrival` ≥ 1 of process `process` of parallel GPRS.
    ProcessArrival {
        /// The winning process j < J.
        process: u32,
        /// Its arrival index n_j ≥ 1.
        arrival: u64,
    },
}

/// The kinds of [`Message`], as the method registry declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// [`Message::Arrival`].
    Arrival,
    /// [`Message::Node`].
    Node,
    /// [`Message::ProcessArrival`].
    ProcessArrival,
}

impl Message {
    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Arrival(_) => MessageKind::Arrival,
            Message::Node(_) => MessageKind::Node,
            Message::ProcessArrival { .. } => MessageKind::ProcessArrival,
        }
    }

    /// The depth of a node message (bit length of H); 0 for other messages.
    pub fn depth(&self) -> u32 {
        match self {
            Message::Node(heap_index) => 128 - heap_index.leading_zeros(),
            _ => 0,
        }
    }
}

/// Where the location draw that split level k of a split-on-sample search path comes from;
/// a message code for such paths takes its probabilities from these draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitDraws {
    /// The element's own stream, one arrival per level: level k is split by the location of
    /// arrival k + 1 (`"gprs-bb"`).
    ElementStream,
    /// Each node's own stream ([`ElementStream::for_node`]): level k is split by the location
    /// draw of the path's node at level k (`"astar-bb"`).
    NodeStreams,
}

/// What the decoder knows about one element besides its bits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElementContext {
    /// The stream's seed.
    pub seed: u64,
    /// The element's stream index (its position plus the stream's index offset).
    pub stream_index: u64,
    /// The stream's method parameter (J of `"gprs-parallel"`, else 0).
    pub method_parameter: u32,
    /// An optional per-element model parameter both sides know (e.g. an expected KL in bits);
    /// a code may condition its model on it.
    pub model_parameter: Option<f64>,
}

impl ElementContext {
    /// The split draws of this element's path, read level by level.
    pub fn split_draws(&self, source: SplitDraws) -> SplitDrawReader {
        match source {
            SplitDraws::ElementStream => {
                SplitDrawReader::Sequential(ElementStream::new(self.seed, self.stream_index))
            }
            SplitDraws::NodeStreams => {
                SplitDrawReader::PerNode { element_key: element_key(self.seed, self.stream_index) }
            }
        }
    }
}

/// Reads the split draws of one path, root first.
#[derive(Clone, Debug)]
pub enum SplitDrawReader {
    /// The element stream's location draws, in order.
    Sequential(ElementStream),
    /// The location draw of each node's own stream.
    PerNode {
        /// The element's key ([`element_key`]).
        element_key: u64,
    },
}

impl SplitDrawReader {
    /// The draw that split the path at node `heap_index` (levels are asked for in order, root first).
    #[inline]
    pub fn draw(&mut self, heap_index: u128) -> UnitDraw {
        match self {
            SplitDrawReader::Sequential(stream) => stream.next_location(),
            SplitDrawReader::PerNode { element_key } => {
                ElementStream::for_node_of_key(*element_key, heap_index).next_location()
            }
        }
    }
}

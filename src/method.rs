//! The method registry: every channel-simulation method is declared once, here.
//!
//! A [`MethodSpec`] row says everything the rest of the library needs: the user-facing name,
//! the id stored in streams, the default step bound, the sampler's encoder and decoder, and
//! the message code that turns the sampler's [`Message`]s into bits. The batch driver, the
//! container and the bindings look methods up in [`METHODS`]; adding a method means adding
//! a sampler file, a [`Method`] variant and one row.

use crate::code::message_code::{ArrivalCode, DyadicPathCode, MessageCode, ProcessArrivalCode, SplitPathCode};
use crate::error::{RecError, Result};
use crate::message::{ElementContext, Message, MessageKind, SplitDraws};
use crate::pair::{Pair, Proposal};
use crate::random::ElementStream;
use crate::sampler::{astar_branch, gprs, gprs_branch, gprs_dyadic, gprs_parallel, pfr, Encoded};

/// The channel-simulation methods, with the names the Python API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `"gprs"`: global greedy Poisson rejection sampling; sends the arrival index n.
    Gprs,
    /// `"gprs-bb"`: branch-and-bound GPRS splitting on the sample; sends the heap index H.
    GprsBranch,
    /// `"pfr"`: the Poisson functional representation (global A* coding); sends argmin index K.
    Pfr,
    /// `"gprs-parallel"`: J processes of rate 1/J; sends (process, arrival index).
    GprsParallel,
    /// `"gprs-dyadic"`: best-first branch-and-bound over P-median splits; sends the heap index.
    GprsDyadic,
    /// `"astar-bb"`: A* coding with branch-and-bound split on the sample; sends the heap index.
    AstarBranch,
}

/// What an element's encoder is given besides its pair: its settings and stream.
#[derive(Clone, Copy, Debug)]
pub struct SearchSettings {
    /// The stream's seed.
    pub seed: u64,
    /// The element's stream index.
    pub stream_index: u64,
    /// The element's step bound.
    pub max_steps: u64,
    /// The stream's method parameter (J of `"gprs-parallel"`).
    pub method_parameter: u32,
}

impl SearchSettings {
    /// The element's own random stream.
    pub fn stream(&self) -> ElementStream {
        ElementStream::new(self.seed, self.stream_index)
    }
}

/// One row of the registry.
pub struct MethodSpec {
    /// The method.
    pub method: Method,
    /// The user-facing name.
    pub name: &'static str,
    /// The id stored in streams (never reused).
    pub id: u8,
    /// The default bound on the steps of one element's search.
    pub default_max_steps: u64,
    /// Whether the method takes a method parameter (J of `"gprs-parallel"`), and its range.
    pub parameter_range: Option<(u32, u32)>,
    /// The kind of message its sampler sends.
    pub message: MessageKind,
    /// Runs one element's search.
    pub encode: fn(&Pair, &Proposal, &SearchSettings) -> Result<Encoded>,
    /// Rebuilds one element's sample from its message (never evaluates the target or σ).
    pub decode: fn(&Proposal, &ElementContext, &Message) -> Result<f64>,
    /// The code of the method's messages.
    pub code: &'static dyn MessageCode,
}

/// The registry, in stream-id order.
pub static METHODS: [MethodSpec; 6] = [
    MethodSpec {
        method: Method::Gprs,
        name: "gprs",
        id: 1,
        default_max_steps: gprs::DEFAULT_MAX_STEPS,
        parameter_range: None,
        message: MessageKind::Arrival,
        encode: |pair, proposal, s| gprs::encode(pair, proposal, &mut s.stream(), s.max_steps),
        decode: |proposal, c, m| gprs::decode(proposal, &mut ElementStream::new(c.seed, c.stream_index), arrival(m)?),
        code: &ArrivalCode,
    },
    MethodSpec {
        method: Method::GprsBranch,
        name: "gprs-bb",
        id: 2,
        default_max_steps: gprs_branch::MAX_DEPTH as u64,
        parameter_range: None,
        message: MessageKind::Node,
        encode: |pair, proposal, s| gprs_branch::encode(pair, proposal, &mut s.stream(), s.max_steps),
        decode: |proposal, c, m| {
            gprs_branch::decode(proposal, &mut ElementStream::new(c.seed, c.stream_index), node(m)?)
        },
        code: &SplitPathCode(SplitDraws::ElementStream),
    },
    MethodSpec {
        method: Method::Pfr,
        name: "pfr",
        id: 3,
        default_max_steps: gprs::DEFAULT_MAX_STEPS,
        parameter_range: None,
        message: MessageKind::Arrival,
        encode: |pair, proposal, s| pfr::encode(pair, proposal, &mut s.stream(), s.max_steps),
        // PFR runs on global GPRS's arrival process: the same jump-ahead decoder.
        decode: |proposal, c, m| gprs::decode(proposal, &mut ElementStream::new(c.seed, c.stream_index), arrival(m)?),
        code: &ArrivalCode,
    },
    MethodSpec {
        method: Method::GprsParallel,
        name: "gprs-parallel",
        id: 4,
        default_max_steps: gprs::DEFAULT_MAX_STEPS,
        parameter_range: Some((1, gprs_parallel::MAX_PROCESSES)),
        message: MessageKind::ProcessArrival,
        encode: |pair, proposal, s| {
            gprs_parallel::encode(pair, proposal, s.seed, s.stream_index, s.method_parameter, s.max_steps)
        },
        decode: |proposal, c, m| match *m {
            Message::ProcessArrival { process, arrival } => gprs_parallel::decode(
                proposal,
                c.seed,
                c.stream_index,
                c.method_parameter,
                gprs_parallel::pack_index(process, arrival),
            ),
            other => Err(wrong_message(other)),
        },
        code: &ProcessArrivalCode,
    },
    MethodSpec {
        method: Method::GprsDyadic,
        name: "gprs-dyadic",
        id: 5,
        default_max_steps: gprs_dyadic::DEFAULT_MAX_STEPS,
        parameter_range: None,
        message: MessageKind::Node,
        encode: |pair, proposal, s| gprs_dyadic::encode(pair, proposal, s.seed, s.stream_index, s.max_steps),
        decode: |proposal, c, m| gprs_dyadic::decode(proposal, c.seed, c.stream_index, node(m)?),
        code: &DyadicPathCode,
    },
    MethodSpec {
        method: Method::AstarBranch,
        name: "astar-bb",
        id: 6,
        default_max_steps: astar_branch::DEFAULT_MAX_STEPS,
        parameter_range: None,
        message: MessageKind::Node,
        encode: |pair, proposal, s| astar_branch::encode(pair, proposal, s.seed, s.stream_index, s.max_steps),
        decode: |proposal, c, m| astar_branch::decode(proposal, c.seed, c.stream_index, node(m)?),
        code: &SplitPathCode(SplitDraws::NodeStreams),
    },
];

fn wrong_message(message: Message) -> RecError {
    RecError::CorruptStream(format!("message {message:?} does not belong to this method"))
}

fn arrival(message: &Message) -> Result<u128> {
    match *message {
        Message::Arrival(n) => Ok(n as u128),
        other => Err(wrong_message(other)),
    }
}

fn node(message: &Message) -> Result<u128> {
    match *message {
        Message::Node(heap_index) => Ok(heap_index),
        other => Err(wrong_message(other)),
    }
}

impl Method {
    /// Every method, in stream-id order.
    pub const ALL: [Method; 6] = [
        Method::Gprs,
        Method::GprsBranch,
        Method::Pfr,
        Method::GprsParallel,
        Method::GprsDyadic,
        Method::AstarBranch,
    ];

    /// The method's registry row (rows are in variant order; the registry test checks it).
    #[inline]
    pub fn spec(self) -> &'static MethodSpec {
        &METHODS[self as usize]
    }

    /// The user-facing name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The id stored in streams.
    pub fn id(self) -> u8 {
        self.spec().id
    }

    /// Parses a user-facing name.
    pub fn from_name(name: &str) -> Result<Method> {
        METHODS.iter().find(|spec| spec.name == name).map(|spec| spec.method).ok_or_else(|| {
            let known: Vec<_> = METHODS.iter().map(|spec| format!("\"{}\"", spec.name)).collect();
            RecError::UnsupportedMethod(format!(
                "unknown method \"{name}\"; available methods are {}",
                known.join(", ")
            ))
        })
    }

    /// Parses a stream id.
    pub fn from_id(id: u8) -> Option<Method> {
        METHODS.iter().find(|spec| spec.id == id).map(|spec| spec.method)
    }

    /// The default step bound of one element's search.
    pub fn default_max_steps(self) -> u64 {
        self.spec().default_max_steps
    }

    /// Whether `parameter` is a valid method parameter (0 for methods without one).
    pub fn parameter_allowed(self, parameter: u32) -> bool {
        match self.spec().parameter_range {
            Some((low, high)) => (low..=high).contains(&parameter),
            None => parameter == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        for (i, spec) in METHODS.iter().enumerate() {
            assert_eq!(Method::ALL[i], spec.method);
            assert_eq!(Method::from_name(spec.name), Ok(spec.method));
            assert_eq!(Method::from_id(spec.id), Some(spec.method));
            assert!(METHODS.iter().filter(|other| other.id == spec.id || other.name == spec.name).count() == 1);
        }
        // Each row's code carries the row's kind of message.
        let context = ElementContext { seed: 1, stream_index: 2, method_parameter: 4, model_parameter: None };
        for spec in &METHODS {
            let message = match spec.message {
                MessageKind::Arrival => Message::Arrival(5),
                MessageKind::Node => Message::Node(5),
                MessageKind::ProcessArrival => Message::ProcessArrival { process: 3, arrival: 5 },
            };
            let context = ElementContext { method_parameter: if spec.parameter_range.is_some() { 4 } else { 0 }, ..context };
            assert_eq!(spec.code.class(&message, &context), Ok(3), "{}", spec.name);
            let other = if spec.message == MessageKind::Node { Message::Arrival(5) } else { Message::Node(5) };
            assert!(spec.code.class(&other, &context).is_err(), "{}", spec.name);
        }
        assert!(Method::from_name("gprs-bbb").is_err());
        assert_eq!(Method::from_id(0), None);
    }
}

//! Errors of the core library.
//!
//! Every failure that user input can cause is a [`RecError`] value: the core never panics on
//! bad parameters, bad bytes or a search that runs out of its step budget. Messages name the
//! element (its index in the flattened batch), the offending value and what is allowed.

use std::fmt;

/// Everything that can go wrong in encoding, decoding or evaluating a pair.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RecError {
    /// A parameter is outside its domain (NaN, infinite, non-positive scale, ...).
    InvalidParameter(String),
    /// The density ratio dQ/dP is unbounded, so rejection-based channel simulation is impossible.
    UnboundedRatio(String),
    /// An unknown method name or a method that does not apply to the pair.
    UnsupportedMethod(String),
    /// Array shapes that do not broadcast or do not match the stream.
    ShapeMismatch(String),
    /// A search reached its documented bound (step budget, heap-index depth, or the
    /// floating-point resolution of an interval) before accepting.
    SearchLimit(String),
    /// The byte string is not a valid rec_fast container (bad magic, version, checksum,
    /// truncation, trailing bytes, impossible code).
    CorruptStream(String),
    /// The caller asked a running batch to stop (Ctrl-C in Python) before every element ran.
    Interrupted(String),
}

impl RecError {
    /// Prefixes the message with the element index it concerns.
    pub fn at_element(self, index: usize) -> RecError {
        self.at("element", index as u64)
    }

    /// Prefixes the message with the dimension (flat index of a product target) it concerns.
    pub fn at_dimension(self, index: u64) -> RecError {
        self.at("dimension", index)
    }

    /// Prefixes the message with the block it concerns.
    pub fn at_block(self, index: u64) -> RecError {
        self.at("block", index)
    }

    fn at(self, what: &str, index: u64) -> RecError {
        let prefix = |message: String| format!("{what} {index}: {message}");
        match self {
            RecError::InvalidParameter(m) => RecError::InvalidParameter(prefix(m)),
            RecError::UnboundedRatio(m) => RecError::UnboundedRatio(prefix(m)),
            RecError::UnsupportedMethod(m) => RecError::UnsupportedMethod(prefix(m)),
            RecError::ShapeMismatch(m) => RecError::ShapeMismatch(prefix(m)),
            RecError::SearchLimit(m) => RecError::SearchLimit(prefix(m)),
            RecError::CorruptStream(m) => RecError::CorruptStream(prefix(m)),
            RecError::Interrupted(m) => RecError::Interrupted(prefix(m)),
        }
    }

    /// The message without the variant name.
    pub fn message(&self) -> &str {
        match self {
            RecError::InvalidParameter(m)
            | RecError::UnboundedRatio(m)
            | RecError::UnsupportedMethod(m)
            | RecError::ShapeMismatch(m)
            | RecError::SearchLimit(m)
            | RecError::CorruptStream(m)
            | RecError::Interrupted(m) => m,
        }
    }
}

impl fmt::Display for RecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RecError {}

/// Displays a parameter value in messages as Python's `repr` would: plain digits for ordinary
/// magnitudes, the shortest exponent form for tiny and huge ones (Rust's `{}` would spell out
/// 1e-300 in 300 digits).
#[derive(Debug, Clone, Copy)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.0.abs();
        if self.0.is_nan() {
            f.write_str("nan")
        } else if magnitude != 0.0 && magnitude.is_finite() && !(1e-4..1e16).contains(&magnitude) {
            write!(f, "{:e}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Shorthand for results of the core.
pub type Result<T> = std::result::Result<T, RecError>;

/// Builds a [`RecError::CorruptStream`] from a format string.
macro_rules! corrupt {
    ($($arg:tt)*) => { $crate::error::RecError::CorruptStream(format!($($arg)*)) };
}
pub(crate) use corrupt;

#[cfg(test)]
mod tests {
    use super::Number;

    #[test]
    fn numbers_print_like_python_repr() {
        let shown: Vec<String> = [1.0, -1.5, 0.0, 0.25, 1e-300, -2.5e-7, 1e300, 123456.0, f64::NAN, f64::INFINITY]
            .iter()
            .map(|&x| Number(x).to_string())
            .collect();
        assert_eq!(shown, ["1", "-1.5", "0", "0.25", "1e-300", "-2.5e-7", "1e300", "123456", "nan", "inf"]);
    }
}

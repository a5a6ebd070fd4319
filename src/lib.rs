pub mod distribution;
pub mod divergence;
pub mod error;
pub mod math;
pub mod random;
pub mod ratio;
pub mod stretch;
pub mod code;
pub mod sampler;
pub mod batch;

#[cfg(feature = "python")]
mod python;

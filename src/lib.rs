//! # rec_fast — relative entropy coding with greedy Poisson rejection sampling
//!
//! Relative entropy coding (REC, one-shot channel simulation): Alice holds a target
//! distribution Q, Bob knows only the coding distribution P, and both share a seed. Alice sends
//! a short message from which Bob draws a sample distributed **exactly** as Q, using about
//! KL[Q‖P] + log₂(KL + 1) + O(1) bits [3].
//!
//! The samplers are greedy Poisson rejection sampling (GPRS) [1]: simulate a Poisson process
//! (Tₙ, Xₙ) with spatial distribution P and accept the first arrival under the stretched
//! density-ratio graph, r(Xₙ) ≥ σ⁻¹(Tₙ), with r = dQ/dP and
//! σ(h) = ∫₀^h dη / (w_Q(η) − η·w_P(η)), w_P(h) = P[r ≥ h], w_Q(h) = Q[r ≥ h].
//!
//! * [`sampler::gprs`] — global GPRS: E[N] = r* = 2^D∞, sends N; [`sampler::pfr`] and
//!   [`sampler::gprs_parallel`] search the same process for the PFR winner and with J processes.
//! * [`sampler::gprs_branch`], [`sampler::gprs_dyadic`], [`sampler::astar_branch`] —
//!   branch-and-bound searches for 1-D unimodal ratios: E[depth] = O(KL), send a heap index.
//! * [`sampler::trace`] — the arrivals the GPRS and branch-and-bound encoders examine and their
//!   decisions, recorded through an observer that ordinary encoding compiles away (for pictures).
//!
//! Modules, in the order of the algorithm: [`random`] (the determinism contract: per-element
//! PCG streams, draw order, jump-ahead), [`poisson`] (the Poisson processes the samplers
//! search, simulated on those streams), [`math`] (libm special functions and quadrature),
//! [`distribution`] (families and tail coordinates), [`ratio`] (a pair's density ratio and
//! superlevel sets), [`pair`] (dispatch over the supported family pairs), [`divergence`]
//! (KL, D∞, D_CS in bits), [`stretch`] (σ, σ⁻¹ and cheap bracketed decisions), [`sampler`]
//! (one file per method and the shared tree search), [`message`] (what a sampler sends and
//! what a decoder knows besides), [`method`] (the registry: one row per method), [`code`]
//! (message codes, range coding, the container framing), [`batch`] (arrays in, arrays out, in
//! parallel) and [`codec`] (pairs to bytes and bytes to samples). The byte format and the
//! determinism contract are specified in `docs/format.md`. The Python bindings live behind the
//! `python` cargo feature so that `cargo test` and `cargo bench` need no interpreter.
//!
//! ```
//! use rec_fast::batch::{decode_pairs, encode_pairs, Distributions, EncodeSettings, Pairs};
//! use rec_fast::distribution::Family;
//! use rec_fast::sampler::Method;
//!
//! // Two uniform targets U(low, high) on the coding distribution N(0, 1).
//! let (q_low, q_high, p_loc, p_scale) = ([0.5, -0.3], [0.75, -0.25], [0.0, 0.0], [1.0, 1.0]);
//! let target = Distributions { family: Family::Uniform, first: &q_low, second: &q_high };
//! let proposal = Distributions { family: Family::Normal, first: &p_loc, second: &p_scale };
//! let settings = EncodeSettings::new(Method::GprsBranch, 7);
//! let encoding = encode_pairs(&Pairs { target, proposal }, &settings).unwrap();
//! let header = settings.header(Family::Uniform, Family::Normal, vec![2]);
//! let decoded = decode_pairs(&header, &encoding.messages, &proposal, None).unwrap();
//! assert_eq!(decoded, encoding.samples);
//! assert!(decoded.iter().zip(q_low.iter().zip(&q_high)).all(|(x, (lo, hi))| lo <= x && x <= hi));
//! ```
//!
//! References: [1] G. Flamich, *Greedy Poisson Rejection Sampling*, NeurIPS 2023;
//! [2] G. Flamich, S. Markou, J. M. Hernández-Lobato, *Fast Relative Entropy Coding with A\*
//! Coding*, ICML 2022; [3] C. T. Li, A. El Gamal, *Strong Functional Representation Lemma and
//! Applications to Coding Theorems*, IEEE T-IT 2018.

// `!(x > 0.0)` is deliberate throughout: it rejects NaN together with the out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod batch;
pub mod block;
pub mod codec;
pub mod code;
pub mod distribution;
pub mod divergence;
pub mod error;
pub mod math;
pub mod message;
pub mod method;
pub mod pair;
pub mod poisson;
pub mod random;
pub mod ratio;
pub mod sampler;
pub mod stretch;
pub mod streaming;

#[cfg(feature = "python")]
mod python;

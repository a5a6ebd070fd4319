//! The stretch function σ and its inverse, and the cheap accept/reject decisions built on them.
//!
//! σ(h) = ∫₀^h dη / g(η) with g(η) = w_Q(η) − η·w_P(η) (docs/methods.md). Its inverse h(t) = σ⁻¹(t)
//! solves the autonomous ODE dh/dt = g(h), h(0) = 0. An arrival (t, x) is under the stretched
//! graph iff r(x) ≥ σ⁻¹(t) iff σ(r(x)) ≥ t.
//!
//! # How the ODE is integrated
//! The ODE is scalar and autonomous, so its solution is the quadrature t = σ(h): integrating
//! "forward in t" from a known point (t₀, h₀) to h is `t = t₀ + ∫_{h₀}^{h} dη/g(η)`. σ has a
//! singularity at r* (g ∝ (r* − h)^α, α = [`DensityRatio::gap_exponent`]), so the quadrature
//! runs in the variable y = s^{1−α}/(α − 1) of the deficit s = ln(r*/η), where
//!
//! ```text
//! dη/g(η) = K(y) dy,   K(y) = η·s^α / g(η)
//! ```
//!
//! is bounded and smooth all the way to y → ∞ (h → r*). Panels grow geometrically in y and are
//! refined globally adaptively with 21-point Gauss–Kronrod until the summed |Kronrod − Gauss|
//! is below a relative tolerance ([`SEARCH_TOLERANCE`] inside searches, [`ACCURATE_TOLERANCE`]
//! for the public σ and σ⁻¹).
//!
//! # Deciding arrivals without the quadrature
//! A search ([`StretchSearch`], in `stretch/search.rs`) never integrates σ to decide an
//! arrival: g is convex and decreasing (g′ = −w_P), so from g and w_P at a few **knots** its
//! chords and tangents bound σ between knots in closed form (`stretch/bounds.rs`). An
//! arrival is accepted or rejected as soon as its time lies outside the bracket of σ(r(x));
//! otherwise its height becomes a knot and the widest pieces below it are halved. Only an
//! arrival within a relative 1e-10 of σ(r(x)) falls back to the quadrature, so the decisions
//! are those of the accurate σ outside the quadrature's own tolerance band.

use std::cell::Cell;

use crate::error::{RecError, Result};
use crate::math::integrate_adaptive;
use crate::ratio::{DensityRatio, SupportFloor};

mod bounds;
mod search;
#[cfg(test)]
mod test_pairs;

pub use search::{StretchSearch, DECISION_MARGIN};

/// Work done by the stretch searches of one thread, for profiling the encoders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchCounters {
    /// Decisions asked of searches (`accepts` and `would_accept`).
    pub decisions: u64,
    /// Evaluations of g and w_P that made a new knot of a search's bracket.
    pub knot_evaluations: u64,
    /// Decisions that needed the quadrature of σ.
    pub quadratures: u64,
    /// Evaluations of the quadrature's integrand K (searches, σ and σ⁻¹ alike).
    pub integrand_evaluations: u64,
}

thread_local! {
    static COUNTERS: Cell<SearchCounters> = const {
        Cell::new(SearchCounters { decisions: 0, knot_evaluations: 0, quadratures: 0, integrand_evaluations: 0 })
    };
}

/// Adds `change` to this thread's counters (a few cycles: no atomics, no locks).
#[inline(always)]
fn count(change: impl FnOnce(&mut SearchCounters)) {
    COUNTERS.with(|cell| {
        let mut counters = cell.get();
        change(&mut counters);
        cell.set(counters);
    });
}

/// This thread's counters since the last call, which resets them.
pub fn take_counters() -> SearchCounters {
    COUNTERS.with(|cell| cell.replace(SearchCounters::default()))
}

/// Relative tolerance on the summed |Kronrod − Gauss| estimates of a search's decisions.
/// The estimate bounds the 10-point Gauss error; the 21-point Kronrod value returned is
/// several orders more accurate (checked against an mpmath reference in the tests).
pub const SEARCH_TOLERANCE: f64 = 1e-8;
/// Relative tolerance of the public σ and σ⁻¹ evaluations.
pub const ACCURATE_TOLERANCE: f64 = 1e-12;
/// The most panels one quadrature may use before it reports failure.
const MAX_PANELS: usize = 400;
/// Heights below e^{−40} are integrated in closed form (σ(h) = h there).
const NEGLIGIBLE_LOG_HEIGHT: f64 = -40.0;
/// Geometric growth of the initial panels in y.
const PANEL_GROWTH: f64 = 4.0;

/// The substitution y(s) = s^{1−α}/(α − 1) (y = −ln s for α = 1), with the common exponents
/// in closed form (`libm::pow` is several times slower than `sqrt`).
#[derive(Clone, Copy, Debug)]
enum Substitution {
    /// α = 1 (r* taken on a set of positive P-mass): y = −ln s, s = e^{−y}.
    Log,
    /// α = 3/2 (a smooth maximum of r, e.g. Normal pairs): y = 2/√s, s = 4/y².
    ThreeHalves,
    /// α = 2 (a kink at the maximum, e.g. Laplace pairs): y = 1/s.
    Two,
    /// Any other α > 1.
    General(f64),
}

impl Substitution {
    fn new(alpha: f64) -> Self {
        if alpha == 1.0 {
            Substitution::Log
        } else if alpha == 1.5 {
            Substitution::ThreeHalves
        } else if alpha == 2.0 {
            Substitution::Two
        } else {
            Substitution::General(alpha)
        }
    }

    #[inline]
    fn y_of_deficit(self, deficit: f64) -> f64 {
        match self {
            Substitution::Log => -libm::log(deficit),
            _ if deficit == f64::INFINITY => 0.0,
            Substitution::ThreeHalves => 2.0 / libm::sqrt(deficit),
            Substitution::Two => 1.0 / deficit,
            Substitution::General(alpha) => libm::pow(deficit, 1.0 - alpha) / (alpha - 1.0),
        }
    }

    #[inline]
    fn deficit_of_y(self, y: f64) -> f64 {
        match self {
            Substitution::Log => libm::exp(-y),
            Substitution::ThreeHalves => 4.0 / (y * y),
            Substitution::Two => 1.0 / y,
            Substitution::General(alpha) => libm::pow((alpha - 1.0) * y, -1.0 / (alpha - 1.0)),
        }
    }

    /// ds/dy up to sign: s^α.
    #[inline]
    fn jacobian(self, deficit: f64) -> f64 {
        match self {
            Substitution::Log => deficit,
            Substitution::ThreeHalves => deficit * libm::sqrt(deficit),
            Substitution::Two => deficit * deficit,
            Substitution::General(alpha) => libm::pow(deficit, alpha),
        }
    }
}

/// σ and σ⁻¹ of one pair.
pub struct Stretch<'a, R: DensityRatio + ?Sized> {
    ratio: &'a R,
    log_max_ratio: f64,
    max_ratio: f64,
    substitution: Substitution,
    floor: Option<SupportFloor>,
}

impl<'a, R: DensityRatio + ?Sized> Stretch<'a, R> {
    /// The stretch function of the pair behind `ratio`.
    pub fn new(ratio: &'a R) -> Self {
        let log_max_ratio = ratio.log_max_ratio();
        Stretch {
            ratio,
            log_max_ratio,
            max_ratio: libm::exp(log_max_ratio),
            substitution: Substitution::new(ratio.gap_exponent()),
            floor: ratio.support_floor(),
        }
    }

    /// σ at the deficit `deficit` ≥ floor.deficit, where g(h) = 1 − h·w is linear:
    /// σ = −ln(1 − h·w)/w with h·w = height_mass·e^{floor.deficit − deficit}.
    fn floor_stretch(floor: &SupportFloor, deficit: f64) -> f64 {
        let height_mass = floor.height_mass * libm::exp(floor.deficit - deficit);
        -libm::log1p(-height_mass) / floor.proposal_mass
    }

    /// r*.
    pub fn max_ratio(&self) -> f64 {
        self.max_ratio
    }

    /// K(y) = η·s^α / g(η) at the deficit s(y).
    fn integrand(&self, y: f64) -> f64 {
        // y = 0 is s = ∞ (h = 0) for α > 1, where the height test below returns 0; for α = 1,
        // y ranges over the whole line.
        count(|c| c.integrand_evaluations += 1);
        let deficit = self.substitution.deficit_of_y(y);
        let height = libm::exp(self.log_max_ratio - deficit);
        if height == 0.0 {
            return 0.0;
        }
        let gap = self.ratio.superlevel_masses(deficit).gap;
        height * self.substitution.jacobian(deficit) / gap
    }

    /// ∫ K over [y_from, y_to] (y_from ≤ y_to < ∞) on geometric panels (each at most
    /// [`PANEL_GROWTH`] times its start, or one unit wide near 0), refined adaptively.
    fn integrate_y(&self, y_from: f64, y_to: f64, tolerance: f64) -> Result<f64> {
        let mut breakpoints = vec![y_from];
        while let Some(&start) = breakpoints.last().filter(|&&start| start < y_to) {
            breakpoints.push(y_to.min((PANEL_GROWTH * start).max(start + 1.0)));
        }
        integrate_adaptive(|y| self.integrand(y), &breakpoints, tolerance, MAX_PANELS).map_err(|panels| {
            RecError::SearchLimit(format!(
                "the stretch-function quadrature on y ∈ [{y_from}, {y_to}] did not reach \
                 relative error {tolerance:e} within {panels} Gauss–Kronrod panels"
            ))
        })
    }

    /// σ(h(deficit_to)) − σ(h(deficit_from)) for deficit_to ≤ deficit_from (h grows).
    /// Infinite when `deficit_to` is 0 (h = r*).
    pub fn increment(&self, deficit_from: f64, deficit_to: f64, tolerance: f64) -> Result<f64> {
        if deficit_to <= 0.0 {
            return Ok(f64::INFINITY);
        }
        if deficit_to >= deficit_from {
            return Ok(0.0);
        }
        let mut start = deficit_from;
        let mut total = 0.0;
        // Below the floor of r on Q's support, σ is closed form.
        if let Some(floor) = self.floor.filter(|floor| start > floor.deficit) {
            let end = deficit_to.max(floor.deficit);
            total = Self::floor_stretch(&floor, end) - Self::floor_stretch(&floor, start);
            if deficit_to >= floor.deficit {
                return Ok(total);
            }
            start = floor.deficit;
        }
        // Below h = e^{−40} (absolute), 1 − η ≤ g(η) ≤ 1 makes σ(h) = h to within 1e-17 relative:
        // take that part in closed form and start the quadrature where K has structure.
        let negligible = self.log_max_ratio - NEGLIGIBLE_LOG_HEIGHT;
        if start > negligible {
            let end = deficit_to.max(negligible);
            total += libm::exp(self.log_max_ratio - end) - libm::exp(self.log_max_ratio - start);
            if deficit_to >= negligible {
                return Ok(total);
            }
            start = negligible;
        }
        let y_from = self.substitution.y_of_deficit(start);
        let y_to = self.substitution.y_of_deficit(deficit_to);
        Ok(total + self.integrate_y(y_from, y_to, tolerance)?)
    }

    /// σ(h) for 0 ≤ h ≤ r* (infinite at h ≥ r*).
    pub fn stretch(&self, height: f64) -> Result<f64> {
        if height <= 0.0 {
            return Ok(0.0);
        }
        if height >= self.max_ratio {
            return Ok(f64::INFINITY);
        }
        let deficit = (self.log_max_ratio - libm::log(height)).max(0.0);
        self.increment(f64::INFINITY, deficit, ACCURATE_TOLERANCE)
    }

    /// σ⁻¹(t) as the deficit s = ln(r*/h) (∞ at t = 0, → 0 as t → ∞), by safeguarded Newton
    /// iteration on y with dt/dy = K(y); at most 1000 bracket doublings and 200 iterations.
    /// Times beyond the bracket at s = 1e-18 return that s (h = r* in double precision).
    pub fn inverse_deficit(&self, time: f64) -> Result<f64> {
        if !(time > 0.0) {
            return Ok(f64::INFINITY);
        }
        if time == f64::INFINITY {
            return Ok(0.0);
        }
        // Below h = e^{−40}, σ(h) = h to within 1e-17 relative (see `increment`); below the
        // floor of r on Q's support, h·w = 1 − e^{−t·w} in closed form.
        let negligible = self.log_max_ratio - NEGLIGIBLE_LOG_HEIGHT;
        let negligible_time = libm::exp(NEGLIGIBLE_LOG_HEIGHT);
        let mut start = (negligible, negligible_time);
        if let Some(floor) = self.floor {
            let floor_time = Self::floor_stretch(&floor, floor.deficit);
            if time <= floor_time {
                let height_mass = -libm::expm1(-time * floor.proposal_mass);
                return Ok(floor.deficit + libm::log(floor.height_mass) - libm::log(height_mass));
            }
            if floor.deficit < negligible {
                start = (floor.deficit, floor_time);
            }
        }
        if time <= start.1 {
            return Ok(self.log_max_ratio - libm::log(time));
        }
        // Bracket: σ at y_low is ≤ time < σ at y_high; the bracket's width doubles each time.
        let (mut y_low, mut time_low) = (self.substitution.y_of_deficit(start.0), start.1);
        let mut width = 1.0;
        let mut y_high = y_low + width;
        let mut time_high = time_low + self.integrate_y(y_low, y_high, ACCURATE_TOLERANCE)?;
        let mut doublings = 0;
        while time_high <= time {
            doublings += 1;
            let deficit_high = self.substitution.deficit_of_y(y_high);
            if doublings > 1000 || deficit_high < 1e-18 {
                // h = r*·e^{−s} is r* to double precision (and s^α would soon be subnormal).
                return Ok(deficit_high);
            }
            y_low = y_high;
            time_low = time_high;
            width *= 2.0;
            y_high = y_low + width;
            time_high = time_low + self.integrate_y(y_low, y_high, ACCURATE_TOLERANCE)?;
        }
        let mut y = y_low + (y_high - y_low) * (time - time_low) / (time_high - time_low);
        for _ in 0..200 {
            let time_at_y = time_low + self.integrate_y(y_low, y, ACCURATE_TOLERANCE)?;
            if time_at_y <= time {
                y_low = y;
                time_low = time_at_y;
            } else {
                y_high = y;
            }
            let slope = self.integrand(y);
            let newton = y + (time - time_at_y) / slope;
            let next = if slope > 0.0 && newton > y_low && newton < y_high {
                newton
            } else {
                0.5 * (y_low + y_high)
            };
            let resolution = 1e-15 * y.abs().max(1.0);
            if (next - y).abs() <= resolution || y_high - y_low <= resolution {
                return Ok(self.substitution.deficit_of_y(next));
            }
            y = next;
        }
        Err(RecError::SearchLimit(format!("σ⁻¹({time}) did not converge within 200 Newton steps")))
    }

    /// σ⁻¹(t) as a height h ∈ [0, r*).
    pub fn inverse(&self, time: f64) -> Result<f64> {
        let deficit = self.inverse_deficit(time)?;
        Ok(libm::exp(self.log_max_ratio - deficit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Normal;
    use crate::ratio::NormalRatio;

    fn talk_pair() -> NormalRatio {
        NormalRatio::new(Normal::new(1.0, 0.25).unwrap(), Normal::new(0.0, 1.0).unwrap()).unwrap()
    }

    #[test]
    fn stretched_ratio_matches_design_vectors() {
        // φ(x) = σ(r(x)) for the talk's running example (docs/test-vectors.md).
        let ratio = talk_pair();
        let stretch = Stretch::new(&ratio);
        for (x, phi) in [(0.412060, 0.288494), (0.814070, 9.96281), (1.417085, 4.42092), (2.0, 0.00993810)] {
            let deficit = ratio.deficit(x);
            let value = stretch.increment(f64::INFINITY, deficit, ACCURATE_TOLERANCE).unwrap();
            assert!((value / phi - 1.0).abs() < 2e-5, "x {x}: {value} vs {phi}");
        }
    }

    #[test]
    fn inverse_inverts() {
        let ratio = talk_pair();
        let stretch = Stretch::new(&ratio);
        for t in [1e-200, 1e-30, 1e-6, 0.01, 0.5, 1.0, 3.0, 10.0, 100.0, 1e4, 1e8] {
            let deficit = stretch.inverse_deficit(t).unwrap();
            let back = stretch.increment(f64::INFINITY, deficit, ACCURATE_TOLERANCE).unwrap();
            assert!((back / t - 1.0).abs() < 1e-9, "t {t}: deficit {deficit} back {back}");
        }
    }

    #[test]
    fn inverse_saturates_at_the_maximum_for_huge_times() {
        let ratio = talk_pair();
        let stretch = Stretch::new(&ratio);
        assert_eq!(stretch.inverse(1e200).unwrap(), stretch.max_ratio());
        assert_eq!(stretch.stretch(stretch.max_ratio()).unwrap(), f64::INFINITY);
    }

    #[test]
    fn search_decisions_match_exact_inverse() {
        let ratio = talk_pair();
        let stretch = Stretch::new(&ratio);
        let mut search = StretchSearch::new(&ratio);
        let mut time = 0.0;
        let mut state = 12345u64;
        for step in 0..2000 {
            state = crate::random::splitmix64(state);
            time += 0.01 * (1 + step % 7) as f64;
            let x = 16.0 / 15.0 + 3.0 * (crate::random::open_unit(state) - 0.5);
            let deficit = ratio.deficit(x);
            let exact = (-deficit).exp() * stretch.max_ratio() >= stretch.inverse(time).unwrap();
            assert_eq!(search.would_accept(time, deficit).unwrap(), exact, "step {step}");
            if !exact {
                search.accepts(time, deficit).unwrap();
            }
        }
    }
}

//! One search's accept/reject decisions r(x) ≥ σ⁻¹(t), i.e. σ(r(x)) ≥ t, from rigorous
//! brackets of σ instead of quadratures.
//!
//! The search keeps **knots** 0 = h₀ < h₁ < … < h_n where it has evaluated g and w_P, and for
//! each piece [h_{k−1}, h_k] the closed-form bounds of [`piece_bounds`], so that
//! σ(h_k) ∈ [Σ lower, Σ upper]. A rejected arrival at a knot adds the fact σ(h_k) < t (its
//! *cap*), and σ is increasing, so σ(h) < cap_j for every h ≤ h_j. An arrival at height h is
//! decided in three stages:
//!
//! 1. **No evaluation**: bound σ(h) from the knots around it (above the last knot: its
//!    tangent and its chord to (r*, 0), the bracket of the ODE dh/dt = g(h) from an anchor);
//!    accept if t ≤ lower, reject if t > upper.
//! 2. **One evaluation**: make h a knot (one `superlevel_masses`), which tightens the bounds
//!    of its piece from both ends.
//! 3. **Refinement**: split the piece below h whose bracket is widest, at its midpoint (in
//!    height, or geometrically in r* − h near the mode), until the bracket decides.
//!
//! Every bound holds in exact arithmetic; a relative margin [`DECISION_MARGIN`] far above the
//! rounding of g, w_P and the closed forms keeps them rigorous in floating point. Only an
//! arrival whose t lies within that margin of σ(h) (or a search that runs out of knots) falls
//! back to the Gauss–Kronrod quadrature of σ at [`SEARCH_TOLERANCE`], so every decision is the
//! one of the accurate σ outside the quadrature's own tolerance band.
//!
//! Before all three, a **rejection level** (t₀, s₀) from the tangent at the highest knot rejects
//! every arrival after t₀ with deficit above s₀ in one comparison; searches over many arrivals
//! map it to the proposal's tail coordinates and skip the quantile of most arrivals
//! ([`rejection_level`](StretchSearch::rejection_level)).
//!
//! The knots, caps and level are facts about σ, not about the times asked, so decisions may
//! come in any time order (pruning checks at later times included).

use super::bounds::{piece_bounds, Knot, ModePiece, PieceEnd};
use super::{count, Stretch, SEARCH_TOLERANCE};
use crate::error::Result;
use crate::ratio::DensityRatio;

/// Relative margin on the bounds of σ before they decide: far above the rounding of the
/// closed forms and of g and w_P (≈ 1e-15), far below the quadrature's tolerance (1e-8).
pub const DECISION_MARGIN: f64 = 1e-10;
/// The most knots one search keeps; beyond it, undecided arrivals use the quadrature.
const MAX_KNOTS: usize = 96;
/// A bracket narrower than this (relative) cannot be refined further in double precision.
const NARROWEST_BRACKET: f64 = 4.0 * DECISION_MARGIN;

/// A knot with the bounds on σ up to it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    knot: Knot,
    /// The rise in height from the previous knot (0 for the origin).
    span: f64,
    /// Bounds on ∫ dη/g over the piece from the previous knot to this one (0 for the origin).
    piece_lower: f64,
    piece_upper: f64,
    /// σ(h) ≥ `time_lower`: the sum of the lower bounds up to here.
    time_lower: f64,
    /// σ(h) ≤ `time_upper`: the sum of the upper bounds up to here, capped by every cap at or
    /// above this knot.
    time_upper: f64,
    /// A time known to exceed σ(h) (a rejected arrival's), ∞ if none.
    cap: f64,
}

/// Which way the bounds settle an arrival, if they do.
#[inline]
fn settle(time: f64, lower: f64, upper: f64) -> Option<bool> {
    if time <= lower * (1.0 - DECISION_MARGIN) {
        Some(true)
    } else if time > upper * (1.0 + DECISION_MARGIN) {
        Some(false)
    } else {
        None
    }
}

/// One search's incremental bracketing of σ: decides whether arrivals are under the graph
/// (see the module docs).
pub struct StretchSearch<'a, R: DensityRatio + ?Sized> {
    stretch: Stretch<'a, R>,
    /// Ascending in height (descending deficit); the first is the origin h = 0.
    knots: Vec<Entry>,
    /// Every arrival at a time ≥ `reject_time` whose deficit exceeds `reject_deficit` is
    /// below the graph: a one-comparison test that spares most arrivals the height r*·e^{−s}.
    reject_time: f64,
    reject_deficit: f64,
    /// How many decisions fell back to the quadrature (for profiling).
    pub quadratures: u32,
    /// Decisions and knot evaluations, added to the thread's counters when the search ends
    /// (a field costs less than a thread-local on every decision).
    decisions: u64,
    knot_evaluations: u64,
}

impl<R: DensityRatio + ?Sized> Drop for StretchSearch<'_, R> {
    fn drop(&mut self) {
        let (decisions, knot_evaluations) = (self.decisions, self.knot_evaluations);
        count(|c| {
            c.decisions += decisions;
            c.knot_evaluations += knot_evaluations;
        });
    }
}

impl<'a, R: DensityRatio + ?Sized> StretchSearch<'a, R> {
    /// A new search, knowing only the origin (σ(0) = 0, g = 1, w_P ≤ 1).
    pub fn new(ratio: &'a R) -> Self {
        let stretch = Stretch::new(ratio);
        let origin = Entry {
            knot: Knot::origin(stretch.max_ratio),
            span: 0.0,
            piece_lower: 0.0,
            piece_upper: 0.0,
            time_lower: 0.0,
            time_upper: 0.0,
            cap: f64::INFINITY,
        };
        let mut knots = Vec::with_capacity(8);
        knots.push(origin);
        StretchSearch {
            stretch,
            knots,
            reject_time: f64::INFINITY,
            reject_deficit: f64::INFINITY,
            quadratures: 0,
            decisions: 0,
            knot_evaluations: 0,
        }
    }

    /// Is the arrival at `time` whose location has deficit `deficit` under the graph, i.e.
    /// r(x) ≥ σ⁻¹(time)? Times may come in any order: what a search learns (knots, and
    /// σ(h) < t at a rejected knot) holds whatever is asked next.
    pub fn accepts(&mut self, time: f64, deficit: f64) -> Result<bool> {
        self.decisions += 1;
        if deficit <= 0.0 {
            // h = r*: σ = ∞.
            return Ok(true);
        }
        if deficit > self.reject_deficit && time >= self.reject_time || deficit == f64::INFINITY {
            // h = 0 (σ = 0 < t), or below the level known to be under σ⁻¹ by `reject_time`.
            return Ok(false);
        }
        let accepted = match self.settle_without_evaluation(time, deficit) {
            Some(decision) => decision,
            None => self.settle_with_knots(time, deficit)?,
        };
        if !accepted {
            self.raise_reject_level(time);
        }
        Ok(accepted)
    }

    /// (t₀, s₀): every arrival at a time ≥ t₀ whose deficit exceeds s₀ is rejected (∞, ∞ while
    /// no such level is known). It only rises as the search learns.
    pub fn rejection_level(&self) -> (f64, f64) {
        (self.reject_time, self.reject_deficit)
    }

    /// The same decision as [`accepts`](Self::accepts), for pruning checks (the dyadic search
    /// asks it of a child's best ratio at the child's time).
    pub fn would_accept(&mut self, time: f64, deficit: f64) -> Result<bool> {
        self.accepts(time, deficit)
    }

    /// Moves the one-comparison rejection test to `time` (if later than its own): by the
    /// tangent at the highest knot a, σ(h) ≤ σ(a) + ∫_a^h dη/(g_a − w_a(η − a)) ≤ τ for
    /// h ≤ a + (g_a/w_a)(1 − e^{−w_a(τ − σ(a))}), so every arrival at a time ≥ `time` below that
    /// height (shrunk, and its deficit raised, by far more than their rounding) is rejected.
    fn raise_reject_level(&mut self, time: f64) {
        if self.reject_time != f64::INFINITY && time <= self.reject_time {
            return;
        }
        let last = self.knots.last().expect("the origin is always a knot");
        let budget = time / (1.0 + DECISION_MARGIN) - last.time_upper;
        if !(budget > 0.0) {
            return;
        }
        let (gap, slope) = (last.knot.gap, last.knot.proposal_mass);
        let rise = if slope > 0.0 { -gap / slope * libm::expm1(-slope * budget) } else { gap * budget };
        let height = (last.knot.height + rise) * (1.0 - 1e-12);
        if !(height > 0.0) {
            return;
        }
        let log_height = libm::log(height);
        let log_max_ratio = self.stretch.log_max_ratio;
        self.reject_deficit = log_max_ratio - log_height + 1e-12 * (1.0 + log_max_ratio.abs() + log_height.abs());
        self.reject_time = time;
    }

    /// Stage 1: the bounds of σ(h) from the knots already there.
    #[inline]
    fn settle_without_evaluation(&self, time: f64, deficit: f64) -> Option<bool> {
        let max_ratio = self.stretch.max_ratio;
        let last = self.knots.last().expect("the origin is always a knot");
        if deficit < last.knot.deficit {
            // Above every knot: the tangent at the last knot and its chord to (r*, 0)
            // (`piece_bounds` to the mode), first with the logarithm-free bounds on F.
            let piece = ModePiece::new(&last.knot, last.knot.rise_to(deficit, max_ratio));
            let (lower, upper) = piece.quick();
            let decision = settle(time, last.time_lower + lower, last.time_upper + upper);
            if decision.is_some() {
                return decision;
            }
            let (lower, upper) = piece.exact();
            return settle(time, last.time_lower + lower, last.time_upper + upper);
        }
        // At or below the last knot: σ(h) ≤ σ(h_last).
        if time > last.time_upper * (1.0 + DECISION_MARGIN) {
            return Some(false);
        }
        let above = self.knots.iter().position(|entry| entry.knot.deficit <= deficit)?;
        let right = &self.knots[above];
        if right.knot.deficit == deficit {
            return settle(time, right.time_lower, right.time_upper);
        }
        let left = &self.knots[above - 1];
        // σ(h_left) ≤ σ(h) ≤ σ(h_right) before bounding the partial piece.
        if let Some(decision) = settle(time, left.time_lower, right.time_upper) {
            return Some(decision);
        }
        let delta = left.knot.rise_to(deficit, max_ratio);
        let rest = max_ratio * libm::exp(-deficit) * libm::expm1(deficit - right.knot.deficit);
        let (lower, upper) = piece_bounds(&left.knot, Self::end_of(right), delta, rest);
        settle(time, left.time_lower + lower, (left.time_upper + upper).min(right.time_upper))
    }

    /// The right end of the piece from `left` to `right`, for [`piece_bounds`].
    #[inline]
    fn end_of(right: &Entry) -> PieceEnd {
        PieceEnd { span: right.span, gap: right.knot.gap, proposal_mass: right.knot.proposal_mass }
    }

    /// Stages 2 and 3: h becomes a knot, then the widest pieces below it are halved until the
    /// bracket decides; the quadrature settles what the bracket cannot.
    fn settle_with_knots(&mut self, time: f64, deficit: f64) -> Result<bool> {
        let mut index = self.insert_knot(deficit);
        loop {
            let entry = &self.knots[index];
            let (lower, upper) = (entry.time_lower, entry.time_upper);
            if let Some(decision) = settle(time, lower, upper) {
                if !decision {
                    self.add_cap(index, time);
                }
                return Ok(decision);
            }
            let narrow = upper - lower <= NARROWEST_BRACKET * lower;
            let widest = (1..=index)
                .max_by(|&a, &b| {
                    let width = |k: usize| self.knots[k].piece_upper - self.knots[k].piece_lower;
                    width(a).total_cmp(&width(b))
                })
                .expect("h is above the origin");
            let split = self.split_deficit(widest);
            match split {
                Some(split) if !narrow && self.knots.len() < MAX_KNOTS => {
                    self.insert_knot(split);
                    if widest <= index {
                        index += 1;
                    }
                }
                _ => return self.settle_by_quadrature(time, deficit, index),
            }
        }
    }

    /// The accurate decision: σ(h) by the Gauss–Kronrod quadrature from 0.
    #[cold]
    fn settle_by_quadrature(&mut self, time: f64, deficit: f64, index: usize) -> Result<bool> {
        count(|c| c.quadratures += 1);
        self.quadratures += 1;
        let stretched = self.stretch.increment(f64::INFINITY, deficit, SEARCH_TOLERANCE)?;
        let accepted = stretched >= time;
        if !accepted {
            self.add_cap(index, time);
        }
        Ok(accepted)
    }

    /// Where to split the piece ending at knot `index`: halfway in height, or at the geometric
    /// mean of r* − h when the piece approaches the mode by more than a factor 4 (where 1/g
    /// grows like (r* − h)^{−α}). `None` when no double lies strictly inside.
    fn split_deficit(&self, index: usize) -> Option<f64> {
        let (low, high) = (&self.knots[index - 1].knot, &self.knots[index].knot);
        let max_ratio = self.stretch.max_ratio;
        let from_headroom = |headroom: f64| -libm::log1p(-headroom / max_ratio);
        let deficit = if 4.0 * high.headroom < low.headroom {
            from_headroom(libm::sqrt(low.headroom * high.headroom))
        } else if low.height >= 0.5 * max_ratio {
            from_headroom(0.5 * (low.headroom + high.headroom))
        } else {
            self.stretch.log_max_ratio - libm::log(0.5 * (low.height + high.height))
        };
        (deficit < low.deficit && deficit > high.deficit).then_some(deficit)
    }

    /// Makes the height of deficit `deficit` a knot (one evaluation of g and w_P) and returns
    /// its index; the bounds of the piece it falls in are split in two.
    fn insert_knot(&mut self, deficit: f64) -> usize {
        let index = self.knots.iter().position(|entry| entry.knot.deficit <= deficit).unwrap_or(self.knots.len());
        if index < self.knots.len() && self.knots[index].knot.deficit == deficit {
            return index;
        }
        self.knot_evaluations += 1;
        let knot = Knot::at(self.stretch.ratio, deficit, self.stretch.max_ratio);
        let entry = Entry { knot, span: 0.0, piece_lower: 0.0, piece_upper: 0.0, time_lower: 0.0, time_upper: 0.0, cap: f64::INFINITY };
        self.knots.insert(index, entry);
        self.update_piece(index);
        if index + 1 < self.knots.len() {
            self.update_piece(index + 1);
        }
        self.update_times(index);
        index
    }

    /// Recomputes the bounds of the piece that ends at knot `index` ≥ 1.
    fn update_piece(&mut self, index: usize) {
        let (left, right) = (&self.knots[index - 1].knot, &self.knots[index].knot);
        let span = left.rise_to(right.deficit, self.stretch.max_ratio);
        let end = PieceEnd { span, gap: right.gap, proposal_mass: right.proposal_mass };
        let (lower, upper) = piece_bounds(left, end, span, 0.0);
        let entry = &mut self.knots[index];
        entry.span = span;
        entry.piece_lower = lower;
        entry.piece_upper = upper;
    }

    /// Recomputes the bounds on σ at every knot from `from` on, and the caps below them.
    fn update_times(&mut self, from: usize) {
        for k in from.max(1)..self.knots.len() {
            let previous = self.knots[k - 1];
            let entry = &mut self.knots[k];
            entry.time_lower = previous.time_lower + entry.piece_lower;
            entry.time_upper = (previous.time_upper + entry.piece_upper).min(entry.cap);
        }
        self.propagate_caps();
    }

    /// σ(h) < t at knot `index` after a rejection.
    fn add_cap(&mut self, index: usize, time: f64) {
        let entry = &mut self.knots[index];
        entry.cap = entry.cap.min(time);
        entry.time_upper = entry.time_upper.min(time);
        self.propagate_caps();
    }

    /// σ is increasing: every knot's upper bound is at most that of the knots above it.
    fn propagate_caps(&mut self) {
        for k in (0..self.knots.len().saturating_sub(1)).rev() {
            let above = self.knots[k + 1].time_upper;
            let entry = &mut self.knots[k];
            entry.time_upper = entry.time_upper.min(above);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stretch::test_pairs::{random_pairs, Draws};
    use crate::stretch::test_pairs::REFERENCE_TOLERANCE;

    /// σ(r*·e^{−s}) by the accurate quadrature.
    fn accurate_stretch<R: DensityRatio + ?Sized>(stretch: &Stretch<'_, R>, deficit: f64) -> f64 {
        stretch.increment(f64::INFINITY, deficit, REFERENCE_TOLERANCE).unwrap()
    }

    /// Every decision of a search equals the accurate σ's, for arrivals in time order (as the
    /// global and split-on-sample searches ask) and for pruning checks at scattered times.
    #[test]
    fn decisions_match_the_accurate_stretch_over_many_pairs() {
        let mut draws = Draws(99);
        let (mut decided, mut near) = (0, 0);
        for (name, ratio) in random_pairs(7, 40) {
            let stretch = Stretch::new(ratio.as_ref());
            let mut search = StretchSearch::new(ratio.as_ref());
            let log_max = ratio.log_max_ratio();
            let mut time = 0.0;
            for step in 0..150 {
                time += 0.05 * log_max.exp() * draws.exponential();
                // Deficits spread from the mode to far below it, where most arrivals land.
                // (s ≥ 1e-4: the accurate quadrature's variable y grows like s^{1−α}.)
                let deficit = (log_max + 3.0) * draws.uniform().powi(3) + 1e-4;
                // A pruning check at an earlier or later time than the arrivals around it.
                let check_time = time * (0.5 + draws.uniform());
                for (t, pruning) in [(time, false), (check_time, true)] {
                    let exact = accurate_stretch(&stretch, deficit);
                    if (exact - t).abs() <= 1e-7 * t {
                        near += 1;
                        continue;
                    }
                    let decision = if pruning { search.would_accept(t, deficit) } else { search.accepts(t, deficit) };
                    assert_eq!(decision.unwrap(), exact >= t, "{name}: step {step}, t {t}, s {deficit}, σ {exact}");
                    decided += 1;
                }
            }
            assert_eq!(search.quadratures, 0, "{name}: only arrivals within 1e-10 of σ need the quadrature");
        }
        assert!(decided > 10_000 && near < decided / 1000, "{decided} decided, {near} within the band");
    }

    /// Arrivals right at the boundary (t = σ(h)·(1 ± 1e-9)) are still decided like the accurate σ.
    #[test]
    fn arrivals_next_to_the_graph_are_decided_exactly() {
        let mut draws = Draws(5);
        for (name, ratio) in random_pairs(11, 12) {
            let stretch = Stretch::new(ratio.as_ref());
            let mut search = StretchSearch::new(ratio.as_ref());
            let log_max = ratio.log_max_ratio();
            for step in 0..30 {
                let deficit = (log_max + 2.0) * draws.uniform().powi(2) + 1e-4;
                let exact = accurate_stretch(&stretch, deficit);
                let time = if step % 2 == 0 { exact * (1.0 - 1e-7) } else { exact * (1.0 + 1e-7) };
                assert_eq!(search.would_accept(time, deficit).unwrap(), step % 2 == 0, "{name}: step {step}");
            }
        }
    }
}

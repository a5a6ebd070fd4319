//! Rigorous two-sided bounds on pieces of σ from exact values of g and w_P at knots.
//!
//! σ(b) − σ(a) = ∫_a^b dη / g(η) with g convex and decreasing, g′ = −w_P. Given g and w_P at
//! the ends of a piece [a, b] (a *knot* at each end), convexity brackets g on the piece by
//! straight lines:
//!
//! ```text
//! chord      g(η) ≤ g_a − c·(η − a),              c = (g_a − g_b)/(b − a)
//! tangents   g(η) ≥ max(g_a − w_a(η − a), g_b + w_b(b − η))
//! ```
//!
//! and 1/g integrates over each line in closed form, so for every a ≤ h ≤ b
//!
//! ```text
//! ∫_a^h dη/chord           = Δ/g_a · F(cΔ/g_a)                        (a lower bound)
//! ∫_a^x dη/(left tangent)  = x/g_a · F(w_a·x/g_a)
//! ∫_x^h dη/(right tangent) = (Δ − x)/T_h · G(w_b(Δ − x)/T_h)          (their sum: an upper bound)
//! ```
//!
//! with Δ = h − a, F(u) = −ln(1 − u)/u, G(z) = ln(1 + z)/z, T_h = g_b + w_b(b − h) the right
//! tangent at h, and any split x ∈ [0, Δ] (the tangents' crossing gives the tightest bound;
//! 1/max ≤ 1/either line, so a rounded x stays rigorous). A piece that ends at the mode
//! (b = r*, g_b = 0) has only the chord and the left tangent. The bracket of a piece shrinks
//! like its width squared, so halving the pieces that matter decides an arrival after a few
//! evaluations of g instead of a Gauss–Kronrod quadrature.

use crate::ratio::DensityRatio;

/// A point where g and w_P are known, parametrised by its deficit s = ln(r*/h).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Knot {
    pub deficit: f64,
    /// h = r*·e^{−s}.
    pub height: f64,
    /// r* − h, without the cancellation of the difference near the mode.
    pub headroom: f64,
    /// g(h).
    pub gap: f64,
    /// w_P(h), the slope −g′(h).
    pub proposal_mass: f64,
}

impl Knot {
    /// The knot at deficit `deficit` (0 < s < ∞) of `ratio`, whose r* is `max_ratio`: one
    /// evaluation of its superlevel masses.
    pub fn at<R: DensityRatio + ?Sized>(ratio: &R, deficit: f64, max_ratio: f64) -> Knot {
        let masses = ratio.superlevel_masses(deficit);
        Knot {
            deficit,
            height: max_ratio * libm::exp(-deficit),
            headroom: -max_ratio * libm::expm1(-deficit),
            gap: masses.gap,
            proposal_mass: masses.proposal,
        }
    }

    /// h = 0 (s = ∞), where g = 1 and w_P ≤ 1 (P[r ≥ 0] = 1; just above 0, the P-mass of Q's
    /// support), so the tangent g(η) ≥ 1 − η holds.
    pub fn origin(max_ratio: f64) -> Knot {
        Knot { deficit: f64::INFINITY, height: 0.0, headroom: max_ratio, gap: 1.0, proposal_mass: 1.0 }
    }

    /// The height from this knot up to the height of deficit `deficit` ≤ its own, to full
    /// relative precision: h·(e^{s₀ − s} − 1) from the deficits, where a difference of heights
    /// or headrooms could cancel.
    #[inline]
    pub fn rise_to(&self, deficit: f64, max_ratio: f64) -> f64 {
        if self.deficit == f64::INFINITY {
            max_ratio * libm::exp(-deficit)
        } else {
            self.height * libm::expm1(self.deficit - deficit)
        }
    }
}

/// −ln(1 − u)/u for 0 ≤ u < 1 (1 at u = 0, ∞ from u = 1 on): the integral of 1/(1 − uξ)
/// over ξ ∈ [0, 1].
#[inline]
fn falling_line_factor(u: f64) -> f64 {
    if u >= 1.0 {
        f64::INFINITY
    } else if u > 0.0 {
        -libm::log1p(-u) / u
    } else {
        1.0
    }
}

/// Bounds on −ln(1 − u)/u = Σ_k u^k/(k + 1) without a logarithm, for 0 ≤ u:
/// 1 + u/2 + u²/3 ≤ F(u) ≤ 1 + u/(2(1 − u)) (every coefficient after the first is at most
/// 1/2); the upper bound is ∞ from u = 1 on.
#[inline]
fn falling_line_factor_range(u: f64) -> (f64, f64) {
    let lower = 1.0 + u * (0.5 + u / 3.0);
    let upper = if u < 1.0 { 1.0 + 0.5 * u / (1.0 - u) } else { f64::INFINITY };
    (lower, upper)
}

/// ln(1 + z)/z for z ≥ 0 (1 at z = 0): the integral of 1/(1 + zξ) over ξ ∈ [0, 1].
#[inline]
fn rising_line_factor(z: f64) -> f64 {
    if z > 0.0 {
        libm::log1p(z) / z
    } else {
        1.0
    }
}

/// Bounds on ∫_a^{a+Δ} dη/g above the highest knot a, where the piece ends at the mode
/// (r*, g = 0): the chord to (r*, 0) and the tangent at a.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModePiece {
    /// Δ/g_a.
    base: f64,
    /// The chord's u = Δ/(r* − a).
    chord: f64,
    /// The tangent's u = w_a·Δ/g_a.
    tangent: f64,
}

impl ModePiece {
    #[inline]
    pub fn new(left: &Knot, delta: f64) -> Self {
        let base = delta / left.gap;
        ModePiece { base, chord: delta / left.headroom, tangent: left.proposal_mass * base }
    }

    /// (lower, upper) without a logarithm ([`falling_line_factor_range`]): looser, cheaper.
    #[inline]
    pub fn quick(&self) -> (f64, f64) {
        let (chord_lower, _) = falling_line_factor_range(self.chord);
        let (_, tangent_upper) = falling_line_factor_range(self.tangent);
        (self.base * chord_lower, self.base * tangent_upper)
    }

    /// (lower, upper) in closed form (the upper bound is ∞ once the tangent reaches 0).
    #[inline]
    pub fn exact(&self) -> (f64, f64) {
        (self.base * falling_line_factor(self.chord), self.base * falling_line_factor(self.tangent))
    }
}

/// The right end of a piece between two knots, as seen from its left knot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PieceEnd {
    /// b − a.
    pub span: f64,
    /// g_b.
    pub gap: f64,
    /// w_P at b.
    pub proposal_mass: f64,
}

/// Bounds (lower, upper) on ∫_a^{a+Δ} dη/g over the piece from the knot `left` to `end`, for
/// 0 ≤ `delta` = Δ ≤ b − a, where `rest` = b − (a + Δ).
#[inline]
pub(crate) fn piece_bounds(left: &Knot, end: PieceEnd, delta: f64, rest: f64) -> (f64, f64) {
    let (g_left, w_left) = (left.gap, left.proposal_mass);
    let PieceEnd { span, gap: g_right, proposal_mass: w_right } = end;
    let chord_drop = (g_left - g_right).max(0.0);
    let lower = delta / g_left * falling_line_factor(chord_drop / g_left * (delta / span));
    // The tangents cross where g_a − w_a·x = g_b + w_b(span − x).
    let crossing = (g_left - g_right - w_right * span) / (w_left - w_right);
    let split = if crossing.is_nan() { delta } else { crossing.clamp(0.0, delta) };
    let left_part = split / g_left * falling_line_factor(w_left * split / g_left);
    let tangent_at_h = g_right + w_right * rest;
    let right_width = delta - split;
    let right_part = if right_width > 0.0 {
        right_width / tangent_at_h * rising_line_factor(w_right * right_width / tangent_at_h)
    } else {
        0.0
    };
    (lower, left_part + right_part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stretch::test_pairs::{random_pairs, Draws};
    use crate::stretch::Stretch;
    use crate::stretch::test_pairs::REFERENCE_TOLERANCE;

    /// Slack for the accurate quadrature's own error and rounding.
    const SLACK: f64 = 1e-9;

    #[test]
    fn piece_bounds_bracket_the_accurate_stretch() {
        let mut draws = Draws(3);
        let mut checked = 0;
        for (name, ratio) in random_pairs(1, 60) {
            let stretch = Stretch::new(ratio.as_ref());
            let max_ratio = stretch.max_ratio();
            let log_max = ratio.log_max_ratio();
            for _ in 0..40 {
                // Two knots (the first possibly the origin) and a height between them.
                let spread = log_max + 4.0;
                let mut deficits = [spread * draws.uniform().powi(3), spread * draws.uniform().powi(3), 0.0];
                deficits.sort_by(|a, b| b.total_cmp(a));
                // The accurate quadrature needs s ≳ 1e-4 (its variable y grows like s^{1−α}).
                let (high, low) = (deficits[1].max(1e-4), deficits[0].max(2e-4));
                if !(low > high) {
                    continue;
                }
                let left = if draws.uniform() < 0.2 { Knot::origin(max_ratio) } else { Knot::at(ratio.as_ref(), low, max_ratio) };
                let right = Knot::at(ratio.as_ref(), high, max_ratio);
                let middle = high + (left.deficit.min(low + 30.0) - high) * draws.uniform();
                let accurate = |to: f64| stretch.increment(left.deficit, to, REFERENCE_TOLERANCE).expect(&name);
                let span = left.rise_to(high, max_ratio);
                let end = PieceEnd { span, gap: right.gap, proposal_mass: right.proposal_mass };
                let whole = accurate(high);
                let (lower, upper) = piece_bounds(&left, end, span, 0.0);
                assert!(lower <= whole * (1.0 + SLACK) && whole <= upper * (1.0 + SLACK), "{name}: [{lower}, {upper}] ∌ {whole}");
                if middle > high && middle < left.deficit {
                    let part = accurate(middle);
                    let delta = left.rise_to(middle, max_ratio);
                    let rest = max_ratio * libm::exp(-middle) * libm::expm1(middle - high);
                    let (lower, upper) = piece_bounds(&left, end, delta, rest);
                    assert!(lower <= part * (1.0 + SLACK) && part <= upper * (1.0 + SLACK), "{name}: [{lower}, {upper}] ∌ {part}");
                    // Above the knot, towards the mode.
                    let piece = ModePiece::new(&left, delta);
                    let (exact_lower, exact_upper) = piece.exact();
                    let (quick_lower, quick_upper) = piece.quick();
                    assert!(quick_lower <= exact_lower * (1.0 + 1e-15) && exact_upper <= quick_upper * (1.0 + 1e-15));
                    assert!(exact_lower <= part * (1.0 + SLACK) && part <= exact_upper * (1.0 + SLACK), "{name}: mode piece");
                }
                checked += 1;
            }
        }
        assert!(checked > 1500, "{checked} pieces checked");
    }

    #[test]
    fn line_factors_match_their_series() {
        for u in [0.0_f64, 1e-12, 1e-6, 0.01, 0.3, 0.9, 0.999_999] {
            let exact = if u == 0.0 { 1.0 } else { -(-u).ln_1p() / u };
            assert!((falling_line_factor(u) / exact - 1.0).abs() < 1e-9, "u {u}");
            let (lower, upper) = falling_line_factor_range(u);
            assert!(lower <= falling_line_factor(u) && falling_line_factor(u) <= upper, "u {u}");
            let z = u * 10.0;
            let rising = if z == 0.0 { 1.0 } else { z.ln_1p() / z };
            assert!((rising_line_factor(z) / rising - 1.0).abs() < 1e-9, "z {z}");
        }
        assert_eq!(falling_line_factor(1.0), f64::INFINITY);
    }
}

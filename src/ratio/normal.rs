//! The ratio of two normal distributions.

use super::{DensityRatio, SuperlevelMasses, SupportFloor, MAX_LOG_RATIO};
use crate::distribution::{Normal, TailInterval, TailPoint};
use crate::error::{Number, RecError, Result};
use crate::math::{normal_cdf, normal_ln_pdf, normal_mass_around, normal_sf, symmetric_density_sums, LEGENDRE_8_NODES};

/// The ratio of two normals Q = N(c, e²) over P = N(a, b²).
///
/// In P's standard coordinates z = (x − a)/b, Q = N(m, τ²) with m = (c − a)/b, τ = e/b, and
/// for τ < 1
///
/// ```text
/// ln r(z) = −ln τ − (z − m)²/(2τ²) + z²/2 = ln r* − (z − μ)²/(2v),
/// v = τ²/(1 − τ²),   μ = m/(1 − τ²),   ln r* = −ln τ + m²/(2(1 − τ²)),
/// ```
///
/// so {r ≥ r*e^{−s}} = [μ − ρ, μ + ρ] with ρ = √(2vs). τ = 1 with m = 0 is Q = P (r ≡ 1);
/// every other τ ≥ 1 makes r unbounded.
#[derive(Clone, Copy, Debug)]
pub struct NormalRatio {
    /// The target Q.
    pub target: Normal,
    /// The coding distribution P.
    pub proposal: Normal,
    standardized_target_loc: f64,
    standardized_target_scale: f64,
    /// v = τ²/(1 − τ²) (infinite for Q = P).
    curvature_variance: f64,
    /// μ in P-standard units.
    standardized_mode: f64,
    log_max_ratio: f64,
    identical: bool,
}

impl NormalRatio {
    /// Validates that dQ/dP is bounded and builds the ratio.
    pub fn new(target: Normal, proposal: Normal) -> Result<NormalRatio> {
        let m = (target.loc - proposal.loc) / proposal.scale;
        let tau = target.scale / proposal.scale;
        let identical = tau == 1.0 && m == 0.0;
        if tau >= 1.0 && !identical {
            return Err(RecError::UnboundedRatio(format!(
                "target scale {} {} proposal scale {} makes dQ/dP unbounded{}; GPRS needs a \
                 proposal wider than the target (or exactly equal to it)",
                Number(target.scale),
                if tau == 1.0 { "=" } else { ">" },
                Number(proposal.scale),
                if tau == 1.0 { " because the means differ" } else { "" },
            )));
        }
        let one_minus_tau2 = (1.0 - tau) * (1.0 + tau);
        let (curvature_variance, standardized_mode, log_max_ratio) = if identical {
            (f64::INFINITY, 0.0, 0.0)
        } else {
            let log_max = -libm::log(tau) + m * m / (2.0 * one_minus_tau2);
            (tau * tau / one_minus_tau2, m / one_minus_tau2, log_max)
        };
        if !(log_max_ratio <= MAX_LOG_RATIO) {
            return Err(RecError::InvalidParameter(format!(
                "target N({}, {}) against proposal N({}, {}) has D∞ = {:.1} nats, above the \
                 supported {MAX_LOG_RATIO} nats",
                Number(target.loc),
                Number(target.scale),
                Number(proposal.loc),
                Number(proposal.scale),
                log_max_ratio
            )));
        }
        Ok(NormalRatio {
            target,
            proposal,
            standardized_target_loc: m,
            standardized_target_scale: tau,
            curvature_variance,
            standardized_mode,
            log_max_ratio,
            identical,
        })
    }

    /// True for Q = P, where r ≡ 1.
    pub fn is_identity(&self) -> bool {
        self.identical
    }

    /// The superlevel set {r ≥ r*e^{−deficit}} as an interval of x.
    pub fn superlevel_interval(&self, deficit: f64) -> (f64, f64) {
        if self.identical {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit) * self.proposal.scale;
        let mode = self.mode();
        (mode - half_width, mode + half_width)
    }

    /// Masses of a narrow level set by 8-point Gauss–Legendre in z = μ + ρu, u ∈ [−1, 1]:
    /// w_P = ρ∫φ(μ+ρu)du and g = hρ∫φ(μ+ρu)·expm1(s(1 − u²))du, which keeps relative
    /// precision as s → 0 where w_Q − h·w_P cancels.
    fn narrow_masses(&self, deficit: f64, half_width: f64, height: f64) -> SuperlevelMasses {
        let mode = self.standardized_mode;
        let density_at_mode = libm::exp(normal_ln_pdf(mode));
        let (plain, weighted) = symmetric_density_sums(mode, half_width, |k| {
            let node = LEGENDRE_8_NODES[k];
            libm::expm1(deficit * (1.0 - node * node))
        });
        let proposal = half_width * density_at_mode * plain;
        let gap = height * half_width * density_at_mode * weighted;
        SuperlevelMasses { proposal, target: gap + height * proposal, gap }
    }
}

impl DensityRatio for NormalRatio {
    fn log_max_ratio(&self) -> f64 {
        self.log_max_ratio
    }

    #[inline]
    fn deficit(&self, x: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let offset = self.proposal.standardize(x) - self.standardized_mode;
        offset * offset / (2.0 * self.curvature_variance)
    }

    fn superlevel_masses(&self, deficit: f64) -> SuperlevelMasses {
        let height = libm::exp(self.log_max_ratio - deficit);
        if self.identical {
            return SuperlevelMasses::identical(deficit);
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit);
        let mode = self.standardized_mode;
        if deficit <= 0.25 && half_width <= 0.5 && (mode.abs() + half_width) * half_width <= 1.0 {
            return self.narrow_masses(deficit, half_width, height);
        }
        let proposal = normal_mass_around(mode, half_width);
        let (m, tau) = (self.standardized_target_loc, self.standardized_target_scale);
        let target = normal_mass_around((mode - m) / tau, half_width / tau);
        let gap = (target - height * proposal).max(f64::MIN_POSITIVE);
        SuperlevelMasses { proposal, target, gap }
    }

    fn proposal_mass_outside(&self, deficit: f64) -> f64 {
        if self.identical {
            return 0.0;
        }
        let half_width = libm::sqrt(2.0 * self.curvature_variance * deficit);
        normal_cdf(self.standardized_mode - half_width) + normal_sf(self.standardized_mode + half_width)
    }

    /// In P's standard units the set {d ≤ s} is |z − μ| ≤ ρ = √(2vs); widened by
    /// δ = 1e-9·ρ + 1e-10·(1 + |μ| + ρ + |a|/b), a million times the rounding of the quantile
    /// (AS 241, about 1e-16 relative), of x = a + bz, of (x − a)/b − μ and of the CDF ends.
    fn deficit_window(&self, deficit: f64) -> Option<TailInterval> {
        if self.identical || !(deficit >= 0.0 && deficit.is_finite()) {
            return None;
        }
        let mode = self.standardized_mode;
        let reach = libm::sqrt(2.0 * self.curvature_variance * deficit);
        let slack = 1e-9 * reach + 1e-10 * (1.0 + mode.abs() + reach + (self.proposal.loc / self.proposal.scale).abs());
        let tail_point = |z: f64| if z <= 0.0 { TailPoint::Lower(normal_cdf(z)) } else { TailPoint::Upper(normal_sf(z)) };
        Some(TailInterval { left: tail_point(mode - reach - slack), right: tail_point(mode + reach + slack) })
    }

    fn gap_exponent(&self) -> f64 {
        1.5
    }

    fn mode(&self) -> f64 {
        self.proposal.loc + self.proposal.scale * self.standardized_mode
    }

    fn support_floor(&self) -> Option<SupportFloor> {
        self.identical.then_some(SupportFloor::IDENTICAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::normal_mass;

    fn talk_pair() -> NormalRatio {
        NormalRatio::new(Normal::new(1.0, 0.25).unwrap(), Normal::new(0.0, 1.0).unwrap()).unwrap()
    }

    #[test]
    fn talk_example_mode_and_maximum() {
        let ratio = talk_pair();
        assert!((ratio.mode() - 16.0 / 15.0).abs() < 1e-15);
        assert!((ratio.log_max_ratio() - (4f64.ln() + 8.0 / 15.0)).abs() < 1e-14);
        assert!((ratio.log_max_ratio().exp() - 6.818_419_461).abs() < 1e-8);
    }

    #[test]
    fn unbounded_pairs_are_rejected() {
        let p = Normal::new(0.0, 1.0).unwrap();
        assert!(NormalRatio::new(Normal::new(0.1, 1.0).unwrap(), p).is_err());
        assert!(NormalRatio::new(Normal::new(0.0, 1.5).unwrap(), p).is_err());
        assert!(NormalRatio::new(Normal::new(0.0, 1.0).unwrap(), p).unwrap().is_identity());
    }

    #[test]
    fn narrow_and_wide_mass_formulas_agree_at_the_switch() {
        let ratio = talk_pair();
        // Just inside and just outside the narrow branch must agree to near rounding.
        let inside = ratio.superlevel_masses(0.2);
        let (low, high) = ratio.superlevel_interval(0.2);
        let proposal = normal_mass(low, high);
        assert!((inside.proposal / proposal - 1.0).abs() < 1e-13);
        let h = (ratio.log_max_ratio() - 0.2).exp();
        let target = normal_mass((low - 1.0) / 0.25, (high - 1.0) / 0.25);
        assert!((inside.gap / (target - h * proposal) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn points_outside_the_deficit_window_have_larger_deficits() {
        use crate::distribution::CodingDistribution;
        let mut state = 17u64;
        let mut uniform = || {
            state = crate::random::splitmix64(state);
            crate::random::open_unit(state)
        };
        let mut outside = 0;
        for _ in 0..300 {
            let proposal = Normal::new(20.0 * (uniform() - 0.5), 0.1 + 3.0 * uniform()).unwrap();
            let target = Normal::new(proposal.loc + proposal.scale * 6.0 * (uniform() - 0.5), proposal.scale * (0.001 + 0.9 * uniform())).unwrap();
            let ratio = NormalRatio::new(target, proposal).unwrap();
            for _ in 0..20 {
                let deficit = 10.0 * uniform().powi(4);
                let window = ratio.deficit_window(deficit).unwrap();
                // Points just outside both ends, and a few far out.
                for end in [window.left, window.right] {
                    for step in [1e-15, 1e-12, 1e-9, 1e-6, 1e-3] {
                        let point = match end {
                            TailPoint::Lower(p) => [TailPoint::Lower(p * (1.0 - step)), TailPoint::Lower(p * (1.0 + step))],
                            TailPoint::Upper(q) => [TailPoint::Upper(q * (1.0 - step)), TailPoint::Upper(q * (1.0 + step))],
                        };
                        for point in point {
                            if !(window.left.is_left_of(point) && point.is_left_of(window.right)) {
                                let x = proposal.quantile(point);
                                assert!(ratio.deficit(x) > deficit, "x {x}: deficit {} ≤ {deficit}", ratio.deficit(x));
                                outside += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(outside > 20_000, "{outside}");
    }

    #[test]
    fn gap_identity_holds() {
        // g(h) = ∫_h^{r*} w_P: check numerically with a fine trapezoid in h.
        let ratio = talk_pair();
        let r_max = ratio.log_max_ratio().exp();
        let h0 = 2.0;
        let n = 200_000;
        let step = (r_max - h0) / n as f64;
        let mut integral = 0.0;
        for i in 0..=n {
            let h = (h0 + i as f64 * step).min(r_max);
            let deficit = (r_max / h).ln().max(0.0);
            let w = ratio.superlevel_masses(deficit).proposal;
            integral += if i == 0 || i == n { 0.5 * w } else { w };
        }
        integral *= step;
        let gap = ratio.superlevel_masses((r_max / h0).ln()).gap;
        assert!((integral / gap - 1.0).abs() < 1e-6, "{integral} vs {gap}");
    }
}

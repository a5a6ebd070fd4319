//! The core's special functions and divergences against statrs as an independent reference.
#![allow(clippy::excessive_precision)]

use rec_fast::distribution::Normal;
use rec_fast::divergence::normal_kl_divergence;
use rec_fast::math::{normal_cdf, normal_lower_quantile, normal_mass};
use statrs::distribution::{Continuous, ContinuousCDF, Normal as StatrsNormal};

#[test]
fn normal_cdf_and_quantile_agree_with_statrs_in_the_body() {
    let reference = StatrsNormal::new(0.0, 1.0).unwrap();
    for i in 0..=400 {
        let z = -8.0 + 0.04 * i as f64;
        // statrs' erfc is accurate to ~1e-10 relative, so it bounds our error only that far.
        assert!((normal_cdf(z) / reference.cdf(z) - 1.0).abs() <= 1e-9, "z {z}");
    }
    for i in 1..500 {
        let p = i as f64 / 1000.0;
        let ours = normal_lower_quantile(p.min(0.5));
        let theirs = reference.inverse_cdf(p.min(0.5));
        assert!((ours - theirs).abs() < 1e-8, "p {p}: {ours} vs {theirs}");
    }
}

#[test]
fn kl_matches_numerical_integration_with_statrs_densities() {
    let p = Normal::new(0.3, 1.7).unwrap();
    for (loc, scale) in [(1.0, 0.25), (-2.0, 0.9), (0.3, 3.0), (5.0, 0.05)] {
        let q = Normal::new(loc, scale).unwrap();
        let (q_ref, p_ref) = (StatrsNormal::new(loc, scale).unwrap(), StatrsNormal::new(0.3, 1.7).unwrap());
        // KL = ∫ q ln(q/p) dx by the trapezoid rule over ±12 target standard deviations.
        let n = 200_000;
        let (a, b) = (loc - 12.0 * scale, loc + 12.0 * scale);
        let step = (b - a) / n as f64;
        let mut nats = 0.0;
        for i in 0..=n {
            let x = a + i as f64 * step;
            let term = q_ref.pdf(x) * (q_ref.ln_pdf(x) - p_ref.ln_pdf(x));
            nats += if i == 0 || i == n { 0.5 * term } else { term };
        }
        nats *= step;
        let bits = normal_kl_divergence(&q, &p);
        assert!((bits * std::f64::consts::LN_2 / nats - 1.0).abs() < 1e-8, "N({loc}, {scale}): {bits} bits vs {nats} nats");
    }
}

#[test]
fn interval_mass_matches_statrs_cdf_differences() {
    let reference = StatrsNormal::new(0.0, 1.0).unwrap();
    for (a, b) in [(-1.0, 1.0), (-3.0, -0.5), (0.5, 2.5), (-0.2, 0.3), (1.0, 1.5)] {
        let theirs = reference.cdf(b) - reference.cdf(a);
        assert!((normal_mass(a, b) / theirs - 1.0).abs() < 1e-9, "[{a}, {b}]");
    }
}

#[test]
fn closed_form_values_to_full_precision() {
    // mpmath at 40 digits: ncdf(-4.199999999999999) and ncdf(1.5) − ncdf(1). The rounding of
    // z/√2 alone moves erfc by ~2z²·2⁻⁵³ ≈ 2e-15 relative at z = −4.2.
    assert!((normal_cdf(-4.199999999999999) / 1.334_574_901_590_638_0e-5 - 1.0).abs() < 1e-14);
    assert!((normal_mass(1.0, 1.5) / 9.184_805_266_259_898_5e-2 - 1.0).abs() < 1e-14);
}

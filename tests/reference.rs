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

#[test]
fn distribution_functions_agree_with_statrs_in_the_body() {
    use rec_fast::distribution::{CodingDistribution, Laplace, Uniform};
    use statrs::distribution::{Laplace as StatrsLaplace, Uniform as StatrsUniform};
    let normal = (Normal::new(1.0, 2.0).unwrap(), StatrsNormal::new(1.0, 2.0).unwrap());
    let laplace = (Laplace::new(-1.0, 0.5).unwrap(), StatrsLaplace::new(-1.0, 0.5).unwrap());
    let uniform = (Uniform::new(2.0, 5.0).unwrap(), StatrsUniform::new(2.0, 5.0).unwrap());
    for i in 0..=200 {
        let x = -9.0 + 0.09 * i as f64;
        let close = |ours: f64, theirs: f64| (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1e-300) + 1e-300;
        assert!(close(normal.0.cdf(x), normal.1.cdf(x)) && close(normal.0.survival(x), normal.1.sf(x)), "Normal x {x}");
        assert!(close(laplace.0.cdf(x), laplace.1.cdf(x)) && close(laplace.0.survival(x), laplace.1.sf(x)), "Laplace x {x}");
        assert!((uniform.0.cdf(x) - uniform.1.cdf(x)).abs() < 1e-15 && (uniform.0.survival(x) - uniform.1.sf(x)).abs() < 1e-15);
    }
    for i in 1..1000 {
        let p = i as f64 / 1000.0;
        assert!((normal.0.lower_quantile(p) - normal.1.inverse_cdf(p)).abs() < 1e-8, "Normal p {p}");
        assert!((laplace.0.lower_quantile(p) - laplace.1.inverse_cdf(p)).abs() < 1e-12, "Laplace p {p}");
        assert!((uniform.0.lower_quantile(p) - uniform.1.inverse_cdf(p)).abs() < 1e-14, "Uniform p {p}");
        // 1 − p itself rounds, by up to 2⁻⁵³ absolute.
        let mirrored = normal.0.lower_quantile(1.0 - p);
        assert!((normal.0.upper_quantile(p) - mirrored).abs() < 1e-12 * mirrored.abs().max(1.0), "p {p}");
    }
}

#[test]
fn distribution_functions_keep_relative_precision_in_both_tails() {
    use rec_fast::distribution::{CodingDistribution, Laplace};
    // mpmath at 40 digits: ncdf(−30), ncdf(−37.5); at 50 digits the z with ln ncdf(z) = ln 1e-300.
    let normal = Normal::new(0.0, 1.0).unwrap();
    for (z, tail) in [(30.0, 4.906_713_927_148_187_1e-198), (37.5, 4.605_353_009_581_954_8e-308)] {
        assert!((normal.cdf(-z) / tail - 1.0).abs() < 1e-13, "z {z}");
        assert!((normal.survival(z) / tail - 1.0).abs() < 1e-13, "z {z}");
    }
    assert!((normal.upper_quantile(1e-300) / 37.047_096_299_361_199_2 - 1.0).abs() < 1e-14);
    assert!((normal.lower_quantile(1e-300) / -37.047_096_299_361_199_2 - 1.0).abs() < 1e-14);
    // Laplace tails are ½e^{−|z|} exactly; quantiles invert them to the last digits.
    let laplace = Laplace::new(2.0, 3.0).unwrap();
    assert!((laplace.survival(2.0 + 3.0 * 700.0) / (0.5 * (-700.0f64).exp()) - 1.0).abs() < 1e-13);
    assert!((laplace.upper_quantile(0.5 * (-700.0f64).exp()) / (2.0 + 3.0 * 700.0) - 1.0).abs() < 1e-14);
    // The ends: probabilities 0 and 1 give the support's ends.
    assert_eq!((normal.lower_quantile(0.0), normal.lower_quantile(1.0)), (f64::NEG_INFINITY, f64::INFINITY));
    assert_eq!((normal.cdf(f64::INFINITY), normal.survival(f64::INFINITY)), (1.0, 0.0));
}

//! Special functions on the sample path, all through `libm` so that results are
//! bit-identical across platforms.
//!
//! * the standard normal CDF and survival function via `erfc` (accurate deep in both tails);
//! * the standard normal quantile of a *tail* probability (Wichura's AS 241, relative error
//!   about 1e-16 down to the smallest positive double), so upper-tail points never pass
//!   through `1 − p`;
//! * `log1mexp`, `x − log1p(x)` without cancellation;
//! * a 21-point Gauss–Kronrod panel (QUADPACK `qk21` nodes and weights) for the stretch
//!   function's quadrature.
//!
//! References: M. J. Wichura, *Algorithm AS 241: The Percentage Points of the Normal
//! Distribution*, Applied Statistics 37 (1988) 477–484; R. Piessens et al., *QUADPACK* (1983).

// Published constants are kept at their full printed precision.
#![allow(clippy::excessive_precision)]

/// 1/√2.
pub const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// ln √(2π).
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Φ(z), the standard normal CDF, accurate in the lower tail (relative) down to underflow.
#[inline]
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z * FRAC_1_SQRT_2)
}

/// 1 − Φ(z), the standard normal survival function, accurate in the upper tail.
#[inline]
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z * FRAC_1_SQRT_2)
}

/// Φ(b) − Φ(a) for a ≤ b with full relative precision:
/// * an interval narrow against the local scale (ln φ varies by ≲ 1 across it) is integrated
///   directly with 8-point Gauss–Legendre, where any difference of CDF values would cancel;
/// * a wide one is a difference of the tails on its own side of 0, or for an interval that
///   straddles 0 the *sum* ½(erf(b/√2) + erf(−a/√2)) of two positive terms.
pub fn normal_mass(a: f64, b: f64) -> f64 {
    let width = b - a;
    if width.is_finite() && width * (1.0 + a.abs().max(b.abs())) <= 1.0 {
        return narrow_normal_mass(0.5 * (a + b), 0.5 * width);
    }
    if a >= 0.0 {
        normal_sf(a) - normal_sf(b)
    } else if b <= 0.0 {
        normal_cdf(b) - normal_cdf(a)
    } else {
        0.5 * (libm::erf(b * FRAC_1_SQRT_2) + libm::erf(-a * FRAC_1_SQRT_2))
    }
}

/// Φ(c + h) − Φ(c − h) for h ≥ 0 from the centre and half-width themselves: for a level set
/// far narrower than its distance from 0, the ends c ± h would round and the width with them.
pub fn normal_mass_around(center: f64, half: f64) -> f64 {
    if half * (1.0 + center.abs() + half) <= 0.5 {
        narrow_normal_mass(center, half)
    } else {
        normal_mass(center - half, center + half)
    }
}

/// 8-point Gauss–Legendre ∫ φ over [c − h, c + h], for intervals narrow against the local scale.
#[inline]
fn narrow_normal_mass(center: f64, half: f64) -> f64 {
    half * symmetric_density_sum(center, half, |_| 1.0) * libm::exp(normal_ln_pdf(center))
}

/// Σ_k w_k [φ(c − d·x_k)f(x_k) + φ(c + d·x_k)f(x_k)] / φ(c) over the positive 8-point
/// Gauss–Legendre nodes x_k, for |c·d| ≲ 1: φ(c ± d·x)/φ(c) = e^{−d²x²/2}·e^{∓c·d·x}, so each
/// symmetric pair costs two `exp` instead of two full densities.
#[inline]
pub fn symmetric_density_sum<F: Fn(usize) -> f64>(center: f64, half: f64, factor: F) -> f64 {
    let mut sum = 0.0;
    for k in 0..4 {
        let offset = half * LEGENDRE_8_NODES[k];
        let tilt = libm::exp(center * offset);
        let envelope = libm::exp(-0.5 * offset * offset);
        sum += LEGENDRE_8_WEIGHTS[k] * factor(k) * envelope * (tilt + 1.0 / tilt);
    }
    sum
}

/// [`symmetric_density_sum`] with the factor 1 and with `factor`, from one evaluation of the
/// densities (each sum rounds exactly as its own call would).
#[inline]
pub fn symmetric_density_sums<F: Fn(usize) -> f64>(center: f64, half: f64, factor: F) -> (f64, f64) {
    let (mut plain, mut weighted) = (0.0, 0.0);
    for k in 0..4 {
        let offset = half * LEGENDRE_8_NODES[k];
        let tilt = libm::exp(center * offset);
        let envelope = libm::exp(-0.5 * offset * offset);
        plain += LEGENDRE_8_WEIGHTS[k] * 1.0 * envelope * (tilt + 1.0 / tilt);
        weighted += LEGENDRE_8_WEIGHTS[k] * factor(k) * envelope * (tilt + 1.0 / tilt);
    }
    (plain, weighted)
}

/// ln φ(z), the standard normal log-density.
#[inline]
pub fn normal_ln_pdf(z: f64) -> f64 {
    -0.5 * z * z - LN_SQRT_2PI
}

/// The z ≤ 0 with Φ(z) = `tail`, for `tail` in (0, 1/2]; AS 241 (PPND16).
///
/// Taking the tail probability itself (not a CDF value near 1) keeps full relative precision
/// for both tails: the upper-tail point with survival `q` is `−normal_lower_quantile(q)`.
pub fn normal_lower_quantile(tail: f64) -> f64 {
    let q = tail - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * polynomial(&AS241_A, r) / polynomial(&AS241_B, r);
    }
    let r = libm::sqrt(-libm::log(tail));
    let z = if r <= 5.0 {
        let r = r - 1.6;
        polynomial(&AS241_C, r) / polynomial(&AS241_D, r)
    } else {
        let r = r - 5.0;
        polynomial(&AS241_E, r) / polynomial(&AS241_F, r)
    };
    -z
}

/// Horner evaluation, coefficients in increasing degree.
#[inline]
fn polynomial(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |accumulator, &c| accumulator * x + c)
}

// AS 241 coefficients (Wichura 1988), increasing degree; B, D, F have leading 1.
const AS241_A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const AS241_B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
const AS241_C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const AS241_D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
const AS241_E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const AS241_F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// `x − ln(1 + x)` for x > −1 without cancellation near 0 (a series for |x| < 1e-2).
pub fn x_minus_log1p(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        // x²/2 − x³/3 + x⁴/4 − …, enough terms for full precision at |x| < 1e-2.
        let mut term = x * x;
        let mut sum = 0.0;
        for k in 2..12 {
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            sum += sign * term / k as f64;
            term *= x;
        }
        sum
    } else {
        x - libm::log1p(x)
    }
}

// QUADPACK qk21: Kronrod abscissae (odd entries are the 10-point Gauss nodes), Kronrod
// weights, Gauss weights. Values by L. W. Fullerton (80-digit arithmetic).
const KRONROD_NODES: [f64; 11] = [
    0.995_657_163_025_808_080_735_527_280_689_003,
    0.973_906_528_517_171_720_077_964_012_084_452,
    0.930_157_491_355_708_226_001_207_180_059_508,
    0.865_063_366_688_984_510_732_096_688_423_493,
    0.780_817_726_586_416_897_063_717_578_345_042,
    0.679_409_568_299_024_406_234_327_365_114_874,
    0.562_757_134_668_604_683_339_000_099_272_694,
    0.433_395_394_129_247_190_799_265_943_165_784,
    0.294_392_862_701_460_198_131_126_603_103_866,
    0.148_874_338_981_631_210_884_826_001_129_720,
    0.0,
];
const KRONROD_WEIGHTS: [f64; 11] = [
    0.011_694_638_867_371_874_278_064_396_062_192,
    0.032_558_162_307_964_727_478_818_972_459_390,
    0.054_755_896_574_351_996_031_381_300_244_580,
    0.075_039_674_810_919_952_767_043_140_916_190,
    0.093_125_454_583_697_605_535_065_465_083_366,
    0.109_387_158_802_297_641_899_210_590_325_805,
    0.123_491_976_262_065_851_077_958_109_831_074,
    0.134_709_217_311_473_325_928_054_001_771_707,
    0.142_775_938_577_060_080_797_094_273_138_717,
    0.147_739_104_901_338_491_374_841_515_972_068,
    0.149_445_554_002_916_905_664_936_468_389_821,
];
const GAUSS_WEIGHTS: [f64; 5] = [
    0.066_671_344_308_688_137_593_568_809_893_332,
    0.149_451_349_150_580_593_145_776_339_657_697,
    0.219_086_362_515_982_043_995_534_934_228_163,
    0.269_266_719_309_996_355_091_226_921_569_469,
    0.295_524_224_714_752_870_173_892_994_651_338,
];

/// One 21-point Gauss–Kronrod panel of `f` on `[a, b]`: `(kronrod estimate, |kronrod − gauss|)`.
pub fn gauss_kronrod_21<F: FnMut(f64) -> f64>(mut f: F, a: f64, b: f64) -> (f64, f64) {
    let center = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let f_center = f(center);
    let mut kronrod = KRONROD_WEIGHTS[10] * f_center;
    let mut gauss = 0.0;
    for j in 0..10 {
        let offset = half * KRONROD_NODES[j];
        let pair = f(center - offset) + f(center + offset);
        kronrod += KRONROD_WEIGHTS[j] * pair;
        if j % 2 == 1 {
            gauss += GAUSS_WEIGHTS[j / 2] * pair;
        }
    }
    (kronrod * half, ((kronrod - gauss) * half).abs())
}

/// ∫ f over the panels between consecutive `breakpoints`, refined globally adaptively: the
/// panel with the largest |Kronrod − Gauss| estimate is bisected until the summed estimate is
/// at most `tolerance` times |total|. Fails with the panel count after `max_panels` panels.
pub fn integrate_adaptive<F: Fn(f64) -> f64>(
    f: F,
    breakpoints: &[f64],
    tolerance: f64,
    max_panels: usize,
) -> std::result::Result<f64, usize> {
    // (start, end, value, error estimate)
    let mut panels: Vec<(f64, f64, f64, f64)> = breakpoints
        .windows(2)
        .map(|w| {
            let (value, error) = gauss_kronrod_21(&f, w[0], w[1]);
            (w[0], w[1], value, error)
        })
        .collect();
    loop {
        let total: f64 = panels.iter().map(|p| p.2).sum();
        let error: f64 = panels.iter().map(|p| p.3).sum();
        if error <= tolerance * total.abs() || panels.is_empty() {
            return Ok(total);
        }
        if panels.len() >= max_panels {
            return Err(panels.len());
        }
        let worst = (0..panels.len()).max_by(|&i, &j| panels[i].3.total_cmp(&panels[j].3)).expect("non-empty");
        let (a, b, _, _) = panels[worst];
        let middle = 0.5 * (a + b);
        if !(a < middle && middle < b) {
            return Ok(total);
        }
        let (left, left_error) = gauss_kronrod_21(&f, a, middle);
        let (right, right_error) = gauss_kronrod_21(&f, middle, b);
        panels[worst] = (a, middle, left, left_error);
        panels.push((middle, b, right, right_error));
    }
}

/// 8-point Gauss–Legendre nodes (positive half) and weights on [−1, 1].
pub const LEGENDRE_8_NODES: [f64; 4] = [
    0.183_434_642_495_649_804_939_476_142_360_184,
    0.525_532_409_916_328_985_817_739_049_189_254,
    0.796_666_477_413_626_739_591_553_936_475_831,
    0.960_289_856_497_536_231_683_560_868_569_473,
];
/// Weights matching [`LEGENDRE_8_NODES`].
pub const LEGENDRE_8_WEIGHTS: [f64; 4] = [
    0.362_683_783_378_361_982_965_150_449_277_196,
    0.313_706_645_877_887_287_337_962_201_986_601,
    0.222_381_034_453_374_470_544_355_994_426_241,
    0.101_228_536_290_376_259_152_531_354_309_962,
];

/// ∫ f over [start, start + width] by 8-point Gauss–Legendre (exact for polynomials of degree
/// ≤ 15), for integrands that are smooth and slowly varying across the interval.
pub fn legendre_8<F: Fn(f64) -> f64>(f: F, start: f64, width: f64) -> f64 {
    let half = 0.5 * width;
    let center = start + half;
    let mut sum = 0.0;
    for k in 0..4 {
        let offset = half * LEGENDRE_8_NODES[k];
        sum += LEGENDRE_8_WEIGHTS[k] * (f(center - offset) + f(center + offset));
    }
    half * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_inverts_cdf_in_both_tails() {
        for &z in &[-37.0, -20.0, -8.0, -3.0, -1.0, -0.3, -1e-3] {
            let tail = normal_cdf(z);
            let back = normal_lower_quantile(tail);
            assert!(((back - z) / z).abs() < 1e-13, "z {z} back {back}");
            // Upper tail by symmetry, never through 1 − p.
            assert!(((-normal_lower_quantile(normal_sf(-z)) + z) / z).abs() < 1e-13);
        }
        assert_eq!(normal_lower_quantile(0.5), 0.0);
    }

    #[test]
    fn normal_mass_keeps_relative_precision_on_narrow_intervals() {
        // Φ(1e-9) − Φ(−1e-9) = 2e-9·φ(0)·(1 − 1e-18/6): the CDF difference would keep 8 digits.
        let mass = normal_mass(-1e-9, 1e-9);
        assert!((mass / (2e-9 * 0.398_942_280_401_432_7) - 1.0).abs() < 1e-15);
        // Narrow and far out: ∫ over [3, 3 + 1e-9] ≈ 1e-9·φ(3 + 5e-10).
        let end = 3.0 + 1e-9;
        let width = end - 3.0; // not exactly 1e-9 in f64
        let far = normal_mass(3.0, end);
        let reference = width * (normal_ln_pdf(3.0 + 0.5 * width)).exp();
        assert!((far / reference - 1.0).abs() < 1e-14);
        // Both branches agree where they meet.
        let (a, b) = (0.2, 0.2 + 1.0 / 1.7);
        let direct = normal_sf(a) - normal_sf(b);
        assert!((normal_mass(a, b) / direct - 1.0).abs() < 1e-14);
    }

    #[test]
    fn normal_mass_matches_reference() {
        // Φ(1) − Φ(−1) = erf(1/√2) = 0.682689492137085897...
        assert!((normal_mass(-1.0, 1.0) - 0.682_689_492_137_085_9).abs() < 1e-15);
        // Deep upper tail: 1 − Φ(10) = 7.61985302416052606e-24.
        let tail = normal_mass(10.0, f64::INFINITY);
        assert!((tail / 7.619_853_024_160_526e-24 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn gauss_kronrod_integrates_smooth_functions() {
        let (value, error) = gauss_kronrod_21(libm::exp, 0.0, 1.0);
        assert!((value - (std::f64::consts::E - 1.0)).abs() < 1e-15);
        assert!(error < 1e-12);
        let weights: f64 = 2.0 * LEGENDRE_8_WEIGHTS.iter().sum::<f64>();
        assert!((weights - 2.0).abs() < 1e-15);
        // Degree 15 is integrated exactly: ∫₀² x¹⁵ dx = 2¹⁶/16 = 4096.
        assert!((legendre_8(|x| x.powi(15), 0.0, 2.0) / 4096.0 - 1.0).abs() < 1e-14);
    }

    #[test]
    fn fused_density_sums_round_like_separate_ones() {
        for (center, half) in [(0.0, 0.3), (1.7, 0.01), (-2.5, 0.2), (0.4, 1e-6)] {
            let factor = |k: usize| libm::expm1(0.2 * (1.0 - LEGENDRE_8_NODES[k] * LEGENDRE_8_NODES[k]));
            let (plain, weighted) = symmetric_density_sums(center, half, factor);
            assert_eq!(plain.to_bits(), symmetric_density_sum(center, half, |_| 1.0).to_bits());
            assert_eq!(weighted.to_bits(), symmetric_density_sum(center, half, factor).to_bits());
        }
    }

    #[test]
    fn x_minus_log1p_is_accurate_near_zero() {
        let x: f64 = 1e-5;
        let reference = x * x / 2.0 - x * x * x / 3.0 + x.powi(4) / 4.0;
        assert!((x_minus_log1p(x) / reference - 1.0).abs() < 1e-12);
        assert!((x_minus_log1p(0.5) - (0.5 - 1.5f64.ln())).abs() < 1e-15);
    }
}

//! Element-wise kernels compiled for the widest vector unit the processor
//! has (AVX-512, AVX2+FMA, or baseline SSE2), chosen once at run time.

/// exp(x) to within ~1 ulp, written without branches so that loops over it
/// vectorize. Range reduction x = k·ln2 + r (Cody–Waite), then a degree-12
/// Taylor polynomial for e^r on |r| ≤ ln2/2, scaled by 2^k through the exponent bits.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // Beyond these limits e^x is 0 or overflows; clamping keeps 2^k representable.
    // Adding then subtracting 1.5·2^52 rounds to the nearest integer with
    // plain additions (f64::round is a library call that stops vectorization),
    // and leaves k in the low bits of `shifted`.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    let shifted = x * LOG2E + SHIFT;
    let k = shifted - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Horner form of sum_{i=0}^{12} r^i / i!
    let mut p = 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let k_bits = shifted.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    p * scale
}

/// `v = 1 / (1 + e^-(v + b))` over a slice, at the best vector width.
pub fn sigmoid_add(v: &mut [f64], b: f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F, checked just above.
            return unsafe { sigmoid_add_avx512(v, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the processor has AVX2 and FMA, checked just above.
            return unsafe { sigmoid_add_avx2(v, b) };
        }
    }
    sigmoid_add_generic(v, b)
}

#[inline(always)]
fn sigmoid_add_generic(v: &mut [f64], b: f64) {
    v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + exp(-(*x + b))));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sigmoid_add_avx512(v: &mut [f64], b: f64) {
    sigmoid_add_generic(v, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_add_avx2(v: &mut [f64], b: f64) {
    sigmoid_add_generic(v, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulps_of_libm() {
        let mut worst = 0.0f64;
        let mut x = -700.0;
        while x < 700.0 {
            let (got, want) = (exp(x), x.exp());
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4.5e-16, "relative error {}", worst);
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-800.0) < 1e-300 && exp(800.0).is_finite());
    }

    #[test]
    fn sigmoid_matches_the_article_formula() {
        let mut v: Vec<f64> = (-400..400).map(|i| i as f64 * 0.05).collect();
        let want: Vec<f64> = v.iter().map(|z| 1.0 / (1.0 + (-(z + 0.3)).exp())).collect();
        sigmoid_add(&mut v, 0.3);
        for (g, w) in v.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-15 * w.abs().max(1e-300) + 1e-300);
        }
    }
}

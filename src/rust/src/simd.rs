//! Element-wise kernels compiled for the widest vector unit the processor
//! has (AVX-512, AVX2+FMA, or baseline SSE2), chosen once at run time.

/// ln 2 in two parts, for the range reduction of [`exp`] and [`sigmoid4_with`].
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// Adding then subtracting 1.5·2^52 rounds to the nearest integer with plain
/// additions (f64::round is a library call that stops vectorization), and
/// leaves the integer in the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// exp(x) to within ~1 ulp, written without branches so that loops over it
/// vectorize. Range reduction x = k·ln2 + r (Cody–Waite), then a degree-12
/// Taylor polynomial for e^r on |r| ≤ ln2/2, scaled by 2^k through the exponent bits.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // Beyond these limits e^x is 0 or overflows; clamping keeps 2^k representable.
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

/// Defines `pub fn $name($args) -> $ret` that runs `$body` compiled for
/// AVX-512, AVX2+FMA or the baseline, whichever is the widest the processor
/// has (through [`widest`]). Everything the body calls inline is compiled
/// the same way.
macro_rules! vectorized {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            $crate::simd::widest(#[inline(always)] || generic($($arg),*))
        }
    };
}

/// Calls `f` from a function compiled for AVX-512 (or AVX2+FMA) when the
/// processor has it, so that the loops of `f`, inlined there, are compiled
/// for the wide vectors (generic element-wise work calls it directly;
/// [`vectorized!`] wraps it in a function). `f` and what it calls must be
/// `#[inline(always)]`. Without multiply-adds written as such, each
/// element's arithmetic (and so its result) is the same on every path.
#[inline(always)]
pub fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512F, checked just above.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the processor has AVX2 and FMA, checked just above.
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + exp(-z))
}

vectorized! {
    /// `v = 1 / (1 + e^-(v + b))` over a slice (one bias for all: a column).
    pub fn sigmoid_add(v: &mut [f64], b: f64) {
        v.iter_mut().for_each(|x| *x = sigmoid(*x + b));
    }
}

vectorized! {
    /// `v = 1 / (1 + e^-(v + b))` element by element (the row bias layout).
    pub fn sigmoid_add_each(v: &mut [f64], b: &[f64]) {
        v.iter_mut().zip(b).for_each(|(x, b)| *x = sigmoid(*x + b));
    }
}

vectorized! {
    /// [`sigmoid_add`] for f32: computed in f64 and rounded once.
    pub fn sigmoid_add_f32(v: &mut [f32], b: f32) {
        v.iter_mut().for_each(|x| *x = sigmoid((*x + b) as f64) as f32);
    }
}

vectorized! {
    /// [`sigmoid_add_each`] for f32: computed in f64 and rounded once.
    pub fn sigmoid_add_each_f32(v: &mut [f32], b: &[f32]) {
        v.iter_mut().zip(b).for_each(|(x, b)| *x = sigmoid((*x + b) as f64) as f32);
    }
}

/// The constants of [`sigmoid4_with`], each as four lanes in memory. Read
/// from the caller's own storage (not from constants the compiler can see),
/// they reach the multiply-adds as memory operands, one instruction each,
/// instead of each being broadcast into a register first: that was a third
/// of the function's instructions, and a tiny network's epoch is bound by
/// its instruction count.
#[repr(C, align(32))]
#[derive(Clone, Debug)]
pub struct SigmoidConstants([[f64; 4]; 20]);

// Rows of SigmoidConstants.
const NEG_LOG2E: usize = 0;
const SHIFT_ROW: usize = 1;
const LN2_HI_ROW: usize = 2;
const LN2_LO_ROW: usize = 3;
const ONE: usize = 4;
/// Rows 5 to 15: 1/i! for i = 2..=12.
const INV_FACT: usize = 5;
const EXP_BIAS: usize = 16;
const HIGH: usize = 17;
const LOW: usize = 18;
const AT_LOW: usize = 19;

impl SigmoidConstants {
    pub fn new() -> SigmoidConstants {
        let mut rows = [[0.0; 4]; 20];
        let mut set = |i: usize, v: f64| rows[i] = [v; 4];
        set(NEG_LOG2E, -std::f64::consts::LOG2_E);
        set(SHIFT_ROW, SHIFT);
        set(LN2_HI_ROW, LN2_HI);
        set(LN2_LO_ROW, LN2_LO);
        set(ONE, 1.0);
        let mut fact = 1.0;
        for i in 2..=12 {
            fact *= i as f64;
            set(INV_FACT + i - 2, 1.0 / fact);
        }
        set(EXP_BIAS, f64::from_bits(1023));
        set(HIGH, 708.0);
        set(LOW, -709.0);
        set(AT_LOW, SIGMOID_AT_MINUS_709);
        SigmoidConstants(rows)
    }

    /// The rows one after another.
    pub fn as_slice(&self) -> &[f64] {
        self.0.as_flattened()
    }
}

impl Default for SigmoidConstants {
    fn default() -> SigmoidConstants {
        SigmoidConstants::new()
    }
}

/// [`sigmoid`] of four values at once with AVX2 and FMA: see [`sigmoid4_with`].
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn sigmoid4(z: [f64; 4]) -> [f64; 4] {
    sigmoid4_with(z, &SigmoidConstants::new())
}

/// [`sigmoid`] of four values at once with AVX2 and FMA, for chains of
/// dependent evaluations (a tiny network's epoch is one): the polynomial is
/// in Estrin's form, whose longest chain is 4 fused multiply-adds rather
/// than Horner's 12, and every multiply-add is one rounding. Agrees with
/// [`sigmoid`] to a few units in the last place.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn sigmoid4_with(z: [f64; 4], k: &SigmoidConstants) -> [f64; 4] {
    use std::arch::x86_64::*;
    let s = sigmoid_m256(_mm256_loadu_pd(z.as_ptr()), k);
    let mut out = [0.0; 4];
    _mm256_storeu_pd(out.as_mut_ptr(), s);
    out
}

/// [`sigmoid4_with`] on a vector register.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn sigmoid_m256(z: std::arch::x86_64::__m256d, k: &SigmoidConstants) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let c = |i: usize| _mm256_load_pd(k.0[i].as_ptr());
    let inv_fact = |i: usize| c(INV_FACT + i - 2);
    let fma = |a, b, c| _mm256_fmadd_pd(a, b, c);
    // e^x for x = −z, as in exp, but unclamped: the lanes beyond the clamp
    // are replaced at the end, so the clamp is not on the way to the result.
    let shifted = fma(z, c(NEG_LOG2E), c(SHIFT_ROW));
    let k_real = _mm256_sub_pd(shifted, c(SHIFT_ROW));
    // r = x − k·ln2_hi is exact; the rest of k·ln2, c = k·ln2_lo (below
    // 2e-7), is applied as the factor e^−c = 1 − c + c²/2 on the scale
    // (c³/6 is below 1e-21). Computed beside the polynomial, it takes one
    // multiply-add off the chain that every epoch waits on.
    let r = _mm256_fnmsub_pd(k_real, c(LN2_HI_ROW), z);
    let r2 = _mm256_mul_pd(r, r);
    let r4 = _mm256_mul_pd(r2, r2);
    let r8 = _mm256_mul_pd(r4, r4);
    let one = c(ONE);
    let q0 = _mm256_add_pd(one, r);
    let q1 = fma(r, inv_fact(3), inv_fact(2));
    let q2 = fma(r, inv_fact(5), inv_fact(4));
    let q3 = fma(r, inv_fact(7), inv_fact(6));
    let q4 = fma(r, inv_fact(9), inv_fact(8));
    let q5 = fma(r, inv_fact(11), inv_fact(10));
    let s0 = fma(r2, q1, q0);
    let s1 = fma(r2, q3, q2);
    let s2 = fma(r2, q5, q4);
    let t0 = fma(r4, s1, s0);
    let t1 = fma(r4, inv_fact(12), s2);
    let p = fma(r8, t1, t0);
    // 2^k through the exponent bits, as in exp, times e^−c.
    let k_bits = _mm256_sub_epi64(_mm256_castpd_si256(shifted), _mm256_castpd_si256(c(SHIFT_ROW)));
    let scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k_bits, _mm256_castpd_si256(c(EXP_BIAS))), 52));
    let tail = _mm256_mul_pd(k_real, c(LN2_LO_ROW));
    let scale = _mm256_mul_pd(scale, fma(tail, _mm256_fmsub_pd(tail, inv_fact(2), one), one));
    let s = _mm256_div_pd(one, fma(p, scale, one));
    // What [`sigmoid`]'s clamp gives beyond it: 1 above 708, and below −709
    // the value at −709 (NaN compares false and stays NaN). One blend at
    // the end; the choice between the two is made beside the chain.
    let above = _mm256_cmp_pd::<_CMP_GT_OQ>(z, c(HIGH));
    let beyond = _mm256_or_pd(above, _mm256_cmp_pd::<_CMP_LT_OQ>(z, c(LOW)));
    _mm256_blendv_pd(s, _mm256_blendv_pd(c(AT_LOW), one, above), beyond)
}

/// `sigmoid(-709.0)`, the smallest value [`sigmoid`] returns (checked by a test).
const SIGMOID_AT_MINUS_709: f64 = 1.216_780_750_623_423e-308;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn four_lane_sigmoid_agrees_with_the_scalar_one() {
        if !(std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")) {
            return;
        }
        let mut worst = 0.0f64;
        let mut z = -760.0;
        while z < 760.0 {
            let lanes = [z, z * 0.5, z * 0.01, -z * 0.001];
            // SAFETY: the processor has AVX2 and FMA, checked above.
            let got = unsafe { sigmoid4(lanes) };
            for (g, &v) in got.iter().zip(&lanes) {
                // The scalar form clamps as sigmoid4 does, so far tails agree too.
                let want = sigmoid(v);
                worst = worst.max((g - want).abs() / want);
            }
            z += 0.0731;
        }
        assert!(worst < 1e-15, "relative error {}", worst);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_four_lane_sigmoid_saturates_as_the_scalar_one() {
        assert_eq!(SIGMOID_AT_MINUS_709, sigmoid(-709.0));
        if !(std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")) {
            return;
        }
        let lanes = [-1e300, -709.5, 708.5, f64::INFINITY];
        // SAFETY: the processor has AVX2 and FMA, checked above.
        let got = unsafe { sigmoid4(lanes) };
        assert_eq!(got, lanes.map(sigmoid));
        // SAFETY: as above.
        assert!(unsafe { sigmoid4([f64::NAN, 0.0, -f64::INFINITY, 1.0]) }[0].is_nan());
    }

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
        let mut each = v.clone();
        sigmoid_add(&mut v, 0.3);
        sigmoid_add_each(&mut each, &vec![0.3; v.len()]);
        for ((g, e), w) in v.iter().zip(&each).zip(&want) {
            assert!((g - w).abs() <= 1e-15 * w.abs().max(1e-300) + 1e-300);
            assert_eq!(g, e);
        }
    }
}

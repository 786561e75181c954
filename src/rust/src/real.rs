//! The floating-point types training runs in: f64 (the default) or f32
//! (`precision = "single"`, about twice the matrix-product rate). Everything
//! the user sees (parameters, outputs, losses) stays f64; sums of losses are
//! accumulated in f64 whatever the type.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub};

pub trait Real:
    Copy
    + Send
    + Sync
    + Debug
    + Default
    + PartialEq
    + PartialOrd
    + Sum
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + MulAssign
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn tanh(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn is_finite(self) -> bool;
    /// `v = 1 / (1 + e^-(v + b))` over a slice, vectorized.
    fn sigmoid_add(v: &mut [Self], b: Self);
    /// As [`Real::sigmoid_add`] with one bias per element.
    fn sigmoid_add_each(v: &mut [Self], b: &[Self]);
    /// The slice as f64, when it is one: the paths written for f64 only (the
    /// small-network epoch, the second-order methods) are reached through it.
    fn as_f64(s: &[Self]) -> Option<&[f64]>;
    fn as_f64_mut(s: &mut [Self]) -> Option<&mut [f64]>;
}

/// The methods f64 and f32 both have under the same names.
macro_rules! forward_math {
    ($t:ty) => {
        #[inline(always)]
        fn exp(self) -> $t {
            <$t>::exp(self)
        }
        #[inline(always)]
        fn ln(self) -> $t {
            <$t>::ln(self)
        }
        #[inline(always)]
        fn tanh(self) -> $t {
            <$t>::tanh(self)
        }
        #[inline(always)]
        fn sqrt(self) -> $t {
            <$t>::sqrt(self)
        }
        #[inline(always)]
        fn abs(self) -> $t {
            <$t>::abs(self)
        }
        #[inline(always)]
        fn max(self, other: $t) -> $t {
            <$t>::max(self, other)
        }
        #[inline(always)]
        fn is_finite(self) -> bool {
            <$t>::is_finite(self)
        }
    };
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    forward_math!(f64);
    fn sigmoid_add(v: &mut [f64], b: f64) {
        crate::simd::sigmoid_add(v, b)
    }
    fn sigmoid_add_each(v: &mut [f64], b: &[f64]) {
        crate::simd::sigmoid_add_each(v, b)
    }
    fn as_f64(s: &[f64]) -> Option<&[f64]> {
        Some(s)
    }
    fn as_f64_mut(s: &mut [f64]) -> Option<&mut [f64]> {
        Some(s)
    }
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
    forward_math!(f32);
    fn sigmoid_add(v: &mut [f32], b: f32) {
        crate::simd::sigmoid_add_f32(v, b)
    }
    fn sigmoid_add_each(v: &mut [f32], b: &[f32]) {
        crate::simd::sigmoid_add_each_f32(v, b)
    }
    fn as_f64(_: &[f32]) -> Option<&[f64]> {
        None
    }
    fn as_f64_mut(_: &mut [f32]) -> Option<&mut [f64]> {
        None
    }
}

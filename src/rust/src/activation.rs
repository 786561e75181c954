//! Activation functions. Most slopes are written in terms of the activation's
//! *output* (as the article's `derivatives_sigmoid(output)` is), so such a
//! layer only keeps its activations; GELU, SiLU and Mish are not invertible, so
//! their layers also keep their pre-activation input
//! ([`Activation::slope_needs_input`]).

use crate::real::Real;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Linear,
    /// Row-wise softmax; only valid on the output layer.
    Softmax,
    /// `ln(1 + e^z)`.
    Softplus,
    /// `z` for positive `z`, else `e^z - 1`.
    Elu,
    /// Scaled ELU (Klambauer et al., 2017).
    Selu,
    /// Gaussian error linear unit, in its tanh approximation.
    Gelu,
    /// `z · sigmoid(z)` (also called swish).
    Silu,
    /// `z · tanh(softplus(z))` (Misra, 2019).
    Mish,
    /// `e^z`: the mean of a Poisson output (log link).
    Exp,
}

/// Slope of leaky ReLU for negative inputs.
pub const LEAKY_RELU_SLOPE: f64 = 0.01;
/// SELU's constants (Klambauer et al., 2017).
const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// sqrt(2 / pi) and the cubic term's coefficient of GELU's tanh form.
const GELU_C: f64 = 0.797_884_560_802_865_4;
const GELU_K: f64 = 0.044_715;

impl Activation {
    /// Every activation, softmax included.
    pub const ALL: [Activation; 13] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Linear,
        Activation::Softmax,
        Activation::Softplus,
        Activation::Elu,
        Activation::Selu,
        Activation::Gelu,
        Activation::Silu,
        Activation::Mish,
        Activation::Exp,
    ];

    pub fn parse(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Linear => "linear",
            Activation::Softmax => "softmax",
            Activation::Softplus => "softplus",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
            Activation::Mish => "mish",
            Activation::Exp => "exp",
        }
    }

    /// Whether a hidden layer may use it (softmax and exp are outputs only).
    pub fn serves_hidden(self) -> bool {
        !matches!(self, Activation::Softmax | Activation::Exp)
    }

    /// Whether the output layer may use it: the outputs the losses take.
    pub fn serves_output(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Linear | Activation::Softmax | Activation::Exp)
    }

    /// Whether the slope needs the pre-activation `z`: it is not a function
    /// of the output, so the layer keeps its input (see [`Activation::slope_at`]).
    pub fn slope_needs_input(self) -> bool {
        matches!(self, Activation::Gelu | Activation::Silu | Activation::Mish)
    }

    /// The element-wise function; softmax is handled row-wise by [`activate_rows`].
    #[inline(always)]
    pub fn apply<T: Real>(self, z: T) -> T {
        match self {
            // The article's form.
            Activation::Sigmoid => T::ONE / (T::ONE + (-z).exp()),
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(T::ZERO),
            Activation::LeakyRelu => {
                if z > T::ZERO {
                    z
                } else {
                    T::of(LEAKY_RELU_SLOPE) * z
                }
            }
            Activation::Linear | Activation::Softmax => z,
            // Written as max(z, 0) + ln(1 + e^-|z|), which neither overflows
            // nor loses small values.
            Activation::Softplus => z.max(T::ZERO) + (T::ONE + (-z.abs()).exp()).ln(),
            Activation::Elu => {
                if z > T::ZERO {
                    z
                } else {
                    z.exp() - T::ONE
                }
            }
            Activation::Selu => {
                if z > T::ZERO {
                    T::of(SELU_LAMBDA) * z
                } else {
                    T::of(SELU_LAMBDA * SELU_ALPHA) * (z.exp() - T::ONE)
                }
            }
            Activation::Gelu => {
                let inner = T::of(GELU_C) * (z + T::of(GELU_K) * z * z * z);
                T::of(0.5) * z * (T::ONE + inner.tanh())
            }
            Activation::Silu => z / (T::ONE + (-z).exp()),
            Activation::Mish => z * Activation::Softplus.apply(z).tanh(),
            Activation::Exp => z.exp(),
        }
    }

    /// d activation / d input at pre-activation `z` with output `a`: each
    /// activation reads the one it needs (only GELU, SiLU and Mish read `z`; see
    /// [`Activation::slope_needs_input`]).
    #[inline(always)]
    pub fn slope_at<T: Real>(self, z: T, a: T) -> T {
        match self {
            Activation::Gelu => {
                let z2 = z * z;
                let t = (T::of(GELU_C) * (z + T::of(GELU_K) * z2 * z)).tanh();
                let dinner = T::of(GELU_C) * (T::ONE + T::of(3.0 * GELU_K) * z2);
                T::of(0.5) * (T::ONE + t) + T::of(0.5) * z * (T::ONE - t * t) * dinner
            }
            Activation::Silu => {
                let s = T::ONE / (T::ONE + (-z).exp());
                s * (T::ONE + z * (T::ONE - s))
            }
            Activation::Mish => {
                let t = Activation::Softplus.apply(z).tanh();
                let s = T::ONE / (T::ONE + (-z).exp());
                t + z * (T::ONE - t * t) * s
            }
            _ => self.slope(a),
        }
    }

    /// d activation / d input, written through the output `a`, for the
    /// activations whose slope is a function of their output (GELU, SiLU and
    /// Mish are not: use [`Activation::slope_at`]).
    /// Softmax's Jacobian is not diagonal; callers treat it separately.
    #[inline(always)]
    pub fn slope<T: Real>(self, a: T) -> T {
        match self {
            Activation::Sigmoid => a * (T::ONE - a),
            Activation::Tanh => T::ONE - a * a,
            Activation::Relu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    T::ZERO
                }
            }
            Activation::LeakyRelu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    T::of(LEAKY_RELU_SLOPE)
                }
            }
            Activation::Linear | Activation::Softmax => T::ONE,
            // sigmoid(z) = 1 - e^-a.
            Activation::Softplus => T::ONE - (-a).exp(),
            Activation::Elu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    a + T::ONE
                }
            }
            Activation::Selu => {
                if a > T::ZERO {
                    T::of(SELU_LAMBDA)
                } else {
                    a + T::of(SELU_LAMBDA * SELU_ALPHA)
                }
            }
            Activation::Exp => a,
            Activation::Gelu | Activation::Silu | Activation::Mish => {
                debug_assert!(false, "slope_at gives the slope of GELU, SiLU and Mish");
                T::ONE
            }
        }
    }
}

/// Row-wise softmax of a column-major `rows x cols` block, in place.
pub fn softmax_rows<T: Real>(z: &mut [T], rows: usize, cols: usize) {
    for i in 0..rows {
        let mut max = T::of(f64::NEG_INFINITY);
        for j in 0..cols {
            max = max.max(z[i + j * rows]);
        }
        let mut sum = T::ZERO;
        for j in 0..cols {
            let e = (z[i + j * rows] - max).exp();
            z[i + j * rows] = e;
            sum += e;
        }
        for j in 0..cols {
            z[i + j * rows] = z[i + j * rows] / sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::parse(a.name()), Some(a));
        }
        assert_eq!(Activation::parse("swish"), None);
        // Softplus neither overflows nor underflows.
        assert_eq!(Activation::Softplus.apply(800.0), 800.0);
        assert!(Activation::Softplus.apply(-800.0_f64) >= 0.0);
    }

    #[test]
    fn slopes_match_finite_differences() {
        let h = 1e-6;
        for a in Activation::ALL.into_iter().filter(|&a| a != Activation::Softmax) {
            for &z in &[-2.0, -0.3, 0.4, 1.7] {
                let fd = (a.apply(z + h) - a.apply(z - h)) / (2.0 * h);
                assert!((fd - a.slope_at(z, a.apply::<f64>(z))).abs() < 1e-6, "{:?} at {}", a, z);
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_and_survive_large_inputs() {
        // 2 rows x 3 cols, column-major
        let mut z = vec![1.0, 1000.0, 2.0, 1001.0, 3.0, 1002.0];
        softmax_rows(&mut z, 2, 3);
        for i in 0..2 {
            let s: f64 = (0..3).map(|j| z[i + 2 * j]).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
        assert!((z[0] - z[1]).abs() < 1e-12);
    }
}

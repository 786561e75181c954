//! Activation functions. Every slope is written in terms of the activation's
//! *output* (as the article's `derivatives_sigmoid(output)` is), so a layer only
//! keeps its activations and never its pre-activation input.

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
}

/// Slope of leaky ReLU for negative inputs.
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

impl Activation {
    pub fn parse(name: &str) -> Option<Activation> {
        Some(match name {
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu,
            "linear" => Activation::Linear,
            "softmax" => Activation::Softmax,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Linear => "linear",
            Activation::Softmax => "softmax",
        }
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
        }
    }

    /// d activation / d input, written through the output `a`.
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
        for a in [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::LeakyRelu,
            Activation::Linear,
            Activation::Softmax,
        ] {
            assert_eq!(Activation::parse(a.name()), Some(a));
        }
        assert_eq!(Activation::parse("swish"), None);
    }

    #[test]
    fn slopes_match_finite_differences() {
        let h = 1e-6;
        for a in [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::LeakyRelu,
            Activation::Linear,
        ] {
            for &z in &[-2.0, -0.3, 0.4, 1.7] {
                let fd = (a.apply(z + h) - a.apply(z - h)) / (2.0 * h);
                assert!((fd - a.slope(a.apply::<f64>(z))).abs() < 1e-6, "{:?} at {}", a, z);
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

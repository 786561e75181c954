//! The dense layer: `z = input · W + b`, with its weights and biases a block
//! of the flat parameter vector (see [`Architecture`]).

use super::{for_column_groups, PARALLEL_MIN};
use crate::activation::{softmax_rows, Activation};
use crate::architecture::{Architecture, BiasLayout};
use crate::linalg::{matmul, Operand};
use crate::real::Real;
use std::ops::Range;

#[derive(Clone, Debug)]
pub struct Dense {
    pub fan_in: usize,
    pub fan_out: usize,
    /// The weights' (`fan_in x fan_out`, column-major) and the biases' ranges
    /// in the flat parameter vector.
    pub weights: Range<usize>,
    pub biases: Range<usize>,
    pub bias: BiasLayout,
}

impl Dense {
    /// Layer `l` of `arch`.
    pub fn of(arch: &Architecture, l: usize) -> Dense {
        Dense { fan_in: arch.fan_in(l), fan_out: arch.fan_out(l), weights: arch.weights(l), biases: arch.biases(l), bias: arch.bias_layout() }
    }

    fn w<'a, T: Real>(&self, params: &'a [T]) -> Operand<'a, T> {
        Operand::new(&params[self.weights.clone()], self.fan_in, self.fan_out)
    }

    /// `out = act(input · W + b)` for `rows` rows: the product, then the
    /// bias and `act` in one sweep (the identity when the activation is a
    /// layer of its own).
    pub fn forward<T: Real>(&self, params: &[T], input: Operand<T>, out: &mut [T], rows: usize, act: Activation, threads: usize) {
        matmul(out, input, self.w(params), false, threads);
        activate(out, rows, self.fan_out, Some((&params[self.biases.clone()], self.bias)), act, threads);
    }

    /// The layer's block of `grads`: `dW = inputᵀ · delta` and the bias
    /// gradient, from the delta at its output.
    pub fn gradient<T: Real>(&self, grads: &mut [T], input: Operand<T>, delta: &[T], rows: usize, threads: usize) {
        debug_assert_eq!(self.weights.end, self.biases.start);
        let (gw, gb) = grads[self.weights.start..self.biases.end].split_at_mut(self.weights.len());
        let delta = &delta[..rows * self.fan_out];
        matmul(gw, input.t(), Operand::new(delta, rows, self.fan_out), false, threads);
        bias_gradient(gb, delta, rows, self.fan_out, self.bias, threads);
    }

    /// The delta at the layer's input: `below = delta · Wᵀ`.
    pub fn delta_below<T: Real>(&self, params: &[T], delta: &[T], below: &mut [T], rows: usize, threads: usize) {
        let delta = Operand::new(&delta[..rows * self.fan_out], rows, self.fan_out);
        matmul(&mut below[..rows * self.fan_in], delta, self.w(params).t(), false, threads);
    }
}

/// `z = act(z + bias)` over a column-major `rows x cols` block, in one sweep;
/// without `bias`, `z = act(z)`.
pub fn activate<T: Real>(z: &mut [T], rows: usize, cols: usize, bias: Option<(&[T], BiasLayout)>, act: Activation, threads: usize) {
    let z = &mut z[..rows * cols];
    // One monomorphized sweep per activation, so the match is not in the loop.
    match (act, bias) {
        (Activation::Sigmoid, Some((b, BiasLayout::Column))) => for_column_groups(z, rows, threads, |j, col| T::sigmoid_add(col, b[j])),
        (Activation::Sigmoid, Some((b, BiasLayout::Row))) => T::sigmoid_add_each(z, &b[..rows * cols]),
        (Activation::Sigmoid, None) => for_column_groups(z, rows, threads, |_, col| T::sigmoid_add(col, T::ZERO)),
        (Activation::Tanh, _) => sweep(z, rows, bias, threads, T::tanh),
        (Activation::Relu, _) => sweep(z, rows, bias, threads, |v| Activation::Relu.apply(v)),
        (Activation::LeakyRelu, _) => sweep(z, rows, bias, threads, |v| Activation::LeakyRelu.apply(v)),
        (Activation::Linear | Activation::Softmax, Some(_)) => sweep(z, rows, bias, threads, |v| v),
        (Activation::Linear | Activation::Softmax, None) => {}
        (other, _) => sweep(z, rows, bias, threads, |v| other.apply(v)),
    }
    if act == Activation::Softmax {
        softmax_rows(z, rows, cols);
    }
}

#[inline(always)]
fn sweep<T: Real>(z: &mut [T], rows: usize, bias: Option<(&[T], BiasLayout)>, threads: usize, f: impl Fn(T) -> T + Sync) {
    match bias {
        Some((bias, BiasLayout::Column)) => for_column_groups(z, rows, threads, |j, col| {
            let b = bias[j];
            col.iter_mut().for_each(|v| *v = f(*v + b));
        }),
        Some((bias, BiasLayout::Row)) => z.iter_mut().zip(bias).for_each(|(v, &b)| *v = f(*v + b)),
        None => for_column_groups(z, rows, threads, |_, col| col.iter_mut().for_each(|v| *v = f(*v))),
    }
}

/// Column layout: column sums of delta. Row layout: each row's sum of delta,
/// copied into every column of that row (the R program's `rowSums` recycling).
fn bias_gradient<T: Real>(gb: &mut [T], delta: &[T], rows: usize, cols: usize, layout: BiasLayout, threads: usize) {
    match layout {
        BiasLayout::Column => {
            let column_sum = |j: usize| delta[j * rows..(j + 1) * rows].iter().copied().sum::<T>();
            let (left, right) = gb[..cols].split_at_mut(cols / 2);
            crate::parallel::in_halves(
                threads > 1 && rows * cols >= PARALLEL_MIN && cols >= 2,
                || left.iter_mut().enumerate().for_each(|(j, g)| *g = column_sum(j)),
                || right.iter_mut().enumerate().for_each(|(j, g)| *g = column_sum(cols / 2 + j)),
            );
        }
        BiasLayout::Row => {
            let (first, rest) = gb.split_at_mut(rows);
            first.copy_from_slice(&delta[..rows]);
            for j in 1..cols {
                first.iter_mut().zip(&delta[j * rows..(j + 1) * rows]).for_each(|(s, &d)| *s += d);
            }
            for j in 1..cols {
                rest[(j - 1) * rows..j * rows].copy_from_slice(first);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_bias_gradient_recycles_row_sums() {
        let delta = [1.0, 2.0, 10.0, 20.0]; // 2 rows x 2 cols
        let mut gb = [0.0; 4];
        bias_gradient(&mut gb, &delta, 2, 2, BiasLayout::Row, 1);
        assert_eq!(gb, [11.0, 22.0, 11.0, 22.0]);
        bias_gradient(&mut gb[..2], &delta, 2, 2, BiasLayout::Column, 2);
        assert_eq!(&gb[..2], &[3.0, 30.0]);
    }
}

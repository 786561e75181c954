//! [`super::Kernel::Pair`] for columns of four rows (nets of up to four rows, such
//! as the article's), written with vector registers: [`super::epoch`]'s arithmetic
//! in the same order, but each layer's columns, activations and deltas pass
//! to the next step in registers, where [`super::epoch`] stores them and loads them
//! again (some five cycles each time, on the chain an epoch waits on).

use super::{cross_entropy, Cells, Frame, Layer, Loss, Pass, Update};
use crate::simd::sigmoid_m256;
use std::arch::x86_64::*;

/// `$body` with `$j` = 0, 1, 2, 3 in turn: constant indices keep the
/// arrays of registers it fills in registers.
macro_rules! unroll4 {
    ($j:ident => $body:block) => {{
        { let $j = 0usize; $body }
        { let $j = 1usize; $body }
        { let $j = 2usize; $body }
        { let $j = 3usize; $body }
    }};
}

/// Four columns, zero past the layer's units.
type Block = [__m256d; 4];

/// Runs `sums.len()` epochs of plain gradient descent.
///
/// # Safety
/// The processor must have AVX2 and FMA, and `layers` and `frame` must be
/// the net's layout for columns of four rows (see `pair_layout`).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn epochs<const ROW: bool>(cells: &mut Cells, layers: &[Layer; 2], frame: &Frame, pass: Pass, sums: &mut [f64]) {
    let (hidden, top) = (&layers[0], &layers[1]);
    let (h, o) = (hidden.fan_out, top.fan_out);
    let base = cells.0.as_mut_ptr();
    debug_assert!(frame.sigmoid_at + crate::small::SIGMOID_LEN <= cells.0.len() && top.b_at + 16 <= cells.0.len());
    // Every column starts at a multiple of four in the 32-byte aligned buffer.
    let load = |at: usize| _mm256_load_pd(base.add(at));
    let store = |at: usize, v: __m256d| _mm256_store_pd(base.add(at), v);
    let consts = &*base.add(frame.sigmoid_at).cast::<crate::simd::SigmoidConstants>();
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    // The sigmoid's slope at its outputs, a·(1 − a).
    let slope = |a: __m256d| _mm256_mul_pd(a, _mm256_sub_pd(one, a));
    let (loss, scale) = (pass.loss, pass.scale);
    let Update::Descend { lr, .. } = pass.update else { unreachable!("pair4 descends") };
    let lr_v = _mm256_set1_pd(lr);
    let keep = load(frame.keep_at);
    let factor = if loss == Loss::Mse { 2.0 / o as f64 } else { 1.0 };
    let gain_scale = _mm256_set1_pd(-(factor * scale));
    let scale_v = _mm256_set1_pd(scale);
    let x: Block = [load(hidden.input_at), load(hidden.input_at + 4), load(hidden.input_at + 8), load(hidden.input_at + 12)];
    // `init + Σ_q block[q] · w[q]` in `combine`'s two chains.
    let combine = |block: &Block, w: [__m256d; 4], init: __m256d| {
        let even = _mm256_fmadd_pd(block[2], w[2], _mm256_fmadd_pd(block[0], w[0], init));
        let odd = _mm256_fmadd_pd(block[3], w[3], _mm256_fmadd_pd(block[1], w[1], zero));
        _mm256_add_pd(even, odd)
    };
    // The four lanes of a register, each broadcast.
    let lanes = |v: __m256d| -> [__m256d; 4] {
        [_mm256_permute4x64_pd::<0x00>(v), _mm256_permute4x64_pd::<0x55>(v), _mm256_permute4x64_pd::<0xAA>(v), _mm256_permute4x64_pd::<0xFF>(v)]
    };
    // The parameters stay in registers for the call's epochs: column j
    // of each weight block, and the bias columns (row layout) or the
    // layer's bias row (column layout, in register 0).
    let params = |layer: &Layer| -> (Block, Block) {
        let w = [0, 1, 2, 3].map(|j| load(layer.w_at + 4 * j));
        let b = if ROW { [0, 1, 2, 3].map(|j| load(layer.b_at + 4 * j)) } else { [load(layer.b_at), zero, zero, zero] };
        (w, b)
    };
    let (mut w0, mut b0) = params(hidden);
    let (mut w1, mut b1) = params(top);
    let bias = |b: &Block, j: usize| if ROW { b[j] } else { lanes(b[0])[j] };
    // `lane_sums`: the four row sums of four columns, as one vector.
    let lane_sums = |v: &Block| {
        let p01 = _mm256_add_pd(_mm256_unpacklo_pd(v[0], v[1]), _mm256_unpackhi_pd(v[0], v[1]));
        let p23 = _mm256_add_pd(_mm256_unpacklo_pd(v[2], v[3]), _mm256_unpackhi_pd(v[2], v[3]));
        _mm256_add_pd(_mm256_permute2f128_pd::<0x20>(p01, p23), _mm256_permute2f128_pd::<0x31>(p01, p23))
    };
    let descend = |p: &mut __m256d, g: __m256d| *p = _mm256_fnmadd_pd(g, lr_v, *p);
    // The gradient of a layer's weights and biases (`backward_layer`'s
    // second part), each applied as soon as it is summed.
    let gradient = |n: usize, w: &mut Block, b: &mut Block, inputs: &Block, deltas: &Block| {
        unroll4!(j => {
            if j < n {
                let products = [0, 1, 2, 3].map(|q| _mm256_mul_pd(inputs[q], deltas[j]));
                descend(&mut w[j], lane_sums(&products));
            }
        });
        if ROW {
            let mut row_sums = deltas[0];
            unroll4!(j => {
                if j > 0 && j < n {
                    row_sums = _mm256_add_pd(row_sums, deltas[j]);
                }
            });
            unroll4!(j => {
                if j < n {
                    descend(&mut b[j], row_sums);
                }
            });
        } else {
            descend(&mut b[0], lane_sums(deltas));
        }
    };

    for sum in sums.iter_mut() {
        let mut a1: Block = [zero; 4];
        unroll4!(j => {
            if j < h {
                a1[j] = sigmoid_m256(combine(&x, lanes(w0[j]), bias(&b0, j)), consts);
            }
        });
        let mut a2: Block = [zero; 4];
        let mut d2: Block = [zero; 4];
        let mut squares = zero;
        let mut ce = 0.0;
        unroll4!(k => {
            if k < o {
                a2[k] = sigmoid_m256(combine(&a1, lanes(w1[k]), bias(&b1, k)), consts);
                store(top.output_at + 4 * k, a2[k]);
                let y = load(frame.y_at + 4 * k);
                d2[k] = if loss == Loss::CrossEntropy {
                    // Read through `base`, like every access here.
                    let column = |at: usize| std::slice::from_raw_parts(base.add(at), frame.rows);
                    ce += cross_entropy(column(top.output_at + 4 * k), column(frame.y_at + 4 * k));
                    _mm256_and_pd(_mm256_mul_pd(_mm256_sub_pd(a2[k], y), scale_v), keep)
                } else {
                    let e = _mm256_and_pd(_mm256_sub_pd(y, a2[k]), keep);
                    squares = _mm256_fmadd_pd(e, e, squares);
                    _mm256_mul_pd(e, _mm256_mul_pd(slope(a2[k]), gain_scale))
                };
            }
        });
        // The hidden deltas, from the output layer's weights before their
        // update: row i of W1 is lane i of its columns.
        let mut d1: Block = [zero; 4];
        let w1_lanes = w1.map(lanes);
        unroll4!(i => {
            if i < h {
                d1[i] = if o == 1 {
                    _mm256_mul_pd(d2[0], _mm256_mul_pd(w1_lanes[0][i], slope(a1[i])))
                } else {
                    _mm256_mul_pd(combine(&d2, [0, 1, 2, 3].map(|k| w1_lanes[k][i]), zero), slope(a1[i]))
                };
            }
        });
        gradient(o, &mut w1, &mut b1, &a1, &d2);
        gradient(h, &mut w0, &mut b0, &x, &d1);
        let mut square_lanes = [0.0; 4];
        _mm256_storeu_pd(square_lanes.as_mut_ptr(), squares);
        *sum = ce + square_lanes.iter().sum::<f64>();
    }
    // Back to the buffer (the padding entries stayed zero: their
    // gradients are zero).
    for (layer, w, b) in [(hidden, w0, b0), (top, w1, b1)] {
        unroll4!(j => {
            store(layer.w_at + 4 * j, w[j]);
            if ROW {
                store(layer.b_at + 4 * j, b[j]);
            }
        });
        if !ROW {
            store(layer.b_at, b[0]);
        }
    }
}

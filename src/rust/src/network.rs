//! Network shapes, the flat parameter layout, and the forward and backward
//! passes over preallocated buffers.
//!
//! All parameters live in one flat vector: for each layer its weights
//! (`fan_in x fan_out`, column-major) then its biases. Optimizers therefore see
//! a plain slice, and R receives each block as a matrix without reshaping.

use crate::activation::{softmax_rows, Activation};
pub use crate::dropout::Dropout;
use crate::linalg::{matmul, Operand};
use crate::loss::{weighted_delta, Loss};
use crate::real::Real;
use std::ops::Range;

/// Where the biases live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BiasLayout {
    /// One bias per unit (`1 x units`), as the NumPy program has it.
    Column,
    /// One bias per training row and unit (`n x units`), as the article's R
    /// program lays it out; each row's bias moves by that row's summed delta.
    Row,
}

#[derive(Clone, Debug)]
pub struct Architecture {
    /// Units per layer, inputs first: `[d, h1, ..., o]`.
    sizes: Vec<usize>,
    /// One per non-input layer; the last is the output activation.
    activations: Vec<Activation>,
    bias: BiasLayout,
    /// Rows of each bias block: 1, or n for [`BiasLayout::Row`].
    bias_rows: usize,
    /// (weights, biases) ranges in the flat parameter vector, per layer.
    blocks: Vec<(Range<usize>, Range<usize>)>,
    n_params: usize,
}

impl Architecture {
    /// `rows` is the number of training rows; it only matters for the row layout.
    pub fn new(
        sizes: Vec<usize>,
        activations: Vec<Activation>,
        bias: BiasLayout,
        rows: usize,
    ) -> Result<Architecture, String> {
        if sizes.len() < 2 {
            return Err("a network needs at least an input and an output layer".into());
        }
        if activations.len() != sizes.len() - 1 {
            return Err("one activation is needed per layer".into());
        }
        if sizes.iter().any(|&s| s == 0) {
            return Err("every layer needs at least one unit".into());
        }
        if activations[..activations.len() - 1].contains(&Activation::Softmax) {
            return Err("softmax is only available for the output layer".into());
        }
        let bias_rows = match bias {
            BiasLayout::Column => 1,
            BiasLayout::Row => rows,
        };
        let mut blocks = Vec::with_capacity(sizes.len() - 1);
        let mut at = 0usize;
        let too_big = || "the network has too many parameters to allocate".to_string();
        for l in 0..sizes.len() - 1 {
            let nw = sizes[l].checked_mul(sizes[l + 1]).ok_or_else(too_big)?;
            let nb = bias_rows.checked_mul(sizes[l + 1]).ok_or_else(too_big)?;
            let w = at..at.checked_add(nw).ok_or_else(too_big)?;
            let b = w.end..w.end.checked_add(nb).ok_or_else(too_big)?;
            at = b.end;
            blocks.push((w, b));
        }
        Ok(Architecture { sizes, activations, bias, bias_rows, blocks, n_params: at })
    }

    pub fn layers(&self) -> usize {
        self.blocks.len()
    }
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }
    pub fn outputs(&self) -> usize {
        *self.sizes.last().unwrap()
    }
    pub fn fan_in(&self, l: usize) -> usize {
        self.sizes[l]
    }
    pub fn fan_out(&self, l: usize) -> usize {
        self.sizes[l + 1]
    }
    pub fn activation(&self, l: usize) -> Activation {
        self.activations[l]
    }
    pub fn output_activation(&self) -> Activation {
        *self.activations.last().unwrap()
    }
    pub fn bias_layout(&self) -> BiasLayout {
        self.bias
    }
    pub fn bias_rows(&self) -> usize {
        self.bias_rows
    }
    pub fn weights(&self, l: usize) -> Range<usize> {
        self.blocks[l].0.clone()
    }
    pub fn biases(&self, l: usize) -> Range<usize> {
        self.blocks[l].1.clone()
    }
    pub fn n_params(&self) -> usize {
        self.n_params
    }
    /// Every layer's weights' range (the penalties' domain).
    pub fn weight_ranges(&self) -> Vec<Range<usize>> {
        (0..self.layers()).map(|l| self.weights(l)).collect()
    }
}

/// Buffers for `capacity` rows: every layer's activations and deltas, and the
/// gradient. Allocated once; the passes below only write into them.
pub struct Workspace<T = f64> {
    capacity: usize,
    /// Per layer, `capacity x fan_out` column-major (only the first `rows x fan_out` in use).
    pub acts: Vec<Vec<T>>,
    pub deltas: Vec<Vec<T>>,
    /// Per layer, its pre-activation input when its activation's slope
    /// needs it ([`Activation::slope_needs_input`]), else empty.
    pub pre: Vec<Vec<T>>,
    pub grads: Vec<T>,
}

impl<T: Real> Workspace<T> {
    pub fn new(arch: &Architecture, capacity: usize) -> Workspace<T> {
        let per_layer = |l: usize| vec![T::ZERO; capacity * arch.fan_out(l)];
        let pre_layer = |l: usize| if arch.activation(l).slope_needs_input() { per_layer(l) } else { Vec::new() };
        Workspace {
            capacity,
            acts: (0..arch.layers()).map(per_layer).collect(),
            deltas: (0..arch.layers()).map(per_layer).collect(),
            pre: (0..arch.layers()).map(pre_layer).collect(),
            grads: vec![T::ZERO; arch.n_params()],
        }
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// The output layer's activations for the last `rows` passed forward.
    pub fn output(&self, rows: usize, outputs: usize) -> &[T] {
        &self.acts.last().unwrap()[..rows * outputs]
    }
}

/// Rows of inputs: a run of rows of a column-major matrix with `ld` rows.
#[derive(Clone, Copy)]
pub struct Rows<'a, T = f64> {
    pub data: &'a [T],
    pub ld: usize,
    pub first: usize,
    pub rows: usize,
}

impl<'a, T: Real> Rows<'a, T> {
    /// The whole of a contiguous `rows x cols` matrix.
    pub fn all(data: &'a [T], rows: usize) -> Self {
        Rows { data, ld: rows, first: 0, rows }
    }
    fn operand(&self, cols: usize) -> Operand<'a, T> {
        Operand::rows_of(self.data, self.ld, self.first, self.rows, cols)
    }
}

/// Forward pass: fills `ws.acts` for `x.rows` rows.
/// Per layer: `act = f(input · W + b)`, with the bias and activation fused in one sweep.
pub fn forward<T: Real>(arch: &Architecture, params: &[T], x: Rows<T>, ws: &mut Workspace<T>, threads: usize) {
    forward_with(arch, params, x, ws, None, threads)
}

/// [`forward`] in training, with dropout's masks when `dropout` is given:
/// a hidden layer with a dropout rate feeds the layer above its activations
/// times its mask, kept in `dropout` (its own activations stay unmasked, for
/// their slope).
pub fn forward_with<T: Real>(arch: &Architecture, params: &[T], x: Rows<T>, ws: &mut Workspace<T>, mut dropout: Option<&mut Dropout<T>>, threads: usize) {
    let rows = x.rows;
    assert!(rows <= ws.capacity, "more rows than the workspace holds");
    if arch.bias_layout() == BiasLayout::Row {
        assert!(x.first == 0 && rows == arch.bias_rows(), "row biases need every training row");
    }
    for l in 0..arch.layers() {
        let (fan_in, fan_out) = (arch.fan_in(l), arch.fan_out(l));
        let (before, rest) = ws.acts.split_at_mut(l);
        let out = &mut rest[0][..rows * fan_out];
        let input = match (l, dropout.as_deref()) {
            (0, _) => x.operand(fan_in),
            (_, Some(d)) if d.drops(l - 1) => Operand::new(d.dropped(l - 1, rows), rows, fan_in),
            _ => Operand::new(&before[l - 1][..rows * fan_in], rows, fan_in),
        };
        matmul(out, input, Operand::new(&params[arch.weights(l)], fan_in, fan_out), false, threads);
        let act = arch.activation(l);
        if act.slope_needs_input() {
            add_bias_and_activate(out, rows, fan_out, &params[arch.biases(l)], arch.bias_layout(), Activation::Linear, threads);
            ws.pre[l][..rows * fan_out].copy_from_slice(out);
            out.iter_mut().for_each(|v| *v = act.apply(*v));
        } else {
            add_bias_and_activate(out, rows, fan_out, &params[arch.biases(l)], arch.bias_layout(), act, threads);
        }
        if let Some(d) = dropout.as_deref_mut() {
            d.apply(l, out, rows);
        }
    }
}

pub fn add_bias_and_activate<T: Real>(z: &mut [T], rows: usize, cols: usize, bias: &[T], layout: BiasLayout, act: Activation, threads: usize) {
    let z = &mut z[..rows * cols];
    // One monomorphized sweep per activation, so the match is not in the loop.
    match (act, layout) {
        (Activation::Sigmoid, BiasLayout::Column) => {
            for_column_groups(z, rows, threads, |j, col| T::sigmoid_add(col, bias[j]))
        }
        (Activation::Sigmoid, BiasLayout::Row) => T::sigmoid_add_each(z, &bias[..rows * cols]),
        (Activation::Tanh, _) => sweep(z, rows, bias, layout, threads, T::tanh),
        (Activation::Relu, _) => sweep(z, rows, bias, layout, threads, |v| Activation::Relu.apply(v)),
        (Activation::LeakyRelu, _) => sweep(z, rows, bias, layout, threads, |v| Activation::LeakyRelu.apply(v)),
        (Activation::Linear | Activation::Softmax, _) => sweep(z, rows, bias, layout, threads, |v| v),
        (other, _) => sweep(z, rows, bias, layout, threads, |v| other.apply(v)),
    }
    if act == Activation::Softmax {
        softmax_rows(z, rows, cols);
    }
}

#[inline(always)]
fn sweep<T: Real>(z: &mut [T], rows: usize, bias: &[T], layout: BiasLayout, threads: usize, f: impl Fn(T) -> T + Sync) {
    match layout {
        BiasLayout::Column => for_column_groups(z, rows, threads, |j, col| {
            let b = bias[j];
            col.iter_mut().for_each(|v| *v = f(*v + b));
        }),
        BiasLayout::Row => z.iter_mut().zip(bias).for_each(|(v, &b)| *v = f(*v + b)),
    }
}

/// Blocks smaller than this many elements are swept by one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Calls `f(j, column j)` for every column of a column-major block, the
/// columns shared out among `threads` workers when the block is large. Each
/// column is handled whole by one worker, so results do not depend on `threads`.
fn for_column_groups<T: Real>(z: &mut [T], rows: usize, threads: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let cols = if rows == 0 { 0 } else { z.len() / rows };
    if threads <= 1 || cols < 2 || z.len() < PARALLEL_MIN {
        z.chunks_exact_mut(rows).enumerate().for_each(|(j, col)| f(j, col));
        return;
    }
    crate::parallel::for_each_column_group(z, rows, threads, threads, &|first, group: &mut [T]| {
        group.chunks_exact_mut(rows).enumerate().for_each(|(j, col)| f(first + j, col));
    });
}

/// Backward pass after [`forward`] on the same rows: fills `ws.deltas` and
/// `ws.grads` (the gradient of the loss summed over the rows, times `scale`)
/// and returns the block's unscaled loss sum. `y` is the contiguous
/// column-major `rows x outputs` block of targets for those rows, and `w`
/// their observation weights, if any; `dropout` is the one [`forward_with`]
/// used on the same rows (`None` after [`forward`]).
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(
    arch: &Architecture,
    params: &[T],
    x: Rows<T>,
    y: &[T],
    w: Option<&[T]>,
    loss: Loss,
    scale: f64,
    ws: &mut Workspace<T>,
    dropout: Option<&Dropout<T>>,
    threads: usize,
) -> f64 {
    let rows = x.rows;
    let top = arch.layers() - 1;
    let outputs = arch.outputs();
    let loss_sum = weighted_delta(
        loss,
        arch.output_activation(),
        &ws.acts[top][..rows * outputs],
        &y[..rows * outputs],
        w.map(|w| &w[..rows]),
        &mut ws.deltas[top][..rows * outputs],
        rows,
        outputs,
        scale,
    );
    for l in (0..=top).rev() {
        let (fan_in, fan_out) = (arch.fan_in(l), arch.fan_out(l));
        let delta = &ws.deltas[l][..rows * fan_out];
        let input = match (l, dropout) {
            (0, _) => x.operand(fan_in),
            (_, Some(d)) if d.drops(l - 1) => Operand::new(d.dropped(l - 1, rows), rows, fan_in),
            _ => Operand::new(&ws.acts[l - 1][..rows * fan_in], rows, fan_in),
        };
        let (gw, gb) = split_grads(&mut ws.grads, arch, l);
        // dW = inputᵀ · delta
        matmul(gw, input.t(), Operand::new(delta, rows, fan_out), false, threads);
        bias_gradient(gb, delta, rows, fan_out, arch.bias_layout(), threads);
        if l > 0 {
            let (below, this) = ws.deltas.split_at_mut(l);
            let below = &mut below[l - 1][..rows * fan_in];
            let acts_below = Rows { data: &ws.acts[l - 1], ld: rows, first: 0, rows };
            let pre_below = (!ws.pre[l - 1].is_empty()).then(|| &ws.pre[l - 1][..]);
            delta_to_layer_below(arch, params, l, &this[0][..rows * fan_out], acts_below, pre_below, below, threads);
            if let Some(d) = dropout {
                d.mask_delta(l - 1, below, rows);
            }
        }
    }
    loss_sum
}

/// Carries layer `l`'s delta to the layer below:
/// `below = (delta · W_lᵀ) ⊙ slope(activations below)`, for `acts_below.rows`
/// rows read from a run of rows of the activations below.
/// `pre_below` holds the pre-activations of the layer below, laid out as
/// `acts_below`, when its activation's slope needs them (else `None`).
#[allow(clippy::too_many_arguments)]
pub fn delta_to_layer_below<T: Real>(arch: &Architecture, params: &[T], l: usize, delta: &[T], acts_below: Rows<T>, pre_below: Option<&[T]>, below: &mut [T], threads: usize) {
    let (fan_in, fan_out, rows) = (arch.fan_in(l), arch.fan_out(l), acts_below.rows);
    let w = Operand::new(&params[arch.weights(l)], fan_in, fan_out);
    matmul(below, Operand::new(delta, rows, fan_out), w.t(), false, threads);
    let act = arch.activation(l - 1);
    assert!(pre_below.is_some() || !act.slope_needs_input(), "this activation's slope needs its input");
    for_column_groups(below, rows, threads, |j, d| {
        let start = j * acts_below.ld + acts_below.first;
        let a = &acts_below.data[start..start + rows];
        match pre_below {
            Some(z) => {
                let z = &z[start..start + rows];
                d.iter_mut().zip(a).zip(z).for_each(|((d, &a), &z)| *d *= act.slope_at(z, a));
            }
            None => d.iter_mut().zip(a).for_each(|(d, &a)| *d *= act.slope(a)),
        }
    });
}

fn split_grads<'a, T>(grads: &'a mut [T], arch: &Architecture, l: usize) -> (&'a mut [T], &'a mut [T]) {
    let (w, b) = (arch.weights(l), arch.biases(l));
    debug_assert_eq!(w.end, b.start);
    let (gw, gb) = grads[w.start..b.end].split_at_mut(w.len());
    (gw, gb)
}

/// Column layout: column sums of delta. Row layout: each row's sum of delta,
/// copied into every column of that row (the R program's `rowSums` recycling).
fn bias_gradient<T: Real>(gb: &mut [T], delta: &[T], rows: usize, cols: usize, layout: BiasLayout, threads: usize) {
    match layout {
        BiasLayout::Column => {
            let column_sum = |j: usize| delta[j * rows..(j + 1) * rows].iter().copied().sum::<T>();
            if threads > 1 && rows * cols >= PARALLEL_MIN && cols >= 2 {
                let (left, right) = gb[..cols].split_at_mut(cols / 2);
                crate::parallel::install(2, || {
                    rayon::join(
                        || left.iter_mut().enumerate().for_each(|(j, g)| *g = column_sum(j)),
                        || right.iter_mut().enumerate().for_each(|(j, g)| *g = column_sum(cols / 2 + j)),
                    )
                });
            } else {
                gb[..cols].iter_mut().enumerate().for_each(|(j, g)| *g = column_sum(j));
            }
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

/// Network outputs for `x` (column-major `rows x d`) written to `out`
/// (column-major `rows x o`), in chunks of the workspace's capacity.
pub fn predict<T: Real>(arch: &Architecture, params: &[T], x: &[T], rows: usize, out: &mut [T], ws: &mut Workspace<T>, threads: usize) {
    let o = arch.outputs();
    let chunk = ws.capacity().max(1);
    let mut first = 0;
    while first < rows {
        let n = chunk.min(rows - first);
        forward(arch, params, Rows { data: x, ld: rows, first, rows: n }, ws, threads);
        let acts = ws.output(n, o);
        for j in 0..o {
            out[j * rows + first..j * rows + first + n].copy_from_slice(&acts[j * n..(j + 1) * n]);
        }
        first += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article_arch(bias: BiasLayout) -> Architecture {
        Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], bias, 3).unwrap()
    }

    #[test]
    fn parameter_blocks_are_laid_out_in_order() {
        let a = article_arch(BiasLayout::Column);
        assert_eq!(a.weights(0), 0..12);
        assert_eq!(a.biases(0), 12..15);
        assert_eq!(a.weights(1), 15..18);
        assert_eq!(a.biases(1), 18..19);
        let r = article_arch(BiasLayout::Row);
        assert_eq!(r.biases(0), 12..21);
        assert_eq!(r.n_params(), 12 + 9 + 3 + 3);
    }

    #[test]
    fn impossible_sizes_are_errors_not_panics() {
        let e = Architecture::new(vec![usize::MAX, 2, 1], vec![Activation::Sigmoid; 2], BiasLayout::Column, 1);
        assert!(e.is_err());
        let e = Architecture::new(vec![3, 2, 1], vec![Activation::Softmax, Activation::Sigmoid], BiasLayout::Column, 1);
        assert!(e.is_err());
    }

    #[test]
    fn row_bias_gradient_recycles_row_sums() {
        let delta = [1.0, 2.0, 10.0, 20.0]; // 2 rows x 2 cols
        let mut gb = [0.0; 6]; // 2 rows x 3 cols of a wider bias? use 2x2
        bias_gradient(&mut gb[..4], &delta, 2, 2, BiasLayout::Row, 1);
        assert_eq!(&gb[..4], &[11.0, 22.0, 11.0, 22.0]);
        bias_gradient(&mut gb[..2], &delta, 2, 2, BiasLayout::Column, 2);
        assert_eq!(&gb[..2], &[3.0, 30.0]);
    }
}
